#include "brick/cgroup/path.h"

#include <gtest/gtest.h>

namespace brick::cgroup {
namespace {

TEST(ResolveCgroupsPathTest, EmptyGoesBelowBricksParent) {
  auto p = ResolveCgroupsPath("", "abc", Options{});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->path, "/brick/abc");
  EXPECT_EQ(p->brick_parent, "/brick");
}

TEST(ResolveCgroupsPathTest, RelativeGoesBelowTheConfiguredParent) {
  Options o;
  o.parent = "/system.slice//brick.slice/";
  auto p = ResolveCgroupsPath("pods/./abc", "abc", o);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->path, "/system.slice/brick.slice/pods/abc");
  EXPECT_EQ(p->brick_parent, "/system.slice/brick.slice");
}

TEST(ResolveCgroupsPathTest, AbsoluteIsTakenAsGiven) {
  auto p = ResolveCgroupsPath("/mycontainers//abc/", "abc", Options{});
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->path, "/mycontainers/abc");
  EXPECT_EQ(p->brick_parent, "");
  auto inside = ResolveCgroupsPath("/brick/x/abc", "abc", Options{});
  ASSERT_TRUE(inside);
  EXPECT_EQ(inside->brick_parent, "/brick");
}

TEST(ResolveCgroupsPathTest, SystemdFormIsRefusedWithAHint) {
  auto p = ResolveCgroupsPath("system.slice:brick:abc", "abc", Options{});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(),
            "linux.cgroupsPath \"system.slice:brick:abc\": the systemd cgroup driver is not "
            "supported yet; use a path such as /brick/abc");
}

TEST(ResolveCgroupsPathTest, DotDotIsRefused) {
  for (const char* bad : {"/a/../b", "../escape", "a/.."}) {
    auto p = ResolveCgroupsPath(bad, "abc", Options{});
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().message(),
              fmt::format("linux.cgroupsPath \"{}\": \"..\" components are not allowed; a cgroup "
                          "path may not climb out of its parent",
                          bad));
  }
  Options o;
  o.parent = "brick/../..";
  auto p = ResolveCgroupsPath("", "abc", o);
  ASSERT_FALSE(p);
  EXPECT_TRUE(p.error().message().starts_with("cgroup parent \"brick/../..\""))
      << p.error().message();
}

TEST(ResolveCgroupsPathTest, NulRootAndBadIdsAreRefused) {
  auto nul = ResolveCgroupsPath(std::string("/a\0b", 4), "abc", Options{});
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().message(), "linux.cgroupsPath contains a NUL byte");

  auto root = ResolveCgroupsPath("/", "abc", Options{});
  ASSERT_FALSE(root);
  EXPECT_TRUE(root.error().message().starts_with("linux.cgroupsPath \"/\" is the hierarchy root"));

  auto id = ResolveCgroupsPath("", "../x", Options{});
  ASSERT_FALSE(id);
  EXPECT_TRUE(id.error().message().starts_with("container id \"../x\"")) << id.error().message();

  Options o;
  o.parent = "/";
  auto parent = ResolveCgroupsPath("", "abc", o);
  ASSERT_FALSE(parent);
  EXPECT_TRUE(parent.error().message().starts_with("cgroup parent \"/\" is the hierarchy root"));
}

}  // namespace
}  // namespace brick::cgroup
