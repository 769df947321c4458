// The parent's side of a foreground container: forwarding signals, proxying a pty,
// and waiting for the init through its pidfd.
//
//   ForegroundWaiter waiter(pidfd, /*pid_namespace_init=*/true);   // signals blocked here
//   ... clone the child ...
//   int status = BRICK_TRY_VALUE(waiter.Wait(master_fd));           // 0..255, 128+N
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <termios.h>

#include <optional>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {

// Blocks the signals brick forwards, for the lifetime of the object, and reads them
// from a signalfd. Created before the clone so that no signal is lost in between;
// the child unblocks them itself.
class SignalForwarder {
 public:
  static Result<SignalForwarder> Create();
  SignalForwarder(SignalForwarder&&) = default;
  ~SignalForwarder();
  int fd() const { return fd_.get(); }

 private:
  SignalForwarder(UniqueFd fd, sigset_t old) : fd_(std::move(fd)), old_(old) {}
  UniqueFd fd_;
  sigset_t old_;
  bool restore_ = true;
};

// Puts the caller's terminal in raw mode while a pty is proxied; restores it after.
class RawTerminal {
 public:
  RawTerminal() = default;
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;
  ~RawTerminal();
  Status Enter(int fd);

 private:
  int fd_ = -1;
  struct termios saved_ = {};
};

struct WaitResult {
  int exit_status = 0;  // what brick exits with
  bool signaled = false;
  int signal = 0;  // the signal that ended the process (as reported)
};

// Waits for the container's init. Signals from `signals` are forwarded to it: when the
// init is a pid-namespace init that has no handler for a signal whose default action
// is to terminate, the kernel would ignore it, so brick sends SIGKILL instead and
// reports the original signal in the exit status, as if the process had not been pid 1.
// With a pty master, stdin is copied to it and its output to stdout.
Result<WaitResult> WaitForeground(pid_t pid, int pidfd, const SignalForwarder& signals,
                                  int pty_master, bool pid_namespace_init);

// True when /proc/<pid>/status says the process catches `sig`.
bool ProcessCatchesSignal(pid_t pid, int sig);

}  // namespace brick::runtime
