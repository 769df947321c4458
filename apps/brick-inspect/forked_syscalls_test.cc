#include "forked_syscalls.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <string>

namespace brick::inspect {
namespace {

TEST(ForkedSyscallsTest, LabelsAreUniqueAndCoverEverySocketFamily) {
  std::set<std::string> labels;
  for (const ForkedSyscall& s : ForkedSyscalls()) {
    EXPECT_TRUE(labels.insert(s.label).second) << s.label << " twice";
    EXPECT_EQ(s.label.find(' '), std::string::npos) << s.label;
  }
  int sockets = 0;
  int pairs = 0;
  for (const std::string& l : labels) {
    sockets += l.starts_with("socket:") ? 1 : 0;
    pairs += l.starts_with("socketpair:") ? 1 : 0;
  }
  EXPECT_EQ(sockets, 46);  // AF_UNSPEC to AF_MCTP
  EXPECT_EQ(pairs, 46);
  for (const char* l : {"socket:AF_UNSPEC", "socket:AF_PACKET", "socket:45", "clone3",
                        "clone:CLONE_NEWUSER", "x32:getpid", "newer:mseal"}) {
    EXPECT_TRUE(labels.contains(l)) << l;
  }
}

TEST(ForkedSyscallsTest, ReportsSuccessErrnoAndSignalOfTheChild) {
  EXPECT_EQ(RunForked({"ok", [] { return 0L; }}), "ok");
  EXPECT_EQ(RunForked({"fail",
                       [] {
                         errno = EXDEV;
                         return -1L;
                       }}),
            "errno EXDEV");
  EXPECT_EQ(RunForked({"killed",
                       [] {
                         kill(getpid(), SIGKILL);
                         return 0L;
                       }}),
            "signal SIGKILL");
  // The call runs in another process.
  pid_t self = getpid();
  EXPECT_EQ(RunForked({"pid",
                       [self] {
                         errno = ESRCH;
                         return getpid() == self ? 0L : -1L;
                       }}),
            "errno ESRCH");
}

}  // namespace
}  // namespace brick::inspect
