// Test helper: runs a body that changes process state in a forked child and hands
// its report (a string) back to the test.
//
//   std::string caps = RunInForkedChildForTest([] { DropAll(); return ReadStatus(); });
//   EXPECT_EQ(caps, "CapEff: 0");
#pragma once

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

namespace brick::isolation {

// The child's report, or "child died: ..." when it did not exit normally. The body
// gets the fd its report will be written to, for tests that write it themselves.
inline std::string RunInForkedChildWithReportFdForTest(
    const std::function<std::string(int report_fd)>& body) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    return "pipe failed";
  }
  pid_t pid = fork();
  if (pid < 0) {
    return "fork failed";
  }
  if (pid == 0) {
    close(p[0]);
    std::string report = body(p[1]);
    const char* data = report.data();
    size_t left = report.size();
    while (left > 0) {
      ssize_t n = write(p[1], data, left);
      if (n <= 0) {
        break;
      }
      data += n;
      left -= static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(p[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
  }
  close(p[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fmt::format("child died: status {:#x}, report \"{}\"", status, out);
  }
  return out;
}

inline std::string RunInForkedChildForTest(const std::function<std::string()>& body) {
  return RunInForkedChildWithReportFdForTest([&](int) { return body(); });
}

}  // namespace brick::isolation
