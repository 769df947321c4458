#include "brick/isolation/sysctl.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sched.h>

#include <filesystem>
#include <fstream>

#include "brick/isolation/forked_child_for_test.h"
#include "brick/isolation/lsm.h"
#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr SysctlNamespaces kBoth{.new_ipc = true, .new_net = true};

TEST(PlanSysctls, NamespacedKeysBecomeProcPaths) {
  auto plan = PlanSysctls(
      {{"kernel.shmmax", "1024"}, {"fs.mqueue.msg_max", "20"}, {"net.ipv4.ip_forward", "1"}},
      kBoth);
  ASSERT_TRUE(plan) << plan.error().message();
  ASSERT_EQ(plan->writes.size(), 3u);
  EXPECT_EQ(plan->writes[0].proc_path, "sys/fs/mqueue/msg_max");
  EXPECT_EQ(plan->writes[1].proc_path, "sys/kernel/shmmax");
  EXPECT_EQ(plan->writes[2].proc_path, "sys/net/ipv4/ip_forward");
  EXPECT_EQ(plan->writes[2].value, "1");
}

TEST(PlanSysctls, EveryIpcKeyIsAllowed) {
  for (const char* key :
       {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
        "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"}) {
    EXPECT_TRUE(PlanSysctls({{key, "1"}}, {.new_ipc = true})) << key;
  }
}

TEST(PlanSysctls, RefusesHostWideKeys) {
  auto plan = PlanSysctls({{"vm.swappiness", "10"}}, kBoth);
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message(),
              HasSubstr("linux.sysctl[\"vm.swappiness\"]: not namespaced, so setting it would "
                        "change the host"));
  EXPECT_FALSE(PlanSysctls({{"kernel.hostname", "x"}}, kBoth));
  EXPECT_FALSE(PlanSysctls({{"kernel.shmmaxx", "1"}}, kBoth));
}

TEST(PlanSysctls, NeedsTheMatchingNamespace) {
  auto ipc = PlanSysctls({{"kernel.sem", "1 2 3 4"}}, {.new_net = true});
  ASSERT_FALSE(ipc);
  EXPECT_THAT(ipc.error().message(),
              HasSubstr("linux.sysctl[\"kernel.sem\"]: needs a new ipc namespace"));
  auto net = PlanSysctls({{"net.core.somaxconn", "1"}}, {.new_ipc = true});
  ASSERT_FALSE(net);
  EXPECT_THAT(net.error().message(),
              HasSubstr("linux.sysctl[\"net.core.somaxconn\"]: needs a new network namespace"));
}

TEST(PlanSysctls, RefusesSlashesAndDotDot) {
  auto slash = PlanSysctls({{"net/ipv4/ip_forward", "1"}}, kBoth);
  ASSERT_FALSE(slash);
  EXPECT_THAT(slash.error().message(), HasSubstr("keys use dots, not slashes"));
  auto dotdot = PlanSysctls({{"net...kernel.core_pattern", "1"}}, kBoth);
  ASSERT_FALSE(dotdot);
  EXPECT_THAT(dotdot.error().message(), HasSubstr("empty component or \"..\""));
  EXPECT_FALSE(PlanSysctls({{"net.ipv4.ip forward", "1"}}, kBoth));
}

TEST(ApplySysctls, OpensBeneathProcChecksProcfsAndWrites) {
  auto plan = PlanSysctls({{"kernel.shmmni", "8192"}}, kBoth);
  ASSERT_TRUE(plan);
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplySysctls(sys, *plan, 7));
  EXPECT_THAT(sys.calls(),
              ElementsAre("open_beneath(7, \"sys/kernel/shmmni\", O_WRONLY|O_NOFOLLOW)",
                          "fstatfs(1000)", "write(1000, \"8192\")", "close(1000)"));
}

TEST(ApplySysctls, RefusesAFileThatIsNotOnProcfs) {
  auto plan = PlanSysctls({{"kernel.shmmni", "8192"}}, kBoth);
  RecordingSyscalls sys;
  sys.SetFsType(1000, TMPFS_MAGIC);
  auto st = ApplySysctls(sys, *plan, 7);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("/proc/sys/kernel/shmmni is not on procfs"));
  EXPECT_THAT(sys.calls(), ElementsAre(HasSubstr("open_beneath"), "fstatfs(1000)", "close(1000)"));
}

class SysctlTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brick-sysctl-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    top_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(top_); }
  std::filesystem::path top_;
};

// A "proc" that is a plain directory: the kernel lookup works, the procfs check refuses.
TEST_F(SysctlTree, RealDecoyProcIsRefused) {
  std::filesystem::create_directories(top_ / "sys/kernel");
  std::ofstream(top_ / "sys/kernel/shmmni") << "0";
  auto dir = OpenDirectory(top_);
  ASSERT_TRUE(dir);
  auto st = ApplySysctls(RealSyscalls(), *PlanSysctls({{"kernel.shmmni", "1"}}, kBoth), dir->get());
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("is not on procfs"));
}

// A symlink planted in the path is never followed.
TEST_F(SysctlTree, RealSymlinkInPathIsNotFollowed) {
  std::filesystem::create_directories(top_ / "sys");
  std::filesystem::create_directories(top_ / "elsewhere");
  std::ofstream(top_ / "elsewhere/shmmni") << "0";
  std::filesystem::create_directory_symlink(top_ / "elsewhere", top_ / "sys/kernel");
  auto dir = OpenDirectory(top_);
  ASSERT_TRUE(dir);
  auto st = ApplySysctls(RealSyscalls(), *PlanSysctls({{"kernel.shmmni", "1"}}, kBoth), dir->get());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().errnum(), ELOOP);
  std::ifstream in(top_ / "elsewhere/shmmni");
  std::string content;
  in >> content;
  EXPECT_EQ(content, "0");
}

TEST(ApplySysctlsReal, WritesAnIpcSysctlInANewIpcNamespace) {
  std::string report = RunInForkedChildForTest([] {
    if (unshare(CLONE_NEWIPC) < 0) {
      return fmt::format("{}unshare(CLONE_NEWIPC) failed: errno {}",
                         errno == EINVAL ? "skip: " : "", errno);
    }
    auto proc = OpenVerifiedProcfs(RealSyscalls(), "/proc");
    if (!proc) {
      return proc.error().message();
    }
    auto plan = PlanSysctls({{"kernel.shmmni", "1234"}}, {.new_ipc = true});
    if (auto st = ApplySysctls(RealSyscalls(), *plan, proc->get()); !st) {
      return st.error().message();
    }
    auto value = ReadFile("/proc/sys/kernel/shmmni");
    return value ? *value : value.error().message();
  });
  if (report.starts_with("skip:")) {
    GTEST_SKIP() << "kernel lacks ipc namespaces: " << report;
  }
  EXPECT_EQ(report, "1234\n");
}

}  // namespace
}  // namespace brick::isolation
