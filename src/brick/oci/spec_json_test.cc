#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "brick/oci/spec.h"

namespace brick::oci {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A spec with every field the model has set to a non-default value, and still valid.
Spec FullSpec() {
  Spec s;
  s.oci_version = "1.2.0";

  Process p;
  p.terminal = true;
  p.console_size = ConsoleSize{25, 80};
  p.user = User{1000, 1001, 022, {5, 6}, "builder"};
  p.args = {"/bin/sh", "-c", "echo hi"};
  p.env = {"PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="};
  p.cwd = "/work";
  p.capabilities = Capabilities{{"CAP_CHOWN", "CAP_KILL"},
                                {"CAP_KILL"},
                                {"CAP_CHOWN", "CAP_KILL"},
                                {"CAP_AUDIT_WRITE"},
                                {"CAP_NET_BIND_SERVICE"}};
  p.rlimits = {{"RLIMIT_NOFILE", 2048, 1024}, {"RLIMIT_CORE", 0, 0}};
  p.no_new_privileges = true;
  p.apparmor_profile = "brick-default";
  p.oom_score_adj = -500;
  p.selinux_label = "system_u:system_r:container_t:s0:c1,c2";
  p.io_priority = IoPriority{"IOPRIO_CLASS_BE", 4};
  p.scheduler = Scheduler{"SCHED_BATCH", 5, 0, {"SCHED_FLAG_RESET_ON_FORK"}, 1000, 2000, 3000};
  s.process = p;

  s.root = Root{"rootfs", true};
  s.hostname = "brick";
  s.domainname = "example.test";

  Mount proc{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}, {}, {}};
  Mount data{"/data",
             "/srv/data",
             "none",
             {"rbind", "ro", "idmap"},
             {{0, 100000, 65536}},
             {{0, 200000, 65536}}};
  s.mounts = {proc, data};

  Hook hook{"/usr/bin/hook", {"hook", "--flag"}, {"K=V"}, 5};
  Hook bare{"/usr/bin/bare", {}, {}, std::nullopt};
  s.hooks = Hooks{{hook}, {bare}, {hook}, {bare}, {hook}, {bare}};
  s.annotations = {{"com.example.key", "value"}, {"org.opencontainers.image.os", "linux"}};

  Linux& l = s.linux;
  l.namespaces = {{NamespaceType::kPid, ""},    {NamespaceType::kNetwork, "/run/netns/n1"},
                  {NamespaceType::kMount, ""},  {NamespaceType::kIpc, ""},
                  {NamespaceType::kUts, ""},    {NamespaceType::kUser, ""},
                  {NamespaceType::kCgroup, ""}, {NamespaceType::kTime, ""}};
  l.uid_mappings = {{0, 1000000, 65536}, {65536, 2000000, 1}};
  l.gid_mappings = {{0, 1000000, 65536}};
  l.time_offsets = {{"monotonic", {172800, 5}}, {"boottime", {-3, 999999999}}};
  l.devices = {{"/dev/fuse", 'c', 10, 229, 0666, 0, 0},
               {"/dev/sda", 'b', 8, 0, std::nullopt, std::nullopt, std::nullopt},
               {"/dev/fifo", 'p', 0, 0, 0600, 1, 2}};
  l.cgroups_path = "brick/full";

  Resources r;
  r.devices = {{false, std::nullopt, std::nullopt, std::nullopt, "rwm"},
               {true, 'c', 10, 229, "rw"},
               {true, 'b', 8, std::nullopt, ""}};
  r.memory = MemoryResources{536870912, 268435456, 1073741824, -1, -1, 10, true, false, true};
  r.cpu = CpuResources{1024, 100000, 5000, 100000, 950000, 1000000, "0-1", "0", 1};
  r.pids = PidsResources{1024};
  BlockIoResources bio;
  bio.weight = 500;
  bio.leaf_weight = 300;
  bio.weight_device = {{8, 0, 500, 300}, {8, 16, 100, std::nullopt}};
  bio.throttle_read_bps_device = {{8, 0, 600}};
  bio.throttle_write_bps_device = {{8, 0, 700}};
  bio.throttle_read_iops_device = {{8, 16, 300}};
  bio.throttle_write_iops_device = {{8, 16, 400}};
  r.block_io = bio;
  r.hugepage_limits = {{"2MB", 209715200}, {"1GB", 0}};
  r.network = NetworkResources{1048577, {{"eth0", 500}, {"eth1", 1000}}};
  r.rdma = {{"mlx5_1", {3, 10000}}, {"rxe3", {std::nullopt, 10}}};
  r.unified = {{"io.max", "259:0 rbps=2097152"}, {"memory.high", "max"}};
  l.resources = r;

  l.rootfs_propagation = "rslave";
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.default_errno_ret = 38;
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  sc.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  sc.listener_path = "/run/seccomp-agent.sock";
  sc.listener_metadata = "meta";
  sc.syscalls = {
      {{"read", "write"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
      {{"mkdir"},
       "SCMP_ACT_ERRNO",
       1,
       {{0, 1, 0, "SCMP_CMP_EQ"}, {1, 0xff, 0x10, "SCMP_CMP_MASKED_EQ"}}},
      {{"mount"}, "SCMP_ACT_NOTIFY", std::nullopt, {}},
  };
  l.seccomp = sc;
  l.sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "65536"}};
  l.masked_paths = {"/proc/kcore", "/proc/keys"};
  l.readonly_paths = {"/proc/sys"};
  l.mount_label = "system_u:object_r:container_file_t:s0";
  l.intel_rdt = IntelRdt{"guaranteed_group", "L3:0=7f0;1=1f", "MB:0=20;1=70"};
  l.personality = Personality{"LINUX32", {}};
  return s;
}

std::string ErrorText(const Result<Spec>& r) {
  if (r) {
    return "<no error>";
  }
  return r.error().message();
}

std::string ReadWholeFile(const std::string& path) {
  std::string out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) {
    return out;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// A temporary directory removed with its files at the end of the test.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/brick_oci_test.XXXXXX";
    char* p = mkdtemp(tmpl);
    EXPECT_NE(p, nullptr);
    path_ = p ? p : "/nonexistent";
  }
  ~TempDir() {
    for (const auto& f : files_) {
      unlink(f.c_str());
    }
    rmdir(path_.c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string file = path_ + "/" + name;
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
    files_.push_back(file);
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

constexpr const char* kMinimal = R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})";

// A small valid config with one field replaced by `fragment` inside "process".
std::string WithProcess(const std::string& fragment) {
  return R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
             "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", )" +
         fragment + "}}";
}

TEST(SpecJsonTest, FullSpecIsValid) {
  auto st = ValidateSpec(FullSpec());
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

TEST(SpecJsonTest, RoundTripOfEveryField) {
  Spec full = FullSpec();
  std::string text = SerializeSpec(full);
  auto parsed = ParseSpec(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message() << "\n" << text;
  EXPECT_EQ(*parsed, full) << text;
  // And the text is stable: serializing the parsed model gives the same bytes.
  EXPECT_EQ(SerializeSpec(*parsed), text);
}

TEST(SpecJsonTest, RoundTripNoticesADifference) {
  // Guards the test above: equality must see a change deep in the model.
  Spec a = FullSpec();
  Spec b = FullSpec();
  b.linux.resources->block_io->throttle_write_iops_device[0].rate = 401;
  EXPECT_NE(a, b);
  auto parsed = ParseSpec(SerializeSpec(b));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_NE(*parsed, a);
}

TEST(SpecJsonTest, SerializeUsesCanonicalFieldNames) {
  auto j = nlohmann::json::parse(SerializeSpec(FullSpec()));
  EXPECT_EQ(j["ociVersion"], "1.2.0");
  EXPECT_EQ(j["process"]["user"]["additionalGids"], nlohmann::json({5, 6}));
  EXPECT_EQ(j["process"]["consoleSize"]["width"], 80);
  EXPECT_EQ(j["process"]["noNewPrivileges"], true);
  EXPECT_EQ(j["process"]["oomScoreAdj"], -500);
  EXPECT_EQ(j["process"]["ioPriority"]["class"], "IOPRIO_CLASS_BE");
  EXPECT_EQ(j["process"]["apparmorProfile"], "brick-default");
  EXPECT_EQ(j["process"]["selinuxLabel"], "system_u:system_r:container_t:s0:c1,c2");
  EXPECT_EQ(j["root"]["readonly"], true);
  EXPECT_EQ(j["hooks"]["createRuntime"][0]["path"], "/usr/bin/bare");
  EXPECT_EQ(j["hooks"]["startContainer"][0]["path"], "/usr/bin/bare");
  EXPECT_EQ(j["hooks"]["prestart"][0]["timeout"], 5);
  EXPECT_EQ(j["mounts"][1]["uidMappings"][0]["hostID"], 100000);
  EXPECT_EQ(j["linux"]["uidMappings"][0]["containerID"], 0);
  EXPECT_EQ(j["linux"]["namespaces"][1]["type"], "network");
  EXPECT_EQ(j["linux"]["namespaces"][1]["path"], "/run/netns/n1");
  EXPECT_EQ(j["linux"]["timeOffsets"]["boottime"]["nanosecs"], 999999999);
  EXPECT_EQ(j["linux"]["devices"][0]["fileMode"], 0666);
  EXPECT_EQ(j["linux"]["devices"][0]["type"], "c");
  EXPECT_FALSE(j["linux"]["devices"][2].contains("major"));  // a FIFO has no numbers
  EXPECT_EQ(j["linux"]["cgroupsPath"], "brick/full");
  const auto& res = j["linux"]["resources"];
  EXPECT_EQ(res["memory"]["kernelTCP"], -1);
  EXPECT_EQ(res["memory"]["disableOOMKiller"], true);
  EXPECT_EQ(res["memory"]["checkBeforeUpdate"], true);
  EXPECT_EQ(res["cpu"]["realtimeRuntime"], 950000);
  EXPECT_EQ(res["blockIO"]["leafWeight"], 300);
  EXPECT_EQ(res["blockIO"]["throttleReadBpsDevice"][0]["rate"], 600);
  EXPECT_EQ(res["blockIO"]["throttleWriteIOPSDevice"][0]["rate"], 400);
  EXPECT_EQ(res["hugepageLimits"][0]["pageSize"], "2MB");
  EXPECT_EQ(res["network"]["classID"], 1048577);
  EXPECT_EQ(res["rdma"]["mlx5_1"]["hcaHandles"], 3);
  EXPECT_EQ(res["unified"]["memory.high"], "max");
  EXPECT_EQ(res["devices"][0].contains("type"), false);
  EXPECT_EQ(res["devices"][1]["type"], "c");
  const auto& sc = j["linux"]["seccomp"];
  EXPECT_EQ(sc["defaultErrnoRet"], 38);
  EXPECT_EQ(sc["listenerPath"], "/run/seccomp-agent.sock");
  EXPECT_EQ(sc["listenerMetadata"], "meta");
  EXPECT_EQ(sc["syscalls"][1]["errnoRet"], 1);
  EXPECT_EQ(sc["syscalls"][1]["args"][1]["valueTwo"], 0x10);
  EXPECT_FALSE(sc["syscalls"][1]["args"][0].contains("valueTwo"));
  EXPECT_EQ(j["linux"]["rootfsPropagation"], "rslave");
  EXPECT_EQ(j["linux"]["maskedPaths"][0], "/proc/kcore");
  EXPECT_EQ(j["linux"]["readonlyPaths"][0], "/proc/sys");
  EXPECT_EQ(j["linux"]["mountLabel"], "system_u:object_r:container_file_t:s0");
  EXPECT_EQ(j["linux"]["intelRdt"]["closID"], "guaranteed_group");
  EXPECT_EQ(j["linux"]["intelRdt"]["l3CacheSchema"], "L3:0=7f0;1=1f");
  EXPECT_EQ(j["linux"]["intelRdt"]["memBwSchema"], "MB:0=20;1=70");
  EXPECT_EQ(j["linux"]["personality"]["domain"], "LINUX32");
  EXPECT_EQ(j["linux"]["sysctl"]["kernel.shmmax"], "65536");
  EXPECT_EQ(j["annotations"]["com.example.key"], "value");
}

TEST(SpecJsonTest, SerializeOmitsAbsentAndEmpty) {
  Spec s;
  s.oci_version = "1.0.0";
  s.root.path = "rootfs";
  auto j = nlohmann::json::parse(SerializeSpec(s));
  EXPECT_EQ(j, nlohmann::json::parse(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"}})"));

  // A present but empty optional object stays present, so Parse(Serialize(x)) == x.
  s.hooks = Hooks{};
  s.process = Process{};
  s.process->args = {"sh"};
  s.process->capabilities = Capabilities{};
  j = nlohmann::json::parse(SerializeSpec(s));
  EXPECT_EQ(j["hooks"], nlohmann::json::object());
  EXPECT_EQ(j["process"]["capabilities"], nlohmann::json::object());
  EXPECT_FALSE(j["process"].contains("env"));
  EXPECT_FALSE(j["process"].contains("terminal"));
  EXPECT_FALSE(j["process"].contains("oomScoreAdj"));
  EXPECT_FALSE(j.contains("linux"));
  auto parsed = ParseSpec(SerializeSpec(s));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(*parsed, s);
}

TEST(SpecJsonTest, ParsesMinimal) {
  auto spec = ParseSpec(kMinimal);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->oci_version, "1.0.0");
  EXPECT_EQ(spec->root.path, "rootfs");
  EXPECT_FALSE(spec->root.readonly);
  EXPECT_FALSE(spec->process.has_value());
  EXPECT_FALSE(spec->hooks.has_value());
  EXPECT_TRUE(spec->mounts.empty());
}

TEST(SpecJsonTest, IgnoresUnknownProperties) {
  auto spec = ParseSpec(R"({
    "ociVersion": "1.3.0", "root": {"path": "rootfs", "futureRootField": [1, 2]},
    "vm": {"hypervisor": {"path": "/usr/bin/qemu"}},
    "windows": {"layerFolders": ["C:\\x"]},
    "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["sh"],
                "execCPUAffinity": {"initial": "7", "final": "0-3,7"}},
    "linux": {"netDevices": {"eth0": {"name": "ceth0"}},
              "memoryPolicy": {"mode": "MPOL_BIND", "nodes": "0"},
              "intelRdt": {"closID": "g", "schemata": ["L3:0=f"], "enableMonitoring": true}}
  })");
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->linux.intel_rdt->clos_id, "g");
  EXPECT_EQ(spec->process->args, std::vector<std::string>{"sh"});
}

TEST(SpecJsonTest, NullMeansAbsent) {
  auto spec = ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                            "hooks": null, "mounts": null, "linux": {"seccomp": null}})");
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_FALSE(spec->hooks.has_value());
  EXPECT_FALSE(spec->linux.seccomp.has_value());
}

TEST(SpecJsonTest, TypeErrorsNameThePath) {
  EXPECT_EQ(ErrorText(ParseSpec(WithProcess(R"("args": 5)"))),
            "process.args: expected an array of strings, got a number");
  EXPECT_EQ(ErrorText(ParseSpec(WithProcess(R"("args": ["sh", true])"))),
            "process.args[1]: expected a string, got a boolean");
  EXPECT_EQ(ErrorText(ParseSpec(WithProcess(R"("args": ["sh"], "terminal": "yes")"))),
            "process.terminal: expected a boolean, got a string");
  EXPECT_EQ(ErrorText(ParseSpec(WithProcess(R"("args": ["sh"], "oomScoreAdj": 2.5)"))),
            "process.oomScoreAdj: expected a 32-bit integer, got 2.5");
  EXPECT_EQ(ErrorText(ParseSpec(WithProcess(
                R"("args": ["sh"], "rlimits": [{"type": "RLIMIT_CORE", "hard": -1, "soft": 0}])"))),
            "process.rlimits[0].hard: expected an unsigned 64-bit integer, got -1");
  EXPECT_EQ(ErrorText(ParseSpec(WithProcess(R"("args": ["sh"], "capabilities": [])"))),
            "process.capabilities: expected an object, got an array");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
          "linux": {"uidMappings": [{"containerID": 0, "hostID": 1, "size": 1},
                                    {"containerID": 1, "hostID": 2, "size": -1}]}})")),
            "linux.uidMappings[1].size: expected an unsigned 32-bit integer, got -1");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
          "linux": {"gidMappings": [{"containerID": 0, "hostID": 4294967296, "size": 1}]}})")),
            "linux.gidMappings[0].hostID: expected an unsigned 32-bit integer, got 4294967296");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
          "linux": {"resources": {"blockIO": {"weight": 65536}}}})")),
            "linux.resources.blockIO.weight: expected an unsigned 16-bit integer, got 65536");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
          "annotations": {"a": "b", "c": 1}})")),
            "annotations[\"c\"]: expected a string, got a number");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": 1, "root": {"path": "rootfs"}})")),
            "ociVersion: expected a string, got a number");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": "rootfs"})")),
            "root: expected an object, got a string");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
          "linux": {"sysctl": ["net.ipv4.ip_forward=1"]}})")),
            "linux.sysctl: expected an object of strings, got an array");
  EXPECT_EQ(ErrorText(ParseSpec("[1, 2]")), "config.json must hold a JSON object, got an array");
}

TEST(SpecJsonTest, MissingRequiredFields) {
  EXPECT_EQ(ErrorText(ParseSpec(R"({"root": {"path": "rootfs"}})")),
            "ociVersion: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"]}})")),
            "process.cwd: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "process": {"cwd": "/", "args": ["sh"]}})")),
            "process.user: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "process": {"cwd": "/", "user": {"uid": 0}}})")),
            "process.user.gid: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "mounts": [{"type": "tmpfs"}]})")),
            "mounts[0].destination: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "linux": {"seccomp": {"syscalls": []}}})")),
            "linux.seccomp.defaultAction: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "linux": {"resources": {"devices": [{"access": "r"}]}}})")),
            "linux.resources.devices[0].allow: required field is missing");
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "linux": {"devices": [{"path": "/dev/x"}]}})")),
            "linux.devices[0].type: required field is missing");
}

TEST(SpecJsonTest, UnknownNamespaceTypeAndBadDeviceLetters) {
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "linux": {"namespaces": [{"type": "pid"}, {"type": "net"}]}})")),
            "linux.namespaces[1].type: unknown namespace type \"net\" (expected pid, network, "
            "mount, ipc, uts, user, cgroup or time)");
  EXPECT_EQ(
      ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "linux": {"devices": [{"path": "/dev/x", "type": "char"}]}})")),
      "linux.devices[0].type: expected a one-letter device type (c, b, u or p), got \"char\"");
  EXPECT_EQ(
      ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "linux": {"resources": {"devices": [{"allow": true, "type": ""}]}}})")),
      "linux.resources.devices[0].type: expected a one-letter device type (a, c or b), got \"\"");
}

TEST(SpecJsonTest, NotJson) {
  std::string err = ErrorText(ParseSpec("{\"ociVersion\": \"1.0.0\",\n  \"root\": }"));
  EXPECT_THAT(err, StartsWith("config.json is not valid JSON: parse error at line 2, column "));
  EXPECT_THAT(err, Not(HasSubstr("json.exception")));
  EXPECT_THAT(ErrorText(ParseSpec("")), StartsWith("config.json is not valid JSON: "));
}

TEST(SpecJsonTest, ParseSpecValidatesButUnvalidatedDoesNot) {
  const char* text = R"({"ociVersion": "9.0.0", "root": {"path": "rootfs"}})";
  EXPECT_THAT(ErrorText(ParseSpec(text)), StartsWith("ociVersion: unsupported version \"9.0.0\""));
  auto raw = ParseSpecUnvalidated(text);
  ASSERT_TRUE(raw.has_value()) << raw.error().message();
  EXPECT_EQ(raw->oci_version, "9.0.0");
}

TEST(SpecJsonTest, LoadSpecFilePrefixesThePath) {
  TempDir dir;
  std::string good = dir.Write("config.json", kMinimal);
  auto spec = LoadSpecFile(good);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->root.path, "rootfs");

  std::string bad = dir.Write("bad.json", "{]");
  EXPECT_THAT(ErrorText(LoadSpecFile(bad)),
              StartsWith(bad + ": config.json is not valid JSON: parse error at line 1, column 2"));

  std::string invalid =
      dir.Write("invalid.json", R"({"ociVersion": "1.0.0", "root": {"path": ""}})");
  EXPECT_THAT(ErrorText(LoadSpecFile(invalid)), StartsWith(invalid + ": root.path: required"));

  auto missing = LoadSpecFile(dir.path() + "/nope.json");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().errnum(), ENOENT);
  EXPECT_EQ(missing.error().message(), dir.path() + "/nope.json: open: no such file or directory");

  EXPECT_EQ(ErrorText(LoadSpecFile(dir.path())), dir.path() + ": not a regular file");
}

TEST(SpecJsonTest, LoadSpecFileRefusesHugeFiles) {
  TempDir dir;
  std::string big = dir.Write("config.json", std::string(17 << 20, ' ') + kMinimal);
  EXPECT_EQ(ErrorText(LoadSpecFile(big)), big + ": larger than 16 MiB, which no config.json needs");
}

TEST(SpecJsonTest, KeysInErrorsAreEscaped) {
  EXPECT_EQ(ErrorText(ParseSpec(R"({"ociVersion": "1.0.0", "root": {"path": "rootfs"},
                                    "annotations": {"a\nb\"c": 1}})")),
            "annotations[\"a\\x0ab\\\"c\"]: expected a string, got a number");
}

TEST(SpecJsonTest, LoadSpecFileRefusesAFifoWithoutBlocking) {
  TempDir dir;
  std::string fifo = dir.path() + "/config.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(ErrorText(LoadSpecFile(fifo)), fifo + ": not a regular file");
  unlink(fifo.c_str());
}

TEST(SpecJsonTest, PodmanDefaultConfig) {
  std::string path = std::string(BRICK_OCI_TEST_DATA_DIR) + "/podman-default.json";
  auto spec = LoadSpecFile(path);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->oci_version, "1.0.2-dev");
  ASSERT_TRUE(spec->process.has_value());
  EXPECT_TRUE(spec->process->terminal);
  EXPECT_EQ(spec->process->user.umask, 18u);
  EXPECT_EQ(spec->process->capabilities->bounding.size(), 11u);
  EXPECT_TRUE(spec->process->capabilities->ambient.empty());
  EXPECT_EQ(spec->process->rlimits[0].soft, 1048576u);
  EXPECT_EQ(spec->mounts.size(), 11u);
  EXPECT_EQ(spec->mounts[5].destination, "/etc/resolv.conf");
  EXPECT_EQ(spec->linux.cgroups_path.rfind("machine.slice:libpod:", 0), 0u);
  const Namespace* net = spec->linux.FindNamespace(NamespaceType::kNetwork);
  ASSERT_NE(net, nullptr);
  EXPECT_THAT(net->path, StartsWith("/run/netns/netns-"));
  EXPECT_EQ(spec->linux.FindNamespace(NamespaceType::kUser), nullptr);
  EXPECT_EQ(spec->linux.sysctl.at("net.ipv4.ping_group_range"), "0 0");
  ASSERT_TRUE(spec->linux.seccomp.has_value());
  EXPECT_EQ(spec->linux.seccomp->default_errno_ret, 38u);
  EXPECT_EQ(spec->linux.seccomp->syscalls[9].args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(spec->linux.resources->pids->limit, 2048);
  EXPECT_EQ(spec->annotations.at("io.container.manager"), "libpod");

  auto again = ParseSpec(SerializeSpec(*spec));
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, *spec);
}

TEST(ParseResourcesTest, ReadsALinuxResourcesObject) {
  auto r = ParseResources(R"({"pids": {"limit": 64}, "memory": {"limit": 268435456},
                              "cpu": {"quota": 50000, "period": 100000}})");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_TRUE(r->pids.has_value());
  EXPECT_EQ(r->pids->limit, 64);
  EXPECT_EQ(r->memory->limit, 268435456);
  EXPECT_EQ(r->cpu->quota, 50000);
  EXPECT_EQ(r->cpu->period, 100000u);
  EXPECT_FALSE(r->block_io.has_value());
}

TEST(ParseResourcesTest, ErrorsNameTheField) {
  auto type = ParseResources(R"({"pids": {"limit": "many"}})");
  ASSERT_FALSE(type.has_value());
  EXPECT_EQ(type.error().message(),
            "linux.resources.pids.limit: expected a 64-bit integer, got a string");
  auto missing = ParseResources(R"({"pids": {}})");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "linux.resources.pids.limit: required field is missing");
  auto range = ParseResources(R"({"memory": {"swappiness": 101}})");
  ASSERT_FALSE(range.has_value());
  EXPECT_THAT(range.error().message(), HasSubstr("linux.resources.memory.swappiness: 101"));
  auto not_object = ParseResources("[1]");
  ASSERT_FALSE(not_object.has_value());
  EXPECT_EQ(not_object.error().message(), "linux.resources: expected an object, got an array");
  auto syntax = ParseResources("{\"pids\": ");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_THAT(syntax.error().message(), StartsWith("linux.resources is not valid JSON: "));
}

#ifdef BRICK_OCI_REFERENCE_DIR
std::string ReferenceConfig(const std::string& name) {
  return ReadWholeFile(std::string(BRICK_OCI_REFERENCE_DIR) + "/schema/test/config/" + name);
}

TEST(SpecJsonReferenceTest, GoodLinuxSamplesParseAndValidate) {
  for (const char* name : {"good/minimal.json", "good/minimal-for-start.json",
                           "good/linux-rdma.json", "good/linux-netdevice.json"}) {
    auto spec = ParseSpec(ReferenceConfig(name));
    EXPECT_TRUE(spec.has_value()) << name << ": " << spec.error().message();
  }
  auto rdma = ParseSpec(ReferenceConfig("good/linux-rdma.json"));
  ASSERT_TRUE(rdma.has_value());
  EXPECT_EQ(rdma->linux.resources->rdma.at("mlx5_1").hca_handles, 3u);
  EXPECT_FALSE(rdma->linux.resources->rdma.at("mlx4_0").hca_handles.has_value());
}

TEST(SpecJsonReferenceTest, SpecExample) {
  // The spec's full example claims version 0.5.0-dev, which brick does not support; with a
  // supported version, everything else in it is valid.
  std::string text = ReferenceConfig("good/spec-example.json");
  EXPECT_EQ(ErrorText(ParseSpec(text)),
            "ociVersion: unsupported version \"0.5.0-dev\" (brick supports 1.0.x to 1.3.x)");
  auto spec = ParseSpecUnvalidated(text);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  spec->oci_version = "1.0.2";
  auto st = ValidateSpec(*spec);
  EXPECT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(spec->hostname, "slartibartfast");
  EXPECT_EQ(spec->linux.devices[0].file_mode, 438u);
  EXPECT_EQ(spec->linux.resources->hugepage_limits[0].limit, 9223372036854772000u);
  EXPECT_EQ(spec->linux.time_offsets.at("boottime").secs, 604800);
  EXPECT_EQ(spec->linux.rootfs_propagation, "slave");
  auto again = ParseSpecUnvalidated(SerializeSpec(*spec));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *spec);
}

TEST(SpecJsonReferenceTest, BadSamplesAreRefused) {
  EXPECT_THAT(ErrorText(ParseSpec(ReferenceConfig("bad/invalid-json.json"))),
              StartsWith("config.json is not valid JSON: parse error at line 1, column 2"));
  EXPECT_EQ(ErrorText(ParseSpec(ReferenceConfig("bad/linux-rdma.json"))),
            "linux.resources.rdma[\"mlx5_1\"].hcaHandles: expected an unsigned 32-bit integer, got "
            "a string");
  EXPECT_EQ(ErrorText(ParseSpec(ReferenceConfig("bad/linux-hugepage.json"))),
            "linux.resources.hugepageLimits[0].pageSize: \"64kB\" is not a size like \"2MB\" "
            "(digits, then KB, MB or GB)");
}
#endif

}  // namespace
}  // namespace brick::oci
