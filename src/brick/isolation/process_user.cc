#include "brick/isolation/process_user.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>

#include <algorithm>

#include "brick/base/strings.h"
#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

constexpr size_t kMaxUtsName = 64;  // __NEW_UTS_LEN

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Why `st` cannot be executed, or 0 when it can. execve refuses directories and
// other non-regular files with EACCES too.
int NotExecutable(const struct stat& st) {
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0) {
    return EACCES;
  }
  return 0;
}

// Looks up one in-container path: 0 when it is an executable file, else the errno.
int CheckCandidate(int root_fd, const std::string& path) {
  auto fd = OpenInRoot(root_fd, path, O_PATH);
  if (!fd) {
    return fd.error().errnum() != 0 ? fd.error().errnum() : ENOENT;
  }
  struct stat st;
  if (fstat(fd->get(), &st) < 0) {
    return errno;
  }
  return NotExecutable(st);
}

std::string JoinInContainer(std::string_view dir, std::string_view name) {
  std::string p(dir);
  if (p.empty() || p.back() != '/') {
    p += '/';
  }
  p += name;
  return p;
}

}  // namespace

Result<UtsPlan> PlanUts(const std::string& hostname, const std::string& domainname,
                        bool new_uts_namespace) {
  UtsPlan plan;
  for (const auto& [value, field, slot] :
       {std::tuple{&hostname, "hostname", &plan.hostname},
        std::tuple{&domainname, "domainname", &plan.domainname}}) {
    if (value->empty()) {
      continue;
    }
    if (!new_uts_namespace) {
      return Fail(
          "{}: setting it needs a new uts namespace, else it would rename the host; add "
          "a uts namespace to linux.namespaces or remove {}",
          field, field);
    }
    if (value->size() > kMaxUtsName || HasNul(*value)) {
      return Fail("{}: \"{}\" is longer than {} bytes or contains a NUL byte", field, *value,
                  kMaxUtsName);
    }
    *slot = *value;
  }
  return plan;
}

Status ApplyUts(Syscalls& sys, const UtsPlan& plan) {
  if (plan.hostname) {
    if (int rc = sys.Sethostname(*plan.hostname); rc < 0) {
      return ErrnoFail(-rc, "set hostname \"{}\"", *plan.hostname);
    }
  }
  if (plan.domainname) {
    if (int rc = sys.Setdomainname(*plan.domainname); rc < 0) {
      return ErrnoFail(-rc, "set domainname \"{}\"", *plan.domainname);
    }
  }
  return Ok();
}

Result<IdsPlan> PlanIds(const oci::User& user, bool setgroups_allowed) {
  IdsPlan plan;
  plan.uid = user.uid;
  plan.gid = user.gid;
  plan.setgroups_allowed = setgroups_allowed;
  for (uint32_t g : user.additional_gids) {
    if (std::find(plan.additional_gids.begin(), plan.additional_gids.end(), g) ==
        plan.additional_gids.end()) {
      plan.additional_gids.push_back(g);
    }
  }
  if (!setgroups_allowed && !plan.additional_gids.empty()) {
    return Fail(
        "process.user.additionalGids: setgroups is denied in this user namespace; remove the "
        "additional gids or allow setgroups");
  }
  constexpr uint32_t kInvalid = static_cast<uint32_t>(-1);
  if (plan.uid == kInvalid || plan.gid == kInvalid) {
    return Fail("process.user: uid and gid must not be {} (it means \"no change\" to the kernel)",
                kInvalid);
  }
  return plan;
}

mode_t UmaskOf(const oci::User& user) {
  return user.umask ? static_cast<mode_t>(*user.umask & 07777) : 0022;
}

void ApplyUmask(Syscalls& sys, mode_t mask) { sys.Umask(mask); }

ExecStrings::ExecStrings(std::vector<std::string> entries) : entries_(std::move(entries)) {
  pointers_.reserve(entries_.size() + 1);
  for (std::string& e : entries_) {
    pointers_.push_back(e.data());
  }
  pointers_.push_back(nullptr);
}

Result<ExecStrings> ExecStrings::FromEnv(std::vector<std::string> env) {
  for (size_t i = 0; i < env.size(); ++i) {
    size_t eq = env[i].find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail("process.env[{}]: \"{}\" is not KEY=VALUE", i, env[i]);
    }
    if (HasNul(env[i])) {
      return Fail("process.env[{}]: contains a NUL byte", i);
    }
  }
  return ExecStrings(std::move(env));
}

Result<ExecStrings> ExecStrings::FromArgs(std::vector<std::string> args) {
  if (args.empty() || args[0].empty()) {
    return Fail("process.args: no program given; set process.args[0]");
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (HasNul(args[i])) {
      return Fail("process.args[{}]: contains a NUL byte", i);
    }
  }
  return ExecStrings(std::move(args));
}

std::optional<std::string_view> ExecStrings::Get(std::string_view key) const {
  std::optional<std::string_view> found;
  for (const std::string& e : entries_) {
    std::string_view v(e);
    if (v.size() > key.size() && v.starts_with(key) && v[key.size()] == '=') {
      found = v.substr(key.size() + 1);
    }
  }
  return found;
}

Status CheckCwd(const std::string& cwd) {
  if (cwd.empty() || cwd[0] != '/') {
    return Fail("process.cwd: \"{}\" is not an absolute path", cwd);
  }
  if (HasNul(cwd)) {
    return Fail("process.cwd: contains a NUL byte");
  }
  return Ok();
}

Status ApplyCwd(Syscalls& sys, int root_fd, const std::string& cwd) {
  auto dir = OpenInRoot(root_fd, cwd, O_PATH | O_DIRECTORY);
  if (!dir) {
    return ErrnoFail(dir.error().errnum(), "process.cwd \"{}\"", cwd);
  }
  if (int rc = sys.Fchdir(dir->get()); rc < 0) {
    return ErrnoFail(-rc, "process.cwd \"{}\": fchdir", cwd);
  }
  return Ok();
}

Status CheckOomScoreAdj(std::optional<int> adj) {
  if (adj && (*adj < -1000 || *adj > 1000)) {
    return Fail("process.oomScoreAdj: {} is outside -1000..1000", *adj);
  }
  return Ok();
}

Status ApplyOomScoreAdj(Syscalls& sys, int proc_fd, std::optional<int> adj) {
  if (!adj) {
    return Ok();
  }
  int fd = sys.OpenAt(proc_fd, "self/oom_score_adj", O_WRONLY | O_NOFOLLOW);
  if (fd < 0) {
    return ErrnoFail(-fd, "process.oomScoreAdj: open /proc/self/oom_score_adj");
  }
  int64_t fs_type = 0;
  int rc = sys.Fstatfs(fd, &fs_type);
  if (rc == 0 && fs_type != PROC_SUPER_MAGIC) {
    sys.Close(fd);
    return Fail(
        "process.oomScoreAdj: /proc/self/oom_score_adj is not on procfs (filesystem "
        "type {:#x}); refusing to write it",
        fs_type);
  }
  char text[16];
  auto end = fmt::format_to_n(text, sizeof text, "{}", *adj);
  if (rc == 0) {
    rc = sys.Write(fd, std::string_view(text, end.size));
  }
  sys.Close(fd);
  if (rc == -EACCES || rc == -EPERM) {
    return ErrnoFail(-rc,
                     "process.oomScoreAdj: set {}: lowering the score below its current "
                     "minimum needs CAP_SYS_RESOURCE; raise process.oomScoreAdj",
                     *adj);
  }
  if (rc < 0) {
    return ErrnoFail(-rc, "process.oomScoreAdj: write {} to /proc/self/oom_score_adj", *adj);
  }
  return Ok();
}

Result<std::string> ResolveExecutable(int root_fd, std::string_view arg0, std::string_view cwd,
                                      std::optional<std::string_view> path_env) {
  if (arg0.empty()) {
    return Fail("process.args: no program given; set process.args[0]");
  }
  if (arg0.find('/') != std::string_view::npos) {
    std::string path = arg0[0] == '/' ? std::string(arg0) : JoinInContainer(cwd, arg0);
    if (int err = CheckCandidate(root_fd, path); err != 0) {
      return ErrnoFail(err, "process.args[0] \"{}\"", arg0);
    }
    return path;
  }
  std::string_view search = path_env ? *path_env : std::string_view(kDefaultPath);
  std::string denied;
  for (const std::string& dir : Split(search, ':')) {
    if (dir.empty() || dir[0] != '/') {
      continue;  // relative entries would depend on the cwd: never searched
    }
    std::string candidate = JoinInContainer(dir, arg0);
    int err = CheckCandidate(root_fd, candidate);
    if (err == 0) {
      return candidate;
    }
    if (err == EACCES && denied.empty()) {
      denied = candidate;
    }
  }
  if (!denied.empty()) {
    return ErrnoFail(EACCES, "process.args[0] \"{}\": found {} but it is not executable", arg0,
                     denied);
  }
  return Fail("process.args[0] \"{}\": executable file not found in $PATH", arg0);
}

}  // namespace brick::isolation
