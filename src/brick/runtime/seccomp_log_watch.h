// Seccomp actions the kernel logs (SCMP_ACT_LOG, or any action under
// SECCOMP_FILTER_FLAG_LOG) as events in brick's event log, for a foreground `brick run`.
//
//   auto watch = SeccompLogWatch::Start("web1", host_uid_first, 65536, "/run/brick/events.jsonl");
//   ... run the container ...
//   watch.reset();   // reads what is left, then stops
//
// The kernel writes these as audit records (type 1326) to /dev/kmsg when no audit daemon
// takes them. A record names the calling task's host uid: brick gives each container its
// own host id range, so a uid in that range attributes the call to this container even
// after the task has exited, which a pid could not. Limits, said plainly: the kernel
// rate-limits these records (printk_ratelimit), an audit daemon takes them away from
// /dev/kmsg, and a container sharing the host's user namespace cannot be told apart, so
// brick does not watch then. The watch starts before the container and reads from that point.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {

// Whether the profile makes the kernel log anything: an SCMP_ACT_LOG action or the LOG flag.
bool SeccompProfileLogs(const oci::Seccomp& seccomp);

class SeccompLogWatch {
 public:
  static Result<std::unique_ptr<SeccompLogWatch>> Start(std::string container_id,
                                                        uint32_t uid_first, uint32_t uid_count,
                                                        std::string events_log);
  ~SeccompLogWatch();
  SeccompLogWatch(const SeccompLogWatch&) = delete;
  SeccompLogWatch& operator=(const SeccompLogWatch&) = delete;
  // Events appended so far (for tests and the final message).
  int events() const { return events_; }

 private:
  SeccompLogWatch() = default;
  void Run();
  bool ReadOne(bool* progressed);

  std::string id_;
  uint32_t uid_first_ = 0;
  uint32_t uid_count_ = 0;
  std::string events_log_;
  UniqueFd kmsg_;
  UniqueFd stop_;  // eventfd
  std::thread thread_;
  int events_ = 0;
};

// The same for a detached container (brick create), which no brick process stays with:
// a watcher process of its own, in a new session with stdio on /dev/null and no other fd
// of brick's, records until the init (`init_pidfd`) exits. Returns once the watcher reads
// /dev/kmsg, so nothing the container logs after `start` is missed.
Status SpawnDetachedLogWatch(const std::string& container_id, uint32_t uid_first,
                             uint32_t uid_count, const std::string& events_log, int init_pidfd);

}  // namespace brick::runtime
