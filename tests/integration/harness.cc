#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

namespace brick::integration {
namespace {

using Clock = std::chrono::steady_clock;

// After the process exits, anything still holding its stdout open outlived it; do not wait
// the whole deadline for that.

void CloseFd(int& fd) {
  if (fd >= 0) {
    close(fd);
    fd = -1;
  }
}

std::string Clip(const std::string& s) {
  constexpr size_t kMax = 6000;
  if (s.size() <= kMax) {
    return s;
  }
  return s.substr(0, kMax / 2) + "\n[... " + std::to_string(s.size() - kMax) +
         " bytes elided ...]\n" + s.substr(s.size() - kMax / 2);
}

// Writes a message to fd 2 from a forked child, where only async-signal-safe calls are used.
void ChildFail(const char* what) {
  int err = errno;
  const char* prefix = "harness: ";
  (void)!write(2, prefix, strlen(prefix));
  (void)!write(2, what, strlen(what));
  const char* text = strerror(err);
  (void)!write(2, ": ", 2);
  (void)!write(2, text, strlen(text));
  (void)!write(2, "\n", 1);
  _exit(127);
}

}  // namespace

bool RunResult::Exited() const { return !start_failed && WIFEXITED(wait_status); }

int RunResult::ExitCode() const { return Exited() ? WEXITSTATUS(wait_status) : -1; }

int RunResult::TermSignal() const {
  return !start_failed && WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
}

std::string RunResult::Describe() const {
  std::string d;
  if (start_failed) {
    d = "could not start";
  } else if (timed_out) {
    d = "TIMED OUT and was killed";
  } else if (Exited()) {
    d = "exited " + std::to_string(ExitCode());
  } else if (TermSignal() != 0) {
    d = "killed by signal " + std::to_string(TermSignal());
  } else {
    d = "wait status " + std::to_string(wait_status);
  }
  d += "\n--- stdout ---\n" + Clip(out) + "\n--- stderr ---\n" + Clip(err);
  if (!tty_out.empty()) {
    d += "\n--- tty ---\n" + Clip(tty_out);
  }
  return d;
}

Process Process::Start(const std::vector<std::string>& argv, const RunOptions& options) {
  Process p;
  p.argv_ = argv;
  p.deadline_ = Clock::now() + options.timeout;
  p.drain_after_exit_ = options.drain_after_exit;
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  int in_pipe[2] = {-1, -1};
  std::string slave_name;
  bool ok = pipe2(out_pipe, O_CLOEXEC) == 0 && pipe2(err_pipe, O_CLOEXEC) == 0;
  if (ok && options.stdin_pty) {
    p.pty_master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    ok = p.pty_master_ >= 0 && grantpt(p.pty_master_) == 0 && unlockpt(p.pty_master_) == 0 &&
         ptsname_r(p.pty_master_, name, sizeof(name)) == 0;
    if (ok) {
      slave_name = name;
    }
  } else if (ok) {
    ok = pipe2(in_pipe, O_CLOEXEC) == 0;
  }
  if (!ok) {
    p.result_.start_failed = true;
    p.result_.err = std::string("harness: cannot create pipes: ") + strerror(errno);
    for (int* fd :
         {&out_pipe[0], &out_pipe[1], &err_pipe[0], &err_pipe[1], &in_pipe[0], &in_pipe[1]}) {
      CloseFd(*fd);
    }
    return p;
  }

  std::vector<char*> cargv;
  for (const std::string& a : argv) {
    cargv.push_back(const_cast<char*>(a.c_str()));
  }
  cargv.push_back(nullptr);

  // Writing stdin to a process that already exited must fail with EPIPE, not kill the test.
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // An ignored disposition survives exec; the command must see the ordinary default.
    signal(SIGPIPE, SIG_DFL);
    if (options.stdin_pty) {
      if (setsid() < 0) {
        ChildFail("setsid");
      }
      int slave = open(slave_name.c_str(), O_RDWR);
      if (slave < 0) {
        ChildFail("open pty slave");
      }
      if (ioctl(slave, TIOCSCTTY, 0) != 0) {
        ChildFail("TIOCSCTTY");
      }
      if (dup2(slave, 0) < 0) {
        ChildFail("dup2 pty");
      }
      if (slave != 0) {
        close(slave);
      }
    } else {
      if (setpgid(0, 0) != 0) {
        ChildFail("setpgid");
      }
      if (dup2(in_pipe[0], 0) < 0) {
        ChildFail("dup2 stdin");
      }
    }
    if (dup2(out_pipe[1], 1) < 0 || dup2(err_pipe[1], 2) < 0) {
      ChildFail("dup2 stdout/stderr");
    }
    // Move the fds to pass out of the way first so that placing one at 3 cannot clobber
    // another that is still waiting to be placed.
    std::vector<int> parked;
    for (int fd : options.pass_fds) {
      int moved = fcntl(fd, F_DUPFD_CLOEXEC, 100);
      if (moved < 0) {
        ChildFail("park fd to pass");
      }
      parked.push_back(moved);
    }
    for (size_t i = 0; i < parked.size(); ++i) {
      if (dup2(parked[i], 3 + static_cast<int>(i)) < 0) {
        ChildFail("dup2 fd to pass");
      }
    }
    execv(cargv[0], cargv.data());
    ChildFail(cargv[0]);
  }
  int fork_errno = errno;
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  CloseFd(in_pipe[0]);
  p.stdout_fd_ = out_pipe[0];
  p.stderr_fd_ = err_pipe[0];
  p.stdin_fd_ = in_pipe[1];
  if (pid < 0) {
    p.result_.start_failed = true;
    p.result_.err = std::string("harness: fork: ") + strerror(fork_errno);
    p.CloseAll();
    return p;
  }
  p.pid_ = pid;
  p.pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  for (int fd : {p.stdout_fd_, p.stderr_fd_, p.stdin_fd_, p.pty_master_}) {
    if (fd >= 0) {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
  }
  if (options.stdin_pty) {
    if (!options.stdin_data.empty()) {
      p.WriteStdin(options.stdin_data);
    }
  } else if (!options.keep_stdin_open) {
    if (!options.stdin_data.empty()) {
      p.WriteStdin(options.stdin_data);
    }
    p.CloseStdin();
  }
  return p;
}

Process::Process(Process&& other) noexcept
    : argv_(std::move(other.argv_)),
      pid_(std::exchange(other.pid_, -1)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      stdin_fd_(std::exchange(other.stdin_fd_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      stderr_fd_(std::exchange(other.stderr_fd_, -1)),
      pty_master_(std::exchange(other.pty_master_, -1)),
      exited_(other.exited_),
      deadline_(other.deadline_),
      result_(std::move(other.result_)) {}

Process::~Process() {
  if (pid_ > 0) {
    KillGroup();
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  CloseAll();
}

void Process::CloseAll() {
  CloseFd(stdin_fd_);
  CloseFd(stdout_fd_);
  CloseFd(stderr_fd_);
  CloseFd(pty_master_);
  CloseFd(pidfd_);
}

void Process::KillGroup() {
  if (pid_ > 0) {
    // The child leads its own process group (or session); kill the whole group so that
    // nothing it started survives the test.
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
  }
}

bool Process::WriteStdin(std::string_view data) {
  int fd = pty_master_ >= 0 ? pty_master_ : stdin_fd_;
  if (fd < 0) {
    return false;
  }
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EAGAIN) {
      pollfd pfd = {fd, POLLOUT, 0};
      // Keep draining output so that a child blocked on a full stdout cannot deadlock us.
      if (!PumpOnce(0) && Clock::now() > deadline_) {
        return false;
      }
      poll(&pfd, 1, 50);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void Process::CloseStdin() { CloseFd(stdin_fd_); }

void Process::Signal(int sig) {
  if (pid_ > 0 && !exited_) {
    kill(pid_, sig);
  }
}

// One round of poll; returns false when there was nothing left to wait for.
bool Process::PumpOnce(int timeout_ms) {
  std::vector<pollfd> fds;
  auto add = [&](int fd, short events) {
    if (fd >= 0) {
      fds.push_back({fd, events, 0});
    }
  };
  add(stdout_fd_, POLLIN);
  add(stderr_fd_, POLLIN);
  add(pty_master_, POLLIN);
  if (!exited_) {
    add(pidfd_, POLLIN);
  }
  if (fds.empty()) {
    return false;
  }
  int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n <= 0) {
    return n == 0 || errno == EINTR;
  }
  for (const pollfd& pfd : fds) {
    if (pfd.revents == 0) {
      continue;
    }
    if (pfd.fd == pidfd_) {
      exited_ = true;
      continue;
    }
    std::string* sink = pfd.fd == stdout_fd_   ? &result_.out
                        : pfd.fd == stderr_fd_ ? &result_.err
                                               : &result_.tty_out;
    char buf[16384];
    ssize_t got = read(pfd.fd, buf, sizeof(buf));
    if (got > 0) {
      sink->append(buf, static_cast<size_t>(got));
    } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
      // EOF, or EIO from a pty master whose slave is closed everywhere.
      if (pfd.fd == stdout_fd_) {
        CloseFd(stdout_fd_);
      } else if (pfd.fd == stderr_fd_) {
        CloseFd(stderr_fd_);
      } else {
        CloseFd(pty_master_);
      }
    }
  }
  return true;
}

template <typename Pred>
bool Process::PumpUntil(Pred pred) {
  std::optional<Clock::time_point> exited_at;
  while (!pred()) {
    if (exited_ && !exited_at) {
      exited_at = Clock::now();
    }
    auto now = Clock::now();
    auto limit = deadline_;
    if (exited_at && *exited_at + drain_after_exit_ < limit) {
      limit = *exited_at + drain_after_exit_;
    }
    if (now >= limit) {
      return false;
    }
    // The pidfd makes poll return when the process exits; only pipes that outlive it are
    // bounded by the drain time.
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(limit - now).count();
    if (!PumpOnce(static_cast<int>(std::min<int64_t>(wait, 1000)) + 1)) {
      return pred();
    }
  }
  return true;
}

bool Process::ReadStdoutUntil(std::string_view needle) {
  if (pid_ <= 0) {
    return false;
  }
  return PumpUntil([&] {
           return result_.out.find(needle) != std::string::npos ||
                  (exited_ && stdout_fd_ < 0 && stderr_fd_ < 0);
         }) &&
         result_.out.find(needle) != std::string::npos;
}

RunResult Process::Wait() {
  if (pid_ <= 0) {
    return result_;
  }
  bool done = PumpUntil([&] { return exited_ && stdout_fd_ < 0 && stderr_fd_ < 0; });
  if (!exited_) {
    result_.timed_out = true;
    KillGroup();
  } else if (!done) {
    result_.err += "\n[harness: stdout/stderr still open " +
                   std::to_string(drain_after_exit_.count() / 1000) +
                   " s after the process exited: something it started outlived it]\n";
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  result_.wait_status = status;
  pid_ = -1;
  exited_ = true;
  CloseAll();
  return result_;
}

std::string Process::Describe() const {
  std::string cmd;
  for (const std::string& a : argv_) {
    cmd += (cmd.empty() ? "" : " ") + a;
  }
  return "command: " + cmd + "\n--- stdout so far ---\n" + Clip(result_.out) +
         "\n--- stderr so far ---\n" + Clip(result_.err);
}

RunResult RunCommand(const std::vector<std::string>& argv, const RunOptions& options) {
  Process p = Process::Start(argv, options);
  return p.Wait();
}

std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

}  // namespace brick::integration
