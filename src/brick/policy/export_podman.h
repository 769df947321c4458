// A brick profile as `podman run` flags.
//
//   Profile p = BRICK_TRY_VALUE(LoadProfile("web.toml"));
//   fmt::print("{}", BRICK_TRY_VALUE(ExportPodmanFlags(p, "IMAGE")));
//
// Settings podman cannot express are listed as trailing comments: nothing is dropped silently.
#pragma once

#include <string>

#include "brick/base/error.h"
#include "brick/policy/profile.h"

namespace brick::policy {

Result<std::string> ExportPodmanFlags(const Profile& profile, const std::string& image = "IMAGE");

}  // namespace brick::policy
