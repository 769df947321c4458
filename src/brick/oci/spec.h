// The OCI runtime-spec config.json model (1.0 to 1.3, Linux).
//
//   auto spec = brick::oci::LoadSpecFile("bundle/config.json");   // parse + validate
//   if (!spec) { fmt::print(stderr, "{}\n", spec.error().message()); return 1; }
//   for (const auto& m : spec->mounts) { ... }
//
// The model is parsed once, validated completely before the first syscall, and is
// immutable afterwards: each isolation step gets a const reference to its slice.
// Optional JSON members are std::optional so that "absent" and "zero" stay apart.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"

namespace brick::oci {

inline constexpr const char* kSpecVersion = "1.2.0";

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;

  friend bool operator==(const ConsoleSize&, const ConsoleSize&) = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;

  friend bool operator==(const User&, const User&) = default;
};

struct Capabilities {
  // Names as in the config, e.g. "CAP_NET_BIND_SERVICE"; validated against the
  // kernel's list. An absent set and an empty set both mean "none".
  std::vector<std::string> bounding;
  std::vector<std::string> effective;
  std::vector<std::string> permitted;
  std::vector<std::string> inheritable;
  std::vector<std::string> ambient;

  friend bool operator==(const Capabilities&, const Capabilities&) = default;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0;
  uint64_t soft = 0;

  friend bool operator==(const Rlimit&, const Rlimit&) = default;
};

struct IoPriority {
  std::string io_class;  // IOPRIO_CLASS_RT | IOPRIO_CLASS_BE | IOPRIO_CLASS_IDLE
  int priority = 0;

  friend bool operator==(const IoPriority&, const IoPriority&) = default;
};

struct Scheduler {
  std::string policy;  // SCHED_OTHER, ...
  std::optional<int32_t> nice;
  std::optional<int32_t> priority;
  std::vector<std::string> flags;
  std::optional<uint64_t> runtime;
  std::optional<uint64_t> deadline;
  std::optional<uint64_t> period;

  friend bool operator==(const Scheduler&, const Scheduler&) = default;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::optional<std::string> command_line;  // Windows only; rejected on Linux
  std::vector<std::string> env;             // "KEY=value"
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;
  std::optional<IoPriority> io_priority;
  std::optional<Scheduler> scheduler;

  friend bool operator==(const Process&, const Process&) = default;
};

struct Root {
  std::string path;  // relative to the bundle, or absolute
  bool readonly = false;

  friend bool operator==(const Root&, const Root&) = default;
};

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;

  friend bool operator==(const IdMapping&, const IdMapping&) = default;
};

struct Mount {
  std::string destination;
  std::string source;
  std::string type;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;  // idmapped mounts
  std::vector<IdMapping> gid_mappings;

  friend bool operator==(const Mount&, const Mount&) = default;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds, > 0

  friend bool operator==(const Hook&, const Hook&) = default;
};

struct Hooks {
  std::vector<Hook> prestart;
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;

  friend bool operator==(const Hooks&, const Hooks&) = default;
};

enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };

// "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time".
const char* NamespaceTypeName(NamespaceType t);
// The CLONE_NEW* flag for a namespace type.
int NamespaceCloneFlag(NamespaceType t);
// The /proc/<pid>/ns/<name> file name: "pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time".
const char* NamespaceProcName(NamespaceType t);

struct Namespace {
  NamespaceType type = NamespaceType::kPid;
  std::string path;  // empty: create a new one; else join this one

  friend bool operator==(const Namespace&, const Namespace&) = default;
};

struct Device {
  std::string path;  // absolute, inside the container
  char type = 'c';   // 'c', 'b', 'u' or 'p'
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;

  friend bool operator==(const Device&, const Device&) = default;
};

struct DeviceCgroupRule {
  bool allow = false;
  std::optional<char> type;     // 'a' (all), 'c', 'b'; absent = all
  std::optional<int64_t> major;  // absent = any
  std::optional<int64_t> minor;
  std::string access;  // subset of "rwm"; empty = "rwm"

  friend bool operator==(const DeviceCgroupRule&, const DeviceCgroupRule&) = default;
};

struct MemoryResources {
  std::optional<int64_t> limit;
  std::optional<int64_t> reservation;
  std::optional<int64_t> swap;
  std::optional<int64_t> kernel;
  std::optional<int64_t> kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  std::optional<bool> check_before_update;

  friend bool operator==(const MemoryResources&, const MemoryResources&) = default;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> idle;

  friend bool operator==(const CpuResources&, const CpuResources&) = default;
};

struct PidsResources {
  int64_t limit = 0;  // <= 0: unlimited

  friend bool operator==(const PidsResources&, const PidsResources&) = default;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;

  friend bool operator==(const WeightDevice&, const WeightDevice&) = default;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;

  friend bool operator==(const ThrottleDevice&, const ThrottleDevice&) = default;
};

struct BlockIoResources {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device;
  std::vector<ThrottleDevice> throttle_write_bps_device;
  std::vector<ThrottleDevice> throttle_read_iops_device;
  std::vector<ThrottleDevice> throttle_write_iops_device;

  friend bool operator==(const BlockIoResources&, const BlockIoResources&) = default;
};

struct HugepageLimit {
  std::string page_size;  // "2MB"
  uint64_t limit = 0;

  friend bool operator==(const HugepageLimit&, const HugepageLimit&) = default;
};

struct InterfacePriority {
  std::string name;
  uint32_t priority = 0;

  friend bool operator==(const InterfacePriority&, const InterfacePriority&) = default;
};

struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<InterfacePriority> priorities;

  friend bool operator==(const NetworkResources&, const NetworkResources&) = default;
};

struct RdmaLimit {
  std::optional<uint32_t> hca_handles;
  std::optional<uint32_t> hca_objects;

  friend bool operator==(const RdmaLimit&, const RdmaLimit&) = default;
};

struct Resources {
  std::vector<DeviceCgroupRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::optional<BlockIoResources> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<NetworkResources> network;
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;

  friend bool operator==(const Resources&, const Resources&) = default;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_NE, SCMP_CMP_LT, ... SCMP_CMP_MASKED_EQ

  friend bool operator==(const SeccompArg&, const SeccompArg&) = default;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;

  friend bool operator==(const SeccompSyscall&, const SeccompSyscall&) = default;
};

struct Seccomp {
  std::string default_action;  // SCMP_ACT_*
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompSyscall> syscalls;

  friend bool operator==(const Seccomp&, const Seccomp&) = default;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;

  friend bool operator==(const TimeOffset&, const TimeOffset&) = default;
};

struct IntelRdt {
  std::string clos_id;
  std::string l3_cache_schema;
  std::string mem_bw_schema;

  friend bool operator==(const IntelRdt&, const IntelRdt&) = default;
};

struct Personality {
  std::string domain;  // LINUX | LINUX32
  std::vector<std::string> flags;

  friend bool operator==(const Personality&, const Personality&) = default;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<Resources> resources;
  std::string rootfs_propagation;  // shared | slave | private | unbindable; empty = runtime default
  std::optional<Seccomp> seccomp;
  std::map<std::string, std::string> sysctl;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;
  std::optional<IntelRdt> intel_rdt;
  std::optional<Personality> personality;

  // The namespace entry of a type, or nullptr when the config has none (= share the host's).
  const Namespace* FindNamespace(NamespaceType t) const;

  friend bool operator==(const Linux&, const Linux&) = default;
};

struct Spec {
  std::string oci_version = kSpecVersion;
  std::optional<Process> process;
  Root root;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;

  friend bool operator==(const Spec&, const Spec&) = default;
};

// Parses config.json text into the model and validates it. Every error names the
// JSON field at fault, e.g. "linux.uidMappings[1]: overlaps linux.uidMappings[0] ...".
Result<Spec> ParseSpec(std::string_view json_text);
// Parses config.json text into the model without validating it: for tools that inspect or
// repair a config. Type errors and missing required fields are still reported. Anything that
// runs a container must use ParseSpec or LoadSpecFile instead.
Result<Spec> ParseSpecUnvalidated(std::string_view json_text);
// Reads and parses a file; errors are prefixed with the path.
Result<Spec> LoadSpecFile(const std::string& path);
// Checks everything that can be checked without touching the system: versions,
// required fields, capability names, id mappings, mount destinations, sysctls,
// rlimit names, seccomp names and operators, namespaces listed twice, etc.
Status ValidateSpec(const Spec& spec);
// Serializes the model back to config.json text (pretty-printed, 2-space indent).
std::string SerializeSpec(const Spec& spec);

// A process.json (`brick exec --process`): one OCI process object, parsed and validated.
// Errors name the field as "process.<field>".
Result<Process> ParseProcess(std::string_view json_text);
Status ValidateProcessObject(const Process& process);
// Parses and validates a linux.resources object on its own (`brick update --resources`).
// Errors name the field as it would sit in config.json: "linux.resources.pids.limit: ...".
Result<Resources> ParseResources(std::string_view json_text);
// The linux.resources part of ValidateSpec.
Status ValidateResources(const Resources& resources);

}  // namespace brick::oci
