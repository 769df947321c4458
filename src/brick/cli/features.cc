// `brick features`: the OCI features structure (runtime/features.h) on stdout.
#include "brick/runtime/features.h"

#include <fmt/core.h>

#include "brick/cli/cli.h"

namespace brick::cli {

Action RegisterFeatures(CLI::App&) {
  return []() -> Result<int> {
    runtime::FeaturesOptions o;
    o.brick_version = BRICK_VERSION;
    fmt::print("{}\n", BRICK_TRY_VALUE(runtime::FeaturesJson(o)));
    return 0;
  };
}

}  // namespace brick::cli
