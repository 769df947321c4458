// The managers against fake cgroupfs roots: the exact files and values they write.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "brick/cgroup/defaults.h"
#include "brick/cgroup/fake_cgroupfs.h"
#include "brick/cgroup/manager.h"

namespace brick::cgroup {
namespace {

using ::testing::ElementsAre;
using testing::FakeCgroupRoot;
using ::testing::Pair;
using W = std::pair<std::string, std::string>;

std::set<std::string> Tree(const std::string& root) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    out.insert(e.path().string());
  }
  return out;
}

struct Env {
  FakeCgroupRoot fake;
  Options opts;
  Layout layout;

  std::unique_ptr<Manager> New(const std::string& cgroups_path = "", const std::string& id = "c1") {
    opts.fs_root = fake.root();
    opts.fs = fake.fs();
    auto l = DetectLayoutFromMounts(fake.mounts(), fake.root(), *fake.fs());
    EXPECT_TRUE(l) << l.error().message();
    layout = *l;
    auto path = ResolveCgroupsPath(cgroups_path, id, opts);
    EXPECT_TRUE(path) << path.error().message();
    auto m = NewManager(layout, *path, opts);
    EXPECT_TRUE(m) << m.error().message();
    return std::move(*m);
  }
  std::string Read(const std::string& rel) {
    return std::string(Trim(ReadFile(fake.root() + "/" + rel).value_or("<missing>")));
  }
  bool Exists(const std::string& rel) { return std::filesystem::exists(fake.root() + "/" + rel); }
};

oci::Resources FullV2Resources() {
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  r.memory->reservation = 128 << 20;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->idle = 0;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{100};
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  r.block_io->weight_device.push_back({.major = 8, .minor = 0, .weight = 100});
  r.block_io->throttle_read_bps_device.push_back({8, 0, 1048576});
  r.block_io->throttle_write_iops_device.push_back({8, 0, 0});
  r.hugepage_limits.push_back({"2MB", 4194304});
  r.rdma["mlx5_1"] = {.hca_handles = 3};
  r.unified["memory.high"] = "200000000";
  return r;
}

TEST(V2ManagerTest, WritesEveryFieldToTheV2Files) {
  Env env;
  env.fake.AddV2("", "cpuset cpu io memory hugetlb pids rdma");
  auto m = env.New();
  ASSERT_EQ(m->version(), Version::kV2);
  ASSERT_TRUE(m->Create());
  env.fake.fs()->writes.clear();
  auto st = m->Apply(FullV2Resources());
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_THAT(
      env.fake.fs()->writes,
      ElementsAre(W{"brick/c1/memory.max", "268435456"}, W{"brick/c1/memory.swap.max", "268435456"},
                  W{"brick/c1/memory.low", "134217728"},
                  W{"brick/c1/cpu.weight", "59"},  // quadratic conversion of 512 shares
                  W{"brick/c1/cpu.max", "50000 100000"}, W{"brick/c1/cpu.max.burst", "1000"},
                  W{"brick/c1/cpu.idle", "0"}, W{"brick/c1/cpuset.cpus", "0-1"},
                  W{"brick/c1/cpuset.mems", "0"}, W{"brick/c1/pids.max", "100"},
                  W{"brick/c1/io.weight", "4950"},  // no BFQ: converted scale
                  W{"brick/c1/io.weight", "8:0 910"}, W{"brick/c1/io.max", "8:0 rbps=1048576"},
                  W{"brick/c1/io.max", "8:0 wiops=max"}, W{"brick/c1/hugetlb.2MB.max", "4194304"},
                  W{"brick/c1/rdma.max", "mlx5_1 hca_handle=3"},
                  W{"brick/c1/memory.high", "200000000"}));
  ASSERT_TRUE(m->Destroy());
}

TEST(V2ManagerTest, BfqTakesBlkioWeightsAsTheyAre) {
  Env env;
  env.fake.AddV2("", "io");
  env.fake.fs()->v2_files["io"]["io.bfq.weight"] = "default 100";
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  env.fake.fs()->writes.clear();
  oci::Resources r;
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  ASSERT_TRUE(m->Apply(r));
  EXPECT_THAT(env.fake.fs()->writes, ElementsAre(W{"brick/c1/io.bfq.weight", "500"}));
  ASSERT_TRUE(m->Destroy());
}

TEST(V2ManagerTest, CreateEnablesControllersOnlyInsideBricksSubtree) {
  Env env;
  env.fake.AddV2("", "cpu memory pids");
  std::string root_subtree = env.Read("cgroup.subtree_control");
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  EXPECT_THAT(env.fake.fs()->mkdirs, ElementsAre("brick", "brick/c1"));
  EXPECT_EQ(env.Read("brick/cgroup.subtree_control"), "cpu memory pids");
  EXPECT_EQ(env.Read("brick/c1/cgroup.controllers"), "cpu memory pids");
  EXPECT_EQ(env.Read("cgroup.subtree_control"), root_subtree);
  for (const auto& w : env.fake.fs()->writes) {
    EXPECT_TRUE(w.first.starts_with("brick/")) << w.first;
  }
  ASSERT_TRUE(m->Destroy());
}

TEST(V2ManagerTest, DevicesBecomeAnEbpfProgramThatDestroyDetaches) {
  Env env;
  env.fake.AddV2("", "cpu memory pids");
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  oci::Resources r = DefaultResources();
  ASSERT_TRUE(m->Apply(r));
  ASSERT_EQ(env.fake.fs()->programs.size(), 1u);
  EXPECT_EQ(env.fake.fs()->programs[0].first, "brick/c1");
  EXPECT_EQ(env.fake.fs()->programs[0].second.size(), r.devices.size());
  // No v1 device files exist on v2, and the defaults' cpu shares become a weight.
  EXPECT_FALSE(env.Exists("brick/c1/devices.allow"));
  ASSERT_TRUE(m->Destroy());
  EXPECT_THAT(env.fake.fs()->detached, ElementsAre("brick/c1"));
}

TEST(V2ManagerTest, DefaultsNeedTheCpuController) {
  Env env;
  env.fake.AddV2("", "memory pids");
  auto m = env.New();
  auto st = m->Validate(DefaultResources());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            fmt::format("linux.resources.cpu: this host (cgroup v2 at {}) offers no cpu cgroup "
                        "controller; remove the field or enable the controller",
                        env.fake.root()));
}

TEST(V2ManagerTest, UnknownUnifiedKeyIsCheckedAgainstTheParentsFiles) {
  Env env;
  env.fake.AddV2("", "cpu memory pids");
  // brick's parent exists already, with the files of its controllers.
  ASSERT_TRUE(env.fake.fs()->Mkdir(env.fake.root() + "/brick"));
  auto m = env.New();
  oci::Resources r;
  r.unified["memory.bogus"] = "1";
  auto st = m->Validate(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            fmt::format("linux.resources.unified[\"memory.bogus\"]: cgroup v2 has no writable "
                        "interface file \"memory.bogus\" (looked in {}/brick)",
                        env.fake.root()));
  oci::Resources ok;
  ok.unified["memory.high"] = "1000000";
  EXPECT_TRUE(m->Validate(ok));
  oci::Resources missing;
  missing.unified["io.max"] = "8:0 rbps=1";
  st = m->Validate(missing);
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().message().starts_with(
      "linux.resources.unified[\"io.max\"]: the io controller is not available in the cgroup v2 "
      "hierarchy"))
      << st.error().message();
}

TEST(V2ManagerTest, UnknownUnifiedKeyWithOnlyTheRoot) {
  Env env;
  env.fake.AddV2("", "memory");
  auto m = env.New();
  oci::Resources r;
  r.unified["memory.nonsense"] = "1";
  auto st = m->Validate(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "linux.resources.unified[\"memory.nonsense\"]: cgroup v2 has no writable interface "
            "file \"memory.nonsense\"");
}

TEST(V2ManagerTest, ValidateCreatesNothing) {
  Env env;
  env.fake.AddV2("", "cpu memory pids");
  auto before = Tree(env.fake.root());
  auto m = env.New();
  EXPECT_TRUE(m->Validate(DefaultResources()));
  oci::Resources bad = DefaultResources();
  bad.memory->swappiness = 5;
  EXPECT_FALSE(m->Validate(bad));
  EXPECT_EQ(Tree(env.fake.root()), before);
  EXPECT_TRUE(env.fake.fs()->writes.empty());
  EXPECT_TRUE(env.fake.fs()->mkdirs.empty());
}

TEST(V2ManagerTest, ApplyRefusesBeforeWritingAnything) {
  Env env;
  env.fake.AddV2("", "cpu memory pids");
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  env.fake.fs()->writes.clear();
  oci::Resources r = DefaultResources();
  r.cpu->realtime_period = 1000000;
  auto st = m->Apply(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "apply resources to cgroup /brick/c1: linux.resources.cpu.realtimePeriod: cgroup v2 "
            "has no real-time group scheduling; remove the field");
  EXPECT_TRUE(env.fake.fs()->writes.empty());
  ASSERT_TRUE(m->Destroy());
}

TEST(V2ManagerTest, DestroyRemovesOnlyWhatCreateMade) {
  Env env;
  env.fake.AddV2("", "pids");
  ASSERT_TRUE(env.fake.fs()->Mkdir(env.fake.root() + "/brick"));
  ASSERT_TRUE(env.fake.fs()->Mkdir(env.fake.root() + "/brick/other"));
  auto m = env.New("pods/p1", "c1");
  ASSERT_TRUE(m->Create());
  EXPECT_TRUE(env.Exists("brick/pods/p1/cgroup.procs"));
  ASSERT_TRUE(m->Destroy());
  EXPECT_THAT(env.fake.fs()->rmdirs, ElementsAre("brick/pods/p1", "brick/pods"));
  EXPECT_TRUE(env.Exists("brick/other"));
  EXPECT_TRUE(env.Exists("brick"));
  // Idempotent.
  env.fake.fs()->rmdirs.clear();
  ASSERT_TRUE(m->Destroy());
  EXPECT_TRUE(env.fake.fs()->rmdirs.empty());
}

TEST(V2ManagerTest, DestroyKeepsAParentASiblingStillUses) {
  Env env;
  env.fake.AddV2("", "pids");
  auto a = env.New("", "a");
  auto b = env.New("", "b");
  ASSERT_TRUE(a->Create());  // makes brick and brick/a
  ASSERT_TRUE(b->Create());  // makes brick/b only
  ASSERT_TRUE(a->Destroy());
  EXPECT_TRUE(env.Exists("brick/b"));
  ASSERT_TRUE(b->Destroy());
  EXPECT_FALSE(env.Exists("brick/b"));
}

TEST(V2ManagerTest, KillAllUsesCgroupKillAndFreezeUsesCgroupFreeze) {
  Env env;
  env.fake.AddV2("", "pids");
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  ASSERT_TRUE(WriteFile(env.fake.root() + "/brick/c1/cgroup.procs", "4242\n"));
  ASSERT_TRUE(m->Freeze());
  EXPECT_EQ(env.Read("brick/c1/cgroup.freeze"), "1");
  ASSERT_TRUE(m->Thaw());
  EXPECT_EQ(env.Read("brick/c1/cgroup.freeze"), "0");
  env.fake.fs()->writes.clear();
  ASSERT_TRUE(m->Destroy());
  EXPECT_EQ(env.fake.fs()->writes.front(), (W{"brick/c1/cgroup.kill", "1"}));
  EXPECT_TRUE(env.fake.fs()->killed.empty());
  EXPECT_FALSE(env.Exists("brick/c1"));
}

TEST(V2ManagerTest, ReadStatsParsesV2Files) {
  Env env;
  env.fake.AddV2("", "cpu memory pids io");
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  std::string d = env.fake.root() + "/brick/c1/";
  ASSERT_TRUE(WriteFile(d + "memory.current", "1000\n"));
  ASSERT_TRUE(WriteFile(d + "memory.max", "4096\n"));
  ASSERT_TRUE(WriteFile(d + "memory.peak", "2000\n"));
  ASSERT_TRUE(WriteFile(d + "memory.events", "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\n"));
  ASSERT_TRUE(WriteFile(d + "cpu.stat",
                        "usage_usec 30\nuser_usec 20\nsystem_usec 10\nnr_periods 5\n"
                        "nr_throttled 3\nthrottled_usec 40\n"));
  ASSERT_TRUE(WriteFile(d + "pids.current", "3\n"));
  ASSERT_TRUE(WriteFile(d + "pids.max", "max\n"));
  ASSERT_TRUE(WriteFile(d + "io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n"));
  ASSERT_TRUE(WriteFileAtomic(d + "memory.stat", "anon 12288\nfile 4096\n", 0644));
  auto s = m->ReadStats();
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_TRUE(s->memory);
  EXPECT_EQ(s->memory->usage, 1000u);
  EXPECT_EQ(s->memory->limit, 4096u);
  EXPECT_EQ(s->memory->max_usage, 2000u);
  EXPECT_EQ(s->memory->limit_hits, 7u);
  EXPECT_EQ(s->memory->oom_events, 2u);
  EXPECT_EQ(s->memory->oom_kill, 1u);
  EXPECT_EQ(s->memory->raw.at("anon"), 12288u);
  EXPECT_EQ(s->memory->raw.at("file"), 4096u);
  EXPECT_TRUE(*m->OomKilled());
  ASSERT_TRUE(s->cpu);
  EXPECT_EQ(s->cpu->usage_ns, 30000u);
  EXPECT_EQ(s->cpu->user_ns, 20000u);
  EXPECT_EQ(s->cpu->throttled_periods, 3u);
  EXPECT_EQ(s->cpu->throttled_ns, 40000u);
  ASSERT_TRUE(s->pids);
  EXPECT_EQ(s->pids->current, 3u);
  EXPECT_FALSE(s->pids->limit);
  ASSERT_TRUE(s->io);
  ASSERT_EQ(s->io->size(), 1u);
  EXPECT_EQ((*s->io)[0].major, 8u);
  EXPECT_EQ((*s->io)[0].read_bytes, 10u);
  EXPECT_EQ((*s->io)[0].write_ops, 2u);
  ASSERT_TRUE(m->Destroy());
}

oci::Resources FullV1Resources() {
  oci::Resources r;
  r.devices.push_back({.allow = false, .type = 'a', .access = "rwm"});
  r.devices.push_back({.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rw"});
  r.devices.push_back({.allow = true, .type = 'c', .major = 136, .access = "rwm"});
  r.devices.push_back({.allow = false, .type = 'c', .major = 136, .minor = 5, .access = "m"});
  r.memory = oci::MemoryResources{};
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  r.memory->reservation = 128 << 20;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 0;
  r.cpu->idle = 1;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{-1};
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  r.block_io->weight_device.push_back({.major = 8, .minor = 0, .weight = 100});
  r.block_io->throttle_read_bps_device.push_back({8, 0, 1048576});
  r.block_io->throttle_write_bps_device.push_back({8, 16, 2});
  r.block_io->throttle_read_iops_device.push_back({8, 0, 3});
  r.block_io->throttle_write_iops_device.push_back({8, 0, 4});
  r.hugepage_limits.push_back({"2MB", 4194304});
  r.network = oci::NetworkResources{};
  r.network->class_id = 0x100001;
  r.network->priorities.push_back({"eth0", 5});
  r.rdma["mlx5_1"] = {.hca_handles = 3, .hca_objects = 9};
  return r;
}

TEST(V1ManagerTest, WritesEveryFieldToTheV1Files) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  ASSERT_EQ(m->version(), Version::kV1);
  ASSERT_TRUE(m->Create());
  env.fake.fs()->writes.clear();
  auto st = m->Apply(FullV1Resources());
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_THAT(
      env.fake.fs()->writes,
      ElementsAre(
          W{"devices/brick/c1/devices.deny", "a"}, W{"devices/brick/c1/devices.deny", "a *:* rwm"},
          W{"devices/brick/c1/devices.allow", "c 1:3 rw"},
          W{"devices/brick/c1/devices.allow", "c 136:* rwm"},
          W{"devices/brick/c1/devices.deny", "c 136:5 m"},
          // memsw starts unlimited: the limit goes first and stays below it.
          W{"memory/brick/c1/memory.limit_in_bytes", "268435456"},
          W{"memory/brick/c1/memory.memsw.limit_in_bytes", "536870912"},
          W{"memory/brick/c1/memory.soft_limit_in_bytes", "134217728"},
          W{"memory/brick/c1/memory.swappiness", "10"},
          W{"memory/brick/c1/memory.oom_control", "1"}, W{"cpu,cpuacct/brick/c1/cpu.shares", "512"},
          W{"cpu,cpuacct/brick/c1/cpu.cfs_period_us", "100000"},
          W{"cpu,cpuacct/brick/c1/cpu.cfs_quota_us", "50000"},
          W{"cpu,cpuacct/brick/c1/cpu.cfs_burst_us", "1000"},
          W{"cpu,cpuacct/brick/c1/cpu.rt_period_us", "1000000"},
          W{"cpu,cpuacct/brick/c1/cpu.rt_runtime_us", "0"}, W{"cpu,cpuacct/brick/c1/cpu.idle", "1"},
          W{"cpuset/brick/c1/cpuset.cpus", "0-1"}, W{"cpuset/brick/c1/cpuset.mems", "0"},
          W{"pids/brick/c1/pids.max", "max"},
          // No blkio.weight on a BFQ kernel: blkio.bfq.weight takes it.
          W{"blkio/brick/c1/blkio.bfq.weight", "500"},
          W{"blkio/brick/c1/blkio.bfq.weight_device", "8:0 100"},
          W{"blkio/brick/c1/blkio.throttle.read_bps_device", "8:0 1048576"},
          W{"blkio/brick/c1/blkio.throttle.write_bps_device", "8:16 2"},
          W{"blkio/brick/c1/blkio.throttle.read_iops_device", "8:0 3"},
          W{"blkio/brick/c1/blkio.throttle.write_iops_device", "8:0 4"},
          W{"hugetlb/brick/c1/hugetlb.2MB.limit_in_bytes", "4194304"},
          W{"net_cls,net_prio/brick/c1/net_cls.classid", "1048577"},
          W{"net_cls,net_prio/brick/c1/net_prio.ifpriomap", "eth0 5"},
          W{"rdma/brick/c1/rdma.max", "mlx5_1 hca_handle=3 hca_object=9"}));
  ASSERT_TRUE(m->Destroy());
}

TEST(V1ManagerTest, RaisingMemswWritesItBeforeTheLimit) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  ASSERT_TRUE(WriteFile(env.fake.root() + "/memory/brick/c1/memory.limit_in_bytes", "104857600"));
  ASSERT_TRUE(
      WriteFile(env.fake.root() + "/memory/brick/c1/memory.memsw.limit_in_bytes", "104857600"));
  env.fake.fs()->writes.clear();
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 200 << 20;
  r.memory->swap = 400 << 20;
  ASSERT_TRUE(m->Update(r));
  EXPECT_THAT(env.fake.fs()->writes,
              ElementsAre(W{"memory/brick/c1/memory.memsw.limit_in_bytes", "419430400"},
                          W{"memory/brick/c1/memory.limit_in_bytes", "209715200"}));
  // Lowering both: the limit first.
  env.fake.fs()->writes.clear();
  r.memory->limit = 50 << 20;
  r.memory->swap = 60 << 20;
  ASSERT_TRUE(m->Update(r));
  EXPECT_THAT(env.fake.fs()->writes,
              ElementsAre(W{"memory/brick/c1/memory.limit_in_bytes", "52428800"},
                          W{"memory/brick/c1/memory.memsw.limit_in_bytes", "62914560"}));
  ASSERT_TRUE(m->Destroy());
}

TEST(V1ManagerTest, CheckBeforeUpdateRefusesALimitBelowUsage) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  ASSERT_TRUE(WriteFile(env.fake.root() + "/memory/brick/c1/memory.usage_in_bytes", "5000000"));
  env.fake.fs()->writes.clear();
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 4000000;
  r.memory->check_before_update = true;
  auto st = m->Update(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "apply resources to cgroup /brick/c1: linux.resources.memory.limit: the container "
            "uses 5000000 bytes, more than the new limit 4000000, and memory.checkBeforeUpdate "
            "is set");
  EXPECT_TRUE(env.fake.fs()->writes.empty());
  ASSERT_TRUE(m->Destroy());
}

TEST(V1ManagerTest, NewCpusetGetsItsParentsCpusAndMems) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  EXPECT_EQ(env.Read("cpuset/brick/cpuset.cpus"), "0-3");
  EXPECT_EQ(env.Read("cpuset/brick/c1/cpuset.cpus"), "0-3");
  EXPECT_EQ(env.Read("cpuset/brick/c1/cpuset.mems"), "0");
  ASSERT_TRUE(m->Destroy());
}

TEST(V1ManagerTest, CreatesInEveryHierarchyAndPathsReportThem) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New("/abs/c9", "c9");
  ASSERT_TRUE(m->Create());
  auto paths = m->Paths();
  ASSERT_EQ(paths.size(), env.layout.v1.size());
  for (const auto& p : paths) {
    EXPECT_FALSE(p.unified);
    EXPECT_EQ(p.path, "/abs/c9");
    EXPECT_EQ(p.dir, p.mount_point + "/abs/c9");
    EXPECT_TRUE(std::filesystem::is_directory(p.dir)) << p.dir;
  }
  EXPECT_EQ(paths[1].controllers, "cpu,cpuacct");
  ASSERT_TRUE(m->AddProcess(77));
  EXPECT_EQ(env.Read("pids/abs/c9/cgroup.procs"), "77");
  ASSERT_TRUE(m->KillAll());
  EXPECT_THAT(env.fake.fs()->killed, ElementsAre(77));
  ASSERT_TRUE(m->Destroy());
  EXPECT_FALSE(env.Exists("memory/abs"));
}

TEST(V1ManagerTest, KillAllFreezesKillsEveryPidThawsAndWaits) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  ASSERT_TRUE(WriteFile(env.fake.root() + "/pids/brick/c1/cgroup.procs", "101\n102\n"));
  ASSERT_TRUE(WriteFile(env.fake.root() + "/memory/brick/c1/cgroup.procs", "101\n102\n"));
  env.fake.fs()->writes.clear();
  ASSERT_TRUE(m->KillAll());
  EXPECT_THAT(env.fake.fs()->killed, ElementsAre(101, 102));
  EXPECT_THAT(env.fake.fs()->WritesUnder("freezer/"),
              ElementsAre(W{"freezer/brick/c1/freezer.state", "FROZEN"},
                          W{"freezer/brick/c1/freezer.state", "THAWED"}));
  EXPECT_TRUE(m->Pids()->empty());
  ASSERT_TRUE(m->Destroy());
}

TEST(V1ManagerTest, ErrorsNameTheField) {
  Env env;
  env.fake.AddAllV1();
  ASSERT_TRUE(env.fake.fs()->Mkdir(env.fake.root() + "/blkio/brick"));
  auto m = env.New();
  oci::Resources leaf;
  leaf.block_io = oci::BlockIoResources{};
  leaf.block_io->leaf_weight = 100;
  auto st = m->Validate(leaf);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            fmt::format("linux.resources.blockIO.leafWeight: the kernel offers no "
                        "blkio.leaf_weight (looked in {}/blkio/brick); remove the field",
                        env.fake.root()));
  oci::Resources unified;
  unified.unified["pids.max"] = "5";
  st = m->Validate(unified);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "linux.resources.unified[\"pids.max\"]: this host has no cgroup v2 hierarchy; use the "
            "matching linux.resources field instead");
  oci::Resources swap;
  swap.memory = oci::MemoryResources{};
  swap.memory->limit = 100;
  swap.memory->swap = 50;
  st = m->Validate(swap);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "linux.resources.memory.swap: 50 is below linux.resources.memory.limit 100; swap is "
            "the memory+swap limit and must be at least the memory limit");
}

TEST(V1ManagerTest, SwapWithoutSwapAccountingIsRefused) {
  Env env;
  env.fake.AddAllV1();
  std::filesystem::remove(env.fake.root() + "/memory/memory.memsw.limit_in_bytes");
  auto m = env.New();
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 100 << 20;
  r.memory->swap = 200 << 20;
  auto st = m->Validate(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            fmt::format("linux.resources.memory.swap: swap accounting is off on this host ({}/"
                        "memory has no memory.memsw.limit_in_bytes); boot with swapaccount=1 or "
                        "remove the field",
                        env.fake.root()));
}

TEST(V1ManagerTest, MissingControllerIsAnErrorBeforeCreate) {
  Env env;
  env.fake.AddV1("memory", {}, {{"memory.limit_in_bytes", "0"}});
  auto before = Tree(env.fake.root());
  auto m = env.New();
  auto st = m->Validate(DefaultResources());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "linux.resources.devices: this host has no devices cgroup controller and no cgroup v2 "
            "hierarchy for an eBPF device program");
  oci::Resources pids;
  pids.pids = oci::PidsResources{5};
  st = m->Validate(pids);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "linux.resources.pids.limit: this host (cgroup v1) offers no pids cgroup controller; "
            "remove the field or enable the controller");
  EXPECT_EQ(Tree(env.fake.root()), before);
}

TEST(V1ManagerTest, ReadStatsParsesV1Files) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  std::string r = env.fake.root();
  ASSERT_TRUE(WriteFile(r + "/memory/brick/c1/memory.usage_in_bytes", "1000"));
  ASSERT_TRUE(WriteFile(r + "/memory/brick/c1/memory.memsw.usage_in_bytes", "1500"));
  ASSERT_TRUE(WriteFile(r + "/memory/brick/c1/memory.max_usage_in_bytes", "3000"));
  ASSERT_TRUE(WriteFile(r + "/memory/brick/c1/memory.failcnt", "4"));
  ASSERT_TRUE(WriteFile(r + "/memory/brick/c1/memory.oom_control",
                        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"));
  ASSERT_TRUE(WriteFile(r + "/cpu,cpuacct/brick/c1/cpuacct.usage", "900"));
  ASSERT_TRUE(WriteFile(r + "/cpu,cpuacct/brick/c1/cpuacct.usage_user", "600"));
  ASSERT_TRUE(WriteFile(r + "/cpu,cpuacct/brick/c1/cpuacct.usage_sys", "300"));
  ASSERT_TRUE(WriteFile(r + "/cpu,cpuacct/brick/c1/cpu.stat",
                        "nr_periods 10\nnr_throttled 4\nthrottled_time 123\n"));
  ASSERT_TRUE(
      WriteFileAtomic(r + "/cpu,cpuacct/brick/c1/cpuacct.usage_percpu", "500 400 \n", 0644));
  ASSERT_TRUE(WriteFileAtomic(r + "/memory/brick/c1/memory.stat", "cache 8192\nrss 4096\n", 0644));
  ASSERT_TRUE(WriteFile(r + "/pids/brick/c1/pids.current", "2"));
  ASSERT_TRUE(WriteFile(r + "/pids/brick/c1/pids.max", "64"));
  ASSERT_TRUE(WriteFile(r + "/blkio/brick/c1/blkio.throttle.io_service_bytes",
                        "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\nTotal 12288\n"));
  ASSERT_TRUE(WriteFile(r + "/blkio/brick/c1/blkio.throttle.io_serviced",
                        "8:0 Read 1\n8:0 Write 2\n8:0 Total 3\nTotal 3\n"));
  auto s = m->ReadStats();
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->memory->usage, 1000u);
  EXPECT_FALSE(s->memory->limit);  // the v1 "unlimited" value
  EXPECT_EQ(s->memory->swap_usage, 500u);
  EXPECT_EQ(s->memory->max_usage, 3000u);
  EXPECT_EQ(s->memory->limit_hits, 4u);
  EXPECT_EQ(s->memory->oom_kill, 2u);
  EXPECT_EQ(s->cpu->usage_ns, 900u);
  EXPECT_EQ(s->cpu->system_ns, 300u);
  EXPECT_EQ(s->cpu->throttled_periods, 4u);
  EXPECT_EQ(s->cpu->throttled_ns, 123u);
  EXPECT_THAT(s->cpu->percpu_ns, ElementsAre(500u, 400u));
  EXPECT_EQ(s->memory->raw, (std::map<std::string, uint64_t>{{"cache", 8192}, {"rss", 4096}}));
  EXPECT_EQ(s->pids->current, 2u);
  EXPECT_EQ(s->pids->limit, 64u);
  ASSERT_EQ(s->io->size(), 1u);
  EXPECT_EQ((*s->io)[0].read_bytes, 4096u);
  EXPECT_EQ((*s->io)[0].write_bytes, 8192u);
  EXPECT_EQ((*s->io)[0].write_ops, 2u);
  ASSERT_TRUE(m->Destroy());
}

TEST(HybridManagerTest, V1ControllersPlusTheUnifiedCgroup) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  auto m = env.New();
  ASSERT_EQ(m->version(), Version::kHybrid);
  ASSERT_TRUE(m->Create());
  EXPECT_TRUE(env.Exists("unified/brick/c1/cgroup.procs"));
  auto paths = m->Paths();
  ASSERT_EQ(paths.size(), env.layout.v1.size() + 1);
  EXPECT_TRUE(paths.back().unified);
  EXPECT_EQ(paths.back().controllers, "");
  env.fake.fs()->writes.clear();
  ASSERT_TRUE(m->Apply(DefaultResources()));
  // Devices go to the v1 controller, not to an eBPF program.
  EXPECT_TRUE(env.fake.fs()->programs.empty());
  EXPECT_THAT(env.fake.fs()->WritesUnder("memory/"),
              ElementsAre(W{"memory/brick/c1/memory.limit_in_bytes", "536870912"}));
  EXPECT_THAT(env.fake.fs()->WritesUnder("cpu,cpuacct/"),
              ElementsAre(W{"cpu,cpuacct/brick/c1/cpu.shares", "1024"}));
  EXPECT_THAT(env.fake.fs()->WritesUnder("pids/"),
              ElementsAre(W{"pids/brick/c1/pids.max", "1024"}));
  EXPECT_TRUE(env.fake.fs()->WritesUnder("unified/").empty());
  ASSERT_TRUE(m->AddProcess(55));
  EXPECT_EQ(env.Read("unified/brick/c1/cgroup.procs"), "55");
  // cgroup.kill of the unified hierarchy empties the container.
  env.fake.fs()->writes.clear();
  ASSERT_TRUE(m->KillAll());
  EXPECT_THAT(env.fake.fs()->writes, ElementsAre(W{"unified/brick/c1/cgroup.kill", "1"}));
  ASSERT_TRUE(WriteFile(env.fake.root() + "/pids/brick/c1/cgroup.procs", ""));
  ASSERT_TRUE(WriteFile(env.fake.root() + "/memory/brick/c1/cgroup.procs", ""));
  ASSERT_TRUE(m->Destroy());
  for (const auto& p : paths) {
    EXPECT_FALSE(std::filesystem::exists(p.dir)) << p.dir;
  }
}

TEST(HybridManagerTest, SelfPlacementWritesZeroToEachV1TasksFileAndOpensTheUnifiedDir) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  auto m = env.New();
  ASSERT_TRUE(m->Create());
  auto placement = m->OpenSelfPlacement();
  ASSERT_TRUE(placement) << placement.error().message();
  ASSERT_EQ(placement->v1_tasks.size(), env.layout.v1.size());
  EXPECT_EQ(placement->unified_path, env.fake.root() + "/unified/brick/c1");
  struct stat want, got;
  ASSERT_EQ(stat(placement->unified_path.c_str(), &want), 0);
  ASSERT_EQ(fstat(placement->unified_dir.get(), &got), 0);
  EXPECT_TRUE(S_ISDIR(got.st_mode));
  EXPECT_EQ(got.st_ino, want.st_ino);
  ASSERT_TRUE(PlaceSelf(*placement));
  // "0" (the writing thread) in every v1 hierarchy's tasks file, nothing in cgroup.procs.
  EXPECT_EQ(env.Read("pids/brick/c1/tasks"), "0");
  EXPECT_EQ(env.Read("memory/brick/c1/tasks"), "0");
  EXPECT_EQ(env.Read("cpu,cpuacct/brick/c1/tasks"), "0");
  EXPECT_EQ(env.Read("pids/brick/c1/cgroup.procs"), "");
  // A clone that could not start in the cgroup is placed in the unified hierarchy only.
  ASSERT_TRUE(m->AddProcessToUnified(42));
  EXPECT_EQ(env.Read("unified/brick/c1/cgroup.procs"), "42");
  EXPECT_EQ(env.Read("pids/brick/c1/cgroup.procs"), "");
  placement->v1_tasks.clear();
  placement->unified_dir.reset();
  ASSERT_TRUE(WriteFile(env.fake.root() + "/unified/brick/c1/cgroup.procs", ""));
  ASSERT_TRUE(m->Destroy());
}

TEST(V1ManagerTest, SelfPlacementOfAMissingCgroupNamesTheFile) {
  Env env;
  env.fake.AddAllV1();
  auto m = env.New();
  auto placement = m->OpenSelfPlacement();  // never created
  ASSERT_FALSE(placement);
  EXPECT_EQ(placement.error().errnum(), ENOENT);
  EXPECT_THAT(placement.error().message(), ::testing::HasSubstr("/brick/c1/tasks"));
}

TEST(HybridManagerTest, UnifiedKeyOfAV1ControllerIsRefused) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  auto m = env.New();
  oci::Resources r;
  r.unified["memory.high"] = "1000";
  auto st = m->Validate(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            fmt::format("linux.resources.unified[\"memory.high\"]: the memory controller is "
                        "bound to cgroup v1 on this host, not to the unified hierarchy at "
                        "{}/unified; use the linux.resources field for it",
                        env.fake.root()));
  oci::Resources core;
  core.unified["cgroup.max.depth"] = "3";
  ASSERT_TRUE(m->Validate(core));
  ASSERT_TRUE(m->Create());
  ASSERT_TRUE(m->Apply(core));
  EXPECT_EQ(env.Read("unified/brick/c1/cgroup.max.depth"), "3");
  ASSERT_TRUE(m->Destroy());
}

TEST(CleanupStaleTest, RemovesEmptyContainerCgroupsBelowTheParentOnly) {
  Env env;
  env.fake.AddAllV1();
  env.fake.AddV2("unified", "");
  auto dead = env.New("", "dead");
  ASSERT_TRUE(dead->Create());
  auto live = env.New("", "live");
  ASSERT_TRUE(live->Create());
  ASSERT_TRUE(live->AddProcess(99));
  auto kept = env.New("", "kept");
  ASSERT_TRUE(kept->Create());
  ASSERT_TRUE(env.fake.fs()->Mkdir(env.fake.root() + "/pids/outside"));
  (void)dead.release();  // as if brick had been SIGKILLed
  ASSERT_TRUE(
      CleanupStale(env.layout, env.opts, [](const std::string& p) { return p == "/brick/kept"; }));
  for (const auto& h : env.layout.v1) {
    EXPECT_FALSE(std::filesystem::exists(h.mount_point + "/brick/dead")) << h.mount_point;
    EXPECT_TRUE(std::filesystem::exists(h.mount_point + "/brick/live")) << h.mount_point;
    EXPECT_TRUE(std::filesystem::exists(h.mount_point + "/brick/kept")) << h.mount_point;
  }
  EXPECT_FALSE(env.Exists("unified/brick/dead"));
  EXPECT_TRUE(env.Exists("pids/outside"));
  EXPECT_TRUE(env.Exists("pids/brick"));
  ASSERT_TRUE(WriteFile(env.fake.root() + "/pids/brick/live/cgroup.procs", ""));
  for (const auto& h : env.layout.v1) {
    (void)WriteFile(h.mount_point + "/brick/live/cgroup.procs", "");
  }
  (void)WriteFile(env.fake.root() + "/unified/brick/live/cgroup.procs", "");
  ASSERT_TRUE(live->Destroy());
  ASSERT_TRUE(kept->Destroy());
}

TEST(ScopedCgroupTest, DestroysUnlessReleased) {
  Env env;
  env.fake.AddV2("", "pids");
  {
    auto m = env.New("", "a");
    ASSERT_TRUE(m->Create());
    ScopedCgroup owner(std::move(m));
  }
  EXPECT_FALSE(env.Exists("brick/a"));
  std::unique_ptr<Manager> kept;
  {
    auto m = env.New("", "b");
    ASSERT_TRUE(m->Create());
    ScopedCgroup owner(std::move(m));
    kept = owner.Release();
  }
  EXPECT_TRUE(env.Exists("brick/b"));
  ASSERT_TRUE(kept->Destroy());
  EXPECT_FALSE(env.Exists("brick/b"));
}

TEST(DefaultsTest, DefaultResources) {
  oci::Resources r = DefaultResources();
  EXPECT_EQ(r.memory->limit, 512 << 20);
  EXPECT_EQ(r.pids->limit, 1024);
  EXPECT_EQ(r.cpu->shares, 1024u);
  ASSERT_EQ(r.devices.size(), 10u);
  EXPECT_FALSE(r.devices[0].allow);
  EXPECT_EQ(r.devices[0].type, 'a');
  for (size_t i = 1; i < r.devices.size(); ++i) {
    EXPECT_TRUE(r.devices[i].allow);
    EXPECT_EQ(r.devices[i].type, 'c');
    EXPECT_EQ(r.devices[i].access, "rw");  // never mknod
  }
  EXPECT_EQ(DefaultDeviceAllowRules().size(), 9u);
  EXPECT_EQ(DefaultDeviceAllowRules().back().major, 136);
  EXPECT_FALSE(DefaultDeviceAllowRules().back().minor);
}

}  // namespace
}  // namespace brick::cgroup
