// The last stretch before a container process runs, shared by the init and `brick exec`:
// bounding set, id switch, capability sets, fd hygiene, no_new_privs, seccomp, execve.
//
//   FinalSteps last{plan.caps, plan.ids, plan.seccomp, plan.no_new_privileges, plan.fds,
//                   /*parent_death_signal=*/true, plan.expected_parent};
//   return DropPrivilegesAndExec(sys, last, exe, *plan.process);   // returns only on error
//
// Order matters: the bounding set needs CAP_SETPCAP, so it goes first; the ids change
// keeping capabilities, then the final sets. Without no_new_privs the kernel only accepts
// a seccomp filter from a task holding CAP_SYS_ADMIN, so the filter then goes in before
// the capabilities are dropped; with it, the filter is the very last thing before execve.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "brick/base/error.h"
#include "brick/isolation/caps.h"
#include "brick/isolation/hygiene.h"
#include "brick/isolation/process_user.h"
#include "brick/isolation/syscalls.h"
#include "brick/runtime/plan.h"
#include "brick/seccomp/filter.h"

namespace brick::runtime {

struct FinalSteps {
  const isolation::CapsPlan& caps;
  const isolation::IdsPlan& ids;
  const std::optional<seccomp::BpfProgram>& seccomp;
  bool no_new_privileges = false;
  const isolation::FdHygienePlan& fds;
  // Set the parent-death signal again after the id switch (which clears it).
  bool parent_death_signal = true;
  pid_t expected_parent = 0;
  int parent_pidfd = -1;  // see isolation::SetParentDeathSignal
  // Installs `seccomp` instead of a plain InstallFilter (the init's listener hand-off).
  std::function<Status()> install_seccomp;
};

// Unblocks every signal and restores default dispositions (brick blocks some for its
// signalfd; the container must start with a clean slate).
void ResetSignals();

// Runs the steps and execs `exe` with the process's argv and envp. Returns only on error.
Status DropPrivilegesAndExec(isolation::Syscalls& sys, const FinalSteps& steps,
                             const std::string& exe, const ProcessPlan& process);

}  // namespace brick::runtime
