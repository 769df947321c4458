// What cgroups cost one `brick run`, measured through the library on this host's real
// hierarchies (below brick-bench-<pid>, removed at the end).
//
//   build/bench/cgroup_bench --benchmark_format=json     (bench/startup.py runs it)
//
// BM_CgroupPerRun is every cgroup step `brick run` takes with its default limits: detect
// the layout, sweep for stale cgroups, validate, create, apply, place the init, and after
// it exited, remove. Forking and reaping the stand-in init is not timed. The other
// benchmarks split that up.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "brick/cgroup/defaults.h"
#include "brick/cgroup/manager.h"

namespace brick::cgroup {
namespace {

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r) {
    fmt::print(stderr, "cgroup_bench: {}: {}\n", what, r.error().message());
    std::exit(1);
  }
  return std::move(*r);
}

void Must(Status st, const char* what) {
  if (!st) {
    fmt::print(stderr, "cgroup_bench: {}: {}\n", what, st.error().message());
    std::exit(1);
  }
}

Options BenchOptions() {
  Options o;
  o.parent = fmt::format("brick-bench-{}", getpid());
  return o;
}

// A forked process blocked on a pipe: the stand-in for the container's init.
class StandIn {
 public:
  StandIn() {
    int fds[2];
    if (pipe(fds) != 0) {
      std::perror("pipe");
      std::exit(1);
    }
    pid_ = fork();
    if (pid_ == 0) {
      close(fds[1]);
      char c;
      (void)!read(fds[0], &c, 1);
      _exit(0);
    }
    close(fds[0]);
    go_ = fds[1];
  }
  pid_t pid() const { return pid_; }
  // Lets it exit, and reaps it.
  void Finish() {
    close(go_);
    int status;
    waitpid(pid_, &status, 0);
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
};

std::unique_ptr<Manager> NewFor(const Layout& layout, const Options& opts, int n) {
  CgroupPath path = Must(ResolveCgroupsPath("", fmt::format("c{}", n), opts), "resolve");
  return Must(NewManager(layout, path, opts), "new manager");
}

void BM_DetectLayout(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(Must(DetectLayout(), "detect layout"));
  }
}
BENCHMARK(BM_DetectLayout);

// With nothing stale: the cost every run pays to look.
void BM_CleanupStaleSweep(benchmark::State& state) {
  Options opts = BenchOptions();
  Layout layout = Must(DetectLayout(), "detect layout");
  for (auto _ : state) {
    Must(CleanupStale(layout, opts, {}, kStaleMinAge), "cleanup");
  }
}
BENCHMARK(BM_CleanupStaleSweep);

void BM_CreateDestroy(benchmark::State& state) {
  Options opts = BenchOptions();
  Layout layout = Must(DetectLayout(), "detect layout");
  int n = 0;
  for (auto _ : state) {
    auto m = NewFor(layout, opts, n++);
    Must(m->Create(), "create");
    Must(m->Destroy(), "destroy");
  }
}
BENCHMARK(BM_CreateDestroy);

void BM_ApplyDefaults(benchmark::State& state) {
  Options opts = BenchOptions();
  Layout layout = Must(DetectLayout(), "detect layout");
  oci::Resources res = DefaultResources();
  auto m = NewFor(layout, opts, 0);
  Must(m->Create(), "create");
  for (auto _ : state) {
    Must(m->Apply(res), "apply");
  }
  Must(m->Destroy(), "destroy");
}
BENCHMARK(BM_ApplyDefaults);

void BM_CgroupPerRun(benchmark::State& state) {
  Options opts = BenchOptions();
  oci::Resources res = DefaultResources();
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    StandIn init;
    state.ResumeTiming();
    Layout layout = Must(DetectLayout(), "detect layout");
    Must(CleanupStale(layout, opts, {}, kStaleMinAge), "cleanup");
    auto m = NewFor(layout, opts, n++);
    Must(m->Validate(res), "validate");
    Must(m->Create(), "create");
    Must(m->Apply(res), "apply");
    Must(m->AddProcess(init.pid()), "add process");
    state.PauseTiming();
    init.Finish();
    state.ResumeTiming();
    Must(m->Destroy(), "destroy");
  }
}
BENCHMARK(BM_CgroupPerRun);

// Removes brick-bench-<pid> wherever a benchmark left it (each Destroy removes the parent
// it made, so normally there is nothing left).
void RemoveBenchParent() {
  Options opts = BenchOptions();
  auto layout = DetectLayout();
  if (!layout) {
    return;
  }
  (void)CleanupStale(*layout, opts);
  for (const auto& h : layout->v1) {
    rmdir((h.mount_point + "/" + opts.parent).c_str());
  }
  if (layout->unified) {
    rmdir((layout->unified->mount_point + "/" + opts.parent).c_str());
  }
}

}  // namespace
}  // namespace brick::cgroup

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  brick::cgroup::RemoveBenchParent();
  return 0;
}
