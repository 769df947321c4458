#include "brick/runtime/seccomp_log_watch.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "brick/seccomp/audit_record.h"
#include "brick/seccomp/event_log.h"

namespace brick::runtime {

bool SeccompProfileLogs(const oci::Seccomp& seccomp) {
  if (seccomp.default_action == "SCMP_ACT_LOG") {
    return true;
  }
  for (const auto& f : seccomp.flags) {
    if (f == "SECCOMP_FILTER_FLAG_LOG") {
      return true;
    }
  }
  for (const auto& s : seccomp.syscalls) {
    if (s.action == "SCMP_ACT_LOG") {
      return true;
    }
  }
  return false;
}

Result<std::unique_ptr<SeccompLogWatch>> SeccompLogWatch::Start(std::string container_id,
                                                                uint32_t uid_first,
                                                                uint32_t uid_count,
                                                                std::string events_log) {
  std::unique_ptr<SeccompLogWatch> w(new SeccompLogWatch());
  w->id_ = std::move(container_id);
  w->uid_first_ = uid_first;
  w->uid_count_ = uid_count;
  w->events_log_ = std::move(events_log);
  w->kmsg_.reset(open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!w->kmsg_) {
    return ErrnoFail(errno, "open /dev/kmsg to record logged seccomp actions");
  }
  if (lseek(w->kmsg_.get(), 0, SEEK_END) < 0) {
    return ErrnoFail(errno, "seek to the end of /dev/kmsg");
  }
  w->stop_.reset(eventfd(0, EFD_CLOEXEC));
  if (!w->stop_) {
    return ErrnoFail(errno, "eventfd");
  }
  w->thread_ = std::thread([p = w.get()] { p->Run(); });
  return w;
}

SeccompLogWatch::~SeccompLogWatch() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
}

// One record per read(2) on /dev/kmsg. False when nothing is waiting.
bool SeccompLogWatch::ReadOne(bool* progressed) {
  char buf[8192];
  ssize_t n = read(kmsg_.get(), buf, sizeof buf);
  if (n < 0) {
    // EPIPE: records were overwritten before we read them; the next read resumes.
    return errno == EPIPE || errno == EINTR;
  }
  *progressed = true;
  auto rec = seccomp::ParseSeccompAuditRecord(std::string_view(buf, static_cast<size_t>(n)));
  if (!rec || rec->uid < uid_first_ || rec->uid - uid_first_ >= uid_count_) {
    return true;
  }
  seccomp::SeccompEvent e = seccomp::EventFromAudit(*rec, id_);
  // A log that cannot be written must never stop the container.
  if (auto log = seccomp::EventLog::Open(events_log_); log && log->Append(e)) {
    ++events_;
  }
  return true;
}

void SeccompLogWatch::Run() {
  while (true) {
    pollfd fds[2] = {{kmsg_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) {
      return;
    }
    if (fds[0].revents & POLLIN) {
      bool progressed = false;
      while (ReadOne(&progressed)) {
      }
    }
    if (fds[1].revents & POLLIN) {
      // The container has exited: take what the kernel logged until now, then stop.
      bool progressed = false;
      while (ReadOne(&progressed)) {
      }
      return;
    }
  }
}

namespace {

[[noreturn]] void RunDetachedLogWatch(const std::string& id, uint32_t uid_first, uint32_t uid_count,
                                      const std::string& events_log, int init_pidfd, int ready_fd) {
  // Only what the watcher needs: the init's pidfd as 3, the ready pipe as 4.
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0 ||
      dup2(init_pidfd, 3) < 0 || dup2(ready_fd, 4) < 0) {
    _exit(1);
  }
  syscall(SYS_close_range, 5, ~0U, 0);
  prctl(PR_SET_NAME, "brick-seccomp-log", 0, 0, 0);
  auto watch = SeccompLogWatch::Start(id, uid_first, uid_count, events_log);
  if (!watch || write(4, "1", 1) != 1) {
    _exit(1);
  }
  close(4);
  pollfd p = {3, POLLIN, 0};
  while (poll(&p, 1, -1) < 0 && errno == EINTR) {
  }
  watch->reset();  // reads what the kernel logged up to the exit
  _exit(0);
}

}  // namespace

Status SpawnDetachedLogWatch(const std::string& container_id, uint32_t uid_first,
                             uint32_t uid_count, const std::string& events_log, int init_pidfd) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    return ErrnoFail(errno, "pipe for the seccomp log watcher");
  }
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  fflush(stdout);
  fflush(stderr);
  pid_t middle = fork();
  if (middle < 0) {
    return ErrnoFail(errno, "fork the seccomp log watcher");
  }
  if (middle == 0) {
    // A new session and a second fork: the watcher holds no terminal and is nobody's
    // child but the caller's subreaper (or init), which reaps it when it ends.
    setsid();
    pid_t watcher = fork();
    if (watcher != 0) {
      _exit(watcher < 0 ? 1 : 0);
    }
    RunDetachedLogWatch(container_id, uid_first, uid_count, events_log, init_pidfd,
                        ready_write.get());
  }
  int status = 0;
  while (waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  ready_write.reset();
  char c;
  ssize_t n;
  while ((n = read(ready_read.get(), &c, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) {
    return Fail("the seccomp log watcher of container {} did not start (it needs /dev/kmsg)",
                container_id);
  }
  return Ok();
}

}  // namespace brick::runtime
