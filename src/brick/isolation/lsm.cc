#include "brick/isolation/lsm.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>

#include "brick/base/strings.h"
#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

// Opens an attr file beneath the verified proc fd and checks it is on procfs too.
// thread-self is a symlink inside procfs, so only the final component is O_NOFOLLOW.
Result<int> OpenAttr(Syscalls& sys, int proc_fd, const char* rel) {
  int fd = sys.OpenAt(proc_fd, rel, O_WRONLY | O_NOFOLLOW);
  if (fd < 0) {
    return ErrnoFail(-fd, "open /proc/{}", rel);
  }
  int64_t fs_type = 0;
  if (int rc = sys.Fstatfs(fd, &fs_type); rc < 0) {
    sys.Close(fd);
    return ErrnoFail(-rc, "fstatfs /proc/{}", rel);
  }
  if (fs_type != PROC_SUPER_MAGIC) {
    sys.Close(fd);
    return Fail(
        "/proc/{} is not on procfs (filesystem type {:#x}); refusing to write a label "
        "through it",
        rel, fs_type);
  }
  return fd;
}

Status WriteAttr(Syscalls& sys, int fd, const char* rel, std::string_view value) {
  int rc = sys.Write(fd, value);
  sys.Close(fd);
  if (rc < 0) {
    return ErrnoFail(-rc, "write \"{}\" to /proc/{}", value, rel);
  }
  return Ok();
}

}  // namespace

HostLsms ParseLsmList(std::string_view list) {
  HostLsms host;
  for (const std::string& name : Split(Trim(list), ',')) {
    std::string_view n = Trim(name);
    host.apparmor = host.apparmor || n == "apparmor";
    host.selinux = host.selinux || n == "selinux";
  }
  return host;
}

Result<HostLsms> DetectHostLsms(const std::string& sys_root) {
  auto list = ReadFile(sys_root + "/kernel/security/lsm");
  if (list) {
    return ParseLsmList(*list);
  }
  if (list.error().errnum() != ENOENT) {
    return std::unexpected(std::move(list.error()).Wrap("detect the host's security modules"));
  }
  HostLsms host;
  auto enabled = ReadFile(sys_root + "/module/apparmor/parameters/enabled");
  host.apparmor = enabled && StartsWith(Trim(*enabled), "Y");
  struct stat st;
  host.selinux = stat((sys_root + "/fs/selinux/enforce").c_str(), &st) == 0;
  return host;
}

Result<LsmPlan> PlanLsm(const HostLsms& host, const LsmRequest& request) {
  LsmPlan plan;
  if (!request.apparmor_profile.empty()) {
    if (!host.apparmor) {
      return Fail(
          "apparmor is not enabled on this host; remove process.apparmorProfile or enable "
          "apparmor");
    }
    if (request.apparmor_profile.find_first_of(std::string_view("\n\0", 2)) != std::string::npos) {
      return Fail("process.apparmorProfile: \"{}\" contains a newline or NUL byte",
                  request.apparmor_profile);
    }
    plan.apparmor_exec = "exec " + request.apparmor_profile;
  }
  if (!request.selinux_label.empty() || !request.mount_label.empty()) {
    if (!host.selinux) {
      const char* field =
          !request.selinux_label.empty() ? "process.selinuxLabel" : "linux.mountLabel";
      return Fail("selinux is not enabled on this host; remove {} or enable selinux", field);
    }
  }
  for (const auto& [label, field] : {std::pair{&request.selinux_label, "process.selinuxLabel"},
                                     std::pair{&request.mount_label, "linux.mountLabel"}}) {
    if (label->find_first_of(std::string_view("\n\0\"", 3)) != std::string::npos) {
      return Fail("{}: \"{}\" contains a newline, quote or NUL byte", field, *label);
    }
  }
  plan.selinux_exec = request.selinux_label;
  if (!request.mount_label.empty()) {
    plan.mount_context_option = "context=\"" + request.mount_label + "\"";
  }
  return plan;
}

Result<UniqueFd> OpenVerifiedProcfs(Syscalls& sys, const char* path) {
  int fd = sys.OpenAt(AT_FDCWD, path, O_PATH | O_DIRECTORY);
  if (fd < 0) {
    return ErrnoFail(-fd, "open {}", path);
  }
  UniqueFd owned(fd);
  int64_t fs_type = 0;
  if (int rc = sys.Fstatfs(fd, &fs_type); rc < 0) {
    return ErrnoFail(-rc, "fstatfs {}", path);
  }
  if (fs_type != PROC_SUPER_MAGIC) {
    return Fail("{} is not procfs (filesystem type {:#x}); refusing to use it", path, fs_type);
  }
  return owned;
}

Status ApplyLsmExecLabels(Syscalls& sys, const LsmPlan& plan, int proc_fd) {
  if (!plan.apparmor_exec.empty()) {
    const char* rel = "thread-self/attr/apparmor/exec";
    auto fd = OpenAttr(sys, proc_fd, rel);
    if (!fd && fd.error().errnum() == ENOENT) {
      rel = "thread-self/attr/exec";  // kernels before the LSM stacking interface
      fd = OpenAttr(sys, proc_fd, rel);
    }
    if (!fd) {
      return std::unexpected(std::move(fd.error()).Wrap("apply process.apparmorProfile"));
    }
    BRICK_TRY(WriteAttr(sys, *fd, rel, plan.apparmor_exec), "apply process.apparmorProfile");
  }
  if (!plan.selinux_exec.empty()) {
    const char* rel = "thread-self/attr/exec";
    int fd = BRICK_TRY_VALUE(OpenAttr(sys, proc_fd, rel));
    BRICK_TRY(WriteAttr(sys, fd, rel, plan.selinux_exec), "apply process.selinuxLabel");
  }
  return Ok();
}

}  // namespace brick::isolation
