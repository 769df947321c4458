// Which cgroup hierarchies are mounted where: v1, v2 or hybrid.
//
//   Layout layout = BRICK_TRY_VALUE(DetectLayout());        // reads /proc/self/mountinfo
//   if (const Hierarchy* mem = layout.FindV1("memory")) { ... mem->mount_point ... }
//
// Detection works from a list of mounts so that tests can describe a fake cgroupfs made
// of plain directories: DetectLayoutFromMounts(mounts, "/tmp/fake", fake_fs).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/cgroup/cgroup_fs.h"

namespace brick::cgroup {

enum class Version { kV1, kV2, kHybrid };

// "v1", "v2", "hybrid".
const char* VersionName(Version v);

// One mounted hierarchy.
struct Hierarchy {
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  bool unified = false;     // cgroup2
  // v1: the controllers bound to it ("cpu", "cpuacct"; a named hierarchy shows as
  // "name=systemd"). v2: the controllers listed in the root's cgroup.controllers.
  std::vector<std::string> controllers;

  bool Has(std::string_view controller) const;
  // The controllers field of /proc/<pid>/cgroup: "cpu,cpuacct", "name=systemd", "" for v2.
  std::string ControllersField() const;
};

struct Layout {
  Version version = Version::kV2;
  std::string fs_root;               // "/sys/fs/cgroup"
  std::vector<Hierarchy> v1;         // one per v1 mount
  std::optional<Hierarchy> unified;  // the cgroup2 mount, if any

  // The v1 hierarchy that holds `controller`, or nullptr.
  const Hierarchy* FindV1(std::string_view controller) const;
};

// One line of /proc/self/mountinfo, reduced to what detection needs.
struct MountEntry {
  std::string mount_point;
  std::string fs_type;        // "cgroup" or "cgroup2"
  std::string super_options;  // "rw,cpu,cpuacct"
};

// Parses /proc/self/mountinfo text (octal escapes in mount points are decoded).
Result<std::vector<MountEntry>> ParseMountInfo(std::string_view text);

// Picks the cgroup mounts at `fs_root` or directly below it. The v2 controllers are
// read from <mount>/cgroup.controllers through `fs`.
Result<Layout> DetectLayoutFromMounts(const std::vector<MountEntry>& mounts,
                                      const std::string& fs_root, CgroupFs& fs);

// The real host: /proc/self/mountinfo and cgroupfs.
Result<Layout> DetectLayout(const std::string& fs_root = "/sys/fs/cgroup");

}  // namespace brick::cgroup
