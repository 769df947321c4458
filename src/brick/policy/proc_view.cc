#include "brick/policy/proc_view.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "brick/base/strings.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t j = 1; j <= 3; ++j) {
        if (i + j >= s.size() || s[i + j] < '0' || s[i + j] > '7') {
          ok = false;
          break;
        }
        v = v * 8 + (s[i + j] - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

Result<std::string> ReadProcFile(const std::string& path, std::string_view what) {
  auto text = ReadFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap(fmt::format("read {}", what)));
  }
  return text;
}

Result<std::map<std::string, std::string>> ParseStatus(const std::string& text,
                                                        const std::string& path) {
  std::map<std::string, std::string> fields;
  for (const auto& line : Split(text, '\n')) {
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      fields[line.substr(0, colon)] = std::string(Trim(std::string_view(line).substr(colon + 1)));
    }
  }
  for (const char* f : {"Uid", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"}) {
    if (!fields.contains(f)) {
      return Fail("{}: no {} line; this kernel does not report it, so the audit cannot judge it",
                  path, f);
    }
  }
  return fields;
}

Result<uint64_t> ParseHexMask(const std::string& value, const std::string& what) {
  uint64_t v = 0;
  if (value.empty() || value.size() > 16) {
    return Fail("{}: \"{}\" is not a capability mask", what, value);
  }
  for (char c : value) {
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (d < 0) {
      return Fail("{}: \"{}\" is not a capability mask", what, value);
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

Result<std::string> ReadLink(const std::string& path) {
  char buf[256];
  ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) {
    return ErrnoFail(errno, "read the namespace link {}", path);
  }
  return std::string(buf, static_cast<size_t>(n));
}

// A cgroup file's value, or nullopt when the file does not exist (the controller is not there,
// so it limits nothing).
Result<std::optional<std::string>> ReadCgroupFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    if (text.error().errnum() == ENOENT) {
      return std::optional<std::string>();
    }
    return std::unexpected(std::move(text.error()).Wrap("read the cgroup file " + path));
  }
  return std::optional<std::string>(std::string(Trim(*text)));
}

bool IsPseudoFs(const std::string& type) {
  static const char* const kPseudo[] = {"proc",   "sysfs",   "tmpfs",  "devpts", "mqueue",
                                        "cgroup", "cgroup2", "devtmpfs", "securityfs",
                                        "debugfs", "tracefs", "bpf", "fusectl", "pstore",
                                        "configfs", "hugetlbfs", "overlay", "autofs"};
  return std::find(std::begin(kPseudo), std::end(kPseudo), type) != std::end(kPseudo);
}

bool HasOpt(const std::vector<std::string>& opts, std::string_view o) {
  return std::find(opts.begin(), opts.end(), o) != opts.end();
}

}  // namespace

Result<std::vector<MountInfoEntry>> ParseMountInfo(std::string_view text) {
  std::vector<MountInfoEntry> out;
  int line_no = 0;
  for (const auto& line : Split(text, '\n')) {
    ++line_no;
    if (Trim(line).empty()) {
      continue;
    }
    auto fields = Split(line, ' ');
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 10 || dash == fields.end() || fields.end() - dash < 3 ||
        dash - fields.begin() < 6) {
      return Fail("mountinfo line {}: expected \"ID PARENT MAJ:MIN ROOT POINT OPTIONS ... - TYPE "
                  "SOURCE SUPER\", got \"{}\"",
                  line_no, line);
    }
    MountInfoEntry e;
    e.root = Unescape(fields[3]);
    e.mount_point = Unescape(fields[4]);
    e.mount_options = Split(fields[5], ',');
    e.fs_type = *(dash + 1);
    e.source = Unescape(*(dash + 2));
    out.push_back(std::move(e));
  }
  return out;
}

Result<ContainerView> ViewFromProcess(pid_t pid, const ProcPaths& paths, const HostFacts& host) {
  ContainerView v;
  v.source = ViewSource::kProcess;
  v.origin = fmt::format("pid:{}", pid);
  v.host = host;
  const std::string dir = fmt::format("{}/{}", paths.proc, pid);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return ErrnoFail(errno, "process {} ({})", pid, dir);
  }

  std::string status_path = dir + "/status";
  std::string status_text = BRICK_TRY_VALUE(ReadProcFile(status_path, status_path));
  auto fields = BRICK_TRY_VALUE(ParseStatus(status_text, status_path));
  auto uids = Split(fields["Uid"], '\t');
  auto uid = ParseU64(Trim(uids[0]));
  if (!uid) {
    return Fail("{}: Uid line \"{}\" is not a number", status_path, fields["Uid"]);
  }
  v.uid = static_cast<uint32_t>(*uid);
  v.cap_effective = BRICK_TRY_VALUE(ParseHexMask(fields["CapEff"], status_path + " CapEff"));
  v.cap_bounding = BRICK_TRY_VALUE(ParseHexMask(fields["CapBnd"], status_path + " CapBnd"));
  v.cap_ambient = BRICK_TRY_VALUE(ParseHexMask(fields["CapAmb"], status_path + " CapAmb"));
  v.no_new_privs = fields["NoNewPrivs"] == "1";
  v.seccomp_enabled = fields["Seccomp"] != "0";

  // The host's namespaces are pid 1's. Where pid 1 cannot be inspected (brick check itself
  // runs inside a container without ptrace rights over its pid 1), brick check's own
  // namespaces stand in, and the report says so.
  std::string reference = paths.proc + "/1";
  if (auto probe = ReadLink(reference + "/ns/pid"); !probe && probe.error().errnum() == EACCES) {
    reference = paths.proc + "/self";
    v.notes.push_back(fmt::format("{}/1/ns cannot be read (permission denied); namespaces are "
                                  "compared with brick check's own",
                                  paths.proc));
  }
  std::set<std::string> shared;
  for (const char* ns : {"pid", "net", "ipc", "uts", "mnt", "user", "cgroup"}) {
    std::string mine = BRICK_TRY_VALUE(ReadLink(fmt::format("{}/ns/{}", dir, ns)));
    std::string init = BRICK_TRY_VALUE(ReadLink(fmt::format("{}/ns/{}", reference, ns)));
    if (mine == init) {
      shared.insert(ns);
    }
  }
  v.host_namespaces = shared;
  v.user_namespace = !shared.contains("user");
  std::string uid_map = BRICK_TRY_VALUE(ReadProcFile(dir + "/uid_map", dir + "/uid_map"));
  bool root_to_root = false;
  for (const auto& line : Split(uid_map, '\n')) {
    std::vector<std::string> parts;
    for (const auto& p : Split(line, ' ')) {
      if (!p.empty()) {
        parts.push_back(p);
      }
    }
    root_to_root |= parts.size() == 3 && parts[0] == "0" && parts[1] == "0";
  }
  v.uid0_maps_to_host_root = !*v.user_namespace || root_to_root;
  // status shows ids as the reader's user namespace sees them (the host id); the config
  // speaks of the id inside. uid_map lines are "INSIDE OUTSIDE COUNT" from the reader's view.
  for (const auto& line : Split(uid_map, '\n')) {
    std::vector<uint64_t> nums;
    for (const auto& part : Split(line, ' ')) {
      if (auto n = ParseU64(part)) {
        nums.push_back(*n);
      }
    }
    if (nums.size() == 3 && *v.uid >= nums[1] && *v.uid < nums[1] + nums[2]) {
      v.uid = static_cast<uint32_t>(*v.uid - nums[1] + nums[0]);
      break;
    }
  }

  std::string mi_path = dir + "/mountinfo";
  std::string mi_text = BRICK_TRY_VALUE(ReadProcFile(mi_path, mi_path));
  auto mounts = BRICK_TRY_VALUE(ParseMountInfo(mi_text));
  std::vector<MountView> views;
  std::set<std::string> masked;
  std::set<std::string> readonly_paths;
  std::optional<bool> root_ro;
  for (const auto& m : mounts) {
    bool ro = HasOpt(m.mount_options, "ro");
    if (m.mount_point == "/") {
      root_ro = ro;  // the last one is on top
      continue;
    }
    MountView mv;
    mv.destination = m.mount_point;
    mv.source = m.root;
    mv.type = m.fs_type;
    mv.bind = !IsPseudoFs(m.fs_type);
    mv.readonly = ro;
    mv.nosuid = HasOpt(m.mount_options, "nosuid");
    views.push_back(mv);
    bool under_kernel_fs = m.mount_point.starts_with("/proc/") || m.mount_point.starts_with("/sys/");
    if (under_kernel_fs) {
      // Over a kernel path: /dev/null or an empty tmpfs hides it; a read-only bind of itself
      // makes it read-only.
      bool hides = m.fs_type == "tmpfs" || m.root == "/null" || m.fs_type == "devtmpfs";
      if (hides) {
        masked.insert(m.mount_point);
      } else if (ro) {
        readonly_paths.insert(m.mount_point);
      }
    }
  }
  // A kernel path that does not exist in the container (this kernel lacks it) leaks nothing:
  // it counts as hidden. lstat through /proc/<pid>/root sees the container's own mounts.
  for (const char* p : {"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                        "/sys/firmware", "/proc/asound", "/proc/sys", "/proc/sysrq-trigger"}) {
    struct stat ps;
    std::string inside = dir + "/root" + p;
    if (lstat(inside.c_str(), &ps) != 0) {
      if (errno != ENOENT) {
        return ErrnoFail(errno, "stat {} (the container's {})", inside, p);
      }
      masked.insert(p);
    }
  }
  if (!root_ro) {
    return Fail("{}: no mount at / in the process's mount table", mi_path);
  }
  v.readonly_root = root_ro;
  v.mounts = std::move(views);
  v.masked_paths = std::move(masked);
  v.readonly_paths = std::move(readonly_paths);

  std::string environ = BRICK_TRY_VALUE(ReadProcFile(dir + "/environ", dir + "/environ"));
  std::vector<std::string> env;
  for (const auto& e : Split(environ, '\0')) {
    if (!e.empty()) {
      env.push_back(e);
    }
  }
  v.env = std::move(env);

  std::vector<std::string> added;
  std::string dev = dir + "/root/dev";
  DIR* d = opendir(dev.c_str());
  if (d == nullptr) {
    return ErrnoFail(errno, "list the container's device nodes in {}", dev);
  }
  while (dirent* ent = readdir(d)) {
    std::string path = "/dev/" + std::string(ent->d_name);
    struct stat ds;
    if (fstatat(dirfd(d), ent->d_name, &ds, AT_SYMLINK_NOFOLLOW) != 0) {
      int err = errno;
      closedir(d);
      return ErrnoFail(err, "stat {}/{}", dev, ent->d_name);
    }
    if ((S_ISCHR(ds.st_mode) || S_ISBLK(ds.st_mode)) && !IsStandardDevice(path)) {
      added.push_back(path);
    }
  }
  closedir(d);
  std::sort(added.begin(), added.end());
  v.added_devices = std::move(added);

  if (host.apparmor || host.selinux) {
    std::string label = BRICK_TRY_VALUE(
        ReadProcFile(dir + "/attr/current", dir + "/attr/current"));
    label = std::string(Trim(label));
    if (host.apparmor) {
      v.apparmor_profile = label;
    }
    if (host.selinux) {
      v.selinux_label = label;
    }
  } else {
    v.apparmor_profile = "";
    v.selinux_label = "";
  }

  // Cgroups: "ID:CONTROLLERS:PATH"; v1 controllers have a hierarchy each, "0::PATH" is v2.
  std::string cg_path = dir + "/cgroup";
  std::string cg_text = BRICK_TRY_VALUE(ReadProcFile(cg_path, cg_path));
  std::map<std::string, std::string> v1;  // controller -> "<dir>/<path>"
  std::string unified;
  for (const auto& line : Split(cg_text, '\n')) {
    auto first = line.find(':');
    auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) {
      continue;
    }
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      struct stat cs;
      std::string root = stat((paths.cgroup + "/cgroup.controllers").c_str(), &cs) == 0
                             ? paths.cgroup
                             : paths.cgroup + "/unified";
      unified = root + path;
      continue;
    }
    for (const auto& c : Split(controllers, ',')) {
      v1[c] = paths.cgroup + "/" + controllers + path;
    }
  }
  auto unlimited = [](const std::string& s) { return s == "max" || s.size() >= 19; };
  // Memory.
  std::optional<std::string> mem;
  if (v1.contains("memory")) {
    mem = BRICK_TRY_VALUE(ReadCgroupFile(v1["memory"] + "/memory.limit_in_bytes"));
  } else if (!unified.empty()) {
    mem = BRICK_TRY_VALUE(ReadCgroupFile(unified + "/memory.max"));
  }
  v.memory_limit = 0;
  if (mem && !unlimited(*mem)) {
    auto n = ParseI64(*mem);
    if (!n) {
      return Fail("the memory limit \"{}\" of process {} is not a number", *mem, pid);
    }
    v.memory_limit = *n;
  }
  // Pids.
  std::optional<std::string> pids;
  if (v1.contains("pids")) {
    pids = BRICK_TRY_VALUE(ReadCgroupFile(v1["pids"] + "/pids.max"));
  } else if (!unified.empty()) {
    pids = BRICK_TRY_VALUE(ReadCgroupFile(unified + "/pids.max"));
  }
  v.pids_limit = 0;
  if (pids && !unlimited(*pids)) {
    v.pids_limit = ParseI64(*pids).value_or(0);
  }
  // CPU: a quota limits; shares or a weight other than the kernel default say a priority was set.
  // At the default, whether it was chosen cannot be told, so the view leaves it unknown.
  std::optional<bool> cpu_limited;
  if (v1.contains("cpu")) {
    auto quota = BRICK_TRY_VALUE(ReadCgroupFile(v1["cpu"] + "/cpu.cfs_quota_us"));
    auto shares = BRICK_TRY_VALUE(ReadCgroupFile(v1["cpu"] + "/cpu.shares"));
    bool limited = (quota && ParseI64(*quota).value_or(-1) > 0) || (shares && *shares != "1024");
    cpu_limited = limited ? std::optional<bool>(true) : std::nullopt;
    if (!quota && !shares) {
      cpu_limited = false;
    }
  } else if (!unified.empty()) {
    auto max = BRICK_TRY_VALUE(ReadCgroupFile(unified + "/cpu.max"));
    auto weight = BRICK_TRY_VALUE(ReadCgroupFile(unified + "/cpu.weight"));
    bool limited = (max && !max->starts_with("max")) || (weight && *weight != "100");
    cpu_limited = limited ? std::optional<bool>(true) : std::nullopt;
    if (!max && !weight) {
      cpu_limited = false;
    }
  } else {
    cpu_limited = false;
  }
  v.cpu_limited = cpu_limited;
  // Devices: v1 lists its rules; the v2 eBPF program cannot be read back here.
  if (v1.contains("devices")) {
    auto list = BRICK_TRY_VALUE(ReadCgroupFile(v1["devices"] + "/devices.list"));
    v.device_cgroup_allows_all = list && list->find("a *:* rwm") != std::string::npos;
  }
  return v;
}

}  // namespace brick::policy
