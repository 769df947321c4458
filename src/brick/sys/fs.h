// File helpers that act on fds, and path resolution anchored inside a root.
//
//   UniqueFd root = BRICK_TRY_VALUE(OpenDirectory("/var/lib/c1/rootfs"));
//   // "/etc/../../../host" and symlinks to "/" stay inside root:
//   UniqueFd f = BRICK_TRY_VALUE(OpenInRoot(root.get(), "/etc/hostname", O_RDONLY));
//   UniqueFd d = BRICK_TRY_VALUE(MkdirAllInRoot(root.get(), "/run/secrets", 0755));
//
// Nothing here joins a container path onto a host path as a string: every lookup
// starts at the root fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), or,
// on kernels without openat2, walks one component at a time with O_NOFOLLOW and
// resolves symlinks itself, clamping ".." at the root.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>

#include <string>
#include <string_view>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick {

// Opens a host directory as O_PATH|O_DIRECTORY.
Result<UniqueFd> OpenDirectory(const std::string& path);

// Opens `path` (absolute or relative, both taken as inside the root) anchored at
// root_fd. `flags` are open flags; O_CLOEXEC is always added. O_CREAT is allowed
// (the final component is created inside the root); O_NOFOLLOW refuses a final symlink.
Result<UniqueFd> OpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// Creates every missing directory of `path` inside the root and returns an
// O_PATH|O_DIRECTORY fd of the last one. Refuses if a component is not a directory.
Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view path, mode_t mode);

// Makes sure a mount target exists inside the root: a directory when `directory`,
// else an empty regular file (its parents are created as directories). Returns an
// O_PATH fd of the target, suitable for /proc/self/fd/N or move_mount.
Result<UniqueFd> EnsureMountTargetInRoot(int root_fd, std::string_view path, bool directory);

// Forces the portable fallback resolver (for tests on kernels with openat2).
void ForceFallbackResolverForTest(bool force);

// "/proc/self/fd/N" for an fd, to hand a resolved object to calls that take paths.
std::string FdPath(int fd);

// Reads a whole (small) file.
Result<std::string> ReadFile(const std::string& path);
Result<std::string> ReadFileAt(int dir_fd, const std::string& name);
// Writes `data` to an existing file (no create, no truncate semantics beyond O_TRUNC).
Status WriteFile(const std::string& path, std::string_view data);
Status WriteFileAt(int dir_fd, const std::string& name, std::string_view data);
// Writes all of `data` to fd, retrying short writes and EINTR.
Status WriteAll(int fd, std::string_view data);
// Whether an atomic write also waits for the disk. Readers only ever need the rename
// (they see the old file or the new one, never half of one); kFsync adds durability across
// a crash, which runtime state under /run does not need (it lives for one boot).
enum class Durability { kRenameOnly, kFsync };

// Writes a file atomically: a temp file in the same directory, (fsync,) rename.
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability = Durability::kFsync);

}  // namespace brick
