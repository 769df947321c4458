#include "brick/isolation/hygiene.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "brick/isolation/forked_child_for_test.h"

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kProbeEnv = "BRICK_TEST_REEXEC_PROBE_FD";

// When this test binary is started as the re-executed sealed copy, it reports what it
// sees instead of running tests. Runs from a static initializer, before gtest's main.
int ReexecProbe() {
  const char* fd_text = getenv(kProbeEnv);
  if (fd_text == nullptr) {
    return 0;
  }
  int out = atoi(fd_text);
  char link[256] = {};
  ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
  link[n < 0 ? 0 : n] = '\0';
  int w = open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
  int open_errno = w < 0 ? errno : 0;
  int write_errno = 0;
  if (w >= 0 && write(w, "x", 1) < 0) {
    write_errno = errno;
  }
  auto sealed = SelfIsSealedMemfd();
  dprintf(out, "exe=%s open_wronly_errno=%d write_errno=%d marker=%d sealed=%d", link, open_errno,
          write_errno, SealedReexecMarkerSet() ? 1 : 0, sealed && *sealed ? 1 : 0);
  _exit(0);
}
const int kProbeRan = ReexecProbe();

TEST(PlanFdHygiene, StdioOnlyByDefault) {
  auto plan = PlanFdHygiene(0, {}, nullptr);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->keep_through, 2);
  EXPECT_TRUE(plan->extra_keep.empty());
}

TEST(PlanFdHygiene, PreserveFdsAndExtraKeeps) {
  std::vector<int> extra = {9, 4, 9, 20};
  auto plan = PlanFdHygiene(2, extra, nullptr);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->keep_through, 4);  // 3 and 4 preserved
  EXPECT_THAT(plan->extra_keep, ElementsAre(9, 20));
  auto negative = PlanFdHygiene(-1, {}, nullptr);
  ASSERT_FALSE(negative);
  EXPECT_THAT(negative.error().message(), HasSubstr("--preserve-fds: -1"));
}

TEST(PlanFdHygiene, ListenFdsKeepsSocketsAndPointsListenPidAtInit) {
  std::vector<std::string> env = {"PATH=/bin", "LISTEN_PID=4242", "LISTEN_FDS=3"};
  auto plan = PlanFdHygiene(1, {}, &env);
  ASSERT_TRUE(plan) << plan.error().message();
  EXPECT_EQ(plan->keep_through, 5);  // 3, 4, 5
  EXPECT_THAT(env, ElementsAre("PATH=/bin", "LISTEN_FDS=3", "LISTEN_PID=1"));
  std::vector<std::string> bad = {"LISTEN_FDS=many"};
  auto st = PlanFdHygiene(0, {}, &bad);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "process.env[0]: \"LISTEN_FDS=many\" is not a number of fds");
}

TEST(ApplyFdHygiene, MarksTheGapsCloseOnExec) {
  std::vector<int> extra = {9, 20};
  auto plan = PlanFdHygiene(1, extra, nullptr);
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyFdHygiene(sys, *plan));
  EXPECT_THAT(sys.calls(),
              ElementsAre("set_cloexec(3, off)", "close_range(4, 8, CLOSE_RANGE_CLOEXEC)",
                          "close_range(10, 19, CLOSE_RANGE_CLOEXEC)",
                          "close_range(21, ~0U, CLOSE_RANGE_CLOEXEC)"));
}

TEST(ApplyFdHygiene, FallsBackToProcSelfFdWithoutCloseRange) {
  auto plan = PlanFdHygiene(0, std::vector<int>{7}, nullptr);
  RecordingSyscalls sys;
  sys.FailOn("close_range", ENOSYS);
  sys.SetOpenFds({0, 1, 2, 5, 7, 12});
  ASSERT_TRUE(ApplyFdHygiene(sys, *plan));
  EXPECT_THAT(sys.calls(), ElementsAre("close_range(3, 6, CLOSE_RANGE_CLOEXEC)",
                                       "set_cloexec(5, on)", "set_cloexec(12, on)"));
}

// After exec, only stdio, the preserved fd and the kept fd are still open.
TEST(ApplyFdHygieneReal, OnlyKeptFdsSurviveExec) {
  if (access("/bin/sh", X_OK) != 0) {
    GTEST_SKIP() << "no /bin/sh to observe the fds after exec";
  }
  std::string report = RunInForkedChildWithReportFdForTest([](int report_fd) {
    // The report pipe becomes fd 7 (kept); 3..6 and 8 are /dev/null without
    // O_CLOEXEC, like fds leaked from the host.
    if (report_fd != 7 && dup2(report_fd, 7) < 0) {
      return std::string("dup2 report fd failed");
    }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd : {3, 4, 5, 6, 8}) {
      if (fd != null_fd && dup2(null_fd, fd) < 0) {
        return std::string("dup2 failed");
      }
    }
    auto plan = PlanFdHygiene(1, std::vector<int>{7}, nullptr);
    if (auto st = ApplyFdHygiene(RealSyscalls(), *plan); !st) {
      return st.error().message();
    }
    execl("/bin/sh", "sh", "-c",
          "for f in 3 4 5 6 7 8; do if { true >&$f; } 2>/dev/null; then printf '%s ' $f; fi; "
          "done >&7",
          static_cast<char*>(nullptr));
    return std::string("exec failed");
  });
  EXPECT_EQ(report, "3 7 ");
}

TEST(SetNonDumpable, SequenceAndRealEffect) {
  RecordingSyscalls sys;
  ASSERT_TRUE(SetNonDumpable(sys));
  EXPECT_THAT(sys.calls(), ElementsAre("prctl(PR_SET_DUMPABLE, 0)"));
  std::string report = RunInForkedChildForTest([] {
    if (auto st = SetNonDumpable(RealSyscalls()); !st) {
      return st.error().message();
    }
    return fmt::format("dumpable={}", prctl(PR_GET_DUMPABLE));
  });
  EXPECT_EQ(report, "dumpable=0");
}

TEST(SetParentDeathSignal, SetsSigkillThenChecksTheParent) {
  RecordingSyscalls sys;
  sys.SetParentPid(77);
  ASSERT_TRUE(SetParentDeathSignal(sys, 77));
  EXPECT_THAT(sys.calls(), ElementsAre(fmt::format("prctl(PR_SET_PDEATHSIG, {})", SIGKILL)));
  sys.SetParentPid(1);  // brick died and the child was reparented before the prctl
  auto st = SetParentDeathSignal(sys, 77);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(),
            "brick (pid 77) exited while the container was being set up; the parent is now pid 1");
}

TEST(SetParentDeathSignalReal, ChildSeesItsParent) {
  pid_t parent = getpid();
  std::string report = RunInForkedChildForTest([parent] {
    if (auto st = SetParentDeathSignal(RealSyscalls(), parent); !st) {
      return st.error().message();
    }
    int sig = 0;
    prctl(PR_GET_PDEATHSIG, &sig);
    return fmt::format("pdeathsig={}", sig);
  });
  EXPECT_EQ(report, fmt::format("pdeathsig={}", SIGKILL));
}

TEST(SetParentDeathSignalReal, AParentPidfdThatSaysExitedIsAnErrorAcrossPidNamespaces) {
  std::string report = RunInForkedChildForTest([] {
    // Stands in for a brick that died: a process that has exited (a zombie until reaped).
    pid_t gone = fork();
    if (gone == 0) {
      _exit(0);
    }
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, gone, 0));
    siginfo_t info;
    waitid(P_PID, static_cast<id_t>(gone), &info, WEXITED | WNOWAIT);
    // getppid() agrees (0 stands for "across a pid namespace"): only the pidfd can tell.
    auto dead = SetParentDeathSignal(RealSyscalls(), getppid(), pidfd);
    int live_fd = static_cast<int>(syscall(SYS_pidfd_open, getppid(), 0));
    auto alive = SetParentDeathSignal(RealSyscalls(), getppid(), live_fd);
    return fmt::format("dead={} alive={}", dead ? "ok" : dead.error().message(),
                       alive ? "ok" : alive.error().message());
  });
  EXPECT_EQ(report, "dead=brick exited while the container was being set up alive=ok");
}

TEST(Session, NewSessionAndControllingTerminal) {
  RecordingSyscalls sys;
  ASSERT_TRUE(NewSession(sys));
  ASSERT_TRUE(SetControllingTerminal(sys, 5));
  EXPECT_THAT(sys.calls(), ElementsAre("setsid()", "ioctl(5, TIOCSCTTY)"));
  std::string report = RunInForkedChildForTest([] {
    if (auto st = NewSession(RealSyscalls()); !st) {
      return st.error().message();
    }
    return fmt::format("leader={}", getsid(0) == getpid() ? "yes" : "no");
  });
  EXPECT_EQ(report, "leader=yes");
  // A session leader cannot start another session: the error keeps EPERM.
  std::string again = RunInForkedChildForTest([] {
    setsid();
    auto st = NewSession(RealSyscalls());
    return st ? std::string("ok") : st.error().message();
  });
  EXPECT_EQ(again, "start a new session: operation not permitted");
}

TEST(RuntimeBinaryWritableFromContainer, Decisions) {
  IdMappingPlan none;
  EXPECT_TRUE(RuntimeBinaryWritableFromContainer(none, 0, 0));
  IdMappingPlan remapped{.user_namespace = true,
                         .uid_mappings = {{0, 1000000000, 65536}},
                         .gid_mappings = {{0, 1000000000, 65536}}};
  EXPECT_FALSE(RuntimeBinaryWritableFromContainer(remapped, 0, 0));
  EXPECT_TRUE(RuntimeBinaryWritableFromContainer(remapped, 1000000005, 0));
  EXPECT_TRUE(RuntimeBinaryWritableFromContainer(remapped, 0, 1000065535));
  EXPECT_FALSE(RuntimeBinaryWritableFromContainer(remapped, 1000065536, 0));
  IdMappingPlan root_mapped{.user_namespace = true, .uid_mappings = {{0, 0, 1}}};
  EXPECT_TRUE(RuntimeBinaryWritableFromContainer(root_mapped, 0, 0));
}

TEST(SealedReexec, ThisProcessIsNotASealedCopy) {
  EXPECT_FALSE(SealedReexecMarkerSet());
  auto sealed = SelfIsSealedMemfd();
  ASSERT_TRUE(sealed) << sealed.error().message();
  EXPECT_FALSE(*sealed);
}

// The test binary re-executes itself from a sealed memfd; the copy reports what it is.
TEST(SealedReexec, CopyIsAnImmutableMemfd) {
  std::string report = RunInForkedChildForTest([] {
    int p[2];
    if (pipe(p) < 0) {  // no O_CLOEXEC: the write end must reach the copy
      return std::string("pipe failed");
    }
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      std::string probe = fmt::format("{}={}", kProbeEnv, p[1]);
      char* argv[] = {const_cast<char*>("brick-sealed-probe"), nullptr};
      char* envp[] = {probe.data(), nullptr};
      auto st = ReexecFromSealedMemfd(argv, envp);
      std::string err = st.error().message();
      (void)!write(p[1], err.data(), err.size());
      _exit(1);
    }
    close(p[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return out;
  });
  EXPECT_THAT(report, HasSubstr("exe=/memfd:brick (deleted)"));
  EXPECT_THAT(report, HasSubstr("marker=1 sealed=1"));
  // Either the open for writing fails (ETXTBSY while it runs) or the write does (seals).
  EXPECT_THAT(report, ::testing::AnyOf(HasSubstr("open_wronly_errno=26 "),
                                       HasSubstr("open_wronly_errno=0 write_errno=1 ")));
}

TEST(SealedReexec, RefusesToLoop) {
  std::string report = RunInForkedChildForTest([] {
    setenv(kSealedReexecEnv, "1", 1);
    char* argv[] = {const_cast<char*>("x"), nullptr};
    char* envp[] = {nullptr};
    auto st = ReexecFromSealedMemfd(argv, envp);
    return st ? std::string("returned ok") : st.error().message();
  });
  EXPECT_EQ(report,
            "_BRICK_SEALED_REEXEC is already set: refusing to re-execute from a sealed "
            "copy again");
}

}  // namespace
}  // namespace brick::isolation
