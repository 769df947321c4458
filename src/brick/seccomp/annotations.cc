#include "brick/seccomp/annotations.h"

namespace brick::seccomp {

Result<CompileOptions> CompileOptionsFromAnnotations(
    const std::map<std::string, std::string>& annotations) {
  CompileOptions opts;
  auto it = annotations.find(kAllowUnknownSyscallsAnnotation);
  if (it == annotations.end()) {
    return opts;
  }
  if (it->second != "true" && it->second != "false") {
    return Fail("annotations[\"{}\"]: \"{}\" is neither \"true\" nor \"false\"",
                kAllowUnknownSyscallsAnnotation, it->second);
  }
  opts.allow_unknown_syscalls = it->second == "true";
  return opts;
}

}  // namespace brick::seccomp
