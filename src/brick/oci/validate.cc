// ValidateSpec: every check on a config that needs no system call. It runs before the first
// isolation step, so a bad config fails as a whole instead of half-way through setup.
//
// Errors name the JSON path of the field at fault and its value, and stop at the first
// problem found, in the order of the config's sections.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "brick/oci/capabilities.h"
#include "brick/oci/lexical_path.h"
#include "brick/oci/quote.h"
#include "brick/oci/spec.h"

namespace brick::oci {
namespace {

// The kernel's limit on lines in uid_map / gid_map (since Linux 4.15).
constexpr size_t kMaxIdMappings = 340;
// HOST_NAME_MAX; sethostname() and setdomainname() refuse longer names.
constexpr size_t kMaxHostnameBytes = 64;

std::string Index(std::string_view path, size_t i) { return fmt::format("{}[{}]", path, i); }

bool Contains(std::string_view s, char c) { return s.find(c) != std::string_view::npos; }

template <typename List>
bool ListHas(const List& list, std::string_view value) {
  for (const auto& item : list) {
    if (item == value) {
      return true;
    }
  }
  return false;
}

// "a, b or c"
template <typename List>
std::string OneOf(const List& list) {
  std::string out;
  size_t n = std::size(list);
  size_t i = 0;
  for (const auto& item : list) {
    if (i > 0) {
      out += (i + 1 == n) ? " or " : ", ";
    }
    out += item;
    ++i;
  }
  return out;
}

bool HasDotDotComponent(std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    if (path.substr(start, end - start) == "..") {
      return true;
    }
    start = end + 1;
  }
  return false;
}

Status CheckNoNul(std::string_view value, std::string_view path) {
  if (Contains(value, '\0')) {
    return Fail("{}: {} contains a NUL byte", path, Quote(value));
  }
  return Ok();
}

Status CheckAbsolute(std::string_view value, std::string_view path) {
  BRICK_TRY(CheckNoNul(value, path));
  if (!IsAbsolutePath(value)) {
    return Fail("{}: {} is not an absolute path", path, Quote(value));
  }
  return Ok();
}

// An absolute path inside the container that does not climb out of it on its face.
Status CheckContainerPath(std::string_view value, std::string_view path) {
  BRICK_TRY(CheckAbsolute(value, path));
  if (LexicallyEscapesRoot(value)) {
    return Fail("{}: {} escapes the container root", path, Quote(value));
  }
  return Ok();
}

Status CheckEnv(const std::vector<std::string>& env, std::string_view path) {
  for (size_t i = 0; i < env.size(); ++i) {
    const std::string& e = env[i];
    std::string at = Index(path, i);
    BRICK_TRY(CheckNoNul(e, at));
    size_t eq = e.find('=');
    if (eq == std::string::npos) {
      return Fail("{}: {} is not KEY=VALUE", at, Quote(e));
    }
    if (eq == 0) {
      return Fail("{}: {} has an empty variable name", at, Quote(e));
    }
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// ociVersion

// Accepts MAJOR.MINOR.PATCH with an optional -prerelease or +build suffix.
bool ParseVersion(std::string_view v, uint64_t* major, uint64_t* minor) {
  uint64_t parts[3] = {0, 0, 0};
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    size_t start = pos;
    uint64_t n = 0;
    while (pos < v.size() && v[pos] >= '0' && v[pos] <= '9' && pos - start < 9) {
      n = n * 10 + static_cast<uint64_t>(v[pos] - '0');
      ++pos;
    }
    if (pos == start) {
      return false;
    }
    parts[i] = n;
    if (i < 2) {
      if (pos >= v.size() || v[pos] != '.') {
        return false;
      }
      ++pos;
    }
  }
  if (pos < v.size()) {
    if ((v[pos] != '-' && v[pos] != '+') || pos + 1 == v.size()) {
      return false;
    }
  }
  *major = parts[0];
  *minor = parts[1];
  return true;
}

Status ValidateVersion(const std::string& version) {
  uint64_t major = 0;
  uint64_t minor = 0;
  if (!ParseVersion(version, &major, &minor)) {
    return Fail("ociVersion: {} is not a version like \"1.2.0\" (brick supports 1.0.x to 1.3.x)",
                Quote(version));
  }
  if (major != 1 || minor > 3) {
    return Fail("ociVersion: unsupported version {} (brick supports 1.0.x to 1.3.x)",
                Quote(version));
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// process

constexpr std::array<const char*, 16> kRlimitNames = {
    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

constexpr std::array<const char*, 3> kIoPriorityClasses = {"IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                                           "IOPRIO_CLASS_IDLE"};

constexpr std::array<const char*, 7> kSchedulerPolicies = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};

constexpr std::array<const char*, 7> kSchedulerFlags = {
    "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
};

Status ValidateCapabilities(const Capabilities& caps) {
  BRICK_TRY(CapabilityMask(caps.bounding, "process.capabilities.bounding"));
  BRICK_TRY(CapabilityMask(caps.effective, "process.capabilities.effective"));
  BRICK_TRY(CapabilityMask(caps.permitted, "process.capabilities.permitted"));
  BRICK_TRY(CapabilityMask(caps.inheritable, "process.capabilities.inheritable"));
  BRICK_TRY(CapabilityMask(caps.ambient, "process.capabilities.ambient"));
  return Ok();
}

Status ValidateRlimits(const std::vector<Rlimit>& rlimits) {
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& r = rlimits[i];
    std::string at = Index("process.rlimits", i);
    if (!ListHas(kRlimitNames, r.type)) {
      return Fail("{}.type: unknown resource limit {} (expected one of {})", at, Quote(r.type),
                  OneOf(kRlimitNames));
    }
    if (r.soft > r.hard) {
      return Fail("{}: soft limit {} is above hard limit {} for {}", at, r.soft, r.hard, r.type);
    }
    for (size_t j = 0; j < i; ++j) {
      if (rlimits[j].type == r.type) {
        return Fail("{}.type: {} is already set by {}", at, Quote(r.type),
                    Index("process.rlimits", j));
      }
    }
  }
  return Ok();
}

Status ValidateScheduler(const Scheduler& s) {
  if (!ListHas(kSchedulerPolicies, s.policy)) {
    return Fail("process.scheduler.policy: unknown policy {} (expected one of {})", Quote(s.policy),
                OneOf(kSchedulerPolicies));
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!ListHas(kSchedulerFlags, s.flags[i])) {
      return Fail("{}: unknown scheduler flag {} (expected one of {})",
                  Index("process.scheduler.flags", i), Quote(s.flags[i]), OneOf(kSchedulerFlags));
    }
  }
  if (s.nice && (*s.nice < -20 || *s.nice > 19)) {
    return Fail("process.scheduler.nice: {} is out of range [-20, 19]", *s.nice);
  }
  return Ok();
}

Status ValidateProcess(const Process& p) {
  if (p.args.empty()) {
    return Fail("process.args: must not be empty; give at least the program to run");
  }
  for (size_t i = 0; i < p.args.size(); ++i) {
    BRICK_TRY(CheckNoNul(p.args[i], Index("process.args", i)));
  }
  if (p.command_line) {
    return Fail("process.commandLine: {} is for Windows only; use process.args on Linux",
                Quote(*p.command_line));
  }
  BRICK_TRY(CheckAbsolute(p.cwd, "process.cwd"));
  BRICK_TRY(CheckEnv(p.env, "process.env"));
  if (p.user.umask && *p.user.umask > 0777) {
    return Fail("process.user.umask: {} (octal {:o}) is not a umask; the largest is 511 (0777)",
                *p.user.umask, *p.user.umask);
  }
  if (p.capabilities) {
    BRICK_TRY(ValidateCapabilities(*p.capabilities));
  }
  BRICK_TRY(ValidateRlimits(p.rlimits));
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000)) {
    return Fail("process.oomScoreAdj: {} is out of range [-1000, 1000]", *p.oom_score_adj);
  }
  if (p.io_priority) {
    if (!ListHas(kIoPriorityClasses, p.io_priority->io_class)) {
      return Fail("process.ioPriority.class: unknown class {} (expected {})",
                  Quote(p.io_priority->io_class), OneOf(kIoPriorityClasses));
    }
    if (p.io_priority->priority < 0 || p.io_priority->priority > 7) {
      return Fail("process.ioPriority.priority: {} is out of range [0, 7]",
                  p.io_priority->priority);
    }
  }
  if (p.scheduler) {
    BRICK_TRY(ValidateScheduler(*p.scheduler));
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// id mappings

Status ValidateIdMappings(const std::vector<IdMapping>& maps, std::string_view path) {
  if (maps.size() > kMaxIdMappings) {
    return Fail("{}: {} entries exceed the kernel's limit of {}", path, maps.size(),
                kMaxIdMappings);
  }
  // The kernel computes first + count in 32 bits and refuses a range that wraps.
  constexpr uint64_t kMaxId = UINT32_MAX;
  for (size_t i = 0; i < maps.size(); ++i) {
    const IdMapping& m = maps[i];
    std::string at = Index(path, i);
    if (m.size == 0) {
      return Fail("{}.size: must be greater than 0", at);
    }
    if (uint64_t{m.container_id} + m.size > kMaxId) {
      return Fail("{}: containerID {} + size {} overflows the 32-bit id range", at, m.container_id,
                  m.size);
    }
    if (uint64_t{m.host_id} + m.size > kMaxId) {
      return Fail("{}: hostID {} + size {} overflows the 32-bit id range", at, m.host_id, m.size);
    }
  }
  auto overlap = [](uint32_t a, uint32_t b, uint32_t size_a, uint32_t size_b) {
    return uint64_t{a} < uint64_t{b} + size_b && uint64_t{b} < uint64_t{a} + size_a;
  };
  for (size_t j = 1; j < maps.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      const IdMapping& a = maps[i];
      const IdMapping& b = maps[j];
      if (overlap(b.container_id, a.container_id, b.size, a.size)) {
        return Fail("{}: container ids {}-{} overlap {} (container ids {}-{})", Index(path, j),
                    b.container_id, uint64_t{b.container_id} + b.size - 1, Index(path, i),
                    a.container_id, uint64_t{a.container_id} + a.size - 1);
      }
      if (overlap(b.host_id, a.host_id, b.size, a.size)) {
        return Fail("{}: host ids {}-{} overlap {} (host ids {}-{})", Index(path, j), b.host_id,
                    uint64_t{b.host_id} + b.size - 1, Index(path, i), a.host_id,
                    uint64_t{a.host_id} + a.size - 1);
      }
    }
  }
  return Ok();
}

bool IsMapped(const std::vector<IdMapping>& maps, uint32_t id) {
  for (const IdMapping& m : maps) {
    if (id >= m.container_id && uint64_t{id} < uint64_t{m.container_id} + m.size) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// namespaces

// Index of the namespace entry of type t, or nullopt.
std::optional<size_t> FindNamespace(const Linux& linux_cfg, NamespaceType t) {
  for (size_t i = 0; i < linux_cfg.namespaces.size(); ++i) {
    if (linux_cfg.namespaces[i].type == t) {
      return i;
    }
  }
  return std::nullopt;
}

std::string AddNamespaceHint(NamespaceType t) {
  return fmt::format("add {{\"type\": \"{}\"}} to linux.namespaces", NamespaceTypeName(t));
}

// A setting that must only be applied inside a namespace the container does not share with
// the host: one it creates, or one it joins by path. Joining cannot be checked without
// syscalls except for paths that name the runtime's own or init's namespace, which are
// refused here; the isolation step compares namespace inodes for the rest.
Status CheckOwnNamespace(const Linux& linux_cfg, NamespaceType t, std::string_view field) {
  std::optional<size_t> index = FindNamespace(linux_cfg, t);
  if (!index) {
    return Fail("{}: needs a new {} namespace; {}", field, NamespaceTypeName(t),
                AddNamespaceHint(t));
  }
  const std::string& path = linux_cfg.namespaces[*index].path;
  if (!path.empty()) {
    std::string clean = LexicalClean(path);
    if (clean.starts_with("/proc/1/") || clean.starts_with("/proc/self/") ||
        clean.starts_with("/proc/thread-self/")) {
      return Fail(
          "{}: linux.namespaces[{}] joins {}, the host's {} namespace; the setting would "
          "change the host",
          field, *index, Quote(path), NamespaceTypeName(t));
    }
  }
  return Ok();
}

Status ValidateNamespaces(const Spec& spec) {
  const Linux& l = spec.linux;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    std::string at = Index("linux.namespaces", i);
    for (size_t j = 0; j < i; ++j) {
      if (l.namespaces[j].type == ns.type) {
        return Fail("{}.type: {} is already listed at {}", at, Quote(NamespaceTypeName(ns.type)),
                    Index("linux.namespaces", j));
      }
    }
    if (!ns.path.empty()) {
      BRICK_TRY(CheckAbsolute(ns.path, at + ".path"));
    }
  }

  // User namespace and its mappings: the kernel lets uid_map be written once, by the
  // creator, so mappings belong to a new user namespace and to nothing else.
  BRICK_TRY(ValidateIdMappings(l.uid_mappings, "linux.uidMappings"));
  BRICK_TRY(ValidateIdMappings(l.gid_mappings, "linux.gidMappings"));
  std::optional<size_t> user = FindNamespace(l, NamespaceType::kUser);
  bool has_mappings = !l.uid_mappings.empty() || !l.gid_mappings.empty();
  const char* mapping_field = !l.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings";
  if (!user) {
    if (has_mappings) {
      return Fail("{}: set, but linux.namespaces has no user namespace; {} or remove the mappings",
                  mapping_field, AddNamespaceHint(NamespaceType::kUser));
    }
  } else if (!l.namespaces[*user].path.empty()) {
    if (has_mappings) {
      return Fail(
          "{}: not allowed when joining the user namespace at linux.namespaces[{}].path ({}); "
          "a joined namespace keeps its own mappings",
          mapping_field, *user, Quote(l.namespaces[*user].path));
    }
  } else {
    if (l.uid_mappings.empty() || l.gid_mappings.empty()) {
      return Fail(
          "linux.namespaces[{}]: a new user namespace needs linux.uidMappings and "
          "linux.gidMappings (missing: {})",
          *user, l.uid_mappings.empty() ? "linux.uidMappings" : "linux.gidMappings");
    }
    if (spec.process) {
      const User& u = spec.process->user;
      if (!IsMapped(l.uid_mappings, u.uid)) {
        return Fail("process.user.uid: {} is not mapped by linux.uidMappings", u.uid);
      }
      if (!IsMapped(l.gid_mappings, u.gid)) {
        return Fail("process.user.gid: {} is not mapped by linux.gidMappings", u.gid);
      }
      for (size_t i = 0; i < u.additional_gids.size(); ++i) {
        if (!IsMapped(l.gid_mappings, u.additional_gids[i])) {
          return Fail("{}: {} is not mapped by linux.gidMappings",
                      Index("process.user.additionalGids", i), u.additional_gids[i]);
        }
      }
    }
  }

  // Time offsets can only be written before the first process enters the namespace.
  if (!l.time_offsets.empty()) {
    std::optional<size_t> time = FindNamespace(l, NamespaceType::kTime);
    if (!time || !l.namespaces[*time].path.empty()) {
      return Fail(
          "linux.timeOffsets: needs a new time namespace; add {{\"type\": \"time\"}} "
          "without a path to linux.namespaces");
    }
    for (const auto& [clock, offset] : l.time_offsets) {
      std::string at = fmt::format("linux.timeOffsets[{}]", Quote(clock));
      if (clock != "monotonic" && clock != "boottime") {
        return Fail("{}: unknown clock {} (expected monotonic or boottime)", at, Quote(clock));
      }
      if (offset.nanosecs >= 1000000000u) {
        return Fail("{}.nanosecs: {} is not below 1000000000", at, offset.nanosecs);
      }
    }
  }

  if (!spec.hostname.empty()) {
    BRICK_TRY(CheckNoNul(spec.hostname, "hostname"));
    if (spec.hostname.size() > kMaxHostnameBytes) {
      return Fail("hostname: {} is longer than {} bytes", Quote(spec.hostname), kMaxHostnameBytes);
    }
    BRICK_TRY(CheckOwnNamespace(l, NamespaceType::kUts, "hostname"));
  }
  if (!spec.domainname.empty()) {
    BRICK_TRY(CheckNoNul(spec.domainname, "domainname"));
    if (spec.domainname.size() > kMaxHostnameBytes) {
      return Fail("domainname: {} is longer than {} bytes", Quote(spec.domainname),
                  kMaxHostnameBytes);
    }
    BRICK_TRY(CheckOwnNamespace(l, NamespaceType::kUts, "domainname"));
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// sysctl

constexpr std::array<const char*, 8> kIpcSysctls = {
    "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

Status ValidateSysctls(const Linux& l) {
  for (const auto& [key, value] : l.sysctl) {
    std::string at = fmt::format("linux.sysctl[{}]", Quote(key));
    // The key becomes a path under /proc/sys; keep it from naming anything else.
    if (key.empty() || Contains(key, '/') || key.find("..") != std::string::npos ||
        key.front() == '.' || key.back() == '.' || Contains(key, '\0')) {
      return Fail(
          "{}: not a sysctl name; use dotted names like \"net.ipv4.ip_forward\" without "
          "\"/\" or \"..\"",
          at);
    }
    BRICK_TRY(CheckNoNul(value, at));
    if (key == "kernel.hostname" || key == "kernel.domainname") {
      return Fail("{}: set the {} field instead", at,
                  key == "kernel.hostname" ? "hostname" : "domainname");
    }
    if (ListHas(kIpcSysctls, key) || key.starts_with("fs.mqueue.")) {
      BRICK_TRY(CheckOwnNamespace(l, NamespaceType::kIpc, at));
    } else if (key.starts_with("net.")) {
      BRICK_TRY(CheckOwnNamespace(l, NamespaceType::kNetwork, at));
    } else {
      return Fail("{}: is not namespaced and would change the host; remove it", at);
    }
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// mounts, devices, paths

Status ValidateMounts(const std::vector<Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Mount& m = mounts[i];
    std::string at = Index("mounts", i);
    if (m.destination.empty()) {
      return Fail("{}.destination: must not be empty", at);
    }
    BRICK_TRY(CheckNoNul(m.destination, at + ".destination"));
    // Relative destinations are deprecated but allowed (taken relative to "/").
    if (LexicallyEscapesRoot(m.destination)) {
      return Fail("{}.destination: {} escapes the container root", at, Quote(m.destination));
    }
    BRICK_TRY(CheckNoNul(m.source, at + ".source"));
    bool bind = ListHas(m.options, "bind") || ListHas(m.options, "rbind");
    if (!bind && m.type.empty()) {
      return Fail(
          "{}.type: required for a mount that is not a bind mount (for a bind mount, add "
          "\"bind\" or \"rbind\" to {}.options)",
          at, at);
    }
    if (bind && m.source.empty()) {
      return Fail("{}.source: required for a bind mount", at);
    }
    if (m.uid_mappings.empty() != m.gid_mappings.empty()) {
      return Fail("{}.{}: required together with {}.{}", at,
                  m.uid_mappings.empty() ? "uidMappings" : "gidMappings", at,
                  m.uid_mappings.empty() ? "gidMappings" : "uidMappings");
    }
    BRICK_TRY(ValidateIdMappings(m.uid_mappings, at + ".uidMappings"));
    BRICK_TRY(ValidateIdMappings(m.gid_mappings, at + ".gidMappings"));
  }
  return Ok();
}

Status ValidateDevices(const std::vector<Device>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const Device& d = devices[i];
    std::string at = Index("linux.devices", i);
    if (d.type != 'c' && d.type != 'b' && d.type != 'u' && d.type != 'p') {
      return Fail("{}.type: unknown device type {} (expected c, b, u or p)", at,
                  Quote(std::string(1, d.type)));
    }
    BRICK_TRY(CheckContainerPath(d.path, at + ".path"));
    if (d.type != 'p') {
      if (d.major < 0) {
        return Fail("{}.major: {} must not be negative", at, d.major);
      }
      if (d.minor < 0) {
        return Fail("{}.minor: {} must not be negative", at, d.minor);
      }
    }
    if (d.file_mode && *d.file_mode > 07777) {
      return Fail(
          "{}.fileMode: {} (octal {:o}) has bits beyond 07777; give permission bits only "
          "(the type comes from {}.type)",
          at, *d.file_mode, *d.file_mode, at);
    }
  }
  return Ok();
}

Status ValidatePathList(const std::vector<std::string>& paths, std::string_view field) {
  for (size_t i = 0; i < paths.size(); ++i) {
    BRICK_TRY(CheckContainerPath(paths[i], Index(field, i)));
  }
  return Ok();
}

constexpr std::array<const char*, 8> kRootfsPropagations = {
    "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};

// ---------------------------------------------------------------------------------------
// resources

bool IsHugepageSize(std::string_view s) {
  // <digits without leading zero><K|M|G>B, as the schema's pattern.
  if (s.size() < 3 || s.back() != 'B') {
    return false;
  }
  char unit = s[s.size() - 2];
  if (unit != 'K' && unit != 'M' && unit != 'G') {
    return false;
  }
  std::string_view digits = s.substr(0, s.size() - 2);
  if (digits.empty() || digits[0] == '0') {
    return false;
  }
  for (char c : digits) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

Status ValidateResourcesImpl(const Resources& r) {
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const DeviceCgroupRule& rule = r.devices[i];
    std::string at = Index("linux.resources.devices", i);
    if (rule.type && *rule.type != 'a' && *rule.type != 'c' && *rule.type != 'b') {
      return Fail("{}.type: unknown device type {} (expected a, c or b)", at,
                  Quote(std::string(1, *rule.type)));
    }
    for (char c : rule.access) {
      if (c != 'r' && c != 'w' && c != 'm') {
        return Fail("{}.access: {} is not a combination of r, w and m", at, Quote(rule.access));
      }
    }
  }
  if (r.memory && r.memory->swappiness && *r.memory->swappiness > 100) {
    return Fail("linux.resources.memory.swappiness: {} is out of range [0, 100]",
                *r.memory->swappiness);
  }
  if (r.cpu && r.cpu->quota && r.cpu->burst && *r.cpu->quota > 0 &&
      *r.cpu->burst > static_cast<uint64_t>(*r.cpu->quota)) {
    return Fail("linux.resources.cpu.burst: {} is larger than linux.resources.cpu.quota {}",
                *r.cpu->burst, *r.cpu->quota);
  }
  if (r.block_io) {
    for (size_t i = 0; i < r.block_io->weight_device.size(); ++i) {
      const WeightDevice& w = r.block_io->weight_device[i];
      if (!w.weight && !w.leaf_weight) {
        return Fail("{}: needs weight or leafWeight",
                    Index("linux.resources.blockIO.weightDevice", i));
      }
    }
  }
  for (size_t i = 0; i < r.hugepage_limits.size(); ++i) {
    const std::string& size = r.hugepage_limits[i].page_size;
    if (!IsHugepageSize(size)) {
      return Fail("{}.pageSize: {} is not a size like \"2MB\" (digits, then KB, MB or GB)",
                  Index("linux.resources.hugepageLimits", i), Quote(size));
    }
  }
  for (const auto& [device, limit] : r.rdma) {
    if (!limit.hca_handles && !limit.hca_objects) {
      return Fail("linux.resources.rdma[{}]: needs hcaHandles or hcaObjects", Quote(device));
    }
  }
  for (const auto& [file, value] : r.unified) {
    // The key names a file in the container's cgroup directory and nothing above it.
    if (file.empty() || Contains(file, '/') || file == "." || file == ".." ||
        Contains(file, '\0')) {
      return Fail("linux.resources.unified[{}]: not a cgroup file name", Quote(file));
    }
    BRICK_TRY(CheckNoNul(value, fmt::format("linux.resources.unified[{}]", Quote(file))));
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// seccomp

constexpr std::array<const char*, 9> kSeccompActions = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

constexpr std::array<const char*, 7> kSeccompOps = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

constexpr std::array<const char*, 23> kSeccompArchitectures = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

constexpr std::array<const char*, 4> kSeccompFlags = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

// The highest syscall argument index; syscalls take at most six arguments.
constexpr uint32_t kMaxSeccompArgIndex = 5;

Status CheckSeccompAction(const std::string& action, std::string_view field,
                          const std::optional<uint32_t>& errno_ret, std::string_view errno_field,
                          const Seccomp& s) {
  if (!ListHas(kSeccompActions, action)) {
    return Fail("{}: unknown action {} (expected one of {})", field, Quote(action),
                OneOf(kSeccompActions));
  }
  if (errno_ret && action != "SCMP_ACT_ERRNO" && action != "SCMP_ACT_TRACE") {
    return Fail("{}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not {}", errno_field,
                action);
  }
  if (action == "SCMP_ACT_NOTIFY" && s.listener_path.empty()) {
    return Fail("{}: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath to hand the notify fd to",
                field);
  }
  return Ok();
}

Status ValidateSeccomp(const Seccomp& s) {
  BRICK_TRY(CheckSeccompAction(s.default_action, "linux.seccomp.defaultAction", s.default_errno_ret,
                               "linux.seccomp.defaultErrnoRet", s));
  if (s.default_action == "SCMP_ACT_NOTIFY") {
    // Every syscall, including the ones the runtime itself makes after installing the filter
    // (execve), would wait on the agent.
    return Fail("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  }
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    if (!ListHas(kSeccompArchitectures, s.architectures[i])) {
      return Fail(
          "{}: unknown architecture {} (expected SCMP_ARCH_* as libseccomp names it, "
          "e.g. SCMP_ARCH_X86_64)",
          Index("linux.seccomp.architectures", i), Quote(s.architectures[i]));
    }
  }
  for (size_t i = 0; i < s.flags.size(); ++i) {
    if (!ListHas(kSeccompFlags, s.flags[i])) {
      return Fail("{}: unknown flag {} (expected one of {})", Index("linux.seccomp.flags", i),
                  Quote(s.flags[i]), OneOf(kSeccompFlags));
    }
  }
  if (!s.listener_metadata.empty() && s.listener_path.empty()) {
    return Fail("linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath");
  }
  if (!s.listener_path.empty()) {
    BRICK_TRY(CheckAbsolute(s.listener_path, "linux.seccomp.listenerPath"));
  }
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    std::string at = Index("linux.seccomp.syscalls", i);
    if (sc.names.empty()) {
      return Fail("{}.names: must list at least one syscall", at);
    }
    BRICK_TRY(CheckSeccompAction(sc.action, at + ".action", sc.errno_ret, at + ".errnoRet", s));
    for (size_t j = 0; j < sc.args.size(); ++j) {
      const SeccompArg& arg = sc.args[j];
      std::string arg_at = Index(at + ".args", j);
      if (arg.index > kMaxSeccompArgIndex) {
        return Fail("{}.index: {} is out of range [0, {}]", arg_at, arg.index, kMaxSeccompArgIndex);
      }
      if (!ListHas(kSeccompOps, arg.op)) {
        return Fail("{}.op: unknown operator {} (expected one of {})", arg_at, Quote(arg.op),
                    OneOf(kSeccompOps));
      }
    }
  }
  return Ok();
}

// ---------------------------------------------------------------------------------------
// hooks and the rest of linux

Status ValidateHookList(const std::vector<Hook>& hooks, std::string_view field) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    const Hook& h = hooks[i];
    std::string at = Index(field, i);
    BRICK_TRY(CheckAbsolute(h.path, at + ".path"));
    for (size_t j = 0; j < h.args.size(); ++j) {
      BRICK_TRY(CheckNoNul(h.args[j], Index(at + ".args", j)));
    }
    BRICK_TRY(CheckEnv(h.env, at + ".env"));
    if (h.timeout && *h.timeout <= 0) {
      return Fail("{}.timeout: {} must be greater than 0", at, *h.timeout);
    }
  }
  return Ok();
}

Status ValidateHooks(const Hooks& h) {
  BRICK_TRY(ValidateHookList(h.prestart, "hooks.prestart"));
  BRICK_TRY(ValidateHookList(h.create_runtime, "hooks.createRuntime"));
  BRICK_TRY(ValidateHookList(h.create_container, "hooks.createContainer"));
  BRICK_TRY(ValidateHookList(h.start_container, "hooks.startContainer"));
  BRICK_TRY(ValidateHookList(h.poststart, "hooks.poststart"));
  BRICK_TRY(ValidateHookList(h.poststop, "hooks.poststop"));
  return Ok();
}

Status ValidateLinuxMisc(const Linux& l) {
  if (!l.rootfs_propagation.empty() && !ListHas(kRootfsPropagations, l.rootfs_propagation)) {
    return Fail("linux.rootfsPropagation: unknown propagation {} (expected {})",
                Quote(l.rootfs_propagation), OneOf(kRootfsPropagations));
  }
  BRICK_TRY(ValidatePathList(l.masked_paths, "linux.maskedPaths"));
  BRICK_TRY(ValidatePathList(l.readonly_paths, "linux.readonlyPaths"));
  // cgroupsPath is joined under brick's cgroup root; ".." would climb out of it.
  BRICK_TRY(CheckNoNul(l.cgroups_path, "linux.cgroupsPath"));
  if (HasDotDotComponent(l.cgroups_path)) {
    return Fail("linux.cgroupsPath: {} must not contain \"..\" components", Quote(l.cgroups_path));
  }
  if (l.intel_rdt) {
    const IntelRdt& rdt = *l.intel_rdt;
    const std::string& clos = rdt.clos_id;
    if (clos != "/" && (Contains(clos, '/') || clos == "." || clos == ".." ||
                        Contains(clos, '\n') || Contains(clos, '\0'))) {
      return Fail("linux.intelRdt.closID: {} is not a resctrl group name (or \"/\")", Quote(clos));
    }
    if (Contains(rdt.l3_cache_schema, '\n')) {
      return Fail("linux.intelRdt.l3CacheSchema: {} must be one line", Quote(rdt.l3_cache_schema));
    }
    if (!rdt.mem_bw_schema.empty() &&
        (!rdt.mem_bw_schema.starts_with("MB:") || Contains(rdt.mem_bw_schema, '\n'))) {
      return Fail("linux.intelRdt.memBwSchema: {} must be one line starting with \"MB:\"",
                  Quote(rdt.mem_bw_schema));
    }
  }
  if (l.personality) {
    if (l.personality->domain != "LINUX" && l.personality->domain != "LINUX32") {
      return Fail("linux.personality.domain: unknown domain {} (expected LINUX or LINUX32)",
                  Quote(l.personality->domain));
    }
    if (!l.personality->flags.empty()) {
      return Fail("linux.personality.flags[0]: {} is not supported; the spec defines no flags",
                  Quote(l.personality->flags[0]));
    }
  }
  return Ok();
}

}  // namespace

Status ValidateProcessObject(const Process& process) { return ValidateProcess(process); }
Status ValidateResources(const Resources& resources) { return ValidateResourcesImpl(resources); }

Status ValidateSpec(const Spec& spec) {
  BRICK_TRY(ValidateVersion(spec.oci_version));
  if (spec.root.path.empty()) {
    return Fail("root.path: required; give the root file system directory (usually \"rootfs\")");
  }
  BRICK_TRY(CheckNoNul(spec.root.path, "root.path"));
  if (spec.process) {
    BRICK_TRY(ValidateProcess(*spec.process));
  }
  BRICK_TRY(ValidateNamespaces(spec));
  BRICK_TRY(ValidateSysctls(spec.linux));
  BRICK_TRY(ValidateMounts(spec.mounts));
  BRICK_TRY(ValidateDevices(spec.linux.devices));
  if (spec.linux.resources) {
    BRICK_TRY(ValidateResourcesImpl(*spec.linux.resources));
  }
  if (spec.linux.seccomp) {
    BRICK_TRY(ValidateSeccomp(*spec.linux.seccomp));
  }
  if (spec.hooks) {
    BRICK_TRY(ValidateHooks(*spec.hooks));
  }
  BRICK_TRY(ValidateLinuxMisc(spec.linux));
  for (const auto& [key, value] : spec.annotations) {
    if (key.empty()) {
      return Fail("annotations: keys must not be empty");
    }
  }
  return Ok();
}

}  // namespace brick::oci
