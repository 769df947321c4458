// Seccomp violations as events: one JSON object per line, appended to a log file.
//
//   auto log = EventLog::Open("/run/brick/events.jsonl");
//   if (!log) return std::unexpected(log.error());
//   SeccompEvent e = EventFromNotification(notif, "c0ffee");   // from a USER_NOTIF listener
//   e.action = "notify";
//   BRICK_TRY(log->Append(e));
//   // {"action":"notify","arch":"x86_64","container":"c0ffee","nr":165,"pid":4242,
//   //  "syscall":"mount","time":"2026-11-22T11:30:00.123456Z","type":"seccomp"}
//
// Each event is one write(2) on an O_APPEND fd, so lines from concurrent writers (several
// containers, one log) never interleave. The sealed-log work will chain these lines.
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick::seccomp {

struct SeccompEvent {
  std::string container_id;
  pid_t pid = 0;
  int nr = -1;           // -1: not about one syscall (nr, syscall and arch are not written)
  std::string syscall;  // name, or "" when libseccomp does not know the number
  std::string arch;     // "x86_64", "x86", "x32", ...
  std::string action;   // "log", "notify", "errno EPERM", "kill process", ...
  std::string detail;   // optional free text (written only when set)
};

// Fills pid, nr, syscall (named by libseccomp) and arch (from the AUDIT_ARCH_* value).
SeccompEvent EventFromSyscall(pid_t pid, uint32_t audit_arch, int nr, std::string container_id);

// Fills pid, nr, syscall and arch from a notification (action is left to the caller).
SeccompEvent EventFromNotification(const seccomp_notif& notif, std::string container_id);

// The event as one JSON line (with a trailing newline) stamped with the current UTC time.
std::string EventJsonLine(const SeccompEvent& event);

class EventLog {
 public:
  // Opens (creating, mode 0600) `path` for appending.
  static Result<EventLog> Open(const std::string& path);

  Status Append(const SeccompEvent& event);

 private:
  EventLog(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  UniqueFd fd_;
  std::string path_;
};

}  // namespace brick::seccomp
