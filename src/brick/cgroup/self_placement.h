// Lets a new process move itself into its cgroup, without the kernel's global lock.
//
//   SelfPlacement p = BRICK_TRY_VALUE(manager->OpenSelfPlacement());   // brick, as host root
//   auto [pid, pidfd] = BRICK_TRY_VALUE(CloneChild(flags, p.unified_dir.get()));
//   if (pid == 0) { BRICK_TRY(PlaceSelf(p)); ... }                     // the child
//
// Why: moving a whole process (a pid written to cgroup.procs) takes the kernel's
// cgroup_threadgroup_rwsem for writing, and the first writer after a quiet spell waits
// for an RCU grace period: 2-5 ms per container on this kind of host, the largest single
// cost of a start. Two moves skip that lock:
//   - cgroup v1: a single thread writing "0" to a hierarchy's "tasks" file moves only
//     itself. The container's init and an exec'd process are single-threaded at that
//     point, so the whole process moves. The kernel checks permission against the
//     credentials the file was opened with, so brick opens the files (as host root) and
//     the child, already in its new user namespace, writes through them.
//   - cgroup v2 (and the unified hierarchy of a hybrid host): clone3's CLONE_INTO_CGROUP
//     starts the child in the cgroup.
#pragma once

#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick::cgroup {

struct SelfPlacement {
  struct TasksFile {
    std::string path;  // for error messages
    UniqueFd fd;       // opened O_WRONLY by brick
  };
  // One per v1 hierarchy.
  std::vector<TasksFile> v1_tasks;
  // The cgroup's directory in the unified hierarchy, for CLONE_INTO_CGROUP; -1 without one.
  UniqueFd unified_dir;
  std::string unified_path;
};

// In the child, while it is single-threaded: moves the calling thread into the cgroup of
// every v1 hierarchy. Leaves the fds open; they are close-on-exec.
Status PlaceSelf(const SelfPlacement& placement);

}  // namespace brick::cgroup
