#include "brick/seccomp/bpf_interpreter.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "brick/seccomp/child_process_for_test.h"
#include "brick/seccomp/default_profile.h"
#include "brick/seccomp/filter.h"
#include "brick/seccomp/profile_json.h"
#include "brick/sys/fs.h"

namespace brick::seccomp {
namespace {

TEST(BpfInterpreterTest, RunsAHandWrittenProgram) {
  std::vector<sock_filter> prog = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 39, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EXDEV),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1]) + 4),  // high half
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80000000u, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  SyscallInput in;
  in.nr = 39;
  EXPECT_EQ(*EvaluateSeccompBpf(prog, in), SECCOMP_RET_ERRNO | EXDEV);
  in.nr = 1;
  EXPECT_EQ(*EvaluateSeccompBpf(prog, in), SECCOMP_RET_ALLOW);
  in.args[1] = 0x8000000000000000ull;
  EXPECT_EQ(*EvaluateSeccompBpf(prog, in), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(DescribeReturn(SECCOMP_RET_ERRNO | EXDEV), "errno EXDEV");
  EXPECT_EQ(DescribeReturn(SECCOMP_RET_KILL_PROCESS), "kill process");
}

TEST(BpfInterpreterTest, RefusesWhatTheKernelRefuses) {
  std::vector<sock_filter> bad_offset = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2),
                                         BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  auto r = EvaluateSeccompBpf(bad_offset, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "bpf program: instruction 0 loads offset 2 outside seccomp_data");
  std::vector<sock_filter> off_end = {BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0)};
  r = EvaluateSeccompBpf(off_end, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "bpf program: instruction 0 jumps past the end (1 instructions)");
  r = EvaluateSeccompBpf({}, {});
  ASSERT_FALSE(r);
}

// A syscall with arguments that do nothing harmful should the filter let it through.
struct KernelProbe {
  std::string label;
  long nr;
  long args[6];
};

std::vector<KernelProbe> Probes() {
  std::vector<KernelProbe> p = {
      {"getppid", SYS_getppid, {}},
      {"read", SYS_read, {-1, 0, 0}},
      {"close", SYS_close, {-1}},
      {"mount", SYS_mount, {0, 0, 0, 0, 0}},
      {"ptrace", SYS_ptrace, {-1, 0, 0, 0}},
      {"keyctl", SYS_keyctl, {-1}},
      {"unshare0", SYS_unshare, {0}},
      {"modify_ldt", SYS_modify_ldt, {0, 0, 0}},
      {"io_uring_setup", SYS_io_uring_setup, {0, 0}},
      {"clone3", SYS_clone3, {0, 0}},
      // Conflicting flags: the kernel refuses with EINVAL if the filter lets it through.
      {"clone_newuser", SYS_clone, {CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0}},
      {"personality_query", SYS_personality, {0xffffffffL}},
      {"personality_32", SYS_personality, {PER_LINUX32 | 0x7fff0000L}},  // unknown bits: EINVAL
      {"newer_465", 465, {-1, 0, 0, 0}},
      {"unassigned_470", 470, {}},
  };
  for (long family : std::vector<long>{AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_VSOCK,
                                       AF_ALG, AF_BLUETOOTH, AF_KEY, 39, 45, 46}) {
    for (long type : std::vector<long>{SOCK_STREAM, SOCK_DGRAM, SOCK_RAW}) {
      // Protocol 0x7fff is invalid everywhere: nothing is really created.
      p.push_back({fmt::format("socket_{}_{}", family, type), SYS_socket, {family, type, 0x7fff}});
    }
  }
  return p;
}

// Every ERRNO action gets an errno no probe produces by itself, so the kernel's answer tells
// which rule (or none) decided.
oci::Seccomp WithMarkerErrnos(oci::Seccomp p) {
  if (p.default_action == "SCMP_ACT_ERRNO") {
    p.default_errno_ret = 4000;
  }
  uint32_t next = 4001;
  for (auto& rule : p.syscalls) {
    if (rule.action == "SCMP_ACT_ERRNO") {
      rule.errno_ret = next++;
    }
  }
  return p;
}

void ExpectKernelAgrees(const oci::Seccomp& base) {
  oci::Seccomp profile = WithMarkerErrnos(base);
  auto program = CompileFilter(profile);
  ASSERT_TRUE(program) << program.error().message();
  std::vector<KernelProbe> probes = Probes();
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    if (!InstallFilter(*program)) {
      _exit(2);
    }
    for (const KernelProbe& p : probes) {
      long rc = syscall(p.nr, p.args[0], p.args[1], p.args[2], p.args[3], p.args[4], p.args[5]);
      ReportLine(fd, fmt::format("{} {}", p.label, rc < 0 ? errno : 0));
    }
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  for (const KernelProbe& p : probes) {
    SyscallInput in;
    in.arch = AUDIT_ARCH_X86_64;
    in.nr = static_cast<int32_t>(p.nr);
    for (int i = 0; i < 6; ++i) {
      in.args[i] = static_cast<uint64_t>(p.args[i]);
    }
    auto ret = EvaluateSeccompBpf(program->instructions, in);
    ASSERT_TRUE(ret) << ret.error().message();
    int kernel_errno = std::stoi(lines[p.label]);
    if (ActionOf(*ret) == SECCOMP_RET_ERRNO) {
      EXPECT_EQ(kernel_errno, static_cast<int>(*ret & SECCOMP_RET_DATA)) << p.label;
    } else {
      ASSERT_EQ(ActionOf(*ret), SECCOMP_RET_ALLOW) << p.label;
      EXPECT_LT(kernel_errno, 4000) << p.label << ": the interpreter allowed, the kernel filtered";
    }
  }
  // Foreign ABIs: each in its own child, since the answer may be death by SIGSYS.
  for (uint32_t nr : {0x40000000u | SYS_getpid}) {
    SyscallInput in;
    in.arch = AUDIT_ARCH_X86_64;
    in.nr = static_cast<int32_t>(nr);
    auto ret = EvaluateSeccompBpf(program->instructions, in);
    ASSERT_TRUE(ret);
    ChildResult c = RunInChild([&](int fd) {
      SetNoNewPrivsOrDie();
      if (!InstallFilter(*program)) {
        _exit(2);
      }
      long rc = syscall(nr);
      ReportLine(fd, fmt::format("x32 {}", rc < 0 ? errno : 0));
    });
    if (ActionOf(*ret) == SECCOMP_RET_KILL_PROCESS) {
      EXPECT_TRUE(c.KilledBy(SIGSYS)) << c.Describe();
    } else {
      EXPECT_TRUE(c.Exited(0)) << c.Describe();
    }
  }
}

TEST(BpfInterpreterTest, AgreesWithTheKernelOnBricksDefault) {
  ExpectKernelAgrees(DefaultProfile());
}

TEST(BpfInterpreterTest, AgreesWithTheKernelOnBricksDefaultWithCaps) {
  ExpectKernelAgrees(DefaultProfile((uint64_t{1} << 21) | (uint64_t{1} << 13)));
}

TEST(BpfInterpreterTest, AgreesWithTheKernelOnDockersDefault) {
  auto text = ReadFile("/work/shared/reference/docker-seccomp/default.json");
  ASSERT_TRUE(text) << text.error().message();
  auto loaded = LoadDockerProfile(*text, {});
  ASSERT_TRUE(loaded) << loaded.error().message();
  ExpectKernelAgrees(loaded->profile);
}

}  // namespace
}  // namespace brick::seccomp
