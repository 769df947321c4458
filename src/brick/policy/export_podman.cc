#include "brick/policy/export_podman.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "brick/oci/spec.h"

namespace brick::policy {
namespace {

// Single quotes for the shell, unless the word is plainly safe.
std::string ShellQuote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-./:=,+@%") == std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Paths podman masks or makes read-only by default (containers/common 0.50).
const std::vector<std::string>& PodmanDefaultHidden() {
  static const std::vector<std::string> v = {
      "/proc/acpi",       "/proc/kcore",       "/proc/keys",        "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
      "/sys/firmware",    "/sys/fs/selinux",   "/sys/dev/block",    "/proc/asound",
      "/proc/bus",        "/proc/fs",          "/proc/irq",         "/proc/sys",
      "/proc/sysrq-trigger"};
  return v;
}

}  // namespace

Result<std::string> ExportPodmanFlags(const Profile& p, const std::string& image) {
  CompileOptions co;
  co.rootfs = "/";
  oci::Spec spec = BRICK_TRY_VALUE(CompileProfile(p, co));
  const oci::Process& proc = *spec.process;
  const oci::Linux& lx = spec.linux;
  std::vector<std::string> f;
  std::vector<std::string> cannot;
  std::vector<std::string> notes;

  f.push_back(fmt::format("--user {}:{}", proc.user.uid, proc.user.gid));
  for (auto g : proc.user.additional_gids) {
    f.push_back(fmt::format("--group-add {}", g));
  }
  if (proc.user.umask) {
    f.push_back(fmt::format("--umask {:04o}", *proc.user.umask));
  }
  if (!lx.uid_mappings.empty()) {
    for (const auto& m : lx.uid_mappings) {
      f.push_back(fmt::format("--uidmap {}:{}:{}", m.container_id, m.host_id, m.size));
    }
    for (const auto& m : lx.gid_mappings) {
      f.push_back(fmt::format("--gidmap {}:{}:{}", m.container_id, m.host_id, m.size));
    }
  }
  f.push_back("--cap-drop ALL");
  const oci::Capabilities caps = proc.capabilities.value_or(oci::Capabilities{});
  for (const auto& c : caps.bounding) {
    f.push_back("--cap-add " + c);
  }
  if (proc.no_new_privileges) {
    f.push_back("--security-opt no-new-privileges");
  }
  if (!lx.seccomp) {
    f.push_back("--security-opt seccomp=unconfined");
  } else if (p.seccomp_file && p.seccomp_rules.empty() && !p.seccomp_default_action) {
    f.push_back("--security-opt seccomp=" + ShellQuote(*p.seccomp_file));
  } else {
    f.push_back("--security-opt seccomp=brick-seccomp.json");
    notes.push_back("write brick-seccomp.json with: brick profile compile PROFILE | jq "
                    ".linux.seccomp > brick-seccomp.json");
  }
  if (p.selinux_type) {
    f.push_back("--security-opt label=type:" + *p.selinux_type);
  }
  if (p.selinux_level) {
    f.push_back("--security-opt label=level:" + *p.selinux_level);
  }
  if (!proc.apparmor_profile.empty()) {
    f.push_back("--security-opt apparmor=" + proc.apparmor_profile);
  }
  if (spec.root.readonly) {
    f.push_back("--read-only --read-only-tmpfs=false");
  }
  std::vector<std::string> mask;
  for (const auto& path : lx.masked_paths) {
    if (!Has(PodmanDefaultHidden(), path)) {
      mask.push_back(path);
    }
  }
  if (!mask.empty()) {
    std::string joined;
    for (const auto& m : mask) {
      joined += joined.empty() ? "" : ":";
      joined += m;
    }
    f.push_back("--security-opt mask=" + joined);
  }
  for (const auto& path : PodmanDefaultHidden()) {
    if (!Has(lx.masked_paths, path) && !Has(lx.readonly_paths, path)) {
      f.push_back("--security-opt unmask=" + path);
    }
  }
  for (const auto& path : lx.readonly_paths) {
    if (!Has(PodmanDefaultHidden(), path)) {
      cannot.push_back(fmt::format("read-only path {} (podman can only mask it: add "
                                   "--security-opt mask={} if hiding it is acceptable)",
                                   path, path));
    }
  }
  auto own = [&](oci::NamespaceType t) { return lx.FindNamespace(t) != nullptr; };
  f.push_back(own(oci::NamespaceType::kNetwork) ? "--network none" : "--network host");
  if (!own(oci::NamespaceType::kPid)) {
    f.push_back("--pid host");
  }
  if (!own(oci::NamespaceType::kIpc)) {
    f.push_back("--ipc host");
  }
  if (!own(oci::NamespaceType::kUts)) {
    f.push_back("--uts host");
  } else if (!spec.hostname.empty()) {
    f.push_back("--hostname " + ShellQuote(spec.hostname));
  }
  f.push_back(own(oci::NamespaceType::kCgroup) ? "--cgroupns private" : "--cgroupns host");
  if (own(oci::NamespaceType::kTime)) {
    cannot.push_back("a time namespace of its own (podman has no option for one)");
  }
  if (!own(oci::NamespaceType::kUser)) {
    cannot.push_back("the host user namespace: rootful podman without --uidmap already shares "
                     "it, rootless podman cannot");
  }
  if (p.address_families) {
    cannot.push_back("address_families (podman cannot restrict socket families)");
  }
  for (const auto& m : spec.mounts) {
    if (m.type == "bind") {
      std::string opts = Has(m.options, "rw") ? "rw" : "ro";
      for (const char* o : {"nosuid", "nodev", "noexec"}) {
        if (Has(m.options, o)) {
          opts += std::string(",") + o;
        }
      }
      f.push_back(fmt::format("--volume {}:{}:{}", ShellQuote(m.source), ShellQuote(m.destination),
                              opts));
    } else if (m.type == "tmpfs" && m.destination != "/dev") {
      std::string opts;
      for (const auto& o : m.options) {
        opts += opts.empty() ? "" : ",";
        opts += o;
      }
      if (m.destination == "/dev/shm") {
        continue;  // podman always gives one
      }
      f.push_back(fmt::format("--tmpfs {}:{}", m.destination, opts));
    }
  }
  for (const auto& d : lx.devices) {
    f.push_back("--device " + d.path);
  }
  const oci::Resources res = lx.resources.value_or(oci::Resources{});
  if (res.memory && res.memory->limit) {
    f.push_back(fmt::format("--memory {}", *res.memory->limit));
  }
  if (p.memory_high) {
    cannot.push_back(fmt::format("limits.memory_high {} (podman's --memory-reservation is "
                                 "memory.low, a protection, not a throttle)",
                                 *p.memory_high));
  }
  if (res.pids && res.pids->limit > 0) {
    f.push_back(fmt::format("--pids-limit {}", res.pids->limit));
  }
  if (res.cpu && res.cpu->shares) {
    f.push_back(fmt::format("--cpu-shares {}", *res.cpu->shares));
  }
  if (res.cpu && res.cpu->quota && res.cpu->period) {
    f.push_back(fmt::format("--cpu-quota {} --cpu-period {}", *res.cpu->quota, *res.cpu->period));
  }
  for (const auto& io : p.io) {
    if (io.read_bps) {
      f.push_back(fmt::format("--device-read-bps {}:{}", io.device, *io.read_bps));
    }
    if (io.write_bps) {
      f.push_back(fmt::format("--device-write-bps {}:{}", io.device, *io.write_bps));
    }
  }
  for (const auto& r : proc.rlimits) {
    std::string name = r.type.substr(7);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    f.push_back(fmt::format("--ulimit {}={}:{}", name, r.soft, r.hard));
  }
  for (const auto& [k, v] : lx.sysctl) {
    f.push_back(fmt::format("--sysctl {}", ShellQuote(k + "=" + v)));
  }
  for (const auto& e : proc.env) {
    f.push_back("--env " + ShellQuote(e));
  }
  for (const auto& s : p.secrets) {
    f.push_back(fmt::format("--secret {},target=/run/secrets/{},mode=0400", s.name, s.name));
    notes.push_back(fmt::format("create the secret first: podman secret create {} {}", s.name,
                                ShellQuote(s.file)));
  }
  f.push_back("--workdir " + ShellQuote(proc.cwd));
  if (p.unsafe.value_or(false)) {
    notes.push_back("the profile is marked unsafe = true: it is weaker than brick's default");
  }

  std::string out = fmt::format("# `brick profile export --podman {}`\n",
                                p.path.empty() ? "default" : std::filesystem::path(p.path).filename().string());
  for (const auto& n : notes) {
    out += "# " + n + "\n";
  }
  out += "podman run";
  for (const auto& flag : f) {
    out += " \\\n  " + flag;
  }
  out += " \\\n  " + ShellQuote(image);
  for (const auto& a : proc.args) {
    out += " " + ShellQuote(a);
  }
  out += "\n";
  if (!cannot.empty()) {
    out += "# Not expressible as podman flags, so not enforced by them:\n";
    for (const auto& c : cannot) {
      out += "#   - " + c + "\n";
    }
  }
  return out;
}

}  // namespace brick::policy
