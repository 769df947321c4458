#include "brick/isolation/rlimits.h"

#include <sys/resource.h>

#include <set>
#include <string>

namespace brick::isolation {
namespace {

struct Named {
  const char* name;
  int resource;
};

constexpr Named kRlimits[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},           {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},         {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},   {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},       {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},     {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

const char* StaticName(std::string_view name) {
  for (const Named& n : kRlimits) {
    if (name == n.name) {
      return n.name;
    }
  }
  return nullptr;
}

std::string ValueText(uint64_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

}  // namespace

std::optional<int> RlimitNumber(std::string_view name) {
  for (const Named& n : kRlimits) {
    if (name == n.name) {
      return n.resource;
    }
  }
  return std::nullopt;
}

Result<RlimitsPlan> PlanRlimits(const std::vector<oci::Rlimit>& rlimits) {
  RlimitsPlan plan;
  std::set<int> seen;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const oci::Rlimit& r = rlimits[i];
    std::optional<int> number = RlimitNumber(r.type);
    if (!number) {
      return Fail(
          "process.rlimits[{}].type: unknown rlimit \"{}\"; use one of RLIMIT_CORE, "
          "RLIMIT_NOFILE, RLIMIT_NPROC, ... as in setrlimit(2)",
          i, r.type);
    }
    if (!seen.insert(*number).second) {
      return Fail("process.rlimits[{}].type: {} is given twice", i, r.type);
    }
    if (r.soft > r.hard) {
      return Fail("process.rlimits[{}]: {} soft limit {} is above its hard limit {}", i, r.type,
                  ValueText(r.soft), ValueText(r.hard));
    }
    plan.limits.push_back({*number, StaticName(r.type), r.soft, r.hard});
  }
  return plan;
}

Status ApplyRlimits(Syscalls& sys, const RlimitsPlan& plan) {
  for (const RlimitSetting& limit : plan.limits) {
    uint64_t old_soft = 0;
    uint64_t old_hard = 0;
    bool have_old = sys.Getrlimit(limit.resource, &old_soft, &old_hard) == 0;
    int rc = sys.Setrlimit(limit.resource, limit.soft, limit.hard);
    if (rc == 0) {
      continue;
    }
    std::string what = fmt::format("set {} to soft {} hard {}", limit.name, ValueText(limit.soft),
                                   ValueText(limit.hard));
    if (rc == -EPERM && limit.resource == RLIMIT_NOFILE) {
      return ErrnoFail(-rc,
                       "{}: raising the hard limit above the current one ({}) needs "
                       "CAP_SYS_RESOURCE, and no limit may exceed fs.nr_open; lower "
                       "process.rlimits RLIMIT_NOFILE",
                       what, have_old ? ValueText(old_hard) : "unknown");
    }
    if (rc == -EPERM && have_old && limit.hard > old_hard) {
      return ErrnoFail(-rc,
                       "{}: raising the hard limit above the current one ({}) needs "
                       "CAP_SYS_RESOURCE; lower it in process.rlimits",
                       what, ValueText(old_hard));
    }
    return ErrnoFail(-rc, "{}", what);
  }
  return Ok();
}

}  // namespace brick::isolation
