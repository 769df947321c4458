#include "brick/policy/toml_util.h"

#include <algorithm>
#include <sstream>

#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1);
  std::vector<size_t> cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string Where(const std::string& file, const toml::source_region& region) {
  if (region.begin.line == 0) {
    return file;
  }
  return fmt::format("{}:{}:{}", file, region.begin.line, region.begin.column);
}

Result<toml::table> ParseToml(std::string_view text, const std::string& file) {
  toml::parse_result r = toml::parse(text, std::string_view(file));
  if (!r) {
    const toml::parse_error& e = r.error();
    return Fail("{}: {}", Where(file, e.source()), e.description());
  }
  return std::move(r).table();
}

Result<toml::table> ParseTomlFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap("read " + path));
  }
  return ParseToml(*text, path);
}

std::string Suggest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (auto c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

Status CheckKeys(const toml::table& table, const std::string& file, std::string_view context,
                 const std::vector<std::string_view>& allowed) {
  for (const auto& [key, node] : table) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) {
      continue;
    }
    std::string where = Where(file, key.source());
    std::string in = context.empty() ? "" : fmt::format(" in [{}]", context);
    std::string hint = Suggest(key.str(), allowed);
    if (!hint.empty()) {
      return Fail("{}: unknown key \"{}\"{}; did you mean \"{}\"?", where, key.str(), in, hint);
    }
    std::string list;
    for (auto a : allowed) {
      list += list.empty() ? "" : ", ";
      list += a;
    }
    return Fail("{}: unknown key \"{}\"{}; expected one of {}", where, key.str(), in, list);
  }
  return Ok();
}

}  // namespace brick::policy
