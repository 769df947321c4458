#include "brick/cgroup/layout.h"

#include <gtest/gtest.h>

#include "brick/cgroup/fake_cgroupfs.h"

namespace brick::cgroup {
namespace {

using testing::FakeCgroupRoot;

constexpr const char* kHybridMountInfo =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
    "50 23 0:40 / /mnt/with\\040space rw - cgroup cgroup rw,pids\n";

TEST(ParseMountInfoTest, ReadsTypesOptionsAndEscapedPaths) {
  auto m = ParseMountInfo(kHybridMountInfo);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->size(), 6u);
  EXPECT_EQ((*m)[1].mount_point, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ((*m)[1].fs_type, "cgroup");
  EXPECT_EQ((*m)[1].super_options, "rw,cpu,cpuacct");
  EXPECT_EQ((*m)[4].fs_type, "cgroup2");
  EXPECT_EQ((*m)[5].mount_point, "/mnt/with space");
}

TEST(ParseMountInfoTest, RefusesJunk) {
  auto m = ParseMountInfo("1 2 3\n");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().message(), "mountinfo line 1: unexpected format \"1 2 3\"");
}

TEST(DetectLayoutTest, HybridFromMountInfo) {
  FakeCgroupRoot fake;
  fake.AddV2("unified", "");
  auto text = std::string(kHybridMountInfo);
  // Point the mounts at the fake root.
  std::string replaced;
  for (const auto& line : Split(text, '\n')) {
    std::string l = line;
    if (auto pos = l.find("/sys/fs/cgroup"); pos != std::string::npos) {
      l.replace(pos, 14, fake.root());
    }
    replaced += l + "\n";
  }
  auto mounts = ParseMountInfo(replaced);
  ASSERT_TRUE(mounts);
  auto layout = DetectLayoutFromMounts(*mounts, fake.root(), *fake.fs());
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->version, Version::kHybrid);
  ASSERT_EQ(layout->v1.size(), 3u);  // the pids mount is not below the root
  ASSERT_NE(layout->FindV1("cpuacct"), nullptr);
  EXPECT_EQ(layout->FindV1("cpuacct")->ControllersField(), "cpu,cpuacct");
  EXPECT_EQ(layout->FindV1("name=systemd")->mount_point, fake.root() + "/systemd");
  EXPECT_EQ(layout->FindV1("pids"), nullptr);
  ASSERT_TRUE(layout->unified);
  EXPECT_TRUE(layout->unified->controllers.empty());
}

TEST(DetectLayoutTest, V2ReadsControllers) {
  FakeCgroupRoot fake;
  fake.AddV2("", "cpuset cpu io memory pids");
  auto layout = DetectLayoutFromMounts(fake.mounts(), fake.root(), *fake.fs());
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->version, Version::kV2);
  EXPECT_EQ(layout->unified->controllers,
            (std::vector<std::string>{"cpuset", "cpu", "io", "memory", "pids"}));
}

TEST(DetectLayoutTest, V1Only) {
  FakeCgroupRoot fake;
  fake.AddAllV1();
  auto layout = DetectLayoutFromMounts(fake.mounts(), fake.root() + "/", *fake.fs());
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->version, Version::kV1);
  EXPECT_FALSE(layout->unified);
  EXPECT_NE(layout->FindV1("net_prio"), nullptr);
}

TEST(DetectLayoutTest, NothingMountedIsAnError) {
  FakeCgroupRoot fake;
  auto layout = DetectLayoutFromMounts({}, fake.root(), *fake.fs());
  ASSERT_FALSE(layout);
  EXPECT_EQ(layout.error().message(),
            fmt::format("no cgroup hierarchy is mounted at or below {}; mount cgroup2 there",
                        fake.root()));
}

TEST(DetectLayoutTest, ThisHost) {
  auto layout = DetectLayout();
  ASSERT_TRUE(layout) << layout.error().message();
  // Whatever the host is, every hierarchy found is below /sys/fs/cgroup.
  for (const auto& h : layout->v1) {
    EXPECT_TRUE(h.mount_point.starts_with("/sys/fs/cgroup/")) << h.mount_point;
  }
  if (layout->version != Version::kV1) {
    ASSERT_TRUE(layout->unified);
  }
}

}  // namespace
}  // namespace brick::cgroup
