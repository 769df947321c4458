#include "brick/runtime/spawn.h"

#include <fmt/core.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "brick/base/strings.h"
#include "brick/runtime/init.h"
#include "brick/runtime/sync_socket.h"

namespace brick::runtime {

ChildGuard::~ChildGuard() {
  if (pid_ > 0) {
    syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    siginfo_t info;
    waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED);
  }
}

namespace {

Result<std::pair<pid_t, UniqueFd>> Clone3(uint64_t flags, int cgroup_dir) {
  int pidfd = -1;
  struct clone_args args = {};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  if (cgroup_dir >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cgroup_dir);
  }
  fflush(stdout);
  fflush(stderr);
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) {
    return ErrnoFail(errno, "clone the container process");
  }
  return std::pair<pid_t, UniqueFd>(static_cast<pid_t>(pid), UniqueFd(pid == 0 ? -1 : pidfd));
}

}  // namespace

Result<std::pair<pid_t, UniqueFd>> CloneChild(int flags) {
  return Clone3(static_cast<uint64_t>(flags), -1);
}

Result<std::pair<pid_t, UniqueFd>> CloneChildIntoCgroup(int flags, int cgroup_dir,
                                                        bool* into_cgroup) {
  *into_cgroup = false;
  if (cgroup_dir >= 0) {
    auto cloned = Clone3(static_cast<uint64_t>(flags), cgroup_dir);
    // E2BIG/EINVAL: a kernel before 5.7; EACCES/EPERM/EOPNOTSUPP/EBUSY: the cgroup, seen
    // from a joined cgroup namespace, cannot take the child that way.
    if (cloned || cloned.error().errnum() == EAGAIN || cloned.error().errnum() == ENOMEM) {
      *into_cgroup = static_cast<bool>(cloned);
      return cloned;
    }
  }
  return Clone3(static_cast<uint64_t>(flags), -1);
}

Error ChildError(const std::string& payload) {
  auto colon = payload.find(':');
  auto errnum = ParseI64(std::string_view(payload).substr(0, colon));
  if (colon == std::string::npos || !errnum) {
    return Error(payload);
  }
  return Error(payload.substr(colon + 1), static_cast<int>(*errnum));
}

void ReportChildFailure(SyncSocket& sync, const std::string& id, const Error& error) {
  // errno travels in front of the text so the parent can rebuild the Error. A child whose
  // parent has gone can only tell the container's stderr.
  if (!sync.Send(SyncMessage::kError, fmt::format("{}:{}", error.errnum(), error.context()))) {
    std::string line = fmt::format("brick: container {}: {}\n", id, error.message());
    (void)!write(STDERR_FILENO, line.data(), line.size());
  }
  _exit(kInitFailedStatus);
}

}  // namespace brick::runtime
