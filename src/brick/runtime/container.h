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
  int preserve_fds = 0;    // fds 3 .. 3+N-1 pass into the container
  std::string cgroup_parent = "brick";
  std::string state_dir = "/run/brick";  // id-range leases live under <state_dir>/idmap
};

// Runs the container and returns the exit status brick should exit with.
Result<int> RunContainer(const RunRequest& request);

// Checks a container id: letters, digits, '_', '.', '-', not starting with '.' or '-'.
Status ValidateContainerId(const std::string& id);

// A random 12-hex-digit id.
std::string GenerateContainerId();

}  // namespace brick::runtime
