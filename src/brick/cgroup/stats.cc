#include "brick/cgroup/stats.h"

#include <unistd.h>

#include <map>
#include <utility>

#include "brick/base/strings.h"

namespace brick::cgroup {
namespace {

// v1 reports "no limit" as the largest page-aligned counter value, about 2^63.
constexpr uint64_t kV1Unlimited = uint64_t{1} << 62;

Result<uint64_t> ReadNumber(CgroupFs& fs, const std::string& file) {
  std::string text = BRICK_TRY_VALUE(fs.Read(file));
  auto v = ParseU64(Trim(text));
  if (!v) {
    return Fail("{}: \"{}\" is not a number", file, Trim(text));
  }
  return *v;
}

// A number, or nullopt for "max".
Result<std::optional<uint64_t>> ReadNumberOrMax(CgroupFs& fs, const std::string& file) {
  std::string text = BRICK_TRY_VALUE(fs.Read(file));
  if (Trim(text) == "max") {
    return std::optional<uint64_t>();
  }
  auto v = ParseU64(Trim(text));
  if (!v) {
    return Fail("{}: \"{}\" is not a number or max", file, Trim(text));
  }
  return std::optional<uint64_t>(*v);
}

// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control).
Result<std::map<std::string, uint64_t>> ReadFlatKeyed(CgroupFs& fs, const std::string& file) {
  std::string text = BRICK_TRY_VALUE(fs.Read(file));
  std::map<std::string, uint64_t> out;
  for (const auto& line : Split(text, '\n')) {
    auto parts = Split(Trim(line), ' ');
    if (parts.size() != 2) {
      continue;
    }
    if (auto v = ParseU64(parts[1])) {
      out[parts[0]] = *v;
    }
  }
  return out;
}

uint64_t Get(const std::map<std::string, uint64_t>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? 0 : it->second;
}

bool ParseDevice(std::string_view s, uint32_t* major, uint32_t* minor) {
  auto parts = Split(s, ':');
  if (parts.size() != 2) {
    return false;
  }
  auto ma = ParseU64(parts[0]);
  auto mi = ParseU64(parts[1]);
  if (!ma || !mi) {
    return false;
  }
  *major = static_cast<uint32_t>(*ma);
  *minor = static_cast<uint32_t>(*mi);
  return true;
}

}  // namespace

Result<MemoryStats> ReadV1MemoryStats(CgroupFs& fs, const std::string& dir) {
  MemoryStats m;
  m.usage = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.usage_in_bytes"));
  uint64_t limit = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.limit_in_bytes"));
  if (limit < kV1Unlimited) {
    m.limit = limit;
  }
  m.max_usage = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.max_usage_in_bytes"));
  m.limit_hits = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.failcnt"));
  if (fs.Exists(dir + "/memory.memsw.usage_in_bytes")) {
    uint64_t memsw = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.memsw.usage_in_bytes"));
    m.swap_usage = memsw > m.usage ? memsw - m.usage : 0;
  }
  auto oom = BRICK_TRY_VALUE(ReadFlatKeyed(fs, dir + "/memory.oom_control"));
  m.oom_kill = Get(oom, "oom_kill");
  // v1 has no count of OOM situations apart from the kills.
  m.oom_events = m.oom_kill;
  if (fs.Exists(dir + "/memory.stat")) {
    m.raw = BRICK_TRY_VALUE(ReadFlatKeyed(fs, dir + "/memory.stat"));
  }
  return m;
}

Result<MemoryStats> ReadV2MemoryStats(CgroupFs& fs, const std::string& dir) {
  MemoryStats m;
  m.usage = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.current"));
  m.limit = BRICK_TRY_VALUE(ReadNumberOrMax(fs, dir + "/memory.max"));
  if (fs.Exists(dir + "/memory.peak")) {
    m.max_usage = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.peak"));
  }
  if (fs.Exists(dir + "/memory.swap.current")) {
    m.swap_usage = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/memory.swap.current"));
  }
  auto events = BRICK_TRY_VALUE(ReadFlatKeyed(fs, dir + "/memory.events"));
  m.limit_hits = Get(events, "max");
  m.oom_events = Get(events, "oom");
  m.oom_kill = Get(events, "oom_kill");
  if (fs.Exists(dir + "/memory.stat")) {
    m.raw = BRICK_TRY_VALUE(ReadFlatKeyed(fs, dir + "/memory.stat"));
  }
  return m;
}

Result<CpuStats> ReadV1CpuStats(CgroupFs& fs, const std::string& cpu_dir,
                                const std::string& cpuacct_dir) {
  CpuStats c;
  if (!cpuacct_dir.empty()) {
    c.usage_ns = BRICK_TRY_VALUE(ReadNumber(fs, cpuacct_dir + "/cpuacct.usage"));
    if (fs.Exists(cpuacct_dir + "/cpuacct.usage_user")) {
      c.user_ns = BRICK_TRY_VALUE(ReadNumber(fs, cpuacct_dir + "/cpuacct.usage_user"));
      c.system_ns = BRICK_TRY_VALUE(ReadNumber(fs, cpuacct_dir + "/cpuacct.usage_sys"));
    } else {
      // cpuacct.stat counts USER_HZ ticks.
      auto st = BRICK_TRY_VALUE(ReadFlatKeyed(fs, cpuacct_dir + "/cpuacct.stat"));
      uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
      c.user_ns = Get(st, "user") * ns_per_tick;
      c.system_ns = Get(st, "system") * ns_per_tick;
    }
    if (fs.Exists(cpuacct_dir + "/cpuacct.usage_percpu")) {
      // One number per possible CPU, space-separated.
      std::string text = BRICK_TRY_VALUE(fs.Read(cpuacct_dir + "/cpuacct.usage_percpu"));
      for (const auto& field : Split(Trim(text), ' ')) {
        if (field.empty()) {
          continue;
        }
        auto v = ParseU64(field);
        if (!v) {
          return Fail("{}/cpuacct.usage_percpu: \"{}\" is not a number", cpuacct_dir, field);
        }
        c.percpu_ns.push_back(*v);
      }
    }
  }
  if (!cpu_dir.empty()) {
    auto st = BRICK_TRY_VALUE(ReadFlatKeyed(fs, cpu_dir + "/cpu.stat"));
    c.periods = Get(st, "nr_periods");
    c.throttled_periods = Get(st, "nr_throttled");
    c.throttled_ns = Get(st, "throttled_time");
  }
  return c;
}

Result<CpuStats> ReadV2CpuStats(CgroupFs& fs, const std::string& dir) {
  auto st = BRICK_TRY_VALUE(ReadFlatKeyed(fs, dir + "/cpu.stat"));
  CpuStats c;
  c.usage_ns = Get(st, "usage_usec") * 1000;
  c.user_ns = Get(st, "user_usec") * 1000;
  c.system_ns = Get(st, "system_usec") * 1000;
  c.periods = Get(st, "nr_periods");
  c.throttled_periods = Get(st, "nr_throttled");
  c.throttled_ns = Get(st, "throttled_usec") * 1000;
  return c;
}

Result<PidsStats> ReadPidsStats(CgroupFs& fs, const std::string& dir) {
  PidsStats p;
  p.current = BRICK_TRY_VALUE(ReadNumber(fs, dir + "/pids.current"));
  p.limit = BRICK_TRY_VALUE(ReadNumberOrMax(fs, dir + "/pids.max"));
  return p;
}

Result<std::vector<IoDeviceStats>> ReadV1IoStats(CgroupFs& fs, const std::string& dir) {
  // "8:0 Read 4096" lines; the throttle files count every IO whatever the scheduler.
  std::map<std::pair<uint32_t, uint32_t>, IoDeviceStats> devs;
  auto read = [&](const std::string& file, bool bytes) -> Status {
    std::string text = BRICK_TRY_VALUE(fs.Read(dir + "/" + file));
    for (const auto& line : Split(text, '\n')) {
      auto parts = Split(Trim(line), ' ');
      IoDeviceStats d;
      if (parts.size() != 3 || !ParseDevice(parts[0], &d.major, &d.minor)) {
        continue;
      }
      auto v = ParseU64(parts[2]);
      if (!v) {
        continue;
      }
      auto& e = devs.try_emplace({d.major, d.minor}, d).first->second;
      if (parts[1] == "Read") {
        (bytes ? e.read_bytes : e.read_ops) = *v;
      } else if (parts[1] == "Write") {
        (bytes ? e.write_bytes : e.write_ops) = *v;
      }
    }
    return Ok();
  };
  BRICK_TRY(read("blkio.throttle.io_service_bytes", true));
  BRICK_TRY(read("blkio.throttle.io_serviced", false));
  std::vector<IoDeviceStats> out;
  for (auto& [k, v] : devs) {
    out.push_back(v);
  }
  return out;
}

Result<std::vector<IoDeviceStats>> ReadV2IoStats(CgroupFs& fs, const std::string& dir) {
  // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
  std::string text = BRICK_TRY_VALUE(fs.Read(dir + "/io.stat"));
  std::vector<IoDeviceStats> out;
  for (const auto& line : Split(text, '\n')) {
    auto parts = Split(Trim(line), ' ');
    IoDeviceStats d;
    if (parts.empty() || !ParseDevice(parts[0], &d.major, &d.minor)) {
      continue;
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      auto kv = Split(parts[i], '=');
      if (kv.size() != 2) {
        continue;
      }
      uint64_t v = ParseU64(kv[1]).value_or(0);
      if (kv[0] == "rbytes") {
        d.read_bytes = v;
      } else if (kv[0] == "wbytes") {
        d.write_bytes = v;
      } else if (kv[0] == "rios") {
        d.read_ops = v;
      } else if (kv[0] == "wios") {
        d.write_ops = v;
      }
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace brick::cgroup
