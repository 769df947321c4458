#include "brick/isolation/process_user.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "brick/isolation/forked_child_for_test.h"
#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(PlanUts, NeedsANewUtsNamespace) {
  auto plan = PlanUts("brick", "", false);
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message(),
              HasSubstr("hostname: setting it needs a new uts namespace, else it would rename "
                        "the host"));
  EXPECT_TRUE(PlanUts("", "", false));  // nothing asked: fine without one
}

TEST(PlanUts, RefusesLongNames) {
  auto plan = PlanUts("brick", std::string(65, 'd'), true);
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message(), HasSubstr("domainname: "));
  EXPECT_THAT(plan.error().message(), HasSubstr("longer than 64 bytes"));
}

TEST(ApplyUts, SetsOnlyWhatIsGiven) {
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyUts(sys, *PlanUts("brick", "", true)));
  ASSERT_TRUE(ApplyUts(sys, *PlanUts("h", "example.org", true)));
  EXPECT_THAT(sys.calls(), ElementsAre("sethostname(\"brick\")", "sethostname(\"h\")",
                                       "setdomainname(\"example.org\")"));
  sys.FailOn("sethostname", EPERM);
  auto st = ApplyUts(sys, *PlanUts("brick", "", true));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "set hostname \"brick\": operation not permitted");
}

TEST(PlanIds, TakesUserAndDeduplicatesGroups) {
  oci::User user{.uid = 1000, .gid = 1000, .additional_gids = {5, 20, 5}};
  auto ids = PlanIds(user);
  ASSERT_TRUE(ids);
  EXPECT_EQ(ids->uid, 1000u);
  EXPECT_EQ(ids->gid, 1000u);
  EXPECT_THAT(ids->additional_gids, ElementsAre(5u, 20u));
  auto denied = PlanIds(user, /*setgroups_allowed=*/false);
  ASSERT_FALSE(denied);
  EXPECT_THAT(denied.error().message(), HasSubstr("process.user.additionalGids"));
  EXPECT_FALSE(PlanIds(oci::User{.uid = 4294967295u}));
}

TEST(Umask, DefaultsTo022) {
  EXPECT_EQ(UmaskOf(oci::User{}), 0022u);
  EXPECT_EQ(UmaskOf(oci::User{.umask = 077}), 077u);
  RecordingSyscalls sys;
  ApplyUmask(sys, 027);
  EXPECT_THAT(sys.calls(), ElementsAre("umask(0027)"));
}

TEST(ExecStrings, EnvMustBeKeyValue) {
  auto bad = ExecStrings::FromEnv({"PATH=/bin", "NOVALUE"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "process.env[1]: \"NOVALUE\" is not KEY=VALUE");
  auto empty_key = ExecStrings::FromEnv({"=x"});
  ASSERT_FALSE(empty_key);
  EXPECT_THAT(empty_key.error().message(), HasSubstr("process.env[0]"));
}

TEST(ExecStrings, BuildsANullTerminatedArrayThatSurvivesMoves) {
  auto env = ExecStrings::FromEnv({"A=1", "PATH=/bin", "EMPTY=", "A=2"});
  ASSERT_TRUE(env);
  ExecStrings moved = std::move(*env);
  char* const* p = moved.data();
  EXPECT_STREQ(p[0], "A=1");
  EXPECT_STREQ(p[1], "PATH=/bin");
  EXPECT_STREQ(p[2], "EMPTY=");
  EXPECT_STREQ(p[3], "A=2");
  EXPECT_EQ(p[4], nullptr);
  EXPECT_EQ(moved.Get("A"), "2");  // the last one wins, as with execve's consumers
  EXPECT_EQ(moved.Get("EMPTY"), "");
  EXPECT_EQ(moved.Get("PAT"), std::nullopt);
}

TEST(ExecStrings, ArgsNeedAProgram) {
  auto none = ExecStrings::FromArgs({});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "process.args: no program given; set process.args[0]");
  auto args = ExecStrings::FromArgs({"sh", "-c", "true"});
  ASSERT_TRUE(args);
  EXPECT_STREQ(args->data()[2], "true");
  EXPECT_EQ(args->data()[3], nullptr);
}

TEST(CheckOomScoreAdj, Range) {
  EXPECT_TRUE(CheckOomScoreAdj(std::nullopt));
  EXPECT_TRUE(CheckOomScoreAdj(-1000));
  auto st = CheckOomScoreAdj(1001);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "process.oomScoreAdj: 1001 is outside -1000..1000");
}

TEST(ApplyOomScoreAdj, WritesThroughProcAndExplainsLowering) {
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyOomScoreAdj(sys, 4, std::nullopt));
  EXPECT_TRUE(sys.calls().empty());
  ASSERT_TRUE(ApplyOomScoreAdj(sys, 4, -17));
  EXPECT_THAT(sys.calls(), ElementsAre("openat(4, \"self/oom_score_adj\", O_WRONLY|O_NOFOLLOW)",
                                       "fstatfs(1000)", "write(1000, \"-17\")", "close(1000)"));
  sys.FailOn("write", EACCES);
  auto st = ApplyOomScoreAdj(sys, 4, -500);
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("needs CAP_SYS_RESOURCE"));
  RecordingSyscalls decoy;
  decoy.SetFsType(1000, TMPFS_MAGIC);
  EXPECT_FALSE(ApplyOomScoreAdj(decoy, 4, 10));
}

TEST(ApplyOomScoreAdjReal, ChildRaisesItsScore) {
  std::string report = RunInForkedChildForTest([] {
    UniqueFd proc(open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (auto st = ApplyOomScoreAdj(RealSyscalls(), proc.get(), 500); !st) {
      return st.error().message();
    }
    auto v = ReadFile("/proc/self/oom_score_adj");
    return v ? *v : v.error().message();
  });
  EXPECT_EQ(report, "500\n");
}

// A container root under a scratch dir, with an escape symlink and a few programs.
class RootTree : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brick-process-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    top_ = tmpl;
    std::filesystem::create_directories(top_ / "root/bin");
    std::filesystem::create_directories(top_ / "root/usr/bin");
    std::filesystem::create_directories(top_ / "root/work");
    std::filesystem::create_directories(top_ / "host-only");
    MakeFile("root/bin/sh", 0755);
    MakeFile("root/usr/bin/data", 0644);
    MakeFile("root/work/tool", 0700);
    MakeFile("host-only/evil", 0755);
    std::filesystem::create_directory_symlink("../../../../host-only", top_ / "root/escape");
    root_ = std::move(*OpenDirectory(top_ / "root"));
  }
  void TearDown() override { std::filesystem::remove_all(top_); }
  void MakeFile(const std::string& rel, mode_t mode) {
    std::ofstream(top_ / rel) << "#!/bin/sh\n";
    chmod((top_ / rel).c_str(), mode);
  }
  std::filesystem::path top_;
  UniqueFd root_;
};

TEST_F(RootTree, CwdIsOpenedInsideTheRoot) {
  RecordingSyscalls sys;
  ASSERT_TRUE(ApplyCwd(sys, root_.get(), "/work"));
  ASSERT_EQ(sys.calls().size(), 1u);
  EXPECT_THAT(sys.calls()[0], HasSubstr("fchdir("));
  auto missing = ApplyCwd(sys, root_.get(), "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "process.cwd \"/nope\": no such file or directory");
  EXPECT_EQ(missing.error().errnum(), ENOENT);
  auto file = ApplyCwd(sys, root_.get(), "/bin/sh");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().errnum(), ENOTDIR);
  auto relative = CheckCwd("work");
  ASSERT_FALSE(relative);
  EXPECT_EQ(relative.error().message(), "process.cwd: \"work\" is not an absolute path");
}

TEST_F(RootTree, CwdThroughAnEscapingSymlinkStaysInside) {
  std::string report = RunInForkedChildForTest([this] {
    if (auto st = ApplyCwd(RealSyscalls(), root_.get(), "/escape"); !st) {
      return st.error().message();
    }
    return std::string("changed");
  });
  // "../../../../host-only" is clamped at the root: /host-only does not exist inside.
  EXPECT_EQ(report, "process.cwd \"/escape\": no such file or directory");
}

TEST_F(RootTree, RealCwdChangesToTheInRootDirectory) {
  std::string expected = (top_ / "root/work").string();
  std::string report = RunInForkedChildForTest([this] {
    if (auto st = ApplyCwd(RealSyscalls(), root_.get(), "/work"); !st) {
      return st.error().message();
    }
    char buf[4096];
    return std::string(getcwd(buf, sizeof buf) ? buf : "<getcwd failed>");
  });
  EXPECT_EQ(report, expected);
}

TEST_F(RootTree, ResolvesArgsZeroAgainstPathInsideTheRoot) {
  auto sh = ResolveExecutable(root_.get(), "sh", "/", "/usr/bin:/bin");
  ASSERT_TRUE(sh) << sh.error().message();
  EXPECT_EQ(*sh, "/bin/sh");
  auto dflt = ResolveExecutable(root_.get(), "sh", "/", std::nullopt);
  ASSERT_TRUE(dflt);
  EXPECT_EQ(*dflt, "/bin/sh");
  auto missing = ResolveExecutable(root_.get(), "evil", "/", "/escape:/bin");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "process.args[0] \"evil\": executable file not found in $PATH");
  auto not_exec = ResolveExecutable(root_.get(), "data", "/", "/usr/bin");
  ASSERT_FALSE(not_exec);
  EXPECT_EQ(not_exec.error().errnum(), EACCES);
  EXPECT_THAT(not_exec.error().message(),
              HasSubstr("found /usr/bin/data but it is not executable"));
  // Relative PATH entries are never searched.
  EXPECT_FALSE(ResolveExecutable(root_.get(), "sh", "/", "bin"));
}

TEST_F(RootTree, ExplicitPathsReportNoSuchFileOrPermission) {
  auto ok = ResolveExecutable(root_.get(), "./tool", "/work", std::nullopt);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, "/work/./tool");
  auto missing = ResolveExecutable(root_.get(), "/bin/bash", "/", std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "process.args[0] \"/bin/bash\": no such file or directory");
  auto denied = ResolveExecutable(root_.get(), "/usr/bin/data", "/", std::nullopt);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().message(), "process.args[0] \"/usr/bin/data\": permission denied");
  auto dir = ResolveExecutable(root_.get(), "/bin", "/", std::nullopt);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().errnum(), EACCES);
  auto escaped = ResolveExecutable(root_.get(), "/escape/evil", "/", std::nullopt);
  ASSERT_FALSE(escaped);
  EXPECT_EQ(escaped.error().errnum(), ENOENT);
}

}  // namespace
}  // namespace brick::isolation
