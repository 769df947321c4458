// What this brick implements, as the OCI runtime "features" structure
// (runtime-spec features.md, features-linux.md), for `brick features`.
//
//   FeaturesOptions o;
//   o.brick_version = BRICK_VERSION;
//   std::string json = BRICK_TRY_VALUE(FeaturesJson(o));   // {"ociVersionMin": "1.0.0", ...}
//
// Lists come from the code that acts on them (mount option tables, the capability table,
// the seccomp compiler), so the report cannot drift from what brick accepts. Two answers
// depend on the host: seccomp.supportedFlags (probed with seccomp(2)) and whether AppArmor
// and SELinux labels can be applied (brick refuses a label for an LSM the host does not run).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/isolation/lsm.h"

namespace brick::runtime {

// The config.json ociVersion range brick accepts (oci::ValidateSpec: 1.0.x to 1.3.x).
inline constexpr const char* kOciVersionMin = "1.0.0";
inline constexpr const char* kOciVersionMax = "1.3.0";

struct FeaturesOptions {
  std::string brick_version;  // reported as the annotation run.brick.version
  // Test seams. nullopt: ask the host (DetectHostLsms, KernelSupportedSeccompFlags).
  std::optional<isolation::HostLsms> host_lsms;
  std::optional<std::vector<std::string>> seccomp_supported_flags;
};

// The features JSON, pretty-printed. Fails only when the host's LSMs cannot be read.
Result<std::string> FeaturesJson(const FeaturesOptions& options);

}  // namespace brick::runtime
