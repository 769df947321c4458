#include "brick/seccomp/event_log.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <seccomp.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace brick::seccomp {
namespace {

std::string AuditArchName(uint32_t audit, int nr) {
  switch (audit) {
    case AUDIT_ARCH_X86_64:
      return (nr & 0x40000000) != 0 ? "x32" : "x86_64";
    case AUDIT_ARCH_I386:
      return "x86";
    case AUDIT_ARCH_AARCH64:
      return "aarch64";
    case AUDIT_ARCH_ARM:
      return "arm";
    default:
      return fmt::format("0x{:x}", audit);
  }
}

std::string UtcNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", t.tm_year + 1900, t.tm_mon + 1,
                     t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000);
}

}  // namespace

SeccompEvent EventFromSyscall(pid_t pid, uint32_t audit_arch, int nr, std::string container_id) {
  SeccompEvent e;
  e.container_id = std::move(container_id);
  e.pid = pid;
  e.nr = nr;
  e.arch = AuditArchName(audit_arch, nr);
  // libseccomp's arch tokens equal the audit values for x86_64 and x86; x32 numbers carry
  // their marker bit, which libseccomp's x32 table expects.
  uint32_t scmp = e.arch == "x32" ? SCMP_ARCH_X32 : audit_arch;
  if (char* name = seccomp_syscall_resolve_num_arch(scmp, nr)) {
    e.syscall = name;
    free(name);
  }
  return e;
}

SeccompEvent EventFromNotification(const seccomp_notif& notif, std::string container_id) {
  return EventFromSyscall(static_cast<pid_t>(notif.pid), notif.data.arch, notif.data.nr,
                          std::move(container_id));
}

std::string EventJsonLine(const SeccompEvent& event) {
  nlohmann::json j;
  j["time"] = UtcNow();
  j["type"] = "seccomp";
  j["container"] = event.container_id;
  j["pid"] = event.pid;
  if (event.nr >= 0) {  // events about the filter as a whole (a listener hand-off) have none
    j["nr"] = event.nr;
    j["syscall"] = event.syscall;
    j["arch"] = event.arch;
  }
  j["action"] = event.action;
  if (!event.detail.empty()) {
    j["detail"] = event.detail;
  }
  return j.dump() + "\n";
}

Result<EventLog> EventLog::Open(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    return ErrnoFail(errno, "open event log {}", path);
  }
  return EventLog(std::move(fd), path);
}

Status EventLog::Append(const SeccompEvent& event) {
  std::string line = EventJsonLine(event);
  for (;;) {
    ssize_t n = write(fd_.get(), line.data(), line.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoFail(errno, "append to event log {}", path_);
    }
    if (static_cast<size_t>(n) != line.size()) {
      return Fail("append to event log {}: short write ({} of {} bytes)", path_, n, line.size());
    }
    return Ok();
  }
}

}  // namespace brick::seccomp
