#include "brick/isolation/caps.h"

#include <linux/prctl.h>
#include <sys/prctl.h>

#include "brick/base/strings.h"
#include "brick/oci/capabilities.h"
#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

constexpr const char* kField = "process.capabilities";

bool Has(uint64_t mask, int cap) { return (mask >> cap) & 1; }

// Names the first capability set in `mask`, for error messages.
std::string FirstName(uint64_t mask) {
  for (int cap = 0; cap < 64; ++cap) {
    if (Has(mask, cap)) {
      const char* name = oci::CapabilityName(cap);
      return name != nullptr ? name : fmt::format("capability {}", cap);
    }
  }
  return "";
}

std::string CapText(int cap) {
  const char* name = oci::CapabilityName(cap);
  return name != nullptr ? name : fmt::format("capability {}", cap);
}

}  // namespace

Result<int> ReadCapLastCap(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap("read the kernel's last capability"));
  }
  auto value = ParseU64(Trim(*text));
  if (!value || *value > 63) {
    return Fail("{}: unexpected content \"{}\"", path, Trim(*text));
  }
  return static_cast<int>(*value);
}

Result<CapsPlan> PlanCapabilities(const std::optional<oci::Capabilities>& caps, int last_cap) {
  CapsPlan plan;
  plan.last_cap = last_cap;
  if (!caps) {
    return plan;
  }
  struct Set {
    const std::vector<std::string>* names;
    const char* field;
    uint64_t* mask;
  };
  const Set sets[] = {
      {&caps->bounding, "bounding", &plan.bounding},
      {&caps->effective, "effective", &plan.effective},
      {&caps->permitted, "permitted", &plan.permitted},
      {&caps->inheritable, "inheritable", &plan.inheritable},
      {&caps->ambient, "ambient", &plan.ambient},
  };
  uint64_t kernel_mask = last_cap >= 63 ? ~uint64_t{0} : ((uint64_t{1} << (last_cap + 1)) - 1);
  for (const Set& set : sets) {
    std::string field = fmt::format("{}.{}", kField, set.field);
    *set.mask = BRICK_TRY_VALUE(oci::CapabilityMask(*set.names, field));
    if (uint64_t unsupported = *set.mask & ~kernel_mask; unsupported != 0) {
      return Fail("{}: {} is not supported by this kernel (its last capability is {}); remove it",
                  field, FirstName(unsupported), CapText(last_cap));
    }
  }
  if (uint64_t extra = plan.effective & ~plan.permitted; extra != 0) {
    return Fail("{}.effective: {} is not in permitted; add it to {}.permitted", kField,
                FirstName(extra), kField);
  }
  if (uint64_t extra = plan.inheritable & ~plan.bounding; extra != 0) {
    return Fail("{}.inheritable: {} is not in bounding; add it to {}.bounding", kField,
                FirstName(extra), kField);
  }
  if (uint64_t extra = plan.ambient & ~(plan.permitted & plan.inheritable); extra != 0) {
    return Fail("{}.ambient: {} must also be in permitted and inheritable; add it to both", kField,
                FirstName(extra));
  }
  return plan;
}

Status ApplyBoundingSet(Syscalls& sys, const CapsPlan& plan) {
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if (Has(plan.bounding, cap)) {
      continue;
    }
    if (int rc = sys.Prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap)); rc < 0) {
      return ErrnoFail(-rc, "drop {} from the bounding set", CapText(cap));
    }
  }
  return Ok();
}

Status SwitchIdsKeepingCaps(Syscalls& sys, const IdsPlan& ids) {
  if (int rc = sys.Prctl(PR_SET_KEEPCAPS, 1); rc < 0) {
    return ErrnoFail(-rc, "keep capabilities across the uid change (PR_SET_KEEPCAPS)");
  }
  if (ids.setgroups_allowed) {
    if (int rc = sys.Setgroups(ids.additional_gids); rc < 0) {
      return ErrnoFail(-rc, "set process.user.additionalGids");
    }
  } else if (!ids.additional_gids.empty()) {
    return Fail(
        "process.user.additionalGids: setgroups is denied in this user namespace; remove the "
        "additional gids or allow setgroups");
  }
  if (int rc = sys.Setresgid(ids.gid, ids.gid, ids.gid); rc < 0) {
    return ErrnoFail(-rc, "set process.user.gid {}", ids.gid);
  }
  if (int rc = sys.Setresuid(ids.uid, ids.uid, ids.uid); rc < 0) {
    return ErrnoFail(-rc, "set process.user.uid {}", ids.uid);
  }
  return Ok();
}

Status ApplyCapSets(Syscalls& sys, const CapsPlan& plan) {
  if (int rc = sys.Capset(plan.effective, plan.permitted, plan.inheritable); rc < 0) {
    return ErrnoFail(-rc, "set the effective, permitted and inheritable capabilities");
  }
  if (int rc = sys.Prctl(PR_SET_KEEPCAPS, 0); rc < 0) {
    return ErrnoFail(-rc, "reset PR_SET_KEEPCAPS");
  }
  return Ok();
}

Status ApplyAmbientSet(Syscalls& sys, const CapsPlan& plan) {
  if (int rc = sys.Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL); rc < 0) {
    return ErrnoFail(-rc, "clear the ambient capabilities");
  }
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if (!Has(plan.ambient, cap)) {
      continue;
    }
    if (int rc = sys.Prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(cap));
        rc < 0) {
      return ErrnoFail(-rc, "raise {} in the ambient set", CapText(cap));
    }
  }
  return Ok();
}

}  // namespace brick::isolation
