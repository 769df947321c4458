// The truth about a running process, read from /proc/<pid> and its cgroup files, as a
// ContainerView the audit rules can judge.
//
//   ContainerView running = BRICK_TRY_VALUE(ViewFromProcess(pid));
//   auto drift = CompareViews(ViewFromSpec(config), running);
//
// What is read: status (Uid, CapEff, CapBnd, CapAmb, NoNewPrivs, Seccomp), the ns links
// against /proc/1/ns, uid_map, mountinfo (the root mount's ro/rw, bind mounts, masked and
// read-only paths), environ, the device nodes under its /dev, and the memory, pids, cpu and
// devices cgroup files named by /proc/<pid>/cgroup. Anything that cannot be read is an error
// naming the file; the view is never filled in with guesses.
#pragma once

#include <sys/types.h>

#include <string>

#include "brick/base/error.h"
#include "brick/policy/container_view.h"

namespace brick::policy {

struct ProcPaths {
  std::string proc = "/proc";
  std::string cgroup = "/sys/fs/cgroup";
};

Result<ContainerView> ViewFromProcess(pid_t pid, const ProcPaths& paths = {},
                                      const HostFacts& host = DetectHostFacts());

// One line of mountinfo, as far as the audit needs it.
struct MountInfoEntry {
  std::string root;         // path inside the mounted filesystem
  std::string mount_point;  // relative to the process's root
  std::vector<std::string> mount_options;
  std::string fs_type;
  std::string source;
};
Result<std::vector<MountInfoEntry>> ParseMountInfo(std::string_view text);

}  // namespace brick::policy
