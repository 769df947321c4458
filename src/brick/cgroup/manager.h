// A container's cgroup: create, limit, account, freeze, kill and remove it, on cgroup v1,
// v2 and hybrid hosts alike.
//
//   Options opts;  // /sys/fs/cgroup, parent "brick"
//   Layout layout = BRICK_TRY_VALUE(DetectLayout(opts.fs_root));
//   CgroupPath where = BRICK_TRY_VALUE(ResolveCgroupsPath(spec.linux.cgroups_path, id, opts));
//   auto mgr = BRICK_TRY_VALUE(NewManager(layout, where, opts));
//   BRICK_TRY(mgr->Validate(resources));   // creates nothing
//   BRICK_TRY(mgr->Create());
//   ScopedCgroup owner(std::move(mgr));    // Destroy() on every early return
//   BRICK_TRY(owner->Apply(resources));
//   BRICK_TRY(owner->AddProcess(child_pid));   // or OpenSelfPlacement, before the clone
//   ...
//   Stats s = BRICK_TRY_VALUE(owner->ReadStats());
//   BRICK_TRY(owner->Destroy());
//
// The hybrid manager uses every v1 hierarchy and the unified one: a controller is driven
// where it is bound (v1 first), and the container's cgroup exists in the unified
// hierarchy too so that the "0::" line of /proc/<pid>/cgroup names it. brick never
// changes anything outside the container's cgroup and brick's parent subtree.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/cgroup/layout.h"
#include "brick/cgroup/path.h"
#include "brick/cgroup/self_placement.h"
#include "brick/cgroup/stats.h"
#include "brick/oci/spec.h"

namespace brick::cgroup {

// The container's cgroup in one hierarchy.
struct HierarchyPath {
  std::string controllers;  // as in /proc/<pid>/cgroup: "memory", "cpu,cpuacct", "" for v2
  bool unified = false;
  std::string mount_point;  // "/sys/fs/cgroup/memory"
  std::string dir;          // "/sys/fs/cgroup/memory/brick/abc"
  std::string path;         // "/brick/abc", the third field of /proc/<pid>/cgroup
};

class Manager {
 public:
  virtual ~Manager() = default;

  virtual Version version() const = 0;
  virtual const CgroupPath& path() const = 0;

  // Checks `resources` against this host without creating or writing anything: ranges,
  // controllers the host lacks, values this version cannot express, unified keys that
  // name no writable file. Errors name the field ("linux.resources.memory.swap: ...").
  virtual Status Validate(const oci::Resources& resources) const = 0;
  // Makes the cgroup in every hierarchy, parents as needed, and remembers exactly which
  // directories it made. On failure nothing it made is left.
  virtual Status Create() = 0;
  // Takes over a cgroup that an earlier brick process created (brick create, then brick
  // delete): Destroy() then removes the container's cgroup, and the empty directories
  // between it and brick's parent.
  virtual Status AdoptExisting() = 0;
  // Validates, then writes every field of `resources` (devices first, unified last).
  virtual Status Apply(const oci::Resources& resources) = 0;
  // Live change of limits on a running container: writes the fields that are set.
  virtual Status Update(const oci::Resources& resources) = 0;
  // Moves `pid` (a whole process) into the cgroup in every hierarchy.
  virtual Status AddProcess(pid_t pid) = 0;
  // The same, in the unified hierarchy only: after a clone that could not use
  // CLONE_INTO_CGROUP. Nothing to do without a unified hierarchy.
  virtual Status AddProcessToUnified(pid_t pid) = 0;
  // Opens what a new process needs to place itself (self_placement.h): the fast way in.
  virtual Result<SelfPlacement> OpenSelfPlacement() const = 0;
  // The processes in the cgroup (union over the hierarchies).
  virtual Result<std::vector<pid_t>> Pids() const = 0;
  virtual Result<Stats> ReadStats() const = 0;
  // True when the OOM killer has killed a process of this cgroup.
  virtual Result<bool> OomKilled() const = 0;
  // Freezes every process, and returns once the kernel reports the cgroup frozen.
  virtual Status Freeze() = 0;
  virtual Status Thaw() = 0;
  // SIGKILLs every process (cgroup.kill where the kernel has it; otherwise freeze, kill
  // each pid, thaw) and waits, with a bounded retry, until the cgroup is empty.
  virtual Status KillAll() = 0;
  // Empties the cgroup if needed, detaches the device program, and removes leaf-first
  // every directory Create() made. Idempotent; a directory already gone is fine.
  virtual Status Destroy() = 0;
  virtual std::vector<HierarchyPath> Paths() const = 0;
};

// The manager for the layout's version.
Result<std::unique_ptr<Manager>> NewManager(const Layout& layout, const CgroupPath& path,
                                            const Options& options);

// Destroys the cgroup when it goes out of scope, unless released.
class ScopedCgroup {
 public:
  ScopedCgroup() = default;
  explicit ScopedCgroup(std::unique_ptr<Manager> manager) : manager_(std::move(manager)) {}
  ScopedCgroup(ScopedCgroup&&) noexcept = default;
  ScopedCgroup& operator=(ScopedCgroup&& other) noexcept;
  ScopedCgroup(const ScopedCgroup&) = delete;
  ScopedCgroup& operator=(const ScopedCgroup&) = delete;
  ~ScopedCgroup();

  Manager* get() const { return manager_.get(); }
  Manager* operator->() const { return manager_.get(); }
  explicit operator bool() const { return manager_ != nullptr; }
  // Gives up ownership: the cgroup outlives this object.
  std::unique_ptr<Manager> Release() { return std::move(manager_); }
  // Destroys now and reports the error (the destructor can only drop it).
  Status Reset();

 private:
  std::unique_ptr<Manager> manager_;
};

// How old an empty cgroup must be before `brick run` treats it as stale. Another brick
// may be between Create() and AddProcess() of its own container, whose cgroup is then
// empty but not stale; that window is milliseconds, this is a wide margin. Should a brick
// stall longer than this (SIGSTOP), its AddProcess fails and it gives up cleanly: the
// container never runs outside its limits.
inline constexpr std::chrono::seconds kStaleMinAge{5};

// Removes leftover empty cgroups below brick's parent in every hierarchy (after brick
// itself was SIGKILLed). A cgroup is removed when
//   - it holds no process (a created, running or paused container always has one),
//   - it has no child cgroup left (children are visited first),
//   - `keep` (when given) returns false for its path ("/brick/abc"), and
//   - its directory is at least `min_age` old (see CgroupFs::ModifiedTime; an age that
//     cannot be read keeps it).
// brick's parent itself stays. Nothing outside brick's parent is touched. Races with a
// process arriving (EBUSY) or another brick removing the same cgroup (ENOENT) are fine.
Status CleanupStale(const Layout& layout, const Options& options,
                    const std::function<bool(const std::string& path)>& keep = {},
                    std::chrono::seconds min_age = std::chrono::seconds{0});
// The same on the detected host layout, with the age rule kStaleMinAge and no `keep`.
Status CleanupStale(const Options& options);

}  // namespace brick::cgroup
