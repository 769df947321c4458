#include "brick/sys/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace brick {
namespace {

namespace stdfs = std::filesystem;

// A scratch tree: <tmp>/outside/secret and <tmp>/root, a would-be container root.
class InRootTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ForceFallbackResolverForTest(GetParam());
    char tmpl[] = "/tmp/brick-fs-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    top_ = tmpl;
    stdfs::create_directories(top_ / "outside");
    stdfs::create_directories(top_ / "root/etc");
    WriteText(top_ / "outside/secret", "host");
    WriteText(top_ / "root/etc/hostname", "inside");
    root_ = std::move(*OpenDirectory(top_ / "root"));
  }
  void TearDown() override {
    ForceFallbackResolverForTest(false);
    stdfs::remove_all(top_);
  }
  static void WriteText(const stdfs::path& p, const std::string& s) {
    FILE* f = fopen(p.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(s.c_str(), f);
    fclose(f);
  }
  std::string ReadVia(const UniqueFd& fd) {
    auto s = ReadFile(FdPath(fd.get()));
    return s ? *s : "<error>";
  }
  stdfs::path top_;
  UniqueFd root_;
};

TEST_P(InRootTest, OpensPlainPath) {
  auto fd = OpenInRoot(root_.get(), "/etc/hostname", O_RDONLY);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_EQ(ReadVia(*fd), "inside");
}

TEST_P(InRootTest, DotDotChainStaysInside) {
  stdfs::create_directories(top_ / "root/outside");
  WriteText(top_ / "root/outside/secret", "decoy");
  auto fd = OpenInRoot(root_.get(), "../../../../outside/secret", O_RDONLY);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_EQ(ReadVia(*fd), "decoy");
}

TEST_P(InRootTest, AbsoluteSymlinkResolvesInsideRoot) {
  stdfs::create_directories(top_ / "root/outside");
  WriteText(top_ / "root/outside/secret", "decoy");
  stdfs::create_symlink(top_ / "outside", top_ / "root/evil");   // host path
  stdfs::create_symlink("/", top_ / "root/up");
  auto fd = OpenInRoot(root_.get(), "/evil/secret", O_RDONLY);
  // The host path does not exist inside the root, so this must fail, never reach the host.
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().errnum(), ENOENT);
  auto up = OpenInRoot(root_.get(), "/up/up/up/etc/hostname", O_RDONLY);
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(ReadVia(*up), "inside");
}

TEST_P(InRootTest, RelativeSymlinkDotDotClampsAtRoot) {
  stdfs::create_symlink("../../../../outside", top_ / "root/etc/rel");
  auto fd = OpenInRoot(root_.get(), "/etc/rel/secret", O_RDONLY);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().errnum(), ENOENT);
}

TEST_P(InRootTest, CreateThroughDanglingSymlinkStaysInside) {
  stdfs::create_symlink(top_ / "outside/created", top_ / "root/dangling");
  auto fd = OpenInRoot(root_.get(), "/dangling", O_CREAT | O_WRONLY, 0644);
  if (fd) {
    EXPECT_FALSE(stdfs::exists(top_ / "outside/created"));
  }
  EXPECT_FALSE(stdfs::exists(top_ / "outside/created"));
}

TEST_P(InRootTest, NoFollowRefusesFinalSymlink) {
  stdfs::create_symlink("/etc/hostname", top_ / "root/link");
  auto fd = OpenInRoot(root_.get(), "/link", O_RDONLY | O_NOFOLLOW);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().errnum(), ELOOP);
}

TEST_P(InRootTest, MkdirAllThroughHostSymlinkStaysInside) {
  stdfs::create_symlink(top_ / "outside", top_ / "root/var");
  auto fd = MkdirAllInRoot(root_.get(), "/var/lib/x", 0755);
  // /var points at a host path that does not exist inside the root: refuse, create nothing outside.
  EXPECT_FALSE(stdfs::exists(top_ / "outside/lib"));
  if (fd) {
    EXPECT_TRUE(stdfs::is_directory(top_ / "root" / top_.relative_path() / "outside/lib/x"));
  }
}

TEST_P(InRootTest, MkdirAllCreatesNested) {
  auto fd = MkdirAllInRoot(root_.get(), "/a/b/../c/d", 0700);
  ASSERT_TRUE(fd) << fd.error().message();
  EXPECT_TRUE(stdfs::is_directory(top_ / "root/a/c/d"));
}

TEST_P(InRootTest, MountTargetFileAndDirKinds) {
  auto f = EnsureMountTargetInRoot(root_.get(), "/run/secrets/token", false);
  ASSERT_TRUE(f) << f.error().message();
  EXPECT_TRUE(stdfs::is_regular_file(top_ / "root/run/secrets/token"));
  auto bad = EnsureMountTargetInRoot(root_.get(), "/etc", false);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("is a directory"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, InRootTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Fallback" : "Openat2"; });

TEST(WriteFileAtomicTest, ReplacesWholeFile) {
  char tmpl[] = "/tmp/brick-atomic-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string p = std::string(tmpl) + "/state.json";
  ASSERT_TRUE(WriteFileAtomic(p, "one", 0600));
  ASSERT_TRUE(WriteFileAtomic(p, "two", 0600));
  EXPECT_EQ(*ReadFile(p), "two");
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(std::distance(stdfs::directory_iterator(tmpl), stdfs::directory_iterator()), 1);
  stdfs::remove_all(tmpl);
}

TEST(WriteFileAtomicTest, RenameOnlyReplacesWholeFileAndLeavesNoTemp) {
  char tmpl[] = "/tmp/brick-atomic-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string p = std::string(tmpl) + "/state.json";
  ASSERT_TRUE(WriteFileAtomic(p, "one", 0600, Durability::kRenameOnly));
  ASSERT_TRUE(WriteFileAtomic(p, "two", 0640, Durability::kRenameOnly));
  EXPECT_EQ(*ReadFile(p), "two");
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  EXPECT_EQ(std::distance(stdfs::directory_iterator(tmpl), stdfs::directory_iterator()), 1);
  stdfs::remove_all(tmpl);
}

TEST(WriteFileAtomicTest, RenameOnlyRefusesToReplaceADirectory) {
  char tmpl[] = "/tmp/brick-atomic-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string p = std::string(tmpl) + "/state.json";
  ASSERT_EQ(mkdir(p.c_str(), 0700), 0);
  EXPECT_FALSE(WriteFileAtomic(p, "one", 0600, Durability::kRenameOnly));
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(std::distance(stdfs::directory_iterator(tmpl), stdfs::directory_iterator()), 1);
  stdfs::remove_all(tmpl);
}

}  // namespace
}  // namespace brick
