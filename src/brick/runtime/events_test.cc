#include "brick/runtime/events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

namespace brick::runtime {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using std::chrono::nanoseconds;

cgroup::Stats SampleStats() {
  cgroup::Stats s;
  cgroup::MemoryStats m;
  m.usage = 4096;
  m.limit = 1 << 20;
  m.max_usage = 8192;
  m.swap_usage = 100;
  m.limit_hits = 3;
  m.oom_kill = 1;
  m.raw = {{"cache", 512}, {"rss", 1024}};
  s.memory = m;
  cgroup::CpuStats c;
  c.usage_ns = 900;
  c.user_ns = 600;
  c.system_ns = 300;
  c.periods = 10;
  c.throttled_periods = 2;
  c.throttled_ns = 77;
  c.percpu_ns = {500, 400};
  s.cpu = c;
  s.pids = cgroup::PidsStats{3, 64};
  s.io = std::vector<cgroup::IoDeviceStats>{{8, 0, 4096, 8192, 1, 2}};
  return s;
}

TEST(StatsEventJsonTest, UsesRuncFieldNames) {
  std::string line = StatsEventJson("web1", SampleStats());
  EXPECT_EQ(line.find('\n'), std::string::npos);  // one event per line
  json e = json::parse(line);
  EXPECT_EQ(e["type"], "stats");
  EXPECT_EQ(e["id"], "web1");
  const json& d = e["data"];
  EXPECT_EQ(d["cpu"]["usage"]["total"], 900);
  EXPECT_EQ(d["cpu"]["usage"]["percpu"], json({500, 400}));
  EXPECT_EQ(d["cpu"]["usage"]["kernel"], 300);
  EXPECT_EQ(d["cpu"]["usage"]["user"], 600);
  EXPECT_EQ(d["cpu"]["throttling"]["periods"], 10);
  EXPECT_EQ(d["cpu"]["throttling"]["throttledPeriods"], 2);
  EXPECT_EQ(d["cpu"]["throttling"]["throttledTime"], 77);
  EXPECT_EQ(d["memory"]["cache"], 512);
  EXPECT_EQ(d["memory"]["usage"]["usage"], 4096);
  EXPECT_EQ(d["memory"]["usage"]["limit"], 1 << 20);
  EXPECT_EQ(d["memory"]["usage"]["max"], 8192);
  EXPECT_EQ(d["memory"]["usage"]["failcnt"], 3);
  EXPECT_EQ(d["memory"]["swap"]["usage"], 4196);  // memory + swap, as runc counts it
  EXPECT_EQ(d["memory"]["raw"]["rss"], 1024);
  EXPECT_EQ(d["pids"]["current"], 3);
  EXPECT_EQ(d["pids"]["limit"], 64);
  const json& bytes = d["blkio"]["ioServiceBytesRecursive"];
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(bytes[0], json({{"major", 8}, {"op", "Read"}, {"value", 4096}}));  // minor 0 omitted
  EXPECT_EQ(bytes[2]["op"], "Total");
  EXPECT_EQ(bytes[2]["value"], 12288);
  EXPECT_EQ(d["blkio"]["ioServicedRecursive"][1]["value"], 2);
}

TEST(StatsEventJsonTest, UnlimitedAndMissingControllers) {
  cgroup::Stats s;
  s.memory = cgroup::MemoryStats{};
  s.memory->usage = 10;
  s.pids = cgroup::PidsStats{1, std::nullopt};
  json d = json::parse(StatsEventJson("x", s))["data"];
  EXPECT_EQ(d["memory"]["usage"]["limit"], std::numeric_limits<uint64_t>::max());
  EXPECT_FALSE(d["memory"].contains("raw"));
  EXPECT_FALSE(d["pids"].contains("limit"));
  EXPECT_EQ(d["pids"]["current"], 1);
  // No cpu controller: the zero shape runc prints, not a missing key.
  EXPECT_EQ(d["cpu"]["usage"]["kernel"], 0);
  EXPECT_TRUE(d["blkio"].is_object());
  EXPECT_TRUE(d["blkio"].empty());
}

TEST(OomEventJsonTest, Shape) {
  EXPECT_EQ(json::parse(OomEventJson("c")), json({{"type", "oom"}, {"id", "c"}}));
}

TEST(ParseDurationTest, GoForms) {
  EXPECT_EQ(*ParseDuration("5s"), nanoseconds(5'000'000'000));
  EXPECT_EQ(*ParseDuration("250ms"), nanoseconds(250'000'000));
  EXPECT_EQ(*ParseDuration("1m30s"), nanoseconds(90'000'000'000));
  EXPECT_EQ(*ParseDuration("1.5s"), nanoseconds(1'500'000'000));
  EXPECT_EQ(*ParseDuration("100us"), nanoseconds(100'000));
  EXPECT_EQ(*ParseDuration("2h"), nanoseconds(7'200'000'000'000));
  EXPECT_EQ(*ParseDuration("10ns"), nanoseconds(10));
}

TEST(ParseDurationTest, BadValuesNameTheFlag) {
  for (const char* bad : {"", "5", "s", "5x", "-1s", "0s", "1..5s", "5s ", "."}) {
    auto d = ParseDuration(bad);
    ASSERT_FALSE(d.has_value()) << bad;
    EXPECT_THAT(d.error().message(), HasSubstr("--interval")) << bad;
  }
}

}  // namespace
}  // namespace brick::runtime
