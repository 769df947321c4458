#include "brick/policy/rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "brick/oci/capabilities.h"
#include "brick/oci/spec.h"
#include "brick/policy/report.h"
#include "brick/runtime/default_spec.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

using ::testing::HasSubstr;

oci::Spec DefaultSpec() {
  runtime::DefaultSpecOptions o;
  o.rootfs = "/rootfs";
  auto spec = runtime::BuildDefaultSpec(o);
  EXPECT_TRUE(spec.has_value());
  return *spec;
}

std::map<std::string, Finding> ById(const std::vector<Finding>& findings) {
  std::map<std::string, Finding> out;
  for (const auto& f : findings) {
    out[std::string(f.rule->id)] = f;
  }
  return out;
}

Outcome OutcomeOf(const oci::Spec& spec, const char* id) {
  return ById(EvaluateRules(ViewFromSpec(spec, HostFacts{})))[id].outcome;
}

TEST(RulesTest, IdsAreUniqueAndEveryRuleIsDocumented) {
  std::set<std::string_view> ids;
  for (const Rule& r : AllRules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_FALSE(r.title.empty()) << r.id;
    EXPECT_FALSE(r.why.empty()) << r.id;
    EXPECT_FALSE(r.fix.empty()) << r.id;
    EXPECT_EQ(FindRule(r.id), &r);
  }
  EXPECT_EQ(FindRule("BRICK-NOPE-001"), nullptr);
}

TEST(RulesTest, BricksDefaultPassesEveryRuleAndScores100) {
  Report report;
  report.findings = EvaluateRules(ViewFromSpec(DefaultSpec(), HostFacts{}));
  for (const auto& f : report.findings) {
    EXPECT_EQ(f.outcome, Outcome::kPass) << f.rule->id << ": " << f.detail;
  }
  EXPECT_EQ(report.Score(), 100);
  EXPECT_FALSE(ExceedsThreshold(report, Severity::kWarn));
}

TEST(RulesTest, CapabilitiesRankedWorstToBest) {
  oci::Spec spec = DefaultSpec();
  spec.process->capabilities->bounding = {"CAP_NET_BIND_SERVICE"};
  EXPECT_EQ(OutcomeOf(spec, "BRICK-CAP-004"), Outcome::kWarn);
  EXPECT_EQ(OutcomeOf(spec, "BRICK-CAP-003"), Outcome::kPass);
  spec.process->capabilities->bounding = {"CAP_NET_ADMIN", "CAP_SYS_PTRACE"};
  auto f = ById(EvaluateRules(ViewFromSpec(spec, HostFacts{})));
  EXPECT_EQ(f["BRICK-CAP-003"].outcome, Outcome::kFail);
  // Worst first, whatever the config's order.
  EXPECT_THAT(f["BRICK-CAP-003"].detail, HasSubstr("CAP_SYS_PTRACE, CAP_NET_ADMIN"));
  EXPECT_EQ(f["BRICK-CAP-002"].outcome, Outcome::kPass);
  spec.process->capabilities->effective = {"CAP_SYS_ADMIN"};
  EXPECT_EQ(OutcomeOf(spec, "BRICK-CAP-002"), Outcome::kFail);
  EXPECT_EQ(OutcomeOf(spec, "BRICK-CAP-001"), Outcome::kPass);
  spec.process->capabilities->bounding.clear();
  for (int i = 0; i <= oci::LastKnownCapability(); ++i) {
    spec.process->capabilities->bounding.push_back(oci::CapabilityName(i));
  }
  EXPECT_EQ(OutcomeOf(spec, "BRICK-CAP-001"), Outcome::kFail);
}

TEST(RulesTest, EachRelaxationOfTheDefaultsIsFound) {
  struct Case {
    const char* rule;
    std::function<void(runtime::DefaultSpecOptions&)> relax;
    Outcome expected;
  };
  std::vector<Case> cases = {
      {"BRICK-USER-001", [](auto& o) { o.uid = 0; }, Outcome::kWarn},
      {"BRICK-USER-002", [](auto& o) { o.unsafe_share = {"user"}; }, Outcome::kWarn},
      {"BRICK-SECCOMP-001", [](auto& o) { o.unsafe_no_seccomp = true; }, Outcome::kFail},
      {"BRICK-NNP-001", [](auto& o) { o.unsafe_allow_new_privileges = true; }, Outcome::kWarn},
      {"BRICK-ROOTFS-001", [](auto& o) { o.unsafe_writable_root = true; }, Outcome::kWarn},
      {"BRICK-NS-001", [](auto& o) { o.unsafe_share = {"pid"}; }, Outcome::kFail},
      {"BRICK-NS-002", [](auto& o) { o.unsafe_share = {"ipc"}; }, Outcome::kFail},
      {"BRICK-NS-003", [](auto& o) { o.unsafe_share = {"uts"}; }, Outcome::kWarn},
      {"BRICK-NS-004", [](auto& o) { o.unsafe_share = {"net"}; }, Outcome::kFail},
      {"BRICK-NS-006", [](auto& o) { o.unsafe_share = {"cgroup"}; }, Outcome::kWarn},
      {"BRICK-MASK-001", [](auto& o) { o.unsafe_unmask = {"/proc/kcore"}; }, Outcome::kWarn},
      {"BRICK-MOUNT-005", [](auto& o) { o.unsafe_unmask = {"/proc/sys"}; }, Outcome::kFail},
      {"BRICK-MOUNT-001", [](auto& o) { o.volumes = {{"/etc", "/host-etc", false}}; },
       Outcome::kFail},
      {"BRICK-MOUNT-002",
       [](auto& o) { o.volumes = {{"/var/run/docker.sock", "/var/run/docker.sock", false}}; },
       Outcome::kFail},
      {"BRICK-MOUNT-003", [](auto& o) { o.volumes = {{"/srv/data", "/data", true}}; },
       Outcome::kWarn},
      {"BRICK-ENV-001", [](auto& o) { o.env = {"DB_PASSWORD=hunter2"}; }, Outcome::kFail},
      {"BRICK-DEV-001", [](auto& o) { o.devices = {"/dev/kmsg"}; }, Outcome::kWarn},
  };
  for (const auto& c : cases) {
    runtime::DefaultSpecOptions o;
    o.rootfs = "/rootfs";
    c.relax(o);
    auto spec = runtime::BuildDefaultSpec(o);
    ASSERT_TRUE(spec.has_value()) << c.rule << ": " << spec.error().message();
    auto f = ById(EvaluateRules(ViewFromSpec(*spec, HostFacts{})));
    EXPECT_EQ(f[c.rule].outcome, c.expected) << c.rule << ": " << f[c.rule].detail;
    // Nothing else is affected by a volume or an env var.
    int not_pass = 0;
    for (const auto& [id, finding] : f) {
      not_pass += finding.outcome != Outcome::kPass;
    }
    EXPECT_GE(not_pass, 1) << c.rule;
  }
}

TEST(RulesTest, LimitsAndDeviceCgroup) {
  oci::Spec spec = DefaultSpec();
  spec.linux.resources->memory.reset();
  spec.linux.resources->pids.reset();
  spec.linux.resources->cpu.reset();
  spec.linux.resources->devices = {{true, 'a', std::nullopt, std::nullopt, "rwm"}};
  auto f = ById(EvaluateRules(ViewFromSpec(spec, HostFacts{})));
  EXPECT_EQ(f["BRICK-LIMIT-001"].outcome, Outcome::kWarn);
  EXPECT_EQ(f["BRICK-LIMIT-002"].outcome, Outcome::kWarn);
  EXPECT_EQ(f["BRICK-LIMIT-003"].outcome, Outcome::kWarn);
  EXPECT_EQ(f["BRICK-DEV-002"].outcome, Outcome::kFail);
}

TEST(RulesTest, SeccompWeakerThanDefaultNamesTheSyscalls) {
  oci::Spec spec = DefaultSpec();
  EXPECT_TRUE(SyscallsAllowedBeyondDefault(*spec.linux.seccomp).empty());
  // An allow-list profile that lets through two syscalls brick refuses.
  oci::Seccomp allow_list;
  allow_list.default_action = "SCMP_ACT_ERRNO";
  allow_list.syscalls = {{{"read", "write", "kexec_load", "bpf"}, "SCMP_ACT_ALLOW", std::nullopt, {}}};
  EXPECT_EQ(SyscallsAllowedBeyondDefault(allow_list),
            (std::vector<std::string>{"bpf", "kexec_load"}));
  spec.linux.seccomp = allow_list;
  auto f = ById(EvaluateRules(ViewFromSpec(spec, HostFacts{})));
  EXPECT_EQ(f["BRICK-SECCOMP-002"].outcome, Outcome::kWarn);
  EXPECT_THAT(f["BRICK-SECCOMP-002"].detail, HasSubstr("allows 2 syscalls"));

  // A deny-list on allow-all lets through everything it does not name.
  oci::Seccomp deny_list;
  deny_list.default_action = "SCMP_ACT_ALLOW";
  deny_list.syscalls = {{{"kexec_load"}, "SCMP_ACT_ERRNO", std::nullopt, {}}};
  auto extra = SyscallsAllowedBeyondDefault(deny_list);
  EXPECT_THAT(extra, ::testing::Contains("bpf"));
  EXPECT_THAT(extra, ::testing::Not(::testing::Contains("kexec_load")));
}

TEST(RulesTest, SecretLookingEnvByNameAndValueNeverEmptyOrPwd) {
  auto names = SecretLookingEnv({"DB_PASSWORD=x", "API_KEY=abc", "GITHUB_TOKEN=t",
                                 "PWD=/home/me", "EMPTY_SECRET=", "KEYBOARD=us",
                                 "CONFIG=AKIAIOSFODNN7EXAMPLE", "TLS=-----BEGIN PRIVATE KEY-----",
                                 "PATH=/bin"});
  EXPECT_EQ(names, (std::vector<std::string>{"DB_PASSWORD", "API_KEY", "GITHUB_TOKEN", "CONFIG",
                                             "TLS"}));
}

TEST(RulesTest, LsmOnlyWhereTheHostHasOne) {
  oci::Spec spec = DefaultSpec();
  EXPECT_EQ(ById(EvaluateRules(ViewFromSpec(spec, HostFacts{})))["BRICK-LSM-001"].outcome,
            Outcome::kPass);
  HostFacts apparmor{.apparmor = true};
  EXPECT_EQ(ById(EvaluateRules(ViewFromSpec(spec, apparmor)))["BRICK-LSM-001"].outcome,
            Outcome::kWarn);
  spec.process->apparmor_profile = "brick-default";
  EXPECT_EQ(ById(EvaluateRules(ViewFromSpec(spec, apparmor)))["BRICK-LSM-001"].outcome,
            Outcome::kPass);
}

TEST(RulesTest, UnknownFieldsAreSkippedNotPassed) {
  ContainerView empty;
  Report report;
  report.findings = EvaluateRules(empty);
  auto f = ById(report.findings);
  EXPECT_EQ(f["BRICK-CAP-001"].outcome, Outcome::kSkip);
  EXPECT_THAT(f["BRICK-CAP-001"].detail, HasSubstr("cannot be determined"));
  EXPECT_EQ(f["BRICK-ROOTFS-001"].outcome, Outcome::kSkip);
  EXPECT_THAT(FormatTable(report), HasSubstr("the score is partial"));
}

TEST(RulesTest, DriftBetweenClaimAndReality) {
  ContainerView claimed = ViewFromSpec(DefaultSpec(), HostFacts{});
  ContainerView running = claimed;
  EXPECT_TRUE(CompareViews(claimed, running).empty());
  running.readonly_root = false;
  running.host_namespaces->insert("net");
  auto drift = CompareViews(claimed, running);
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_EQ(drift[0].rule->id, "BRICK-DRIFT-001");
  EXPECT_EQ(drift[0].outcome, Outcome::kFail);
  EXPECT_THAT(drift[0].detail, HasSubstr("the running container's / is writable"));
  EXPECT_THAT(drift[1].detail, HasSubstr("net namespace"));
}

// --- podman fixtures, rule by rule ------------------------------------------------------------

oci::Spec LoadFixture(const std::string& name) {
  auto text = ReadFile(std::string(BRICK_POLICY_TEST_DATA_DIR) + "/podman/" + name);
  EXPECT_TRUE(text.has_value());
  auto spec = oci::ParseSpecUnvalidated(*text);
  EXPECT_TRUE(spec.has_value()) << spec.error().message();
  return *spec;
}

void ExpectFindings(const std::string& fixture, const std::map<std::string, Outcome>& not_pass) {
  auto f = ById(EvaluateRules(ViewFromSpec(LoadFixture(fixture), HostFacts{})));
  for (const Rule& r : AllRules()) {
    auto it = not_pass.find(std::string(r.id));
    Outcome expected = it == not_pass.end() ? Outcome::kPass : it->second;
    EXPECT_EQ(f[std::string(r.id)].outcome, expected)
        << fixture << " " << r.id << ": " << f[std::string(r.id)].detail;
  }
}

TEST(PodmanFixtureTest, DefaultConfig) {
  // containers-common's profile allows ptrace, process_vm_*, name_to_handle_at, ... which
  // brick's allow-list refuses without the matching capability.
  ExpectFindings("default-4.3.json", {{"BRICK-CAP-004", Outcome::kWarn},
                                      {"BRICK-SECCOMP-002", Outcome::kWarn},
                                      {"BRICK-USER-001", Outcome::kWarn},
                                      {"BRICK-USER-002", Outcome::kWarn},
                                      {"BRICK-NNP-001", Outcome::kWarn},
                                      {"BRICK-ROOTFS-001", Outcome::kWarn},
                                      {"BRICK-MOUNT-003", Outcome::kWarn},
                                      {"BRICK-MOUNT-004", Outcome::kWarn},
                                      {"BRICK-LIMIT-001", Outcome::kWarn},
                                      {"BRICK-LIMIT-003", Outcome::kWarn}});
}

TEST(PodmanFixtureTest, HardenedConfig) {
  ExpectFindings("hardened-4.3.json", {{"BRICK-USER-002", Outcome::kWarn},
                                       {"BRICK-SECCOMP-002", Outcome::kWarn},
                                       {"BRICK-MOUNT-003", Outcome::kWarn},
                                       {"BRICK-MOUNT-004", Outcome::kWarn},
                                       {"BRICK-LIMIT-003", Outcome::kWarn}});
}

TEST(PodmanFixtureTest, HardenedScoresHigherThanDefault) {
  Report d;
  d.findings = EvaluateRules(ViewFromSpec(LoadFixture("default-4.3.json"), HostFacts{}));
  Report h;
  h.findings = EvaluateRules(ViewFromSpec(LoadFixture("hardened-4.3.json"), HostFacts{}));
  EXPECT_LT(d.Score(), h.Score());
  EXPECT_LT(h.Score(), 100);
}

}  // namespace
}  // namespace brick::policy
