#include "brick/base/error.h"

#include <gtest/gtest.h>

#include "brick/base/strings.h"

namespace brick {
namespace {

Status Inner() { return ErrnoFail(EACCES, "mount {}", "/proc"); }
Status Outer() {
  BRICK_TRY(Inner(), "create container abc");
  return Ok();
}
Result<int> Value(bool ok) {
  if (!ok) {
    return Fail("bad value {}", 7);
  }
  return 3;
}
Result<int> UseValue(bool ok) {
  int v = BRICK_TRY_VALUE(Value(ok));
  return v + 1;
}

TEST(ErrorTest, ChainReadsOuterToInnerWithLowercaseErrno) {
  auto s = Outer();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message(), "create container abc: mount /proc: permission denied");
  EXPECT_EQ(s.error().errnum(), EACCES);
}

TEST(ErrorTest, TryValuePropagates) {
  EXPECT_EQ(UseValue(true).value(), 4);
  auto r = UseValue(false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "bad value 7");
  EXPECT_EQ(r.error().errnum(), 0);
}

TEST(StringsTest, ParseRejectsJunkAndSigns) {
  EXPECT_EQ(ParseU64("42"), 42u);
  EXPECT_FALSE(ParseU64("-1"));
  EXPECT_FALSE(ParseU64("4x"));
  EXPECT_FALSE(ParseU64("99999999999999999999"));
  EXPECT_EQ(ParseI64("-5"), -5);
  EXPECT_EQ(Split("a:b::c", ':'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(Trim("  x y \n"), "x y");
}

}  // namespace
}  // namespace brick
