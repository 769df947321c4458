// The listener hand-off between a forked child (standing in for the container init) and
// the test (standing in for brick): announce, install, spin; take, check, release; and
// the container process state an agent receives.
#include "brick/runtime/seccomp_agent.h"

#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "brick/base/strings.h"
#include "brick/runtime/seccomp_handoff.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

// Allows everything but getppid, which waits for the listener's answer.
seccomp::BpfProgram NotifyGetppid() {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  profile.listener_path = "/run/agent.sock";
  oci::SeccompSyscall rule;
  rule.names = {"getppid"};
  rule.action = "SCMP_ACT_NOTIFY";
  profile.syscalls.push_back(rule);
  auto program = seccomp::CompileFilter(profile);
  EXPECT_TRUE(program) << program.error().message();
  EXPECT_TRUE(program->needs_listener);
  return *program;
}

std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') {
    line += c;
  }
  return line;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(SeccompHandOffTest, ParentTakesTheListenerBeforeTheChildGoesOn) {
  seccomp::BpfProgram program = NotifyGetppid();
  auto release = ReleaseWord::Create();
  ASSERT_TRUE(release) << release.error().message();
  ListenerHandOffPlan plan{true, release->fd(), release->word()};
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      _exit(100);
    }
    auto s = InstallFilterForHandOff(
        program, plan, fds[1], 2, [&](const std::string& a) { return WriteAll(fds[1], a + "\n"); });
    if (!s) {
      _exit(101);
    }
    // Only reached once the parent has released us; the listener answers EXDEV.
    long r = syscall(SYS_getppid);
    _exit(r == -1 && errno == EXDEV ? 0 : 102);
  }
  close(fds[1]);
  std::string announcement = ReadLine(fds[0]);
  close(fds[0]);
  auto parts = Split(announcement, ' ');
  ASSERT_EQ(parts.size(), 2u) << announcement;
  EXPECT_EQ(parts[1], std::to_string(release->fd()));
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  ASSERT_TRUE(pidfd);
  auto listener = TakeFdFromInit(pidfd.get(), std::stoi(parts[0]), [] { return Ok(); });
  ASSERT_TRUE(listener) << listener.error().message();
  EXPECT_TRUE(seccomp::IsSeccompNotifyFd(listener->get()));
  release->Release();

  seccomp_notif notif;
  std::memset(&notif, 0, sizeof notif);
  ASSERT_EQ(ioctl(listener->get(), SECCOMP_IOCTL_NOTIF_RECV, &notif), 0) << strerror(errno);
  EXPECT_EQ(notif.data.nr, SYS_getppid);
  EXPECT_EQ(static_cast<pid_t>(notif.pid), pid);
  seccomp_notif_resp resp;
  std::memset(&resp, 0, sizeof resp);
  resp.id = notif.id;
  resp.error = -EXDEV;
  ASSERT_EQ(ioctl(listener->get(), SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << strerror(errno);
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST(SeccompHandOffTest, ListenerInThePreservedFdRangeIsRefusedBeforeInstalling) {
  seccomp::BpfProgram program = NotifyGetppid();
  auto release = ReleaseWord::Create();
  ASSERT_TRUE(release);
  ListenerHandOffPlan plan{true, release->fd(), release->word()};
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      _exit(100);
    }
    bool announced = false;
    // Pretend fds 3..999 pass into the container.
    auto s = InstallFilterForHandOff(program, plan, fds[1], 999, [&](const std::string&) {
      announced = true;
      return Ok();
    });
    std::string text = s ? "installed" : s.error().message();
    (void)WriteAll(fds[1], text + "\n");
    // No filter: getppid runs normally.
    _exit(!announced && syscall(SYS_getppid) > 0 ? 0 : 101);
  }
  close(fds[1]);
  std::string message = ReadLine(fds[0]);
  close(fds[0]);
  EXPECT_NE(message.find("would take its place among the fds passed into the container"),
            std::string::npos)
      << message;
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST(SeccompHandOffTest, TakingFromAChildThatExitedSaysSo) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    _exit(0);
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  ASSERT_TRUE(pidfd);
  auto r = TakeFdFromInit(pidfd.get(), 900, [] { return Ok(); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "the container init exited before brick took its seccomp listener");
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST(SeccompHandOffTest, InitErrorEndsTheWait) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    pause();
    _exit(0);
  }
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  ASSERT_TRUE(pidfd);
  auto r = TakeFdFromInit(pidfd.get(), 900, [] { return Fail("mount /proc: permission denied"); });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "mount /proc: permission denied");
  kill(pid, SIGKILL);
  WaitExit(pid);
}

TEST(SeccompHandOffTest, ReleasePageFromElsewhereIsRefused) {
  UniqueFd not_memfd(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(not_memfd);
  auto r = ReleaseWord::Map(std::move(not_memfd));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "the container init's seccomp release page is not brick's memfd");
}

TEST(ContainerProcessStateTest, HasTheFieldsTheSpecNames) {
  ContainerState st;
  st.id = "web1";
  st.pid = 4242;
  st.bundle = "/b";
  st.annotations = {{"k", "v"}};
  auto j = nlohmann::json::parse(ContainerProcessStateJson(st, ContainerStatus::kCreating, "m"));
  EXPECT_EQ(j["ociVersion"], oci::kSpecVersion);
  EXPECT_EQ(j["fds"], nlohmann::json::array({"seccompFd"}));
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["metadata"], "m");
  EXPECT_EQ(j["state"]["id"], "web1");
  EXPECT_EQ(j["state"]["status"], "creating");
  EXPECT_EQ(j["state"]["pid"], 4242);
  EXPECT_EQ(j["state"]["bundle"], "/b");
  EXPECT_EQ(j["state"]["annotations"]["k"], "v");
  // No metadata configured: the optional field is left out.
  auto bare = nlohmann::json::parse(ContainerProcessStateJson(st, ContainerStatus::kCreated, ""));
  EXPECT_FALSE(bare.contains("metadata"));
  EXPECT_EQ(bare["state"]["status"], "created");
}

TEST(HandsListenerToAgentTest, NeedsBothAPathAndANotifyRule) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall rule;
  rule.names = {"mkdir"};
  rule.action = "SCMP_ACT_NOTIFY";
  s.syscalls.push_back(rule);
  EXPECT_FALSE(HandsListenerToAgent(s));
  s.listener_path = "/run/agent.sock";
  EXPECT_TRUE(HandsListenerToAgent(s));
  s.syscalls[0].action = "SCMP_ACT_ERRNO";
  EXPECT_FALSE(HandsListenerToAgent(s));
}

}  // namespace
}  // namespace brick::runtime
