// The kernel's record of a logged seccomp action, as /dev/kmsg carries it when no audit
// daemon takes it: "audit: type=1326 audit(...): ... uid=1000001000 ... pid=4242
// comm="mkdir" ... arch=c000003e syscall=83 compat=0 ip=0x... code=0x7ffc0000".
//
//   auto rec = ParseSeccompAuditRecord(line);   // nullopt for any other record
//   if (rec && rec->uid >= first && rec->uid < first + count) {
//     SeccompEvent e = EventFromAudit(*rec, "web1");   // action "log", syscall "mkdir"
//   }
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "brick/seccomp/event_log.h"

namespace brick::seccomp {

struct SeccompAuditRecord {
  pid_t pid = 0;
  uint32_t uid = 0;     // the host uid of the calling task
  uint32_t arch = 0;    // AUDIT_ARCH_*
  int nr = -1;
  uint32_t code = 0;    // the filter's return value (action | data)
};

std::optional<SeccompAuditRecord> ParseSeccompAuditRecord(std::string_view record);

// "log", "errno EPERM", "kill process", "notify", ... for a filter return value.
std::string SeccompActionName(uint32_t code);

SeccompEvent EventFromAudit(const SeccompAuditRecord& record, std::string container_id);

}  // namespace brick::seccomp
