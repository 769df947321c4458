// OCI hooks: programs the config asks the runtime to run at points of the lifecycle, each
// given the container's state JSON on stdin.
//
//   std::string state = OciStateJson(s, ContainerStatus::kCreating);
//   BRICK_TRY(RunHooks(spec.hooks.create_runtime, "createRuntime", state));
//
// Where brick runs each list (runtime.md, "Lifecycle"; config.md, "POSIX-platform Hooks"):
//   prestart, createRuntime   the parent, in the runtime namespaces, once the init has set up
//                             its mounts and before pivot_root; status "creating"
//   createContainer           the init, in the container's namespaces, before pivot_root
//   startContainer            the init, after `start` and before the user's program
//   poststart                 the parent (`start`, or `run`) once the program runs
//   poststop                  `delete` (or the end of `run`) after the container is gone
// A failing hook of any list but poststop fails the operation and stops the container;
// poststop failures are warnings. Each hook gets exactly its own env, stdin is the state,
// and its stdout and stderr are kept (the last 4 KiB) for the error message. A hook's
// `timeout` is honoured by killing it. No fd of brick reaches a hook.
#pragma once

#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::runtime {

// Runs `hooks` in order; the first failure stops the list. `list` names it in errors
// ("hooks.createRuntime[1] /usr/bin/x: exited with status 3: ...").
Status RunHooks(const std::vector<oci::Hook>& hooks, const std::string& list,
                const std::string& state_json);

// The same, but a failure becomes a warning line in *warnings and the rest still run
// (poststop).
void RunHooksWarnOnly(const std::vector<oci::Hook>& hooks, const std::string& list,
                      const std::string& state_json, std::vector<std::string>* warnings);

// The state JSON with "status" replaced (the init gets it once and reuses it).
std::string StateJsonWithStatus(const std::string& state_json, const std::string& status);

}  // namespace brick::runtime
