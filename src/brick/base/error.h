// Errors as values.
//
//   brick::Result<UniqueFd> OpenConfig(const std::string& path) {
//     int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
//     if (fd < 0) return brick::ErrnoFail(errno, "open {}", path);
//     return UniqueFd(fd);
//   }
//   ...
//   auto fd = OpenConfig(p);
//   if (!fd) return std::unexpected(std::move(fd.error()).Wrap("load bundle"));
//
// An Error keeps the errno (0 when there is none) and a context chain that reads
// outer to inner: "create container abc: mount /proc: permission denied".
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

#include <fmt/core.h>

namespace brick {

class Error {
 public:
  explicit Error(std::string message, int errnum = 0)
      : message_(std::move(message)), errnum_(errnum) {}

  // The errno this error came from, or 0.
  int errnum() const { return errnum_; }

  // The context chain without the errno text.
  const std::string& context() const { return message_; }

  // The full text: context chain and, when there is an errno, its strerror.
  std::string message() const;

  // Prepends one level of context: Wrap("start") on "mount /proc" gives
  // "start: mount /proc".
  Error Wrap(std::string_view outer) &&;
  Error Wrap(std::string_view outer) const&;

 private:
  std::string message_;
  int errnum_ = 0;
};

template <typename T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline Status Ok() { return {}; }

template <typename... Args>
std::unexpected<Error> Fail(fmt::format_string<Args...> format, Args&&... args) {
  return std::unexpected(Error(fmt::format(format, std::forward<Args>(args)...)));
}

template <typename... Args>
std::unexpected<Error> ErrnoFail(int errnum, fmt::format_string<Args...> format,
                                 Args&&... args) {
  return std::unexpected(Error(fmt::format(format, std::forward<Args>(args)...), errnum));
}

// Returns from the enclosing function with the error, wrapped in context when given.
//   BRICK_TRY(MountProc(root));
//   BRICK_TRY(MountProc(root), "set up rootfs");
#define BRICK_TRY(...) BRICK_TRY_IMPL_(__VA_ARGS__, "")
#define BRICK_TRY_IMPL_(expr, ctx, ...)                                        \
  do {                                                                         \
    auto brick_try_r_ = (expr);                                                \
    if (!brick_try_r_) {                                                       \
      /* auto&& keeps a temporary context (fmt::format(...)) alive */          \
      auto&& brick_try_ctx_holder_ = (ctx);                                    \
      std::string_view brick_try_ctx_ = brick_try_ctx_holder_;                 \
      if (brick_try_ctx_.empty()) {                                            \
        return std::unexpected(std::move(brick_try_r_.error()));               \
      }                                                                        \
      return std::unexpected(std::move(brick_try_r_.error()).Wrap(brick_try_ctx_)); \
    }                                                                          \
  } while (0)

// Evaluates a Result<T> and yields its value, or returns its error.
//   UniqueFd fd = BRICK_TRY_VALUE(OpenInRoot(root, "/etc/passwd", O_RDONLY));
#define BRICK_TRY_VALUE(expr)                                    \
  ({                                                             \
    auto brick_tv_r_ = (expr);                                   \
    if (!brick_tv_r_) {                                          \
      return std::unexpected(std::move(brick_tv_r_.error()));    \
    }                                                            \
    std::move(*brick_tv_r_);                                     \
  })

}  // namespace brick
