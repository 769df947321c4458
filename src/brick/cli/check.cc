#include <fmt/core.h>

#include "brick/cli/cli.h"
#include "brick/policy/audit.h"

namespace brick::cli {
namespace {

struct CheckFlags {
  std::string target;
  std::string format = "table";
  std::string fail_on = "fail";
  std::string config;
  std::string state_root = "/run/brick";
};

}  // namespace

Action RegisterCheck(CLI::App& app) {
  auto f = std::make_shared<CheckFlags>();
  app.add_option("target", f->target,
                 "A profile (.toml), config.json, bundle directory, pid:N, or container id")
      ->required();
  app.add_option("--format", f->format, "table, json or sarif")
      ->check(CLI::IsMember({"table", "json", "sarif"}));
  app.add_option("--fail-on", f->fail_on, "Exit 1 when a finding reaches this: warn or fail")
      ->check(CLI::IsMember({"warn", "fail"}));
  app.add_option("--config", f->config,
                 "With pid:N: the config.json the container claims to run, to report drift");
  app.add_option("--root", f->state_root, "brick's state directory (default /run/brick)");
  return [f]() -> Result<int> {
    policy::AuditOptions o;
    o.config = f->config;
    o.state_root = f->state_root;
    policy::Report report = BRICK_TRY_VALUE(policy::AuditTarget(f->target, o));
    if (f->format == "json") {
      fmt::print("{}", policy::FormatJson(report));
    } else if (f->format == "sarif") {
      fmt::print("{}", policy::FormatSarif(report));
    } else {
      fmt::print("{}", policy::FormatTable(report));
    }
    auto threshold = f->fail_on == "warn" ? policy::Severity::kWarn : policy::Severity::kFail;
    return policy::ExceedsThreshold(report, threshold) ? 1 : 0;
  };
}

}  // namespace brick::cli
