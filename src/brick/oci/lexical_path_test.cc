#include "brick/oci/lexical_path.h"

#include <gtest/gtest.h>

namespace brick::oci {
namespace {

TEST(LexicalPathTest, Clean) {
  EXPECT_EQ(LexicalClean(""), ".");
  EXPECT_EQ(LexicalClean("/"), "/");
  EXPECT_EQ(LexicalClean("//"), "/");
  EXPECT_EQ(LexicalClean("/a//b/./../c/"), "/a/c");
  EXPECT_EQ(LexicalClean("/../etc"), "/etc");
  EXPECT_EQ(LexicalClean("/.."), "/");
  EXPECT_EQ(LexicalClean("a/../../x"), "../x");
  EXPECT_EQ(LexicalClean("../../a/b/.."), "../../a");
  EXPECT_EQ(LexicalClean("./a"), "a");
  EXPECT_EQ(LexicalClean("a/.."), ".");
  EXPECT_EQ(LexicalClean("a/...b"), "a/...b");
}

TEST(LexicalPathTest, EscapesRoot) {
  EXPECT_TRUE(LexicallyEscapesRoot("/../etc"));
  EXPECT_TRUE(LexicallyEscapesRoot("a/../../x"));
  EXPECT_TRUE(LexicallyEscapesRoot(".."));
  EXPECT_TRUE(LexicallyEscapesRoot("/a/b/../../../c"));
  EXPECT_TRUE(LexicallyEscapesRoot("/a/./../.."));
  EXPECT_FALSE(LexicallyEscapesRoot("/"));
  EXPECT_FALSE(LexicallyEscapesRoot(""));
  EXPECT_FALSE(LexicallyEscapesRoot("/a/b/../c"));
  EXPECT_FALSE(LexicallyEscapesRoot("/a/.."));
  EXPECT_FALSE(LexicallyEscapesRoot("/..a/b.."));
  EXPECT_FALSE(LexicallyEscapesRoot("data"));
}

TEST(LexicalPathTest, IsAbsolute) {
  EXPECT_TRUE(IsAbsolutePath("/x"));
  EXPECT_FALSE(IsAbsolutePath("x"));
  EXPECT_FALSE(IsAbsolutePath(""));
}

}  // namespace
}  // namespace brick::oci
