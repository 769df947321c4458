#include "brick/seccomp/explain.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/personality.h>
#include <sys/socket.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <set>

#include "brick/base/strings.h"
#include "brick/seccomp/bpf_interpreter.h"

namespace brick::seccomp {
namespace {

constexpr std::string_view kDangerous[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
    "pivot_root",
    "setns",
    "unshare",
    "clone3",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "fsconfig",
    "fspick",
    "mount_setattr",
    "io_uring_enter",
    "io_uring_register",
    "process_madvise",
    "memfd_secret",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "iopl",
    "ioperm",
    "modify_ldt",
    "io_uring_setup",
    "swapon",
    "swapoff",
    "reboot",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "syslog",
    "acct",
    "quotactl",
    "kcmp",
    "lookup_dcookie",
    "fanotify_init",
    "pidfd_getfd",
};

struct Constant {
  std::string_view name;
  uint64_t value;
};
constexpr Constant kConstants[] = {
    {"AF_UNSPEC", AF_UNSPEC},
    {"AF_UNIX", AF_UNIX},
    {"AF_INET", AF_INET},
    {"AF_INET6", AF_INET6},
    {"AF_NETLINK", AF_NETLINK},
    {"AF_PACKET", AF_PACKET},
    {"AF_VSOCK", AF_VSOCK},
    {"AF_ALG", AF_ALG},
    {"AF_BLUETOOTH", AF_BLUETOOTH},
    {"AF_KEY", AF_KEY},
    {"AF_APPLETALK", AF_APPLETALK},
    {"AF_X25", AF_X25},
    {"AF_CAN", AF_CAN},
    {"AF_TIPC", AF_TIPC},
    {"AF_RDS", AF_RDS},
    {"AF_XDP", AF_XDP},
    {"SOCK_STREAM", SOCK_STREAM},
    {"SOCK_DGRAM", SOCK_DGRAM},
    {"SOCK_RAW", SOCK_RAW},
    {"SOCK_SEQPACKET", SOCK_SEQPACKET},
    {"SOCK_CLOEXEC", SOCK_CLOEXEC},
    {"SOCK_NONBLOCK", SOCK_NONBLOCK},
    {"CLONE_NEWNS", CLONE_NEWNS},
    {"CLONE_NEWUTS", CLONE_NEWUTS},
    {"CLONE_NEWIPC", CLONE_NEWIPC},
    {"CLONE_NEWUSER", CLONE_NEWUSER},
    {"CLONE_NEWPID", CLONE_NEWPID},
    {"CLONE_NEWNET", CLONE_NEWNET},
    {"CLONE_NEWCGROUP", CLONE_NEWCGROUP},
    {"CLONE_THREAD", CLONE_THREAD},
    {"CLONE_VM", CLONE_VM},
    {"CLONE_FS", CLONE_FS},
    {"CLONE_FILES", CLONE_FILES},
    {"CLONE_SIGHAND", CLONE_SIGHAND},
    {"SIGCHLD", 17},
    {"PER_LINUX", PER_LINUX},
    {"PER_LINUX32", PER_LINUX32},
    {"UNAME26", UNAME26},
    {"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
    {"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
};

struct ArchInfo {
  uint32_t scmp;
  uint32_t audit;
  uint32_t nr_bit;  // x32 marks its numbers
  std::string_view name;
};

std::string ArchName(uint32_t scmp) {
  switch (scmp) {
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_X86:
      return "x86";
    case SCMP_ARCH_X32:
      return "x32";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    case SCMP_ARCH_ARM:
      return "arm";
    default:
      return fmt::format("arch 0x{:x}", scmp);
  }
}

std::vector<ArchInfo> Arches(const oci::Seccomp& profile) {
  std::vector<uint32_t> scmps = {seccomp_arch_native()};
  if (scmps[0] == SCMP_ARCH_X86_64) {
    scmps.push_back(SCMP_ARCH_X86);
    scmps.push_back(SCMP_ARCH_X32);
  }
  for (const std::string& a : profile.architectures) {
    std::string token = a.substr(a.find("SCMP_ARCH_") == 0 ? 10 : 0);
    for (char& c : token) {
      c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    uint32_t s = seccomp_arch_resolve_name(token.c_str());
    bool seen = s == 0;
    for (uint32_t have : scmps) {
      seen = seen || have == s;
    }
    if (!seen) {
      scmps.push_back(s);
    }
  }
  std::vector<ArchInfo> out;
  for (uint32_t s : scmps) {
    ArchInfo info{s, s, 0, ""};
    if (s == SCMP_ARCH_X32) {
      // x32 enters through the x86_64 syscall path: same audit arch, bit 30 in the number.
      info.audit = AUDIT_ARCH_X86_64;
    }
    out.push_back(info);
  }
  return out;
}

struct Probe {
  std::string label;
  int nr;
  uint64_t args[6];
};

// Native syscalls with zero arguments, plus the argument values the default profile and
// Docker's treat specially.
std::vector<Probe> NativeProbes() {
  std::vector<Probe> out;
  uint32_t native = seccomp_arch_native();
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(native, nr);
    if (name == nullptr) {
      continue;
    }
    std::string n(name);
    free(name);
    out.push_back({n, nr, {}});
    if (n == "clone") {
      for (const char* flag : {"CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWUSER",
                               "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWCGROUP"}) {
        out.push_back({fmt::format("clone({}|SIGCHLD)", flag), nr, {*ParseSyscallArg(flag) | 17}});
      }
      out.push_back({"clone(SIGCHLD)", nr, {17}});
    } else if (n == "socket" || n == "socketpair") {
      for (uint64_t family = 0; family < 46; ++family) {
        for (uint64_t type : {uint64_t{SOCK_STREAM}, uint64_t{SOCK_DGRAM}, uint64_t{SOCK_RAW}}) {
          std::string fam = fmt::format("{}", family);
          std::string ty = fmt::format("{}", type);
          for (const Constant& c : kConstants) {
            if (c.name.starts_with("AF_") && c.value == family) {
              fam = c.name;
            }
            if (c.name.starts_with("SOCK_") && c.value == type) {
              ty = c.name;
            }
          }
          out.push_back({fmt::format("{}({}, {})", n, fam, ty), nr, {family, type}});
        }
      }
    } else if (n == "personality") {
      for (const char* p :
           {"PER_LINUX", "PER_LINUX32", "UNAME26", "ADDR_NO_RANDOMIZE", "READ_IMPLIES_EXEC"}) {
        out.push_back({fmt::format("personality({})", p), nr, {*ParseSyscallArg(p)}});
      }
      out.push_back({"personality(0xffffffff)", nr, {0xffffffffu}});
    }
  }
  return out;
}

// The real number of `name` on `arch`. libseccomp answers a pseudo-number (negative) for the
// x86 socket and IPC calls, which it filters through their multiplexers as well; the kernel
// has had direct numbers for them since 4.3 (socket) and 5.1 (IPC), and libseccomp's reverse
// table knows those.
int DirectNumber(uint32_t arch, const std::string& name) {
  int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
  if (nr >= 0 || nr == __NR_SCMP_ERROR) {
    return nr;
  }
  for (int candidate = 0; candidate < 1024; ++candidate) {
    char* found = seccomp_syscall_resolve_num_arch(arch, candidate);
    bool match = found != nullptr && name == found;
    free(found);
    if (match) {
      return candidate;
    }
  }
  return -1;
}

struct Multiplexed {
  std::string_view name;
  std::string_view multiplexer;
  std::string_view call;  // the multiplexer's first argument, by name
  uint64_t number;
};
// linux/net.h SYS_* and linux/ipc.h's call numbers, as x86's socketcall(2) and ipc(2) take them.
constexpr Multiplexed kMultiplexed[] = {
    {"socket", "socketcall", "SYS_SOCKET", 1},
    {"bind", "socketcall", "SYS_BIND", 2},
    {"connect", "socketcall", "SYS_CONNECT", 3},
    {"listen", "socketcall", "SYS_LISTEN", 4},
    {"accept", "socketcall", "SYS_ACCEPT", 5},
    {"getsockname", "socketcall", "SYS_GETSOCKNAME", 6},
    {"getpeername", "socketcall", "SYS_GETPEERNAME", 7},
    {"socketpair", "socketcall", "SYS_SOCKETPAIR", 8},
    {"send", "socketcall", "SYS_SEND", 9},
    {"recv", "socketcall", "SYS_RECV", 10},
    {"sendto", "socketcall", "SYS_SENDTO", 11},
    {"recvfrom", "socketcall", "SYS_RECVFROM", 12},
    {"shutdown", "socketcall", "SYS_SHUTDOWN", 13},
    {"setsockopt", "socketcall", "SYS_SETSOCKOPT", 14},
    {"getsockopt", "socketcall", "SYS_GETSOCKOPT", 15},
    {"sendmsg", "socketcall", "SYS_SENDMSG", 16},
    {"recvmsg", "socketcall", "SYS_RECVMSG", 17},
    {"accept4", "socketcall", "SYS_ACCEPT4", 18},
    {"recvmmsg", "socketcall", "SYS_RECVMMSG", 19},
    {"sendmmsg", "socketcall", "SYS_SENDMMSG", 20},
    {"semop", "ipc", "SEMOP", 1},
    {"semget", "ipc", "SEMGET", 2},
    {"semctl", "ipc", "SEMCTL", 3},
    {"semtimedop", "ipc", "SEMTIMEDOP", 4},
    {"msgsnd", "ipc", "MSGSND", 11},
    {"msgrcv", "ipc", "MSGRCV", 12},
    {"msgget", "ipc", "MSGGET", 13},
    {"msgctl", "ipc", "MSGCTL", 14},
    {"shmat", "ipc", "SHMAT", 21},
    {"shmdt", "ipc", "SHMDT", 22},
    {"shmget", "ipc", "SHMGET", 23},
    {"shmctl", "ipc", "SHMCTL", 24},
};

Result<uint32_t> Run(const BpfProgram& program, uint32_t audit, int nr, const uint64_t* args) {
  SyscallInput in;
  in.nr = nr;
  in.arch = audit;
  for (int i = 0; i < 6; ++i) {
    in.args[i] = args[i];
  }
  return EvaluateSeccompBpf(program.instructions, in);
}

template <typename Container>
std::string Join(const Container& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) {
      out += sep;
    }
    out += item;
  }
  return out;
}

}  // namespace

std::span<const std::string_view> DangerousSyscalls() { return kDangerous; }

Result<uint64_t> ParseSyscallArg(std::string_view text) {
  uint64_t out = 0;
  for (const std::string& part : Split(std::string(text), '|')) {
    bool found = false;
    for (const Constant& c : kConstants) {
      if (c.name == part) {
        out |= c.value;
        found = true;
      }
    }
    if (found) {
      continue;
    }
    char* end = nullptr;
    errno = 0;
    uint64_t v = strtoull(part.c_str(), &end, 0);
    if (part.empty() || errno != 0 || end == nullptr || *end != '\0' || part[0] == '-') {
      return Fail(
          "syscall argument \"{}\": expected a number (42, 0x2a) or a constant such as "
          "AF_INET, SOCK_RAW or CLONE_NEWUSER",
          text);
    }
    out |= v;
  }
  return out;
}

Result<std::vector<ArchVerdict>> ExplainSyscall(const BpfProgram& program,
                                                const oci::Seccomp& profile,
                                                std::string_view syscall,
                                                std::span<const uint64_t> args) {
  std::string name(syscall);
  if (seccomp_syscall_resolve_name(name.c_str()) == __NR_SCMP_ERROR) {
    return Fail("unknown syscall \"{}\"", syscall);
  }
  if (args.size() > 6) {
    return Fail("{}: {} arguments given; a syscall has at most 6", syscall, args.size());
  }
  uint64_t a[6] = {};
  for (size_t i = 0; i < args.size(); ++i) {
    a[i] = args[i];
  }
  std::vector<ArchVerdict> out;
  for (const ArchInfo& arch : Arches(profile)) {
    ArchVerdict v;
    v.arch = ArchName(arch.scmp);
    // libseccomp's pseudo-number (< 0) for a multiplexed call, before DirectNumber replaces it.
    bool pseudo = seccomp_syscall_resolve_name_arch(arch.scmp, name.c_str()) < 0;
    v.nr = DirectNumber(arch.scmp, name);
    if (v.nr < 0) {
      v.verdict = "does not exist on this arch";
    } else {
      v.ret = BRICK_TRY_VALUE(Run(program, arch.audit, v.nr, a));
      v.verdict = DescribeReturn(v.ret);
    }
    out.push_back(v);
    if (!pseudo) {
      continue;
    }
    for (const Multiplexed& m : kMultiplexed) {
      int mux = seccomp_syscall_resolve_name_arch(arch.scmp, std::string(m.multiplexer).c_str());
      if (m.name != name || mux < 0) {
        continue;
      }
      // The call's own arguments sit in memory behind the second argument; the filter sees
      // only the call number.
      uint64_t mux_args[6] = {m.number};
      ArchVerdict via;
      via.arch = v.arch;
      via.nr = mux;
      via.via = fmt::format("{} {}", m.multiplexer, m.call);
      via.ret = BRICK_TRY_VALUE(Run(program, arch.audit, mux, mux_args));
      via.verdict = DescribeReturn(via.ret);
      out.push_back(std::move(via));
    }
  }
  return out;
}

Result<std::string> SummarizeFilter(const BpfProgram& program, const oci::Seccomp& profile) {
  std::map<std::string, int> counts;
  std::set<std::string> depends;
  std::vector<std::string> dangerous;
  std::map<std::string, std::string> base;
  std::map<std::string, std::set<std::string>> risky_sockets;
  std::vector<Probe> probes = NativeProbes();
  uint32_t native = seccomp_arch_native();
  for (const Probe& p : probes) {
    uint32_t ret = BRICK_TRY_VALUE(Run(program, native, p.nr, p.args));
    std::string verdict = DescribeReturn(ret);
    bool plain = p.label.find('(') == std::string::npos;
    std::string sys = plain ? p.label : p.label.substr(0, p.label.find('('));
    if (plain) {
      counts[verdict]++;
      base[sys] = verdict;
    } else if (base[sys] != verdict) {
      depends.insert(sys);
    }
    bool allowed = ActionOf(ret) == SECCOMP_RET_ALLOW || ActionOf(ret) == SECCOMP_RET_LOG;
    if (!allowed) {
      continue;
    }
    bool listed = false;
    for (std::string_view d : kDangerous) {
      listed = listed || (plain && d == p.label);
    }
    bool risky_args = !plain && (p.label.find("CLONE_NEW") != std::string::npos ||
                                 p.label.find("ADDR_NO_RANDOMIZE") != std::string::npos ||
                                 p.label.find("UNAME26") != std::string::npos);
    if (!plain && (sys == "socket" || sys == "socketpair")) {
      uint64_t family = p.args[0];
      bool common =
          family == AF_UNIX || family == AF_INET || family == AF_INET6 || family == AF_NETLINK;
      bool raw_ip = (family == AF_INET || family == AF_INET6) && p.args[1] == SOCK_RAW;
      if (!common || raw_ip) {
        std::string fam = p.label.substr(p.label.find('(') + 1);
        fam = fam.substr(0, fam.find(','));
        risky_sockets[sys].insert(raw_ip ? fam + " SOCK_RAW" : fam);
      }
      continue;
    }
    if (listed || risky_args) {
      dangerous.push_back(p.label);
    }
  }
  for (const auto& [sys, families] : risky_sockets) {
    dangerous.push_back(fmt::format("{}({})", sys, Join(families, " ")));
  }
  for (const ArchInfo& arch : Arches(profile)) {
    if (arch.scmp == native) {
      continue;
    }
    int nr = seccomp_syscall_resolve_name_arch(arch.scmp, "getpid");
    if (nr < 0) {
      continue;
    }
    uint32_t ret = BRICK_TRY_VALUE(Run(program, arch.audit, nr, probes[0].args));
    if (ActionOf(ret) == SECCOMP_RET_ALLOW) {
      dangerous.push_back(fmt::format("{} syscalls (a second syscall table)", ArchName(arch.scmp)));
    }
  }
  std::string out = fmt::format("{} BPF instructions; {} native ({}) syscalls known:\n",
                                program.instructions.size(), base.size(), ArchName(native));
  for (const auto& [verdict, n] : counts) {
    out += fmt::format("  {:4} {}\n", n, verdict);
  }
  if (!program.enosys.empty()) {
    for (const EnosysThreshold& t : program.enosys) {
      out += fmt::format(
          "  syscalls numbered {} and above on {}: errno ENOSYS (newer than the "
          "profile)\n",
          t.first_number, ArchName(t.audit_arch));
    }
  }
  out += fmt::format("depends on arguments: {}\n",
                     depends.empty() ? std::string("none") : Join(depends, ", "));
  out += fmt::format("dangerous calls allowed: {}\n",
                     dangerous.empty() ? std::string("none") : Join(dangerous, ", "));
  return out;
}

Result<std::string> DiffFilters(const BpfProgram& a, const BpfProgram& b) {
  std::string out;
  uint32_t native = seccomp_arch_native();
  int differences = 0;
  for (const Probe& p : NativeProbes()) {
    uint32_t ra = BRICK_TRY_VALUE(Run(a, native, p.nr, p.args));
    uint32_t rb = BRICK_TRY_VALUE(Run(b, native, p.nr, p.args));
    if (ra != rb) {
      out += fmt::format("{}: {} -> {}\n", p.label, DescribeReturn(ra), DescribeReturn(rb));
      ++differences;
    }
  }
  oci::Seccomp none;
  for (const ArchInfo& arch : Arches(none)) {
    if (arch.scmp == native) {
      continue;
    }
    int nr = seccomp_syscall_resolve_name_arch(arch.scmp, "getpid");
    uint64_t zero[6] = {};
    uint32_t ra = BRICK_TRY_VALUE(Run(a, arch.audit, nr, zero));
    uint32_t rb = BRICK_TRY_VALUE(Run(b, arch.audit, nr, zero));
    if (ra != rb) {
      out += fmt::format("{} syscalls (getpid): {} -> {}\n", ArchName(arch.scmp),
                         DescribeReturn(ra), DescribeReturn(rb));
      ++differences;
    }
  }
  out += fmt::format("{} difference{}\n", differences, differences == 1 ? "" : "s");
  return out;
}

}  // namespace brick::seccomp
