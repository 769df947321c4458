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
#include "brick/runtime/final_steps.h"
#include "brick/runtime/hooks.h"
#include "brick/runtime/seccomp_handoff.h"
#include "brick/runtime/spawn.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

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
  if (plan.cgroup_placement) {
    BRICK_TRY(cgroup::PlaceSelf(*plan.cgroup_placement));
  }
  // Die with brick, and keep the container from ptrace-ing or opening /proc/1/exe of
  // this process while it still holds host resources (fds, the brick binary).
  BRICK_TRY(isolation::SetNonDumpable(sys));
  // The init's parent lives outside its pid namespace (getppid() is 0), so a parent
  // that died before this point is noticed as EOF on the sync socket instead.
  BRICK_TRY(isolation::SetParentDeathSignal(sys, plan.expected_parent, plan.parent_pidfd));
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
  // Joining the user namespace and the id change cleared the parent-death signal: without
  // it a brick killed from here on would leave the init to run the container unwatched.
  BRICK_TRY(isolation::SetParentDeathSignal(sys, plan.expected_parent, plan.parent_pidfd));
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

  // The parent may still be moving us into the unified hierarchy (when the clone could not
  // start us there) while we set up mounts. Nothing of the container runs before this
  // point. Hooks need the placement first.
  auto wait_placed = [&]() -> Status {
    Received placed = BRICK_TRY_VALUE(sync.Receive());
    if (placed.type != SyncMessage::kPlaced) {
      _exit(kInitFailedStatus);
    }
    return Ok();
  };
  std::string state_json;
  if (plan.hooks_barrier) {
    BRICK_TRY(wait_placed());
    // prestart and createRuntime run in the parent, in the runtime namespaces, now that
    // the mounts are done and before pivot_root; createContainer runs here, in ours.
    BRICK_TRY(sync.Send(SyncMessage::kHooks));
    Received done = BRICK_TRY_VALUE(sync.Receive());
    if (done.type != SyncMessage::kHooksDone) {
      _exit(kInitFailedStatus);
    }
    state_json = std::move(done.payload);
    BRICK_TRY(RunHooks(plan.create_container_hooks, "createContainer",
                       StateJsonWithStatus(state_json, "creating")));
  }
  root = BRICK_TRY_VALUE(isolation::PivotRoot(root.get()));
  if (!plan.hooks_barrier) {
    BRICK_TRY(wait_placed());
  }
  BRICK_TRY(isolation::EnterCgroupNamespace(plan.ns));

  UniqueFd proc = BRICK_TRY_VALUE(isolation::OpenVerifiedProcfs(sys, "/proc"));
  BRICK_TRY(isolation::ApplySysctls(sys, plan.sysctl, proc.get()));
  BRICK_TRY(isolation::ApplyMaskedAndReadonlyPaths(root.get(), plan.rootfs));
  BRICK_TRY(isolation::FinishRootfs(plan.rootfs));

  BRICK_TRY(isolation::ApplyRlimits(sys, plan.rlimits));
  BRICK_TRY(WhileDumpable(
      sys, [&] { return isolation::ApplyOomScoreAdj(sys, proc.get(), process.oom_score_adj); }));
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

  UniqueFd fifo;  // detached: tells brick start when the program runs (and about a listener)
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
    // Kept open (close-on-exec) until the program's execve: `brick start` waits for that
    // EOF, so it returns once the program runs, as runc's does.
  }

  // After `start` (or at once for run), before the user's program: in the container.
  BRICK_TRY(RunHooks(plan.start_container_hooks, "startContainer",
                     StateJsonWithStatus(state_json, "created")));

  FinalSteps last{plan.caps, plan.ids,       plan.seccomp,         plan.no_new_privileges,
                  plan.fds,  !plan.detached, plan.expected_parent, plan.parent_pidfd};
  // A listener is announced to `brick run`/`create` on the sync socket, or to `brick start`
  // on exec.fifo once create has returned (seccomp_agent.h).
  last.install_seccomp = [&]() -> Status {
    auto announce = [&](const std::string& numbers) -> Status {
      if (plan.detached) {
        return WriteAll(fifo.get(), numbers + "\n");
      }
      return sync.Send(SyncMessage::kSeccompListener, numbers);
    };
    return InstallFilterForHandOff(*plan.seccomp, plan.listener, sync.fd(), plan.fds.keep_through,
                                   announce);
  };
  return DropPrivilegesAndExec(sys, last, exe, process);
}

}  // namespace

void RunContainerInit(const ContainerPlan& plan, SyncSocket& sync) {
  auto s = InitSteps(plan, sync);
  // Only reached on failure.
  ReportChildFailure(sync, plan.id, s.error());
}

}  // namespace brick::runtime
