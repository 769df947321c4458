#include "brick/seccomp/default_profile.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "brick/seccomp/child_process_for_test.h"
#include "brick/seccomp/filter.h"

namespace brick::seccomp {
namespace {

constexpr char kMissingPath[] = "/nonexistent/brick-seccomp-probe";
constexpr char kMissingModule[] = "brick_no_such_module";
const timespec kZeroTime = {0, 0};
// x32 shares the x86_64 entry and marks its calls with bit 30 of the number.
constexpr long kX32Bit = 0x40000000;

// Arguments for each denied syscall that make it fail early or do nothing should the filter
// ever let it through: the test runs as root with every capability.
struct Probe {
  std::string_view name;
  long args[6];
};

long Ptr(const void* p) { return reinterpret_cast<long>(p); }

const Probe kProbes[] = {
    {"kexec_load", {0, 0, 0, -1}},                          // no such flags: EINVAL
    {"kexec_file_load", {-1, -1, 0, 0, -1}},                // no such flags: EINVAL
    {"open_by_handle_at", {-1, 0, 0}},                      // EBADF / EFAULT
    {"init_module", {0, 0, Ptr("")}},                       // empty image: EFAULT / ENOEXEC
    {"finit_module", {-1, Ptr(""), 0}},                     // EBADF
    {"delete_module", {Ptr(kMissingModule), 04000}},        // O_NONBLOCK, no such module: ENOENT
    {"create_module", {}},                                  // ENOSYS
    {"get_kernel_syms", {}},                                // ENOSYS
    {"query_module", {}},                                   // ENOSYS
    {"iopl", {4}},                                          // level > 3: EINVAL
    {"ioperm", {0x10000, 1, 1}},                            // past the port range: EINVAL
    {"swapon", {Ptr(kMissingPath), 0}},                     // ENOENT
    {"swapoff", {Ptr(kMissingPath)}},                       // ENOENT
    {"reboot", {0, 0, 0, 0}},                               // bad magic: EINVAL
    {"acct", {Ptr(kMissingPath)}},                          // ENOENT (NULL would switch it off)
    {"settimeofday", {0, 0}},                               // both NULL: no-op
    {"clock_settime", {CLOCK_MONOTONIC, Ptr(&kZeroTime)}},  // not settable: EINVAL
    {"stime", {}},                                          // 32-bit only
    {"adjtimex", {0}},                                      // EFAULT
    {"clock_adjtime", {CLOCK_REALTIME, 0}},                 // EFAULT
    {"quotactl", {0, 0, 0, 0}},                             // EFAULT / EINVAL
    {"syslog", {10, 0, 0}},                                 // SYSLOG_ACTION_SIZE_BUFFER: read-only
    {"_sysctl", {0}},                                       // ENOSYS / EFAULT
    {"sysfs", {99}},                                        // EINVAL
    {"nfsservctl", {}},                                     // ENOSYS
    {"uselib", {Ptr(kMissingPath)}},                        // ENOENT / ENOSYS
    {"vm86", {}},                                           // 32-bit only
    {"vm86old", {}},                                        // 32-bit only
    {"lookup_dcookie", {0, 0, 0}},                          // ENOSYS / EFAULT
    {"perf_event_open", {0, 0, -1, -1, 0}},                 // EFAULT
    {"bpf", {-1, 0, 0}},                                    // no such command: EINVAL
    {"userfaultfd", {-1}},                                  // no such flags: EINVAL
    {"fanotify_init", {-1, 0}},                             // no such flags: EINVAL
    {"kcmp", {0, 0, 99, 0, 0}},                             // no such type: EINVAL / ESRCH
    {"keyctl", {-1}},                                       // no such operation: EOPNOTSUPP
    {"add_key", {0, 0, 0, 0, 0}},                           // EFAULT
    {"request_key", {0, 0, 0, 0}},                          // EFAULT
};

// Runs every probe that exists on x86_64 in a child under `program` and returns name -> errno
// (0 for success). Names without an x86_64 number are left out.
std::map<std::string, std::string> RunProbes(const BpfProgram& program, std::string* describe) {
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    if (!listener) {
      ReportLine(fd, "install " + listener.error().message());
      _exit(2);
    }
    for (const Probe& p : kProbes) {
      int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(p.name).c_str());
      if (nr < 0) {
        continue;
      }
      long rc = syscall(nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5]);
      ReportLine(fd, fmt::format("{} {}", p.name, rc < 0 ? errno : 0));
    }
  });
  *describe = r.Describe();
  if (!r.Exited(0)) {
    ADD_FAILURE() << *describe;
    return {};
  }
  return r.Lines();
}

BpfProgram CompileDefault() {
  auto program = CompileFilter(DefaultProfile(), {});
  if (!program) {
    ADD_FAILURE() << program.error().message();
    return {};
  }
  return std::move(*program);
}

TEST(DefaultProfileTest, CompilesWithoutWarningsWithinTheKernelLimit) {
  BpfProgram program = CompileDefault();
  EXPECT_GT(program.instructions.size(), 0u);
  EXPECT_LT(program.instructions.size(), 4096u);
  EXPECT_EQ(program.flags, 0u);
  EXPECT_FALSE(program.needs_listener);
  EXPECT_TRUE(program.warnings.empty());
  RecordProperty("bpf_instructions", static_cast<int>(program.instructions.size()));
  std::printf("default profile: %zu BPF instructions\n", program.instructions.size());
}

TEST(DefaultProfileTest, OnlyTheNativeAbi) {
  oci::Seccomp profile = DefaultProfile();
  EXPECT_EQ(profile.default_action, "SCMP_ACT_ALLOW");
  EXPECT_EQ(profile.architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
}

TEST(DefaultProfileTest, EveryDeniedSyscallHasAReasonAndAProbe) {
  std::set<std::string_view> probed;
  for (const Probe& p : kProbes) {
    probed.insert(p.name);
  }
  std::set<std::string> seen;
  for (const auto& [name, reason] : DefaultProfileReasons()) {
    EXPECT_TRUE(seen.insert(name).second) << name << " listed twice";
    EXPECT_FALSE(reason.empty()) << name;
    EXPECT_EQ(reason.find('\n'), std::string::npos) << name;
    EXPECT_TRUE(probed.contains(name)) << name << " has no probe in this test";
    EXPECT_NE(seccomp_syscall_resolve_name(name.c_str()), __NR_SCMP_ERROR) << name;
  }
  EXPECT_EQ(seen.size(), DefaultDeniedSyscalls().size());
  for (const char* required : {"kexec_load",
                               "kexec_file_load",
                               "open_by_handle_at",
                               "init_module",
                               "finit_module",
                               "delete_module",
                               "iopl",
                               "ioperm",
                               "swapon",
                               "swapoff",
                               "sysfs",
                               "_sysctl",
                               "adjtimex",
                               "clock_adjtime",
                               "lookup_dcookie",
                               "perf_event_open",
                               "fanotify_init",
                               "kcmp",
                               "reboot",
                               "acct",
                               "settimeofday",
                               "clock_settime",
                               "stime",
                               "create_module",
                               "get_kernel_syms",
                               "query_module",
                               "nfsservctl",
                               "uselib",
                               "vm86",
                               "vm86old",
                               "bpf",
                               "userfaultfd",
                               "keyctl",
                               "add_key",
                               "request_key",
                               "quotactl",
                               "syslog"}) {
    EXPECT_TRUE(seen.contains(required)) << required;
  }
  // Left to the later allow-list work; the default run has no capabilities for them anyway.
  for (const char* allowed : {"ptrace", "mount", "unshare", "setns", "clone", "personality"}) {
    EXPECT_FALSE(seen.contains(allowed)) << allowed;
  }
}

TEST(DefaultProfileTest, DeniedSyscallsFailWithEperm) {
  BpfProgram program = CompileDefault();
  std::string describe;
  auto results = RunProbes(program, &describe);
  size_t checked = 0;
  for (const DeniedSyscall& d : DefaultDeniedSyscalls()) {
    if (seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, std::string(d.name).c_str()) < 0) {
      continue;  // stime, vm86, vm86old: ia32 only, covered by Ia32SyscallKillsTheProcess
    }
    ++checked;
    EXPECT_EQ(results[std::string(d.name)], std::to_string(EPERM)) << d.name << "\n" << describe;
  }
  EXPECT_EQ(checked, DefaultDeniedSyscalls().size() - 3);
}

TEST(DefaultProfileTest, EveryDenialComesFromTheFilter) {
  // Some kernels answer EPERM by themselves (kexec_load_disabled, modules_disabled, ...), so the
  // EPERM test alone could pass without a filter: with an errno no probe can produce
  // naturally, every answer must come from seccomp.
  oci::Seccomp profile = DefaultProfile();
  for (oci::SeccompSyscall& rule : profile.syscalls) {
    rule.errno_ret = EXDEV;
  }
  auto program = CompileFilter(profile, {});
  ASSERT_TRUE(program) << program.error().message();
  std::string describe;
  auto results = RunProbes(*program, &describe);
  ASSERT_FALSE(results.empty());
  for (const auto& [name, err] : results) {
    EXPECT_EQ(err, std::to_string(EXDEV)) << name << "\n" << describe;
  }
}

TEST(DefaultProfileTest, OrdinarySyscallsStillWork) {
  BpfProgram program = CompileDefault();
  ChildResult r = RunInChild([&](int fd) {
    pid_t before = getpid();
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    if (!listener) {
      ReportLine(fd, "install " + listener.error().message());
      _exit(2);
    }
    ReportLine(fd, fmt::format("getpid {}", syscall(SYS_getpid) == before));
    int p[2];
    bool piped = syscall(SYS_pipe2, p, 0) == 0;
    char out[] = "brick";
    char in[sizeof(out)] = {};
    bool wrote = piped && syscall(SYS_write, p[1], out, sizeof(out)) == sizeof(out);
    bool read_back = wrote && syscall(SYS_read, p[0], in, sizeof(in)) == sizeof(in);
    ReportLine(fd, fmt::format("pipe {}", piped));
    ReportLine(fd, fmt::format("write {}", wrote));
    ReportLine(fd, fmt::format("read {}", read_back && std::string(in) == "brick"));
    ReportLine(fd, fmt::format("uname {}", syscall(SYS_uname, nullptr) < 0 && errno == EFAULT));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  EXPECT_EQ(lines["getpid"], "true");
  EXPECT_EQ(lines["pipe"], "true");
  EXPECT_EQ(lines["write"], "true");
  EXPECT_EQ(lines["read"], "true");
  EXPECT_EQ(lines["uname"], "true");
}

// getpid through the ia32 entry point: number 20 in eax, int $0x80. The 32-bit entry clobbers
// r8-r11 on some kernels.
long Ia32Getpid() {
  long ret;
  asm volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory", "cc", "r8", "r9", "r10", "r11");
  return ret;
}

// Makes the call from a second thread, so that the whole process dying (KILL_PROCESS) can be
// told from only the calling thread dying (KILL_THREAD): in the latter case the main thread
// reports and the child exits 0.
void CallFromSecondThread(int fd, long (*call)()) {
  long rc = 0;
  std::thread caller([&] { rc = call(); });
  caller.join();
  ReportLine(fd, fmt::format("survived {}", rc));
}

TEST(DefaultProfileTest, Ia32SyscallKillsTheProcess) {
  ChildResult control =
      RunInChild([](int fd) { ReportLine(fd, fmt::format("ia32 {}", Ia32Getpid() == getpid())); });
  if (!control.Exited(0) || control.Lines()["ia32"] != "true") {
    GTEST_SKIP() << "the kernel has no ia32 emulation (int $0x80 getpid: " << control.Describe()
                 << ")";
  }
  BpfProgram program = CompileDefault();
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    if (!listener) {
      ReportLine(fd, "install " + listener.error().message());
      _exit(2);
    }
    ReportLine(fd, "installed");
    CallFromSecondThread(fd, [] { return Ia32Getpid(); });
  });
  EXPECT_TRUE(r.KilledBy(SIGSYS)) << r.Describe();
  EXPECT_EQ(r.report, "installed\n");
}

TEST(DefaultProfileTest, X32SyscallKillsTheProcess) {
  ChildResult control = RunInChild(
      [&](int fd) { ReportLine(fd, fmt::format("x32 {}", syscall(kX32Bit | SYS_getpid))); });
  ASSERT_TRUE(control.Exited(0)) << control.Describe();

  BpfProgram program = CompileDefault();
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    if (!listener) {
      ReportLine(fd, "install " + listener.error().message());
      _exit(2);
    }
    ReportLine(fd, "installed");
    CallFromSecondThread(fd, [] { return syscall(kX32Bit | SYS_getpid); });
  });
  EXPECT_TRUE(r.KilledBy(SIGSYS)) << r.Describe();
  EXPECT_EQ(r.report, "installed\n");
}

}  // namespace
}  // namespace brick::seccomp
