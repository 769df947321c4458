// Linux security modules: AppArmor profile and SELinux process/mount labels, and
// the verified procfs handle through which /proc/<self>/attr is written.
//
//   HostLsms host = BRICK_TRY_VALUE(DetectHostLsms());                      // parent
//   LsmPlan lsm = BRICK_TRY_VALUE(PlanLsm(host, {.apparmor_profile = p.apparmor_profile,
//                                                .selinux_label = p.selinux_label,
//                                                .mount_label = spec.linux.mount_label}));
//   // mounts: append lsm.mount_context_option ("context=\"...\"") to data of new mounts
//   // child, last step before seccomp and execve:
//   UniqueFd proc = BRICK_TRY_VALUE(OpenVerifiedProcfs(sys, "/proc"));
//   BRICK_TRY(ApplyLsmExecLabels(sys, lsm, proc.get()));
//
// Labels are written to the *exec* attribute, so they take effect at execve and
// brick's own setup runs unconfined. A /proc that is not procfs (a container can
// mount anything at its /proc) is refused, and so is an attr file that is not on
// procfs, so a label cannot be silently written to a decoy file.
#pragma once

#include <string>
#include <string_view>

#include "brick/base/error.h"
#include "brick/isolation/syscalls.h"
#include "brick/sys/unique_fd.h"

namespace brick::isolation {

struct HostLsms {
  bool apparmor = false;
  bool selinux = false;
};

// Parses the comma-separated list of /sys/kernel/security/lsm ("capability,yama,apparmor").
HostLsms ParseLsmList(std::string_view list);

// Which LSMs the host runs: /sys/kernel/security/lsm when securityfs is mounted, else
// /sys/module/apparmor/parameters/enabled ("Y") and /sys/fs/selinux. `sys_root` is
// injectable for tests.
Result<HostLsms> DetectHostLsms(const std::string& sys_root = "/sys");

struct LsmRequest {
  std::string apparmor_profile;  // process.apparmorProfile
  std::string selinux_label;     // process.selinuxLabel
  std::string mount_label;       // linux.mountLabel
};

struct LsmPlan {
  std::string apparmor_exec;         // "exec <profile>", or empty
  std::string selinux_exec;          // the process label, or empty
  std::string mount_context_option;  // "context=\"<mount label>\"", or empty
};

// Refuses a request for an LSM the host does not run, saying so plainly.
Result<LsmPlan> PlanLsm(const HostLsms& host, const LsmRequest& request);

// Opens `path` as O_PATH|O_DIRECTORY and requires it to be the root of a procfs mount
// (fstatfs f_type == PROC_SUPER_MAGIC).
Result<UniqueFd> OpenVerifiedProcfs(Syscalls& sys, const char* path = "/proc");

// Writes the plan's exec labels through proc_fd (from OpenVerifiedProcfs):
// AppArmor to thread-self/attr/apparmor/exec, falling back to thread-self/attr/exec;
// SELinux to thread-self/attr/exec. Each attr fd must itself be on procfs.
Status ApplyLsmExecLabels(Syscalls& sys, const LsmPlan& plan, int proc_fd);

}  // namespace brick::isolation
