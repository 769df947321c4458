// Seccomp profiles as files: the OCI linux.seccomp object, Docker/Moby's seccomp JSON, and
// the word "default" for brick's own. Docker profiles are resolved the way Docker resolves
// them for one container: archMap picks the architectures of the native arch, and rules are
// kept or dropped by their includes/excludes (caps, arches, minKernel).
//
//   ProfileContext ctx;
//   ctx.granted_caps = caps_mask;                   // the container's bounding set
//   auto loaded = LoadProfileFile("/etc/docker/seccomp.json", ctx);
//   if (!loaded) return std::unexpected(loaded.error());
//   for (const auto& w : loaded->warnings) LogWarning(w);
//   auto program = CompileFilter(loaded->profile);
//
//   std::string json = SeccompToJson(loaded->profile);   // OCI linux.seccomp, sorted keys
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::seccomp {

struct ProfileContext {
  // Bit N set = capability N granted (process.capabilities.bounding, as Docker uses).
  uint64_t granted_caps = 0;
  // The container's native arch as an SCMP_ARCH_* name.
  std::string arch = "SCMP_ARCH_X86_64";
  // For includes/excludes.minKernel; empty = the running kernel (uname -r).
  std::string kernel_release;
};

enum class ProfileFormat { kOci, kDocker, kBuiltinDefault };

struct LoadedProfile {
  oci::Seccomp profile;
  ProfileFormat format = ProfileFormat::kOci;
  // Names libseccomp does not know, dropped from a Docker profile (Docker does the same):
  // one line each.
  std::vector<std::string> warnings;
};

// Docker/Moby seccomp JSON text → the OCI model for one container.
Result<LoadedProfile> LoadDockerProfile(std::string_view json_text, const ProfileContext& ctx);

// An OCI linux.seccomp object (the value of "seccomp" in config.json).
Result<oci::Seccomp> ParseOciSeccomp(std::string_view json_text);

// Either format, told apart by Docker-only members (archMap, includes, excludes, name,
// comment); "default" gives DefaultProfile(ctx.granted_caps).
Result<LoadedProfile> LoadProfileText(std::string_view json_text, const ProfileContext& ctx);
Result<LoadedProfile> LoadProfileFile(const std::string& path_or_default,
                                      const ProfileContext& ctx);

// The OCI linux.seccomp JSON of a profile, keys sorted, no whitespace: the canonical form
// that the compiled-filter cache hashes. With pretty, indented for people.
std::string SeccompToJson(const oci::Seccomp& profile, bool pretty = false);

// "6.18.44-foo" >= "4.8"? Compares the leading numeric components.
bool KernelAtLeast(std::string_view release, std::string_view wanted);

}  // namespace brick::seccomp
