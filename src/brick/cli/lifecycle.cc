// The id-only lifecycle commands. Each is a few lines of glue around runtime/lifecycle.h,
// so they share a file instead of one each.
#include "brick/runtime/lifecycle.h"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "brick/cli/cli.h"

namespace brick::cli {
namespace {

runtime::LifecycleOptions Options() { return {Globals().root}; }

// Registers a command that takes one container id and runs `fn` on it.
Action IdCommand(CLI::App& app,
                 Status (*fn)(const runtime::LifecycleOptions&, const std::string&)) {
  auto id = std::make_shared<std::string>();
  app.add_option("id", *id, "Container id")->required();
  return [id, fn]() -> Result<int> {
    BRICK_TRY(fn(Options(), *id));
    return 0;
  };
}

}  // namespace

Action RegisterStart(CLI::App& app) { return IdCommand(app, runtime::StartContainer); }
Action RegisterPause(CLI::App& app) { return IdCommand(app, runtime::PauseContainer); }
Action RegisterResume(CLI::App& app) { return IdCommand(app, runtime::ResumeContainer); }

Action RegisterState(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  app.add_option("id", *id, "Container id")->required();
  return [id]() -> Result<int> {
    auto info = BRICK_TRY_VALUE(runtime::InspectContainer(Options(), *id));
    fmt::print("{}\n", runtime::OciStateJson(info.state, info.status));
    return 0;
  };
}

Action RegisterKill(CLI::App& app) {
  struct Flags {
    std::string id;
    std::string signal = "SIGTERM";
    bool all = false;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("id", f->id, "Container id")->required();
  app.add_option("signal", f->signal, "Signal name or number (default SIGTERM)");
  app.add_flag("-a,--all", f->all, "Signal every process in the container");
  return [f]() -> Result<int> {
    int sig = BRICK_TRY_VALUE(runtime::ParseSignal(f->signal));
    BRICK_TRY(runtime::KillContainer(Options(), f->id, sig, f->all));
    return 0;
  };
}

Action RegisterDelete(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  app.add_option("id", *id, "Container id")->required();
  app.add_flag("-f,--force", *force, "Kill a running container first; a missing one is no error");
  return [id, force]() -> Result<int> {
    BRICK_TRY(runtime::DeleteContainer(Options(), *id, *force));
    return 0;
  };
}

Action RegisterList(CLI::App& app) {
  auto format = std::make_shared<std::string>("table");
  auto quiet = std::make_shared<bool>(false);
  app.add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  app.add_flag("-q,--quiet", *quiet, "Print only the ids");
  return [format, quiet]() -> Result<int> {
    auto all = BRICK_TRY_VALUE(runtime::ListContainers(Options()));
    if (*format == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& c : all) {
        out.push_back(nlohmann::json::parse(runtime::OciStateJson(c.state, c.status)));
      }
      fmt::print("{}\n", out.dump());
      return 0;
    }
    if (!*quiet) {
      fmt::print("{:<20} {:<8} {:<10} {:<30} {}\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
    }
    for (const auto& c : all) {
      if (*quiet) {
        fmt::print("{}\n", c.state.id);
      } else {
        fmt::print("{:<20} {:<8} {:<10} {:<30} {}\n", c.state.id, c.state.pid,
                   runtime::ContainerStatusName(c.status), c.state.bundle, c.state.created);
      }
    }
    return 0;
  };
}

Action RegisterPs(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("table");
  app.add_option("id", *id, "Container id")->required();
  app.add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  return [id, format]() -> Result<int> {
    auto pids = BRICK_TRY_VALUE(runtime::ContainerPids(Options(), *id));
    if (*format == "json") {
      fmt::print("{}\n", nlohmann::json(pids).dump());  // callers parse stdout as exactly this
      return 0;
    }
    fmt::print("PID\n");
    for (pid_t p : pids) {
      fmt::print("{}\n", p);
    }
    return 0;
  };
}

}  // namespace brick::cli
