// The syscall seam of the isolation steps: every "apply" function makes its
// kernel calls through a Syscalls&, so that tests can check the exact sequence
// against a recording fake while the runtime passes the real implementation.
//
//   brick::isolation::Syscalls& sys = brick::isolation::RealSyscalls();
//   BRICK_TRY(ApplyBoundingSet(sys, caps_plan));
//
//   // in a test:
//   brick::isolation::RecordingSyscalls fake;
//   fake.FailOn("prctl(PR_CAPBSET_DROP, 3)", EPERM);
//   auto st = ApplyBoundingSet(fake, plan);
//   EXPECT_THAT(fake.calls(), ElementsAre("prctl(PR_CAPBSET_DROP, 0)", ...));
//
// Methods return 0 (or a non-negative value such as an fd) on success and -errno
// on failure. They neither throw nor allocate in the real implementation, since
// they run in the forked container child.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace brick::isolation {

class Syscalls {
 public:
  virtual ~Syscalls() = default;

  virtual int Prctl(int option, unsigned long arg2, unsigned long arg3 = 0, unsigned long arg4 = 0,
                    unsigned long arg5 = 0) = 0;
  // capset(2) with _LINUX_CAPABILITY_VERSION_3 for the calling thread.
  virtual int Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) = 0;
  virtual int Setgroups(std::span<const gid_t> groups) = 0;
  virtual int Setresgid(gid_t rgid, gid_t egid, gid_t sgid) = 0;
  virtual int Setresuid(uid_t ruid, uid_t euid, uid_t suid) = 0;
  // prlimit(0, resource, ...) on the calling process.
  virtual int Setrlimit(int resource, uint64_t soft, uint64_t hard) = 0;
  virtual int Getrlimit(int resource, uint64_t* soft, uint64_t* hard) = 0;
  virtual int Sethostname(std::string_view name) = 0;
  virtual int Setdomainname(std::string_view name) = 0;
  // Returns the previous mask; cannot fail.
  virtual mode_t Umask(mode_t mask) = 0;
  // openat(2); O_CLOEXEC is always added. Returns the fd.
  virtual int OpenAt(int dir_fd, const char* path, int flags, mode_t mode = 0) = 0;
  // Opens `path` strictly beneath dir_fd without following any symlink and without
  // crossing a mount (openat2 RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV).
  virtual int OpenBeneath(int dir_fd, const char* path, int flags) = 0;
  // fstatfs(2); stores f_type.
  virtual int Fstatfs(int fd, int64_t* fs_type) = 0;
  // Writes all of `data`, retrying short writes and EINTR.
  virtual int Write(int fd, std::string_view data) = 0;
  virtual int Close(int fd) = 0;
  virtual int Fchdir(int fd) = 0;
  virtual int Setsid() = 0;
  // ioctl(fd, TIOCSCTTY, 0).
  virtual int SetControllingTerminal(int fd) = 0;
  virtual pid_t Getppid() = 0;
  virtual int CloseRange(unsigned first, unsigned last, unsigned flags) = 0;
  virtual int SetCloexec(int fd, bool on) = 0;
  // Lists the open fds of the calling process (from /proc/self/fd) into `out`.
  // Returns how many there are, which may exceed out.size(): call again with more room.
  virtual int ListOpenFds(std::span<int> out) = 0;
};

// The process-wide real implementation.
Syscalls& RealSyscalls();

// Records every call as text and succeeds, unless told to fail. The text is
// "name(args)", e.g. "prctl(PR_CAPBSET_DROP, 12)", "setresuid(1000, 1000, 1000)",
// "openat(7, \"sys/kernel/msgmax\", O_WRONLY)", "write(100, \"1024\")".
// Fake fds returned by OpenAt/OpenBeneath count up from 1000.
class RecordingSyscalls : public Syscalls {
 public:
  // Any call whose recorded text starts with `prefix` fails with `err`.
  void FailOn(std::string prefix, int err) { failures_[std::move(prefix)] = err; }
  // The f_type Fstatfs reports for an fd (PROC_SUPER_MAGIC when not set).
  void SetFsType(int fd, int64_t fs_type) { fs_types_[fd] = fs_type; }
  void SetRlimit(int resource, uint64_t soft, uint64_t hard) { rlimits_[resource] = {soft, hard}; }
  void SetParentPid(pid_t pid) { ppid_ = pid; }
  void SetOpenFds(std::vector<int> fds) { open_fds_ = std::move(fds); }

  const std::vector<std::string>& calls() const { return calls_; }
  void ClearCalls() { calls_.clear(); }

  int Prctl(int option, unsigned long arg2, unsigned long arg3 = 0, unsigned long arg4 = 0,
            unsigned long arg5 = 0) override;
  int Capset(uint64_t effective, uint64_t permitted, uint64_t inheritable) override;
  int Setgroups(std::span<const gid_t> groups) override;
  int Setresgid(gid_t rgid, gid_t egid, gid_t sgid) override;
  int Setresuid(uid_t ruid, uid_t euid, uid_t suid) override;
  int Setrlimit(int resource, uint64_t soft, uint64_t hard) override;
  int Getrlimit(int resource, uint64_t* soft, uint64_t* hard) override;
  int Sethostname(std::string_view name) override;
  int Setdomainname(std::string_view name) override;
  mode_t Umask(mode_t mask) override;
  int OpenAt(int dir_fd, const char* path, int flags, mode_t mode = 0) override;
  int OpenBeneath(int dir_fd, const char* path, int flags) override;
  int Fstatfs(int fd, int64_t* fs_type) override;
  int Write(int fd, std::string_view data) override;
  int Close(int fd) override;
  int Fchdir(int fd) override;
  int Setsid() override;
  int SetControllingTerminal(int fd) override;
  pid_t Getppid() override;
  int CloseRange(unsigned first, unsigned last, unsigned flags) override;
  int SetCloexec(int fd, bool on) override;
  int ListOpenFds(std::span<int> out) override;

 private:
  // Records the call and returns -errno when a failure matches, else 0.
  int Record(std::string call);

  std::vector<std::string> calls_;
  std::map<std::string, int> failures_;
  std::map<int, int64_t> fs_types_;
  std::map<int, std::pair<uint64_t, uint64_t>> rlimits_;
  std::vector<int> open_fds_ = {0, 1, 2};
  pid_t ppid_ = 1;
  mode_t umask_ = 022;
  int next_fd_ = 1000;
};

}  // namespace brick::isolation
