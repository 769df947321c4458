// The harness itself: if it could hang or lose output, every container test would be
// unreliable.
#include "harness.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace brick::integration {
namespace {

using ::testing::HasSubstr;

TEST(HarnessTest, CapturesStdoutStderrAndExitCode) {
  RunResult r = RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.ExitCode(), 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.timed_out);
}

TEST(HarnessTest, FeedsStdin) {
  RunOptions options;
  options.stdin_data = std::string(200000, 'x');  // more than a pipe buffer
  RunResult r = RunCommand({"/bin/cat"}, options);
  EXPECT_EQ(r.ExitCode(), 0);
  EXPECT_EQ(r.out.size(), 200000u);
}

TEST(HarnessTest, ReportsDeathBySignal) {
  RunResult r = RunCommand({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.TermSignal(), SIGTERM);
  EXPECT_EQ(r.ExitCode(), -1);
}

TEST(HarnessTest, KillsAHungProcessAtTheDeadline) {
  RunOptions options;
  options.timeout = std::chrono::seconds(1);
  RunResult r = RunCommand({"/bin/sleep", "60"}, options);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.TermSignal(), SIGKILL);
}

TEST(HarnessTest, KillsTheWholeProcessGroupAtTheDeadline) {
  RunOptions options;
  options.timeout = std::chrono::seconds(1);
  // The background sleep keeps stdout open; it must die with the group.
  RunResult r = RunCommand({"/bin/sh", "-c", "sleep 60 & wait"}, options);
  EXPECT_TRUE(r.timed_out);
}

TEST(HarnessTest, PtyIsStdinAndControllingTerminal) {
  RunOptions options;
  options.stdin_pty = true;
  RunResult r = RunCommand(
      {"/bin/sh", "-c", "[ -t 0 ] && echo tty; [ -t 1 ] || echo pipe; (: </dev/tty) && echo ctty"},
      options);
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "tty\npipe\nctty\n");
}

TEST(HarnessTest, PassesFdsAsThreeAndUp) {
  int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  RunOptions options;
  options.pass_fds = {b, a};
  RunResult r =
      RunCommand({"/bin/sh", "-c", "readlink /proc/self/fd/3; readlink /proc/self/fd/4"}, options);
  close(a);
  close(b);
  EXPECT_EQ(r.out, "/etc/hostname\n/dev/null\n") << r.Describe();
}

TEST(HarnessTest, StartedProcessCanBeReadIncrementallyAndSignalled) {
  RunOptions options;
  options.keep_stdin_open = true;
  Process p = Process::Start({"/bin/sh", "-c", "echo ready; read line; echo got $line"}, options);
  ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
  ASSERT_TRUE(p.WriteStdin("hello\n"));
  p.CloseStdin();
  RunResult r = p.Wait();
  EXPECT_EQ(r.ExitCode(), 0);
  EXPECT_EQ(r.out, "ready\ngot hello\n");

  Process q = Process::Start({"/bin/sh", "-c", "echo ready; exec sleep 60"});
  ASSERT_TRUE(q.ReadStdoutUntil("ready"));
  q.Signal(SIGTERM);
  EXPECT_EQ(q.Wait().TermSignal(), SIGTERM);
}

TEST(HarnessTest, MissingBinaryFailsClearly) {
  RunResult r = RunCommand({"/brick-it/no/such/binary"});
  EXPECT_EQ(r.ExitCode(), 127);
  EXPECT_THAT(r.err, HasSubstr("/brick-it/no/such/binary"));
}

}  // namespace
}  // namespace brick::integration
