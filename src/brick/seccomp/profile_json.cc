#include "brick/seccomp/profile_json.h"

#include <seccomp.h>
#include <sys/utsname.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "brick/oci/capabilities.h"
#include "brick/seccomp/default_profile.h"
#include "brick/sys/fs.h"

namespace brick::seccomp {
namespace {

using Json = nlohmann::json;

// Docker matches includes/excludes.arches against its own names for the native arch (Go's
// GOARCH, with 386 spelled x86).
struct ArchAlias {
  std::string_view scmp;
  std::string_view docker;
};
constexpr ArchAlias kArchAliases[] = {
    {"SCMP_ARCH_X86_64", "amd64"},    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X32", "x32"},         {"SCMP_ARCH_AARCH64", "arm64"},
    {"SCMP_ARCH_ARM", "arm"},         {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_PPC64", "ppc64"},     {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_S390X", "s390x"},     {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_MIPS64", "mips64"},   {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPS", "mips"},       {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_RISCV64", "riscv64"}, {"SCMP_ARCH_LOONGARCH64", "loong64"},
};

Result<std::string> DockerArchName(std::string_view scmp) {
  for (const ArchAlias& a : kArchAliases) {
    if (a.scmp == scmp) {
      return std::string(a.docker);
    }
  }
  return Fail("seccomp arch {}: brick does not know Docker's name for it", scmp);
}

bool Contains(const Json& list, std::string_view s) {
  for (const Json& v : list) {
    if (v.is_string() && v.get<std::string>() == s) {
      return true;
    }
  }
  return false;
}

std::vector<int> Components(std::string_view release) {
  std::vector<int> out;
  int cur = -1;
  for (char c : release) {
    if (c >= '0' && c <= '9') {
      cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
      if (cur > 1000000) {
        cur = 1000000;
      }
    } else if (c == '.' && cur >= 0) {
      out.push_back(cur);
      cur = -1;
    } else {
      break;
    }
  }
  if (cur >= 0) {
    out.push_back(cur);
  }
  return out;
}

std::string RunningKernel() {
  utsname u{};
  if (uname(&u) != 0) {
    return "0";
  }
  return u.release;
}

// Checks the members of a Docker includes/excludes object and says whether it applies.
struct Filter {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::string min_kernel;
};

Result<Filter> ReadFilter(const Json& v, const std::string& field) {
  Filter f;
  if (v.is_null()) {
    return f;
  }
  if (!v.is_object()) {
    return Fail("{}: expected an object with caps, arches and minKernel", field);
  }
  for (const auto& [key, value] : v.items()) {
    if (key == "caps" || key == "arches") {
      if (!value.is_array()) {
        return Fail("{}.{}: expected an array of strings", field, key);
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string()) {
          return Fail("{}.{}[{}]: expected a string", field, key, i);
        }
        (key == "caps" ? f.caps : f.arches).push_back(value[i].get<std::string>());
      }
    } else if (key == "minKernel") {
      if (!value.is_string() || Components(value.get<std::string>()).size() < 2) {
        return Fail("{}.minKernel: expected a kernel version such as \"4.8\"", field);
      }
      f.min_kernel = value.get<std::string>();
    } else {
      return Fail("{}: unknown member \"{}\"; use caps, arches or minKernel", field, key);
    }
  }
  for (size_t i = 0; i < f.caps.size(); ++i) {
    if (!oci::CapabilityNumber(f.caps[i])) {
      return Fail("{}.caps[{}]: {}", field, i, oci::UnknownCapabilityMessage(f.caps[i]));
    }
  }
  return f;
}

// containers-common (podman) writes the errno by name beside the number: "errno":
// "EINVAL" next to "errnoRet": 22, and "defaultErrno" at the top. Both spellings must agree.
Result<std::optional<uint32_t>> ReadErrnoName(const Json& obj, const char* key,
                                              const std::string& field) {
  if (!obj.contains(key) || obj[key].is_null() ||
      (obj[key].is_string() && obj[key].get<std::string>().empty())) {
    return std::optional<uint32_t>();
  }
  if (!obj[key].is_string()) {
    return Fail("{}.{}: expected an errno name such as \"EPERM\"", field, key);
  }
  std::string name = obj[key].get<std::string>();
  for (int e = 1; e < 4096; ++e) {
    const char* known = strerrorname_np(e);
    if (known != nullptr && name == known) {
      return std::optional<uint32_t>(static_cast<uint32_t>(e));
    }
  }
  return Fail("{}.{}: \"{}\" is not an errno name this system knows", field, key, name);
}

bool HasCap(uint64_t granted, const std::string& name) {
  std::optional<int> n = oci::CapabilityNumber(name);
  return n && *n < 64 && (granted >> *n) & 1;
}

Result<std::optional<uint32_t>> ReadErrno(const Json& obj, const char* key,
                                          const std::string& field) {
  if (!obj.contains(key)) {
    return std::optional<uint32_t>();
  }
  const Json& v = obj[key];
  if (!v.is_number_unsigned() || v.get<uint64_t>() > 0xffffffffu) {
    return Fail("{}.{}: expected an unsigned 32-bit number", field, key);
  }
  return std::optional<uint32_t>(v.get<uint32_t>());
}

// The number (`number_key`) or, without it, the name (`name_key`); both given must agree.
Result<std::optional<uint32_t>> ReadErrnoEitherWay(const Json& obj, const char* number_key,
                                                   const char* name_key, const std::string& field) {
  auto number = BRICK_TRY_VALUE(ReadErrno(obj, number_key, field));
  auto named = BRICK_TRY_VALUE(ReadErrnoName(obj, name_key, field));
  if (number && named && *number != *named) {
    return Fail("{}: {} {} and {} \"{}\" disagree; keep one", field, number_key, *number, name_key,
                obj[name_key].get<std::string>());
  }
  return number ? number : named;
}

Result<std::string> ReadString(const Json& obj, const char* key, const std::string& field) {
  if (!obj.contains(key)) {
    return std::string();
  }
  if (!obj[key].is_string()) {
    return Fail("{}.{}: expected a string", field, key);
  }
  return obj[key].get<std::string>();
}

Result<oci::SeccompArg> ReadArg(const Json& v, const std::string& field) {
  if (!v.is_object()) {
    return Fail("{}: expected an object with index, value, valueTwo and op", field);
  }
  oci::SeccompArg arg;
  for (const auto& [key, value] : v.items()) {
    if (key == "index" || key == "value" || key == "valueTwo") {
      if (!value.is_number_unsigned()) {
        return Fail("{}.{}: expected an unsigned number", field, key);
      }
      uint64_t n = value.get<uint64_t>();
      if (key == "index") {
        if (n > 0xffffffffu) {
          return Fail("{}.index: {} is out of range", field, n);
        }
        arg.index = static_cast<uint32_t>(n);
      } else {
        (key == "value" ? arg.value : arg.value_two) = n;
      }
    } else if (key == "op") {
      if (!value.is_string()) {
        return Fail("{}.op: expected a string", field);
      }
      arg.op = value.get<std::string>();
    } else {
      return Fail("{}: unknown member \"{}\"", field, key);
    }
  }
  return arg;
}

}  // namespace

bool KernelAtLeast(std::string_view release, std::string_view wanted) {
  std::vector<int> have = Components(release);
  std::vector<int> want = Components(wanted);
  for (size_t i = 0; i < want.size(); ++i) {
    int h = i < have.size() ? have[i] : 0;
    if (h != want[i]) {
      return h > want[i];
    }
  }
  return true;
}

Result<LoadedProfile> LoadDockerProfile(std::string_view json_text, const ProfileContext& ctx) {
  Json doc = Json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail("docker seccomp profile: not a JSON object");
  }
  const std::string kTop = "docker seccomp profile";
  std::string native = BRICK_TRY_VALUE(DockerArchName(ctx.arch));
  std::string kernel = ctx.kernel_release.empty() ? RunningKernel() : ctx.kernel_release;

  LoadedProfile out;
  out.format = ProfileFormat::kDocker;
  oci::Seccomp& p = out.profile;
  for (const auto& [key, value] : doc.items()) {
    static constexpr std::string_view kKnown[] = {
        "defaultAction", "defaultErrnoRet", "defaultErrno", "architectures",   "archMap",
        "syscalls",      "flags",           "listenerPath", "listenerMetadata"};
    bool known = false;
    for (std::string_view k : kKnown) {
      known = known || k == key;
    }
    if (!known) {
      return Fail("{}: unknown member \"{}\"", kTop, key);
    }
  }
  p.default_action = BRICK_TRY_VALUE(ReadString(doc, "defaultAction", kTop));
  if (p.default_action.empty()) {
    return Fail("{}.defaultAction: missing; use an SCMP_ACT_* name", kTop);
  }
  p.default_errno_ret =
      BRICK_TRY_VALUE(ReadErrnoEitherWay(doc, "defaultErrnoRet", "defaultErrno", kTop));
  p.listener_path = BRICK_TRY_VALUE(ReadString(doc, "listenerPath", kTop));
  p.listener_metadata = BRICK_TRY_VALUE(ReadString(doc, "listenerMetadata", kTop));
  if (doc.contains("flags")) {
    if (!doc["flags"].is_array()) {
      return Fail("{}.flags: expected an array of strings", kTop);
    }
    for (const Json& f : doc["flags"]) {
      if (!f.is_string()) {
        return Fail("{}.flags: expected an array of strings", kTop);
      }
      p.flags.push_back(f.get<std::string>());
    }
  }
  bool has_arches = doc.contains("architectures") && !doc["architectures"].empty();
  bool has_map = doc.contains("archMap") && !doc["archMap"].empty();
  if (has_arches && has_map) {
    return Fail("{}: architectures and archMap are exclusive; keep one", kTop);
  }
  if (has_arches) {
    if (!doc["architectures"].is_array()) {
      return Fail("{}.architectures: expected an array of SCMP_ARCH_* names", kTop);
    }
    for (const Json& a : doc["architectures"]) {
      if (!a.is_string()) {
        return Fail("{}.architectures: expected an array of SCMP_ARCH_* names", kTop);
      }
      p.architectures.push_back(a.get<std::string>());
    }
  }
  if (has_map) {
    const Json& map = doc["archMap"];
    if (!map.is_array()) {
      return Fail("{}.archMap: expected an array", kTop);
    }
    for (size_t i = 0; i < map.size(); ++i) {
      std::string field = fmt::format("{}.archMap[{}]", kTop, i);
      if (!map[i].is_object()) {
        return Fail("{}: expected an object with architecture and subArchitectures", field);
      }
      std::string arch = BRICK_TRY_VALUE(ReadString(map[i], "architecture", field));
      if (arch != ctx.arch) {
        continue;
      }
      p.architectures.push_back(arch);
      if (map[i].contains("subArchitectures")) {
        const Json& subs = map[i]["subArchitectures"];
        if (!subs.is_array()) {
          return Fail("{}.subArchitectures: expected an array of SCMP_ARCH_* names", field);
        }
        for (const Json& s : subs) {
          if (!s.is_string()) {
            return Fail("{}.subArchitectures: expected an array of SCMP_ARCH_* names", field);
          }
          p.architectures.push_back(s.get<std::string>());
        }
      }
    }
  }

  const Json empty_list = Json::array();
  const Json& calls = doc.contains("syscalls") ? doc["syscalls"] : empty_list;
  if (!calls.is_array()) {
    return Fail("{}.syscalls: expected an array", kTop);
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    std::string field = fmt::format("{}.syscalls[{}]", kTop, i);
    const Json& c = calls[i];
    if (!c.is_object()) {
      return Fail("{}: expected an object", field);
    }
    for (const auto& [key, value] : c.items()) {
      static constexpr std::string_view kKnown[] = {"names",    "name",     "action",
                                                    "errnoRet", "errno",    "args",
                                                    "comment",  "includes", "excludes"};
      bool known = false;
      for (std::string_view k : kKnown) {
        known = known || k == key;
      }
      if (!known) {
        return Fail("{}: unknown member \"{}\"", field, key);
      }
    }
    Filter inc = BRICK_TRY_VALUE(ReadFilter(c.value("includes", Json()), field + ".includes"));
    Filter exc = BRICK_TRY_VALUE(ReadFilter(c.value("excludes", Json()), field + ".excludes"));
    oci::SeccompSyscall rule;
    rule.action = BRICK_TRY_VALUE(ReadString(c, "action", field));
    rule.errno_ret = BRICK_TRY_VALUE(ReadErrnoEitherWay(c, "errnoRet", "errno", field));
    std::string single = BRICK_TRY_VALUE(ReadString(c, "name", field));
    if (c.contains("names")) {
      if (!single.empty()) {
        return Fail("{}: name and names are exclusive; move the name into names", field);
      }
      if (!c["names"].is_array()) {
        return Fail("{}.names: expected an array of syscall names", field);
      }
      for (size_t n = 0; n < c["names"].size(); ++n) {
        if (!c["names"][n].is_string()) {
          return Fail("{}.names[{}]: expected a string", field, n);
        }
        rule.names.push_back(c["names"][n].get<std::string>());
      }
    } else if (!single.empty()) {
      rule.names.push_back(single);
    }
    if (c.contains("args") && !c["args"].is_null()) {
      if (!c["args"].is_array()) {
        return Fail("{}.args: expected an array", field);
      }
      for (size_t a = 0; a < c["args"].size(); ++a) {
        rule.args.push_back(
            BRICK_TRY_VALUE(ReadArg(c["args"][a], fmt::format("{}.args[{}]", field, a))));
      }
    }

    // The same order of checks as Docker: excludes first, then includes.
    bool keep = true;
    keep = keep && !Contains(Json(exc.arches), native);
    for (const std::string& cap : exc.caps) {
      keep = keep && !HasCap(ctx.granted_caps, cap);
    }
    keep = keep && (exc.min_kernel.empty() || !KernelAtLeast(kernel, exc.min_kernel));
    keep = keep && (inc.arches.empty() || Contains(Json(inc.arches), native));
    for (const std::string& cap : inc.caps) {
      keep = keep && HasCap(ctx.granted_caps, cap);
    }
    keep = keep && (inc.min_kernel.empty() || KernelAtLeast(kernel, inc.min_kernel));
    if (!keep) {
      continue;
    }
    // Docker's profile lists syscalls of every arch and kernel; like Docker, names libseccomp
    // has never heard of are dropped (with a warning) instead of failing the container.
    std::vector<std::string> known;
    for (size_t n = 0; n < rule.names.size(); ++n) {
      if (seccomp_syscall_resolve_name(rule.names[n].c_str()) == __NR_SCMP_ERROR) {
        out.warnings.push_back(
            fmt::format("{}.names[{}]: unknown syscall \"{}\" ignored", field, n, rule.names[n]));
        continue;
      }
      known.push_back(rule.names[n]);
    }
    if (known.empty()) {
      continue;
    }
    rule.names = std::move(known);
    p.syscalls.push_back(std::move(rule));
  }
  return out;
}

Result<oci::Seccomp> ParseOciSeccomp(std::string_view json_text) {
  oci::Spec wrapper = BRICK_TRY_VALUE(oci::ParseSpecUnvalidated(
      fmt::format(R"({{"ociVersion":"{}","root":{{"path":"/"}},"linux":{{"seccomp":{}}}}})",
                  oci::kSpecVersion, json_text)));
  if (!wrapper.linux.seccomp) {
    return Fail("seccomp profile: expected a linux.seccomp object");
  }
  return std::move(*wrapper.linux.seccomp);
}

Result<LoadedProfile> LoadProfileText(std::string_view json_text, const ProfileContext& ctx) {
  Json doc = Json::parse(json_text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Fail("seccomp profile: not a JSON object");
  }
  bool docker = doc.contains("archMap");
  if (doc.contains("syscalls") && doc["syscalls"].is_array()) {
    for (const Json& c : doc["syscalls"]) {
      docker = docker || (c.is_object() && (c.contains("includes") || c.contains("excludes") ||
                                            c.contains("name") || c.contains("comment")));
    }
  }
  if (docker) {
    return LoadDockerProfile(json_text, ctx);
  }
  LoadedProfile out;
  out.format = ProfileFormat::kOci;
  out.profile = BRICK_TRY_VALUE(ParseOciSeccomp(json_text));
  return out;
}

Result<LoadedProfile> LoadProfileFile(const std::string& path_or_default,
                                      const ProfileContext& ctx) {
  if (path_or_default == "default") {
    LoadedProfile out;
    out.format = ProfileFormat::kBuiltinDefault;
    out.profile = DefaultProfile(ctx.granted_caps);
    return out;
  }
  std::string text = BRICK_TRY_VALUE(ReadFile(path_or_default));
  auto loaded = LoadProfileText(text, ctx);
  if (!loaded) {
    return std::unexpected(std::move(loaded.error()).Wrap(path_or_default));
  }
  return loaded;
}

std::string SeccompToJson(const oci::Seccomp& profile, bool pretty) {
  // Built directly (not through SerializeSpec and a re-parse): the filter cache hashes this on
  // every start. Keys come out sorted (nlohmann's object is a std::map) and absent optional
  // members are left out, so equal profiles give equal text.
  Json out = Json::object();
  out["defaultAction"] = profile.default_action;
  if (profile.default_errno_ret) {
    out["defaultErrnoRet"] = *profile.default_errno_ret;
  }
  if (!profile.architectures.empty()) {
    out["architectures"] = profile.architectures;
  }
  if (!profile.flags.empty()) {
    out["flags"] = profile.flags;
  }
  if (!profile.listener_path.empty()) {
    out["listenerPath"] = profile.listener_path;
  }
  if (!profile.listener_metadata.empty()) {
    out["listenerMetadata"] = profile.listener_metadata;
  }
  Json calls = Json::array();
  for (const oci::SeccompSyscall& sc : profile.syscalls) {
    Json c = Json::object();
    c["names"] = sc.names;
    c["action"] = sc.action;
    if (sc.errno_ret) {
      c["errnoRet"] = *sc.errno_ret;
    }
    if (!sc.args.empty()) {
      Json args = Json::array();
      for (const oci::SeccompArg& a : sc.args) {
        args.push_back(
            Json{{"index", a.index}, {"value", a.value}, {"valueTwo", a.value_two}, {"op", a.op}});
      }
      c["args"] = std::move(args);
    }
    calls.push_back(std::move(c));
  }
  if (!calls.empty()) {
    out["syscalls"] = std::move(calls);
  }
  return pretty ? out.dump(2) : out.dump();
}

}  // namespace brick::seccomp
