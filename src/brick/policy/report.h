// An audit's result and its renderings: a table for people, JSON and SARIF 2.1.0 for CI.
//
//   Report report = BRICK_TRY_VALUE(AuditTarget("bundle/", {}));
//   fmt::print("{}", FormatTable(report));
//   return ExceedsThreshold(report, Severity::kWarn) ? 1 : 0;
//
// The score is out of 100: passed rules' weight over judged rules' weight, where a fail-rule
// weighs 3 and a warn-rule 1. Rules that could not be judged (SKIP) are left out of the score
// and counted separately, so a partial result never reads as a clean one.
#pragma once

#include <string>
#include <vector>

#include "brick/policy/rules.h"

namespace brick::policy {

struct Report {
  std::string target;
  std::string kind;  // "profile", "config", "bundle", "process", "container"
  std::vector<Finding> findings;
  std::vector<std::string> notes;

  int Score() const;
  int Count(Outcome o) const;
};

std::string FormatTable(const Report& report);
std::string FormatJson(const Report& report);
std::string FormatSarif(const Report& report);

// True when a finding is at or above the threshold (kWarn: any WARN or FAIL).
bool ExceedsThreshold(const Report& report, Severity threshold);

}  // namespace brick::policy
