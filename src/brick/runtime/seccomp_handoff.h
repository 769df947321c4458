// The container init's half of handing a seccomp notify listener to brick (see
// seccomp_agent.h for the parent's half and the whole protocol).
//
//   // init, as the last step before execve (plan.listener decided by the parent):
//   BRICK_TRY(InstallFilterForHandOff(*plan.seccomp, plan.listener, sync.fd(),
//                                     plan.fds.keep_through, announce));
//   execve(...);
//
// With a listener, the init announces "N M" (the listener's fd number to be, and the
// release memfd's number) through `announce` before installing, and after installing spins
// on the release word without making a syscall until the parent has taken the listener.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "brick/base/error.h"
#include "brick/seccomp/filter.h"

namespace brick::runtime {

// Decided by the parent before the clone.
struct ListenerHandOffPlan {
  bool enabled = false;                    // the filter makes a listener the parent takes
  int release_fd = -1;                     // the memfd holding the release word (fd M)
  const uint32_t* release_word = nullptr;  // its shared mapping; nonzero = go on
};

// Installs the filter. With plan.enabled: announces, installs, waits for the release word.
// probe_fd is any open fd (to find the lowest free number with F_DUPFD). keep_through is
// the last fd the container inherits (FdHygienePlan): a listener at or below it would leak
// into the container, so that is an error. On success nothing is closed: the listener is
// close-on-exec, and closing it would be a syscall under the filter.
Status InstallFilterForHandOff(const seccomp::BpfProgram& program, const ListenerHandOffPlan& plan,
                               int probe_fd, int keep_through,
                               const std::function<Status(const std::string&)>& announce);

}  // namespace brick::runtime
