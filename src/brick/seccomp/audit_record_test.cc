#include "brick/seccomp/audit_record.h"

#include <gtest/gtest.h>
#include <linux/audit.h>

namespace brick::seccomp {
namespace {

// As read from /dev/kmsg on the development machine.
constexpr std::string_view kLogged =
    "5,2315,17399433367,-;audit: type=1326 audit(1795360631.829:231): auid=4294967295 "
    "uid=1000001000 gid=1000001000 ses=4294967295 pid=19641 comm=\"mkdir\" "
    "exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=83 compat=0 ip=0x47b567 "
    "code=0x7ffc0000\n";

TEST(AuditRecordTest, ParsesALoggedSyscall) {
  auto rec = ParseSeccompAuditRecord(kLogged);
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->pid, 19641);
  EXPECT_EQ(rec->uid, 1000001000u);
  EXPECT_EQ(rec->arch, AUDIT_ARCH_X86_64);
  EXPECT_EQ(rec->nr, 83);
  SeccompEvent e = EventFromAudit(*rec, "web1");
  EXPECT_EQ(e.syscall, "mkdir");
  EXPECT_EQ(e.arch, "x86_64");
  EXPECT_EQ(e.action, "log");
  EXPECT_EQ(e.container_id, "web1");
}

TEST(AuditRecordTest, NamesActionsAndArches) {
  EXPECT_EQ(SeccompActionName(0x00050001), "errno EPERM");
  EXPECT_EQ(SeccompActionName(0x80000000), "kill process");
  EXPECT_EQ(SeccompActionName(0x7fc00000), "notify");
  std::string x86(kLogged);
  x86.replace(x86.find("arch=c000003e"), 13, "arch=40000003");
  x86.replace(x86.find("syscall=83"), 10, "syscall=39");
  auto rec = ParseSeccompAuditRecord(x86);
  ASSERT_TRUE(rec);
  SeccompEvent e = EventFromAudit(*rec, "c");
  EXPECT_EQ(e.arch, "x86");
  EXPECT_EQ(e.syscall, "mkdir");  // 39 is mkdir on i386
}

TEST(AuditRecordTest, IgnoresOtherRecordsAndDamagedOnes) {
  EXPECT_FALSE(ParseSeccompAuditRecord("6,1,1,-;cgroup: fork rejected by pids controller\n"));
  std::string no_code(kLogged.substr(0, kLogged.find(" code=")));
  EXPECT_FALSE(ParseSeccompAuditRecord(no_code));
  std::string bad_pid(kLogged);
  bad_pid.replace(bad_pid.find("pid=19641"), 9, "pid=zz");
  EXPECT_FALSE(ParseSeccompAuditRecord(bad_pid));
}

}  // namespace
}  // namespace brick::seccomp
