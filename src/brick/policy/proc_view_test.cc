#include "brick/policy/proc_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "brick/policy/rules.h"

namespace brick::policy {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

void Write(const fs::path& p, std::string_view data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << data;
}

// A fake /proc with pid 1 (the host) and pid 42 (a container), and a fake cgroup v1 tree.
class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("brick-proc-view-" + std::to_string(getpid()));
    fs::remove_all(root_);
    paths_.proc = (root_ / "proc").string();
    paths_.cgroup = (root_ / "cgroup").string();
    for (const char* ns : {"pid", "net", "ipc", "uts", "mnt", "user", "cgroup"}) {
      fs::create_directories(root_ / "proc/1/ns");
      fs::create_directories(root_ / "proc/42/ns");
      fs::create_symlink(std::string(ns) + ":[1]", root_ / "proc/1/ns" / ns);
      // The container shares only the host's net namespace.
      fs::create_symlink(std::string(ns) + (std::string(ns) == "net" ? ":[1]" : ":[2]"),
                         root_ / "proc/42/ns" / ns);
    }
    Write(root_ / "proc/42/status",
          "Name:\tsh\nUid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n"
          "CapBnd:\t0000000000000400\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n");
    Write(root_ / "proc/42/uid_map", "         0 1000000000      65536\n");
    Write(root_ / "proc/42/mountinfo",
          "100 90 8:1 /var/lib/rootfs / rw,relatime - ext4 /dev/sda1 rw\n"
          "101 100 0:5 / /proc rw,nosuid,nodev,noexec - proc proc rw\n"
          "102 101 0:6 /null /proc/kcore rw,nosuid - devtmpfs udev rw\n"
          "103 101 0:5 /sys /proc/sys ro,nosuid - proc proc rw\n"
          "104 100 8:1 /srv/data /data rw,relatime - ext4 /dev/sda1 rw\n"
          "105 100 0:7 / /sys ro,nosuid,nodev,noexec - sysfs sysfs ro\n");
    Write(root_ / "proc/42/environ", std::string("PATH=/bin\0API_TOKEN=abc\0", 24));
    fs::create_directories(root_ / "proc/42/root/dev");
    Write(root_ / "proc/42/root/dev/null", "");
    Write(root_ / "proc/42/cgroup",
          "5:memory:/brick/c1\n4:pids:/brick/c1\n3:cpu,cpuacct:/brick/c1\n0::/brick/c1\n");
    Write(root_ / "cgroup/memory/brick/c1/memory.limit_in_bytes", "536870912\n");
    Write(root_ / "cgroup/pids/brick/c1/pids.max", "max\n");
    Write(root_ / "cgroup/cpu,cpuacct/brick/c1/cpu.shares", "512\n");
    Write(root_ / "cgroup/cpu,cpuacct/brick/c1/cpu.cfs_quota_us", "-1\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  ProcPaths paths_;
};

TEST_F(FakeProc, ReadsEveryFieldFromProc) {
  auto v = ViewFromProcess(42, paths_, HostFacts{});
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(v->origin, "pid:42");
  EXPECT_EQ(v->uid, 1000u);
  EXPECT_EQ(v->cap_bounding, uint64_t{1} << 10);
  EXPECT_EQ(v->no_new_privs, true);
  EXPECT_EQ(v->seccomp_enabled, true);
  EXPECT_FALSE(v->seccomp_profile.has_value());
  EXPECT_EQ(*v->host_namespaces, std::set<std::string>{"net"});
  EXPECT_EQ(v->user_namespace, true);
  EXPECT_EQ(v->uid0_maps_to_host_root, false);
  EXPECT_EQ(v->readonly_root, false);
  EXPECT_TRUE(v->masked_paths->contains("/proc/kcore"));
  EXPECT_TRUE(v->readonly_paths->contains("/proc/sys"));
  EXPECT_EQ(v->memory_limit, 536870912);
  EXPECT_EQ(v->pids_limit, 0);
  EXPECT_EQ(v->cpu_limited, true);
  ASSERT_EQ(v->env->size(), 2u);
  EXPECT_TRUE(v->added_devices->empty());

  std::map<std::string, Finding> f;
  for (auto& x : EvaluateRules(*v)) {
    f[std::string(x.rule->id)] = x;
  }
  EXPECT_EQ(f["BRICK-NS-004"].outcome, Outcome::kFail);
  EXPECT_EQ(f["BRICK-ROOTFS-001"].outcome, Outcome::kWarn);
  EXPECT_EQ(f["BRICK-MOUNT-003"].outcome, Outcome::kWarn);
  EXPECT_THAT(f["BRICK-MOUNT-003"].detail, HasSubstr("/data"));
  EXPECT_EQ(f["BRICK-LIMIT-002"].outcome, Outcome::kWarn);
  EXPECT_EQ(f["BRICK-ENV-001"].outcome, Outcome::kFail);
  EXPECT_EQ(f["BRICK-SECCOMP-002"].outcome, Outcome::kSkip);
  EXPECT_EQ(f["BRICK-CAP-004"].outcome, Outcome::kWarn);
}

TEST_F(FakeProc, DefaultCpuSharesAreUnknownNotPassed) {
  Write(root_ / "cgroup/cpu,cpuacct/brick/c1/cpu.shares", "1024\n");
  auto v = ViewFromProcess(42, paths_, HostFacts{});
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_FALSE(v->cpu_limited.has_value());
}

TEST_F(FakeProc, UnreadableEntryIsAnErrorNamingIt) {
  fs::remove(root_ / "proc/42/mountinfo");
  auto v = ViewFromProcess(42, paths_, HostFacts{});
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message(), HasSubstr("proc/42/mountinfo"));
  EXPECT_EQ(v.error().errnum(), ENOENT);
}

TEST_F(FakeProc, MissingStatusFieldIsAnError) {
  Write(root_ / "proc/42/status", "Name:\tsh\nUid:\t0\t0\t0\t0\nCapEff:\t0\n");
  auto v = ViewFromProcess(42, paths_, HostFacts{});
  ASSERT_FALSE(v.has_value());
  EXPECT_THAT(v.error().message(), HasSubstr("no CapBnd line"));
}

TEST_F(FakeProc, AddedDeviceNodeIsFound) {
  if (mknod((root_ / "proc/42/root/dev/kmsg").c_str(), S_IFCHR | 0600, makedev(1, 11)) != 0) {
    GTEST_SKIP() << "mknod needs CAP_MKNOD: " << strerror(errno);
  }
  auto v = ViewFromProcess(42, paths_, HostFacts{});
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v->added_devices, std::vector<std::string>{"/dev/kmsg"});
}

TEST(ProcViewTest, NoSuchProcess) {
  auto v = ViewFromProcess(999999999, {}, HostFacts{});
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().errnum(), ENOENT);
  EXPECT_THAT(v.error().message(), HasSubstr("process 999999999"));
}

TEST(ProcViewTest, OwnProcessSharesEveryHostNamespace) {
  auto v = ViewFromProcess(getpid(), {}, HostFacts{});
  ASSERT_TRUE(v.has_value()) << v.error().message();
  // Against pid 1, or (when pid 1 cannot be inspected) against itself: either way the test
  // process, started in the same namespaces as everything else here, has none of its own.
  if (!v->notes.empty()) {
    EXPECT_EQ(v->host_namespaces->size(), 7u);
  }
  EXPECT_EQ(v->user_namespace, !v->host_namespaces->contains("user"));
  EXPECT_TRUE(v->readonly_root.has_value());
}

TEST(MountInfoTest, ParsesOptionalFieldsAndEscapes) {
  auto m = ParseMountInfo(
      "36 35 98:0 /mnt1 /mnt\\040two rw,noatime master:1 shared:2 - ext3 /dev/root rw\n");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].mount_point, "/mnt two");
  EXPECT_EQ((*m)[0].root, "/mnt1");
  EXPECT_EQ((*m)[0].fs_type, "ext3");
  auto bad = ParseMountInfo("1 2 3\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message(), HasSubstr("mountinfo line 1"));
}

}  // namespace
}  // namespace brick::policy
