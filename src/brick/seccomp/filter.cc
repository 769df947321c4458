#include "brick/seccomp/filter.h"

#include <linux/audit.h>
#include <linux/bpf_common.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "brick/seccomp/syscall_arg_counts.h"

namespace brick::seccomp {
namespace {

constexpr std::string_view kField = "linux.seccomp";
// seccomp_data carries six syscall arguments.
constexpr uint32_t kMaxArgs = 6;
// The kernel clamps SECCOMP_RET_ERRNO values to MAX_ERRNO (4095), and libseccomp accepts only
// values below it.
constexpr uint32_t kMaxErrno = 4094;
// SECCOMP_RET_DATA: what SCMP_ACT_TRACE can hand to the tracer.
constexpr uint32_t kMaxRetData = 0xffff;

// The OCI names, in the spec's order. The libseccomp token name is the suffix in lower case.
constexpr std::string_view kArchNames[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};
constexpr std::string_view kArchPrefix = "SCMP_ARCH_";

struct FlagName {
  std::string_view name;
  unsigned int bit;
};
// Flags a config may ask for. NEW_LISTENER and TSYNC_ESRCH are brick's to set, not the user's.
constexpr FlagName kConfigFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};
constexpr FlagName kInternalFlags[] = {
    {"SECCOMP_FILTER_FLAG_NEW_LISTENER", SECCOMP_FILTER_FLAG_NEW_LISTENER},
    {"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
};

// Every action ResolveAction maps, in the spec's order.
constexpr std::string_view kActionNames[] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

struct OperatorName {
  std::string_view name;
  scmp_compare op;
};
constexpr OperatorName kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

struct ResolvedRule {
  size_t index = 0;  // into profile.syscalls, for messages
  uint32_t action = 0;
  std::vector<scmp_arg_cmp> conditions;
  // One argument is compared more than once. libseccomp ANDs the conditions of a rule and
  // refuses two on one argument, so, as runc does, each condition becomes its own rule and the
  // rules are OR'ed.
  bool one_rule_per_condition = false;
  // (index into names, syscall number); numbers may be libseccomp's negative pseudo-numbers for
  // syscalls that exist only on other architectures.
  std::vector<std::pair<size_t, int>> syscalls;
};

struct ResolvedProfile {
  uint32_t default_action = 0;
  std::vector<uint32_t> arches;
  unsigned int flags = 0;
  bool needs_listener = false;
  std::vector<ResolvedRule> rules;
  std::vector<std::string> warnings;
};

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  if (v == nullptr) {
    return "unknown";
  }
  return fmt::format("{}.{}.{}", v->major, v->minor, v->micro);
}

// `field` is the JSON path of the action member; errno_field that of its errnoRet.
Result<uint32_t> ResolveAction(std::string_view action, const std::optional<uint32_t>& errno_ret,
                               std::string_view field, std::string_view errno_field) {
  bool takes_errno = action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
  if (errno_ret && !takes_errno) {
    return Fail("{}: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not {}; remove it",
                errno_field, action);
  }
  uint32_t err = errno_ret.value_or(EPERM);
  if (action == "SCMP_ACT_ERRNO" && err > kMaxErrno) {
    return Fail("{}: {} is above {}, the largest errno seccomp can return", errno_field, err,
                kMaxErrno);
  }
  if (action == "SCMP_ACT_TRACE" && err > kMaxRetData) {
    return Fail("{}: {} does not fit the 16 bits seccomp passes to the tracer; use at most {}",
                errno_field, err, kMaxRetData);
  }
  if (action == "SCMP_ACT_KILL" || action == "SCMP_ACT_KILL_THREAD") {
    return SCMP_ACT_KILL_THREAD;
  }
  if (action == "SCMP_ACT_KILL_PROCESS") {
    return SCMP_ACT_KILL_PROCESS;
  }
  if (action == "SCMP_ACT_TRAP") {
    return SCMP_ACT_TRAP;
  }
  if (action == "SCMP_ACT_ERRNO") {
    return SCMP_ACT_ERRNO(err);
  }
  if (action == "SCMP_ACT_TRACE") {
    return SCMP_ACT_TRACE(err);
  }
  if (action == "SCMP_ACT_ALLOW") {
    return SCMP_ACT_ALLOW;
  }
  if (action == "SCMP_ACT_LOG") {
    return SCMP_ACT_LOG;
  }
  if (action == "SCMP_ACT_NOTIFY") {
    return SCMP_ACT_NOTIFY;
  }
  if (action.empty()) {
    return Fail("{}: missing; use an SCMP_ACT_* name such as SCMP_ACT_ERRNO", field);
  }
  return Fail(
      "{}: unknown action \"{}\"; use one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, "
      "SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, "
      "SCMP_ACT_LOG, SCMP_ACT_NOTIFY",
      field, action);
}

// "x86_64" for SCMP_ARCH_X86_64: libseccomp's own name, as uname -m spells most of them.
std::string ArchDisplayName(uint32_t arch) {
  switch (arch) {
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_X86:
      return "x86";
    case SCMP_ARCH_X32:
      return "x32";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    default:
      break;
  }
  for (std::string_view name : kArchNames) {
    std::string token(name.substr(kArchPrefix.size()));
    for (char& c : token) {
      c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    if (seccomp_arch_resolve_name(token.c_str()) == arch) {
      return token;
    }
  }
  return fmt::format("arch 0x{:x}", arch);
}

Result<uint32_t> ResolveArch(std::string_view name, std::string_view field) {
  bool listed = false;
  for (std::string_view known : kArchNames) {
    listed = listed || known == name;
  }
  if (!listed) {
    return Fail("{}: unknown architecture \"{}\"; use an SCMP_ARCH_* name such as SCMP_ARCH_X86_64",
                field, name);
  }
  std::string token(name.substr(kArchPrefix.size()));
  for (char& c : token) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  uint32_t arch = seccomp_arch_resolve_name(token.c_str());
  if (arch == 0) {
    return Fail("{}: {} is not supported by libseccomp {}; remove it or upgrade libseccomp", field,
                name, LibseccompVersion());
  }
  // One BPF program reads seccomp_data in one byte order, so libseccomp refuses (EDOM) to mix
  // them; say so before it answers "numerical argument out of domain".
  uint32_t native = seccomp_arch_native();
  if ((arch & __AUDIT_ARCH_LE) != (native & __AUDIT_ARCH_LE)) {
    return Fail(
        "{}: {} cannot be added to a filter for {} (different byte order: {} is {}-endian, {} "
        "is {}-endian); remove it",
        field, name, ArchDisplayName(native), name, (arch & __AUDIT_ARCH_LE) ? "little" : "big",
        ArchDisplayName(native), (native & __AUDIT_ARCH_LE) ? "little" : "big");
  }
  return arch;
}

Result<scmp_arg_cmp> ResolveArg(const oci::SeccompArg& arg, std::string_view field) {
  if (arg.index >= kMaxArgs) {
    return Fail("{}.index: {} is out of range; syscall arguments are numbered 0 to {}", field,
                arg.index, kMaxArgs - 1);
  }
  for (const OperatorName& o : kOperators) {
    if (o.name == arg.op) {
      // For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the expected masked value, the
      // same order as libseccomp's datum_a and datum_b.
      return scmp_arg_cmp{arg.index, o.op, arg.value, arg.value_two};
    }
  }
  if (arg.op.empty()) {
    return Fail("{}.op: missing; use an SCMP_CMP_* name such as SCMP_CMP_EQ", field);
  }
  return Fail(
      "{}.op: unknown operator \"{}\"; use one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
      "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ",
      field, arg.op);
}

// A 32-bit ABI passes a 64-bit argument in two registers, sometimes after a padding register,
// so the same syscall can take up to twice as many registers there as on x86_64 (fallocate:
// 4 on x86_64, 6 on x86). x32 passes 64-bit values in one register, like x86_64.
bool SplitsWideArguments(uint32_t arch) {
  return arch != SCMP_ARCH_X32 && (arch & __AUDIT_ARCH_64BIT) == 0;
}

// Refuses a condition on an argument `syscall` does not have on any architecture the filter
// covers: seccomp would compare a register the kernel ignores for that call, so the rule would
// match or not by accident. Counts come from the x86_64 table (syscall_arg_counts.cc); a name
// it lacks keeps the 0..5 check ResolveArg made.
Status CheckArgIndex(std::string_view syscall, uint32_t index, const std::vector<uint32_t>& arches,
                     std::string_view field) {
  std::optional<int> count = X86_64SyscallArgCount(syscall);
  if (!count) {
    return Ok();
  }
  std::string name(syscall);
  uint32_t native = seccomp_arch_native();
  if (native != SCMP_ARCH_X86_64) {
    // The table describes x86_64 only.
    return Ok();
  }
  std::vector<uint32_t> covered = {native};
  covered.insert(covered.end(), arches.begin(), arches.end());
  uint32_t limit = static_cast<uint32_t>(*count);
  std::string widest;
  for (uint32_t arch : covered) {
    // _rewrite: on x86, socket exists as socketcall's SYS_SOCKET as well as syscall 359.
    if (arch == native || seccomp_syscall_resolve_name_rewrite(arch, name.c_str()) < 0) {
      continue;
    }
    if (SplitsWideArguments(arch)) {
      uint32_t registers = std::min<uint32_t>(kMaxArgs, 2 * static_cast<uint32_t>(*count));
      if (registers > limit) {
        limit = registers;
        widest = ArchDisplayName(arch);
      }
    }
  }
  if (index < limit) {
    return Ok();
  }
  std::string takes = *count == 0 ? fmt::format("{} takes no arguments on x86_64", syscall)
                                  : fmt::format("{} takes {} argument{} on x86_64", syscall, *count,
                                                *count == 1 ? "" : "s");
  if (!widest.empty()) {
    takes += fmt::format(" (at most {} registers on {})", limit, widest);
  }
  std::string fix = limit == 0
                        ? fmt::format(
                              "remove the condition, or move {} to a rule without "
                              "args",
                              syscall)
                        : fmt::format("use an index from 0 to {}, or move {} to its own rule",
                                      limit - 1, syscall);
  return Fail(
      "{}: {}, so argument index {} would compare a register the kernel does not read "
      "for it; {}",
      field, takes, index, fix);
}

// True when a rule with this action can let a syscall run: ALLOW and LOG do; NOTIFY and TRACE
// leave it to an agent or tracer, which may.
bool MayAllow(uint32_t action) {
  uint32_t kind = action & SECCOMP_RET_ACTION_FULL;
  return kind == SECCOMP_RET_ALLOW || kind == SECCOMP_RET_LOG || kind == SECCOMP_RET_USER_NOTIF ||
         kind == SECCOMP_RET_TRACE;
}

Result<ResolvedProfile> ResolveProfile(const oci::Seccomp& profile, bool allow_unknown) {
  ResolvedProfile out;
  out.default_action = BRICK_TRY_VALUE(ResolveAction(
      profile.default_action, profile.default_errno_ret, fmt::format("{}.defaultAction", kField),
      fmt::format("{}.defaultErrnoRet", kField)));
  if (out.default_action == SCMP_ACT_NOTIFY) {
    // Every syscall, including the runtime's own execve and the ones it needs to hand over the
    // listener fd, would wait for an agent that has no fd yet.
    return Fail(
        "{}.defaultAction: SCMP_ACT_NOTIFY cannot be the default; notify on named "
        "syscalls instead",
        kField);
  }

  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    out.arches.push_back(BRICK_TRY_VALUE(
        ResolveArch(profile.architectures[i], fmt::format("{}.architectures[{}]", kField, i))));
  }

  unsigned int wait_killable_index = 0;
  bool wait_killable = false;
  for (size_t i = 0; i < profile.flags.size(); ++i) {
    const std::string& name = profile.flags[i];
    std::optional<unsigned int> bit;
    for (const FlagName& f : kConfigFlags) {
      if (f.name == name) {
        bit = f.bit;
      }
    }
    if (!bit) {
      return Fail(
          "{}.flags[{}]: unknown flag \"{}\"; use SECCOMP_FILTER_FLAG_TSYNC, "
          "SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW or "
          "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
          kField, i, name);
    }
    if (*bit == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
      wait_killable = true;
      wait_killable_index = static_cast<unsigned int>(i);
    }
    out.flags |= *bit;
  }

  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    const oci::SeccompSyscall& sc = profile.syscalls[i];
    std::string field = fmt::format("{}.syscalls[{}]", kField, i);
    ResolvedRule rule;
    rule.index = i;
    rule.action = BRICK_TRY_VALUE(
        ResolveAction(sc.action, sc.errno_ret, field + ".action", field + ".errnoRet"));
    if (rule.action == SCMP_ACT_NOTIFY) {
      out.needs_listener = true;
    }
    uint32_t per_arg[kMaxArgs] = {};
    for (size_t a = 0; a < sc.args.size(); ++a) {
      scmp_arg_cmp cmp =
          BRICK_TRY_VALUE(ResolveArg(sc.args[a], fmt::format("{}.args[{}]", field, a)));
      rule.one_rule_per_condition = rule.one_rule_per_condition || per_arg[cmp.arg]++ > 0;
      rule.conditions.push_back(cmp);
    }
    if (sc.names.empty()) {
      return Fail("{}.names: empty; list at least one syscall name", field);
    }
    for (size_t n = 0; n < sc.names.size(); ++n) {
      const std::string& name = sc.names[n];
      // Resolves against libseccomp's table of every architecture: a name that exists only
      // elsewhere gets a negative pseudo-number, which libseccomp skips on arches without it.
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        if (!allow_unknown) {
          return Fail(
              "{}.names[{}]: unknown syscall \"{}\" (libseccomp {} does not know it); fix the "
              "name, or drop unknown names on purpose with brick run --seccomp-allow-unknown or "
              "the annotation run.brick.seccomp.allow-unknown=true",
              field, n, name, LibseccompVersion());
        }
        out.warnings.push_back(fmt::format(
            "{}.names[{}]: unknown syscall \"{}\" ignored (libseccomp {} does not know it)", field,
            n, name, LibseccompVersion()));
        continue;
      }
      for (size_t a = 0; a < sc.args.size(); ++a) {
        BRICK_TRY(CheckArgIndex(name, sc.args[a].index, out.arches,
                                fmt::format("{}.args[{}].index (names[{}])", field, a, n)));
      }
      rule.syscalls.emplace_back(n, nr);
    }
    out.rules.push_back(std::move(rule));
  }

  if (!MayAllow(out.default_action)) {
    bool allows_any = false;
    for (const ResolvedRule& rule : out.rules) {
      allows_any = allows_any || (MayAllow(rule.action) && !rule.syscalls.empty());
    }
    if (!allows_any) {
      return Fail(
          "{}: the profile allows no syscall (defaultAction {} and no rule allows one), so the "
          "container cannot even execve; add the syscalls it needs to syscalls[] or learn a "
          "profile with brick seccomp learn",
          kField, profile.default_action);
    }
  }

  if (out.needs_listener) {
    out.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (out.flags & SECCOMP_FILTER_FLAG_TSYNC) {
      // The kernel refuses TSYNC with NEW_LISTENER unless a failed sync reports -ESRCH instead
      // of a thread id, since the return value is already taken by the listener fd.
      out.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
  } else if (wait_killable) {
    // The flag only changes how notified syscalls wait; without a listener the kernel would
    // reject it, and dropping it weakens nothing.
    out.flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    out.warnings.push_back(
        fmt::format("{}.flags[{}]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ignored, no rule uses "
                    "SCMP_ACT_NOTIFY",
                    kField, wait_killable_index));
  }
  return out;
}

class FilterContext {
 public:
  explicit FilterContext(scmp_filter_ctx ctx) : ctx_(ctx) {}
  FilterContext(const FilterContext&) = delete;
  FilterContext& operator=(const FilterContext&) = delete;
  ~FilterContext() {
    if (ctx_ != nullptr) {
      seccomp_release(ctx_);
    }
  }
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

Status AddRule(const FilterContext& ctx, const ResolvedRule& rule,
               const std::pair<size_t, int>& syscall, const std::string& name) {
  auto add = [&](unsigned int count, const scmp_arg_cmp* conditions) -> Status {
    // Not the _exact variant: on multiplexing arches (x86 socketcall, ipc) libseccomp rewrites
    // the rule to match the multiplexer too.
    int rc = seccomp_rule_add_array(ctx.get(), rule.action, syscall.second, count, conditions);
    if (rc < 0) {
      return ErrnoFail(-rc, "{}.syscalls[{}].names[{}]: libseccomp refused the rule for \"{}\"",
                       kField, rule.index, syscall.first, name);
    }
    return Ok();
  };
  if (!rule.one_rule_per_condition) {
    return add(static_cast<unsigned int>(rule.conditions.size()), rule.conditions.data());
  }
  for (const scmp_arg_cmp& cond : rule.conditions) {
    BRICK_TRY(add(1, &cond));
  }
  return Ok();
}

Result<std::vector<sock_filter>> ExportBpf(const FilterContext& ctx) {
  UniqueFd memfd(memfd_create("brick-seccomp-bpf", MFD_CLOEXEC));
  if (!memfd) {
    return ErrnoFail(errno, "export seccomp filter: memfd_create");
  }
  int rc = seccomp_export_bpf(ctx.get(), memfd.get());
  if (rc < 0) {
    return ErrnoFail(-rc, "export seccomp filter: seccomp_export_bpf");
  }
  off_t size = lseek(memfd.get(), 0, SEEK_END);
  if (size < 0) {
    return ErrnoFail(errno, "export seccomp filter: lseek memfd");
  }
  if (size == 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0) {
    return Fail(
        "export seccomp filter: libseccomp wrote {} bytes, not a whole number of "
        "{}-byte instructions",
        size, sizeof(sock_filter));
  }
  std::vector<sock_filter> out(static_cast<size_t>(size) / sizeof(sock_filter));
  auto* bytes = reinterpret_cast<char*>(out.data());
  off_t done = 0;
  while (done < size) {
    ssize_t n = pread(memfd.get(), bytes + done, static_cast<size_t>(size - done), done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return ErrnoFail(errno, "export seccomp filter: read memfd");
    }
    if (n == 0) {
      return Fail("export seccomp filter: memfd shrank to {} bytes while reading", done);
    }
    done += n;
  }
  return out;
}

// True for default actions that refuse a syscall; only then is ENOSYS for newer syscalls a
// refinement rather than a change of meaning.
bool RefusingDefault(uint32_t action) {
  uint32_t kind = action & SECCOMP_RET_ACTION_FULL;
  if (kind == SECCOMP_RET_ERRNO) {
    return (action & SECCOMP_RET_DATA) != ENOSYS;
  }
  return kind == SECCOMP_RET_KILL_PROCESS || kind == SECCOMP_RET_KILL_THREAD ||
         kind == SECCOMP_RET_TRAP;
}

// x86_64 syscalls with this bit are x32 calls, which share the audit arch.
constexpr uint32_t kX32SyscallBit = 0x40000000;

std::vector<EnosysThreshold> EnosysThresholds(const oci::Seccomp& profile,
                                              const std::vector<uint32_t>& arches) {
  std::vector<EnosysThreshold> out;
  uint32_t native = seccomp_arch_native();
  std::vector<uint32_t> covered = {native};
  for (uint32_t a : arches) {
    if (a != native) {
      covered.push_back(a);
    }
  }
  for (uint32_t arch : covered) {
    // Only where the audit arch identifies the syscall table on its own.
    if (arch != SCMP_ARCH_X86_64 && arch != SCMP_ARCH_X86) {
      continue;
    }
    int newest = -1;
    for (const oci::SeccompSyscall& sc : profile.syscalls) {
      for (const std::string& name : sc.names) {
        int nr = seccomp_syscall_resolve_name_arch(arch, name.c_str());
        if (nr > newest) {
          newest = nr;
        }
      }
    }
    if (newest >= 0) {
      out.push_back({arch, newest + 1});
    }
  }
  return out;
}

// BPF that returns ERRNO(ENOSYS) for syscall numbers at or above each threshold and otherwise
// falls through to the program that follows it. The first block is the native arch's, so a
// native syscall pays five instructions before libseccomp's tree.
std::vector<sock_filter> EnosysStub(const std::vector<EnosysThreshold>& thresholds) {
  std::vector<std::vector<sock_filter>> blocks;
  for (const EnosysThreshold& t : thresholds) {
    bool x86_64 = t.audit_arch == SCMP_ARCH_X86_64;
    std::vector<sock_filter> b;
    b.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    // Not this arch: go on to the next block (jf patched below).
    b.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, t.audit_arch, 0, 0));
    b.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (x86_64) {
      // x32 numbers: leave them to libseccomp's bad-arch handling (jt patched below).
      b.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kX32SyscallBit, 0, 0));
    }
    b.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, static_cast<uint32_t>(t.first_number), 0, 0));
    b.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS));
    blocks.push_back(std::move(b));
  }
  size_t total = 0;
  for (const auto& b : blocks) {
    total += b.size();
  }
  std::vector<sock_filter> out;
  for (auto& b : blocks) {
    size_t start = out.size();
    size_t n = b.size();
    // Instructions after index i up to the end of the stub.
    auto to_end = [&](size_t i) { return static_cast<uint8_t>(total - (start + i) - 1); };
    b[1].jf = static_cast<uint8_t>(n - 2);  // next block
    if (n == 6) {
      b[3].jt = to_end(3);
      b[4].jf = to_end(4);
    } else {
      b[3].jf = to_end(3);
    }
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

}  // namespace

std::string SeccompFlagName(unsigned int flag) {
  for (const FlagName& f : kConfigFlags) {
    if (f.bit == flag) {
      return std::string(f.name);
    }
  }
  for (const FlagName& f : kInternalFlags) {
    if (f.bit == flag) {
      return std::string(f.name);
    }
  }
  return fmt::format("0x{:x}", flag);
}

std::vector<std::string> KnownSeccompActions() {
  return std::vector<std::string>(std::begin(kActionNames), std::end(kActionNames));
}

std::vector<std::string> KnownSeccompOperators() {
  std::vector<std::string> out;
  for (const OperatorName& o : kOperators) {
    out.emplace_back(o.name);
  }
  return out;
}

std::vector<std::string> KnownSeccompArchitectures() {
  std::vector<std::string> out;
  for (std::string_view name : kArchNames) {
    auto arch = ResolveArch(name, "");
    if (!arch) {
      continue;
    }
    // Added the way CompileFilter adds it: libseccomp refuses (EDOM) an architecture whose
    // byte order differs from the native one, so big-endian names never work on x86.
    FilterContext ctx(seccomp_init(SCMP_ACT_ALLOW));
    if (ctx.get() != nullptr &&
        (seccomp_arch_exist(ctx.get(), *arch) == 0 || seccomp_arch_add(ctx.get(), *arch) == 0)) {
      out.emplace_back(name);
    }
  }
  return out;
}

std::vector<std::string> KnownSeccompFlags() {
  std::vector<std::string> out;
  for (const FlagName& f : kConfigFlags) {
    out.emplace_back(f.name);
  }
  return out;
}

std::vector<std::string> KernelSupportedSeccompFlags() {
  std::vector<std::string> out;
  for (const FlagName& f : kConfigFlags) {
    unsigned int flags = f.bit;
    // The kernel takes WAIT_KILLABLE_RECV only together with NEW_LISTENER.
    if (f.bit == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
      flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
    if (rc < 0 && errno == EFAULT) {
      out.emplace_back(f.name);
    }
  }
  return out;
}

std::string LinkedLibseccompVersion() { return LibseccompVersion(); }

Status ValidateSeccompNames(const oci::Seccomp& profile, bool allow_unknown_syscalls) {
  BRICK_TRY(ResolveProfile(profile, allow_unknown_syscalls));
  return Ok();
}

Result<BpfProgram> CompileFilter(const oci::Seccomp& profile, const CompileOptions& opts) {
  ResolvedProfile resolved = BRICK_TRY_VALUE(ResolveProfile(profile, opts.allow_unknown_syscalls));

  FilterContext ctx(seccomp_init(resolved.default_action));
  if (ctx.get() == nullptr) {
    return Fail("{}.defaultAction: libseccomp {} refused {}", kField, LibseccompVersion(),
                profile.default_action);
  }
  // A syscall made through an ABI the filter does not cover (int $0x80 for ia32, bit 30 of the
  // number for x32) uses a different syscall table, so none of the rules keyed by x86_64
  // numbers would describe it: the only safe answer is not to run it. KILL_PROCESS rather than
  // libseccomp's default KILL_THREAD so that a multi-threaded process cannot carry on without
  // the thread, and the SIGSYS exit status makes the cause plain.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    return ErrnoFail(-rc, "set the seccomp bad-architecture action");
  }
  // The runtime sets no_new_privs itself, according to process.noNewPrivileges; and the filter
  // is exported, not loaded by libseccomp.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0) {
    return ErrnoFail(-rc, "clear the libseccomp no_new_privs attribute");
  }
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
  // A binary search over syscall numbers instead of a linear chain: long profiles (Docker's has
  // ~400 names) cost fewer instructions per syscall. Only a speed-up, so a refusal is ignored.
  (void)seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2);
#endif

  for (size_t i = 0; i < resolved.arches.size(); ++i) {
    uint32_t arch = resolved.arches[i];
    // seccomp_arch_exist returns -EEXIST when the arch is absent; the native one always exists.
    if (seccomp_arch_exist(ctx.get(), arch) == 0) {
      continue;
    }
    if (int rc = seccomp_arch_add(ctx.get(), arch); rc == -EDOM) {
      // ResolveArch refuses the other byte order already; this is whatever else libseccomp
      // finds incompatible.
      return Fail(
          "{}.architectures[{}]: {} cannot be added to a filter for {} (libseccomp {} "
          "cannot combine them); remove it",
          kField, i, profile.architectures[i], ArchDisplayName(seccomp_arch_native()),
          LibseccompVersion());
    } else if (rc < 0) {
      return ErrnoFail(-rc, "{}.architectures[{}]: add {}", kField, i, profile.architectures[i]);
    }
  }

  for (const ResolvedRule& rule : resolved.rules) {
    // libseccomp refuses a rule that repeats the default action; it would change nothing.
    if (rule.action == resolved.default_action) {
      continue;
    }
    for (const auto& syscall : rule.syscalls) {
      BRICK_TRY(AddRule(ctx, rule, syscall, profile.syscalls[rule.index].names[syscall.first]));
    }
  }

  BpfProgram program;
  program.instructions = BRICK_TRY_VALUE(ExportBpf(ctx));
  if (opts.enosys_for_newer_syscalls && RefusingDefault(resolved.default_action)) {
    program.enosys = EnosysThresholds(profile, resolved.arches);
    std::vector<sock_filter> stub = EnosysStub(program.enosys);
    program.instructions.insert(program.instructions.begin(), stub.begin(), stub.end());
  }
  if (program.instructions.size() > BPF_MAXINSNS) {
    return Fail(
        "{}: the compiled filter has {} instructions, over the kernel's limit of {}; "
        "shorten the profile or merge rules",
        kField, program.instructions.size(), BPF_MAXINSNS);
  }
  program.flags = resolved.flags;
  program.needs_listener = resolved.needs_listener;
  program.warnings = std::move(resolved.warnings);
  return program;
}

namespace {

// Only reached after seccomp(2) failed with EINVAL: asks the kernel about each flag alone. A
// NULL program makes a supported flag fail with EFAULT (the kernel checks flags first, then
// copies the program), so nothing is installed by the probe.
std::unexpected<Error> DescribeRejectedFlags(unsigned int flags, size_t instructions) {
  for (unsigned int bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
    if ((flags & bit) == 0) {
      continue;
    }
    unsigned int probe = bit;
    if (bit == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
      probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, probe, nullptr) < 0 && errno == EINVAL) {
      return ErrnoFail(EINVAL,
                       "install seccomp filter: the kernel does not support {}; remove it from "
                       "linux.seccomp.flags or upgrade the kernel",
                       SeccompFlagName(bit));
    }
  }
  return ErrnoFail(EINVAL,
                   "install seccomp filter: the kernel rejected the {}-instruction "
                   "program with flags 0x{:x}",
                   instructions, flags);
}

}  // namespace

Result<UniqueFd> InstallFilter(const BpfProgram& program) {
  size_t count = program.instructions.size();
  if (count == 0 || count > BPF_MAXINSNS) {
    return Fail("install seccomp filter: {} instructions; a program has 1 to {}", count,
                BPF_MAXINSNS);
  }
  if (program.needs_listener != ((program.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0)) {
    return Fail(
        "install seccomp filter: needs_listener and SECCOMP_FILTER_FLAG_NEW_LISTENER "
        "disagree; build the program with CompileFilter");
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(count);
  // The kernel copies the program and never writes through this pointer.
  prog.filter = const_cast<sock_filter*>(program.instructions.data());
  long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, program.flags, &prog);
  if (rc < 0) {
    int err = errno;
    if (err == EINVAL) {
      return DescribeRejectedFlags(program.flags, count);
    }
    if (err == EACCES) {
      return ErrnoFail(err,
                       "install seccomp filter: set no_new_privs first or keep "
                       "CAP_SYS_ADMIN");
    }
    if (err == ESRCH && (program.flags & SECCOMP_FILTER_FLAG_TSYNC) != 0) {
      return ErrnoFail(err,
                       "install seccomp filter: another thread could not be synchronised "
                       "(SECCOMP_FILTER_FLAG_TSYNC)");
    }
    return ErrnoFail(err, "install seccomp filter");
  }
  if ((program.flags & SECCOMP_FILTER_FLAG_TSYNC) != 0 &&
      (program.flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH) == 0 && rc > 0) {
    // Without TSYNC_ESRCH a positive return is the id of a thread that could not be
    // synchronised, and nothing was installed.
    return ErrnoFail(ESRCH,
                     "install seccomp filter: thread {} could not be synchronised "
                     "(SECCOMP_FILTER_FLAG_TSYNC)",
                     rc);
  }
  if (program.needs_listener) {
    return UniqueFd(static_cast<int>(rc));
  }
  return UniqueFd();
}

}  // namespace brick::seccomp
