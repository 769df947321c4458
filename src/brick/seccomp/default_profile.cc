#include "brick/seccomp/default_profile.h"

#include <errno.h>
#include <sched.h>
#include <sys/socket.h>

#include <set>

#include "brick/base/strings.h"
#include "brick/oci/capabilities.h"

namespace brick::seccomp {
namespace {

// Written against the x86_64 table of libseccomp 2.5.4 (up to futex_requeue, 456). Every
// syscall that table knows is in exactly one row without a capability; the test checks it.
constexpr ProfileGroup kGroups[] = {
    // ---- allowed -------------------------------------------------------------------------
    {"files and directories", GroupVerdict::kAllow, "",
     "read write open close stat fstat lstat lseek pread64 pwrite64 readv writev preadv pwritev "
     "preadv2 pwritev2 access faccessat faccessat2 openat openat2 creat close_range dup dup2 dup3 "
     "fcntl flock fsync fdatasync sync syncfs sync_file_range truncate ftruncate fallocate "
     "fadvise64 readahead getdents getdents64 getcwd chdir fchdir rename renameat renameat2 mkdir "
     "mkdirat rmdir link linkat unlink unlinkat symlink symlinkat readlink readlinkat chmod fchmod "
     "fchmodat fchmodat2 chown fchown lchown fchownat umask mknod mknodat newfstatat statx statfs "
     "fstatfs ustat utime utimes futimesat utimensat sendfile splice tee vmsplice "
     "copy_file_range ioctl cachestat",
     "ordinary file I/O within what the mounts and permissions already allow; mknod makes "
     "device nodes only with CAP_MKNOD, and the device cgroup refuses them anyway"},
    {"extended attributes", GroupVerdict::kAllow, "",
     "setxattr lsetxattr fsetxattr getxattr lgetxattr fgetxattr listxattr llistxattr flistxattr "
     "removexattr lremovexattr fremovexattr",
     "file metadata, checked by the same permissions as the file"},
    {"waiting for events", GroupVerdict::kAllow, "",
     "poll ppoll select pselect6 epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait "
     "epoll_pwait2 eventfd eventfd2 signalfd signalfd4 timerfd_create timerfd_settime "
     "timerfd_gettime inotify_init inotify_init1 inotify_add_watch inotify_rm_watch "
     "fanotify_mark pipe pipe2",
     "event loops and pipes; fanotify_mark is useless without fanotify_init, which is denied"},
    {"memory", GroupVerdict::kAllow, "",
     "mmap mprotect munmap brk mremap msync mincore madvise mlock mlock2 munlock mlockall "
     "munlockall remap_file_pages pkey_mprotect pkey_alloc pkey_free membarrier memfd_create "
     "map_shadow_stack",
     "the process's own memory; locked memory is bounded by RLIMIT_MEMLOCK and the memory cgroup"},
    {"processes and threads", GroupVerdict::kAllow, "",
     "fork vfork execve execveat exit exit_group wait4 waitid kill tkill tgkill getpid getppid "
     "gettid set_tid_address set_robust_list get_robust_list futex futex_waitv futex_wake "
     "futex_wait futex_requeue rseq arch_prctl prctl set_thread_area get_thread_area "
     "restart_syscall getrandom pidfd_open pidfd_send_signal seccomp landlock_create_ruleset "
     "landlock_add_rule landlock_restrict_self",
     "running programs and threads; signals reach only the container's pid namespace; seccomp "
     "and landlock can only restrict further"},
    {"signals and timers", GroupVerdict::kAllow, "",
     "rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigtimedwait rt_sigqueueinfo "
     "rt_sigsuspend rt_tgsigqueueinfo sigaltstack pause nanosleep clock_nanosleep getitimer "
     "setitimer alarm timer_create timer_settime timer_gettime timer_getoverrun timer_delete "
     "clock_gettime clock_getres gettimeofday time",
     "signal handling and reading clocks; setting clocks is denied below"},
    {"scheduling and limits", GroupVerdict::kAllow, "",
     "sched_yield sched_setparam sched_getparam sched_setscheduler sched_getscheduler "
     "sched_get_priority_max sched_get_priority_min sched_rr_get_interval sched_setaffinity "
     "sched_getaffinity sched_setattr sched_getattr getpriority setpriority ioprio_get "
     "ioprio_set getrlimit setrlimit prlimit64 getrusage times getcpu",
     "raising priority or limits needs CAP_SYS_NICE / CAP_SYS_RESOURCE, which the kernel checks"},
    {"identity", GroupVerdict::kAllow, "",
     "getuid getgid geteuid getegid setuid setgid setreuid setregid setresuid setresgid "
     "getresuid getresgid getgroups setgroups setfsuid setfsgid capget capset setsid setpgid "
     "getpgid getpgrp getsid uname sysinfo sethostname setdomainname",
     "ids are confined by the user namespace's maps; names by the UTS namespace"},
    {"System V and POSIX IPC", GroupVerdict::kAllow, "",
     "shmget shmat shmctl shmdt semget semop semtimedop semctl msgget msgsnd msgrcv msgctl "
     "mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify mq_getsetattr",
     "confined by the IPC namespace"},
    {"sockets", GroupVerdict::kAllow, "",
     "connect accept accept4 sendto recvfrom sendmsg recvmsg sendmmsg recvmmsg shutdown bind "
     "listen getsockname getpeername setsockopt getsockopt",
     "operate on sockets that socket(2) below let the process create"},
    {"asynchronous I/O", GroupVerdict::kAllow, "",
     "io_setup io_destroy io_getevents io_pgetevents io_submit io_cancel",
     "Linux AIO, used by databases; bounded by fs.aio-max-nr"},
    // ---- allowed with some arguments ------------------------------------------------------
    {"clone without namespace flags", GroupVerdict::kArgs, "", "clone",
     "a new thread or process; any CLONE_NEW* flag (arg 0) gets EPERM, so that no new user "
     "namespace can be created to reach mount and other namespaced privileges"},
    {"socket families", GroupVerdict::kArgs, "", "socket socketpair",
     "only AF_UNIX, AF_NETLINK (any type) and AF_INET, AF_INET6 with SOCK_STREAM, SOCK_DGRAM or "
     "SOCK_SEQPACKET; AF_PACKET, raw IP, AF_VSOCK (reaches a VM's host), AF_ALG (kernel crypto) "
     "and the rarely-used families with a record of kernel bugs get EPERM"},
    {"personality queries", GroupVerdict::kArgs, "", "personality",
     "only PER_LINUX (0) and the query 0xffffffff; PER_LINUX32, UNAME26 (leaked kernel stack, "
     "CVE-2012-0957), ADDR_NO_RANDOMIZE (turns off ASLR) and READ_IMPLIES_EXEC get EPERM"},
    // ---- ENOSYS ---------------------------------------------------------------------------
    {"clone3", GroupVerdict::kEnosys, "", "clone3",
     "its flags are in memory the filter cannot read; ENOSYS makes libc fall back to clone"},
    // ---- allowed only with a capability ---------------------------------------------------
    {"namespaces and mounts", GroupVerdict::kDeny, "CAP_SYS_ADMIN",
     "mount umount2 fsopen fsconfig fsmount fspick move_mount open_tree mount_setattr pivot_root "
     "setns unshare name_to_handle_at quotactl quotactl_fd fanotify_init",
     "new namespaces and mounts are the usual first step of container escapes and expose "
     "filesystem code to crafted images; name_to_handle_at leaks handles for open_by_handle_at; "
     "quotactl and fanotify_init act beyond the container. CAP_SYS_ADMIN also lifts the clone "
     "flag check and clone3's ENOSYS"},
    {"tracing other processes", GroupVerdict::kDeny, "CAP_SYS_PTRACE",
     "ptrace process_vm_readv process_vm_writev kcmp pidfd_getfd process_madvise",
     "reading and changing other processes' memory defeats every other boundary within the "
     "container; ptrace was the route of several seccomp bypasses on old kernels; kcmp leaks "
     "kernel object layout"},
    {"host kernel modules", GroupVerdict::kDeny, "CAP_SYS_MODULE",
     "init_module finit_module delete_module", "loads and unloads code in the host kernel"},
    {"raw I/O ports", GroupVerdict::kDeny, "CAP_SYS_RAWIO", "iopl ioperm",
     "raw access to the hardware's I/O ports"},
    {"host clock", GroupVerdict::kDeny, "CAP_SYS_TIME",
     "settimeofday clock_settime adjtimex clock_adjtime",
     "the real-time clock has no namespace: setting it changes the host's time"},
    {"reboot", GroupVerdict::kDeny, "CAP_SYS_BOOT", "reboot",
     "restarts or halts the host (in a pid namespace only the container, but it is never needed)"},
    {"process accounting", GroupVerdict::kDeny, "CAP_SYS_PACCT", "acct",
     "switches host-wide process accounting"},
    {"chroot", GroupVerdict::kDeny, "CAP_SYS_CHROOT", "chroot",
     "only a capable process may chroot; the filter says so before the kernel does"},
    {"terminal hangup", GroupVerdict::kDeny, "CAP_SYS_TTY_CONFIG", "vhangup",
     "hangs up the controlling terminal"},
    {"NUMA memory policy", GroupVerdict::kDeny, "CAP_SYS_NICE",
     "mbind set_mempolicy get_mempolicy set_mempolicy_home_node migrate_pages move_pages",
     "moves memory between the host's NUMA nodes, affecting other tenants"},
    {"kernel log", GroupVerdict::kDeny, "CAP_SYSLOG", "syslog",
     "the host kernel log leaks kernel addresses and other tenants' messages"},
    {"BPF programs", GroupVerdict::kDeny, "CAP_BPF", "bpf",
     "loads programs into the host kernel: a large attack surface"},
    {"performance monitoring", GroupVerdict::kDeny, "CAP_PERFMON", "perf_event_open",
     "observes the host and has been a rich source of kernel exploits"},
    {"open by handle", GroupVerdict::kDeny, "CAP_DAC_READ_SEARCH", "open_by_handle_at",
     "opens host files by handle, escaping the container's mounts (the 2014 \"shocker\" escape)"},
    // ---- denied -------------------------------------------------------------------------
    {"kernel replacement", GroupVerdict::kDeny, "", "kexec_load kexec_file_load",
     "replaces the running host kernel"},
    {"swap", GroupVerdict::kDeny, "", "swapon swapoff", "changes the host's swap devices"},
    {"kernel keyrings", GroupVerdict::kDeny, "", "keyctl add_key request_key",
     "keyrings have no namespace: keys are shared with the host and other containers"},
    {"userfaultfd", GroupVerdict::kDeny, "", "userfaultfd",
     "stalls kernel page faults at will, a standard aid for kernel exploits"},
    {"io_uring", GroupVerdict::kDeny, "", "io_uring_setup io_uring_enter io_uring_register",
     "bypasses the syscall filter for the operations it performs and has had many kernel bugs"},
    {"LDT", GroupVerdict::kDeny, "", "modify_ldt",
     "16-bit segments: only old 32-bit software needs them; a history of kernel bugs"},
    {"secret memory", GroupVerdict::kDeny, "", "memfd_secret process_mrelease",
     "rarely used, recent kernel code"},
    {"profiling", GroupVerdict::kDeny, "", "lookup_dcookie",
     "old profiling interface that reveals host paths"},
    {"obsolete", GroupVerdict::kDeny, "",
     "_sysctl sysfs uselib create_module get_kernel_syms query_module nfsservctl getpmsg putpmsg "
     "afs_syscall tuxcall security vserver epoll_ctl_old epoll_wait_old",
     "removed or never implemented on x86_64, or without users: only attack surface"},
};

bool Granted(uint64_t caps, std::string_view cap) {
  if (cap.empty()) {
    return false;
  }
  std::optional<int> n = oci::CapabilityNumber(cap);
  return n && *n < 64 && ((caps >> *n) & 1) != 0;
}

std::vector<std::string> Names(std::string_view list) {
  std::vector<std::string> out;
  for (const std::string& s : Split(std::string(list), ' ')) {
    if (!s.empty()) {
      out.push_back(s);
    }
  }
  return out;
}

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::vector<oci::SeccompArg> args = {},
                         std::optional<uint32_t> errno_ret = std::nullopt) {
  oci::SeccompSyscall r;
  r.names = std::move(names);
  r.action = std::move(action);
  r.args = std::move(args);
  r.errno_ret = errno_ret;
  return r;
}

// arg & mask == value
oci::SeccompArg Masked(uint32_t index, uint64_t mask, uint64_t value) {
  oci::SeccompArg a;
  a.index = index;
  a.op = "SCMP_CMP_MASKED_EQ";
  a.value = mask;
  a.value_two = value;
  return a;
}

constexpr uint64_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                     CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
// The kernel reads int arguments from the low 32 bits of the register.
constexpr uint64_t kLow32 = 0xffffffffu;
constexpr uint64_t kSockTypeMask = 0xf;

void AddArgRules(uint64_t caps, std::vector<oci::SeccompSyscall>* rules) {
  bool sys_admin = Granted(caps, "CAP_SYS_ADMIN");
  if (sys_admin) {
    rules->push_back(Rule({"clone", "clone3"}, "SCMP_ACT_ALLOW"));
  } else {
    rules->push_back(Rule({"clone"}, "SCMP_ACT_ALLOW", {Masked(0, kNamespaceFlags, 0)}));
    rules->push_back(Rule({"clone3"}, "SCMP_ACT_ERRNO", {}, ENOSYS));
  }

  bool net_raw = Granted(caps, "CAP_NET_RAW");
  for (const char* call : {"socket", "socketpair"}) {
    for (int family : {AF_UNIX, AF_NETLINK}) {
      rules->push_back(Rule({call}, "SCMP_ACT_ALLOW", {Masked(0, kLow32, family)}));
    }
    for (int family : {AF_INET, AF_INET6}) {
      if (net_raw) {
        rules->push_back(Rule({call}, "SCMP_ACT_ALLOW", {Masked(0, kLow32, family)}));
        continue;
      }
      for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
        rules->push_back(Rule({call}, "SCMP_ACT_ALLOW",
                              {Masked(0, kLow32, family), Masked(1, kSockTypeMask, type)}));
      }
    }
    if (net_raw) {
      rules->push_back(Rule({call}, "SCMP_ACT_ALLOW", {Masked(0, kLow32, AF_PACKET)}));
    }
  }

  for (uint64_t persona : {uint64_t{0}, kLow32}) {
    rules->push_back(Rule({"personality"}, "SCMP_ACT_ALLOW", {Masked(0, kLow32, persona)}));
  }
}

}  // namespace

std::span<const ProfileGroup> DefaultProfileGroups() { return kGroups; }

oci::Seccomp DefaultProfile(uint64_t granted_caps) {
  oci::Seccomp profile;
  // EPERM for what the profile names and refuses; the compiler adds ENOSYS for syscalls
  // newer than any the profile names.
  profile.default_action = "SCMP_ACT_ERRNO";
  profile.default_errno_ret = EPERM;
  // Only the native ABI: everything arriving through ia32 (int $0x80) or x32 hits the filter's
  // bad-architecture action and kills the process.
  profile.architectures = {"SCMP_ARCH_X86_64"};
  // Every thread of the installing process gets the filter, should the runtime ever have more
  // than one at that point. SPEC_ALLOW stays off: see docs/seccomp.md.
  profile.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};

  std::vector<std::string> allowed;
  std::vector<std::string> denied;
  for (const ProfileGroup& g : kGroups) {
    std::vector<std::string> names = Names(g.syscalls);
    bool allow = g.verdict == GroupVerdict::kAllow ||
                 (g.verdict == GroupVerdict::kDeny && Granted(granted_caps, g.cap));
    if (g.verdict == GroupVerdict::kAllow && !g.cap.empty() && !Granted(granted_caps, g.cap)) {
      allow = false;
    }
    if (g.verdict == GroupVerdict::kArgs || g.verdict == GroupVerdict::kEnosys) {
      continue;
    }
    auto& into = allow ? allowed : denied;
    into.insert(into.end(), names.begin(), names.end());
  }
  profile.syscalls.push_back(Rule(std::move(allowed), "SCMP_ACT_ALLOW"));
  AddArgRules(granted_caps, &profile.syscalls);
  // Listed although they repeat the default action, so that the profile says what it knows:
  // the compiler's ENOSYS stub starts above the newest syscall a profile names.
  profile.syscalls.push_back(Rule(std::move(denied), "SCMP_ACT_ERRNO", {}, EPERM));
  return profile;
}

oci::Seccomp DefaultProfile() { return DefaultProfile(0); }

std::vector<std::pair<std::string, std::string>> DefaultProfileReasons() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const ProfileGroup& g : kGroups) {
    if (g.verdict != GroupVerdict::kDeny && g.verdict != GroupVerdict::kEnosys) {
      continue;
    }
    for (std::string& name : Names(g.syscalls)) {
      out.emplace_back(std::move(name), std::string(g.reason));
    }
  }
  return out;
}

}  // namespace brick::seccomp
