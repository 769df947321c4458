#include "brick/seccomp/filter.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "brick/seccomp/child_process_for_test.h"

namespace brick::seccomp {
namespace {

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  oci::SeccompSyscall rule;
  rule.names = std::move(names);
  rule.action = std::move(action);
  rule.errno_ret = errno_ret;
  rule.args = std::move(args);
  return rule;
}

oci::Seccomp AllowAllWith(std::vector<oci::SeccompSyscall> rules) {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.architectures = {"SCMP_ARCH_X86_64"};
  profile.syscalls = std::move(rules);
  return profile;
}

BpfProgram CompileOrDie(const oci::Seccomp& profile, const CompileOptions& opts = {}) {
  auto program = CompileFilter(profile, opts);
  if (!program) {
    ADD_FAILURE() << program.error().message();
    return {};
  }
  return std::move(*program);
}

// In the child: set no_new_privs and install, reporting "install <error>" and exiting 2 on
// failure.
void InstallOrExit(int report_fd, const BpfProgram& program) {
  SetNoNewPrivsOrDie();
  auto listener = InstallFilter(program);
  if (!listener) {
    ReportLine(report_fd, "install " + listener.error().message());
    _exit(2);
  }
}

// errno of a failed raw syscall, or 0 when it succeeded.
int ErrnoOf(long rc) { return rc < 0 ? errno : 0; }

std::string ErrnoText(int err) { return std::to_string(err); }

// The lists `brick features` reports must be what CompileFilter really takes.
TEST(SeccompFeaturesTest, EveryKnownActionOperatorArchAndFlagCompiles) {
  for (const std::string& action : KnownSeccompActions()) {
    CompileOrDie(AllowAllWith({Rule({"getppid"}, action)}));
  }
  EXPECT_EQ(KnownSeccompActions().size(), 9u);
  for (const std::string& op : KnownSeccompOperators()) {
    oci::SeccompArg arg;
    arg.index = 0;
    arg.value = 1;
    arg.op = op;
    CompileOrDie(AllowAllWith({Rule({"getpgid"}, "SCMP_ACT_ERRNO", std::nullopt, {arg})}));
  }
  EXPECT_EQ(KnownSeccompOperators().size(), 7u);
  std::vector<std::string> arches = KnownSeccompArchitectures();
  EXPECT_NE(std::find(arches.begin(), arches.end(), "SCMP_ARCH_X86_64"), arches.end());
  for (const std::string& arch : arches) {
    oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
    profile.architectures = {arch};
    auto program = CompileFilter(profile);
    EXPECT_TRUE(program.has_value()) << arch << ": " << program.error().message();
  }
  for (const std::string& flag : KnownSeccompFlags()) {
    oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
    profile.flags = {flag};
    auto program = CompileFilter(profile);
    EXPECT_TRUE(program.has_value()) << flag << ": " << program.error().message();
  }
}

TEST(SeccompFeaturesTest, KernelSupportedFlagsAreKnownAndProbingInstallsNothing) {
  std::vector<std::string> known = KnownSeccompFlags();
  std::vector<std::string> supported = KernelSupportedSeccompFlags();
  for (const std::string& f : supported) {
    EXPECT_NE(std::find(known.begin(), known.end(), f), known.end()) << f;
  }
  // Every kernel brick runs on (5.x+) has TSYNC and LOG.
  EXPECT_NE(std::find(supported.begin(), supported.end(), "SECCOMP_FILTER_FLAG_TSYNC"),
            supported.end());
  EXPECT_NE(std::find(supported.begin(), supported.end(), "SECCOMP_FILTER_FLAG_LOG"),
            supported.end());
  // The probe left this process without a filter.
  EXPECT_EQ(prctl(PR_GET_SECCOMP), 0);
  EXPECT_FALSE(LinkedLibseccompVersion().empty());
}

TEST(CompileFilterTest, ProgramFitsTheKernelLimit) {
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  EXPECT_GT(program.instructions.size(), 0u);
  EXPECT_LT(program.instructions.size(), 4096u);
  EXPECT_EQ(program.flags, 0u);
  EXPECT_FALSE(program.needs_listener);
  EXPECT_TRUE(program.warnings.empty());
}

TEST(CompileFilterTest, UnknownSyscallNameIsAnErrorNamingTheField) {
  oci::Seccomp profile = AllowAllWith({
      Rule({"getppid"}, "SCMP_ACT_ERRNO"),
      Rule({"getppid"}, "SCMP_ACT_ERRNO"),
      Rule({"getppid"}, "SCMP_ACT_ERRNO"),
      Rule({"getppid", "fooo"}, "SCMP_ACT_ERRNO"),
  });
  auto program = CompileFilter(profile, {});
  ASSERT_FALSE(program);
  EXPECT_EQ(program.error().message(),
            fmt::format(R"(linux.seccomp.syscalls[3].names[1]: unknown syscall "fooo" )"
                        "(libseccomp {} does not know it); fix the name, or drop unknown names "
                        "on purpose with brick run --seccomp-allow-unknown or the annotation "
                        "run.brick.seccomp.allow-unknown=true",
                        LinkedLibseccompVersion()));

  auto status = ValidateSeccompNames(profile, false);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), program.error().message());
}

TEST(CompileFilterTest, AllowUnknownTurnsUnknownNamesIntoWarnings) {
  oci::Seccomp profile = AllowAllWith({Rule({"fooo", "getppid"}, "SCMP_ACT_ERRNO")});
  CompileOptions opts;
  opts.allow_unknown_syscalls = true;
  BpfProgram program = CompileOrDie(profile, opts);
  ASSERT_EQ(program.warnings.size(), 1u);
  EXPECT_TRUE(program.warnings[0].starts_with(
      R"(linux.seccomp.syscalls[0].names[0]: unknown syscall "fooo" ignored)"))
      << program.warnings[0];
  EXPECT_TRUE(ValidateSeccompNames(profile, true));

  // The known name in the same rule is still enforced.
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "getppid " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["getppid"], ErrnoText(EPERM));
}

oci::SeccompArg ArgEq(uint32_t index, uint64_t value) { return {index, value, 0, "SCMP_CMP_EQ"}; }

TEST(ArgIndexTest, IndexBeyondTheSyscallsArgumentsIsAnErrorNamingSyscallIndexAndCount) {
  oci::Seccomp profile = AllowAllWith(
      {Rule({"getppid"}, "SCMP_ACT_ERRNO"), Rule({"getpid"}, "SCMP_ACT_ERRNO", {}, {ArgEq(4, 0)})});
  auto program = CompileFilter(profile);
  ASSERT_FALSE(program);
  EXPECT_EQ(program.error().message(),
            "linux.seccomp.syscalls[1].args[0].index (names[0]): getpid takes no arguments on "
            "x86_64, so argument index 4 would compare a register the kernel does not read for "
            "it; remove the condition, or move getpid to a rule without args");
  auto status = ValidateSeccompNames(profile, false);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), program.error().message());

  // One name of several: the message names the one that lacks the argument.
  profile = AllowAllWith({Rule({"write", "read", "close"}, "SCMP_ACT_ERRNO", {}, {ArgEq(2, 7)})});
  program = CompileFilter(profile);
  ASSERT_FALSE(program);
  EXPECT_EQ(program.error().message(),
            "linux.seccomp.syscalls[0].args[0].index (names[2]): close takes 1 argument on "
            "x86_64, so argument index 2 would compare a register the kernel does not read for "
            "it; use an index from 0 to 0, or move close to its own rule");
}

TEST(ArgIndexTest, LastArgumentOfEachCallIsAccepted) {
  CompileOrDie(AllowAllWith({Rule({"read", "write"}, "SCMP_ACT_ERRNO", {}, {ArgEq(2, 7)})}));
  CompileOrDie(AllowAllWith({Rule({"mmap"}, "SCMP_ACT_ERRNO", {}, {ArgEq(5, 7)})}));
  CompileOrDie(AllowAllWith({Rule({"personality"}, "SCMP_ACT_ERRNO", {}, {ArgEq(0, 7)})}));
  auto read3 = CompileFilter(AllowAllWith({Rule({"read"}, "SCMP_ACT_ERRNO", {}, {ArgEq(3, 7)})}));
  ASSERT_FALSE(read3);
  EXPECT_NE(read3.error().message().find("read takes 3 arguments on x86_64, so argument index 3"),
            std::string::npos)
      << read3.error().message();
}

TEST(ArgIndexTest, ThirtyTwoBitArchitecturesMayUseTwiceTheRegisters) {
  // fallocate(fd, mode, offset, len): four registers on x86_64, six on x86 (two 64-bit values
  // split in halves), so index 5 means something only where x86 is covered.
  oci::Seccomp profile = AllowAllWith({Rule({"fallocate"}, "SCMP_ACT_ERRNO", {}, {ArgEq(5, 0)})});
  auto native_only = CompileFilter(profile);
  ASSERT_FALSE(native_only);
  EXPECT_NE(native_only.error().message().find("fallocate takes 4 arguments on x86_64"),
            std::string::npos)
      << native_only.error().message();
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  CompileOrDie(profile);

  // getpid has no argument on any of them.
  profile.syscalls = {Rule({"getpid"}, "SCMP_ACT_ERRNO", {}, {ArgEq(1, 0)})};
  auto getpid = CompileFilter(profile);
  ASSERT_FALSE(getpid);
  EXPECT_NE(getpid.error().message().find("getpid takes no arguments on x86_64"), std::string::npos)
      << getpid.error().message();

  // read: three on x86_64, at most six registers on x86.
  profile.syscalls = {Rule({"read"}, "SCMP_ACT_ERRNO", {}, {ArgEq(3, 0)})};
  CompileOrDie(profile);
}

TEST(ArgIndexTest, SyscallsWithoutATableEntryKeepTheSixArgumentCheck) {
  // No tracepoint on the kernel the table came from (see syscall_arg_counts.cc).
  CompileOrDie(AllowAllWith({Rule({"init_module"}, "SCMP_ACT_ERRNO", {}, {ArgEq(5, 0)})}));
  // A name that exists only on x86 is not in the x86_64 table either.
  CompileOrDie(AllowAllWith({Rule({"socketcall"}, "SCMP_ACT_ERRNO", {}, {ArgEq(5, 0)})}));
}

TEST(EmptyAllowListTest, DenyingDefaultWithoutAnyAllowedSyscallIsAnError) {
  const std::string message =
      "linux.seccomp: the profile allows no syscall (defaultAction {} and no rule allows one), "
      "so the container cannot even execve; add the syscalls it needs to syscalls[] or learn "
      "a profile with brick seccomp learn";
  for (const char* action : {"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                             "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"}) {
    oci::Seccomp profile;
    profile.default_action = action;
    auto empty = CompileFilter(profile);
    ASSERT_FALSE(empty) << action;
    EXPECT_EQ(empty.error().message(), fmt::format(fmt::runtime(message), action));
    // Rules that only refuse, differently, change nothing.
    profile.syscalls = {Rule({"getpid"}, "SCMP_ACT_ERRNO", ENOSYS)};
    auto refusing = CompileFilter(profile);
    ASSERT_FALSE(refusing) << action;
    EXPECT_EQ(refusing.error().message(), fmt::format(fmt::runtime(message), action));
    EXPECT_FALSE(ValidateSeccompNames(profile, false));
  }
}

TEST(EmptyAllowListTest, AllowRuleWhoseNamesWereAllDroppedAllowsNothing) {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.syscalls = {Rule({"brick_no_such_call"}, "SCMP_ACT_ALLOW")};
  CompileOptions opts;
  opts.allow_unknown_syscalls = true;
  auto program = CompileFilter(profile, opts);
  ASSERT_FALSE(program);
  EXPECT_TRUE(program.error().message().starts_with("linux.seccomp: the profile allows no syscall"))
      << program.error().message();
}

TEST(EmptyAllowListTest, OneAllowedOrDeferredSyscallOrAPermissiveDefaultIsEnough) {
  for (const char* action : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}) {
    oci::Seccomp profile;
    profile.default_action = "SCMP_ACT_ERRNO";
    profile.syscalls = {Rule({"execve"}, action)};
    CompileOrDie(profile);
  }
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.listener_path = "/run/agent.sock";
  profile.syscalls = {Rule({"execve"}, "SCMP_ACT_NOTIFY")};
  CompileOrDie(profile);
  for (const char* action : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}) {
    oci::Seccomp permissive;
    permissive.default_action = action;
    CompileOrDie(permissive);
  }
}

TEST(ArchitectureTest, OtherByteOrderIsExplained) {
  for (const char* arch : {"SCMP_ARCH_S390X", "SCMP_ARCH_PPC64", "SCMP_ARCH_MIPS"}) {
    oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
    profile.architectures.push_back(arch);
    auto program = CompileFilter(profile);
    ASSERT_FALSE(program) << arch;
    EXPECT_EQ(program.error().message(),
              fmt::format("linux.seccomp.architectures[1]: {} cannot be added to a filter for "
                          "x86_64 (different byte order: {} is big-endian, x86_64 is "
                          "little-endian); remove it",
                          arch, arch));
    EXPECT_FALSE(ValidateSeccompNames(profile, false));
    std::vector<std::string> known = KnownSeccompArchitectures();
    EXPECT_EQ(std::find(known.begin(), known.end(), arch), known.end()) << arch;
  }
  // Another word size in the same byte order is fine: one filter covers x86_64 and x86.
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64",
                           "SCMP_ARCH_ARM"};
  CompileOrDie(profile);
}

TEST(CompileFilterTest, NameOnlyOnAnotherArchitectureIsSkippedQuietly) {
  // vm86 exists on x86 only; the filter covers x86_64 only.
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"vm86", "getppid"}, "SCMP_ACT_ERRNO")}));
  EXPECT_TRUE(program.warnings.empty());
  EXPECT_GT(program.instructions.size(), 0u);
}

struct BadProfileCase {
  std::string name;
  std::function<void(oci::Seccomp&)> mutate;
  std::string message;
};

class BadProfileTest : public ::testing::TestWithParam<BadProfileCase> {};

TEST_P(BadProfileTest, ErrorNamesTheField) {
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
  GetParam().mutate(profile);
  auto program = CompileFilter(profile, {});
  ASSERT_FALSE(program);
  EXPECT_EQ(program.error().message(), GetParam().message);
  auto status = ValidateSeccompNames(profile, true);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadProfileTest,
    ::testing::Values(
        BadProfileCase{"UnknownDefaultAction",
                       [](oci::Seccomp& p) { p.default_action = "SCMP_ACT_ALLOWED"; },
                       "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_ALLOWED\"; use one "
                       "of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, "
                       "SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, "
                       "SCMP_ACT_LOG, SCMP_ACT_NOTIFY"},
        BadProfileCase{"NotifyAsDefault",
                       [](oci::Seccomp& p) { p.default_action = "SCMP_ACT_NOTIFY"; },
                       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default; "
                       "notify on named syscalls instead"},
        BadProfileCase{"DefaultErrnoRetWithoutErrnoAction",
                       [](oci::Seccomp& p) { p.default_errno_ret = 1; },
                       "linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE "
                       "take an errno, not SCMP_ACT_ALLOW; remove it"},
        BadProfileCase{"ErrnoRetTooLarge", [](oci::Seccomp& p) { p.syscalls[0].errno_ret = 4095; },
                       "linux.seccomp.syscalls[0].errnoRet: 4095 is above 4094, the largest "
                       "errno seccomp can return"},
        BadProfileCase{"TraceDataTooLarge",
                       [](oci::Seccomp& p) {
                         p.syscalls[0].action = "SCMP_ACT_TRACE";
                         p.syscalls[0].errno_ret = 65536;
                       },
                       "linux.seccomp.syscalls[0].errnoRet: 65536 does not fit the 16 bits "
                       "seccomp passes to the tracer; use at most 65535"},
        BadProfileCase{"UnknownRuleAction",
                       [](oci::Seccomp& p) { p.syscalls[0].action = "SCMP_ACT_DENY"; },
                       "linux.seccomp.syscalls[0].action: unknown action \"SCMP_ACT_DENY\"; use "
                       "one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, "
                       "SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, "
                       "SCMP_ACT_LOG, SCMP_ACT_NOTIFY"},
        BadProfileCase{"UnknownArchitecture",
                       [](oci::Seccomp& p) { p.architectures.push_back("SCMP_ARCH_VAX"); },
                       "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"; "
                       "use an SCMP_ARCH_* name such as SCMP_ARCH_X86_64"},
        BadProfileCase{"UnknownFlag",
                       [](oci::Seccomp& p) { p.flags = {"SECCOMP_FILTER_FLAG_NEW_LISTENER"}; },
                       "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NEW_LISTENER\"; "
                       "use SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, "
                       "SECCOMP_FILTER_FLAG_SPEC_ALLOW or "
                       "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"},
        BadProfileCase{"ArgIndexOutOfRange",
                       [](oci::Seccomp& p) {
                         p.syscalls[0].args = {{0, 1, 0, "SCMP_CMP_EQ"}, {6, 1, 0, "SCMP_CMP_EQ"}};
                       },
                       "linux.seccomp.syscalls[0].args[1].index: 6 is out of range; syscall "
                       "arguments are numbered 0 to 5"},
        BadProfileCase{"UnknownOperator",
                       [](oci::Seccomp& p) {
                         p.syscalls[0].args = {{0, 1, 0, "SCMP_CMP_EQUAL"}};
                       },
                       "linux.seccomp.syscalls[0].args[0].op: unknown operator "
                       "\"SCMP_CMP_EQUAL\"; use one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
                       "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ"},
        BadProfileCase{"EmptyNames", [](oci::Seccomp& p) { p.syscalls[0].names.clear(); },
                       "linux.seccomp.syscalls[0].names: empty; list at least one syscall name"}),
    [](const ::testing::TestParamInfo<BadProfileCase>& info) { return info.param.name; });

TEST(CompileFilterTest, LargestErrnoIsAccepted) {
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO", 4094)}));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "getppid " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["getppid"], "4094");
}

TEST(CompileFilterTest, ErrnoRetIsHonoured) {
  BpfProgram program = CompileOrDie(AllowAllWith({
      Rule({"getppid"}, "SCMP_ACT_ERRNO", ENOSYS),
      Rule({"getpgid"}, "SCMP_ACT_ERRNO"),  // no errnoRet: EPERM
  }));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "getppid " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
    ReportLine(fd, "getpgid " + ErrnoText(ErrnoOf(syscall(SYS_getpgid, 0))));
    ReportLine(fd, "getsid " + ErrnoText(ErrnoOf(syscall(SYS_getsid, 0))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  EXPECT_EQ(lines["getppid"], ErrnoText(ENOSYS));
  EXPECT_EQ(lines["getpgid"], ErrnoText(EPERM));
  EXPECT_EQ(lines["getsid"], "0");
}

TEST(CompileFilterTest, DefaultErrnoRetIsHonoured) {
  // Deny everything with EXDEV except what the child needs to report and exit.
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.default_errno_ret = EXDEV;
  profile.syscalls = {Rule({"write", "exit_group", "exit"}, "SCMP_ACT_ALLOW")};
  BpfProgram program = CompileOrDie(profile);
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "getppid " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["getppid"], ErrnoText(EXDEV));
}

TEST(CompileFilterTest, RuleRepeatingTheDefaultActionIsSkipped) {
  oci::Seccomp profile =
      AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ALLOW"), Rule({"getpgid"}, "SCMP_ACT_ERRNO")});
  BpfProgram program = CompileOrDie(profile);
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "getppid " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
    ReportLine(fd, "getpgid " + ErrnoText(ErrnoOf(syscall(SYS_getpgid, 0))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["getppid"], "0");
  EXPECT_EQ(r.Lines()["getpgid"], ErrnoText(EPERM));
}

// close(2) on fds that are not open: EBADF when the filter lets it through, EXDEV when a rule
// matched. Probing 5000..5010 covers values below, at and above the compared one.
struct ArgCase {
  std::string name;
  std::vector<oci::SeccompArg> args;
  std::vector<int> denied;  // fds in [5000, 5010] the rule must match
};

class ArgComparisonTest : public ::testing::TestWithParam<ArgCase> {};

TEST_P(ArgComparisonTest, MatchesExactlyTheExpectedValues) {
  BpfProgram program =
      CompileOrDie(AllowAllWith({Rule({"close"}, "SCMP_ACT_ERRNO", EXDEV, GetParam().args)}));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    for (int probe = 5000; probe <= 5010; ++probe) {
      ReportLine(fd, fmt::format("{} {}", probe, ErrnoOf(syscall(SYS_close, probe))));
    }
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  for (int probe = 5000; probe <= 5010; ++probe) {
    bool denied = std::find(GetParam().denied.begin(), GetParam().denied.end(), probe) !=
                  GetParam().denied.end();
    EXPECT_EQ(lines[std::to_string(probe)], ErrnoText(denied ? EXDEV : EBADF)) << "fd " << probe;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Operators, ArgComparisonTest,
    ::testing::Values(
        ArgCase{"Eq", {{0, 5003, 0, "SCMP_CMP_EQ"}}, {5003}},
        ArgCase{"Ne",
                {{0, 5003, 0, "SCMP_CMP_NE"}},
                {5000, 5001, 5002, 5004, 5005, 5006, 5007, 5008, 5009, 5010}},
        ArgCase{"Lt", {{0, 5003, 0, "SCMP_CMP_LT"}}, {5000, 5001, 5002}},
        ArgCase{"Le", {{0, 5003, 0, "SCMP_CMP_LE"}}, {5000, 5001, 5002, 5003}},
        ArgCase{"Gt", {{0, 5008, 0, "SCMP_CMP_GT"}}, {5009, 5010}},
        ArgCase{"Ge", {{0, 5008, 0, "SCMP_CMP_GE"}}, {5008, 5009, 5010}},
        // value is the mask, valueTwo the wanted result: odd fds.
        ArgCase{"MaskedEq", {{0, 1, 1, "SCMP_CMP_MASKED_EQ"}}, {5001, 5003, 5005, 5007, 5009}},
        // The same argument twice: one rule per condition, OR'ed (the runc convention).
        ArgCase{"SameArgTwiceOr",
                {{0, 5002, 0, "SCMP_CMP_EQ"}, {0, 5007, 0, "SCMP_CMP_EQ"}},
                {5002, 5007}}),
    [](const ::testing::TestParamInfo<ArgCase>& info) { return info.param.name; });

// dup2(2) of fds that are not open: EBADF when the filter lets it through. (close takes one
// argument, so a condition on its second one is refused, see ArgIndexTest.)
TEST(CompileFilterTest, ConditionsOnDifferentArgumentsAreAnded) {
  BpfProgram program =
      CompileOrDie(AllowAllWith({Rule({"dup2"}, "SCMP_ACT_ERRNO", EXDEV,
                                      {{0, 5003, 0, "SCMP_CMP_GE"}, {1, 7, 0, "SCMP_CMP_EQ"}})}));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    for (int probe = 5001; probe <= 5005; ++probe) {
      for (int second : {7, 8}) {
        ReportLine(
            fd, fmt::format("{}/{} {}", probe, second, ErrnoOf(syscall(SYS_dup2, probe, second))));
      }
    }
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  for (int probe = 5001; probe <= 5005; ++probe) {
    for (int second : {7, 8}) {
      bool denied = probe >= 5003 && second == 7;
      EXPECT_EQ(lines[fmt::format("{}/{}", probe, second)], ErrnoText(denied ? EXDEV : EBADF))
          << "dup2(" << probe << ", " << second << ")";
    }
  }
}

TEST(CompileFilterTest, RepeatedArgumentTurnsEveryConditionIntoItsOwnRule) {
  // runc's convention, kept for compatibility: once one argument repeats, all conditions of the
  // entry are OR'ed, including the one on another argument.
  BpfProgram program = CompileOrDie(AllowAllWith({Rule(
      {"dup2"}, "SCMP_ACT_ERRNO", EXDEV,
      {{0, 5002, 0, "SCMP_CMP_EQ"}, {0, 5004, 0, "SCMP_CMP_EQ"}, {1, 7, 0, "SCMP_CMP_EQ"}})}));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    for (int probe = 5001; probe <= 5005; ++probe) {
      ReportLine(fd, fmt::format("{} {}", probe, ErrnoOf(syscall(SYS_dup2, probe, 0))));
    }
    ReportLine(fd, fmt::format("5001/7 {}", ErrnoOf(syscall(SYS_dup2, 5001, 7))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  EXPECT_EQ(lines["5001"], ErrnoText(EBADF));
  EXPECT_EQ(lines["5002"], ErrnoText(EXDEV));
  EXPECT_EQ(lines["5003"], ErrnoText(EBADF));
  EXPECT_EQ(lines["5004"], ErrnoText(EXDEV));
  EXPECT_EQ(lines["5005"], ErrnoText(EBADF));
  EXPECT_EQ(lines["5001/7"], ErrnoText(EXDEV));
}

TEST(CompileFilterTest, PersonalityDeniedUnlessArgZeroIsZero) {
  // The shape Docker uses for personality, inverted: only personality(0) may run.
  BpfProgram program = CompileOrDie(
      AllowAllWith({Rule({"personality"}, "SCMP_ACT_ERRNO", EPERM, {{0, 0, 0, "SCMP_CMP_NE"}})}));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "zero " + ErrnoText(ErrnoOf(syscall(SYS_personality, 0))));
    ReportLine(fd, "linux32 " + ErrnoText(ErrnoOf(syscall(SYS_personality, 8))));
    ReportLine(fd, "query " + ErrnoText(ErrnoOf(syscall(SYS_personality, 0xffffffffUL))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  EXPECT_EQ(lines["zero"], "0");
  EXPECT_EQ(lines["linux32"], ErrnoText(EPERM));
  EXPECT_EQ(lines["query"], ErrnoText(EPERM));
}

TEST(CompileFilterTest, NotifyProducesAListenerFd) {
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"getppid"}, "SCMP_ACT_NOTIFY")}));
  ASSERT_TRUE(program.needs_listener);
  EXPECT_EQ(program.flags, static_cast<unsigned int>(SECCOMP_FILTER_FLAG_NEW_LISTENER));
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    if (!listener) {
      ReportLine(fd, "install " + listener.error().message());
      _exit(2);
    }
    ReportLine(fd, fmt::format("valid {}", listener->valid()));
    int fd_flags = fcntl(listener->get(), F_GETFD);
    ReportLine(fd, fmt::format("cloexec {}", fd_flags >= 0 && (fd_flags & FD_CLOEXEC) != 0));
    char target[256] = {};
    ssize_t n = readlink(fmt::format("/proc/self/fd/{}", listener->get()).c_str(), target,
                         sizeof(target) - 1);
    ReportLine(fd, fmt::format("target {}", n > 0 ? target : "?"));
    // Exits without making the notified syscall: nobody would answer it.
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  auto lines = r.Lines();
  EXPECT_EQ(lines["valid"], "true");
  EXPECT_EQ(lines["cloexec"], "true");
  EXPECT_EQ(lines["target"], "anon_inode:seccomp notify");
}

TEST(CompileFilterTest, WithoutNotifyNoListenerIsReturned) {
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    ReportLine(fd, fmt::format("ok {}", listener.has_value()));
    ReportLine(fd, fmt::format("valid {}", listener && listener->valid()));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["ok"], "true");
  EXPECT_EQ(r.Lines()["valid"], "false");
}

TEST(CompileFilterTest, ConfigFlagsArePassed) {
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                   "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  BpfProgram program = CompileOrDie(profile);
  EXPECT_EQ(program.flags,
            static_cast<unsigned int>(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                      SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "getppid " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["getppid"], ErrnoText(EPERM));
}

// Starts a second thread that waits until the main thread installed the filter, then calls
// getppid; reports what each thread saw.
void InstallWithSecondThread(int fd, const BpfProgram& program) {
  int go[2];
  if (pipe(go) != 0) {
    _exit(3);
  }
  int thread_errno = -1;
  std::thread other([&] {
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    thread_errno = ErrnoOf(syscall(SYS_getppid));
  });
  SetNoNewPrivsOrDie();
  auto listener = InstallFilter(program);
  if (!listener) {
    ReportLine(fd, "install " + listener.error().message());
  }
  if (write(go[1], "x", 1) != 1) {
    _exit(4);
  }
  other.join();
  ReportLine(fd, "main " + ErrnoText(ErrnoOf(syscall(SYS_getppid))));
  ReportLine(fd, "thread " + ErrnoText(thread_errno));
}

TEST(CompileFilterTest, TsyncFilterReachesOtherThreads) {
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO", EXDEV)});
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
  BpfProgram program = CompileOrDie(profile);
  ASSERT_EQ(program.flags, static_cast<unsigned int>(SECCOMP_FILTER_FLAG_TSYNC));
  ChildResult r = RunInChild([&](int fd) { InstallWithSecondThread(fd, program); });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["main"], ErrnoText(EXDEV));
  EXPECT_EQ(r.Lines()["thread"], ErrnoText(EXDEV));
}

TEST(CompileFilterTest, WithoutTsyncOtherThreadsAreNotFiltered) {
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO", EXDEV)}));
  ChildResult r = RunInChild([&](int fd) { InstallWithSecondThread(fd, program); });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["main"], ErrnoText(EXDEV));
  EXPECT_EQ(r.Lines()["thread"], "0");
}

TEST(CompileFilterTest, TsyncWithNotifyAsksForEsrch) {
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_NOTIFY")});
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
  BpfProgram program = CompileOrDie(profile);
  EXPECT_EQ(program.flags,
            static_cast<unsigned int>(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                      SECCOMP_FILTER_FLAG_TSYNC_ESRCH));
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    ReportLine(fd, "installed");
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.report, "installed\n");
}

TEST(CompileFilterTest, WaitKillableRecvNeedsNotify) {
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
  profile.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  BpfProgram program = CompileOrDie(profile);
  EXPECT_EQ(program.flags, static_cast<unsigned int>(SECCOMP_FILTER_FLAG_LOG));
  ASSERT_EQ(program.warnings.size(), 1u);
  EXPECT_EQ(program.warnings[0],
            "linux.seccomp.flags[1]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored, no rule "
            "uses SCMP_ACT_NOTIFY");

  profile.syscalls.push_back(Rule({"getpgid"}, "SCMP_ACT_NOTIFY"));
  program = CompileOrDie(profile);
  EXPECT_EQ(program.flags, static_cast<unsigned int>(SECCOMP_FILTER_FLAG_LOG |
                                                     SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV |
                                                     SECCOMP_FILTER_FLAG_NEW_LISTENER));
  EXPECT_TRUE(program.warnings.empty());
}

TEST(CompileFilterTest, ArchitectureUnknownToLibseccompIsNamed) {
  if (seccomp_arch_resolve_name("loongarch64") != 0) {
    GTEST_SKIP() << "this libseccomp supports SCMP_ARCH_LOONGARCH64";
  }
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")});
  profile.architectures.push_back("SCMP_ARCH_LOONGARCH64");
  auto program = CompileFilter(profile, {});
  ASSERT_FALSE(program);
  EXPECT_TRUE(program.error().message().starts_with(
      "linux.seccomp.architectures[1]: SCMP_ARCH_LOONGARCH64 is not supported by libseccomp "))
      << program.error().message();
}

// ia32 syscall through int $0x80: number in eax, one argument in ebx.
long Ia32Syscall(long nr, long arg0) {
  long ret;
  asm volatile("int $0x80"
               : "=a"(ret)
               : "a"(nr), "b"(arg0)
               : "memory", "cc", "r8", "r9", "r10", "r11");
  return ret;
}
constexpr long kIa32Getpid = 20;
constexpr long kIa32Getppid = 64;

TEST(CompileFilterTest, AddedArchitectureGetsTheSameRules) {
  ChildResult control = RunInChild([](int fd) {
    ReportLine(fd, fmt::format("ia32 {}", Ia32Syscall(kIa32Getpid, 0) == getpid()));
  });
  if (control.KilledBy(SIGSEGV)) {
    GTEST_SKIP()
        << "the kernel refuses int $0x80 itself (SIGSEGV before seccomp runs): ia32 emulation is "
           "disabled at runtime (CONFIG_IA32_EMULATION=y, but ia32_emulation is off)";
  }
  ASSERT_TRUE(control.Exited(0) && control.Lines()["ia32"] == "true") << control.Describe();
  oci::Seccomp profile = AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO", EXDEV)});
  profile.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  BpfProgram program = CompileOrDie(profile);
  ChildResult r = RunInChild([&](int fd) {
    InstallOrExit(fd, program);
    // int $0x80 returns -errno in eax.
    ReportLine(fd, fmt::format("getpid {}", Ia32Syscall(kIa32Getpid, 0) == getpid()));
    ReportLine(fd, fmt::format("getppid {}", -static_cast<int>(Ia32Syscall(kIa32Getppid, 0))));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.Lines()["getpid"], "true");
  EXPECT_EQ(r.Lines()["getppid"], ErrnoText(EXDEV));
}

TEST(InstallFilterTest, FlagTheKernelRejectsIsNamed) {
  BpfProgram program = CompileOrDie(AllowAllWith({Rule({"getppid"}, "SCMP_ACT_ERRNO")}));
  program.flags |= 1u << 20;  // no such flag
  ChildResult r = RunInChild([&](int fd) {
    SetNoNewPrivsOrDie();
    auto listener = InstallFilter(program);
    ReportLine(fd, listener ? "installed" : listener.error().message());
    ReportLine(fd, fmt::format("errno {}", listener ? 0 : listener.error().errnum()));
  });
  ASSERT_TRUE(r.Exited(0)) << r.Describe();
  EXPECT_EQ(r.report,
            "install seccomp filter: the kernel does not support 0x100000; remove it from "
            "linux.seccomp.flags or upgrade the kernel: invalid argument\nerrno 22\n");
}

TEST(InstallFilterTest, EmptyProgramIsRefusedWithoutASyscall) {
  auto listener = InstallFilter(BpfProgram{});
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error().message(),
            "install seccomp filter: 0 instructions; a program has 1 to 4096");
}

TEST(SeccompFlagNameTest, NamesKnownFlags) {
  EXPECT_EQ(SeccompFlagName(SECCOMP_FILTER_FLAG_TSYNC), "SECCOMP_FILTER_FLAG_TSYNC");
  EXPECT_EQ(SeccompFlagName(SECCOMP_FILTER_FLAG_NEW_LISTENER), "SECCOMP_FILTER_FLAG_NEW_LISTENER");
  EXPECT_EQ(SeccompFlagName(1u << 20), "0x100000");
}

}  // namespace
}  // namespace brick::seccomp
