#include "brick/runtime/exec.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "brick/base/strings.h"
#include "brick/base/warning.h"
#include "brick/isolation/caps.h"
#include "brick/isolation/devices.h"
#include "brick/isolation/hygiene.h"
#include "brick/isolation/process_user.h"
#include "brick/isolation/rlimits.h"
#include "brick/oci/capabilities.h"
#include "brick/runtime/console_socket.h"
#include "brick/runtime/container.h"
#include "brick/runtime/final_steps.h"
#include "brick/runtime/foreground.h"
#include "brick/runtime/init.h"
#include "brick/runtime/lifecycle.h"
#include "brick/runtime/plan.h"
#include "brick/runtime/spawn.h"
#include "brick/runtime/state_store.h"
#include "brick/runtime/sync_socket.h"
#include "brick/seccomp/annotations.h"
#include "brick/seccomp/filter_cache.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

// Everything the exec'd child does, decided in the parent.
struct ExecPlan {
  std::string id;
  int init_pidfd = -1;
  int setns_flags = 0;  // the init's namespaces that differ from brick's, CLONE_NEWPID aside
  bool join_user = false;
  bool root_mapped = true;
  pid_t expected_parent = 0;
  int parent_pidfd = -1;  // brick's own pidfd (isolation::SetParentDeathSignal)
  isolation::CapsPlan caps;
  isolation::IdsPlan ids;
  isolation::RlimitsPlan rlimits;
  std::optional<ProcessPlan> process;
  std::optional<seccomp::BpfProgram> seccomp;
  bool no_new_privileges = false;
  bool terminal = false;
  std::optional<oci::ConsoleSize> console_size;
  bool detached = false;
  isolation::FdHygienePlan fds;
  std::vector<int> close_in_child;
  const cgroup::SelfPlacement* cgroup_placement = nullptr;  // see self_placement.h
};

struct NsKind {
  const char* name;
  int flag;
};
constexpr NsKind kNamespaces[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},
                                  {"net", CLONE_NEWNET},   {"ipc", CLONE_NEWIPC},
                                  {"uts", CLONE_NEWUTS},   {"cgroup", CLONE_NEWCGROUP},
                                  {"pid", CLONE_NEWPID},   {"time", CLONE_NEWTIME}};

// The namespaces of `pid` that brick is not in. Joining one's own user namespace is an
// error (EINVAL), and joining the others again is pointless, so only these are joined.
Result<int> DifferentNamespaces(pid_t pid) {
  int flags = 0;
  for (const auto& ns : kNamespaces) {
    std::string theirs = fmt::format("/proc/{}/ns/{}", pid, ns.name);
    std::string ours = fmt::format("/proc/self/ns/{}", ns.name);
    struct stat a, b;
    if (stat(theirs.c_str(), &a) != 0) {
      if (errno == ENOENT && ns.flag == CLONE_NEWTIME) {
        continue;  // a kernel without time namespaces
      }
      return ErrnoFail(errno, "stat {}", theirs);
    }
    if (stat(ours.c_str(), &b) != 0) {
      return ErrnoFail(errno, "stat {}", ours);
    }
    if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
      flags |= ns.flag;
    }
  }
  return flags;
}

bool MapsRoot(const std::string& map_text) {
  for (const auto& line : Split(map_text, '\n')) {
    // "<inside> <outside> <count>", right-aligned with spaces.
    std::string_view rest = Trim(line);
    if (rest.starts_with("0 ")) {
      return true;
    }
  }
  return false;
}

// Adds `name=value` entries, replacing an existing entry for the same name.
void MergeEnv(std::vector<std::string>* env, const std::vector<std::string>& extra) {
  for (const auto& e : extra) {
    std::string key = e.substr(0, e.find('='));
    auto same = [&](const std::string& x) { return x.substr(0, x.find('=')) == key; };
    env->erase(std::remove_if(env->begin(), env->end(), same), env->end());
    env->push_back(e);
  }
}

// The child: join, set up, exec. Returns only on error.
Status ExecChildSteps(const ExecPlan& plan, SyncSocket& sync) {
  isolation::Syscalls& sys = isolation::RealSyscalls();
  for (int fd : plan.close_in_child) {
    close(fd);
  }
  if (plan.cgroup_placement) {
    BRICK_TRY(cgroup::PlaceSelf(*plan.cgroup_placement));
  }
  BRICK_TRY(isolation::SetNonDumpable(sys));
  BRICK_TRY(isolation::SetParentDeathSignal(sys, plan.expected_parent, plan.parent_pidfd));
  ResetSignals();

  // Wait until the parent has finished placing us in the container's cgroup.
  Received go = BRICK_TRY_VALUE(sync.Receive());
  if (go.type != SyncMessage::kGo) {
    _exit(kInitFailedStatus);
  }
  // Lowering limits needs no privilege; raising a hard limit needs CAP_SYS_RESOURCE of
  // the host, which the process would not have once it has joined the user namespace.
  BRICK_TRY(isolation::ApplyRlimits(sys, plan.rlimits));
  if (plan.setns_flags != 0 && setns(plan.init_pidfd, plan.setns_flags) != 0) {
    return ErrnoFail(errno, "join the namespaces of container {} (setns flags {:#x})", plan.id,
                     plan.setns_flags);
  }
  if (plan.join_user && plan.root_mapped) {
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
      return ErrnoFail(errno, "become root of the container's user namespace");
    }
  }
  // Joining a user namespace changes credentials, which resets dumpability and the
  // parent-death signal.
  BRICK_TRY(isolation::SetNonDumpable(sys));
  BRICK_TRY(isolation::SetParentDeathSignal(sys, plan.expected_parent, plan.parent_pidfd));

  // setns(CLONE_NEWNS) put our root and cwd at the container's root.
  UniqueFd root(open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) {
    return ErrnoFail(errno, "open the container's root");
  }
  const ProcessPlan& process = *plan.process;
  UniqueFd tty;
  if (plan.terminal) {
    auto console = BRICK_TRY_VALUE(isolation::OpenConsole(root.get(), plan.ids.uid, plan.ids.gid));
    if (plan.console_size) {
      struct winsize ws = {};
      ws.ws_row = static_cast<unsigned short>(plan.console_size->height);
      ws.ws_col = static_cast<unsigned short>(plan.console_size->width);
      if (ioctl(console.master.get(), TIOCSWINSZ, &ws) != 0) {
        return ErrnoFail(errno, "process.consoleSize: set the pty size");
      }
    }
    BRICK_TRY(sync.Send(SyncMessage::kConsole, {}, console.master.get()));
    tty = std::move(console.peer);
  }
  std::string exe = BRICK_TRY_VALUE(isolation::ResolveExecutable(
      root.get(), process.argv.entries()[0], process.cwd, process.path_env));
  BRICK_TRY(isolation::ApplyCwd(sys, root.get(), process.cwd));
  // A new session always, as for the init: no TIOCSTI into the caller's terminal.
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
  root.reset();
  isolation::ApplyUmask(sys, process.umask);

  if (plan.detached) {
    // Outlive brick: the caller's subreaper (conmon, the containerd shim) adopts us.
    BRICK_TRY(sync.Send(SyncMessage::kReady));
    Received detach = BRICK_TRY_VALUE(sync.Receive());
    if (detach.type != SyncMessage::kDetach) {
      _exit(kInitFailedStatus);
    }
    if (prctl(PR_SET_PDEATHSIG, 0) != 0) {
      return ErrnoFail(errno, "clear the parent-death signal");
    }
    BRICK_TRY(sync.Send(SyncMessage::kDetached));
  }
  FinalSteps last{plan.caps, plan.ids,       plan.seccomp,         plan.no_new_privileges,
                  plan.fds,  !plan.detached, plan.expected_parent, plan.parent_pidfd};
  return DropPrivilegesAndExec(sys, last, exe, process);
}

// Joins the pid namespace for the clone only, and goes back after it.
class PidNamespaceForChildren {
 public:
  static Result<PidNamespaceForChildren> Enter(int init_pidfd) {
    UniqueFd own(open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (!own) {
      return ErrnoFail(errno, "open /proc/self/ns/pid");
    }
    if (setns(init_pidfd, CLONE_NEWPID) != 0) {
      return ErrnoFail(errno, "enter the container's pid namespace");
    }
    return PidNamespaceForChildren(std::move(own));
  }
  Status Leave() {
    if (own_ && setns(own_.get(), CLONE_NEWPID) != 0) {
      return ErrnoFail(errno, "return to brick's pid namespace");
    }
    own_.reset();
    return Ok();
  }
  ~PidNamespaceForChildren() { (void)Leave(); }
  PidNamespaceForChildren(PidNamespaceForChildren&&) = default;

 private:
  explicit PidNamespaceForChildren(UniqueFd own) : own_(std::move(own)) {}
  UniqueFd own_;
};

Status WriteOomScoreAdj(pid_t pid, int adj) {
  std::string path = fmt::format("/proc/{}/oom_score_adj", pid);
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  std::string text = std::to_string(adj);
  if (!fd || write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return ErrnoFail(errno, "process.oomScoreAdj: write {} to {}", adj, path);
  }
  return Ok();
}

}  // namespace

Result<oci::Process> ExecProcessFromConfig(const oci::Process& base, const ExecOverrides& o) {
  if (o.args.empty()) {
    return Fail(
        "exec: no command given; pass the command after the container id, or "
        "--process FILE");
  }
  oci::Process p = base;
  p.args = o.args;
  MergeEnv(&p.env, o.env);
  if (o.cwd) {
    p.cwd = *o.cwd;
  }
  if (o.uid) {
    p.user.uid = *o.uid;
    if (o.gid) {
      p.user.gid = *o.gid;
    }
    p.user.additional_gids.clear();
  }
  for (uint32_t g : o.additional_gids) {
    p.user.additional_gids.push_back(g);
  }
  if (!o.add_caps.empty()) {
    oci::Capabilities caps = p.capabilities.value_or(oci::Capabilities{});
    for (const auto& cap : o.add_caps) {
      std::string name = cap.starts_with("CAP_") ? cap : "CAP_" + cap;
      for (auto* set :
           {&caps.bounding, &caps.effective, &caps.permitted, &caps.inheritable, &caps.ambient}) {
        if (std::find(set->begin(), set->end(), name) == set->end()) {
          set->push_back(name);
        }
      }
    }
    p.capabilities = caps;
  }
  p.no_new_privileges = p.no_new_privileges || o.no_new_privs;
  p.terminal = o.tty;
  p.console_size.reset();
  BRICK_TRY(oci::ValidateProcessObject(p), "exec");
  return p;
}

Result<int> ExecInContainer(const ExecRequest& req) {
  BRICK_TRY(ValidateContainerId(req.id));
  StateStore store(req.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(req.id));
  ContainerState state = BRICK_TRY_VALUE(dir.Load());
  ContainerStatus status = StatusOf(state, dir.dir());
  if (status == ContainerStatus::kPaused) {
    return Fail("container {} is paused; resume it before exec", req.id);
  }
  if (status != ContainerStatus::kCreated && status != ContainerStatus::kRunning) {
    return std::unexpected(Error(fmt::format("exec in container {}: container not running ({})",
                                             req.id, ContainerStatusName(status)),
                                 ESRCH));
  }
  oci::Spec spec = BRICK_TRY_VALUE(oci::LoadSpecFile(dir.ConfigPath()));
  if (req.process) {
    spec.process = *req.process;
  } else {
    if (!spec.process) {
      return Fail("{}: the container has no process to take defaults from; use --process",
                  dir.ConfigPath());
    }
    spec.process = BRICK_TRY_VALUE(ExecProcessFromConfig(*spec.process, req.overrides));
  }
  const oci::Process& p = *spec.process;
  if (req.policy) {
    BRICK_TRY(req.policy(spec), fmt::format("exec in container {}", req.id));
  }
  if (p.terminal && req.detach && req.console_socket.empty()) {
    return Fail(
        "exec --detach with a terminal needs --console-socket: nothing would be left "
        "to hold the pty");
  }
  if (!p.apparmor_profile.empty() || !p.selinux_label.empty()) {
    return Fail("process.apparmorProfile/selinuxLabel: no LSM is enabled on this host");
  }

  // The init, by a pidfd opened before its start time is checked: a pid the kernel has
  // meanwhile given to another process is never joined.
  UniqueFd init_pidfd(static_cast<int>(syscall(SYS_pidfd_open, state.pid, 0)));
  if (!init_pidfd || ProcessStartTime(state.pid).value_or(0) != state.pid_start_time) {
    return std::unexpected(
        Error(fmt::format("exec in container {}: container not running", req.id), ESRCH));
  }

  ExecPlan plan;
  plan.id = req.id;
  plan.init_pidfd = init_pidfd.get();
  int differ = BRICK_TRY_VALUE(DifferentNamespaces(state.pid));
  bool join_pid = differ & CLONE_NEWPID;
  plan.setns_flags = differ & ~CLONE_NEWPID;
  plan.join_user = differ & CLONE_NEWUSER;
  if (plan.join_user) {
    plan.root_mapped =
        MapsRoot(BRICK_TRY_VALUE(ReadFile(fmt::format("/proc/{}/uid_map", state.pid))));
  }
  plan.expected_parent = join_pid ? 0 : getpid();
  UniqueFd self_pidfd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (!self_pidfd) {
    return ErrnoFail(errno, "open a pidfd of brick itself");
  }
  plan.parent_pidfd = self_pidfd.get();
  bool setgroups_allowed = true;
  if (plan.join_user) {
    auto sg = ReadFile(fmt::format("/proc/{}/setgroups", state.pid));
    setgroups_allowed = !sg || sg->find("deny") == std::string::npos;
  }
  int last_cap = BRICK_TRY_VALUE(isolation::ReadCapLastCap());
  plan.caps = BRICK_TRY_VALUE(isolation::PlanCapabilities(p.capabilities, last_cap));
  plan.ids = BRICK_TRY_VALUE(isolation::PlanIds(p.user, setgroups_allowed));
  plan.rlimits = BRICK_TRY_VALUE(isolation::PlanRlimits(p.rlimits));
  BRICK_TRY(isolation::CheckCwd(p.cwd), "process.cwd");
  BRICK_TRY(isolation::CheckOomScoreAdj(p.oom_score_adj));
  // LISTEN_FDS belongs to the container's init (LISTEN_PID=1); an exec'd process gets
  // only what --preserve-fds passes.
  std::vector<std::string> unused_env;
  plan.fds = BRICK_TRY_VALUE(isolation::PlanFdHygiene(req.preserve_fds, {}, &unused_env));
  auto envp = BRICK_TRY_VALUE(isolation::ExecStrings::FromEnv(p.env));
  std::optional<std::string> path_env;
  if (auto path = envp.Get("PATH")) {
    path_env = std::string(*path);
  }
  plan.process.emplace(ProcessPlan{{},
                                   BRICK_TRY_VALUE(isolation::ExecStrings::FromArgs(p.args)),
                                   std::move(envp),
                                   p.cwd,
                                   isolation::UmaskOf(p.user),
                                   p.oom_score_adj,
                                   path_env});
  if (spec.linux.seccomp) {
    auto opts = BRICK_TRY_VALUE(seccomp::CompileOptionsFromAnnotations(spec.annotations));
    plan.seccomp = BRICK_TRY_VALUE(seccomp::FilterCache().Compile(*spec.linux.seccomp, opts));
    for (const std::string& w : plan.seccomp->warnings) {
      Warn(w);
    }
  }
  plan.no_new_privileges = p.no_new_privileges;
  plan.terminal = p.terminal;
  plan.console_size = p.console_size;
  plan.detached = req.detach;
  plan.close_in_child.push_back(dir.lock_fd());

  auto cgroup = BRICK_TRY_VALUE(AdoptContainerCgroup(state));
  auto [parent_end, child_end] = BRICK_TRY_VALUE(SyncSocket::Pair());
  std::optional<SignalForwarder> signals;
  if (!req.detach) {
    signals.emplace(BRICK_TRY_VALUE(SignalForwarder::Create()));
  }

  cgroup::SelfPlacement placement = BRICK_TRY_VALUE(cgroup->OpenSelfPlacement());
  plan.cgroup_placement = &placement;
  std::optional<PidNamespaceForChildren> in_pid_ns;
  if (join_pid) {
    in_pid_ns.emplace(BRICK_TRY_VALUE(PidNamespaceForChildren::Enter(init_pidfd.get())));
  }
  bool into_cgroup = false;
  auto cloned = CloneChildIntoCgroup(0, placement.unified_dir.get(), &into_cgroup);
  if (cloned && cloned->first == 0) {
    parent_end.Close();
    auto s = ExecChildSteps(plan, child_end);
    ReportChildFailure(child_end, plan.id, s.error());
  }
  if (in_pid_ns) {
    BRICK_TRY(in_pid_ns->Leave());
  }
  if (!cloned) {
    return std::unexpected(cloned.error());
  }
  ChildGuard child(cloned->first, std::move(cloned->second));
  child_end.Close();

  std::string context = fmt::format("exec in container {}", req.id);
  auto prefer_child_error = [&](Error parent_error) -> Error {
    auto early = parent_end.TryReceive();
    if (early && *early && (*early)->type == SyncMessage::kError) {
      return ChildError((*early)->payload).Wrap(context);
    }
    return std::move(parent_error).Wrap(context);
  };
  auto parent_steps = [&]() -> Status {
    if (p.oom_score_adj) {
      BRICK_TRY(WriteOomScoreAdj(child.pid(), *p.oom_score_adj));
    }
    if (!into_cgroup) {
      BRICK_TRY(cgroup->AddProcessToUnified(child.pid()),
                "place the process in the container's cgroup");
    }
    BRICK_TRY(parent_end.Send(SyncMessage::kGo));
    return Ok();
  };
  if (auto s = parent_steps(); !s) {
    return std::unexpected(prefer_child_error(std::move(s.error())));
  }

  UniqueFd master;
  bool detach_sent = false;
  while (true) {
    Received msg = BRICK_TRY_VALUE(parent_end.Receive());
    if (msg.type == SyncMessage::kConsole) {
      if (!req.console_socket.empty()) {
        BRICK_TRY(SendConsoleToSocket(req.console_socket, msg.fd.get()), context);
      } else {
        master = std::move(msg.fd);
      }
      continue;
    }
    if (msg.type == SyncMessage::kError) {
      return std::unexpected(ChildError(msg.payload).Wrap(context));
    }
    if (msg.type == SyncMessage::kReady && req.detach && !detach_sent) {
      BRICK_TRY(parent_end.Send(SyncMessage::kDetach));
      detach_sent = true;
      continue;
    }
    if (msg.type == SyncMessage::kDetached) {
      continue;
    }
    break;  // EOF: the process exec'd (the sync socket is close-on-exec)
  }
  if (!req.pid_file.empty()) {
    BRICK_TRY(
        WriteFileAtomic(req.pid_file, std::to_string(child.pid()), 0644, Durability::kRenameOnly),
        "--pid-file");
  }
  if (req.detach) {
    child.Release();
    return 0;
  }
  parent_end.Close();
  dir.Unlock();

  RawTerminal raw;
  if (master) {
    BRICK_TRY(raw.Enter(STDIN_FILENO));
  }
  WaitResult result =
      BRICK_TRY_VALUE(WaitForeground(child.pid(), child.pidfd(), *signals, master.get(), false));
  child.Reaped();
  return result.exit_status;
}

}  // namespace brick::runtime
