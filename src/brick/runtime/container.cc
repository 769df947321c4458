#include "brick/runtime/container.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "brick/base/strings.h"
#include "brick/base/warning.h"
#include "brick/cgroup/manager.h"
#include "brick/isolation/hygiene.h"
#include "brick/isolation/idmap_alloc.h"
#include "brick/oci/spec.h"
#include "brick/runtime/console_socket.h"
#include "brick/runtime/default_spec.h"
#include "brick/runtime/foreground.h"
#include "brick/runtime/hooks.h"
#include "brick/runtime/init.h"
#include "brick/runtime/plan.h"
#include "brick/runtime/seccomp_agent.h"
#include "brick/runtime/seccomp_log_watch.h"
#include "brick/runtime/spawn.h"
#include "brick/runtime/state_store.h"
#include "brick/runtime/sync_socket.h"
#include "brick/seccomp/annotations.h"
#include "brick/seccomp/filter_cache.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

// The device cgroup must let the container open what brick itself put in /dev. Rules
// already in the config are not repeated.
void AllowCreatedDevices(const isolation::DevPlan& dev, oci::Resources* res) {
  auto allow = [res](char type, int64_t major, std::optional<int64_t> minor) {
    // "m" too: the init makes these nodes with mknod, and the parent may have moved it
    // into the cgroup by then (the placement overlaps the mount set-up).
    oci::DeviceCgroupRule rule{true, type, major, minor, "rwm"};
    for (const auto& r : res->devices) {
      if (r.allow && r.type == rule.type && r.major == rule.major && r.minor == rule.minor &&
          r.access.find('r') != std::string::npos && r.access.find('w') != std::string::npos &&
          r.access.find('m') != std::string::npos) {
        return;
      }
    }
    res->devices.push_back(rule);
  };
  for (const auto& d : dev.devices) {
    if (d.type != 'p') {
      allow(d.type == 'u' ? 'c' : d.type, d.major, d.minor);
    }
  }
  allow('c', 5, 2);               // /dev/pts/ptmx
  allow('c', 136, std::nullopt);  // /dev/pts/*
  allow('c', 5, 1);               // /dev/console (a pts bind)
}

bool MapsContainerRoot(const std::vector<oci::IdMapping>& maps) {
  for (const auto& m : maps) {
    if (m.container_id == 0) {
      return true;
    }
  }
  return false;
}

Result<ContainerPlan> PlanContainer(const oci::Spec& spec, const RunRequest& req,
                                    const cgroup::Manager& cg) {
  ContainerPlan plan;
  plan.spec = &spec;
  plan.id = req.id;
  const oci::Process& p = *spec.process;
  const oci::Linux& lx = spec.linux;
  plan.ns = BRICK_TRY_VALUE(isolation::PlanNamespaces(lx));
  bool in_userns = plan.ns.new_user || plan.ns.join_user;
  plan.root_mapped = !plan.ns.new_user || MapsContainerRoot(lx.uid_mappings);

  plan.rootfs = BRICK_TRY_VALUE(isolation::PlanRootfs(spec, req.bundle_dir));
  for (const auto& h : cg.Paths()) {
    // Inside the container each hierarchy appears under the name it has on the host.
    std::string name = std::filesystem::path(h.mount_point).filename().string();
    plan.rootfs.cgroup_binds.push_back(isolation::CgroupBind{name, h.dir});
  }
  plan.rootfs.cgroup_v2_only = cg.version() == cgroup::Version::kV2;
  plan.dev = BRICK_TRY_VALUE(isolation::PlanDevices(spec, in_userns));

  int last_cap = BRICK_TRY_VALUE(isolation::ReadCapLastCap());
  plan.caps = BRICK_TRY_VALUE(isolation::PlanCapabilities(p.capabilities, last_cap));
  plan.ids = BRICK_TRY_VALUE(isolation::PlanIds(p.user));
  plan.rlimits = BRICK_TRY_VALUE(isolation::PlanRlimits(p.rlimits));
  isolation::SysctlNamespaces sysctl_ns;
  // A namespace joined by path is the container's own too (an engine prepared it); the
  // validator has already refused paths that name the host's.
  sysctl_ns.new_ipc = (plan.ns.clone_flags | plan.ns.child_unshare_flags) & CLONE_NEWIPC;
  sysctl_ns.new_net = plan.ns.new_net;
  for (const auto& j : plan.ns.join_in_parent) {
    sysctl_ns.new_ipc |= j.type == oci::NamespaceType::kIpc;
    sysctl_ns.new_net |= j.type == oci::NamespaceType::kNetwork;
  }
  plan.sysctl = BRICK_TRY_VALUE(isolation::PlanSysctls(lx.sysctl, sysctl_ns));
  isolation::HostLsms lsms = BRICK_TRY_VALUE(isolation::DetectHostLsms());
  plan.lsm = BRICK_TRY_VALUE(isolation::PlanLsm(
      lsms, isolation::LsmRequest{p.apparmor_profile, p.selinux_label, lx.mount_label}));
  if (!plan.lsm.mount_context_option.empty()) {
    plan.rootfs.mount_label = lx.mount_label;
  }

  BRICK_TRY(isolation::CheckCwd(p.cwd), "process.cwd");
  BRICK_TRY(isolation::CheckOomScoreAdj(p.oom_score_adj));
  std::vector<std::string> env = p.env;
  if (req.listen_fds > 0) {
    std::erase_if(env, [](const std::string& e) { return e.starts_with("LISTEN_FDS="); });
    env.push_back(fmt::format("LISTEN_FDS={}", req.listen_fds));
  }
  plan.fds = BRICK_TRY_VALUE(isolation::PlanFdHygiene(req.listen_fds + req.preserve_fds, {}, &env));
  auto envp = BRICK_TRY_VALUE(isolation::ExecStrings::FromEnv(std::move(env)));
  std::optional<std::string> path_env;
  if (auto path = envp.Get("PATH")) {
    path_env = std::string(*path);
  }
  plan.process.emplace(ProcessPlan{
      BRICK_TRY_VALUE(isolation::PlanUts(spec.hostname, spec.domainname, plan.ns.new_uts)),
      BRICK_TRY_VALUE(isolation::ExecStrings::FromArgs(p.args)), std::move(envp), p.cwd,
      isolation::UmaskOf(p.user), p.oom_score_adj, path_env});

  if (lx.seccomp) {
    // The compiled program is cached on disk by a hash of the profile, libseccomp, the
    // kernel and the arch: a repeated start skips libseccomp (filter_cache.h).
    auto opts = BRICK_TRY_VALUE(seccomp::CompileOptionsFromAnnotations(spec.annotations));
    plan.seccomp = BRICK_TRY_VALUE(seccomp::FilterCache().Compile(*lx.seccomp, opts));
    for (const std::string& w : plan.seccomp->warnings) {
      Warn(w);
    }
  }
  bool pid_ns_elsewhere = plan.ns.new_pid;
  for (const auto& j : plan.ns.join_in_parent) {
    pid_ns_elsewhere |= j.type == oci::NamespaceType::kPid;
  }
  plan.expected_parent = pid_ns_elsewhere ? 0 : getpid();
  plan.secrets = BRICK_TRY_VALUE(LoadSecrets(spec));
  plan.no_new_privileges = p.no_new_privileges;
  plan.terminal = p.terminal;
  if (spec.hooks) {
    const oci::Hooks& h = *spec.hooks;
    plan.create_container_hooks = h.create_container;
    plan.start_container_hooks = h.start_container;
    plan.hooks_barrier = !h.prestart.empty() || !h.create_runtime.empty() ||
                         !h.create_container.empty() || !h.start_container.empty();
  }
  return plan;
}

// CVE-2019-5736: a container that can gain write access to the brick binary (no user
// namespace, or one that maps the binary's owner) could overwrite it through
// /proc/<pid>/exe. brick then re-executes itself from a sealed, read-only memfd copy,
// so that /proc/<pid>/exe never leads to the file on disk. In brick's defaults the
// binary's owner is unmapped, so this costs nothing.
Status ProtectRuntimeBinary(const oci::Spec& spec) {
  if (isolation::SealedReexecMarkerSet()) {
    return Ok();
  }
  struct stat st;
  if (stat("/proc/self/exe", &st) != 0) {
    return ErrnoFail(errno, "stat /proc/self/exe");
  }
  const oci::Namespace* userns = spec.linux.FindNamespace(oci::NamespaceType::kUser);
  isolation::IdMappingPlan idmap{userns != nullptr, spec.linux.uid_mappings,
                                 spec.linux.gid_mappings};
  // A joined user namespace's mappings are not in the config: assume the worst.
  bool joined = userns != nullptr && !userns->path.empty();
  if (!joined && !isolation::RuntimeBinaryWritableFromContainer(idmap, st.st_uid, st.st_gid)) {
    return Ok();
  }
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && getenv("BRICK_ORIGINAL_EXE") == nullptr) {
    setenv("BRICK_ORIGINAL_EXE", exe.c_str(), 1);
  }
  auto cmdline = BRICK_TRY_VALUE(ReadFile("/proc/self/cmdline"));
  std::vector<std::string> args = Split(cmdline, '\0');
  if (!args.empty() && args.back().empty()) {
    args.pop_back();
  }
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  return isolation::ReexecFromSealedMemfd(argv.data(), environ);
}

// exec.fifo: the init opens it for writing (which blocks) and `brick start` for reading.
// It belongs to the container's root, which is who opens it inside the user namespace.
Status MakeExecFifo(const std::string& path, const oci::Spec& spec) {
  if (mkfifo(path.c_str(), 0600) != 0) {
    return ErrnoFail(errno, "mkfifo {}", path);
  }
  uid_t uid = 0;
  gid_t gid = 0;
  for (const auto& m : spec.linux.uid_mappings) {
    if (m.container_id == 0) uid = m.host_id;
  }
  for (const auto& m : spec.linux.gid_mappings) {
    if (m.container_id == 0) gid = m.host_id;
  }
  if (chown(path.c_str(), uid, gid) != 0) {
    return ErrnoFail(errno, "chown {} to {}:{}", path, uid, gid);
  }
  return Ok();
}

// A foreground `brick run` removes its state when it ends; one killed with SIGKILL could
// not. Its state is swept here once its init is gone (the init dies with brick). Detached
// containers are left for `brick delete`, as engines expect to read their stopped state.
void SweepStaleForegroundState(const std::string& root) {
  StateStore store(root);
  store.RemoveAbandoned();
  auto ids = store.List();
  if (!ids) {
    return;
  }
  for (const auto& id : *ids) {
    // Never wait on another brick's lock here: a busy container is not stale.
    auto dir = store.TryOpen(id);
    if (!dir || !*dir) {
      continue;
    }
    auto st = (*dir)->Load();
    if (st && st->foreground && StatusOf(*st, (*dir)->dir()) == ContainerStatus::kStopped) {
      (void)(*dir)->Remove();
    }
  }
}

}  // namespace

Status ValidateContainerId(const std::string& id) {
  if (id.empty() || id.size() > 128) {
    return Fail("container id \"{}\": must be 1 to 128 characters", id);
  }
  if (id[0] == '.' || id[0] == '-') {
    return Fail("container id \"{}\": must start with a letter, digit or '_'", id);
  }
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return Fail("container id \"{}\": only letters, digits, '_', '.' and '-' are allowed", id);
    }
  }
  return Ok();
}

std::string GenerateContainerId() {
  std::random_device rd;
  return fmt::format("{:06x}{:06x}", rd() & 0xffffff, rd() & 0xffffff);
}

Result<int> RunContainer(const RunRequest& req) {
  BRICK_TRY(ValidateContainerId(req.id));
  cgroup::Options cg_opts;
  cg_opts.parent = req.cgroup_parent;
  auto layout = BRICK_TRY_VALUE(cgroup::DetectLayout(cg_opts.fs_root));
  // A brick killed with SIGKILL could not remove its container's cgroup; every run sweeps
  // brick's parent for such leftovers. Only empty cgroups older than kStaleMinAge go, so a
  // concurrent brick between creating its cgroup and moving its init in keeps its own.
  // Best effort: a leftover must not stop this container, and the next run tries again.
  if (auto swept = cgroup::CleanupStale(layout, cg_opts, {}, cgroup::kStaleMinAge); !swept) {
    Warn(swept.error().message());
  }
  oci::Spec spec = req.spec;
  BRICK_TRY(oci::ValidateSpec(spec));
  if (!spec.process) {
    return Fail("process: a container needs a process to run; add process.args");
  }

  // CVE-2019-5736: when the container could write the brick binary, brick re-executes
  // itself from a sealed copy. That must happen before anything is changed, since the
  // re-executed brick starts over.
  BRICK_TRY(ProtectRuntimeBinary(spec));
  SweepStaleForegroundState(req.state_root);
  // --learn and linux.seccomp.listenerPath: checked now, served once the init runs.
  std::unique_ptr<ListenerHost> listener_host = BRICK_TRY_VALUE(PrepareSeccompListener(req, &spec));

  // The container's state directory: a second create of the same id stops here, and
  // until the container is up, every failure removes the directory again.
  StateStore store(req.state_root);
  ContainerDir state_dir = BRICK_TRY_VALUE(store.Create(req.id));
  struct RemoveUnlessKept {
    ContainerDir* dir;
    bool keep = false;
    ~RemoveUnlessKept() {
      if (!keep) {
        (void)dir->Remove();
      }
    }
  } state_guard{&state_dir};

  // A per-container host id range when the config asks brick to pick one.
  std::optional<isolation::IdRangeLease> lease;
  auto auto_userns = spec.annotations.find(kAutoUsernsAnnotation);
  const oci::Namespace* userns = spec.linux.FindNamespace(oci::NamespaceType::kUser);
  isolation::IdAllocatorOptions alloc;
  alloc.state_dir = req.state_root + "/.idmap";
  if (auto_userns != spec.annotations.end() && auto_userns->second == "auto" && userns &&
      userns->path.empty()) {
    lease.emplace(BRICK_TRY_VALUE(isolation::AllocateIdRange(alloc)));
    spec.linux.uid_mappings = lease->UidMappings();
    spec.linux.gid_mappings = lease->GidMappings();
  }

  auto cg_path =
      BRICK_TRY_VALUE(cgroup::ResolveCgroupsPath(spec.linux.cgroups_path, req.id, cg_opts));
  auto manager = BRICK_TRY_VALUE(cgroup::NewManager(layout, cg_path, cg_opts));
  ContainerPlan plan = BRICK_TRY_VALUE(PlanContainer(spec, req, *manager));
  oci::Resources resources = spec.linux.resources.value_or(oci::Resources{});
  if (!resources.devices.empty() || spec.linux.resources) {
    AllowCreatedDevices(plan.dev, &resources);
  }
  BRICK_TRY(manager->Validate(resources));
  if (listener_host) {
    listener_host->ConfigurePlan(&plan.seccomp, &plan.listener);
  }

  // From here on the system changes; every resource below undoes itself.
  ContainerState state;
  state.id = req.id;
  state.bundle = req.bundle_dir;
  state.created = NowRfc3339();
  state.annotations = spec.annotations;
  state.cgroup_parent = req.cgroup_parent;
  state.cgroups_path = spec.linux.cgroups_path;
  state.foreground = !req.detach;
  state.creator_pid = getpid();
  state.creator_start_time = ProcessStartTime(getpid()).value_or(0);
  BRICK_TRY(state_dir.Save(state));
  BRICK_TRY(WriteFileAtomic(state_dir.ConfigPath(), oci::SerializeSpec(spec), 0600,
                            Durability::kRenameOnly));
  UniqueFd fifo;
  if (req.detach) {
    BRICK_TRY(MakeExecFifo(state_dir.FifoPath(), spec), "create exec.fifo");
    fifo.reset(open(state_dir.FifoPath().c_str(), O_PATH | O_CLOEXEC));
    if (!fifo) {
      return ErrnoFail(errno, "open {}", state_dir.FifoPath());
    }
    plan.detached = true;
    plan.exec_fifo = fifo.get();
  }

  plan.close_in_child.push_back(state_dir.lock_fd());
  if (lease) {
    plan.close_in_child.push_back(lease->lock_fd());
  }

  // poststop hooks run once the container is gone: at the end of a foreground run, or
  // when a create fails after the init existed (runtime.md, lifecycle step 12-13). For a
  // created container `brick delete` runs them. Declared before the cgroup and the child,
  // so it runs after they have been destroyed.
  struct PoststopHooks {
    const oci::Spec* spec;
    ContainerState* state;
    bool armed = false;
    ~PoststopHooks() {
      if (!armed || !spec->hooks || spec->hooks->poststop.empty()) {
        return;
      }
      std::vector<std::string> warnings;
      RunHooksWarnOnly(spec->hooks->poststop, "poststop",
                       OciStateJson(*state, ContainerStatus::kStopped), &warnings);
      for (const auto& w : warnings) {
        Warn(w);
      }
    }
  } poststop{&spec, &state};

  cgroup::ScopedCgroup cgroup(std::move(manager));
  BRICK_TRY(cgroup->Create());
  BRICK_TRY(cgroup->Apply(resources));
  auto [parent_end, child_end] = BRICK_TRY_VALUE(SyncSocket::Pair());
  std::optional<SignalForwarder> signals;
  if (!req.detach) {
    signals.emplace(BRICK_TRY_VALUE(SignalForwarder::Create()));
  }

  if (plan.ns.new_user || plan.ns.join_user) {
    BRICK_TRY(isolation::CreateRootfsMountTargets(plan.rootfs));
  }
  // The init places itself (self_placement.h): no global cgroup lock on the way in.
  // Opened before brick joins any namespace, so the paths are the host's.
  cgroup::SelfPlacement placement = BRICK_TRY_VALUE(cgroup->OpenSelfPlacement());
  plan.cgroup_placement = &placement;
  // The init watches this to notice brick's death wherever its parent-death signal was
  // cleared by a change of credentials.
  UniqueFd self_pidfd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (!self_pidfd) {
    return ErrnoFail(errno, "open a pidfd of brick itself");
  }
  plan.parent_pidfd = self_pidfd.get();
  std::vector<isolation::JoinedNamespace> restore;
  BRICK_TRY(isolation::JoinNamespacesInParent(plan.ns, &restore));
  // The init starts in the rootfs (see MountRootfs): brick enters it for the clone only.
  UniqueFd cwd(open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cwd || chdir(plan.rootfs.rootfs.c_str()) != 0) {
    return ErrnoFail(errno, "root.path: enter {}", plan.rootfs.rootfs);
  }
  bool into_cgroup = false;
  auto cloned =
      CloneChildIntoCgroup(plan.ns.clone_flags, placement.unified_dir.get(), &into_cgroup);
  if (cloned && cloned->first != 0 && fchdir(cwd.get()) != 0) {
    return ErrnoFail(errno, "return to brick's working directory");
  }
  if (cloned && cloned->first == 0) {
    parent_end.Close();
    RunContainerInit(plan, child_end);
  }
  BRICK_TRY(isolation::RestoreParentNamespaces(&restore));
  if (!cloned) {
    return std::unexpected(cloned.error());
  }
  ChildGuard child(cloned->first, std::move(cloned->second));
  child_end.Close();
  state.pid = child.pid();
  poststop.armed = true;
  // Logged seccomp actions become events (seccomp_log_watch.h). Started after the clone:
  // a second thread would forbid the setns calls above; the init runs nothing of the
  // container before kGo.
  std::unique_ptr<SeccompLogWatch> log_watch;
  bool watch_log = spec.linux.seccomp && SeccompProfileLogs(*spec.linux.seccomp) &&
                   plan.ns.new_user && !spec.linux.uid_mappings.empty();
  if (!req.detach && watch_log) {
    const oci::IdMapping& m = spec.linux.uid_mappings.front();
    auto started = SeccompLogWatch::Start(
        req.id, m.host_id, m.size,
        req.events_log.empty() ? DefaultEventsLog(req.state_root) : req.events_log);
    if (started) {
      log_watch = std::move(*started);
    } else {
      Warn(fmt::format("logged seccomp actions will not be recorded: {}",
                       started.error().message()));
    }
  }

  // An init that failed while the parent was busy has already said why, which explains
  // more than the parent's own "broken pipe" or "no such process" would.
  std::string context = fmt::format("{} container {}", req.detach ? "create" : "start", req.id);
  auto prefer_child_error = [&](Error parent_error) -> Error {
    auto early = parent_end.TryReceive();
    if (early && *early && (*early)->type == SyncMessage::kError) {
      return ChildError((*early)->payload).Wrap(context);
    }
    return std::move(parent_error).Wrap(context);
  };
  auto parent_steps = [&]() -> Status {
    if (plan.ns.new_user) {
      BRICK_TRY(isolation::WriteIdMappings(child.pid(), spec.linux.uid_mappings,
                                           spec.linux.gid_mappings));
    }
    BRICK_TRY(parent_end.Send(SyncMessage::kGo));
    if (!into_cgroup) {
      BRICK_TRY(cgroup->AddProcessToUnified(child.pid()), "place the container in its cgroup");
    }
    BRICK_TRY(parent_end.Send(SyncMessage::kPlaced));
    return Ok();
  };
  if (auto s = parent_steps(); !s) {
    return std::unexpected(prefer_child_error(std::move(s.error())));
  }

  UniqueFd master;
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
    if (msg.type == SyncMessage::kHooks) {
      // The init's mounts are ready and it has not pivoted: the runtime-namespace hooks.
      state.pid_start_time = ProcessStartTime(child.pid()).value_or(0);
      std::string json = OciStateJson(state, ContainerStatus::kCreating);
      if (json.size() > kMaxSyncPayload) {
        return Fail("{}: the state JSON for hooks is {} bytes, over {}; shorten the annotations",
                    context, json.size(), kMaxSyncPayload);
      }
      const oci::Hooks& h = *spec.hooks;
      BRICK_TRY(RunHooks(h.prestart, "prestart", json), context);
      BRICK_TRY(RunHooks(h.create_runtime, "createRuntime", json), context);
      BRICK_TRY(parent_end.Send(SyncMessage::kHooksDone, json), context);
      continue;
    }
    if (msg.type == SyncMessage::kSeccompListener && listener_host) {
      ContainerState creating = state;
      creating.pid = child.pid();
      auto init_failed = [&]() -> Status {
        auto early = parent_end.TryReceive();
        if (early && *early && (*early)->type == SyncMessage::kError) {
          return std::unexpected(ChildError((*early)->payload));
        }
        return Ok();
      };
      BRICK_TRY(listener_host->TakeFromInit(msg.payload, creating, child.pidfd(), init_failed),
                context);
      continue;
    }
    break;  // kReady (detached), or EOF: the init exec'd the container process
  }

  state.pid = child.pid();
  state.pid_start_time = ProcessStartTime(child.pid()).value_or(0);
  if (lease) {
    state.id_slot = lease->slot();
  }
  BRICK_TRY(state_dir.Save(state));
  if (!req.pid_file.empty()) {
    BRICK_TRY(
        WriteFileAtomic(req.pid_file, std::to_string(child.pid()), 0644, Durability::kRenameOnly),
        "--pid-file");
  }

  if (req.detach) {
    // Hand everything over to the container: its id range, its cgroup and its init.
    if (lease) {
      BRICK_TRY(lease->KeepFor(state_dir.dir()));
    }
    if (watch_log) {
      // No brick stays with a created container: a watcher process of its own records.
      const oci::IdMapping& m = spec.linux.uid_mappings.front();
      if (auto st = SpawnDetachedLogWatch(
              req.id, m.host_id, m.size,
              req.events_log.empty() ? DefaultEventsLog(req.state_root) : req.events_log,
              child.pidfd());
          !st) {
        Warn(fmt::format("logged seccomp actions will not be recorded: {}", st.error().message()));
      }
    }
    BRICK_TRY(parent_end.Send(SyncMessage::kDetach));
    Received ack = BRICK_TRY_VALUE(parent_end.Receive());
    if (ack.type != SyncMessage::kDetached) {
      return std::unexpected(prefer_child_error(Error("the init did not detach")));
    }
    (void)cgroup.Release();
    child.Release();
    state_guard.keep = true;
    poststop.armed = false;  // `brick delete` runs them
    return 0;
  }
  parent_end.Close();
  state_dir.Unlock();  // brick kill, state and ps may now act on the running container
  if (spec.hooks && !spec.hooks->poststart.empty()) {
    // The program runs; a failing poststart hook stops it (lifecycle step 9).
    BRICK_TRY(RunHooks(spec.hooks->poststart, "poststart",
                       OciStateJson(state, ContainerStatus::kRunning)),
              context);
  }

  RawTerminal raw;
  if (master) {
    BRICK_TRY(raw.Enter(STDIN_FILENO));
  }
  WaitResult result = BRICK_TRY_VALUE(
      WaitForeground(child.pid(), child.pidfd(), *signals, master.get(), plan.ns.new_pid));
  child.Reaped();
  log_watch.reset();  // takes what the kernel logged up to the exit
  if (listener_host) {
    std::string learned = BRICK_TRY_VALUE(listener_host->Finish());
    if (!learned.empty()) {
      fmt::print(stderr, "brick: {}\n", learned);
    }
  }
  if (result.signaled && result.signal == SIGKILL) {
    auto oom = cgroup->OomKilled();
    if (oom && *oom) {
      auto stats = cgroup->ReadStats();
      std::string limit = stats && stats->memory && stats->memory->limit
                              ? fmt::format("{} bytes", *stats->memory->limit)
                              : "unknown";
      fmt::print(stderr, "brick: container {} was killed by the OOM killer (memory limit {})\n",
                 req.id, limit);
    }
  }
  return result.exit_status;
}

}  // namespace brick::runtime
