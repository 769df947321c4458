#include "brick/policy/host_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "brick/runtime/default_spec.h"

namespace brick::policy {
namespace {

using ::testing::HasSubstr;

oci::Spec Spec(const std::function<void(runtime::DefaultSpecOptions&)>& relax = {}) {
  runtime::DefaultSpecOptions o;
  o.rootfs = "/rootfs";
  if (relax) {
    relax(o);
  }
  return *runtime::BuildDefaultSpec(o);
}

TEST(HostPolicyTest, RecommendedRefusesHostNamespacesAndNamesRuleAndFix) {
  HostPolicy p = RecommendedHostPolicy();
  EXPECT_TRUE(EnforceHostPolicy(p, Spec()).has_value());
  auto r = EnforceHostPolicy(p, Spec([](auto& o) { o.unsafe_share = {"pid"}; }));
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("BRICK-NS-001"));
  EXPECT_THAT(r.error().message(), HasSubstr("fix: remove --pid=host"));
}

TEST(HostPolicyTest, WarnRulesGoToWarningsNotRefusals) {
  std::vector<std::string> warnings;
  auto r = EnforceHostPolicy(RecommendedHostPolicy(),
                             Spec([](auto& o) { o.unsafe_writable_root = true; }), &warnings);
  EXPECT_TRUE(r.has_value());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("BRICK-ROOTFS-001"));
}

TEST(HostPolicyTest, FileOverridesBaseline) {
  auto p = ParseHostPolicy(R"(
baseline = "none"
[rules]
"BRICK-ROOTFS-001" = "refuse"
)",
                           "policy.toml");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  // Host pid is off under baseline none.
  EXPECT_TRUE(EnforceHostPolicy(*p, Spec([](auto& o) { o.unsafe_share = {"pid"}; })).has_value());
  auto r = EnforceHostPolicy(*p, Spec([](auto& o) { o.unsafe_writable_root = true; }));
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("host policy policy.toml refuses this config"));
  EXPECT_THAT(r.error().message(), HasSubstr("BRICK-ROOTFS-001"));
}

TEST(HostPolicyTest, UnknownRuleGetsLineColumnAndSuggestion) {
  auto p = ParseHostPolicy("[rules]\n\"BRICK-CAP-02\" = \"refuse\"\n", "policy.toml");
  ASSERT_FALSE(p.has_value());
  EXPECT_THAT(p.error().message(), HasSubstr("policy.toml:2:1: unknown key \"BRICK-CAP-02\""));
  EXPECT_THAT(p.error().message(), HasSubstr("did you mean \"BRICK-CAP-002\""));
  auto bad = ParseHostPolicy("[rules]\n\"BRICK-CAP-002\" = \"deny\"\n", "policy.toml");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("policy.toml:2:19: rule BRICK-CAP-002"));
  auto syntax = ParseHostPolicy("baseline = \n", "policy.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_THAT(syntax.error().message(), HasSubstr("policy.toml:1:"));
}

TEST(HostPolicyTest, MissingFileIsNotAnError) {
  auto p = LoadHostPolicy("/nonexistent/brick/policy.toml");
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->has_value());
}

}  // namespace
}  // namespace brick::policy
