// -v SRC:DST[:ro|rw]: read-only unless asked, and a missing source is an error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class VolumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = dir_ / "volume";
    ASSERT_EQ(mkdir(source_.c_str(), 0777), 0);
    // World-writable so that only the mount mode decides, whatever host uid the container
    // user maps to.
    ASSERT_EQ(chmod(source_.c_str(), 0777), 0);
    ASSERT_TRUE(WriteFile(source_ + "/existing", "from the host"));
  }

  TempDir dir_;
  std::string source_;
};

TEST_F(VolumeTest, ReadOnlyByDefault) {
  std::string line;
  ASSERT_TRUE(ProbeLine({"-v", source_ + ":/data"}, {"write", "/data/new", "x"}, &line));
  EXPECT_EQ(line, "errno EROFS");
  RunResult r = BrickRun({"-v", source_ + ":/data"}, {kInspect, "cat", "/data/existing"});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "from the host");
  ASSERT_TRUE(ProbeLine({"-v", source_ + ":/data:ro"}, {"write", "/data/new", "x"}, &line));
  EXPECT_EQ(line, "errno EROFS");
  struct stat st;
  EXPECT_NE(stat((source_ + "/new").c_str(), &st), 0);
}

TEST_F(VolumeTest, RwIsWritable) {
  std::string line;
  ASSERT_TRUE(
      ProbeLine({"-v", source_ + ":/data:rw"}, {"write", "/data/new", "from inside"}, &line));
  EXPECT_EQ(line, "ok");
  EXPECT_EQ(ReadFileOrEmpty(source_ + "/new"), "from inside");
}

TEST_F(VolumeTest, MissingSourceIsRefusedByPath) {
  std::string missing = dir_ / "does-not-exist";
  RunResult r = BrickRun({"-v", missing + ":/data"}, {kInspect, "exit", "0"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, StartsWith("brick: "));
  EXPECT_THAT(r.err, HasSubstr(missing));
}

}  // namespace
}  // namespace brick::integration
