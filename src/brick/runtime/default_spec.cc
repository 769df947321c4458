#include "brick/runtime/default_spec.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cctype>

#include "brick/base/strings.h"
#include "brick/cgroup/defaults.h"
#include "brick/cgroup/plan.h"
#include "brick/oci/capabilities.h"
#include "brick/runtime/secrets.h"
#include "brick/seccomp/default_profile.h"

namespace brick::runtime {
namespace {

oci::Mount MakeMount(const char* dest, const char* type, const char* source,
                     std::vector<std::string> options) {
  oci::Mount m;
  m.destination = dest;
  m.type = type;
  m.source = source;
  m.options = std::move(options);
  return m;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const std::vector<std::string>& ShareableNamespaces() {
  static const std::vector<std::string> names = {"pid",  "net",    "ipc", "uts",
                                                 "user", "cgroup", "time"};
  return names;
}

oci::NamespaceType TypeForShareName(const std::string& n) {
  if (n == "pid") return oci::NamespaceType::kPid;
  if (n == "net") return oci::NamespaceType::kNetwork;
  if (n == "ipc") return oci::NamespaceType::kIpc;
  if (n == "uts") return oci::NamespaceType::kUts;
  if (n == "user") return oci::NamespaceType::kUser;
  if (n == "cgroup") return oci::NamespaceType::kCgroup;
  return oci::NamespaceType::kTime;
}

}  // namespace

Result<Volume> ParseVolume(std::string_view text) {
  auto parts = Split(text, ':');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
    return Fail("--volume \"{}\": expected SRC:DST[:ro|rw]", text);
  }
  Volume v;
  v.source = parts[0];
  v.destination = parts[1];
  if (parts.size() == 3) {
    if (parts[2] == "rw") {
      v.writable = true;
    } else if (parts[2] != "ro") {
      return Fail("--volume \"{}\": mode \"{}\" must be ro or rw", text, parts[2]);
    }
  }
  if (v.source[0] != '/') {
    return Fail("--volume \"{}\": the source must be an absolute host path", text);
  }
  if (v.destination[0] != '/') {
    return Fail("--volume \"{}\": the destination must be an absolute path", text);
  }
  return v;
}

Result<oci::Rlimit> ParseUlimit(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    return Fail("--ulimit \"{}\": expected NAME=SOFT[:HARD], e.g. nofile=1024:2048", text);
  }
  std::string name(text.substr(0, eq));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (!name.starts_with("RLIMIT_")) {
    name = "RLIMIT_" + name;
  }
  auto values = Split(text.substr(eq + 1), ':');
  auto soft = ParseU64(values[0]);
  auto hard = values.size() == 2 ? ParseU64(values[1]) : soft;
  if (!soft || !hard || values.size() > 2) {
    return Fail("--ulimit \"{}\": limits must be whole numbers, SOFT or SOFT:HARD", text);
  }
  return oci::Rlimit{name, *hard, *soft};
}

Result<oci::Spec> BuildDefaultSpec(const DefaultSpecOptions& o) {
  for (const auto& n : o.unsafe_share) {
    if (!Contains(ShareableNamespaces(), n)) {
      return Fail("--unsafe-share {}: expected one of pid, net, ipc, uts, user, cgroup, time", n);
    }
  }
  auto shared = [&](const char* n) { return Contains(o.unsafe_share, n); };

  oci::Spec spec;
  spec.root.path = o.rootfs;
  spec.root.readonly = !o.unsafe_writable_root;
  spec.hostname = shared("uts") ? "" : o.hostname;

  oci::Process p;
  p.terminal = o.terminal;
  p.args = o.args.empty() ? std::vector<std::string>{"sh"} : o.args;
  p.user.uid = o.uid;
  p.user.gid = o.gid;
  p.user.umask = 022;
  p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HOME=" + std::string(o.uid == 0 ? "/root" : "/tmp")};
  if (o.terminal) {
    p.env.push_back("TERM=xterm");
  }
  for (const auto& e : o.env) {
    std::string key = e.substr(0, e.find('='));
    std::erase_if(p.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    p.env.push_back(e);
  }
  p.cwd = o.cwd;
  oci::Capabilities caps;
  for (const auto& c : o.cap_add) {
    std::string name = c;
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char ch) { return std::toupper(ch); });
    if (!name.starts_with("CAP_")) {
      name = "CAP_" + name;
    }
    for (auto* set : {&caps.bounding, &caps.effective, &caps.permitted, &caps.ambient}) {
      if (!Contains(*set, name)) {
        set->push_back(name);
      }
    }
    if (!Contains(caps.inheritable, name)) {
      caps.inheritable.push_back(name);
    }
  }
  p.capabilities = caps;
  p.rlimits = {{"RLIMIT_CORE", 0, 0}, {"RLIMIT_NOFILE", 1024, 1024}, {"RLIMIT_NPROC", 1024, 1024}};
  for (const auto& u : o.ulimits) {
    std::erase_if(p.rlimits, [&](const oci::Rlimit& r) { return r.type == u.type; });
    p.rlimits.push_back(u);
  }
  p.no_new_privileges = !o.unsafe_allow_new_privileges;
  spec.process = p;

  spec.mounts = {
      MakeMount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}),
      MakeMount("/dev", "tmpfs", "tmpfs",
                {"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}),
      MakeMount("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}),
      MakeMount("/dev/shm", "tmpfs", "shm",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      MakeMount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}),
      MakeMount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}),
      MakeMount("/tmp", "tmpfs", "tmpfs",
                {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}),
      MakeMount("/run", "tmpfs", "tmpfs", {"nosuid", "noexec", "nodev", "mode=755", "size=16384k"}),
  };
  if (shared("ipc")) {
    std::erase_if(spec.mounts, [](const oci::Mount& m) { return m.destination == "/dev/mqueue"; });
  }
  if (!o.secrets.empty()) {
    spec.mounts.push_back(MakeMount(kSecretsDir, "tmpfs", "tmpfs",
                                    {"nosuid", "nodev", "noexec", "mode=0500", "size=1024k"}));
    std::string list;
    for (const auto& [name, file] : o.secrets) {
      list += name + "=" + file + "\n";
    }
    spec.annotations[kSecretsAnnotation] = list;
  }
  for (const auto& v : o.volumes) {
    oci::Mount m = MakeMount(v.destination.c_str(), "bind", v.source.c_str(),
                             {"rbind", "nosuid", "nodev", v.writable ? "rw" : "ro"});
    spec.mounts.push_back(std::move(m));
  }

  auto& lx = spec.linux;
  for (auto t : {oci::NamespaceType::kPid, oci::NamespaceType::kNetwork, oci::NamespaceType::kIpc,
                 oci::NamespaceType::kUts, oci::NamespaceType::kMount, oci::NamespaceType::kUser,
                 oci::NamespaceType::kCgroup, oci::NamespaceType::kTime}) {
    bool host = false;
    for (const auto& n : o.unsafe_share) {
      host |= TypeForShareName(n) == t;
    }
    if (!host) {
      lx.namespaces.push_back({t, ""});
    }
  }
  if (!shared("user")) {
    lx.uid_mappings = {{0, o.host_uid_base, o.id_range}};
    lx.gid_mappings = {{0, o.host_gid_base, o.id_range}};
    spec.annotations[kAutoUsernsAnnotation] = "auto";
  }
  lx.masked_paths = {"/proc/acpi",
                     "/proc/asound",
                     "/proc/kcore",
                     "/proc/keys",
                     "/proc/latency_stats",
                     "/proc/timer_list",
                     "/proc/timer_stats",
                     "/proc/sched_debug",
                     "/proc/scsi",
                     "/sys/firmware",
                     "/sys/devices/virtual/powercap"};
  lx.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  for (const auto& u : o.unsafe_unmask) {
    auto before = lx.masked_paths.size() + lx.readonly_paths.size();
    std::erase(lx.masked_paths, u);
    std::erase(lx.readonly_paths, u);
    if (before == lx.masked_paths.size() + lx.readonly_paths.size()) {
      return Fail("--unsafe-unmask {}: not a masked or read-only path of the defaults", u);
    }
  }

  oci::Resources res = cgroup::DefaultResources();
  if (o.memory_limit) {
    if (*o.memory_limit <= 0) {
      return Fail("--memory {}: must be a positive number of bytes", *o.memory_limit);
    }
    res.memory->limit = *o.memory_limit;
  }
  if (o.pids_limit) {
    res.pids->limit = *o.pids_limit;
  }
  if (o.cpu_weight) {
    if (*o.cpu_weight < 1 || *o.cpu_weight > 10000) {
      return Fail("--cpu-weight {}: must be between 1 and 10000", *o.cpu_weight);
    }
    // Given as a v2 weight; stored as shares, which v1 hosts use as they are and v2
    // hosts convert back to this weight.
    res.cpu->shares = cgroup::CpuWeightToShares(*o.cpu_weight);
  }
  for (size_t i = 0; i < o.devices.size(); ++i) {
    const auto& path = o.devices[i];
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return ErrnoFail(errno, "--device {}", path);
    }
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
      return Fail("--device {}: not a character or block device", path);
    }
    oci::Device d;
    d.path = path;
    d.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    d.major = major(st.st_rdev);
    d.minor = minor(st.st_rdev);
    d.file_mode = st.st_mode & 0777;
    d.uid = 0;
    d.gid = 0;
    lx.devices.push_back(d);
    res.devices.push_back({true, d.type, d.major, d.minor, "rw"});
  }
  lx.resources = res;

  if (o.unsafe_no_seccomp) {
    lx.seccomp.reset();
  } else {
    // A granted capability opens the syscalls it exists for (CAP_SYS_PTRACE: ptrace).
    uint64_t caps =
        BRICK_TRY_VALUE(oci::CapabilityMask(spec.process->capabilities->bounding, "--cap-add"));
    lx.seccomp = o.seccomp ? *o.seccomp : seccomp::DefaultProfile(caps);
  }
  return spec;
}

}  // namespace brick::runtime
