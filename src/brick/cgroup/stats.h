// Resource usage of one cgroup, the same shape on every cgroup version.
//
//   Stats s = BRICK_TRY_VALUE(manager->ReadStats());
//   if (s.memory && s.memory->oom_kill > 0) { ... "killed by the OOM killer" ... }
//
// A member is nullopt when the host has no controller to report it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/cgroup/cgroup_fs.h"

namespace brick::cgroup {

struct MemoryStats {
  uint64_t usage = 0;                 // bytes in use now
  std::optional<uint64_t> limit;      // nullopt: unlimited
  std::optional<uint64_t> max_usage;  // peak usage, where the kernel keeps it
  std::optional<uint64_t> swap_usage;
  uint64_t limit_hits = 0;  // v1 memory.failcnt; v2 memory.events "max"
  uint64_t oom_events = 0;  // times the cgroup was under OOM (v2 "oom"; v1 counts kills)
  uint64_t oom_kill = 0;    // processes killed by the OOM killer
  // memory.stat as the kernel reports it ("cache", "rss", ... on v1; "anon", "file", ... on v2);
  // empty when the file is absent.
  std::map<std::string, uint64_t> raw;
};

struct CpuStats {
  uint64_t usage_ns = 0;
  std::optional<uint64_t> user_ns;
  std::optional<uint64_t> system_ns;
  uint64_t periods = 0;
  uint64_t throttled_periods = 0;
  uint64_t throttled_ns = 0;
  // Usage per CPU (v1 cpuacct.usage_percpu); empty where the kernel does not report it (v2).
  std::vector<uint64_t> percpu_ns;
};

struct PidsStats {
  uint64_t current = 0;
  std::optional<uint64_t> limit;  // nullopt: unlimited
};

struct IoDeviceStats {
  uint32_t major = 0;
  uint32_t minor = 0;
  uint64_t read_bytes = 0;
  uint64_t write_bytes = 0;
  uint64_t read_ops = 0;
  uint64_t write_ops = 0;
};

struct Stats {
  std::optional<MemoryStats> memory;
  std::optional<CpuStats> cpu;
  std::optional<PidsStats> pids;
  std::optional<std::vector<IoDeviceStats>> io;
};

// Readers for one cgroup directory of each kind. `dir` is the cgroup's directory in the
// hierarchy that holds the controller.
Result<MemoryStats> ReadV1MemoryStats(CgroupFs& fs, const std::string& dir);
Result<MemoryStats> ReadV2MemoryStats(CgroupFs& fs, const std::string& dir);
// v1 usage comes from cpuacct (`cpuacct_dir`, may be empty) and throttling from cpu.stat
// in `cpu_dir` (may be empty).
Result<CpuStats> ReadV1CpuStats(CgroupFs& fs, const std::string& cpu_dir,
                                const std::string& cpuacct_dir);
Result<CpuStats> ReadV2CpuStats(CgroupFs& fs, const std::string& dir);
Result<PidsStats> ReadPidsStats(CgroupFs& fs, const std::string& dir);  // same files on both
Result<std::vector<IoDeviceStats>> ReadV1IoStats(CgroupFs& fs, const std::string& dir);
Result<std::vector<IoDeviceStats>> ReadV2IoStats(CgroupFs& fs, const std::string& dir);

}  // namespace brick::cgroup
