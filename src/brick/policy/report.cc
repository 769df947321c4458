#include "brick/policy/report.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace brick::policy {
namespace {

int Weight(const Rule& r) { return r.severity == Severity::kFail ? 3 : 1; }

// Wraps text to `width` columns, continuation lines indented by `indent`.
std::string Wrap(std::string_view text, size_t width, size_t indent) {
  std::string out;
  size_t col = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view word = text.substr(start, end - start);
    if (col > 0 && col + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      col = 0;
    } else if (col > 0) {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    start = end + 1;
  }
  return out;
}

}  // namespace

int Report::Score() const {
  int total = 0;
  int passed = 0;
  for (const auto& f : findings) {
    if (f.outcome == Outcome::kSkip) {
      continue;
    }
    // A rule may appear more than once (drift); count each rule's worst outcome once.
    total += Weight(*f.rule);
    passed += f.outcome == Outcome::kPass ? Weight(*f.rule) : 0;
  }
  return total == 0 ? 0 : (passed * 100) / total;
}

int Report::Count(Outcome o) const {
  int n = 0;
  for (const auto& f : findings) {
    n += f.outcome == o;
  }
  return n;
}

std::string FormatTable(const Report& report) {
  std::string out = fmt::format("brick check {} ({})\n\n", report.target, report.kind);
  for (const auto& n : report.notes) {
    out += "note: " + n + "\n";
  }
  if (!report.notes.empty()) {
    out += "\n";
  }
  out += fmt::format("{:<6} {:<18} {}\n", "RESULT", "RULE", "TITLE / FINDING / WHY / FIX");
  const std::string indent(26, ' ');
  for (const auto& f : report.findings) {
    out += fmt::format("{:<6} {:<18} {}\n", OutcomeName(f.outcome), f.rule->id, f.rule->title);
    if (!f.detail.empty()) {
      out += indent + Wrap(f.detail, 74, indent.size()) + "\n";
    }
    if (f.outcome == Outcome::kWarn || f.outcome == Outcome::kFail) {
      out += indent + Wrap("why: " + std::string(f.rule->why), 74, indent.size()) + "\n";
      out += indent + Wrap("fix: " + std::string(f.rule->fix), 74, indent.size()) + "\n";
    }
  }
  out += fmt::format("\nscore: {}/100  ({} pass, {} warn, {} fail", report.Score(),
                     report.Count(Outcome::kPass), report.Count(Outcome::kWarn),
                     report.Count(Outcome::kFail));
  int skipped = report.Count(Outcome::kSkip);
  out += skipped > 0 ? fmt::format(", {} not judged: the score is partial)\n", skipped) : ")\n";
  return out;
}

std::string FormatJson(const Report& report) {
  nlohmann::json j;
  j["target"] = report.target;
  j["kind"] = report.kind;
  j["score"] = report.Score();
  j["partial"] = report.Count(Outcome::kSkip) > 0;
  j["notes"] = report.notes;
  j["counts"] = {{"pass", report.Count(Outcome::kPass)},
                 {"warn", report.Count(Outcome::kWarn)},
                 {"fail", report.Count(Outcome::kFail)},
                 {"skip", report.Count(Outcome::kSkip)}};
  j["findings"] = nlohmann::json::array();
  for (const auto& f : report.findings) {
    j["findings"].push_back({{"rule", f.rule->id},
                             {"title", f.rule->title},
                             {"severity", SeverityName(f.rule->severity)},
                             {"result", OutcomeName(f.outcome)},
                             {"detail", f.detail},
                             {"why", f.rule->why},
                             {"fix", f.rule->fix},
                             {"reference", f.rule->reference}});
  }
  return j.dump(2) + "\n";
}

std::string FormatSarif(const Report& report) {
  nlohmann::json rules = nlohmann::json::array();
  std::vector<std::string_view> ids;
  auto add_rule = [&](const Rule& r) {
    ids.push_back(r.id);
    rules.push_back(
        {{"id", r.id},
         {"name", r.title},
         {"shortDescription", {{"text", r.title}}},
         {"fullDescription", {{"text", r.why}}},
         {"help", {{"text", r.fix}}},
         {"defaultConfiguration", {{"level", r.severity == Severity::kFail ? "error" : "warning"}}},
         {"properties", {{"reference", r.reference}}}});
  };
  for (const Rule& r : AllRules()) {
    add_rule(r);
  }
  add_rule(DriftRule());
  nlohmann::json results = nlohmann::json::array();
  for (const auto& f : report.findings) {
    if (f.outcome == Outcome::kPass) {
      continue;
    }
    size_t index = std::find(ids.begin(), ids.end(), f.rule->id) - ids.begin();
    const char* level = f.outcome == Outcome::kFail   ? "error"
                        : f.outcome == Outcome::kWarn ? "warning"
                                                      : "note";
    std::string text = f.outcome == Outcome::kSkip
                           ? fmt::format("not judged: {}", f.detail)
                           : fmt::format("{}. Fix: {}", f.detail, f.rule->fix);
    results.push_back(
        {{"ruleId", f.rule->id},
         {"ruleIndex", index},
         {"level", level},
         {"kind", f.outcome == Outcome::kSkip ? "notApplicable" : "fail"},
         {"message", {{"text", text}}},
         {"locations",
          {{{"physicalLocation", {{"artifactLocation", {{"uri", report.target}}}}}}}}});
  }
  nlohmann::json sarif = {
      {"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
      {"version", "2.1.0"},
      {"runs",
       {{{"tool",
          {{"driver",
            {{"name", "brick check"},
             {"rules", rules}}}}},
         {"results", results},
         {"properties", {{"score", report.Score()}, {"kind", report.kind}}}}}}};
  return sarif.dump(2) + "\n";
}

bool ExceedsThreshold(const Report& report, Severity threshold) {
  for (const auto& f : report.findings) {
    if (f.outcome == Outcome::kFail ||
        (threshold == Severity::kWarn && f.outcome == Outcome::kWarn)) {
      return true;
    }
  }
  return false;
}

}  // namespace brick::policy
