#include "brick/seccomp/audit_record.h"

#include <fmt/core.h>
#include <linux/seccomp.h>
#include <string.h>

#include "brick/base/strings.h"

namespace brick::seccomp {
namespace {

// The value of " key=" in the record (up to the next space), or "".
std::string_view Field(std::string_view record, std::string_view key) {
  std::string needle = fmt::format(" {}=", key);
  auto at = record.find(needle);
  if (at == std::string_view::npos) {
    return {};
  }
  std::string_view rest = record.substr(at + needle.size());
  return rest.substr(0, rest.find_first_of(" \n"));
}

std::optional<uint64_t> Hex(std::string_view s) {
  if (s.starts_with("0x")) {
    s.remove_prefix(2);
  }
  if (s.empty() || s.size() > 16) {
    return std::nullopt;
  }
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) {
      return std::nullopt;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

std::optional<SeccompAuditRecord> ParseSeccompAuditRecord(std::string_view record) {
  if (record.find("type=1326 ") == std::string_view::npos) {
    return std::nullopt;
  }
  auto pid = ParseU64(Field(record, "pid"));
  auto uid = ParseU64(Field(record, "uid"));
  auto arch = Hex(Field(record, "arch"));
  auto nr = ParseU64(Field(record, "syscall"));
  auto code = Hex(Field(record, "code"));
  if (!pid || !uid || !arch || !nr || !code || *uid > UINT32_MAX || *arch > UINT32_MAX ||
      *nr > INT32_MAX || *code > UINT32_MAX) {
    return std::nullopt;
  }
  return SeccompAuditRecord{static_cast<pid_t>(*pid), static_cast<uint32_t>(*uid),
                            static_cast<uint32_t>(*arch), static_cast<int>(*nr),
                            static_cast<uint32_t>(*code)};
}

std::string SeccompActionName(uint32_t code) {
  uint32_t data = code & SECCOMP_RET_DATA;
  switch (code & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_KILL_PROCESS:
      return "kill process";
    case SECCOMP_RET_KILL_THREAD:
      return "kill thread";
    case SECCOMP_RET_TRAP:
      return "trap";
    case SECCOMP_RET_ERRNO: {
      const char* name = strerrorname_np(static_cast<int>(data));
      return fmt::format("errno {}", name ? name : std::to_string(data));
    }
    case SECCOMP_RET_USER_NOTIF:
      return "notify";
    case SECCOMP_RET_TRACE:
      return "trace";
    case SECCOMP_RET_LOG:
      return "log";
    case SECCOMP_RET_ALLOW:
      return "allow";
    default:
      return fmt::format("0x{:x}", code);
  }
}

SeccompEvent EventFromAudit(const SeccompAuditRecord& record, std::string container_id) {
  SeccompEvent e = EventFromSyscall(record.pid, record.arch, record.nr, std::move(container_id));
  e.action = SeccompActionName(record.code);
  return e;
}

}  // namespace brick::seccomp
