#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "brick/base/strings.h"
#include "brick/base/warning.h"
#include "brick/cli/cli.h"
#include "brick/policy/host_policy.h"
#include "brick/runtime/state_store.h"
#include "brick/sys/unique_fd.h"

namespace brick::cli {

Result<std::string> DefaultRootfs() {
  // A brick re-executed from a sealed copy of itself no longer knows its own path.
  const char* original = getenv("BRICK_ORIGINAL_EXE");
  std::error_code ec;
  std::filesystem::path exe = original ? std::filesystem::path(original)
                                       : std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return Fail("find the brick binary through /proc/self/exe: {}", ec.message());
  }
  auto rootfs = exe.parent_path() / "rootfs";
  if (!std::filesystem::is_directory(rootfs / "bin", ec)) {
    return Fail(
        "the embedded rootfs is missing at {}; build it with `cmake --build build` or pass "
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

// One line for --log: a JSON object with --log-format json (what podman and containerd
// parse), else "<time> <level>: <message>".
std::string LogLine(const char* level, const std::string& message) {
  return Globals().log_format == "json"
             ? nlohmann::json{{"level", level}, {"msg", message}, {"time", runtime::NowRfc3339()}}
                       .dump() +
                   "\n"
             : fmt::format("{} {}: {}\n", runtime::NowRfc3339(), level, message);
}

void WriteToLog(const std::string& text) {
  if (Globals().log.empty() || text.empty()) {
    return;
  }
  // One write(2) with O_APPEND, so lines of concurrent bricks never mix.
  UniqueFd fd(open(Globals().log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (fd) {
    (void)!write(fd.get(), text.data(), text.size());
  }
}

// Warning and debug lines of a JSON log wait for the command's end: podman reads the
// log of a failed create as one JSON object, so a failure must leave exactly its error
// line there. A command that succeeds writes them all.
std::string& PendingJsonLines() {
  static std::string pending;
  return pending;
}

void AppendToLog(const char* level, const std::string& message) {
  if (Globals().log.empty()) {
    return;
  }
  if (Globals().log_format == "json") {
    PendingJsonLines() += LogLine(level, message);
    return;
  }
  WriteToLog(LogLine(level, message));
}

void LogError(const std::string& message) {
  PendingJsonLines().clear();  // they stay on stderr, where warnings also go
  WriteToLog(LogLine("error", message));
}

// The global flags before the subcommand, read before CLI11 parses: --log and
// --log-format, so that a command line CLI11 rejects is still reported in the log the
// caller reads. Returns the subcommand's name ("" when there is none).
std::string ScanGlobalArgs(int argc, char** argv) {
  GlobalOptions& g = Globals();
  constexpr std::string_view kWithValue[] = {"--root", "--log", "--log-format", "--rootless",
                                             "--policy"};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (!a.starts_with("-")) {
      return std::string(a);
    }
    for (auto [flag, field] : {std::pair{std::string_view("--log"), &g.log},
                               std::pair{std::string_view("--log-format"), &g.log_format}}) {
      if (a == flag && i + 1 < argc) {
        *field = argv[i + 1];
      } else if (a.size() > flag.size() && a.starts_with(flag) && a[flag.size()] == '=') {
        *field = std::string(a.substr(flag.size() + 1));
      }
    }
    if (std::find(std::begin(kWithValue), std::end(kWithValue), a) != std::end(kWithValue)) {
      ++i;
    }
  }
  return "";
}

// The fds above stdio that brick was started with, before it opens any of its own.
std::vector<int> InheritedFds() {
  std::vector<int> fds;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) {
    return fds;  // no /proc: nothing can be shown to be passed, so nothing is preserved
  }
  int own = dirfd(dir);
  while (const dirent* e = readdir(dir)) {
    auto fd = ParseI64(e->d_name);
    if (fd && *fd >= 3 && *fd != own) {
      fds.push_back(static_cast<int>(*fd));
    }
  }
  closedir(dir);
  std::sort(fds.begin(), fds.end());
  return fds;
}

}  // namespace

void LogWarning(const std::string& message) {
  if (Globals().debug) {
    fmt::print(stderr, "brick: warning: {}\n", message);
  }
  AppendToLog("warning", message);
}

void LogDebug(const std::string& message) {
  if (!Globals().debug) {
    return;
  }
  if (Globals().log.empty()) {
    fmt::print(stderr, "brick: debug: {}\n", message);
  }
  AppendToLog("debug", message);
}

Status CheckPassedFds(int count, const std::string& what) {
  const std::vector<int>& inherited = Globals().inherited_fds;
  for (int fd = 3; fd < 3 + count; ++fd) {
    if (!std::binary_search(inherited.begin(), inherited.end(), fd)) {
      return Fail(
          "{}: fd {} was not passed to brick, so it cannot pass it on (brick's own fds "
          "never reach the container); pass only fds that are open, {} of them here",
          what, fd, fd - 3);
    }
  }
  return Ok();
}

Result<int> ListenFdsForBrick() {
  const char* fds = getenv("LISTEN_FDS");
  if (fds == nullptr || *fds == '\0') {
    return 0;
  }
  // sd_listen_fds(3): the fds are meant for LISTEN_PID; a stale variable inherited from a
  // socket-activated parent is not ours.
  const char* pid = getenv("LISTEN_PID");
  if (pid != nullptr && *pid != '\0' && ParseI64(pid) != static_cast<int64_t>(getpid())) {
    return 0;
  }
  auto n = ParseI64(fds);
  if (!n || *n < 0 || *n > 1024) {
    return Fail("LISTEN_FDS={} in brick's environment is not a number of fds (0-1024)", fds);
  }
  BRICK_TRY(CheckPassedFds(static_cast<int>(*n), fmt::format("LISTEN_FDS={}", *n)));
  return static_cast<int>(*n);
}

Status CheckHostPolicy(const oci::Spec& spec) {
  auto loaded = BRICK_TRY_VALUE(policy::LoadHostPolicy(Globals().policy));
  std::vector<std::string> warnings;
  BRICK_TRY(
      policy::EnforceHostPolicy(loaded.value_or(policy::WarnOnlyHostPolicy()), spec, &warnings),
      fmt::format("host policy {}", Globals().policy));
  for (const auto& w : warnings) {
    LogWarning(w);
  }
  return Ok();
}

int Main(int argc, char** argv) {
  GlobalOptions& g = Globals();
  g.inherited_fds = InheritedFds();
  std::string named = ScanGlobalArgs(argc, argv);
  CLI::App app{"brick: a container runtime where every layer of isolation is on by default"};
  app.set_version_flag("--version", fmt::format("brick version {}", BRICK_VERSION));
  app.require_subcommand(1);
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
  struct Command {
    const char* name;
    const char* help;
    Action (*reg)(CLI::App&);
  };
  static const Command kCommands[] = {
      {"run", "Create and run a container in the foreground", RegisterRun},
      {"spec", "Write brick's default hardened config.json for a bundle", RegisterSpec},
      {"stats", "Print a container's resource usage", RegisterStats},
      {"create", "Create a container and leave it waiting for start", RegisterCreate},
      {"start", "Start a created container", RegisterStart},
      {"state", "Print a container's OCI state", RegisterState},
      {"kill", "Send a signal to a container", RegisterKill},
      {"delete", "Delete a container", RegisterDelete},
      {"list", "List containers", RegisterList},
      {"ps", "List the processes of a container", RegisterPs},
      {"pause", "Freeze every process of a container", RegisterPause},
      {"resume", "Thaw a paused container", RegisterResume},
      {"exec", "Run another process in a running container", RegisterExec},
      {"seccomp", "Learn, explain and compare seccomp profiles", RegisterSeccomp},
      {"profile", "Check, compile and export one-file isolation profiles", RegisterProfile},
      {"check", "Audit a profile, config, bundle or running container", RegisterCheck},
      {"update", "Change the resource limits of a container", RegisterUpdate},
      {"events", "Print a container's stats and OOM events", RegisterEvents},
      {"features", "Print the OCI features brick implements (JSON)", RegisterFeatures},
  };
  // Registering every subcommand's options with CLI11 is most of brick's own start-up
  // (callgrind: 70% of `brick --version`); engines call brick several times per
  // container, so only the named subcommand is registered. Help and unknown names get
  // them all.
  bool known = std::any_of(std::begin(kCommands), std::end(kCommands),
                           [&](const Command& c) { return named == c.name; });
  std::vector<std::pair<CLI::App*, Action>> commands;
  for (const Command& c : kCommands) {
    if (known && named != c.name) {
      continue;
    }
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    commands.emplace_back(sub, c.reg(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    if (code != 0) {
      LogError(fmt::format("command line: {}", e.what()));
    }
    return code == 0 ? 0 : kErrorExit;
  }
  // Library warnings reach the caller's log too, and stay on stderr for a person.
  SetWarningSink([](const std::string& message) {
    fmt::print(stderr, "brick: warning: {}\n", message);
    AppendToLog("warning", message);
  });
  if (g.debug) {
    std::string line = fmt::format("brick {} (pid {}):", BRICK_VERSION, getpid());
    for (int i = 0; i < argc; ++i) {
      line += fmt::format(" {}", argv[i]);
    }
    LogDebug(line);
  }
  if (g.systemd_cgroup) {
    std::string msg =
        "--systemd-cgroup: the systemd cgroup driver is not supported yet; leave "
        "the flag out to use brick's cgroupfs driver";
    fmt::print(stderr, "brick: {}\n", msg);
    LogError(msg);
    return kErrorExit;
  }
  if (g.rootless != "auto" && g.rootless != "false" && g.rootless != "true") {
    std::string msg = fmt::format("--rootless {}: must be true, false or auto", g.rootless);
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
      auto started = std::chrono::steady_clock::now();
      auto result = action();
      LogDebug(fmt::format(
          "{} {} after {:.3f} ms", sub->get_name(), result ? "done" : "failed",
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count()));
      if (!result) {
        fmt::print(stderr, "brick: {}\n", result.error().message());
        LogError(result.error().message());
        return kErrorExit;
      }
      WriteToLog(PendingJsonLines());
      return *result;
    }
  }
  return kErrorExit;
}

}  // namespace brick::cli
