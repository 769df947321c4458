#include <unistd.h>

#include <filesystem>

#include <fmt/core.h>

#include "brick/cli/cli.h"

#include <nlohmann/json.hpp>

#include "brick/policy/host_policy.h"
#include "brick/runtime/state_store.h"

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

GlobalOptions& Globals() {
  static GlobalOptions globals;
  return globals;
}

namespace {

// With --log-format json, callers (podman, containerd) read errors from --log: one JSON
// object per line.
void LogError(const std::string& message) {
  const GlobalOptions& g = Globals();
  if (g.log.empty()) {
    return;
  }
  std::string line;
  if (g.log_format == "json") {
    line = nlohmann::json{{"level", "error"}, {"msg", message}, {"time", runtime::NowRfc3339()}}
               .dump() + "\n";
  } else {
    line = fmt::format("{} error: {}\n", runtime::NowRfc3339(), message);
  }
  if (FILE* f = fopen(g.log.c_str(), "ae")) {
    fputs(line.c_str(), f);
    fclose(f);
  }
}

}  // namespace

void LogWarning(const std::string& message) {
  const GlobalOptions& g = Globals();
  if (g.debug) {
    fmt::print(stderr, "brick: warning: {}\n", message);
  }
  if (g.log.empty()) {
    return;
  }
  std::string line =
      g.log_format == "json"
          ? nlohmann::json{{"level", "warning"}, {"msg", message}, {"time", runtime::NowRfc3339()}}
                    .dump() + "\n"
          : fmt::format("{} warning: {}\n", runtime::NowRfc3339(), message);
  if (FILE* f = fopen(g.log.c_str(), "ae")) {
    fputs(line.c_str(), f);
    fclose(f);
  }
}

Status CheckHostPolicy(const oci::Spec& spec) {
  auto loaded = BRICK_TRY_VALUE(policy::LoadHostPolicy(Globals().policy));
  std::vector<std::string> warnings;
  BRICK_TRY(policy::EnforceHostPolicy(loaded.value_or(policy::WarnOnlyHostPolicy()), spec,
                                      &warnings),
            fmt::format("host policy {}", Globals().policy));
  for (const auto& w : warnings) {
    LogWarning(w);
  }
  return Ok();
}

int Main(int argc, char** argv) {
  CLI::App app{"brick: a container runtime where every layer of isolation is on by default"};
  app.set_version_flag("--version", fmt::format("brick version {}", BRICK_VERSION));
  app.require_subcommand(1);
  GlobalOptions& g = Globals();
  app.add_option("--root", g.root, "Directory for container state (default /run/brick)");
  app.add_option("--log", g.log, "Also append errors to this file");
  app.add_option("--log-format", g.log_format, "Format of --log: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "Log debug output");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "Use the systemd cgroup driver");
  app.add_option("--rootless", g.rootless, "Rootless mode: true, false or auto");
  app.add_option("--policy", g.policy,
                 "Host policy every container must pass (default /etc/brick/policy.toml)");
  app.allow_windows_style_options(false);
  std::vector<std::pair<CLI::App*, Action>> commands;
  auto add = [&](const char* name, const char* help, Action (*reg)(CLI::App&)) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands.emplace_back(sub, reg(*sub));
  };
  add("run", "Create and run a container in the foreground", RegisterRun);
  add("spec", "Print brick's default hardened config.json", RegisterSpec);
  add("stats", "Print a container's resource usage", RegisterStats);
  add("create", "Create a container and leave it waiting for start", RegisterCreate);
  add("start", "Start a created container", RegisterStart);
  add("state", "Print a container's OCI state", RegisterState);
  add("kill", "Send a signal to a container", RegisterKill);
  add("delete", "Delete a container", RegisterDelete);
  add("list", "List containers", RegisterList);
  add("ps", "List the processes of a container", RegisterPs);
  add("pause", "Freeze every process of a container", RegisterPause);
  add("resume", "Thaw a paused container", RegisterResume);
  add("exec", "Run another process in a running container", RegisterExec);
  add("seccomp", "Learn, explain and compare seccomp profiles", RegisterSeccomp);
  add("profile", "Check, compile and export one-file isolation profiles", RegisterProfile);
  add("check", "Audit a profile, config, bundle or running container", RegisterCheck);
  add("update", "Change the resource limits of a container", RegisterUpdate);
  add("events", "Print a container's stats and OOM events", RegisterEvents);
  add("features", "Print the OCI features brick implements (JSON)", RegisterFeatures);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kErrorExit;
  }
  if (g.systemd_cgroup) {
    std::string msg = "--systemd-cgroup: the systemd cgroup driver is not supported yet; leave "
                      "the flag out to use brick's cgroupfs driver";
    fmt::print(stderr, "brick: {}\n", msg);
    LogError(msg);
    return kErrorExit;
  }
  if (g.rootless == "true") {
    std::string msg = "--rootless true: rootless mode is not supported yet; run brick as root";
    fmt::print(stderr, "brick: {}\n", msg);
    LogError(msg);
    return kErrorExit;
  }
  for (auto& [sub, action] : commands) {
    if (sub->parsed()) {
      auto result = action();
      if (!result) {
        fmt::print(stderr, "brick: {}\n", result.error().message());
        LogError(result.error().message());
        return kErrorExit;
      }
      return *result;
    }
  }
  return kErrorExit;
}

}  // namespace brick::cli
