// `brick update [--resources FILE|-] [--memory N] [--pids-limit N] ... ID`: runc's live change
// of a container's cgroup limits. The file (or stdin for "-") holds an OCI linux.resources
// object; individual flags override its fields, as in runc.
#include <fmt/core.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <optional>
#include <string>

#include "brick/base/strings.h"
#include "brick/cli/cli.h"
#include "brick/runtime/lifecycle.h"
#include "brick/sys/fs.h"

namespace brick::cli {
namespace {

// An update is a few hundred bytes; the cap keeps a mistaken path (/dev/zero) from eating
// memory.
constexpr size_t kMaxResourcesBytes = 1 << 20;

struct UpdateFlags {
  std::string id;
  std::string resources;  // file, or "-" for stdin
  std::string memory;
  std::string memory_reservation;
  std::string memory_swap;
  std::optional<int64_t> pids_limit;
  std::optional<int64_t> cpu_quota;
  std::optional<uint64_t> cpu_period;
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> cpu_rt_runtime;
  std::optional<uint64_t> cpu_rt_period;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::optional<uint16_t> blkio_weight;
};

Result<std::string> ReadAllStdin() {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return ErrnoFail(errno, "--resources -: read stdin");
    }
    if (n == 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > kMaxResourcesBytes) {
      return Fail("--resources -: more than {} KiB on stdin, which no resources object needs",
                  kMaxResourcesBytes >> 10);
    }
  }
}

Result<oci::Resources> LoadResources(const std::string& source) {
  std::string text;
  if (source == "-") {
    text = BRICK_TRY_VALUE(ReadAllStdin());
  } else {
    auto read = ReadFile(source);
    if (!read) {
      return std::unexpected(std::move(read.error()).Wrap(fmt::format("--resources {}", source)));
    }
    text = std::move(*read);
  }
  auto parsed = oci::ParseResources(text);
  if (!parsed) {
    return std::unexpected(std::move(parsed.error())
                               .Wrap(fmt::format("--resources {}", source == "-" ? "-" : source)));
  }
  return parsed;
}

// runc's memory sizes: a byte count with an optional binary unit ("512m", "1g", "64KiB"), or
// -1 for unlimited.
Result<int64_t> ParseByteSize(const std::string& flag, const std::string& text) {
  if (text == "-1") {
    return -1;
  }
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  auto number = ParseU64(std::string_view(text).substr(0, digits));
  std::string unit;
  for (char c : text.substr(digits)) {
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (unit.ends_with("ib")) {
    unit.erase(unit.size() - 2, 1);  // "kib" -> "kb"
  }
  if (unit.size() == 2 && unit[1] == 'b') {
    unit.pop_back();  // "kb" -> "k"
  }
  int shift = -1;
  if (unit.empty() || unit == "b") {
    shift = 0;
  } else if (unit == "k") {
    shift = 10;
  } else if (unit == "m") {
    shift = 20;
  } else if (unit == "g") {
    shift = 30;
  } else if (unit == "t") {
    shift = 40;
  }
  if (digits == 0 || !number || shift < 0) {
    return Fail(
        "{} \"{}\": not a size; use bytes or a number with k, m, g or t (e.g. 512m), "
        "or -1 for no limit",
        flag, text);
  }
  if (*number > (static_cast<uint64_t>(INT64_MAX) >> shift)) {
    return Fail("{} \"{}\": too large", flag, text);
  }
  return static_cast<int64_t>(*number << shift);
}

Result<oci::Resources> BuildResources(const UpdateFlags& f) {
  oci::Resources r;
  if (!f.resources.empty()) {
    r = BRICK_TRY_VALUE(LoadResources(f.resources));
  }
  auto memory = [&r]() -> oci::MemoryResources& {
    if (!r.memory) {
      r.memory.emplace();
    }
    return *r.memory;
  };
  auto cpu = [&r]() -> oci::CpuResources& {
    if (!r.cpu) {
      r.cpu.emplace();
    }
    return *r.cpu;
  };
  if (!f.memory.empty()) {
    memory().limit = BRICK_TRY_VALUE(ParseByteSize("--memory", f.memory));
  }
  if (!f.memory_reservation.empty()) {
    memory().reservation =
        BRICK_TRY_VALUE(ParseByteSize("--memory-reservation", f.memory_reservation));
  }
  if (!f.memory_swap.empty()) {
    memory().swap = BRICK_TRY_VALUE(ParseByteSize("--memory-swap", f.memory_swap));
  }
  if (f.pids_limit) {
    r.pids = oci::PidsResources{*f.pids_limit};
  }
  if (f.cpu_quota) {
    cpu().quota = *f.cpu_quota;
  }
  if (f.cpu_period) {
    cpu().period = *f.cpu_period;
  }
  if (f.cpu_shares) {
    cpu().shares = *f.cpu_shares;
  }
  if (f.cpu_rt_runtime) {
    cpu().realtime_runtime = *f.cpu_rt_runtime;
  }
  if (f.cpu_rt_period) {
    cpu().realtime_period = *f.cpu_rt_period;
  }
  if (!f.cpuset_cpus.empty()) {
    cpu().cpus = f.cpuset_cpus;
  }
  if (!f.cpuset_mems.empty()) {
    cpu().mems = f.cpuset_mems;
  }
  if (f.blkio_weight) {
    if (!r.block_io) {
      r.block_io.emplace();
    }
    r.block_io->weight = *f.blkio_weight;
  }
  // The flags are checked the way a config's resources are.
  BRICK_TRY(oci::ValidateResources(r));
  return r;
}

}  // namespace

Action RegisterUpdate(CLI::App& app) {
  auto f = std::make_shared<UpdateFlags>();
  app.add_option("id", f->id, "Container id")->required();
  app.add_option("-r,--resources", f->resources,
                 "File holding an OCI linux.resources object, or - for stdin");
  app.add_option("--memory", f->memory, "Memory limit (bytes, or e.g. 512m); -1 for none");
  app.add_option("--memory-reservation", f->memory_reservation, "Memory soft limit");
  app.add_option("--memory-swap", f->memory_swap, "Memory plus swap limit; -1 for none");
  app.add_option("--pids-limit", f->pids_limit, "Maximum number of processes; 0 or -1 for none");
  app.add_option("--cpu-quota", f->cpu_quota, "CPU time per period, in microseconds");
  app.add_option("--cpu-period", f->cpu_period, "CFS period, in microseconds");
  app.add_option("--cpu-share,--cpu-shares", f->cpu_shares, "CPU shares (relative weight)");
  app.add_option("--cpu-rt-runtime", f->cpu_rt_runtime, "Realtime runtime, in microseconds");
  app.add_option("--cpu-rt-period", f->cpu_rt_period, "Realtime period, in microseconds");
  app.add_option("--cpuset-cpus", f->cpuset_cpus, "CPUs the container may use (e.g. 0-1)");
  app.add_option("--cpuset-mems", f->cpuset_mems, "Memory nodes the container may use");
  app.add_option("--blkio-weight", f->blkio_weight, "Block IO weight (10 to 1000)");
  return [f]() -> Result<int> {
    oci::Resources r = BRICK_TRY_VALUE(BuildResources(*f));
    if (!r.devices.empty()) {
      LogWarning(
          fmt::format("update container {}: linux.resources.devices ignored; device "
                      "rules stay as create set them",
                      f->id));
    }
    BRICK_TRY(runtime::UpdateContainer({Globals().root}, f->id, r));
    return 0;
  };
}

}  // namespace brick::cli
