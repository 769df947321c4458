#include "brick/seccomp/learn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "brick/seccomp/child_process_for_test.h"
#include "brick/seccomp/event_log.h"
#include "brick/seccomp/filter.h"
#include "brick/seccomp/profile_json.h"
#include "brick/sys/fs.h"

namespace brick::seccomp {
namespace {

constexpr char kBusybox[] = "/bin/busybox";

// Learns argv with stdout and stderr sent to /dev/null (the learner inherits them).
Result<LearnResult> LearnQuietly(const LearnOptions& opts) {
  int saved_out = dup(1);
  int saved_err = dup(2);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  dup2(null, 1);
  dup2(null, 2);
  auto r = LearnSyscalls(opts);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  close(null);
  return r;
}

// Runs argv under `program` in a forked child; returns its wait status.
ChildResult RunUnder(const BpfProgram& program, std::vector<std::string> args) {
  return RunInChild([&](int fd) {
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    SetNoNewPrivsOrDie();
    auto installed = InstallFilter(program);
    if (!installed) {
      ReportLine(fd, "install " + installed.error().message());
      _exit(2);
    }
    execv(argv[0], argv.data());
    _exit(99);
  });
}

TEST(LearnTest, RoundTripLearnEnforceAndRefuseAnotherWorkload) {
  if (access(kBusybox, X_OK) != 0) {
    GTEST_SKIP() << "no static busybox at " << kBusybox;
  }
  LearnOptions opts;
  opts.argv = {kBusybox, "sh", "-c", "echo hi; ls /"};
  auto learned = LearnQuietly(opts);
  ASSERT_TRUE(learned) << learned.error().message();
  EXPECT_TRUE(WIFEXITED(learned->wait_status) && WEXITSTATUS(learned->wait_status) == 0)
      << learned->wait_status;
  EXPECT_GT(learned->notifications, 10u);
  const auto& seen = learned->observed.syscalls;
  EXPECT_TRUE(seen.contains("execve"));
  EXPECT_TRUE(seen.contains("write"));
  EXPECT_TRUE(seen.contains("getdents64"));
  // Learner syscalls before the exec (fcntl, write of the hand-off, seccomp) are not blamed.
  EXPECT_FALSE(seen.contains("seccomp"));
  EXPECT_FALSE(seen.contains("mkdir"));

  oci::Seccomp profile = ProfileFromObservations(learned->observed);
  EXPECT_EQ(profile.default_action, "SCMP_ACT_ERRNO");
  // It survives the trip through JSON, as `brick run --seccomp` reads it.
  auto reparsed = ParseOciSeccomp(SeccompToJson(profile, true));
  ASSERT_TRUE(reparsed) << reparsed.error().message();
  ASSERT_EQ(*reparsed, profile);
  auto program = CompileFilter(profile);
  ASSERT_TRUE(program) << program.error().message();

  ChildResult same = RunUnder(*program, {kBusybox, "sh", "-c", "echo hi; ls /"});
  EXPECT_TRUE(same.Exited(0)) << same.Describe();
  std::string dir = fmt::format("/tmp/brick-learn-test-{}", getpid());
  ChildResult other = RunUnder(*program, {kBusybox, "mkdir", dir});
  EXPECT_TRUE(other.Exited(1)) << other.Describe();
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::filesystem::remove(dir);
}

TEST(LearnTest, SocketFamiliesAndMergeCombineRuns) {
  if (access(kBusybox, X_OK) != 0) {
    GTEST_SKIP() << "no static busybox at " << kBusybox;
  }
  LearnOptions a;
  a.argv = {kBusybox, "true"};
  auto first = LearnQuietly(a);
  ASSERT_TRUE(first) << first.error().message();
  LearnOptions b;
  b.argv = {kBusybox, "sh", "-c", "echo x > /dev/null; mkdir /proc/brick-no 2>/dev/null; true"};
  auto second = LearnQuietly(b);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->observed.syscalls.contains("mkdir"));
  EXPECT_FALSE(first->observed.syscalls.contains("mkdir"));

  // Merge through the written profile, as `--merge FILE` does.
  Observations merged = *ObservationsFromProfile(ProfileFromObservations(first->observed));
  merged.Merge(second->observed);
  for (const auto& s : first->observed.syscalls) {
    EXPECT_TRUE(merged.syscalls.contains(s)) << s;
  }
  EXPECT_TRUE(merged.syscalls.contains("mkdir"));

  Observations sockets;
  sockets.syscalls = {"socket", "clone", "personality"};
  sockets.socket_families["socket"][AF_UNIX] = {SOCK_STREAM};
  sockets.socket_families["socket"][AF_INET] = {SOCK_DGRAM};
  sockets.personalities = {0xffffffffu};
  oci::Seccomp p = ProfileFromObservations(sockets);
  auto back = ObservationsFromProfile(p);
  ASSERT_TRUE(back) << back.error().message();
  // Types are kept for AF_INET and AF_INET6 only.
  std::map<std::string, std::map<uint32_t, std::set<uint32_t>>> want;
  want["socket"][AF_UNIX] = {};
  want["socket"][AF_INET] = {SOCK_DGRAM};
  EXPECT_EQ(back->socket_families, want);
  EXPECT_EQ(back->personalities, sockets.personalities);
  EXPECT_FALSE(back->clone_namespace_flags);
}

TEST(LearnTest, ProfilesWithForeignArgumentRulesAreNotMerged) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ERRNO";
  oci::SeccompSyscall r;
  r.names = {"ioctl"};
  r.action = "SCMP_ACT_ALLOW";
  r.args.push_back({1, 0x5401, 0, "SCMP_CMP_EQ"});
  p.syscalls.push_back(r);
  auto seen = ObservationsFromProfile(p);
  ASSERT_FALSE(seen);
  EXPECT_EQ(seen.error().message(),
            "linux.seccomp.syscalls[0]: an argument filter brick learn did not write; merge only "
            "profiles written by brick seccomp learn");
}

TEST(LearnTest, MissingCommandIsNamed) {
  LearnOptions opts;
  opts.argv = {"brick-no-such-command"};
  auto r = LearnSyscalls(opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "learn: brick-no-such-command not found in PATH");
}

TEST(LearnTest, EventsAreLoggedAsJsonLines) {
  if (access(kBusybox, X_OK) != 0) {
    GTEST_SKIP() << "no static busybox at " << kBusybox;
  }
  std::string path = fmt::format("/tmp/brick-events-{}.jsonl", getpid());
  {
    auto log = EventLog::Open(path);
    ASSERT_TRUE(log) << log.error().message();
    LearnOptions opts;
    opts.argv = {kBusybox, "true"};
    opts.events = &*log;
    opts.container_id = "c0ffee";
    auto r = LearnQuietly(opts);
    ASSERT_TRUE(r) << r.error().message();
  }
  std::string text = *ReadFile(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(text.empty());
  std::string first = text.substr(0, text.find('\n'));
  EXPECT_NE(first.find(R"("container":"c0ffee")"), std::string::npos) << first;
  EXPECT_NE(first.find(R"("syscall":"execve")"), std::string::npos) << first;
  EXPECT_NE(first.find(R"("arch":"x86_64")"), std::string::npos) << first;
  EXPECT_NE(first.find(R"("action":"learn")"), std::string::npos) << first;
  EXPECT_NE(first.find(R"("time":")"), std::string::npos) << first;
}

}  // namespace
}  // namespace brick::seccomp
