// linux.sysctl: only keys the container's own namespaces scope are allowed.
//
//   SysctlPlan plan = BRICK_TRY_VALUE(PlanSysctls(spec.linux.sysctl, {.new_ipc = true,
//                                                                     .new_net = true}));
//   // child, with a verified procfs fd (see OpenVerifiedProcfs in lsm.h), before the
//   // readonlyPaths make /proc/sys read-only:
//   BRICK_TRY(ApplySysctls(sys, plan, proc_fd));
//
// Allowed: the IPC keys (kernel.msgmax, kernel.msgmnb, kernel.msgmni, kernel.sem,
// kernel.shmall, kernel.shmmax, kernel.shmmni, kernel.shm_rmid_forced, fs.mqueue.*)
// with a new ipc namespace, and net.* with a new network namespace. Everything else
// would change the host and is refused.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/isolation/syscalls.h"

namespace brick::isolation {

struct SysctlNamespaces {
  bool new_ipc = false;  // the container gets its own ipc namespace
  bool new_net = false;  // the container gets its own network namespace
};

struct SysctlWrite {
  std::string key;        // "kernel.shmmax"
  std::string proc_path;  // "sys/kernel/shmmax", relative to the procfs root
  std::string value;
};

struct SysctlPlan {
  std::vector<SysctlWrite> writes;  // sorted by key
};

Result<SysctlPlan> PlanSysctls(const std::map<std::string, std::string>& sysctls,
                               SysctlNamespaces namespaces);

// Writes each value to <procfs>/sys/<key with dots as slashes>, opened beneath proc_fd
// without following symlinks or crossing mounts, and checked to be on procfs.
Status ApplySysctls(Syscalls& sys, const SysctlPlan& plan, int proc_fd);

}  // namespace brick::isolation
