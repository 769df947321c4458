// Everything the container init needs, decided and validated in the parent before
// the clone. The child only executes this plan; it makes no decisions of its own.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "brick/cgroup/self_placement.h"
#include "brick/isolation/caps.h"
#include "brick/isolation/devices.h"
#include "brick/isolation/hygiene.h"
#include "brick/isolation/lsm.h"
#include "brick/isolation/mounts.h"
#include "brick/isolation/namespaces.h"
#include "brick/isolation/process_user.h"
#include "brick/isolation/rlimits.h"
#include "brick/isolation/sysctl.h"
#include "brick/oci/spec.h"
#include "brick/runtime/seccomp_handoff.h"
#include "brick/runtime/secrets.h"
#include "brick/seccomp/filter.h"

namespace brick::runtime {

struct ProcessPlan {
  isolation::UtsPlan uts;
  isolation::ExecStrings argv;
  isolation::ExecStrings envp;
  std::string cwd = "/";
  mode_t umask = 022;
  std::optional<int> oom_score_adj;
  std::optional<std::string> path_env;  // PATH from the process env, for the exec lookup
};

struct ContainerPlan {
  const oci::Spec* spec = nullptr;
  std::string id;
  isolation::NamespacePlan ns;
  isolation::RootfsPlan rootfs;
  isolation::DevPlan dev;
  isolation::CapsPlan caps;
  isolation::IdsPlan ids;
  isolation::RlimitsPlan rlimits;
  isolation::SysctlPlan sysctl;
  isolation::LsmPlan lsm;
  std::optional<ProcessPlan> process;  // optional only because ExecStrings has no default
  std::optional<seccomp::BpfProgram> seccomp;
  ListenerHandOffPlan listener;  // the filter's notify listener goes to the parent
  bool no_new_privileges = false;
  bool terminal = false;
  bool detached = false;  // created by `brick create`: wait on exec_fifo before the last steps
  int exec_fifo = -1;     // O_PATH fd of <state>/exec.fifo, inherited from the parent
  // Lock fds of the parent (state directory, id range) that the init must drop at once:
  // a detached init would otherwise hold the parent's locks until it execs.
  std::vector<int> close_in_child;
  // The init moves itself into its v1 cgroups first thing (self_placement.h); owned by
  // the parent, set just before the clone.
  const cgroup::SelfPlacement* cgroup_placement = nullptr;
  std::vector<Secret> secrets;  // read by the parent, written into /run/secrets by the init
  isolation::FdHygienePlan fds;
  pid_t expected_parent = 0;  // what getppid() returns in the init (0 across a pid ns)
  int parent_pidfd = -1;      // brick's own pidfd, inherited: tells the init brick died
  // OCI hooks (hooks.h). With any create or startContainer hook, the init stops before
  // pivot_root for the parent's prestart/createRuntime hooks and gets the state JSON.
  bool hooks_barrier = false;
  std::vector<oci::Hook> create_container_hooks;
  std::vector<oci::Hook> start_container_hooks;
  bool root_mapped = true;  // container uid 0 exists in the user namespace
};

}  // namespace brick::runtime
