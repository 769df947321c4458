// One-shot probes run inside a container: each tries one thing and prints one
// machine-readable line, "ok" or "errno ENAME", so that tests can assert the exact
// result of an operation that isolation should stop.
//
//   brick-inspect open /dev/sda r        -> errno ENOENT
//   brick-inspect syscall kexec_load     -> errno EPERM
//   brick-inspect write /etc/x data      -> errno EROFS
//
// A probe exits 0 whatever the operation's result; it exits 2 (with usage on stderr) only
// when the probe itself is malformed, and `exit`, `kill-self` and `int80` end the process
// as asked.
#pragma once

#include <string>
#include <vector>

namespace brick::inspect {

// True when name is a probe subcommand.
bool IsProbe(const std::string& name);

// Runs the probe args[0] with its arguments; returns the process exit status.
int RunProbe(const std::vector<std::string>& args);

// The usage text listing every probe.
const char* ProbeUsage();

// The names in the syscall probe's table, for tests and usage.
std::vector<std::string> ProbeSyscallNames();

}  // namespace brick::inspect
