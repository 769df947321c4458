#include "brick/cgroup/plan.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

namespace brick::cgroup {
namespace {

constexpr const char* kRes = "linux.resources";

// The v2 name of a controller that v1 calls differently.
std::string V2Name(std::string_view v1_name) {
  return v1_name == "blkio" ? "io" : std::string(v1_name);
}

class Builder {
 public:
  explicit Builder(const Placement& p) : p_(p) {}

  // Where `controller` lives, or an error naming `field`.
  Result<Version> Need(std::string_view controller, std::string_view field) {
    auto it = p_.controllers.find(controller);
    if (it == p_.controllers.end()) {
      return Fail(
          "{}: this host ({}) offers no {} cgroup controller; remove the field or "
          "enable the controller",
          field, p_.host, V2Name(controller));
    }
    return it->second;
  }

  void Write(std::string field, std::string controller, std::string file, std::string value) {
    FileWrite w;
    w.field = std::move(field);
    w.controller = std::move(controller);
    w.choices.emplace_back(std::move(file), std::move(value));
    plan_.steps.emplace_back(std::move(w));
  }
  void WriteChoices(std::string field, std::string controller,
                    std::vector<std::pair<std::string, std::string>> choices) {
    FileWrite w;
    w.field = std::move(field);
    w.controller = std::move(controller);
    w.choices = std::move(choices);
    plan_.steps.emplace_back(std::move(w));
  }
  void Add(Step s) { plan_.steps.push_back(std::move(s)); }

  // The hierarchy key of FileWrite for a controller placed at `v`.
  static std::string Key(Version v, std::string_view controller) {
    return v == Version::kV1 ? std::string(controller) : std::string();
  }

  Plan Take() { return std::move(plan_); }

 private:
  const Placement& p_;
  Plan plan_;
};

std::string Num(int64_t v) { return std::to_string(v); }
std::string NumOrMax(int64_t v) { return v < 0 ? "max" : std::to_string(v); }

// -1 (unlimited) or a positive number; 0 is "not set".
Status CheckLimit(std::optional<int64_t> v, std::string_view field) {
  if (v && *v < -1) {
    return Fail("{}: {} is negative; use -1 for no limit or omit the field", field, *v);
  }
  return Ok();
}

bool IsSet(std::optional<int64_t> v) { return v && *v != 0; }

Status CheckCpuList(const std::string& list, std::string_view field) {
  for (char c : list) {
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',' && c != '-') {
      return Fail("{}: \"{}\" is not a list such as \"0-3,7\"", field, list);
    }
  }
  return Ok();
}

Status CheckBlkioWeight(std::optional<uint16_t> w, std::string_view field) {
  if (w && *w != 0 && (*w < 10 || *w > 1000)) {
    return Fail("{}: {} is out of range; a block IO weight is 10 to 1000", field, *w);
  }
  return Ok();
}

Status Memory(Builder& b, const oci::MemoryResources& m) {
  const std::string f = fmt::format("{}.memory", kRes);
  BRICK_TRY(CheckLimit(m.limit, f + ".limit"));
  BRICK_TRY(CheckLimit(m.reservation, f + ".reservation"));
  BRICK_TRY(CheckLimit(m.swap, f + ".swap"));
  BRICK_TRY(CheckLimit(m.kernel, f + ".kernel"));
  BRICK_TRY(CheckLimit(m.kernel_tcp, f + ".kernelTCP"));
  if (m.swappiness && *m.swappiness > 100) {
    return Fail("{}.swappiness: {} is out of range; swappiness is 0 to 100", f, *m.swappiness);
  }
  bool any = IsSet(m.limit) || IsSet(m.reservation) || IsSet(m.swap) || IsSet(m.kernel) ||
             IsSet(m.kernel_tcp) || m.swappiness || m.disable_oom_killer || m.use_hierarchy;
  if (!any) {
    return Ok();
  }
  Version v = BRICK_TRY_VALUE(b.Need("memory", f));
  std::string key = Builder::Key(v, "memory");
  if (v == Version::kV1) {
    if (IsSet(m.limit) && IsSet(m.swap) && *m.swap != -1 && *m.limit != -1 && *m.swap < *m.limit) {
      return Fail(
          "{}.swap: {} is below {}.limit {}; swap is the memory+swap limit and must be at "
          "least the memory limit",
          f, *m.swap, f, *m.limit);
    }
    if (m.check_before_update.value_or(false) && IsSet(m.limit) && *m.limit > 0) {
      b.Add(MemoryUsageCheck{key, "memory.usage_in_bytes", *m.limit});
    }
    if (IsSet(m.limit) || IsSet(m.swap)) {
      V1MemoryLimits l;
      if (IsSet(m.limit)) {
        l.limit = *m.limit;
      }
      if (IsSet(m.swap)) {
        l.memsw = *m.swap;
      }
      b.Add(l);
    }
    if (IsSet(m.reservation)) {
      b.Write(f + ".reservation", key, "memory.soft_limit_in_bytes", Num(*m.reservation));
    }
    if (IsSet(m.kernel)) {
      b.Write(f + ".kernel", key, "memory.kmem.limit_in_bytes", Num(*m.kernel));
    }
    if (IsSet(m.kernel_tcp)) {
      b.Write(f + ".kernelTCP", key, "memory.kmem.tcp.limit_in_bytes", Num(*m.kernel_tcp));
    }
    if (m.swappiness) {
      b.Write(f + ".swappiness", key, "memory.swappiness", std::to_string(*m.swappiness));
    }
    if (m.disable_oom_killer) {
      b.Write(f + ".disableOOMKiller", key, "memory.oom_control",
              *m.disable_oom_killer ? "1" : "0");
    }
    if (m.use_hierarchy) {
      b.Write(f + ".useHierarchy", key, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0");
    }
    return Ok();
  }
  // cgroup v2.
  if (IsSet(m.kernel)) {
    return Fail(
        "{}.kernel: cgroup v2 has no separate kernel memory limit (kernel memory counts "
        "against memory.max); remove the field",
        f);
  }
  if (IsSet(m.kernel_tcp)) {
    return Fail(
        "{}.kernelTCP: cgroup v2 has no separate TCP buffer limit (it counts against "
        "memory.max); remove the field",
        f);
  }
  if (m.swappiness) {
    return Fail("{}.swappiness: cgroup v2 has no per-cgroup swappiness; remove the field", f);
  }
  if (m.disable_oom_killer.value_or(false)) {
    return Fail(
        "{}.disableOOMKiller: cgroup v2 cannot disable the OOM killer for a cgroup; "
        "remove the field or set it to false",
        f);
  }
  if (m.use_hierarchy && !*m.use_hierarchy) {
    return Fail(
        "{}.useHierarchy: cgroup v2 is always hierarchical; remove the field or set it "
        "to true",
        f);
  }
  if (m.check_before_update.value_or(false) && IsSet(m.limit) && *m.limit > 0) {
    b.Add(MemoryUsageCheck{key, "memory.current", *m.limit});
  }
  if (IsSet(m.limit)) {
    b.Write(f + ".limit", key, "memory.max", NumOrMax(*m.limit));
  }
  if (IsSet(m.swap)) {
    auto swap = SwapToV2(*m.swap, m.limit);
    if (!swap) {
      return std::unexpected(std::move(swap.error()).Wrap(f + ".swap"));
    }
    b.Write(f + ".swap", key, "memory.swap.max", NumOrMax(*swap));
  }
  if (IsSet(m.reservation)) {
    b.Write(f + ".reservation", key, "memory.low", NumOrMax(*m.reservation));
  }
  return Ok();
}

Status Cpu(Builder& b, const oci::CpuResources& c) {
  const std::string f = fmt::format("{}.cpu", kRes);
  if (c.shares && *c.shares != 0 && (*c.shares < 2 || *c.shares > 262144)) {
    return Fail("{}.shares: {} is out of range; shares are 2 to 262144", f, *c.shares);
  }
  if (c.quota && *c.quota < -1) {
    return Fail("{}.quota: {} is negative; use -1 for no quota or omit the field", f, *c.quota);
  }
  if (c.quota && *c.quota > 0 && *c.quota < 1000) {
    return Fail("{}.quota: {} is below the kernel's minimum of 1000 microseconds", f, *c.quota);
  }
  if (c.period && *c.period != 0 && (*c.period < 1000 || *c.period > 1000000)) {
    return Fail("{}.period: {} is out of range; the period is 1000 to 1000000 microseconds", f,
                *c.period);
  }
  if (c.realtime_runtime && *c.realtime_runtime < -1) {
    return Fail("{}.realtimeRuntime: {} is negative; use -1 for no limit", f, *c.realtime_runtime);
  }
  if (c.idle && *c.idle != 0 && *c.idle != 1) {
    return Fail("{}.idle: {} is not 0 or 1", f, *c.idle);
  }
  BRICK_TRY(CheckCpuList(c.cpus, f + ".cpus"));
  BRICK_TRY(CheckCpuList(c.mems, f + ".mems"));

  bool shares = c.shares && *c.shares != 0;
  bool quota = c.quota && *c.quota != 0;
  bool period = c.period && *c.period != 0;
  bool burst = c.burst.has_value();
  bool rt = c.realtime_runtime || c.realtime_period;
  bool idle = c.idle.has_value();
  if (shares || quota || period || burst || rt || idle) {
    Version v = BRICK_TRY_VALUE(b.Need("cpu", f));
    std::string key = Builder::Key(v, "cpu");
    if (v == Version::kV1) {
      if (shares) {
        b.Write(f + ".shares", key, "cpu.shares", std::to_string(*c.shares));
      }
      // The period first: a quota is checked against the period in force.
      if (period) {
        b.Write(f + ".period", key, "cpu.cfs_period_us", std::to_string(*c.period));
      }
      if (quota) {
        b.Write(f + ".quota", key, "cpu.cfs_quota_us", Num(*c.quota));
      }
      if (burst) {
        b.Write(f + ".burst", key, "cpu.cfs_burst_us", std::to_string(*c.burst));
      }
      if (c.realtime_period) {
        b.Write(f + ".realtimePeriod", key, "cpu.rt_period_us", std::to_string(*c.realtime_period));
      }
      if (c.realtime_runtime) {
        b.Write(f + ".realtimeRuntime", key, "cpu.rt_runtime_us", Num(*c.realtime_runtime));
      }
      if (idle) {
        b.Write(f + ".idle", key, "cpu.idle", Num(*c.idle));
      }
    } else {
      if (rt) {
        return Fail("{}.{}: cgroup v2 has no real-time group scheduling; remove the field", f,
                    c.realtime_runtime ? "realtimeRuntime" : "realtimePeriod");
      }
      if (shares) {
        b.Write(f + ".shares", key, "cpu.weight", std::to_string(CpuSharesToWeight(*c.shares)));
      }
      if (quota || period) {
        std::string value = quota && *c.quota > 0 ? Num(*c.quota) : "max";
        if (period) {
          value += " " + std::to_string(*c.period);
        }
        b.Write(f + (quota ? ".quota" : ".period"), key, "cpu.max", value);
      }
      if (burst) {
        b.Write(f + ".burst", key, "cpu.max.burst", std::to_string(*c.burst));
      }
      if (idle) {
        b.Write(f + ".idle", key, "cpu.idle", Num(*c.idle));
      }
    }
  }
  if (!c.cpus.empty() || !c.mems.empty()) {
    Version v = BRICK_TRY_VALUE(b.Need("cpuset", f + (c.cpus.empty() ? ".mems" : ".cpus")));
    std::string key = Builder::Key(v, "cpuset");
    if (!c.cpus.empty()) {
      b.Write(f + ".cpus", key, "cpuset.cpus", c.cpus);
    }
    if (!c.mems.empty()) {
      b.Write(f + ".mems", key, "cpuset.mems", c.mems);
    }
  }
  return Ok();
}

Status BlockIo(Builder& b, const oci::BlockIoResources& io) {
  const std::string f = fmt::format("{}.blockIO", kRes);
  BRICK_TRY(CheckBlkioWeight(io.weight, f + ".weight"));
  BRICK_TRY(CheckBlkioWeight(io.leaf_weight, f + ".leafWeight"));
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const auto& d = io.weight_device[i];
    std::string df = fmt::format("{}.weightDevice[{}]", f, i);
    if (d.major < 0 || d.minor < 0) {
      return Fail("{}: device {}:{} has a negative number", df, d.major, d.minor);
    }
    BRICK_TRY(CheckBlkioWeight(d.weight, df + ".weight"));
    BRICK_TRY(CheckBlkioWeight(d.leaf_weight, df + ".leafWeight"));
  }
  struct Throttle {
    const char* name;
    const std::vector<oci::ThrottleDevice>* list;
    const char* v1_file;
    const char* v2_key;
  };
  const Throttle throttles[] = {
      {"throttleReadBpsDevice", &io.throttle_read_bps_device, "blkio.throttle.read_bps_device",
       "rbps"},
      {"throttleWriteBpsDevice", &io.throttle_write_bps_device, "blkio.throttle.write_bps_device",
       "wbps"},
      {"throttleReadIOPSDevice", &io.throttle_read_iops_device, "blkio.throttle.read_iops_device",
       "riops"},
      {"throttleWriteIOPSDevice", &io.throttle_write_iops_device,
       "blkio.throttle.write_iops_device", "wiops"},
  };
  for (const auto& t : throttles) {
    for (size_t i = 0; i < t.list->size(); ++i) {
      const auto& d = (*t.list)[i];
      if (d.major < 0 || d.minor < 0) {
        return Fail("{}.{}[{}]: device {}:{} has a negative number", f, t.name, i, d.major,
                    d.minor);
      }
    }
  }
  bool weight = io.weight && *io.weight != 0;
  bool leaf = io.leaf_weight && *io.leaf_weight != 0;
  bool any = weight || leaf || !io.weight_device.empty();
  for (const auto& t : throttles) {
    any = any || !t.list->empty();
  }
  if (!any) {
    return Ok();
  }
  Version v = BRICK_TRY_VALUE(b.Need("blkio", f));
  std::string key = Builder::Key(v, "blkio");
  if (v == Version::kV1) {
    if (weight) {
      std::string w = std::to_string(*io.weight);
      b.WriteChoices(f + ".weight", key, {{"blkio.weight", w}, {"blkio.bfq.weight", w}});
    }
    if (leaf) {
      b.Write(f + ".leafWeight", key, "blkio.leaf_weight", std::to_string(*io.leaf_weight));
    }
    for (size_t i = 0; i < io.weight_device.size(); ++i) {
      const auto& d = io.weight_device[i];
      std::string df = fmt::format("{}.weightDevice[{}]", f, i);
      if (d.weight && *d.weight != 0) {
        std::string val = fmt::format("{}:{} {}", d.major, d.minor, *d.weight);
        b.WriteChoices(df + ".weight", key,
                       {{"blkio.weight_device", val}, {"blkio.bfq.weight_device", val}});
      }
      if (d.leaf_weight && *d.leaf_weight != 0) {
        b.Write(df + ".leafWeight", key, "blkio.leaf_weight_device",
                fmt::format("{}:{} {}", d.major, d.minor, *d.leaf_weight));
      }
    }
    for (const auto& t : throttles) {
      for (size_t i = 0; i < t.list->size(); ++i) {
        const auto& d = (*t.list)[i];
        b.Write(fmt::format("{}.{}[{}]", f, t.name, i), key, t.v1_file,
                fmt::format("{}:{} {}", d.major, d.minor, d.rate));
      }
    }
    return Ok();
  }
  // cgroup v2: io.bfq.weight takes blkio weights as they are; io.weight has another scale.
  if (leaf) {
    return Fail("{}.leafWeight: cgroup v2 has no leaf weight; remove the field", f);
  }
  if (weight) {
    b.WriteChoices(f + ".weight", key,
                   {{"io.bfq.weight", std::to_string(*io.weight)},
                    {"io.weight", std::to_string(BlkioWeightToIoWeight(*io.weight))}});
  }
  for (size_t i = 0; i < io.weight_device.size(); ++i) {
    const auto& d = io.weight_device[i];
    std::string df = fmt::format("{}.weightDevice[{}]", f, i);
    if (d.leaf_weight && *d.leaf_weight != 0) {
      return Fail("{}.leafWeight: cgroup v2 has no leaf weight; remove the field", df);
    }
    if (d.weight && *d.weight != 0) {
      b.WriteChoices(df + ".weight", key,
                     {{"io.bfq.weight", fmt::format("{}:{} {}", d.major, d.minor, *d.weight)},
                      {"io.weight", fmt::format("{}:{} {}", d.major, d.minor,
                                                BlkioWeightToIoWeight(*d.weight))}});
    }
  }
  for (const auto& t : throttles) {
    for (size_t i = 0; i < t.list->size(); ++i) {
      const auto& d = (*t.list)[i];
      // v1 removes a throttle with 0; v2 says "max".
      std::string rate = d.rate == 0 ? "max" : std::to_string(d.rate);
      b.Write(fmt::format("{}.{}[{}]", f, t.name, i), key, "io.max",
              fmt::format("{}:{} {}={}", d.major, d.minor, t.v2_key, rate));
    }
  }
  return Ok();
}

Status Hugepages(Builder& b, const std::vector<oci::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& h = limits[i];
    std::string f = fmt::format("{}.hugepageLimits[{}]", kRes, i);
    const std::string& s = h.page_size;
    size_t digits = 0;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) {
      ++digits;
    }
    std::string unit = s.substr(digits);
    if (digits == 0 || (unit != "KB" && unit != "MB" && unit != "GB")) {
      return Fail("{}.pageSize: \"{}\" is not a page size such as \"2MB\" or \"1GB\"", f, s);
    }
    Version v = BRICK_TRY_VALUE(b.Need("hugetlb", f));
    if (v == Version::kV1) {
      b.Write(f + ".limit", "hugetlb", fmt::format("hugetlb.{}.limit_in_bytes", s),
              std::to_string(h.limit));
    } else {
      b.Write(f + ".limit", "", fmt::format("hugetlb.{}.max", s), std::to_string(h.limit));
    }
  }
  return Ok();
}

Status Network(Builder& b, const oci::NetworkResources& n) {
  std::string f = fmt::format("{}.network", kRes);
  if (n.class_id) {
    auto it = b.Need("net_cls", f + ".classID");
    if (!it) {
      return std::unexpected(std::move(it.error()));
    }
    if (*it != Version::kV1) {
      return Fail("{}.classID: cgroup v2 has no net_cls controller; remove the field", f);
    }
    b.Write(f + ".classID", "net_cls", "net_cls.classid", std::to_string(*n.class_id));
  }
  for (size_t i = 0; i < n.priorities.size(); ++i) {
    const auto& p = n.priorities[i];
    std::string pf = fmt::format("{}.priorities[{}]", f, i);
    if (p.name.empty() || p.name.find_first_of(" \t\n/") != std::string::npos) {
      return Fail("{}.name: \"{}\" is not an interface name", pf, p.name);
    }
    Version v = BRICK_TRY_VALUE(b.Need("net_prio", pf));
    if (v != Version::kV1) {
      return Fail("{}: cgroup v2 has no net_prio controller; remove the field", pf);
    }
    b.Write(pf, "net_prio", "net_prio.ifpriomap", fmt::format("{} {}", p.name, p.priority));
  }
  return Ok();
}

Status Rdma(Builder& b, const std::map<std::string, oci::RdmaLimit>& rdma) {
  for (const auto& [dev, lim] : rdma) {
    std::string f = fmt::format("{}.rdma[\"{}\"]", kRes, dev);
    if (dev.empty() || dev.find_first_of(" \t\n/") != std::string::npos) {
      return Fail("{}: \"{}\" is not an RDMA device name", f, dev);
    }
    if (!lim.hca_handles && !lim.hca_objects) {
      return Fail("{}: sets neither hcaHandles nor hcaObjects", f);
    }
    Version v = BRICK_TRY_VALUE(b.Need("rdma", f));
    std::string value = dev;
    if (lim.hca_handles) {
      value += fmt::format(" hca_handle={}", *lim.hca_handles);
    }
    if (lim.hca_objects) {
      value += fmt::format(" hca_object={}", *lim.hca_objects);
    }
    b.Write(f, Builder::Key(v, "rdma"), "rdma.max", value);
  }
  return Ok();
}

std::string V1DeviceRule(const oci::DeviceCgroupRule& r) {
  char type = r.type.value_or('a');
  auto num = [](const std::optional<int64_t>& n) {
    return !n || *n == -1 ? std::string("*") : std::to_string(*n);
  };
  return fmt::format("{} {}:{} {}", type, num(r.major), num(r.minor),
                     r.access.empty() ? "rwm" : r.access);
}

Status Devices(Builder& b, const std::vector<oci::DeviceCgroupRule>& rules, bool has_unified,
               const std::map<std::string, Version, std::less<>>& where) {
  if (rules.empty()) {
    return Ok();
  }
  // Also checks every rule.
  DeviceProgram prog = BRICK_TRY_VALUE(BuildDeviceProgram(rules));
  std::string f = fmt::format("{}.devices", kRes);
  auto it = where.find("devices");
  if (it != where.end() && it->second == Version::kV1) {
    b.Write(f, "devices", "devices.deny", "a");
    for (size_t i = 0; i < rules.size(); ++i) {
      const auto& r = rules[i];
      b.Write(fmt::format("{}[{}]", f, i), "devices", r.allow ? "devices.allow" : "devices.deny",
              V1DeviceRule(r));
    }
    return Ok();
  }
  if (!has_unified) {
    return Fail(
        "{}: this host has no devices cgroup controller and no cgroup v2 hierarchy for "
        "an eBPF device program",
        f);
  }
  b.Add(DeviceProgramStep{std::move(prog)});
  return Ok();
}

Status Unified(Builder& b, const std::map<std::string, std::string>& unified, bool has_unified) {
  for (const auto& [key, value] : unified) {
    std::string f = fmt::format("{}.unified[\"{}\"]", kRes, key);
    if (!has_unified) {
      return Fail(
          "{}: this host has no cgroup v2 hierarchy; use the matching linux.resources "
          "field instead",
          f);
    }
    if (key.empty() || key.find_first_of("/\0") != std::string::npos || key[0] == '.' ||
        key.find('.') == std::string::npos) {
      return Fail("{}: not a cgroup v2 interface file name such as \"memory.high\"", f);
    }
    static const char* const kManaged[] = {"cgroup.procs", "cgroup.threads",
                                           "cgroup.kill",  "cgroup.freeze",
                                           "cgroup.type",  "cgroup.subtree_control"};
    for (const char* m : kManaged) {
      if (key == m) {
        return Fail("{}: brick manages this file itself; remove the key", f);
      }
    }
    if (value.find('\0') != std::string::npos) {
      return Fail("{}: the value contains a NUL byte", f);
    }
    b.Write(f, "", key, value);
  }
  return Ok();
}

}  // namespace

// The quadratic conversion crun adopted (and runc after it): unlike the older linear
// one it maps the v1 default of 1024 shares to the v2 default weight of 100, while
// keeping the ends (2 -> 1, 262144 -> 10000).
uint64_t CpuSharesToWeight(uint64_t shares) {
  if (shares == 0) {
    return 0;
  }
  if (shares <= 2) {
    return 1;
  }
  if (shares >= 262144) {
    return 10000;
  }
  double l = std::log2(static_cast<double>(shares));
  double exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return static_cast<uint64_t>(std::ceil(std::pow(10.0, exponent)));
}

uint64_t CpuWeightToShares(uint64_t weight) {
  if (weight <= 1) {
    return 2;
  }
  if (weight >= 10000) {
    return 262144;
  }
  // Inverse of the above: solve l^2 + 125 l = 612 (log10(w) + 7/34) for l = log2(shares).
  double rhs = 612.0 * (std::log10(static_cast<double>(weight)) + 7.0 / 34.0);
  double l = (-125.0 + std::sqrt(125.0 * 125.0 + 4.0 * rhs)) / 2.0;
  return static_cast<uint64_t>(std::llround(std::exp2(l)));
}

uint64_t BlkioWeightToIoWeight(uint64_t weight) {
  if (weight == 0) {
    return 0;
  }
  if (weight < 10) {
    weight = 10;
  }
  return 1 + ((weight - 10) * 9999) / 990;
}

Result<int64_t> SwapToV2(int64_t swap, std::optional<int64_t> limit) {
  if (swap == -1) {
    return -1;
  }
  if (swap < 0) {
    return Fail("{} is negative; use -1 for unlimited swap", swap);
  }
  if (!limit || *limit == 0 || *limit == -1) {
    return Fail(
        "a swap limit needs a memory limit (swap is memory+swap); set "
        "linux.resources.memory.limit");
  }
  if (swap < *limit) {
    return Fail(
        "{} is below the memory limit {}; swap is the memory+swap limit and must be at "
        "least the memory limit",
        swap, *limit);
  }
  return swap - *limit;
}

Result<Plan> BuildPlan(const oci::Resources& r, const Placement& placement) {
  Builder b(placement);
  // Devices first: the device rules should be in force before anything else can run.
  BRICK_TRY(Devices(b, r.devices, placement.has_unified, placement.controllers));
  if (r.memory) {
    BRICK_TRY(Memory(b, *r.memory));
  }
  if (r.cpu) {
    BRICK_TRY(Cpu(b, *r.cpu));
  }
  if (r.pids) {
    std::string f = fmt::format("{}.pids.limit", kRes);
    Version v = BRICK_TRY_VALUE(b.Need("pids", f));
    b.Write(f, Builder::Key(v, "pids"), "pids.max",
            NumOrMax(r.pids->limit <= 0 ? -1 : r.pids->limit));
  }
  if (r.block_io) {
    BRICK_TRY(BlockIo(b, *r.block_io));
  }
  BRICK_TRY(Hugepages(b, r.hugepage_limits));
  if (r.network) {
    BRICK_TRY(Network(b, *r.network));
  }
  BRICK_TRY(Rdma(b, r.rdma));
  // Last, so that an explicit unified value overrides a converted one, as in runc.
  BRICK_TRY(Unified(b, r.unified, placement.has_unified));
  return b.Take();
}

}  // namespace brick::cgroup
