#include "brick/runtime/secrets.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "brick/base/strings.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {
constexpr size_t kMaxSecretBytes = 1 << 20;
}

Result<std::pair<std::string, std::string>> ParseSecretArg(std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return Fail("secret \"{}\": expected NAME=FILE", text);
  }
  std::string name(text.substr(0, eq));
  if (name == "." || name == ".." || name.size() > 128) {
    return Fail("secret \"{}\": the name must be 1 to 128 characters and not . or ..", text);
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return Fail("secret \"{}\": the name may hold only letters, digits, '_', '.' and '-'", text);
    }
  }
  return std::pair<std::string, std::string>(name, std::string(text.substr(eq + 1)));
}

Result<std::vector<Secret>> LoadSecrets(const oci::Spec& spec) {
  std::vector<Secret> out;
  auto it = spec.annotations.find(kSecretsAnnotation);
  if (it == spec.annotations.end() || Trim(it->second).empty()) {
    return out;
  }
  bool tmpfs = false;
  for (const auto& m : spec.mounts) {
    tmpfs |= m.destination == kSecretsDir && m.type == "tmpfs";
  }
  if (!tmpfs) {
    return Fail(
        "annotations[\"{}\"]: secrets need a tmpfs mount at {}; add one so that secrets "
        "never land on disk",
        kSecretsAnnotation, kSecretsDir);
  }
  for (const auto& line : Split(it->second, '\n')) {
    if (Trim(line).empty()) {
      continue;
    }
    auto [name, file] = BRICK_TRY_VALUE(ParseSecretArg(Trim(line)));
    auto content = ReadFile(file);
    if (!content) {
      return std::unexpected(std::move(content.error()).Wrap(fmt::format("secret {}", name)));
    }
    if (content->size() > kMaxSecretBytes) {
      return Fail("secret {}: {} is larger than 1 MiB", name, file);
    }
    out.push_back({name, std::move(*content)});
  }
  return out;
}

Status WriteSecrets(int root_fd, const std::vector<Secret>& secrets, uid_t uid, gid_t gid) {
  if (secrets.empty()) {
    return Ok();
  }
  UniqueFd dir = BRICK_TRY_VALUE(OpenInRoot(root_fd, kSecretsDir, O_RDONLY | O_DIRECTORY));
  struct statfs fs;
  if (fstatfs(dir.get(), &fs) != 0) {
    return ErrnoFail(errno, "secrets: statfs {}", kSecretsDir);
  }
  if (fs.f_type != TMPFS_MAGIC) {
    return Fail(
        "secrets: {} is not a tmpfs inside the container; refusing to write secrets to "
        "disk",
        kSecretsDir);
  }
  for (const auto& s : secrets) {
    UniqueFd f(openat(dir.get(), s.name.c_str(),
                      O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0400));
    if (!f) {
      return ErrnoFail(errno, "secret {}: create {}/{}", s.name, kSecretsDir, s.name);
    }
    BRICK_TRY(WriteAll(f.get(), s.content), fmt::format("secret {}", s.name));
    if (fchown(f.get(), uid, gid) != 0) {
      return ErrnoFail(errno, "secret {}: chown to {}:{}", s.name, uid, gid);
    }
  }
  if (fchown(dir.get(), uid, gid) != 0 || fchmod(dir.get(), 0500) != 0) {
    return ErrnoFail(errno, "secrets: give {} to {}:{}", kSecretsDir, uid, gid);
  }
  return Ok();
}

}  // namespace brick::runtime
