#include "brick/cli/cli.h"

namespace brick::cli {

// Filled in by the issue that owns `brick profile`.
Action RegisterProfile(CLI::App& app) {
  (void)app;
  return []() -> Result<int> { return Fail("brick profile is not implemented yet"); };
}

}  // namespace brick::cli
