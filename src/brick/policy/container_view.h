// A normalized view of a container's isolation, whatever it came from: an OCI config, a
// compiled profile, or a running process read from /proc. The audit rules only look at this.
//
//   oci::Spec spec = BRICK_TRY_VALUE(oci::LoadSpecFile("bundle/config.json"));
//   ContainerView view = ViewFromSpec(spec);
//   if (view.user_namespace == false) { ... }
//
// Fields a source cannot tell are std::nullopt ("unknown"), never a guessed value, so that a
// rule can say it could not judge instead of passing.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "brick/oci/spec.h"

namespace brick::policy {

enum class ViewSource { kConfig, kProfile, kProcess };

struct MountView {
  std::string destination;
  std::string source;  // host path for binds; for a process, the root of the mount in its fs
  std::string type;    // "bind", "proc", "tmpfs", ...
  bool bind = false;
  bool readonly = false;
  bool nosuid = false;
};

// Facts about the host that some rules need (which LSM is active).
struct HostFacts {
  bool apparmor = false;
  bool selinux = false;
};

// Reads /sys/kernel/security/lsm and /sys/fs/selinux/enforce.
HostFacts DetectHostFacts();

struct ContainerView {
  ViewSource source = ViewSource::kConfig;
  std::string origin;  // file, bundle or "pid:N": where the view came from, for reports

  // Capabilities: bit masks; nullopt when unknown.
  std::optional<uint64_t> cap_bounding;
  std::optional<uint64_t> cap_effective;
  std::optional<uint64_t> cap_ambient;

  std::optional<uint32_t> uid;
  std::optional<bool> user_namespace;  // a user namespace of its own
  std::optional<bool> uid0_maps_to_host_root;

  // Seccomp: enabled at all, and (config only) the profile.
  std::optional<bool> seccomp_enabled;
  std::optional<oci::Seccomp> seccomp_profile;

  std::optional<bool> no_new_privs;
  std::optional<bool> readonly_root;

  std::optional<std::vector<MountView>> mounts;
  // Namespaces shared with the host, by /proc name: "pid", "net", "ipc", "uts", "mnt",
  // "user", "cgroup", "time". nullopt when unknown.
  std::optional<std::set<std::string>> host_namespaces;

  // Limits: nullopt = unknown; a value <= 0 = none.
  std::optional<int64_t> memory_limit;
  std::optional<int64_t> pids_limit;
  // cpu shares/weight or quota set at all.
  std::optional<bool> cpu_limited;

  // Device nodes beyond the runtime's standard set, and whether the device cgroup lets
  // everything through.
  std::optional<std::vector<std::string>> added_devices;
  std::optional<bool> device_cgroup_allows_all;

  std::optional<std::vector<std::string>> env;  // "KEY=VALUE"

  // Paths hidden or read-only inside the container.
  std::optional<std::set<std::string>> masked_paths;
  std::optional<std::set<std::string>> readonly_paths;

  std::optional<std::string> apparmor_profile;
  std::optional<std::string> selinux_label;

  // A profile that declared itself weaker than `default` with unsafe = true.
  bool declared_unsafe = false;

  HostFacts host;
  // How the view was obtained, where that qualifies it (shown in reports).
  std::vector<std::string> notes;
};

// The standard device nodes every runtime creates; anything else in linux.devices is "added".
bool IsStandardDevice(const std::string& path);

ContainerView ViewFromSpec(const oci::Spec& spec, const HostFacts& host = DetectHostFacts());

}  // namespace brick::policy
