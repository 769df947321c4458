#include <filesystem>

#include "brick/cli/cli.h"
#include "brick/oci/spec.h"
#include "brick/runtime/container.h"

namespace brick::cli {

Action RegisterCreate(CLI::App& app) {
  struct Flags {
    std::string bundle = ".";
    std::string console_socket;
    std::string pid_file;
    int preserve_fds = 0;
    bool no_pivot = false;
    bool no_new_keyring = false;
    std::string id;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("--bundle,-b", f->bundle, "The bundle directory (default: the current one)");
  app.add_option("--console-socket", f->console_socket,
                 "Unix socket that receives the pty master when process.terminal is set");
  app.add_option("--pid-file", f->pid_file, "Write the init's pid here");
  app.add_option("--preserve-fds", f->preserve_fds, "Pass fds 3..3+N-1 into the container");
  app.add_flag("--no-pivot", f->no_pivot, "Accepted for runc compatibility; brick always pivots");
  app.add_flag("--no-new-keyring", f->no_new_keyring, "Accepted for runc compatibility");
  app.add_option("id", f->id, "Container id")->required();
  return [f]() -> Result<int> {
    if (f->no_pivot) {
      return Fail(
          "--no-pivot: brick always uses pivot_root; chroot is not offered because it "
          "can be escaped");
    }
    runtime::RunRequest req;
    req.bundle_dir = std::filesystem::absolute(f->bundle).lexically_normal().string();
    while (req.bundle_dir.size() > 1 && req.bundle_dir.back() == '/') {
      req.bundle_dir.pop_back();
    }
    req.spec = BRICK_TRY_VALUE(oci::LoadSpecFile(req.bundle_dir + "/config.json"));
    BRICK_TRY(CheckHostPolicy(req.spec));
    req.id = f->id;
    if (req.spec.process && req.spec.process->terminal && f->console_socket.empty()) {
      return Fail(
          "process.terminal is true but no --console-socket was given: brick create "
          "returns before the container runs, so its pty must go to the caller's "
          "console socket; pass --console-socket PATH or set process.terminal to false");
    }
    req.listen_fds = BRICK_TRY_VALUE(ListenFdsForBrick());
    BRICK_TRY(CheckPassedFds(req.listen_fds + f->preserve_fds,
                             fmt::format("--preserve-fds {}", f->preserve_fds)));
    req.preserve_fds = f->preserve_fds;
    req.state_root = Globals().root;
    req.detach = true;
    req.console_socket = f->console_socket;
    req.pid_file = f->pid_file;
    return runtime::RunContainer(req);
  };
}

}  // namespace brick::cli
