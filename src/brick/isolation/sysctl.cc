#include "brick/isolation/sysctl.h"

#include <fcntl.h>
#include <linux/magic.h>

#include <string_view>

#include "brick/base/strings.h"

namespace brick::isolation {
namespace {

constexpr std::string_view kIpcKeys[] = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

bool IsIpcKey(std::string_view key) {
  for (std::string_view k : kIpcKeys) {
    if (key == k) {
      return true;
    }
  }
  return key.starts_with("fs.mqueue.");
}

Status CheckKeySyntax(const std::string& key) {
  if (key.empty()) {
    return Fail("linux.sysctl: empty key");
  }
  if (key.find('/') != std::string::npos) {
    return Fail("linux.sysctl[\"{}\"]: keys use dots, not slashes; write it as \"{}\"", key, [&] {
      std::string dotted = key;
      for (char& c : dotted) {
        c = c == '/' ? '.' : c;
      }
      return dotted;
    }());
  }
  for (const std::string& part : Split(key, '.')) {
    if (part.empty() || part == "..") {
      return Fail("linux.sysctl[\"{}\"]: not a sysctl key (empty component or \"..\")", key);
    }
  }
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Fail("linux.sysctl[\"{}\"]: invalid character '{}' in key", key, c);
    }
  }
  return Ok();
}

}  // namespace

Result<SysctlPlan> PlanSysctls(const std::map<std::string, std::string>& sysctls,
                               SysctlNamespaces namespaces) {
  SysctlPlan plan;
  for (const auto& [key, value] : sysctls) {
    BRICK_TRY(CheckKeySyntax(key));
    if (IsIpcKey(key)) {
      if (!namespaces.new_ipc) {
        return Fail(
            "linux.sysctl[\"{}\"]: needs a new ipc namespace, else it would change the host; add "
            "an ipc namespace to linux.namespaces or remove the sysctl",
            key);
      }
    } else if (key.starts_with("net.")) {
      if (!namespaces.new_net) {
        return Fail(
            "linux.sysctl[\"{}\"]: needs a new network namespace, else it would change the host; "
            "add a network namespace to linux.namespaces or remove the sysctl",
            key);
      }
    } else {
      return Fail(
          "linux.sysctl[\"{}\"]: not namespaced, so setting it would change the host; only the "
          "ipc keys (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) and net.* are allowed",
          key);
    }
    if (value.find('\0') != std::string::npos) {
      return Fail("linux.sysctl[\"{}\"]: value contains a NUL byte", key);
    }
    std::string path = "sys/" + key;
    for (size_t i = 4; i < path.size(); ++i) {
      path[i] = path[i] == '.' ? '/' : path[i];
    }
    plan.writes.push_back({key, std::move(path), value});
  }
  return plan;
}

Status ApplySysctls(Syscalls& sys, const SysctlPlan& plan, int proc_fd) {
  for (const SysctlWrite& w : plan.writes) {
    int fd = sys.OpenBeneath(proc_fd, w.proc_path.c_str(), O_WRONLY | O_NOFOLLOW);
    if (fd < 0) {
      if (fd == -ENOENT) {
        return ErrnoFail(-fd, "linux.sysctl[\"{}\"]: this kernel has no /proc/{}", w.key,
                         w.proc_path);
      }
      return ErrnoFail(-fd, "linux.sysctl[\"{}\"]: open /proc/{}", w.key, w.proc_path);
    }
    int64_t fs_type = 0;
    int rc = sys.Fstatfs(fd, &fs_type);
    if (rc == 0 && fs_type != PROC_SUPER_MAGIC) {
      sys.Close(fd);
      return Fail(
          "linux.sysctl[\"{}\"]: /proc/{} is not on procfs (filesystem type {:#x}); "
          "refusing to write it",
          w.key, w.proc_path, fs_type);
    }
    if (rc == 0) {
      rc = sys.Write(fd, w.value);
    }
    sys.Close(fd);
    if (rc < 0) {
      return ErrnoFail(-rc, "linux.sysctl[\"{}\"]: write \"{}\" to /proc/{}", w.key, w.value,
                       w.proc_path);
    }
  }
  return Ok();
}

}  // namespace brick::isolation
