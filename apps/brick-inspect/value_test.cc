#include "value.h"

#include <gtest/gtest.h>

namespace brick::inspect {
namespace {

TEST(ValueTest, SerializesInInsertionOrder) {
  Value v = Value::Object();
  v.Set("b", Value(int64_t{1}));
  v.Set("a", Value(true));
  Value list = Value::Array();
  list.Push(Value("x"));
  list.Push(Value());
  v.Set("list", std::move(list));
  EXPECT_EQ(v.ToJson(), R"({"b":1,"a":true,"list":["x",null]})");
}

TEST(ValueTest, SetReplacesExistingKey) {
  Value v = Value::Object();
  v.Set("k", Value(int64_t{1}));
  v.Set("k", Value(int64_t{2}));
  EXPECT_EQ(v.ToJson(), R"({"k":2})");
  ASSERT_NE(v.Find("k"), nullptr);
  EXPECT_EQ(v.Find("k")->AsInt(), 2);
  EXPECT_EQ(v.Find("missing"), nullptr);
}

TEST(JsonStringTest, EscapesControlAndQuotes) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\n\x01");
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

TEST(JsonStringTest, KeepsValidUtf8AndEscapesInvalidBytes) {
  std::string out;
  AppendJsonString(out, "\xc3\xa9");
  EXPECT_EQ(out, "\"\xc3\xa9\"");
  out.clear();
  AppendJsonString(out, "\xff\xc3");
  EXPECT_EQ(out, R"("\u00ff\u00c3")");
  out.clear();
  AppendJsonString(out, "\xed\xa0\x80");  // a UTF-16 surrogate, invalid in UTF-8
  EXPECT_EQ(out, R"("\u00ed\u00a0\u0080")");
}

}  // namespace
}  // namespace brick::inspect
