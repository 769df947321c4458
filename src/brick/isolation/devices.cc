#include "brick/isolation/devices.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

mode_t TypeBits(char type) {
  switch (type) {
    case 'b': return S_IFBLK;
    case 'p': return S_IFIFO;
    default: return S_IFCHR;  // 'c' and 'u'
  }
}

std::pair<std::string, std::string> SplitDirBase(const std::string& path) {
  auto pos = path.rfind('/');
  if (pos == std::string::npos) {
    return {"/", path};
  }
  return {pos == 0 ? "/" : path.substr(0, pos), path.substr(pos + 1)};
}

Status BindHostNode(int root_fd, const oci::Device& d, const std::string& what) {
  UniqueFd host(open(d.path.c_str(), O_PATH | O_CLOEXEC));
  if (!host) {
    return ErrnoFail(errno, "{}: device nodes cannot be created inside a user namespace and the "
                     "host's {} cannot be opened to bind instead",
                     what, d.path);
  }
  struct stat st;
  if (fstat(host.get(), &st) != 0) {
    return ErrnoFail(errno, "{}: stat host {}", what, d.path);
  }
  if ((st.st_mode & S_IFMT) != TypeBits(d.type) ||
      (d.type != 'p' && st.st_rdev != makedev(d.major, d.minor))) {
    return Fail("{}: the host's {} is not {} {}:{}; device nodes cannot be created inside a user "
                "namespace, so the host node must match",
                what, d.path, d.type, d.major, d.minor);
  }
  UniqueFd target = BRICK_TRY_VALUE(EnsureMountTargetInRoot(root_fd, d.path, false));
  std::string src = FdPath(host.get());
  std::string dst = FdPath(target.get());
  if (mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoFail(errno, "{}: bind host {}", what, d.path);
  }
  return Ok();
}

Status MakeNode(int root_fd, const oci::Device& d, const std::string& what) {
  auto [dir, base] = SplitDirBase(d.path);
  UniqueFd parent = BRICK_TRY_VALUE(MkdirAllInRoot(root_fd, dir, 0755));
  // mknodat needs a real directory fd, not O_PATH.
  UniqueFd pdir = BRICK_TRY_VALUE(OpenInRoot(root_fd, dir, O_RDONLY | O_DIRECTORY));
  mode_t mode = d.file_mode.value_or(0666) & 07777;
  dev_t dev = d.type == 'p' ? 0 : makedev(d.major, d.minor);
  if (mknodat(pdir.get(), base.c_str(), TypeBits(d.type) | mode, dev) != 0 && errno != EEXIST) {
    return ErrnoFail(errno, "{}: mknod {}", what, d.path);
  }
  struct stat st;
  if (fstatat(pdir.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoFail(errno, "{}: stat {}", what, d.path);
  }
  if ((st.st_mode & S_IFMT) != TypeBits(d.type) || (d.type != 'p' && st.st_rdev != dev)) {
    return Fail("{}: {} already exists and is not the configured device", what, d.path);
  }
  if (fchmodat(pdir.get(), base.c_str(), mode, 0) != 0) {
    return ErrnoFail(errno, "{}: chmod {}", what, d.path);
  }
  if (fchownat(pdir.get(), base.c_str(), d.uid.value_or(0), d.gid.value_or(0),
               AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoFail(errno, "{}: chown {}", what, d.path);
  }
  return Ok();
}

}  // namespace

std::vector<oci::Device> DefaultDevices() {
  auto dev = [](const char* path, int64_t major, int64_t minor) {
    oci::Device d;
    d.path = path;
    d.type = 'c';
    d.major = major;
    d.minor = minor;
    d.file_mode = 0666;
    d.uid = 0;
    d.gid = 0;
    return d;
  };
  return {dev("/dev/null", 1, 3),    dev("/dev/zero", 1, 5),    dev("/dev/full", 1, 7),
          dev("/dev/random", 1, 8),  dev("/dev/urandom", 1, 9), dev("/dev/tty", 5, 0)};
}

Result<DevPlan> PlanDevices(const oci::Spec& spec, bool in_user_namespace) {
  DevPlan plan;
  plan.in_user_namespace = in_user_namespace;
  for (const auto& m : spec.mounts) {
    if (m.destination == "/dev" || m.destination == "/dev/") {
      bool bind = m.type == "bind";
      for (const auto& o : m.options) {
        bind |= o == "bind" || o == "rbind";
      }
      plan.populate = !bind;
    }
  }
  plan.devices = DefaultDevices();
  for (size_t i = 0; i < spec.linux.devices.size(); ++i) {
    const auto& d = spec.linux.devices[i];
    if (d.path.empty() || d.path[0] != '/') {
      return Fail("linux.devices[{}].path: \"{}\" must be absolute", i, d.path);
    }
    bool replaced = false;
    for (auto& existing : plan.devices) {
      if (existing.path == d.path) {
        existing = d;
        replaced = true;
      }
    }
    if (!replaced) {
      plan.devices.push_back(d);
    }
  }
  return plan;
}

Status PopulateDev(int root_fd, const DevPlan& plan) {
  if (plan.populate) {
    for (size_t i = 0; i < plan.devices.size(); ++i) {
      const auto& d = plan.devices[i];
      std::string what = fmt::format("create device {}", d.path);
      BRICK_TRY(plan.in_user_namespace ? BindHostNode(root_fd, d, what)
                                       : MakeNode(root_fd, d, what));
    }
    UniqueFd dev = BRICK_TRY_VALUE(OpenInRoot(root_fd, "/dev", O_RDONLY | O_DIRECTORY));
    const std::pair<const char*, const char*> links[] = {
        {"fd", "/proc/self/fd"},          {"stdin", "/proc/self/fd/0"},
        {"stdout", "/proc/self/fd/1"},    {"stderr", "/proc/self/fd/2"},
        {"ptmx", "pts/ptmx"},
    };
    for (const auto& [name, target] : links) {
      if (symlinkat(target, dev.get(), name) != 0 && errno != EEXIST) {
        return ErrnoFail(errno, "create link /dev/{}", name);
      }
    }
  } else {
    // /dev comes from the image or a bind: add only linux.devices.
    for (size_t i = DefaultDevices().size(); i < plan.devices.size(); ++i) {
      const auto& d = plan.devices[i];
      std::string what = fmt::format("linux.devices[{}]", i - DefaultDevices().size());
      BRICK_TRY(plan.in_user_namespace ? BindHostNode(root_fd, d, what)
                                       : MakeNode(root_fd, d, what));
    }
  }
  return Ok();
}

Result<Console> OpenConsole(int root_fd, uid_t uid, gid_t gid) {
  Console c;
  c.master = BRICK_TRY_VALUE(OpenInRoot(root_fd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY));
  struct stat st;
  if (fstat(c.master.get(), &st) != 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
      minor(st.st_rdev) != 2) {
    return Fail("terminal: /dev/pts/ptmx inside the container is not a pty multiplexer; mount "
                "devpts at /dev/pts");
  }
  int unlock = 0;
  if (ioctl(c.master.get(), TIOCSPTLCK, &unlock) != 0) {
    return ErrnoFail(errno, "terminal: unlock pty");
  }
  int peer = ioctl(c.master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (peer < 0) {
    return ErrnoFail(errno, "terminal: open pty peer");
  }
  c.peer.reset(peer);
  if (fchown(c.peer.get(), uid, gid) != 0) {
    return ErrnoFail(errno, "terminal: chown pty to {}:{}", uid, gid);
  }
  UniqueFd target = BRICK_TRY_VALUE(EnsureMountTargetInRoot(root_fd, "/dev/console", false));
  std::string src = FdPath(c.peer.get());
  std::string dst = FdPath(target.get());
  if (mount(src.c_str(), dst.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoFail(errno, "terminal: bind the pty onto /dev/console");
  }
  return c;
}

}  // namespace brick::isolation
