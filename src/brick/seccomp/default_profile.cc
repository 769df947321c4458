#include "brick/seccomp/default_profile.h"

namespace brick::seccomp {
namespace {

// Every entry fails with EPERM. Names that exist only on other ABIs (stime, vm86, vm86old) stay
// listed so that the profile keeps its meaning if more architectures are added later.
constexpr DeniedSyscall kDenied[] = {
    {"kexec_load", "replaces the running host kernel"},
    {"kexec_file_load", "replaces the running host kernel, from a file"},
    {"open_by_handle_at", "opens host files by handle, escaping the container's mounts"},
    {"init_module", "loads code into the host kernel"},
    {"finit_module", "loads code into the host kernel, from a file"},
    {"delete_module", "unloads modules from the host kernel"},
    {"create_module", "obsolete module interface, removed from the kernel"},
    {"get_kernel_syms", "obsolete module interface, removed from the kernel"},
    {"query_module", "obsolete module interface, removed from the kernel"},
    {"iopl", "grants raw access to all hardware I/O ports"},
    {"ioperm", "grants raw access to hardware I/O ports"},
    {"swapon", "changes the host's swap devices"},
    {"swapoff", "changes the host's swap devices"},
    {"reboot", "restarts or halts the host"},
    {"acct", "switches host-wide process accounting"},
    {"settimeofday", "sets the host clock, which has no namespace"},
    {"clock_settime", "sets the host clock, which has no namespace"},
    {"stime", "sets the host clock, which has no namespace (32-bit only)"},
    {"adjtimex", "tunes the host clock, which has no namespace"},
    {"clock_adjtime", "tunes the host clock, which has no namespace"},
    {"quotactl", "changes host filesystem quotas"},
    {"syslog", "reads or clears the host kernel log, which leaks kernel addresses"},
    {"_sysctl", "obsolete binary interface to host kernel tunables"},
    {"sysfs", "obsolete filesystem-type query with no users, only attack surface"},
    {"nfsservctl", "obsolete NFS server control, removed from the kernel"},
    {"uselib", "obsolete a.out library loader with a history of exploits"},
    {"vm86", "virtual-8086 mode with a history of kernel bugs (32-bit only)"},
    {"vm86old", "virtual-8086 mode with a history of kernel bugs (32-bit only)"},
    {"lookup_dcookie", "profiling interface that reveals host paths"},
    {"perf_event_open", "kernel profiling: large attack surface, observes the host"},
    {"bpf", "loads programs into the host kernel: large attack surface"},
    {"userfaultfd", "stalls kernel page faults at will, a standard aid for kernel exploits"},
    {"fanotify_init", "watches filesystem events beyond the container"},
    {"kcmp", "compares other processes' kernel objects, leaking kernel layout"},
    {"keyctl", "kernel keyrings have no namespace: keys are shared with the host"},
    {"add_key", "kernel keyrings have no namespace: keys are shared with the host"},
    {"request_key", "kernel keyrings have no namespace: keys are shared with the host"},
};

}  // namespace

std::span<const DeniedSyscall> DefaultDeniedSyscalls() { return kDenied; }

oci::Seccomp DefaultProfile() {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  // Only the native ABI: everything arriving through ia32 (int $0x80) or x32 hits the filter's
  // bad-architecture action and kills the process.
  profile.architectures = {"SCMP_ARCH_X86_64"};
  oci::SeccompSyscall deny;
  deny.action = "SCMP_ACT_ERRNO";
  for (const DeniedSyscall& d : kDenied) {
    deny.names.emplace_back(d.name);
  }
  profile.syscalls.push_back(std::move(deny));
  return profile;
}

std::vector<std::pair<std::string, std::string>> DefaultProfileReasons() {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(std::size(kDenied));
  for (const DeniedSyscall& d : kDenied) {
    out.emplace_back(d.name, d.reason);
  }
  return out;
}

}  // namespace brick::seccomp
