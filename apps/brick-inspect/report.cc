#include "report.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "brick/sys/unique_fd.h"
#include "files.h"
#include "names.h"

namespace brick::inspect {

const char* const kMaskedPaths[] = {
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
    "/proc/latency_stats",
    "/proc/acpi",
    "/proc/scsi",
    "/proc/asound",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    nullptr,
};

const char* const kReadonlyPaths[] = {
    "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", nullptr,
};

namespace {

// Reading more than this from a masked path that turned out not to be masked tells nothing
// new, and /proc/kcore is as large as the address space.
constexpr size_t kMaskedReadCap = 4096;
constexpr size_t kProcFileCap = 1 << 20;

Value ErrorValue(int err) {
  Value v = Value::Object();
  v.Set("error", Value(ErrnoName(err)));
  return v;
}

// The value of "Key:" in /proc/self/status, trimmed.
std::optional<std::string> StatusField(const std::string& status, std::string_view key) {
  for (const std::string& line : Split(status, '\n')) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':') {
      size_t start = line.find_first_not_of(" \t", key.size() + 1);
      return start == std::string::npos ? "" : line.substr(start);
    }
  }
  return std::nullopt;
}

Value IdMap(const char* path) {
  FileRead r = ReadFileCapped(path, kProcFileCap);
  if (!r.ok) {
    return ErrorValue(r.err);
  }
  Value map = Value::Array();
  for (const std::string& line : Split(r.data, '\n')) {
    std::vector<std::string> fields = SplitWhitespace(line);
    if (fields.size() != 3) {
      continue;
    }
    Value entry = Value::Array();
    for (const std::string& f : fields) {
      entry.Push(Value(ParseInt(f).value_or(-1)));
    }
    map.Push(std::move(entry));
  }
  return map;
}

// Looks a number up in a colon-separated database such as /etc/passwd by hand: a static
// binary must not call into NSS.
Value NameFromDatabase(const char* path, int64_t id) {
  FileRead r = ReadFileCapped(path, kProcFileCap);
  if (!r.ok) {
    return Value();
  }
  for (const std::string& line : Split(r.data, '\n')) {
    std::vector<std::string> fields = Split(line, ':');
    if (fields.size() >= 3 && ParseInt(fields[2]) == id) {
      return Value(fields[0]);
    }
  }
  return Value();
}

Value User() {
  Value user = Value::Object();
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  user.Set("uid", Value(int64_t{ruid}));
  user.Set("euid", Value(int64_t{euid}));
  user.Set("suid", Value(int64_t{suid}));
  user.Set("gid", Value(int64_t{rgid}));
  user.Set("egid", Value(int64_t{egid}));
  user.Set("sgid", Value(int64_t{sgid}));
  user.Set("name", NameFromDatabase("/etc/passwd", ruid));
  user.Set("group", NameFromDatabase("/etc/group", rgid));
  Value groups = Value::Array();
  int n = getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> list(static_cast<size_t>(n));
    n = getgroups(n, list.data());
    for (int i = 0; i < n; ++i) {
      groups.Push(Value(int64_t{list[static_cast<size_t>(i)]}));
    }
  }
  user.Set("groups", std::move(groups));
  return user;
}

Value Capabilities(const std::string& status) {
  Value caps = Value::Object();
  for (const char* set : {"CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"}) {
    Value entry = Value::Object();
    std::optional<std::string> hex = StatusField(status, set);
    if (!hex) {
      entry.Set("error", Value("missing from /proc/self/status"));
      caps.Set(set, std::move(entry));
      continue;
    }
    uint64_t mask = std::strtoull(hex->c_str(), nullptr, 16);
    entry.Set("hex", Value(*hex));
    Value names = Value::Array();
    for (std::string& name : CapabilityNames(mask)) {
      names.Push(Value(std::move(name)));
    }
    entry.Set("names", std::move(names));
    caps.Set(set, std::move(entry));
  }
  return caps;
}

Value StatusInt(const std::string& status, std::string_view key) {
  std::optional<std::string> text = StatusField(status, key);
  if (!text) {
    return Value();
  }
  return Value(ParseInt(*text).value_or(-1));
}

Value StringList(const std::string& comma_separated) {
  Value list = Value::Array();
  for (std::string& part : Split(comma_separated, ',')) {
    if (!part.empty()) {
      list.Push(Value(std::move(part)));
    }
  }
  return list;
}

// mountinfo escapes space, tab, newline and backslash as octal.
std::string UnescapeMountField(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        if (s[i + k] < '0' || s[i + k] > '7') {
          octal = false;
          break;
        }
        v = v * 8 + (s[i + k] - '0');
      }
      if (octal) {
        out += static_cast<char>(v);
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

Value Mounts() {
  FileRead r = ReadFileCapped("/proc/self/mountinfo", 16 << 20);
  if (!r.ok) {
    return ErrorValue(r.err);
  }
  Value mounts = Value::Array();
  for (const std::string& line : Split(r.data, '\n')) {
    std::vector<std::string> f = Split(line, ' ');
    // id parent major:minor root mount_point options [optional...] - fstype source super
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") {
      ++dash;
    }
    if (f.size() < 7 || dash + 2 >= f.size()) {
      continue;
    }
    Value m = Value::Object();
    m.Set("mount_point", Value(UnescapeMountField(f[4])));
    m.Set("root", Value(UnescapeMountField(f[3])));
    m.Set("fstype", Value(f[dash + 1]));
    m.Set("source", Value(UnescapeMountField(f[dash + 2])));
    m.Set("options", StringList(f[5]));
    m.Set("super_options", dash + 3 < f.size() ? StringList(f[dash + 3]) : Value::Array());
    std::string optional;
    for (size_t i = 6; i < dash; ++i) {
      optional += (optional.empty() ? "" : " ") + f[i];
    }
    m.Set("propagation", Value(optional.empty() ? "private" : optional));
    mounts.Push(std::move(m));
  }
  return mounts;
}

const char* FileType(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFCHR:
      return "char";
    case S_IFBLK:
      return "block";
    case S_IFDIR:
      return "dir";
    case S_IFLNK:
      return "symlink";
    case S_IFREG:
      return "file";
    case S_IFIFO:
      return "fifo";
    case S_IFSOCK:
      return "socket";
    default:
      return "unknown";
  }
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", mode & 07777);
  return buf;
}

Value DescribeEntry(const std::string& path, const std::string& name) {
  Value e = Value::Object();
  e.Set("name", Value(name));
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    e.Set("error", Value(ErrnoName(errno)));
    return e;
  }
  e.Set("type", Value(FileType(st.st_mode)));
  e.Set("mode", Value(OctalMode(st.st_mode)));
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    e.Set("major", Value(int64_t{major(st.st_rdev)}));
    e.Set("minor", Value(int64_t{minor(st.st_rdev)}));
  }
  if (S_ISLNK(st.st_mode)) {
    LinkRead link = ReadLink(path);
    e.Set("target", Value(link.ok ? link.target : "?" + ErrnoName(link.err)));
  }
  return e;
}

Value DevContents() {
  DirRead dir = ListDir("/dev");
  if (!dir.ok) {
    return ErrorValue(dir.err);
  }
  Value dev = Value::Array();
  for (const std::string& name : dir.names) {
    dev.Push(DescribeEntry("/dev/" + name, name));
  }
  return dev;
}

// A path is masked when it is absent, cannot be opened, reads empty, or (for a directory)
// lists nothing.
Value MaskedPath(const char* path) {
  Value m = Value::Object();
  m.Set("path", Value(path));
  struct stat st;
  if (stat(path, &st) != 0) {
    int err = errno;
    m.Set("exists", Value(false));
    m.Set("masked", Value(true));
    m.Set("detail", Value("absent: " + ErrnoName(err)));
    return m;
  }
  m.Set("exists", Value(true));
  m.Set("type", Value(FileType(st.st_mode)));
  if (S_ISDIR(st.st_mode)) {
    DirRead dir = ListDir(path);
    if (!dir.ok) {
      m.Set("masked", Value(true));
      m.Set("detail", Value("cannot list: " + ErrnoName(dir.err)));
      return m;
    }
    m.Set("entries", Value(static_cast<int64_t>(dir.names.size())));
    m.Set("masked", Value(dir.names.empty()));
    m.Set("detail", Value(dir.names.empty() ? "empty directory" : "directory has entries"));
    return m;
  }
  if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3) {
    m.Set("masked", Value(true));
    m.Set("detail", Value("covered by /dev/null"));
    return m;
  }
  FileRead r = ReadFileCapped(path, kMaskedReadCap);
  if (!r.ok) {
    m.Set("masked", Value(true));
    m.Set("detail", Value("cannot read: " + ErrnoName(r.err)));
    return m;
  }
  m.Set("bytes", Value(static_cast<int64_t>(r.data.size())));
  m.Set("masked", Value(r.data.empty()));
  m.Set("detail", Value(r.data.empty() ? "reads empty" : "readable"));
  return m;
}

Value ReadonlyPath(const char* path) {
  Value p = Value::Object();
  p.Set("path", Value(path));
  struct statvfs vfs;
  if (statvfs(path, &vfs) != 0) {
    p.Set("exists", Value(false));
    p.Set("error", Value(ErrnoName(errno)));
    return p;
  }
  p.Set("exists", Value(true));
  p.Set("readonly", Value((vfs.f_flag & ST_RDONLY) != 0));
  return p;
}

Value LimitNumber(rlim_t v) {
  if (v == RLIM_INFINITY) {
    return Value("unlimited");
  }
  return Value(static_cast<int64_t>(v));
}

Value Rlimits() {
  struct Limit {
    const char* name;
    int resource;
  };
  static constexpr Limit kLimits[] = {
      {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
      {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
      {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
      {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
      {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
      {"stack", RLIMIT_STACK},
  };
  Value limits = Value::Object();
  for (const Limit& l : kLimits) {
    struct rlimit rl;
    if (getrlimit(static_cast<__rlimit_resource>(l.resource), &rl) != 0) {
      limits.Set(l.name, ErrorValue(errno));
      continue;
    }
    Value v = Value::Object();
    v.Set("soft", LimitNumber(rl.rlim_cur));
    v.Set("hard", LimitNumber(rl.rlim_max));
    limits.Set(l.name, std::move(v));
  }
  return limits;
}

Value Namespaces() {
  DirRead dir = ListDir("/proc/self/ns");
  if (!dir.ok) {
    return ErrorValue(dir.err);
  }
  Value ns = Value::Object();
  for (const std::string& name : dir.names) {
    LinkRead link = ReadLink("/proc/self/ns/" + name);
    ns.Set(name, Value(link.ok ? link.target : "?" + ErrnoName(link.err)));
  }
  return ns;
}

Value Cgroups() {
  FileRead r = ReadFileCapped("/proc/self/cgroup", kProcFileCap);
  if (!r.ok) {
    return ErrorValue(r.err);
  }
  Value groups = Value::Array();
  for (const std::string& line : Split(r.data, '\n')) {
    size_t first = line.find(':');
    size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) {
      continue;
    }
    Value g = Value::Object();
    g.Set("hierarchy", Value(ParseInt(line.substr(0, first)).value_or(-1)));
    g.Set("controllers", Value(line.substr(first + 1, second - first - 1)));
    g.Set("path", Value(line.substr(second + 1)));
    groups.Push(std::move(g));
  }
  return groups;
}

}  // namespace

// Open fds except the one used to list them; shared with the `fds` probe.
Value OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return ErrorValue(errno);
  }
  int own = dirfd(dir);
  std::vector<int> fds;
  while (dirent* entry = readdir(dir)) {
    std::optional<int64_t> fd = ParseInt(entry->d_name);
    if (fd && *fd != own) {
      fds.push_back(static_cast<int>(*fd));
    }
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  Value list = Value::Array();
  for (int fd : fds) {
    Value e = Value::Object();
    e.Set("fd", Value(int64_t{fd}));
    LinkRead link = ReadLink("/proc/self/fd/" + std::to_string(fd));
    e.Set("target", Value(link.ok ? link.target : "?" + ErrnoName(link.err)));
    list.Push(std::move(e));
  }
  return list;
}

namespace {

Value Network() {
  FileRead r = ReadFileCapped("/proc/self/net/dev", kProcFileCap);
  if (!r.ok) {
    return ErrorValue(r.err);
  }
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    sock.reset(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  }
  int sock_err = sock ? 0 : errno;
  Value list = Value::Array();
  for (const std::string& line : Split(r.data, '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::vector<std::string> name_parts = SplitWhitespace(line.substr(0, colon));
    if (name_parts.size() != 1) {
      continue;
    }
    Value iface = Value::Object();
    iface.Set("name", Value(name_parts[0]));
    if (!sock) {
      iface.Set("error", Value(ErrnoName(sock_err)));
      list.Push(std::move(iface));
      continue;
    }
    struct ifreq req;
    std::memset(&req, 0, sizeof(req));
    std::snprintf(req.ifr_name, sizeof(req.ifr_name), "%s", name_parts[0].c_str());
    if (ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
      iface.Set("error", Value(ErrnoName(errno)));
    } else {
      iface.Set("up", Value((req.ifr_flags & IFF_UP) != 0));
      iface.Set("running", Value((req.ifr_flags & IFF_RUNNING) != 0));
      iface.Set("loopback", Value((req.ifr_flags & IFF_LOOPBACK) != 0));
    }
    list.Push(std::move(iface));
  }
  return list;
}

Value Terminal() {
  Value t = Value::Object();
  t.Set("stdin_isatty", Value(isatty(0) == 1));
  // /dev/tty names the controlling terminal; ENXIO means there is none.
  UniqueFd tty(open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  t.Set("controlling_tty", Value(tty.valid()));
  if (!tty) {
    t.Set("error", Value(ErrnoName(errno)));
  }
  return t;
}

}  // namespace

Value CollectReport() {
  Value report = Value::Object();
  report.Set("pid", Value(int64_t{getpid()}));
  report.Set("ppid", Value(int64_t{getppid()}));
  report.Set("sid", Value(int64_t{getsid(0)}));
  report.Set("pgid", Value(int64_t{getpgid(0)}));
  report.Set("terminal", Terminal());

  report.Set("uid_map", IdMap("/proc/self/uid_map"));
  report.Set("gid_map", IdMap("/proc/self/gid_map"));
  FileRead setgroups = ReadFileCapped("/proc/self/setgroups", 64);
  report.Set("setgroups", setgroups.ok ? Value(SplitWhitespace(setgroups.data).empty()
                                                   ? std::string()
                                                   : SplitWhitespace(setgroups.data)[0])
                                       : Value("?" + ErrnoName(setgroups.err)));
  report.Set("user", User());

  FileRead status = ReadFileCapped("/proc/self/status", kProcFileCap);
  if (status.ok) {
    report.Set("umask", Value(StatusField(status.data, "Umask").value_or("?")));
    report.Set("capabilities", Capabilities(status.data));
    report.Set("seccomp", StatusInt(status.data, "Seccomp"));
    report.Set("seccomp_filters", StatusInt(status.data, "Seccomp_filters"));
    report.Set("no_new_privs", StatusInt(status.data, "NoNewPrivs"));
  } else {
    report.Set("capabilities", ErrorValue(status.err));
  }
  int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  report.Set("dumpable", Value(int64_t{dumpable}));

  struct statvfs root;
  if (statvfs("/", &root) == 0) {
    report.Set("root_readonly", Value((root.f_flag & ST_RDONLY) != 0));
  } else {
    report.Set("root_readonly", Value("?" + ErrnoName(errno)));
  }
  report.Set("mounts", Mounts());
  report.Set("dev", DevContents());
  Value masked = Value::Array();
  for (const char* const* p = kMaskedPaths; *p != nullptr; ++p) {
    masked.Push(MaskedPath(*p));
  }
  report.Set("masked_paths", std::move(masked));
  Value readonly = Value::Array();
  for (const char* const* p = kReadonlyPaths; *p != nullptr; ++p) {
    readonly.Push(ReadonlyPath(*p));
  }
  report.Set("readonly_paths", std::move(readonly));
  report.Set("rlimits", Rlimits());

  struct utsname uts;
  if (uname(&uts) == 0) {
    report.Set("hostname", Value(uts.nodename));
    report.Set("domainname", Value(uts.domainname));
  }
  report.Set("namespaces", Namespaces());
  report.Set("cgroups", Cgroups());
  report.Set("network", Network());
  report.Set("fds", OpenFds());
  char cwd[4096];
  report.Set("cwd",
             getcwd(cwd, sizeof(cwd)) != nullptr ? Value(cwd) : Value("?" + ErrnoName(errno)));
  return report;
}

}  // namespace brick::inspect
