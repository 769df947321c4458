#include "brick/oci/lexical_path.h"

#include <vector>

namespace brick::oci {
namespace {

// Calls fn(component) for every component except empty and "." ones.
template <typename Fn>
void ForEachComponent(std::string_view path, Fn&& fn) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) {
      end = path.size();
    }
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") {
      fn(part);
    }
    start = end + 1;
  }
}

}  // namespace

std::string LexicalClean(std::string_view path) {
  const bool absolute = IsAbsolutePath(path);
  std::vector<std::string_view> parts;
  size_t leading_dotdots = 0;  // only for relative paths
  ForEachComponent(path, [&](std::string_view part) {
    if (part != "..") {
      parts.push_back(part);
    } else if (!parts.empty()) {
      parts.pop_back();
    } else if (!absolute) {
      ++leading_dotdots;
    }
  });
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < leading_dotdots; ++i) {
    out += (i == 0 ? "" : "/");
    out += "..";
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!out.empty() && out.back() != '/') {
      out += '/';
    }
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

bool LexicallyEscapesRoot(std::string_view path) {
  size_t depth = 0;
  bool escapes = false;
  ForEachComponent(path, [&](std::string_view part) {
    if (part != "..") {
      ++depth;
    } else if (depth > 0) {
      --depth;
    } else {
      escapes = true;
    }
  });
  return escapes;
}

}  // namespace brick::oci
