#include "brick/runtime/foreground.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT,  SIGTERM, SIGUSR1,
                              SIGUSR2, SIGALRM, SIGWINCH, SIGCONT};

bool DefaultActionTerminates(int sig) {
  switch (sig) {
    case SIGHUP:
    case SIGINT:
    case SIGQUIT:
    case SIGTERM:
    case SIGUSR1:
    case SIGUSR2:
    case SIGALRM:
    case SIGPIPE:
      return true;
    default:
      return false;
  }
}

int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

void CopyWindowSize(int from, int to) {
  struct winsize ws;
  if (ioctl(from, TIOCGWINSZ, &ws) == 0) {
    (void)ioctl(to, TIOCSWINSZ, &ws);  // best effort: a resize is cosmetic
  }
}

// Moves what is readable on `from` to `to`. False on EOF or a hang-up.
bool Pump(int from, int to) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) {
    return n < 0 && (errno == EAGAIN || errno == EINTR);
  }
  return WriteAll(to, std::string_view(buf, static_cast<size_t>(n))).has_value();
}

}  // namespace

Result<SignalForwarder> SignalForwarder::Create() {
  sigset_t set, old;
  sigemptyset(&set);
  for (int s : kForwarded) {
    sigaddset(&set, s);
  }
  if (sigprocmask(SIG_BLOCK, &set, &old) != 0) {
    return ErrnoFail(errno, "block forwarded signals");
  }
  UniqueFd fd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) {
    int e = errno;
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return ErrnoFail(e, "create signalfd");
  }
  return SignalForwarder(std::move(fd), old);
}

SignalForwarder::~SignalForwarder() {
  if (fd_) {
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
}

Status RawTerminal::Enter(int fd) {
  if (!isatty(fd)) {
    return Ok();
  }
  if (tcgetattr(fd, &saved_) != 0) {
    return ErrnoFail(errno, "read terminal settings");
  }
  struct termios raw = saved_;
  cfmakeraw(&raw);
  if (tcsetattr(fd, TCSANOW, &raw) != 0) {
    return ErrnoFail(errno, "set raw terminal mode");
  }
  fd_ = fd;
  return Ok();
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) {
    tcsetattr(fd_, TCSANOW, &saved_);
  }
}

bool ProcessCatchesSignal(pid_t pid, int sig) {
  auto status = ReadFile(fmt::format("/proc/{}/status", pid));
  if (!status) {
    return false;
  }
  auto pos = status->find("SigCgt:\t");
  if (pos == std::string::npos) {
    return false;
  }
  unsigned long long mask = std::stoull(status->substr(pos + 8, 16), nullptr, 16);
  return (mask >> (sig - 1)) & 1;
}

Result<WaitResult> WaitForeground(pid_t pid, int pidfd, const SignalForwarder& signals,
                                  int pty_master, bool pid_namespace_init) {
  int reported_signal = 0;
  bool stdin_open = pty_master >= 0;
  if (pty_master >= 0) {
    CopyWindowSize(STDIN_FILENO, pty_master);
  }
  while (true) {
    struct pollfd fds[4];
    int n = 0;
    fds[n++] = {pidfd, POLLIN, 0};
    fds[n++] = {signals.fd(), POLLIN, 0};
    int master_idx = -1, stdin_idx = -1;
    if (pty_master >= 0) {
      master_idx = n;
      fds[n++] = {pty_master, POLLIN, 0};
      if (stdin_open) {
        stdin_idx = n;
        fds[n++] = {STDIN_FILENO, POLLIN, 0};
      }
    }
    if (poll(fds, static_cast<nfds_t>(n), -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoFail(errno, "wait for the container");
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (read(signals.fd(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGWINCH) {
          if (pty_master >= 0) {
            CopyWindowSize(STDIN_FILENO, pty_master);
          }
          continue;
        }
        if (pid_namespace_init && DefaultActionTerminates(sig) && !ProcessCatchesSignal(pid, sig)) {
          reported_signal = sig;
          sig = SIGKILL;
        }
        if (PidfdSendSignal(pidfd, sig) != 0 && errno != ESRCH) {
          return ErrnoFail(errno, "forward signal {} to the container", sig);
        }
      }
    }
    if (stdin_idx >= 0 && (fds[stdin_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (!Pump(STDIN_FILENO, pty_master)) {
        stdin_open = false;
        // Tell the program at the other end of the pty that input ended.
        char eot = 4;
        (void)write(pty_master, &eot, 1);
      }
    }
    if (master_idx >= 0 && (fds[master_idx].revents & POLLIN)) {
      Pump(pty_master, STDOUT_FILENO);
    }
    if (fds[0].revents & POLLIN) {
      break;
    }
  }
  if (pty_master >= 0) {
    // Drain what the container wrote before it exited.
    int flags = fcntl(pty_master, F_GETFL);
    fcntl(pty_master, F_SETFL, flags | O_NONBLOCK);
    while (Pump(pty_master, STDOUT_FILENO)) {
      struct pollfd p = {pty_master, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) {
        break;
      }
    }
  }
  siginfo_t info = {};
  if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0) {
    return ErrnoFail(errno, "reap the container's init");
  }
  WaitResult r;
  if (info.si_code == CLD_EXITED) {
    r.exit_status = info.si_status;
    return r;
  }
  r.signaled = true;
  r.signal = (info.si_status == SIGKILL && reported_signal != 0) ? reported_signal : info.si_status;
  r.exit_status = 128 + r.signal;
  return r;
}

}  // namespace brick::runtime
