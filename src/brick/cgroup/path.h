// Where a container's cgroup goes: OCI linux.cgroupsPath resolved against brick's parent.
//
//   Options opts;                                   // fs_root /sys/fs/cgroup, parent "brick"
//   CgroupPath p = BRICK_TRY_VALUE(ResolveCgroupsPath(spec.linux.cgroups_path, id, opts));
//   // "" -> /brick/<id>; "/a/b" -> /a/b; "a/b" -> /brick/a/b
#pragma once

#include <memory>
#include <string>

#include "brick/base/error.h"
#include "brick/cgroup/cgroup_fs.h"

namespace brick::cgroup {

struct Options {
  std::string fs_root = "/sys/fs/cgroup";
  // brick's own subtree, relative to each hierarchy root; may have several components
  // ("system.slice/brick" inside a delegated subtree).
  std::string parent = "brick";
  // Test seam: the file system the managers act on. Null means the kernel.
  std::shared_ptr<CgroupFs> fs;

  CgroupFs& Fs() const { return fs ? *fs : KernelCgroupFs::Get(); }
};

struct CgroupPath {
  // The container's cgroup relative to each hierarchy's root, always starting with '/':
  // "/brick/abc". Never "/", never with "." or ".." components.
  std::string path;
  // brick's parent ("/brick") when `path` lies inside it, else empty: brick then creates
  // only the missing directories of `path` and changes nothing in the ones that exist.
  std::string brick_parent;
};

// OCI semantics: empty -> <parent>/<id>; absolute -> as given (relative to each hierarchy
// root); relative -> below <parent>. The systemd form "slice:prefix:name" is refused until
// brick has a systemd driver; ".." components and NUL bytes are refused. Errors name
// linux.cgroupsPath.
Result<CgroupPath> ResolveCgroupsPath(const std::string& oci_cgroups_path,
                                      const std::string& container_id, const Options& options);

}  // namespace brick::cgroup
