#include "brick/base/error.h"

#include <cstring>

namespace brick {

std::string Error::message() const {
  if (errnum_ == 0) {
    return message_;
  }
  char buf[128];
  // GNU strerror_r returns the message, which may or may not live in buf.
  const char* text = strerror_r(errnum_, buf, sizeof buf);
  std::string lowered(text);
  if (!lowered.empty()) {
    lowered[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(lowered[0])));
  }
  if (message_.empty()) {
    return lowered;
  }
  return message_ + ": " + lowered;
}

Error Error::Wrap(std::string_view outer) && {
  if (!outer.empty()) {
    message_ = message_.empty() ? std::string(outer) : fmt::format("{}: {}", outer, message_);
  }
  return std::move(*this);
}

Error Error::Wrap(std::string_view outer) const& { return Error(*this).Wrap(outer); }

}  // namespace brick
