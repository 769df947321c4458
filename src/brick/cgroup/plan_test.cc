#include "brick/cgroup/plan.h"

#include <gtest/gtest.h>

namespace brick::cgroup {
namespace {

Placement AllAt(Version v) {
  Placement p;
  for (const char* c : {"memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "hugetlb", "net_cls",
                        "net_prio", "rdma", "devices"}) {
    if (v == Version::kV2 &&
        (std::string_view(c) == "net_cls" || std::string_view(c) == "net_prio" ||
         std::string_view(c) == "devices" || std::string_view(c) == "cpuacct")) {
      continue;
    }
    p.controllers.emplace(c, v);
  }
  p.has_unified = v == Version::kV2;
  p.host = v == Version::kV2 ? "cgroup v2 at /x" : "cgroup v1";
  return p;
}

std::string Error(const oci::Resources& r, Version v) {
  auto plan = BuildPlan(r, AllAt(v));
  return plan ? "<no error>" : plan.error().message();
}

TEST(ConversionTest, SharesToWeightFollowsRunc) {
  EXPECT_EQ(CpuSharesToWeight(2), 1u);
  EXPECT_EQ(CpuSharesToWeight(262144), 10000u);
  EXPECT_EQ(CpuSharesToWeight(1024), 100u);  // the v1 default maps to the v2 default
  EXPECT_EQ(CpuSharesToWeight(512), 59u);
  for (uint64_t w : {1u, 50u, 100u, 500u, 9999u, 10000u}) {
    EXPECT_NEAR(static_cast<double>(CpuSharesToWeight(CpuWeightToShares(w))),
                static_cast<double>(w), std::max(1.0, w * 0.01))
        << w;
  }
  EXPECT_EQ(CpuSharesToWeight(0), 0u);  // not set
}

TEST(ConversionTest, BlkioWeightToIoWeight) {
  EXPECT_EQ(BlkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(BlkioWeightToIoWeight(1000), 10000u);
  EXPECT_EQ(BlkioWeightToIoWeight(500), 4950u);  // 1 + (490 * 9999) / 990
  EXPECT_EQ(BlkioWeightToIoWeight(100), 910u);
}

TEST(ConversionTest, SwapToV2) {
  EXPECT_EQ(*SwapToV2(-1, 100), -1);
  EXPECT_EQ(*SwapToV2(300, 100), 200);
  EXPECT_EQ(*SwapToV2(100, 100), 0);
  auto below = SwapToV2(50, 100);
  ASSERT_FALSE(below);
  EXPECT_EQ(below.error().message(),
            "50 is below the memory limit 100; swap is the memory+swap limit and must be at least "
            "the memory limit");
  auto no_limit = SwapToV2(100, std::nullopt);
  ASSERT_FALSE(no_limit);
  EXPECT_EQ(no_limit.error().message(),
            "a swap limit needs a memory limit (swap is memory+swap); set "
            "linux.resources.memory.limit");
}

TEST(BuildPlanTest, RangeErrorsNameTheField) {
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = -5;
  EXPECT_EQ(Error(r, Version::kV1),
            "linux.resources.memory.limit: -5 is negative; use -1 for no limit or omit the field");
  r.memory->limit = 100;
  r.memory->swappiness = 101;
  EXPECT_EQ(Error(r, Version::kV1),
            "linux.resources.memory.swappiness: 101 is out of range; swappiness is 0 to 100");

  oci::Resources c;
  c.cpu = oci::CpuResources{};
  c.cpu->shares = 1;
  EXPECT_EQ(Error(c, Version::kV2),
            "linux.resources.cpu.shares: 1 is out of range; shares are 2 to 262144");
  c.cpu->shares = 1024;
  c.cpu->quota = -7;
  EXPECT_EQ(Error(c, Version::kV1),
            "linux.resources.cpu.quota: -7 is negative; use -1 for no quota or omit the field");
  c.cpu->quota = 5000;
  c.cpu->period = 10;
  EXPECT_EQ(Error(c, Version::kV1),
            "linux.resources.cpu.period: 10 is out of range; the period is 1000 to 1000000 "
            "microseconds");
  c.cpu->period = 100000;
  c.cpu->cpus = "0-1;rm";
  EXPECT_EQ(Error(c, Version::kV1),
            "linux.resources.cpu.cpus: \"0-1;rm\" is not a list such as \"0-3,7\"");

  oci::Resources b;
  b.block_io = oci::BlockIoResources{};
  b.block_io->weight = 5;
  EXPECT_EQ(Error(b, Version::kV1),
            "linux.resources.blockIO.weight: 5 is out of range; a block IO weight is 10 to 1000");

  oci::Resources d;
  d.devices.push_back({.allow = true, .type = 'x', .access = "rw"});
  EXPECT_EQ(Error(d, Version::kV1),
            "linux.resources.devices[0].type: \"x\" is not a device type; use a, b or c");
  d.devices[0].type = 'c';
  d.devices[0].access = "rwx";
  EXPECT_EQ(Error(d, Version::kV2),
            "linux.resources.devices[0].access: \"rwx\" has 'x'; access is a combination of r, w "
            "and m");
}

TEST(BuildPlanTest, ValuesV2CannotExpressAreRefused) {
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->swappiness = 10;
  EXPECT_EQ(Error(r, Version::kV2),
            "linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness; remove "
            "the field");
  r.memory->swappiness.reset();
  r.memory->disable_oom_killer = true;
  EXPECT_EQ(Error(r, Version::kV2),
            "linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer for "
            "a cgroup; remove the field or set it to false");
  r.memory->disable_oom_killer = false;
  r.memory->kernel = 1000;
  EXPECT_TRUE(
      Error(r, Version::kV2).starts_with("linux.resources.memory.kernel: cgroup v2 has no"));
  r.memory->kernel.reset();
  r.memory->swap = 100;
  EXPECT_EQ(Error(r, Version::kV2),
            "linux.resources.memory.swap: a swap limit needs a memory limit (swap is memory+swap); "
            "set linux.resources.memory.limit");

  oci::Resources c;
  c.cpu = oci::CpuResources{};
  c.cpu->realtime_runtime = 1000;
  EXPECT_EQ(Error(c, Version::kV2),
            "linux.resources.cpu.realtimeRuntime: cgroup v2 has no real-time group scheduling; "
            "remove the field");

  oci::Resources b;
  b.block_io = oci::BlockIoResources{};
  b.block_io->leaf_weight = 100;
  EXPECT_EQ(Error(b, Version::kV2),
            "linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weight; remove the field");

  oci::Resources n;
  n.network = oci::NetworkResources{};
  n.network->class_id = 7;
  EXPECT_EQ(Error(n, Version::kV2),
            "linux.resources.network.classID: this host (cgroup v2 at /x) offers no net_cls cgroup "
            "controller; remove the field or enable the controller");
}

TEST(BuildPlanTest, MissingControllerIsNamed) {
  oci::Resources r;
  r.pids = oci::PidsResources{10};
  Placement p = AllAt(Version::kV1);
  p.controllers.erase("pids");
  auto plan = BuildPlan(r, p);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message(),
            "linux.resources.pids.limit: this host (cgroup v1) offers no pids cgroup controller; "
            "remove the field or enable the controller");
}

TEST(BuildPlanTest, UnifiedOnV1AndManagedKeysAreRefused) {
  oci::Resources r;
  r.unified["memory.high"] = "100";
  EXPECT_EQ(Error(r, Version::kV1),
            "linux.resources.unified[\"memory.high\"]: this host has no cgroup v2 hierarchy; use "
            "the matching linux.resources field instead");
  oci::Resources k;
  k.unified["cgroup.procs"] = "1";
  EXPECT_EQ(Error(k, Version::kV2),
            "linux.resources.unified[\"cgroup.procs\"]: brick manages this file itself; remove "
            "the key");
  oci::Resources s;
  s.unified["../../etc/passwd"] = "x";
  EXPECT_TRUE(Error(s, Version::kV2)
                  .ends_with("not a cgroup v2 interface file name such as "
                             "\"memory.high\""));
}

TEST(BuildPlanTest, ZeroMeansNotSet) {
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 0;
  r.memory->swap = 0;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 0;
  r.cpu->quota = 0;
  auto plan = BuildPlan(r, AllAt(Version::kV2));
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_TRUE(plan->steps.empty());
}

}  // namespace
}  // namespace brick::cgroup
