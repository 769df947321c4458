// The container's /dev: the minimal device set, linux.devices, links and the console.
//
//   DevPlan dev = BRICK_TRY_VALUE(PlanDevices(spec, in_user_namespace));   // parent
//   BRICK_TRY(PopulateDev(root.get(), dev));                                // child, pre-pivot
//
// Inside a user namespace the kernel refuses mknod of device nodes, so each node is
// a bind mount of the host's node, which is checked to be the device it claims to be.
// Outside one, nodes are made with mknodat relative to the resolved /dev fd.
#pragma once

#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::isolation {

struct DevPlan {
  bool populate = false;   // /dev is a fresh mount that brick fills
  bool in_user_namespace = false;
  std::vector<oci::Device> devices;  // the default set followed by linux.devices
};

// The devices every container gets: null, zero, full, random, urandom, tty.
std::vector<oci::Device> DefaultDevices();

Result<DevPlan> PlanDevices(const oci::Spec& spec, bool in_user_namespace);

// Creates the nodes and the fd, stdin, stdout, stderr and ptmx links.
Status PopulateDev(int root_fd, const DevPlan& plan);

// Opens a new pty pair on the container's devpts (root-anchored, pre-pivot), binds the
// peer onto /dev/console and returns {master, peer}.
struct Console {
  UniqueFd master;
  UniqueFd peer;
};
Result<Console> OpenConsole(int root_fd, uid_t uid, gid_t gid);

}  // namespace brick::isolation
