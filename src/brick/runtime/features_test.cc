#include "brick/runtime/features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "brick/isolation/mounts.h"
#include "brick/oci/capabilities.h"
#include "brick/oci/spec.h"
#include "brick/seccomp/filter.h"

namespace brick::runtime {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using json = nlohmann::json;

json Features(const FeaturesOptions& o) {
  auto text = FeaturesJson(o);
  EXPECT_TRUE(text.has_value()) << text.error().message();
  return json::parse(text.value_or("{}"));
}

FeaturesOptions Fixed() {
  FeaturesOptions o;
  o.brick_version = "9.8.7";
  o.host_lsms = isolation::HostLsms{};
  o.seccomp_supported_flags = std::vector<std::string>{"SECCOMP_FILTER_FLAG_LOG"};
  return o;
}

std::vector<std::string> Strings(const json& array) {
  std::vector<std::string> out;
  for (const auto& v : array) {
    out.push_back(v.get<std::string>());
  }
  return out;
}

TEST(FeaturesTest, RequiredVersionsAreOnesTheConfigParserAccepts) {
  json f = Features(Fixed());
  ASSERT_TRUE(f["ociVersionMin"].is_string());
  ASSERT_TRUE(f["ociVersionMax"].is_string());
  // The spec: the runtime MUST accept both as config.json's ociVersion.
  for (const char* key : {"ociVersionMin", "ociVersionMax"}) {
    std::string config = json{{"ociVersion", f[key]}, {"root", {{"path", "rootfs"}}}}.dump();
    auto spec = oci::ParseSpec(config);
    EXPECT_TRUE(spec.has_value()) << key << ": " << spec.error().message();
  }
  // And the one above the maximum is refused, so the maximum is the real edge.
  auto above = oci::ParseSpec(R"({"ociVersion": "1.4.0", "root": {"path": "rootfs"}})");
  EXPECT_FALSE(above.has_value());
}

TEST(FeaturesTest, ListsComeFromTheCodeThatActsOnThem) {
  json f = Features(Fixed());
  EXPECT_THAT(Strings(f["hooks"]), ElementsAre("prestart", "createRuntime", "createContainer",
                                               "startContainer", "poststart", "poststop"));
  EXPECT_EQ(Strings(f["mountOptions"]), isolation::KnownMountOptions());
  const json& lx = f["linux"];
  std::vector<std::string> caps = Strings(lx["capabilities"]);
  EXPECT_EQ(caps.size(), static_cast<size_t>(oci::LastKnownCapability() + 1));
  for (const auto& c : caps) {
    EXPECT_TRUE(oci::CapabilityNumber(c).has_value()) << c;
  }
  std::vector<std::string> ns = Strings(lx["namespaces"]);
  EXPECT_EQ(
      std::set<std::string>(ns.begin(), ns.end()),
      (std::set<std::string>{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}));
  EXPECT_EQ(
      lx["cgroup"],
      (json{
          {"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}}));
  const json& sc = lx["seccomp"];
  EXPECT_EQ(sc["enabled"], true);
  // NOTIFY: the listener goes to linux.seccomp.listenerPath.
  EXPECT_THAT(Strings(sc["actions"]), Contains("SCMP_ACT_NOTIFY"));
  EXPECT_THAT(Strings(sc["actions"]), Contains("SCMP_ACT_ERRNO"));
  EXPECT_EQ(Strings(sc["operators"]), seccomp::KnownSeccompOperators());
  EXPECT_EQ(Strings(sc["archs"]), seccomp::KnownSeccompArchitectures());
  EXPECT_EQ(Strings(sc["knownFlags"]), seccomp::KnownSeccompFlags());
  EXPECT_THAT(Strings(sc["supportedFlags"]), ElementsAre("SECCOMP_FILTER_FLAG_LOG"));
  EXPECT_EQ(lx["intelRdt"]["enabled"], false);
  EXPECT_EQ(lx["mountExtensions"]["idmap"]["enabled"], false);
  EXPECT_EQ(lx["netDevices"]["enabled"], false);
  EXPECT_EQ(f["annotations"]["run.brick.version"], "9.8.7");
  EXPECT_EQ(f["annotations"]["io.github.seccomp.libseccomp.version"],
            seccomp::LinkedLibseccompVersion());
  EXPECT_THAT(Strings(f["potentiallyUnsafeConfigAnnotations"]), Contains("run.brick.secrets"));
  EXPECT_THAT(Strings(f["potentiallyUnsafeConfigAnnotations"]),
              Contains("run.brick.seccomp.allow-unknown"));
}

TEST(FeaturesTest, LsmsFollowTheHost) {
  FeaturesOptions o = Fixed();
  json none = Features(o);
  EXPECT_EQ(none["linux"]["apparmor"]["enabled"], false);
  EXPECT_EQ(none["linux"]["selinux"]["enabled"], false);
  o.host_lsms = isolation::HostLsms{.apparmor = true, .selinux = false};
  json aa = Features(o);
  EXPECT_EQ(aa["linux"]["apparmor"]["enabled"], true);
  EXPECT_EQ(aa["linux"]["selinux"]["enabled"], false);
}

TEST(FeaturesTest, ProbesTheHostWhenNotTold) {
  FeaturesOptions o;
  o.brick_version = "1";
  json f = Features(o);
  std::vector<std::string> supported = Strings(f["linux"]["seccomp"]["supportedFlags"]);
  EXPECT_EQ(supported, seccomp::KernelSupportedSeccompFlags());
  EXPECT_THAT(supported, Contains("SECCOMP_FILTER_FLAG_TSYNC"));
  EXPECT_TRUE(f["linux"]["apparmor"]["enabled"].is_boolean());
}

// Only what features.md defines, with the types it gives: a key misspelled or a list turned
// into a string here would make callers ignore the field.
TEST(FeaturesTest, KeysAndTypesMatchTheSpec) {
  json f = Features(Fixed());
  std::set<std::string> top;
  for (auto it = f.begin(); it != f.end(); ++it) {
    top.insert(it.key());
  }
  EXPECT_EQ(top,
            (std::set<std::string>{"ociVersionMin", "ociVersionMax", "hooks", "mountOptions",
                                   "linux", "annotations", "potentiallyUnsafeConfigAnnotations"}));
  for (const char* list : {"hooks", "mountOptions", "potentiallyUnsafeConfigAnnotations"}) {
    ASSERT_TRUE(f[list].is_array()) << list;
    for (const auto& v : f[list]) {
      EXPECT_TRUE(v.is_string()) << list;
    }
  }
  for (auto it = f["annotations"].begin(); it != f["annotations"].end(); ++it) {
    EXPECT_TRUE(it.value().is_string()) << it.key();
  }
  std::set<std::string> lx;
  for (auto it = f["linux"].begin(); it != f["linux"].end(); ++it) {
    lx.insert(it.key());
  }
  EXPECT_EQ(lx,
            (std::set<std::string>{"namespaces", "capabilities", "cgroup", "seccomp", "apparmor",
                                   "selinux", "intelRdt", "mountExtensions", "netDevices"}));
}

}  // namespace
}  // namespace brick::runtime
