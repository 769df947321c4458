// brick spec: runc's meaning (a config.json for a bundle), with brick's hardened defaults.
#include "brick/oci/spec.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <filesystem>

#include "brick/cli/cli.h"
#include "brick/runtime/default_spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::cli {

Action RegisterSpec(CLI::App& app) {
  struct Flags {
    std::string bundle = ".";
    std::string rootfs = "rootfs";
    bool embedded = false;
    bool to_stdout = false;
    bool rootless = false;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("-b,--bundle", f->bundle, "Write config.json into this directory (default: .)");
  app.add_option("--rootfs", f->rootfs, "root.path of the config (default: rootfs, as runc)");
  app.add_flag("--embedded-rootfs", f->embedded,
               "Use the busybox rootfs brick embeds (build/rootfs) as root.path");
  app.add_flag("--stdout", f->to_stdout, "Print the config instead of writing config.json");
  app.add_flag("--rootless", f->rootless, "A config for rootless containers (not supported)");
  return [f]() -> Result<int> {
    if (f->rootless) {
      return Fail("spec --rootless: rootless mode is not supported yet; run brick as root");
    }
    runtime::DefaultSpecOptions o;
    o.rootfs = f->embedded ? BRICK_TRY_VALUE(DefaultRootfs()) : f->rootfs;
    oci::Spec spec = BRICK_TRY_VALUE(runtime::BuildDefaultSpec(o));
    std::string json = oci::SerializeSpec(spec) + "\n";
    if (f->to_stdout) {
      fmt::print("{}", json);
      return 0;
    }
    // As runc: never overwrite a config someone wrote. O_EXCL also refuses a symlink.
    std::string path = (std::filesystem::path(f->bundle) / "config.json").string();
    UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
      if (errno == EEXIST) {
        return Fail("{} exists already; remove it first, or print the config with --stdout", path);
      }
      return ErrnoFail(errno, "create {}", path);
    }
    size_t done = 0;
    while (done < json.size()) {
      ssize_t n = write(fd.get(), json.data() + done, json.size() - done);
      if (n < 0) {
        int err = errno;
        (void)unlink(path.c_str());  // no half-written config left behind
        return ErrnoFail(err, "write {}", path);
      }
      done += static_cast<size_t>(n);
    }
    return 0;
  };
}

}  // namespace brick::cli
