// The container's filesystem view: mounts, pivot_root, masked and read-only paths.
//
//   RootfsPlan plan = BRICK_TRY_VALUE(PlanRootfs(spec, bundle_dir, cgroup_binds));  // parent
//   ...child, in its new mount namespace:
//   UniqueFd root = BRICK_TRY_VALUE(MountRootfs(plan));    // bind rootfs, config mounts
//   BRICK_TRY(PopulateDev(root.get(), dev_plan));           // devices.h
//   root = BRICK_TRY_VALUE(PivotRoot(root.get()));
//   BRICK_TRY(ApplyMaskedAndReadonlyPaths(root.get(), plan));
//   BRICK_TRY(FinishRootfs(plan));                          // root read-only last
//
// Every target is resolved from the root fd (sys/fs.h) and mounted through
// /proc/self/fd/N, so a symlink or ".." planted in the rootfs cannot send a mount
// outside it.
#pragma once

#include <sys/mount.h>

#include <string>
#include <utility>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::isolation {

struct MountOptions {
  unsigned long flags = 0;        // MS_* to set
  unsigned long clear = 0;        // MS_* explicitly cleared ("rw", "suid", ...)
  unsigned long propagation = 0;  // MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE (+ MS_REC)
  bool bind = false;
  bool recursive_bind = false;
  bool tmpcopyup = false;  // tmpfs: copy what the directory held into the new tmpfs
  uint64_t attr_set = 0;  // MOUNT_ATTR_* applied recursively ("rro", "rnosuid", ...)
  uint64_t attr_clr = 0;
  std::string data;  // filesystem-specific options, comma-joined
};

// Turns OCI mount options into flags; anything not a known flag is filesystem data.
// `field` names the options for errors, e.g. "mounts[2].options".
Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options,
                                       const std::string& field);

// Every option ParseMountOptions recognizes as more than filesystem data (flags, propagation,
// recursive attributes, bind, rbind, tmpcopyup, defaults), sorted: `brick features` reports it.
std::vector<std::string> KnownMountOptions();

// One host cgroup directory to bind under a "cgroup" mount on v1 and hybrid hosts.
struct CgroupBind {
  std::string name;       // "memory", "unified", ...
  std::string host_path;  // /sys/fs/cgroup/memory/brick/<id>
};

struct PlannedMount {
  oci::Mount mount;        // as configured
  MountOptions options;
  std::string source;      // bind sources made absolute (relative to the bundle)
  std::string field;       // "mounts[3]"
  bool target_is_dir = true;   // bind mounts of files need a file to mount on
  bool on_rootfs = true;       // the destination is not under an earlier mount
};

struct RootfsPlan {
  std::string rootfs;  // absolute host path of root.path
  bool readonly = false;
  unsigned long root_propagation = MS_SLAVE | MS_REC;
  std::vector<PlannedMount> mounts;
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;
  bool cgroup_v2_only = false;        // mount cgroup2 directly for "cgroup" mounts
  std::vector<CgroupBind> cgroup_binds;  // else bind these
};

// Parent side: validates and resolves everything the child will need.
Result<RootfsPlan> PlanRootfs(const oci::Spec& spec, const std::string& bundle_dir);

// Parent side, just before the clone, when the container gets a user namespace: the
// container's root cannot create directories in a rootfs owned by host root, so brick
// creates the missing mount points that lie on the rootfs itself (not under another
// mount of the config), resolved inside the rootfs exactly as the child resolves them.
Status CreateRootfsMountTargets(const RootfsPlan& plan);

// Child side, in the new mount namespace, before pivot_root. Returns an O_PATH fd
// of the new root (the rootfs bind mount) with every config mount in place.
Result<UniqueFd> MountRootfs(const RootfsPlan& plan);

// Makes `new_root` the root: pivot_root, then detaches the old root. Returns an
// O_PATH fd of "/".
Result<UniqueFd> PivotRoot(int new_root_fd);

// Masks linux.maskedPaths (files: a bind of the verified /dev/null; directories: an
// empty read-only tmpfs) and makes linux.readonlyPaths read-only. Missing paths are skipped.
Status ApplyMaskedAndReadonlyPaths(int root_fd, const RootfsPlan& plan);

// Remounts the root read-only when root.readonly is set.
Status FinishRootfs(const RootfsPlan& plan);

// MS_* flags the kernel reports for the mount holding fd (ST_* from fstatvfs).
Result<unsigned long> MountFlagsOf(int fd);

}  // namespace brick::isolation
