// Secrets as files on a private tmpfs: never in the environment, never in the image.
//
//   // parent, before the clone: read what the config names
//   auto secrets = BRICK_TRY_VALUE(LoadSecrets(spec));
//   // child, after the mounts: write them into /run/secrets (a tmpfs), 0400, owned by
//   // the container user
//   BRICK_TRY(WriteSecrets(root_fd, secrets, uid, gid));
//
// The config carries secrets as the annotation kSecretsAnnotation: "NAME=HOSTFILE" lines,
// host paths only. The parent reads the files (the container's root could not: they
// belong to the host's users), the child writes them into the tmpfs, and they vanish
// with the container's mount namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"

namespace brick::runtime {

inline constexpr const char* kSecretsAnnotation = "run.brick.secrets";
inline constexpr const char* kSecretsDir = "/run/secrets";

struct Secret {
  std::string name;
  std::string content;
};

// "NAME=FILE" → {NAME, FILE}; NAME is letters, digits, '_', '.', '-' (no '/' or "..").
Result<std::pair<std::string, std::string>> ParseSecretArg(std::string_view text);

// Reads the files the annotation names (at most 1 MiB each). Requires a tmpfs mount at
// /run/secrets in the config, so that a secret can only land in memory.
Result<std::vector<Secret>> LoadSecrets(const oci::Spec& spec);

// Writes each secret to /run/secrets/NAME under root_fd, after checking the directory
// is a tmpfs. Files are 0400 and owned by uid:gid, as is the directory (0500).
Status WriteSecrets(int root_fd, const std::vector<Secret>& secrets, uid_t uid, gid_t gid);

}  // namespace brick::runtime
