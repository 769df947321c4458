// Namespaces: which to create at clone, which to create in the child, which to join.
//
//   auto plan = BRICK_TRY_VALUE(PlanNamespaces(spec.linux));   // validates, opens path fds
//   pid_t pid = clone3(plan.clone_flags | ...);                  // parent
//   BRICK_TRY(JoinNamespacesInParent(plan, saved));              // parent, around the clone
//   BRICK_TRY(EnterTimeNamespace(plan));                          // child, early
//   BRICK_TRY(EnterCgroupNamespace(plan));                        // child, after placement
//
// The cgroup namespace is created by the child after the parent has placed it in its
// cgroup, so that the namespace's root is the container's own cgroup. The time
// namespace is created by the child too, so that its offsets can be written before
// the child moves itself into it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::isolation {

struct JoinedNamespace {
  oci::NamespaceType type;
  std::string path;
  UniqueFd fd;
};

struct NamespacePlan {
  int clone_flags = 0;          // CLONE_NEW* to pass to clone3
  int child_unshare_flags = 0;  // CLONE_NEW* the child unshares after joining a user ns
  bool new_user = false;
  bool new_cgroup = false;  // unshared by the child after cgroup placement
  bool new_time = false;    // unshared by the child, then entered via time_for_children
  bool new_net = false;
  bool new_uts = false;
  bool new_pid = false;
  bool new_mount = false;
  std::vector<JoinedNamespace> join_in_parent;  // everything joined except user
  UniqueFd join_user;                            // joined by the child, first
  std::map<std::string, oci::TimeOffset> time_offsets;
};

// Checks the namespace list against the kernel (every type must exist under
// /proc/self/ns), opens and verifies every path (it must be a namespace of the
// named type), and decides where each namespace is made or joined.
Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux);

// Parent side: joins the path namespaces for the duration of the clone. `restore`
// receives fds of the parent's own namespaces so RestoreParentNamespaces can return.
Status JoinNamespacesInParent(const NamespacePlan& plan, std::vector<JoinedNamespace>* restore);
Status RestoreParentNamespaces(std::vector<JoinedNamespace>* restore);

// Child side, first step: joins a user namespace given by path.
Status JoinUserNamespace(const NamespacePlan& plan);

// Child side: creates, writes the offsets of, and enters the time namespace.
Status EnterTimeNamespace(const NamespacePlan& plan);

// Child side, once the parent has placed it in its cgroup: unshares the cgroup
// namespace, whose root is then the container's own cgroup.
Status EnterCgroupNamespace(const NamespacePlan& plan);

// Writes uid_map and gid_map of `pid` (parent side; the parent is privileged).
Status WriteIdMappings(pid_t pid, const std::vector<oci::IdMapping>& uid_mappings,
                       const std::vector<oci::IdMapping>& gid_mappings);

// "0 100000 65536\n..." as the kernel wants it.
std::string FormatIdMap(const std::vector<oci::IdMapping>& mappings);

}  // namespace brick::isolation
