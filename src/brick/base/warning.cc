#include "brick/base/warning.h"

#include <fmt/core.h>

#include <cstdio>

namespace brick {
namespace {

WarningSink& Sink() {
  static WarningSink sink;
  return sink;
}

}  // namespace

void Warn(const std::string& message) {
  if (Sink()) {
    Sink()(message);
    return;
  }
  fmt::print(stderr, "brick: warning: {}\n", message);
}

void SetWarningSink(WarningSink sink) { Sink() = std::move(sink); }

}  // namespace brick
