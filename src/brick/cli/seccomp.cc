#include "brick/cli/cli.h"

namespace brick::cli {

// Filled in by the issue that owns `brick seccomp`.
Action RegisterSeccomp(CLI::App& app) {
  (void)app;
  return []() -> Result<int> { return Fail("brick seccomp is not implemented yet"); };
}

}  // namespace brick::cli
