// brick's default cgroup limits for `brick run` without a bundle (docs/defaults.md).
//
//   oci::Resources r = cgroup::DefaultResources();
//   r.memory->limit = flags.memory;   // --memory overrides
//
// memory 512 MiB, pids 1024, cpu shares 1024 (cpu.weight 100 on cgroup v2), and the
// device rules: deny everything, then allow read and write (never mknod) of null, zero,
// full, random, urandom, tty, console, ptmx and the devpts ptys.
#pragma once

#include <cstdint>
#include <vector>

#include "brick/oci/spec.h"

namespace brick::cgroup {

inline constexpr int64_t kDefaultMemoryLimit = int64_t{512} << 20;
inline constexpr int64_t kDefaultPidsLimit = 1024;
inline constexpr uint64_t kDefaultCpuShares = 1024;

oci::Resources DefaultResources();
// The allow rules only (without the leading deny-all), e.g. to append a --device to.
std::vector<oci::DeviceCgroupRule> DefaultDeviceAllowRules();

}  // namespace brick::cgroup
