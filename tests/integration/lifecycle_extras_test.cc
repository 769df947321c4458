// update, events, features and stats on detached containers, and what a SIGKILLed
// `brick create` and 200 containers in a row leave behind. Every brick call is its own
// process on a private --root. brick's stdio are memfds, not pipes: a detached container
// inherits them, and a pipe it holds open would keep a reader waiting.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// --- brick without pipes ----------------------------------------------------------------

struct Outcome {
  int exit_code = -1;   // -1: did not exit normally
  int term_signal = 0;  // the signal that killed it
  bool timed_out = false;
  std::string out;
  std::string err;

  std::string Describe() const {
    return "exit " + std::to_string(exit_code) + " signal " + std::to_string(term_signal) +
           (timed_out ? " (timed out)" : "") + "\n--- stdout ---\n" + out +
           "\n--- stderr ---\n" + err;
  }
};

// Never 0, 1 or 2, even when the test runs with a standard fd closed: the child's dup2 onto
// those must make a new, inheritable fd.
int NewMemfd(const char* name) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "memfd_create: " << strerror(errno);
    return fd;
  }
  if (fd < 3) {
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    fd = high;
  }
  return fd;
}

std::string ReadAllAt(int fd) {
  std::string out;
  char buf[16384];
  off_t off = 0;
  while (true) {
    ssize_t n = pread(fd, buf, sizeof buf, off);
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

// A child whose stdin holds `stdin_data` and whose stdout and stderr are memfds.
class Spawned {
 public:
  explicit Spawned(const std::vector<std::string>& argv, const std::string& stdin_data = "") {
    in_ = NewMemfd("stdin");
    out_ = NewMemfd("stdout");
    err_ = NewMemfd("stderr");
    if (!stdin_data.empty() &&
        pwrite(in_, stdin_data.data(), stdin_data.size(), 0) !=
            static_cast<ssize_t>(stdin_data.size())) {
      ADD_FAILURE() << "write stdin memfd: " << strerror(errno);
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in_, 0);
      dup2(out_, 1);
      dup2(err_, 2);
      execv(args[0], args.data());
      _exit(127);
    }
    if (pid_ < 0) {
      ADD_FAILURE() << "fork: " << strerror(errno);
      return;
    }
    pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd_ < 0) {
      ADD_FAILURE() << "pidfd_open " << pid_ << ": " << strerror(errno);
    }
  }
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;
  ~Spawned() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_, err_, pidfd_}) {
      if (fd >= 0) {
        close(fd);
      }
    }
  }

  pid_t pid() const { return pid_; }

  // Waits for exit; after `timeout` the child is killed and the outcome says so.
  Outcome Wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    Outcome o;
    if (pid_ <= 0) {
      return o;
    }
    struct pollfd p = {pidfd_, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(timeout.count() * 1000));
    if (ready == 0) {
      o.timed_out = true;
      kill(pid_, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (WIFEXITED(status)) {
      o.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      o.term_signal = WTERMSIG(status);
    }
    o.out = ReadAllAt(out_);
    o.err = ReadAllAt(err_);
    return o;
  }

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;
};

Outcome RunQuiet(const std::vector<std::string>& argv, const std::string& stdin_data = "") {
  Spawned s(argv, stdin_data);
  return s.Wait();
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto end = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() > end) {
      return pred();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

std::vector<std::string> DirEntries(const std::string& path) {
  std::vector<std::string> names;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") {
        names.push_back(n);
      }
    }
    closedir(d);
  }
  return names;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// --- what must be gone ------------------------------------------------------------------

// Host id range slots under <root>/.idmap that are still taken: locked by a live process, or
// kept for a state directory that exists (idmap_alloc.h).
std::vector<std::string> TakenIdSlots(const std::string& root) {
  std::vector<std::string> taken;
  std::string dir = root + "/.idmap";
  for (const std::string& name : DirEntries(dir)) {
    if (!name.starts_with("slot-")) {
      continue;
    }
    std::string path = dir + "/" + name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      continue;  // freed meanwhile
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      taken.push_back(path + " (locked)");
    } else {
      flock(fd, LOCK_UN);
      std::string owner = ReadFileOrEmpty(path);
      struct stat st;
      if (!owner.empty() && stat(owner.c_str(), &st) == 0) {
        taken.push_back(path + " (kept for " + owner + ")");
      }
    }
    close(fd);
  }
  return taken;
}

// Everything a container `id` made under --root `root`, with `before` the host's mounts
// before it was created. Processes are looked up by `id` as a whole argument: the container's
// own (the bundle puts the id in its args as a marker) and brick's cloned init before exec
// (its command line is brick's, which names the id).
//
// Other test suites on this machine (containerd, podman) mount and unmount on the host while
// this runs, so only a new mount that names the container's id, its state root, its bundle
// or the rootfs counts: brick mounts nothing of its own on the host, and a leak would be at
// one of those.
::testing::AssertionResult NothingLeftOf(const HostSnapshot& before, const std::string& root,
                                         const std::string& id, const std::string& bundle,
                                         const std::vector<std::string>& extra_cgroups = {}) {
  std::string problems;
  std::set<std::string> old(before.mountinfo.begin(), before.mountinfo.end());
  for (const std::string& line : MountInfo()) {
    bool ours = line.find(id) != std::string::npos || line.find(root) != std::string::npos ||
                line.find(bundle) != std::string::npos || line.find(kRootfs) != std::string::npos;
    if (!old.contains(line) && ours) {
      problems += "new mount: " + line + "\n";
    }
  }
  for (const std::string& dir : CgroupDirsFor(id)) {
    problems += "cgroup left: " + dir + "\n";
  }
  for (const std::string& dir : extra_cgroups) {
    if (Exists(dir)) {
      problems += "cgroup left: " + dir + "\n";
    }
  }
  for (const std::string& name : DirEntries(root)) {
    if (name.find(id) != std::string::npos) {
      problems += "state left: " + root + "/" + name + "\n";
    }
  }
  for (const std::string& slot : TakenIdSlots(root)) {
    problems += "id range slot still taken: " + slot + "\n";
  }
  for (pid_t pid : ProcessesWithArg(id)) {
    problems += "process left: " + std::to_string(pid) + " " +
                ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/status").substr(0, 40) +
                " (killed now)\n";
    kill(pid, SIGKILL);  // the id is unique to this test, so the process is one it caused
  }
  if (!problems.empty()) {
    return ::testing::AssertionFailure() << problems;
  }
  return ::testing::AssertionSuccess();
}

// --- a detached container on a private root ---------------------------------------------

class Detached : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = UniqueId("cli-extras");
    ASSERT_EQ(chmod(out_.path().c_str(), 0777), 0);
    ASSERT_TRUE(MakeBundle(bundle_.path(), kRootfs, [](json&) {}, id_));
    Edit([&](json& c) {
      // The container's own cgroup files, and a directory it can write its findings to.
      c["mounts"].push_back({{"destination", "/sys/fs/cgroup"},
                             {"type", "cgroup"},
                             {"source", "cgroup"},
                             {"options", {"ro", "nosuid", "nodev", "noexec"}}});
      c["mounts"].push_back({{"destination", "/out"},
                             {"type", "bind"},
                             {"source", out_.path()},
                             {"options", {"rbind", "rw", "nosuid", "nodev", "noexec"}}});
    });
    SetScript("sleep 60");
  }
  void TearDown() override {
    Outcome d = Brick({"delete", "--force", id_});
    EXPECT_EQ(d.exit_code, 0) << d.Describe();
    EXPECT_TRUE(CgroupDirsFor(id_).empty()) << ::testing::PrintToString(CgroupDirsFor(id_));
  }

  void Edit(const std::function<void(json&)>& edit) {
    json c = json::parse(ReadFileOrEmpty(bundle_ / "config.json"));
    edit(c);
    ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  }
  void SetScript(const std::string& script) {
    Edit([&](json& c) { c["process"]["args"] = {"/bin/sh", "-c", script, id_}; });
  }
  std::vector<std::string> BrickArgv(std::vector<std::string> args) const {
    args.insert(args.begin(), {kBrick, "--root", root_.path()});
    return args;
  }
  Outcome Brick(std::vector<std::string> args, const std::string& stdin_data = "") {
    return RunQuiet(BrickArgv(std::move(args)), stdin_data);
  }
  ::testing::AssertionResult CreateAndStart() {
    Outcome c = Brick({"create", "--bundle", bundle_.path(), id_});
    if (c.exit_code != 0) {
      return ::testing::AssertionFailure() << "create: " << c.Describe();
    }
    Outcome s = Brick({"start", id_});
    if (s.exit_code != 0) {
      return ::testing::AssertionFailure() << "start: " << s.Describe();
    }
    return ::testing::AssertionSuccess();
  }
  std::string Status() {
    Outcome r = Brick({"state", id_});
    if (r.exit_code != 0) {
      return "error: " + r.err;
    }
    return json::parse(r.out).at("status").get<std::string>();
  }
  std::string CgroupFile(const std::string& controller, const std::string& file) const {
    return "/sys/fs/cgroup/" + controller + "/brick/" + id_ + "/" + file;
  }
  std::string HostValue(const std::string& controller, const std::string& file) const {
    return Trim(ReadFileOrEmpty(CgroupFile(controller, file)));
  }
  std::string Out(const std::string& name) const { return ReadFileOrEmpty(out_ / name); }

  TempDir root_;
  TempDir bundle_;
  TempDir out_;
  std::string id_;
};

// --- update -------------------------------------------------------------------------------

TEST_F(Detached, UpdateChangesTheLimitsTheContainerSeesAndLivesUnder) {
  Edit([](json& c) {
    c["linux"]["resources"]["pids"] = {{"limit", 100}};
    c["linux"]["resources"]["memory"] = {{"limit", 256 << 20}};
  });
  // The container reports its limits (shell builtins only, so it never forks while
  // reading) until the pids limit is 8; then it forks sleeps until the kernel refuses.
  SetScript(
      "while :; do read p < /sys/fs/cgroup/pids/pids.max; "
      "read m < /sys/fs/cgroup/memory/memory.limit_in_bytes; echo \"$p $m\" > /out/limits; "
      "[ \"$p\" = 8 ] && break; sleep 0.05; done; "
      "n=0; while [ $n -lt 100 ]; do sleep 60 & n=$((n+1)); echo started $n >> /out/forks; done; "
      "echo all >> /out/forks");
  ASSERT_TRUE(CreateAndStart());
  ASSERT_TRUE(Eventually([&] { return Trim(Out("limits")) == "100 268435456"; }))
      << "inside: " << Out("limits");

  Outcome u = Brick({"update", "--pids-limit", "8", "--memory", "64m", id_});
  ASSERT_EQ(u.exit_code, 0) << u.Describe();
  EXPECT_EQ(HostValue("pids", "pids.max"), "8");
  EXPECT_EQ(HostValue("memory", "memory.limit_in_bytes"), "67108864");
  // Seen from inside, through the container's own cgroup mount.
  EXPECT_TRUE(Eventually([&] { return Trim(Out("limits")) == "8 67108864"; }))
      << "inside: " << Out("limits");
  // And enforced: the fork loop stopped below the new limit, far below the old one. The
  // shell gives up at the failed fork, and the container ends.
  ASSERT_TRUE(Eventually([&] { return Status() == "stopped"; }, std::chrono::seconds(20)))
      << Status();
  std::vector<std::string> forks = Lines(Out("forks"));
  EXPECT_LT(forks.size(), 8u) << Out("forks");
  EXPECT_GE(forks.size(), 3u) << Out("forks");
  EXPECT_THAT(Out("forks"), ::testing::Not(HasSubstr("all")));
}

TEST_F(Detached, UpdateReadsStdinOrAFileAndBadInputChangesNothing) {
  ASSERT_TRUE(CreateAndStart());
  Outcome in = Brick({"update", "--resources", "-", id_}, R"({"pids": {"limit": 33}})");
  ASSERT_EQ(in.exit_code, 0) << in.Describe();
  EXPECT_EQ(HostValue("pids", "pids.max"), "33");

  std::string file = bundle_ / "resources.json";
  ASSERT_TRUE(WriteFile(file, R"({"pids": {"limit": 44}, "cpu": {"shares": 512}})"));
  Outcome f = Brick({"update", "-r", file, id_});
  ASSERT_EQ(f.exit_code, 0) << f.Describe();
  EXPECT_EQ(HostValue("pids", "pids.max"), "44");
  EXPECT_EQ(HostValue("cpu", "cpu.shares"), "512");

  struct Bad {
    const char* json;
    const char* error;
  };
  for (const Bad& bad : {
           Bad{R"({"pids": {"limit": "many"}})", "linux.resources.pids.limit: expected"},
           Bad{R"({"pids": {"limit": 55}, "memory": {"swappiness": 500}})",
               "linux.resources.memory.swappiness"},
           Bad{R"({"pids": {"limit": 55}, "cpu": {"quota": 1000, "period": 100}})",
               "linux.resources.cpu.period"},
           Bad{R"({"pids": )", "linux.resources is not valid JSON"},
       }) {
    Outcome r = Brick({"update", "--resources", "-", id_}, bad.json);
    EXPECT_EQ(r.exit_code, 125) << bad.json << "\n" << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(bad.error)) << bad.json;
    EXPECT_EQ(HostValue("pids", "pids.max"), "44") << bad.json << " changed the limit";
    EXPECT_EQ(HostValue("cpu", "cpu.shares"), "512") << bad.json;
  }
  Outcome missing = Brick({"update", "-r", bundle_ / "nope.json", id_});
  EXPECT_EQ(missing.exit_code, 125);
  EXPECT_THAT(missing.err, HasSubstr("no such file or directory"));
  // Devices are left alone, as runc leaves them (engines send the whole resources object).
  Outcome dev = Brick({"update", "-r", "-", id_},
                      R"({"devices": [{"allow": false, "access": "rwm"}], "pids": {"limit": 45}})");
  EXPECT_EQ(dev.exit_code, 0) << dev.Describe();
  EXPECT_EQ(HostValue("pids", "pids.max"), "45");
  EXPECT_EQ(Status(), "running");
}

TEST_F(Detached, UnknownAndStoppedContainersAreNamed) {
  Outcome unknown = Brick({"update", "--pids-limit", "5", "cli-extras-no-such"});
  EXPECT_EQ(unknown.exit_code, 125);
  EXPECT_THAT(unknown.err, HasSubstr("container cli-extras-no-such does not exist"));
  Outcome events = Brick({"events", "--stats", "cli-extras-no-such"});
  EXPECT_EQ(events.exit_code, 125);
  EXPECT_THAT(events.err, HasSubstr("does not exist"));

  SetScript("exit 0");
  ASSERT_TRUE(CreateAndStart());
  ASSERT_TRUE(Eventually([&] { return Status() == "stopped"; })) << Status();
  Outcome stopped = Brick({"update", "--pids-limit", "5", id_});
  EXPECT_EQ(stopped.exit_code, 125);
  EXPECT_THAT(stopped.err, HasSubstr("update container " + id_ + ": container not running"));
  Outcome ev = Brick({"events", "--stats", id_});
  EXPECT_EQ(ev.exit_code, 125);
  EXPECT_THAT(ev.err, HasSubstr("container not running"));
  Outcome st = Brick({"stats", id_});
  EXPECT_EQ(st.exit_code, 125);
  EXPECT_THAT(st.err, HasSubstr("container not running"));
  Outcome interval = Brick({"events", "--interval", "soon", id_});
  EXPECT_EQ(interval.exit_code, 125);
  EXPECT_THAT(interval.err, HasSubstr("--interval \"soon\""));
}

// --- events -------------------------------------------------------------------------------

TEST_F(Detached, EventsStatsPrintsOneRuncStatsEvent) {
  Edit([](json& c) { c["linux"]["resources"]["pids"] = {{"limit", 50}}; });
  ASSERT_TRUE(CreateAndStart());
  Outcome r = Brick({"events", "--stats", id_});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(r.err.empty()) << r.err;
  ASSERT_EQ(Lines(r.out).size(), 1u) << r.out;
  json e = json::parse(r.out);
  EXPECT_EQ(e["type"], "stats");
  EXPECT_EQ(e["id"], id_);
  const json& d = e["data"];
  EXPECT_GE(d["pids"]["current"].get<uint64_t>(), 1u) << d;
  EXPECT_EQ(d["pids"]["limit"], 50) << d;
  EXPECT_GT(d["memory"]["usage"]["usage"].get<uint64_t>(), 0u) << d;
  EXPECT_TRUE(d["memory"]["raw"].contains("rss")) << d;
  EXPECT_GT(d["cpu"]["usage"]["total"].get<uint64_t>(), 0u) << d;
  EXPECT_FALSE(d["cpu"]["usage"]["percpu"].empty()) << d;
}

TEST_F(Detached, EventsStreamsStatsAndOomUntilTheContainerStops) {
  if (!Exists("/sys/fs/cgroup/memory")) {
    GTEST_SKIP() << "no v1 memory controller on this host";
  }
  Edit([](json& c) { c["linux"]["resources"]["memory"] = {{"limit", 32 << 20}}; });
  // Waits for the test's go, then allocates past the limit; the OOM killer takes the
  // allocator, the shell carries on and ends the container a little later.
  SetScript("while [ ! -e /out/go ]; do sleep 0.05; done; " + kInspect +
            " alloc 256; read x < /out/go; sleep 0.5; exit 0");
  ASSERT_TRUE(CreateAndStart());
  RunOptions options;
  options.timeout = std::chrono::seconds(60);
  Process events =
      Process::Start(BrickArgv({"events", "--interval", "100ms", id_}), options);
  ASSERT_TRUE(events.ReadStdoutUntil("\"type\":\"stats\"")) << events.Describe();
  ASSERT_TRUE(WriteFile(out_ / "go", "go\n"));
  EXPECT_TRUE(events.ReadStdoutUntil("{\"type\":\"oom\",\"id\":\"" + id_ + "\"}"))
      << events.Describe();
  RunResult r = events.Wait();  // ends by itself once the container stops
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_FALSE(r.timed_out) << r.Describe();
  int stats = 0;
  int ooms = 0;
  for (const std::string& line : Lines(r.out)) {
    json e = json::parse(line);  // every line is one JSON object
    EXPECT_EQ(e["id"], id_);
    stats += e["type"] == "stats";
    ooms += e["type"] == "oom";
  }
  EXPECT_GE(stats, 2) << r.out;
  EXPECT_EQ(ooms, 1) << r.out;
  EXPECT_EQ(Status(), "stopped");
}

// --- a custom linux.cgroupsPath ---------------------------------------------------------------

TEST_F(Detached, StatsUpdateAndEventsFindACustomCgroupsPath) {
  std::string rel = "cli-extras-custom/" + id_ + "-cg";
  Edit([&](json& c) {
    c["linux"]["cgroupsPath"] = rel;
    c["linux"]["resources"]["pids"] = {{"limit", 70}};
  });
  ASSERT_TRUE(CreateAndStart());
  std::string pids_dir = "/sys/fs/cgroup/pids/brick/" + rel;
  ASSERT_TRUE(Exists(pids_dir)) << pids_dir;
  EXPECT_TRUE(CgroupDirsFor(id_).empty());  // not at brick/<id>

  Outcome s = Brick({"stats", "--format", "json", id_});
  ASSERT_EQ(s.exit_code, 0) << s.Describe();
  json j = json::parse(s.out);
  EXPECT_EQ(j["cgroup"], "/brick/" + rel);
  EXPECT_EQ(j["pids"]["limit"], 70);
  EXPECT_GE(j["pids"]["current"].get<int>(), 1);

  Outcome u = Brick({"update", "--pids-limit", "71", id_});
  ASSERT_EQ(u.exit_code, 0) << u.Describe();
  EXPECT_EQ(Trim(ReadFileOrEmpty(pids_dir + "/pids.max")), "71");
  Outcome e = Brick({"events", "--stats", id_});
  ASSERT_EQ(e.exit_code, 0) << e.Describe();
  EXPECT_EQ(json::parse(e.out)["data"]["pids"]["limit"], 71);

  Outcome d = Brick({"delete", "--force", id_});
  ASSERT_EQ(d.exit_code, 0) << d.Describe();
  EXPECT_FALSE(Exists(pids_dir));
  EXPECT_FALSE(Exists("/sys/fs/cgroup/pids/brick/cli-extras-custom"));
}

// --- features -----------------------------------------------------------------------------

const std::string kFeaturesSchema =
    std::string(BRICK_SOURCE_DIR) + "/tests/data/oci-runtime-spec/schema/features-schema.json";
const std::string kValidator =
    std::string(BRICK_SOURCE_DIR) + "/tests/integration/validate_json_schema.py";

Outcome ValidateFeatures(const std::string& path) {
  // Debian's python3, where bootstrap.sh installs python3-jsonschema; a missing module fails.
  return RunQuiet({"/usr/bin/python3", kValidator, kFeaturesSchema, path});
}

TEST(FeaturesCliTest, OutputValidatesAgainstTheOciSchema) {
  Outcome f = RunQuiet({kBrick, "features"});
  ASSERT_EQ(f.exit_code, 0) << f.Describe();
  EXPECT_TRUE(f.err.empty()) << f.err;
  TempDir dir;
  ASSERT_TRUE(WriteFile(dir / "features.json", f.out));
  Outcome v = ValidateFeatures(dir / "features.json");
  EXPECT_EQ(v.exit_code, 0) << v.Describe() << "\n" << f.out;

  json j = json::parse(f.out);
  EXPECT_EQ(j["ociVersionMin"], "1.0.0");
  EXPECT_THAT(j["hooks"].dump(), HasSubstr("createContainer"));
  EXPECT_THAT(j["linux"]["capabilities"].dump(), HasSubstr("CAP_SYS_ADMIN"));
  EXPECT_EQ(j["linux"]["cgroup"]["systemd"], false);

  // The check can fail: the same output with a required field gone, or a list that names
  // something the schema does not know, is refused.
  json broken = j;
  broken.erase("ociVersionMin");
  ASSERT_TRUE(WriteFile(dir / "broken.json", broken.dump()));
  Outcome b = ValidateFeatures(dir / "broken.json");
  EXPECT_EQ(b.exit_code, 1) << b.Describe();
  EXPECT_THAT(b.err, HasSubstr("ociVersionMin"));
  json unknown = j;
  unknown["linux"]["seccomp"]["actions"].push_back("SCMP_ACT_SOMETHING");
  ASSERT_TRUE(WriteFile(dir / "unknown.json", unknown.dump()));
  EXPECT_EQ(ValidateFeatures(dir / "unknown.json").exit_code, 1);
}

// --- SIGKILL of brick create ------------------------------------------------------------------

class CreateKilled : public ::testing::Test {
 protected:
  void SetUp() override {
    marker_ = UniqueId("cli-extras-fault");
    ASSERT_TRUE(MakeBundle(bundle_.path(), kRootfs, [](json&) {}, marker_));
    json c = json::parse(ReadFileOrEmpty(bundle_ / "config.json"));
    c["process"]["args"] = {"/bin/sh", "-c", "sleep 60", marker_};
    ASSERT_TRUE(WriteFile(bundle_ / "config.json", c.dump(2)));
  }
  std::vector<std::string> CreateArgv(const std::string& id) const {
    return {kBrick, "--root", root_.path(), "create", "--bundle", bundle_.path(), id};
  }

  // After `brick create ID` died of SIGKILL: delete --force exits 0 and nothing of the
  // container is left. `what` names the kill point in failures.
  void DeleteForceCleansUp(const HostSnapshot& before, const std::string& id,
                           const std::string& what) {
    Outcome d = RunQuiet({kBrick, "--root", root_.path(), "delete", "--force", id});
    EXPECT_EQ(d.exit_code, 0) << what << ": " << d.Describe();
    // A cloned init whose brick died before it was placed in the cgroup is not one
    // delete can find; it notices the closed sync socket and exits by itself.
    bool lingered = !ProcessesWithArg(id).empty() || !ProcessesWithArg(marker_).empty();
    EXPECT_TRUE(Eventually([&] {
      return ProcessesWithArg(id).empty() && ProcessesWithArg(marker_).empty();
    })) << what << ": processes outlived delete --force";
    lingering_ += lingered ? 1 : 0;
    EXPECT_TRUE(NothingLeftOf(before, root_.path(), id, bundle_.path())) << what;
    EXPECT_TRUE(ProcessesWithArg(marker_).empty()) << what;
  }

  // Runs create, SIGKILLs it after `delay` (or lets strace kill it), and checks delete.
  void KillAfter(std::chrono::microseconds delay, const std::string& what) {
    std::string id = UniqueId("cli-extras-fault");
    HostSnapshot before = HostSnapshot::Capture();
    Spawned create(CreateArgv(id));
    std::this_thread::sleep_for(delay);
    kill(create.pid(), SIGKILL);
    Outcome o = create.Wait();
    outcomes_[o.term_signal == SIGKILL ? "killed" : "finished"]++;
    DeleteForceCleansUp(before, id, what);
  }

  TempDir root_;
  TempDir bundle_;
  std::string marker_;
  std::map<std::string, int> outcomes_;
  int lingering_ = 0;
};

TEST_F(CreateKilled, AtDelaysFromSpawnDeleteForceLeavesNothing) {
  // How long a whole create takes here, so that the sweep spans it whatever the load.
  auto t0 = Clock::now();
  Outcome whole = RunQuiet(CreateArgv(marker_));
  auto full = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
  ASSERT_EQ(whole.exit_code, 0) << whole.Describe();
  ASSERT_EQ(RunQuiet({kBrick, "--root", root_.path(), "delete", "--force", marker_}).exit_code, 0);
  // 21 points from spawn to 1.2 times that (at least 0 to 40 ms), then a few past the end.
  auto span = std::max<std::chrono::microseconds>(full * 12 / 10, std::chrono::milliseconds(40));
  for (int i = 0; i <= 20; ++i) {
    auto delay = span * i / 20;
    KillAfter(delay, "killed " + std::to_string(delay.count()) + " us after spawn");
  }
  for (int ms : {50, 70, 100}) {
    KillAfter(std::chrono::milliseconds(ms), "killed " + std::to_string(ms) + " ms after spawn");
  }
  RecordProperty("create_us", std::to_string(full.count()));
  RecordProperty("killed", outcomes_["killed"]);
  RecordProperty("finished", outcomes_["finished"]);
  RecordProperty("lingering_inits", lingering_);
}

// strace kills brick at the N-th call of a syscall, which pins each phase of create
// exactly: state directory, id range, state saves, cgroup, clone, id maps, the sync
// messages, the detach.
TEST_F(CreateKilled, AtEachPhaseDeleteForceLeavesNothing) {
  if (!Exists("/usr/bin/strace")) {
    FAIL() << "strace is missing; scripts/bootstrap.sh installs it";
  }
  struct Point {
    std::string syscall;
    int nth;
  };
  // Phases, in create's order (runtime/container.cc RunContainer). The counts assume a
  // --root two levels below / and an existing seccomp cache directory, as here.
  const std::vector<Point> points = {
      {"mkdir", 1},       // the state directory, under its hidden staging name
      {"flock", 1},       // its lock
      {"flock", 2},       // the host id range slot
      {"rename", 1},      // first state.json: pid 0, creator recorded
      {"rename", 2},      // config.json
      {"mknodat", 1},     // exec.fifo
      {"mkdir", 8},       // midway through the cgroup directories
      {"clone3", 1},      // cgroup made and limited, no init yet
      {"sendmsg", 1},     // init cloned, id maps written, init waiting for GO
      {"sendmsg", 2},     // init moved into every cgroup hierarchy
      {"recvmsg", 1},     // init setting up its mounts
      {"renameat2", 2},   // state.json with the init's pid (replaced by RENAME_EXCHANGE;
                          // renameat2 #1 put the state directory in place)
      {"pwrite64", 1},    // id range handed over to the state directory
      {"sendmsg", 3},     // detach requested
      {"recvmsg", 2},     // init detached (no parent-death signal), waiting on exec.fifo
      {"exit_group", 1},  // create done
  };
  for (const Point& p : points) {
    std::string id = UniqueId("cli-extras-fault");
    std::string what = "killed at " + p.syscall + " #" + std::to_string(p.nth);
    HostSnapshot before = HostSnapshot::Capture();
    std::vector<std::string> argv = {
        "/usr/bin/strace", "-o", "/dev/null", "-e",
        "inject=" + p.syscall + ":signal=KILL:when=" + std::to_string(p.nth)};
    for (const auto& a : CreateArgv(id)) {
      argv.push_back(a);
    }
    Outcome o = RunQuiet(argv);
    outcomes_[o.exit_code == 0 ? "finished" : "killed"]++;
    EXPECT_NE(o.exit_code, 0) << what << ": create was not killed\n" << o.Describe();
    DeleteForceCleansUp(before, id, what);
  }
  RecordProperty("lingering_inits", lingering_);
}

// --- churn --------------------------------------------------------------------------------

TEST(ChurnTest, TwoHundredContainersLeaveNothingBehind) {
  TempDir root;
  TempDir bundle;
  std::string marker = UniqueId("cli-extras-churn");
  ASSERT_TRUE(MakeBundle(bundle.path(), kRootfs, [](json&) {}, marker));
  json c = json::parse(ReadFileOrEmpty(bundle / "config.json"));
  c["process"]["args"] = {"/bin/true", marker};
  ASSERT_TRUE(WriteFile(bundle / "config.json", c.dump(2)));
  HostSnapshot before = HostSnapshot::Capture();
  std::set<std::string> cgroups_before;
  for (const std::string& h : DirEntries("/sys/fs/cgroup")) {
    for (const std::string& name : DirEntries("/sys/fs/cgroup/" + h + "/brick")) {
      cgroups_before.insert(h + "/" + name);
    }
  }
  auto brick = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kBrick, "--root", root.path()});
    return RunQuiet(args);
  };
  auto start = Clock::now();
  constexpr int kContainers = 200;
  std::vector<std::string> ids;
  for (int i = 0; i < kContainers; ++i) {
    std::string id = UniqueId("cli-extras-churn");
    ids.push_back(id);
    std::string pid_file = root.path() + "/" + id + ".pid";
    Outcome cr = brick({"create", "--bundle", bundle.path(), "--pid-file", pid_file, id});
    ASSERT_EQ(cr.exit_code, 0) << "container " << i << ": " << cr.Describe();
    pid_t pid = static_cast<pid_t>(std::stoi(ReadFileOrEmpty(pid_file)));
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    ASSERT_GE(pidfd, 0) << strerror(errno);
    Outcome st = brick({"start", id});
    ASSERT_EQ(st.exit_code, 0) << "container " << i << ": " << st.Describe();
    // The init is not our child: its pidfd turns readable when it exits.
    struct pollfd p = {pidfd, POLLIN, 0};
    int ready = poll(&p, 1, 30000);
    close(pidfd);
    ASSERT_EQ(ready, 1) << "container " << i << " did not exit";
    Outcome d = brick({"delete", id});
    ASSERT_EQ(d.exit_code, 0) << "container " << i << ": " << d.Describe();
    unlink(pid_file.c_str());
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  RecordProperty("seconds", std::to_string(seconds));
  std::cout << "[ churn    ] " << kContainers << " containers in " << seconds << " s\n";

  std::set<std::string> old(before.mountinfo.begin(), before.mountinfo.end());
  for (const std::string& line : MountInfo()) {
    // As in NothingLeftOf: other suites' mounts come and go meanwhile.
    bool ours = line.find("cli-extras-churn") != std::string::npos ||
                line.find(root.path()) != std::string::npos ||
                line.find(bundle.path()) != std::string::npos ||
                line.find(kRootfs) != std::string::npos;
    EXPECT_TRUE(old.contains(line) || !ours) << "new mount: " << line;
  }
  for (const std::string& h : DirEntries("/sys/fs/cgroup")) {
    for (const std::string& name : DirEntries("/sys/fs/cgroup/" + h + "/brick")) {
      if (name.starts_with("brick-it-cli-extras-churn")) {
        EXPECT_TRUE(cgroups_before.contains(h + "/" + name)) << "cgroup left: " << h << "/" << name;
      }
    }
  }
  std::vector<std::string> state;
  for (const std::string& name : DirEntries(root.path())) {
    if (name != ".idmap") {
      state.push_back(name);
    }
  }
  EXPECT_TRUE(state.empty()) << ::testing::PrintToString(state);
  EXPECT_TRUE(DirEntries(root.path() + "/.idmap").empty())
      << ::testing::PrintToString(DirEntries(root.path() + "/.idmap"));
  EXPECT_TRUE(TakenIdSlots(root.path()).empty());
  EXPECT_TRUE(ProcessesWithArg(marker).empty());
  for (const std::string& id : ids) {
    ASSERT_TRUE(ProcessesWithArg(id).empty()) << id;
  }
}

}  // namespace
}  // namespace brick::integration
