// brick's built-in seccomp profile, used when the config brings none.
//
//   brick::oci::Seccomp profile = brick::seccomp::DefaultProfile();
//   auto program = brick::seccomp::CompileFilter(profile, {});
//
//   for (const auto& [name, reason] : brick::seccomp::DefaultProfileReasons()) {
//     fmt::print("| {} | {} |\n", name, reason);   // the table in the docs
//   }
//
// For now a deny-list on top of SCMP_ACT_ALLOW: host-global and kernel-attack-surface syscalls
// fail with EPERM, and only the native x86_64 ABI is accepted (ia32 and x32 syscalls kill the
// process). A later change turns it into an allow-list.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "brick/oci/spec.h"

namespace brick::seccomp {

struct DeniedSyscall {
  std::string_view name;
  std::string_view reason;  // one line, for the docs
};

// The syscalls the default profile denies, in the order the docs list them.
std::span<const DeniedSyscall> DefaultDeniedSyscalls();

// The profile as an OCI model, ready for CompileFilter.
oci::Seccomp DefaultProfile();

// (syscall, reason) pairs of DefaultDeniedSyscalls, as owned strings.
std::vector<std::pair<std::string, std::string>> DefaultProfileReasons();

}  // namespace brick::seccomp
