#include "brick/seccomp/syscall_arg_counts.h"

#include <dirent.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "brick/seccomp/child_process_for_test.h"

namespace brick::seccomp {
namespace {

TEST(SyscallArgCountsTest, TableIsSortedWithoutDuplicates) {
  auto table = X86_64SyscallArgCounts();
  ASSERT_GT(table.size(), 300u);
  for (size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].name, table[i].name) << "row " << i;
  }
  for (const SyscallArgCount& row : table) {
    EXPECT_GE(row.args, 0) << row.name;
    EXPECT_LE(row.args, 6) << row.name;
    EXPECT_EQ(X86_64SyscallArgCount(row.name), row.args) << row.name;
  }
}

TEST(SyscallArgCountsTest, KnownCounts) {
  EXPECT_EQ(X86_64SyscallArgCount("getpid"), 0);
  EXPECT_EQ(X86_64SyscallArgCount("personality"), 1);
  EXPECT_EQ(X86_64SyscallArgCount("read"), 3);
  EXPECT_EQ(X86_64SyscallArgCount("socket"), 3);
  EXPECT_EQ(X86_64SyscallArgCount("fallocate"), 4);
  EXPECT_EQ(X86_64SyscallArgCount("clone"), 5);
  EXPECT_EQ(X86_64SyscallArgCount("mmap"), 6);
  // Renamed from the kernel's newstat, newuname, sendfile64 and umount tracepoints.
  EXPECT_EQ(X86_64SyscallArgCount("stat"), 2);
  EXPECT_EQ(X86_64SyscallArgCount("uname"), 1);
  EXPECT_EQ(X86_64SyscallArgCount("sendfile"), 4);
  EXPECT_EQ(X86_64SyscallArgCount("umount2"), 2);
  EXPECT_EQ(X86_64SyscallArgCount("newuname"), std::nullopt);
  EXPECT_EQ(X86_64SyscallArgCount("socketcall"), std::nullopt);  // x86 only
  EXPECT_EQ(X86_64SyscallArgCount("fooo"), std::nullopt);
}

// The comment in syscall_arg_counts.cc lists the syscalls the table lacks; libseccomp's x86_64
// table must have no other gap, so that a forgotten rename cannot hide a syscall.
TEST(SyscallArgCountsTest, EveryLibseccompX86_64SyscallIsInTheTableOrListedAsMissing) {
  const std::set<std::string> missing = {
      "uselib",          "_sysctl",         "create_module",   "get_kernel_syms", "query_module",
      "nfsservctl",      "getpmsg",         "putpmsg",         "afs_syscall",     "tuxcall",
      "security",        "vserver",         "epoll_ctl_old",   "epoll_wait_old",  "set_thread_area",
      "get_thread_area", "lookup_dcookie",  "init_module",     "finit_module",    "delete_module",
      "kexec_load",      "kexec_file_load", "map_shadow_stack"};
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name == nullptr) {
      continue;
    }
    std::string n(name);
    free(name);
    bool in_table = X86_64SyscallArgCount(n).has_value();
    EXPECT_NE(in_table, missing.contains(n)) << n
                                             << (in_table ? " is in the table and listed as "
                                                            "missing"
                                                          : " is neither in the table nor "
                                                            "listed as missing");
  }
}

// Reads the counts again from the running kernel's syscall tracepoints, the way
// scripts/gen-syscall-arg-counts.sh does, in a child with its own mount namespace (the host's
// mounts are untouched), and compares every syscall both know: an argument count is ABI and
// never changes, so any difference is an error in the table.
TEST(SyscallArgCountsTest, AgreesWithTheRunningKernelsTracepoints) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "mounting tracefs in a private mount namespace needs root";
  }
  ChildResult r = RunInChild([](int fd) {
    if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr)) {
      ReportLine(fd, "setup failed");
      return;
    }
    if (mount("none", "/sys/kernel/tracing", "tracefs", 0, nullptr) != 0) {
      ReportLine(fd, fmt::format("notracefs {}", errno));
      return;
    }
    DIR* dir = opendir("/sys/kernel/tracing/events/syscalls");
    if (dir == nullptr) {
      ReportLine(fd, "noevents");
      return;
    }
    while (dirent* e = readdir(dir)) {
      std::string event = e->d_name;
      if (!event.starts_with("sys_enter_")) {
        continue;
      }
      std::ifstream in("/sys/kernel/tracing/events/syscalls/" + event + "/format");
      int fields = -1;
      for (std::string line; std::getline(in, line);) {
        if (line.find("__syscall_nr") != std::string::npos) {
          fields = 0;
        } else if (fields >= 0 && line.find("field:") != std::string::npos) {
          ++fields;
        }
      }
      ReportLine(fd, fmt::format("{} {}", event.substr(10), fields));
    }
    closedir(dir);
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  if (lines.contains("notracefs") && lines["notracefs"] == std::to_string(ENODEV)) {
    GTEST_SKIP() << "the kernel has no tracefs (CONFIG_TRACING off)";
  }
  if (lines.contains("noevents")) {
    GTEST_SKIP() << "the kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS off)";
  }
  ASSERT_FALSE(lines.contains("setup") || lines.contains("notracefs")) << r.Describe();
  const std::map<std::string, std::string> renamed = {
      {"newstat", "stat"},   {"newfstat", "fstat"},      {"newlstat", "lstat"},
      {"newuname", "uname"}, {"sendfile64", "sendfile"}, {"umount", "umount2"}};
  size_t compared = 0;
  for (const auto& [event, count] : lines) {
    auto it = renamed.find(event);
    std::string name = it == renamed.end() ? event : it->second;
    std::optional<int> want = X86_64SyscallArgCount(name);
    if (!want) {
      continue;  // newer than the table
    }
    EXPECT_EQ(count, std::to_string(*want)) << name;
    ++compared;
  }
  EXPECT_GT(compared, 300u);
}

}  // namespace
}  // namespace brick::seccomp
