// The file-system seam under the cgroup managers.
//
//   CgroupFs& fs = KernelCgroupFs::Get();
//   BRICK_TRY(fs.Mkdir("/sys/fs/cgroup/pids/brick/abc"));
//   BRICK_TRY(fs.Write("/sys/fs/cgroup/pids/brick/abc/pids.max", "1024"));
//
// Every side effect of the managers on a cgroup hierarchy goes through this interface:
// the kernel implementation acts on cgroupfs; unit tests subclass it to stand in for the
// kernel on a plain temporary directory (populate a new cgroup with its interface files,
// record every write, accept rmdir of a directory that still shows files, keep the
// device program instead of loading it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/cgroup/device_program.h"
#include "brick/sys/unique_fd.h"

namespace brick::cgroup {

class CgroupFs {
 public:
  virtual ~CgroupFs() = default;

  // mkdir(2) with mode 0755; the error keeps errno (EEXIST when it exists).
  virtual Status Mkdir(const std::string& dir) = 0;
  // rmdir(2); the error keeps errno (ENOENT, EBUSY, ENOTEMPTY).
  virtual Status Rmdir(const std::string& dir) = 0;
  // Writes `value` to an existing interface file in one write(2).
  virtual Status Write(const std::string& file, std::string_view value) = 0;
  virtual Result<std::string> Read(const std::string& file) = 0;
  virtual bool Exists(const std::string& path) = 0;
  // True when the file exists and has a write permission bit (cgroupfs shows read-only
  // interface files as 0444).
  virtual bool IsWritableFile(const std::string& path) = 0;
  // Names of the subdirectories (child cgroups) of `dir`.
  virtual Result<std::vector<std::string>> ListChildren(const std::string& dir) = 0;
  // The directory's mtime. cgroupfs (kernfs) sets it when the cgroup is made and when a
  // child cgroup is added or removed, never on writes to interface files: it is the
  // cgroup's creation time or later, which is what CleanupStale's age rule needs.
  virtual Result<std::chrono::system_clock::time_point> ModifiedTime(const std::string& dir) = 0;

  // Loads `program` and attaches it to the cgroup2 directory `dir` with
  // BPF_F_ALLOW_MULTI, then detaches every device program that was attached to `dir`
  // directly before (so a live update never leaves a window with no program). Returns
  // the loaded program's fd, which identifies the attachment for DetachDeviceProgram.
  virtual Result<UniqueFd> ReplaceDeviceProgram(const std::string& dir,
                                                const DeviceProgram& program) = 0;
  // Detaches the program `prog_fd` from `dir`. ENOENT (already gone) is not an error.
  virtual Status DetachDeviceProgram(const std::string& dir, int prog_fd) = 0;
  // kill(2).
  virtual Status Kill(pid_t pid, int signal) = 0;
  // open(2) with O_CLOEXEC added; the error keeps errno.
  virtual Result<UniqueFd> Open(const std::string& path, int flags) = 0;
};

// The real thing: cgroupfs and bpf(2).
class KernelCgroupFs : public CgroupFs {
 public:
  static KernelCgroupFs& Get();

  Status Mkdir(const std::string& dir) override;
  Status Rmdir(const std::string& dir) override;
  Status Write(const std::string& file, std::string_view value) override;
  Result<std::string> Read(const std::string& file) override;
  bool Exists(const std::string& path) override;
  bool IsWritableFile(const std::string& path) override;
  Result<std::vector<std::string>> ListChildren(const std::string& dir) override;
  Result<std::chrono::system_clock::time_point> ModifiedTime(const std::string& dir) override;
  Result<UniqueFd> ReplaceDeviceProgram(const std::string& dir,
                                        const DeviceProgram& program) override;
  Status DetachDeviceProgram(const std::string& dir, int prog_fd) override;
  Status Kill(pid_t pid, int signal) override;
  Result<UniqueFd> Open(const std::string& path, int flags) override;
};

}  // namespace brick::cgroup
