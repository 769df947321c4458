#include "probes.h"

#include <fcntl.h>
#include <linux/fanotify.h>
#include <linux/kcmp.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>

#include "brick/sys/unique_fd.h"
#include "files.h"
#include "forked_syscalls.h"
#include "names.h"
#include "report.h"

namespace brick::inspect {
namespace {

constexpr int kUsageExit = 2;
constexpr size_t kReadCap = 1 << 20;

int Usage(const std::string& message) {
  std::fprintf(stderr, "brick-inspect: %s\n%s", message.c_str(), ProbeUsage());
  return kUsageExit;
}

int PrintOk() {
  std::puts("ok");
  return 0;
}

int PrintErrno(int err) {
  std::printf("errno %s\n", ErrnoName(err).c_str());
  return 0;
}

// Prints "ok" when ret >= 0 and the errno name otherwise.
int PrintResult(long ret) { return ret >= 0 ? PrintOk() : PrintErrno(errno); }

// Each syscall is called with arguments chosen so that, should the filter let it through,
// the kernel rejects or ignores the call: a probe must never reboot, load a module or
// change the clock of the machine it runs on.
long CallKexecLoad() {
  // Unknown flags are refused with EINVAL after the permission checks.
  return syscall(SYS_kexec_load, 0UL, 0UL, nullptr, 0xdead0000UL);
}
long CallOpenByHandleAt() { return syscall(SYS_open_by_handle_at, -1, nullptr, O_RDONLY); }
long CallInitModule() { return syscall(SYS_init_module, nullptr, 0UL, ""); }
long CallFinitModule() { return syscall(SYS_finit_module, -1, "", 0); }
long CallDeleteModule() {
  return syscall(SYS_delete_module, "brick_inspect_no_such_module", O_NONBLOCK);
}
long CallIopl() { return syscall(SYS_iopl, 0); }                // level 0 only lowers
long CallIoperm() { return syscall(SYS_ioperm, 0UL, 0UL, 0); }  // turns nothing off
long CallSwapon() { return syscall(SYS_swapon, "/brick-inspect-no-such-swap", 0); }
long CallSwapoff() { return syscall(SYS_swapoff, "/brick-inspect-no-such-swap"); }
long CallSysfs() { return syscall(SYS_sysfs, 3); }  // number of filesystem types
long CallSysctl() {
  // x86_64 kernels since 5.5 have no _sysctl: without a filter this is ENOSYS.
  return syscall(156, nullptr);
}
long CallAdjtimex() {
  struct timex tx;
  std::memset(&tx, 0, sizeof(tx));  // modes 0: read only
  return syscall(SYS_adjtimex, &tx);
}
long CallClockAdjtime() {
  struct timex tx;
  std::memset(&tx, 0, sizeof(tx));
  return syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
}
long CallLookupDcookie() { return syscall(212, 0UL, nullptr, 0UL); }  // removed in 6.8
long CallPerfEventOpen() { return syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0UL); }
long CallFanotifyInit() {
  long fd = syscall(SYS_fanotify_init, FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY);
  if (fd >= 0) {
    close(static_cast<int>(fd));
  }
  return fd;
}
long CallKcmp() {
  pid_t self = getpid();
  return syscall(SYS_kcmp, self, self, KCMP_FILE, 0UL, 0UL);
}
long CallReboot() {
  // Wrong magic numbers are refused with EINVAL after the permission check.
  return syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_CAD_OFF, nullptr);
}
long CallBpf() { return syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, nullptr, 0U); }
long CallKeyctl() { return syscall(SYS_keyctl, 0x7fff, 0UL, 0UL, 0UL, 0UL); }
long CallGetpid() { return syscall(SYS_getpid); }
long CallMount() {
  return syscall(SYS_mount, "none", "/brick-inspect-no-such-dir", "tmpfs", 0UL, nullptr);
}
long CallUnshare() { return syscall(SYS_unshare, CLONE_NEWUSER); }
long CallSetns() { return syscall(SYS_setns, -1, 0); }
long CallPtrace() { return syscall(SYS_ptrace, PTRACE_TRACEME, 0, nullptr, nullptr); }

const std::map<std::string, std::function<long()>>& SyscallTable() {
  static const auto* table = new std::map<std::string, std::function<long()>>{
      {"kexec_load", CallKexecLoad},
      {"open_by_handle_at", CallOpenByHandleAt},
      {"init_module", CallInitModule},
      {"finit_module", CallFinitModule},
      {"delete_module", CallDeleteModule},
      {"iopl", CallIopl},
      {"ioperm", CallIoperm},
      {"swapon", CallSwapon},
      {"swapoff", CallSwapoff},
      {"sysfs", CallSysfs},
      {"_sysctl", CallSysctl},
      {"adjtimex", CallAdjtimex},
      {"clock_adjtime", CallClockAdjtime},
      {"lookup_dcookie", CallLookupDcookie},
      {"perf_event_open", CallPerfEventOpen},
      {"fanotify_init", CallFanotifyInit},
      {"kcmp", CallKcmp},
      {"reboot", CallReboot},
      {"bpf", CallBpf},
      {"keyctl", CallKeyctl},
      {"getpid", CallGetpid},
      {"mount", CallMount},
      {"unshare", CallUnshare},
      {"setns", CallSetns},
      {"ptrace", CallPtrace},
  };
  return *table;
}

std::string ErrnoOr(long ret, int err) { return ret >= 0 ? "ok" : ErrnoName(err); }

int ProbeOpen(const std::vector<std::string>& a) {
  if (a.size() != 3) {
    return Usage("open takes PATH r|w|rw");
  }
  int flags = a[2] == "r" ? O_RDONLY : a[2] == "w" ? O_WRONLY : a[2] == "rw" ? O_RDWR : -1;
  if (flags < 0) {
    return Usage("open mode must be r, w or rw, not " + a[2]);
  }
  UniqueFd fd(open(a[1].c_str(), flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  return fd ? PrintOk() : PrintErrno(errno);
}

int ProbeRead(const std::vector<std::string>& a) {
  if (a.size() != 2) {
    return Usage("read takes PATH");
  }
  FileRead r = ReadFileCapped(a[1], kReadCap);
  if (!r.ok) {
    return PrintErrno(r.err);
  }
  std::printf("ok %zu\n", r.data.size());
  return 0;
}

int ProbeCat(const std::vector<std::string>& a) {
  if (a.size() != 2) {
    return Usage("cat takes PATH");
  }
  FileRead r = ReadFileCapped(a[1], 64 << 20);
  if (!r.ok) {
    return PrintErrno(r.err);
  }
  std::fwrite(r.data.data(), 1, r.data.size(), stdout);
  return 0;
}

int ProbeWrite(const std::vector<std::string>& a) {
  if (a.size() != 3) {
    return Usage("write takes PATH DATA");
  }
  // Truncating only regular files keeps the probe usable on /proc and device files.
  struct stat st;
  bool regular_or_new = stat(a[1].c_str(), &st) != 0 || S_ISREG(st.st_mode);
  int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | (regular_or_new ? O_CREAT | O_TRUNC : 0);
  UniqueFd fd(open(a[1].c_str(), flags, 0644));
  if (!fd) {
    return PrintErrno(errno);
  }
  ssize_t n = write(fd.get(), a[2].data(), a[2].size());
  if (n < 0) {
    return PrintErrno(errno);
  }
  return PrintOk();
}

int ProbeMknod(const std::vector<std::string>& a) {
  if (a.size() != 5) {
    return Usage("mknod takes PATH c|b MAJOR MINOR");
  }
  mode_t type = a[2] == "c" ? S_IFCHR : a[2] == "b" ? S_IFBLK : 0;
  auto maj = ParseInt(a[3]);
  auto min = ParseInt(a[4]);
  if (type == 0 || !maj || !min || *maj < 0 || *min < 0) {
    return Usage("mknod takes PATH c|b MAJOR MINOR");
  }
  dev_t dev = makedev(static_cast<unsigned>(*maj), static_cast<unsigned>(*min));
  return PrintResult(mknod(a[1].c_str(), type | 0600, dev));
}

int ProbeSyscall(const std::vector<std::string>& a) {
  if (a.size() != 2) {
    return Usage("syscall takes NAME");
  }
  auto it = SyscallTable().find(a[1]);
  if (it == SyscallTable().end()) {
    return Usage("syscall " + a[1] + " is not in the probe table");
  }
  errno = 0;
  return PrintResult(it->second());
}

// Prints "LABEL RESULT" for each probe of forked_syscalls.h named, or for all of them.
int ProbeForkedSyscalls(const std::vector<std::string>& a) {
  std::vector<std::string> wanted(a.begin() + 1, a.end());
  for (const std::string& label : wanted) {
    bool known = false;
    for (const ForkedSyscall& s : ForkedSyscalls()) {
      known = known || s.label == label;
    }
    if (!known) {
      return Usage("forked-syscalls: no probe " + label);
    }
  }
  for (const ForkedSyscall& s : ForkedSyscalls()) {
    bool run = wanted.empty();
    for (const std::string& label : wanted) {
      run = run || s.label == label;
    }
    if (run) {
      std::fflush(stdout);  // the child must not flush the parent's buffer again
      std::printf("%s %s\n", s.label.c_str(), RunForked(s).c_str());
    }
  }
  return 0;
}

int ProbeInt80(const std::vector<std::string>& a) {
  if (a.size() != 1) {
    return Usage("int80 takes no arguments");
  }
#if defined(__x86_64__)
  long ret = 20;  // getpid in the i386 table
  // The 32-bit entry clobbers r8-r11 on recent kernels.
  asm volatile("int $0x80" : "+a"(ret) : : "r8", "r9", "r10", "r11", "memory", "cc");
  if (ret < 0 && ret > -4096) {
    return PrintErrno(static_cast<int>(-ret));
  }
  std::puts("ok");
  return 0;
#else
  return Usage("int80 exists only on x86_64");
#endif
}

int ProbeTiocsti(const std::vector<std::string>& a) {
  if (a.size() != 1) {
    return Usage("tiocsti takes no arguments");
  }
  // A space is the least harmful byte to push into a terminal should the call succeed.
  char c = ' ';
  return PrintResult(ioctl(0, TIOCSTI, &c));
}

int ProbePtraceInit(const std::vector<std::string>& a) {
  if (a.size() != 1) {
    return Usage("ptrace-init takes no arguments");
  }
  long attach = ptrace(PTRACE_ATTACH, 1, nullptr, nullptr);
  int attach_err = errno;
  if (attach == 0) {
    int status;
    waitpid(1, &status, __WALL);
    ptrace(PTRACE_DETACH, 1, nullptr, nullptr);
  }
  UniqueFd exe(open("/proc/1/exe", O_WRONLY | O_CLOEXEC));
  int exe_err = errno;
  std::printf("attach=%s exe_write=%s\n", ErrnoOr(attach, attach_err).c_str(),
              ErrnoOr(exe.get(), exe_err).c_str());
  return 0;
}

int ProbeFds(const std::vector<std::string>& a) {
  if (a.size() != 1) {
    return Usage("fds takes no arguments");
  }
  Value fds = OpenFds();
  if (const Value* err = fds.Find("error")) {
    std::printf("errno %s\n", err->AsString().c_str());
    return 0;
  }
  for (const Value& f : fds.items()) {
    std::printf("%lld %s\n", static_cast<long long>(f.Find("fd")->AsInt()),
                f.Find("target")->AsString().c_str());
  }
  return 0;
}

int ProbeSleep(const std::vector<std::string>& a) {
  auto seconds = a.size() == 2 ? ParseInt(a[1]) : std::nullopt;
  if (!seconds || *seconds < 0) {
    return Usage("sleep takes SECONDS");
  }
  struct timespec left = {static_cast<time_t>(*seconds), 0};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  return PrintOk();
}

int ProbeExit(const std::vector<std::string>& a) {
  auto code = a.size() == 2 ? ParseInt(a[1]) : std::nullopt;
  if (!code || *code < 0 || *code > 255) {
    return Usage("exit takes N in 0..255");
  }
  std::fflush(stdout);
  _exit(static_cast<int>(*code));
}

// Dies by a genuine fault. The kernel delivers those even to a pid namespace's init,
// which ignores every signal sent to it that it has no handler for.
[[noreturn]] void Fault(int sig) {
#if defined(__x86_64__)
  if (sig == SIGSEGV) {
    asm volatile("movl $0, 0" ::: "memory");
  } else if (sig == SIGILL) {
    asm volatile("ud2");
  } else if (sig == SIGTRAP) {
    asm volatile("int3");
  }
#endif
  (void)sig;
  _exit(kUsageExit);
}

int ProbeKillSelf(const std::vector<std::string>& a) {
  auto sig = a.size() == 2 ? ParseSignal(a[1]) : std::nullopt;
  if (!sig) {
    return Usage("kill-self takes a signal name or number");
  }
  std::fflush(stdout);
  signal(*sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, *sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  if (kill(getpid(), *sig) != 0) {
    return PrintErrno(errno);
  }
  if (*sig == SIGSEGV || *sig == SIGILL || *sig == SIGTRAP) {
    Fault(*sig);
  }
  std::printf("survived %s: pid %d ignores signals it has no handler for\n",
              SignalName(*sig).c_str(), getpid());
  return 1;
}

int ProbeSysctl(const std::vector<std::string>& a) {
  if (a.size() != 2) {
    return Usage("sysctl takes NAME such as net.ipv4.ip_forward");
  }
  std::string path = "/proc/sys/";
  for (char c : a[1]) {
    path += c == '.' ? '/' : c;
  }
  FileRead r = ReadFileCapped(path, kReadCap);
  if (!r.ok) {
    return PrintErrno(r.err);
  }
  while (!r.data.empty() && (r.data.back() == '\n' || r.data.back() == ' ')) {
    r.data.pop_back();
  }
  std::printf("%s\n", r.data.c_str());
  return 0;
}

int ProbeSocket(const std::vector<std::string>& a) {
  if (a.size() != 3 && a.size() != 4) {
    return Usage("socket takes FAMILY TYPE [PROTOCOL]");
  }
  auto family = ParseSocketFamily(a[1]);
  auto type = ParseSocketType(a[2]);
  auto protocol = a.size() == 4 ? ParseInt(a[3]) : std::optional<int64_t>(0);
  if (!family || !type || !protocol) {
    return Usage("unknown socket family, type or protocol");
  }
  UniqueFd fd(socket(*family, *type | SOCK_CLOEXEC, static_cast<int>(*protocol)));
  return fd ? PrintOk() : PrintErrno(errno);
}

int ProbeBindPort(const std::vector<std::string>& a) {
  auto port = a.size() == 2 ? ParseInt(a[1]) : std::nullopt;
  if (!port || *port <= 0 || *port > 65535) {
    return Usage("bind-port takes PORT in 1..65535");
  }
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return PrintErrno(errno);
  }
  struct sockaddr_in addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return PrintResult(bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
}

int ProbeSetuid(const std::vector<std::string>& a) {
  auto uid = a.size() == 2 ? ParseInt(a[1]) : std::nullopt;
  if (!uid || *uid < 0) {
    return Usage("setuid takes UID");
  }
  return PrintResult(syscall(SYS_setuid, static_cast<uid_t>(*uid)));
}

int ProbeChown(const std::vector<std::string>& a) {
  auto uid = a.size() == 3 ? ParseInt(a[2]) : std::nullopt;
  if (!uid || *uid < 0) {
    return Usage("chown takes PATH UID");
  }
  return PrintResult(chown(a[1].c_str(), static_cast<uid_t>(*uid), static_cast<gid_t>(-1)));
}

int ProbeExec(const std::vector<std::string>& a) {
  if (a.size() < 2) {
    return Usage("exec takes PATH [ARGS...]");
  }
  std::vector<char*> argv;
  for (size_t i = 1; i < a.size(); ++i) {
    argv.push_back(const_cast<char*>(a[i].c_str()));
  }
  argv.push_back(nullptr);
  std::fflush(stdout);
  execv(argv[0], argv.data());
  return PrintErrno(errno);
}

// Allocates and touches MIB mebibytes, one at a time, printing "allocated N" after each
// so that a test sees how far a memory hog got before its limit stopped it; "ok MIB" at
// the end. The memory is never freed: the process holds it until it exits or is killed.
int ProbeAlloc(const std::vector<std::string>& a) {
  auto mib = a.size() == 2 ? ParseInt(a[1]) : std::nullopt;
  if (!mib || *mib <= 0 || *mib > (int64_t{1} << 20)) {
    return Usage("alloc takes MIB in 1..1048576");
  }
  constexpr size_t kMiB = size_t{1} << 20;
  long page = sysconf(_SC_PAGESIZE);
  for (int64_t i = 1; i <= *mib; ++i) {
    auto* chunk = static_cast<volatile char*>(std::malloc(kMiB));
    if (chunk == nullptr) {
      return PrintErrno(ENOMEM);
    }
    // Touching every page makes the memory resident: malloc alone only reserves it.
    for (size_t off = 0; off < kMiB; off += static_cast<size_t>(page)) {
      chunk[off] = 1;
    }
    std::printf("allocated %lld\n", static_cast<long long>(i));
    std::fflush(stdout);
  }
  std::printf("ok %lld\n", static_cast<long long>(*mib));
  return 0;
}

using Probe = int (*)(const std::vector<std::string>&);

const std::map<std::string, Probe>& Probes() {
  static const auto* probes = new std::map<std::string, Probe>{
      {"open", ProbeOpen},
      {"read", ProbeRead},
      {"cat", ProbeCat},
      {"write", ProbeWrite},
      {"mknod", ProbeMknod},
      {"syscall", ProbeSyscall},
      {"forked-syscalls", ProbeForkedSyscalls},
      {"int80", ProbeInt80},
      {"tiocsti", ProbeTiocsti},
      {"ptrace-init", ProbePtraceInit},
      {"fds", ProbeFds},
      {"sleep", ProbeSleep},
      {"exit", ProbeExit},
      {"kill-self", ProbeKillSelf},
      {"sysctl", ProbeSysctl},
      {"socket", ProbeSocket},
      {"bind-port", ProbeBindPort},
      {"setuid", ProbeSetuid},
      {"chown", ProbeChown},
      {"exec", ProbeExec},
      {"alloc", ProbeAlloc},
  };
  return *probes;
}

}  // namespace

bool IsProbe(const std::string& name) { return Probes().contains(name); }

int RunProbe(const std::vector<std::string>& args) {
  if (args.empty()) {
    return Usage("no probe given");
  }
  auto it = Probes().find(args[0]);
  if (it == Probes().end()) {
    return Usage("unknown probe " + args[0]);
  }
  int status = it->second(args);
  std::fflush(stdout);
  return status;
}

std::vector<std::string> ProbeSyscallNames() {
  std::vector<std::string> names;
  for (const auto& [name, call] : SyscallTable()) {
    names.push_back(name);
  }
  return names;
}

const char* ProbeUsage() {
  return "usage: brick-inspect [--json]\n"
         "       brick-inspect PROBE ARGS...\n"
         "probes print one line, \"ok\" or \"errno ENAME\":\n"
         "  open PATH r|w|rw        read PATH (prints ok BYTES)   cat PATH\n"
         "  write PATH DATA         mknod PATH c|b MAJOR MINOR    chown PATH UID\n"
         "  syscall NAME            int80                         tiocsti\n"
         "  forked-syscalls [LABEL...]  each raw syscall in a forked child: LABEL RESULT\n"
         "  ptrace-init             fds                           sysctl NAME\n"
         "  socket FAMILY TYPE      bind-port PORT                setuid UID\n"
         "  exec PATH [ARGS...]     sleep SECONDS                 exit N\n"
         "  kill-self SIGNAL         alloc MIB (prints allocated N per MiB)\n";
}

}  // namespace brick::inspect
