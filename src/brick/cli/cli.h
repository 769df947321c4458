// brick's command line: one file per subcommand, each parsing its arguments and
// calling one library entry point. Errors become "brick: <message>" on stderr and
// exit status 125, like podman's.
//
//   int main(int argc, char** argv) { return brick::cli::Main(argc, argv); }
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::cli {

inline constexpr int kErrorExit = 125;

// runc's global flags, which engines pass before the subcommand.
struct GlobalOptions {
  std::string root = "/run/brick";  // the state store (podman never passes --root)
  std::string log;                  // also append errors here
  std::string log_format = "text";  // text | json
  bool debug = false;
  bool systemd_cgroup = false;
  std::string rootless = "auto";
  std::string policy = "/etc/brick/policy.toml";  // host policy; enforced when the file exists
  std::vector<int> inherited_fds;                 // fds >= 3 open when brick started, sorted
};
GlobalOptions& Globals();

// Each subcommand registers its options and returns the action to run once parsed.
using Action = std::function<Result<int>()>;
Action RegisterRun(CLI::App& app);
Action RegisterSpec(CLI::App& app);
Action RegisterStats(CLI::App& app);
Action RegisterCreate(CLI::App& app);
Action RegisterStart(CLI::App& app);
Action RegisterState(CLI::App& app);
Action RegisterKill(CLI::App& app);
Action RegisterDelete(CLI::App& app);
Action RegisterList(CLI::App& app);
Action RegisterPs(CLI::App& app);
Action RegisterPause(CLI::App& app);
Action RegisterResume(CLI::App& app);
Action RegisterSeccomp(CLI::App& app);
Action RegisterProfile(CLI::App& app);
Action RegisterCheck(CLI::App& app);
Action RegisterExec(CLI::App& app);
Action RegisterUpdate(CLI::App& app);
Action RegisterEvents(CLI::App& app);
Action RegisterFeatures(CLI::App& app);

// Applies the host policy (--policy, default /etc/brick/policy.toml) to a config about
// to be created: refuses it when the policy file says so, else logs the warnings.
Status CheckHostPolicy(const oci::Spec& spec);

// Appends a warning to --log (and, with --debug, to stderr).
void LogWarning(const std::string& message);
// With --debug: appends a debug line to --log, or prints it on stderr without --log.
void LogDebug(const std::string& message);

// Refuses to pass fds 3..3+count-1 into a container unless brick was started with each
// of them open: otherwise brick's own fds (state locks, cgroup files) could land there.
// `what` names the flag or variable for the error.
Status CheckPassedFds(int count, const std::string& what);
// The number of socket-activation fds systemd passed to brick itself (LISTEN_FDS, when
// LISTEN_PID is unset or brick's pid), checked to be open; 0 without any.
Result<int> ListenFdsForBrick();

// The embedded busybox rootfs next to the binary (build/rootfs), or an error that says
// how to get it.
Result<std::string> DefaultRootfs();

int Main(int argc, char** argv);

}  // namespace brick::cli
