// brick-inspect run directly on the host, without brick: proves the checker reports what
// it claims (so container tests that rely on it can fail for the right reason).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string OwnStatusField(const std::string& key) {
  std::string status = ReadFileOrEmpty("/proc/self/status");
  size_t pos = status.find("\n" + key + ":");
  if (pos == std::string::npos) {
    return "";
  }
  size_t start = status.find_first_not_of(" \t", pos + key.size() + 2);
  return status.substr(start, status.find('\n', start) - start);
}

RunResult Inspect(const std::vector<std::string>& args, const RunOptions& options = {}) {
  std::vector<std::string> argv = {kInspectHost};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, options);
}

std::string Line(const std::vector<std::string>& args) {
  RunResult r = Inspect(args);
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  return TrimEnd(r.out);
}

TEST(InspectOnHostTest, JsonMatchesWhatTheHostProcessSees) {
  RunResult r = Inspect({"--json"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  nlohmann::json j = nlohmann::json::parse(r.out);

  EXPECT_EQ(j["user"]["uid"], getuid());
  ASSERT_EQ(j["uid_map"].size(), 1u) << j["uid_map"];
  EXPECT_EQ(j["uid_map"][0][0], 0);
  EXPECT_EQ(j["uid_map"][0][1], 0);
  for (const char* set : {"CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"}) {
    EXPECT_EQ(j["capabilities"][set]["hex"], OwnStatusField(set)) << set;
  }
  // The tests run as root, so the decoding is exercised on a full set.
  EXPECT_THAT(j["capabilities"]["CapEff"]["names"].dump(), HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_EQ(std::to_string(j["seccomp"].get<int>()), OwnStatusField("Seccomp"));
  EXPECT_EQ(std::to_string(j["no_new_privs"].get<int>()), OwnStatusField("NoNewPrivs"));
  EXPECT_FALSE(j["root_readonly"].get<bool>());

  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  EXPECT_EQ(j["hostname"], host);
  for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "user", "uts"}) {
    EXPECT_EQ(j["namespaces"][ns], OwnNamespace(ns)) << ns;
  }
  EXPECT_FALSE(j["mounts"].empty());
  bool saw_proc = false;
  for (const auto& m : j["mounts"]) {
    saw_proc |= m["mount_point"] == "/proc" && m["fstype"] == "proc";
  }
  EXPECT_TRUE(saw_proc) << j["mounts"];
  EXPECT_FALSE(j["dev"].empty());
  EXPECT_FALSE(j["cgroups"].empty());
  bool saw_lo = false;
  for (const auto& i : j["network"]) {
    saw_lo |= i["name"] == "lo";
  }
  EXPECT_TRUE(saw_lo) << j["network"];
  for (const char* limit : {"core", "nofile", "nproc"}) {
    EXPECT_TRUE(j["rlimits"][limit].contains("soft")) << limit;
  }
  EXPECT_EQ(j["masked_paths"].size(), 10u);
  EXPECT_EQ(j["readonly_paths"].size(), 5u);
}

TEST(InspectOnHostTest, ReportsUnmaskedPathsAsExposed) {
  RunResult r = Inspect({"--json"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  nlohmann::json j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& m : j["masked_paths"]) {
    if (m["path"] == "/proc/timer_list") {
      found = true;
      EXPECT_FALSE(m["masked"].get<bool>()) << m;
    }
  }
  EXPECT_TRUE(found);
  for (const auto& p : j["readonly_paths"]) {
    if (p["path"] == "/proc/sys") {
      EXPECT_FALSE(p["readonly"].get<bool>()) << p;
    }
  }
}

// The fds a child of this test process inherits: 0-2, whatever the test's own caller left
// open without FD_CLOEXEC, and the ones passed.
std::vector<int> InheritableFds(int passed) {
  std::vector<int> fds = {0, 1, 2};
  for (int i = 0; i < passed; ++i) {
    fds.push_back(3 + i);
  }
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::stoi(entry.path().filename().string());
    int flags = fcntl(fd, F_GETFD);
    if (fd > 2 + passed && flags >= 0 && !(flags & FD_CLOEXEC)) {
      fds.push_back(fd);
    }
  }
  std::sort(fds.begin(), fds.end());
  fds.erase(std::unique(fds.begin(), fds.end()), fds.end());
  return fds;
}

TEST(InspectOnHostTest, ListsOpenFdsButNotItsOwnDirFd) {
  int fd = open("/dev/null", O_RDONLY);  // no O_CLOEXEC on purpose: passed as fd 3
  ASSERT_GE(fd, 0);
  RunOptions options;
  options.pass_fds = {fd};
  std::vector<int> expected = InheritableFds(1);
  RunResult r = Inspect({"--json"}, options);
  close(fd);
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  nlohmann::json j = nlohmann::json::parse(r.out);
  std::vector<int> fds;
  for (const auto& f : j["fds"]) {
    fds.push_back(f["fd"]);
  }
  EXPECT_EQ(fds, expected) << j["fds"];
  EXPECT_EQ(j["fds"][3]["target"], "/dev/null");
}

TEST(InspectOnHostTest, HumanReportHasEverySection) {
  RunResult r = Inspect({});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  for (const char* needle :
       {"uid_map", "CapEff", "CapBnd", "CapAmb", "seccomp", "no_new_privs", "root", "mounts",
        "/dev", "masked paths", "read-only paths", "limits", "nofile", "hostname", "namespaces",
        "cgroups", "network interfaces", "open file descriptors"}) {
    EXPECT_THAT(r.out, HasSubstr(needle));
  }
}

TEST(InspectOnHostTest, ProbesPrintOkOrErrnoName) {
  TempDir dir;
  EXPECT_EQ(Line({"open", "/brick-it-no-such-file", "r"}), "errno ENOENT");
  EXPECT_EQ(Line({"open", "/dev/null", "rw"}), "ok");
  EXPECT_EQ(Line({"write", dir / "f", "hello"}), "ok");
  EXPECT_EQ(ReadFileOrEmpty(dir / "f"), "hello");
  EXPECT_EQ(Line({"cat", dir / "f"}), "hello");
  EXPECT_EQ(Line({"read", dir / "f"}), "ok 5");
  EXPECT_EQ(Line({"cat", dir / "missing"}), "errno ENOENT");
  EXPECT_EQ(Line({"mknod", dir / "null", "c", "1", "3"}), "ok");
  struct stat st;
  ASSERT_EQ(stat((dir / "null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(Line({"chown", dir / "f", "1000"}), "ok");
  EXPECT_EQ(Line({"setuid", "0"}), "ok");
  EXPECT_EQ(Line({"socket", "AF_INET", "SOCK_DGRAM"}), "ok");
  EXPECT_EQ(Line({"socket", "AF_UNIX", "SOCK_STREAM"}), "ok");
  EXPECT_EQ(Line({"sysctl", "kernel.ostype"}), "Linux");
  EXPECT_EQ(Line({"sysctl", "kernel.brick_it_missing"}), "errno ENOENT");
  EXPECT_EQ(Line({"syscall", "getpid"}), "ok");
  EXPECT_EQ(Line({"tiocsti"}), "errno ENOTTY");          // stdin is a pipe
  EXPECT_EQ(Line({"exec", dir / "f"}), "errno EACCES");  // not executable
  EXPECT_EQ(Line({"sleep", "0"}), "ok");
}

TEST(InspectOnHostTest, EverySyscallProbeIsHarmlessAndAnswers) {
  // As host root nothing is filtered, so each call reaches the kernel: the arguments must
  // make every one of them fail or do nothing.
  for (const char* name : {"kexec_load",
                           "open_by_handle_at",
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "iopl",
                           "ioperm",
                           "swapon",
                           "swapoff",
                           "sysfs",
                           "_sysctl",
                           "adjtimex",
                           "clock_adjtime",
                           "lookup_dcookie",
                           "perf_event_open",
                           "fanotify_init",
                           "kcmp",
                           "reboot",
                           "bpf",
                           "keyctl",
                           "getpid",
                           "mount",
                           "unshare",
                           "setns",
                           "ptrace"}) {
    std::string line = Line({"syscall", name});
    EXPECT_TRUE(line == "ok" || line.starts_with("errno E")) << name << ": " << line;
  }
  EXPECT_EQ(Line({"syscall", "_sysctl"}), "errno ENOSYS");
  EXPECT_EQ(Line({"syscall", "swapon"}), "errno ENOENT");
  EXPECT_EQ(Line({"syscall", "reboot"}), "errno EINVAL");
}

TEST(InspectOnHostTest, MalformedProbesExit2) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"no-such-probe"},
                                             {"open", "/dev/null"},
                                             {"open", "/dev/null", "x"},
                                             {"syscall", "no_such_syscall"},
                                             {"socket", "AF_NOPE", "SOCK_STREAM"},
                                             {"exit", "300"},
                                             {"kill-self", "NOPE"},
                                             {"mknod", "/tmp/x", "q", "1", "3"}}) {
    RunResult r = Inspect(args);
    EXPECT_EQ(r.ExitCode(), 2) << args[0] << ": " << r.Describe();
    EXPECT_THAT(r.err, StartsWith("brick-inspect: ")) << r.Describe();
  }
}

TEST(InspectOnHostTest, ExitAndKillSelf) {
  EXPECT_EQ(Inspect({"exit", "7"}).ExitCode(), 7);
  EXPECT_EQ(Inspect({"kill-self", "9"}).TermSignal(), SIGKILL);
  EXPECT_EQ(Inspect({"kill-self", "SIGTERM"}).TermSignal(), SIGTERM);
  EXPECT_EQ(Inspect({"kill-self", "SEGV"}).TermSignal(), SIGSEGV);
}

TEST(InspectOnHostTest, Int80RunsA32BitGetpid) {
  RunResult r = Inspect({"int80"});
  if (r.TermSignal() == SIGSEGV) {
    GTEST_SKIP() << "the kernel refuses int $0x80 itself (SIGSEGV): ia32 emulation is disabled "
                    "at runtime (CONFIG_IA32_EMULATION=y, but ia32_emulation is off)";
  }
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(TrimEnd(r.out), "ok");
}

}  // namespace
}  // namespace brick::integration
