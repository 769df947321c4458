#include "forked_syscalls.h"

#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "names.h"

namespace brick::inspect {
namespace {

// Numbers newer than this libc's headers, or removed from them.
constexpr long kNrCreateModule = 174;
constexpr long kNrGetKernelSyms = 177;
constexpr long kNrQueryModule = 178;
constexpr long kNrNfsservctl = 180;
constexpr long kNrGetpmsg = 181;
constexpr long kNrPutpmsg = 182;
constexpr long kNrAfsSyscall = 183;
constexpr long kNrTuxcall = 184;
constexpr long kNrSecurity = 185;
constexpr long kNrEpollCtlOld = 214;
constexpr long kNrEpollWaitOld = 215;
constexpr long kNrVserver = 236;
constexpr long kNrUselib = 134;
constexpr long kNrSysctl = 156;
constexpr long kNrLookupDcookie = 212;
// mseal (Linux 6.10): numbered above futex_requeue (456), the newest syscall brick's default
// profile names, so the filter's stub answers ENOSYS.
constexpr long kNrMseal = 462;
// x32 marks its syscall numbers with bit 30.
constexpr long kX32Bit = 0x40000000;

// A socket type above SOCK_PACKET (10): __sock_create refuses it with EINVAL before the family
// is even looked up, for every family, and the filter compares only the family (and the type
// for INET/INET6, where 15 is not one it allows).
constexpr int kInvalidSockType = 15;
// The families the kernel numbers, AF_UNSPEC (0) to AF_MCTP (45).
constexpr int kFamilies = 46;

// No process has this pid: pid_max is at most 4194304.
constexpr long kNoSuchPid = 0x3fffffff;
// A flag bit no *at, mount or pidfd call defines.
constexpr unsigned long kBadFlag = 0x10000000;

const char* const kNoSuchPath = "/brick-inspect-no-such-path";

// CLONE_THREAD without CLONE_SIGHAND: copy_process refuses the combination (EINVAL) before it
// looks at namespaces or capabilities.
constexpr unsigned long kCloneInvalid = CLONE_THREAD;

long RealFork() {
  long pid = syscall(SYS_clone, SIGCHLD, 0UL, nullptr, nullptr, 0UL);
  if (pid == 0) {
    _exit(0);
  }
  if (pid > 0) {
    int status = 0;
    waitpid(static_cast<pid_t>(pid), &status, 0);
  }
  return pid;
}

std::string FamilyLabel(int family) {
  switch (family) {
    case AF_UNSPEC:
      return "AF_UNSPEC";
    case AF_UNIX:
      return "AF_UNIX";
    case AF_INET:
      return "AF_INET";
    case AF_INET6:
      return "AF_INET6";
    case AF_NETLINK:
      return "AF_NETLINK";
    case AF_PACKET:
      return "AF_PACKET";
    case AF_KEY:
      return "AF_KEY";
    case AF_ALG:
      return "AF_ALG";
    case AF_VSOCK:
      return "AF_VSOCK";
    case AF_XDP:
      return "AF_XDP";
    case AF_BLUETOOTH:
      return "AF_BLUETOOTH";
    case AF_CAN:
      return "AF_CAN";
    case AF_TIPC:
      return "AF_TIPC";
    case AF_RDS:
      return "AF_RDS";
    default:
      return std::to_string(family);
  }
}

std::vector<ForkedSyscall> Build() {
  std::vector<ForkedSyscall> out = {
      // Host clock: an invalid tv_usec / clock id is EINVAL before the CAP_SYS_TIME check.
      {"settimeofday",
       [] {
         struct timeval tv = {0, 2000000};
         return syscall(SYS_settimeofday, &tv, nullptr);
       }},
      {"clock_settime",
       [] {
         struct timespec ts = {0, 0};
         return syscall(SYS_clock_settime, 0x7fff, &ts);
       }},
      {"adjtimex",
       [] {
         struct timex tx;
         std::memset(&tx, 0, sizeof(tx));  // modes 0: reads the clock state
         return syscall(SYS_adjtimex, &tx);
       }},
      {"clock_adjtime",
       [] {
         struct timex tx;
         std::memset(&tx, 0, sizeof(tx));
         return syscall(SYS_clock_adjtime, 0x7fff, &tx);  // EINVAL: no such clock
       }},
      // CAP_SYS_PACCT in the initial user namespace, then ENOENT: the file does not exist,
      // and accounting is left as it was.
      {"acct", [] { return syscall(SYS_acct, kNoSuchPath); }},
      // A quota type above MAXQUOTAS: EINVAL first.
      {"quotactl", [] { return syscall(SYS_quotactl, 0xff, nullptr, 0, nullptr); }},
      {"quotactl_fd", [] { return syscall(SYS_quotactl_fd, -1, 0xffU, 0, nullptr); }},
      // SYSLOG_ACTION_SIZE_BUFFER: reads the log's size (CAP_SYSLOG under dmesg_restrict).
      {"syslog", [] { return syscall(SYS_syslog, 10, nullptr, 0); }},
      // UFFD_USER_MODE_ONLY passes the permission check; bit 1 is no flag: EINVAL.
      {"userfaultfd", [] { return syscall(SYS_userfaultfd, 1 | 2); }},
      // A payload of 1 MiB is EINVAL before anything is read; a NULL type is EFAULT.
      {"add_key", [] { return syscall(SYS_add_key, nullptr, nullptr, nullptr, 1UL << 20, 0); }},
      {"request_key", [] { return syscall(SYS_request_key, nullptr, nullptr, nullptr, 0); }},
      {"keyctl", [] { return syscall(SYS_keyctl, 0x7fff, 0UL, 0UL, 0UL, 0UL); }},  // EOPNOTSUPP
      // Flags must be 0: EINVAL first.
      {"process_vm_readv",
       [] { return syscall(SYS_process_vm_readv, getpid(), nullptr, 0UL, nullptr, 0UL, 1UL); }},
      {"process_vm_writev",
       [] { return syscall(SYS_process_vm_writev, getpid(), nullptr, 0UL, nullptr, 0UL, 1UL); }},
      {"ptrace", [] { return syscall(SYS_ptrace, 0x7fff, kNoSuchPid, nullptr, nullptr); }},
      {"kcmp", [] { return syscall(SYS_kcmp, kNoSuchPid, kNoSuchPid, 0, 0UL, 0UL); }},
      {"pidfd_getfd", [] { return syscall(SYS_pidfd_getfd, -1, 0, 1U); }},
      {"process_madvise", [] { return syscall(SYS_process_madvise, -1, nullptr, 0UL, 0, 1U); }},
      {"process_mrelease", [] { return syscall(SYS_process_mrelease, -1, 1U); }},
      // Mounts: invalid flags are EINVAL; the calls that check may_mount() first need
      // CAP_SYS_ADMIN over the container's mount namespace to get that far.
      {"mount",
       [] { return syscall(SYS_mount, "none", kNoSuchPath, "tmpfs", 0UL, nullptr); }},  // ENOENT
      {"umount2", [] { return syscall(SYS_umount2, kNoSuchPath, 0x100); }},
      {"fsopen", [] { return syscall(SYS_fsopen, "tmpfs", kBadFlag); }},
      {"fsconfig", [] { return syscall(SYS_fsconfig, -1, 0xffU, nullptr, nullptr, 0); }},
      {"fsmount", [] { return syscall(SYS_fsmount, -1, kBadFlag, 0U); }},
      {"fspick", [] { return syscall(SYS_fspick, -1, "", kBadFlag); }},
      {"move_mount", [] { return syscall(SYS_move_mount, -1, "", -1, "", kBadFlag); }},
      {"open_tree", [] { return syscall(SYS_open_tree, -1, "", kBadFlag); }},
      {"mount_setattr", [] { return syscall(SYS_mount_setattr, -1, "", kBadFlag, nullptr, 0UL); }},
      {"pivot_root", [] { return syscall(SYS_pivot_root, kNoSuchPath, kNoSuchPath); }},  // ENOENT
      {"chroot", [] { return syscall(SYS_chroot, kNoSuchPath); }},                       // ENOENT
      {"setns", [] { return syscall(SYS_setns, -1, 0); }},                               // EBADF
      // CSIGNAL bits are no unshare flag: EINVAL.
      {"unshare", [] { return syscall(SYS_unshare, CLONE_NEWUSER | 1UL); }},
      {"name_to_handle_at",
       [] { return syscall(SYS_name_to_handle_at, AT_FDCWD, "/", nullptr, nullptr, kBadFlag); }},
      {"open_by_handle_at", [] { return syscall(SYS_open_by_handle_at, -1, nullptr, O_RDONLY); }},
      {"fanotify_init", [] { return syscall(SYS_fanotify_init, 0xffffffffU, 0U); }},
      // Kernel modules and kexec.
      {"init_module", [] { return syscall(SYS_init_module, nullptr, 0UL, ""); }},
      {"finit_module", [] { return syscall(SYS_finit_module, -1, "", 0); }},
      {"delete_module",
       [] { return syscall(SYS_delete_module, "brick_inspect_none", O_NONBLOCK); }},
      {"kexec_load", [] { return syscall(SYS_kexec_load, 0UL, 0UL, nullptr, 0xdead0000UL); }},
      {"kexec_file_load",
       [] { return syscall(SYS_kexec_file_load, -1, -1, 0UL, nullptr, 0xffUL); }},
      // I/O ports: a level above 3 and a range past the bitmap are EINVAL first.
      {"iopl", [] { return syscall(SYS_iopl, 4); }},
      {"ioperm", [] { return syscall(SYS_ioperm, 0xffff0000UL, 0x100UL, 1); }},
      // Wrong magic: EINVAL after the CAP_SYS_BOOT check.
      {"reboot", [] { return syscall(SYS_reboot, 0, 0, LINUX_REBOOT_CMD_CAD_OFF, nullptr); }},
      // The child has no controlling terminal, so with CAP_SYS_TTY_CONFIG nothing is hung up.
      {"vhangup", [] { return syscall(SYS_vhangup); }},
      // NUMA: an invalid mode or flag is EINVAL; no such pid is ESRCH.
      {"mbind", [] { return syscall(SYS_mbind, 0UL, 0UL, 99, nullptr, 0UL, 0U); }},
      {"set_mempolicy", [] { return syscall(SYS_set_mempolicy, 99, nullptr, 0UL); }},
      {"get_mempolicy",
       [] { return syscall(SYS_get_mempolicy, nullptr, nullptr, 0UL, 0UL, 0x100UL); }},
      {"set_mempolicy_home_node",
       [] { return syscall(SYS_set_mempolicy_home_node, 0UL, 0UL, 0UL, 1UL); }},
      {"migrate_pages",
       [] { return syscall(SYS_migrate_pages, kNoSuchPid, 0UL, nullptr, nullptr); }},
      {"move_pages",
       [] { return syscall(SYS_move_pages, 0, 0UL, nullptr, nullptr, nullptr, 0x100); }},
      {"bpf", [] { return syscall(SYS_bpf, 0x7fff, nullptr, 0U); }},
      {"perf_event_open", [] { return syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0xffUL); }},
      {"swapon", [] { return syscall(SYS_swapon, kNoSuchPath, 0x7fffffff); }},
      {"swapoff", [] { return syscall(SYS_swapoff, kNoSuchPath); }},
      // io_uring: a NULL params is EFAULT, fd -1 is EBADF (ENOSYS without CONFIG_IO_URING).
      {"io_uring_setup", [] { return syscall(SYS_io_uring_setup, 1U, nullptr); }},
      {"io_uring_enter", [] { return syscall(SYS_io_uring_enter, -1, 0U, 0U, 0U, nullptr, 0UL); }},
      {"io_uring_register", [] { return syscall(SYS_io_uring_register, -1, 0U, nullptr, 0U); }},
      // Reads 0 bytes of the LDT: 0.
      {"modify_ldt", [] { return syscall(SYS_modify_ldt, 0, nullptr, 0UL); }},
      {"memfd_secret", [] { return syscall(SYS_memfd_secret, 0x100U); }},
      {"sysfs", [] { return syscall(SYS_sysfs, 3); }},  // the number of filesystem types
      // Removed or never implemented: the kernel's own answer is ENOSYS.
      {"_sysctl", [] { return syscall(kNrSysctl, nullptr); }},
      {"uselib", [] { return syscall(kNrUselib, nullptr); }},
      {"lookup_dcookie", [] { return syscall(kNrLookupDcookie, 0UL, nullptr, 0UL); }},
      {"create_module", [] { return syscall(kNrCreateModule); }},
      {"get_kernel_syms", [] { return syscall(kNrGetKernelSyms); }},
      {"query_module", [] { return syscall(kNrQueryModule); }},
      {"nfsservctl", [] { return syscall(kNrNfsservctl); }},
      {"getpmsg", [] { return syscall(kNrGetpmsg); }},
      {"putpmsg", [] { return syscall(kNrPutpmsg); }},
      {"afs_syscall", [] { return syscall(kNrAfsSyscall); }},
      {"tuxcall", [] { return syscall(kNrTuxcall); }},
      {"security", [] { return syscall(kNrSecurity); }},
      {"vserver", [] { return syscall(kNrVserver); }},
      {"epoll_ctl_old", [] { return syscall(kNrEpollCtlOld); }},
      {"epoll_wait_old", [] { return syscall(kNrEpollWaitOld); }},
      // clone: a namespace flag with CLONE_THREAD (no CLONE_SIGHAND) is EINVAL in the kernel;
      // the same without a namespace flag shows what the filter lets through; and a real fork.
      {"clone:none", [] { return syscall(SYS_clone, kCloneInvalid, 0UL, nullptr, nullptr, 0UL); }},
      {"clone:fork", RealFork},
      // clone3: a NULL struct of size 0 is EINVAL.
      {"clone3", [] { return syscall(SYS_clone3, nullptr, 0UL); }},
      // A syscall newer than the profile; with a flag it does not take, EINVAL.
      {"newer:mseal", [] { return syscall(kNrMseal, 0UL, 0UL, 1UL); }},
      // personality: changes only this child.
      {"personality:PER_LINUX", [] { return syscall(SYS_personality, 0UL); }},
      {"personality:query", [] { return syscall(SYS_personality, 0xffffffffUL); }},
      {"personality:PER_LINUX32", [] { return syscall(SYS_personality, 0x0008UL); }},
      {"personality:UNAME26", [] { return syscall(SYS_personality, 0x0020000UL); }},
      {"personality:ADDR_NO_RANDOMIZE", [] { return syscall(SYS_personality, 0x0040000UL); }},
      {"personality:READ_IMPLIES_EXEC", [] { return syscall(SYS_personality, 0x0400000UL); }},
      // getpid through the x32 ABI: without CONFIG_X86_X32_ABI the kernel answers ENOSYS, but
      // the filter sees the number first.
      {"x32:getpid", [] { return syscall(kX32Bit | SYS_getpid); }},
      // Sockets that must work.
      {"socket-ok:AF_UNIX", [] { return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0); }},
      {"socket-ok:AF_INET", [] { return syscall(SYS_socket, AF_INET, SOCK_STREAM, 0); }},
      {"socket-ok:AF_INET6", [] { return syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0); }},
      {"socket-ok:AF_NETLINK", [] { return syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0); }},
      {"socketpair-ok:AF_UNIX",
       [] {
         int sv[2];
         return syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
       }},
  };
  for (const char* flag : {"CLONE_NEWNS", "CLONE_NEWCGROUP", "CLONE_NEWUTS", "CLONE_NEWIPC",
                           "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET"}) {
    std::string name = flag;
    unsigned long bit = name == "CLONE_NEWNS"       ? CLONE_NEWNS
                        : name == "CLONE_NEWCGROUP" ? CLONE_NEWCGROUP
                        : name == "CLONE_NEWUTS"    ? CLONE_NEWUTS
                        : name == "CLONE_NEWIPC"    ? CLONE_NEWIPC
                        : name == "CLONE_NEWUSER"   ? CLONE_NEWUSER
                        : name == "CLONE_NEWPID"    ? CLONE_NEWPID
                                                    : CLONE_NEWNET;
    out.push_back({"clone:" + name, [bit] {
                     return syscall(SYS_clone, kCloneInvalid | bit, 0UL, nullptr, nullptr, 0UL);
                   }});
  }
  for (int family = 0; family < kFamilies; ++family) {
    out.push_back({"socket:" + FamilyLabel(family),
                   [family] { return syscall(SYS_socket, family, kInvalidSockType, 0); }});
  }
  for (int family = 0; family < kFamilies; ++family) {
    out.push_back({"socketpair:" + FamilyLabel(family), [family] {
                     int sv[2];
                     return syscall(SYS_socketpair, family, kInvalidSockType, 0, sv);
                   }});
  }
  return out;
}

}  // namespace

const std::vector<ForkedSyscall>& ForkedSyscalls() {
  static const auto* probes = new std::vector<ForkedSyscall>(Build());
  return *probes;
}

std::string RunForked(const ForkedSyscall& probe) {
  pid_t pid = fork();
  if (pid < 0) {
    return "fork errno " + ErrnoName(errno);
  }
  if (pid == 0) {
    errno = 0;
    long ret = probe.call();
    // errno values fit an exit status; 0 is success.
    _exit(ret >= 0 ? 0 : (errno > 0 && errno < 256 ? errno : 255));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return "waitpid errno " + ErrnoName(errno);
    }
  }
  if (WIFSIGNALED(status)) {
    return "signal " + SignalName(WTERMSIG(status));
  }
  int code = WEXITSTATUS(status);
  return code == 0 ? "ok" : "errno " + ErrnoName(code);
}

}  // namespace brick::inspect
