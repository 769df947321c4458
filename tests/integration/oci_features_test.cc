// OCI config features applied exactly as a bundle's config.json says, observed from inside.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// Runs a bundle made from brick's default config, with `edit` applied and the shell
// command `script` as the process; returns the result.
RunResult RunBundle(const std::function<void(json&)>& edit, const std::string& script) {
  TempDir dir;
  std::string marker = UniqueId("oci");
  EXPECT_TRUE(MakeBundle(dir.path(), kRootfs, edit, marker));
  std::ifstream in(dir / "config.json");
  json config = json::parse(in);
  config["process"]["args"] = {"/bin/sh", "-c", script, marker};
  EXPECT_TRUE(WriteFile(dir / "config.json", config.dump(2)));
  return RunCommand({kBrick, "run", "--bundle", dir.path(), "--id", marker});
}

TEST(OciFeaturesTest, JoinsANetworkNamespaceByPath) {
  std::string name = UniqueId("netns");
  ASSERT_EQ(RunCommand({"/usr/sbin/ip", "netns", "add", name}).ExitCode(), 0);
  std::string path = "/run/netns/" + name;
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  RunResult r = RunBundle(
      [&](json& c) {
        for (auto& ns : c["linux"]["namespaces"]) {
          if (ns["type"] == "network") {
            ns["path"] = path;
          }
        }
      },
      "readlink /proc/self/ns/net");
  RunCommand({"/usr/sbin/ip", "netns", "del", name});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  // Joined, not new: the container's netns is the one the test made.
  EXPECT_EQ(TrimEnd(r.out), "net:[" + std::to_string(st.st_ino) + "]");
}

TEST(OciFeaturesTest, NamespacedSysctlAppliesInsideOnly) {
  std::string host_before = ReadFileOrEmpty("/proc/sys/kernel/shmmni");
  RunResult r = RunBundle([](json& c) { c["linux"]["sysctl"] = {{"kernel.shmmni", "1234"}}; },
                          "cat /proc/sys/kernel/shmmni");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(TrimEnd(r.out), "1234");
  EXPECT_EQ(ReadFileOrEmpty("/proc/sys/kernel/shmmni"), host_before);
}

TEST(OciFeaturesTest, HostWideSysctlIsRefusedBeforeAnythingStarts) {
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = RunBundle([](json& c) { c["linux"]["sysctl"] = {{"kernel.panic", "1"}}; },
                          "exit 0");
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("kernel.panic"));
  EXPECT_EQ(HostSnapshot::Capture().mountinfo, before.mountinfo);
}

TEST(OciFeaturesTest, OomScoreAdjIsApplied) {
  RunResult r = RunBundle([](json& c) { c["process"]["oomScoreAdj"] = 500; },
                          "cat /proc/self/oom_score_adj");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(TrimEnd(r.out), "500");
}

TEST(OciFeaturesTest, CgroupMountShowsTheContainersOwnLimits) {
  RunResult r = RunBundle(
      [](json& c) {
        c["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                               {"type", "cgroup"},
                               {"source", "cgroup"},
                               {"options", {"ro", "nosuid", "nodev", "noexec"}}});
      },
      "cat /sys/fs/cgroup/pids/pids.max; touch /sys/fs/cgroup/pids/x 2>&1 || true");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  std::istringstream lines(r.out);
  std::string pids_max;
  std::getline(lines, pids_max);
  EXPECT_EQ(pids_max, "1024");  // brick's default pids limit, so this is the container's cgroup
  EXPECT_THAT(r.out, HasSubstr("Read-only file system"));
}

TEST(OciFeaturesTest, TimeNamespaceOffsetsApply) {
  double host_uptime = std::stod(ReadFileOrEmpty("/proc/uptime"));
  RunResult r = RunBundle(
      [](json& c) {
        c["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400}, {"nanosecs", 0}}}};
      },
      "cut -d' ' -f1 /proc/uptime");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_GT(std::stod(r.out), host_uptime + 86000);
}

TEST(OciFeaturesTest, EnvCwdHostnameAndGroups) {
  RunResult r = RunBundle(
      [](json& c) {
        c["process"]["env"].push_back("GREETING=hello from the config");
        c["process"]["cwd"] = "/tmp";
        c["process"]["user"]["additionalGids"] = {5, 65534};
        c["hostname"] = "configured";
        c["domainname"] = "example.test";
      },
      "echo \"$GREETING\"; pwd; hostname; cat /proc/sys/kernel/domainname; id -G");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "hello from the config\n/tmp\nconfigured\nexample.test\n1000 5 65534\n");
}

TEST(OciFeaturesTest, TmpcopyupCopiesTheCoveredDirectoryIntoTheTmpfs) {
  RunResult r = RunBundle(
      [](json& c) {
        c["mounts"].push_back({{"destination", "/etc"},
                               {"type", "tmpfs"},
                               {"source", "tmpfs"},
                               {"options", {"nosuid", "nodev", "tmpcopyup", "mode=755"}}});
        c["process"]["user"]["uid"] = 0;
        c["process"]["user"]["gid"] = 0;
      },
      "grep -c '^brick:' /etc/passwd; echo x > /etc/new && cat /etc/new; "
      "grep ' /etc ' /proc/self/mountinfo | cut -d' ' -f9");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "1\nx\ntmpfs\n");
  EXPECT_FALSE(std::filesystem::exists(kRootfs + "/etc/new"));  // the image is untouched
}

TEST(OciFeaturesTest, CwdOutsideTheRootIsRefused) {
  RunResult r = RunBundle([](json& c) { c["process"]["cwd"] = "/no/such/dir"; }, "pwd");
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("/no/such/dir"));
}

TEST(OciFeaturesTest, MissingExecutableIsReportedWithTheCallersWording) {
  RunResult r = RunCommand(BrickRunArgv({}, {"no-such-program"}));
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("executable file not found in $PATH"));
}

}  // namespace
}  // namespace brick::integration
