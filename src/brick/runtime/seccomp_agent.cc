#include "brick/runtime/seccomp_agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "brick/base/strings.h"
#include "brick/base/warning.h"
#include "brick/seccomp/explain.h"
#include "brick/seccomp/profile_json.h"
#include "brick/sys/fs.h"
#include "brick/sys/unix_socket.h"

namespace brick::runtime {
namespace {

constexpr size_t kReleasePage = 4096;
constexpr const char* kReleaseName = "brick-seccomp-release";
// A safety net, not a timing assumption: the init installs its filter microseconds after
// announcing it, and an init that fails says so or exits, which ends the wait sooner.
constexpr int kTakeDeadlineSeconds = 30;

timespec Now() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t;
}

template <typename T>
Result<T> WithContext(Result<T> r, std::string_view context) {
  if (!r) {
    return std::unexpected(std::move(r.error()).Wrap(context));
  }
  return r;
}

bool Exited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

// "N M" from the init: the listener's fd number and the release memfd's.
Result<std::pair<int, int>> ParseAnnouncement(std::string_view text) {
  std::vector<std::string> parts = Split(std::string(text), ' ');
  std::optional<int64_t> n = parts.size() == 2 ? ParseI64(parts[0]) : std::nullopt;
  std::optional<int64_t> m = parts.size() == 2 ? ParseI64(parts[1]) : std::nullopt;
  if (!n || !m || *n < 0 || *m < 0 || *n > 1 << 20 || *m > 1 << 20) {
    return Fail("the container init announced the seccomp listener as \"{}\", not \"N M\"", text);
  }
  return std::pair<int, int>(static_cast<int>(*n), static_cast<int>(*m));
}

std::string NotifiedSyscalls(const oci::Seccomp& s) {
  std::vector<std::string> names;
  for (const auto& rule : s.syscalls) {
    if (rule.action == "SCMP_ACT_NOTIFY") {
      names.insert(names.end(), rule.names.begin(), rule.names.end());
    }
  }
  std::string out;
  for (const std::string& n : names) {
    out += out.empty() ? n : ", " + n;
  }
  return out;
}

seccomp::SeccompEvent HandOffEvent(const ContainerState& state, const std::string& path,
                                   const std::string& names) {
  seccomp::SeccompEvent e;
  e.container_id = state.id;
  e.pid = state.pid;
  e.action = "notify-listener";
  e.detail = fmt::format("listener for {} handed to the seccomp agent at {}", names, path);
  return e;
}

// Event logs are a record, not a gate: a log that cannot be written is reported and the
// container goes on.
void AppendEvent(const std::string& path, const seccomp::SeccompEvent& e) {
  auto log = seccomp::EventLog::Open(path);
  if (!log) {
    Warn(fmt::format("seccomp events: {}", log.error().message()));
    return;
  }
  if (auto s = log->Append(e); !s) {
    Warn(fmt::format("seccomp events: {}", s.error().message()));
  }
}

Status CheckAgentSocket(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return ErrnoFail(errno, "linux.seccomp.listenerPath {}: start the seccomp agent first", path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return Fail("linux.seccomp.listenerPath {}: not a unix socket", path);
  }
  return Ok();
}

// The dangerous calls a learned profile allows, from explain's summary, or "".
std::string DangerousAllowed(const oci::Seccomp& profile) {
  auto program = seccomp::CompileFilter(profile);
  if (!program) {
    return "";
  }
  auto summary = seccomp::SummarizeFilter(*program, profile);
  if (!summary) {
    return "";
  }
  constexpr std::string_view kPrefix = "dangerous calls allowed: ";
  for (const std::string& line : Split(*summary, '\n')) {
    if (line.starts_with(kPrefix) && line != std::string(kPrefix) + "none") {
      return line.substr(kPrefix.size());
    }
  }
  return "";
}

}  // namespace

bool HandsListenerToAgent(const oci::Seccomp& seccomp) {
  if (seccomp.listener_path.empty()) {
    return false;
  }
  for (const auto& rule : seccomp.syscalls) {
    if (rule.action == "SCMP_ACT_NOTIFY") {
      return true;
    }
  }
  return false;
}

std::string DefaultEventsLog(const std::string& state_root) { return state_root + "/events.jsonl"; }

// ---------------------------------------------------------------------------------------
// ReleaseWord

Result<ReleaseWord> ReleaseWord::Create() {
  UniqueFd fd(memfd_create(kReleaseName, MFD_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "memfd_create {}", kReleaseName);
  }
  if (ftruncate(fd.get(), kReleasePage) != 0) {
    return ErrnoFail(errno, "size the seccomp release page");
  }
  return Map(std::move(fd));
}

Result<ReleaseWord> ReleaseWord::Map(UniqueFd memfd) {
  char target[128] = {};
  std::string link = fmt::format("/proc/self/fd/{}", memfd.get());
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  std::string expected = fmt::format("/memfd:{}", kReleaseName);
  struct stat st;
  if (n <= 0 || !std::string_view(target, static_cast<size_t>(n)).starts_with(expected) ||
      fstat(memfd.get(), &st) != 0 || st.st_size != static_cast<off_t>(kReleasePage)) {
    return Fail("the container init's seccomp release page is not brick's memfd");
  }
  void* p = mmap(nullptr, kReleasePage, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
  if (p == MAP_FAILED) {
    return ErrnoFail(errno, "map the seccomp release page");
  }
  return ReleaseWord(std::move(memfd), static_cast<uint32_t*>(p));
}

ReleaseWord::ReleaseWord(ReleaseWord&& other) noexcept
    : fd_(std::move(other.fd_)), word_(std::exchange(other.word_, nullptr)) {}

ReleaseWord::~ReleaseWord() {
  if (word_ != nullptr) {
    munmap(word_, kReleasePage);
  }
}

void ReleaseWord::Release() { __atomic_store_n(word_, 1u, __ATOMIC_RELEASE); }

// ---------------------------------------------------------------------------------------
// Taking and handing on

Result<UniqueFd> TakeFdFromInit(int pidfd, int number, const std::function<Status()>& init_failed) {
  timespec deadline = Now();
  deadline.tv_sec += kTakeDeadlineSeconds;
  for (;;) {
    int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, number, 0));
    if (fd >= 0) {
      return UniqueFd(fd);
    }
    if (errno == ESRCH) {
      return Fail("the container init exited before brick took its seccomp listener");
    }
    if (errno != EBADF) {
      return ErrnoFail(errno, "pidfd_getfd fd {} of the container init", number);
    }
    // Not there yet: the init is between its announcement and the install.
    BRICK_TRY(init_failed());
    if (Exited(pidfd)) {
      return Fail("the container init exited before brick took its seccomp listener");
    }
    timespec now = Now();
    if (now.tv_sec > deadline.tv_sec ||
        (now.tv_sec == deadline.tv_sec && now.tv_nsec > deadline.tv_nsec)) {
      return Fail("the container init did not install its seccomp filter within {} seconds",
                  kTakeDeadlineSeconds);
    }
    timespec pause{0, 20000};
    nanosleep(&pause, nullptr);
  }
}

std::string ContainerProcessStateJson(const ContainerState& state, ContainerStatus status,
                                      const std::string& metadata) {
  nlohmann::json j;
  j["ociVersion"] = oci::kSpecVersion;
  j["fds"] = {"seccompFd"};
  j["pid"] = state.pid;
  if (!metadata.empty()) {
    j["metadata"] = metadata;
  }
  nlohmann::json st = nlohmann::json::parse(OciStateJson(state, status));
  st["pid"] = state.pid;  // OciStateJson gives 0 unless the recorded init is alive
  j["state"] = std::move(st);
  return j.dump();
}

Status SendListenerToAgent(const std::string& listener_path, std::string_view state_json,
                           int listener_fd) {
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (listener_path.size() >= sizeof addr.sun_path) {
    return Fail("linux.seccomp.listenerPath {}: longer than a unix socket path may be ({} bytes)",
                listener_path, sizeof addr.sun_path - 1);
  }
  std::memcpy(addr.sun_path, listener_path.c_str(), listener_path.size() + 1);
  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return ErrnoFail(errno, "linux.seccomp.listenerPath: socket");
  }
  if (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoFail(errno, "linux.seccomp.listenerPath {}: connect to the seccomp agent",
                     listener_path);
  }
  BRICK_TRY(SendWithFd(sock.get(), state_json, listener_fd),
            fmt::format("linux.seccomp.listenerPath {}: send the container process state",
                        listener_path));
  return Ok();  // one state per connection: closing it ends the message
}

// ---------------------------------------------------------------------------------------
// ListenerHost

Result<std::unique_ptr<ListenerHost>> PrepareSeccompListener(const RunRequest& req,
                                                             oci::Spec* spec) {
  bool learning = !req.learn_profile.empty();
  if (req.learn_merge && !learning) {
    return Fail("--merge combines a --learn run with its existing profile; add --learn FILE");
  }
  std::optional<oci::Seccomp>& config = spec->linux.seccomp;
  if (!learning) {
    if (!config) {
      return std::unique_ptr<ListenerHost>();
    }
    if (!HandsListenerToAgent(*config)) {
      if (!config->listener_path.empty()) {
        // The spec: "If the SCMP_ACT_NOTIFY action is not used this value is ignored."
        Warn(fmt::format("linux.seccomp.listenerPath {} ignored: no rule uses SCMP_ACT_NOTIFY",
                         config->listener_path));
      }
      return std::unique_ptr<ListenerHost>();
    }
    BRICK_TRY(CheckAgentSocket(config->listener_path));
  } else {
#if !defined(__x86_64__)
    return Fail("--learn: only x86_64 hosts are supported");
#endif
    if (req.detach) {
      return Fail(
          "--learn records a container run in the foreground; it cannot be combined with "
          "--detach or used by brick create");
    }
    if (!spec->process->no_new_privileges) {
      return Fail(
          "--learn needs process.noNewPrivileges true: only then is the recording filter the "
          "init's last step before exec, so that none of brick's own syscalls are recorded "
          "(drop --unsafe-allow-new-privileges)");
    }
    std::filesystem::path out(req.learn_profile);
    std::error_code ec;
    std::filesystem::path dir = out.has_parent_path() ? out.parent_path() : ".";
    if (!std::filesystem::is_directory(dir, ec)) {
      return Fail("--learn {}: the directory {} does not exist", req.learn_profile, dir.string());
    }
    if (std::filesystem::exists(out, ec) && !std::filesystem::is_regular_file(out, ec)) {
      return Fail("--learn {}: not a regular file", req.learn_profile);
    }
  }

  auto host =
      std::unique_ptr<ListenerHost>(new ListenerHost(BRICK_TRY_VALUE(ReleaseWord::Create())));
  host->container_id_ = req.id;
  host->events_path_ = req.events_log.empty() ? DefaultEventsLog(req.state_root) : req.events_log;
  if (learning) {
    host->learning_ = true;
    host->learn_path_ = req.learn_profile;
    std::error_code ec;
    if (req.learn_merge && std::filesystem::exists(req.learn_profile, ec)) {
      std::string text = BRICK_TRY_VALUE(ReadFile(req.learn_profile));
      auto existing = seccomp::ParseOciSeccomp(text);
      if (!existing) {
        return std::unexpected(std::move(existing.error()).Wrap("--learn " + req.learn_profile));
      }
      auto seen = seccomp::ObservationsFromProfile(*existing);
      if (!seen) {
        return std::unexpected(std::move(seen.error()).Wrap("--learn " + req.learn_profile));
      }
      host->merge_base_ = std::move(*seen);
    }
    // Recorded, not enforced: the config's own filter is replaced, not stacked.
    config.reset();
  } else {
    host->listener_path_ = config->listener_path;
    host->listener_metadata_ = config->listener_metadata;
    host->notified_syscalls_ = NotifiedSyscalls(*config);
  }
  return host;
}

ListenerHost::~ListenerHost() { StopServing(); }

void ListenerHost::ConfigurePlan(std::optional<seccomp::BpfProgram>* program,
                                 ListenerHandOffPlan* plan) const {
  if (learning_) {
    *program = seccomp::RecordingProgram();
  }
  plan->enabled = true;
  plan->release_fd = release_.fd();
  plan->release_word = release_.word();
}

Status ListenerHost::TakeFromInit(std::string_view announcement, const ContainerState& state,
                                  int pidfd, const std::function<Status()>& init_failed) {
  auto [number, memfd] = BRICK_TRY_VALUE(ParseAnnouncement(announcement));
  if (memfd != release_.fd()) {
    return Fail("the container init announced release page fd {}, not {}", memfd, release_.fd());
  }
  UniqueFd listener = BRICK_TRY_VALUE(
      WithContext(TakeFdFromInit(pidfd, number, init_failed), "take the seccomp listener"));
  if (!seccomp::IsSeccompNotifyFd(listener.get())) {
    return Fail("fd {} of the container init is not a seccomp notify listener", number);
  }
  if (learning_) {
    UniqueFd stop(eventfd(0, EFD_CLOEXEC));
    if (!stop) {
      return ErrnoFail(errno, "--learn: eventfd");
    }
    auto log = seccomp::EventLog::Open(events_path_);
    if (log) {
      events_.emplace(std::move(*log));
      sink_.events = &*events_;
    } else {
      Warn(fmt::format("seccomp events: {}", log.error().message()));
    }
    sink_.container_id = container_id_;
    sink_.log_every_call = false;
    listener_ = std::move(listener);
    stop_ = std::move(stop);
    server_ = std::thread([this] { Serve(); });
  } else {
    BRICK_TRY(SendListenerToAgent(
        listener_path_,
        ContainerProcessStateJson(state, ContainerStatus::kCreating, listener_metadata_),
        listener.get()));
    AppendEvent(events_path_, HandOffEvent(state, listener_path_, notified_syscalls_));
  }
  release_.Release();
  return Ok();
}

// The learning thread. A thread rather than a fourth fd in WaitForeground's poll: the
// listener must be served from the moment it is taken, while the parent is still in its
// sync-socket loop (the init's execve is itself a notification, and the parent only sees
// EOF once it has been answered), through saving the state, to the end of the container.
void ListenerHost::Serve() {
  for (;;) {
    pollfd p[2] = {{listener_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      serve_error_ = ErrnoFail(errno, "--learn: poll the seccomp listener");
      break;
    }
    if ((p[0].revents & POLLIN) != 0) {
      if (auto s = seccomp::RecordAndContinue(listener_.get(), &sink_); !s) {
        serve_error_ = s;
        break;
      }
      continue;
    }
    if ((p[0].revents & (POLLHUP | POLLERR)) != 0) {
      return;  // no task uses the filter any more
    }
    if ((p[1].revents & POLLIN) != 0) {
      // The container's init is gone: answer what is still queued, then stop.
      pollfd q{listener_.get(), POLLIN, 0};
      while (poll(&q, 1, 0) > 0 && (q.revents & POLLIN) != 0) {
        if (!seccomp::RecordAndContinue(listener_.get(), &sink_)) {
          break;
        }
      }
      return;
    }
  }
  // Serving failed: closing the listener turns the workload's next calls into ENOSYS
  // instead of leaving them waiting for an answer that never comes.
  listener_.reset();
}

void ListenerHost::StopServing() {
  if (!server_.joinable()) {
    return;
  }
  uint64_t one = 1;
  (void)!write(stop_.get(), &one, sizeof one);
  server_.join();
}

Result<std::string> ListenerHost::Finish() {
  StopServing();
  listener_.reset();
  if (!learning_) {
    return std::string();
  }
  if (sink_.log_error) {
    Warn(fmt::format("seccomp events: {}", sink_.log_error->message()));
  }
  if (!serve_error_) {
    return std::unexpected(serve_error_.error());
  }
  if (sink_.notifications == 0) {
    return Fail("--learn {}: nothing was recorded (the container never exec'd); not written",
                learn_path_);
  }
  for (int nr : sink_.observed.unnamed) {
    Warn(fmt::format(
        "--learn: syscall {} has no name in libseccomp; the learned profile cannot allow it "
        "(it gets ENOSYS)",
        nr));
  }
  seccomp::Observations seen = merge_base_;
  seen.Merge(sink_.observed);
  oci::Seccomp profile = seccomp::ProfileFromObservations(seen);
  std::string json = seccomp::SeccompToJson(profile, true) + "\n";
  BRICK_TRY(WriteFileAtomic(learn_path_, json, 0644), "--learn " + learn_path_);
  std::string summary =
      fmt::format("{} syscalls observed ({} notifications){}; profile written to {}",
                  sink_.observed.syscalls.size(), sink_.notifications,
                  merge_base_.syscalls.empty()
                      ? ""
                      : fmt::format(", {} with the merged profile", seen.syscalls.size()),
                  learn_path_);
  std::string dangerous = DangerousAllowed(profile);
  if (!dangerous.empty()) {
    summary +=
        fmt::format("\nbrick: note: the learned profile allows dangerous calls: {}", dangerous);
  }
  return summary;
}

// ---------------------------------------------------------------------------------------
// brick start

namespace {

// Reads "N M\n" from exec.fifo (non-blocking) while the init lives.
Result<std::string> ReadAnnouncementFromFifo(int fifo_fd, int pidfd) {
  std::string line;
  for (;;) {
    pollfd p[2] = {{fifo_fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoFail(errno, "wait on exec.fifo for the seccomp listener");
    }
    if ((p[0].revents & (POLLIN | POLLHUP)) != 0) {
      char buf[64];
      ssize_t got = read(fifo_fd, buf, sizeof buf);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        continue;
      }
      if (got <= 0) {
        return Fail("the container init closed exec.fifo before it announced its seccomp listener");
      }
      line.append(buf, static_cast<size_t>(got));
      if (auto nl = line.find('\n'); nl != std::string::npos) {
        return line.substr(0, nl);
      }
      if (line.size() > 64) {
        return Fail("the container init wrote \"{}\" on exec.fifo, not a listener announcement",
                    line);
      }
      continue;
    }
    if ((p[1].revents & POLLIN) != 0) {
      return Fail("the container init exited before it announced its seccomp listener");
    }
  }
}

}  // namespace

Status HandOffListenerAtStart(const ContainerState& state, const oci::Spec& spec, int fifo_fd,
                              const std::string& events_log) {
  if (!spec.linux.seccomp || !HandsListenerToAgent(*spec.linux.seccomp)) {
    return Ok();
  }
  const oci::Seccomp& config = *spec.linux.seccomp;
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, state.pid, 0)));
  if (!pidfd) {
    return ErrnoFail(errno, "open the container init {}", state.pid);
  }
  if (ProcessStartTime(state.pid) != state.pid_start_time) {
    return Fail("container {}: its init {} is gone", state.id, state.pid);
  }
  // The workload must not run without its agent: any failure from here kills the init.
  struct KillUnlessReleased {
    int pidfd;
    bool released = false;
    ~KillUnlessReleased() {
      if (!released) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      }
    }
  } guard{pidfd.get()};
  std::string announcement = BRICK_TRY_VALUE(ReadAnnouncementFromFifo(fifo_fd, pidfd.get()));
  auto [number, memfd_number] = BRICK_TRY_VALUE(ParseAnnouncement(announcement));
  auto no_report = [] { return Ok(); };
  UniqueFd memfd = BRICK_TRY_VALUE(WithContext(TakeFdFromInit(pidfd.get(), memfd_number, no_report),
                                               "take the seccomp release page"));
  ReleaseWord release = BRICK_TRY_VALUE(ReleaseWord::Map(std::move(memfd)));
  UniqueFd listener = BRICK_TRY_VALUE(
      WithContext(TakeFdFromInit(pidfd.get(), number, no_report), "take the seccomp listener"));
  if (!seccomp::IsSeccompNotifyFd(listener.get())) {
    return Fail("fd {} of the container init is not a seccomp notify listener", number);
  }
  BRICK_TRY(SendListenerToAgent(
      config.listener_path,
      ContainerProcessStateJson(state, ContainerStatus::kCreated, config.listener_metadata),
      listener.get()));
  AppendEvent(events_log, HandOffEvent(state, config.listener_path, NotifiedSyscalls(config)));
  release.Release();
  guard.released = true;
  return Ok();
}

}  // namespace brick::runtime
