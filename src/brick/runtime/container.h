// Running one container in the foreground: validate, plan, create, wait, clean up.
//
//   RunRequest req;
//   req.spec = BRICK_TRY_VALUE(oci::LoadSpecFile("bundle/config.json"));
//   req.bundle_dir = "bundle";
//   req.id = "web1";
//   int status = BRICK_TRY_VALUE(RunContainer(req));   // the process's exit code, or 128+N
//
// Everything that can be checked is checked before the first syscall that changes
// the system. After that, every resource (cgroup, id range, child) is owned by an
// object that undoes itself, so an error anywhere leaves nothing behind.
#pragma once

#include <string>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::runtime {

struct RunRequest {
  oci::Spec spec;
  std::string bundle_dir;  // base for relative root.path and mount sources
  std::string id;          // container id: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 bytes
  // fds 3 .. 3+L-1 that systemd passed to brick itself (LISTEN_FDS, as runc): they reach
  // the container with LISTEN_FDS=L and LISTEN_PID=1. --preserve-fds N follow them.
  int listen_fds = 0;
  int preserve_fds = 0;  // fds 3+L .. 3+L+N-1 pass into the container
  std::string cgroup_parent = "brick";
  std::string state_root = "/run/brick";  // the state store; id-range leases in <root>/.idmap
  // create: set everything up, leave the init waiting for `brick start`, and return 0.
  bool detach = false;
  std::string console_socket;  // send the pty master here instead of proxying it
  std::string pid_file;        // write the init's host pid here (bare decimal, atomic)
  // --learn: run under a recording filter instead of linux.seccomp and write the learned
  // allow-list here when the container exits (foreground only; see seccomp_agent.h).
  std::string learn_profile;
  bool learn_merge = false;  // --merge: union with the profile already at learn_profile
  std::string events_log;    // seccomp events; "" = <state_root>/events.jsonl
};

// Runs the container. In the foreground it returns the exit status brick should exit
// with; detached (create) it returns 0 once the container waits for `brick start`.
Result<int> RunContainer(const RunRequest& request);

// Checks a container id: letters, digits, '_', '.', '-', not starting with '.' or '-'.
Status ValidateContainerId(const std::string& id);

// A random 12-hex-digit id.
std::string GenerateContainerId();

}  // namespace brick::runtime
