// Process hygiene of the container init: which fds survive exec, dumpability,
// parent-death signal, session, and the CVE-2019-5736 defence for the runtime binary.
//
//   // parent:
//   FdHygienePlan fds = BRICK_TRY_VALUE(PlanFdHygiene(preserve_fds, {}, &env));  // may
//                                                        // rewrite LISTEN_PID in env
//   if (RuntimeBinaryWritableFromContainer(idmap, exe_uid, exe_gid)) {
//     if (!SealedReexecMarkerSet()) BRICK_TRY(ReexecFromSealedMemfd(argv, envp));
//   }
//   // child, right after clone:
//   BRICK_TRY(SetNonDumpable(sys));                          // no ptrace/proc access from
//   BRICK_TRY(NewSession(sys));                              // the container during setup
//   if (pty_slave >= 0) BRICK_TRY(SetControllingTerminal(sys, pty_slave));
//   ... SwitchIdsKeepingCaps ...                             // clears PDEATHSIG and dumpable:
//   BRICK_TRY(SetNonDumpable(sys));                          // so set both again after it
//   BRICK_TRY(SetParentDeathSignal(sys, expected_parent));
//   BRICK_TRY(ApplyFdHygiene(sys, fds));                     // last, just before execve
//
// The kernel resets the parent-death signal (and may reset dumpability) whenever the
// effective uid or gid changes, so both must be (re)applied after the id switch.
// execve makes the process dumpable again for an ordinary binary, which is what the
// container's own process should be.
#pragma once

#include <sys/types.h>

#include <span>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/isolation/idmap_alloc.h"
#include "brick/isolation/syscalls.h"

namespace brick::isolation {

struct FdHygienePlan {
  // fds 0..keep_through survive: stdio, --preserve-fds and LISTEN_FDS.
  int keep_through = 2;
  // Further fds to keep as they are (sorted, unique, all > keep_through).
  std::vector<int> extra_keep;
};

// preserve_fds: --preserve-fds N keeps 3..3+N-1. When `env` has LISTEN_FDS=N, 3..3+N-1
// are kept too and LISTEN_PID is set to 1 (the container's init) in `env`.
Result<FdHygienePlan> PlanFdHygiene(int preserve_fds, std::span<const int> extra_keep,
                                    std::vector<std::string>* env);

// Clears FD_CLOEXEC on 3..keep_through and sets it on every other fd except
// extra_keep, with close_range(CLOSE_RANGE_CLOEXEC) per gap, falling back to
// /proc/self/fd. Marking instead of closing keeps brick's own sync fd usable until
// the execve that closes them all.
Status ApplyFdHygiene(Syscalls& sys, const FdHygienePlan& plan);

// PR_SET_DUMPABLE 0: the container cannot ptrace the init or open its /proc files
// while it still holds host resources.
Status SetNonDumpable(Syscalls& sys);

// PR_SET_PDEATHSIG SIGKILL, then checks the parent is still alive: if it died before the
// prctl, the signal will never come. The check is `parent_pidfd` (a pidfd of the parent,
// opened by the parent before the clone; readable once the parent has exited) when given,
// which works across pid namespaces; else getppid() against `expected_parent` (in a new
// pid namespace the parent is outside it and getppid() is 0, which tells nothing).
// Any change of credentials clears the signal: set it again after each.
Status SetParentDeathSignal(Syscalls& sys, pid_t expected_parent, int parent_pidfd = -1);

// setsid(): without a terminal the container must not share the caller's session,
// or TIOCSTI could push input into the caller's terminal.
Status NewSession(Syscalls& sys);
// TIOCSCTTY on the pty slave (call after NewSession).
Status SetControllingTerminal(Syscalls& sys, int pty_slave_fd);

// True when the container's root could get write access to the runtime binary: there
// is no user namespace, or the binary's owner uid (or group gid) is mapped into it.
bool RuntimeBinaryWritableFromContainer(const IdMappingPlan& idmap, uid_t binary_owner,
                                        gid_t binary_group);

// Set in the environment of the re-executed copy so that it does not loop.
inline constexpr const char* kSealedReexecEnv = "_BRICK_SEALED_REEXEC";

// Whether kSealedReexecEnv is set in this process's environment.
bool SealedReexecMarkerSet();

// Whether /proc/self/exe is a memfd with the write seals (what ReexecFromSealedMemfd
// produces).
Result<bool> SelfIsSealedMemfd();

// Copies /proc/self/exe into a memfd, seals it (F_SEAL_SEAL|SHRINK|GROW|WRITE), adds
// kSealedReexecEnv=1 to envp and fexecve's it with argv. Returns only on failure; it
// refuses to run when the marker is already set. The container then only ever sees
// an immutable, unlinked copy through /proc/<pid>/exe.
Status ReexecFromSealedMemfd(char* const argv[], char* const envp[]);

}  // namespace brick::isolation
