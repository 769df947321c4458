// Linux capability names and numbers, as the kernel's <linux/capability.h> defines them.
//
//   std::optional<int> n = brick::oci::CapabilityNumber("CAP_NET_ADMIN");   // 12
//   const char* name = brick::oci::CapabilityName(21);                       // "CAP_SYS_ADMIN"
//   auto mask = brick::oci::CapabilityMask(caps.bounding, "process.capabilities.bounding");
//   if (!mask) return std::unexpected(mask.error());   // names the list and the index
//
// The table is fixed at compile time so that a config is checked the same way on every
// host; whether the running kernel knows a capability is a question for the isolation step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"

namespace brick::oci {

// The number of a capability given by its full name ("CAP_CHOWN"); nullopt when unknown.
// Names are case-sensitive and need the CAP_ prefix, as in the runtime spec.
std::optional<int> CapabilityNumber(std::string_view name);

// The name of capability `number`, or nullptr when it is outside 0..LastKnownCapability().
const char* CapabilityName(int number);

// The highest capability number in the table (CAP_CHECKPOINT_RESTORE = 40).
int LastKnownCapability();

// Why `name` is not a capability, for error messages: `unknown capability "CAP_FOO"`, with
// a hint when the name only lacks the CAP_ prefix or has the wrong case.
std::string UnknownCapabilityMessage(std::string_view name);

// The bit mask (1 << number) of a list of names. An unknown name gives an error naming the
// list and the index: `process.capabilities.bounding[2]: unknown capability "CAP_FOO"`.
Result<uint64_t> CapabilityMask(const std::vector<std::string>& names, std::string_view list_name);

// The names of the bits set in `mask`, lowest first; bits beyond the table are skipped.
std::vector<std::string> CapabilityNames(uint64_t mask);

}  // namespace brick::oci
