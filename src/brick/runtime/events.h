// What `brick events` prints: runc's event lines, one JSON object per line.
//
//   cgroup::Stats s = BRICK_TRY_VALUE(manager->ReadStats());
//   fmt::print("{}\n", StatsEventJson("web1", s));
//   // {"type":"stats","id":"web1","data":{"cpu":{"usage":{"total":...}},"memory":{...},...}}
//   fmt::print("{}\n", OomEventJson("web1"));            // {"type":"oom","id":"web1"}
//
//   auto every = BRICK_TRY_VALUE(ParseDuration("500ms"));   // --interval
//
// The data object has the shape of runc's types.Stats (the field names containerd and other
// callers decode), filled from what brick's cgroup reader has; fields brick cannot fill are
// left out or zero, as runc leaves them on a host without the controller.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "brick/base/error.h"
#include "brick/cgroup/stats.h"

namespace brick::runtime {

// {"type":"stats","id":ID,"data":{...}} on one line.
std::string StatsEventJson(const std::string& id, const cgroup::Stats& stats);
// {"type":"oom","id":ID} on one line.
std::string OomEventJson(const std::string& id);

// A Go duration, as runc's --interval takes it: "5s", "250ms", "1m30s", "1.5s", "100us".
// Must be positive; an error names the value and the expected form.
Result<std::chrono::nanoseconds> ParseDuration(std::string_view text);

}  // namespace brick::runtime
