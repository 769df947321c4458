// The managers on this machine's real cgroup hierarchies, below brick-test-<pid>.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>

#include "brick/base/strings.h"
#include "brick/cgroup/defaults.h"
#include "brick/cgroup/device_program.h"
#include "brick/cgroup/manager.h"
#include "brick/sys/fs.h"

namespace brick::cgroup {
namespace {

// Removes whatever a failed test left below brick-test-<pid> in every hierarchy, killing
// what is still inside, so the host is left as it was.
void RemoveTree(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return;
  }
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.is_directory()) {
      RemoveTree(e.path());
    }
  }
  for (int round = 0; round < 200; ++round) {
    auto procs = ReadFile(dir + "/cgroup.procs");
    for (const auto& line : Split(procs.value_or(""), '\n')) {
      if (auto pid = ParseI64(Trim(line)); pid && *pid > 0) {
        kill(static_cast<pid_t>(*pid), SIGKILL);
      }
    }
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) {
      return;
    }
    usleep(10000);
  }
}

// A forked child that waits for "go" (after the parent has moved it into the cgroup),
// runs `body` and exits with its result. Reaped on destruction.
class Child {
 public:
  explicit Child(std::function<int(int report_fd)> body) {
    int go[2], rep[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe: " << strerror(errno);
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      close(go[1]);
      close(rep[0]);
      char c;
      if (read(go[0], &c, 1) != 1) {
        _exit(100);
      }
      _exit(body(rep[1]));
    }
    close(go[0]);
    close(rep[1]);
    go_ = UniqueFd(go[1]);
    report_ = UniqueFd(rep[0]);
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  void Go() {
    ASSERT_EQ(write(go_.get(), "g", 1), 1);
    go_.reset();
  }
  // Reads one line the child reported.
  std::string ReadReport() {
    std::string out;
    char c;
    while (read(report_.get(), &c, 1) == 1 && c != '\n') {
      out.push_back(c);
    }
    return out;
  }
  int Wait() {
    int status = 0;
    if (!reaped_ && waitpid(pid_, &status, 0) == pid_) {
      reaped_ = true;
      status_ = status;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  UniqueFd go_, report_;
  bool reaped_ = false;
  int status_ = 0;
};

void Report(int fd, const std::string& line) {
  std::string l = line + "\n";
  (void)!write(fd, l.data(), l.size());
}

class HostCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto layout = DetectLayout();
    ASSERT_TRUE(layout) << layout.error().message();
    layout_ = *layout;
    opts_.parent = fmt::format("brick-test-{}", getpid());
  }
  void TearDown() override {
    for (const auto& h : layout_.v1) {
      RemoveTree(h.mount_point + "/" + opts_.parent);
    }
    if (layout_.unified) {
      RemoveTree(layout_.unified->mount_point + "/" + opts_.parent);
    }
  }

  // Skips when the host lacks a controller the test needs.
  bool HasController(const std::string& c) {
    if (layout_.FindV1(c)) {
      return true;
    }
    return layout_.unified && layout_.unified->Has(c == "blkio" ? "io" : c);
  }

  std::unique_ptr<Manager> New(const std::string& id, const Layout* layout = nullptr) {
    auto path = ResolveCgroupsPath("", id, opts_);
    EXPECT_TRUE(path) << path.error().message();
    auto m = NewManager(layout ? *layout : layout_, *path, opts_);
    EXPECT_TRUE(m) << m.error().message();
    return std::move(*m);
  }

  void ExpectAllGone(const std::vector<HierarchyPath>& paths) {
    for (const auto& p : paths) {
      EXPECT_FALSE(std::filesystem::exists(p.dir)) << p.dir;
      EXPECT_FALSE(std::filesystem::exists(p.mount_point + "/" + opts_.parent))
          << p.mount_point << "/" << opts_.parent;
    }
  }

  Layout layout_;
  Options opts_;
};

TEST_F(HostCgroupTest, ForkLoopStopsAtPidsMax) {
  if (!HasController("pids")) {
    GTEST_SKIP() << "no pids controller on this host";
  }
  auto m = New("forks");
  oci::Resources r;
  r.pids = oci::PidsResources{8};
  ASSERT_TRUE(m->Validate(r));
  ASSERT_TRUE(m->Create());
  ScopedCgroup owner(std::move(m));
  auto st = owner->Apply(r);
  ASSERT_TRUE(st) << st.error().message();
  auto paths = owner->Paths();
  Child child([](int fd) {
    int made = 0;
    int err = 0;
    for (int i = 0; i < 100; ++i) {
      pid_t p = fork();
      if (p == 0) {
        pause();
        _exit(0);
      }
      if (p < 0) {
        err = errno;
        break;
      }
      ++made;
    }
    Report(fd, fmt::format("{} {}", made, err));
    pause();
    return 0;
  });
  ASSERT_TRUE(owner->AddProcess(child.pid()));
  child.Go();
  std::string report = child.ReadReport();
  EXPECT_EQ(report, fmt::format("7 {}", EAGAIN));  // the child itself is the 8th
  auto stats = owner->ReadStats();
  ASSERT_TRUE(stats) << stats.error().message();
  ASSERT_TRUE(stats->pids);
  EXPECT_EQ(stats->pids->current, 8u);
  EXPECT_EQ(stats->pids->limit, 8u);
  EXPECT_EQ(owner->Pids()->size(), 8u);
  ASSERT_TRUE(owner->KillAll());
  int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(owner->Pids()->empty());
  ASSERT_TRUE(owner.Reset());
  ExpectAllGone(paths);
}

TEST_F(HostCgroupTest, MemoryHogIsOomKilled) {
  if (!HasController("memory")) {
    GTEST_SKIP() << "no memory controller on this host";
  }
  auto m = New("hog");
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 32 << 20;
  ASSERT_TRUE(m->Create());
  ScopedCgroup owner(std::move(m));
  auto st = owner->Apply(r);
  ASSERT_TRUE(st) << st.error().message();
  auto paths = owner->Paths();
  EXPECT_FALSE(*owner->OomKilled());
  Child child([](int) {
    constexpr size_t kChunk = 1 << 20;
    for (int i = 0; i < 512; ++i) {
      char* p = static_cast<char*>(malloc(kChunk));
      if (p == nullptr) {
        return 2;
      }
      memset(p, 1, kChunk);
    }
    return 3;  // survived 512 MiB: the limit did not hold
  });
  ASSERT_TRUE(owner->AddProcess(child.pid()));
  child.Go();
  int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  auto stats = owner->ReadStats();
  ASSERT_TRUE(stats) << stats.error().message();
  ASSERT_TRUE(stats->memory);
  EXPECT_GE(stats->memory->oom_kill, 1u);
  EXPECT_EQ(stats->memory->limit, uint64_t{32} << 20);
  EXPECT_GT(stats->memory->max_usage.value_or(0), uint64_t{16} << 20);
  EXPECT_TRUE(*owner->OomKilled());
  ASSERT_TRUE(owner.Reset());
  ExpectAllGone(paths);
}

// Reports the device checks from inside the cgroup: bit 1 /dev/null failed, bit 2 /dev/kmsg
// was not denied with EPERM, bit 4 mknod c 1:3 was not denied with EPERM.
int CheckDevices(const std::string& tmp) {
  int code = 0;
  int n = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (n < 0) code |= 1;
  close(n);
  int k = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
  if (!(k < 0 && errno == EPERM)) code |= 2;
  std::string node = tmp + "/null";
  if (!(mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0 && errno == EPERM)) code |= 4;
  return code;
}

void ExpectDeviceChecks(int status) {
  ASSERT_TRUE(WIFEXITED(status));
  int code = WEXITSTATUS(status);
  EXPECT_EQ(code & 1, 0) << "/dev/null did not open";
  EXPECT_EQ(code & 2, 0) << "/dev/kmsg was not denied with EPERM";
  EXPECT_EQ(code & 4, 0) << "mknod c 1:3 was not denied with EPERM (CAP_MKNOD held)";
  EXPECT_NE(code, 100);
}

TEST_F(HostCgroupTest, DefaultDeviceRulesDenyEvenWithCapMknod) {
  if (!std::filesystem::exists("/dev/kmsg")) {
    GTEST_SKIP() << "no /dev/kmsg to deny";
  }
  auto m = New("devices");
  ASSERT_TRUE(m->Create());
  ScopedCgroup owner(std::move(m));
  // All of brick's defaults: devices, memory, pids and cpu shares.
  oci::Resources r = DefaultResources();
  auto st = owner->Validate(r);
  ASSERT_TRUE(st) << st.error().message();
  st = owner->Apply(r);
  ASSERT_TRUE(st) << st.error().message();
  std::string tmp =
      std::filesystem::temp_directory_path() / fmt::format("brick-test-{}-mknod", getpid());
  std::filesystem::create_directories(tmp);
  Child child([&](int) { return CheckDevices(tmp); });
  ASSERT_TRUE(owner->AddProcess(child.pid()));
  child.Go();
  int status = child.Wait();
  std::filesystem::remove_all(tmp);
  ExpectDeviceChecks(status);
  auto paths = owner->Paths();
  ASSERT_TRUE(owner.Reset());
  ExpectAllGone(paths);
}

// The v2 manager for real on the cgroup2 hierarchy of this host: eBPF devices,
// cgroup.freeze, cgroup.kill.
TEST_F(HostCgroupTest, V2ManagerOnTheRealUnifiedHierarchy) {
  if (!layout_.unified) {
    GTEST_SKIP() << "no cgroup2 hierarchy on this host";
  }
  if (!std::filesystem::exists("/dev/kmsg")) {
    GTEST_SKIP() << "no /dev/kmsg to deny";
  }
  Layout v2 = layout_;
  v2.version = Version::kV2;
  v2.v1.clear();
  auto m = New("v2", &v2);
  ASSERT_EQ(m->version(), Version::kV2);
  ASSERT_TRUE(m->Create());
  ScopedCgroup owner(std::move(m));
  oci::Resources r;
  r.devices = DefaultResources().devices;
  auto st = owner->Apply(r);
  if (!st && (st.error().errnum() == ENOSYS || st.error().errnum() == EOPNOTSUPP)) {
    GTEST_SKIP() << "no BPF cgroup device programs: " << st.error().message();
  }
  ASSERT_TRUE(st) << st.error().message();
  // A live update replaces the program rather than adding a second one.
  st = owner->Update(r);
  ASSERT_TRUE(st) << st.error().message();
  std::string dir = owner->Paths().at(0).dir;
  {
    UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd);
    EXPECT_EQ(QueryDevicePrograms(fd.get())->size(), 1u);
  }
  std::string tmp =
      std::filesystem::temp_directory_path() / fmt::format("brick-test-{}-mknod2", getpid());
  std::filesystem::create_directories(tmp);
  Child checker([&](int) { return CheckDevices(tmp); });
  ASSERT_TRUE(owner->AddProcess(checker.pid()));
  checker.Go();
  int status = checker.Wait();
  std::filesystem::remove_all(tmp);
  ExpectDeviceChecks(status);

  Child sleeper([](int) {
    pause();
    return 0;
  });
  ASSERT_TRUE(owner->AddProcess(sleeper.pid()));
  sleeper.Go();
  ASSERT_TRUE(owner->Freeze());
  EXPECT_NE(ReadFile(dir + "/cgroup.events")->find("frozen 1"), std::string::npos);
  ASSERT_TRUE(owner->Thaw());
  EXPECT_NE(ReadFile(dir + "/cgroup.events")->find("frozen 0"), std::string::npos);
  auto stats = owner->ReadStats();
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_TRUE(stats->cpu);  // cpu.stat is a core file
  auto paths = owner->Paths();
  ASSERT_TRUE(owner.Reset());  // cgroup.kill, then rmdir
  status = sleeper.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ExpectAllGone(paths);
}

TEST_F(HostCgroupTest, ProcSelfCgroupNamesTheContainerInEveryHierarchy) {
  auto m = New("placement");
  ASSERT_TRUE(m->Create());
  ScopedCgroup owner(std::move(m));
  Child child([](int fd) {
    Report(fd, ReadFile("/proc/self/cgroup").value_or("?"));
    pause();
    return 0;
  });
  ASSERT_TRUE(owner->AddProcess(child.pid()));
  child.Go();
  std::string text = ReadFile(fmt::format("/proc/{}/cgroup", child.pid())).value_or("");
  for (const auto& p : owner->Paths()) {
    std::string want = fmt::format(":{}:{}", p.controllers, p.path);
    EXPECT_NE(text.find(want + "\n"), std::string::npos) << want << " in\n" << text;
  }
  ASSERT_TRUE(owner->KillAll());
  child.Wait();
  auto paths = owner->Paths();
  ASSERT_TRUE(owner.Reset());
  ExpectAllGone(paths);
}

TEST_F(HostCgroupTest, CleanupStaleRemovesWhatAKilledBrickLeft) {
  auto m = New("orphan");
  ASSERT_TRUE(m->Create());
  auto paths = m->Paths();
  m.reset();  // as if brick had died: nothing destroyed
  for (const auto& p : paths) {
    ASSERT_TRUE(std::filesystem::exists(p.dir)) << p.dir;
  }
  auto st = CleanupStale(layout_, opts_);
  ASSERT_TRUE(st) << st.error().message();
  for (const auto& p : paths) {
    EXPECT_FALSE(std::filesystem::exists(p.dir)) << p.dir;
  }
  // And AdoptExisting lets a later brick delete it.
  auto again = New("orphan2");
  ASSERT_TRUE(again->Create());
  again.reset();
  auto later = New("orphan2");
  ASSERT_TRUE(later->AdoptExisting());
  ASSERT_TRUE(later->Destroy());
  for (const auto& p : later->Paths()) {
    EXPECT_FALSE(std::filesystem::exists(p.dir)) << p.dir;
  }
}

}  // namespace
}  // namespace brick::cgroup
