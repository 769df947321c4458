// The parent ↔ container-init channel: one SOCK_SEQPACKET pair, one message per record.
//
//   auto [parent, child] = BRICK_TRY_VALUE(SyncSocket::Pair());
//   child.Send(SyncMessage::kError, "mount /proc: permission denied");   // in the child
//   auto msg = parent.Receive();          // kEof once the child exec'd (CLOEXEC closed it)
//
// The child's end is close-on-exec, so a successful execve is seen by the parent as
// end-of-file: no message is needed after the last step.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {

enum class SyncMessage : char {
  kGo = 'G',         // parent → child: id maps written
  kPlaced = 'P',     // parent → child: the child is in its cgroup
  kError = 'E',      // child → parent: setup failed; payload is the message
  kConsole = 'C',    // child → parent: the pty master travels as SCM_RIGHTS
  kReady = 'R',      // child → parent: set up, blocked before exec (create/start)
  kDetach = 'D',     // parent → child: brick create is about to exit; outlive it
  kDetached = 'd',   // child → parent: parent-death signal cleared
  kHooks = 'H',      // child → parent: mounts done, before pivot_root: run prestart/createRuntime
  kHooksDone = 'h',  // parent → child: they ran; payload is the state JSON for the init's hooks
  kSeccompListener = 'S',  // child → parent: "N M", seccomp listener fd N is about to
                           // exist; M is the release page (seccomp_handoff.h)
  kEof = 0,                // the other end closed (for the child's end: exec succeeded)
};

struct Received {
  SyncMessage type = SyncMessage::kEof;
  std::string payload;
  UniqueFd fd;
};

// Payloads longer than this are cut (error texts) or refused by the caller (state JSON).
inline constexpr size_t kMaxSyncPayload = 65535;

class SyncSocket {
 public:
  static Result<std::pair<SyncSocket, SyncSocket>> Pair();
  explicit SyncSocket(UniqueFd fd) : fd_(std::move(fd)) {}

  Status Send(SyncMessage type, std::string_view payload = {}, int pass_fd = -1) const;
  Result<Received> Receive() const;
  // Like Receive, but returns nullopt at once when no message is waiting.
  Result<std::optional<Received>> TryReceive() const;
  int fd() const { return fd_.get(); }
  void Close() { fd_.reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace brick::runtime
