#include "brick/cli/cli.h"

namespace brick::cli {

// Filled in by the issue that owns `brick check`.
Action RegisterCheck(CLI::App& app) {
  (void)app;
  return []() -> Result<int> { return Fail("brick check is not implemented yet"); };
}

}  // namespace brick::cli
