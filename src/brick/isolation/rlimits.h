// Resource limits from process.rlimits.
//
//   RlimitsPlan limits = BRICK_TRY_VALUE(PlanRlimits(spec.process->rlimits));   // parent
//   BRICK_TRY(ApplyRlimits(sys, limits));   // child, before SwitchIdsKeepingCaps
//
// Apply before the uid switch and the capability drop: raising a hard limit needs
// CAP_SYS_RESOURCE, which the container usually does not keep.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/isolation/syscalls.h"
#include "brick/oci/spec.h"

namespace brick::isolation {

struct RlimitSetting {
  int resource = 0;       // RLIMIT_*
  const char* name = "";  // "RLIMIT_NOFILE", static storage
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct RlimitsPlan {
  std::vector<RlimitSetting> limits;  // in config order
};

// The RLIMIT_* number for "RLIMIT_NOFILE" etc., or nullopt.
std::optional<int> RlimitNumber(std::string_view name);

// Refuses unknown names, a name given twice, and soft above hard.
Result<RlimitsPlan> PlanRlimits(const std::vector<oci::Rlimit>& rlimits);

// prlimit(2) each limit in order. On failure the error names the limit and its
// values; for RLIMIT_NOFILE it explains the CAP_SYS_RESOURCE and fs.nr_open causes.
Status ApplyRlimits(Syscalls& sys, const RlimitsPlan& plan);

}  // namespace brick::isolation
