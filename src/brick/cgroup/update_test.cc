// OpenContainerCgroup and UpdateContainerResources against fake cgroupfs roots.
#include "brick/cgroup/update.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "brick/cgroup/fake_cgroupfs.h"

namespace brick::cgroup {
namespace {

using ::testing::ElementsAre;
using testing::FakeCgroupRoot;
using ::testing::HasSubstr;
using W = std::pair<std::string, std::string>;

struct Env {
  FakeCgroupRoot fake;
  Options opts;
  Layout layout;

  void Detect() {
    opts.fs_root = fake.root();
    opts.fs = fake.fs();
    auto l = DetectLayoutFromMounts(fake.mounts(), fake.root(), *fake.fs());
    ASSERT_TRUE(l) << l.error().message();
    layout = *l;
  }
  // A container's cgroup as a `brick run` that is still going would leave it.
  void StartContainer(const std::string& id, const std::string& cgroups_path = "") {
    auto path = ResolveCgroupsPath(cgroups_path, id, opts);
    ASSERT_TRUE(path) << path.error().message();
    auto m = NewManager(layout, *path, opts);
    ASSERT_TRUE(m) << m.error().message();
    ASSERT_TRUE((*m)->Create());
  }
};

TEST(OpenContainerCgroupTest, MissingContainerIsNamed) {
  Env env;
  env.fake.AddAllV1();
  env.Detect();
  auto m = OpenContainerCgroup(env.layout, "nope", env.opts);
  ASSERT_FALSE(m);
  EXPECT_THAT(m.error().message(), HasSubstr("container nope does not exist"));
  EXPECT_EQ(m.error().errnum(), ENOENT);
}

TEST(OpenContainerCgroupTest, RefusesIdsThatLeaveTheParent) {
  Env env;
  env.fake.AddAllV1();
  env.Detect();
  for (const char* id : {"", "a/b", "../x"}) {
    auto m = OpenContainerCgroup(env.layout, id, env.opts);
    ASSERT_FALSE(m) << id;
    EXPECT_THAT(m.error().message(), HasSubstr("must be a non-empty name without '/'")) << id;
  }
}

TEST(OpenContainerCgroupTest, ReadsStatsWithoutOwningTheCgroup) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  env.Detect();
  env.StartContainer("c1");
  ASSERT_TRUE(WriteFile(env.fake.root() + "/memory/brick/c1/memory.usage_in_bytes", "4096"));
  ASSERT_TRUE(WriteFile(env.fake.root() + "/pids/brick/c1/pids.current", "3"));
  {
    auto m = OpenContainerCgroup(env.layout, "c1", env.opts);
    ASSERT_TRUE(m) << m.error().message();
    auto s = (*m)->ReadStats();
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE(s->memory);
    EXPECT_EQ(s->memory->usage, 4096u);
    ASSERT_TRUE(s->pids);
    EXPECT_EQ(s->pids->current, 3u);
  }
  // Letting the manager go left the container's cgroup alone.
  EXPECT_TRUE(std::filesystem::exists(env.fake.root() + "/memory/brick/c1"));
  EXPECT_TRUE(env.fake.fs()->rmdirs.empty());
}

TEST(UpdateContainerResourcesTest, WritesOnlyTheFieldsThatAreSet) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  env.Detect();
  env.StartContainer("c1");
  env.fake.fs()->writes.clear();
  oci::Resources r;
  r.pids = oci::PidsResources{64};
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  auto st = UpdateContainerResources(env.layout, "c1", r, env.opts);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_THAT(env.fake.fs()->writes,
              ElementsAre(W{"memory/brick/c1/memory.limit_in_bytes", "67108864"},
                          W{"pids/brick/c1/pids.max", "64"}));
}

TEST(UpdateContainerResourcesTest, InvalidValueWritesNothing) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  env.Detect();
  env.StartContainer("c1");
  env.fake.fs()->writes.clear();
  oci::Resources r;
  r.pids = oci::PidsResources{64};
  r.cpu = oci::CpuResources{};
  r.cpu->quota = 1000;
  r.cpu->period = 100;  // below the kernel's 1 ms minimum
  auto st = UpdateContainerResources(env.layout, "c1", r, env.opts);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("update container c1"));
  EXPECT_THAT(st.error().message(), HasSubstr("linux.resources.cpu.period"));
  EXPECT_TRUE(env.fake.fs()->writes.empty());
}

TEST(UpdateContainerResourcesTest, FindsACustomCgroupsPath) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  env.Detect();
  env.StartContainer("c1", "/custom/place");
  env.fake.fs()->writes.clear();
  oci::Resources r;
  r.pids = oci::PidsResources{32};
  // Without the path the container is not where <parent>/<id> says.
  auto lost = UpdateContainerResources(env.layout, "c1", r, env.opts);
  ASSERT_FALSE(lost);
  EXPECT_THAT(lost.error().message(), HasSubstr("container c1 does not exist"));
  auto st = UpdateContainerResources(env.layout, "c1", "/custom/place", r, env.opts);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_THAT(env.fake.fs()->writes, ElementsAre(W{"pids/custom/place/pids.max", "32"}));
  auto m = OpenContainerCgroup(env.layout, "c1", "/custom/place", env.opts);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ((*m)->path().path, "/custom/place");
}

TEST(UpdateContainerResourcesTest, MissingContainer) {
  Env env;
  env.fake.AddV2("", "pids memory");
  env.Detect();
  oci::Resources r;
  r.pids = oci::PidsResources{64};
  auto st = UpdateContainerResources(env.layout, "gone", r, env.opts);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("container gone does not exist"));
}

}  // namespace
}  // namespace brick::cgroup
