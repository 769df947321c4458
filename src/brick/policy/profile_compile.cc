// CompileProfile and WeakerThanDefault: a profile becomes brick's default config
// (runtime::BuildDefaultSpec, the one source of truth for the defaults) plus what the profile
// adds on top.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cmath>

#include "brick/policy/profile.h"
#include "brick/policy/rules.h"
#include "brick/runtime/default_spec.h"
#include "brick/seccomp/default_profile.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) {
    v.push_back(s);
  }
}

Result<oci::Seccomp> LoadSeccompFile(const std::string& path) {
  std::string text = BRICK_TRY_VALUE(ReadFile(path));
  auto wrapper = oci::ParseSpec(fmt::format(
      R"({{"ociVersion":"1.2.0","root":{{"path":"/"}},"linux":{{"seccomp":{}}}}})", text));
  if (!wrapper) {
    return std::unexpected(std::move(wrapper.error()).Wrap("seccomp.file " + path));
  }
  return *wrapper->linux.seccomp;
}

}  // namespace

Result<oci::Spec> CompileProfile(const Profile& p, const CompileOptions& options) {
  runtime::DefaultSpecOptions o;
  o.rootfs = !options.rootfs.empty() ? options.rootfs : p.rootfs.value_or("rootfs");
  o.args = !options.command.empty() ? options.command : p.command.value_or(std::vector<std::string>{});
  if (p.hostname) {
    o.hostname = *p.hostname;
  }
  o.uid = p.uid.value_or(o.uid);
  o.gid = p.gid.value_or(o.gid);
  o.cap_add = p.cap_add;
  for (const auto& [k, v] : p.env) {
    o.env.push_back(k + "=" + v);
  }
  o.cwd = p.cwd.value_or(o.cwd);
  for (const auto& m : p.mounts) {
    o.volumes.push_back({m.source, m.destination, m.writable});
  }
  for (const auto& [name, limits] : p.rlimits) {
    o.ulimits.push_back({name, limits.second, limits.first});
  }
  o.devices = p.devices;
  o.memory_limit = p.memory;
  o.pids_limit = p.pids;
  o.cpu_weight = p.cpu_weight;
  if (p.seccomp_file) {
    o.seccomp = BRICK_TRY_VALUE(LoadSeccompFile(*p.seccomp_file));
  }
  if (!p.seccomp_rules.empty() || p.seccomp_default_action) {
    oci::Seccomp s = o.seccomp.value_or(seccomp::DefaultProfile());
    if (p.seccomp_default_action) {
      s.default_action = *p.seccomp_default_action;
    }
    for (const auto& r : p.seccomp_rules) {
      s.syscalls.push_back({r.names, r.action, r.errno_ret, {}});
    }
    o.seccomp = s;
  }
  o.host_uid_base = p.idmap_uid_base.value_or(o.host_uid_base);
  o.host_gid_base = p.idmap_gid_base.value_or(o.host_gid_base);
  o.id_range = p.idmap_size.value_or(o.id_range);
  o.unsafe_share = p.share_namespaces;
  if (p.network == "host") {
    AddUnique(o.unsafe_share, "net");
  }
  o.unsafe_no_seccomp = p.seccomp_profile == "unconfined";
  o.unsafe_allow_new_privileges = p.no_new_privs == false;
  o.unsafe_writable_root = p.readonly_root == false;
  o.unsafe_unmask = p.unmask;
  oci::Spec spec = BRICK_TRY_VALUE(runtime::BuildDefaultSpec(o));

  oci::Process& proc = *spec.process;
  if (p.groups) {
    proc.user.additional_gids = *p.groups;
  }
  if (p.umask) {
    proc.user.umask = *p.umask;
  }
  if (p.selinux_type || p.selinux_level) {
    proc.selinux_label = fmt::format("system_u:system_r:{}:{}", p.selinux_type.value_or("container_t"),
                                     p.selinux_level.value_or("s0"));
    spec.linux.mount_label = fmt::format("system_u:object_r:container_file_t:{}",
                                         p.selinux_level.value_or("s0"));
  }
  if (p.apparmor) {
    proc.apparmor_profile = *p.apparmor;
  }
  for (const auto& path : p.masked_paths) {
    AddUnique(spec.linux.masked_paths, path);
  }
  for (const auto& path : p.readonly_paths) {
    AddUnique(spec.linux.readonly_paths, path);
  }
  for (const auto& m : p.mounts) {
    for (auto& sm : spec.mounts) {
      if (sm.destination == m.destination && sm.type == "bind") {
        for (const auto& opt : m.options) {
          AddUnique(sm.options, opt);
        }
      }
    }
  }
  for (const auto& t : p.tmpfs) {
    std::erase_if(spec.mounts, [&](const oci::Mount& m) { return m.destination == t.destination; });
    oci::Mount m;
    m.destination = t.destination;
    m.type = "tmpfs";
    m.source = "tmpfs";
    m.options = {"nosuid", "nodev"};
    if (!t.exec) {
      m.options.push_back("noexec");
    }
    m.options.push_back(fmt::format("mode={:o}", t.mode));
    m.options.push_back(fmt::format("size={}", t.size));
    spec.mounts.push_back(std::move(m));
  }
  for (const auto& [k, v] : p.sysctl) {
    spec.linux.sysctl[k] = v;
  }
  oci::Resources& res = *spec.linux.resources;
  if (p.memory_high) {
    res.unified["memory.high"] = std::to_string(*p.memory_high);
  }
  if (p.cpus) {
    if (!res.cpu) {
      res.cpu = oci::CpuResources{};
    }
    res.cpu->period = 100000;
    res.cpu->quota = static_cast<int64_t>(std::llround(*p.cpus * 100000));
  }
  for (const auto& io : p.io) {
    struct stat st;
    if (stat(io.device.c_str(), &st) != 0) {
      return ErrnoFail(errno, "limits.io device {}", io.device);
    }
    if (!S_ISBLK(st.st_mode)) {
      return Fail("limits.io device {}: not a block device", io.device);
    }
    if (!res.block_io) {
      res.block_io = oci::BlockIoResources{};
    }
    int64_t maj = major(st.st_rdev);
    int64_t min = minor(st.st_rdev);
    if (io.read_bps) {
      res.block_io->throttle_read_bps_device.push_back({maj, min, *io.read_bps});
    }
    if (io.write_bps) {
      res.block_io->throttle_write_bps_device.push_back({maj, min, *io.write_bps});
    }
  }
  if (!p.secrets.empty()) {
    // A private tmpfs the runtime fills before the process starts; see docs/profile.md.
    oci::Mount m;
    m.destination = "/run/secrets";
    m.type = "tmpfs";
    m.source = "tmpfs";
    m.options = {"nosuid", "nodev", "noexec", "mode=0500", "size=1m"};
    std::erase_if(spec.mounts, [](const oci::Mount& x) { return x.destination == "/run/secrets"; });
    spec.mounts.push_back(std::move(m));
    std::string list;
    for (const auto& s : p.secrets) {
      list += s.name + "=" + s.file + "\n";
    }
    spec.annotations[kSecretsAnnotation] = list;
  }
  auto valid = oci::ValidateSpec(spec);
  if (!valid) {
    return std::unexpected(std::move(valid.error()).Wrap("the compiled profile is not a valid config"));
  }
  return spec;
}

Result<std::vector<std::string>> WeakerThanDefault(const Profile& profile) {
  CompileOptions o;
  o.rootfs = "/rootfs";
  oci::Spec def = BRICK_TRY_VALUE(CompileProfile(Profile{}, o));
  oci::Spec mine = BRICK_TRY_VALUE(CompileProfile(profile, o));
  HostFacts host = DetectHostFacts();
  ContainerView dv = ViewFromSpec(def, host);
  ContainerView mv = ViewFromSpec(mine, host);
  std::vector<std::string> weaker;
  for (const Rule& r : AllRules()) {
    // Narrow, explicit grants are a profile's purpose, not a weakening: a capability outside
    // the dangerous list (CAP-003 still judges those) and a volume marked writable. brick check
    // still reports both as WARN.
    if (r.id == "BRICK-PROFILE-001" || r.id == "BRICK-CAP-004" || r.id == "BRICK-MOUNT-003") {
      continue;
    }
    if (EvaluateRule(r, dv).outcome == Outcome::kPass &&
        EvaluateRule(r, mv).outcome != Outcome::kPass) {
      weaker.emplace_back(r.id);
    }
  }
  return weaker;
}

}  // namespace brick::policy
