// The audit rules shared by `brick check` and the runtime's host policy: each rule is written
// once, with its id, severity, why it matters, how to fix it, and a check over a ContainerView.
//
//   ContainerView view = ViewFromSpec(spec);
//   for (const Finding& f : EvaluateRules(view)) {
//     if (f.outcome == Outcome::kFail) fmt::print("{} {}\n", f.rule->id, f.detail);
//   }
//
// Rules follow CIS Docker Benchmark section 5 (container runtime) where it has one, and brick's
// own defaults (docs/defaults.md) otherwise. A check that cannot judge the view (a field is
// unknown) says so: the finding is kSkip with the reason, never a pass.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "brick/policy/container_view.h"

namespace brick::policy {

enum class Severity { kWarn, kFail };
enum class Outcome { kPass, kWarn, kFail, kSkip };

const char* SeverityName(Severity s);  // "warn", "fail"
const char* OutcomeName(Outcome o);    // "PASS", "WARN", "FAIL", "SKIP"

// What a check found: ok, a violation with its detail, or unknown with the reason.
struct Verdict {
  enum class Kind { kOk, kViolation, kUnknown };
  Kind kind = Kind::kOk;
  std::string detail;

  static Verdict Ok(std::string detail = {}) { return {Kind::kOk, std::move(detail)}; }
  static Verdict Violation(std::string detail) { return {Kind::kViolation, std::move(detail)}; }
  static Verdict Unknown(std::string why) { return {Kind::kUnknown, std::move(why)}; }
};

struct Rule {
  std::string_view id;     // "BRICK-CAP-002"
  std::string_view title;  // one line
  Severity severity;
  std::string_view why;  // why it matters
  std::string_view fix;  // how to fix it, in brick's and the OCI config's terms
  std::string_view reference;  // "CIS Docker 5.4", or "" when brick's own
  Verdict (*check)(const ContainerView&);
};

// Every rule, in report order.
std::span<const Rule> AllRules();
const Rule* FindRule(std::string_view id);
// The rule that reports a difference between a config and the running container.
const Rule& DriftRule();

struct Finding {
  const Rule* rule = nullptr;
  Outcome outcome = Outcome::kPass;
  std::string detail;
};

// Runs one rule; the outcome of a violation is the rule's severity, or `severity` when given.
Finding EvaluateRule(const Rule& rule, const ContainerView& view,
                     std::optional<Severity> severity = std::nullopt);
// Runs every rule.
std::vector<Finding> EvaluateRules(const ContainerView& view);

// Differences between what a config claims and what a running process shows, one
// DriftRule() finding each (kFail); empty when they agree on everything both can tell.
std::vector<Finding> CompareViews(const ContainerView& claimed, const ContainerView& running);

// Dangerous capabilities, worst first: CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE, ...
std::span<const std::string_view> DangerousCapabilitiesRanked();

// Names of env entries that look like secrets (by name or by value). Values are never returned.
std::vector<std::string> SecretLookingEnv(const std::vector<std::string>& env);

// Syscalls brick's default seccomp profile denies that `profile` lets through.
std::vector<std::string> SyscallsAllowedBeyondDefault(const oci::Seccomp& profile);

}  // namespace brick::policy
