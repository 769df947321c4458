// A user-space evaluator for classic seccomp BPF: runs a compiled filter on one syscall
// description and returns what the kernel would return, without installing anything. `brick
// seccomp explain` and the tests use it, so they judge the exact program the kernel gets.
//
//   SyscallInput in;
//   in.nr = SYS_socket;
//   in.arch = AUDIT_ARCH_X86_64;
//   in.args[0] = AF_PACKET;
//   Result<uint32_t> ret = EvaluateSeccompBpf(program.instructions, in);
//   if (ret && ActionOf(*ret) == SECCOMP_RET_ERRNO) fmt::print("errno {}\n", *ret & 0xffff);
//
// It accepts exactly the instructions the kernel's seccomp checker accepts (loads from
// seccomp_data at aligned 32-bit offsets, the scratch memory, ALU, jumps, returns) and
// refuses everything else with an error, like the kernel would at install time.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <span>
#include <string>

#include "brick/base/error.h"

namespace brick::seccomp {

// The kernel's struct seccomp_data.
struct SyscallInput {
  int32_t nr = 0;
  uint32_t arch = 0;  // AUDIT_ARCH_*
  uint64_t ip = 0;
  uint64_t args[6] = {};
};

// The 32-bit SECCOMP_RET_* value the program returns for `in`. Errors: an instruction the
// kernel would reject, a jump out of the program, or running off its end.
// `steps`, when given, receives the number of instructions executed (for benchmarks: the
// kernel's cost on that syscall is roughly proportional to it).
Result<uint32_t> EvaluateSeccompBpf(std::span<const sock_filter> program, const SyscallInput& in,
                                    size_t* steps = nullptr);

// The action half (SECCOMP_RET_ACTION_FULL) of a return value.
uint32_t ActionOf(uint32_t ret);

// "allow", "errno EPERM", "errno 38", "kill process", "trap", "log", "notify", "trace 5", ...
std::string DescribeReturn(uint32_t ret);

}  // namespace brick::seccomp
