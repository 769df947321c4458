// Turns an OCI seccomp profile into a classic-BPF program (in the parent, with libseccomp)
// and installs that program (in the child, with nothing but the raw seccomp(2) syscall).
//
//   // parent, before fork: validate and compile once
//   auto program = brick::seccomp::CompileFilter(*spec.linux.seccomp, {});
//   if (!program) return std::unexpected(std::move(program.error()).Wrap("seccomp"));
//   for (const std::string& w : program->warnings) LogWarning(w);
//   ...
//   // child, last step before execve, after prctl(PR_SET_NO_NEW_PRIVS):
//   auto listener = brick::seccomp::InstallFilter(*program);
//   if (!listener) ReportAndExit(listener.error());
//   if (listener->valid()) SendToParent(listener->get());   // SCMP_ACT_NOTIFY was used
//
// Compiling needs libseccomp, which allocates and takes locks; installing must be safe right
// after fork, so the two halves are split and only the second runs in the child.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::seccomp {

struct CompileOptions {
  // Syscall names libseccomp does not know become warnings (in BpfProgram::warnings) instead of
  // errors. Meant for profiles written for a newer libseccomp; such a rule cannot match anything.
  bool allow_unknown_syscalls = false;
  // Syscalls numbered above the newest one the profile names get ENOSYS instead of the default
  // action, per architecture (x86_64 and x86), as runc does: a profile cannot name syscalls
  // added after it was written, and ENOSYS makes libc fall back to an older call where EPERM
  // would be taken as a real refusal. Applied only when the default action refuses (ERRNO,
  // KILL, TRAP); a permissive default stays as it is.
  bool enosys_for_newer_syscalls = true;
};

// Where the ENOSYS stub starts on one architecture.
struct EnosysThreshold {
  uint32_t audit_arch = 0;  // AUDIT_ARCH_*
  int first_number = 0;     // this number and above (below the x32 bit) get ENOSYS
};

struct BpfProgram {
  std::vector<sock_filter> instructions;
  // SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2) at install.
  unsigned int flags = 0;
  // Some rule uses SCMP_ACT_NOTIFY: flags holds NEW_LISTENER and InstallFilter returns the
  // listener fd, which the runtime must hand to the seccomp agent (linux.seccomp.listenerPath).
  bool needs_listener = false;
  // Things the user should hear about that did not stop compilation, e.g. unknown syscall names
  // under allow_unknown_syscalls. One line each, same style as error messages.
  std::vector<std::string> warnings;
  // The ENOSYS stub in front of libseccomp's program, if any.
  std::vector<EnosysThreshold> enosys;
};

// Validates the profile completely (actions, errnoRet, architectures, flags, operators, argument
// indices, syscall names) and compiles it. Errors name the field at fault, e.g.
// `linux.seccomp.syscalls[3].names[1]: unknown syscall "fooo"`.
Result<BpfProgram> CompileFilter(const oci::Seccomp& profile, const CompileOptions& opts = {});

// The validation half of CompileFilter, for checking a config before anything touches the
// system. Unknown syscall names are accepted when allow_unknown_syscalls is set.
Status ValidateSeccompNames(const oci::Seccomp& profile, bool allow_unknown_syscalls);

// Installs the program on the calling thread (every thread with TSYNC) via the raw seccomp(2)
// syscall. The caller must have set no_new_privs or hold CAP_SYS_ADMIN. Returns the notify
// listener fd (close-on-exec) when program.needs_listener, else an invalid UniqueFd. Does not
// allocate unless it fails, so it is safe between fork and execve.
Result<UniqueFd> InstallFilter(const BpfProgram& program);

// "SECCOMP_FILTER_FLAG_TSYNC" for one flag bit, "0x..." for bits brick does not know.
std::string SeccompFlagName(unsigned int flag);

// What CompileFilter accepts, by OCI name (for `brick features`).
std::vector<std::string> KnownSeccompActions();
std::vector<std::string> KnownSeccompOperators();
// The architectures a profile can list here: known to the linked libseccomp and of the
// native byte order (libseccomp cannot put both byte orders in one filter).
std::vector<std::string> KnownSeccompArchitectures();
// The flags a config may set in linux.seccomp.flags.
std::vector<std::string> KnownSeccompFlags();
// The KnownSeccompFlags the running kernel takes. Each flag is probed by asking seccomp(2) to
// install a null program with it: the kernel checks the flags first (EINVAL for one it does
// not know) and then fails to read the program (EFAULT), so nothing is ever installed.
std::vector<std::string> KernelSupportedSeccompFlags();
// "2.5.4": the version of the libseccomp brick is linked with.
std::string LinkedLibseccompVersion();

}  // namespace brick::seccomp
