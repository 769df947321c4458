// `brick events [--stats] [--interval 5s] ID`: runc's event stream. With --stats, one stats
// event and exit; without, a stats event every interval and an oom event whenever the
// container's OOM kill count rises, until the container stops (exit 0).
#include "brick/runtime/events.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "brick/cli/cli.h"
#include "brick/runtime/lifecycle.h"

namespace brick::cli {
namespace {

using Clock = std::chrono::steady_clock;

// How often the stream looks for an OOM kill and for the container's end between two stats
// events: often enough that an oom event follows the kill closely, rarely enough to cost
// nothing.
constexpr std::chrono::milliseconds kPollPeriod{200};

struct EventsFlags {
  std::string id;
  bool stats = false;
  std::string interval = "5s";
};

void PrintLine(const std::string& line) {
  fmt::print("{}\n", line);
  std::fflush(stdout);  // a caller reads the stream line by line from a pipe
}

uint64_t OomKills(const cgroup::Stats& s) { return s.memory ? s.memory->oom_kill : 0; }

// The stream ends quietly once the container stops or is deleted; any other failure is an
// error.
bool Ended(const Error& e) { return e.errnum() == ESRCH || e.errnum() == ENOENT; }

Result<int> Stream(const std::string& id, std::chrono::nanoseconds interval) {
  runtime::LifecycleOptions o{Globals().root};
  // The first read reports an unknown or stopped container as an error, as runc does.
  auto manager = BRICK_TRY_VALUE(runtime::OpenLiveContainerCgroup(o, id));
  cgroup::Stats first = BRICK_TRY_VALUE(manager->ReadStats());
  uint64_t oom_seen = OomKills(first);
  PrintLine(runtime::StatsEventJson(id, first));
  Clock::time_point next_stats = Clock::now() + interval;
  while (true) {
    Clock::time_point wake = std::min(next_stats, Clock::now() + kPollPeriod);
    std::this_thread::sleep_until(wake);
    // Reopened each time: the container's lock is held only for the look-up, so other brick
    // commands on it never wait for the stream.
    auto live = runtime::OpenLiveContainerCgroup(o, id);
    if (!live) {
      if (Ended(live.error())) {
        return 0;
      }
      return std::unexpected(std::move(live.error()));
    }
    auto stats = (*live)->ReadStats();
    if (!stats) {
      // The cgroup went away between the look-up and the read: the container was deleted.
      if (Ended(stats.error())) {
        return 0;
      }
      return std::unexpected(std::move(stats.error()));
    }
    if (OomKills(*stats) > oom_seen) {
      oom_seen = OomKills(*stats);
      PrintLine(runtime::OomEventJson(id));
    }
    if (Clock::now() >= next_stats) {
      PrintLine(runtime::StatsEventJson(id, *stats));
      next_stats += interval;
      if (next_stats < Clock::now()) {
        next_stats = Clock::now() + interval;  // a stalled stream does not catch up in a burst
      }
    }
  }
}

}  // namespace

Action RegisterEvents(CLI::App& app) {
  auto f = std::make_shared<EventsFlags>();
  app.add_option("id", f->id, "Container id")->required();
  app.add_flag("--stats", f->stats, "Print one stats event and exit");
  app.add_option("--interval", f->interval, "Time between stats events (default 5s)");
  return [f]() -> Result<int> {
    auto interval = BRICK_TRY_VALUE(runtime::ParseDuration(f->interval));
    if (f->stats) {
      auto manager = BRICK_TRY_VALUE(runtime::OpenLiveContainerCgroup({Globals().root}, f->id));
      cgroup::Stats stats = BRICK_TRY_VALUE(manager->ReadStats());
      PrintLine(runtime::StatsEventJson(f->id, stats));
      return 0;
    }
    return Stream(f->id, interval);
  };
}

}  // namespace brick::cli
