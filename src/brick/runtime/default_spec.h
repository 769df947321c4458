// brick's hardened default config (docs/defaults.md), and the options that relax it.
//
//   DefaultSpecOptions o;
//   o.rootfs = "/var/lib/brick/rootfs";
//   o.args = {"sh", "-c", "id"};
//   oci::Spec spec = BRICK_TRY_VALUE(BuildDefaultSpec(o));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::runtime {

// Set on configs whose user-namespace mappings brick may replace with a freshly
// allocated per-container range ("auto"), as `brick spec` writes them.
inline constexpr const char* kAutoUsernsAnnotation = "run.brick.userns";

struct Volume {
  std::string source;  // host path
  std::string destination;
  bool writable = false;
};

struct DefaultSpecOptions {
  std::string rootfs;
  std::vector<std::string> args;  // empty: {"sh"}
  bool terminal = false;
  std::string hostname = "brick";
  uint32_t uid = 1000;
  uint32_t gid = 1000;
  std::vector<std::string> cap_add;  // "CAP_NET_BIND_SERVICE"
  std::vector<std::string> env;      // "KEY=VALUE", added after the defaults
  std::string cwd = "/";
  std::vector<Volume> volumes;
  std::vector<oci::Rlimit> ulimits;     // replace defaults of the same type
  std::vector<std::string> devices;     // host device paths to add
  std::optional<int64_t> memory_limit;  // bytes
  std::optional<int64_t> pids_limit;
  std::optional<uint64_t> cpu_weight;   // cgroup v2 weight 1..10000
  std::optional<oci::Seccomp> seccomp;  // replaces brick's default profile (profiles set it)
  std::vector<std::pair<std::string, std::string>> secrets;  // NAME, host FILE
  // The host id range the container's 0..65535 map to.
  uint32_t host_uid_base = 1000000000;
  uint32_t host_gid_base = 1000000000;
  uint32_t id_range = 65536;
  // Explicitly named relaxations (docs/defaults.md).
  std::vector<std::string> unsafe_share;  // "pid", "net", "ipc", "uts", "user", "cgroup", "time"
  bool unsafe_no_seccomp = false;
  bool unsafe_allow_new_privileges = false;
  bool unsafe_writable_root = false;
  std::vector<std::string> unsafe_unmask;  // masked or read-only paths to leave alone
};

Result<oci::Spec> BuildDefaultSpec(const DefaultSpecOptions& options);

// Parses "SRC:DST[:ro|rw]".
Result<Volume> ParseVolume(std::string_view text);
// Parses "NAME=SOFT[:HARD]" where NAME is "nofile" or "RLIMIT_NOFILE".
Result<oci::Rlimit> ParseUlimit(std::string_view text);

}  // namespace brick::runtime
