#include "brick/seccomp/learn.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "brick/base/strings.h"
#include "brick/sys/unique_fd.h"

extern char** environ;

namespace brick::seccomp {
namespace {

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
constexpr uint64_t kLow32 = 0xffffffffu;
constexpr uint64_t kSockTypeMask = 0xf;
constexpr uint32_t kX32Bit = 0x40000000;
// How long the parent waits for the child to install the filter before giving up.
constexpr int kHandOffMillis = 10000;

// Writes all of buf or _exits: only used in the child before exec.
void WriteOrDie(int fd, const void* buf, size_t len) {
  const char* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      _exit(126);
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

struct HandOff {
  char tag;  // 'F': listener fd number follows; 'E': errno of a failed step follows
  int32_t value;
  int32_t step;  // for 'E': which step failed
};

[[noreturn]] void ChildMain(int report_fd, const LearnOptions& opts, const char* exe,
                            char* const* argv, const sock_fprog* prog) {
  auto fail = [&](int step) {
    HandOff h{'E', errno, step};
    WriteOrDie(report_fd, &h, sizeof(h));
    _exit(126);
  };
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
    fail(0);
  }
  if (!opts.rootfs.empty() && (chroot(opts.rootfs.c_str()) != 0 || chdir("/") != 0)) {
    fail(1);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fail(2);
  }
  // The kernel gives the listener the lowest free fd; nothing runs between here and the
  // install, so this is its number.
  int probe = fcntl(report_fd, F_DUPFD_CLOEXEC, 0);
  if (probe < 0) {
    fail(3);
  }
  close(probe);
  HandOff h{'F', probe, 0};
  WriteOrDie(report_fd, &h, sizeof(h));
  long listener =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
  if (listener < 0) {
    // The parent is still waiting for the fd; this write is not filtered.
    fail(4);
  }
  execve(exe, argv, environ);
  // Under the filter now: the parent serves these notifications.
  fail(5);
  _exit(127);
}

std::string StepName(int step) {
  static constexpr const char* kSteps[] = {"set the parent-death signal",
                                           "chroot into the rootfs",
                                           "set no_new_privs",
                                           "find a free fd",
                                           "install the recording filter",
                                           "exec"};
  return step >= 0 && step < 6 ? kSteps[step] : "unknown step";
}

Result<std::string> ResolveExecutable(const LearnOptions& opts) {
  const std::string& name = opts.argv[0];
  if (name.find('/') != std::string::npos) {
    return name;
  }
  const char* path = getenv("PATH");
  std::string search = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const std::string& dir : Split(search, ':')) {
    if (dir.empty()) {
      continue;
    }
    std::string candidate = dir + "/" + name;
    if (access((opts.rootfs + candidate).c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return Fail("learn: {} not found in PATH{}", name,
              opts.rootfs.empty() ? "" : " inside " + opts.rootfs);
}

struct ChildReaper {
  pid_t pid = -1;
  int status = 0;
  bool reaped = false;
  ~ChildReaper() {
    if (pid > 0 && !reaped) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  bool TryReap(bool block) {
    if (reaped) {
      return true;
    }
    pid_t r;
    do {
      r = waitpid(pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    reaped = r == pid;
    return reaped;
  }
};

bool IsInetFamily(uint32_t family) { return family == AF_INET || family == AF_INET6; }

oci::SeccompArg Masked(uint32_t index, uint64_t mask, uint64_t value) {
  oci::SeccompArg a;
  a.index = index;
  a.op = "SCMP_CMP_MASKED_EQ";
  a.value = mask;
  a.value_two = value;
  return a;
}

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::vector<oci::SeccompArg> args = {},
                         std::optional<uint32_t> errno_ret = std::nullopt) {
  oci::SeccompSyscall r;
  r.names = std::move(names);
  r.action = std::move(action);
  r.args = std::move(args);
  r.errno_ret = errno_ret;
  return r;
}

}  // namespace

// Every native syscall notifies the parent, except clone3 (ENOSYS, so that libc falls back
// to clone and its flags are seen); other ABIs kill the process, as brick's profiles do.
std::vector<sock_filter> RecordingFilter() {
  return {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
}

BpfProgram RecordingProgram() {
  BpfProgram p;
  p.instructions = RecordingFilter();
  // No TSYNC: the installer is single-threaded, and TSYNC with NEW_LISTENER would also need
  // TSYNC_ESRCH.
  p.flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
  p.needs_listener = true;
  return p;
}

bool IsSeccompNotifyFd(int fd) {
  char target[64] = {};
  std::string link = fmt::format("/proc/self/fd/{}", fd);
  ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
  return n > 0 && std::string_view(target, static_cast<size_t>(n)) == "anon_inode:seccomp notify";
}

bool Record(const seccomp_notif& n, Observations* seen) {
  if (n.data.arch != AUDIT_ARCH_X86_64) {
    return false;
  }
  char* raw = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, n.data.nr);
  if (raw == nullptr) {
    return seen->unnamed.insert(n.data.nr).second;
  }
  std::string name(raw);
  free(raw);
  bool first = seen->syscalls.insert(name).second;
  if (name == "socket" || name == "socketpair") {
    seen->socket_families[name][static_cast<uint32_t>(n.data.args[0] & kLow32)].insert(
        static_cast<uint32_t>(n.data.args[1] & kSockTypeMask));
  } else if (name == "clone") {
    seen->clone_namespace_flags |= (n.data.args[0] & kNamespaceFlags) != 0;
  } else if (name == "personality") {
    seen->personalities.insert(static_cast<uint32_t>(n.data.args[0] & kLow32));
  }
  return first;
}

Status RecordAndContinue(int listener, RecordingSink* sink) {
  seccomp_notif notif;
  memset(&notif, 0, sizeof(notif));
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notif) != 0) {
    if (errno == EINTR || errno == ENOENT) {
      return Ok();  // the caller was killed before we read it
    }
    return ErrnoFail(errno, "learn: receive a notification");
  }
  ++sink->notifications;
  bool first = Record(notif, &sink->observed);
  // Answer before logging: the caller waits for the answer, not for the log.
  seccomp_notif_resp resp;
  memset(&resp, 0, sizeof(resp));
  resp.id = notif.id;
  resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT) {
    return ErrnoFail(errno, "learn: answer notification {}", notif.id);
  }
  if (sink->events != nullptr && (first || sink->log_every_call)) {
    SeccompEvent e = EventFromNotification(notif, sink->container_id);
    e.action = "learn";
    if (auto s = sink->events->Append(e); !s) {
      sink->log_error = std::move(s.error());
      sink->events = nullptr;
    }
  }
  return Ok();
}

void Observations::Merge(const Observations& other) {
  syscalls.insert(other.syscalls.begin(), other.syscalls.end());
  unnamed.insert(other.unnamed.begin(), other.unnamed.end());
  for (const auto& [call, families] : other.socket_families) {
    for (const auto& [family, types] : families) {
      auto& mine = socket_families[call][family];
      mine.insert(types.begin(), types.end());
    }
  }
  clone_namespace_flags |= other.clone_namespace_flags;
  personalities.insert(other.personalities.begin(), other.personalities.end());
}

Result<LearnResult> LearnSyscalls(const LearnOptions& opts) {
  if (opts.argv.empty()) {
    return Fail("learn: no command given; put it after --");
  }
  if (seccomp_arch_native() != SCMP_ARCH_X86_64) {
    return Fail("learn: only x86_64 hosts are supported");
  }
  std::string exe = BRICK_TRY_VALUE(ResolveExecutable(opts));
  std::vector<char*> argv;
  for (const std::string& a : opts.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<sock_filter> filter = RecordingFilter();
  sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return ErrnoFail(errno, "learn: pipe2");
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  ChildReaper child;
  child.pid = fork();
  if (child.pid < 0) {
    child.pid = -1;
    return ErrnoFail(errno, "learn: fork");
  }
  if (child.pid == 0) {
    read_end.reset();
    ChildMain(write_end.get(), opts, exe.c_str(), argv.data(), &prog);
  }
  write_end.reset();

  HandOff h{};
  size_t got = 0;
  while (got < sizeof(h)) {
    ssize_t n = read(read_end.get(), reinterpret_cast<char*>(&h) + got, sizeof(h) - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      child.TryReap(true);
      return Fail("learn: the child ended before installing the filter (wait status 0x{:x})",
                  child.status);
    }
    got += static_cast<size_t>(n);
  }
  if (h.tag == 'E') {
    child.TryReap(true);
    return ErrnoFail(h.value, "learn: child: {}", StepName(h.step));
  }

  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child.pid, 0)));
  if (!pidfd) {
    return ErrnoFail(errno, "learn: pidfd_open {}", child.pid);
  }
  // Until the child has installed the filter, fd h.value does not exist in it (EBADF).
  UniqueFd listener;
  for (int waited = 0;; ++waited) {
    int fd = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), h.value, 0));
    if (fd >= 0) {
      listener.reset(fd);
      if (!IsSeccompNotifyFd(fd)) {
        return Fail("learn: fd {} of the child is not a seccomp notify fd", h.value);
      }
      break;
    }
    if (errno != EBADF) {
      return ErrnoFail(errno, "learn: pidfd_getfd fd {} of child {}", h.value, child.pid);
    }
    if (child.TryReap(false) || waited > kHandOffMillis * 10) {
      HandOff e{};
      if (read(read_end.get(), &e, sizeof(e)) == sizeof(e) && e.tag == 'E') {
        return ErrnoFail(e.value, "learn: child: {}", StepName(e.step));
      }
      return Fail("learn: the child did not install the filter (wait status 0x{:x})", child.status);
    }
    timespec pause{0, 100000};
    nanosleep(&pause, nullptr);
  }

  RecordingSink sink;
  sink.events = opts.events;
  sink.container_id = opts.container_id;
  for (;;) {
    pollfd p[2] = {{listener.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    // Once the first process is reaped, its pidfd stays readable; stop watching it.
    int count = child.reaped ? 1 : 2;
    int rc = poll(p, static_cast<nfds_t>(count), -1);
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0) {
      return ErrnoFail(errno, "learn: poll the listener");
    }
    if (count == 2 && (p[1].revents & POLLIN) != 0) {
      child.TryReap(true);
    }
    if ((p[0].revents & POLLIN) != 0) {
      BRICK_TRY(RecordAndContinue(listener.get(), &sink));
      continue;
    }
    if ((p[0].revents & (POLLHUP | POLLERR)) != 0) {
      break;  // no task uses the filter any more
    }
  }
  if (sink.log_error) {
    return std::unexpected(std::move(*sink.log_error));
  }
  LearnResult result;
  result.observed = std::move(sink.observed);
  result.notifications = sink.notifications;
  child.TryReap(true);
  result.wait_status = child.status;
  HandOff e{};
  if (read(read_end.get(), &e, sizeof(e)) == sizeof(e) && e.tag == 'E') {
    return ErrnoFail(e.value, "learn: child: {} {}", StepName(e.step), exe);
  }
  return result;
}

oci::Seccomp ProfileFromObservations(const Observations& seen) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EPERM;
  p.architectures = {"SCMP_ARCH_X86_64"};
  p.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
  std::set<std::string> special = {"socket", "socketpair", "clone", "personality", "clone3"};
  std::vector<std::string> plain;
  for (const std::string& s : seen.syscalls) {
    if (!special.contains(s)) {
      plain.push_back(s);
    }
  }
  // The runtime's last step under the filter.
  if (!seen.syscalls.contains("execve")) {
    plain.push_back("execve");
  }
  std::sort(plain.begin(), plain.end());
  std::set<std::string> named(plain.begin(), plain.end());
  named.insert("clone3");
  if (!plain.empty()) {
    p.syscalls.push_back(Rule(plain, "SCMP_ACT_ALLOW"));
  }
  for (const auto& [call, families] : seen.socket_families) {
    named.insert(call);
    for (const auto& [family, types] : families) {
      if (!IsInetFamily(family) || types.empty()) {
        p.syscalls.push_back(Rule({call}, "SCMP_ACT_ALLOW", {Masked(0, kLow32, family)}));
        continue;
      }
      for (uint32_t type : types) {
        p.syscalls.push_back(Rule({call}, "SCMP_ACT_ALLOW",
                                  {Masked(0, kLow32, family), Masked(1, kSockTypeMask, type)}));
      }
    }
  }
  if (seen.syscalls.contains("clone")) {
    named.insert("clone");
    if (seen.clone_namespace_flags) {
      p.syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ALLOW"));
    } else {
      p.syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ALLOW", {Masked(0, kNamespaceFlags, 0)}));
    }
  }
  for (uint32_t persona : seen.personalities) {
    named.insert("personality");
    p.syscalls.push_back(Rule({"personality"}, "SCMP_ACT_ALLOW", {Masked(0, kLow32, persona)}));
  }
  p.syscalls.push_back(Rule({"clone3"}, "SCMP_ACT_ERRNO", {}, ENOSYS));
  std::vector<std::string> rest;
  for (int nr = 0; nr < 1024; ++nr) {
    char* raw = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (raw == nullptr) {
      continue;
    }
    std::string name(raw);
    free(raw);
    if (!named.contains(name)) {
      rest.push_back(name);
    }
  }
  if (!rest.empty()) {
    p.syscalls.push_back(Rule(rest, "SCMP_ACT_ERRNO", {}, EPERM));
  }
  return p;
}

Result<Observations> ObservationsFromProfile(const oci::Seccomp& profile) {
  Observations seen;
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const oci::SeccompSyscall& r = profile.syscalls[i];
    if (r.action != "SCMP_ACT_ALLOW") {
      continue;  // denials are the profile's horizon and clone3's ENOSYS
    }
    auto masked = [&](size_t k, uint32_t index, uint64_t mask) -> std::optional<uint64_t> {
      if (k < r.args.size() && r.args[k].index == index && r.args[k].op == "SCMP_CMP_MASKED_EQ" &&
          r.args[k].value == mask) {
        return r.args[k].value_two;
      }
      return std::nullopt;
    };
    if (r.args.empty()) {
      for (const std::string& name : r.names) {
        seen.syscalls.insert(name);
        if (name == "clone") {
          seen.clone_namespace_flags = true;
        }
      }
      continue;
    }
    bool understood = false;
    if (r.names.size() == 1) {
      const std::string& name = r.names[0];
      if ((name == "socket" || name == "socketpair") && r.args.size() <= 2) {
        auto family = masked(0, 0, kLow32);
        auto type = r.args.size() == 2 ? masked(1, 1, kSockTypeMask) : std::nullopt;
        if (family && (r.args.size() == 1 || type)) {
          auto& types = seen.socket_families[name][static_cast<uint32_t>(*family)];
          if (type) {
            types.insert(static_cast<uint32_t>(*type));
          }
          understood = true;
        }
      } else if (name == "clone" && r.args.size() == 1 && masked(0, 0, kNamespaceFlags) == 0u) {
        understood = true;
      } else if (name == "personality" && r.args.size() == 1) {
        if (auto v = masked(0, 0, kLow32)) {
          seen.personalities.insert(static_cast<uint32_t>(*v));
          understood = true;
        }
      }
      if (understood) {
        seen.syscalls.insert(name);
      }
    }
    if (!understood) {
      return Fail(
          "linux.seccomp.syscalls[{}]: an argument filter brick learn did not write; merge only "
          "profiles written by brick seccomp learn",
          i);
    }
  }
  return seen;
}

}  // namespace brick::seccomp
