#include "brick/seccomp/default_profile.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
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
    {"kexec_load", {0, 0, 0, -1}},                           // no such flags: EINVAL
    {"kexec_file_load", {-1, -1, 0, 0, -1}},                 // no such flags: EINVAL
    {"open_by_handle_at", {-1, 0, 0}},                       // EBADF / EFAULT
    {"init_module", {0, 0, Ptr("")}},                        // empty image: EFAULT / ENOEXEC
    {"finit_module", {-1, Ptr(""), 0}},                      // EBADF
    {"delete_module", {Ptr(kMissingModule), 04000}},         // O_NONBLOCK, no such module: ENOENT
    {"create_module", {}},                                   // ENOSYS
    {"get_kernel_syms", {}},                                 // ENOSYS
    {"query_module", {}},                                    // ENOSYS
    {"iopl", {4}},                                           // level > 3: EINVAL
    {"ioperm", {0x10000, 1, 1}},                             // past the port range: EINVAL
    {"swapon", {Ptr(kMissingPath), 0}},                      // ENOENT
    {"swapoff", {Ptr(kMissingPath)}},                        // ENOENT
    {"reboot", {0, 0, 0, 0}},                                // bad magic: EINVAL
    {"acct", {Ptr(kMissingPath)}},                           // ENOENT (NULL would switch it off)
    {"settimeofday", {0, 0}},                                // both NULL: no-op
    {"clock_settime", {CLOCK_MONOTONIC, Ptr(&kZeroTime)}},   // not settable: EINVAL
    {"stime", {}},                                           // 32-bit only
    {"adjtimex", {0}},                                       // EFAULT
    {"clock_adjtime", {CLOCK_REALTIME, 0}},                  // EFAULT
    {"quotactl", {0, 0, 0, 0}},                              // EFAULT / EINVAL
    {"syslog", {10, 0, 0}},                                  // SYSLOG_ACTION_SIZE_BUFFER: read-only
    {"_sysctl", {0}},                                        // ENOSYS / EFAULT
    {"sysfs", {99}},                                         // EINVAL
    {"nfsservctl", {}},                                      // ENOSYS
    {"uselib", {Ptr(kMissingPath)}},                         // ENOENT / ENOSYS
    {"vm86", {}},                                            // 32-bit only
    {"vm86old", {}},                                         // 32-bit only
    {"lookup_dcookie", {0, 0, 0}},                           // ENOSYS / EFAULT
    {"perf_event_open", {0, 0, -1, -1, 0}},                  // EFAULT
    {"bpf", {-1, 0, 0}},                                     // no such command: EINVAL
    {"userfaultfd", {-1}},                                   // no such flags: EINVAL
    {"fanotify_init", {-1, 0}},                              // no such flags: EINVAL
    {"kcmp", {0, 0, 99, 0, 0}},                              // no such type: EINVAL / ESRCH
    {"keyctl", {-1}},                                        // no such operation: EOPNOTSUPP
    {"add_key", {0, 0, 0, 0, 0}},                            // EFAULT
    {"request_key", {0, 0, 0, 0}},                           // EFAULT
    {"ptrace", {-1, 0, 0, 0}},                               // no such request: EIO
    {"process_vm_readv", {0, 0, 0, 0, 0, 0}},                // no pid 0: ESRCH
    {"process_vm_writev", {0, 0, 0, 0, 0, 0}},               // ESRCH
    {"name_to_handle_at", {-1, 0, 0, 0, 0}},                 // EBADF / EFAULT
    {"mount", {0, 0, 0, 0, 0}},                              // EFAULT
    {"umount2", {Ptr(kMissingPath), 0}},                     // ENOENT
    {"fsopen", {0, 0}},                                      // EFAULT
    {"fsmount", {-1, 0, 0}},                                 // EBADF
    {"move_mount", {-1, 0, -1, 0, 0}},                       // EBADF / EFAULT
    {"open_tree", {-1, 0, 0}},                               // EFAULT
    {"pivot_root", {Ptr(kMissingPath), Ptr(kMissingPath)}},  // ENOENT
    {"setns", {-1, 0}},                                      // EBADF
    {"unshare", {0}},                                        // no flags: a no-op
    {"io_uring_setup", {0, 0}},                              // EINVAL / EFAULT
    {"modify_ldt", {0, 0, 0}},                               // read 0 bytes: a no-op
    {"chroot", {Ptr(kMissingPath)}},                         // ENOENT
    {"pidfd_getfd", {-1, 0, 0}},                             // EBADF
    {"memfd_secret", {-1}},                                  // no such flags: EINVAL
    {"quotactl_fd", {-1, 0, 0, 0}},                          // EBADF
    {"mbind", {0, 0, 0, 0, 0, 0}},                           // no-op or EINVAL
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
      if (nr < 0 || p.name == "_sysctl") {
        continue;  // _sysctl: gone from x86_64 kernels, see defaults_test
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
  EXPECT_EQ(program.flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC));
  EXPECT_FALSE(program.needs_listener);
  EXPECT_TRUE(program.warnings.empty());
  ASSERT_EQ(program.enosys.size(), 1u);
  EXPECT_EQ(program.enosys[0].audit_arch, SCMP_ARCH_X86_64);
  RecordProperty("bpf_instructions", static_cast<int>(program.instructions.size()));
  std::printf("default profile: %zu BPF instructions\n", program.instructions.size());
}

TEST(DefaultProfileTest, AnAllowListOfTheNativeAbiOnly) {
  oci::Seccomp profile = DefaultProfile();
  EXPECT_EQ(profile.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(profile.default_errno_ret, EPERM);
  EXPECT_EQ(profile.architectures, std::vector<std::string>{"SCMP_ARCH_X86_64"});
}

std::vector<std::string> GroupNames(const ProfileGroup& g) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : g.syscalls) {
    if (c == ' ') {
      if (!cur.empty()) {
        out.push_back(cur);
      }
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) {
    out.push_back(cur);
  }
  return out;
}

TEST(DefaultProfileTest, EverySyscallLibseccompKnowsIsClassifiedOnceWithAReason) {
  std::map<std::string, std::string> group_of;
  for (const ProfileGroup& g : DefaultProfileGroups()) {
    EXPECT_FALSE(g.reason.empty()) << g.title;
    EXPECT_EQ(g.reason.find('\n'), std::string::npos) << g.title;
    for (const std::string& name : GroupNames(g)) {
      EXPECT_NE(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()), __NR_SCMP_ERROR)
          << name << " in " << g.title;
      auto [it, inserted] = group_of.emplace(name, std::string(g.title));
      EXPECT_TRUE(inserted) << name << " in both " << it->second << " and " << g.title;
    }
  }
  // The table was written against the syscalls numbered below the stub's threshold; a newer
  // libseccomp may know more, which the ENOSYS stub then covers.
  BpfProgram program = CompileDefault();
  ASSERT_EQ(program.enosys.size(), 1u);
  for (int nr = 0; nr < program.enosys[0].first_number; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name == nullptr) {
      continue;
    }
    EXPECT_TRUE(group_of.contains(name)) << name << " (" << nr << ") is in no group";
    free(name);
  }
}

TEST(DefaultProfileTest, TheTalksListAndTheIssueListAreRefused) {
  std::set<std::string> refused;
  for (const auto& [name, reason] : DefaultProfileReasons()) {
    refused.insert(name);
    EXPECT_FALSE(reason.empty()) << name;
  }
  for (const char* required : {"kexec_load",
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
                               "settimeofday",
                               "clock_settime",
                               "acct",
                               "quotactl",
                               "syslog",
                               "bpf",
                               "userfaultfd",
                               "keyctl",
                               "add_key",
                               "request_key",
                               "ptrace",
                               "process_vm_readv",
                               "process_vm_writev",
                               "name_to_handle_at",
                               "mount",
                               "umount2",
                               "fsopen",
                               "fsmount",
                               "move_mount",
                               "open_tree",
                               "pivot_root",
                               "setns",
                               "unshare",
                               "clone3",
                               "io_uring_setup",
                               "io_uring_enter",
                               "io_uring_register",
                               "modify_ldt"}) {
    EXPECT_TRUE(refused.contains(required)) << required;
  }
}

TEST(DefaultProfileTest, DeniedSyscallsFailWithEperm) {
  BpfProgram program = CompileDefault();
  std::string describe;
  auto results = RunProbes(program, &describe);
  ASSERT_FALSE(results.empty());
  for (const auto& [name, err] : results) {
    EXPECT_EQ(err, std::to_string(EPERM)) << name << "\n" << describe;
  }
}

TEST(DefaultProfileTest, EveryDenialComesFromTheFilter) {
  // Some kernels answer EPERM by themselves (kexec_load_disabled, modules_disabled, ...), so the
  // EPERM test alone could pass without a filter: with an errno no probe can produce
  // naturally, every answer must come from seccomp.
  oci::Seccomp profile = DefaultProfile();
  profile.default_errno_ret = EXDEV;
  for (oci::SeccompSyscall& rule : profile.syscalls) {
    if (rule.action == "SCMP_ACT_ERRNO" && rule.errno_ret == EPERM) {
      rule.errno_ret = EXDEV;
    }
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

TEST(DefaultProfileTest, ArgumentRulesAndEnosysInAForkedChild) {
  BpfProgram program = CompileDefault();
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    if (!listener) {
      ReportLine(fd, "install " + listener.error().message());
      _exit(2);
    }
    auto errno_of = [](long rc) { return rc < 0 ? errno : 0; };
    auto sock = [&](long family, long type) {
      long s = syscall(SYS_socket, family, type, 0);
      if (s >= 0) {
        close(static_cast<int>(s));
      }
      return errno_of(s);
    };
    ReportLine(fd, fmt::format("unix {}", sock(AF_UNIX, SOCK_STREAM)));
    ReportLine(fd, fmt::format("inet {}", sock(AF_INET, SOCK_DGRAM)));
    ReportLine(fd, fmt::format("inet6 {}", sock(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC)));
    ReportLine(fd, fmt::format("netlink {}", sock(AF_NETLINK, SOCK_RAW)));
    ReportLine(fd, fmt::format("packet {}", sock(AF_PACKET, SOCK_RAW)));
    ReportLine(fd, fmt::format("raw {}", sock(AF_INET, SOCK_RAW)));
    ReportLine(fd, fmt::format("vsock {}", sock(AF_VSOCK, SOCK_STREAM)));
    ReportLine(fd, fmt::format("alg {}", sock(AF_ALG, SOCK_SEQPACKET)));
    ReportLine(fd, fmt::format("bluetooth {}", sock(AF_BLUETOOTH, SOCK_STREAM)));
    ReportLine(fd, fmt::format("query {}", errno_of(syscall(SYS_personality, 0xffffffffL))));
    ReportLine(fd, fmt::format("perlinux {}", errno_of(syscall(SYS_personality, 0L))));
    ReportLine(fd, fmt::format("norandom {}", errno_of(syscall(SYS_personality, 0x0040000L))));
    ReportLine(fd, fmt::format("clone3 {}", errno_of(syscall(SYS_clone3, nullptr, 0))));
    // CLONE_NEWUSER with an invalid extra flag combination would fail anyway; the filter must
    // answer first with EPERM.
    ReportLine(fd, fmt::format("clone_newuser {}",
                               errno_of(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0))));
    ReportLine(fd, fmt::format("unshare {}", errno_of(syscall(SYS_unshare, CLONE_NEWUSER))));
    // Past every number the profile names: ENOSYS, like a kernel without the syscall.
    ReportLine(fd, fmt::format("newer {}", errno_of(syscall(470))));
    ReportLine(fd, fmt::format("mount {}", errno_of(syscall(SYS_mount, 0, 0, 0, 0, 0))));
    ReportLine(fd, fmt::format("ptrace {}", errno_of(syscall(SYS_ptrace, 0, 0, 0, 0))));
    ReportLine(fd, fmt::format("io_uring {}", errno_of(syscall(SYS_io_uring_setup, 0, 0))));
    // A plain fork still works.
    pid_t pid = fork();
    if (pid == 0) {
      _exit(7);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ReportLine(fd, fmt::format("fork {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto l = r.Lines();
  auto e = [](int err) { return std::to_string(err); };
  EXPECT_EQ(l["unix"], "0");
  EXPECT_EQ(l["inet"], "0");
  EXPECT_EQ(l["inet6"], "0");
  EXPECT_EQ(l["netlink"], "0");
  for (const char* denied : {"packet", "raw", "vsock", "alg", "bluetooth"}) {
    EXPECT_EQ(l[denied], e(EPERM)) << denied;
  }
  EXPECT_EQ(l["query"], "0");
  EXPECT_EQ(l["perlinux"], "0");
  EXPECT_EQ(l["norandom"], e(EPERM));
  EXPECT_EQ(l["clone3"], e(ENOSYS));
  EXPECT_EQ(l["clone_newuser"], e(EPERM));
  EXPECT_EQ(l["unshare"], e(EPERM));
  EXPECT_EQ(l["newer"], e(ENOSYS));
  EXPECT_EQ(l["mount"], e(EPERM));
  EXPECT_EQ(l["ptrace"], e(EPERM));
  EXPECT_EQ(l["io_uring"], e(EPERM));
  EXPECT_EQ(l["fork"], "7");
}

TEST(DefaultProfileTest, CapabilitiesOpenTheirSyscalls) {
  auto has_allow = [](const oci::Seccomp& p, const std::string& name) {
    for (const auto& rule : p.syscalls) {
      if (rule.action == "SCMP_ACT_ALLOW" && rule.args.empty() &&
          std::find(rule.names.begin(), rule.names.end(), name) != rule.names.end()) {
        return true;
      }
    }
    return false;
  };
  oci::Seccomp none = DefaultProfile(0);
  oci::Seccomp ptrace = DefaultProfile(uint64_t{1} << 19);  // CAP_SYS_PTRACE
  oci::Seccomp admin = DefaultProfile(uint64_t{1} << 21);   // CAP_SYS_ADMIN
  for (const char* name : {"ptrace", "process_vm_readv", "process_vm_writev"}) {
    EXPECT_FALSE(has_allow(none, name)) << name;
    EXPECT_TRUE(has_allow(ptrace, name)) << name;
    EXPECT_FALSE(has_allow(admin, name)) << name;
  }
  for (const char* name : {"mount", "umount2", "unshare", "setns", "clone", "clone3"}) {
    EXPECT_FALSE(has_allow(none, name)) << name;
    EXPECT_TRUE(has_allow(admin, name)) << name;
  }
  // No name is both allowed and denied in one profile.
  for (const oci::Seccomp* p : {&none, &ptrace, &admin}) {
    std::set<std::string> allowed;
    for (const auto& rule : p->syscalls) {
      if (rule.action == "SCMP_ACT_ALLOW") {
        allowed.insert(rule.names.begin(), rule.names.end());
      }
    }
    for (const auto& rule : p->syscalls) {
      if (rule.action == "SCMP_ACT_ERRNO") {
        for (const auto& n : rule.names) {
          EXPECT_FALSE(allowed.contains(n)) << n;
        }
      }
    }
  }
}

TEST(DefaultProfileTest, NetRawOpensPacketSockets) {
  auto program = CompileFilter(DefaultProfile(uint64_t{1} << 13));  // CAP_NET_RAW
  ASSERT_TRUE(program) << program.error().message();
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    if (!InstallFilter(*program)) {
      _exit(2);
    }
    long s = syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
    // Root in the test: the socket is really created.
    ReportLine(fd, fmt::format("packet {}", s >= 0 ? 0 : errno));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["packet"], "0");
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
  if (control.KilledBy(SIGSEGV)) {
    GTEST_SKIP()
        << "the kernel refuses int $0x80 itself (SIGSEGV before seccomp runs): ia32 emulation is "
           "disabled at runtime (CONFIG_IA32_EMULATION=y, but ia32_emulation is off)";
  }
  ASSERT_TRUE(control.Exited(0) && control.Lines()["ia32"] == "true") << control.Describe();
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
