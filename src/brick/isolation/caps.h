// Capabilities: the five sets of process.capabilities as bit masks, and the
// child-side steps that install them.
//
//   // parent, before clone:
//   int last = BRICK_TRY_VALUE(ReadCapLastCap());
//   CapsPlan caps = BRICK_TRY_VALUE(PlanCapabilities(spec.process->capabilities, last));
//   // child, in this order (each step needs the privilege the next one gives up):
//   BRICK_TRY(ApplyBoundingSet(sys, caps));            // needs CAP_SETPCAP
//   BRICK_TRY(SwitchIdsKeepingCaps(sys, ids));          // PR_SET_KEEPCAPS, setgroups,
//                                                      // setresgid, setresuid
//   BRICK_TRY(ApplyCapSets(sys, caps));                 // capset E/P/I
//   BRICK_TRY(ApplyAmbientSet(sys, caps));              // clear, then raise ambient
//
// Why the order: dropping from the bounding set needs CAP_SETPCAP in the effective
// set, which setresuid to a non-root uid clears; PR_SET_KEEPCAPS keeps the permitted
// set across setresuid so that capset can still pick from it; setresuid from root
// clears the ambient set, so ambient comes last. Anything that itself needs a
// capability (rlimits above the hard limit, oom_score_adj, sysctls, hostname) must
// run before SwitchIdsKeepingCaps.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/isolation/syscalls.h"
#include "brick/oci/spec.h"

namespace brick::isolation {

// Bit N is capability number N.
struct CapsPlan {
  uint64_t bounding = 0;
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
  uint64_t ambient = 0;
  int last_cap = 0;  // the kernel's highest capability number (cap_last_cap)
};

// The numeric uid/gid switch of the process, with the supplementary groups.
struct IdsPlan {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> additional_gids;
  // False when the user namespace has /proc/self/setgroups set to "deny": then
  // setgroups(2) is skipped, and additional_gids must be empty.
  bool setgroups_allowed = true;
};

// Reads /proc/sys/kernel/cap_last_cap (`path` is injectable for tests).
Result<int> ReadCapLastCap(const std::string& path = "/proc/sys/kernel/cap_last_cap");

// Turns the config's capability names into masks. An absent object means no
// capabilities at all. Refuses unknown names, names this kernel does not have
// (above last_cap), an effective cap not in permitted, an inheritable cap not in
// bounding, and an ambient cap not in both permitted and inheritable: the kernel
// would refuse those later with a bare EPERM.
Result<CapsPlan> PlanCapabilities(const std::optional<oci::Capabilities>& caps, int last_cap);

// Drops every capability 0..last_cap that is not in plan.bounding (PR_CAPBSET_DROP).
Status ApplyBoundingSet(Syscalls& sys, const CapsPlan& plan);

// PR_SET_KEEPCAPS 1, then setgroups (when allowed), setresgid, setresuid.
Status SwitchIdsKeepingCaps(Syscalls& sys, const IdsPlan& ids);

// capset(2) of effective, permitted and inheritable, then PR_SET_KEEPCAPS 0.
Status ApplyCapSets(Syscalls& sys, const CapsPlan& plan);

// PR_CAP_AMBIENT_CLEAR_ALL, then PR_CAP_AMBIENT_RAISE for each ambient capability.
Status ApplyAmbientSet(Syscalls& sys, const CapsPlan& plan);

}  // namespace brick::isolation
