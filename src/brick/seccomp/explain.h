// What a compiled filter does, found by running it in the BPF interpreter: per syscall and
// arch, a summary of a whole profile, and the difference between two profiles.
//
//   BpfProgram program = *CompileFilter(profile);
//   std::vector<ArchVerdict> v = ExplainSyscall(program, profile, "socket", {AF_PACKET, 3});
//   for (const auto& a : v) fmt::print("{}: {}\n", a.arch, a.verdict);   // x86_64: errno EPERM
//   fmt::print("{}", SummarizeFilter(program, profile));
//   fmt::print("{}", DiffFilters(a_program, a_profile, b_program, b_profile));
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/seccomp/filter.h"

namespace brick::seccomp {

struct ArchVerdict {
  std::string arch;     // "x86_64", "x86", "x32", ...
  int nr = -1;          // the number on that arch; -1 when the syscall does not exist there
  uint32_t ret = 0;     // SECCOMP_RET_* value
  std::string verdict;  // DescribeReturn(ret), or "does not exist on this arch"
  // Set when the call reaches the kernel through a multiplexer instead: "socketcall SYS_SOCKET"
  // (nr is socketcall's). Its arguments are in memory the filter cannot read.
  std::string via;
};

// Evaluates `syscall` with `args` (missing ones are 0) on the native arch, every arch the
// profile lists, and on x86_64 hosts also x86 and x32 (to show what happens to them). Where a
// syscall is multiplexed (x86 socket calls through socketcall, System V IPC through ipc), the
// direct syscall (x86 socket = 359, since Linux 4.3) comes first and the multiplexed form
// follows as a second verdict for the same arch.
Result<std::vector<ArchVerdict>> ExplainSyscall(const BpfProgram& program,
                                                const oci::Seccomp& profile,
                                                std::string_view syscall,
                                                std::span<const uint64_t> args);

// Counts of allowed / EPERM / ENOSYS / killed / other native syscalls, those whose verdict
// depends on their arguments, and the dangerous calls the filter lets through.
Result<std::string> SummarizeFilter(const BpfProgram& program, const oci::Seccomp& profile);

// Every probe (native syscall with sample arguments, foreign-ABI call) on which the two
// filters disagree, one line each: "socket(AF_PACKET, ...): errno EPERM -> allow".
Result<std::string> DiffFilters(const BpfProgram& a, const BpfProgram& b);

// A syscall argument from the command line: a number (decimal or 0x hex) or a constant name
// such as AF_INET, SOCK_RAW or CLONE_NEWUSER; "A|B" ORs them.
Result<uint64_t> ParseSyscallArg(std::string_view text);

// The native syscalls the summary calls dangerous, for tests and docs.
std::span<const std::string_view> DangerousSyscalls();

}  // namespace brick::seccomp
