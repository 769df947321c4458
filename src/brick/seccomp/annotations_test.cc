#include "brick/seccomp/annotations.h"

#include <gtest/gtest.h>

namespace brick::seccomp {
namespace {

TEST(SeccompAnnotationsTest, AllowUnknownFollowsTheAnnotation) {
  auto none = CompileOptionsFromAnnotations({});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->allow_unknown_syscalls);
  EXPECT_TRUE(none->enosys_for_newer_syscalls);

  auto yes = CompileOptionsFromAnnotations({{"run.brick.seccomp.allow-unknown", "true"}});
  ASSERT_TRUE(yes);
  EXPECT_TRUE(yes->allow_unknown_syscalls);

  auto no = CompileOptionsFromAnnotations({{"run.brick.seccomp.allow-unknown", "false"}});
  ASSERT_TRUE(no);
  EXPECT_FALSE(no->allow_unknown_syscalls);
}

TEST(SeccompAnnotationsTest, OtherValuesAreRefusedByName) {
  auto bad = CompileOptionsFromAnnotations({{"run.brick.seccomp.allow-unknown", "yes"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            R"(annotations["run.brick.seccomp.allow-unknown"]: "yes" is neither "true" nor )"
            R"("false")");
}

}  // namespace
}  // namespace brick::seccomp
