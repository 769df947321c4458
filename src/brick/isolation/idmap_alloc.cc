#include "brick/isolation/idmap_alloc.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brick/base/strings.h"
#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

Result<std::optional<SubIdRange>> ReadSubIdFile(const std::string& path, const std::string& user) {
  auto text = ReadFile(path);
  if (!text) {
    if (text.error().errnum() == ENOENT) {
      return std::optional<SubIdRange>();
    }
    return std::unexpected(std::move(text.error()).Wrap("read subordinate ids"));
  }
  return ParseSubIdRanges(*text, path, user);
}

Status MkdirAll(const std::string& path) {
  std::string cur;
  for (const std::string& part : Split(path, '/')) {
    if (part.empty()) {
      continue;
    }
    cur += "/" + part;
    if (mkdir(cur.c_str(), 0700) < 0 && errno != EEXIST) {
      return ErrnoFail(errno, "create {}", cur);
    }
  }
  return Ok();
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Tries to take one slot: nullopt when another live brick holds it.
Result<std::optional<UniqueFd>> TryLockSlot(const std::string& path) {
  // A holder may unlink the file between our open and our flock; then we hold a lock
  // on an orphaned inode, so check the path still names it and retry if not.
  for (int attempt = 0; attempt < 100; ++attempt) {
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) {
      return ErrnoFail(errno, "open {}", path);
    }
    if (flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
      if (errno == EWOULDBLOCK) {
        return std::optional<UniqueFd>();
      }
      return ErrnoFail(errno, "lock {}", path);
    }
    struct stat held;
    struct stat named;
    if (fstat(fd.get(), &held) < 0) {
      return ErrnoFail(errno, "stat {}", path);
    }
    if (stat(path.c_str(), &named) == 0 && SameFile(held, named)) {
      return std::optional<UniqueFd>(std::move(fd));
    }
  }
  return Fail("lock {}: the file keeps being replaced", path);
}

}  // namespace

Result<std::optional<SubIdRange>> ParseSubIdRanges(std::string_view text,
                                                   std::string_view file_name,
                                                   std::string_view user) {
  std::optional<SubIdRange> found;
  auto lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = Trim(lines[i]);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    auto fields = Split(line, ':');
    std::optional<uint64_t> start = fields.size() == 3 ? ParseU64(fields[1]) : std::nullopt;
    std::optional<uint64_t> count = fields.size() == 3 ? ParseU64(fields[2]) : std::nullopt;
    if (fields.size() != 3 || fields[0].empty() || !start || !count) {
      return Fail("{}:{}: \"{}\" is not name:start:count", file_name, i + 1, line);
    }
    if (*count == 0 || *start + *count > (uint64_t{1} << 32) - 1) {
      return Fail("{}:{}: range {}:{} is empty or beyond the 32-bit id space", file_name, i + 1,
                  *start, *count);
    }
    if (fields[0] == user && !found) {
      found = SubIdRange{static_cast<uint32_t>(*start), static_cast<uint32_t>(*count)};
    }
  }
  return found;
}

Result<IdSlots> LoadIdSlots(const IdAllocatorOptions& options) {
  auto uids = BRICK_TRY_VALUE(ReadSubIdFile(options.subuid_path, options.user));
  auto gids = BRICK_TRY_VALUE(ReadSubIdFile(options.subgid_path, options.user));
  if (!uids && !gids) {
    return IdSlots{};
  }
  if (!uids || !gids) {
    const std::string& has = uids ? options.subuid_path : options.subgid_path;
    const std::string& lacks = uids ? options.subgid_path : options.subuid_path;
    return Fail("{} has an entry for {} but {} has none; add \"{}:START:COUNT\" to {}", has,
                options.user, lacks, options.user, lacks);
  }
  uint32_t slots = std::min(uids->count, gids->count) / kIdsPerContainer;
  if (slots == 0) {
    return Fail("{} and {}: the {} ranges hold {} and {} ids, but a container needs {}",
                options.subuid_path, options.subgid_path, options.user, uids->count, gids->count,
                kIdsPerContainer);
  }
  return IdSlots{uids->start, gids->start, slots};
}

IdRangeLease& IdRangeLease::operator=(IdRangeLease&& other) noexcept {
  if (this != &other) {
    Release();
    lock_ = std::move(other.lock_);
    lock_path_ = std::move(other.lock_path_);
    slot_ = other.slot_;
    uid_start_ = other.uid_start_;
    gid_start_ = other.gid_start_;
  }
  return *this;
}

std::vector<oci::IdMapping> IdRangeLease::UidMappings() const {
  return {oci::IdMapping{0, uid_start_, kIdsPerContainer}};
}

std::vector<oci::IdMapping> IdRangeLease::GidMappings() const {
  return {oci::IdMapping{0, gid_start_, kIdsPerContainer}};
}

void IdRangeLease::Release() {
  if (!lock_) {
    return;
  }
  // Unlink while still holding the lock, and only the file we locked: a newer holder
  // may have replaced a file we no longer name.
  struct stat held;
  struct stat named;
  if (fstat(lock_.get(), &held) == 0 && stat(lock_path_.c_str(), &named) == 0 &&
      SameFile(held, named)) {
    unlink(lock_path_.c_str());
  }
  lock_.reset();
}

Status IdRangeLease::KeepFor(const std::string& owner_dir) {
  if (!lock_) {
    return Fail("keep id range: the lease is not held");
  }
  if (ftruncate(lock_.get(), 0) != 0 || pwrite(lock_.get(), owner_dir.data(), owner_dir.size(), 0) !=
                                             static_cast<ssize_t>(owner_dir.size())) {
    return ErrnoFail(errno, "keep id range slot {} for {}", slot_, owner_dir);
  }
  lock_.reset();  // unlock, keep the file
  return Ok();
}

Status FreeKeptSlot(const IdAllocatorOptions& options, uint32_t slot, const std::string& owner_dir) {
  std::string path = fmt::format("{}/slot-{}.lock", options.state_dir, slot);
  auto content = ReadFile(path);
  if (!content) {
    return Ok();  // already free
  }
  if (*content != owner_dir) {
    return Ok();  // someone else's now
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoFail(errno, "free id range slot {}", slot);
  }
  return Ok();
}

namespace {

// A slot kept for a container (KeepFor) stays taken while its state directory exists.
bool KeptForLiveOwner(int fd) {
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) {
    return false;
  }
  struct stat st;
  return stat(std::string(buf, static_cast<size_t>(n)).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<IdRangeLease> AllocateIdRange(const IdAllocatorOptions& options) {
  IdSlots slots = BRICK_TRY_VALUE(LoadIdSlots(options));
  BRICK_TRY(MkdirAll(options.state_dir), "allocate a host id range");
  for (uint32_t slot = 0; slot < slots.count; ++slot) {
    std::string path = fmt::format("{}/slot-{}.lock", options.state_dir, slot);
    auto fd = BRICK_TRY_VALUE(TryLockSlot(path));
    if (!fd || KeptForLiveOwner(fd->get())) {
      continue;
    }
    if (ftruncate(fd->get(), 0) != 0) {
      return ErrnoFail(errno, "reset {}", path);
    }
    IdRangeLease lease;
    lease.lock_ = std::move(*fd);
    lease.lock_path_ = std::move(path);
    lease.slot_ = slot;
    lease.uid_start_ = slots.uid_base + slot * kIdsPerContainer;
    lease.gid_start_ = slots.gid_base + slot * kIdsPerContainer;
    return lease;
  }
  return Fail(
      "all {} host id ranges are in use (locks in {}); stop a container or add a larger "
      "brick range to /etc/subuid and /etc/subgid",
      slots.count, options.state_dir);
}

}  // namespace brick::isolation
