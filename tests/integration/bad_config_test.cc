// Invalid bundles: each gets exit 125, one `brick: ` line naming the field at fault, and
// leaves nothing behind (mounts, cgroups, processes, state).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

struct BadConfig {
  const char* name;
  // Edits the default config; a null edit writes raw_config instead.
  std::function<void(json&)> edit;
  const char* raw_config;
  // stderr must contain this: the field or value at fault.
  const char* needle;
};

json& Capabilities(json& config) {
  json& caps = config["process"]["capabilities"];
  if (!caps.is_object()) {
    caps = json::object();
  }
  return caps;
}

const BadConfig kBadConfigs[] = {
    {"NotJson", nullptr, "{ \"ociVersion\": \"1.2.0\", this is not json", "config.json"},
    {"MissingRequiredField", [](json& c) { c.erase("ociVersion"); }, nullptr, "ociVersion"},
    {"WrongType", [](json& c) { c["process"]["args"] = "/bin/sh -c true"; }, nullptr, "args"},
    {"UnknownCapability",
     [](json& c) { Capabilities(c)["bounding"].push_back("CAP_BRICK_IT_BOGUS"); }, nullptr,
     "CAP_BRICK_IT_BOGUS"},
    {"UnknownSyscall",
     [](json& c) {
       json& seccomp = c["linux"]["seccomp"];
       if (!seccomp.is_object()) {
         seccomp = {{"defaultAction", "SCMP_ACT_ALLOW"}};
       }
       seccomp["syscalls"].push_back(
           {{"names", {"brick_it_no_such_syscall"}}, {"action", "SCMP_ACT_ERRNO"}});
     },
     nullptr, "brick_it_no_such_syscall"},
    {"OverlappingUidMappings",
     [](json& c) {
       json& maps = c["linux"]["uidMappings"];
       int64_t host = 2000000000;
       if (maps.is_array() && !maps.empty()) {
         host = maps[0]["hostID"].get<int64_t>();
       } else {
         maps = json::array({{{"containerID", 0}, {"hostID", host}, {"size", 65536}}});
       }
       maps.push_back({{"containerID", 100}, {"hostID", host + 100000}, {"size", 10}});
     },
     nullptr, "uidMappings"},
    {"MountDestinationEscapes",
     [](json& c) {
       c["mounts"].push_back({{"destination", "/../../../../../tmp/brick-it-escape"},
                              {"type", "tmpfs"},
                              {"source", "tmpfs"},
                              {"options", {"nosuid"}}});
     },
     nullptr, "destination"},
    {"UnknownNamespaceType",
     [](json& c) {
       c["linux"]["namespaces"].push_back({{"type", "foo"}});
     },
     nullptr, "foo"},
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, RefusedByNameAndNothingLeftBehind) {
  const BadConfig& bad = GetParam();
  TempDir dir;
  std::string marker = UniqueId("badcfg");
  auto edit = bad.edit ? bad.edit : [](json&) {};
  ASSERT_TRUE(MakeBundle(dir.path(), kRootfs, edit, marker));
  if (bad.raw_config != nullptr) {
    ASSERT_TRUE(WriteFile(dir / "config.json", bad.raw_config));
  }
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = RunCommand({kBrick, "run", "--bundle", dir.path(), "--id", marker});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, StartsWith("brick: ")) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(bad.needle)) << r.Describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_TRUE(NothingLeftBehind(before, marker, marker));
}

INSTANTIATE_TEST_SUITE_P(Configs, BadConfigTest, ::testing::ValuesIn(kBadConfigs),
                         [](const ::testing::TestParamInfo<BadConfig>& info) {
                           return std::string(info.param.name);
                         });

// The control: the same bundle unedited runs, so the failures above are the edits' doing.
TEST(GoodConfigTest, DefaultBundleRunsAndLeavesNothing) {
  TempDir dir;
  std::string marker = UniqueId("goodcfg");
  ASSERT_TRUE(MakeBundle(
      dir.path(), kRootfs, [](json&) {}, marker));
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = RunCommand({kBrick, "run", "--bundle", dir.path(), "--id", marker});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_TRUE(NothingLeftBehind(before, marker, marker));
}

}  // namespace
}  // namespace brick::integration
