// A rootfs built to trick brick into touching the host: symlinks where brick mounts or
// creates things, and `..` chains in mount destinations. Whatever brick does (refuse, or
// mount inside the rootfs), the host sentinels must be untouched and nothing may be
// mounted on them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::StartsWith;

struct Sandbox {
  std::string base;           // the temp dir holding everything below
  std::string rootfs;         // base/rootfs, a copy of build/rootfs
  std::string sentinel_dir;   // base/host-sentinel-dir with a file in it
  std::string sentinel_file;  // base/host-sentinel-file
  std::string volume;         // base/volume, a harmless volume source
  std::vector<std::string> brick_args;
  bool use_bundle = false;
  std::function<void(nlohmann::json&)> edit_config;
};

::testing::AssertionResult Replace(const std::string& path, const std::string& target) {
  RunResult r = RunCommand({"/bin/rm", "-rf", "--one-file-system", path});
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure() << r.Describe();
  }
  if (symlink(target.c_str(), path.c_str()) != 0) {
    return ::testing::AssertionFailure() << "symlink " << path << ": " << strerror(errno);
  }
  return ::testing::AssertionSuccess();
}

struct HostileCase {
  const char* name;
  std::function<::testing::AssertionResult(Sandbox&)> plant;
};

// "../" enough times to climb from anywhere in the rootfs to /, then the host path.
std::string ClimbTo(const std::string& host_path) {
  std::string up;
  for (int i = 0; i < 16; ++i) {
    up += "../";
  }
  return up + host_path.substr(1);
}

const HostileCase kCases[] = {
    {"ProcSymlinkToHostDir",
     [](Sandbox& s) { return Replace(s.rootfs + "/proc", s.sentinel_dir); }},
    {"DevSymlinkToHostDir", [](Sandbox& s) { return Replace(s.rootfs + "/dev", s.sentinel_dir); }},
    {"DevNullSymlinkToHostFile",
     [](Sandbox& s) { return Replace(s.rootfs + "/dev/null", s.sentinel_file); }},
    {"DevPtsSymlinkToHostDir",
     [](Sandbox& s) { return Replace(s.rootfs + "/dev/pts", s.sentinel_dir); }},
    {"TmpSymlinkToHostDir", [](Sandbox& s) { return Replace(s.rootfs + "/tmp", s.sentinel_dir); }},
    {"SysSymlinkRelativeEscape",
     [](Sandbox& s) { return Replace(s.rootfs + "/sys", ClimbTo(s.sentinel_dir)); }},
    {"VolumeDestinationSymlinkToHostDir",
     [](Sandbox& s) {
       s.brick_args = {"-v", s.volume + ":/data"};
       return Replace(s.rootfs + "/data", s.sentinel_dir);
     }},
    {"VolumeDestinationRelativeSymlinkEscape",
     [](Sandbox& s) {
       s.brick_args = {"-v", s.volume + ":/data/inner"};
       return Replace(s.rootfs + "/data", ClimbTo(s.sentinel_dir));
     }},
    {"VolumeFileDestinationSymlinkToHostFile",
     [](Sandbox& s) {
       s.brick_args = {"-v", s.volume + "/file:/etc/hostname"};
       return Replace(s.rootfs + "/etc/hostname", s.sentinel_file);
     }},
    {"BundleMountDestinationDotDotChain",
     [](Sandbox& s) {
       s.use_bundle = true;
       std::string dest = "/tmp/a/../../../.." + s.sentinel_dir;
       s.edit_config = [dest](nlohmann::json& config) {
         config["mounts"].push_back({{"destination", dest},
                                     {"type", "tmpfs"},
                                     {"source", "tmpfs"},
                                     {"options", {"nosuid", "nodev", "noexec"}}});
       };
       return ::testing::AssertionSuccess();
     }},
    {"BundleMountThroughSymlinkedParent",
     [](Sandbox& s) {
       s.use_bundle = true;
       s.edit_config = [](nlohmann::json& config) {
         config["mounts"].push_back({{"destination", "/escape/inner"},
                                     {"type", "tmpfs"},
                                     {"source", "tmpfs"},
                                     {"options", {"nosuid"}}});
       };
       return Replace(s.rootfs + "/escape", ClimbTo(s.sentinel_dir));
     }},
};

class HostileRootfsTest : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileRootfsTest, HostIsUntouched) {
  TempDir dir;
  Sandbox s;
  s.base = dir.path();
  s.rootfs = dir / "rootfs";
  s.sentinel_dir = dir / "host-sentinel-dir";
  s.sentinel_file = dir / "host-sentinel-file";
  s.volume = dir / "volume";
  ASSERT_TRUE(CopyRootfs(s.rootfs));
  ASSERT_EQ(mkdir(s.sentinel_dir.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(s.sentinel_dir + "/keep", "host data"));
  ASSERT_TRUE(WriteFile(s.sentinel_file, "host file"));
  ASSERT_EQ(mkdir(s.volume.c_str(), 0755), 0);
  ASSERT_TRUE(WriteFile(s.volume + "/file", "volume file"));
  ASSERT_TRUE(GetParam().plant(s));

  std::string bundle = dir / "bundle";
  std::string marker = UniqueId("hostile");
  std::vector<std::string> argv;
  if (s.use_bundle) {
    ASSERT_EQ(mkdir(bundle.c_str(), 0755), 0);
    ASSERT_TRUE(MakeBundle(bundle, s.rootfs, s.edit_config, marker));
    argv = {kBrick, "run", "--bundle", bundle, "--id", marker};
  } else {
    // The marker becomes sh's $0, so the test can find any process the run left behind.
    argv = BrickRunArgv(s.brick_args, {"/bin/sh", "-c", "exit 0", marker});
    argv.insert(argv.begin() + 2, {"--rootfs", s.rootfs, "--id", marker});
  }

  std::string dir_before = TreeFingerprint(s.sentinel_dir);
  std::string file_before = TreeFingerprint(s.sentinel_file);
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = RunCommand(argv);

  EXPECT_FALSE(r.timed_out) << r.Describe();
  EXPECT_TRUE(r.ExitCode() == 0 || r.ExitCode() == 125) << r.Describe();
  if (r.ExitCode() == 125) {
    EXPECT_THAT(r.err, StartsWith("brick: ")) << r.Describe();
  }
  EXPECT_EQ(TreeFingerprint(s.sentinel_dir), dir_before);
  EXPECT_EQ(TreeFingerprint(s.sentinel_file), file_before);
  EXPECT_TRUE(MountsAtOrBelow(s.base).empty()) << ::testing::PrintToString(MountsAtOrBelow(s.base));
  EXPECT_TRUE(NothingLeftBehind(before, marker, marker));
}

INSTANTIATE_TEST_SUITE_P(Plants, HostileRootfsTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<HostileCase>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace brick::integration
