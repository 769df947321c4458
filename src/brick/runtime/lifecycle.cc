#include "brick/runtime/lifecycle.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>

#include "brick/base/strings.h"
#include "brick/base/warning.h"
#include "brick/cgroup/layout.h"
#include "brick/cgroup/manager.h"
#include "brick/cgroup/path.h"
#include "brick/cgroup/update.h"
#include "brick/isolation/idmap_alloc.h"
#include "brick/runtime/container.h"
#include "brick/runtime/hooks.h"
#include "brick/runtime/seccomp_agent.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

// The wording engines match on ("container not running"), with ESRCH.
Error NotRunning(std::string_view action, const std::string& id) {
  return Error(fmt::format("{} container {}: container not running", action, id), ESRCH);
}

// Signals the init through a pidfd, after checking its start time, so that a pid the
// kernel has meanwhile given to another process is never signalled.
Status SignalInit(const ContainerState& s, int signal) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, s.pid, 0)));
  if (!pidfd) {
    if (errno == ESRCH) {
      return std::unexpected(NotRunning("signal", s.id));
    }
    return ErrnoFail(errno, "signal container {}: open a pidfd for pid {}", s.id, s.pid);
  }
  auto start = ProcessStartTime(s.pid);
  if (!start || *start != s.pid_start_time) {
    return std::unexpected(NotRunning("signal", s.id));  // the pid now belongs to another
  }
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) != 0) {
    return ErrnoFail(errno, "signal {} to container {}", signal, s.id);
  }
  return Ok();
}

bool Alive(ContainerStatus st) {
  return st == ContainerStatus::kCreated || st == ContainerStatus::kRunning ||
         st == ContainerStatus::kPaused;
}

}  // namespace

Result<int> ParseSignal(std::string_view text) {
  if (auto n = ParseI64(text)) {
    if (*n < 1 || *n > 64) {
      return Fail("signal {}: out of range; use 1 to 64 or a name such as TERM", text);
    }
    return static_cast<int>(*n);
  }
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (name.starts_with("SIG")) {
    name = name.substr(3);
  }
  for (int sig = 1; sig < 32; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && name == abbrev) {
      return sig;
    }
  }
  if (name.starts_with("RTMIN")) {
    int off = name.size() > 5 ? static_cast<int>(ParseI64(name.substr(6)).value_or(-1)) : 0;
    if (off >= 0 && SIGRTMIN + off <= SIGRTMAX) {
      return SIGRTMIN + off;
    }
  }
  return Fail("signal \"{}\": unknown; use a number 1 to 64 or a name such as TERM or KILL", text);
}

Result<std::unique_ptr<cgroup::Manager>> AdoptContainerCgroup(const ContainerState& s) {
  cgroup::Options opts;
  opts.parent = s.cgroup_parent;
  auto layout = BRICK_TRY_VALUE(cgroup::DetectLayout(opts.fs_root));
  auto path = BRICK_TRY_VALUE(cgroup::ResolveCgroupsPath(s.cgroups_path, s.id, opts));
  auto manager = BRICK_TRY_VALUE(cgroup::NewManager(layout, path, opts));
  BRICK_TRY(manager->AdoptExisting());
  return manager;
}

Status StartContainer(const LifecycleOptions& o, const std::string& id) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerState s = BRICK_TRY_VALUE(dir.Load());
  ContainerStatus st = StatusOf(s, dir.dir());
  if (st != ContainerStatus::kCreated) {
    return Fail("container {} is {}, not created; only a created container can be started", id,
                ContainerStatusName(st));
  }
  // Non-blocking open, then wait for the init's byte while it is alive: an init that
  // died meanwhile must not hang `start`.
  UniqueFd fifo(open(dir.FifoPath().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fifo) {
    return ErrnoFail(errno, "start container {}: open exec.fifo", id);
  }
  while (true) {
    struct pollfd p = {fifo.get(), POLLIN, 0};
    int n = poll(&p, 1, 100);
    if (n < 0 && errno != EINTR) {
      return ErrnoFail(errno, "start container {}: wait on exec.fifo", id);
    }
    if (n > 0 && (p.revents & POLLIN)) {
      char c;
      if (read(fifo.get(), &c, 1) == 1) {
        break;
      }
    }
    if (!InitAlive(s)) {
      return Fail("start container {}: its init exited before it could start", id);
    }
  }
  // Parse the stored config only when start has something to do with it: brick wrote
  // that file itself (SerializeSpec), so these keys appear literally when present.
  std::optional<oci::Spec> spec;
  std::string text = BRICK_TRY_VALUE(ReadFile(dir.ConfigPath()));
  if (text.find("\"poststart\"") != std::string::npos ||
      text.find("\"listenerPath\"") != std::string::npos) {
    spec = BRICK_TRY_VALUE(oci::ParseSpec(text));
  }
  // linux.seccomp.listenerPath: the listener goes to the agent before the workload runs.
  if (spec) {
    BRICK_TRY(HandOffListenerAtStart(s, *spec, fifo.get(), DefaultEventsLog(o.state_root)),
              fmt::format("start container {}", id));
  }
  if (unlink(dir.FifoPath().c_str()) != 0) {
    return ErrnoFail(errno, "start container {}: remove exec.fifo", id);
  }
  // The init holds its end of the fifo until the program's execve closes it (or it dies):
  // EOF means the program runs, which start promises and poststart hooks need.
  while (true) {
    char buf[64];
    ssize_t got = read(fifo.get(), buf, sizeof buf);
    if (got == 0) {
      break;
    }
    if (got < 0 && errno != EAGAIN && errno != EINTR) {
      return ErrnoFail(errno, "start container {}: wait for the program's exec", id);
    }
    if (got < 0) {
      struct pollfd p = {fifo.get(), POLLIN, 0};
      (void)poll(&p, 1, -1);
    }
  }
  if (spec && spec->hooks && !spec->hooks->poststart.empty()) {
    // The program runs. A failing poststart hook stops the container (lifecycle step 9);
    // the caller's `delete` then removes it and runs the poststop hooks.
    auto hooks =
        RunHooks(spec->hooks->poststart, "poststart", OciStateJson(s, ContainerStatus::kRunning));
    if (!hooks) {
      (void)SignalInit(s, SIGKILL);
      return std::unexpected(std::move(hooks.error()).Wrap(fmt::format("start container {}", id)));
    }
  }
  return Ok();
}

Result<ContainerInfo> InspectContainer(const LifecycleOptions& o, const std::string& id) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerInfo info;
  info.state = BRICK_TRY_VALUE(dir.Load());
  info.status = StatusOf(info.state, dir.dir());
  return info;
}

Result<std::vector<ContainerInfo>> ListContainers(const LifecycleOptions& o) {
  StateStore store(o.state_root);
  std::vector<ContainerInfo> out;
  for (const auto& id : BRICK_TRY_VALUE(store.List())) {
    auto info = InspectContainer(o, id);
    if (info) {
      out.push_back(std::move(*info));
    }  // deleted between listing and opening: not listed
  }
  return out;
}

Status KillContainer(const LifecycleOptions& o, const std::string& id, int signal, bool all) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerState s = BRICK_TRY_VALUE(dir.Load());
  ContainerStatus status = StatusOf(s, dir.dir());
  if (!Alive(status)) {
    return std::unexpected(NotRunning("signal", id));
  }
  if (!all) {
    return SignalInit(s, signal);
  }
  // Frozen, the container cannot fork a process the signal would miss. A paused container
  // stays frozen (the signal waits for resume), except for SIGKILL, which must take effect:
  // as with runc, the container is then thawed.
  auto manager = BRICK_TRY_VALUE(AdoptContainerCgroup(s));
  BRICK_TRY(manager->Freeze(), fmt::format("signal container {}: freeze it first", id));
  Status sent = Ok();
  auto pids = manager->Pids();
  if (!pids) {
    sent = std::unexpected(std::move(pids.error()));
  } else {
    for (pid_t pid : *pids) {
      if (kill(pid, signal) != 0 && errno != ESRCH) {
        sent = ErrnoFail(errno, "signal {} to pid {} of container {}", signal, pid, id);
        break;
      }
    }
  }
  if (status != ContainerStatus::kPaused || signal == SIGKILL) {
    BRICK_TRY(manager->Thaw(), fmt::format("signal container {}: thaw it again", id));
    if (status == ContainerStatus::kPaused) {
      s.paused = false;
      BRICK_TRY(dir.Save(s));
    }
  }
  return sent;
}

Status DeleteContainer(const LifecycleOptions& o, const std::string& id, bool force) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  auto opened = store.Open(id);
  if (!opened) {
    if (force && opened.error().errnum() == ENOENT) {
      store.RemoveStaging(id);
      // A directory without state.json is what a create killed before its first save
      // leaves; --force clears it too.
      std::error_code ec;
      std::filesystem::remove_all(o.state_root + "/" + id, ec);
      if (ec) {
        return Fail("delete container {}: remove {}/{}: {}", id, o.state_root, id, ec.message());
      }
      return Ok();
    }
    return std::unexpected(opened.error());
  }
  ContainerDir dir = std::move(*opened);
  auto loaded = dir.Load();
  if (!loaded) {
    if (force) {
      return dir.Remove();
    }
    return std::unexpected(loaded.error());
  }
  ContainerState s = *loaded;
  ContainerStatus st = StatusOf(s, dir.dir());
  if ((st == ContainerStatus::kRunning || st == ContainerStatus::kPaused) && !force) {
    return Fail("container {} is {}; stop it first or use delete --force", id,
                ContainerStatusName(st));
  }
  if (Alive(st)) {
    (void)SignalInit(s, SIGKILL);
  }
  auto manager = AdoptContainerCgroup(s);
  if (manager) {
    if (st == ContainerStatus::kPaused) {
      (void)(*manager)->Thaw();
    }
    BRICK_TRY((*manager)->Destroy(), fmt::format("delete container {}", id));
  } else if (Alive(st)) {
    // A live container whose cgroup cannot be found is worth an error; a stopped one's
    // cgroup may already be gone (swept after its brick was killed).
    return std::unexpected(std::move(manager.error()).Wrap(fmt::format("delete container {}", id)));
  }
  if (s.id_slot) {
    isolation::IdAllocatorOptions alloc;
    alloc.state_dir = o.state_root + "/.idmap";
    BRICK_TRY(isolation::FreeKeptSlot(alloc, *s.id_slot, dir.dir()));
  }
  // Parse the config only when it has poststop hooks: most have none, and delete is on
  // every engine's hot path.
  std::optional<oci::Spec> spec;
  if (auto text = ReadFile(dir.ConfigPath());
      text && text->find("\"poststop\"") != std::string::npos) {
    if (auto parsed = oci::ParseSpec(*text)) {
      spec = std::move(*parsed);
    }
  }
  BRICK_TRY(dir.Remove());
  // After the container is gone, before delete returns; failures are warnings.
  if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
    std::vector<std::string> warnings;
    RunHooksWarnOnly(spec->hooks->poststop, "poststop", OciStateJson(s, ContainerStatus::kStopped),
                     &warnings);
    for (const auto& w : warnings) {
      Warn(w);
    }
  }
  return Ok();
}

Result<std::vector<pid_t>> ContainerPids(const LifecycleOptions& o, const std::string& id) {
  ContainerInfo info = BRICK_TRY_VALUE(InspectContainer(o, id));
  if (!Alive(info.status)) {
    return std::vector<pid_t>{};
  }
  auto manager = BRICK_TRY_VALUE(AdoptContainerCgroup(info.state));
  return manager->Pids();
}

Result<std::unique_ptr<cgroup::Manager>> OpenLiveContainerCgroup(const LifecycleOptions& o,
                                                                 const std::string& id) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerState s = BRICK_TRY_VALUE(dir.Load());
  if (!Alive(StatusOf(s, dir.dir()))) {
    return std::unexpected(NotRunning("open the cgroup of", id));
  }
  return AdoptContainerCgroup(s);
}

Status UpdateContainer(const LifecycleOptions& o, const std::string& id,
                       const oci::Resources& resources) {
  BRICK_TRY(ValidateContainerId(id));
  // runc leaves device rules alone on update, and engines (podman) send the container's
  // whole resources object, devices included: applying those rules would replace the ones
  // brick added at create for the devices it made.
  oci::Resources limits = resources;
  limits.devices.clear();
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerState s = BRICK_TRY_VALUE(dir.Load());
  if (!Alive(StatusOf(s, dir.dir()))) {
    return std::unexpected(NotRunning("update", id));
  }
  cgroup::Options opts;
  opts.parent = s.cgroup_parent;
  return cgroup::UpdateContainerResources(id, s.cgroups_path, limits, opts);
}

Status PauseContainer(const LifecycleOptions& o, const std::string& id) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerState s = BRICK_TRY_VALUE(dir.Load());
  // runc pauses a created container too: its init, blocked before exec, is frozen.
  ContainerStatus status = StatusOf(s, dir.dir());
  if (status == ContainerStatus::kPaused) {
    return Fail("pause container {}: it is already paused", id);
  }
  if (status != ContainerStatus::kRunning && status != ContainerStatus::kCreated) {
    return std::unexpected(NotRunning("pause", id));
  }
  auto manager = BRICK_TRY_VALUE(AdoptContainerCgroup(s));
  BRICK_TRY(manager->Freeze(), fmt::format("pause container {}", id));
  s.paused = true;
  return dir.Save(s);
}

Status ResumeContainer(const LifecycleOptions& o, const std::string& id) {
  BRICK_TRY(ValidateContainerId(id));
  StateStore store(o.state_root);
  ContainerDir dir = BRICK_TRY_VALUE(store.Open(id));
  ContainerState s = BRICK_TRY_VALUE(dir.Load());
  if (StatusOf(s, dir.dir()) != ContainerStatus::kPaused) {
    return Fail("container {} is not paused", id);
  }
  auto manager = BRICK_TRY_VALUE(AdoptContainerCgroup(s));
  BRICK_TRY(manager->Thaw(), fmt::format("resume container {}", id));
  s.paused = false;
  return dir.Save(s);
}

}  // namespace brick::runtime
