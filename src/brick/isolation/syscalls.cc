#include "brick/isolation/syscalls.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace brick::isolation {
namespace {

int ErrnoResult(long rc) { return rc < 0 ? -errno : static_cast<int>(rc); }

// Walks `path` one component at a time for kernels without openat2: no symlinks,
// no "..", and no mount crossing (same st_dev as dir_fd).
int OpenBeneathFallback(int dir_fd, const char* path, int flags) {
  struct stat base;
  if (fstat(dir_fd, &base) < 0) {
    return -errno;
  }
  char component[NAME_MAX + 1];
  int cur = -1;  // -1: still at dir_fd
  const char* p = path;
  while (*p != '\0') {
    while (*p == '/') {
      ++p;
    }
    const char* end = strchrnul(p, '/');
    size_t len = static_cast<size_t>(end - p);
    if (len == 0) {
      break;
    }
    if (len > NAME_MAX) {
      if (cur >= 0) {
        close(cur);
      }
      return -ENAMETOOLONG;
    }
    memcpy(component, p, len);
    component[len] = '\0';
    if (strcmp(component, "..") == 0) {
      if (cur >= 0) {
        close(cur);
      }
      return -EXDEV;
    }
    const char* rest = end;
    while (*rest == '/') {
      ++rest;
    }
    bool last = *rest == '\0';
    int from = cur >= 0 ? cur : dir_fd;
    int next = last ? openat(from, component, flags | O_NOFOLLOW | O_CLOEXEC)
                    : openat(from, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int err = errno;
    if (cur >= 0) {
      close(cur);
    }
    if (next < 0) {
      return -err;
    }
    struct stat st;
    if (fstat(next, &st) < 0 || st.st_dev != base.st_dev) {
      close(next);
      return -EXDEV;
    }
    cur = next;
    p = rest;
  }
  return cur >= 0 ? cur : -EINVAL;
}

class RealSyscallsImpl final : public Syscalls {
 public:
  int Prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
            unsigned long arg5) override {
    return ErrnoResult(prctl(option, arg2, arg3, arg4, arg5));
  }

  int Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) override {
    struct __user_cap_header_struct header = {};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    header.pid = 0;
    struct __user_cap_data_struct data[2] = {};
    data[0].effective = static_cast<uint32_t>(effective);
    data[1].effective = static_cast<uint32_t>(effective >> 32);
    data[0].permitted = static_cast<uint32_t>(permitted);
    data[1].permitted = static_cast<uint32_t>(permitted >> 32);
    data[0].inheritable = static_cast<uint32_t>(inheritable);
    data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
    return ErrnoResult(syscall(SYS_capset, &header, data));
  }

  int Setgroups(std::span<const gid_t> groups) override {
    // The raw syscall: glibc's setgroups would signal every thread, which is pointless
    // (and allocation-prone) in a single-threaded child.
    return ErrnoResult(syscall(SYS_setgroups, groups.size(), groups.data()));
  }

  int Setresgid(gid_t rgid, gid_t egid, gid_t sgid) override {
    return ErrnoResult(syscall(SYS_setresgid, rgid, egid, sgid));
  }

  int Setresuid(uid_t ruid, uid_t euid, uid_t suid) override {
    return ErrnoResult(syscall(SYS_setresuid, ruid, euid, suid));
  }

  int Setrlimit(int resource, uint64_t soft, uint64_t hard) override {
    struct rlimit64 limit = {soft, hard};
    return ErrnoResult(prlimit64(0, static_cast<__rlimit_resource>(resource), &limit, nullptr));
  }

  int Getrlimit(int resource, uint64_t* soft, uint64_t* hard) override {
    struct rlimit64 limit = {};
    if (prlimit64(0, static_cast<__rlimit_resource>(resource), nullptr, &limit) < 0) {
      return -errno;
    }
    *soft = limit.rlim_cur;
    *hard = limit.rlim_max;
    return 0;
  }

  int Sethostname(std::string_view name) override {
    return ErrnoResult(sethostname(name.data(), name.size()));
  }

  int Setdomainname(std::string_view name) override {
    return ErrnoResult(setdomainname(name.data(), name.size()));
  }

  mode_t Umask(mode_t mask) override { return umask(mask); }

  int OpenAt(int dir_fd, const char* path, int flags, mode_t mode) override {
    return ErrnoResult(openat(dir_fd, path, flags | O_CLOEXEC, mode));
  }

  int OpenBeneath(int dir_fd, const char* path, int flags) override {
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
    while (true) {
      long fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
      if (fd >= 0) {
        return static_cast<int>(fd);
      }
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      if (errno == ENOSYS) {
        return OpenBeneathFallback(dir_fd, path, flags);
      }
      return -errno;
    }
  }

  int Fstatfs(int fd, int64_t* fs_type) override {
    struct statfs st;
    if (fstatfs(fd, &st) < 0) {
      return -errno;
    }
    *fs_type = static_cast<int64_t>(st.f_type);
    return 0;
  }

  int Write(int fd, std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = write(fd, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return -errno;
      }
      if (n == 0) {
        return -EIO;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return 0;
  }

  int Close(int fd) override { return ErrnoResult(close(fd)); }
  int Fchdir(int fd) override { return ErrnoResult(fchdir(fd)); }
  int Setsid() override { return ErrnoResult(setsid()); }
  int SetControllingTerminal(int fd) override { return ErrnoResult(ioctl(fd, TIOCSCTTY, 0)); }
  pid_t Getppid() override { return getppid(); }

  int CloseRange(unsigned first, unsigned last, unsigned flags) override {
    return ErrnoResult(syscall(SYS_close_range, first, last, flags));
  }

  int SetCloexec(int fd, bool on) override {
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) {
      return -errno;
    }
    int wanted = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    if (wanted == flags) {
      return 0;
    }
    return ErrnoResult(fcntl(fd, F_SETFD, wanted));
  }

  int ListOpenFds(std::span<int> out) override {
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
      return -errno;
    }
    int count = 0;
    alignas(struct dirent64) char buf[4096];
    while (true) {
      long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
      if (n < 0) {
        int err = errno;
        close(dir);
        return -err;
      }
      if (n == 0) {
        break;
      }
      for (long off = 0; off < n;) {
        auto* entry = reinterpret_cast<struct dirent64*>(buf + off);
        off += entry->d_reclen;
        const char* name = entry->d_name;
        if (name[0] < '0' || name[0] > '9') {
          continue;
        }
        int fd = 0;
        for (const char* c = name; *c >= '0' && *c <= '9'; ++c) {
          fd = fd * 10 + (*c - '0');
        }
        if (fd == dir) {
          continue;
        }
        if (static_cast<size_t>(count) < out.size()) {
          out[static_cast<size_t>(count)] = fd;
        }
        ++count;
      }
    }
    close(dir);
    return count;
  }
};

std::string PrctlName(int option) {
  switch (option) {
    case PR_CAPBSET_DROP:
      return "PR_CAPBSET_DROP";
    case PR_SET_KEEPCAPS:
      return "PR_SET_KEEPCAPS";
    case PR_CAP_AMBIENT:
      return "PR_CAP_AMBIENT";
    case PR_SET_DUMPABLE:
      return "PR_SET_DUMPABLE";
    case PR_SET_PDEATHSIG:
      return "PR_SET_PDEATHSIG";
    case PR_SET_NO_NEW_PRIVS:
      return "PR_SET_NO_NEW_PRIVS";
    default:
      return fmt::format("{}", option);
  }
}

std::string OpenFlagsText(int flags) {
  std::string s;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      s = "O_RDONLY";
      break;
    case O_WRONLY:
      s = "O_WRONLY";
      break;
    default:
      s = "O_RDWR";
      break;
  }
  const std::pair<int, const char*> kNamed[] = {{O_PATH, "O_PATH"},
                                                {O_DIRECTORY, "O_DIRECTORY"},
                                                {O_NOFOLLOW, "O_NOFOLLOW"},
                                                {O_CREAT, "O_CREAT"},
                                                {O_TRUNC, "O_TRUNC"}};
  for (const auto& [bit, name] : kNamed) {
    if ((flags & bit) == bit) {
      s += '|';
      s += name;
    }
  }
  if (flags & O_PATH) {
    s = s.substr(s.find('|') + 1);  // the access mode means nothing with O_PATH
  }
  return s;
}

}  // namespace

Syscalls& RealSyscalls() {
  static RealSyscallsImpl real;
  return real;
}

int RecordingSyscalls::Record(std::string call) {
  int err = 0;
  for (const auto& [prefix, e] : failures_) {
    if (call.starts_with(prefix)) {
      err = e;
      break;
    }
  }
  calls_.push_back(std::move(call));
  return -err;
}

int RecordingSyscalls::Prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4,
                             unsigned long arg5) {
  std::string text = "prctl(" + PrctlName(option) + ", ";
  if (option == PR_CAP_AMBIENT) {
    text += arg2 == PR_CAP_AMBIENT_RAISE       ? "PR_CAP_AMBIENT_RAISE"
            : arg2 == PR_CAP_AMBIENT_CLEAR_ALL ? "PR_CAP_AMBIENT_CLEAR_ALL"
                                               : fmt::format("{}", arg2);
  } else {
    text += fmt::format("{}", arg2);
  }
  for (unsigned long a : {arg3, arg4, arg5}) {
    if (a != 0) {
      text += fmt::format(", {}", a);
    }
  }
  return Record(text + ")");
}

int RecordingSyscalls::Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  return Record(fmt::format("capset(effective={:#x}, permitted={:#x}, inheritable={:#x})",
                            effective, permitted, inheritable));
}

int RecordingSyscalls::Setgroups(std::span<const gid_t> groups) {
  std::string list;
  for (gid_t g : groups) {
    list += list.empty() ? "" : ", ";
    list += fmt::format("{}", g);
  }
  return Record("setgroups([" + list + "])");
}

int RecordingSyscalls::Setresgid(gid_t rgid, gid_t egid, gid_t sgid) {
  return Record(fmt::format("setresgid({}, {}, {})", rgid, egid, sgid));
}

int RecordingSyscalls::Setresuid(uid_t ruid, uid_t euid, uid_t suid) {
  return Record(fmt::format("setresuid({}, {}, {})", ruid, euid, suid));
}

int RecordingSyscalls::Setrlimit(int resource, uint64_t soft, uint64_t hard) {
  int rc = Record(fmt::format("setrlimit({}, {}, {})", resource, soft, hard));
  if (rc == 0) {
    rlimits_[resource] = {soft, hard};
  }
  return rc;
}

int RecordingSyscalls::Getrlimit(int resource, uint64_t* soft, uint64_t* hard) {
  auto it = rlimits_.find(resource);
  if (it == rlimits_.end()) {
    *soft = *hard = RLIM_INFINITY;
  } else {
    *soft = it->second.first;
    *hard = it->second.second;
  }
  return 0;  // reads are not recorded: they change nothing
}

int RecordingSyscalls::Sethostname(std::string_view name) {
  return Record(fmt::format("sethostname(\"{}\")", name));
}

int RecordingSyscalls::Setdomainname(std::string_view name) {
  return Record(fmt::format("setdomainname(\"{}\")", name));
}

mode_t RecordingSyscalls::Umask(mode_t mask) {
  Record(fmt::format("umask({:04o})", mask));
  return std::exchange(umask_, mask);
}

int RecordingSyscalls::OpenAt(int dir_fd, const char* path, int flags, mode_t) {
  int rc = Record(fmt::format("openat({}, \"{}\", {})", dir_fd, path, OpenFlagsText(flags)));
  return rc < 0 ? rc : next_fd_++;
}

int RecordingSyscalls::OpenBeneath(int dir_fd, const char* path, int flags) {
  int rc = Record(fmt::format("open_beneath({}, \"{}\", {})", dir_fd, path, OpenFlagsText(flags)));
  return rc < 0 ? rc : next_fd_++;
}

int RecordingSyscalls::Fstatfs(int fd, int64_t* fs_type) {
  auto it = fs_types_.find(fd);
  *fs_type = it == fs_types_.end() ? PROC_SUPER_MAGIC : it->second;
  return Record(fmt::format("fstatfs({})", fd));
}

int RecordingSyscalls::Write(int fd, std::string_view data) {
  return Record(fmt::format("write({}, \"{}\")", fd, data));
}

int RecordingSyscalls::Close(int fd) { return Record(fmt::format("close({})", fd)); }
int RecordingSyscalls::Fchdir(int fd) { return Record(fmt::format("fchdir({})", fd)); }
int RecordingSyscalls::Setsid() { return Record("setsid()"); }

int RecordingSyscalls::SetControllingTerminal(int fd) {
  return Record(fmt::format("ioctl({}, TIOCSCTTY)", fd));
}

pid_t RecordingSyscalls::Getppid() { return ppid_; }

int RecordingSyscalls::CloseRange(unsigned first, unsigned last, unsigned flags) {
  std::string last_text = last == ~0U ? "~0U" : fmt::format("{}", last);
  std::string flags_text =
      flags == CLOSE_RANGE_CLOEXEC ? "CLOSE_RANGE_CLOEXEC" : fmt::format("{}", flags);
  return Record(fmt::format("close_range({}, {}, {})", first, last_text, flags_text));
}

int RecordingSyscalls::SetCloexec(int fd, bool on) {
  return Record(fmt::format("set_cloexec({}, {})", fd, on ? "on" : "off"));
}

int RecordingSyscalls::ListOpenFds(std::span<int> out) {
  for (size_t i = 0; i < open_fds_.size() && i < out.size(); ++i) {
    out[i] = open_fds_[i];
  }
  return static_cast<int>(open_fds_.size());
}

}  // namespace brick::isolation
