#include "brick/policy/container_view.h"

#include <algorithm>

#include "brick/base/strings.h"
#include "brick/oci/capabilities.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

bool HasOption(const std::vector<std::string>& options, std::string_view o) {
  return std::find(options.begin(), options.end(), o) != options.end();
}

uint64_t MaskOf(const std::vector<std::string>& names) {
  uint64_t mask = 0;
  for (const auto& n : names) {
    // Unknown names are a validation matter; the audit judges what it can name.
    if (auto bit = oci::CapabilityNumber(n)) {
      mask |= uint64_t{1} << *bit;
    }
  }
  return mask;
}

bool AllowsAllDevices(const std::vector<oci::DeviceCgroupRule>& rules) {
  // The last rule that covers every device decides; without one, runtimes start from deny-all.
  bool allows = false;
  for (const auto& r : rules) {
    bool all_types = !r.type || *r.type == 'a';
    if (all_types && !r.major && !r.minor) {
      allows = r.allow;
    }
  }
  return allows;
}

}  // namespace

HostFacts DetectHostFacts() {
  HostFacts f;
  auto lsm = ReadFile("/sys/kernel/security/lsm");
  if (lsm) {
    for (const auto& name : Split(Trim(*lsm), ',')) {
      f.apparmor |= name == "apparmor";
      f.selinux |= name == "selinux";
    }
  }
  if (f.selinux) {
    // SELinux compiled in but disabled leaves no enforce file.
    auto enforce = ReadFile("/sys/fs/selinux/enforce");
    f.selinux = enforce.has_value();
  }
  if (f.apparmor) {
    auto enabled = ReadFile("/sys/module/apparmor/parameters/enabled");
    f.apparmor = enabled && Trim(*enabled) == "Y";
  }
  return f;
}

bool IsStandardDevice(const std::string& path) {
  static const char* const kStandard[] = {"/dev/null",    "/dev/zero", "/dev/full",
                                          "/dev/random",  "/dev/urandom", "/dev/tty",
                                          "/dev/console", "/dev/ptmx"};
  return std::find(std::begin(kStandard), std::end(kStandard), path) != std::end(kStandard);
}

ContainerView ViewFromSpec(const oci::Spec& spec, const HostFacts& host) {
  ContainerView v;
  v.source = ViewSource::kConfig;
  v.host = host;
  const auto& lx = spec.linux;

  oci::Capabilities caps;
  if (spec.process && spec.process->capabilities) {
    caps = *spec.process->capabilities;
  }
  v.cap_bounding = MaskOf(caps.bounding);
  v.cap_effective = MaskOf(caps.effective);
  v.cap_ambient = MaskOf(caps.ambient);

  if (spec.process) {
    v.uid = spec.process->user.uid;
    v.no_new_privs = spec.process->no_new_privileges;
    v.env = spec.process->env;
    v.apparmor_profile = spec.process->apparmor_profile;
    v.selinux_label = spec.process->selinux_label;
  }
  v.user_namespace = lx.FindNamespace(oci::NamespaceType::kUser) != nullptr;
  bool root_to_root = false;
  for (const auto& m : lx.uid_mappings) {
    root_to_root |= m.container_id == 0 && m.host_id == 0 && m.size > 0;
  }
  v.uid0_maps_to_host_root = !*v.user_namespace || root_to_root;

  v.seccomp_enabled = lx.seccomp.has_value();
  v.seccomp_profile = lx.seccomp;
  v.readonly_root = spec.root.readonly;

  std::vector<MountView> mounts;
  for (const auto& m : spec.mounts) {
    MountView mv;
    mv.destination = m.destination;
    mv.source = m.source;
    mv.type = m.type;
    mv.bind = m.type == "bind" || HasOption(m.options, "bind") || HasOption(m.options, "rbind");
    mv.readonly = HasOption(m.options, "ro");
    mv.nosuid = HasOption(m.options, "nosuid");
    mounts.push_back(std::move(mv));
  }
  v.mounts = std::move(mounts);

  std::set<std::string> shared;
  for (auto t : {oci::NamespaceType::kPid, oci::NamespaceType::kNetwork, oci::NamespaceType::kIpc,
                 oci::NamespaceType::kUts, oci::NamespaceType::kMount, oci::NamespaceType::kUser,
                 oci::NamespaceType::kCgroup}) {
    if (lx.FindNamespace(t) == nullptr) {
      shared.insert(oci::NamespaceProcName(t));
    }
  }
  v.host_namespaces = std::move(shared);

  const oci::Resources res = lx.resources.value_or(oci::Resources{});
  v.memory_limit = res.memory && res.memory->limit ? *res.memory->limit : 0;
  v.pids_limit = res.pids ? res.pids->limit : 0;
  v.cpu_limited = res.cpu && ((res.cpu->shares && *res.cpu->shares > 0) ||
                              (res.cpu->quota && *res.cpu->quota > 0) || !res.cpu->cpus.empty());

  std::vector<std::string> added;
  for (const auto& d : lx.devices) {
    if (!IsStandardDevice(d.path)) {
      added.push_back(d.path);
    }
  }
  v.added_devices = std::move(added);
  v.device_cgroup_allows_all = AllowsAllDevices(res.devices);

  v.masked_paths = std::set<std::string>(lx.masked_paths.begin(), lx.masked_paths.end());
  v.readonly_paths = std::set<std::string>(lx.readonly_paths.begin(), lx.readonly_paths.end());
  return v;
}

}  // namespace brick::policy
