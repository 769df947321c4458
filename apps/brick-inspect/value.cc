#include "value.h"

#include <cstdio>

namespace brick::inspect {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
  } else {
    return 0;
  }
  if (i + len > s.size()) {
    return 0;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) {
      return 0;
    }
  }
  // Reject overlong encodings and surrogates, which strict JSON parsers refuse.
  if (c == 0xe0 && byte(i + 1) < 0xa0) {
    return 0;
  }
  if (c == 0xed && byte(i + 1) >= 0xa0) {
    return 0;
  }
  if (c == 0xf0 && byte(i + 1) < 0x90) {
    return 0;
  }
  if (c == 0xf4 && byte(i + 1) >= 0x90) {
    return 0;
  }
  return len;
}

void AppendEscapedByte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\u%04x", c);
  out += buf;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        AppendEscapedByte(out, c);
        ++i;
      } else {
        out.append(s.substr(i, len));
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          AppendEscapedByte(out, c);
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

Value& Value::Push(Value v) {
  items_.push_back(std::move(v));
  return items_.back();
}

Value& Value::Set(std::string_view key, Value v) {
  for (auto& [k, existing] : members_) {
    if (k == key) {
      existing = std::move(v);
      return existing;
    }
  }
  members_.emplace_back(std::string(key), std::move(v));
  return members_.back().second;
}

const Value* Value::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) {
      return &v;
    }
  }
  return nullptr;
}

std::string Value::ToJson() const {
  std::string out;
  AppendJson(out);
  return out;
}

void Value::AppendJson(std::string& out) const {
  switch (kind_) {
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kBool:
      out += bool_ ? "true" : "false";
      return;
    case Kind::kInt:
      out += std::to_string(int_);
      return;
    case Kind::kString:
      AppendJsonString(out, string_);
      return;
    case Kind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& v : items_) {
        if (!first) {
          out += ',';
        }
        first = false;
        v.AppendJson(out);
      }
      out += ']';
      return;
    }
    case Kind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : members_) {
        if (!first) {
          out += ',';
        }
        first = false;
        AppendJsonString(out, k);
        out += ':';
        v.AppendJson(out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace brick::inspect
