#include "brick/runtime/final_steps.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace brick::runtime {

void ResetSignals() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      signal(sig, SIG_DFL);
    }
  }
}

Status DropPrivilegesAndExec(isolation::Syscalls& sys, const FinalSteps& steps,
                             const std::string& exe, const ProcessPlan& process) {
  auto install_seccomp = [&]() -> Status {
    if (steps.seccomp) {
      if (steps.install_seccomp) {
        BRICK_TRY(steps.install_seccomp(), "linux.seccomp: install the filter");
      } else {
        BRICK_TRY(seccomp::InstallFilter(*steps.seccomp), "linux.seccomp: install the filter");
      }
    }
    return Ok();
  };
  if (!steps.no_new_privileges) {
    BRICK_TRY(install_seccomp());
  }
  BRICK_TRY(isolation::ApplyBoundingSet(sys, steps.caps));
  BRICK_TRY(isolation::SwitchIdsKeepingCaps(sys, steps.ids));
  BRICK_TRY(isolation::ApplyCapSets(sys, steps.caps));
  BRICK_TRY(isolation::ApplyAmbientSet(sys, steps.caps));
  // Changing ids resets both of these; set them again for the last stretch before exec.
  BRICK_TRY(isolation::SetNonDumpable(sys));
  if (steps.parent_death_signal) {
    BRICK_TRY(isolation::SetParentDeathSignal(sys, steps.expected_parent, steps.parent_pidfd));
  }
  BRICK_TRY(isolation::ApplyFdHygiene(sys, steps.fds));
  if (steps.no_new_privileges) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return ErrnoFail(errno, "process.noNewPrivileges: set no_new_privs");
    }
    BRICK_TRY(install_seccomp());
  }
  execve(exe.c_str(), process.argv.data(), process.envp.data());
  return ErrnoFail(errno, "exec {}", exe);
}

}  // namespace brick::runtime
