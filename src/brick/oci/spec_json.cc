// config.json <-> Spec. Parsing checks JSON types and required members and reports the JSON
// path of the first mismatch; everything about values is left to ValidateSpec (validate.cc).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <concepts>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "brick/oci/quote.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::oci {
namespace {

using Json = nlohmann::json;
// Output keeps the spec's field order, which makes serialized configs easy to diff by eye.
using OutJson = nlohmann::ordered_json;

// A config.json is a few KiB, tens with an inline seccomp profile. The cap keeps a hostile
// or mistaken path (a huge file, /dev/zero through a symlink) from eating memory.
constexpr size_t kMaxConfigBytes = 16 << 20;

// ---------------------------------------------------------------------------------------
// JSON paths and type errors

std::string Child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string Index(const std::string& path, size_t i) { return fmt::format("{}[{}]", path, i); }

std::string MapKey(const std::string& path, std::string_view key) {
  return fmt::format("{}[{}]", path, Quote(key));
}

// What was found, for "expected X, got Y". Numbers are shown by value when a number of some
// kind was expected, because then the value is what is wrong ("got -1").
std::string Describe(const Json& v, bool show_number) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return show_number ? v.dump() : "a number";
    default:
      return "an unsupported value";
  }
}

// How a C++ type is named in errors, singular and plural ("an array of <plural>").
template <typename T>
struct Noun {
  static constexpr const char* kOne = "an object";
  static constexpr const char* kMany = "objects";
  static constexpr bool kNumber = false;
};
template <>
struct Noun<std::string> {
  static constexpr const char* kOne = "a string";
  static constexpr const char* kMany = "strings";
  static constexpr bool kNumber = false;
};
template <>
struct Noun<bool> {
  static constexpr const char* kOne = "a boolean";
  static constexpr const char* kMany = "booleans";
  static constexpr bool kNumber = false;
};
#define BRICK_OCI_INT_NOUN_(type, one, many)   \
  template <>                                  \
  struct Noun<type> {                          \
    static constexpr const char* kOne = one;   \
    static constexpr const char* kMany = many; \
    static constexpr bool kNumber = true;      \
  }
BRICK_OCI_INT_NOUN_(uint16_t, "an unsigned 16-bit integer", "unsigned 16-bit integers");
BRICK_OCI_INT_NOUN_(uint32_t, "an unsigned 32-bit integer", "unsigned 32-bit integers");
BRICK_OCI_INT_NOUN_(uint64_t, "an unsigned 64-bit integer", "unsigned 64-bit integers");
BRICK_OCI_INT_NOUN_(int32_t, "a 32-bit integer", "32-bit integers");
BRICK_OCI_INT_NOUN_(int64_t, "a 64-bit integer", "64-bit integers");
#undef BRICK_OCI_INT_NOUN_

template <typename T>
std::unexpected<Error> TypeError(const Json& v, const std::string& path) {
  return Fail("{}: expected {}, got {}", path, Noun<T>::kOne, Describe(v, Noun<T>::kNumber));
}

// ---------------------------------------------------------------------------------------
// Readers. Each Read(v, path, out) fills *out from v or returns an error naming path.

// Struct readers, declared first so that the container templates below can find them.
Status Read(const Json& v, const std::string& path, ConsoleSize* out);
Status Read(const Json& v, const std::string& path, User* out);
Status Read(const Json& v, const std::string& path, Capabilities* out);
Status Read(const Json& v, const std::string& path, Rlimit* out);
Status Read(const Json& v, const std::string& path, IoPriority* out);
Status Read(const Json& v, const std::string& path, Scheduler* out);
Status Read(const Json& v, const std::string& path, Process* out);
Status Read(const Json& v, const std::string& path, Root* out);
Status Read(const Json& v, const std::string& path, IdMapping* out);
Status Read(const Json& v, const std::string& path, Mount* out);
Status Read(const Json& v, const std::string& path, Hook* out);
Status Read(const Json& v, const std::string& path, Hooks* out);
Status Read(const Json& v, const std::string& path, Namespace* out);
Status Read(const Json& v, const std::string& path, Device* out);
Status Read(const Json& v, const std::string& path, DeviceCgroupRule* out);
Status Read(const Json& v, const std::string& path, MemoryResources* out);
Status Read(const Json& v, const std::string& path, CpuResources* out);
Status Read(const Json& v, const std::string& path, PidsResources* out);
Status Read(const Json& v, const std::string& path, WeightDevice* out);
Status Read(const Json& v, const std::string& path, ThrottleDevice* out);
Status Read(const Json& v, const std::string& path, BlockIoResources* out);
Status Read(const Json& v, const std::string& path, HugepageLimit* out);
Status Read(const Json& v, const std::string& path, InterfacePriority* out);
Status Read(const Json& v, const std::string& path, NetworkResources* out);
Status Read(const Json& v, const std::string& path, RdmaLimit* out);
Status Read(const Json& v, const std::string& path, Resources* out);
Status Read(const Json& v, const std::string& path, SeccompArg* out);
Status Read(const Json& v, const std::string& path, SeccompSyscall* out);
Status Read(const Json& v, const std::string& path, Seccomp* out);
Status Read(const Json& v, const std::string& path, TimeOffset* out);
Status Read(const Json& v, const std::string& path, IntelRdt* out);
Status Read(const Json& v, const std::string& path, Personality* out);
Status Read(const Json& v, const std::string& path, Linux* out);

Status Read(const Json& v, const std::string& path, std::string* out) {
  if (!v.is_string()) {
    return TypeError<std::string>(v, path);
  }
  *out = v.get_ref<const std::string&>();
  return Ok();
}

Status Read(const Json& v, const std::string& path, bool* out) {
  if (!v.is_boolean()) {
    return TypeError<bool>(v, path);
  }
  *out = v.get<bool>();
  return Ok();
}

// Integers must be JSON integers in range: 1.0, -1 for an unsigned field and 2^32 for a
// uint32 are errors, never silently converted.
template <typename T>
requires std::integral<T> &&(!std::same_as<T, bool>)Status
    Read(const Json& v, const std::string& path, T* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return TypeError<T>(v, path);
    }
    *out = static_cast<T>(u);
    return Ok();
  }
  if (v.is_number_integer()) {
    int64_t s = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (s < 0 ||
          static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max())) {
        return TypeError<T>(v, path);
      }
    } else {
      if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
          s > static_cast<int64_t>(std::numeric_limits<T>::max())) {
        return TypeError<T>(v, path);
      }
    }
    *out = static_cast<T>(s);
    return Ok();
  }
  return TypeError<T>(v, path);
}

template <typename T>
Status Read(const Json& v, const std::string& path, std::optional<T>* out) {
  T value{};
  BRICK_TRY(Read(v, path, &value));
  *out = std::move(value);
  return Ok();
}

template <typename T>
Status Read(const Json& v, const std::string& path, std::vector<T>* out) {
  if (!v.is_array()) {
    return Fail("{}: expected an array of {}, got {}", path, Noun<T>::kMany, Describe(v, false));
  }
  out->clear();
  out->reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    T item{};
    BRICK_TRY(Read(v[i], Index(path, i), &item));
    out->push_back(std::move(item));
  }
  return Ok();
}

template <typename T>
Status Read(const Json& v, const std::string& path, std::map<std::string, T>* out) {
  if (!v.is_object()) {
    return Fail("{}: expected an object of {}, got {}", path, Noun<T>::kMany, Describe(v, false));
  }
  out->clear();
  for (auto it = v.begin(); it != v.end(); ++it) {
    T item{};
    BRICK_TRY(Read(it.value(), MapKey(path, it.key()), &item));
    out->emplace(it.key(), std::move(item));
  }
  return Ok();
}

// The members of one JSON object. Members the model does not know are ignored, as the spec
// requires ("Extensibility"); null counts as absent, as it does for Go's encoding/json.
class Members {
 public:
  Members(const Json& object, const std::string& path) : object_(object), path_(path) {}

  static Status CheckObject(const Json& v, const std::string& path) {
    if (!v.is_object()) {
      return Fail("{}: expected an object, got {}", path, Describe(v, false));
    }
    return Ok();
  }

  template <typename T>
  Status Optional(std::string_view key, T* out) const {
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      return Ok();
    }
    return Read(*it, Child(path_, key), out);
  }

  template <typename T>
  Status Required(std::string_view key, T* out) const {
    auto it = object_.find(key);
    if (it == object_.end()) {
      return Fail("{}: required field is missing", Child(path_, key));
    }
    return Read(*it, Child(path_, key), out);
  }

  bool Has(std::string_view key) const {
    auto it = object_.find(key);
    return it != object_.end() && !it->is_null();
  }

  std::string PathOf(std::string_view key) const { return Child(path_, key); }
  const Json& At(std::string_view key) const { return *object_.find(key); }

 private:
  const Json& object_;
  const std::string& path_;
};

#define BRICK_OCI_OBJECT_(v, path)          \
  BRICK_TRY(Members::CheckObject(v, path)); \
  Members m(v, path)

// A one-letter device type string ("c") as a char.
Status ReadDeviceType(const Json& v, const std::string& path, std::string_view allowed, char* out) {
  if (!v.is_string()) {
    return TypeError<std::string>(v, path);
  }
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() != 1) {
    return Fail("{}: expected a one-letter device type ({}), got {}", path, allowed, Quote(s));
  }
  *out = s[0];
  return Ok();
}

Status Read(const Json& v, const std::string& path, ConsoleSize* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("height", &out->height));
  BRICK_TRY(m.Required("width", &out->width));
  return Ok();
}

Status Read(const Json& v, const std::string& path, User* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("uid", &out->uid));
  BRICK_TRY(m.Required("gid", &out->gid));
  BRICK_TRY(m.Optional("umask", &out->umask));
  BRICK_TRY(m.Optional("additionalGids", &out->additional_gids));
  BRICK_TRY(m.Optional("username", &out->username));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Capabilities* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("bounding", &out->bounding));
  BRICK_TRY(m.Optional("effective", &out->effective));
  BRICK_TRY(m.Optional("permitted", &out->permitted));
  BRICK_TRY(m.Optional("inheritable", &out->inheritable));
  BRICK_TRY(m.Optional("ambient", &out->ambient));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Rlimit* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("type", &out->type));
  BRICK_TRY(m.Required("hard", &out->hard));
  BRICK_TRY(m.Required("soft", &out->soft));
  return Ok();
}

Status Read(const Json& v, const std::string& path, IoPriority* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("class", &out->io_class));
  BRICK_TRY(m.Optional("priority", &out->priority));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Scheduler* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("policy", &out->policy));
  BRICK_TRY(m.Optional("nice", &out->nice));
  BRICK_TRY(m.Optional("priority", &out->priority));
  BRICK_TRY(m.Optional("flags", &out->flags));
  BRICK_TRY(m.Optional("runtime", &out->runtime));
  BRICK_TRY(m.Optional("deadline", &out->deadline));
  BRICK_TRY(m.Optional("period", &out->period));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Process* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("terminal", &out->terminal));
  BRICK_TRY(m.Optional("consoleSize", &out->console_size));
  // The spec makes uid and gid REQUIRED on POSIX. Defaulting a forgotten user to root is the
  // wrong way to fail for a runtime that runs as few things as root as it can.
  BRICK_TRY(m.Required("user", &out->user));
  BRICK_TRY(m.Optional("args", &out->args));
  BRICK_TRY(m.Optional("commandLine", &out->command_line));
  BRICK_TRY(m.Optional("env", &out->env));
  BRICK_TRY(m.Required("cwd", &out->cwd));
  BRICK_TRY(m.Optional("capabilities", &out->capabilities));
  BRICK_TRY(m.Optional("rlimits", &out->rlimits));
  BRICK_TRY(m.Optional("noNewPrivileges", &out->no_new_privileges));
  BRICK_TRY(m.Optional("apparmorProfile", &out->apparmor_profile));
  BRICK_TRY(m.Optional("oomScoreAdj", &out->oom_score_adj));
  BRICK_TRY(m.Optional("selinuxLabel", &out->selinux_label));
  BRICK_TRY(m.Optional("ioPriority", &out->io_priority));
  BRICK_TRY(m.Optional("scheduler", &out->scheduler));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Root* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("path", &out->path));
  BRICK_TRY(m.Optional("readonly", &out->readonly));
  return Ok();
}

Status Read(const Json& v, const std::string& path, IdMapping* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("containerID", &out->container_id));
  BRICK_TRY(m.Required("hostID", &out->host_id));
  BRICK_TRY(m.Required("size", &out->size));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Mount* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("destination", &out->destination));
  BRICK_TRY(m.Optional("source", &out->source));
  BRICK_TRY(m.Optional("type", &out->type));
  BRICK_TRY(m.Optional("options", &out->options));
  BRICK_TRY(m.Optional("uidMappings", &out->uid_mappings));
  BRICK_TRY(m.Optional("gidMappings", &out->gid_mappings));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Hook* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("path", &out->path));
  BRICK_TRY(m.Optional("args", &out->args));
  BRICK_TRY(m.Optional("env", &out->env));
  BRICK_TRY(m.Optional("timeout", &out->timeout));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Hooks* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("prestart", &out->prestart));
  BRICK_TRY(m.Optional("createRuntime", &out->create_runtime));
  BRICK_TRY(m.Optional("createContainer", &out->create_container));
  BRICK_TRY(m.Optional("startContainer", &out->start_container));
  BRICK_TRY(m.Optional("poststart", &out->poststart));
  BRICK_TRY(m.Optional("poststop", &out->poststop));
  return Ok();
}

constexpr NamespaceType kNamespaceTypes[] = {
    NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kMount,  NamespaceType::kIpc,
    NamespaceType::kUts, NamespaceType::kUser,    NamespaceType::kCgroup, NamespaceType::kTime,
};

Status Read(const Json& v, const std::string& path, Namespace* out) {
  BRICK_OCI_OBJECT_(v, path);
  std::string type;
  BRICK_TRY(m.Required("type", &type));
  bool known = false;
  for (NamespaceType t : kNamespaceTypes) {
    if (type == NamespaceTypeName(t)) {
      out->type = t;
      known = true;
    }
  }
  if (!known) {
    return Fail(
        "{}: unknown namespace type {} (expected pid, network, mount, ipc, uts, user, cgroup or "
        "time)",
        m.PathOf("type"), Quote(type));
  }
  BRICK_TRY(m.Optional("path", &out->path));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Device* out) {
  BRICK_OCI_OBJECT_(v, path);
  if (!m.Has("type")) {
    return Fail("{}: required field is missing", m.PathOf("type"));
  }
  BRICK_TRY(ReadDeviceType(m.At("type"), m.PathOf("type"), "c, b, u or p", &out->type));
  BRICK_TRY(m.Required("path", &out->path));
  BRICK_TRY(m.Optional("major", &out->major));
  BRICK_TRY(m.Optional("minor", &out->minor));
  BRICK_TRY(m.Optional("fileMode", &out->file_mode));
  BRICK_TRY(m.Optional("uid", &out->uid));
  BRICK_TRY(m.Optional("gid", &out->gid));
  return Ok();
}

Status Read(const Json& v, const std::string& path, DeviceCgroupRule* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("allow", &out->allow));
  if (m.Has("type")) {
    char type = 0;
    BRICK_TRY(ReadDeviceType(m.At("type"), m.PathOf("type"), "a, c or b", &type));
    out->type = type;
  }
  BRICK_TRY(m.Optional("major", &out->major));
  BRICK_TRY(m.Optional("minor", &out->minor));
  BRICK_TRY(m.Optional("access", &out->access));
  return Ok();
}

Status Read(const Json& v, const std::string& path, MemoryResources* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("limit", &out->limit));
  BRICK_TRY(m.Optional("reservation", &out->reservation));
  BRICK_TRY(m.Optional("swap", &out->swap));
  BRICK_TRY(m.Optional("kernel", &out->kernel));
  BRICK_TRY(m.Optional("kernelTCP", &out->kernel_tcp));
  BRICK_TRY(m.Optional("swappiness", &out->swappiness));
  BRICK_TRY(m.Optional("disableOOMKiller", &out->disable_oom_killer));
  BRICK_TRY(m.Optional("useHierarchy", &out->use_hierarchy));
  BRICK_TRY(m.Optional("checkBeforeUpdate", &out->check_before_update));
  return Ok();
}

Status Read(const Json& v, const std::string& path, CpuResources* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("shares", &out->shares));
  BRICK_TRY(m.Optional("quota", &out->quota));
  BRICK_TRY(m.Optional("burst", &out->burst));
  BRICK_TRY(m.Optional("period", &out->period));
  BRICK_TRY(m.Optional("realtimeRuntime", &out->realtime_runtime));
  BRICK_TRY(m.Optional("realtimePeriod", &out->realtime_period));
  BRICK_TRY(m.Optional("cpus", &out->cpus));
  BRICK_TRY(m.Optional("mems", &out->mems));
  BRICK_TRY(m.Optional("idle", &out->idle));
  return Ok();
}

Status Read(const Json& v, const std::string& path, PidsResources* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("limit", &out->limit));
  return Ok();
}

Status Read(const Json& v, const std::string& path, WeightDevice* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("major", &out->major));
  BRICK_TRY(m.Required("minor", &out->minor));
  BRICK_TRY(m.Optional("weight", &out->weight));
  BRICK_TRY(m.Optional("leafWeight", &out->leaf_weight));
  return Ok();
}

Status Read(const Json& v, const std::string& path, ThrottleDevice* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("major", &out->major));
  BRICK_TRY(m.Required("minor", &out->minor));
  BRICK_TRY(m.Required("rate", &out->rate));
  return Ok();
}

Status Read(const Json& v, const std::string& path, BlockIoResources* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("weight", &out->weight));
  BRICK_TRY(m.Optional("leafWeight", &out->leaf_weight));
  BRICK_TRY(m.Optional("weightDevice", &out->weight_device));
  BRICK_TRY(m.Optional("throttleReadBpsDevice", &out->throttle_read_bps_device));
  BRICK_TRY(m.Optional("throttleWriteBpsDevice", &out->throttle_write_bps_device));
  BRICK_TRY(m.Optional("throttleReadIOPSDevice", &out->throttle_read_iops_device));
  BRICK_TRY(m.Optional("throttleWriteIOPSDevice", &out->throttle_write_iops_device));
  return Ok();
}

Status Read(const Json& v, const std::string& path, HugepageLimit* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("pageSize", &out->page_size));
  BRICK_TRY(m.Required("limit", &out->limit));
  return Ok();
}

Status Read(const Json& v, const std::string& path, InterfacePriority* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("name", &out->name));
  BRICK_TRY(m.Required("priority", &out->priority));
  return Ok();
}

Status Read(const Json& v, const std::string& path, NetworkResources* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("classID", &out->class_id));
  BRICK_TRY(m.Optional("priorities", &out->priorities));
  return Ok();
}

Status Read(const Json& v, const std::string& path, RdmaLimit* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("hcaHandles", &out->hca_handles));
  BRICK_TRY(m.Optional("hcaObjects", &out->hca_objects));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Resources* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("devices", &out->devices));
  BRICK_TRY(m.Optional("memory", &out->memory));
  BRICK_TRY(m.Optional("cpu", &out->cpu));
  BRICK_TRY(m.Optional("pids", &out->pids));
  BRICK_TRY(m.Optional("blockIO", &out->block_io));
  BRICK_TRY(m.Optional("hugepageLimits", &out->hugepage_limits));
  BRICK_TRY(m.Optional("network", &out->network));
  BRICK_TRY(m.Optional("rdma", &out->rdma));
  BRICK_TRY(m.Optional("unified", &out->unified));
  return Ok();
}

Status Read(const Json& v, const std::string& path, SeccompArg* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("index", &out->index));
  BRICK_TRY(m.Required("value", &out->value));
  BRICK_TRY(m.Optional("valueTwo", &out->value_two));
  BRICK_TRY(m.Required("op", &out->op));
  return Ok();
}

Status Read(const Json& v, const std::string& path, SeccompSyscall* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("names", &out->names));
  BRICK_TRY(m.Required("action", &out->action));
  BRICK_TRY(m.Optional("errnoRet", &out->errno_ret));
  BRICK_TRY(m.Optional("args", &out->args));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Seccomp* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("defaultAction", &out->default_action));
  BRICK_TRY(m.Optional("defaultErrnoRet", &out->default_errno_ret));
  BRICK_TRY(m.Optional("architectures", &out->architectures));
  BRICK_TRY(m.Optional("flags", &out->flags));
  BRICK_TRY(m.Optional("listenerPath", &out->listener_path));
  BRICK_TRY(m.Optional("listenerMetadata", &out->listener_metadata));
  BRICK_TRY(m.Optional("syscalls", &out->syscalls));
  return Ok();
}

Status Read(const Json& v, const std::string& path, TimeOffset* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("secs", &out->secs));
  BRICK_TRY(m.Optional("nanosecs", &out->nanosecs));
  return Ok();
}

Status Read(const Json& v, const std::string& path, IntelRdt* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("closID", &out->clos_id));
  BRICK_TRY(m.Optional("l3CacheSchema", &out->l3_cache_schema));
  BRICK_TRY(m.Optional("memBwSchema", &out->mem_bw_schema));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Personality* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Required("domain", &out->domain));
  BRICK_TRY(m.Optional("flags", &out->flags));
  return Ok();
}

Status Read(const Json& v, const std::string& path, Linux* out) {
  BRICK_OCI_OBJECT_(v, path);
  BRICK_TRY(m.Optional("namespaces", &out->namespaces));
  BRICK_TRY(m.Optional("uidMappings", &out->uid_mappings));
  BRICK_TRY(m.Optional("gidMappings", &out->gid_mappings));
  BRICK_TRY(m.Optional("timeOffsets", &out->time_offsets));
  BRICK_TRY(m.Optional("devices", &out->devices));
  BRICK_TRY(m.Optional("cgroupsPath", &out->cgroups_path));
  BRICK_TRY(m.Optional("resources", &out->resources));
  BRICK_TRY(m.Optional("rootfsPropagation", &out->rootfs_propagation));
  BRICK_TRY(m.Optional("seccomp", &out->seccomp));
  BRICK_TRY(m.Optional("sysctl", &out->sysctl));
  BRICK_TRY(m.Optional("maskedPaths", &out->masked_paths));
  BRICK_TRY(m.Optional("readonlyPaths", &out->readonly_paths));
  BRICK_TRY(m.Optional("mountLabel", &out->mount_label));
  BRICK_TRY(m.Optional("intelRdt", &out->intel_rdt));
  BRICK_TRY(m.Optional("personality", &out->personality));
  return Ok();
}

Result<Spec> ReadSpec(const Json& v) {
  if (!v.is_object()) {
    return Fail("config.json must hold a JSON object, got {}", Describe(v, false));
  }
  const std::string top;
  Members m(v, top);
  Spec spec;
  BRICK_TRY(m.Required("ociVersion", &spec.oci_version));
  BRICK_TRY(m.Optional("process", &spec.process));
  BRICK_TRY(m.Optional("root", &spec.root));
  BRICK_TRY(m.Optional("hostname", &spec.hostname));
  BRICK_TRY(m.Optional("domainname", &spec.domainname));
  BRICK_TRY(m.Optional("mounts", &spec.mounts));
  BRICK_TRY(m.Optional("hooks", &spec.hooks));
  BRICK_TRY(m.Optional("annotations", &spec.annotations));
  BRICK_TRY(m.Optional("linux", &spec.linux));
  return spec;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the id helps no one.
std::string StripExceptionId(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    size_t end = what.find("] ");
    if (end != std::string_view::npos) {
      what.remove_prefix(end + 2);
    }
  }
  return std::string(what);
}

// ---------------------------------------------------------------------------------------
// Writers. Absent optionals, empty strings and empty lists are left out, so that parsing the
// output gives back the same model.

OutJson ToJson(const ConsoleSize& x);
OutJson ToJson(const User& x);
OutJson ToJson(const Capabilities& x);
OutJson ToJson(const Rlimit& x);
OutJson ToJson(const IoPriority& x);
OutJson ToJson(const Scheduler& x);
OutJson ToJson(const Process& x);
OutJson ToJson(const IdMapping& x);
OutJson ToJson(const Mount& x);
OutJson ToJson(const Hook& x);
OutJson ToJson(const Hooks& x);
OutJson ToJson(const Namespace& x);
OutJson ToJson(const Device& x);
OutJson ToJson(const DeviceCgroupRule& x);
OutJson ToJson(const MemoryResources& x);
OutJson ToJson(const CpuResources& x);
OutJson ToJson(const PidsResources& x);
OutJson ToJson(const WeightDevice& x);
OutJson ToJson(const ThrottleDevice& x);
OutJson ToJson(const BlockIoResources& x);
OutJson ToJson(const HugepageLimit& x);
OutJson ToJson(const InterfacePriority& x);
OutJson ToJson(const NetworkResources& x);
OutJson ToJson(const RdmaLimit& x);
OutJson ToJson(const Resources& x);
OutJson ToJson(const SeccompArg& x);
OutJson ToJson(const SeccompSyscall& x);
OutJson ToJson(const Seccomp& x);
OutJson ToJson(const TimeOffset& x);
OutJson ToJson(const IntelRdt& x);
OutJson ToJson(const Personality& x);
OutJson ToJson(const Linux& x);

OutJson ToJson(const std::string& s) { return OutJson(s); }
OutJson ToJson(bool b) { return OutJson(b); }
template <typename T>
requires std::integral<T> &&(!std::same_as<T, bool>)OutJson ToJson(T n) { return OutJson(n); }

template <typename T>
OutJson ToJson(const std::vector<T>& list) {
  OutJson out = OutJson::array();
  for (const T& item : list) {
    out.push_back(ToJson(item));
  }
  return out;
}

template <typename T>
OutJson ToJson(const std::map<std::string, T>& map) {
  OutJson out = OutJson::object();
  for (const auto& [key, value] : map) {
    out[key] = ToJson(value);
  }
  return out;
}

void PutString(OutJson& o, const char* key, const std::string& s) {
  if (!s.empty()) {
    o[key] = s;
  }
}

template <typename T>
void PutList(OutJson& o, const char* key, const T& container) {
  if (!container.empty()) {
    o[key] = ToJson(container);
  }
}

template <typename T>
void PutOptional(OutJson& o, const char* key, const std::optional<T>& value) {
  if (value) {
    o[key] = ToJson(*value);
  }
}

OutJson ToJson(const ConsoleSize& x) {
  OutJson o = OutJson::object();
  o["height"] = x.height;
  o["width"] = x.width;
  return o;
}

OutJson ToJson(const User& x) {
  OutJson o = OutJson::object();
  o["uid"] = x.uid;
  o["gid"] = x.gid;
  PutOptional(o, "umask", x.umask);
  PutList(o, "additionalGids", x.additional_gids);
  PutString(o, "username", x.username);
  return o;
}

OutJson ToJson(const Capabilities& x) {
  OutJson o = OutJson::object();
  PutList(o, "bounding", x.bounding);
  PutList(o, "effective", x.effective);
  PutList(o, "permitted", x.permitted);
  PutList(o, "inheritable", x.inheritable);
  PutList(o, "ambient", x.ambient);
  return o;
}

OutJson ToJson(const Rlimit& x) {
  OutJson o = OutJson::object();
  o["type"] = x.type;
  o["hard"] = x.hard;
  o["soft"] = x.soft;
  return o;
}

OutJson ToJson(const IoPriority& x) {
  OutJson o = OutJson::object();
  o["class"] = x.io_class;
  o["priority"] = x.priority;
  return o;
}

OutJson ToJson(const Scheduler& x) {
  OutJson o = OutJson::object();
  o["policy"] = x.policy;
  PutOptional(o, "nice", x.nice);
  PutOptional(o, "priority", x.priority);
  PutList(o, "flags", x.flags);
  PutOptional(o, "runtime", x.runtime);
  PutOptional(o, "deadline", x.deadline);
  PutOptional(o, "period", x.period);
  return o;
}

OutJson ToJson(const Process& x) {
  OutJson o = OutJson::object();
  if (x.terminal) {
    o["terminal"] = true;
  }
  PutOptional(o, "consoleSize", x.console_size);
  o["user"] = ToJson(x.user);
  PutList(o, "args", x.args);
  PutOptional(o, "commandLine", x.command_line);
  PutList(o, "env", x.env);
  o["cwd"] = x.cwd;
  PutOptional(o, "capabilities", x.capabilities);
  PutList(o, "rlimits", x.rlimits);
  if (x.no_new_privileges) {
    o["noNewPrivileges"] = true;
  }
  PutString(o, "apparmorProfile", x.apparmor_profile);
  PutOptional(o, "oomScoreAdj", x.oom_score_adj);
  PutString(o, "selinuxLabel", x.selinux_label);
  PutOptional(o, "ioPriority", x.io_priority);
  PutOptional(o, "scheduler", x.scheduler);
  return o;
}

OutJson ToJson(const IdMapping& x) {
  OutJson o = OutJson::object();
  o["containerID"] = x.container_id;
  o["hostID"] = x.host_id;
  o["size"] = x.size;
  return o;
}

OutJson ToJson(const Mount& x) {
  OutJson o = OutJson::object();
  o["destination"] = x.destination;
  PutString(o, "type", x.type);
  PutString(o, "source", x.source);
  PutList(o, "options", x.options);
  PutList(o, "uidMappings", x.uid_mappings);
  PutList(o, "gidMappings", x.gid_mappings);
  return o;
}

OutJson ToJson(const Hook& x) {
  OutJson o = OutJson::object();
  o["path"] = x.path;
  PutList(o, "args", x.args);
  PutList(o, "env", x.env);
  PutOptional(o, "timeout", x.timeout);
  return o;
}

OutJson ToJson(const Hooks& x) {
  OutJson o = OutJson::object();
  PutList(o, "prestart", x.prestart);
  PutList(o, "createRuntime", x.create_runtime);
  PutList(o, "createContainer", x.create_container);
  PutList(o, "startContainer", x.start_container);
  PutList(o, "poststart", x.poststart);
  PutList(o, "poststop", x.poststop);
  return o;
}

OutJson ToJson(const Namespace& x) {
  OutJson o = OutJson::object();
  o["type"] = NamespaceTypeName(x.type);
  PutString(o, "path", x.path);
  return o;
}

OutJson ToJson(const Device& x) {
  OutJson o = OutJson::object();
  o["path"] = x.path;
  o["type"] = std::string(1, x.type);
  // A FIFO has no device numbers; keep them out unless someone set them anyway.
  if (x.type != 'p' || x.major != 0 || x.minor != 0) {
    o["major"] = x.major;
    o["minor"] = x.minor;
  }
  PutOptional(o, "fileMode", x.file_mode);
  PutOptional(o, "uid", x.uid);
  PutOptional(o, "gid", x.gid);
  return o;
}

OutJson ToJson(const DeviceCgroupRule& x) {
  OutJson o = OutJson::object();
  o["allow"] = x.allow;
  if (x.type) {
    o["type"] = std::string(1, *x.type);
  }
  PutOptional(o, "major", x.major);
  PutOptional(o, "minor", x.minor);
  PutString(o, "access", x.access);
  return o;
}

OutJson ToJson(const MemoryResources& x) {
  OutJson o = OutJson::object();
  PutOptional(o, "limit", x.limit);
  PutOptional(o, "reservation", x.reservation);
  PutOptional(o, "swap", x.swap);
  PutOptional(o, "kernel", x.kernel);
  PutOptional(o, "kernelTCP", x.kernel_tcp);
  PutOptional(o, "swappiness", x.swappiness);
  PutOptional(o, "disableOOMKiller", x.disable_oom_killer);
  PutOptional(o, "useHierarchy", x.use_hierarchy);
  PutOptional(o, "checkBeforeUpdate", x.check_before_update);
  return o;
}

OutJson ToJson(const CpuResources& x) {
  OutJson o = OutJson::object();
  PutOptional(o, "shares", x.shares);
  PutOptional(o, "quota", x.quota);
  PutOptional(o, "burst", x.burst);
  PutOptional(o, "period", x.period);
  PutOptional(o, "realtimeRuntime", x.realtime_runtime);
  PutOptional(o, "realtimePeriod", x.realtime_period);
  PutString(o, "cpus", x.cpus);
  PutString(o, "mems", x.mems);
  PutOptional(o, "idle", x.idle);
  return o;
}

OutJson ToJson(const PidsResources& x) {
  OutJson o = OutJson::object();
  o["limit"] = x.limit;
  return o;
}

OutJson ToJson(const WeightDevice& x) {
  OutJson o = OutJson::object();
  o["major"] = x.major;
  o["minor"] = x.minor;
  PutOptional(o, "weight", x.weight);
  PutOptional(o, "leafWeight", x.leaf_weight);
  return o;
}

OutJson ToJson(const ThrottleDevice& x) {
  OutJson o = OutJson::object();
  o["major"] = x.major;
  o["minor"] = x.minor;
  o["rate"] = x.rate;
  return o;
}

OutJson ToJson(const BlockIoResources& x) {
  OutJson o = OutJson::object();
  PutOptional(o, "weight", x.weight);
  PutOptional(o, "leafWeight", x.leaf_weight);
  PutList(o, "weightDevice", x.weight_device);
  PutList(o, "throttleReadBpsDevice", x.throttle_read_bps_device);
  PutList(o, "throttleWriteBpsDevice", x.throttle_write_bps_device);
  PutList(o, "throttleReadIOPSDevice", x.throttle_read_iops_device);
  PutList(o, "throttleWriteIOPSDevice", x.throttle_write_iops_device);
  return o;
}

OutJson ToJson(const HugepageLimit& x) {
  OutJson o = OutJson::object();
  o["pageSize"] = x.page_size;
  o["limit"] = x.limit;
  return o;
}

OutJson ToJson(const InterfacePriority& x) {
  OutJson o = OutJson::object();
  o["name"] = x.name;
  o["priority"] = x.priority;
  return o;
}

OutJson ToJson(const NetworkResources& x) {
  OutJson o = OutJson::object();
  PutOptional(o, "classID", x.class_id);
  PutList(o, "priorities", x.priorities);
  return o;
}

OutJson ToJson(const RdmaLimit& x) {
  OutJson o = OutJson::object();
  PutOptional(o, "hcaHandles", x.hca_handles);
  PutOptional(o, "hcaObjects", x.hca_objects);
  return o;
}

OutJson ToJson(const Resources& x) {
  OutJson o = OutJson::object();
  PutList(o, "devices", x.devices);
  PutOptional(o, "memory", x.memory);
  PutOptional(o, "cpu", x.cpu);
  PutOptional(o, "pids", x.pids);
  PutOptional(o, "blockIO", x.block_io);
  PutList(o, "hugepageLimits", x.hugepage_limits);
  PutOptional(o, "network", x.network);
  PutList(o, "rdma", x.rdma);
  PutList(o, "unified", x.unified);
  return o;
}

OutJson ToJson(const SeccompArg& x) {
  OutJson o = OutJson::object();
  o["index"] = x.index;
  o["value"] = x.value;
  if (x.value_two != 0) {
    o["valueTwo"] = x.value_two;
  }
  o["op"] = x.op;
  return o;
}

OutJson ToJson(const SeccompSyscall& x) {
  OutJson o = OutJson::object();
  o["names"] = ToJson(x.names);  // required, so written even when empty
  o["action"] = x.action;
  PutOptional(o, "errnoRet", x.errno_ret);
  PutList(o, "args", x.args);
  return o;
}

OutJson ToJson(const Seccomp& x) {
  OutJson o = OutJson::object();
  o["defaultAction"] = x.default_action;
  PutOptional(o, "defaultErrnoRet", x.default_errno_ret);
  PutList(o, "architectures", x.architectures);
  PutList(o, "flags", x.flags);
  PutString(o, "listenerPath", x.listener_path);
  PutString(o, "listenerMetadata", x.listener_metadata);
  PutList(o, "syscalls", x.syscalls);
  return o;
}

OutJson ToJson(const TimeOffset& x) {
  OutJson o = OutJson::object();
  o["secs"] = x.secs;
  o["nanosecs"] = x.nanosecs;
  return o;
}

OutJson ToJson(const IntelRdt& x) {
  OutJson o = OutJson::object();
  PutString(o, "closID", x.clos_id);
  PutString(o, "l3CacheSchema", x.l3_cache_schema);
  PutString(o, "memBwSchema", x.mem_bw_schema);
  return o;
}

OutJson ToJson(const Personality& x) {
  OutJson o = OutJson::object();
  o["domain"] = x.domain;
  PutList(o, "flags", x.flags);
  return o;
}

OutJson ToJson(const Linux& x) {
  OutJson o = OutJson::object();
  PutList(o, "namespaces", x.namespaces);
  PutList(o, "uidMappings", x.uid_mappings);
  PutList(o, "gidMappings", x.gid_mappings);
  PutList(o, "timeOffsets", x.time_offsets);
  PutList(o, "devices", x.devices);
  PutString(o, "cgroupsPath", x.cgroups_path);
  PutOptional(o, "resources", x.resources);
  PutString(o, "rootfsPropagation", x.rootfs_propagation);
  PutOptional(o, "seccomp", x.seccomp);
  PutList(o, "sysctl", x.sysctl);
  PutList(o, "maskedPaths", x.masked_paths);
  PutList(o, "readonlyPaths", x.readonly_paths);
  PutString(o, "mountLabel", x.mount_label);
  PutOptional(o, "intelRdt", x.intel_rdt);
  PutOptional(o, "personality", x.personality);
  return o;
}

// Reads at most kMaxConfigBytes of a regular file.
Result<std::string> ReadConfigFile(const std::string& path) {
  // O_NONBLOCK: a FIFO planted at the path must not hang us before the S_ISREG check.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    return ErrnoFail(errno, "open");
  }
  struct stat st {};
  if (fstat(fd.get(), &st) < 0) {
    return ErrnoFail(errno, "stat");
  }
  if (!S_ISREG(st.st_mode)) {
    return Fail("not a regular file");
  }
  std::string out;
  char buf[16384];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoFail(errno, "read");
    }
    if (n == 0) {
      return out;
    }
    if (out.size() + static_cast<size_t>(n) > kMaxConfigBytes) {
      return Fail("larger than {} MiB, which no config.json needs", kMaxConfigBytes >> 20);
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

Result<Spec> ParseSpecUnvalidated(std::string_view json_text) {
  Json doc;
  try {
    doc = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    return Fail("config.json is not valid JSON: {}", StripExceptionId(e.what()));
  } catch (const std::exception& e) {
    return Fail("config.json could not be parsed: {}", StripExceptionId(e.what()));
  }
  try {
    return ReadSpec(doc);
  } catch (const std::exception& e) {
    // The readers check types before every get<>(), so this is not expected; it keeps a
    // library exception from escaping into code that does not use exceptions.
    return Fail("config.json could not be read: {}", StripExceptionId(e.what()));
  }
}

Result<Resources> ParseResources(std::string_view json_text) {
  Json doc;
  try {
    doc = Json::parse(json_text);
  } catch (const Json::parse_error& e) {
    return Fail("linux.resources is not valid JSON: {}", StripExceptionId(e.what()));
  } catch (const std::exception& e) {
    return Fail("linux.resources could not be parsed: {}", StripExceptionId(e.what()));
  }
  Resources r;
  try {
    BRICK_TRY(Read(doc, "linux.resources", &r));
  } catch (const std::exception& e) {
    return Fail("linux.resources could not be read: {}", StripExceptionId(e.what()));
  }
  BRICK_TRY(ValidateResources(r));
  return r;
}

Result<Spec> ParseSpec(std::string_view json_text) {
  Spec spec = BRICK_TRY_VALUE(ParseSpecUnvalidated(json_text));
  BRICK_TRY(ValidateSpec(spec));
  return spec;
}

Result<Spec> LoadSpecFile(const std::string& path) {
  auto text = ReadConfigFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap(path));
  }
  auto spec = ParseSpec(*text);
  if (!spec) {
    return std::unexpected(std::move(spec.error()).Wrap(path));
  }
  return spec;
}

Result<Process> ParseProcess(std::string_view json_text) {
  Json doc;
  try {
    doc = Json::parse(json_text);
  } catch (const std::exception& e) {
    return Fail("process.json is not valid JSON: {}", StripExceptionId(e.what()));
  }
  Process process;
  try {
    BRICK_TRY(Read(doc, "process", &process));
  } catch (const std::exception& e) {
    return Fail("process.json could not be read: {}", StripExceptionId(e.what()));
  }
  BRICK_TRY(ValidateProcessObject(process));
  return process;
}

std::string SerializeSpec(const Spec& spec) {
  OutJson o = OutJson::object();
  o["ociVersion"] = spec.oci_version;
  PutOptional(o, "process", spec.process);
  OutJson root = OutJson::object();
  root["path"] = spec.root.path;
  if (spec.root.readonly) {
    root["readonly"] = true;
  }
  o["root"] = std::move(root);
  PutString(o, "hostname", spec.hostname);
  PutString(o, "domainname", spec.domainname);
  PutList(o, "mounts", spec.mounts);
  PutOptional(o, "hooks", spec.hooks);
  PutList(o, "annotations", spec.annotations);
  OutJson linux_json = ToJson(spec.linux);
  if (!linux_json.empty()) {
    o["linux"] = std::move(linux_json);
  }
  // Replace, not throw, on invalid UTF-8: a model built in code may hold any bytes.
  return o.dump(2, ' ', false, OutJson::error_handler_t::replace) + "\n";
}

}  // namespace brick::oci
