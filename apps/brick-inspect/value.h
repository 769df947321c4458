// A small ordered JSON value tree, so that the inspector's human report and its --json
// output are rendered from the same data and cannot drift apart.
//
//   Value report = Value::Object();
//   report.Set("hostname", Value("brick"));
//   Value fds = Value::Array();
//   fds.Push(Value(int64_t{0}));
//   report.Set("fds", std::move(fds));
//   std::string json = report.ToJson();   // {"hostname":"brick","fds":[0]}
//
// The inspector is statically linked into containers, so it carries no JSON library.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace brick::inspect {

class Value {
 public:
  enum class Kind { kNull, kBool, kInt, kString, kArray, kObject };

  Value() = default;
  explicit Value(bool b) : kind_(Kind::kBool), bool_(b) {}
  explicit Value(int64_t i) : kind_(Kind::kInt), int_(i) {}
  explicit Value(std::string s) : kind_(Kind::kString), string_(std::move(s)) {}
  explicit Value(const char* s) : kind_(Kind::kString), string_(s) {}

  static Value Array() { return Value(Kind::kArray); }
  static Value Object() { return Value(Kind::kObject); }

  Kind kind() const { return kind_; }
  bool AsBool() const { return bool_; }
  int64_t AsInt() const { return int_; }
  const std::string& AsString() const { return string_; }
  const std::vector<Value>& items() const { return items_; }
  const std::vector<std::pair<std::string, Value>>& members() const { return members_; }

  // Appends to an array.
  Value& Push(Value v);
  // Adds or replaces a member of an object, keeping insertion order.
  Value& Set(std::string_view key, Value v);
  // The member named key, or nullptr.
  const Value* Find(std::string_view key) const;

  // Compact JSON on one line.
  std::string ToJson() const;

 private:
  explicit Value(Kind kind) : kind_(kind) {}
  void AppendJson(std::string& out) const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

// Appends s to out as a quoted JSON string; bytes that are not valid UTF-8 are escaped as
// \u00XX so that the output is always valid JSON whatever a path or file contained.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace brick::inspect
