#include "brick/runtime/seccomp_log_watch.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

}  // namespace brick::runtime
