// brick's seccomp engine seen from inside real containers: the default profile's rules, the
// socket families, the foreign ABI, ordinary busybox workloads, and the learn round trip
// through the brick binary (learn, enforce with --seccomp, refuse another workload).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

class DefaultRuleTest : public ::testing::TestWithParam<const char*> {};

TEST_P(DefaultRuleTest, RefusedWithEperm) {
  std::string line;
  ASSERT_TRUE(ProbeLine({}, {"syscall", GetParam()}, &line));
  if (std::string_view(GetParam()) == "_sysctl") {
    // Gone from x86_64 kernels: the filter answers EPERM or the kernel ENOSYS.
    EXPECT_THAT(line, AnyOf("errno EPERM", "errno ENOSYS"));
    return;
  }
  EXPECT_EQ(line, "errno EPERM");
}

INSTANTIATE_TEST_SUITE_P(Seccomp, DefaultRuleTest,
                         ::testing::Values("kexec_load", "open_by_handle_at", "init_module",
                                           "finit_module", "delete_module", "iopl", "ioperm",
                                           "swapon", "swapoff", "sysfs", "_sysctl", "adjtimex",
                                           "clock_adjtime", "lookup_dcookie", "perf_event_open",
                                           "fanotify_init", "kcmp", "reboot", "bpf", "keyctl",
                                           "mount", "unshare", "setns", "ptrace"));

TEST(SeccompEngineTest, OrdinarySyscallStillWorks) {
  std::string line;
  ASSERT_TRUE(ProbeLine({}, {"syscall", "getpid"}, &line));
  EXPECT_EQ(line, "ok");
}

class AllowedFamilyTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(AllowedFamilyTest, SocketIsCreated) {
  std::string line;
  ASSERT_TRUE(ProbeLine({}, {"socket", GetParam().first, GetParam().second}, &line));
  EXPECT_EQ(line, "ok");
}

INSTANTIATE_TEST_SUITE_P(
    Seccomp, AllowedFamilyTest,
    ::testing::Values(std::pair{"AF_UNIX", "SOCK_STREAM"}, std::pair{"AF_UNIX", "SOCK_DGRAM"},
                      std::pair{"AF_INET", "SOCK_STREAM"}, std::pair{"AF_INET", "SOCK_DGRAM"},
                      std::pair{"AF_INET6", "SOCK_STREAM"}, std::pair{"AF_NETLINK", "SOCK_RAW"}));

class DeniedFamilyTest : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(DeniedFamilyTest, SocketGetsEperm) {
  std::string line;
  ASSERT_TRUE(ProbeLine({}, {"socket", GetParam().first, GetParam().second}, &line));
  EXPECT_EQ(line, "errno EPERM");
}

INSTANTIATE_TEST_SUITE_P(
    Seccomp, DeniedFamilyTest,
    ::testing::Values(std::pair{"AF_PACKET", "SOCK_RAW"}, std::pair{"AF_PACKET", "SOCK_DGRAM"},
                      std::pair{"AF_INET", "SOCK_RAW"}, std::pair{"AF_INET6", "SOCK_RAW"},
                      std::pair{"AF_VSOCK", "SOCK_STREAM"}, std::pair{"AF_ALG", "SOCK_SEQPACKET"},
                      std::pair{"AF_KEY", "SOCK_RAW"}, std::pair{"AF_BLUETOOTH", "SOCK_STREAM"},
                      std::pair{"AF_CAN", "SOCK_RAW"}, std::pair{"AF_TIPC", "SOCK_RDM"},
                      std::pair{"AF_XDP", "SOCK_RAW"}, std::pair{"AF_APPLETALK", "SOCK_DGRAM"},
                      std::pair{"AF_X25", "SOCK_SEQPACKET"}, std::pair{"AF_AX25", "SOCK_SEQPACKET"},
                      std::pair{"AF_RDS", "SOCK_SEQPACKET"}, std::pair{"AF_LLC", "SOCK_DGRAM"},
                      std::pair{"AF_NFC", "SOCK_SEQPACKET"}));

TEST(SeccompEngineTest, Int80KillsTheContainerProcess) {
  // On the host, without any filter: getpid through int $0x80 either works or the kernel
  // itself refuses the entry with SIGSEGV.
  RunResult host = RunCommand({kInspectHost, "int80"});
  if (host.TermSignal() == SIGSEGV) {
    GTEST_SKIP() << "the kernel refuses int $0x80 itself (SIGSEGV before seccomp runs): ia32 "
                    "emulation is disabled at runtime (CONFIG_IA32_EMULATION=y, but "
                    "ia32_emulation is off), so there is no ia32 syscall for the filter to kill";
  }
  ASSERT_EQ(host.ExitCode(), 0) << host.Describe();
  ASSERT_EQ(TrimEnd(host.out), "ok") << host.Describe();
  // ia32 works on this kernel: the default profile covers x86_64 only, so the call hits the
  // bad-arch action and the whole process dies of SIGSYS.
  RunResult r = BrickRun({}, {kInspect, "int80"});
  EXPECT_EQ(r.ExitCode(), 128 + SIGSYS) << r.Describe();
}

TEST(SeccompEngineTest, BusyboxWorkloadsRunUnderTheDefault) {
  RunResult r = BrickRun({}, {"/bin/sh", "-c",
                              "echo hi; cat /etc/passwd >/dev/null; ls / >/dev/null; id -u; "
                              "sleep 0.05; echo done"});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "hi\n1000\ndone\n");
}

class LearnRoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override { profile_ = dir_.path() + "/learned.json"; }
  TempDir dir_;
  std::string profile_;
};

TEST_F(LearnRoundTripTest, LearnedProfileRunsTheWorkloadAndRefusesAnother) {
  const std::vector<std::string> workload = {"/bin/sh", "-c", "echo hi; ls /"};
  std::vector<std::string> learn = {kBrick,  "seccomp", "learn",  "--rootfs",
                                    kRootfs, "-o",      profile_, "--"};
  learn.insert(learn.end(), workload.begin(), workload.end());
  RunResult learned = RunCommand(learn);
  ASSERT_EQ(learned.ExitCode(), 0) << learned.Describe();
  EXPECT_THAT(learned.out, HasSubstr("hi\n"));
  ASSERT_TRUE(std::filesystem::exists(profile_));

  RunResult again = BrickRun({"--seccomp", profile_}, workload);
  EXPECT_EQ(again.ExitCode(), 0) << again.Describe();
  EXPECT_THAT(again.out, HasSubstr("hi\n"));
  EXPECT_THAT(again.out, HasSubstr("etc\n"));

  // mkdir (and the rest of what mkdir needs) was never learned.
  RunResult other =
      BrickRun({"--seccomp", profile_}, {"/bin/sh", "-c", "mkdir /tmp/x && echo made"});
  EXPECT_NE(other.ExitCode(), 0) << other.Describe();
  EXPECT_THAT(other.out, ::testing::Not(HasSubstr("made")));
  EXPECT_THAT(other.err, HasSubstr("Operation not permitted"));

  // The learned profile is narrower than the default: diff says so and exits 1.
  RunResult diff = RunCommand({kBrick, "seccomp", "diff", "default", profile_});
  EXPECT_EQ(diff.ExitCode(), 1) << diff.Describe();
  EXPECT_THAT(diff.out, HasSubstr("mkdir: allow -> errno EPERM"));
}

TEST(SeccompCliTest, ExplainShowsEachArch) {
  RunResult r =
      RunCommand({kBrick, "seccomp", "explain", "default", "socket", "AF_PACKET", "SOCK_RAW"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("socket(AF_PACKET, SOCK_RAW) under default:"));
  EXPECT_THAT(r.out, HasSubstr("x86_64  nr 0x29       errno EPERM"));
  // i386's direct socket(2) (359) and the socketcall(2) way in (102).
  EXPECT_THAT(r.out, HasSubstr("x86     nr 0x167      kill process\n"));
  EXPECT_THAT(r.out, HasSubstr("x86     nr 0x66       kill process (through socketcall "
                               "SYS_SOCKET; the filter cannot see its arguments)"));
  EXPECT_THAT(r.out, HasSubstr("x32     nr 0x40000029 kill process"));
  RunResult summary = RunCommand({kBrick, "seccomp", "explain", "default"});
  ASSERT_EQ(summary.ExitCode(), 0) << summary.Describe();
  EXPECT_THAT(summary.out, HasSubstr("dangerous calls allowed: none"));
}

TEST(SeccompCliTest, UnknownSyscallIsRefusedByName) {
  RunResult r = RunCommand({kBrick, "seccomp", "explain", "default", "fooo"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_EQ(r.err, "brick: unknown syscall \"fooo\"\n");
}

}  // namespace
}  // namespace brick::integration
