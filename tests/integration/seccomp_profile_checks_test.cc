// Profiles brick refuses before a container runs, and the warnings it prints, seen through the
// real brick binary: unknown syscall names (an error; dropped with a warning under
// --seccomp-allow-unknown or the run.brick.seccomp.allow-unknown annotation, also for
// create/start and exec), an argument index the syscall does not take, a profile that allows
// nothing, and an architecture of the other byte order.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "container.h"
#include "harness.h"
#include "lifecycle_fixture.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUnknownName[] = "brick_future_call";
constexpr char kAnnotation[] = "run.brick.seccomp.allow-unknown";

// brick's default profile, as `brick seccomp default` prints it.
json DefaultProfile() {
  RunResult r = RunCommand({kBrick, "seccomp", "default"});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  return json::parse(r.out, nullptr, false);
}

// The default profile plus a deny rule for a name libseccomp does not know; *rule is that
// rule's index.
json WithUnknownName(size_t* rule) {
  json p = DefaultProfile();
  *rule = p["syscalls"].size();
  p["syscalls"].push_back({{"names", {kUnknownName}}, {"action", "SCMP_ACT_ERRNO"}});
  return p;
}

std::string UnknownError(size_t rule) {
  return "linux.seccomp.syscalls[" + std::to_string(rule) + "].names[0]: unknown syscall \"" +
         kUnknownName + "\"";
}

class SeccompProfileChecksTest : public ::testing::Test {
 protected:
  std::string Write(const json& profile) {
    std::string path = dir_ / ("profile" + std::to_string(files_++) + ".json");
    EXPECT_TRUE(WriteFile(path, profile.dump()));
    return path;
  }
  TempDir dir_;
  int files_ = 0;
};

TEST_F(SeccompProfileChecksTest, UnknownSyscallIsAnErrorNamingIt) {
  size_t rule = 0;
  std::string profile = Write(WithUnknownName(&rule));
  RunResult r = BrickRun({"--seccomp", profile}, {"/bin/sh", "-c", "echo ran"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(UnknownError(rule)));
  EXPECT_THAT(r.out, Not(HasSubstr("ran")));
}

TEST_F(SeccompProfileChecksTest, AllowUnknownDropsTheNameWithAWarningAndTheContainerRuns) {
  size_t rule = 0;
  std::string profile = Write(WithUnknownName(&rule));
  // Twice: the second start finds the compiled filter in the cache, and its warning with it.
  for (int run = 0; run < 2; ++run) {
    RunResult r =
        BrickRun({"--seccomp", profile, "--seccomp-allow-unknown"}, {"/bin/sh", "-c", "echo ran"});
    EXPECT_EQ(r.ExitCode(), 0) << "run " << run << ": " << r.Describe();
    EXPECT_EQ(r.out, "ran\n");
    EXPECT_THAT(r.err, HasSubstr("brick: warning: " + UnknownError(rule) + " ignored"))
        << "run " << run;
  }
  // The rest of the profile is enforced.
  std::string line;
  ASSERT_TRUE(ProbeLine({"--seccomp", profile, "--seccomp-allow-unknown"},
                        {"syscall", "kexec_load"}, &line));
  EXPECT_EQ(line, "errno EPERM");
}

TEST_F(SeccompProfileChecksTest, ArgumentIndexTheSyscallDoesNotTakeIsRefused) {
  json p = DefaultProfile();
  size_t rule = p["syscalls"].size();
  p["syscalls"].push_back({{"names", {"getpid"}},
                           {"action", "SCMP_ACT_ERRNO"},
                           {"args", {{{"index", 4}, {"value", 0}, {"op", "SCMP_CMP_EQ"}}}}});
  RunResult r = BrickRun({"--seccomp", Write(p)}, {"/bin/true"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("linux.seccomp.syscalls[" + std::to_string(rule) +
                               "].args[0].index (names[0]): getpid takes no arguments on "
                               "x86_64, so argument index 4 would compare a register"));
}

TEST_F(SeccompProfileChecksTest, ProfileThatAllowsNothingIsRefused) {
  json p = {{"defaultAction", "SCMP_ACT_ERRNO"},
            {"syscalls", {{{"names", {"kexec_load"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}}}};
  RunResult r = BrickRun({"--seccomp", Write(p)}, {"/bin/true"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("linux.seccomp: the profile allows no syscall (defaultAction "
                               "SCMP_ACT_ERRNO and no rule allows one), so the container cannot "
                               "even execve; add the syscalls it needs to syscalls[] or learn a "
                               "profile with brick seccomp learn"));
}

TEST_F(SeccompProfileChecksTest, BigEndianArchitectureIsExplained) {
  json p = DefaultProfile();
  p["architectures"] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_S390X"};
  RunResult r = BrickRun({"--seccomp", Write(p)}, {"/bin/true"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("linux.seccomp.architectures[1]: SCMP_ARCH_S390X cannot be added "
                               "to a filter for x86_64 (different byte order: SCMP_ARCH_S390X is "
                               "big-endian, x86_64 is little-endian); remove it"));
  EXPECT_THAT(r.err, Not(HasSubstr("out of domain")));
}

// FilterCache's own warnings reach stderr too. brick runs in a mount namespace of its own
// whose /var/cache is a fresh tmpfs with a cache directory the cache must not trust (mode 0755),
// so the host's cache and mounts are untouched.
TEST_F(SeccompProfileChecksTest, UntrustedFilterCacheIsReportedAndTheContainerRuns) {
  RunResult r = RunCommand(
      {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
       "mount -t tmpfs -o mode=0755 brick-test /var/cache && "
       "mkdir -m 0755 /var/cache/brick /var/cache/brick/seccomp && exec \"$0\" run -- /bin/sh "
       "-c 'echo ran'",
       kBrick});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_THAT(r.err, HasSubstr("brick: warning: seccomp cache: /var/cache/brick/seccomp is owned "
                               "by uid 0 with mode 755, not root with 0700; not used"));
}

// Engines pass the option in config.json; exec reads the saved config and compiles alike.
class SeccompAllowUnknownBundleTest : public DetachedContainerTest {
 protected:
  void Configure(const std::string& annotation) {
    std::ifstream in(bundle_ / "config.json");
    json c = json::parse(in);
    c["linux"]["seccomp"] = WithUnknownName(&rule_);
    if (!annotation.empty()) {
      c["annotations"][kAnnotation] = annotation;
    }
    ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  }
  size_t rule_ = 0;
};

TEST_F(SeccompAllowUnknownBundleTest, WithoutTheAnnotationCreateFails) {
  Configure("");
  RunResult c = Create();
  EXPECT_NE(c.ExitCode(), 0) << c.Describe();
  EXPECT_THAT(c.err, HasSubstr(UnknownError(rule_)));
}

TEST_F(SeccompAllowUnknownBundleTest, AnnotationLetsCreateStartAndExecWarn) {
  Configure("true");
  RunResult c = Create();
  ASSERT_EQ(c.ExitCode(), 0) << c.Describe();
  EXPECT_THAT(c.err, HasSubstr("brick: warning: " + UnknownError(rule_) + " ignored"));
  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "running");
  RunResult e = Brick({"exec", id_, "/bin/sh", "-c", "echo exec ran"});
  EXPECT_EQ(e.ExitCode(), 0) << e.Describe();
  EXPECT_EQ(e.out, "exec ran\n");
  EXPECT_THAT(e.err, HasSubstr("brick: warning: " + UnknownError(rule_) + " ignored"));
}

TEST_F(SeccompAllowUnknownBundleTest, AnnotationValueOtherThanTrueOrFalseIsRefused) {
  Configure("yes");
  RunResult c = Create();
  EXPECT_NE(c.ExitCode(), 0) << c.Describe();
  EXPECT_THAT(c.err, HasSubstr("annotations[\"run.brick.seccomp.allow-unknown\"]: \"yes\" is "
                               "neither \"true\" nor \"false\""));
}

}  // namespace
}  // namespace brick::integration
