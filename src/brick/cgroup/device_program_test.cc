#include "brick/cgroup/device_program.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "brick/cgroup/defaults.h"
#include "brick/sys/fs.h"

namespace brick::cgroup {
namespace {

oci::DeviceCgroupRule Rule(bool allow, char type, std::optional<int64_t> major,
                           std::optional<int64_t> minor, std::string access) {
  return {.allow = allow, .type = type, .major = major, .minor = minor, .access = access};
}

// A user-space evaluator for the instructions BuildDeviceProgram emits, so that the
// program is checked against the rule semantics on every input without a kernel.
int Evaluate(const std::vector<bpf_insn>& insns, uint32_t type, uint32_t access, uint32_t major,
             uint32_t minor) {
  bpf_cgroup_dev_ctx ctx{(access << 16) | type, major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < insns.size(); ++pc) {
    const bpf_insn& i = insns[pc];
    uint64_t& dst = reg[i.dst_reg];
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        EXPECT_EQ(i.src_reg, BPF_REG_1);
        uint32_t v;
        memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        dst = v;
        break;
      }
      case BPF_ALU64 | BPF_MOV | BPF_X:
        dst = reg[i.src_reg];
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        dst = static_cast<uint64_t>(static_cast<int64_t>(i.imm));
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        dst = static_cast<uint32_t>(dst) & static_cast<uint32_t>(i.imm);
        break;
      case BPF_ALU | BPF_RSH | BPF_K:
        dst = static_cast<uint32_t>(dst) >> i.imm;
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (dst != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
          pc += i.off;
        }
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        if (dst == static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
          pc += i.off;
        }
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(reg[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code);
        return -1;
    }
  }
  ADD_FAILURE() << "fell off the end";
  return -1;
}

TEST(DeviceRulesTest, LastMatchWinsAndDefaultIsDeny) {
  std::vector<oci::DeviceCgroupRule> rules = {
      Rule(false, 'a', {}, {}, "rwm"), Rule(true, 'c', 1, 3, "rw"), Rule(true, 'c', 136, {}, "rwm"),
      Rule(false, 'c', 136, 5, "w")};
  EXPECT_TRUE(DeviceRulesAllow(rules, 'c', 1, 3, "r"));
  EXPECT_TRUE(DeviceRulesAllow(rules, 'c', 1, 3, "rw"));
  EXPECT_FALSE(DeviceRulesAllow(rules, 'c', 1, 3, "m"));
  EXPECT_FALSE(DeviceRulesAllow(rules, 'b', 1, 3, "r"));
  EXPECT_FALSE(DeviceRulesAllow(rules, 'c', 1, 11, "r"));
  EXPECT_TRUE(DeviceRulesAllow(rules, 'c', 136, 4, "rwm"));
  EXPECT_TRUE(DeviceRulesAllow(rules, 'c', 136, 5, "r"));
  EXPECT_FALSE(DeviceRulesAllow(rules, 'c', 136, 5, "rw"));  // asks for a denied bit
  EXPECT_FALSE(DeviceRulesAllow({}, 'c', 1, 3, "r"));
}

TEST(DeviceProgramTest, ProgramAgreesWithTheRulesOnEveryInput) {
  std::vector<std::vector<oci::DeviceCgroupRule>> sets = {
      DefaultResources().devices,
      {Rule(true, 'a', {}, {}, "rwm")},
      {Rule(true, 'a', {}, {}, ""), Rule(false, 'b', 8, {}, "w"), Rule(true, 'b', 8, 1, "rw")},
      {Rule(false, 'a', {}, {}, "rwm"), Rule(true, 'c', -1, 7, "m"), Rule(true, 'b', 7, -1, "r")},
      {},
  };
  for (size_t s = 0; s < sets.size(); ++s) {
    auto prog = BuildDeviceProgram(sets[s]);
    ASSERT_TRUE(prog) << prog.error().message();
    for (char type : {'b', 'c'}) {
      for (int64_t major : {1, 5, 7, 8, 136, 4095}) {
        for (int64_t minor : {0, 1, 3, 5, 7, 11}) {
          for (uint32_t acc = 1; acc < 8; ++acc) {
            std::string access;
            if (acc & BPF_DEVCG_ACC_READ) access += 'r';
            if (acc & BPF_DEVCG_ACC_WRITE) access += 'w';
            if (acc & BPF_DEVCG_ACC_MKNOD) access += 'm';
            bool want = DeviceRulesAllow(sets[s], type, major, minor, access);
            int got = Evaluate(prog->insns, type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
                               acc, static_cast<uint32_t>(major), static_cast<uint32_t>(minor));
            ASSERT_EQ(got, want ? 1 : 0)
                << "set " << s << " " << type << " " << major << ":" << minor << " " << access;
          }
        }
      }
    }
  }
}

TEST(DeviceProgramTest, BadRulesAreRefused) {
  auto p = BuildDeviceProgram({Rule(true, 'c', 5000, 0, "r")});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(),
            "linux.resources.devices[0].major: 5000 is out of range (-1 for any, or 0 to 4095)");
  p = BuildDeviceProgram({Rule(true, 'c', 1, -2, "r")});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(),
            "linux.resources.devices[0].minor: -2 is out of range (-1 for any, or 0 to 1048575)");
}

// Skips when the kernel cannot load cgroup device programs at all.
Result<UniqueFd> LoadOrSkip(const DeviceProgram& prog, bool* unsupported) {
  auto fd = LoadDeviceProgram(prog);
  *unsupported = !fd && (fd.error().errnum() == ENOSYS || fd.error().errnum() == EOPNOTSUPP);
  return fd;
}

TEST(DeviceProgramKernelTest, VerifierAcceptsThePrograms) {
  for (const auto& rules :
       {DefaultResources().devices, std::vector<oci::DeviceCgroupRule>{Rule(true, 'a', {}, {}, "")},
        std::vector<oci::DeviceCgroupRule>{}}) {
    auto prog = BuildDeviceProgram(rules);
    ASSERT_TRUE(prog);
    bool unsupported = false;
    auto fd = LoadOrSkip(*prog, &unsupported);
    if (unsupported) {
      GTEST_SKIP() << "kernel cannot load BPF_PROG_TYPE_CGROUP_DEVICE: " << fd.error().message();
    }
    ASSERT_TRUE(fd) << fd.error().message();
  }
}

// The real cgroup2 hierarchy, if any: /sys/fs/cgroup/unified (hybrid) or /sys/fs/cgroup.
std::string Cgroup2Root() {
  for (const char* p : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    if (std::filesystem::exists(std::string(p) + "/cgroup.controllers")) {
      return p;
    }
  }
  return "";
}

// rmdir of a test cgroup on every path out of the test.
struct TestCgroupDir {
  std::string path;
  ~TestCgroupDir() {
    if (!path.empty()) {
      rmdir(path.c_str());
    }
  }
};

TEST(DeviceProgramKernelTest, AttachedProgramDeniesDevicesToAChild) {
  std::string root = Cgroup2Root();
  if (root.empty()) {
    GTEST_SKIP() << "no cgroup2 hierarchy mounted under /sys/fs/cgroup";
  }
  if (!std::filesystem::exists("/dev/kmsg")) {
    GTEST_SKIP() << "no /dev/kmsg to deny";
  }
  auto prog = BuildDeviceProgram(DefaultResources().devices);
  ASSERT_TRUE(prog);
  bool unsupported = false;
  auto fd = LoadOrSkip(*prog, &unsupported);
  if (unsupported) {
    GTEST_SKIP() << "kernel cannot load BPF_PROG_TYPE_CGROUP_DEVICE: " << fd.error().message();
  }
  ASSERT_TRUE(fd) << fd.error().message();

  TestCgroupDir cg{fmt::format("{}/brick-test-{}-dev", root, getpid())};
  ASSERT_EQ(mkdir(cg.path.c_str(), 0755), 0) << strerror(errno);
  UniqueFd dir(open(cg.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir);
  ASSERT_TRUE(AttachDeviceProgram(dir.get(), fd->get()));
  auto ids = QueryDevicePrograms(dir.get());
  ASSERT_TRUE(ids) << ids.error().message();
  EXPECT_EQ(ids->size(), 1u);

  std::string tmp =
      std::filesystem::temp_directory_path() / fmt::format("brick-test-{}-mknod", getpid());
  std::filesystem::create_directories(tmp);
  // The control: outside the cgroup, /dev/kmsg opens for root.
  {
    UniqueFd kmsg(open("/dev/kmsg", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(kmsg) << "open /dev/kmsg: " << strerror(errno);
  }
  int go[2];
  ASSERT_EQ(pipe2(go, O_CLOEXEC), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(go[1]);
    int code = 0;
    char c;
    if (read(go[0], &c, 1) != 1) _exit(100);
    int n = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (n < 0) code |= 2;
    close(n);
    int k = open("/dev/kmsg", O_RDONLY | O_CLOEXEC);
    if (!(k < 0 && errno == EPERM)) code |= 4;
    std::string node = tmp + "/null";
    if (!(mknod(node.c_str(), S_IFCHR | 0600, makedev(1, 3)) != 0 && errno == EPERM)) code |= 8;
    _exit(code);
  }
  close(go[0]);
  auto moved = WriteFile(cg.path + "/cgroup.procs", std::to_string(child));
  EXPECT_TRUE(moved) << moved.error().message();
  ASSERT_EQ(write(go[1], "g", 1), 1);
  close(go[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  std::filesystem::remove_all(tmp);
  ASSERT_TRUE(WIFEXITED(status));
  int code = WEXITSTATUS(status);
  EXPECT_EQ(code & 2, 0) << "/dev/null did not open in the cgroup";
  EXPECT_EQ(code & 4, 0) << "/dev/kmsg was not denied with EPERM";
  EXPECT_EQ(code & 8, 0) << "mknod of c 1:3 was not denied with EPERM";
  EXPECT_NE(code, 100);
  EXPECT_TRUE(cgroup::DetachDeviceProgram(dir.get(), fd->get()));
  EXPECT_TRUE(QueryDevicePrograms(dir.get())->empty());
}

}  // namespace
}  // namespace brick::cgroup
