// OCI hooks, observed from the files the hooks themselves write: order, the state JSON on
// stdin, where each list runs, environment and fds, failures and timeouts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "container.h"
#include "harness.h"
#include "lifecycle_fixture.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class HooksTest : public DetachedContainerTest {
 protected:
  void SetUp() override {
    DetachedContainerTest::SetUp();
    out_ = hook_dir_.path();
    // createContainer hooks run as the container's root, an unprivileged host uid.
    ASSERT_EQ(chmod(out_.c_str(), 0777), 0);
    ASSERT_TRUE(WriteFile(out_ + "/order", ""));
    ASSERT_EQ(chmod((out_ + "/order").c_str(), 0666), 0);
  }
  // A host-side hook: records its list name in order and its stdin in <name>.json.
  json RecordingHook(const std::string& name, const std::string& extra = "") {
    return {{"path", "/bin/sh"},
            {"args", {"sh", "-c",
                      "cat > " + out_ + "/" + name + ".json; echo " + name + " >> " + out_ +
                          "/order; " + extra}}};
  }
  void SetHooks(const json& hooks) {
    std::ifstream in(bundle_ / "config.json");
    json c = json::parse(in);
    c["hooks"] = hooks;
    ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  }
  json AllHooks() {
    return {{"prestart", {RecordingHook("prestart")}},
            {"createRuntime", {RecordingHook("createRuntime")}},
            {"createContainer", {RecordingHook("createContainer")}},
            // In the container, after pivot_root: /bin/sh is the rootfs's busybox, and the
            // container's /tmp is where the program can show what the hook got.
            {"startContainer",
             {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "cat > /tmp/startContainer.json"}}}}},
            {"poststart", {RecordingHook("poststart")}},
            {"poststop", {RecordingHook("poststop")}}};
  }
  json StateFrom(const std::string& name) {
    std::string text = ReadFileOrEmpty(out_ + "/" + name + ".json");
    return json::parse(text, nullptr, false);
  }
  RunResult RunForeground() {
    return RunCommand({kBrick, "--root", root_, "run", "--bundle", bundle_.path(), id_});
  }

  TempDir hook_dir_;
  std::string out_;
};

TEST_F(HooksTest, ForegroundRunCallsEveryListInOrderWithTheState) {
  SetScript("cat /tmp/startContainer.json");
  SetHooks(AllHooks());
  RunResult r = RunForeground();
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/order"),
            "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n");
  json created = StateFrom("createRuntime");
  ASSERT_TRUE(created.is_object()) << ReadFileOrEmpty(out_ + "/createRuntime.json");
  EXPECT_EQ(created["id"], id_);
  EXPECT_EQ(created["status"], "creating");
  EXPECT_GT(created["pid"].get<int>(), 0);
  EXPECT_EQ(created["bundle"], bundle_.path());
  EXPECT_EQ(StateFrom("createContainer")["status"], "creating");
  EXPECT_EQ(StateFrom("poststart")["status"], "running");
  EXPECT_EQ(StateFrom("poststop")["status"], "stopped");
  // The startContainer hook ran inside the container, before the program.
  json started = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(started.is_object()) << r.Describe();
  EXPECT_EQ(started["status"], "created");
  EXPECT_EQ(started["id"], id_);
}

TEST_F(HooksTest, CreateStartDeleteSplitTheListsAcrossCommands) {
  SetScript("cat /tmp/startContainer.json > /dev/null && sleep 60");
  SetHooks(AllHooks());
  ASSERT_EQ(Create().ExitCode(), 0);
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/order"), "prestart\ncreateRuntime\ncreateContainer\n");
  ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/order"),
            "prestart\ncreateRuntime\ncreateContainer\npoststart\n");
  EXPECT_EQ(Status(), "running");
  ASSERT_EQ(Brick({"delete", "--force", id_}).ExitCode(), 0);
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/order"),
            "prestart\ncreateRuntime\ncreateContainer\npoststart\npoststop\n");
  EXPECT_EQ(StateFrom("poststop")["status"], "stopped");
}

TEST_F(HooksTest, HooksGetOnlyTheirOwnEnvAndNoFdsOfBrick) {
  json hook = {{"path", "/bin/sh"},
               {"args", {"sh", "-c",
                         "env > " + out_ + "/env; ls /proc/self/fd | tr '\\n' ' ' > " + out_ +
                             "/fds"}},
               {"env", {"HOOK_VAR=given"}}};
  SetHooks({{"createRuntime", {hook}}});
  SetScript("true");
  setenv("BRICK_TEST_CALLER_VAR", "leaked", 1);
  RunResult r = RunForeground();
  unsetenv("BRICK_TEST_CALLER_VAR");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  std::string env = ReadFileOrEmpty(out_ + "/env");
  EXPECT_THAT(env, HasSubstr("HOOK_VAR=given"));
  EXPECT_THAT(env, Not(HasSubstr("BRICK_TEST_CALLER_VAR")));
  // 0 1 2, and the one ls opens for /proc/self/fd.
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/fds"), "0 1 2 3 ");
}

TEST_F(HooksTest, AFailingCreateHookStopsTheContainerRunsPoststopAndLeavesNothing) {
  json hooks = AllHooks();
  hooks["createRuntime"] = {RecordingHook("createRuntime", "echo hook-says-no >&2; exit 3")};
  SetHooks(hooks);
  HostSnapshot before = HostSnapshot::Capture();
  RunResult c = Create();
  EXPECT_EQ(c.ExitCode(), 125);
  EXPECT_THAT(c.err, HasSubstr("hooks.createRuntime[0] /bin/sh: exited with status 3"));
  EXPECT_THAT(c.err, HasSubstr("hook-says-no"));
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/order"), "prestart\ncreateRuntime\npoststop\n");
  EXPECT_THAT(Brick({"state", id_}).err, HasSubstr("does not exist"));
  EXPECT_TRUE(NothingLeftBehind(before, id_, id_));
}

TEST_F(HooksTest, TimeoutKillsTheHookAndFailsTheRun) {
  json slow = {{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}};
  SetScript("true");
  SetHooks({{"prestart", {slow}}});
  RunResult r = RunForeground();
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("hooks.prestart[0] /bin/sleep: timed out after 1 s"));
  EXPECT_TRUE(ProcessesWithArg(id_).empty());
}

TEST_F(HooksTest, FailingPoststopIsOnlyAWarning) {
  SetScript("true");
  SetHooks({{"poststop", {{{"path", "/bin/false"}}, RecordingHook("poststop")}}});
  RunResult r = RunForeground();
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("warning: hooks.poststop[0] /bin/false: exited with status 1"));
  EXPECT_EQ(ReadFileOrEmpty(out_ + "/order"), "poststop\n");  // the rest still ran
}

}  // namespace
}  // namespace brick::integration
