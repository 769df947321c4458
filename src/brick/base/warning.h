// Warnings from the libraries: something went wrong that does not stop the operation
// (a leftover cgroup not swept, a poststop hook that failed).
//
//   Warn(fmt::format("poststop hook {} failed: {}", path, why));
//
// By default a warning is one line on stderr, "brick: warning: <message>". The command
// line replaces the sink so that warnings also reach --log, where engines read them.
#pragma once

#include <functional>
#include <string>

namespace brick {

using WarningSink = std::function<void(const std::string& message)>;

void Warn(const std::string& message);
// Replaces the sink for the rest of the process; an empty sink restores the default.
void SetWarningSink(WarningSink sink);

}  // namespace brick
