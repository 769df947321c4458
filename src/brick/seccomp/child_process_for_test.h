// Test helper: runs code that changes process state (seccomp, no_new_privs) in a forked child
// and brings back what it reported and how it ended.
//
//   ChildResult r = RunInChild([](int report_fd) {
//     SetNoNewPrivsOrDie();
//     ReportLine(report_fd, fmt::format("pid {}", getpid()));
//   });
//   EXPECT_TRUE(r.Exited(0)) << r.Describe();
//   EXPECT_EQ(r.report, "pid ...\n");
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace brick::seccomp {

struct ChildResult {
  int wait_status = 0;
  std::string report;  // everything the child wrote to report_fd

  bool Exited(int code) const;
  bool KilledBy(int signal) const;
  // "exited 3" / "killed by signal 31 (Bad system call)", plus the report.
  std::string Describe() const;
  // The report parsed as "key value" lines.
  std::map<std::string, std::string> Lines() const;
};

// Forks; the child runs body(report_fd) with core dumps off, then _exit(0). The parent reads
// the report to end of file and reaps the child.
ChildResult RunInChild(const std::function<void(int report_fd)>& body);

// Writes line + '\n' to fd, retrying short writes; _exit(120) if that fails.
void ReportLine(int fd, std::string_view line);

// prctl(PR_SET_NO_NEW_PRIVS); _exit(121) if that fails.
void SetNoNewPrivsOrDie();

}  // namespace brick::seccomp
