#include "brick/policy/host_policy.h"

#include <sys/stat.h>

#include "brick/policy/toml_util.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

HostPolicy AllRulesAt(RuleAction action) {
  HostPolicy p;
  for (const Rule& r : AllRules()) {
    p.actions[std::string(r.id)] = action;
  }
  return p;
}

std::vector<std::string_view> RuleIds() {
  std::vector<std::string_view> ids;
  for (const Rule& r : AllRules()) {
    ids.push_back(r.id);
  }
  return ids;
}

}  // namespace

std::vector<std::string> RecommendedRefusedRules() {
  return {"BRICK-CAP-001", "BRICK-CAP-002",   "BRICK-NS-001",    "BRICK-NS-002",
          "BRICK-NS-003",  "BRICK-NS-004",    "BRICK-NS-005",    "BRICK-SECCOMP-001",
          "BRICK-MOUNT-002", "BRICK-MOUNT-005", "BRICK-DEV-001", "BRICK-DEV-002"};
}

HostPolicy WarnOnlyHostPolicy() { return AllRulesAt(RuleAction::kWarn); }

HostPolicy RecommendedHostPolicy() {
  HostPolicy p = AllRulesAt(RuleAction::kWarn);
  for (const auto& id : RecommendedRefusedRules()) {
    p.actions[id] = RuleAction::kRefuse;
  }
  return p;
}

Result<HostPolicy> ParseHostPolicy(std::string_view text, const std::string& path) {
  toml::table t = BRICK_TRY_VALUE(ParseToml(text, path));
  BRICK_TRY(CheckKeys(t, path, "", {"baseline", "rules"}));
  HostPolicy p = RecommendedHostPolicy();
  if (auto* node = t.get("baseline")) {
    auto s = node->value<std::string>();
    if (!s || (*s != "recommended" && *s != "none")) {
      return Fail("{}: baseline must be \"recommended\" or \"none\"", Where(path, node->source()));
    }
    if (*s == "none") {
      p = AllRulesAt(RuleAction::kOff);
    }
  }
  if (auto* node = t.get("rules")) {
    const toml::table* rules = node->as_table();
    if (rules == nullptr) {
      return Fail("{}: rules must be a table of \"RULE-ID\" = \"refuse\" | \"warn\" | \"off\"",
                  Where(path, node->source()));
    }
    auto ids = RuleIds();
    BRICK_TRY(CheckKeys(*rules, path, "rules", ids));
    for (const auto& [key, value] : *rules) {
      auto s = value.value<std::string>();
      RuleAction a;
      if (s == "refuse") {
        a = RuleAction::kRefuse;
      } else if (s == "warn") {
        a = RuleAction::kWarn;
      } else if (s == "off") {
        a = RuleAction::kOff;
      } else {
        return Fail("{}: rule {}: expected \"refuse\", \"warn\" or \"off\"",
                    Where(path, value.source()), key.str());
      }
      p.actions[std::string(key.str())] = a;
    }
  }
  p.path = path;
  return p;
}

Result<std::optional<HostPolicy>> LoadHostPolicy(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return std::optional<HostPolicy>();
    }
    return ErrnoFail(errno, "host policy {}", path);
  }
  auto text = ReadFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap("read the host policy"));
  }
  return std::optional<HostPolicy>(BRICK_TRY_VALUE(ParseHostPolicy(*text, path)));
}

Status EnforceHostPolicyOnView(const HostPolicy& policy, const ContainerView& view,
                               std::vector<std::string>* warnings) {
  std::string refusals;
  for (const Rule& r : AllRules()) {
    auto it = policy.actions.find(r.id);
    RuleAction action = it == policy.actions.end() ? RuleAction::kWarn : it->second;
    if (action == RuleAction::kOff) {
      continue;
    }
    Verdict v = r.check(view);
    if (v.kind != Verdict::Kind::kViolation) {
      continue;
    }
    std::string line = fmt::format("{} ({}): {}; fix: {}", r.id, r.title, v.detail, r.fix);
    if (action == RuleAction::kRefuse) {
      refusals += refusals.empty() ? "" : "; ";
      refusals += line;
    } else if (warnings != nullptr) {
      warnings->push_back(line);
    }
  }
  if (!refusals.empty()) {
    return Fail("host policy{} refuses this config: {}",
                policy.path.empty() ? "" : " " + policy.path, refusals);
  }
  return Ok();
}

Status EnforceHostPolicy(const HostPolicy& policy, const oci::Spec& spec,
                         std::vector<std::string>* warnings) {
  return EnforceHostPolicyOnView(policy, ViewFromSpec(spec), warnings);
}

}  // namespace brick::policy
