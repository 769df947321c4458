// The embedded rootfs that the build assembles (scripts/make-rootfs.sh), checked on disk
// and by running its binaries under chroot.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::UnorderedElementsAre;

std::string In(std::string_view path) { return kRootfs + std::string(path); }

TEST(RootfsLayoutTest, HasBusyboxAndOneSymlinkPerApplet) {
  struct stat st;
  ASSERT_EQ(stat(In("/bin/busybox").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  RunResult list = RunCommand({In("/bin/busybox"), "--list"});
  ASSERT_EQ(list.ExitCode(), 0) << list.Describe();
  std::istringstream applets(list.out);
  int count = 0;
  for (std::string applet; std::getline(applets, applet);) {
    if (applet.empty() || applet == "busybox") {
      continue;
    }
    char target[64] = {};
    EXPECT_GT(readlink(In("/bin/" + applet).c_str(), target, sizeof(target) - 1), 0) << applet;
    EXPECT_STREQ(target, "busybox") << applet;
    ++count;
  }
  EXPECT_GT(count, 100);
}

TEST(RootfsLayoutTest, HasTheInspector) {
  EXPECT_EQ(ReadFileOrEmpty(In("/usr/bin/brick-inspect")), ReadFileOrEmpty(kInspectHost));
  EXPECT_FALSE(ReadFileOrEmpty(kInspectHost).empty());
}

TEST(RootfsLayoutTest, HasUsersGroupsAndHostname) {
  EXPECT_EQ(ReadFileOrEmpty(In("/etc/passwd")),
            "root:x:0:0:root:/root:/bin/sh\n"
            "brick:x:1000:1000:brick:/home/brick:/bin/sh\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
  EXPECT_EQ(ReadFileOrEmpty(In("/etc/group")),
            "root:x:0:\ntty:x:5:\nbrick:x:1000:\nnogroup:x:65534:\n");
  EXPECT_EQ(ReadFileOrEmpty(In("/etc/hostname")), "brick\n");
}

TEST(RootfsLayoutTest, HasEmptyMountPointsWithTheRightModes) {
  struct Expect {
    const char* path;
    mode_t mode;
    uid_t uid;
  };
  for (const Expect& e :
       {Expect{"/proc", 0555, 0}, Expect{"/sys", 0555, 0}, Expect{"/dev", 0755, 0},
        Expect{"/tmp", 01777, 0}, Expect{"/run", 0755, 0}, Expect{"/root", 0700, 0},
        Expect{"/home/brick", 0755, 1000}}) {
    struct stat st;
    ASSERT_EQ(stat(In(e.path).c_str(), &st), 0) << e.path;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << e.path;
    EXPECT_EQ(st.st_mode & 07777, e.mode) << e.path;
    EXPECT_EQ(st.st_uid, e.uid) << e.path;
    EXPECT_EQ(st.st_gid, e.uid) << e.path;
  }
  for (const char* empty : {"/proc", "/sys", "/dev", "/tmp", "/run"}) {
    RunResult ls = RunCommand({"/bin/ls", "-A", In(empty)});
    EXPECT_EQ(ls.out, "") << empty;
  }
}

TEST(RootfsLayoutTest, BinariesRunInsideTheRootfsAlone) {
  // chroot proves both binaries are static: the rootfs has no libraries.
  RunResult sh =
      RunCommand({"/usr/sbin/chroot", kRootfs, "/bin/sh", "-c", "echo hello from busybox"});
  EXPECT_EQ(sh.ExitCode(), 0) << sh.Describe();
  EXPECT_EQ(sh.out, "hello from busybox\n");
  RunResult inspect =
      RunCommand({"/usr/sbin/chroot", kRootfs, "/usr/bin/brick-inspect", "exit", "3"});
  EXPECT_EQ(inspect.ExitCode(), 3) << inspect.Describe();
  RunResult report = RunCommand({"/usr/sbin/chroot", kRootfs, "/usr/bin/brick-inspect", "--json"});
  EXPECT_EQ(report.ExitCode(), 0) << report.Describe();
  EXPECT_TRUE(nlohmann::json::accept(report.out)) << report.Describe();
}

}  // namespace
}  // namespace brick::integration
