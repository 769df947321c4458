// A fixture for tests that drive a container the way engines do: `brick create` on a
// bundle, then separate brick processes for start, state, exec, kill and delete, all on a
// private --root so that nothing touches /run/brick.
//
//   TEST_F(DetachedContainerTest, Something) {
//     SetScript("echo started; sleep 60");
//     ASSERT_EQ(Create().ExitCode(), 0);
//     ASSERT_EQ(Brick({"start", id_}).ExitCode(), 0);
//     EXPECT_EQ(Status(), "running");
//   }
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "container.h"
#include "harness.h"

namespace brick::integration {

class DetachedContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = state_.path();
    id_ = UniqueId("lc");
    ASSERT_TRUE(MakeBundle(bundle_.path(), kRootfs, [](nlohmann::json&) {}, id_));
    SetScript("echo started; sleep 60");
  }
  void TearDown() override {
    Brick({"delete", "--force", id_});
    EXPECT_TRUE(CgroupDirsFor(id_).empty()) << ::testing::PrintToString(CgroupDirsFor(id_));
  }
  void SetScript(const std::string& script) {
    std::ifstream in(bundle_ / "config.json");
    nlohmann::json c = nlohmann::json::parse(in);
    c["process"]["args"] = {"/bin/sh", "-c", script, id_};
    ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  }
  // brick's own output is all written when it exits; the pipes it shares with a detached
  // init stay open, so reading stops shortly after brick's exit.
  RunResult Brick(std::vector<std::string> args) {
    args.insert(args.begin(), {kBrick, "--root", root_});
    RunOptions o;
    o.drain_after_exit = std::chrono::milliseconds(300);
    return RunCommand(args, o);
  }
  std::string Status() {
    RunResult r = Brick({"state", id_});
    if (r.ExitCode() != 0) {
      return "error: " + r.err;
    }
    return nlohmann::json::parse(r.out).at("status").get<std::string>();
  }
  RunResult Create(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"create", "--bundle", bundle_.path()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(id_);
    return Brick(args);
  }

  // The init's host pid from `brick state`, or -1.
  pid_t InitPid() {
    RunResult r = Brick({"state", id_});
    if (r.ExitCode() != 0) {
      return -1;
    }
    return nlohmann::json::parse(r.out).at("pid").get<pid_t>();
  }
  // create + start; true when the container ended up running.
  ::testing::AssertionResult CreateAndStart() {
    RunResult c = Create();
    if (c.ExitCode() != 0) {
      return ::testing::AssertionFailure() << "create: " << c.Describe();
    }
    RunResult s = Brick({"start", id_});
    if (s.ExitCode() != 0) {
      return ::testing::AssertionFailure() << "start: " << s.Describe();
    }
    return ::testing::AssertionSuccess();
  }

  TempDir state_;
  TempDir bundle_;
  std::string root_;
  std::string id_;
};

}  // namespace brick::integration
