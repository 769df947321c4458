#include "brick/oci/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace brick::oci {
namespace {

TEST(CapabilitiesTest, NumbersMatchTheKernelHeader) {
  EXPECT_EQ(CapabilityNumber("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(CapabilityNumber("CAP_NET_ADMIN"), CAP_NET_ADMIN);
  EXPECT_EQ(CapabilityNumber("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(CapabilityNumber("CAP_AUDIT_READ"), CAP_AUDIT_READ);
  EXPECT_EQ(CapabilityNumber("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(LastKnownCapability(), 40);
#ifdef CAP_LAST_CAP
  EXPECT_GE(LastKnownCapability(), CAP_LAST_CAP);
#endif
}

TEST(CapabilitiesTest, NamesAndNumbersRoundTrip) {
  for (int i = 0; i <= LastKnownCapability(); ++i) {
    const char* name = CapabilityName(i);
    ASSERT_NE(name, nullptr) << i;
    EXPECT_EQ(CapabilityNumber(name), i) << name;
  }
  EXPECT_EQ(CapabilityName(-1), nullptr);
  EXPECT_EQ(CapabilityName(41), nullptr);
  EXPECT_STREQ(CapabilityName(21), "CAP_SYS_ADMIN");
}

TEST(CapabilitiesTest, UnknownNames) {
  EXPECT_EQ(CapabilityNumber("CAP_FOO"), std::nullopt);
  EXPECT_EQ(CapabilityNumber("NET_ADMIN"), std::nullopt);
  EXPECT_EQ(CapabilityNumber("cap_net_admin"), std::nullopt);
  EXPECT_EQ(CapabilityNumber(""), std::nullopt);
  EXPECT_EQ(UnknownCapabilityMessage("CAP_FOO"), "unknown capability \"CAP_FOO\"");
  EXPECT_EQ(UnknownCapabilityMessage("NET_ADMIN"),
            "unknown capability \"NET_ADMIN\" (did you mean \"CAP_NET_ADMIN\"?)");
  EXPECT_EQ(UnknownCapabilityMessage("Cap_Kill"),
            "unknown capability \"Cap_Kill\" (did you mean \"CAP_KILL\"?)");
  EXPECT_EQ(UnknownCapabilityMessage("FOO"), "unknown capability \"FOO\"");
}

TEST(CapabilitiesTest, Mask) {
  auto mask = CapabilityMask({"CAP_CHOWN", "CAP_KILL", "CAP_CHECKPOINT_RESTORE", "CAP_KILL"},
                             "process.capabilities.bounding");
  ASSERT_TRUE(mask.has_value());
  EXPECT_EQ(*mask, (uint64_t{1} << 0) | (uint64_t{1} << 5) | (uint64_t{1} << 40));
  EXPECT_EQ(CapabilityNames(*mask),
            (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL", "CAP_CHECKPOINT_RESTORE"}));
  EXPECT_EQ(CapabilityMask({}, "x").value(), 0u);

  auto bad = CapabilityMask({"CAP_CHOWN", "CAP_KILL", "CAP_FOO"}, "process.capabilities.bounding");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(),
            "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"");
  EXPECT_EQ(CapabilityNames(uint64_t{1} << 63), std::vector<std::string>{});
}

}  // namespace
}  // namespace brick::oci
