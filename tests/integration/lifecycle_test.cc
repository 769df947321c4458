// The runc-compatible lifecycle, driven the way engines drive it: create, start, state,
// kill, delete, list, ps, pause and resume, each as a separate brick process, on a
// private --root so that nothing touches /run/brick.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
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

using LifecycleTest = DetachedContainerTest;

TEST_F(LifecycleTest, CreateStartKillDelete) {
  std::string pid_file = bundle_ / "init.pid";
  RunResult c = Create({"--pid-file", pid_file});
  ASSERT_EQ(c.ExitCode(), 0) << c.Describe();
  // The pid file is a bare decimal without a newline, naming a live process.
  std::string pid = ReadFileOrEmpty(pid_file);
  ASSERT_FALSE(pid.empty());
  EXPECT_EQ(pid.find('\n'), std::string::npos);
  EXPECT_EQ(kill(std::stoi(pid), 0), 0);
  EXPECT_EQ(Status(), "created");
  RunResult state = Brick({"state", id_});
  json j = json::parse(state.out);
  EXPECT_EQ(j["id"], id_);
  EXPECT_EQ(std::to_string(j["pid"].get<int>()), pid);
  EXPECT_EQ(j["bundle"], bundle_.path());

  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "running");
  RunResult again = Brick({"start", id_});
  EXPECT_EQ(again.ExitCode(), 125);
  EXPECT_THAT(again.err, HasSubstr("not created"));

  RunResult del = Brick({"delete", id_});
  EXPECT_EQ(del.ExitCode(), 125);
  EXPECT_THAT(del.err, HasSubstr("is running"));

  ASSERT_EQ(Brick({"kill", id_, "KILL"}).ExitCode(), 0);
  for (int i = 0; i < 50 && Status() != "stopped"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Status(), "stopped");
  RunResult not_running = Brick({"kill", id_, "TERM"});
  EXPECT_EQ(not_running.ExitCode(), 125);
  EXPECT_THAT(not_running.err, HasSubstr("signal container " + id_ + ": container not running"));
  ASSERT_EQ(Brick({"delete", id_}).ExitCode(), 0);
  RunResult gone = Brick({"state", id_});
  EXPECT_EQ(gone.ExitCode(), 125);
  EXPECT_THAT(gone.err, HasSubstr("does not exist"));
  EXPECT_EQ(Brick({"delete", "--force", id_}).ExitCode(), 0);  // already gone: still 0
}

TEST_F(LifecycleTest, PsListPauseResume) {
  ASSERT_EQ(Create().ExitCode(), 0);
  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  RunResult ps = Brick({"ps", "--format", "json", id_});
  ASSERT_EQ(ps.ExitCode(), 0) << ps.Describe();
  EXPECT_TRUE(ps.err.empty()) << ps.err;  // callers parse stdout and expect nothing else
  json pids = json::parse(ps.out);
  ASSERT_TRUE(pids.is_array());
  EXPECT_GE(pids.size(), 1u);

  RunResult list = Brick({"list", "--format", "json"});
  ASSERT_EQ(list.ExitCode(), 0);
  json all = json::parse(list.out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["id"], id_);
  EXPECT_EQ(all[0]["status"], "running");

  ASSERT_EQ(Brick({"pause", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "paused");
  ASSERT_EQ(Brick({"resume", id_}).ExitCode(), 0);
  EXPECT_EQ(Status(), "running");
  ASSERT_EQ(Brick({"delete", "--force", id_}).ExitCode(), 0);
  EXPECT_TRUE(ProcessesWithArg(id_).empty());
}

TEST_F(LifecycleTest, KillAllSignalsEveryProcess) {
  SetScript("sleep 60 & sleep 60 & echo started; wait");
  ASSERT_EQ(Create().ExitCode(), 0);
  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  ASSERT_EQ(Brick({"kill", "--all", id_, "9"}).ExitCode(), 0);
  for (int i = 0; i < 50 && Status() != "stopped"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Status(), "stopped");
}

TEST_F(LifecycleTest, DuplicateIdIsRefusedAndTheFirstSurvives) {
  ASSERT_EQ(Create().ExitCode(), 0);
  RunResult dup = Create();
  EXPECT_EQ(dup.ExitCode(), 125);
  EXPECT_THAT(dup.err, HasSubstr("already exists"));
  EXPECT_EQ(Status(), "created");
}

TEST_F(LifecycleTest, ConcurrentCreatesOfOneIdLeaveExactlyOne) {
  std::vector<Process> procs;
  for (int i = 0; i < 4; ++i) {
    procs.push_back(Process::Start(
        {kBrick, "--root", root_, "create", "--bundle", bundle_.path(), id_}, {}));
  }
  int ok = 0;
  for (auto& p : procs) {
    RunResult r = p.Wait();
    if (r.ExitCode() == 0) {
      ++ok;
    } else {
      EXPECT_THAT(r.err, HasSubstr("already exists")) << r.Describe();
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(Status(), "created");
}

TEST_F(LifecycleTest, BadIdsAndSignalsAreRefused) {
  for (const char* bad : {"../escape", "a/b", ".hidden", ""}) {
    RunResult r = Brick({"state", bad});
    EXPECT_EQ(r.ExitCode(), 125) << bad;
    EXPECT_THAT(r.err, HasSubstr("container id")) << bad;
  }
  ASSERT_EQ(Create().ExitCode(), 0);
  RunResult range = Brick({"kill", id_, "99"});
  EXPECT_EQ(range.ExitCode(), 125);
  EXPECT_THAT(range.err, HasSubstr("out of range"));
  RunResult name = Brick({"kill", id_, "NOSUCHSIG"});
  EXPECT_EQ(name.ExitCode(), 125);
  EXPECT_THAT(name.err, HasSubstr("unknown"));
  EXPECT_EQ(Status(), "created");  // nothing happened to it
}

TEST_F(LifecycleTest, MissingExecutableFailsAtCreateAndLeavesNothing) {
  std::ifstream in(bundle_ / "config.json");
  json c = json::parse(in);
  c["process"]["args"] = {"no-such-binary"};
  ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = Create();
  EXPECT_EQ(r.ExitCode(), 125);
  EXPECT_THAT(r.err, HasSubstr("executable file not found"));
  EXPECT_THAT(Brick({"state", id_}).err, HasSubstr("does not exist"));
  EXPECT_TRUE(NothingLeftBehind(before, id_, id_));
}

TEST_F(LifecycleTest, JsonLogGetsOneErrorLine) {
  std::string log = bundle_ / "brick.log";
  RunResult r = RunCommand(
      {kBrick, "--root", root_, "--log", log, "--log-format", "json", "state", "missing-one"});
  EXPECT_EQ(r.ExitCode(), 125);
  EXPECT_THAT(r.err, HasSubstr("does not exist"));
  std::string text = ReadFileOrEmpty(log);
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  json line = json::parse(text);
  EXPECT_EQ(line["level"], "error");
  EXPECT_THAT(line["msg"].get<std::string>(), HasSubstr("does not exist"));
  EXPECT_TRUE(line.contains("time"));
}

TEST_F(LifecycleTest, DetachedContainerKeepsItsIdRangeUntilDeleted) {
  ASSERT_EQ(Create().ExitCode(), 0);
  // A second container made while the first exists must get another host range.
  RunResult other = RunCommand({kBrick, "--root", root_, "run", "--", "cat", "/proc/self/uid_map"});
  ASSERT_EQ(other.ExitCode(), 0) << other.Describe();
  std::string pid = json::parse(Brick({"state", id_}).out)["pid"].dump();
  std::string first_map = ReadFileOrEmpty("/proc/" + pid + "/uid_map");
  std::istringstream a(first_map), b(other.out);
  long inside_a, host_a, inside_b, host_b;
  a >> inside_a >> host_a;
  b >> inside_b >> host_b;
  EXPECT_NE(host_a, host_b);
}

}  // namespace
}  // namespace brick::integration
