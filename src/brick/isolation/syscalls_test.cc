#include "brick/isolation/syscalls.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/prctl.h>

#include <algorithm>
#include <array>
#include <filesystem>

namespace brick::isolation {
namespace {

using ::testing::ElementsAre;

TEST(RecordingSyscalls, RecordsAndFailsOnPrefix) {
  RecordingSyscalls sys;
  sys.FailOn("setresuid(0", EPERM);
  EXPECT_EQ(sys.Setresuid(1, 1, 1), 0);
  EXPECT_EQ(sys.Setresuid(0, 0, 0), -EPERM);
  EXPECT_EQ(sys.OpenAt(3, "a", O_RDONLY), 1000);
  EXPECT_EQ(sys.OpenBeneath(3, "b", O_PATH | O_DIRECTORY), 1001);
  EXPECT_THAT(sys.calls(),
              ElementsAre("setresuid(1, 1, 1)", "setresuid(0, 0, 0)", "openat(3, \"a\", O_RDONLY)",
                          "open_beneath(3, \"b\", O_PATH|O_DIRECTORY)"));
}

TEST(RealSyscalls, OpenBeneathRefusesEscapes) {
  char tmpl[] = "/tmp/brick-syscalls-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::filesystem::path top = tmpl;
  std::filesystem::create_directories(top / "d/e");
  int dir = open(top.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  Syscalls& sys = RealSyscalls();
  int ok = sys.OpenBeneath(dir, "d/e", O_PATH | O_DIRECTORY);
  EXPECT_GE(ok, 0);
  close(ok);
  EXPECT_EQ(sys.OpenBeneath(dir, "d/../../etc", O_PATH), -EXDEV);
  EXPECT_EQ(sys.OpenBeneath(dir, "/etc", O_PATH), -EXDEV);
  close(dir);
  std::filesystem::remove_all(top);
}

TEST(RealSyscalls, ListOpenFdsSeesANewFd) {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  std::array<int, 1024> fds;
  int n = RealSyscalls().ListOpenFds(fds);
  ASSERT_GT(n, 0);
  EXPECT_NE(std::find(fds.begin(), fds.begin() + n, fd), fds.begin() + n);
  close(fd);
  int m = RealSyscalls().ListOpenFds(fds);
  EXPECT_EQ(std::find(fds.begin(), fds.begin() + m, fd), fds.begin() + m);
}

TEST(RealSyscalls, FstatfsReportsProc) {
  int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int64_t type = 0;
  EXPECT_EQ(RealSyscalls().Fstatfs(fd, &type), 0);
  EXPECT_EQ(type, PROC_SUPER_MAGIC);
  close(fd);
  EXPECT_EQ(RealSyscalls().Fstatfs(-1, &type), -EBADF);
}

}  // namespace
}  // namespace brick::isolation
