#include "brick/seccomp/child_process_for_test.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "brick/base/strings.h"
#include "brick/sys/unique_fd.h"

namespace brick::seccomp {

bool ChildResult::Exited(int code) const {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code;
}

bool ChildResult::KilledBy(int signal) const {
  return WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == signal;
}

std::string ChildResult::Describe() const {
  std::string how;
  if (WIFEXITED(wait_status)) {
    how = fmt::format("exited {}", WEXITSTATUS(wait_status));
  } else if (WIFSIGNALED(wait_status)) {
    how = fmt::format("killed by signal {} ({})", WTERMSIG(wait_status),
                      strsignal(WTERMSIG(wait_status)));
  } else {
    how = fmt::format("wait status 0x{:x}", wait_status);
  }
  return fmt::format("child {}; report:\n{}", how, report);
}

std::map<std::string, std::string> ChildResult::Lines() const {
  std::map<std::string, std::string> out;
  for (const std::string& line : Split(report, '\n')) {
    if (line.empty()) {
      continue;
    }
    size_t space = line.find(' ');
    if (space == std::string::npos) {
      out[line] = "";
    } else {
      out[line.substr(0, space)] = line.substr(space + 1);
    }
  }
  return out;
}

void ReportLine(int fd, std::string_view line) {
  std::string text = std::string(line) + "\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      _exit(120);
    }
    done += static_cast<size_t>(n);
  }
}

void SetNoNewPrivsOrDie() {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    _exit(121);
  }
}

ChildResult RunInChild(const std::function<void(int report_fd)>& body) {
  ChildResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    result.wait_status = -1;
    result.report = fmt::format("pipe2: {}", strerror(errno));
    return result;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = fork();
  if (pid < 0) {
    result.wait_status = -1;
    result.report = fmt::format("fork: {}", strerror(errno));
    return result;
  }
  if (pid == 0) {
    read_end.reset();
    // SIGSYS and the other fatal signals the tests provoke would otherwise leave core files.
    rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    body(write_end.get());
    _exit(0);
  }
  write_end.reset();
  char buf[4096];
  for (;;) {
    ssize_t n = read(read_end.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    result.report.append(buf, static_cast<size_t>(n));
  }
  while (waitpid(pid, &result.wait_status, 0) < 0) {
    if (errno != EINTR) {
      result.wait_status = -1;
      break;
    }
  }
  return result;
}

}  // namespace brick::seccomp
