#include "brick/policy/profile.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>

#include "brick/base/strings.h"
#include "brick/oci/capabilities.h"
#include "brick/policy/toml_util.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

// `minimal`: brick's default cut down to what a small network-less service needs.
constexpr std::string_view kMinimalProfile = R"(
description = "brick's default with tighter limits: no network, small tmpfs, few processes"
network = "none"
address_families = ["AF_UNIX"]

[limits]
memory = "128M"
pids = 64
cpu_weight = 100

[rlimits]
nofile = 256
nproc = 64
)";

constexpr int kMaxExtendsDepth = 8;

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  std::string At(const toml::node& n) const { return Where(file_, n.source()); }

  template <typename T>
  Result<std::optional<T>> Get(const toml::table& t, std::string_view key, std::string_view ctx,
                               const char* type_name) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return std::optional<T>();
    }
    auto v = n->value<T>();
    if (!v || (std::is_same_v<T, int64_t> && !n->is_integer()) ||
        (std::is_same_v<T, bool> && !n->is_boolean()) ||
        (std::is_same_v<T, std::string> && !n->is_string())) {
      return Fail("{}: {} must be {}", At(*n), Name(ctx, key), type_name);
    }
    return std::optional<T>(*v);
  }

  Result<std::optional<std::string>> String(const toml::table& t, std::string_view key,
                                            std::string_view ctx) const {
    return Get<std::string>(t, key, ctx, "a string");
  }
  Result<std::optional<bool>> Bool(const toml::table& t, std::string_view key,
                                   std::string_view ctx) const {
    return Get<bool>(t, key, ctx, "true or false");
  }
  Result<std::optional<uint32_t>> U32(const toml::table& t, std::string_view key,
                                      std::string_view ctx) const {
    auto v = BRICK_TRY_VALUE(Get<int64_t>(t, key, ctx, "a whole number"));
    if (v && (*v < 0 || *v > 0xffffffffLL)) {
      return Fail("{}: {} = {} is out of range 0..4294967295", At(*t.get(key)), Name(ctx, key), *v);
    }
    return v ? std::optional<uint32_t>(static_cast<uint32_t>(*v)) : std::nullopt;
  }
  Result<std::optional<int64_t>> Size(const toml::table& t, std::string_view key,
                                      std::string_view ctx) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return std::optional<int64_t>();
    }
    std::optional<int64_t> v;
    if (n->is_integer()) {
      v = n->value<int64_t>();
    } else if (n->is_string()) {
      v = ParseSize(*n->value<std::string>());
    }
    if (!v || *v <= 0) {
      return Fail("{}: {} must be a positive size: bytes, or a number with K, M, G or T",
                  At(*n), Name(ctx, key));
    }
    return v;
  }
  Result<std::optional<std::vector<std::string>>> Strings(const toml::table& t,
                                                          std::string_view key,
                                                          std::string_view ctx) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return std::optional<std::vector<std::string>>();
    }
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      return Fail("{}: {} must be an array of strings", At(*n), Name(ctx, key));
    }
    std::vector<std::string> out;
    for (const auto& e : *a) {
      if (!e.is_string()) {
        return Fail("{}: {} must hold only strings", At(e), Name(ctx, key));
      }
      out.push_back(*e.value<std::string>());
    }
    return std::optional<std::vector<std::string>>(std::move(out));
  }
  Result<const toml::table*> Table(const toml::table& t, std::string_view key) const {
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return nullptr;
    }
    if (!n->is_table()) {
      return Fail("{}: {} must be a table ([{}])", At(*n), key, key);
    }
    return n->as_table();
  }
  // An array of tables ([[key]]).
  Result<std::vector<const toml::table*>> Tables(const toml::table& t, std::string_view key) const {
    std::vector<const toml::table*> out;
    const toml::node* n = t.get(key);
    if (n == nullptr) {
      return out;
    }
    const toml::array* a = n->as_array();
    if (a == nullptr) {
      return Fail("{}: {} must be an array of tables ([[{}]])", At(*n), key, key);
    }
    for (const auto& e : *a) {
      if (!e.is_table()) {
        return Fail("{}: {} must hold only tables ([[{}]])", At(e), key, key);
      }
      out.push_back(e.as_table());
    }
    return out;
  }

  static std::string Name(std::string_view ctx, std::string_view key) {
    return ctx.empty() ? std::string(key) : fmt::format("{}.{}", ctx, key);
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

std::string NormalizeCap(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (name != "ALL" && !name.starts_with("CAP_")) {
    name = "CAP_" + name;
  }
  return name;
}

Result<std::vector<std::string>> Caps(const Reader& r, const toml::table& t, const char* key) {
  auto list = BRICK_TRY_VALUE(r.Strings(t, key, "capabilities"));
  std::vector<std::string> out;
  if (!list) {
    return out;
  }
  const toml::array& arr = *t.get(key)->as_array();
  for (size_t i = 0; i < list->size(); ++i) {
    std::string name = NormalizeCap((*list)[i]);
    if (name == "ALL" && std::string_view(key) == "drop") {
      out.push_back(name);
      continue;
    }
    if (!oci::CapabilityNumber(name)) {
      return Fail("{}: capabilities.{}: {}", r.At(*arr.get(i)), key,
                  oci::UnknownCapabilityMessage(name));
    }
    out.push_back(name);
  }
  return out;
}

Status CheckAbsolute(const Reader& r, const toml::node& n, std::string_view what,
                     const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Fail("{}: {} \"{}\" must be an absolute path", r.At(n), what, path);
  }
  if (path.find("/../") != std::string::npos || path.ends_with("/..")) {
    return Fail("{}: {} \"{}\" must not contain ..", r.At(n), what, path);
  }
  return Ok();
}

Result<std::optional<uint32_t>> Mode(const Reader& r, const toml::table& t, std::string_view key,
                                     std::string_view ctx) {
  const toml::node* n = t.get(key);
  if (n == nullptr) {
    return std::optional<uint32_t>();
  }
  if (n->is_string()) {
    const std::string s = *n->value<std::string>();
    if (!s.empty() && s.size() <= 5 && s.find_first_not_of("01234567") == std::string::npos) {
      return std::optional<uint32_t>(static_cast<uint32_t>(std::stoul(s, nullptr, 8)));
    }
  }
  return Fail("{}: {} must be an octal string such as \"0022\"", r.At(*n),
              Reader::Name(ctx, key));
}

const std::vector<std::string_view> kTopKeys = {
    "extends",  "unsafe",     "description", "command",   "cwd",       "hostname",
    "env",      "user",       "idmap",       "capabilities", "seccomp", "no_new_privs",
    "lsm",      "filesystem", "mounts",      "tmpfs",     "devices",   "namespaces",
    "network",  "address_families", "limits", "rlimits",  "sysctl",    "secrets"};

Status ParseInto(const Reader& r, const toml::table& t, Profile& p, std::string* extends) {
  BRICK_TRY(CheckKeys(t, r.file(), "", kTopKeys));
  if (auto e = BRICK_TRY_VALUE(r.String(t, "extends", ""))) {
    *extends = *e;
  }
  p.unsafe = BRICK_TRY_VALUE(r.Bool(t, "unsafe", ""));
  p.description = BRICK_TRY_VALUE(r.String(t, "description", ""));
  p.command = BRICK_TRY_VALUE(r.Strings(t, "command", ""));
  if (p.command && p.command->empty()) {
    return Fail("{}: command must not be empty", r.At(*t.get("command")));
  }
  p.cwd = BRICK_TRY_VALUE(r.String(t, "cwd", ""));
  if (p.cwd) {
    BRICK_TRY(CheckAbsolute(r, *t.get("cwd"), "cwd", *p.cwd));
  }
  p.hostname = BRICK_TRY_VALUE(r.String(t, "hostname", ""));
  p.no_new_privs = BRICK_TRY_VALUE(r.Bool(t, "no_new_privs", ""));
  p.network = BRICK_TRY_VALUE(r.String(t, "network", ""));
  if (p.network && *p.network != "none" && *p.network != "host") {
    return Fail("{}: network must be \"none\" (a private namespace with loopback) or \"host\"",
                r.At(*t.get("network")));
  }
  p.address_families = BRICK_TRY_VALUE(r.Strings(t, "address_families", ""));
  if (p.address_families) {
    for (const auto& af : *p.address_families) {
      if (!af.starts_with("AF_")) {
        return Fail("{}: address_families: \"{}\" is not an AF_* name (e.g. AF_UNIX, AF_INET)",
                    r.At(*t.get("address_families")), af);
      }
    }
  }

  if (const toml::table* env = BRICK_TRY_VALUE(r.Table(t, "env"))) {
    for (const auto& [k, v] : *env) {
      if (!v.is_string()) {
        return Fail("{}: env.{} must be a string", r.At(v), k.str());
      }
      if (k.str().find('=') != std::string_view::npos || k.str().empty()) {
        return Fail("{}: env key \"{}\" must not be empty or contain '='", Where(r.file(), k.source()),
                    k.str());
      }
      p.env[std::string(k.str())] = *v.value<std::string>();
    }
  }
  if (const toml::table* u = BRICK_TRY_VALUE(r.Table(t, "user"))) {
    BRICK_TRY(CheckKeys(*u, r.file(), "user", {"uid", "gid", "groups", "umask"}));
    p.uid = BRICK_TRY_VALUE(r.U32(*u, "uid", "user"));
    p.gid = BRICK_TRY_VALUE(r.U32(*u, "gid", "user"));
    p.umask = BRICK_TRY_VALUE(Mode(r, *u, "umask", "user"));
    if (const toml::node* g = u->get("groups")) {
      const toml::array* a = g->as_array();
      if (a == nullptr) {
        return Fail("{}: user.groups must be an array of gids", r.At(*g));
      }
      std::vector<uint32_t> groups;
      for (const auto& e : *a) {
        auto v = e.value<int64_t>();
        if (!e.is_integer() || *v < 0 || *v > 0xffffffffLL) {
          return Fail("{}: user.groups must hold gids (whole numbers)", r.At(e));
        }
        groups.push_back(static_cast<uint32_t>(*v));
      }
      p.groups = groups;
    }
  }
  if (const toml::table* m = BRICK_TRY_VALUE(r.Table(t, "idmap"))) {
    BRICK_TRY(CheckKeys(*m, r.file(), "idmap", {"uid_base", "gid_base", "size"}));
    p.idmap_uid_base = BRICK_TRY_VALUE(r.U32(*m, "uid_base", "idmap"));
    p.idmap_gid_base = BRICK_TRY_VALUE(r.U32(*m, "gid_base", "idmap"));
    p.idmap_size = BRICK_TRY_VALUE(r.U32(*m, "size", "idmap"));
    if (p.idmap_size && *p.idmap_size == 0) {
      return Fail("{}: idmap.size must be at least 1", r.At(*m->get("size")));
    }
  }
  if (const toml::table* c = BRICK_TRY_VALUE(r.Table(t, "capabilities"))) {
    BRICK_TRY(CheckKeys(*c, r.file(), "capabilities", {"add", "drop"}));
    p.cap_add = BRICK_TRY_VALUE(Caps(r, *c, "add"));
    p.cap_drop = BRICK_TRY_VALUE(Caps(r, *c, "drop"));
    for (const auto& cap : p.cap_add) {
      if (std::find(p.cap_drop.begin(), p.cap_drop.end(), cap) != p.cap_drop.end()) {
        return Fail("{}: {} is both added and dropped; keep it in one list",
                    r.At(*c->get("drop")), cap);
      }
    }
  }
  if (const toml::table* s = BRICK_TRY_VALUE(r.Table(t, "seccomp"))) {
    BRICK_TRY(CheckKeys(*s, r.file(), "seccomp", {"profile", "file", "default_action", "rules"}));
    p.seccomp_profile = BRICK_TRY_VALUE(r.String(*s, "profile", "seccomp"));
    if (p.seccomp_profile && *p.seccomp_profile != "default" &&
        *p.seccomp_profile != "unconfined") {
      return Fail("{}: seccomp.profile must be \"default\" or \"unconfined\"; use seccomp.file for "
                  "a profile of your own",
                  r.At(*s->get("profile")));
    }
    p.seccomp_file = BRICK_TRY_VALUE(r.String(*s, "file", "seccomp"));
    if (p.seccomp_file && p.seccomp_profile) {
      return Fail("{}: seccomp.file and seccomp.profile both choose the profile; keep one",
                  r.At(*s->get("file")));
    }
    p.seccomp_default_action = BRICK_TRY_VALUE(r.String(*s, "default_action", "seccomp"));
    for (const toml::table* rule : BRICK_TRY_VALUE(r.Tables(*s, "rules"))) {
      BRICK_TRY(CheckKeys(*rule, r.file(), "seccomp.rules", {"names", "action", "errno"}));
      ProfileSeccompRule sr;
      auto names = BRICK_TRY_VALUE(r.Strings(*rule, "names", "seccomp.rules"));
      auto action = BRICK_TRY_VALUE(r.String(*rule, "action", "seccomp.rules"));
      if (!names || names->empty() || !action) {
        return Fail("{}: each [[seccomp.rules]] needs names and action", r.At(*rule));
      }
      sr.names = *names;
      sr.action = *action;
      sr.errno_ret = BRICK_TRY_VALUE(r.U32(*rule, "errno", "seccomp.rules"));
      p.seccomp_rules.push_back(std::move(sr));
    }
    if (p.seccomp_profile == "unconfined" && (!p.seccomp_rules.empty() || p.seccomp_default_action)) {
      return Fail("{}: seccomp.profile = \"unconfined\" cannot have rules", r.At(*s));
    }
  }
  if (const toml::table* l = BRICK_TRY_VALUE(r.Table(t, "lsm"))) {
    BRICK_TRY(CheckKeys(*l, r.file(), "lsm", {"selinux_type", "selinux_level", "apparmor"}));
    p.selinux_type = BRICK_TRY_VALUE(r.String(*l, "selinux_type", "lsm"));
    p.selinux_level = BRICK_TRY_VALUE(r.String(*l, "selinux_level", "lsm"));
    p.apparmor = BRICK_TRY_VALUE(r.String(*l, "apparmor", "lsm"));
  }
  if (const toml::table* f = BRICK_TRY_VALUE(r.Table(t, "filesystem"))) {
    BRICK_TRY(CheckKeys(*f, r.file(), "filesystem",
                        {"readonly_root", "rootfs", "masked_paths", "readonly_paths", "unmask"}));
    p.readonly_root = BRICK_TRY_VALUE(r.Bool(*f, "readonly_root", "filesystem"));
    p.rootfs = BRICK_TRY_VALUE(r.String(*f, "rootfs", "filesystem"));
    p.masked_paths = BRICK_TRY_VALUE(r.Strings(*f, "masked_paths", "filesystem")).value_or(
        std::vector<std::string>{});
    p.readonly_paths = BRICK_TRY_VALUE(r.Strings(*f, "readonly_paths", "filesystem")).value_or(
        std::vector<std::string>{});
    p.unmask = BRICK_TRY_VALUE(r.Strings(*f, "unmask", "filesystem")).value_or(
        std::vector<std::string>{});
    for (const auto& path : p.unmask) {
      if (std::find(p.masked_paths.begin(), p.masked_paths.end(), path) != p.masked_paths.end() ||
          std::find(p.readonly_paths.begin(), p.readonly_paths.end(), path) !=
              p.readonly_paths.end()) {
        return Fail("{}: {} is both unmasked and masked; keep it in one list",
                    r.At(*f->get("unmask")), path);
      }
    }
  }
  std::set<std::string> destinations;
  for (const toml::table* m : BRICK_TRY_VALUE(r.Tables(t, "mounts"))) {
    BRICK_TRY(CheckKeys(*m, r.file(), "mounts", {"source", "destination", "writable", "options"}));
    ProfileMount pm;
    auto src = BRICK_TRY_VALUE(r.String(*m, "source", "mounts"));
    auto dst = BRICK_TRY_VALUE(r.String(*m, "destination", "mounts"));
    if (!src || !dst) {
      return Fail("{}: each [[mounts]] needs source and destination", r.At(*m));
    }
    BRICK_TRY(CheckAbsolute(r, *m->get("source"), "mounts.source", *src));
    BRICK_TRY(CheckAbsolute(r, *m->get("destination"), "mounts.destination", *dst));
    pm.source = *src;
    pm.destination = *dst;
    pm.writable = BRICK_TRY_VALUE(r.Bool(*m, "writable", "mounts")).value_or(false);
    pm.options = BRICK_TRY_VALUE(r.Strings(*m, "options", "mounts")).value_or(
        std::vector<std::string>{});
    for (const auto& o : pm.options) {
      if (o == "rw" || o == "ro") {
        return Fail("{}: mounts.options: say writable = true instead of \"{}\"",
                    r.At(*m->get("options")), o);
      }
    }
    if (!destinations.insert(pm.destination).second) {
      return Fail("{}: {} is mounted twice", r.At(*m->get("destination")), pm.destination);
    }
    p.mounts.push_back(std::move(pm));
  }
  for (const toml::table* m : BRICK_TRY_VALUE(r.Tables(t, "tmpfs"))) {
    BRICK_TRY(CheckKeys(*m, r.file(), "tmpfs", {"destination", "size", "mode", "exec"}));
    ProfileTmpfs tf;
    auto dst = BRICK_TRY_VALUE(r.String(*m, "destination", "tmpfs"));
    if (!dst) {
      return Fail("{}: each [[tmpfs]] needs a destination", r.At(*m));
    }
    BRICK_TRY(CheckAbsolute(r, *m->get("destination"), "tmpfs.destination", *dst));
    tf.destination = *dst;
    tf.size = BRICK_TRY_VALUE(r.Size(*m, "size", "tmpfs")).value_or(tf.size);
    tf.mode = BRICK_TRY_VALUE(Mode(r, *m, "mode", "tmpfs")).value_or(tf.mode);
    tf.exec = BRICK_TRY_VALUE(r.Bool(*m, "exec", "tmpfs")).value_or(false);
    if (!destinations.insert(tf.destination).second) {
      return Fail("{}: {} is mounted twice", r.At(*m->get("destination")), tf.destination);
    }
    p.tmpfs.push_back(tf);
  }
  for (const toml::table* d : BRICK_TRY_VALUE(r.Tables(t, "devices"))) {
    BRICK_TRY(CheckKeys(*d, r.file(), "devices", {"path"}));
    auto path = BRICK_TRY_VALUE(r.String(*d, "path", "devices"));
    if (!path) {
      return Fail("{}: each [[devices]] needs a path", r.At(*d));
    }
    BRICK_TRY(CheckAbsolute(r, *d->get("path"), "devices.path", *path));
    p.devices.push_back(*path);
  }
  if (const toml::table* n = BRICK_TRY_VALUE(r.Table(t, "namespaces"))) {
    BRICK_TRY(CheckKeys(*n, r.file(), "namespaces", {"share"}));
    p.share_namespaces = BRICK_TRY_VALUE(r.Strings(*n, "share", "namespaces")).value_or(
        std::vector<std::string>{});
    static const std::vector<std::string_view> kShareable = {"pid",  "net",    "ipc", "uts",
                                                             "user", "cgroup", "time"};
    for (const auto& ns : p.share_namespaces) {
      if (std::find(kShareable.begin(), kShareable.end(), ns) == kShareable.end()) {
        std::string hint = Suggest(ns, kShareable);
        return Fail("{}: namespaces.share: \"{}\" is not one of pid, net, ipc, uts, user, "
                    "cgroup, time{}",
                    r.At(*n->get("share")), ns,
                    hint.empty() ? "" : fmt::format("; did you mean \"{}\"?", hint));
      }
    }
    bool shares_net = std::find(p.share_namespaces.begin(), p.share_namespaces.end(), "net") !=
                      p.share_namespaces.end();
    if (shares_net && p.network == "none") {
      return Fail("{}: namespaces.share has \"net\" but network = \"none\"; choose one",
                  r.At(*n->get("share")));
    }
  }
  if (const toml::table* l = BRICK_TRY_VALUE(r.Table(t, "limits"))) {
    BRICK_TRY(CheckKeys(*l, r.file(), "limits",
                        {"memory", "memory_high", "pids", "cpu_weight", "cpus", "io"}));
    p.memory = BRICK_TRY_VALUE(r.Size(*l, "memory", "limits"));
    p.memory_high = BRICK_TRY_VALUE(r.Size(*l, "memory_high", "limits"));
    if (p.memory && p.memory_high && *p.memory_high > *p.memory) {
      return Fail("{}: limits.memory_high is above limits.memory; it would never apply",
                  r.At(*l->get("memory_high")));
    }
    auto pids = BRICK_TRY_VALUE(r.Get<int64_t>(*l, "pids", "limits", "a whole number"));
    if (pids && *pids <= 0) {
      return Fail("{}: limits.pids must be at least 1", r.At(*l->get("pids")));
    }
    p.pids = pids;
    auto w = BRICK_TRY_VALUE(r.U32(*l, "cpu_weight", "limits"));
    if (w && (*w < 1 || *w > 10000)) {
      return Fail("{}: limits.cpu_weight must be between 1 and 10000", r.At(*l->get("cpu_weight")));
    }
    if (w) {
      p.cpu_weight = *w;
    }
    if (const toml::node* c = l->get("cpus")) {
      auto v = c->value<double>();
      if (!v || !(*v > 0) || *v > 1024) {
        return Fail("{}: limits.cpus must be a number of CPUs above 0, e.g. 0.5", r.At(*c));
      }
      p.cpus = *v;
    }
    for (const toml::table* io : BRICK_TRY_VALUE(r.Tables(*l, "io"))) {
      BRICK_TRY(CheckKeys(*io, r.file(), "limits.io", {"device", "read_bps", "write_bps"}));
      ProfileIoLimit lim;
      auto dev = BRICK_TRY_VALUE(r.String(*io, "device", "limits.io"));
      if (!dev) {
        return Fail("{}: each [[limits.io]] needs a device", r.At(*io));
      }
      lim.device = *dev;
      if (auto rb = BRICK_TRY_VALUE(r.Size(*io, "read_bps", "limits.io"))) {
        lim.read_bps = static_cast<uint64_t>(*rb);
      }
      if (auto wb = BRICK_TRY_VALUE(r.Size(*io, "write_bps", "limits.io"))) {
        lim.write_bps = static_cast<uint64_t>(*wb);
      }
      p.io.push_back(lim);
    }
  }
  if (const toml::table* rl = BRICK_TRY_VALUE(r.Table(t, "rlimits"))) {
    static const std::vector<std::string_view> kNames = {
        "as",     "core",   "cpu",   "data",    "fsize",    "locks",  "memlock", "msgqueue",
        "nice",   "nofile", "nproc", "rss",     "rtprio",   "rttime", "sigpending", "stack"};
    BRICK_TRY(CheckKeys(*rl, r.file(), "rlimits", kNames));
    for (const auto& [k, v] : *rl) {
      std::string name = "RLIMIT_" + std::string(k.str());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return std::toupper(ch); });
      uint64_t soft = 0;
      uint64_t hard = 0;
      if (v.is_integer() && *v.value<int64_t>() >= 0) {
        soft = hard = static_cast<uint64_t>(*v.value<int64_t>());
      } else if (const toml::array* a = v.as_array();
                 a && a->size() == 2 && (*a)[0].is_integer() && (*a)[1].is_integer() &&
                 *(*a)[0].value<int64_t>() >= 0 && *(*a)[1].value<int64_t>() >= 0) {
        soft = static_cast<uint64_t>(*(*a)[0].value<int64_t>());
        hard = static_cast<uint64_t>(*(*a)[1].value<int64_t>());
      } else {
        return Fail("{}: rlimits.{} must be a number or [soft, hard]", r.At(v), k.str());
      }
      if (soft > hard) {
        return Fail("{}: rlimits.{}: the soft limit {} is above the hard limit {}", r.At(v),
                    k.str(), soft, hard);
      }
      p.rlimits[name] = {soft, hard};
    }
  }
  if (const toml::table* s = BRICK_TRY_VALUE(r.Table(t, "sysctl"))) {
    for (const auto& [k, v] : *s) {
      if (!v.is_string() && !v.is_integer()) {
        return Fail("{}: sysctl.\"{}\" must be a string or a number", r.At(v), k.str());
      }
      p.sysctl[std::string(k.str())] =
          v.is_string() ? *v.value<std::string>() : std::to_string(*v.value<int64_t>());
    }
  }
  std::set<std::string> secret_names;
  for (const toml::table* s : BRICK_TRY_VALUE(r.Tables(t, "secrets"))) {
    BRICK_TRY(CheckKeys(*s, r.file(), "secrets", {"name", "file"}));
    auto name = BRICK_TRY_VALUE(r.String(*s, "name", "secrets"));
    auto file = BRICK_TRY_VALUE(r.String(*s, "file", "secrets"));
    if (!name || !file) {
      return Fail("{}: each [[secrets]] needs name and file", r.At(*s));
    }
    if (name->empty() || name->find('/') != std::string::npos || *name == "." || *name == "..") {
      return Fail("{}: secret name \"{}\" must be a plain file name", r.At(*s->get("name")), *name);
    }
    BRICK_TRY(CheckAbsolute(r, *s->get("file"), "secrets.file", *file));
    if (!secret_names.insert(*name).second) {
      return Fail("{}: secret \"{}\" is listed twice", r.At(*s->get("name")), *name);
    }
    p.secrets.push_back({*name, *file});
  }
  return Ok();
}

template <typename T>
void Append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

Result<Profile> LoadChain(std::string_view text, const std::string& file, int depth) {
  if (depth > kMaxExtendsDepth) {
    return Fail("{}: extends goes deeper than {} levels; is there a cycle?", file,
                kMaxExtendsDepth);
  }
  toml::table t = BRICK_TRY_VALUE(ParseToml(text, file));
  Reader r(file);
  Profile child;
  child.path = file;
  std::string extends;
  BRICK_TRY(ParseInto(r, t, child, &extends));
  if (extends.empty()) {
    extends = "default";
  }
  Profile base;
  if (extends == "default" || extends == "minimal") {
    base = BRICK_TRY_VALUE(BuiltinProfile(extends));
  } else {
    std::filesystem::path p(extends);
    if (p.is_relative()) {
      p = std::filesystem::path(file).parent_path() / p;
    }
    auto base_text = ReadFile(p.string());
    if (!base_text) {
      return std::unexpected(std::move(base_text.error())
                                 .Wrap(fmt::format("{}: extends \"{}\"",
                                                   Where(file, t.get("extends")->source()),
                                                   extends)));
    }
    base = BRICK_TRY_VALUE(LoadChain(*base_text, p.string(), depth + 1));
  }
  Profile merged = MergeProfiles(base, child);
  merged.path = file;
  merged.chain = {file};
  Append(merged.chain, base.chain.empty() ? std::vector<std::string>{extends} : base.chain);
  return merged;
}

}  // namespace

std::optional<int64_t> ParseSize(std::string_view text) {
  std::string s(Trim(text));
  if (s.empty()) {
    return std::nullopt;
  }
  size_t digits = s.find_first_not_of("0123456789");
  auto n = ParseU64(s.substr(0, digits));
  if (!n) {
    return std::nullopt;
  }
  std::string unit = digits == std::string::npos ? "" : s.substr(digits);
  std::transform(unit.begin(), unit.end(), unit.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (unit.ends_with("IB")) {
    unit = unit.substr(0, unit.size() - 2);
  } else if (unit.size() == 2 && unit.back() == 'B') {
    unit.pop_back();
  }
  int shift = 0;
  if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else if (unit == "T") {
    shift = 40;
  } else if (!unit.empty() && unit != "B") {
    return std::nullopt;
  }
  if (*n > (uint64_t{1} << (62 - shift))) {
    return std::nullopt;
  }
  return static_cast<int64_t>(*n << shift);
}

Result<Profile> ParseProfile(std::string_view text, const std::string& file) {
  toml::table t = BRICK_TRY_VALUE(ParseToml(text, file));
  Profile p;
  p.path = file;
  std::string extends;
  BRICK_TRY(ParseInto(Reader(file), t, p, &extends));
  return p;
}

Result<Profile> BuiltinProfile(std::string_view name) {
  if (name == "default") {
    Profile p;
    p.chain = {"default"};
    return p;
  }
  if (name == "minimal") {
    Profile p = BRICK_TRY_VALUE(ParseProfile(kMinimalProfile, "<built-in minimal>"));
    p.path.clear();
    p.chain = {"minimal", "default"};
    return p;
  }
  return Fail("no built-in profile \"{}\"; the built-ins are default and minimal", name);
}

Profile MergeProfiles(const Profile& base, const Profile& c) {
  Profile m = base;
  auto over = [](auto& to, const auto& from) {
    if (from) {
      to = from;
    }
  };
  over(m.unsafe, c.unsafe);
  over(m.description, c.description);
  over(m.command, c.command);
  over(m.cwd, c.cwd);
  over(m.hostname, c.hostname);
  for (const auto& [k, v] : c.env) {
    m.env[k] = v;
  }
  over(m.uid, c.uid);
  over(m.gid, c.gid);
  over(m.groups, c.groups);
  over(m.umask, c.umask);
  over(m.idmap_uid_base, c.idmap_uid_base);
  over(m.idmap_gid_base, c.idmap_gid_base);
  over(m.idmap_size, c.idmap_size);
  bool drop_all = std::find(c.cap_drop.begin(), c.cap_drop.end(), "ALL") != c.cap_drop.end();
  std::erase_if(m.cap_add, [&](const std::string& cap) {
    return drop_all || std::find(c.cap_drop.begin(), c.cap_drop.end(), cap) != c.cap_drop.end();
  });
  for (const auto& cap : c.cap_add) {
    if (std::find(m.cap_add.begin(), m.cap_add.end(), cap) == m.cap_add.end()) {
      m.cap_add.push_back(cap);
    }
    std::erase(m.cap_drop, cap);
  }
  for (const auto& cap : c.cap_drop) {
    if (std::find(m.cap_drop.begin(), m.cap_drop.end(), cap) == m.cap_drop.end()) {
      m.cap_drop.push_back(cap);
    }
  }
  if (c.seccomp_profile || c.seccomp_file) {
    m.seccomp_profile = c.seccomp_profile;
    m.seccomp_file = c.seccomp_file;
  }
  over(m.seccomp_default_action, c.seccomp_default_action);
  Append(m.seccomp_rules, c.seccomp_rules);
  over(m.no_new_privs, c.no_new_privs);
  over(m.selinux_type, c.selinux_type);
  over(m.selinux_level, c.selinux_level);
  over(m.apparmor, c.apparmor);
  over(m.readonly_root, c.readonly_root);
  over(m.rootfs, c.rootfs);
  Append(m.masked_paths, c.masked_paths);
  Append(m.readonly_paths, c.readonly_paths);
  Append(m.unmask, c.unmask);
  for (const auto& mount : c.mounts) {
    std::erase_if(m.mounts, [&](const ProfileMount& x) { return x.destination == mount.destination; });
    m.mounts.push_back(mount);
  }
  for (const auto& t : c.tmpfs) {
    std::erase_if(m.tmpfs, [&](const ProfileTmpfs& x) { return x.destination == t.destination; });
    m.tmpfs.push_back(t);
  }
  Append(m.devices, c.devices);
  for (const auto& ns : c.share_namespaces) {
    if (std::find(m.share_namespaces.begin(), m.share_namespaces.end(), ns) ==
        m.share_namespaces.end()) {
      m.share_namespaces.push_back(ns);
    }
  }
  over(m.network, c.network);
  over(m.address_families, c.address_families);
  over(m.memory, c.memory);
  over(m.memory_high, c.memory_high);
  over(m.pids, c.pids);
  over(m.cpu_weight, c.cpu_weight);
  over(m.cpus, c.cpus);
  Append(m.io, c.io);
  for (const auto& [k, v] : c.rlimits) {
    m.rlimits[k] = v;
  }
  for (const auto& [k, v] : c.sysctl) {
    m.sysctl[k] = v;
  }
  for (const auto& s : c.secrets) {
    std::erase_if(m.secrets, [&](const ProfileSecret& x) { return x.name == s.name; });
    m.secrets.push_back(s);
  }
  return m;
}

Result<Profile> LoadProfileText(std::string_view text, const std::string& file) {
  Profile p = BRICK_TRY_VALUE(LoadChain(text, file, 0));
  auto weaker = BRICK_TRY_VALUE(WeakerThanDefault(p));
  if (!weaker.empty() && !p.unsafe.value_or(false)) {
    std::string list;
    for (const auto& w : weaker) {
      list += list.empty() ? "" : ", ";
      list += w;
    }
    return Fail("{}: the profile is weaker than `default` ({}); remove the weakening settings, or "
                "set unsafe = true to accept it (brick check will flag it)",
                file, list);
  }
  return p;
}

Result<Profile> LoadProfile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap("read profile " + path));
  }
  return LoadProfileText(*text, path);
}

}  // namespace brick::policy
