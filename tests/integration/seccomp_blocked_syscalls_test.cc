// Every syscall brick's default profile refuses, made for real inside containers, each in a
// forked child of brick-inspect (`brick-inspect forked-syscalls`, apps/brick-inspect/
// forked_syscalls.cc), with the exact errno asserted; and the calls it allows, shown to work.
//
// A refusal is only the filter's when the kernel would not have refused on its own: brick's
// default container has no CAP_SYS_ADMIN, CAP_SYS_TIME, ... and lives in a user namespace, so
// for acct, pivot_root or fsopen the kernel itself answers EPERM. So the same probes also run
// in two containers that differ only in the filter: both in the host's user namespace as root
// with every capability those calls check, one under brick's default profile for a container
// without capabilities (written out by `brick seccomp default`), one without seccomp. The
// probes' arguments make the kernel fail harmlessly (EINVAL, ENOENT, EBADF, ...) once its
// checks pass, so every refusal must differ between the two, and the one under the filter must
// be EPERM or ENOSYS.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

std::vector<std::string> Families() {
  std::vector<std::string> out;
  const std::map<int, std::string> named = {
      {0, "AF_UNSPEC"},     {1, "AF_UNIX"},    {2, "AF_INET"},   {10, "AF_INET6"}, {15, "AF_KEY"},
      {16, "AF_NETLINK"},   {17, "AF_PACKET"}, {21, "AF_RDS"},   {29, "AF_CAN"},   {30, "AF_TIPC"},
      {31, "AF_BLUETOOTH"}, {38, "AF_ALG"},    {40, "AF_VSOCK"}, {44, "AF_XDP"}};
  for (int family = 0; family < 46; ++family) {
    auto it = named.find(family);
    out.push_back(it == named.end() ? std::to_string(family) : it->second);
  }
  return out;
}

// What brick's default profile must answer for each probe label.
std::map<std::string, std::string> Expected() {
  std::map<std::string, std::string> out;
  const std::string eperm = "errno EPERM";
  for (const char* name : {"settimeofday",
                           "clock_settime",
                           "adjtimex",
                           "clock_adjtime",
                           "acct",
                           "quotactl",
                           "quotactl_fd",
                           "syslog",
                           "userfaultfd",
                           "add_key",
                           "request_key",
                           "keyctl",
                           "process_vm_readv",
                           "process_vm_writev",
                           "ptrace",
                           "kcmp",
                           "pidfd_getfd",
                           "process_madvise",
                           "process_mrelease",
                           "mount",
                           "umount2",
                           "fsopen",
                           "fsconfig",
                           "fsmount",
                           "fspick",
                           "move_mount",
                           "open_tree",
                           "mount_setattr",
                           "pivot_root",
                           "chroot",
                           "setns",
                           "unshare",
                           "name_to_handle_at",
                           "open_by_handle_at",
                           "fanotify_init",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "kexec_load",
                           "kexec_file_load",
                           "iopl",
                           "ioperm",
                           "reboot",
                           "vhangup",
                           "mbind",
                           "set_mempolicy",
                           "get_mempolicy",
                           "set_mempolicy_home_node",
                           "migrate_pages",
                           "move_pages",
                           "bpf",
                           "perf_event_open",
                           "swapon",
                           "swapoff",
                           "io_uring_setup",
                           "io_uring_enter",
                           "io_uring_register",
                           "modify_ldt",
                           "memfd_secret",
                           "sysfs",
                           "_sysctl",
                           "uselib",
                           "lookup_dcookie",
                           "create_module",
                           "get_kernel_syms",
                           "query_module",
                           "nfsservctl",
                           "getpmsg",
                           "putpmsg",
                           "afs_syscall",
                           "tuxcall",
                           "security",
                           "vserver",
                           "epoll_ctl_old",
                           "epoll_wait_old",
                           "personality:PER_LINUX32",
                           "personality:UNAME26",
                           "personality:ADDR_NO_RANDOMIZE",
                           "personality:READ_IMPLIES_EXEC"}) {
    out[name] = eperm;
  }
  for (const char* flag : {"CLONE_NEWNS", "CLONE_NEWCGROUP", "CLONE_NEWUTS", "CLONE_NEWIPC",
                           "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET"}) {
    out[std::string("clone:") + flag] = eperm;
  }
  // clone3's flags are out of the filter's sight: ENOSYS sends libc back to clone. A syscall
  // newer than the profile gets ENOSYS too, so that libc falls back.
  out["clone3"] = "errno ENOSYS";
  out["newer:mseal"] = "errno ENOSYS";
  // Another ABI is not a syscall the rules describe: the process is killed.
  out["x32:getpid"] = "signal SIGSYS";
  // Allowed: the kernel's own answer comes through.
  out["clone:none"] = "errno EINVAL";  // CLONE_THREAD without CLONE_SIGHAND
  out["clone:fork"] = "ok";
  out["personality:PER_LINUX"] = "ok";
  out["personality:query"] = "ok";
  for (const char* ok : {"socket-ok:AF_UNIX", "socket-ok:AF_INET", "socket-ok:AF_INET6",
                         "socket-ok:AF_NETLINK", "socketpair-ok:AF_UNIX"}) {
    out[ok] = "ok";
  }
  // Socket type 15 does not exist: EINVAL from the kernel for the families the filter lets
  // through with any type (UNIX, NETLINK); EPERM from the filter for every other family, and
  // for INET/INET6, which it allows only as SOCK_STREAM, SOCK_DGRAM and SOCK_SEQPACKET.
  for (const std::string& family : Families()) {
    bool any_type = family == "AF_UNIX" || family == "AF_NETLINK";
    out["socket:" + family] = any_type ? "errno EINVAL" : eperm;
    out["socketpair:" + family] = any_type ? "errno EINVAL" : eperm;
  }
  return out;
}

std::map<std::string, std::string> ParseProbes(const std::string& out) {
  std::map<std::string, std::string> results;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    size_t space = line.find(' ');
    if (space != std::string::npos) {
      results[line.substr(0, space)] = line.substr(space + 1);
    }
  }
  return results;
}

::testing::AssertionResult RunProbes(const std::vector<std::string>& brick_args,
                                     std::map<std::string, std::string>* results) {
  RunResult r = BrickRun(brick_args, {kInspect, "forked-syscalls"});
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure() << r.Describe();
  }
  *results = ParseProbes(r.out);
  return ::testing::AssertionSuccess();
}

bool Refusal(const std::string& result) { return result != "ok" && result != "errno EINVAL"; }

TEST(SeccompBlockedSyscallsTest, DefaultProfileAnswersEveryProbeInAContainer) {
  std::map<std::string, std::string> got;
  ASSERT_TRUE(RunProbes({}, &got));
  std::map<std::string, std::string> want = Expected();
  EXPECT_EQ(got.size(), want.size()) << "brick-inspect and this test list different probes";
  for (const auto& [label, result] : want) {
    auto it = got.find(label);
    ASSERT_NE(it, got.end()) << label << " missing from brick-inspect's output";
    EXPECT_EQ(it->second, result) << label;
  }
}

// The same filter while the kernel's own checks pass: every refusal is the filter's.
TEST(SeccompBlockedSyscallsTest, RefusalsAreTheFiltersWhenTheKernelWouldAllowTheCall) {
  TempDir dir;
  std::string profile = dir.path() + "/default-no-caps.json";
  RunResult printed = RunCommand({kBrick, "seccomp", "default"});
  ASSERT_EQ(printed.ExitCode(), 0) << printed.Describe();
  { std::ofstream(profile) << printed.out; }
  // Root in the host's user namespace with the capabilities the refused calls check for
  // (capable() looks at the initial namespace for acct, syslog, vhangup, ...).
  std::vector<std::string> privileged = {"--unsafe-share", "user", "--user", "0:0"};
  for (const char* cap :
       {"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_TIME", "CAP_SYS_PACCT", "CAP_SYSLOG",
        "CAP_SYS_BOOT", "CAP_SYS_TTY_CONFIG", "CAP_SYS_NICE", "CAP_SYS_RAWIO", "CAP_SYS_MODULE",
        "CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH", "CAP_SYS_CHROOT", "CAP_NET_RAW",
        "CAP_NET_ADMIN", "CAP_IPC_LOCK"}) {
    privileged.push_back("--cap-add");
    privileged.push_back(cap);
  }
  std::vector<std::string> filtered = privileged;
  filtered.push_back("--seccomp");
  filtered.push_back(profile);
  std::vector<std::string> unfiltered = privileged;
  unfiltered.push_back("--unsafe-no-seccomp");

  std::map<std::string, std::string> with_filter;
  std::map<std::string, std::string> without_filter;
  ASSERT_TRUE(RunProbes(filtered, &with_filter));
  ASSERT_TRUE(RunProbes(unfiltered, &without_filter));
  for (const auto& [label, result] : Expected()) {
    ASSERT_TRUE(with_filter.contains(label) && without_filter.contains(label)) << label;
    EXPECT_EQ(with_filter[label], result) << label;
    if (Refusal(result)) {
      EXPECT_NE(without_filter[label], result) << label << ": the kernel itself answers " << result
                                               << " without the filter, so the probe cannot tell";
    } else {
      EXPECT_EQ(without_filter[label], result) << label << ": the filter changed an allowed call";
    }
  }
}

TEST(SeccompBlockedSyscallsTest, ProbeLabelsAreChecked) {
  RunResult r = RunCommand({kInspectHost, "forked-syscalls", "no-such-probe"});
  EXPECT_EQ(r.ExitCode(), 2) << r.Describe();
  EXPECT_THAT(r.err, ::testing::HasSubstr("forked-syscalls: no probe no-such-probe"));
}

}  // namespace
}  // namespace brick::integration
