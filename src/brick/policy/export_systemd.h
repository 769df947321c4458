// A brick profile as a systemd service unit with the equivalent hardening, for running the
// same service without a container.
//
//   Profile p = BRICK_TRY_VALUE(LoadProfile("web.toml"));
//   std::string unit = BRICK_TRY_VALUE(ExportSystemdUnit(p));
//
// Whatever systemd cannot express (a pid namespace on systemd < 257, sysctls, the host id
// range, ...) is listed in comments at the end of the unit: nothing is dropped silently.
#pragma once

#include <string>

#include "brick/base/error.h"
#include "brick/policy/profile.h"

namespace brick::policy {

Result<std::string> ExportSystemdUnit(const Profile& profile);

}  // namespace brick::policy
