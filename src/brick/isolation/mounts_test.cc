#include "brick/isolation/mounts.h"

#include <gtest/gtest.h>
#include <linux/mount.h>

#include <algorithm>

namespace brick::isolation {
namespace {

TEST(MountOptionsTest, FlagsPropagationAndData) {
  auto o = ParseMountOptions({"nosuid", "nodev", "ro", "rslave", "mode=755", "size=64k"}, "m");
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->flags, static_cast<unsigned long>(MS_NOSUID | MS_NODEV | MS_RDONLY));
  EXPECT_EQ(o->propagation, static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(o->data, "mode=755,size=64k");
  EXPECT_FALSE(o->bind);
}

TEST(MountOptionsTest, LaterOptionWins) {
  auto o = ParseMountOptions({"ro", "rw", "noexec", "exec"}, "m");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->flags, 0u);
  EXPECT_EQ(o->clear, static_cast<unsigned long>(MS_RDONLY | MS_NOEXEC));
}

TEST(MountOptionsTest, BindAndRecursiveAttributes) {
  auto o = ParseMountOptions({"rbind", "rro", "rnosuid", "defaults"}, "m");
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->bind);
  EXPECT_TRUE(o->recursive_bind);
  EXPECT_EQ(o->attr_set, static_cast<uint64_t>(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
  EXPECT_TRUE(o->data.empty());
}

TEST(MountOptionsTest, TmpcopyupIsAFlagNotFilesystemData) {
  auto o = ParseMountOptions({"tmpcopyup", "mode=755"}, "m");
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->tmpcopyup);
  EXPECT_EQ(o->data, "mode=755");
}

// What `brick features` reports: each known option is taken as more than filesystem data.
TEST(MountOptionsTest, KnownOptionsAreAllRecognized) {
  std::vector<std::string> known = KnownMountOptions();
  EXPECT_GE(known.size(), 50u);
  EXPECT_TRUE(std::is_sorted(known.begin(), known.end()));
  for (const std::string& opt : known) {
    auto o = ParseMountOptions({opt}, "m");
    ASSERT_TRUE(o) << opt << ": " << o.error().message();
    EXPECT_TRUE(o->data.empty()) << opt << " would be passed to the filesystem";
  }
  for (const char* expected : {"ro", "nosuid", "rprivate", "rro", "bind", "tmpcopyup"}) {
    EXPECT_NE(std::find(known.begin(), known.end(), expected), known.end()) << expected;
  }
  EXPECT_EQ(std::find(known.begin(), known.end(), "idmap"), known.end());
}

TEST(MountOptionsTest, RefusesIdmapAndCommaJoinedOptions) {
  auto idmap = ParseMountOptions({"bind", "idmap"}, "mounts[4].options");
  ASSERT_FALSE(idmap);
  EXPECT_EQ(idmap.error().message(),
            "mounts[4].options[1]: idmapped mounts (\"idmap\") are not supported yet");
  auto comma = ParseMountOptions({"ro,nosuid"}, "mounts[0].options");
  ASSERT_FALSE(comma);
  EXPECT_NE(comma.error().message().find("give each option as its own entry"), std::string::npos);
}

TEST(PlanRootfsTest, RelativeRootAndMissingBindSource) {
  oci::Spec spec;
  spec.root.path = "does-not-exist";
  auto missing = PlanRootfs(spec, "/tmp");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("root.path: /tmp/does-not-exist"), std::string::npos);
  spec.root.path = "/tmp";
  oci::Mount m;
  m.destination = "/data";
  m.source = "/nonexistent-brick-source";
  m.options = {"rbind"};
  spec.mounts.push_back(m);
  auto bad = PlanRootfs(spec, "/");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "mounts[0].source: /nonexistent-brick-source does not exist on the host");
  spec.root.path = "/";
  spec.mounts.clear();
  auto host_root = PlanRootfs(spec, "/");
  ASSERT_FALSE(host_root);
  EXPECT_NE(host_root.error().message().find("cannot be a container root"), std::string::npos);
}

}  // namespace
}  // namespace brick::isolation
