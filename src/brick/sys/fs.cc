#include "brick/sys/fs.h"

#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <climits>
#include <deque>
#include <vector>

#include "brick/base/strings.h"

namespace brick {
namespace {

std::atomic<bool> g_force_fallback{false};
constexpr int kMaxSymlinks = 40;

// Lexically cleans an in-root path: drops "", "." and clamps ".." at the root.
// Symlinks are still resolved afterwards, inside the root.
std::vector<std::string> CleanComponents(std::string_view path) {
  std::vector<std::string> out;
  for (auto& c : Split(path, '/')) {
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      if (!out.empty()) {
        out.pop_back();
      }
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string JoinComponents(const std::vector<std::string>& comps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += '/';
    s += comps[i];
  }
  return s.empty() ? "/" : s;
}

Result<UniqueFd> Openat2InRoot(int root_fd, const std::string& rel, int flags, mode_t mode) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  while (true) {
    long fd = syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how);
    if (fd >= 0) {
      return UniqueFd(static_cast<int>(fd));
    }
    if (errno == EAGAIN || errno == EINTR) {
      continue;  // a concurrent rename raced the lookup; openat2 asks us to retry
    }
    return std::unexpected(Error("", errno));
  }
}

// Walks one component at a time from the root, never following a symlink with
// the kernel: symlink targets are read and resolved again from the root.
Result<UniqueFd> FallbackOpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode) {
  std::deque<std::string> todo;
  for (auto& c : Split(path, '/')) {
    todo.push_back(c);
  }
  std::vector<std::string> stack;
  auto reopen = [&]() -> Result<UniqueFd> {
    UniqueFd cur(openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur) {
      return std::unexpected(Error("", errno));
    }
    for (auto& c : stack) {
      UniqueFd next(openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) {
        return std::unexpected(Error("", errno));
      }
      cur = std::move(next);
    }
    return cur;
  };
  UniqueFd cur = BRICK_TRY_VALUE(reopen());
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c.empty() || c == ".") {
      if (todo.empty()) {
        // The path names a directory already walked: open it with the caller's flags.
        UniqueFd fd(openat(cur.get(), ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC));
        if (!fd) {
          return std::unexpected(Error("", errno));
        }
        return fd;
      }
      continue;
    }
    if (c == "..") {
      if (!stack.empty()) {
        stack.pop_back();
      }
      cur = BRICK_TRY_VALUE(reopen());
      if (todo.empty()) {
        todo.push_back(".");
      }
      continue;
    }
    bool last = std::all_of(todo.begin(), todo.end(),
                            [](const std::string& s) { return s.empty() || s == "."; });
    struct stat st;
    if (fstatat(cur.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && last && (flags & O_CREAT)) {
        UniqueFd fd(openat(cur.get(), c.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!fd) {
          return std::unexpected(Error("", errno));
        }
        return fd;
      }
      return std::unexpected(Error("", errno));
    }
    if (S_ISLNK(st.st_mode)) {
      if (last && (flags & O_NOFOLLOW)) {
        return std::unexpected(Error("", ELOOP));
      }
      if (++links > kMaxSymlinks) {
        return std::unexpected(Error("", ELOOP));
      }
      char buf[PATH_MAX];
      ssize_t n = readlinkat(cur.get(), c.c_str(), buf, sizeof buf - 1);
      if (n < 0) {
        return std::unexpected(Error("", errno));
      }
      std::string_view target(buf, static_cast<size_t>(n));
      auto parts = Split(target, '/');
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        todo.push_front(*it);
      }
      if (!target.empty() && target[0] == '/') {
        stack.clear();
        cur = BRICK_TRY_VALUE(reopen());
      }
      continue;
    }
    if (last) {
      if ((flags & O_CREAT) && (flags & O_EXCL)) {
        return std::unexpected(Error("", EEXIST));
      }
      UniqueFd fd(openat(cur.get(), c.c_str(), (flags & ~O_CREAT) | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) {
        return std::unexpected(Error("", errno));
      }
      return fd;
    }
    if (!S_ISDIR(st.st_mode)) {
      return std::unexpected(Error("", ENOTDIR));
    }
    UniqueFd next(openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      return std::unexpected(Error("", errno));  // swapped for a symlink under us: refuse
    }
    stack.push_back(c);
    cur = std::move(next);
  }
  // Empty path or "/": the root itself.
  UniqueFd fd(openat(cur.get(), ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC));
  if (!fd) {
    return std::unexpected(Error("", errno));
  }
  return fd;
}

bool HaveOpenat2() {
  static const bool have = [] {
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    long fd = syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd >= 0) {
      close(static_cast<int>(fd));
      return true;
    }
    return errno != ENOSYS;
  }();
  return have;
}

}  // namespace

void ForceFallbackResolverForTest(bool force) { g_force_fallback = force; }

std::string FdPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

Result<UniqueFd> OpenDirectory(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "open directory {}", path);
  }
  return fd;
}

Result<UniqueFd> OpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode) {
  std::string rel(path);
  while (!rel.empty() && rel[0] == '/') {
    rel.erase(0, 1);
  }
  if (rel.empty()) {
    rel = ".";
  }
  Result<UniqueFd> r = (!g_force_fallback && HaveOpenat2())
                           ? Openat2InRoot(root_fd, rel, flags, mode)
                           : FallbackOpenInRoot(root_fd, rel, flags, mode);
  if (!r) {
    return ErrnoFail(r.error().errnum(), "open {} inside the container root", path);
  }
  return r;
}

Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view path, mode_t mode) {
  auto comps = CleanComponents(path);
  UniqueFd cur(openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) {
    return ErrnoFail(errno, "open container root");
  }
  for (size_t i = 0; i < comps.size(); ++i) {
    std::string prefix = JoinComponents(comps, i + 1);
    auto next = OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (!next && next.error().errnum() == ENOENT) {
      // `cur` is the resolved parent; create the component there, never following.
      if (mkdirat(cur.get(), comps[i].c_str(), mode) != 0 && errno != EEXIST) {
        return ErrnoFail(errno, "create directory {} inside the container root", prefix);
      }
      next = OpenInRoot(root_fd, prefix, O_PATH | O_DIRECTORY);
    }
    if (!next) {
      return ErrnoFail(next.error().errnum(), "create directory {} inside the container root",
                       prefix);
    }
    cur = std::move(*next);
  }
  return cur;
}

Result<UniqueFd> EnsureMountTargetInRoot(int root_fd, std::string_view path, bool directory) {
  auto comps = CleanComponents(path);
  if (comps.empty()) {
    if (!directory) {
      return Fail("mount target {} is the container root, which is a directory", path);
    }
    return OpenInRoot(root_fd, "/", O_PATH | O_DIRECTORY);
  }
  std::string parent_path = JoinComponents(comps, comps.size() - 1);
  std::string clean = JoinComponents(comps, comps.size());
  UniqueFd parent = BRICK_TRY_VALUE(MkdirAllInRoot(root_fd, parent_path, 0755));
  auto existing = OpenInRoot(root_fd, clean, O_PATH);
  if (!existing) {
    if (existing.error().errnum() != ENOENT) {
      return std::unexpected(existing.error());
    }
    const std::string& base = comps.back();
    if (directory) {
      if (mkdirat(parent.get(), base.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoFail(errno, "create mount target {} inside the container root", clean);
      }
    } else {
      UniqueFd f(openat(parent.get(), base.c_str(),
                        O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!f && errno != EEXIST) {
        return ErrnoFail(errno, "create mount target {} inside the container root", clean);
      }
    }
    existing = OpenInRoot(root_fd, clean, O_PATH);
    if (!existing) {
      return std::unexpected(existing.error());
    }
  }
  struct stat st;
  if (fstat(existing->get(), &st) != 0) {
    return ErrnoFail(errno, "stat mount target {}", clean);
  }
  if (directory && !S_ISDIR(st.st_mode)) {
    return Fail("mount target {} inside the container root is not a directory", clean);
  }
  if (!directory && S_ISDIR(st.st_mode)) {
    return Fail("mount target {} inside the container root is a directory but the source is not",
                clean);
  }
  return std::move(*existing);
}

Result<std::string> ReadFileAt(int dir_fd, const std::string& name) {
  UniqueFd fd(openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "open {}", name);
  }
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoFail(errno, "read {}", name);
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<std::string> ReadFile(const std::string& path) { return ReadFileAt(AT_FDCWD, path); }

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoFail(errno, "write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status WriteFileAt(int dir_fd, const std::string& name, std::string_view data) {
  UniqueFd fd(openat(dir_fd, name.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "open {} for writing", name);
  }
  // Kernel interface files want the whole value in one write.
  ssize_t n = write(fd.get(), data.data(), data.size());
  if (n < 0) {
    return ErrnoFail(errno, "write {} to {}", data, name);
  }
  if (static_cast<size_t>(n) != data.size()) {
    return Fail("short write of {} to {}", data, name);
  }
  return Ok();
}

Status WriteFile(const std::string& path, std::string_view data) {
  return WriteFileAt(AT_FDCWD, path, data);
}

Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability) {
  std::string tmpl = path + ".tmp-XXXXXX";
  UniqueFd fd(mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "create temporary file for {}", path);
  }
  auto cleanup = [&] { unlink(tmpl.c_str()); };
  if (fchmod(fd.get(), mode) != 0) {
    int e = errno;
    cleanup();
    return ErrnoFail(e, "chmod {}", tmpl);
  }
  if (auto s = WriteAll(fd.get(), data); !s) {
    cleanup();
    return std::unexpected(std::move(s.error()).Wrap(fmt::format("write {}", tmpl)));
  }
  if (durability == Durability::kFsync && fsync(fd.get()) != 0) {
    int e = errno;
    cleanup();
    return ErrnoFail(e, "fsync {}", tmpl);
  }
  if (durability == Durability::kRenameOnly) {
    // Replacing a regular file: exchange the two names, then remove the old file. A
    // rename over an existing file makes ext4 (auto_da_alloc) allocate and start writing
    // the new file's blocks at once, a crash guarantee kRenameOnly does not ask for; the
    // file then holds real blocks, and removing it (a container's delete) waits for a
    // synchronous discard on hosts mounted with -o discard. Readers see the old file or
    // the new one either way. Where the exchange is not supported, the rename below.
    struct stat st;
    if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        renameat2(AT_FDCWD, tmpl.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
      if (unlink(tmpl.c_str()) != 0) {
        return ErrnoFail(errno, "remove the previous {} (now {})", path, tmpl);
      }
      return Ok();
    }
  }
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    int e = errno;
    cleanup();
    return ErrnoFail(e, "rename {} to {}", tmpl, path);
  }
  return Ok();
}

}  // namespace brick
