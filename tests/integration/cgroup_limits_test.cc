// cgroup limits on real containers, through the real brick binary on this host: memory
// (OOM kill), pids, CPU quota, the device controller, a block IO throttle, clean-up after
// brick is SIGKILLed, `brick stats`, and the pure cgroup v2 path in a private mount
// namespace.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "container.h"

namespace brick::integration {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// brick's cgroup of a container without linux.cgroupsPath, in one v1 hierarchy.
std::string CgroupDir(const std::string& hierarchy, const std::string& id) {
  return "/sys/fs/cgroup/" + hierarchy + "/brick/" + id;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Polls pred every 20 ms until it holds or `limit` passes; returns its last value. A bound
// on waiting for the kernel, never an assertion on how long something took.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > end) {
      return pred();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

uint64_t ReadU64(const std::string& path) {
  std::string text = Trim(ReadFileOrEmpty(path));
  return text.empty() ? 0 : std::stoull(text);
}

int CountLines(const std::string& out, const std::string& prefix) {
  std::istringstream in(out);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    n += line.starts_with(prefix) ? 1 : 0;
  }
  return n;
}

::testing::AssertionResult StatsJson(const std::string& id, json* out) {
  RunResult r = RunCommand({kBrick, "stats", id, "--format", "json"});
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure() << "brick stats " << id << ": " << r.Describe();
  }
  try {
    *out = json::parse(r.out);
  } catch (const json::exception& e) {
    return ::testing::AssertionFailure() << "invalid JSON (" << e.what() << "): " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

// A shell that says "ready" and then waits for its stdin to close, so the test decides
// when it ends; the marker makes any leftover process findable.
std::vector<std::string> WaitingShell(const std::string& marker, const std::string& before = "") {
  return {"/bin/sh", "-c", before + "echo ready; read x; exit 0", marker};
}

// --- memory ---------------------------------------------------------------------------------

TEST(CgroupMemoryTest, HogIsOomKilledInsideItsContainerOnly) {
  if (!Exists("/sys/fs/cgroup/memory/brick") && !Exists("/sys/fs/cgroup/memory")) {
    GTEST_SKIP() << "no v1 memory controller on this host";
  }
  std::string id = UniqueId("oom");
  HostSnapshot before = HostSnapshot::Capture();
  // A host process beside the container: the OOM killer must pick inside the cgroup.
  Process bystander = Process::Start({"/bin/sleep", "60"});
  ASSERT_TRUE(bystander.started());

  RunResult r = BrickRun({"--id", id, "--memory", "33554432"}, {kInspect, "alloc", "512"});
  EXPECT_EQ(r.ExitCode(), 137) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("was killed by the OOM killer (memory limit 33554432 bytes)"))
      << r.Describe();
  // It got going, then stopped near its limit rather than at the end of its loop.
  int allocated = CountLines(r.out, "allocated ");
  EXPECT_GE(allocated, 4) << r.Describe();
  EXPECT_LT(allocated, 48) << r.Describe();
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("ok 512"))) << r.Describe();

  EXPECT_EQ(kill(bystander.pid(), 0), 0) << "the host process next to the container died";
  bystander.Signal(SIGKILL);
  EXPECT_EQ(bystander.Wait().TermSignal(), SIGKILL);
  EXPECT_TRUE(NothingLeftBehind(before, id, ""));
}

TEST(CgroupMemoryTest, SameAllocationFitsUnderTheDefaultLimit) {
  // The control for the test above: 40 MiB is refused at 32 MiB only because of the limit.
  RunResult r = BrickRun({}, {kInspect, "alloc", "40"});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("ok 40"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("OOM")));
}

// --- pids -----------------------------------------------------------------------------------

TEST(CgroupPidsTest, ForkLoopStopsAtPidsMax) {
  std::string id = UniqueId("pids");
  std::string marker = "brick-it-marker-" + id;
  HostSnapshot before = HostSnapshot::Capture();
  // Each iteration forks one sleep; "started N" is printed by the shell builtin after the
  // fork succeeded. The shell itself is one of the 20 tasks.
  RunResult r = BrickRun(
      {"--id", id, "--pids-limit", "20"},
      {"/bin/sh", "-c",
       "n=0; while [ $n -lt 100 ]; do sleep 60 & n=$((n+1)); echo started $n; done; echo all",
       marker});
  int started = CountLines(r.out, "started ");
  EXPECT_LT(started, 20) << r.Describe();
  EXPECT_GE(started, 10) << r.Describe();
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("all"))) << r.Describe();
  EXPECT_THAT(r.err, AnyOf(HasSubstr("can't fork"), HasSubstr("Resource temporarily unavailable")))
      << r.Describe();
  // The shell gave up; brick reports its status (not a brick error, not a hang) and the
  // pid namespace took the sleeps with it.
  EXPECT_TRUE(r.Exited()) << r.Describe();
  EXPECT_NE(r.ExitCode(), 125) << r.Describe();
  EXPECT_NE(r.ExitCode(), 0) << r.Describe();
  EXPECT_TRUE(NothingLeftBehind(before, id, marker));
}

// --- cpu ------------------------------------------------------------------------------------

TEST(CgroupCpuTest, BurnLoopUnderAQuotaGetsAboutItsShare) {
  std::string id = UniqueId("cpu");
  std::string marker = "brick-it-marker-" + id;
  TempDir dir;
  HostSnapshot before = HostSnapshot::Capture();
  ASSERT_TRUE(MakeBundle(
      dir.path(), kRootfs,
      [&](json& c) {
        c["process"]["args"] = {"/bin/sh", "-c",
                                "trap 'exit 0' TERM; echo ready; while :; do :; done", marker};
        c["linux"]["resources"]["cpu"]["quota"] = 20000;
        c["linux"]["resources"]["cpu"]["period"] = 100000;
      },
      marker));
  Process p = Process::Start({kBrick, "run", "--bundle", dir.path(), "--id", id});
  ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();

  EXPECT_EQ(Trim(ReadFileOrEmpty(CgroupDir("cpu", id) + "/cpu.cfs_quota_us")), "20000");
  EXPECT_EQ(Trim(ReadFileOrEmpty(CgroupDir("cpu", id) + "/cpu.cfs_period_us")), "100000");
  std::string usage_file = CgroupDir("cpuacct", id) + "/cpuacct.usage";
  ASSERT_TRUE(Exists(usage_file));
  // Let the loop settle into the quota, then measure over about one second of wall time.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  uint64_t u0 = ReadU64(usage_file);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  uint64_t u1 = ReadU64(usage_file);
  auto t1 = Clock::now();
  double wall_ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  double share = static_cast<double>(u1 - u0) / wall_ns;
  RecordProperty("cpu_share_percent", std::to_string(share * 100));
  std::printf("cpu share under quota 20000/100000: %.1f%% of one CPU\n", share * 100);
  // 20% asked; wide bounds for a noisy 2-core machine.
  EXPECT_GT(share, 0.05);
  EXPECT_LT(share, 0.40);

  json s;
  ASSERT_TRUE(StatsJson(id, &s));
  EXPECT_GT(s["cpu"]["throttled_periods"].get<uint64_t>(), 0u) << s;
  EXPECT_GT(s["cpu"]["usage_ns"].get<uint64_t>(), 0u) << s;

  p.Signal(SIGTERM);  // forwarded to the shell, whose trap ends it
  RunResult r = p.Wait();
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_TRUE(NothingLeftBehind(before, id, marker));
}

// --- devices --------------------------------------------------------------------------------

// Runs `sh -c SCRIPT` as root with a real CAP_MKNOD: no user namespace.
RunResult RunAsHostRoot(const std::vector<std::string>& extra, const std::string& script) {
  std::vector<std::string> args = {"--unsafe-share", "user", "--user", "0", "--cap-add",
                                   "CAP_MKNOD"};
  args.insert(args.end(), extra.begin(), extra.end());
  return BrickRun(args, {"/bin/sh", "-c", script});
}

TEST(CgroupDevicesTest, DeniedDeviceCannotBeMadeEvenWithCapMknod) {
  // /dev is a tmpfs without nodev, writable by root: only the device cgroup can refuse.
  RunResult r = RunAsHostRoot(
      {}, "brick-inspect mknod /dev/mem c 1 1; brick-inspect mknod /dev/null2 c 1 3; "
          "brick-inspect mknod /dev/lc c 10 237");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  std::istringstream in(r.out);
  std::string mem, null2, lc;
  std::getline(in, mem);
  std::getline(in, null2);
  std::getline(in, lc);
  EXPECT_EQ(mem, "errno EPERM") << r.Describe();
  EXPECT_EQ(lc, "errno EPERM") << r.Describe();
  // The devices brick puts in /dev are allowed rwm, as runc allows them: the init mknods
  // them while its parent may already have placed it in the deny-all device cgroup. A
  // second node of /dev/null gives nothing /dev/null does not.
  EXPECT_EQ(null2, "ok") << r.Describe();
}

TEST(CgroupDevicesTest, DeniedDeviceCannotBeOpenedEvenWithCapMknod) {
  TempDir dir;
  std::string rootfs = dir / "rootfs";
  ASSERT_TRUE(CopyRootfs(rootfs));
  // 10:237 is loop-control: on no allow list, and opening it needs no capability and
  // changes nothing. (/dev/mem, 1:1, is not built into every kernel.)
  ASSERT_EQ(mknod((rootfs + "/planted").c_str(), S_IFCHR | 0600, makedev(10, 237)), 0);
  RunResult r = RunAsHostRoot({"--rootfs", rootfs}, "brick-inspect open /planted r");
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(Trim(r.out), "errno EPERM") << r.Describe();
}

TEST(CgroupDevicesTest, AnAllowRuleLetsTheSameDeviceThrough) {
  // The control for the two tests above: with a rule for 10:237 the same process can
  // make and open the node, so what refused it there was the device cgroup.
  std::string marker = "brick-it-marker-" + UniqueId("devctl");
  TempDir dir;
  ASSERT_TRUE(MakeBundle(
      dir.path(), kRootfs,
      [&](json& c) {
        auto& ns = c["linux"]["namespaces"];
        for (auto it = ns.begin(); it != ns.end();) {
          it = (*it)["type"] == "user" ? ns.erase(it) : it + 1;
        }
        c["linux"].erase("uidMappings");
        c["linux"].erase("gidMappings");
        c["annotations"].erase("run.brick.userns");
        c["process"]["user"] = {{"uid", 0}, {"gid", 0}};
        for (const char* set : {"bounding", "effective", "permitted"}) {
          c["process"]["capabilities"][set] = {"CAP_MKNOD"};
        }
        c["linux"]["resources"]["devices"].push_back(
            {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 237}, {"access", "rwm"}});
        c["process"]["args"] = {
            "/bin/sh", "-c", "brick-inspect mknod /dev/lc c 10 237; brick-inspect open /dev/lc r",
            marker};
      },
      marker));
  RunResult r = RunCommand({kBrick, "run", "--bundle", dir.path()});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "ok\nok\n") << r.Describe();
}

// --- block IO -------------------------------------------------------------------------------

// The whole disk behind `/`, as "major:minor", or "" when there is none (the throttle
// accepts whole disks only, not partitions, overlay or tmpfs).
std::string RootDisk(std::string* why) {
  struct stat st;
  if (stat("/", &st) != 0) {
    *why = "cannot stat /";
    return "";
  }
  std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  std::string sys = "/sys/dev/block/" + dev;
  if (major(st.st_dev) == 0 || !Exists(sys)) {
    *why = "/ is on " + dev + ", which is not a block device (overlay, tmpfs, btrfs subvolume?)";
    return "";
  }
  if (Exists(sys + "/partition")) {
    // The disk is the parent directory of the partition in sysfs.
    std::string parent_dev = Trim(ReadFileOrEmpty(sys + "/../dev"));
    if (parent_dev.empty()) {
      *why = "cannot find the disk of partition " + dev;
      return "";
    }
    return parent_dev;
  }
  return dev;
}

TEST(CgroupBlockIoTest, ReadThrottleLandsInTheContainersCgroup) {
  std::string why;
  std::string disk = RootDisk(&why);
  if (disk.empty()) {
    GTEST_SKIP() << "no usable block device for an IO throttle: " << why;
  }
  if (!Exists("/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device")) {
    GTEST_SKIP() << "no v1 blkio throttle on this host";
  }
  unsigned maj = 0, min = 0;
  ASSERT_EQ(sscanf(disk.c_str(), "%u:%u", &maj, &min), 2) << disk;
  std::string id = UniqueId("blkio");
  std::string marker = "brick-it-marker-" + id;
  TempDir dir;
  HostSnapshot before = HostSnapshot::Capture();
  ASSERT_TRUE(MakeBundle(
      dir.path(), kRootfs,
      [&](json& c) {
        c["process"]["args"] = WaitingShell(marker);
        c["linux"]["resources"]["blockIO"]["throttleReadBpsDevice"] = {
            {{"major", maj}, {"minor", min}, {"rate", 1048576}}};
        c["linux"]["resources"]["blockIO"]["throttleWriteIOPSDevice"] = {
            {{"major", maj}, {"minor", min}, {"rate", 100}}};
      },
      marker));
  RunOptions options;
  options.keep_stdin_open = true;
  Process p = Process::Start({kBrick, "run", "--bundle", dir.path(), "--id", id}, options);
  ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
  EXPECT_EQ(Trim(ReadFileOrEmpty(CgroupDir("blkio", id) + "/blkio.throttle.read_bps_device")),
            disk + " 1048576");
  EXPECT_EQ(Trim(ReadFileOrEmpty(CgroupDir("blkio", id) + "/blkio.throttle.write_iops_device")),
            disk + " 100");
  p.CloseStdin();
  RunResult r = p.Wait();
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_TRUE(NothingLeftBehind(before, id, marker));
}

// --- brick stats ----------------------------------------------------------------------------

TEST(BrickStatsTest, ReportsTheLimitsAndUsageOfARunningContainer) {
  std::string id = UniqueId("stats");
  std::string marker = "brick-it-marker-" + id;
  RunOptions options;
  options.keep_stdin_open = true;
  Process p = Process::Start(
      BrickRunArgv({"--id", id, "--memory", "100000000", "--pids-limit", "77"},
                   WaitingShell(marker)),
      options);
  ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();

  json s;
  ASSERT_TRUE(StatsJson(id, &s));
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["cgroup"], "/brick/" + id);
  EXPECT_EQ(s["cgroup_version"], "hybrid");
  // The kernel rounds v1 memory limits down to whole pages.
  EXPECT_EQ(s["memory"]["limit_bytes"].get<uint64_t>(), 100000000u / 4096 * 4096) << s;
  EXPECT_GT(s["memory"]["usage_bytes"].get<uint64_t>(), 0u) << s;
  EXPECT_EQ(s["memory"]["oom_kills"], 0) << s;
  EXPECT_EQ(s["pids"]["current"], 1) << s;
  EXPECT_EQ(s["pids"]["limit"], 77) << s;
  EXPECT_TRUE(s["cpu"].is_object()) << s;
  EXPECT_TRUE(s["io"].is_array()) << s;

  RunResult text = RunCommand({kBrick, "stats", id});
  EXPECT_EQ(text.ExitCode(), 0) << text.Describe();
  EXPECT_THAT(text.out, HasSubstr("pids       current 1, limit 77"));
  EXPECT_THAT(text.out, HasSubstr("limit 95.4 MiB"));
  EXPECT_THAT(text.out, HasSubstr("OOM kills 0"));

  p.CloseStdin();
  EXPECT_EQ(p.Wait().ExitCode(), 0);
}

TEST(BrickStatsTest, UnknownContainerIsAnError) {
  RunResult r = RunCommand({kBrick, "stats", "brick-it-no-such-container"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("container brick-it-no-such-container does not exist"));
  r = RunCommand({kBrick, "stats", "../escape"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("container id \"../escape\""));
}

// --- clean-up after SIGKILL -----------------------------------------------------------------

bool AnyProcessIn(const std::string& id) {
  for (const std::string& dir : CgroupDirsFor(id)) {
    if (!Trim(ReadFileOrEmpty(dir + "/cgroup.procs")).empty()) {
      return true;
    }
  }
  return false;
}

// Seconds since the newest of the directories was made (or last had a child added).
double NewestAgeSeconds(const std::vector<std::string>& dirs) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  double newest = 0;
  for (const auto& d : dirs) {
    struct stat st;
    if (stat(d.c_str(), &st) == 0) {
      newest = std::max(newest, st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9);
    }
  }
  return now.tv_sec + now.tv_nsec / 1e9 - newest;
}

// What `brick run` treats as old enough to be stale (cgroup::kStaleMinAge), plus a margin.
constexpr double kStaleAfterSeconds = 5.5;

void WaitUntilStale(const std::vector<std::string>& ids) {
  std::vector<std::string> dirs;
  for (const auto& id : ids) {
    for (const auto& d : CgroupDirsFor(id)) {
      dirs.push_back(d);
    }
  }
  double age = NewestAgeSeconds(dirs);
  if (age < kStaleAfterSeconds) {
    std::this_thread::sleep_for(std::chrono::duration<double>(kStaleAfterSeconds - age));
  }
}

TEST(CgroupCleanupTest, SigkilledBrickLeavesNoCgroupAfterTheNextRun) {
  std::vector<std::string> killed;
  // 1. The container is up and sleeping, with children of its own.
  {
    std::string id = UniqueId("kill-running");
    std::string marker = "brick-it-marker-" + id;
    Process p = Process::Start(BrickRunArgv(
        {"--id", id}, {"/bin/sh", "-c", "sleep 600 & sleep 600 & echo ready; wait", marker}));
    ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
    ASSERT_TRUE(AnyProcessIn(id));
    p.Signal(SIGKILL);
    EXPECT_EQ(p.Wait().TermSignal(), SIGKILL);
    // The init dies with brick (parent-death signal), and its pid namespace with it.
    EXPECT_TRUE(WaitFor([&] { return ProcessesWithArg(marker).empty(); }))
        << "container process outlived brick";
    EXPECT_TRUE(WaitFor([&] { return !AnyProcessIn(id); })) << "processes left in the cgroup";
    EXPECT_FALSE(CgroupDirsFor(id).empty()) << "expected a stale cgroup for the run to sweep";
    killed.push_back(id);
  }
  // 2. As early as the cgroup shows up: brick is between creating it and the exec.
  {
    std::string id = UniqueId("kill-early");
    std::string marker = "brick-it-marker-" + id;
    Process p = Process::Start(BrickRunArgv({"--id", id}, {"/bin/sh", "-c", "exec sleep 600", marker}));
    ASSERT_TRUE(WaitFor([&] { return Exists(CgroupDir("pids", id)); }, std::chrono::seconds(20)))
        << p.Describe();
    p.Signal(SIGKILL);
    EXPECT_EQ(p.Wait().TermSignal(), SIGKILL);
    EXPECT_TRUE(WaitFor([&] { return !AnyProcessIn(id); })) << "processes left in the cgroup";
    killed.push_back(id);
  }
  // 3. The container's init is a process that ignores SIGTERM, killed in a pty session.
  {
    std::string id = UniqueId("kill-tty");
    std::string marker = "brick-it-marker-" + id;
    RunOptions options;
    options.stdin_pty = true;
    Process p = Process::Start(
        BrickRunArgv({"--id", id, "-t"},
                     {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 600", marker}),
        options);
    ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
    p.Signal(SIGKILL);
    p.Wait();
    EXPECT_TRUE(WaitFor([&] { return ProcessesWithArg(marker).empty(); }))
        << "container process outlived brick";
    killed.push_back(id);
  }

  // A container that is still running must survive the sweep.
  std::string live = UniqueId("kill-live");
  RunOptions options;
  options.keep_stdin_open = true;
  Process keeper = Process::Start(BrickRunArgv({"--id", live}, WaitingShell("brick-it-" + live)),
                                  options);
  ASSERT_TRUE(keeper.ReadStdoutUntil("ready")) << keeper.Describe();

  WaitUntilStale(killed);
  // Killed just now, so too young to be told apart from a brick about to move its init in.
  std::string young = UniqueId("kill-young");
  {
    Process p = Process::Start(BrickRunArgv({"--id", young}, WaitingShell("brick-it-" + young)),
                               RunOptions{.keep_stdin_open = true});
    ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
    p.Signal(SIGKILL);
    p.Wait();
    ASSERT_TRUE(WaitFor([&] { return !AnyProcessIn(young); }));
  }

  RunResult next = BrickRun({}, {"/bin/true"});
  ASSERT_EQ(next.ExitCode(), 0) << next.Describe();
  EXPECT_EQ(next.err, "") << next.Describe();
  for (const auto& id : killed) {
    EXPECT_TRUE(CgroupDirsFor(id).empty()) << ::testing::PrintToString(CgroupDirsFor(id));
  }
  EXPECT_FALSE(CgroupDirsFor(live).empty()) << "the sweep removed a running container's cgroup";
  EXPECT_FALSE(CgroupDirsFor(young).empty()) << "the sweep removed a cgroup only just made";

  keeper.CloseStdin();
  EXPECT_EQ(keeper.Wait().ExitCode(), 0);
  EXPECT_TRUE(CgroupDirsFor(live).empty());

  WaitUntilStale({young});
  next = BrickRun({}, {"/bin/true"});
  ASSERT_EQ(next.ExitCode(), 0) << next.Describe();
  EXPECT_TRUE(CgroupDirsFor(young).empty()) << ::testing::PrintToString(CgroupDirsFor(young));
}

// --- cgroup v2 for real ---------------------------------------------------------------------

// Runs brick in a private mount namespace whose /sys/fs/cgroup is a bare cgroup2 mount:
// brick then sees a pure cgroup v2 host. cgroup2 is one hierarchy per machine, so the
// container's cgroup is the host's /sys/fs/cgroup/unified/brick/<id>; on this host it has
// no controllers, which leaves creation, placement, the eBPF device program and removal.
std::vector<std::string> InPureV2Namespace(const std::vector<std::string>& brick_argv) {
  std::string cmd = "umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup && exec";
  for (const auto& a : brick_argv) {
    cmd += " '" + a + "'";
  }
  return {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", cmd};
}

TEST(CgroupV2Test, PureV2HostInAPrivateMountNamespace) {
  if (!Exists("/sys/fs/cgroup/unified/cgroup.procs")) {
    GTEST_SKIP() << "no cgroup2 hierarchy at /sys/fs/cgroup/unified to share";
  }
  if (RunCommand({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/true"})
          .ExitCode() != 0) {
    GTEST_SKIP() << "unshare(1) cannot make a private mount namespace here";
  }
  std::string id = UniqueId("v2");
  std::string marker = "brick-it-marker-" + id;
  TempDir dir;
  std::string rootfs = dir / "rootfs";
  ASSERT_TRUE(CopyRootfs(rootfs));
  // 10:237 (loop-control) is harmless to open and on no allow list.
  ASSERT_EQ(mknod((rootfs + "/planted").c_str(), S_IFCHR | 0666, makedev(10, 237)), 0);
  chmod((rootfs + "/planted").c_str(), 0666);
  std::string bundle = dir / "bundle";
  ASSERT_EQ(mkdir(bundle.c_str(), 0755), 0);
  ASSERT_TRUE(MakeBundle(
      bundle, rootfs,
      [&](json& c) {
        // No controller is enabled in this cgroup2 hierarchy: keep only the device rules.
        json devices = c["linux"]["resources"]["devices"];
        c["linux"]["resources"] = {{"devices", devices}};
        c["process"]["args"] = {
            "/bin/sh", "-c",
            "brick-inspect open /dev/null rw; brick-inspect open /planted r; "
            "cat /proc/self/cgroup; echo ready; read x; exit 0",
            marker};
      },
      marker));
  HostSnapshot before = HostSnapshot::Capture();
  RunOptions options;
  options.keep_stdin_open = true;
  Process p = Process::Start(
      InPureV2Namespace({kBrick, "run", "--bundle", bundle, "--id", id}), options);
  ASSERT_TRUE(p.ReadStdoutUntil("ready")) << p.Describe();
  std::istringstream in(p.out());
  std::string null_line, planted_line;
  std::getline(in, null_line);
  std::getline(in, planted_line);
  EXPECT_EQ(null_line, "ok") << p.Describe();
  // Refused by the eBPF device program (the same node opens under an allow rule: see
  // CgroupDevicesTest.AnAllowRuleLetsTheSameDeviceThrough).
  EXPECT_EQ(planted_line, "errno EPERM") << p.Describe();
  // The cgroup namespace makes the container's cgroup its root.
  EXPECT_THAT(p.out(), HasSubstr("\n0::/\n")) << p.Describe();

  std::string host_dir = "/sys/fs/cgroup/unified/brick/" + id;
  std::string procs = Trim(ReadFileOrEmpty(host_dir + "/cgroup.procs"));
  ASSERT_FALSE(procs.empty()) << host_dir;
  EXPECT_EQ(procs.find('\n'), std::string::npos) << procs;
  // Seen from the host, the init sits in the cgroup2 cgroup only: a v2 manager leaves the
  // v1 hierarchies (which the kernel still has) alone.
  std::string host_view = ReadFileOrEmpty("/proc/" + procs + "/cgroup");
  EXPECT_THAT(host_view, HasSubstr("0::/brick/" + id + "\n")) << host_view;
  EXPECT_THAT(host_view, ::testing::Not(HasSubstr(":pids:/brick/"))) << host_view;
  EXPECT_FALSE(Exists(CgroupDir("pids", id)));
  EXPECT_FALSE(Exists(CgroupDir("memory", id)));

  p.CloseStdin();
  RunResult r = p.Wait();
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_FALSE(Exists(host_dir)) << "brick left its cgroup2 directory";
  EXPECT_TRUE(NothingLeftBehind(before, id, marker));
}

}  // namespace
}  // namespace brick::integration
