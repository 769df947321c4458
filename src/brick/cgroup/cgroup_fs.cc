#include "brick/cgroup/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brick/sys/fs.h"

namespace brick::cgroup {

KernelCgroupFs& KernelCgroupFs::Get() {
  static KernelCgroupFs fs;
  return fs;
}

Status KernelCgroupFs::Mkdir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0) {
    return ErrnoFail(errno, "mkdir {}", dir);
  }
  return Ok();
}

Result<UniqueFd> KernelCgroupFs::Open(const std::string& path, int flags) {
  UniqueFd fd(open(path.c_str(), flags | O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "open {}", path);
  }
  return fd;
}

Status KernelCgroupFs::Rmdir(const std::string& dir) {
  if (rmdir(dir.c_str()) != 0) {
    return ErrnoFail(errno, "rmdir {}", dir);
  }
  return Ok();
}

Status KernelCgroupFs::Write(const std::string& file, std::string_view value) {
  return WriteFile(file, value);
}

Result<std::string> KernelCgroupFs::Read(const std::string& file) { return ReadFile(file); }

bool KernelCgroupFs::Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool KernelCgroupFs::IsWritableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0222) != 0;
}

Result<std::vector<std::string>> KernelCgroupFs::ListChildren(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return ErrnoFail(errno, "open directory {}", dir);
  }
  std::vector<std::string> out;
  errno = 0;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) {
      out.push_back(std::move(name));
    }
  }
  int err = errno;
  closedir(d);
  if (err != 0) {
    return ErrnoFail(err, "read directory {}", dir);
  }
  return out;
}

Result<std::chrono::system_clock::time_point> KernelCgroupFs::ModifiedTime(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return ErrnoFail(errno, "stat {}", dir);
  }
  auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

Result<UniqueFd> KernelCgroupFs::ReplaceDeviceProgram(const std::string& dir,
                                                      const DeviceProgram& program) {
  UniqueFd cg(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) {
    return ErrnoFail(errno, "open cgroup {}", dir);
  }
  auto old_ids = QueryDevicePrograms(cg.get());
  if (!old_ids) {
    return std::unexpected(std::move(old_ids.error()).Wrap(dir));
  }
  UniqueFd prog = BRICK_TRY_VALUE(LoadDeviceProgram(program));
  BRICK_TRY(AttachDeviceProgram(cg.get(), prog.get()), dir);
  for (uint32_t id : *old_ids) {
    auto old = DeviceProgramFdById(id);
    if (!old) {
      if (old.error().errnum() == ENOENT) {
        continue;
      }
      return std::unexpected(std::move(old.error()).Wrap(dir));
    }
    auto st = cgroup::DetachDeviceProgram(cg.get(), old->get());
    if (!st && st.error().errnum() != ENOENT) {
      return std::unexpected(std::move(st.error()).Wrap(dir));
    }
  }
  return prog;
}

Status KernelCgroupFs::DetachDeviceProgram(const std::string& dir, int prog_fd) {
  UniqueFd cg(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg) {
    if (errno == ENOENT) {
      return Ok();
    }
    return ErrnoFail(errno, "open cgroup {}", dir);
  }
  auto st = cgroup::DetachDeviceProgram(cg.get(), prog_fd);
  if (!st && st.error().errnum() != ENOENT) {
    return std::unexpected(std::move(st.error()).Wrap(dir));
  }
  return Ok();
}

Status KernelCgroupFs::Kill(pid_t pid, int signal) {
  if (kill(pid, signal) != 0) {
    return ErrnoFail(errno, "kill {}", pid);
  }
  return Ok();
}

}  // namespace brick::cgroup
