#include "brick/runtime/init.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <functional>

#include "brick/isolation/hygiene.h"
#include "brick/isolation/network.h"
#include "brick/isolation/process_user.h"
#include "brick/runtime/seccomp_handoff.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

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

// Runs `step` with the process dumpable. While an init is non-dumpable the kernel
// makes its /proc/self files belong to the host's root, which the container's root
// cannot write (oom_score_adj, timens_offsets). Nothing of the container exists yet
// when this is used, so there is no one to take advantage of the window.
Status WhileDumpable(isolation::Syscalls& sys, const std::function<Status()>& step) {
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) {
    return ErrnoFail(errno, "make the init dumpable for a /proc write");
  }
  Status s = step();
  BRICK_TRY(isolation::SetNonDumpable(sys));
  return s;
}

// The steps, in order. Reads like the checklist it is.
Status InitSteps(const ContainerPlan& plan, SyncSocket& sync) {
  isolation::Syscalls& sys = isolation::RealSyscalls();
  for (int fd : plan.close_in_child) {
    close(fd);
  }
  // Die with brick, and keep the container from ptrace-ing or opening /proc/1/exe of
  // this process while it still holds host resources (fds, the brick binary).
  BRICK_TRY(isolation::SetNonDumpable(sys));
  // The init's parent lives outside its pid namespace (getppid() is 0), so a parent
  // that died before this point is noticed as EOF on the sync socket instead.
  BRICK_TRY(isolation::SetParentDeathSignal(sys, plan.expected_parent));
  ResetSignals();

  // Wait until the parent has written the id maps.
  Received go = BRICK_TRY_VALUE(sync.Receive());
  if (go.type != SyncMessage::kGo) {
    _exit(kInitFailedStatus);  // the parent is gone or gave up: nothing to report to
  }

  BRICK_TRY(isolation::JoinUserNamespace(plan.ns));
  if ((plan.ns.new_user || plan.ns.join_user) && plan.root_mapped) {
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
      return ErrnoFail(errno, "become root of the user namespace");
    }
  }
  BRICK_TRY(WhileDumpable(sys, [&] { return isolation::EnterTimeNamespace(plan.ns); }));
  const ProcessPlan& process = *plan.process;
  BRICK_TRY(isolation::ApplyUts(sys, process.uts));
  if (plan.ns.new_net) {
    BRICK_TRY(isolation::BringUpLoopback());
  }

  UniqueFd root = BRICK_TRY_VALUE(isolation::MountRootfs(plan.rootfs));
  BRICK_TRY(isolation::PopulateDev(root.get(), plan.dev));
  UniqueFd tty;
  if (plan.terminal) {
    auto console = BRICK_TRY_VALUE(isolation::OpenConsole(root.get(), plan.ids.uid, plan.ids.gid));
    BRICK_TRY(sync.Send(SyncMessage::kConsole, {}, console.master.get()));
    tty = std::move(console.peer);
  }
  BRICK_TRY(WriteSecrets(root.get(), plan.secrets, plan.ids.uid, plan.ids.gid));
  root = BRICK_TRY_VALUE(isolation::PivotRoot(root.get()));

  // The parent moves us into the cgroup while we set up mounts (a cgroup v1 migration
  // waits for an RCU grace period, so the two overlap). Nothing of the container runs
  // before this point.
  Received placed = BRICK_TRY_VALUE(sync.Receive());
  if (placed.type != SyncMessage::kPlaced) {
    _exit(kInitFailedStatus);
  }
  BRICK_TRY(isolation::EnterCgroupNamespace(plan.ns));

  UniqueFd proc = BRICK_TRY_VALUE(isolation::OpenVerifiedProcfs(sys, "/proc"));
  BRICK_TRY(isolation::ApplySysctls(sys, plan.sysctl, proc.get()));
  BRICK_TRY(isolation::ApplyMaskedAndReadonlyPaths(root.get(), plan.rootfs));
  BRICK_TRY(isolation::FinishRootfs(plan.rootfs));

  BRICK_TRY(isolation::ApplyRlimits(sys, plan.rlimits));
  BRICK_TRY(WhileDumpable(sys, [&] {
    return isolation::ApplyOomScoreAdj(sys, proc.get(), process.oom_score_adj);
  }));
  BRICK_TRY(isolation::ApplyLsmExecLabels(sys, plan.lsm, proc.get()));
  std::string exe = BRICK_TRY_VALUE(isolation::ResolveExecutable(
      root.get(), process.argv.entries()[0], process.cwd, process.path_env));
  BRICK_TRY(isolation::ApplyCwd(sys, root.get(), process.cwd));
  // A new session always: without a terminal the container must not be able to
  // push input into the caller's terminal with TIOCSTI.
  BRICK_TRY(isolation::NewSession(sys));
  if (tty) {
    BRICK_TRY(isolation::SetControllingTerminal(sys, tty.get()));
    for (int fd = 0; fd <= 2; ++fd) {
      if (dup2(tty.get(), fd) < 0) {
        return ErrnoFail(errno, "terminal: attach the pty as fd {}", fd);
      }
    }
    tty.reset();
  }
  proc.reset();
  root.reset();
  isolation::ApplyUmask(sys, process.umask);

  UniqueFd fifo;  // detached: kept open to announce a seccomp listener to brick start
  if (plan.detached) {
    // brick create returns once the container is ready; the init then outlives it and
    // waits here, still as the container's root, until `brick start` opens the fifo.
    BRICK_TRY(sync.Send(SyncMessage::kReady));
    Received detach = BRICK_TRY_VALUE(sync.Receive());
    if (detach.type != SyncMessage::kDetach) {
      _exit(kInitFailedStatus);
    }
    if (prctl(PR_SET_PDEATHSIG, 0) != 0) {
      return ErrnoFail(errno, "clear the parent-death signal");
    }
    BRICK_TRY(sync.Send(SyncMessage::kDetached));
    fifo.reset(open(FdPath(plan.exec_fifo).c_str(), O_WRONLY | O_CLOEXEC));
    if (!fifo || write(fifo.get(), "0", 1) != 1) {
      return ErrnoFail(errno, "wait for brick start on exec.fifo");
    }
    if (!plan.listener.enabled) {
      fifo.reset();
    }
  }

  // Capabilities and the id switch: bounding set first (needs CAP_SETPCAP), then the
  // uid change keeping caps, then the final sets.
  auto install_seccomp = [&]() -> Status {
    if (plan.seccomp) {
      // A listener is announced to `brick run`/`create` on the sync socket, or to
      // `brick start` on exec.fifo once create has returned (seccomp_agent.h).
      auto announce = [&](const std::string& numbers) -> Status {
        if (plan.detached) {
          return WriteAll(fifo.get(), numbers + "\n");
        }
        return sync.Send(SyncMessage::kSeccompListener, numbers);
      };
      BRICK_TRY(InstallFilterForHandOff(*plan.seccomp, plan.listener, sync.fd(),
                                        plan.fds.keep_through, announce),
                "linux.seccomp: install the filter");
    }
    return Ok();
  };
  if (!plan.no_new_privileges) {
    // Without no_new_privs the kernel only takes a filter from a task holding
    // CAP_SYS_ADMIN, so it goes in before the capabilities are dropped.
    BRICK_TRY(install_seccomp());
  }
  BRICK_TRY(isolation::ApplyBoundingSet(sys, plan.caps));
  BRICK_TRY(isolation::SwitchIdsKeepingCaps(sys, plan.ids));
  BRICK_TRY(isolation::ApplyCapSets(sys, plan.caps));
  BRICK_TRY(isolation::ApplyAmbientSet(sys, plan.caps));
  // Changing ids resets both of these; set them again for the last stretch before exec.
  BRICK_TRY(isolation::SetNonDumpable(sys));
  if (!plan.detached) {
    BRICK_TRY(isolation::SetParentDeathSignal(sys, plan.expected_parent));
  }
  BRICK_TRY(isolation::ApplyFdHygiene(sys, plan.fds));
  if (plan.no_new_privileges) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return ErrnoFail(errno, "process.noNewPrivileges: set no_new_privs");
    }
    BRICK_TRY(install_seccomp());
  }
  execve(exe.c_str(), process.argv.data(), process.envp.data());
  return ErrnoFail(errno, "exec {}", exe);
}

}  // namespace

void RunContainerInit(const ContainerPlan& plan, SyncSocket& sync) {
  auto s = InitSteps(plan, sync);
  // Only reached on failure.
  // errno travels in front of the text so the parent can rebuild the Error. A detached
  // init whose creator has gone can only tell the container's stderr.
  if (!sync.Send(SyncMessage::kError,
                 fmt::format("{}:{}", s.error().errnum(), s.error().context()))) {
    std::string line = fmt::format("brick: container {}: {}\n", plan.id, s.error().message());
    (void)!write(STDERR_FILENO, line.data(), line.size());
  }
  _exit(kInitFailedStatus);
}

}  // namespace brick::runtime
