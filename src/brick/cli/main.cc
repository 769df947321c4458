#include <unistd.h>

#include <filesystem>

#include <fmt/core.h>

#include "brick/cli/cli.h"

namespace brick::cli {

Result<std::string> DefaultRootfs() {
  // A brick re-executed from a sealed copy of itself no longer knows its own path.
  const char* original = getenv("BRICK_ORIGINAL_EXE");
  std::error_code ec;
  std::filesystem::path exe =
      original ? std::filesystem::path(original) : std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return Fail("find the brick binary through /proc/self/exe: {}", ec.message());
  }
  auto rootfs = exe.parent_path() / "rootfs";
  if (!std::filesystem::is_directory(rootfs / "bin", ec)) {
    return Fail("the embedded rootfs is missing at {}; build it with `cmake --build build` or pass "
                "--rootfs DIR",
                rootfs.string());
  }
  return rootfs.string();
}

int Main(int argc, char** argv) {
  CLI::App app{"brick: a container runtime where every layer of isolation is on by default"};
  app.set_version_flag("--version", fmt::format("brick version {}", BRICK_VERSION));
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, Action>> commands;
  auto add = [&](const char* name, const char* help, Action (*reg)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands.emplace_back(sub, reg(*sub));
  };
  add("run", "Create and run a container in the foreground", RegisterRun);
  add("spec", "Print brick's default hardened config.json", RegisterSpec);
  add("stats", "Print a container's resource usage", RegisterStats);
  add("seccomp", "Learn, explain and compare seccomp profiles", RegisterSeccomp);
  add("profile", "Check, compile and export one-file isolation profiles", RegisterProfile);
  add("check", "Audit a profile, config, bundle or running container", RegisterCheck);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kErrorExit;
  }
  for (auto& [sub, action] : commands) {
    if (sub->parsed()) {
      auto result = action();
      if (!result) {
        fmt::print(stderr, "brick: {}\n", result.error().message());
        return kErrorExit;
      }
      return *result;
    }
  }
  return kErrorExit;
}

}  // namespace brick::cli
