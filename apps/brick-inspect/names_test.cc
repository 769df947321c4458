#include "names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>

#include "probes.h"

namespace brick::inspect {
namespace {

using ::testing::ElementsAre;
using ::testing::IsSupersetOf;

TEST(ErrnoNameTest, NamesKnownValues) {
  EXPECT_EQ(ErrnoName(EPERM), "EPERM");
  EXPECT_EQ(ErrnoName(EROFS), "EROFS");
  EXPECT_EQ(ErrnoName(ENOSYS), "ENOSYS");
}

TEST(ErrnoNameTest, FallsBackToNumber) { EXPECT_EQ(ErrnoName(4000), "E4000"); }

TEST(SignalTest, NamesAndParses) {
  EXPECT_EQ(SignalName(SIGSYS), "SIGSYS");
  EXPECT_EQ(ParseSignal("TERM"), SIGTERM);
  EXPECT_EQ(ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(ParseSignal("9"), SIGKILL);
  EXPECT_EQ(ParseSignal("0"), std::nullopt);
  EXPECT_EQ(ParseSignal("NOPE"), std::nullopt);
  EXPECT_EQ(ParseSignal("9x"), std::nullopt);
}

TEST(CapabilityTest, DecodesMask) {
  EXPECT_THAT(CapabilityNames(0), ElementsAre());
  EXPECT_THAT(CapabilityNames(uint64_t{1} << 10), ElementsAre("CAP_NET_BIND_SERVICE"));
  EXPECT_THAT(CapabilityNames(0x3), ElementsAre("CAP_CHOWN", "CAP_DAC_OVERRIDE"));
  EXPECT_EQ(CapabilityName(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(CapabilityName(41), "CAP_41");
}

TEST(SocketNamesTest, AcceptsBothSpellings) {
  EXPECT_EQ(ParseSocketFamily("AF_PACKET"), AF_PACKET);
  EXPECT_EQ(ParseSocketFamily("VSOCK"), AF_VSOCK);
  EXPECT_EQ(ParseSocketFamily("AF_NOPE"), std::nullopt);
  EXPECT_EQ(ParseSocketType("SOCK_RAW"), SOCK_RAW);
  EXPECT_EQ(ParseSocketType("DGRAM"), SOCK_DGRAM);
}

TEST(ParseIntTest, RejectsStrayCharacters) {
  EXPECT_EQ(ParseInt("42"), 42);
  EXPECT_EQ(ParseInt("-1"), -1);
  EXPECT_EQ(ParseInt(""), std::nullopt);
  EXPECT_EQ(ParseInt("4 2"), std::nullopt);
  EXPECT_EQ(ParseInt("99999999999999999999"), std::nullopt);
}

TEST(ProbeTableTest, CoversTheDefaultDenyList) {
  EXPECT_THAT(ProbeSyscallNames(),
              IsSupersetOf({"kexec_load", "open_by_handle_at", "init_module", "finit_module",
                            "delete_module", "iopl", "ioperm", "swapon", "swapoff", "sysfs",
                            "_sysctl", "adjtimex", "clock_adjtime", "lookup_dcookie",
                            "perf_event_open", "fanotify_init", "kcmp"}));
}

}  // namespace
}  // namespace brick::inspect
