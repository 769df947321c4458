#include "brick/cli/cli.h"

namespace brick::cli {

// Filled in by the issue that owns `brick stats`.
Action RegisterStats(CLI::App& app) {
  (void)app;
  return []() -> Result<int> { return Fail("brick stats is not implemented yet"); };
}

}  // namespace brick::cli
