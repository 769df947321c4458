#include <fmt/core.h>

#include "brick/cli/cli.h"
#include "brick/oci/spec.h"
#include "brick/runtime/default_spec.h"

namespace brick::cli {

Action RegisterSpec(CLI::App& app) {
  auto rootfs = std::make_shared<std::string>();
  app.add_option("--rootfs", *rootfs, "root.path to write (default: the embedded rootfs)");
  return [rootfs]() -> Result<int> {
    runtime::DefaultSpecOptions o;
    o.rootfs = rootfs->empty() ? BRICK_TRY_VALUE(DefaultRootfs()) : *rootfs;
    oci::Spec spec = BRICK_TRY_VALUE(runtime::BuildDefaultSpec(o));
    fmt::print("{}\n", oci::SerializeSpec(spec));
    return 0;
  };
}

}  // namespace brick::cli
