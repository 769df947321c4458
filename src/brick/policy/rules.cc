#include "brick/policy/rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>

#include "brick/base/strings.h"
#include "brick/oci/capabilities.h"
#include "brick/seccomp/default_profile.h"

namespace brick::policy {
namespace {

constexpr std::string_view kDangerous[] = {
    "CAP_SYS_ADMIN",  "CAP_SYS_MODULE", "CAP_SYS_PTRACE",   "CAP_DAC_READ_SEARCH",
    "CAP_NET_ADMIN",  "CAP_SYS_RAWIO",  "CAP_SYS_BOOT",     "CAP_BPF",
    "CAP_PERFMON",    "CAP_MAC_ADMIN",  "CAP_MAC_OVERRIDE", "CAP_SYS_TIME",
    "CAP_SYSLOG",     "CAP_NET_RAW",    "CAP_MKNOD",        "CAP_AUDIT_CONTROL",
    "CAP_SYS_RESOURCE",
};

std::string Join(const std::vector<std::string>& v, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) {
      out += sep;
    }
    out += s;
  }
  return out;
}

std::string Unknown(std::string_view what) {
  return fmt::format("{} cannot be determined from this source", what);
}

std::optional<uint64_t> AnyCaps(const ContainerView& v) {
  if (!v.cap_bounding && !v.cap_effective && !v.cap_ambient) {
    return std::nullopt;
  }
  return v.cap_bounding.value_or(0) | v.cap_effective.value_or(0) | v.cap_ambient.value_or(0);
}

uint64_t AllKnownCaps() {
  int last = oci::LastKnownCapability();
  return last >= 63 ? ~uint64_t{0} : (uint64_t{1} << (last + 1)) - 1;
}

Verdict CheckAllCaps(const ContainerView& v) {
  auto caps = AnyCaps(v);
  if (!caps) {
    return Verdict::Unknown(Unknown("the capability sets"));
  }
  // Anything holding every capability up to CAP_BPF (39) behaves like --privileged.
  uint64_t core = (uint64_t{1} << 40) - 1;
  if ((*caps & core) == core) {
    return Verdict::Violation(
        fmt::format("all {} capabilities are granted", std::popcount(*caps & AllKnownCaps())));
  }
  return Verdict::Ok();
}

Verdict CheckSysAdmin(const ContainerView& v) {
  auto caps = AnyCaps(v);
  if (!caps) {
    return Verdict::Unknown(Unknown("the capability sets"));
  }
  if (*caps & (uint64_t{1} << *oci::CapabilityNumber("CAP_SYS_ADMIN"))) {
    return Verdict::Violation("CAP_SYS_ADMIN is granted");
  }
  return Verdict::Ok();
}

Verdict CheckDangerousCaps(const ContainerView& v) {
  auto caps = AnyCaps(v);
  if (!caps) {
    return Verdict::Unknown(Unknown("the capability sets"));
  }
  std::vector<std::string> found;
  // CAP_SYS_ADMIN has a rule of its own.
  for (auto name : std::span(kDangerous).subspan(1)) {
    if (*caps & (uint64_t{1} << *oci::CapabilityNumber(name))) {
      found.emplace_back(name);
    }
  }
  if (!found.empty()) {
    return Verdict::Violation("granted, worst first: " + Join(found));
  }
  return Verdict::Ok();
}

Verdict CheckAnyCaps(const ContainerView& v) {
  auto caps = AnyCaps(v);
  if (!caps) {
    return Verdict::Unknown(Unknown("the capability sets"));
  }
  if (*caps != 0) {
    return Verdict::Violation(fmt::format("{} capabilities kept: {}", std::popcount(*caps),
                                          Join(oci::CapabilityNames(*caps))));
  }
  return Verdict::Ok("no capabilities");
}

Verdict CheckRootUser(const ContainerView& v) {
  if (!v.uid) {
    return Verdict::Unknown(Unknown("the user"));
  }
  if (*v.uid == 0) {
    return Verdict::Violation("the process runs as uid 0");
  }
  return Verdict::Ok(fmt::format("uid {}", *v.uid));
}

Verdict CheckUserNamespace(const ContainerView& v) {
  if (!v.user_namespace) {
    return Verdict::Unknown(Unknown("the user namespace"));
  }
  if (!*v.user_namespace) {
    return Verdict::Violation("the container shares the host's user namespace: its root is host root");
  }
  if (v.uid0_maps_to_host_root.value_or(false)) {
    return Verdict::Violation("uid 0 in the container maps to uid 0 on the host");
  }
  return Verdict::Ok();
}

Verdict CheckSeccompOn(const ContainerView& v) {
  if (!v.seccomp_enabled) {
    return Verdict::Unknown(Unknown("seccomp"));
  }
  if (!*v.seccomp_enabled) {
    return Verdict::Violation("no seccomp filter: every syscall reaches the kernel");
  }
  return Verdict::Ok();
}

Verdict CheckSeccompStrength(const ContainerView& v) {
  if (v.seccomp_enabled && !*v.seccomp_enabled) {
    return Verdict::Violation("no seccomp filter at all");
  }
  if (!v.seccomp_profile) {
    return Verdict::Unknown(
        "the filter of a running process cannot be compared from /proc; check its config");
  }
  auto extra = SyscallsAllowedBeyondDefault(*v.seccomp_profile);
  if (!extra.empty()) {
    return Verdict::Violation(
        fmt::format("allows {} syscalls brick's default denies: {}", extra.size(), Join(extra)));
  }
  return Verdict::Ok();
}

Verdict CheckNoNewPrivs(const ContainerView& v) {
  if (!v.no_new_privs) {
    return Verdict::Unknown(Unknown("no_new_privs"));
  }
  if (!*v.no_new_privs) {
    return Verdict::Violation("no_new_privs is off: setuid binaries can raise privileges");
  }
  return Verdict::Ok();
}

Verdict CheckReadonlyRoot(const ContainerView& v) {
  if (!v.readonly_root) {
    return Verdict::Unknown(Unknown("the root mount"));
  }
  if (!*v.readonly_root) {
    return Verdict::Violation("the root filesystem is writable");
  }
  return Verdict::Ok();
}

bool UnderOrAt(std::string_view path, std::string_view dir) {
  if (dir == "/") {
    return path == "/";
  }
  return path == dir || (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

std::string NormalizeHostPath(std::string p) {
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  if (p.starts_with("/var/run/") || p == "/var/run") {
    p = "/run" + p.substr(8);
  }
  return p;
}

bool IsEngineSocket(const std::string& source) {
  std::string p = NormalizeHostPath(source);
  for (std::string_view s : {"docker.sock", "podman.sock", "containerd.sock", "crio.sock",
                             "cri-dockerd.sock", "buildkitd.sock"}) {
    if (p.ends_with(s)) {
      return true;
    }
  }
  for (std::string_view d : {"/run/docker", "/run/containerd", "/run/podman", "/run/crio"}) {
    if (UnderOrAt(p, d)) {
      return true;
    }
  }
  return false;
}

bool IsSensitiveHostPath(const std::string& source) {
  std::string p = NormalizeHostPath(source);
  // The engines' state directories are sensitive as a whole; files an engine prepares for one
  // container below them (podman's userdata/hosts) are not.
  if (p == "/" || p == "/run" || p == "/usr" || p == "/lib" || p == "/var" || p == "/root" ||
      p == "/home" || p == "/var/lib" || p == "/var/lib/docker" || p == "/var/lib/containers" ||
      p == "/var/lib/kubelet") {
    return true;
  }
  for (std::string_view d : {"/etc", "/proc", "/sys", "/dev", "/boot", "/lib/modules"}) {
    if (UnderOrAt(p, d)) {
      return true;
    }
  }
  return false;
}

Verdict CheckSensitiveMounts(const ContainerView& v) {
  if (!v.mounts) {
    return Verdict::Unknown(Unknown("the mounts"));
  }
  std::vector<std::string> found;
  for (const auto& m : *v.mounts) {
    if (m.bind && !m.source.empty() && IsSensitiveHostPath(m.source) && !IsEngineSocket(m.source)) {
      found.push_back(fmt::format("{} at {}", m.source, m.destination));
    }
  }
  if (!found.empty()) {
    return Verdict::Violation("host paths mounted: " + Join(found));
  }
  return Verdict::Ok();
}

Verdict CheckEngineSocket(const ContainerView& v) {
  if (!v.mounts) {
    return Verdict::Unknown(Unknown("the mounts"));
  }
  std::vector<std::string> found;
  for (const auto& m : *v.mounts) {
    if (m.bind && IsEngineSocket(m.source)) {
      found.push_back(fmt::format("{} at {}", m.source, m.destination));
    }
  }
  if (!found.empty()) {
    return Verdict::Violation("container engine socket mounted: " + Join(found));
  }
  return Verdict::Ok();
}

Verdict CheckWritableBinds(const ContainerView& v) {
  if (!v.mounts) {
    return Verdict::Unknown(Unknown("the mounts"));
  }
  std::vector<std::string> found;
  for (const auto& m : *v.mounts) {
    if (m.bind && !m.readonly) {
      found.push_back(m.destination);
    }
  }
  if (!found.empty()) {
    return Verdict::Violation("writable bind mounts: " + Join(found));
  }
  return Verdict::Ok();
}

Verdict CheckNosuidBinds(const ContainerView& v) {
  if (!v.mounts) {
    return Verdict::Unknown(Unknown("the mounts"));
  }
  std::vector<std::string> found;
  for (const auto& m : *v.mounts) {
    if (m.bind && !m.nosuid) {
      found.push_back(m.destination);
    }
  }
  if (!found.empty()) {
    return Verdict::Violation("bind mounts without nosuid: " + Join(found));
  }
  return Verdict::Ok();
}

Verdict CheckKernelTunables(const ContainerView& v) {
  if (!v.mounts || !v.readonly_paths || !v.masked_paths) {
    return Verdict::Unknown(Unknown("the /sys and /proc/sys mounts"));
  }
  std::vector<std::string> found;
  bool proc_mounted = false;
  for (const auto& m : *v.mounts) {
    if ((m.type == "sysfs" || m.destination == "/sys") && !m.readonly) {
      found.push_back("/sys is mounted read-write");
    }
    proc_mounted |= m.type == "proc";
  }
  auto covered = [&](const char* p) {
    return v.readonly_paths->contains(p) || v.masked_paths->contains(p);
  };
  if (proc_mounted && !covered("/proc/sys")) {
    found.push_back("/proc/sys is writable");
  }
  if (proc_mounted && !covered("/proc/sysrq-trigger")) {
    found.push_back("/proc/sysrq-trigger is writable");
  }
  if (!found.empty()) {
    return Verdict::Violation(Join(found));
  }
  return Verdict::Ok();
}

Verdict CheckHostNamespace(const ContainerView& v, const char* name, const char* what) {
  if (!v.host_namespaces) {
    return Verdict::Unknown(Unknown("the namespaces"));
  }
  if (v.host_namespaces->contains(name)) {
    return Verdict::Violation(fmt::format("shares the host's {} namespace ({})", name, what));
  }
  return Verdict::Ok();
}

Verdict CheckHostPid(const ContainerView& v) { return CheckHostNamespace(v, "pid", "host processes"); }
Verdict CheckHostIpc(const ContainerView& v) { return CheckHostNamespace(v, "ipc", "host SysV IPC and /dev/shm"); }
Verdict CheckHostUts(const ContainerView& v) { return CheckHostNamespace(v, "uts", "host hostname"); }
Verdict CheckHostNet(const ContainerView& v) { return CheckHostNamespace(v, "net", "host network stack"); }
Verdict CheckHostMnt(const ContainerView& v) { return CheckHostNamespace(v, "mnt", "host mount table"); }
Verdict CheckHostCgroupNs(const ContainerView& v) {
  return CheckHostNamespace(v, "cgroup", "host cgroup paths");
}

Verdict CheckMemory(const ContainerView& v) {
  if (!v.memory_limit) {
    return Verdict::Unknown(Unknown("the memory limit"));
  }
  if (*v.memory_limit <= 0) {
    return Verdict::Violation("no memory limit");
  }
  return Verdict::Ok(fmt::format("{} bytes", *v.memory_limit));
}

Verdict CheckPids(const ContainerView& v) {
  if (!v.pids_limit) {
    return Verdict::Unknown(Unknown("the pids limit"));
  }
  if (*v.pids_limit <= 0) {
    return Verdict::Violation("no pids limit");
  }
  return Verdict::Ok(fmt::format("{} tasks", *v.pids_limit));
}

Verdict CheckCpu(const ContainerView& v) {
  if (!v.cpu_limited) {
    return Verdict::Unknown(Unknown("the cpu limit"));
  }
  if (!*v.cpu_limited) {
    return Verdict::Violation("no cpu shares, weight or quota");
  }
  return Verdict::Ok();
}

Verdict CheckDevices(const ContainerView& v) {
  if (!v.added_devices) {
    return Verdict::Unknown(Unknown("the device nodes"));
  }
  if (!v.added_devices->empty()) {
    return Verdict::Violation("devices added: " + Join(*v.added_devices));
  }
  return Verdict::Ok();
}

Verdict CheckDeviceCgroup(const ContainerView& v) {
  if (!v.device_cgroup_allows_all) {
    return Verdict::Unknown(Unknown("the device cgroup"));
  }
  if (*v.device_cgroup_allows_all) {
    return Verdict::Violation("the device cgroup allows every device");
  }
  return Verdict::Ok();
}

Verdict CheckEnvSecrets(const ContainerView& v) {
  if (!v.env) {
    return Verdict::Unknown(Unknown("the environment"));
  }
  auto names = SecretLookingEnv(*v.env);
  if (!names.empty()) {
    return Verdict::Violation("env entries that look like secrets: " + Join(names));
  }
  return Verdict::Ok();
}

Verdict CheckMaskedPaths(const ContainerView& v) {
  if (!v.masked_paths || !v.readonly_paths) {
    return Verdict::Unknown(Unknown("the masked paths"));
  }
  static const char* const kMustHide[] = {
      "/proc/acpi",       "/proc/kcore",       "/proc/keys",  "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
      "/sys/firmware",    "/proc/asound"};
  std::vector<std::string> missing;
  for (const char* p : kMustHide) {
    if (!v.masked_paths->contains(p) && !v.readonly_paths->contains(p)) {
      missing.emplace_back(p);
    }
  }
  if (!missing.empty()) {
    return Verdict::Violation("not masked: " + Join(missing));
  }
  return Verdict::Ok();
}

Verdict CheckLsm(const ContainerView& v) {
  if (!v.host.apparmor && !v.host.selinux) {
    return Verdict::Ok("the host runs no AppArmor or SELinux");
  }
  if (v.host.apparmor) {
    if (!v.apparmor_profile) {
      return Verdict::Unknown(Unknown("the AppArmor profile"));
    }
    if (v.apparmor_profile->empty() || *v.apparmor_profile == "unconfined") {
      return Verdict::Violation("the host runs AppArmor but the container has no profile");
    }
  }
  if (v.host.selinux) {
    if (!v.selinux_label) {
      return Verdict::Unknown(Unknown("the SELinux label"));
    }
    if (v.selinux_label->empty() || v.selinux_label->find("unconfined_t") != std::string::npos ||
        v.selinux_label->find("spc_t") != std::string::npos) {
      return Verdict::Violation("the host runs SELinux but the container has no confining label");
    }
  }
  return Verdict::Ok();
}

Verdict CheckUnsafeProfile(const ContainerView& v) {
  if (v.declared_unsafe) {
    return Verdict::Violation("the profile sets unsafe = true: it is weaker than `default`");
  }
  return Verdict::Ok();
}

constexpr Rule kRules[] = {
    {"BRICK-CAP-001", "No privileged-equivalent capability set", Severity::kFail,
     "every capability is as good as --privileged: mount, module loading, raw devices and "
     "ptrace of anything reach the host kernel",
     "drop all capabilities and add back only the ones the service needs "
     "(profile: capabilities.drop = [\"ALL\"], capabilities.add = [...])",
     "CIS Docker 5.4", CheckAllCaps},
    {"BRICK-CAP-002", "No CAP_SYS_ADMIN", Severity::kFail,
     "CAP_SYS_ADMIN is the catch-all capability: mounts, namespaces, bpf, and most container "
     "escapes start from it",
     "remove CAP_SYS_ADMIN from process.capabilities (profile: capabilities.add)",
     "CIS Docker 5.3", CheckSysAdmin},
    {"BRICK-CAP-003", "No dangerous capabilities", Severity::kFail,
     "SYS_MODULE, SYS_PTRACE, DAC_READ_SEARCH, NET_ADMIN, SYS_RAWIO and their kin each open a "
     "known path to the host",
     "remove the listed capabilities; grant narrow ones (NET_BIND_SERVICE) instead",
     "CIS Docker 5.3", CheckDangerousCaps},
    {"BRICK-CAP-004", "Capabilities dropped", Severity::kWarn,
     "from worst to best: privileged, all added, all dropped with the needed added, non-root "
     "with none; every kept capability is attack surface",
     "drop all capabilities (profile: capabilities.drop = [\"ALL\"]) and add only what is "
     "needed, or run as non-root with none",
     "CIS Docker 5.3", CheckAnyCaps},
    {"BRICK-USER-001", "Not running as root", Severity::kWarn,
     "root inside owns the image's files and passes most permission checks",
     "run as an unprivileged uid (profile: user.uid = 1000; brick run --user 1000)",
     "CIS Docker 4.1", CheckRootUser},
    {"BRICK-USER-002", "Own user namespace", Severity::kWarn,
     "without a user namespace, root in the container is root on the host, and an escape "
     "keeps full privileges",
     "give the container a user namespace mapping to an unprivileged host range (brick does by "
     "default; remove --unsafe-share user / namespaces.share = [\"user\"])",
     "CIS Docker 5.30", CheckUserNamespace},
    {"BRICK-SECCOMP-001", "Seccomp enabled", Severity::kFail,
     "without a filter every syscall, including kexec, module loading and bpf, reaches the kernel",
     "use brick's default profile (drop --unsafe-no-seccomp; profile: seccomp.profile = "
     "\"default\")",
     "CIS Docker 5.21", CheckSeccompOn},
    {"BRICK-SECCOMP-002", "Seccomp at least as strict as brick's default", Severity::kWarn,
     "each syscall the default denies is kernel attack surface or a host-global operation",
     "deny the listed syscalls (start from seccomp.profile = \"default\")",
     "CIS Docker 5.21", CheckSeccompStrength},
    {"BRICK-NNP-001", "no_new_privs set", Severity::kWarn,
     "without it, setuid binaries and file capabilities raise privileges inside the container",
     "set process.noNewPrivileges (profile: no_new_privs = true; podman: --security-opt "
     "no-new-privileges)",
     "CIS Docker 5.25", CheckNoNewPrivs},
    {"BRICK-ROOTFS-001", "Read-only root filesystem", Severity::kWarn,
     "a writable root lets an intruder plant or change binaries and persist",
     "mount the root read-only (root.readonly; profile: filesystem.readonly_root = true) and "
     "give writable tmpfs or volumes only where needed",
     "CIS Docker 5.12", CheckReadonlyRoot},
    {"BRICK-MOUNT-001", "No sensitive host directories mounted", Severity::kFail,
     "/, /etc, /proc, /sys, /dev, /boot or the engine's state give the container the host",
     "mount only the data directories the service needs",
     "CIS Docker 5.5", CheckSensitiveMounts},
    {"BRICK-MOUNT-002", "No container engine socket mounted", Severity::kFail,
     "the docker, podman or containerd socket starts privileged containers: full host control",
     "remove the socket mount; use a narrowly scoped API proxy if the service truly needs one",
     "CIS Docker 5.31", CheckEngineSocket},
    {"BRICK-MOUNT-003", "Bind mounts read-only", Severity::kWarn,
     "a writable host directory lets the container change host data",
     "mount volumes read-only (profile: mounts are read-only unless writable = true; "
     "brick run -v SRC:DST)",
     "", CheckWritableBinds},
    {"BRICK-MOUNT-004", "Bind mounts nosuid", Severity::kWarn,
     "a setuid binary on a host directory raises privileges inside the container",
     "add nosuid (and nodev) to the mount's options", "", CheckNosuidBinds},
    {"BRICK-MOUNT-005", "Kernel tunables read-only", Severity::kFail,
     "a writable /sys or /proc/sys changes the host kernel's settings",
     "mount /sys read-only and list /proc/sys and /proc/sysrq-trigger in "
     "linux.readonlyPaths",
     "", CheckKernelTunables},
    {"BRICK-NS-001", "Own pid namespace", Severity::kFail,
     "the host pid namespace shows and lets the container signal every host process",
     "remove --pid=host / --unsafe-share pid; add a pid namespace",
     "CIS Docker 5.15", CheckHostPid},
    {"BRICK-NS-002", "Own ipc namespace", Severity::kFail,
     "the host ipc namespace shares SysV IPC and shared memory with host processes",
     "remove --ipc=host / --unsafe-share ipc; add an ipc namespace",
     "CIS Docker 5.16", CheckHostIpc},
    {"BRICK-NS-003", "Own uts namespace", Severity::kWarn,
     "the host uts namespace lets the container change the host's hostname",
     "remove --uts=host / --unsafe-share uts; add a uts namespace",
     "CIS Docker 5.20", CheckHostUts},
    {"BRICK-NS-004", "Own network namespace", Severity::kFail,
     "the host network namespace exposes host interfaces, local services and abstract sockets",
     "remove --network=host / --unsafe-share net (profile: network = \"none\" or \"private\")",
     "CIS Docker 5.9", CheckHostNet},
    {"BRICK-NS-005", "Own mount namespace", Severity::kFail,
     "without a mount namespace the container sees and changes the host's mounts",
     "add a mount namespace", "", CheckHostMnt},
    {"BRICK-NS-006", "Own cgroup namespace", Severity::kWarn,
     "the host cgroup namespace reveals the host's cgroup layout",
     "add a cgroup namespace (remove --unsafe-share cgroup)", "", CheckHostCgroupNs},
    {"BRICK-LIMIT-001", "Memory limit", Severity::kWarn,
     "without a limit one container can exhaust the host's memory",
     "set linux.resources.memory.limit (profile: limits.memory = \"512M\"; --memory)",
     "CIS Docker 5.10", CheckMemory},
    {"BRICK-LIMIT-002", "Pids limit", Severity::kWarn,
     "without a limit a fork bomb takes down the host",
     "set linux.resources.pids.limit (profile: limits.pids = 1024; --pids-limit)",
     "CIS Docker 5.28", CheckPids},
    {"BRICK-LIMIT-003", "CPU limit", Severity::kWarn,
     "without a weight or quota one container can starve the others",
     "set linux.resources.cpu shares or quota (profile: limits.cpu_weight or limits.cpu_quota)",
     "CIS Docker 5.11", CheckCpu},
    {"BRICK-DEV-001", "No added devices", Severity::kWarn,
     "a host device node gives direct access to hardware or kernel drivers",
     "remove linux.devices entries the service does not need (profile: devices)",
     "CIS Docker 5.17", CheckDevices},
    {"BRICK-DEV-002", "Device cgroup denies by default", Severity::kFail,
     "an allow-all device cgroup lets the container open or mknod any host device",
     "start linux.resources.devices with {\"allow\": false, \"access\": \"rwm\"} and allow only "
     "the standard nodes",
     "", CheckDeviceCgroup},
    {"BRICK-ENV-001", "No secrets in the environment", Severity::kFail,
     "environment variables leak through /proc, logs, crash reports and child processes",
     "pass secrets as files (profile: [[secrets]]; brick run --secret NAME=FILE), which appear "
     "at /run/secrets/NAME",
     "", CheckEnvSecrets},
    {"BRICK-MASK-001", "Kernel information paths masked", Severity::kWarn,
     "/proc/kcore, /proc/keys, /proc/timer_list and the like leak kernel memory and host state",
     "list them in linux.maskedPaths (brick's default does; remove --unsafe-unmask)",
     "", CheckMaskedPaths},
    {"BRICK-LSM-001", "LSM profile where the host has one", Severity::kWarn,
     "AppArmor or SELinux confine the container even after an escape from its namespaces",
     "set process.apparmorProfile or process.selinuxLabel (profile: [lsm])",
     "CIS Docker 5.1", CheckLsm},
    {"BRICK-PROFILE-001", "Profile not declared unsafe", Severity::kWarn,
     "unsafe = true accepts isolation weaker than brick's default",
     "remove the weakening settings and unsafe = true", "", CheckUnsafeProfile},
};

Verdict NoCheck(const ContainerView&) { return Verdict::Ok(); }

constexpr Rule kDriftRule = {
    "BRICK-DRIFT-001", "Running container matches its config", Severity::kFail,
    "a difference between the config and the running process means the config cannot be "
    "trusted as a description of the container",
    "restart the container from its config, and find what changed it", "", NoCheck};

}  // namespace

const char* SeverityName(Severity s) { return s == Severity::kFail ? "fail" : "warn"; }

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kWarn:
      return "WARN";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kSkip:
      return "SKIP";
  }
  return "?";
}

std::span<const Rule> AllRules() { return kRules; }

const Rule* FindRule(std::string_view id) {
  for (const Rule& r : kRules) {
    if (r.id == id) {
      return &r;
    }
  }
  return id == kDriftRule.id ? &kDriftRule : nullptr;
}

const Rule& DriftRule() { return kDriftRule; }

std::span<const std::string_view> DangerousCapabilitiesRanked() { return kDangerous; }

Finding EvaluateRule(const Rule& rule, const ContainerView& view,
                     std::optional<Severity> severity) {
  Verdict v = rule.check(view);
  Finding f;
  f.rule = &rule;
  f.detail = std::move(v.detail);
  switch (v.kind) {
    case Verdict::Kind::kOk:
      f.outcome = Outcome::kPass;
      break;
    case Verdict::Kind::kUnknown:
      f.outcome = Outcome::kSkip;
      break;
    case Verdict::Kind::kViolation:
      f.outcome = severity.value_or(rule.severity) == Severity::kFail ? Outcome::kFail
                                                                      : Outcome::kWarn;
      break;
  }
  return f;
}

std::vector<Finding> EvaluateRules(const ContainerView& view) {
  std::vector<Finding> out;
  for (const Rule& r : kRules) {
    out.push_back(EvaluateRule(r, view));
  }
  return out;
}

std::vector<std::string> SecretLookingEnv(const std::vector<std::string>& env) {
  static const std::regex kAwsKey("(^|[^A-Z0-9])(AKIA|ASIA)[A-Z0-9]{16}([^A-Z0-9]|$)");
  static const std::regex kToken("^(ghp_|gho_|github_pat_|xox[abpr]-|glpat-|sk_live_)");
  std::vector<std::string> out;
  for (const auto& e : env) {
    auto eq = e.find('=');
    std::string name = e.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : e.substr(eq + 1);
    if (value.empty()) {
      continue;
    }
    std::string upper = name;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    bool by_name = false;
    for (std::string_view word : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY",
                                  "CREDENTIAL", "PRIVATE_KEY"}) {
      by_name |= upper.find(word) != std::string::npos;
    }
    for (const auto& part : Split(upper, '_')) {
      by_name |= part == "KEY" || part == "PASS" || part == "PWD";
    }
    // PWD is the shell's working directory, not a password.
    by_name &= upper != "PWD" && upper != "OLDPWD";
    bool by_value = value.find("PRIVATE KEY-----") != std::string::npos ||
                    std::regex_search(value, kAwsKey) || std::regex_search(value, kToken);
    if (by_name || by_value) {
      out.push_back(name);
    }
  }
  return out;
}

std::vector<std::string> SyscallsAllowedBeyondDefault(const oci::Seccomp& profile) {
  auto allows = [](const std::string& action) {
    return action == "SCMP_ACT_ALLOW" || action == "SCMP_ACT_LOG";
  };
  std::vector<std::string> out;
  for (const auto& [name, reason] : seccomp::DefaultProfileReasons()) {
    // An entry with argument conditions allows the syscall for some arguments; only an
    // unconditional refusal counts as a refusal. When entries disagree, any allowing one wins:
    // the comparison errs towards reporting.
    bool unconditional_deny = false;
    bool allowed_entry = false;
    for (const auto& s : profile.syscalls) {
      if (std::find(s.names.begin(), s.names.end(), name) == s.names.end()) {
        continue;
      }
      if (allows(s.action)) {
        allowed_entry = true;
      } else if (s.args.empty()) {
        unconditional_deny = true;
      }
    }
    bool allowed = allowed_entry || (!unconditional_deny && allows(profile.default_action));
    if (allowed) {
      out.push_back(name);
    }
  }
  return out;
}

std::vector<Finding> CompareViews(const ContainerView& c, const ContainerView& r) {
  std::vector<Finding> out;
  auto add = [&](std::string detail) {
    out.push_back({&kDriftRule, Outcome::kFail, std::move(detail)});
  };
  auto yes_no = [](bool b) { return b ? "yes" : "no"; };
  if (c.readonly_root && r.readonly_root && *c.readonly_root != *r.readonly_root) {
    add(fmt::format("read-only root: the config says {}, the running container's / is {}",
                    yes_no(*c.readonly_root), *r.readonly_root ? "read-only" : "writable"));
  }
  if (c.no_new_privs && r.no_new_privs && *c.no_new_privs != *r.no_new_privs) {
    add(fmt::format("no_new_privs: the config says {}, the process has {}", yes_no(*c.no_new_privs),
                    yes_no(*r.no_new_privs)));
  }
  if (c.seccomp_enabled && r.seccomp_enabled && *c.seccomp_enabled != *r.seccomp_enabled) {
    add(fmt::format("seccomp: the config says {}, the process has {}", yes_no(*c.seccomp_enabled),
                    yes_no(*r.seccomp_enabled)));
  }
  if (c.cap_bounding && r.cap_bounding && *c.cap_bounding != *r.cap_bounding) {
    add(fmt::format("bounding capabilities: the config says [{}], the process has [{}]",
                    Join(oci::CapabilityNames(*c.cap_bounding)),
                    Join(oci::CapabilityNames(*r.cap_bounding))));
  }
  if (c.uid && r.uid && *c.uid != *r.uid) {
    add(fmt::format("uid: the config says {}, the process runs as {}", *c.uid, *r.uid));
  }
  if (c.host_namespaces && r.host_namespaces) {
    for (const char* ns : {"pid", "net", "ipc", "uts", "mnt", "user", "cgroup"}) {
      bool claimed = c.host_namespaces->contains(ns);
      bool real = r.host_namespaces->contains(ns);
      if (claimed != real) {
        add(fmt::format("{} namespace: the config says {}, the process {}", ns,
                        claimed ? "host" : "private", real ? "shares the host's" : "has its own"));
      }
    }
  }
  auto limit = [](const std::optional<int64_t>& v) {
    return v && *v > 0 ? std::to_string(*v) : std::string("none");
  };
  if (c.memory_limit && r.memory_limit && limit(c.memory_limit) != limit(r.memory_limit)) {
    add(fmt::format("memory limit: the config says {}, the cgroup has {}", limit(c.memory_limit),
                    limit(r.memory_limit)));
  }
  if (c.pids_limit && r.pids_limit && limit(c.pids_limit) != limit(r.pids_limit)) {
    add(fmt::format("pids limit: the config says {}, the cgroup has {}", limit(c.pids_limit),
                    limit(r.pids_limit)));
  }
  return out;
}

}  // namespace brick::policy
