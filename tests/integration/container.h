// Helpers for driving the real brick binary and checking the host before and after.
//
//   nlohmann::json report;
//   ASSERT_TRUE(InspectJson({"--cap-add", "CAP_NET_BIND_SERVICE"}, &report));
//   EXPECT_EQ(report["capabilities"]["CapEff"]["hex"], "0000000000000400");
//
//   std::string line;
//   ASSERT_TRUE(ProbeLine({}, {"write", "/etc/x", "data"}, &line));
//   EXPECT_EQ(line, "errno EROFS");
//
// Paths come from compile definitions: BRICK_BINARY (build/brick), BRICK_ROOTFS
// (build/rootfs) and BRICK_INSPECT_HOST (build/brick-inspect).
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "harness.h"

namespace brick::integration {

inline const std::string kBrick = BRICK_BINARY;
inline const std::string kRootfs = BRICK_ROOTFS;
inline const std::string kInspectHost = BRICK_INSPECT_HOST;
// Where the embedded rootfs puts the inspector.
inline const std::string kInspect = "/usr/bin/brick-inspect";

// {brick, run, brick_args..., --, cmd...}
std::vector<std::string> BrickRunArgv(const std::vector<std::string>& brick_args,
                                      const std::vector<std::string>& cmd);

RunResult BrickRun(const std::vector<std::string>& brick_args, const std::vector<std::string>& cmd,
                   const RunOptions& options = {});

// Runs `brick run BRICK_ARGS -- brick-inspect --json`, requires exit 0 and parses stdout.
::testing::AssertionResult InspectJson(const std::vector<std::string>& brick_args,
                                       nlohmann::json* out, const RunOptions& options = {});

// Runs `brick run BRICK_ARGS -- brick-inspect PROBE...`, requires exit 0 and returns the
// last line of stdout.
::testing::AssertionResult ProbeLine(const std::vector<std::string>& brick_args,
                                     const std::vector<std::string>& probe, std::string* line,
                                     const RunOptions& options = {});

// "brick-it-<what>-<pid>-<counter>": unique per test process and call.
std::string UniqueId(std::string_view what);

// A directory under /tmp, mode 0755 so that a remapped container user can traverse it,
// removed (without crossing into other filesystems) when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// cp -a build/rootfs DEST.
::testing::AssertionResult CopyRootfs(const std::string& dest);

// Writes a file (creating or truncating it).
::testing::AssertionResult WriteFile(const std::string& path, std::string_view data);
std::string ReadFileOrEmpty(const std::string& path);

// The test process's own namespace link, e.g. "pid:[4026531836]".
std::string OwnNamespace(const std::string& name);

// Lines of /proc/self/mountinfo of the test process.
std::vector<std::string> MountInfo();
// Mount points in the test process's mount namespace at or below path.
std::vector<std::string> MountsAtOrBelow(const std::string& path);

// Every existing /sys/fs/cgroup/<hierarchy>/brick/<id> directory.
std::vector<std::string> CgroupDirsFor(const std::string& id);
// Host pids whose command line contains marker as a whole argument.
std::vector<pid_t> ProcessesWithArg(std::string_view marker);

// A description of a file or directory tree (type, mode, owner, size, mtime and the
// contents of regular files) that changes when anything in it is touched.
std::string TreeFingerprint(const std::string& path);

// What the host looked like before a run, to prove afterwards that the run left nothing.
struct HostSnapshot {
  std::vector<std::string> mountinfo;
  static HostSnapshot Capture();
};

// No new mount, no cgroup directory for id, no /run/brick state for id and no process
// carrying marker: everything a failed or finished run must clean up.
::testing::AssertionResult NothingLeftBehind(const HostSnapshot& before, const std::string& id,
                                             const std::string& marker);

// Runs `brick spec --rootfs ROOTFS` and parses the config it prints.
::testing::AssertionResult DefaultSpec(const std::string& rootfs, nlohmann::json* out);

// Writes a bundle in dir: a `rootfs` symlink to rootfs and the default config with
// root.path "rootfs", process.args ["/bin/sh", "-c", "exit 0", MARKER] (so any process it
// leaves behind can be found by its marker) and then edit applied.
::testing::AssertionResult MakeBundle(const std::string& dir, const std::string& rootfs,
                                      const std::function<void(nlohmann::json&)>& edit,
                                      const std::string& marker);

}  // namespace brick::integration
