// toml++ at brick's boundary: parse errors become Error values with file:line:column, and
// unknown keys get a "did you mean" from the keys a table accepts. Internal to brick_policy.
//
//   toml::table t = BRICK_TRY_VALUE(ParseTomlFile("/etc/brick/policy.toml"));
//   BRICK_TRY(CheckKeys(t, "policy.toml", {"baseline", "rules"}, "policy.toml"));
#pragma once

#include <toml++/toml.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"

namespace brick::policy {

Result<toml::table> ParseToml(std::string_view text, const std::string& file);
Result<toml::table> ParseTomlFile(const std::string& path);

// "FILE:LINE:COL" of a node (or just FILE when the node has no source).
std::string Where(const std::string& file, const toml::source_region& region);

// The closest candidate by edit distance, or "" when none is close enough.
std::string Suggest(std::string_view word, const std::vector<std::string_view>& candidates);

// Every key of `table` must be one of `allowed`; `context` names the table ("capabilities").
Status CheckKeys(const toml::table& table, const std::string& file, std::string_view context,
                 const std::vector<std::string_view>& allowed);

}  // namespace brick::policy
