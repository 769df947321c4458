#include "brick/seccomp/explain.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <span>
#include <string>
#include <vector>

#include "brick/seccomp/default_profile.h"
#include "brick/seccomp/profile_json.h"

namespace brick::seccomp {
namespace {

BpfProgram Compile(const oci::Seccomp& p) {
  auto program = CompileFilter(p);
  if (!program) {
    ADD_FAILURE() << program.error().message();
    return {};
  }
  return *program;
}

TEST(ExplainTest, SyscallOnEachArch) {
  oci::Seccomp p = DefaultProfile();
  BpfProgram program = Compile(p);
  auto v = ExplainSyscall(program, p, "mount", {});
  ASSERT_TRUE(v) << v.error().message();
  ASSERT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[0].arch, "x86_64");
  EXPECT_EQ((*v)[0].verdict, "errno EPERM");
  EXPECT_EQ((*v)[1].arch, "x86");
  EXPECT_EQ((*v)[1].verdict, "kill process");
  EXPECT_EQ((*v)[2].arch, "x32");
  EXPECT_EQ((*v)[2].verdict, "kill process");

  uint64_t packet[] = {AF_PACKET, SOCK_RAW};
  v = ExplainSyscall(program, p, "socket", packet);
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].verdict, "errno EPERM");
  uint64_t inet[] = {AF_INET, SOCK_STREAM};
  v = ExplainSyscall(program, p, "socket", inet);
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].verdict, "allow");
  v = ExplainSyscall(program, p, "clone3", {});
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].verdict, "errno ENOSYS");
  v = ExplainSyscall(program, p, "vm86", {});
  ASSERT_TRUE(v);
  EXPECT_EQ((*v)[0].verdict, "does not exist on this arch");
  auto bad = ExplainSyscall(program, p, "fooo", {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "unknown syscall \"fooo\"");
}

TEST(ExplainTest, X86SocketCallsShowTheDirectSyscallAndTheMultiplexer) {
  oci::Seccomp p = DefaultProfile();
  BpfProgram program = Compile(p);
  uint64_t inet[] = {AF_INET, SOCK_STREAM};
  auto v = ExplainSyscall(program, p, "socket", inet);
  ASSERT_TRUE(v) << v.error().message();
  ASSERT_EQ(v->size(), 4u);
  EXPECT_EQ((*v)[1].arch, "x86");
  EXPECT_EQ((*v)[1].nr, 359);  // socket(2) on i386 since Linux 4.3
  EXPECT_EQ((*v)[1].verdict, "kill process");
  EXPECT_EQ((*v)[1].via, "");
  EXPECT_EQ((*v)[2].arch, "x86");
  EXPECT_EQ((*v)[2].nr, 102);  // socketcall
  EXPECT_EQ((*v)[2].via, "socketcall SYS_SOCKET");
  EXPECT_EQ((*v)[2].verdict, "kill process");
  EXPECT_EQ((*v)[3].arch, "x32");

  // A profile that covers x86 and refuses socket there with its own errno: both ways in get
  // that answer, and shmget (ipc) likewise.
  oci::Seccomp x86;
  x86.default_action = "SCMP_ACT_ALLOW";
  x86.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  oci::SeccompSyscall deny;
  deny.names = {"socket", "shmget"};
  deny.action = "SCMP_ACT_ERRNO";
  deny.errno_ret = EXDEV;
  x86.syscalls = {deny};
  BpfProgram x86_program = Compile(x86);
  v = ExplainSyscall(x86_program, x86, "socket", inet);
  ASSERT_TRUE(v) << v.error().message();
  ASSERT_EQ(v->size(), 4u);
  EXPECT_EQ((*v)[1].nr, 359);
  EXPECT_EQ((*v)[1].verdict, "errno EXDEV");
  EXPECT_EQ((*v)[2].nr, 102);
  EXPECT_EQ((*v)[2].verdict, "errno EXDEV");
  v = ExplainSyscall(x86_program, x86, "shmget", {});
  ASSERT_TRUE(v) << v.error().message();
  ASSERT_EQ(v->size(), 4u);
  EXPECT_EQ((*v)[1].nr, 395);  // shmget on i386 since Linux 5.1
  EXPECT_EQ((*v)[1].verdict, "errno EXDEV");
  EXPECT_EQ((*v)[2].via, "ipc SHMGET");
  EXPECT_EQ((*v)[2].nr, 117);
  EXPECT_EQ((*v)[2].verdict, "errno EXDEV");
  // getpid is not multiplexed anywhere: one verdict per arch.
  v = ExplainSyscall(x86_program, x86, "getpid", {});
  ASSERT_TRUE(v);
  EXPECT_EQ(v->size(), 3u);
  EXPECT_EQ((*v)[1].nr, 20);
  EXPECT_EQ((*v)[1].verdict, "allow");
}

TEST(ExplainTest, NewerMountIoUringAndMemoryCallsAreDangerous) {
  const std::vector<std::string> added = {
      "fsconfig",          "fspick",          "mount_setattr", "io_uring_enter",
      "io_uring_register", "process_madvise", "memfd_secret"};
  std::span<const std::string_view> list = DangerousSyscalls();
  for (const std::string& name : added) {
    EXPECT_NE(std::find(list.begin(), list.end(), name), list.end()) << name;
  }
  // A profile that allows everything is told about each of them.
  oci::Seccomp all;
  all.default_action = "SCMP_ACT_ALLOW";
  auto s = SummarizeFilter(Compile(all), all);
  ASSERT_TRUE(s) << s.error().message();
  std::string line = s->substr(s->find("dangerous calls allowed: "));
  line = line.substr(0, line.find('\n'));
  std::vector<std::string> named;
  std::string rest = line.substr(std::string_view("dangerous calls allowed: ").size());
  for (size_t pos = 0; pos != std::string::npos;) {
    size_t comma = rest.find(", ", pos);
    named.push_back(rest.substr(pos, comma == std::string::npos ? comma : comma - pos));
    pos = comma == std::string::npos ? comma : comma + 2;
  }
  for (const std::string& name : added) {
    EXPECT_NE(std::find(named.begin(), named.end(), name), named.end()) << name << " in " << line;
  }
}

TEST(ExplainTest, SummaryOfTheDefaultListsNothingDangerous) {
  oci::Seccomp p = DefaultProfile();
  auto s = SummarizeFilter(Compile(p), p);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_NE(s->find("dangerous calls allowed: none\n"), std::string::npos) << *s;
  EXPECT_NE(s->find("depends on arguments: clone, personality, socket, socketpair"),
            std::string::npos)
      << *s;
  EXPECT_NE(s->find(" errno EPERM\n"), std::string::npos) << *s;
  EXPECT_NE(s->find(" errno ENOSYS\n"), std::string::npos) << *s;
}

TEST(ExplainTest, SummaryOfDockersNamesWhatItAllows) {
  auto loaded = LoadProfileFile("/work/shared/reference/docker-seccomp/default.json", {});
  ASSERT_TRUE(loaded) << loaded.error().message();
  auto s = SummarizeFilter(Compile(loaded->profile), loaded->profile);
  ASSERT_TRUE(s) << s.error().message();
  for (const char* d : {"ptrace", "modify_ldt", "AF_PACKET", "AF_INET SOCK_RAW",
                        "x86 syscalls (a second syscall table)"}) {
    EXPECT_NE(s->find(d), std::string::npos) << d << " in\n" << *s;
  }
}

TEST(ExplainTest, DiffShowsEachDisagreement) {
  oci::Seccomp none = DefaultProfile(0);
  oci::Seccomp ptrace = DefaultProfile(uint64_t{1} << 19);
  auto d = DiffFilters(Compile(none), Compile(ptrace));
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_NE(d->find("ptrace: errno EPERM -> allow\n"), std::string::npos) << *d;
  EXPECT_NE(d->find("process_vm_readv: errno EPERM -> allow\n"), std::string::npos) << *d;
  EXPECT_NE(d->find("6 differences\n"), std::string::npos) << *d;
  auto same = DiffFilters(Compile(none), Compile(none));
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, "0 differences\n");
}

TEST(ExplainTest, ArgumentsParseAsNumbersOrConstants) {
  EXPECT_EQ(*ParseSyscallArg("42"), 42u);
  EXPECT_EQ(*ParseSyscallArg("0x2a"), 42u);
  EXPECT_EQ(*ParseSyscallArg("AF_PACKET"), uint64_t{AF_PACKET});
  EXPECT_EQ(*ParseSyscallArg("CLONE_NEWUSER|SIGCHLD"), uint64_t{CLONE_NEWUSER | 17});
  auto bad = ParseSyscallArg("AF_NOPE");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "syscall argument \"AF_NOPE\": expected a number (42, 0x2a) or a constant such as "
            "AF_INET, SOCK_RAW or CLONE_NEWUSER");
}

}  // namespace
}  // namespace brick::seccomp
