// CleanupStale's age rule against a fake cgroupfs root (manager_fake_test.cc covers the
// rest of the rule, manager_host_test.cc the real hierarchies).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <ctime>
#include <filesystem>

#include "brick/cgroup/fake_cgroupfs.h"
#include "brick/cgroup/manager.h"

namespace brick::cgroup {
namespace {

using testing::FakeCgroupRoot;

// Sets a directory's mtime to `seconds_ago` before now, as if made then.
void Age(const std::string& dir, int seconds_ago) {
  struct timespec times[2];
  clock_gettime(CLOCK_REALTIME, &times[0]);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  ASSERT_EQ(utimensat(AT_FDCWD, dir.c_str(), times, 0), 0) << dir;
}

TEST(CleanupStaleAgeTest, KeepsEmptyCgroupsYoungerThanMinAge) {
  FakeCgroupRoot fake;
  fake.AddAllV1();
  fake.AddV2("unified", "");
  Options opts;
  opts.fs_root = fake.root();
  opts.fs = fake.fs();
  auto layout = DetectLayoutFromMounts(fake.mounts(), fake.root(), *fake.fs());
  ASSERT_TRUE(layout) << layout.error().message();
  for (const char* id : {"old", "young"}) {
    auto path = ResolveCgroupsPath("", id, opts);
    ASSERT_TRUE(path);
    auto m = NewManager(*layout, *path, opts);
    ASSERT_TRUE(m);
    ASSERT_TRUE((*m)->Create());
  }
  std::vector<std::string> mounts;
  for (const auto& h : layout->v1) {
    mounts.push_back(h.mount_point);
  }
  mounts.push_back(layout->unified->mount_point);
  for (const auto& mount : mounts) {
    Age(mount + "/brick/old", 60);
    Age(mount + "/brick/young", 1);
  }

  auto st = CleanupStale(*layout, opts, {}, kStaleMinAge);
  ASSERT_TRUE(st) << st.error().message();
  for (const auto& mount : mounts) {
    EXPECT_FALSE(std::filesystem::exists(mount + "/brick/old")) << mount;
    EXPECT_TRUE(std::filesystem::exists(mount + "/brick/young")) << mount;
  }

  // Without the age rule the young one is stale too.
  st = CleanupStale(*layout, opts);
  ASSERT_TRUE(st) << st.error().message();
  for (const auto& mount : mounts) {
    EXPECT_FALSE(std::filesystem::exists(mount + "/brick/young")) << mount;
    EXPECT_TRUE(std::filesystem::exists(mount + "/brick")) << mount;
  }
}

TEST(CleanupStaleAgeTest, KernelModifiedTimeIsTheDirectoryMtime) {
  FakeCgroupRoot fake;
  std::string dir = fake.root() + "/d";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  Age(dir, 100);
  auto t = KernelCgroupFs::Get().ModifiedTime(dir);
  ASSERT_TRUE(t) << t.error().message();
  auto age = std::chrono::system_clock::now() - *t;
  EXPECT_GE(age, std::chrono::seconds(99));
  EXPECT_LE(age, std::chrono::seconds(200));
  auto missing = KernelCgroupFs::Get().ModifiedTime(fake.root() + "/none");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().errnum(), ENOENT);
}

}  // namespace
}  // namespace brick::cgroup
