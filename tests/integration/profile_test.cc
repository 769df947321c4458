// `brick check` on real running containers: the truth read from /proc/<pid>, and drift between
// a config and the running container.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// A running `brick run` whose container init is `sh` carrying a marker argument.
class RunningContainer {
 public:
  explicit RunningContainer(const std::vector<std::string>& brick_args)
      : marker_(UniqueId("check")),
        process_(Process::Start(BrickRunArgv(
            brick_args, {"/bin/sh", "-c", "echo ready; sleep 30; exit 0", marker_}))) {}

  ~RunningContainer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
    }
    process_.Wait();
  }

  // The container's init as the host sees it: the marked process in a pid namespace other
  // than ours (brick's own argv carries the marker too).
  ::testing::AssertionResult Start() {
    if (!process_.ReadStdoutUntil("ready")) {
      return ::testing::AssertionFailure() << "container did not start: " << process_.Describe();
    }
    std::string own = OwnNamespace("pid");
    for (pid_t p : ProcessesWithArg(marker_)) {
      std::string link(256, '\0');
      ssize_t n = readlink(("/proc/" + std::to_string(p) + "/ns/pid").c_str(), link.data(),
                           link.size());
      if (n > 0 && link.substr(0, static_cast<size_t>(n)) != own) {
        pid_ = p;
      }
    }
    if (pid_ <= 0) {
      return ::testing::AssertionFailure() << "no container process carries " << marker_;
    }
    return ::testing::AssertionSuccess();
  }

  pid_t pid() const { return pid_; }

 private:
  std::string marker_;
  Process process_;
  pid_t pid_ = -1;
};

std::map<std::string, std::vector<json>> FindingsByRule(const json& report) {
  std::map<std::string, std::vector<json>> out;
  for (const json& f : report["findings"]) {
    out[f["rule"].get<std::string>()].push_back(f);
  }
  return out;
}

TEST(CheckRunningTest, DefaultContainerMatchesItsConfigAndPassesFromProc) {
  RunningContainer c({});
  ASSERT_TRUE(c.Start());
  TempDir dir;
  json spec;
  ASSERT_TRUE(DefaultSpec(kRootfs, &spec));
  ASSERT_TRUE(WriteFile(dir / "config.json", spec.dump()));
  RunResult r = RunCommand({kBrick, "check", "pid:" + std::to_string(c.pid()), "--config",
                            dir / "config.json", "--format", "json"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  json report = json::parse(r.out);
  auto f = FindingsByRule(report);
  ASSERT_EQ(f["BRICK-DRIFT-001"].size(), 1u) << report.dump(2);
  EXPECT_EQ(f["BRICK-DRIFT-001"][0]["result"], "PASS") << report.dump(2);
  // Read from /proc: no capabilities, no_new_privs, a filter, a read-only root, own namespaces.
  for (const char* id : {"BRICK-CAP-004", "BRICK-NNP-001", "BRICK-SECCOMP-001",
                         "BRICK-ROOTFS-001", "BRICK-NS-001", "BRICK-NS-004", "BRICK-USER-001",
                         "BRICK-USER-002", "BRICK-LIMIT-001", "BRICK-LIMIT-002", "BRICK-MASK-001"}) {
    ASSERT_EQ(f[id].size(), 1u) << id;
    EXPECT_EQ(f[id][0]["result"], "PASS") << id << ": " << f[id][0].dump();
  }
  EXPECT_EQ(report["kind"], "process");
}

TEST(CheckRunningTest, WritableRootDriftsFromAConfigClaimingReadOnly) {
  RunningContainer c({"--unsafe-writable-root"});
  ASSERT_TRUE(c.Start());
  TempDir dir;
  json spec;
  ASSERT_TRUE(DefaultSpec(kRootfs, &spec));
  ASSERT_EQ(spec["root"]["readonly"], true);
  ASSERT_TRUE(WriteFile(dir / "config.json", spec.dump()));
  RunResult r = RunCommand({kBrick, "check", "pid:" + std::to_string(c.pid()), "--config",
                            dir / "config.json", "--format", "json"});
  // A drift finding is a FAIL: exit status 1 at the default threshold.
  ASSERT_EQ(r.ExitCode(), 1) << r.Describe();
  json report = json::parse(r.out);
  auto f = FindingsByRule(report);
  ASSERT_EQ(f["BRICK-DRIFT-001"].size(), 1u) << report.dump(2);
  EXPECT_EQ(f["BRICK-DRIFT-001"][0]["result"], "FAIL");
  EXPECT_THAT(f["BRICK-DRIFT-001"][0]["detail"].get<std::string>(),
              HasSubstr("read-only root: the config says yes, the running container's / is "
                        "writable"));
  EXPECT_EQ(f["BRICK-ROOTFS-001"][0]["result"], "WARN");

  RunResult table = RunCommand({kBrick, "check", "pid:" + std::to_string(c.pid()), "--config",
                                dir / "config.json"});
  EXPECT_EQ(table.ExitCode(), 1) << table.Describe();
  EXPECT_THAT(table.out, HasSubstr("FAIL   BRICK-DRIFT-001"));
  EXPECT_THAT(table.out, HasSubstr("score: "));
}

TEST(CheckRunningTest, SarifAndThreshold) {
  RunningContainer c({"--unsafe-writable-root"});
  ASSERT_TRUE(c.Start());
  std::string target = "pid:" + std::to_string(c.pid());
  RunResult r = RunCommand({kBrick, "check", target, "--format", "sarif"});
  // Without a config only WARN findings: passes at --fail-on fail ...
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  json sarif = json::parse(r.out);
  EXPECT_EQ(sarif["version"], "2.1.0");
  bool rootfs = false;
  for (const json& res : sarif["runs"][0]["results"]) {
    rootfs |= res["ruleId"] == "BRICK-ROOTFS-001" && res["level"] == "warning";
  }
  EXPECT_TRUE(rootfs) << sarif.dump(2);
  // ... and fails at --fail-on warn.
  EXPECT_EQ(RunCommand({kBrick, "check", target, "--fail-on", "warn"}).ExitCode(), 1);
}

TEST(CheckTargetsTest, UnknownContainerAndBadPid) {
  RunResult r = RunCommand({kBrick, "check", "no-such-container-xyz"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("/run/brick/no-such-container-xyz/state.json does not exist"));
  RunResult p = RunCommand({kBrick, "check", "pid:999999999"});
  EXPECT_EQ(p.ExitCode(), 125) << p.Describe();
  EXPECT_THAT(p.err, HasSubstr("process 999999999"));
}

}  // namespace
}  // namespace brick::integration
