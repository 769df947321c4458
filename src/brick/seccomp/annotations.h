// Config annotations that change how brick compiles a container's seccomp profile. They travel
// with the config, so `brick create`/`start`, `brick run --bundle` and `brick exec` (which reads
// the saved config) all compile the profile the same way.
//
//   "annotations": {"run.brick.seccomp.allow-unknown": "true"}
//
//   CompileOptions opts = BRICK_TRY_VALUE(CompileOptionsFromAnnotations(spec.annotations));
//   auto program = FilterCache().Compile(*spec.linux.seccomp, opts);
#pragma once

#include <map>
#include <string>

#include "brick/base/error.h"
#include "brick/seccomp/filter.h"

namespace brick::seccomp {

// "true": syscall names libseccomp does not know are dropped with a warning instead of failing
// the container (CompileOptions::allow_unknown_syscalls). "false" or absent: they are errors.
// Named like brick's other annotations (run.brick.userns, run.brick.secrets).
inline constexpr const char* kAllowUnknownSyscallsAnnotation = "run.brick.seccomp.allow-unknown";

// The compile options the annotations ask for; an error names an annotation with a value
// other than "true" or "false".
Result<CompileOptions> CompileOptionsFromAnnotations(
    const std::map<std::string, std::string>& annotations);

}  // namespace brick::seccomp
