#include "brick/isolation/lsm.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <filesystem>
#include <fstream>

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseLsmList, FindsAppArmorAndSelinux) {
  HostLsms both = ParseLsmList("lockdown,capability,landlock,yama,apparmor,selinux\n");
  EXPECT_TRUE(both.apparmor);
  EXPECT_TRUE(both.selinux);
  HostLsms none = ParseLsmList("capability,yama,bpf");
  EXPECT_FALSE(none.apparmor);
  EXPECT_FALSE(none.selinux);
  EXPECT_FALSE(ParseLsmList("apparmorx").apparmor);
}

class FakeSys : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brick-lsm-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    top_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(top_); }
  std::filesystem::path top_;
};

TEST_F(FakeSys, DetectsFromSecurityfsList) {
  std::filesystem::create_directories(top_ / "kernel/security");
  std::ofstream(top_ / "kernel/security/lsm") << "capability,apparmor";
  auto host = DetectHostLsms(top_);
  ASSERT_TRUE(host) << host.error().message();
  EXPECT_TRUE(host->apparmor);
  EXPECT_FALSE(host->selinux);
}

TEST_F(FakeSys, FallsBackToModuleFilesWithoutSecurityfs) {
  std::filesystem::create_directories(top_ / "module/apparmor/parameters");
  std::ofstream(top_ / "module/apparmor/parameters/enabled") << "Y\n";
  std::filesystem::create_directories(top_ / "fs/selinux");
  std::ofstream(top_ / "fs/selinux/enforce") << "1";
  auto host = DetectHostLsms(top_);
  ASSERT_TRUE(host);
  EXPECT_TRUE(host->apparmor);
  EXPECT_TRUE(host->selinux);
}

// This machine runs neither LSM (see the project notes); the decision must say so.
TEST(DetectHostLsms, ThisHostHasNeither) {
  auto host = DetectHostLsms();
  ASSERT_TRUE(host) << host.error().message();
  EXPECT_FALSE(host->apparmor);
  EXPECT_FALSE(host->selinux);
}

TEST(PlanLsm, MissingLsmIsSaidPlainly) {
  auto aa = PlanLsm({}, {.apparmor_profile = "brick-default"});
  ASSERT_FALSE(aa);
  EXPECT_EQ(aa.error().message(),
            "apparmor is not enabled on this host; remove process.apparmorProfile or enable "
            "apparmor");
  auto se = PlanLsm({.apparmor = true}, {.selinux_label = "system_u:system_r:container_t:s0"});
  ASSERT_FALSE(se);
  EXPECT_EQ(se.error().message(),
            "selinux is not enabled on this host; remove process.selinuxLabel or enable selinux");
  auto mount = PlanLsm({}, {.mount_label = "system_u:object_r:container_file_t:s0"});
  ASSERT_FALSE(mount);
  EXPECT_EQ(mount.error().message(),
            "selinux is not enabled on this host; remove linux.mountLabel or enable selinux");
}

TEST(PlanLsm, NothingAskedIsFineAnywhere) {
  auto plan = PlanLsm({}, {});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->apparmor_exec, "");
  EXPECT_EQ(plan->selinux_exec, "");
  EXPECT_EQ(plan->mount_context_option, "");
}

TEST(PlanLsm, BuildsExecAttributesAndMountOption) {
  auto plan = PlanLsm({.apparmor = true, .selinux = true},
                      {.apparmor_profile = "brick-default",
                       .selinux_label = "system_u:system_r:container_t:s0",
                       .mount_label = "system_u:object_r:container_file_t:s0"});
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->apparmor_exec, "exec brick-default");
  EXPECT_EQ(plan->selinux_exec, "system_u:system_r:container_t:s0");
  EXPECT_EQ(plan->mount_context_option, "context=\"system_u:object_r:container_file_t:s0\"");
  EXPECT_FALSE(PlanLsm({.selinux = true}, {.mount_label = "a\",nosuid=\""}));
  EXPECT_FALSE(PlanLsm({.apparmor = true}, {.apparmor_profile = "x\nchangeprofile y"}));
}

TEST(ApplyLsmExecLabels, WritesThroughProcfsCheckedFds) {
  LsmPlan plan{.apparmor_exec = "exec brick-default", .selinux_exec = "u:r:t:s0"};
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyLsmExecLabels(sys, plan, 5));
  EXPECT_THAT(sys.calls(),
              ElementsAre("openat(5, \"thread-self/attr/apparmor/exec\", O_WRONLY|O_NOFOLLOW)",
                          "fstatfs(1000)", "write(1000, \"exec brick-default\")", "close(1000)",
                          "openat(5, \"thread-self/attr/exec\", O_WRONLY|O_NOFOLLOW)",
                          "fstatfs(1001)", "write(1001, \"u:r:t:s0\")", "close(1001)"));
}

TEST(ApplyLsmExecLabels, AppArmorFallsBackToTheOldInterface) {
  RecordingSyscalls sys;
  sys.FailOn("openat(5, \"thread-self/attr/apparmor/exec\"", ENOENT);
  ASSERT_TRUE(ApplyLsmExecLabels(sys, {.apparmor_exec = "exec p"}, 5));
  EXPECT_THAT(sys.calls(), ElementsAre(HasSubstr("attr/apparmor/exec"),
                                       "openat(5, \"thread-self/attr/exec\", O_WRONLY|O_NOFOLLOW)",
                                       "fstatfs(1000)", "write(1000, \"exec p\")", "close(1000)"));
}

TEST(ApplyLsmExecLabels, AttrFileNotOnProcfsIsRefusedBeforeWriting) {
  RecordingSyscalls sys;
  sys.SetFsType(1000, TMPFS_MAGIC);
  auto st = ApplyLsmExecLabels(sys, {.selinux_exec = "u:r:t:s0"}, 5);
  ASSERT_FALSE(st);
  EXPECT_THAT(
      st.error().message(),
      HasSubstr("/proc/thread-self/attr/exec is not on procfs (filesystem type 0x1021994)"));
  EXPECT_THAT(sys.calls(), ElementsAre(HasSubstr("openat"), "fstatfs(1000)", "close(1000)"));
}

TEST(OpenVerifiedProcfs, RealProcIsAccepted) {
  auto proc = OpenVerifiedProcfs(RealSyscalls(), "/proc");
  ASSERT_TRUE(proc) << proc.error().message();
  struct statfs st;
  ASSERT_EQ(fstatfs(proc->get(), &st), 0);
  EXPECT_EQ(st.f_type, PROC_SUPER_MAGIC);
}

// A decoy "proc" on tmpfs, with the attr files a writer would look for.
TEST(OpenVerifiedProcfs, TmpfsDecoyIsRefused) {
  struct statfs shm;
  if (statfs("/dev/shm", &shm) != 0 || shm.f_type != TMPFS_MAGIC) {
    GTEST_SKIP() << "/dev/shm is not tmpfs here";
  }
  char tmpl[] = "/dev/shm/brick-lsm-proc-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::filesystem::path decoy = tmpl;
  std::filesystem::create_directories(decoy / "thread-self/attr");
  std::ofstream(decoy / "thread-self/attr/exec") << "";
  auto proc = OpenVerifiedProcfs(RealSyscalls(), decoy.c_str());
  ASSERT_FALSE(proc);
  EXPECT_EQ(proc.error().message(),
            fmt::format("{} is not procfs (filesystem type 0x1021994); refusing to use it",
                        decoy.string()));
  // And even handed the decoy fd directly, the attr file check refuses to write.
  int fd = open(decoy.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto st = ApplyLsmExecLabels(RealSyscalls(), {.selinux_exec = "u:r:t:s0"}, fd);
  close(fd);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("is not on procfs"));
  std::ifstream in(decoy / "thread-self/attr/exec");
  std::string content;
  in >> content;
  EXPECT_EQ(content, "");
  std::filesystem::remove_all(decoy);
}

}  // namespace
}  // namespace brick::isolation
