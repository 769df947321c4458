// Where containers created with `brick create` are remembered between brick processes.
//
//   StateStore store("/run/brick");
//   auto c = BRICK_TRY_VALUE(store.Create("web1"));        // <root>/web1, locked
//   BRICK_TRY(c.Save(state));                                // atomic state.json
//   ...another process:
//   auto c = BRICK_TRY_VALUE(store.Open("web1"));            // waits for the lock
//   ContainerStatus s = StatusOf(c.Load().value(), c.dir());
//
// One directory per container holds state.json (written atomically: temp + rename) and
// exec.fifo while the container waits for `start`. Every command that reads or changes a
// container holds an flock on its directory, so concurrent calls on one container take
// turns, and a second create of the same id fails at mkdir.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
const char* ContainerStatusName(ContainerStatus s);

struct ContainerState {
  std::string id;
  pid_t pid = 0;                // the init, as the host sees it
  uint64_t pid_start_time = 0;  // field 22 of /proc/<pid>/stat, against pid reuse
  std::string bundle;
  std::string created;  // RFC 3339, UTC
  std::map<std::string, std::string> annotations;
  std::string cgroup_parent = "brick";
  std::string cgroups_path;         // linux.cgroupsPath as configured
  std::optional<uint32_t> id_slot;  // the host id range slot kept for this container
  bool paused = false;
  bool foreground = false;  // made by `brick run` without --detach: swept once stopped
  // The brick process that is creating the container, until the init is known: a create
  // killed midway leaves pid 0, and a dead creator then means "stopped", not "creating".
  pid_t creator_pid = 0;
  uint64_t creator_start_time = 0;
};

class ContainerDir {
 public:
  ContainerDir(std::string dir, UniqueFd lock) : dir_(std::move(dir)), lock_(std::move(lock)) {}
  const std::string& dir() const { return dir_; }
  std::string FifoPath() const { return dir_ + "/exec.fifo"; }
  std::string ConfigPath() const { return dir_ + "/config.json"; }

  Result<ContainerState> Load() const;
  Status Save(const ContainerState& state) const;
  // Removes the directory and everything in it.
  Status Remove();
  // Lets other brick commands at the container (a foreground run, once started).
  void Unlock() { lock_.reset(); }
  int lock_fd() const { return lock_.get(); }

 private:
  std::string dir_;
  UniqueFd lock_;  // flock(LOCK_EX) on the directory
};

class StateStore {
 public:
  explicit StateStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  // Makes <root>/<id>; "container ID already exists" if it is there.
  Result<ContainerDir> Create(const std::string& id) const;
  // Opens and locks <root>/<id>; "container ID does not exist" if it is not there.
  Result<ContainerDir> Open(const std::string& id) const;
  // Like Open, but nullopt at once when another brick holds the container's lock.
  Result<std::optional<ContainerDir>> TryOpen(const std::string& id) const;
  Result<std::vector<std::string>> List() const;
  // Removes directories without state.json whose lock is free: what a create killed between
  // mkdir and its first save leaves (a create in progress holds the lock).
  void RemoveAbandoned() const;
  // Removes what a create of `id` killed between its mkdir and its rename left: the hidden
  // staging directories ".new-<id>-<pid>" whose lock is free (delete --force).
  void RemoveStaging(const std::string& id) const;

 private:
  std::string root_;
};

// Decides the status from the state and the live system: the init must be alive with
// the recorded start time (a reused pid is "stopped"), and exec.fifo present means
// `start` has not happened yet.
ContainerStatus StatusOf(const ContainerState& state, const std::string& dir);

// Whether the recorded init still runs (alive, and with the recorded start time).
bool InitAlive(const ContainerState& state);

// Field 22 of /proc/<pid>/stat, or nullopt when the process does not exist.
std::optional<uint64_t> ProcessStartTime(pid_t pid);

// The OCI state JSON: {"ociVersion","id","status","pid","bundle","annotations"}.
std::string OciStateJson(const ContainerState& state, ContainerStatus status);

std::string NowRfc3339();

}  // namespace brick::runtime
