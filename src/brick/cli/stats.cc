// `brick stats ID [--format text|json]`: one snapshot of a running container's resource
// usage, read from its cgroup. The cgroup is found from the container's state under --root
// (runtime::OpenLiveContainerCgroup: its linux.cgroupsPath and cgroup parent), or, for a
// container brick keeps no state for, at <--cgroup-parent>/<id>.
#include <fmt/core.h>

#include <cerrno>
#include <optional>
#include <string>

#include "brick/cgroup/update.h"
#include "brick/cli/cli.h"
#include "brick/runtime/container.h"
#include "brick/runtime/lifecycle.h"

namespace brick::cli {
namespace {

struct StatsFlags {
  std::string id;
  std::string format = "text";
  std::string cgroup_parent = "brick";
};

// "512.0 MiB"; exact bytes are in the JSON form.
std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, kUnits[unit]);
}

std::string Seconds(uint64_t ns) { return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9); }

std::string JsonOpt(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : "null"; }

// Ids and cgroup paths are validated names, but escape anyway: the output is for machines.
std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string FormatJson(const std::string& id, const cgroup::Manager& m, const cgroup::Stats& s) {
  std::string out =
      fmt::format("{{\"id\":{},\"cgroup\":{},\"cgroup_version\":{}", JsonString(id),
                  JsonString(m.path().path), JsonString(cgroup::VersionName(m.version())));
  if (s.memory) {
    const auto& x = *s.memory;
    out += fmt::format(
        ",\"memory\":{{\"usage_bytes\":{},\"limit_bytes\":{},\"max_usage_bytes\":{},"
        "\"swap_usage_bytes\":{},\"limit_hits\":{},\"oom_events\":{},\"oom_kills\":{}}}",
        x.usage, JsonOpt(x.limit), JsonOpt(x.max_usage), JsonOpt(x.swap_usage), x.limit_hits,
        x.oom_events, x.oom_kill);
  } else {
    out += ",\"memory\":null";
  }
  if (s.cpu) {
    const auto& x = *s.cpu;
    out += fmt::format(
        ",\"cpu\":{{\"usage_ns\":{},\"user_ns\":{},\"system_ns\":{},\"periods\":{},"
        "\"throttled_periods\":{},\"throttled_ns\":{}}}",
        x.usage_ns, JsonOpt(x.user_ns), JsonOpt(x.system_ns), x.periods, x.throttled_periods,
        x.throttled_ns);
  } else {
    out += ",\"cpu\":null";
  }
  if (s.pids) {
    out += fmt::format(",\"pids\":{{\"current\":{},\"limit\":{}}}", s.pids->current,
                       JsonOpt(s.pids->limit));
  } else {
    out += ",\"pids\":null";
  }
  if (s.io) {
    out += ",\"io\":[";
    for (size_t i = 0; i < s.io->size(); ++i) {
      const auto& d = (*s.io)[i];
      out += fmt::format(
          "{}{{\"major\":{},\"minor\":{},\"read_bytes\":{},\"write_bytes\":{},\"read_ops\":{},"
          "\"write_ops\":{}}}",
          i == 0 ? "" : ",", d.major, d.minor, d.read_bytes, d.write_bytes, d.read_ops,
          d.write_ops);
    }
    out += "]";
  } else {
    out += ",\"io\":null";
  }
  return out + "}";
}

std::string FormatText(const std::string& id, const cgroup::Manager& m, const cgroup::Stats& s) {
  std::string out = fmt::format("container  {}\ncgroup     {} (cgroup {})\n", id, m.path().path,
                                cgroup::VersionName(m.version()));
  const char* absent = "not available: no controller on this host\n";
  out += "memory     ";
  if (s.memory) {
    const auto& x = *s.memory;
    out += fmt::format("usage {}, limit {}", HumanBytes(x.usage),
                       x.limit ? HumanBytes(*x.limit) : "none");
    if (x.max_usage) {
      out += fmt::format(", max usage {}", HumanBytes(*x.max_usage));
    }
    if (x.swap_usage) {
      out += fmt::format(", swap {}", HumanBytes(*x.swap_usage));
    }
    out += fmt::format(", limit hits {}, OOM kills {}\n", x.limit_hits, x.oom_kill);
  } else {
    out += absent;
  }
  out += "cpu        ";
  if (s.cpu) {
    const auto& x = *s.cpu;
    out += fmt::format("usage {}", Seconds(x.usage_ns));
    if (x.user_ns && x.system_ns) {
      out += fmt::format(" (user {}, system {})", Seconds(*x.user_ns), Seconds(*x.system_ns));
    }
    out += fmt::format(", throttled {} of {} periods ({})\n", x.throttled_periods, x.periods,
                       Seconds(x.throttled_ns));
  } else {
    out += absent;
  }
  out += "pids       ";
  if (s.pids) {
    out += fmt::format("current {}, limit {}\n", s.pids->current,
                       s.pids->limit ? std::to_string(*s.pids->limit) : "none");
  } else {
    out += absent;
  }
  if (!s.io) {
    out += std::string("io         ") + absent;
  } else if (s.io->empty()) {
    out += "io         no block IO yet\n";
  } else {
    for (const auto& d : *s.io) {
      out += fmt::format("io {:>7}  read {} ({} ops), write {} ({} ops)\n",
                         fmt::format("{}:{}", d.major, d.minor), HumanBytes(d.read_bytes),
                         d.read_ops, HumanBytes(d.write_bytes), d.write_ops);
    }
  }
  return out;
}

}  // namespace

Action RegisterStats(CLI::App& app) {
  auto f = std::make_shared<StatsFlags>();
  app.add_option("id", f->id, "Container id (brick run --id)")->required();
  app.add_option("--format", f->format, "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--cgroup-parent", f->cgroup_parent,
                 "brick's cgroup parent the container was run under (default: brick)");
  return [f]() -> Result<int> {
    BRICK_TRY(runtime::ValidateContainerId(f->id));
    auto manager = runtime::OpenLiveContainerCgroup({Globals().root}, f->id);
    if (!manager && manager.error().errnum() == ENOENT) {
      cgroup::Options opts;
      opts.parent = f->cgroup_parent;
      manager = cgroup::OpenContainerCgroup(f->id, opts);
    }
    if (!manager) {
      return std::unexpected(std::move(manager.error()));
    }
    cgroup::Stats stats = BRICK_TRY_VALUE((*manager)->ReadStats());
    if (f->format == "json") {
      fmt::print("{}\n", FormatJson(f->id, **manager, stats));
    } else {
      fmt::print("{}", FormatText(f->id, **manager, stats));
    }
    return 0;
  };
}

}  // namespace brick::cli
