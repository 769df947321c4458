// Learning mode: run a workload under a recording filter and write the allow-list it needs.
//
//   LearnOptions opts;
//   opts.argv = {"/bin/sh", "-c", "echo hi; ls /"};
//   opts.rootfs = "/work/main/build/rootfs";            // optional chroot
//   auto run = LearnSyscalls(opts);                     // runs it, stdio inherited
//   if (!run) return std::unexpected(run.error());
//   Observations seen = run->observed;
//   if (merge) seen.Merge(BRICK_TRY_VALUE(ObservationsFromProfile(existing)));
//   oci::Seccomp profile = ProfileFromObservations(seen);
//
// How: the child installs a filter whose every native syscall returns SECCOMP_RET_USER_NOTIF;
// the parent receives each notification, records the number and the cheap-to-filter
// arguments (socket family and type, clone namespace flags, personality), and answers
// SECCOMP_USER_NOTIF_FLAG_CONTINUE so the kernel runs the call as if unfiltered. Why not
// SECCOMP_RET_LOG: it needs the audit log or kernel log (host-global, rate-limited, lossy)
// and records no arguments. Why not ptrace: it stops every syscall twice, conflicts with
// workloads that trace or are traced, and changes what the workload sees. CONTINUE's known
// race (the arguments can change after the check) matters for enforcement, not recording.
//
// The hand-off cannot deadlock: the child finds the lowest free fd number (where the kernel
// will put the listener), sends it over a pipe *before* installing the filter, installs, and
// execs at once. Its execve is the first notification and waits; meanwhile the parent takes
// the listener out of the child with pidfd_getfd and checks it is a seccomp notify fd. The
// only syscall the learner makes under the filter is that execve, which any enforced profile
// must allow anyway, so nothing of the learner is blamed on the workload. clone3 gets ENOSYS
// during learning (as under brick's default) so that the workload's real clone flags are seen.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/seccomp/event_log.h"
#include "brick/seccomp/filter.h"

namespace brick::seccomp {

struct Observations {
  std::set<std::string> syscalls;  // names of native syscalls made
  std::set<int> unnamed;           // numbers libseccomp cannot name (newer kernels)
  // socket/socketpair: family -> socket types (arg1 & 0xf) seen.
  std::map<std::string, std::map<uint32_t, std::set<uint32_t>>> socket_families;
  bool clone_namespace_flags = false;  // a clone asked for a CLONE_NEW* flag
  std::set<uint32_t> personalities;    // low 32 bits of personality's argument

  void Merge(const Observations& other);
};

struct LearnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::string rootfs;             // chroot here first (empty: run on the host)
  // Also log every notification as an event with action "learn" (optional).
  EventLog* events = nullptr;
  std::string container_id = "learn";
};

struct LearnResult {
  Observations observed;
  int wait_status = 0;  // of the workload's first process
  uint64_t notifications = 0;
};

Result<LearnResult> LearnSyscalls(const LearnOptions& opts);

// The pieces of LearnSyscalls, for runtimes that install the recording filter themselves
// (`brick run --learn` does, in the container init):

// Every native syscall returns SECCOMP_RET_USER_NOTIF, except clone3 (ENOSYS, so that libc
// falls back to clone and its flags are seen); other ABIs kill the process.
std::vector<sock_filter> RecordingFilter();

// RecordingFilter ready for InstallFilter: SECCOMP_FILTER_FLAG_NEW_LISTENER, needs_listener.
BpfProgram RecordingProgram();

// Adds what one notification shows to `seen`. True when its syscall was not seen before.
bool Record(const seccomp_notif& notif, Observations* seen);

// True when fd is a seccomp notify listener ("anon_inode:seccomp notify").
bool IsSeccompNotifyFd(int fd);

// Where RecordAndContinue puts what it sees.
struct RecordingSink {
  Observations observed;
  uint64_t notifications = 0;
  EventLog* events = nullptr;  // optional: each notification (or each new syscall) as an event
  std::string container_id;
  bool log_every_call = true;  // false: only a syscall's first notification is logged
  // Set when the event log could not be written; logging then stops, recording goes on.
  std::optional<Error> log_error;
};

// Receives one notification from `listener` (call it when the fd is readable), records it and
// answers SECCOMP_USER_NOTIF_FLAG_CONTINUE so that the kernel runs the call unchanged. A
// caller killed in between is not an error, and neither is an event log that cannot be
// written (see RecordingSink::log_error): the workload is waiting for the answer.
Status RecordAndContinue(int listener, RecordingSink* sink);

// The minimal allow-list for what was seen: default EPERM, native x86_64 only, the observed
// syscalls, socket/socketpair only with the seen families (and types for INET/INET6), clone
// only without namespace flags unless some were seen, personality only with the seen values,
// clone3 ENOSYS, and every other syscall libseccomp knows listed as EPERM (so the profile
// states its horizon; the compiler gives newer ones ENOSYS).
oci::Seccomp ProfileFromObservations(const Observations& seen);

// Reads a profile written by ProfileFromObservations (or any allow-list) back into
// observations, for --merge. Rules it does not understand give an error naming them.
Result<Observations> ObservationsFromProfile(const oci::Seccomp& profile);

}  // namespace brick::seccomp
