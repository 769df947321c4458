// `brick exec`, driven the way engines drive it: into a container made by `brick create`
// and `brick start`, observed from inside the exec'd process and from the host.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "container.h"
#include "harness.h"
#include "lifecycle_fixture.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class ExecTest : public DetachedContainerTest {
 protected:
  // `brick exec ID sh -c SCRIPT`, with extra flags before the id.
  RunResult Exec(const std::string& script, std::vector<std::string> flags = {},
                 const RunOptions& options = {}) {
    std::vector<std::string> args = {kBrick, "--root", root_, "exec"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {id_, "/bin/sh", "-c", script});
    RunOptions o = options;
    o.drain_after_exit = std::chrono::milliseconds(300);
    return RunCommand(args, o);
  }
  std::string HostNs(pid_t pid, const char* ns) {
    char buf[128] = {};
    std::string link = "/proc/" + std::to_string(pid) + "/ns/" + ns;
    ssize_t n = readlink(link.c_str(), buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
};

TEST_F(ExecTest, JoinsEveryNamespaceAndTheCgroupOfTheInit) {
  ASSERT_TRUE(CreateAndStart());
  pid_t init = InitPid();
  ASSERT_GT(init, 0);
  RunResult r = Exec(
      "for n in cgroup ipc mnt net pid time user uts; do echo $n $(readlink /proc/self/ns/$n); "
      "done; echo pid $$; cmp -s /proc/self/cgroup /proc/1/cgroup && echo same-cgroup");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts", "time"}) {
    std::string want = std::string(ns) + " " + HostNs(init, ns);
    EXPECT_THAT(r.out, HasSubstr(want)) << r.Describe();
  }
  // In the container's pid namespace, but not its init.
  EXPECT_THAT(r.out, HasSubstr("\npid "));
  EXPECT_THAT(r.out, Not(HasSubstr("\npid 1\n")));
  EXPECT_THAT(r.out, HasSubstr("same-cgroup"));
}

TEST_F(ExecTest, GetsTheContainersHardeningAndPropagatesTheExitCode) {
  ASSERT_TRUE(CreateAndStart());
  RunResult r = Exec("grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
                     "touch /brick-ro-check 2>/dev/null || echo read-only-root; exit 7");
  EXPECT_EQ(r.ExitCode(), 7) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("Uid:\t1000\t1000\t1000\t1000"));
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000000000"));
  EXPECT_THAT(r.out, HasSubstr("CapBnd:\t0000000000000000"));
  EXPECT_THAT(r.out, HasSubstr("NoNewPrivs:\t1"));
  EXPECT_THAT(r.out, HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(r.out, HasSubstr("read-only-root"));
}

TEST_F(ExecTest, CommandLineOverridesUserEnvCwdAndCaps) {
  ASSERT_TRUE(CreateAndStart());
  RunResult r = Exec("id -u; id -g; echo $BRICK_X; pwd; grep CapEff /proc/self/status",
                     {"--user", "1234:4321", "--env", "BRICK_X=hello", "--cwd", "/tmp", "--cap",
                      "CAP_NET_RAW"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("1234\n4321\nhello\n/tmp\n"));
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t0000000000002000"));  // CAP_NET_RAW is bit 13
}

TEST_F(ExecTest, ProcessFileDetachedWithPidFileOutlivesBrick) {
  ASSERT_TRUE(CreateAndStart());
  std::string process = bundle_ / "process.json";
  json p = {{"args", {"/bin/sleep", "30"}},
            {"cwd", "/"},
            {"user", {{"uid", 1000}, {"gid", 1000}}},
            {"env", {"PATH=/bin:/usr/bin"}},
            {"noNewPrivileges", true}};
  ASSERT_TRUE(WriteFile(process, p.dump()));
  std::string pid_file = bundle_ / "exec.pid";
  // The test process is the subreaper, as conmon or the containerd shim would be: the
  // detached process must be re-parented to it once brick exits.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  RunResult r = RunCommand({kBrick, "--root", root_, "exec", "--process", process, "--detach",
                            "--pid-file", pid_file, id_});
  std::string text = ReadFileOrEmpty(pid_file);
  pid_t pid = text.empty() ? -1 : std::stoi(text);
  std::string status = pid > 0 ? ReadFileOrEmpty("/proc/" + text + "/status") : "";
  if (pid > 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(text.find('\n'), std::string::npos) << "the pid file must be a bare decimal";
  ASSERT_GT(pid, 0);
  EXPECT_THAT(status, HasSubstr("PPid:\t" + std::to_string(getpid()) + "\n"));
  EXPECT_THAT(status, HasSubstr("Name:\tsleep"));
}

TEST_F(ExecTest, TtyWithoutConsoleSocketIsProxied) {
  ASSERT_TRUE(CreateAndStart());
  RunOptions o;
  o.stdin_pty = true;
  RunResult r = Exec("test -t 0 && test -t 1 && echo on-a-tty; tty", {"-t"}, o);
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("on-a-tty"));
  EXPECT_THAT(r.out, HasSubstr("/dev/pts/"));
}

TEST_F(ExecTest, TtyWithConsoleSocketSendsThePtyMaster) {
  ASSERT_TRUE(CreateAndStart());
  std::string path = bundle_ / "console.sock";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  memcpy(addr.sun_path, path.c_str(), path.size());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  RunResult r = Exec("echo from-the-pty; sleep 2", {"--detach", "--tty", "--console-socket", path});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  pollfd pfd{listener, POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 5000), 1);
  int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(conn, 0);
  char name[256] = {};
  iovec iov{name, sizeof name - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 2)] = {};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_GT(recvmsg(conn, &msg, MSG_CMSG_CLOEXEC), 0);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(c->cmsg_type, SCM_RIGHTS);
  ASSERT_EQ(c->cmsg_len, CMSG_LEN(sizeof(int))) << "exactly one fd";
  int master;
  memcpy(&master, CMSG_DATA(c), sizeof master);
  unsigned int ptn = 0;
  EXPECT_EQ(ioctl(master, TIOCGPTN, &ptn), 0) << "the fd is a pty master";
  std::string seen;
  char buf[256];
  for (int i = 0; i < 50 && seen.find("from-the-pty") == std::string::npos; ++i) {
    pollfd mp{master, POLLIN, 0};
    if (poll(&mp, 1, 100) == 1) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
    }
  }
  EXPECT_THAT(seen, HasSubstr("from-the-pty"));
  close(master);
  close(conn);
  close(listener);
}

TEST_F(ExecTest, OnlyPreservedFdsReachTheProcess) {
  ASSERT_TRUE(CreateAndStart());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  struct stat st;
  ASSERT_EQ(fstat(fds[0], &st), 0);
  std::string pipe_name = "pipe:[" + std::to_string(st.st_ino) + "]";
  RunOptions o;
  o.pass_fds = {fds[0], fds[1]};  // become 3 and 4 in brick
  const std::string script = "for f in /proc/self/fd/*; do echo $f $(readlink $f); done";
  RunResult kept = Exec(script, {"--preserve-fds", "1"}, o);
  RunResult none = Exec(script, {}, o);
  close(fds[0]);
  close(fds[1]);
  ASSERT_EQ(kept.ExitCode(), 0) << kept.Describe();
  ASSERT_EQ(none.ExitCode(), 0) << none.Describe();
  // --preserve-fds 1 passes fd 3 (the pipe's read end) and nothing else of brick's.
  EXPECT_THAT(kept.out, HasSubstr("/proc/self/fd/3 " + pipe_name));
  EXPECT_THAT(none.out, Not(HasSubstr(pipe_name)));
  for (const auto* out : {&kept.out, &none.out}) {
    EXPECT_THAT(*out, Not(HasSubstr("/proc/self/fd/5"))) << *out;
  }
}

TEST_F(ExecTest, HostPolicyRefusesAnExecThatGrantsWhatCreateWouldNot) {
  ASSERT_TRUE(CreateAndStart());
  std::string policy = bundle_ / "policy.toml";
  ASSERT_TRUE(WriteFile(policy, "baseline = \"recommended\"\n"));
  RunResult admin = RunCommand({kBrick, "--root", root_, "--policy", policy, "exec", "--cap",
                                "CAP_SYS_ADMIN", id_, "/bin/true"});
  EXPECT_EQ(admin.ExitCode(), 125) << admin.Describe();
  EXPECT_THAT(admin.err, HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_THAT(admin.err, HasSubstr("BRICK-"));
  // The same exec without the capability passes the same policy.
  RunResult plain =
      RunCommand({kBrick, "--root", root_, "--policy", policy, "exec", id_, "/bin/true"});
  EXPECT_EQ(plain.ExitCode(), 0) << plain.Describe();
}

TEST_F(ExecTest, BadInputGetsTheWordsCallersMatchOn) {
  RunResult missing = Exec("true");
  EXPECT_EQ(missing.ExitCode(), 125);
  EXPECT_THAT(missing.err, HasSubstr("does not exist"));

  ASSERT_TRUE(CreateAndStart());
  RunResult no_binary =
      RunCommand({kBrick, "--root", root_, "exec", id_, "/no/such/program"});
  EXPECT_EQ(no_binary.ExitCode(), 125);
  EXPECT_THAT(no_binary.err, HasSubstr("no such file or directory"));
  RunResult not_in_path = RunCommand({kBrick, "--root", root_, "exec", id_, "nosuchprogram"});
  EXPECT_EQ(not_in_path.ExitCode(), 125);
  EXPECT_THAT(not_in_path.err, HasSubstr("executable file not found"));

  std::string process = bundle_ / "bad-process.json";
  ASSERT_TRUE(WriteFile(process, R"({"args": ["/bin/true"], "cwd": "relative", "user": {"uid": 0, "gid": 0}})"));
  RunResult bad = RunCommand({kBrick, "--root", root_, "exec", "--process", process, id_});
  EXPECT_EQ(bad.ExitCode(), 125);
  EXPECT_THAT(bad.err, HasSubstr("process.cwd"));
  ASSERT_TRUE(WriteFile(process, "{not json"));
  RunResult garbage = RunCommand({kBrick, "--root", root_, "exec", "--process", process, id_});
  EXPECT_EQ(garbage.ExitCode(), 125);
  EXPECT_THAT(garbage.err, HasSubstr("not valid JSON"));

  ASSERT_EQ(Brick({"pause", id_}).ExitCode(), 0);
  RunResult paused = Exec("true");
  EXPECT_EQ(paused.ExitCode(), 125);
  EXPECT_THAT(paused.err, HasSubstr("paused"));
  ASSERT_EQ(Brick({"resume", id_}).ExitCode(), 0);

  ASSERT_EQ(Brick({"kill", id_, "KILL"}).ExitCode(), 0);
  for (int i = 0; i < 50 && Status() != "stopped"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RunResult stopped = Exec("true");
  EXPECT_EQ(stopped.ExitCode(), 125);
  EXPECT_THAT(stopped.err, HasSubstr("container not running"));
  // None of these left a process or broke the container's state.
  EXPECT_EQ(Status(), "stopped");
}

}  // namespace
}  // namespace brick::integration
