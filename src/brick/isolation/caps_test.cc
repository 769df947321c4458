#include "brick/isolation/caps.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>

#include <fstream>

#include "brick/isolation/forked_child_for_test.h"

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

oci::Capabilities Caps(std::vector<std::string> bounding, std::vector<std::string> effective,
                       std::vector<std::string> permitted, std::vector<std::string> inheritable,
                       std::vector<std::string> ambient) {
  return oci::Capabilities{bounding, effective, permitted, inheritable, ambient};
}

TEST(PlanCapabilities, AbsentMeansNone) {
  auto plan = PlanCapabilities(std::nullopt, 40);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->bounding | plan->effective | plan->permitted | plan->inheritable | plan->ambient,
            0u);
  EXPECT_EQ(plan->last_cap, 40);
}

TEST(PlanCapabilities, NamesBecomeMasks) {
  auto plan = PlanCapabilities(Caps({"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, {"CAP_KILL"},
                                    {"CAP_KILL", "CAP_CHOWN"}, {"CAP_KILL"}, {"CAP_KILL"}),
                               40);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->bounding, Bit(CAP_CHOWN) | Bit(CAP_KILL) | Bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(plan->effective, Bit(CAP_KILL));
  EXPECT_EQ(plan->permitted, Bit(CAP_KILL) | Bit(CAP_CHOWN));
  EXPECT_EQ(plan->inheritable, Bit(CAP_KILL));
  EXPECT_EQ(plan->ambient, Bit(CAP_KILL));
}

TEST(PlanCapabilities, UnknownNameNamesTheField) {
  auto plan = PlanCapabilities(Caps({"CAP_CHOWN", "CAP_FOO"}, {}, {}, {}, {}), 40);
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message(), HasSubstr("process.capabilities.bounding[1]"));
  EXPECT_THAT(plan.error().message(), HasSubstr("CAP_FOO"));
}

TEST(PlanCapabilities, CapabilityBeyondTheKernelIsRefused) {
  auto plan = PlanCapabilities(Caps({"CAP_BPF"}, {}, {}, {}, {}), 37);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message(),
            "process.capabilities.bounding: CAP_BPF is not supported by this kernel (its last "
            "capability is CAP_AUDIT_READ); remove it");
}

TEST(PlanCapabilities, InconsistentSetsAreRefusedWithTheFix) {
  auto eff = PlanCapabilities(Caps({"CAP_KILL"}, {"CAP_KILL"}, {}, {}, {}), 40);
  ASSERT_FALSE(eff);
  EXPECT_EQ(eff.error().message(),
            "process.capabilities.effective: CAP_KILL is not in permitted; add it to "
            "process.capabilities.permitted");
  auto inh = PlanCapabilities(Caps({}, {}, {}, {"CAP_CHOWN"}, {}), 40);
  ASSERT_FALSE(inh);
  EXPECT_THAT(inh.error().message(),
              HasSubstr("inheritable: CAP_CHOWN is not in bounding; add it to"));
  auto amb = PlanCapabilities(Caps({"CAP_KILL"}, {}, {"CAP_KILL"}, {}, {"CAP_KILL"}), 40);
  ASSERT_FALSE(amb);
  EXPECT_THAT(amb.error().message(),
              HasSubstr("ambient: CAP_KILL must also be in permitted and inheritable"));
}

TEST(ReadCapLastCap, ReadsTheKernelValue) {
  auto last = ReadCapLastCap();
  ASSERT_TRUE(last) << last.error().message();
  EXPECT_GE(*last, CAP_AUDIT_READ);
  auto missing = ReadCapLastCap("/nonexistent/cap_last_cap");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errnum(), ENOENT);
}

TEST(ApplyBoundingSet, DropsExactlyWhatIsNotKept) {
  CapsPlan plan;
  plan.last_cap = 5;
  plan.bounding = Bit(CAP_CHOWN) | Bit(CAP_FOWNER);
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyBoundingSet(sys, plan));
  EXPECT_THAT(sys.calls(), ElementsAre("prctl(PR_CAPBSET_DROP, 1)", "prctl(PR_CAPBSET_DROP, 2)",
                                       "prctl(PR_CAPBSET_DROP, 4)", "prctl(PR_CAPBSET_DROP, 5)"));
}

TEST(ApplyBoundingSet, FailureNamesTheCapabilityAndKeepsErrno) {
  CapsPlan plan;
  plan.last_cap = 5;
  RecordingSyscalls sys;
  sys.FailOn("prctl(PR_CAPBSET_DROP, 3)", EPERM);
  auto st = ApplyBoundingSet(sys, plan);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "drop CAP_FOWNER from the bounding set: operation not permitted");
  EXPECT_EQ(st.error().errnum(), EPERM);
  EXPECT_EQ(sys.calls().size(), 4u);  // stopped at the failure
}

TEST(Capabilities, FullSequenceIsInTheDocumentedOrder) {
  auto plan = PlanCapabilities(Caps({"CAP_CHOWN", "CAP_KILL"}, {"CAP_KILL"},
                                    {"CAP_CHOWN", "CAP_KILL"}, {"CAP_KILL"}, {"CAP_KILL"}),
                               5);
  ASSERT_TRUE(plan) << plan.error().message();
  IdsPlan ids{.uid = 1000, .gid = 1000, .additional_gids = {5, 20}};
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyBoundingSet(sys, *plan));
  ASSERT_TRUE(SwitchIdsKeepingCaps(sys, ids));
  ASSERT_TRUE(ApplyCapSets(sys, *plan));
  ASSERT_TRUE(ApplyAmbientSet(sys, *plan));
  EXPECT_THAT(sys.calls(), ElementsAre("prctl(PR_CAPBSET_DROP, 1)", "prctl(PR_CAPBSET_DROP, 2)",
                                       "prctl(PR_CAPBSET_DROP, 3)", "prctl(PR_CAPBSET_DROP, 4)",
                                       "prctl(PR_SET_KEEPCAPS, 1)", "setgroups([5, 20])",
                                       "setresgid(1000, 1000, 1000)", "setresuid(1000, 1000, 1000)",
                                       "capset(effective=0x20, permitted=0x21, inheritable=0x20)",
                                       "prctl(PR_SET_KEEPCAPS, 0)",
                                       "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
                                       "prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 5)"));
}

TEST(SwitchIdsKeepingCaps, SkipsSetgroupsWhenDeniedAndRefusesGroupsThen) {
  RecordingSyscalls sys;
  ASSERT_TRUE(SwitchIdsKeepingCaps(sys, {.uid = 7, .gid = 8, .setgroups_allowed = false}));
  EXPECT_THAT(sys.calls(),
              ElementsAre("prctl(PR_SET_KEEPCAPS, 1)", "setresgid(8, 8, 8)", "setresuid(7, 7, 7)"));
  auto st = SwitchIdsKeepingCaps(
      sys, {.uid = 7, .gid = 8, .additional_gids = {9}, .setgroups_allowed = false});
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("setgroups is denied in this user namespace"));
}

TEST(SwitchIdsKeepingCaps, UidFailureNamesTheUid) {
  RecordingSyscalls sys;
  sys.FailOn("setresuid", EINVAL);
  auto st = SwitchIdsKeepingCaps(sys, {.uid = 4242, .gid = 1});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "set process.user.uid 4242: invalid argument");
}

std::string StatusLine(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(key + ":")) {
      return line;
    }
  }
  return key + ": <missing>";
}

// Runs the four child-side steps in order; "" or the first error.
std::string ApplyAllSteps(const CapsPlan& plan, const IdsPlan& ids) {
  Syscalls& sys = RealSyscalls();
  Status st = ApplyBoundingSet(sys, plan);
  if (st) {
    st = SwitchIdsKeepingCaps(sys, ids);
  }
  if (st) {
    st = ApplyCapSets(sys, plan);
  }
  if (st) {
    st = ApplyAmbientSet(sys, plan);
  }
  return st ? "" : st.error().message();
}

// The real kernel: a root child drops to uid 1000 with exactly the planned sets.
TEST(CapabilitiesReal, ChildEndsWithExactlyThePlannedSets) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to change capability sets and uids";
  }
  std::string report = RunInForkedChildForTest([] {
    auto last = ReadCapLastCap();
    if (!last) {
      return last.error().message();
    }
    auto plan = PlanCapabilities(Caps({"CAP_CHOWN", "CAP_KILL"}, {"CAP_KILL"},
                                      {"CAP_CHOWN", "CAP_KILL"}, {"CAP_KILL"}, {"CAP_KILL"}),
                                 *last);
    if (!plan) {
      return plan.error().message();
    }
    if (std::string err = ApplyAllSteps(*plan, {.uid = 1000, .gid = 1000}); !err.empty()) {
      return err;
    }
    std::string out;
    for (const char* key : {"Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
      out += StatusLine(key) + "\n";
    }
    return out;
  });
  EXPECT_EQ(report,
            "Uid:\t1000\t1000\t1000\t1000\n"
            "CapInh:\t0000000000000020\n"
            "CapPrm:\t0000000000000021\n"
            "CapEff:\t0000000000000020\n"
            "CapBnd:\t0000000000000021\n"
            "CapAmb:\t0000000000000020\n");
}

TEST(CapabilitiesReal, DefaultsDropEverything) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to change capability sets and uids";
  }
  std::string report = RunInForkedChildForTest([] {
    auto plan = PlanCapabilities(std::nullopt, *ReadCapLastCap());
    if (std::string err = ApplyAllSteps(*plan, {.uid = 1000, .gid = 1000}); !err.empty()) {
      return err;
    }
    return StatusLine("CapEff") + " " + StatusLine("CapBnd") + " " + StatusLine("CapPrm");
  });
  EXPECT_EQ(report,
            "CapEff:\t0000000000000000 CapBnd:\t0000000000000000 CapPrm:\t0000000000000000");
}

}  // namespace
}  // namespace brick::isolation
