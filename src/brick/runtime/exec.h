// `brick exec`: runs one more process inside a running container, with runc's meaning.
//
//   ExecRequest req;
//   req.state_root = "/run/brick";
//   req.id = "web1";
//   req.overrides.args = {"/bin/sh", "-c", "id"};     // or req.process from process.json
//   int status = BRICK_TRY_VALUE(ExecInContainer(req));   // its exit code, or 128+N
//
// The process joins every namespace of the container's init (through a pidfd of the
// init, checked against its recorded start time), is placed in the container's cgroup,
// and gets the container's seccomp filter, masked paths and mounts as they are. Its own
// settings (user, capabilities, rlimits, no_new_privs, cwd, env, terminal) come from
// process.json, or from the container's config.json with the command line's overrides.
//
// How: brick sets its pid_for_children to the init's pid namespace and clones; the
// child joins the user namespace and all others in one setns(pidfd, flags) (the kernel
// orders them: user first), so it never needs privileges it does not have inside.
// It stays non-dumpable until exec: the container's processes cannot ptrace it or open
// its /proc files while it still holds brick's fds.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::runtime {

// runc exec's flags that change the process taken from config.json.
struct ExecOverrides {
  std::vector<std::string> args;  // required without process.json
  std::vector<std::string> env;   // KEY=value, added to (or replacing in) the config's
  std::optional<std::string> cwd;
  std::optional<uint32_t> uid;  // --user uid[:gid]
  std::optional<uint32_t> gid;  // kept from the config when --user has no gid
  std::vector<uint32_t> additional_gids;
  std::vector<std::string> add_caps;  // --cap CAP_X: added to every capability set
  bool no_new_privs = false;          // --no-new-privs: set it even if the config does not
  bool tty = false;                   // --tty
};

// The exec'd process: the config's process with runc's overrides applied (pure).
Result<oci::Process> ExecProcessFromConfig(const oci::Process& base, const ExecOverrides& o);

struct ExecRequest {
  std::string state_root = "/run/brick";
  std::string id;
  std::optional<oci::Process> process;  // --process FILE; else from config + overrides
  ExecOverrides overrides;
  bool detach = false;         // return once the process runs; do not wait
  std::string console_socket;  // send the pty master here
  std::string pid_file;        // the process's host pid (bare decimal, atomic)
  int preserve_fds = 0;        // fds 3 .. 3+N-1 pass into the process
  // Checks the container's config with the exec'd process in it (the host policy):
  // exec must not grant what create would have refused.
  std::function<Status(const oci::Spec&)> policy;
};

// Foreground: the process's exit status (128+N for a signal). Detached: 0 once the
// process has exec'd.
Result<int> ExecInContainer(const ExecRequest& request);

}  // namespace brick::runtime
