#include "brick/seccomp/explain.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>

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
