// The brick profile: one TOML file holding all the isolation of a service, read with toml++.
// docs/profile.md documents every field.
//
//   Profile p = BRICK_TRY_VALUE(LoadProfile("web.toml"));     // extends resolved, validated
//   oci::Spec spec = BRICK_TRY_VALUE(CompileProfile(p, {.rootfs = "/srv/web/rootfs"}));
//
// Every error names file:line:column; unknown keys get "did you mean". A profile whose
// compiled config is weaker than the built-in `default` (any audit rule that passes for
// `default` does not pass for it) is refused unless it says unsafe = true.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/runtime/secrets.h"

namespace brick::policy {

struct ProfileMount {
  std::string source;  // host path
  std::string destination;
  bool writable = false;  // read-only unless set
  std::vector<std::string> options;
};

struct ProfileTmpfs {
  std::string destination;
  int64_t size = 64 << 20;
  uint32_t mode = 01777;
  bool exec = false;
};

struct ProfileIoLimit {
  std::string device;  // host block device, e.g. /dev/sda
  std::optional<uint64_t> read_bps;
  std::optional<uint64_t> write_bps;
};

struct ProfileSecret {
  std::string name;  // file name under /run/secrets
  std::string file;  // host file holding the value
};

struct ProfileSeccompRule {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
};

struct Profile {
  std::string path;  // the file it was read from; "" for built-ins
  std::vector<std::string> chain;  // the profile, then what it extends, outermost last
  std::optional<bool> unsafe;
  std::optional<std::string> description;

  std::optional<std::vector<std::string>> command;
  std::optional<std::string> cwd;
  std::optional<std::string> hostname;
  std::map<std::string, std::string> env;

  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::optional<std::vector<uint32_t>> groups;
  std::optional<uint32_t> umask;

  std::optional<uint32_t> idmap_uid_base;
  std::optional<uint32_t> idmap_gid_base;
  std::optional<uint32_t> idmap_size;

  std::vector<std::string> cap_add;   // "CAP_NET_BIND_SERVICE"
  std::vector<std::string> cap_drop;  // may hold "ALL"

  std::optional<std::string> seccomp_profile;  // "default" | "unconfined"
  std::optional<std::string> seccomp_file;     // an OCI linux.seccomp object
  std::optional<std::string> seccomp_default_action;
  std::vector<ProfileSeccompRule> seccomp_rules;  // inline: added to the base profile
  std::optional<bool> no_new_privs;

  std::optional<std::string> selinux_type;
  std::optional<std::string> selinux_level;
  std::optional<std::string> apparmor;

  std::optional<bool> readonly_root;
  std::optional<std::string> rootfs;
  std::vector<std::string> masked_paths;    // added to the defaults
  std::vector<std::string> readonly_paths;  // added to the defaults
  std::vector<std::string> unmask;          // defaults to drop (weakens)
  std::vector<ProfileMount> mounts;
  std::vector<ProfileTmpfs> tmpfs;
  std::vector<std::string> devices;

  std::vector<std::string> share_namespaces;  // pid net ipc uts user cgroup time
  std::optional<std::string> network;         // "none" | "host"
  std::optional<std::vector<std::string>> address_families;  // AF_UNIX, AF_INET, ...

  std::optional<int64_t> memory;
  std::optional<int64_t> memory_high;
  std::optional<int64_t> pids;
  std::optional<uint64_t> cpu_weight;
  std::optional<double> cpus;  // CPU quota in CPUs, 0.5 = half a CPU
  std::vector<ProfileIoLimit> io;
  std::map<std::string, std::pair<uint64_t, uint64_t>> rlimits;  // "RLIMIT_NOFILE" -> soft, hard
  std::map<std::string, std::string> sysctl;
  std::vector<ProfileSecret> secrets;
};

// Parses one file (extends not resolved). `file` names it in errors.
Result<Profile> ParseProfile(std::string_view toml_text, const std::string& file);
// Reads, resolves `extends` (built-in names or paths relative to the file) and validates,
// including the unsafe = true requirement.
Result<Profile> LoadProfile(const std::string& path);
Result<Profile> LoadProfileText(std::string_view toml_text, const std::string& file);
// The built-in bases: "default" and "minimal".
Result<Profile> BuiltinProfile(std::string_view name);

// Child on top of base: scalars override, lists append, maps merge by key, a capability the
// child drops leaves the base's additions.
Profile MergeProfiles(const Profile& base, const Profile& child);

struct CompileOptions {
  std::string rootfs;  // overrides the profile's rootfs; default "rootfs" (bundle-relative)
  std::vector<std::string> command;  // overrides the profile's command when not empty
};

// The annotation that carries secrets to the runtime: "NAME=HOSTFILE" entries, one per line.
inline constexpr const char* kSecretsAnnotation = runtime::kSecretsAnnotation;

Result<oci::Spec> CompileProfile(const Profile& profile, const CompileOptions& options = {});

// Rule ids that pass for `default` but not for `profile`; empty when it is not weaker.
Result<std::vector<std::string>> WeakerThanDefault(const Profile& profile);

// Parses "512M", "1G", "64k", "1048576": binary units.
std::optional<int64_t> ParseSize(std::string_view text);

}  // namespace brick::policy
