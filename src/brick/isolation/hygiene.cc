#include "brick/isolation/hygiene.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "brick/base/strings.h"
#include "brick/sys/unique_fd.h"

namespace brick::isolation {
namespace {

constexpr int kMaxPreservedFds = 1 << 20;
constexpr unsigned kSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

bool InMappings(const std::vector<oci::IdMapping>& mappings, uint32_t host_id) {
  for (const oci::IdMapping& m : mappings) {
    if (host_id >= m.host_id && uint64_t{host_id} < uint64_t{m.host_id} + m.size) {
      return true;
    }
  }
  return false;
}

// The /proc/self/fd fallback for kernels without close_range: marks every listed fd
// in [first, last] close-on-exec.
Status MarkCloexecFromFdList(Syscalls& sys, const FdHygienePlan& plan) {
  std::array<int, 4096> fds;
  int count = sys.ListOpenFds(fds);
  if (count < 0) {
    return ErrnoFail(-count, "list open fds in /proc/self/fd");
  }
  if (static_cast<size_t>(count) > fds.size()) {
    return Fail("{} open fds are more than the {} this fallback handles", count, fds.size());
  }
  for (int i = 0; i < count; ++i) {
    int fd = fds[static_cast<size_t>(i)];
    if (fd <= plan.keep_through ||
        std::binary_search(plan.extra_keep.begin(), plan.extra_keep.end(), fd)) {
      continue;
    }
    if (int rc = sys.SetCloexec(fd, true); rc < 0 && rc != -EBADF) {
      return ErrnoFail(-rc, "mark fd {} close-on-exec", fd);
    }
  }
  return Ok();
}

}  // namespace

Result<FdHygienePlan> PlanFdHygiene(int preserve_fds, std::span<const int> extra_keep,
                                    std::vector<std::string>* env) {
  if (preserve_fds < 0 || preserve_fds > kMaxPreservedFds) {
    return Fail("--preserve-fds: {} is not between 0 and {}", preserve_fds, kMaxPreservedFds);
  }
  FdHygienePlan plan;
  int keep = preserve_fds;
  std::optional<uint64_t> listen_fds;
  if (env != nullptr) {
    for (size_t i = 0; i < env->size(); ++i) {
      std::string_view e = (*env)[i];
      if (e.starts_with("LISTEN_FDS=")) {
        listen_fds = ParseU64(e.substr(strlen("LISTEN_FDS=")));
        if (!listen_fds || *listen_fds > kMaxPreservedFds) {
          return Fail("process.env[{}]: \"{}\" is not a number of fds", i, e);
        }
      }
    }
    if (listen_fds) {
      keep = std::max(keep, static_cast<int>(*listen_fds));
      // systemd's sd_listen_fds() only accepts fds meant for its own pid: in the
      // container that is the init, pid 1.
      std::erase_if(*env, [](const std::string& e) { return e.starts_with("LISTEN_PID="); });
      env->push_back("LISTEN_PID=1");
    }
  }
  plan.keep_through = 2 + keep;
  for (int fd : extra_keep) {
    if (fd < 0) {
      return Fail("fd {} to keep is negative", fd);
    }
    if (fd > plan.keep_through) {
      plan.extra_keep.push_back(fd);
    }
  }
  std::sort(plan.extra_keep.begin(), plan.extra_keep.end());
  plan.extra_keep.erase(std::unique(plan.extra_keep.begin(), plan.extra_keep.end()),
                        plan.extra_keep.end());
  return plan;
}

Status ApplyFdHygiene(Syscalls& sys, const FdHygienePlan& plan) {
  for (int fd = 3; fd <= plan.keep_through; ++fd) {
    if (int rc = sys.SetCloexec(fd, false); rc < 0 && rc != -EBADF) {
      return ErrnoFail(-rc, "keep preserved fd {} open across exec", fd);
    }
  }
  unsigned first = static_cast<unsigned>(plan.keep_through) + 1;
  auto mark = [&](unsigned lo, unsigned hi) -> int {
    return lo > hi ? 0 : sys.CloseRange(lo, hi, CLOSE_RANGE_CLOEXEC);
  };
  for (int keep : plan.extra_keep) {
    int rc = mark(first, static_cast<unsigned>(keep) - 1);
    if (rc == -ENOSYS || rc == -EINVAL) {
      return MarkCloexecFromFdList(sys, plan);
    }
    if (rc < 0) {
      return ErrnoFail(-rc, "mark fds {}..{} close-on-exec", first, keep - 1);
    }
    first = static_cast<unsigned>(keep) + 1;
  }
  int rc = mark(first, ~0U);
  if (rc == -ENOSYS || rc == -EINVAL) {
    return MarkCloexecFromFdList(sys, plan);
  }
  if (rc < 0) {
    return ErrnoFail(-rc, "mark fds from {} close-on-exec", first);
  }
  return Ok();
}

Status SetNonDumpable(Syscalls& sys) {
  if (int rc = sys.Prctl(PR_SET_DUMPABLE, 0); rc < 0) {
    return ErrnoFail(-rc, "make the container init non-dumpable");
  }
  return Ok();
}

Status SetParentDeathSignal(Syscalls& sys, pid_t expected_parent, int parent_pidfd) {
  if (int rc = sys.Prctl(PR_SET_PDEATHSIG, SIGKILL); rc < 0) {
    return ErrnoFail(-rc, "set the parent-death signal");
  }
  if (parent_pidfd >= 0) {
    struct pollfd p = {parent_pidfd, POLLIN, 0};
    if (poll(&p, 1, 0) != 0) {
      return Fail("brick exited while the container was being set up");
    }
  }
  if (pid_t parent = sys.Getppid(); parent != expected_parent) {
    return Fail(
        "brick (pid {}) exited while the container was being set up; the parent is now "
        "pid {}",
        expected_parent, parent);
  }
  return Ok();
}

Status NewSession(Syscalls& sys) {
  if (int rc = sys.Setsid(); rc < 0) {
    return ErrnoFail(-rc, "start a new session");
  }
  return Ok();
}

Status SetControllingTerminal(Syscalls& sys, int pty_slave_fd) {
  if (int rc = sys.SetControllingTerminal(pty_slave_fd); rc < 0) {
    return ErrnoFail(-rc, "make the pty the controlling terminal (TIOCSCTTY)");
  }
  return Ok();
}

bool RuntimeBinaryWritableFromContainer(const IdMappingPlan& idmap, uid_t binary_owner,
                                        gid_t binary_group) {
  if (!idmap.user_namespace) {
    return true;
  }
  return InMappings(idmap.uid_mappings, binary_owner) ||
         InMappings(idmap.gid_mappings, binary_group);
}

bool SealedReexecMarkerSet() { return getenv(kSealedReexecEnv) != nullptr; }

Result<bool> SelfIsSealedMemfd() {
  UniqueFd exe(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!exe) {
    return ErrnoFail(errno, "open /proc/self/exe");
  }
  int seals = fcntl(exe.get(), F_GET_SEALS);
  if (seals < 0) {
    if (errno == EINVAL) {
      return false;  // not a file that supports seals: not a memfd
    }
    return ErrnoFail(errno, "read the seals of /proc/self/exe");
  }
  return (static_cast<unsigned>(seals) & kSeals) == kSeals;
}

Status ReexecFromSealedMemfd(char* const argv[], char* const envp[]) {
  if (SealedReexecMarkerSet()) {
    return Fail("{} is already set: refusing to re-execute from a sealed copy again",
                kSealedReexecEnv);
  }
  UniqueFd source(open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!source) {
    return ErrnoFail(errno, "open /proc/self/exe");
  }
  struct stat st;
  if (fstat(source.get(), &st) < 0) {
    return ErrnoFail(errno, "stat /proc/self/exe");
  }
  UniqueFd copy(memfd_create("brick", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) {
    return ErrnoFail(errno, "create a memfd for the sealed copy of brick");
  }
  off_t left = st.st_size;
  while (left > 0) {
    ssize_t n = sendfile(copy.get(), source.get(), nullptr, static_cast<size_t>(left));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoFail(errno, "copy /proc/self/exe into a memfd");
    }
    if (n == 0) {
      return Fail("copy /proc/self/exe into a memfd: the binary shrank while being copied");
    }
    left -= n;
  }
  if (fcntl(copy.get(), F_ADD_SEALS, kSeals) < 0) {
    return ErrnoFail(errno, "seal the memfd copy of brick");
  }
  std::string marker = std::string(kSealedReexecEnv) + "=1";
  std::vector<char*> env;
  for (char* const* e = envp; e != nullptr && *e != nullptr; ++e) {
    env.push_back(*e);
  }
  env.push_back(marker.data());
  env.push_back(nullptr);
  fexecve(copy.get(), argv, env.data());
  return ErrnoFail(errno, "execute the sealed copy of brick");
}

}  // namespace brick::isolation
