// The seccomp notify listener of a container: how it leaves the container init, and what
// brick does with it. Two users:
//   - `brick run --learn PROFILE.json`: the init installs the recording filter and brick
//     serves the listener itself, recording every syscall (seccomp/learn.h), then writes the
//     learned profile;
//   - linux.seccomp.listenerPath: the config has SCMP_ACT_NOTIFY rules and brick hands the
//     listener to the seccomp agent listening there, with the containerProcessState JSON
//     (OCI config-linux.md), at `brick run` or, for `brick create`, at `brick start`.
//
//   // parent, before anything changes (validates, replaces the filter when learning):
//   std::unique_ptr<ListenerHost> host = BRICK_TRY_VALUE(PrepareSeccompListener(req, &spec));
//   ...
//   if (host) host->ConfigurePlan(&plan.seccomp, &plan.listener);    // before the clone
//   // parent, on SyncMessage::kSeccompListener from the init:
//   BRICK_TRY(host->TakeFromInit(msg.payload, state_with_pid, child.pidfd(), check_init));
//   // parent, once the container has exited:
//   BRICK_TRY(host->Finish());                              // writes the learned profile
//
// The init's side is in seccomp_handoff.h. The hand-off makes no syscall under the filter. The
// listener is close-on-exec and only the init has it, so the init must not exec before the parent
// has taken it, yet any syscall it made to wait (read, futex, ...) would itself be filtered, and
// could be a notified call that waits for an agent that has no listener yet. So:
//   1. before installing, the init announces "N M": N, the lowest free fd number (where the
//      kernel will put the listener), and M, the number of a shared memfd page;
//   2. the init installs the filter, then spins on a word in that page, without syscalls;
//   3. the parent takes fd N out of the init with pidfd_getfd (retrying until it exists),
//      checks it is a seccomp notify fd, hands it on (learning thread or agent), and sets
//      the word; the init goes on to execve.
// An init left spinning (its parent died) gives up after roughly ten seconds of CPU time
// with an illegal instruction: it dies without a syscall and never runs the workload with
// a listener nobody holds.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/runtime/container.h"
#include "brick/runtime/seccomp_handoff.h"
#include "brick/runtime/state_store.h"
#include "brick/seccomp/event_log.h"
#include "brick/seccomp/filter.h"
#include "brick/seccomp/learn.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {

// True when the config hands a listener to an agent: listenerPath is set and some rule uses
// SCMP_ACT_NOTIFY. (Without a NOTIFY rule the spec says listenerPath is ignored.)
bool HandsListenerToAgent(const oci::Seccomp& seccomp);

// A shared, one-page memfd whose first word releases a spinning init.
class ReleaseWord {
 public:
  static Result<ReleaseWord> Create();
  // Maps a memfd taken out of an init (brick start); checks that it is brick's.
  static Result<ReleaseWord> Map(UniqueFd memfd);
  ReleaseWord(ReleaseWord&& other) noexcept;
  ReleaseWord& operator=(ReleaseWord&&) = delete;
  ~ReleaseWord();
  int fd() const { return fd_.get(); }
  const uint32_t* word() const { return word_; }
  void Release();

 private:
  ReleaseWord(UniqueFd fd, uint32_t* word) : fd_(std::move(fd)), word_(word) {}
  UniqueFd fd_;
  uint32_t* word_ = nullptr;
};

// Takes fd `number` out of the process behind `pidfd` with pidfd_getfd. EBADF means "not
// there yet": it retries until the fd exists, the process exits, or init_failed() returns
// an error (the init reported one).
Result<UniqueFd> TakeFdFromInit(int pidfd, int number, const std::function<Status()>& init_failed);

// The containerProcessState the agent receives (OCI config-linux.md): ociVersion,
// fds ["seccompFd"], pid, metadata, and the container's state.
std::string ContainerProcessStateJson(const ContainerState& state, ContainerStatus status,
                                      const std::string& metadata);

// Connects to listener_path (AF_UNIX, SOCK_STREAM), sends the JSON with the listener as
// SCM_RIGHTS in the first sendmsg, and closes the connection.
Status SendListenerToAgent(const std::string& listener_path, std::string_view state_json,
                           int listener_fd);

// What `brick run` does with a listener, for one container.
class ListenerHost {
 public:
  ~ListenerHost();
  ListenerHost(const ListenerHost&) = delete;
  ListenerHost& operator=(const ListenerHost&) = delete;

  // Sets the filter (the recording one when learning) and the init's hand-off plan.
  void ConfigurePlan(std::optional<seccomp::BpfProgram>* program, ListenerHandOffPlan* plan) const;

  // On the init's announcement: takes the listener and the init's memfd number from
  // `announcement`, starts serving it (learning) or sends it to the agent, then releases
  // the init. `state` is the container's state with its pid.
  Status TakeFromInit(std::string_view announcement, const ContainerState& state, int pidfd,
                      const std::function<Status()>& init_failed);

  // After the container exited: stops serving and, when learning, writes the profile
  // (merged with the existing file under --merge). Returns a one-line summary ("" if none).
  Result<std::string> Finish();

 private:
  friend Result<std::unique_ptr<ListenerHost>> PrepareSeccompListener(const RunRequest& req,
                                                                      oci::Spec* spec);
  explicit ListenerHost(ReleaseWord release) : release_(std::move(release)) {}
  void Serve();
  void StopServing();

  ReleaseWord release_;
  std::string container_id_;
  // Learning.
  bool learning_ = false;
  std::string learn_path_;
  std::string events_path_;
  seccomp::Observations merge_base_;
  // Agent.
  std::string listener_path_;
  std::string listener_metadata_;
  std::string notified_syscalls_;            // for the hand-off event
  std::optional<seccomp::EventLog> events_;  // learning: open while the thread serves
  // The learning thread: serves the listener until it hangs up or stop_ is signalled.
  UniqueFd listener_;
  UniqueFd stop_;  // eventfd
  std::thread server_;
  seccomp::RecordingSink sink_;
  Status serve_error_ = Ok();  // serving failed: the observations are incomplete
};

// Checks what `brick run --learn` and listenerPath need before anything is created and
// decides the filter: with req.learn_profile, the config's linux.seccomp is replaced by the
// recording filter (see docs/seccomp.md for why it is not stacked on the config's). Returns
// nullptr when the container has no listener.
Result<std::unique_ptr<ListenerHost>> PrepareSeccompListener(const RunRequest& req,
                                                             oci::Spec* spec);

// brick start, after the init's first byte on exec.fifo: when the container's config hands
// a listener to an agent, reads the init's announcement from the fifo, takes the listener
// and the release memfd out of the init, sends the listener to the agent (status
// "created"), logs the hand-off, and releases the init. On failure the init is killed: the
// spec wants an error, and the workload must not run without its agent.
// `spec` is the container's stored config.
Status HandOffListenerAtStart(const ContainerState& state, const oci::Spec& spec, int fifo_fd,
                              const std::string& events_log);

// <state_root>/events.jsonl: where brick writes seccomp events unless told otherwise.
std::string DefaultEventsLog(const std::string& state_root);

}  // namespace brick::runtime
