#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "brick/oci/spec.h"

namespace brick::oci {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// brick's own default shape: every namespace new, a 65536-id user mapping, a shell.
Spec Valid() {
  Spec s;
  s.oci_version = "1.2.0";
  s.root.path = "rootfs";
  Process p;
  p.args = {"sh"};
  p.cwd = "/";
  p.env = {"PATH=/bin", "TERM=xterm"};
  p.user.uid = 1000;
  p.user.gid = 1000;
  s.process = p;
  s.hostname = "brick";
  for (NamespaceType t :
       {NamespaceType::kPid, NamespaceType::kNetwork, NamespaceType::kMount, NamespaceType::kIpc,
        NamespaceType::kUts, NamespaceType::kUser, NamespaceType::kCgroup}) {
    s.linux.namespaces.push_back({t, ""});
  }
  s.linux.uid_mappings = {{0, 1000000000, 65536}};
  s.linux.gid_mappings = {{0, 1000000000, 65536}};
  s.mounts = {{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}, {}, {}}};
  return s;
}

std::string Check(const Spec& s) {
  auto st = ValidateSpec(s);
  return st ? "ok" : st.error().message();
}

Namespace& Ns(Spec& s, NamespaceType t) {
  for (auto& ns : s.linux.namespaces) {
    if (ns.type == t) {
      return ns;
    }
  }
  s.linux.namespaces.push_back({t, ""});
  return s.linux.namespaces.back();
}

void RemoveNs(Spec& s, NamespaceType t) {
  std::erase_if(s.linux.namespaces, [t](const Namespace& ns) { return ns.type == t; });
}

TEST(ValidateTest, BaseSpecIsValid) { EXPECT_EQ(Check(Valid()), "ok"); }

TEST(ValidateTest, OciVersion) {
  Spec s = Valid();
  for (const char* ok :
       {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.1", "1.3.0", "1.1.0-rc.1", "1.0.0+build.5"}) {
    s.oci_version = ok;
    EXPECT_EQ(Check(s), "ok") << ok;
  }
  s.oci_version = "1.4.0";
  EXPECT_EQ(Check(s), "ociVersion: unsupported version \"1.4.0\" (brick supports 1.0.x to 1.3.x)");
  s.oci_version = "0.9.0";
  EXPECT_EQ(Check(s), "ociVersion: unsupported version \"0.9.0\" (brick supports 1.0.x to 1.3.x)");
  s.oci_version = "2.0.0";
  EXPECT_THAT(Check(s), StartsWith("ociVersion: unsupported version \"2.0.0\""));
  for (const char* bad : {"", "1", "1.2", "1.2.x", "v1.2.0", "1.2.0-", "1..0"}) {
    s.oci_version = bad;
    EXPECT_EQ(Check(s), fmt::format("ociVersion: \"{}\" is not a version like \"1.2.0\" (brick "
                                    "supports 1.0.x to 1.3.x)",
                                    bad));
  }
}

TEST(ValidateTest, RootPath) {
  Spec s = Valid();
  s.root.path = "";
  EXPECT_EQ(Check(s),
            "root.path: required; give the root file system directory (usually \"rootfs\")");
  s.root.path = "/var/lib/rootfs";
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, ProcessArgsCwdEnv) {
  Spec s = Valid();
  s.process->args.clear();
  EXPECT_EQ(Check(s), "process.args: must not be empty; give at least the program to run");

  s = Valid();
  s.process->cwd = "work";
  EXPECT_EQ(Check(s), "process.cwd: \"work\" is not an absolute path");

  s = Valid();
  s.process->env = {"A=1", "NOVALUE"};
  EXPECT_EQ(Check(s), "process.env[1]: \"NOVALUE\" is not KEY=VALUE");
  s.process->env = {"=x"};
  EXPECT_EQ(Check(s), "process.env[0]: \"=x\" has an empty variable name");
  s.process->env = {"EMPTY=", "A==b"};
  EXPECT_EQ(Check(s), "ok");

  s = Valid();
  s.process->args = {"sh", std::string("a\0b", 3)};
  EXPECT_EQ(Check(s), "process.args[1]: \"a\\x00b\" contains a NUL byte");

  s = Valid();
  s.process->command_line = "cmd.exe /c dir";
  EXPECT_EQ(Check(s),
            "process.commandLine: \"cmd.exe /c dir\" is for Windows only; use process.args on "
            "Linux");

  s = Valid();
  s.process->user.umask = 01000;
  EXPECT_EQ(Check(s),
            "process.user.umask: 512 (octal 1000) is not a umask; the largest is 511 (0777)");
}

TEST(ValidateTest, Capabilities) {
  Spec s = Valid();
  s.process->capabilities = Capabilities{};
  s.process->capabilities->bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_FOO"};
  EXPECT_EQ(Check(s), "process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"");

  s.process->capabilities->bounding = {"CAP_CHOWN"};
  s.process->capabilities->ambient = {"NET_ADMIN"};
  EXPECT_EQ(Check(s),
            "process.capabilities.ambient[0]: unknown capability \"NET_ADMIN\" (did you mean "
            "\"CAP_NET_ADMIN\"?)");
  s.process->capabilities->ambient = {};
  s.process->capabilities->inheritable = {"cap_sys_admin"};
  EXPECT_EQ(Check(s),
            "process.capabilities.inheritable[0]: unknown capability \"cap_sys_admin\" (did you "
            "mean \"CAP_SYS_ADMIN\"?)");
  s.process->capabilities->inheritable = {};
  s.process->capabilities->effective = {"CAP_CHECKPOINT_RESTORE", "CAP_BPF"};
  s.process->capabilities->permitted = {"CAP_CHECKPOINT_RESTORE", "CAP_BPF", "CAP_PERFMON"};
  EXPECT_EQ(Check(s), "ok");
  s.process->capabilities->permitted = {"CAP_BOGUS_42"};
  EXPECT_EQ(Check(s), "process.capabilities.permitted[0]: unknown capability \"CAP_BOGUS_42\"");
}

TEST(ValidateTest, Rlimits) {
  Spec s = Valid();
  s.process->rlimits = {{"RLIMIT_NOFILE", 1024, 1024}, {"RLIMIT_FOO", 1, 1}};
  EXPECT_THAT(Check(s), StartsWith("process.rlimits[1].type: unknown resource limit "
                                   "\"RLIMIT_FOO\" (expected one of RLIMIT_AS, RLIMIT_CORE"));
  s.process->rlimits = {{"RLIMIT_NOFILE", 1024, 2048}};
  EXPECT_EQ(Check(s),
            "process.rlimits[0]: soft limit 2048 is above hard limit 1024 for RLIMIT_NOFILE");
  s.process->rlimits = {
      {"RLIMIT_NOFILE", 1024, 1024}, {"RLIMIT_CORE", 0, 0}, {"RLIMIT_NOFILE", 10, 10}};
  EXPECT_EQ(Check(s),
            "process.rlimits[2].type: \"RLIMIT_NOFILE\" is already set by process.rlimits[0]");
  s.process->rlimits = {
      {"RLIMIT_NOFILE", 1024, 1024}, {"RLIMIT_RTTIME", 5, 5}, {"RLIMIT_SIGPENDING", 9, 1}};
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, OomIoPriorityScheduler) {
  Spec s = Valid();
  s.process->oom_score_adj = 1001;
  EXPECT_EQ(Check(s), "process.oomScoreAdj: 1001 is out of range [-1000, 1000]");
  s.process->oom_score_adj = -1001;
  EXPECT_EQ(Check(s), "process.oomScoreAdj: -1001 is out of range [-1000, 1000]");
  s.process->oom_score_adj = -1000;
  EXPECT_EQ(Check(s), "ok");

  s.process->io_priority = IoPriority{"IOPRIO_CLASS_NONE", 0};
  EXPECT_EQ(Check(s),
            "process.ioPriority.class: unknown class \"IOPRIO_CLASS_NONE\" (expected "
            "IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)");
  s.process->io_priority = IoPriority{"IOPRIO_CLASS_IDLE", 8};
  EXPECT_EQ(Check(s), "process.ioPriority.priority: 8 is out of range [0, 7]");
  s.process->io_priority = IoPriority{"IOPRIO_CLASS_RT", 7};
  EXPECT_EQ(Check(s), "ok");

  s.process->scheduler = Scheduler{};
  s.process->scheduler->policy = "SCHED_FAST";
  EXPECT_THAT(Check(s), StartsWith("process.scheduler.policy: unknown policy \"SCHED_FAST\" "
                                   "(expected one of SCHED_OTHER, SCHED_FIFO"));
  s.process->scheduler->policy = "SCHED_DEADLINE";
  s.process->scheduler->flags = {"SCHED_FLAG_RECLAIM", "SCHED_FLAG_TURBO"};
  EXPECT_THAT(Check(s), StartsWith("process.scheduler.flags[1]: unknown scheduler flag "
                                   "\"SCHED_FLAG_TURBO\""));
  s.process->scheduler->flags = {"SCHED_FLAG_RECLAIM"};
  s.process->scheduler->nice = 20;
  EXPECT_EQ(Check(s), "process.scheduler.nice: 20 is out of range [-20, 19]");
  s.process->scheduler->nice = -20;
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, IdMappingSizeAndOverflow) {
  Spec s = Valid();
  s.linux.uid_mappings = {{0, 1000, 1}, {1, 2000, 0}};
  EXPECT_EQ(Check(s), "linux.uidMappings[1].size: must be greater than 0");
  s.linux.uid_mappings = {{4294967295u, 1000, 1}};
  s.process->user.uid = 4294967295u;
  EXPECT_EQ(Check(s),
            "linux.uidMappings[0]: containerID 4294967295 + size 1 overflows the 32-bit id range");
  s = Valid();
  s.linux.gid_mappings = {{0, 4294901760u, 65536}};
  EXPECT_EQ(Check(s),
            "linux.gidMappings[0]: hostID 4294901760 + size 65536 overflows the 32-bit id range");
  s.linux.gid_mappings = {{0, 4294901759u, 65536}};  // ends at 4294967294: fine
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, IdMappingOverlap) {
  Spec s = Valid();
  s.linux.uid_mappings = {{0, 100000, 1000}, {2000, 300000, 10}, {500, 200000, 1000}};
  EXPECT_EQ(Check(s),
            "linux.uidMappings[2]: container ids 500-1499 overlap linux.uidMappings[0] "
            "(container ids 0-999)");
  s.linux.uid_mappings = {{0, 100000, 1000}, {1000, 100999, 10}};
  EXPECT_EQ(Check(s),
            "linux.uidMappings[1]: host ids 100999-101008 overlap linux.uidMappings[0] (host ids "
            "100000-100999)");
  s.linux.uid_mappings = {{0, 100000, 1000}, {1000, 101000, 10}};  // adjacent, not overlapping
  s.process->user.uid = 0;
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, IdMappingKernelLimit) {
  Spec s = Valid();
  s.linux.uid_mappings.clear();
  for (uint32_t i = 0; i < 340; ++i) {
    s.linux.uid_mappings.push_back({i, 100000 + i, 1});
  }
  s.process->user.uid = 0;
  EXPECT_EQ(Check(s), "ok");
  s.linux.uid_mappings.push_back({340, 100340, 1});
  EXPECT_EQ(Check(s), "linux.uidMappings: 341 entries exceed the kernel's limit of 340");
}

TEST(ValidateTest, ProcessUserMustBeMapped) {
  Spec s = Valid();
  s.process->user.uid = 70000;
  EXPECT_EQ(Check(s), "process.user.uid: 70000 is not mapped by linux.uidMappings");
  s = Valid();
  s.process->user.additional_gids = {5, 65536};
  EXPECT_EQ(Check(s), "process.user.additionalGids[1]: 65536 is not mapped by linux.gidMappings");
}

TEST(ValidateTest, NamespacesListedTwiceOrWithRelativePath) {
  Spec s = Valid();
  s.linux.namespaces.push_back({NamespaceType::kPid, "/proc/42/ns/pid"});
  EXPECT_EQ(Check(s), "linux.namespaces[7].type: \"pid\" is already listed at linux.namespaces[0]");
  s = Valid();
  Ns(s, NamespaceType::kCgroup).path = "proc/42/ns/cgroup";
  EXPECT_EQ(Check(s), "linux.namespaces[6].path: \"proc/42/ns/cgroup\" is not an absolute path");
}

TEST(ValidateTest, UserNamespaceAndMappingsGoTogether) {
  Spec s = Valid();
  RemoveNs(s, NamespaceType::kUser);
  EXPECT_EQ(Check(s),
            "linux.uidMappings: set, but linux.namespaces has no user namespace; add {\"type\": "
            "\"user\"} to linux.namespaces or remove the mappings");
  s.linux.uid_mappings.clear();
  EXPECT_THAT(Check(s), StartsWith("linux.gidMappings: set, but linux.namespaces has no user"));
  s.linux.gid_mappings.clear();
  EXPECT_EQ(Check(s), "ok");

  s = Valid();
  s.linux.uid_mappings.clear();
  s.linux.gid_mappings.clear();
  EXPECT_EQ(Check(s),
            "linux.namespaces[5]: a new user namespace needs linux.uidMappings and "
            "linux.gidMappings (missing: linux.uidMappings)");
  s = Valid();
  s.linux.gid_mappings.clear();
  EXPECT_THAT(Check(s), HasSubstr("(missing: linux.gidMappings)"));

  s = Valid();
  Ns(s, NamespaceType::kUser).path = "/proc/1234/ns/user";
  EXPECT_EQ(Check(s),
            "linux.uidMappings: not allowed when joining the user namespace at "
            "linux.namespaces[5].path (\"/proc/1234/ns/user\"); a joined namespace keeps its own "
            "mappings");
  s.linux.uid_mappings.clear();
  s.linux.gid_mappings.clear();
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, TimeOffsetsNeedANewTimeNamespace) {
  Spec s = Valid();
  s.linux.time_offsets = {{"monotonic", {86400, 0}}};
  EXPECT_EQ(Check(s),
            "linux.timeOffsets: needs a new time namespace; add {\"type\": \"time\"} without a "
            "path to linux.namespaces");
  Ns(s, NamespaceType::kTime).path = "/proc/99/ns/time";
  EXPECT_THAT(Check(s), StartsWith("linux.timeOffsets: needs a new time namespace"));
  Ns(s, NamespaceType::kTime).path = "";
  EXPECT_EQ(Check(s), "ok");
  s.linux.time_offsets = {{"realtime", {1, 0}}};
  EXPECT_EQ(Check(s),
            "linux.timeOffsets[\"realtime\"]: unknown clock \"realtime\" (expected monotonic or "
            "boottime)");
  s.linux.time_offsets = {{"boottime", {1, 1000000000}}};
  EXPECT_EQ(Check(s),
            "linux.timeOffsets[\"boottime\"].nanosecs: 1000000000 is not below 1000000000");
}

TEST(ValidateTest, HostnameNeedsItsOwnUtsNamespace) {
  Spec s = Valid();
  RemoveNs(s, NamespaceType::kUts);
  EXPECT_EQ(Check(s),
            "hostname: needs a new uts namespace; add {\"type\": \"uts\"} to linux.namespaces");
  s.hostname.clear();
  s.domainname = "example.test";
  EXPECT_EQ(Check(s),
            "domainname: needs a new uts namespace; add {\"type\": \"uts\"} to linux.namespaces");
  s.domainname.clear();
  EXPECT_EQ(Check(s), "ok");

  s = Valid();
  Ns(s, NamespaceType::kUts).path = "/proc/1/ns/uts";
  EXPECT_EQ(Check(s),
            "hostname: linux.namespaces[4] joins \"/proc/1/ns/uts\", the host's uts namespace; "
            "the setting would change the host");
  s = Valid();
  s.hostname = std::string(65, 'h');
  EXPECT_THAT(Check(s), HasSubstr("is longer than 64 bytes"));
}

TEST(ValidateTest, Sysctls) {
  Spec s = Valid();
  s.linux.sysctl = {{"kernel.shmmax", "65536"},
                    {"fs.mqueue.msg_max", "20"},
                    {"net.ipv4.ip_forward", "1"},
                    {"kernel.shm_rmid_forced", "1"}};
  EXPECT_EQ(Check(s), "ok");

  RemoveNs(s, NamespaceType::kIpc);
  EXPECT_EQ(Check(s),
            "linux.sysctl[\"fs.mqueue.msg_max\"]: needs a new ipc namespace; add {\"type\": "
            "\"ipc\"} to linux.namespaces");

  s = Valid();
  RemoveNs(s, NamespaceType::kNetwork);
  s.linux.sysctl = {{"net.core.somaxconn", "256"}};
  EXPECT_EQ(Check(s),
            "linux.sysctl[\"net.core.somaxconn\"]: needs a new network namespace; add {\"type\": "
            "\"network\"} to linux.namespaces");
  // Joined by path, as podman does with the netns it prepared: allowed...
  Ns(s, NamespaceType::kNetwork).path = "/run/netns/cni-1234";
  EXPECT_EQ(Check(s), "ok");
  // ...but not when the path names the host's own namespace.
  Ns(s, NamespaceType::kNetwork).path = "/proc/self/ns/net";
  EXPECT_EQ(Check(s),
            "linux.sysctl[\"net.core.somaxconn\"]: linux.namespaces[6] joins "
            "\"/proc/self/ns/net\", the host's network namespace; the setting would change the "
            "host");

  s = Valid();
  s.linux.sysctl = {{"vm.swappiness", "0"}};
  EXPECT_EQ(Check(s),
            "linux.sysctl[\"vm.swappiness\"]: is not namespaced and would change the host; "
            "remove it");
  s.linux.sysctl = {{"kernel.hostname", "x"}};
  EXPECT_EQ(Check(s), "linux.sysctl[\"kernel.hostname\"]: set the hostname field instead");
  s.linux.sysctl = {{"kernel.domainname", "x"}};
  EXPECT_EQ(Check(s), "linux.sysctl[\"kernel.domainname\"]: set the domainname field instead");
  for (const char* bad :
       {"net/ipv4/ip_forward", "net.ipv4..conf", "net.../../../sys", ".net", "net.", ""}) {
    s.linux.sysctl = {{bad, "1"}};
    EXPECT_THAT(Check(s), HasSubstr("not a sysctl name; use dotted names")) << bad;
  }
}

TEST(ValidateTest, MountDestinations) {
  Spec s = Valid();
  s.mounts.push_back({"", "tmpfs", "tmpfs", {}, {}, {}});
  EXPECT_EQ(Check(s), "mounts[1].destination: must not be empty");

  s = Valid();
  s.mounts.push_back({"/tmp", "tmpfs", "tmpfs", {}, {}, {}});
  s.mounts.push_back({"/run", "tmpfs", "tmpfs", {}, {}, {}});
  s.mounts.push_back({"/../etc", "tmpfs", "tmpfs", {}, {}, {}});
  EXPECT_EQ(Check(s), "mounts[3].destination: \"/../etc\" escapes the container root");
  s.mounts[3].destination = "a/../../x";
  EXPECT_EQ(Check(s), "mounts[3].destination: \"a/../../x\" escapes the container root");
  s.mounts[3].destination = "/a/b/../../../x";
  EXPECT_THAT(Check(s), HasSubstr("escapes the container root"));
  // Relative destinations are deprecated but valid (taken relative to "/").
  s.mounts[3].destination = "data/cache";
  EXPECT_EQ(Check(s), "ok");
  s.mounts[3].destination = "/a/../b";
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, MountTypeAndBindSource) {
  Spec s = Valid();
  s.mounts.push_back({"/data", "/srv/data", "", {"ro"}, {}, {}});
  EXPECT_EQ(Check(s),
            "mounts[1].type: required for a mount that is not a bind mount (for a bind mount, add "
            "\"bind\" or \"rbind\" to mounts[1].options)");
  s.mounts[1].options = {"rbind", "ro"};
  EXPECT_EQ(Check(s), "ok");
  s.mounts[1].source = "";
  EXPECT_EQ(Check(s), "mounts[1].source: required for a bind mount");
  s.mounts[1].options = {"bind"};
  EXPECT_EQ(Check(s), "mounts[1].source: required for a bind mount");
}

TEST(ValidateTest, MountIdMappings) {
  Spec s = Valid();
  s.mounts.push_back({"/data", "/srv", "none", {"bind", "idmap"}, {{0, 1000, 10}}, {}});
  EXPECT_EQ(Check(s), "mounts[1].gidMappings: required together with mounts[1].uidMappings");
  s.mounts[1].gid_mappings = {{0, 1000, 10}, {5, 2000, 10}};
  EXPECT_EQ(Check(s),
            "mounts[1].gidMappings[1]: container ids 5-14 overlap mounts[1].gidMappings[0] "
            "(container ids 0-9)");
  s.mounts[1].gid_mappings = {{0, 1000, 10}};
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, Devices) {
  Spec s = Valid();
  s.linux.devices = {{"/dev/fuse", 'c', 10, 229, 0666, 0, 0}, {"/dev/x", 'x', 1, 1, {}, {}, {}}};
  EXPECT_EQ(Check(s), "linux.devices[1].type: unknown device type \"x\" (expected c, b, u or p)");
  s.linux.devices[1] = {"dev/sda", 'b', 8, 0, {}, {}, {}};
  EXPECT_EQ(Check(s), "linux.devices[1].path: \"dev/sda\" is not an absolute path");
  s.linux.devices[1] = {"/dev/../../sda", 'b', 8, 0, {}, {}, {}};
  EXPECT_EQ(Check(s), "linux.devices[1].path: \"/dev/../../sda\" escapes the container root");
  s.linux.devices[1] = {"/dev/sda", 'b', -1, 0, {}, {}, {}};
  EXPECT_EQ(Check(s), "linux.devices[1].major: -1 must not be negative");
  s.linux.devices[1] = {"/dev/sda", 'u', 8, -2, {}, {}, {}};
  EXPECT_EQ(Check(s), "linux.devices[1].minor: -2 must not be negative");
  s.linux.devices[1] = {"/dev/sda", 'b', 8, 0, 010000, {}, {}};
  EXPECT_EQ(Check(s),
            "linux.devices[1].fileMode: 4096 (octal 10000) has bits beyond 07777; give permission "
            "bits only (the type comes from linux.devices[1].type)");
  s.linux.devices[1] = {"/dev/sda", 'b', 8, 0, 07777, {}, {}};
  EXPECT_EQ(Check(s), "ok");
  s.linux.devices[1] = {"/run/fifo", 'p', 0, 0, {}, {}, {}};
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, DeviceCgroupRules) {
  Spec s = Valid();
  s.linux.resources = Resources{};
  s.linux.resources->devices = {{false, std::nullopt, std::nullopt, std::nullopt, "rwm"},
                                {true, 'c', 1, 3, "rw"},
                                {true, 'u', 1, 5, "rw"}};
  EXPECT_EQ(Check(s),
            "linux.resources.devices[2].type: unknown device type \"u\" (expected a, c or b)");
  s.linux.resources->devices[2] = {true, 'a', std::nullopt, std::nullopt, "rwx"};
  EXPECT_EQ(Check(s),
            "linux.resources.devices[2].access: \"rwx\" is not a combination of r, w and m");
  s.linux.resources->devices[2] = {true, 'b', 8, std::nullopt, "m"};
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, OtherResources) {
  Spec s = Valid();
  s.linux.resources = Resources{};
  s.linux.resources->hugepage_limits = {{"2MB", 1}, {"64kB", 1}};
  EXPECT_EQ(Check(s),
            "linux.resources.hugepageLimits[1].pageSize: \"64kB\" is not a size like \"2MB\" "
            "(digits, then KB, MB or GB)");
  s.linux.resources->hugepage_limits = {{"1GB", 1}, {"64KB", 1}};
  EXPECT_EQ(Check(s), "ok");
  s.linux.resources->rdma = {{"mlx5_1", {}}};
  EXPECT_EQ(Check(s), "linux.resources.rdma[\"mlx5_1\"]: needs hcaHandles or hcaObjects");
  s.linux.resources->rdma.clear();
  s.linux.resources->unified = {{"../../cgroup.procs", "1"}};
  EXPECT_EQ(Check(s), "linux.resources.unified[\"../../cgroup.procs\"]: not a cgroup file name");
  s.linux.resources->unified = {{"memory.max", "max"}};
  s.linux.resources->memory = MemoryResources{};
  s.linux.resources->memory->swappiness = 101;
  EXPECT_EQ(Check(s), "linux.resources.memory.swappiness: 101 is out of range [0, 100]");
  s.linux.resources->memory->swappiness = 60;
  s.linux.resources->cpu = CpuResources{};
  s.linux.resources->cpu->quota = 1000;
  s.linux.resources->cpu->burst = 2000;
  EXPECT_EQ(Check(s),
            "linux.resources.cpu.burst: 2000 is larger than linux.resources.cpu.quota 1000");
  s.linux.resources->cpu->quota = -1;  // unlimited: any burst
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, CgroupsPathMustNotClimb) {
  Spec s = Valid();
  s.linux.cgroups_path = "/brick/../../system.slice";
  EXPECT_EQ(Check(s),
            "linux.cgroupsPath: \"/brick/../../system.slice\" must not contain \"..\" components");
  s.linux.cgroups_path = "machine.slice:libpod:abc..def";
  EXPECT_EQ(Check(s), "ok");
}

Seccomp BaseSeccomp() {
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.architectures = {"SCMP_ARCH_X86_64"};
  sc.syscalls = {{{"read", "write"}, "SCMP_ACT_ALLOW", std::nullopt, {}}};
  return sc;
}

TEST(ValidateTest, SeccompActions) {
  Spec s = Valid();
  s.linux.seccomp = BaseSeccomp();
  EXPECT_EQ(Check(s), "ok");
  s.linux.seccomp->default_action = "SCMP_ACT_DENY";
  EXPECT_THAT(Check(s), StartsWith("linux.seccomp.defaultAction: unknown action \"SCMP_ACT_DENY\" "
                                   "(expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS"));
  s.linux.seccomp = BaseSeccomp();
  s.linux.seccomp->syscalls[0].action = "allow";
  EXPECT_THAT(Check(s), StartsWith("linux.seccomp.syscalls[0].action: unknown action \"allow\""));
  for (const char* ok :
       {"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}) {
    s.linux.seccomp->syscalls[0].action = ok;
    EXPECT_EQ(Check(s), "ok") << ok;
  }
}

TEST(ValidateTest, SeccompNotifyNeedsListener) {
  Spec s = Valid();
  s.linux.seccomp = BaseSeccomp();
  s.linux.seccomp->syscalls.push_back({{"mount"}, "SCMP_ACT_NOTIFY", std::nullopt, {}});
  EXPECT_EQ(Check(s),
            "linux.seccomp.syscalls[1].action: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath "
            "to hand the notify fd to");
  s.linux.seccomp->listener_path = "/run/agent.sock";
  EXPECT_EQ(Check(s), "ok");
  s.linux.seccomp->default_action = "SCMP_ACT_NOTIFY";
  EXPECT_EQ(Check(s), "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
  s.linux.seccomp = BaseSeccomp();
  s.linux.seccomp->listener_metadata = "x";
  EXPECT_EQ(Check(s), "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath");
}

TEST(ValidateTest, SeccompErrnoOnlyWithErrnoOrTrace) {
  Spec s = Valid();
  s.linux.seccomp = BaseSeccomp();
  s.linux.seccomp->syscalls[0].errno_ret = 1;
  EXPECT_EQ(Check(s),
            "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an "
            "errno, not SCMP_ACT_ALLOW");
  s.linux.seccomp->syscalls[0].action = "SCMP_ACT_TRACE";
  EXPECT_EQ(Check(s), "ok");
  s.linux.seccomp->default_action = "SCMP_ACT_KILL";
  s.linux.seccomp->default_errno_ret = 1;
  EXPECT_THAT(Check(s), StartsWith("linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO"));
}

TEST(ValidateTest, SeccompArgsArchFlagsNames) {
  Spec s = Valid();
  s.linux.seccomp = BaseSeccomp();
  s.linux.seccomp->syscalls[0].args = {{0, 1, 0, "SCMP_CMP_EQ"}, {6, 1, 0, "SCMP_CMP_EQ"}};
  EXPECT_EQ(Check(s), "linux.seccomp.syscalls[0].args[1].index: 6 is out of range [0, 5]");
  s.linux.seccomp->syscalls[0].args = {{5, 1, 0, "SCMP_CMP_EQUAL"}};
  EXPECT_THAT(Check(s), StartsWith("linux.seccomp.syscalls[0].args[0].op: unknown operator "
                                   "\"SCMP_CMP_EQUAL\" (expected one of SCMP_CMP_NE"));
  s.linux.seccomp->syscalls[0].args = {{5, 1, 0, "SCMP_CMP_MASKED_EQ"}};
  EXPECT_EQ(Check(s), "ok");

  s.linux.seccomp->architectures = {"SCMP_ARCH_X86_64", "x86_64"};
  EXPECT_THAT(Check(s),
              StartsWith("linux.seccomp.architectures[1]: unknown architecture \"x86_64\""));
  s.linux.seccomp->architectures = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_RISCV64"};
  s.linux.seccomp->flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_THAT(Check(s), StartsWith("linux.seccomp.flags[1]: unknown flag "
                                   "\"SECCOMP_FILTER_FLAG_NEW_LISTENER\""));
  s.linux.seccomp->flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  EXPECT_EQ(Check(s), "ok");

  s.linux.seccomp->syscalls.push_back({{}, "SCMP_ACT_ALLOW", std::nullopt, {}});
  EXPECT_EQ(Check(s), "linux.seccomp.syscalls[1].names: must list at least one syscall");
  // Syscall names are the seccomp library's business, not the validator's.
  s.linux.seccomp->syscalls[1].names = {"no_such_syscall"};
  EXPECT_EQ(Check(s), "ok");
}

TEST(ValidateTest, Hooks) {
  Spec s = Valid();
  s.hooks = Hooks{};
  s.hooks->poststart = {{"/usr/bin/notify", {}, {}, 5}, {"notify", {}, {}, std::nullopt}};
  EXPECT_EQ(Check(s), "hooks.poststart[1].path: \"notify\" is not an absolute path");
  s.hooks->poststart[1] = {"/bin/x", {}, {}, 0};
  EXPECT_EQ(Check(s), "hooks.poststart[1].timeout: 0 must be greater than 0");
  s.hooks->poststart[1] = {"/bin/x", {}, {"NOEQUALS"}, 1};
  EXPECT_EQ(Check(s), "hooks.poststart[1].env[0]: \"NOEQUALS\" is not KEY=VALUE");
  s.hooks->poststart.clear();
  s.hooks->create_container = {{"/bin/x", {}, {}, -3}};
  EXPECT_EQ(Check(s), "hooks.createContainer[0].timeout: -3 must be greater than 0");
}

TEST(ValidateTest, MaskedAndReadonlyPaths) {
  Spec s = Valid();
  s.linux.masked_paths = {"/proc/kcore", "proc/keys"};
  EXPECT_EQ(Check(s), "linux.maskedPaths[1]: \"proc/keys\" is not an absolute path");
  s.linux.masked_paths = {"/proc/kcore"};
  s.linux.readonly_paths = {"/proc/../../etc"};
  EXPECT_EQ(Check(s), "linux.readonlyPaths[0]: \"/proc/../../etc\" escapes the container root");
}

TEST(ValidateTest, RootfsPropagation) {
  Spec s = Valid();
  for (const char* ok : {"shared", "slave", "private", "unbindable", "rshared", "rslave",
                         "rprivate", "runbindable"}) {
    s.linux.rootfs_propagation = ok;
    EXPECT_EQ(Check(s), "ok") << ok;
  }
  s.linux.rootfs_propagation = "rwhatever";
  EXPECT_EQ(Check(s),
            "linux.rootfsPropagation: unknown propagation \"rwhatever\" (expected shared, slave, "
            "private, unbindable, rshared, rslave, rprivate or runbindable)");
}

TEST(ValidateTest, PersonalityAndIntelRdt) {
  Spec s = Valid();
  s.linux.personality = Personality{"LINUX64", {}};
  EXPECT_EQ(Check(s),
            "linux.personality.domain: unknown domain \"LINUX64\" (expected LINUX or LINUX32)");
  s.linux.personality = Personality{"LINUX", {"ADDR_NO_RANDOMIZE"}};
  EXPECT_THAT(Check(s), StartsWith("linux.personality.flags[0]: \"ADDR_NO_RANDOMIZE\" is not "
                                   "supported"));
  s.linux.personality.reset();
  s.linux.intel_rdt = IntelRdt{"../../info", "", ""};
  EXPECT_EQ(Check(s),
            "linux.intelRdt.closID: \"../../info\" is not a resctrl group name (or \"/\")");
  s.linux.intel_rdt = IntelRdt{"/", "", "L3:0=1"};
  EXPECT_EQ(Check(s),
            "linux.intelRdt.memBwSchema: \"L3:0=1\" must be one line starting with \"MB:\"");
  s.linux.intel_rdt = IntelRdt{"grp", "L3:0=f\nMB:0=1", ""};
  EXPECT_EQ(Check(s), "linux.intelRdt.l3CacheSchema: \"L3:0=f\\x0aMB:0=1\" must be one line");
}

TEST(ValidateTest, ErrorValuesAreEscaped) {
  Spec s = Valid();
  s.process->cwd = "x\"\n/evil";
  EXPECT_EQ(Check(s), "process.cwd: \"x\\\"\\x0a/evil\" is not an absolute path");
}

TEST(ValidateTest, AnnotationKeysNotEmpty) {
  Spec s = Valid();
  s.annotations = {{"", "x"}};
  EXPECT_EQ(Check(s), "annotations: keys must not be empty");
}

}  // namespace
}  // namespace brick::oci
