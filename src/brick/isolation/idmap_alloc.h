// Per-container host id ranges for the user namespace remap, so that no two
// containers share host uids and cannot touch each other's files.
//
//   IdRangeLease lease = BRICK_TRY_VALUE(AllocateIdRange());   // parent, before clone
//   // uid/gid 0..65535 in the container -> lease.uid_start().. / lease.gid_start().. on the host
//   std::vector<oci::IdMapping> uids = lease.UidMappings();
//   ...                                                         // container runs
//   // ~IdRangeLease frees the slot when the container is gone.
//
// Where the ranges come from: a "brick" entry in /etc/subuid and /etc/subgid
// (name:start:count) is cut into slots of 65536 ids; without one, slot N is
// 1000000000 + N*65536 for N in 0..1023. Both files must have the entry, or neither.
//
// How concurrent brick processes agree: slot N is taken by holding
// flock(LOCK_EX|LOCK_NB) on <state_dir>/slot-N.lock for the container's lifetime.
// The kernel drops the lock when its holder dies, so a lock file that exists but is
// unlocked belongs to a dead brick and the slot is free again. Releasing unlinks the
// file only while it is still the one we locked.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::isolation {

// The user-namespace mappings a container uses (also used to judge exposure of host
// files, see RuntimeBinaryWritableFromContainer in hygiene.h).
struct IdMappingPlan {
  bool user_namespace = false;
  std::vector<oci::IdMapping> uid_mappings;
  std::vector<oci::IdMapping> gid_mappings;
};

inline constexpr uint32_t kIdsPerContainer = 65536;
inline constexpr uint32_t kDefaultIdBase = 1000000000;
inline constexpr uint32_t kDefaultIdSlots = 1024;

struct SubIdRange {
  uint32_t start = 0;
  uint32_t count = 0;
};

// Parses /etc/subuid-format text ("name:start:count" per line; blank lines and '#'
// comments skipped) and returns the first range of `user`, or nullopt. A malformed
// line is an error naming file_name:line.
Result<std::optional<SubIdRange>> ParseSubIdRanges(std::string_view text,
                                                   std::string_view file_name,
                                                   std::string_view user);

struct IdAllocatorOptions {
  std::string subuid_path = "/etc/subuid";
  std::string subgid_path = "/etc/subgid";
  std::string user = "brick";
  std::string state_dir = "/run/brick/idmap";
};

// The slots available: the subid ranges cut in 65536-id slots, or the default ones.
struct IdSlots {
  uint32_t uid_base = kDefaultIdBase;
  uint32_t gid_base = kDefaultIdBase;
  uint32_t count = kDefaultIdSlots;
};
Result<IdSlots> LoadIdSlots(const IdAllocatorOptions& options);

// One slot held for one container. Move-only; the destructor releases it.
class IdRangeLease {
 public:
  IdRangeLease() = default;
  IdRangeLease(IdRangeLease&&) = default;
  IdRangeLease& operator=(IdRangeLease&& other) noexcept;
  IdRangeLease(const IdRangeLease&) = delete;
  IdRangeLease& operator=(const IdRangeLease&) = delete;
  ~IdRangeLease() { Release(); }

  bool held() const { return lock_.valid(); }
  uint32_t slot() const { return slot_; }
  uint32_t uid_start() const { return uid_start_; }
  uint32_t gid_start() const { return gid_start_; }
  // The locked file's fd (O_CLOEXEC: it never reaches the container's exec).
  int lock_fd() const { return lock_.get(); }

  // {0, uid_start, 65536} and {0, gid_start, 65536}.
  std::vector<oci::IdMapping> UidMappings() const;
  std::vector<oci::IdMapping> GidMappings() const;

  // Unlinks the lock file if it is still ours, then unlocks. Idempotent.
  void Release();

  // Hands the slot to a container that outlives this process (brick create): writes
  // the owner's state directory into the lock file and lets go of the lock without
  // unlinking. The allocator treats the slot as taken while that directory exists, so
  // deleting the container's state frees it; FreeKeptSlot frees it at once.
  Status KeepFor(const std::string& owner_dir);

 private:
  friend Result<IdRangeLease> AllocateIdRange(const IdAllocatorOptions& options);

  UniqueFd lock_;
  std::string lock_path_;
  uint32_t slot_ = 0;
  uint32_t uid_start_ = 0;
  uint32_t gid_start_ = 0;
};

// Frees a slot that KeepFor handed to the container whose state dir is owner_dir.
Status FreeKeptSlot(const IdAllocatorOptions& options, uint32_t slot, const std::string& owner_dir);

// Takes the lowest free slot. Fails when all are held, naming the state dir.
Result<IdRangeLease> AllocateIdRange(const IdAllocatorOptions& options = {});

}  // namespace brick::isolation
