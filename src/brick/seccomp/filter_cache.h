// A disk cache of compiled seccomp filters, so that a repeated start skips libseccomp.
//
//   FilterCache cache;                                   // /var/cache/brick/seccomp
//   bool hit = false;
//   auto program = cache.Compile(profile, {}, &hit);     // compiles on a miss, then stores
//   if (!program) return std::unexpected(program.error());
//
// An entry is keyed by the SHA-256 of the profile's canonical JSON, the compile options, the
// libseccomp version, the kernel release and the native arch, so anything that could change
// the program changes the key. Safety:
//  - concurrent starts: an entry is written to a temporary file and renamed into place, so a
//    reader sees a whole entry or none;
//  - tampering: the directory is used only when it is a real directory owned by root with mode
//    0700 (else the cache is skipped, never trusted); an entry must be a root-owned regular file
//    whose stored key equals the wanted key and whose SHA-256 checksum matches its contents.
//    Anything else is recompiled and rewritten. The checksum catches corruption, the
//    ownership and mode checks keep other users from planting entries; root can always
//    change a filter, so the cache trusts no one root does not.
// Failing to write the cache never fails the compile; it is reported in the warnings.
#pragma once

#include <string>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/seccomp/filter.h"

namespace brick::seccomp {

inline constexpr const char* kDefaultFilterCacheDir = "/var/cache/brick/seccomp";

class FilterCache {
 public:
  explicit FilterCache(std::string dir = kDefaultFilterCacheDir) : dir_(std::move(dir)) {}

  // The program for `profile`, from the cache when a valid entry exists, else compiled and
  // stored. *hit (when given) says which.
  Result<BpfProgram> Compile(const oci::Seccomp& profile, const CompileOptions& opts = {},
                             bool* hit = nullptr) const;

  // The entry's file name for `profile` (64 hex digits).
  std::string KeyFor(const oci::Seccomp& profile, const CompileOptions& opts = {}) const;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

// SHA-256 of `data` as 64 lower-case hex digits (OpenSSL EVP).
std::string Sha256Hex(std::string_view data);

}  // namespace brick::seccomp
