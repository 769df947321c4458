// The parts of runc's contract that engines and operators lean on beyond the lifecycle
// itself: where errors, warnings and debug lines go, `spec`, terminals with detached
// containers, pause of a created container, kill --all of a paused one, which fds may be
// passed in, socket activation, exec --user, and the host policy at create.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "container.h"
#include "harness.h"
#include "lifecycle_fixture.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class RuncContractTest : public DetachedContainerTest {
 protected:
  void EditConfig(const std::function<void(json&)>& edit) {
    std::ifstream in(bundle_ / "config.json");
    json c = json::parse(in);
    edit(c);
    ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  }
  // Nothing of the container in the store, the cgroups or the process table.
  ::testing::AssertionResult NoTraceOfContainer() {
    RunResult list = Brick({"list", "-q"});
    if (list.ExitCode() != 0 || !TrimEnd(list.out).empty()) {
      return ::testing::AssertionFailure() << "state left: " << list.Describe();
    }
    if (!CgroupDirsFor(id_).empty()) {
      return ::testing::AssertionFailure() << "cgroups left for " << id_;
    }
    if (!ProcessesWithArg(id_).empty()) {
      return ::testing::AssertionFailure() << "processes left for " << id_;
    }
    return ::testing::AssertionSuccess();
  }
  std::vector<json> LogLines(const std::string& path) {
    std::vector<json> lines;
    std::istringstream in(ReadFileOrEmpty(path));
    for (std::string line; std::getline(in, line);) {
      lines.push_back(json::parse(line, nullptr, false));
    }
    return lines;
  }
};

TEST_F(RuncContractTest, ACommandLineErrorReachesTheJsonLog) {
  std::string log = state_ / "brick.log";
  RunResult r = Brick({"--log", log, "--log-format=json", "kill", "--no-such-flag", id_});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  auto lines = LogLines(log);
  ASSERT_EQ(lines.size(), 1u) << ReadFileOrEmpty(log);
  EXPECT_EQ(lines[0].value("level", ""), "error");
  EXPECT_THAT(lines[0].value("msg", ""), HasSubstr("--no-such-flag"));
  EXPECT_TRUE(lines[0].contains("time"));
}

TEST_F(RuncContractTest, DebugLinesGoToTheLogAndWarningsToo) {
  std::string log = state_ / "brick.log";
  EditConfig([&](json& c) {
    c["hooks"]["poststop"] = {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "exit 3"}}}};
  });
  ASSERT_EQ(Create({}).ExitCode(), 0);
  RunResult del =
      Brick({"--debug", "--log", log, "--log-format", "json", "delete", "--force", id_});
  EXPECT_EQ(del.ExitCode(), 0) << del.Describe();
  bool saw_argv = false, saw_done = false, saw_warning = false;
  for (const json& line : LogLines(log)) {
    std::string level = line.value("level", ""), msg = line.value("msg", "");
    saw_argv |= level == "debug" && msg.find("delete --force " + id_) != std::string::npos;
    saw_done |= level == "debug" && msg.find("delete done after") != std::string::npos;
    saw_warning |= level == "warning" && msg.find("poststop") != std::string::npos;
  }
  EXPECT_TRUE(saw_argv) << ReadFileOrEmpty(log);
  EXPECT_TRUE(saw_done) << ReadFileOrEmpty(log);
  EXPECT_TRUE(saw_warning) << ReadFileOrEmpty(log);
  // The warning is on stderr too, for a person at a terminal.
  EXPECT_THAT(del.err, HasSubstr("brick: warning:"));
  EXPECT_TRUE(NoTraceOfContainer());
}

TEST_F(RuncContractTest, GlobalFlagsBrickCannotHonourAreRefusedClearly) {
  RunResult version = Brick({"--version"});
  EXPECT_EQ(version.ExitCode(), 0);
  EXPECT_THAT(version.out, ::testing::StartsWith("brick version "));
  RunResult systemd = Brick({"--systemd-cgroup", "create", "--bundle", bundle_.path(), id_});
  EXPECT_EQ(systemd.ExitCode(), 125);
  EXPECT_THAT(systemd.err, HasSubstr("--systemd-cgroup: the systemd cgroup driver is not "
                                     "supported yet; leave the flag out"));
  RunResult rootless = Brick({"--rootless", "true", "state", id_});
  EXPECT_EQ(rootless.ExitCode(), 125);
  EXPECT_THAT(rootless.err, HasSubstr("rootless mode is not supported yet"));
  RunResult bogus = Brick({"--rootless", "maybe", "state", id_});
  EXPECT_EQ(bogus.ExitCode(), 125);
  EXPECT_THAT(bogus.err, HasSubstr("--rootless maybe: must be true, false or auto"));
  EXPECT_TRUE(NoTraceOfContainer());
}

TEST_F(RuncContractTest, RunDetachLeavesTheContainerRunningUnderTheCaller) {
  SetScript("sleep 60");
  RunResult r = Brick({"run", "--detach", "--bundle", bundle_.path(), id_});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(Status(), "running");
  pid_t init = InitPid();
  ASSERT_GT(init, 0);
  // busybox sh, or the sleep it runs (briefly named "exe": busybox re-executes itself).
  EXPECT_THAT(TrimEnd(ReadFileOrEmpty("/proc/" + std::to_string(init) + "/comm")),
              ::testing::AnyOf("sh", "sleep", "exe"));
}

TEST_F(RuncContractTest, SpecWritesAConfigForABundleAndNeverOverwritesOne) {
  TempDir dir;
  RunResult r = Brick({"spec", "--bundle", dir.path()});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_TRUE(r.out.empty()) << r.out;
  json c = json::parse(ReadFileOrEmpty(dir / "config.json"), nullptr, false);
  ASSERT_TRUE(c.is_object());
  EXPECT_EQ(c["root"]["path"], "rootfs");
  EXPECT_EQ(c["root"]["readonly"], true);
  std::string before = ReadFileOrEmpty(dir / "config.json");
  RunResult again = Brick({"spec", "--bundle", dir.path(), "--rootfs", "/elsewhere"});
  EXPECT_EQ(again.ExitCode(), 125);
  EXPECT_THAT(again.err, HasSubstr("config.json exists already"));
  EXPECT_EQ(ReadFileOrEmpty(dir / "config.json"), before);
  RunResult rootless = Brick({"spec", "--rootless", "--stdout"});
  EXPECT_EQ(rootless.ExitCode(), 125);
  EXPECT_THAT(rootless.err, HasSubstr("rootless mode is not supported"));
  RunResult printed = Brick({"spec", "--stdout", "--rootfs", "/srv/root"});
  ASSERT_EQ(printed.ExitCode(), 0) << printed.Describe();
  EXPECT_EQ(json::parse(printed.out)["root"]["path"], "/srv/root");
}

TEST_F(RuncContractTest, CreateWithATerminalButNoConsoleSocketIsRefusedAndLeavesNothing) {
  EditConfig([](json& c) { c["process"]["terminal"] = true; });
  RunResult r = Create();
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("process.terminal is true but no --console-socket"));
  EXPECT_TRUE(NoTraceOfContainer());
}

TEST_F(RuncContractTest, ACreatedContainerCanBePausedResumedAndStarted) {
  SetScript("echo started > /tmp/started; sleep 60");
  ASSERT_EQ(Create().ExitCode(), 0);
  ASSERT_EQ(Brick({"pause", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "paused");
  RunResult twice = Brick({"pause", id_});
  EXPECT_EQ(twice.ExitCode(), 125);
  EXPECT_THAT(twice.err, HasSubstr("already paused"));
  RunResult start_paused = Brick({"start", id_});
  EXPECT_EQ(start_paused.ExitCode(), 125);
  ASSERT_EQ(Brick({"resume", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "created");
  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "running");
}

TEST_F(RuncContractTest, StartReturnsOnceTheProgramRuns) {
  SetScript("sleep 60");
  ASSERT_EQ(Create().ExitCode(), 0);
  pid_t init = InitPid();
  ASSERT_GT(init, 0);
  std::string comm = "/proc/" + std::to_string(init) + "/comm";
  std::string before = TrimEnd(ReadFileOrEmpty(comm));  // brick's init, blocked
  EXPECT_EQ(before, "brick");
  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  // No waiting: start returned after the init's execve. The program is busybox sh, which
  // may already be running sleep (busybox re-executes itself through /proc/self/exe, so
  // the name can read "exe" for a moment): anything but brick's init.
  std::string after = TrimEnd(ReadFileOrEmpty(comm));
  EXPECT_NE(after, "brick");
  EXPECT_THAT(after, ::testing::AnyOf("sh", "sleep", "exe"));
}

TEST_F(RuncContractTest, KillAllWithSigkillEndsAPausedContainer) {
  SetScript("sleep 60 & sleep 60");
  ASSERT_TRUE(CreateAndStart());
  ASSERT_EQ(Brick({"pause", id_}).ExitCode(), 0);
  // A signal other than KILL waits for resume, as the processes are frozen.
  ASSERT_EQ(Brick({"kill", "--all", id_, "TERM"}).ExitCode(), 0);
  EXPECT_EQ(Status(), "paused");
  ASSERT_EQ(Brick({"kill", "--all", id_, "KILL"}).ExitCode(), 0);
  bool stopped = false;
  for (int i = 0; i < 100 && !stopped; ++i) {
    stopped = Status() == "stopped";
    if (!stopped) {
      usleep(20000);
    }
  }
  EXPECT_TRUE(stopped) << Status();
}

TEST_F(RuncContractTest, PreserveFdsThatWereNotPassedAreRefused) {
  // Far more than the test runner hands down: brick would otherwise pass its own fds on.
  RunResult r = Create({"--preserve-fds", "60"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, ::testing::ContainsRegex("--preserve-fds 60: fd [0-9]+ was not passed to "
                                              "brick"));
  EXPECT_TRUE(NoTraceOfContainer());
  RunResult exec_too = Brick({"exec", "--preserve-fds", "60", id_, "true"});
  EXPECT_EQ(exec_too.ExitCode(), 125);
  EXPECT_THAT(exec_too.err, HasSubstr("was not passed to brick"));
}

TEST_F(RuncContractTest, SocketActivationFdsReachTheContainerWithListenFds) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_EQ(write(sv[1], "hello\n", 6), 6);
  SetScript(
      "echo fds=$LISTEN_FDS pid=$LISTEN_PID; read line <&3; echo got=$line; ls /proc/self/fd");
  RunOptions o;
  o.pass_fds = {sv[0]};
  // As systemd passes them to a socket-activated service (LISTEN_PID left unset).
  ASSERT_EQ(setenv("LISTEN_FDS", "1", 1), 0);
  RunResult r = RunCommand({kBrick, "--root", root_, "run", "--bundle", bundle_.path(), id_}, o);
  unsetenv("LISTEN_FDS");
  close(sv[0]);
  close(sv[1]);
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("fds=1 pid=1"));
  EXPECT_THAT(r.out, HasSubstr("got=hello"));
  // Only stdio and the one socket (and ls's own directory fd) are open.
  std::istringstream fds(r.out.substr(r.out.find("got=hello")));
  std::vector<std::string> listed;
  for (std::string line; std::getline(fds, line);) {
    if (line.find("got=") == std::string::npos) {
      listed.push_back(line);
    }
  }
  EXPECT_LE(listed.size(), 5u) << r.out;
  EXPECT_THAT(listed, Not(::testing::Contains("5"))) << r.out;
}

TEST_F(RuncContractTest, ExecUserWithoutAGidKeepsTheConfigsGid) {
  EditConfig([](json& c) {
    c["process"]["user"]["uid"] = 1000;
    c["process"]["user"]["gid"] = 1234;
  });
  ASSERT_TRUE(CreateAndStart());
  RunResult r = Brick({"exec", "--user", "1500", id_, "sh", "-c", "echo $(id -u):$(id -g)"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(TrimEnd(r.out), "1500:1234");
  RunResult both = Brick({"exec", "--user", "1500:1600", id_, "sh", "-c", "id -g"});
  ASSERT_EQ(both.ExitCode(), 0) << both.Describe();
  EXPECT_EQ(TrimEnd(both.out), "1600");
}

TEST_F(RuncContractTest, HostPolicyRefusesAPrivilegedConfigAtCreateNamingRuleAndFix) {
  std::string policy = state_ / "policy.toml";
  ASSERT_TRUE(WriteFile(policy, "baseline = \"recommended\"\n"));
  EditConfig([](json& c) {
    for (const char* set : {"bounding", "effective", "permitted"}) {
      c["process"]["capabilities"][set] = {"CAP_SYS_ADMIN"};
    }
  });
  RunResult r = Brick({"--policy", policy, "create", "--bundle", bundle_.path(), id_});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_THAT(r.err, HasSubstr("BRICK-"));
  EXPECT_THAT(r.err, HasSubstr("fix:"));
  EXPECT_TRUE(NoTraceOfContainer());
}

TEST_F(RuncContractTest, AHookThatTimesOutTakesItsChildrenWithIt) {
  std::string pidfile = state_ / "hook-child.pid";
  EditConfig([&](json& c) {
    c["hooks"]["createRuntime"] = {
        {{"path", "/bin/sh"},
         {"args", {"sh", "-c", "sleep 120 & echo $! > " + pidfile + "; wait"}},
         {"timeout", 1}}};
  });
  RunResult r = Create();
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("timed out"));
  std::string text = TrimEnd(ReadFileOrEmpty(pidfile));
  ASSERT_FALSE(text.empty());
  pid_t child = static_cast<pid_t>(std::stol(text));
  // The grandchild is killed, not orphaned: gone once reaped by init, or a zombie.
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::string stat = ReadFileOrEmpty("/proc/" + text + "/stat");
    gone = stat.empty() || stat.find(") Z") != std::string::npos;
    if (!gone) {
      usleep(20000);
    }
  }
  EXPECT_TRUE(gone) << "pid " << child << " survived the hook's timeout";
  if (!gone) {
    kill(child, SIGKILL);
  }
  EXPECT_TRUE(NoTraceOfContainer());
}

}  // namespace
}  // namespace brick::integration
