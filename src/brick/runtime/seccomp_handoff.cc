#include "brick/runtime/seccomp_handoff.h"

#include <fcntl.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace brick::runtime {
namespace {

// How long an init waits for its parent to take the listener: about ten seconds on a
// 2.5 GHz time-stamp counter. The parent normally takes it within microseconds; only a
// parent that died (brick start killed midway) leaves the init waiting this long.
constexpr uint64_t kSpinCycles = 25'000'000'000ull;

// Waits for the parent without a single syscall: the filter is in place and any call,
// even a futex wait, could be refused or held for an agent that has no listener yet.
bool SpinUntilReleased(const uint32_t* word) {
#if defined(__x86_64__)
  const uint64_t start = __rdtsc();
  while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == 0) {
    if (__rdtsc() - start > kSpinCycles) {
      return false;
    }
    _mm_pause();
  }
  return true;
#else
  // No cycle counter to read without a syscall here: count loop turns instead.
  for (uint64_t turns = 0; __atomic_load_n(word, __ATOMIC_ACQUIRE) == 0; ++turns) {
    if (turns > kSpinCycles / 16) {
      return false;
    }
  }
  return true;
#endif
}

}  // namespace

Status InstallFilterForHandOff(const seccomp::BpfProgram& program, const ListenerHandOffPlan& plan,
                               int probe_fd, int keep_through,
                               const std::function<Status(const std::string&)>& announce) {
  if (!plan.enabled) {
    if (program.needs_listener) {
      // The parent validates this; reaching it is a bug, and a listener nobody takes would
      // make every notified call fail with ENOSYS.
      return Fail("linux.seccomp: a rule uses SCMP_ACT_NOTIFY but no agent takes the listener");
    }
    UniqueFd none = BRICK_TRY_VALUE(seccomp::InstallFilter(program));
    (void)none.release();
    return Ok();
  }
  if (!program.needs_listener || plan.release_word == nullptr || plan.release_fd < 0) {
    return Fail("linux.seccomp: listener hand-off planned for a filter without a listener");
  }
  // The kernel puts the listener at the lowest free fd. Nothing opens or closes an fd
  // between here and the install, so this is its number.
  int probe = fcntl(probe_fd, F_DUPFD_CLOEXEC, 0);
  if (probe < 0) {
    return ErrnoFail(errno, "linux.seccomp: find the listener's fd number");
  }
  close(probe);
  if (probe <= keep_through) {
    return Fail(
        "linux.seccomp: fd {} is not open, so the seccomp listener would take its place among "
        "the fds passed into the container (--preserve-fds or LISTEN_FDS); pass only open fds",
        probe);
  }
  BRICK_TRY(announce(fmt::format("{} {}", probe, plan.release_fd)),
            "linux.seccomp: announce the listener");
  UniqueFd listener = BRICK_TRY_VALUE(seccomp::InstallFilter(program));
  // From here on: no syscall, no allocation (which could call brk or mmap), until the parent
  // holds the listener. Should the kernel have put it elsewhere, or the parent never come,
  // die by an illegal instruction, which is not a syscall either.
  if (listener.release() != probe || !SpinUntilReleased(plan.release_word)) {
    __builtin_trap();
  }
  return Ok();
}

}  // namespace brick::runtime
