// What isolates the calling process, gathered from /proc, /sys, /dev and a few syscalls.
//
//   Value report = CollectReport();
//   fputs(report.ToJson().c_str(), stdout);        // brick-inspect --json
//   fputs(RenderHumanReport(report).c_str(), stdout);  // brick-inspect
//
// Collection never stops at the first failure: a section that cannot be read reports the
// errno name under "error" so that a hardened container still gets a full report.
#pragma once

#include <string>

#include "value.h"

namespace brick::inspect {

// Paths brick masks by default (docs/defaults.md), reported one by one.
extern const char* const kMaskedPaths[];
// Paths brick makes read-only by default.
extern const char* const kReadonlyPaths[];

Value CollectReport();

// The open fds as [{"fd": N, "target": ...}], leaving out the one used to list them.
Value OpenFds();

std::string RenderHumanReport(const Value& report);

}  // namespace brick::inspect
