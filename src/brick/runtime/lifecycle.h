// The runc-compatible lifecycle of containers made by `brick create`, on the state
// store: start, state, kill, delete, list, ps, pause, resume and update.
//
//   LifecycleOptions o{.state_root = "/run/brick"};
//   BRICK_TRY(StartContainer(o, "web1"));
//   BRICK_TRY(KillContainer(o, "web1", SIGTERM, /*all=*/false));
//   BRICK_TRY(UpdateContainer(o, "web1", resources));      // brick update
//   auto cg = BRICK_TRY_VALUE(OpenLiveContainerCgroup(o, "web1"));   // stats, events
//   BRICK_TRY(DeleteContainer(o, "web1", /*force=*/true));
//
// Error texts carry the phrases callers match on: "does not exist", "container not
// running", "operation not permitted".
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/cgroup/manager.h"
#include "brick/oci/spec.h"
#include "brick/runtime/state_store.h"

namespace brick::runtime {

struct LifecycleOptions {
  std::string state_root = "/run/brick";
};

// Lets a created container run: unblocks its init through exec.fifo.
Status StartContainer(const LifecycleOptions& o, const std::string& id);

struct ContainerInfo {
  ContainerState state;
  ContainerStatus status = ContainerStatus::kStopped;
};
Result<ContainerInfo> InspectContainer(const LifecycleOptions& o, const std::string& id);
Result<std::vector<ContainerInfo>> ListContainers(const LifecycleOptions& o);

// Sends `signal` to the init, or with `all` to every process in the container's cgroup.
Status KillContainer(const LifecycleOptions& o, const std::string& id, int signal, bool all);

// Removes a stopped (or, with force, any) container: processes, cgroup, id range, state.
// With force, an id that does not exist is not an error.
Status DeleteContainer(const LifecycleOptions& o, const std::string& id, bool force);

Result<std::vector<pid_t>> ContainerPids(const LifecycleOptions& o, const std::string& id);

// The cgroup of a created, running or paused container, where its state says it is: the
// linux.cgroupsPath it was created with, resolved against the cgroup parent it was created
// under. "container ID not running" once it has stopped. The manager does not own the
// cgroup (letting it go changes nothing).
Result<std::unique_ptr<cgroup::Manager>> OpenLiveContainerCgroup(const LifecycleOptions& o,
                                                                 const std::string& id);

// `brick update`: writes the fields of `resources` that are set into the cgroup of a created,
// running or paused container, holding the container's lock. Fields left unset keep their
// values, and a value the host cannot take changes nothing (the whole object is checked
// before the first write). resources.devices is ignored, as runc ignores it: device rules
// stay as create set them.
Status UpdateContainer(const LifecycleOptions& o, const std::string& id,
                       const oci::Resources& resources);

Status PauseContainer(const LifecycleOptions& o, const std::string& id);
Status ResumeContainer(const LifecycleOptions& o, const std::string& id);

// The existing cgroup of a container, found from its state (linux.cgroupsPath and the
// cgroup parent it was created with). The manager does not own the cgroup.
Result<std::unique_ptr<cgroup::Manager>> AdoptContainerCgroup(const ContainerState& state);

// "TERM", "SIGTERM", "15" → 15; anything outside 1..64 is an error naming the value.
Result<int> ParseSignal(std::string_view text);

}  // namespace brick::runtime
