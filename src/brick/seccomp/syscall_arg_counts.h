// How many arguments each x86_64 syscall takes, so that a profile comparing an argument a
// syscall does not have (getpid with args[{index: 4}]) is refused instead of comparing a
// register the kernel ignores.
//
//   std::optional<int> n = brick::seccomp::X86_64SyscallArgCount("getpid");   // 0
//   if (n && index >= *n) return Fail(...);
//   // std::nullopt: no entry (no tracepoint, or not an x86_64 syscall); allow 0..5
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace brick::seccomp {

struct SyscallArgCount {
  std::string_view name;  // the x86_64 syscall table's name, as libseccomp spells it
  int args = 0;
};

// The number of arguments of the x86_64 syscall `name`, or nullopt when the table has no
// entry for it (see syscall_arg_counts.cc for which and why).
std::optional<int> X86_64SyscallArgCount(std::string_view name);

// The whole table, sorted by name, for tests.
std::span<const SyscallArgCount> X86_64SyscallArgCounts();

}  // namespace brick::seccomp
