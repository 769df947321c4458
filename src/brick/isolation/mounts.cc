#include "brick/isolation/mounts.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>

#include <cstring>
#include <memory>
#include <filesystem>
#include <map>
#include <set>

#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

struct FlagInfo {
  bool clear;
  unsigned long flag;
};

const std::map<std::string, FlagInfo>& FlagTable() {
  static const std::map<std::string, FlagInfo> table = {
      {"ro", {false, MS_RDONLY}},         {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},     {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},       {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},     {"exec", {true, MS_NOEXEC}},
      {"sync", {false, MS_SYNCHRONOUS}},  {"async", {true, MS_SYNCHRONOUS}},
      {"dirsync", {false, MS_DIRSYNC}},   {"remount", {false, MS_REMOUNT}},
      {"mand", {false, MS_MANDLOCK}},     {"nomand", {true, MS_MANDLOCK}},
      {"noatime", {false, MS_NOATIME}},   {"atime", {true, MS_NOATIME}},
      {"nodiratime", {false, MS_NODIRATIME}}, {"diratime", {true, MS_NODIRATIME}},
      {"relatime", {false, MS_RELATIME}}, {"norelatime", {true, MS_RELATIME}},
      {"strictatime", {false, MS_STRICTATIME}}, {"nostrictatime", {true, MS_STRICTATIME}},
      {"lazytime", {false, MS_LAZYTIME}}, {"nolazytime", {true, MS_LAZYTIME}},
      {"nosymfollow", {false, MS_NOSYMFOLLOW}}, {"symfollow", {true, MS_NOSYMFOLLOW}},
      {"silent", {false, MS_SILENT}},     {"loud", {true, MS_SILENT}},
  };
  return table;
}

const std::map<std::string, unsigned long>& PropagationTable() {
  static const std::map<std::string, unsigned long> table = {
      {"private", MS_PRIVATE},   {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},     {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},       {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  return table;
}

struct AttrInfo {
  bool clear;
  uint64_t attr;
};

const std::map<std::string, AttrInfo>& RecursiveAttrTable() {
  static const std::map<std::string, AttrInfo> table = {
      {"rro", {false, MOUNT_ATTR_RDONLY}},      {"rrw", {true, MOUNT_ATTR_RDONLY}},
      {"rnosuid", {false, MOUNT_ATTR_NOSUID}},  {"rsuid", {true, MOUNT_ATTR_NOSUID}},
      {"rnodev", {false, MOUNT_ATTR_NODEV}},    {"rdev", {true, MOUNT_ATTR_NODEV}},
      {"rnoexec", {false, MOUNT_ATTR_NOEXEC}},  {"rexec", {true, MOUNT_ATTR_NOEXEC}},
      {"rnodiratime", {false, MOUNT_ATTR_NODIRATIME}}, {"rdiratime", {true, MOUNT_ATTR_NODIRATIME}},
      {"rnosymfollow", {false, MOUNT_ATTR_NOSYMFOLLOW}},
      {"rsymfollow", {true, MOUNT_ATTR_NOSYMFOLLOW}},
  };
  return table;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) {
      out += ',';
    }
    out += p;
  }
  return out;
}

Status MountAt(const char* source, int target_fd, const char* type, unsigned long flags,
               const std::string& data, const std::string& what) {
  std::string target = FdPath(target_fd);
  if (mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoFail(errno, "{}", what);
  }
  return Ok();
}

// Flags a bind remount must keep: inside a user namespace the kernel locks the
// flags the source mount had, and a remount that drops them fails with EPERM.
constexpr unsigned long kLockableFlags =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME;

Status RemountBind(int root_fd, const std::string& dest, unsigned long flags,
                   const std::string& what) {
  UniqueFd fresh = BRICK_TRY_VALUE(OpenInRoot(root_fd, dest, O_PATH));
  unsigned long current = BRICK_TRY_VALUE(MountFlagsOf(fresh.get()));
  unsigned long want = flags | (current & kLockableFlags & ~MS_RDONLY);
  // Keep the atime mode unless one was asked for.
  if (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) {
    want = (want & ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME)) | (flags & (MS_NOATIME | MS_RELATIME | MS_STRICTATIME));
  }
  if (current & MS_RDONLY) {
    want |= MS_RDONLY;  // a read-only source cannot be made writable by a bind
  }
  return MountAt(nullptr, fresh.get(), nullptr, MS_REMOUNT | MS_BIND | want, "", what);
}

Status SetPropagation(int root_fd, const std::string& dest, unsigned long propagation,
                      const std::string& what) {
  if (propagation == 0) {
    return Ok();
  }
  UniqueFd fresh = BRICK_TRY_VALUE(OpenInRoot(root_fd, dest, O_PATH));
  return MountAt(nullptr, fresh.get(), nullptr, propagation, "", what);
}

Status SetRecursiveAttrs(int root_fd, const std::string& dest, const MountOptions& o,
                         const std::string& what) {
  if (o.attr_set == 0 && o.attr_clr == 0) {
    return Ok();
  }
  UniqueFd fresh = BRICK_TRY_VALUE(OpenInRoot(root_fd, dest, O_PATH));
  struct mount_attr attr = {};
  attr.attr_set = o.attr_set;
  attr.attr_clr = o.attr_clr;
  if (syscall(SYS_mount_setattr, fresh.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
              sizeof attr) != 0) {
    return ErrnoFail(errno, "{}: set recursive mount attributes", what);
  }
  return Ok();
}

Status MountCgroup(int root_fd, const RootfsPlan& plan, const PlannedMount& pm) {
  const auto& o = pm.options;
  const std::string& dest = pm.mount.destination;
  std::string what = fmt::format("{}: mount cgroup at {}", pm.field, dest);
  unsigned long flags = (o.flags & ~MS_REMOUNT) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  UniqueFd target = BRICK_TRY_VALUE(EnsureMountTargetInRoot(root_fd, dest, true));
  if (plan.cgroup_v2_only) {
    return MountAt("cgroup2", target.get(), "cgroup2", flags, "", what);
  }
  // v1 and hybrid: cgroup v1 cannot be mounted inside a user namespace, so expose the
  // container's own cgroup directories by bind mounts under a small tmpfs.
  BRICK_TRY(MountAt("tmpfs", target.get(), "tmpfs", flags & ~MS_RDONLY, "mode=755,size=64k", what));
  for (const auto& cb : plan.cgroup_binds) {
    std::string sub = dest + "/" + cb.name;
    UniqueFd src(open(cb.host_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!src) {
      return ErrnoFail(errno, "{}: open {}", what, cb.host_path);
    }
    UniqueFd t = BRICK_TRY_VALUE(EnsureMountTargetInRoot(root_fd, sub, true));
    std::string src_path = FdPath(src.get());
    BRICK_TRY(MountAt(src_path.c_str(), t.get(), nullptr, MS_BIND, "", what));
    BRICK_TRY(RemountBind(root_fd, sub, flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), what));
  }
  if (flags & MS_RDONLY) {
    BRICK_TRY(RemountBind(root_fd, dest, flags, what));
  }
  return Ok();
}

// Copies the entries of `from` (the directory a tmpfs now covers) into `to` (the tmpfs):
// directories, regular files and symlinks, with their modes. Everything is done relative
// to the two fds, never by path, and symlinks are copied, not followed.
Status CopyUp(int from, int to, const std::string& what, int depth = 0) {
  if (depth > 32) {
    return Fail("{}: tmpcopyup: directories nested too deeply", what);
  }
  UniqueFd dup_fd(openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dup_fd) {
    return ErrnoFail(errno, "{}: tmpcopyup: open the covered directory", what);
  }
  DIR* d = fdopendir(dup_fd.release());
  if (d == nullptr) {
    return ErrnoFail(errno, "{}: tmpcopyup: read the covered directory", what);
  }
  std::unique_ptr<DIR, int (*)(DIR*)> closer(d, closedir);
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") {
      continue;
    }
    struct stat st;
    if (fstatat(from, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoFail(errno, "{}: tmpcopyup: stat {}", what, name);
    }
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(to, name.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST) {
        return ErrnoFail(errno, "{}: tmpcopyup: mkdir {}", what, name);
      }
      UniqueFd sub_from(openat(from, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd sub_to(openat(to, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub_from || !sub_to) {
        return ErrnoFail(errno, "{}: tmpcopyup: open {}", what, name);
      }
      BRICK_TRY(CopyUp(sub_from.get(), sub_to.get(), what, depth + 1));
    } else if (S_ISLNK(st.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = readlinkat(from, name.c_str(), target, sizeof target - 1);
      if (n < 0) {
        return ErrnoFail(errno, "{}: tmpcopyup: readlink {}", what, name);
      }
      target[n] = '\0';
      if (symlinkat(target, to, name.c_str()) != 0) {
        return ErrnoFail(errno, "{}: tmpcopyup: symlink {}", what, name);
      }
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd in(openat(from, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd out(openat(to, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          st.st_mode & 07777));
      if (!in || !out) {
        return ErrnoFail(errno, "{}: tmpcopyup: copy {}", what, name);
      }
      char buf[65536];
      ssize_t n;
      while ((n = read(in.get(), buf, sizeof buf)) > 0) {
        BRICK_TRY(WriteAll(out.get(), std::string_view(buf, static_cast<size_t>(n))));
      }
      if (n < 0) {
        return ErrnoFail(errno, "{}: tmpcopyup: read {}", what, name);
      }
    }  // device nodes, fifos and sockets are not copied up
  }
  return Ok();
}

Status MountOne(int root_fd, const RootfsPlan& plan, const PlannedMount& pm) {
  const auto& m = pm.mount;
  const auto& o = pm.options;
  std::string what = fmt::format("{}: mount {} on {}", pm.field,
                                 o.bind ? pm.source : (m.type.empty() ? m.source : m.type),
                                 m.destination);
  if (!o.bind && (m.type == "cgroup" || m.type == "cgroup2")) {
    return MountCgroup(root_fd, plan, pm);
  }
  if (o.bind) {
    UniqueFd src(open(pm.source.c_str(), O_PATH | O_CLOEXEC));
    if (!src) {
      return ErrnoFail(errno, "{}: open source {}", pm.field, pm.source);
    }
    struct stat st;
    if (fstat(src.get(), &st) != 0) {
      return ErrnoFail(errno, "{}: stat source {}", pm.field, pm.source);
    }
    UniqueFd target =
        BRICK_TRY_VALUE(EnsureMountTargetInRoot(root_fd, m.destination, S_ISDIR(st.st_mode)));
    std::string src_path = FdPath(src.get());
    BRICK_TRY(MountAt(src_path.c_str(), target.get(), nullptr,
                      MS_BIND | (o.recursive_bind ? MS_REC : 0), "", what));
    unsigned long extra = o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (extra != 0) {
      BRICK_TRY(RemountBind(root_fd, m.destination, extra, what));
    }
  } else {
    UniqueFd target = BRICK_TRY_VALUE(EnsureMountTargetInRoot(root_fd, m.destination, true));
    std::string data = o.data;
    if (!plan.mount_label.empty() && (m.type == "tmpfs" || m.type == "mqueue")) {
      data += (data.empty() ? "" : ",") + fmt::format("context=\"{}\"", plan.mount_label);
    }
    std::string source = m.source.empty() ? m.type : m.source;
    // The directory about to be covered, kept open so its entries can be copied up.
    UniqueFd covered;
    if (o.tmpcopyup && m.type == "tmpfs") {
      covered = BRICK_TRY_VALUE(OpenInRoot(root_fd, m.destination, O_RDONLY | O_DIRECTORY));
    }
    // Read-only is applied after the copy-up, which needs to write into the tmpfs.
    unsigned long flags = o.flags & ~MS_REMOUNT & ~(covered ? MS_RDONLY : 0);
    auto s = MountAt(source.c_str(), target.get(), m.type.c_str(), flags, data, what);
    if (s && covered) {
      UniqueFd fresh = BRICK_TRY_VALUE(OpenInRoot(root_fd, m.destination, O_RDONLY | O_DIRECTORY));
      BRICK_TRY(CopyUp(covered.get(), fresh.get(), what));
      if (o.flags & MS_RDONLY) {
        BRICK_TRY(RemountBind(root_fd, m.destination, o.flags & ~MS_REMOUNT, what));
      }
    }
    if (!s && m.type == "sysfs" && (s.error().errnum() == EPERM || s.error().errnum() == EBUSY)) {
      // A user namespace that does not own the network namespace may not mount sysfs:
      // show the host's sysfs read-only instead.
      UniqueFd host_sys(open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!host_sys) {
        return ErrnoFail(errno, "{}: open /sys", pm.field);
      }
      std::string src_path = FdPath(host_sys.get());
      BRICK_TRY(MountAt(src_path.c_str(), target.get(), nullptr, MS_BIND | MS_REC, "", what));
      BRICK_TRY(RemountBind(root_fd, m.destination,
                            MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, what));
    } else if (!s) {
      return s;
    }
  }
  BRICK_TRY(SetPropagation(root_fd, m.destination, o.propagation, what));
  BRICK_TRY(SetRecursiveAttrs(root_fd, m.destination, o, what));
  return Ok();
}

}  // namespace

Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options,
                                       const std::string& field) {
  MountOptions o;
  std::vector<std::string> data;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& opt = options[i];
    if (opt.empty() || opt == "defaults") {
      continue;
    }
    if (opt == "bind") {
      o.bind = true;
      continue;
    }
    if (opt == "rbind") {
      o.bind = true;
      o.recursive_bind = true;
      continue;
    }
    if (opt == "tmpcopyup") {
      o.tmpcopyup = true;
      continue;
    }
    if (opt == "idmap" || opt == "ridmap") {
      return Fail("{}[{}]: idmapped mounts (\"{}\") are not supported yet", field, i, opt);
    }
    if (auto it = FlagTable().find(opt); it != FlagTable().end()) {
      if (it->second.clear) {
        o.flags &= ~it->second.flag;
        o.clear |= it->second.flag;
      } else {
        o.flags |= it->second.flag;
        o.clear &= ~it->second.flag;
      }
      continue;
    }
    if (auto it = PropagationTable().find(opt); it != PropagationTable().end()) {
      o.propagation = it->second;
      continue;
    }
    if (auto it = RecursiveAttrTable().find(opt); it != RecursiveAttrTable().end()) {
      if (it->second.clear) {
        o.attr_clr |= it->second.attr;
        o.attr_set &= ~it->second.attr;
      } else {
        o.attr_set |= it->second.attr;
        o.attr_clr &= ~it->second.attr;
      }
      continue;
    }
    if (opt.find(',') != std::string::npos) {
      return Fail("{}[{}]: \"{}\" holds a comma; give each option as its own entry", field, i,
                  opt);
    }
    data.push_back(opt);
  }
  o.data = Join(data);
  return o;
}

std::vector<std::string> KnownMountOptions() {
  std::set<std::string> names = {"bind", "defaults", "rbind", "tmpcopyup"};
  for (const auto& [name, info] : FlagTable()) {
    names.insert(name);
  }
  for (const auto& [name, flags] : PropagationTable()) {
    names.insert(name);
  }
  for (const auto& [name, info] : RecursiveAttrTable()) {
    names.insert(name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<unsigned long> MountFlagsOf(int fd) {
  struct statvfs sv;
  if (fstatvfs(fd, &sv) != 0) {
    return ErrnoFail(errno, "statvfs");
  }
  unsigned long f = 0;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

Result<RootfsPlan> PlanRootfs(const oci::Spec& spec, const std::string& bundle_dir) {
  RootfsPlan plan;
  std::filesystem::path root(spec.root.path);
  if (root.is_relative()) {
    root = std::filesystem::path(bundle_dir) / root;
  }
  std::error_code ec;
  auto canonical = std::filesystem::canonical(root, ec);
  if (ec) {
    return Fail("root.path: {}: {}", root.string(), ec.message());
  }
  if (!std::filesystem::is_directory(canonical, ec)) {
    return Fail("root.path: {} is not a directory", canonical.string());
  }
  if (canonical == "/") {
    return Fail("root.path: the host's / cannot be a container root");
  }
  plan.rootfs = canonical.string();
  plan.readonly = spec.root.readonly;
  const std::string& prop = spec.linux.rootfs_propagation;
  if (!prop.empty()) {
    auto it = PropagationTable().find(prop);
    if (it == PropagationTable().end()) {
      return Fail("linux.rootfsPropagation: unknown value \"{}\"", prop);
    }
    plan.root_propagation = it->second | MS_REC;
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    const auto& m = spec.mounts[i];
    PlannedMount pm;
    pm.field = fmt::format("mounts[{}]", i);
    pm.mount = m;
    pm.options = BRICK_TRY_VALUE(ParseMountOptions(m.options, pm.field + ".options"));
    if (m.type == "bind") {
      pm.options.bind = true;
    }
    if (pm.options.bind) {
      if (m.source.empty()) {
        return Fail("{}.source: a bind mount needs a source", pm.field);
      }
      std::filesystem::path src(m.source);
      if (src.is_relative()) {
        src = std::filesystem::path(bundle_dir) / src;
      }
      if (!std::filesystem::exists(src, ec)) {
        return Fail("{}.source: {} does not exist on the host", pm.field, src.string());
      }
      pm.source = src.string();
      pm.target_is_dir = std::filesystem::is_directory(src, ec);
    } else if (m.type.empty()) {
      return Fail("{}.type: required for a mount that is not a bind mount", pm.field);
    }
    std::string dest = "/" + m.destination;
    for (const auto& earlier : plan.mounts) {
      std::string prefix = "/" + earlier.mount.destination;
      std::filesystem::path a = std::filesystem::path(prefix).lexically_normal();
      std::filesystem::path b = std::filesystem::path(dest).lexically_normal();
      auto rel = b.lexically_relative(a);
      if (!rel.empty() && *rel.begin() != "..") {
        pm.on_rootfs = false;
      }
    }
    plan.mounts.push_back(std::move(pm));
  }
  plan.masked_paths = spec.linux.masked_paths;
  plan.readonly_paths = spec.linux.readonly_paths;
  plan.mount_label = spec.linux.mount_label;
  return plan;
}

Status CreateRootfsMountTargets(const RootfsPlan& plan) {
  UniqueFd root = BRICK_TRY_VALUE(OpenDirectory(plan.rootfs));
  for (const auto& pm : plan.mounts) {
    if (!pm.on_rootfs) {
      continue;
    }
    auto existing = OpenInRoot(root.get(), pm.mount.destination, O_PATH);
    if (existing) {
      continue;
    }
    BRICK_TRY(EnsureMountTargetInRoot(root.get(), pm.mount.destination, pm.target_is_dir),
              fmt::format("{}: create the mount point {} in the rootfs", pm.field,
                          pm.mount.destination));
  }
  return Ok();
}

Result<UniqueFd> MountRootfs(const RootfsPlan& plan) {
  // Nothing done below may propagate back to the host.
  if (mount(nullptr, "/", nullptr, plan.root_propagation, nullptr) != 0) {
    return ErrnoFail(errno, "linux.rootfsPropagation: set propagation of /");
  }
  // The parent cloned us with the rootfs as our working directory, which the new mount
  // namespace carries over to its own copy of the mount. Binding "." never walks the host
  // path, which the container's root may not traverse (a 0700 parent directory). The
  // clone's fd, attached on top of the rootfs, is the new root.
  UniqueFd root(static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, ".",
                                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE)));
  if (!root) {
    return ErrnoFail(errno, "root.path: bind mount {}", plan.rootfs);
  }
  if (syscall(SYS_move_mount, root.get(), "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    return ErrnoFail(errno, "root.path: attach the bind mount of {}", plan.rootfs);
  }
  for (const auto& pm : plan.mounts) {
    BRICK_TRY(MountOne(root.get(), plan, pm));
  }
  return root;
}

Result<UniqueFd> PivotRoot(int new_root_fd) {
  if (fchdir(new_root_fd) != 0) {
    return ErrnoFail(errno, "pivot_root: enter the new root");
  }
  if (syscall(SYS_pivot_root, ".", ".") != 0) {
    return ErrnoFail(errno, "pivot_root");
  }
  // The old root now sits on top of the new one; detach it without telling the host.
  if (mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return ErrnoFail(errno, "pivot_root: make the old root a slave");
  }
  if (umount2(".", MNT_DETACH) != 0) {
    return ErrnoFail(errno, "pivot_root: detach the old root");
  }
  if (chdir("/") != 0) {
    return ErrnoFail(errno, "pivot_root: chdir /");
  }
  return OpenDirectory("/");
}

Status ApplyMaskedAndReadonlyPaths(int root_fd, const RootfsPlan& plan) {
  UniqueFd null_fd;
  for (size_t i = 0; i < plan.masked_paths.size(); ++i) {
    const std::string& p = plan.masked_paths[i];
    std::string what = fmt::format("linux.maskedPaths[{}]: mask {}", i, p);
    auto target = OpenInRoot(root_fd, p, O_PATH | O_NOFOLLOW);
    if (!target) {
      if (target.error().errnum() == ENOENT) {
        continue;
      }
      return std::unexpected(std::move(target.error()).Wrap(what));
    }
    struct stat st;
    if (fstat(target->get(), &st) != 0) {
      return ErrnoFail(errno, "{}", what);
    }
    if (S_ISDIR(st.st_mode)) {
      BRICK_TRY(MountAt("tmpfs", target->get(), "tmpfs",
                        MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555", what));
      continue;
    }
    if (!null_fd) {
      null_fd = BRICK_TRY_VALUE(OpenInRoot(root_fd, "/dev/null", O_PATH | O_NOFOLLOW));
      struct stat ns;
      if (fstat(null_fd.get(), &ns) != 0) {
        return ErrnoFail(errno, "{}: stat /dev/null", what);
      }
      if (!S_ISCHR(ns.st_mode) || ns.st_rdev != makedev(1, 3)) {
        return Fail("{}: /dev/null inside the container is not the null device (char 1:3); "
                    "refusing to mask with it",
                    what);
      }
    }
    std::string null_path = FdPath(null_fd.get());
    BRICK_TRY(MountAt(null_path.c_str(), target->get(), nullptr, MS_BIND, "", what));
  }
  for (size_t i = 0; i < plan.readonly_paths.size(); ++i) {
    const std::string& p = plan.readonly_paths[i];
    std::string what = fmt::format("linux.readonlyPaths[{}]: make {} read-only", i, p);
    auto target = OpenInRoot(root_fd, p, O_PATH | O_NOFOLLOW);
    if (!target) {
      if (target.error().errnum() == ENOENT) {
        continue;
      }
      return std::unexpected(std::move(target.error()).Wrap(what));
    }
    std::string tp = FdPath(target->get());
    BRICK_TRY(MountAt(tp.c_str(), target->get(), nullptr, MS_BIND | MS_REC, "", what));
    BRICK_TRY(RemountBind(root_fd, p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, what));
  }
  return Ok();
}

Status FinishRootfs(const RootfsPlan& plan) {
  if (!plan.readonly) {
    return Ok();
  }
  UniqueFd root = BRICK_TRY_VALUE(OpenDirectory("/"));
  unsigned long current = BRICK_TRY_VALUE(MountFlagsOf(root.get()));
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | (current & kLockableFlags),
            nullptr) != 0) {
    return ErrnoFail(errno, "root.readonly: remount / read-only");
  }
  return Ok();
}

}  // namespace brick::isolation
