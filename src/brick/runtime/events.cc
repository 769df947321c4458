#include "brick/runtime/events.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace brick::runtime {
namespace {

using Json = nlohmann::ordered_json;

// Go's encoding/json leaves out a zero value tagged omitempty; callers decode it back as 0.
void PutNonZero(Json& o, const char* key, uint64_t v) {
  if (v != 0) {
    o[key] = v;
  }
}

Json CpuJson(const cgroup::Stats& s) {
  Json usage = Json::object();
  Json throttling = Json::object();
  if (s.cpu) {
    const cgroup::CpuStats& c = *s.cpu;
    PutNonZero(usage, "total", c.usage_ns);
    if (!c.percpu_ns.empty()) {
      usage["percpu"] = c.percpu_ns;
    }
    usage["kernel"] = c.system_ns.value_or(0);
    usage["user"] = c.user_ns.value_or(0);
    PutNonZero(throttling, "periods", c.periods);
    PutNonZero(throttling, "throttledPeriods", c.throttled_periods);
    PutNonZero(throttling, "throttledTime", c.throttled_ns);
  } else {
    usage["kernel"] = 0;
    usage["user"] = 0;
  }
  return Json{{"usage", std::move(usage)}, {"throttling", std::move(throttling)}};
}

// runc's MemoryEntry: limit and failcnt always, usage and max when non-zero.
Json MemoryEntry(uint64_t limit, uint64_t usage, uint64_t max, uint64_t failcnt) {
  Json e = {{"limit", limit}};
  PutNonZero(e, "usage", usage);
  PutNonZero(e, "max", max);
  e["failcnt"] = failcnt;
  return e;
}

Json MemoryJson(const cgroup::Stats& s) {
  Json m = Json::object();
  if (!s.memory) {
    m["usage"] = MemoryEntry(0, 0, 0, 0);
    m["swap"] = MemoryEntry(0, 0, 0, 0);
    m["kernel"] = MemoryEntry(0, 0, 0, 0);
    m["kernelTCP"] = MemoryEntry(0, 0, 0, 0);
    return m;
  }
  const cgroup::MemoryStats& x = *s.memory;
  // Page cache: "cache" on cgroup v1, "file" on v2.
  auto cache = x.raw.find("cache");
  if (cache == x.raw.end()) {
    cache = x.raw.find("file");
  }
  if (cache != x.raw.end()) {
    PutNonZero(m, "cache", cache->second);
  }
  // runc reports no limit as the largest value the counter takes.
  uint64_t limit = x.limit.value_or(std::numeric_limits<uint64_t>::max());
  m["usage"] = MemoryEntry(limit, x.usage, x.max_usage.value_or(0), x.limit_hits);
  // runc's swap entry counts memory and swap together, on both cgroup versions.
  m["swap"] = MemoryEntry(0, x.swap_usage ? x.usage + *x.swap_usage : 0, 0, 0);
  m["kernel"] = MemoryEntry(0, 0, 0, 0);
  m["kernelTCP"] = MemoryEntry(0, 0, 0, 0);
  if (!x.raw.empty()) {
    m["raw"] = x.raw;
  }
  return m;
}

Json PidsJson(const cgroup::Stats& s) {
  Json p = Json::object();
  if (s.pids) {
    PutNonZero(p, "current", s.pids->current);
    PutNonZero(p, "limit", s.pids->limit.value_or(0));  // 0: no limit, as runc says it
  }
  return p;
}

Json BlkioEntry(const cgroup::IoDeviceStats& d, const char* op, uint64_t value) {
  Json e = Json::object();
  PutNonZero(e, "major", d.major);
  PutNonZero(e, "minor", d.minor);
  e["op"] = op;
  PutNonZero(e, "value", value);
  return e;
}

Json BlkioJson(const cgroup::Stats& s) {
  Json b = Json::object();
  if (!s.io || s.io->empty()) {
    return b;
  }
  Json bytes = Json::array();
  Json ops = Json::array();
  for (const auto& d : *s.io) {
    bytes.push_back(BlkioEntry(d, "Read", d.read_bytes));
    bytes.push_back(BlkioEntry(d, "Write", d.write_bytes));
    bytes.push_back(BlkioEntry(d, "Total", d.read_bytes + d.write_bytes));
    ops.push_back(BlkioEntry(d, "Read", d.read_ops));
    ops.push_back(BlkioEntry(d, "Write", d.write_ops));
    ops.push_back(BlkioEntry(d, "Total", d.read_ops + d.write_ops));
  }
  b["ioServiceBytesRecursive"] = std::move(bytes);
  b["ioServicedRecursive"] = std::move(ops);
  return b;
}

}  // namespace

std::string StatsEventJson(const std::string& id, const cgroup::Stats& stats) {
  Json data = {
      {"cpu", CpuJson(stats)},         {"memory", MemoryJson(stats)}, {"pids", PidsJson(stats)},
      {"blkio", BlkioJson(stats)},     {"hugetlb", Json::object()},   {"intel_rdt", Json::object()},
      {"network_interfaces", nullptr},
  };
  return Json{{"type", "stats"}, {"id", id}, {"data", std::move(data)}}.dump();
}

std::string OomEventJson(const std::string& id) { return Json{{"type", "oom"}, {"id", id}}.dump(); }

Result<std::chrono::nanoseconds> ParseDuration(std::string_view text) {
  auto bad = [&]() {
    return Fail("--interval \"{}\": not a duration; use a number and a unit, e.g. 5s, 500ms, 1m",
                text);
  };
  if (text.empty()) {
    return bad();
  }
  // "ms" before "m", so that milliseconds are not read as minutes.
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1.0}, {"us", 1e3}, {"\u00b5s", 1e3}, {"ms", 1e6},
      {"s", 1e9},  {"m", 60e9}, {"h", 3600e9},
  };
  double total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t n = 0;
    bool dot = false;
    while (n < rest.size() && ((rest[n] >= '0' && rest[n] <= '9') || (rest[n] == '.' && !dot))) {
      dot = dot || rest[n] == '.';
      ++n;
    }
    if (n == 0 || (n == 1 && dot)) {
      return bad();
    }
    double value = std::strtod(std::string(rest.substr(0, n)).c_str(), nullptr);
    rest.remove_prefix(n);
    bool matched = false;
    for (const auto& [unit, scale] : kUnits) {
      if (rest.starts_with(unit)) {
        total += value * scale;
        rest.remove_prefix(unit.size());
        matched = true;
        break;
      }
    }
    if (!matched) {
      return bad();
    }
  }
  if (!(total >= 1) || total > 1e18) {
    return Fail("--interval \"{}\": must be between 1ns and about 30 years", text);
  }
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
}

}  // namespace brick::runtime
