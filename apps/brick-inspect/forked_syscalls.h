// Raw syscalls made one by one in forked children, so that a test can see what a seccomp
// filter answers for each from inside a container, and the inspector survives any of them.
//
//   for (const ForkedSyscall& s : ForkedSyscalls()) {
//     std::printf("%s %s\n", s.label.c_str(), RunForked(s).c_str());
//   }
//   // settimeofday errno EPERM / clone3 errno ENOSYS / socket:AF_UNIX errno EINVAL / x32 signal
//   SIGSYS
//
// Each call's arguments are chosen so that, should the call get through the filter, the kernel
// rejects it with an errno of its own before acting (an invalid flag, type or pointer), or it
// succeeds harmlessly (personality in the child, a fork that exits at once). So EPERM or ENOSYS
// can only come from the filter once the kernel's own permission checks pass, which a test makes
// sure of by running the same list with the capabilities those checks want; the comment on each
// call says what the kernel answers when it gets through.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace brick::inspect {

struct ForkedSyscall {
  std::string label;  // "settimeofday", "clone:CLONE_NEWNS", "socket:AF_PACKET", "socket:40"
  std::function<long()> call;
};

// Every probe, in a fixed order.
const std::vector<ForkedSyscall>& ForkedSyscalls();

// Forks, makes the call in the child and reports how it ended: "ok" (returned >= 0),
// "errno ENAME", or "signal SIGNAME" when the child was killed (SIGSYS from a KILL action).
std::string RunForked(const ForkedSyscall& probe);

}  // namespace brick::inspect
