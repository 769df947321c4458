#include "brick/isolation/rlimits.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "brick/isolation/forked_child_for_test.h"

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(PlanRlimits, MapsNamesInOrder) {
  auto plan = PlanRlimits({{"RLIMIT_NOFILE", 2048, 1024}, {"RLIMIT_CORE", 0, 0}});
  ASSERT_TRUE(plan) << plan.error().message();
  ASSERT_EQ(plan->limits.size(), 2u);
  EXPECT_EQ(plan->limits[0].resource, RLIMIT_NOFILE);
  EXPECT_STREQ(plan->limits[0].name, "RLIMIT_NOFILE");
  EXPECT_EQ(plan->limits[0].soft, 1024u);
  EXPECT_EQ(plan->limits[0].hard, 2048u);
  EXPECT_EQ(plan->limits[1].resource, RLIMIT_CORE);
  EXPECT_EQ(RlimitNumber("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_EQ(RlimitNumber("NOFILE"), std::nullopt);
}

TEST(PlanRlimits, RefusesBadEntriesNamingThem) {
  auto unknown = PlanRlimits({{"RLIMIT_CORE", 0, 0}, {"RLIMIT_FOO", 1, 1}});
  ASSERT_FALSE(unknown);
  EXPECT_THAT(unknown.error().message(),
              HasSubstr("process.rlimits[1].type: unknown rlimit \"RLIMIT_FOO\""));
  auto twice = PlanRlimits({{"RLIMIT_CORE", 0, 0}, {"RLIMIT_CORE", 1, 1}});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message(), "process.rlimits[1].type: RLIMIT_CORE is given twice");
  auto inverted = PlanRlimits({{"RLIMIT_NPROC", 10, 20}});  // hard 10, soft 20
  ASSERT_FALSE(inverted);
  EXPECT_EQ(inverted.error().message(),
            "process.rlimits[0]: RLIMIT_NPROC soft limit 20 is above its hard limit 10");
}

TEST(ApplyRlimits, SetsEachLimit) {
  auto plan = PlanRlimits({{"RLIMIT_NOFILE", 1024, 512}, {"RLIMIT_CORE", 0, 0}});
  ASSERT_TRUE(plan);
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyRlimits(sys, *plan));
  EXPECT_THAT(sys.calls(), ElementsAre(fmt::format("setrlimit({}, 512, 1024)", RLIMIT_NOFILE),
                                       fmt::format("setrlimit({}, 0, 0)", RLIMIT_CORE)));
}

TEST(ApplyRlimits, NofileAboveHardLimitExplainsTheCause) {
  auto plan = PlanRlimits({{"RLIMIT_NOFILE", 1048576, 1048576}});
  ASSERT_TRUE(plan);
  RecordingSyscalls sys;
  sys.SetRlimit(RLIMIT_NOFILE, 1024, 20000);
  sys.FailOn("setrlimit", EPERM);
  auto st = ApplyRlimits(sys, *plan);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().errnum(), EPERM);
  EXPECT_EQ(st.error().message(),
            "set RLIMIT_NOFILE to soft 1048576 hard 1048576: raising the hard limit above the "
            "current one (20000) needs CAP_SYS_RESOURCE, and no limit may exceed fs.nr_open; "
            "lower process.rlimits RLIMIT_NOFILE: operation not permitted");
}

TEST(ApplyRlimits, OtherFailuresNameLimitAndValues) {
  auto plan = PlanRlimits({{"RLIMIT_AS", RLIM_INFINITY, 4096}});
  ASSERT_TRUE(plan);
  RecordingSyscalls sys;
  sys.FailOn("setrlimit", EINVAL);
  auto st = ApplyRlimits(sys, *plan);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "set RLIMIT_AS to soft 4096 hard unlimited: invalid argument");
}

TEST(ApplyRlimitsReal, ChildGetsTheLimitsAndAHelpfulErrorAboveTheHardLimit) {
  std::string report = RunInForkedChildForTest([] {
    auto plan = PlanRlimits({{"RLIMIT_NOFILE", 200, 100}, {"RLIMIT_CORE", 0, 0}});
    if (auto st = ApplyRlimits(RealSyscalls(), *plan); !st) {
      return st.error().message();
    }
    struct rlimit nofile;
    struct rlimit core;
    getrlimit(RLIMIT_NOFILE, &nofile);
    getrlimit(RLIMIT_CORE, &core);
    std::string out = fmt::format("nofile {}/{} core {}/{}", nofile.rlim_cur, nofile.rlim_max,
                                  core.rlim_cur, core.rlim_max);
    // Raising the hard limit again needs CAP_SYS_RESOURCE, which this machine lacks,
    // and which would be gone in a container anyway.
    auto raise = PlanRlimits({{"RLIMIT_NOFILE", 300, 300}});
    auto st = ApplyRlimits(RealSyscalls(), *raise);
    return out + "; " + (st ? std::string("raised") : st.error().message());
  });
  EXPECT_THAT(report, HasSubstr("nofile 100/200 core 0/0; "));
  bool have_sys_resource = false;  // as root with CAP_SYS_RESOURCE the raise succeeds
  if (report.ends_with("raised")) {
    have_sys_resource = true;
  }
  if (!have_sys_resource) {
    EXPECT_THAT(report, HasSubstr("set RLIMIT_NOFILE to soft 300 hard 300: raising the hard "
                                  "limit above the current one (200) needs CAP_SYS_RESOURCE"));
  }
}

}  // namespace
}  // namespace brick::isolation
