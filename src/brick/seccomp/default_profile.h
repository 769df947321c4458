// brick's built-in seccomp profile, used when the config brings none: an allow-list.
//
//   uint64_t caps = plan.caps.bounding;                 // bit N = capability N
//   brick::oci::Seccomp profile = brick::seccomp::DefaultProfile(caps);
//   auto program = brick::seccomp::CompileFilter(profile, {});
//
//   for (const ProfileGroup& g : brick::seccomp::DefaultProfileGroups()) {
//     fmt::print("| {} | {} | {} |\n", g.title, g.syscalls, g.reason);   // docs/seccomp.md
//   }
//
// What it does, in short (docs/seccomp.md has every rule and its reason):
//  - the syscalls an ordinary program needs are allowed; a few only with some arguments
//    (clone without namespace flags, socket families UNIX/INET/INET6/NETLINK, personality
//    queries);
//  - every other syscall the profile knows fails with EPERM; clone3 fails with ENOSYS so that
//    libc falls back to clone, whose flags the filter can see;
//  - syscalls newer than the profile fail with ENOSYS (the compiler's stub for numbers above
//    the newest syscall the profile names), so that libc falls back to older ones;
//  - only the native x86_64 ABI: ia32 (int $0x80) and x32 calls kill the process;
//  - a capability the container is granted opens the syscalls it exists for, as Docker's
//    profile does (CAP_SYS_PTRACE: ptrace, process_vm_*, ...).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brick/oci/spec.h"

namespace brick::seccomp {

// Bumped whenever the profile's behaviour changes; docs/seccomp.md names it.
inline constexpr std::string_view kDefaultProfileVersion = "2";

enum class GroupVerdict {
  kAllow,   // allowed (with `cap`: only when the capability is granted)
  kDeny,    // EPERM (with `cap`: unless the capability is granted)
  kEnosys,  // ENOSYS, so that libc falls back
  kArgs,    // allowed only with some arguments; the reason says which
};

struct ProfileGroup {
  std::string_view title;
  GroupVerdict verdict;
  std::string_view cap;       // "CAP_SYS_PTRACE", or empty
  std::string_view syscalls;  // space-separated names
  std::string_view reason;    // one line, for the docs
};

// The table the profile is built from, in the order docs/seccomp.md lists it.
std::span<const ProfileGroup> DefaultProfileGroups();

// The profile for a container granted `granted_caps` (bit N = capability N).
oci::Seccomp DefaultProfile(uint64_t granted_caps);
// No capabilities: brick's default container.
oci::Seccomp DefaultProfile();

// (syscall, reason) for every syscall the no-capability profile refuses (EPERM or ENOSYS).
std::vector<std::pair<std::string, std::string>> DefaultProfileReasons();

}  // namespace brick::seccomp
