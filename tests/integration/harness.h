// Runs a command the way the integration tests need: stdout and stderr captured, stdin from
// a string or a new pty, extra fds passed through, and a hard deadline after which the whole
// process group is killed, so that a hung brick fails one test instead of hanging CI.
//
//   RunResult r = RunCommand({kBrick, "run", "--", "sh", "-c", "exit 7"});
//   EXPECT_EQ(r.ExitCode(), 7) << r.Describe();
//
//   Process p = Process::Start({kBrick, "run", "--", "sh", "-c", "echo ready; exec sleep 60"});
//   ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
//   p.Signal(SIGTERM);
//   RunResult r = p.Wait();
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace brick::integration {

struct RunOptions {
  // Written to the process's stdin, which is then closed. Ignored with keep_stdin_open.
  std::string stdin_data;
  // Leave stdin open (a pipe) for WriteStdin / CloseStdin.
  bool keep_stdin_open = false;
  // stdin is the slave of a new pty that also becomes the process's controlling terminal
  // (the process starts a new session). stdout and stderr stay pipes.
  bool stdin_pty = false;
  // Each fd is dup'ed, without FD_CLOEXEC, to 3, 4, ... in the child.
  std::vector<int> pass_fds;
  // Leave the caller's other fds without FD_CLOEXEC alone (they are inherited as a real
  // caller's would be). The harness's own fds are always close-on-exec.
  std::chrono::seconds timeout{30};
  // How long to keep reading stdout/stderr once the process has exited: a process it left
  // behind (a detached container's init) may hold the pipes open.
  std::chrono::milliseconds drain_after_exit{5000};
};

struct RunResult {
  std::string out;
  std::string err;
  std::string tty_out;  // what the process wrote to the pty, with stdin_pty
  int wait_status = 0;
  bool timed_out = false;
  bool start_failed = false;

  bool Exited() const;
  // The exit code, or -1 when the process did not exit normally.
  int ExitCode() const;
  // The signal that killed it, or 0.
  int TermSignal() const;
  // Everything a failed assertion should show.
  std::string Describe() const;
};

class Process {
 public:
  static Process Start(const std::vector<std::string>& argv, const RunOptions& options = {});

  Process(Process&& other) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // Reads stdout (and drains stderr and the pty) until stdout contains needle; false when
  // the process ends or the deadline passes first.
  bool ReadStdoutUntil(std::string_view needle);
  // The stdout read so far.
  const std::string& out() const { return result_.out; }

  bool WriteStdin(std::string_view data);
  void CloseStdin();
  void Signal(int sig);

  // Waits for exit (killing the process group at the deadline) and returns everything.
  RunResult Wait();

  std::string Describe() const;

 private:
  Process() = default;
  // Polls the pipes until pred() holds, the process exits or the deadline passes.
  // Returns true when pred() held.
  template <typename Pred>
  bool PumpUntil(Pred pred);
  bool PumpOnce(int timeout_ms);
  void KillGroup();
  void CloseAll();

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  int pty_master_ = -1;
  bool exited_ = false;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds drain_after_exit_{5000};
  RunResult result_;
};

// Starts, feeds stdin, waits; never blocks longer than options.timeout.
RunResult RunCommand(const std::vector<std::string>& argv, const RunOptions& options = {});

// Trims trailing newlines and carriage returns.
std::string TrimEnd(std::string s);

}  // namespace brick::integration
