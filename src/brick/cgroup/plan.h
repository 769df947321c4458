// linux.resources turned into the exact cgroup file writes for a host, before anything is
// touched: validation is building the plan, applying is executing it.
//
//   Placement where = ...;  // which controller sits in v1, which in the unified hierarchy
//   Plan plan = BRICK_TRY_VALUE(BuildPlan(resources, where));
//   for (const Step& s : plan.steps) { ... }
//
// Conversions between versions follow what runc and the OCI runtime spec document:
//   cpu.shares -> cpu.weight      quadratic in log2(shares), as crun and runc: 2 -> 1,
//                                 1024 -> 100, 262144 -> 10000 (CpuSharesToWeight)
//   blkio weight -> io.weight     1 + ((weight - 10) * 9999) / 990  (io.bfq.weight takes the
//                                 blkio value as is)
//   memory.swap -> memory.swap.max  swap - limit  (OCI swap is memory+swap)
// A value one version cannot express is refused with an error naming the field; nothing
// is dropped silently. Zero for memory.limit, reservation, swap, cpu.shares, cpu.quota and
// cpu.period means "not set", as in runc.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "brick/base/error.h"
#include "brick/cgroup/device_program.h"
#include "brick/cgroup/layout.h"
#include "brick/oci/spec.h"

namespace brick::cgroup {

// Where each controller is offered, by its v1 name ("memory", "cpu", "cpuset", "pids",
// "blkio", "hugetlb", "net_cls", "net_prio", "rdma", "devices"): kV1 for a v1 hierarchy,
// kV2 for the unified one. Absent: the host lacks it.
struct Placement {
  std::map<std::string, Version, std::less<>> controllers;
  bool has_unified = false;  // a cgroup2 hierarchy (unified keys, eBPF device program)
  // How the manager sees the host, for error messages: "cgroup v1", "cgroup v2 at ...".
  std::string host;
};

// One interface-file write. The first choice whose file exists in the cgroup gets its
// value (blkio.weight vs blkio.bfq.weight, io.bfq.weight vs io.weight).
struct FileWrite {
  std::string field;       // "linux.resources.memory.limit"
  std::string controller;  // the v1 controller whose hierarchy holds the file; "" = unified
  std::vector<std::pair<std::string, std::string>> choices;  // file name, value
};

// v1 memory.limit_in_bytes and memory.memsw.limit_in_bytes: the kernel keeps
// limit <= memsw at every moment, so the order depends on the current memsw value.
struct V1MemoryLimits {
  std::optional<int64_t> limit;  // -1 = unlimited
  std::optional<int64_t> memsw;
};

// memory.checkBeforeUpdate: refuse a limit below the current usage.
struct MemoryUsageCheck {
  std::string controller;  // "memory" or "" (unified)
  std::string usage_file;  // memory.usage_in_bytes or memory.current
  int64_t new_limit = 0;
};

// cgroup v2 devices.
struct DeviceProgramStep {
  DeviceProgram program;
};

using Step = std::variant<FileWrite, V1MemoryLimits, MemoryUsageCheck, DeviceProgramStep>;

struct Plan {
  std::vector<Step> steps;
};

Result<Plan> BuildPlan(const oci::Resources& resources, const Placement& placement);

// The conversions, exposed for tests and for `brick update` to show what it will write.
uint64_t CpuSharesToWeight(uint64_t shares);
// The inverse, for options given as a v2 weight (brick run --cpu-weight).
uint64_t CpuWeightToShares(uint64_t weight);
uint64_t BlkioWeightToIoWeight(uint64_t weight);
// OCI memory.swap (memory+swap) to memory.swap.max; -1 means "max".
Result<int64_t> SwapToV2(int64_t swap, std::optional<int64_t> limit);

}  // namespace brick::cgroup
