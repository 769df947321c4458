// What the parent side of `brick run/create` and `brick exec` share: cloning the child
// with a pidfd, owning it until it is reaped or handed over, and rebuilding the error a
// child reported over the sync socket.
//
//   auto [pid, pidfd] = BRICK_TRY_VALUE(CloneChild(CLONE_NEWNS));
//   if (pid == 0) { ...child...; _exit(1); }
//   ChildGuard child(pid, std::move(pidfd));   // killed and reaped on every early return
//   ...
//   child.Release();                            // it outlives brick (create, exec -d)
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {

// Owns a cloned child until it has been reaped: on every early return it is killed
// and reaped, so a failed start leaves no process behind.
class ChildGuard {
 public:
  ChildGuard(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildGuard(const ChildGuard&) = delete;
  ChildGuard& operator=(const ChildGuard&) = delete;
  ~ChildGuard();
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  void Reaped() { pid_ = -1; }
  // The child outlives brick (create, exec --detach): neither kill nor reap it.
  void Release() { pid_ = -1; }

 private:
  pid_t pid_;
  UniqueFd pidfd_;
};

// clone3 with CLONE_PIDFD and SIGCHLD: {pid, pidfd} in the parent, {0, -1} in the child.
// stdio is flushed first so that buffered output is not written twice.
Result<std::pair<pid_t, UniqueFd>> CloneChild(int flags);

// The same, started in the cgroup2 directory `cgroup_dir` (CLONE_INTO_CGROUP) when it is
// not -1. A kernel or a cgroup namespace that refuses that gets a plain clone instead;
// `*into_cgroup` tells which happened, and the caller places the child itself if not.
Result<std::pair<pid_t, UniqueFd>> CloneChildIntoCgroup(int flags, int cgroup_dir,
                                                        bool* into_cgroup);

// A child's kError payload, "<errno>:<text>", as an Error.
Error ChildError(const std::string& payload);

// The child's side of a kError: sends it, or when the parent is gone writes
// "brick: container <id>: <message>" to stderr. Never returns.
class SyncSocket;
[[noreturn]] void ReportChildFailure(SyncSocket& sync, const std::string& id, const Error& error);

}  // namespace brick::runtime
