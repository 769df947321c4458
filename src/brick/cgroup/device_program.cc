#include "brick/cgroup/device_program.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace brick::cgroup {
namespace {

// Register use inside the program: r2 access bits, r3 device type, r4 major, r5 minor,
// r1 scratch (the ctx pointer is no longer needed once the fields are loaded).
constexpr uint8_t kRegCtx = BPF_REG_1;
constexpr uint8_t kRegScratch = BPF_REG_1;
constexpr uint8_t kRegAccess = BPF_REG_2;
constexpr uint8_t kRegType = BPF_REG_3;
constexpr uint8_t kRegMajor = BPF_REG_4;
constexpr uint8_t kRegMinor = BPF_REG_5;

// The kernel's device numbers: 12-bit major, 20-bit minor.
constexpr int64_t kMaxMajor = (1 << 12) - 1;
constexpr int64_t kMaxMinor = (1 << 20) - 1;

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn LoadCtxWord(uint8_t dst, int16_t off) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, kRegCtx, off, 0);
}
bpf_insn Mov64Reg(uint8_t dst, uint8_t src) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn Mov64Imm(uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}
bpf_insn And32Imm(uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm);
}
bpf_insn Rsh32Imm(uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm);
}
bpf_insn JumpImm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return Insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// BPF_DEVCG_ACC_* bits for an access string; empty means all three.
uint32_t AccessBits(std::string_view access) {
  if (access.empty()) {
    return BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
  }
  uint32_t bits = 0;
  for (char c : access) {
    if (c == 'r') {
      bits |= BPF_DEVCG_ACC_READ;
    } else if (c == 'w') {
      bits |= BPF_DEVCG_ACC_WRITE;
    } else if (c == 'm') {
      bits |= BPF_DEVCG_ACC_MKNOD;
    }
  }
  return bits;
}

constexpr uint32_t kAllAccess = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

bool IsWildcard(const std::optional<int64_t>& n) { return !n || *n == -1; }

Status CheckRule(const oci::DeviceCgroupRule& r, size_t i) {
  char type = r.type.value_or('a');
  if (type != 'a' && type != 'b' && type != 'c') {
    return Fail("linux.resources.devices[{}].type: \"{}\" is not a device type; use a, b or c", i,
                type);
  }
  for (char c : r.access) {
    if (c != 'r' && c != 'w' && c != 'm') {
      return Fail(
          "linux.resources.devices[{}].access: \"{}\" has '{}'; access is a combination of r, w "
          "and m",
          i, r.access, c);
    }
  }
  if (r.major && (*r.major < -1 || *r.major > kMaxMajor)) {
    return Fail("linux.resources.devices[{}].major: {} is out of range (-1 for any, or 0 to {})", i,
                *r.major, kMaxMajor);
  }
  if (r.minor && (*r.minor < -1 || *r.minor > kMaxMinor)) {
    return Fail("linux.resources.devices[{}].minor: {} is out of range (-1 for any, or 0 to {})", i,
                *r.minor, kMaxMinor);
  }
  return Ok();
}

// One rule as a block of instructions that returns its verdict when the rule matches and
// falls through to the next block otherwise.
std::vector<bpf_insn> RuleBlock(const oci::DeviceCgroupRule& r) {
  std::vector<bpf_insn> block;
  std::vector<size_t> to_next;  // jumps to patch to the end of the block
  auto jump_next = [&](uint8_t op, uint8_t reg, int32_t imm) {
    to_next.push_back(block.size());
    block.push_back(JumpImm(op, reg, imm, 0));
  };
  char type = r.type.value_or('a');
  if (type == 'b') {
    jump_next(BPF_JNE, kRegType, BPF_DEVCG_DEV_BLOCK);
  } else if (type == 'c') {
    jump_next(BPF_JNE, kRegType, BPF_DEVCG_DEV_CHAR);
  }
  uint32_t bits = AccessBits(r.access);
  if (r.allow) {
    if (bits != kAllAccess) {
      // Every requested bit must be granted by this rule.
      block.push_back(Mov64Reg(kRegScratch, kRegAccess));
      block.push_back(And32Imm(kRegScratch, static_cast<int32_t>(~bits & kAllAccess)));
      jump_next(BPF_JNE, kRegScratch, 0);
    }
  } else if (bits != kAllAccess) {
    // Any requested bit that this rule denies makes it match.
    block.push_back(Mov64Reg(kRegScratch, kRegAccess));
    block.push_back(And32Imm(kRegScratch, static_cast<int32_t>(bits)));
    jump_next(BPF_JEQ, kRegScratch, 0);
  }
  if (!IsWildcard(r.major)) {
    jump_next(BPF_JNE, kRegMajor, static_cast<int32_t>(*r.major));
  }
  if (!IsWildcard(r.minor)) {
    jump_next(BPF_JNE, kRegMinor, static_cast<int32_t>(*r.minor));
  }
  block.push_back(Mov64Imm(BPF_REG_0, r.allow ? 1 : 0));
  block.push_back(Exit());
  for (size_t at : to_next) {
    block[at].off = static_cast<int16_t>(block.size() - at - 1);
  }
  return block;
}

bool MatchesEverything(const oci::DeviceCgroupRule& r) {
  return r.type.value_or('a') == 'a' && AccessBits(r.access) == kAllAccess && IsWildcard(r.major) &&
         IsWildcard(r.minor);
}

long Bpf(int cmd, bpf_attr* attr) { return syscall(SYS_bpf, cmd, attr, sizeof *attr); }

}  // namespace

Result<DeviceProgram> BuildDeviceProgram(const std::vector<oci::DeviceCgroupRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    BRICK_TRY(CheckRule(rules[i], i));
  }
  DeviceProgram p;
  p.rules = rules;
  p.insns.push_back(LoadCtxWord(kRegAccess, offsetof(bpf_cgroup_dev_ctx, access_type)));
  p.insns.push_back(Mov64Reg(kRegType, kRegAccess));
  p.insns.push_back(And32Imm(kRegType, 0xffff));
  p.insns.push_back(Rsh32Imm(kRegAccess, 16));
  p.insns.push_back(LoadCtxWord(kRegMajor, offsetof(bpf_cgroup_dev_ctx, major)));
  p.insns.push_back(LoadCtxWord(kRegMinor, offsetof(bpf_cgroup_dev_ctx, minor)));
  // The last rule that matches wins, so the program checks the rules back to front and
  // stops at the first match. The verifier refuses unreachable instructions, so nothing
  // is emitted after a rule that matches every request.
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    auto block = RuleBlock(*it);
    p.insns.insert(p.insns.end(), block.begin(), block.end());
    if (MatchesEverything(*it)) {
      return p;
    }
  }
  p.insns.push_back(Mov64Imm(BPF_REG_0, 0));
  p.insns.push_back(Exit());
  return p;
}

bool DeviceRulesAllow(const std::vector<oci::DeviceCgroupRule>& rules, char type, int64_t major,
                      int64_t minor, std::string_view access) {
  uint32_t want = AccessBits(access);
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    const auto& r = *it;
    char rt = r.type.value_or('a');
    if (rt != 'a' && rt != type) {
      continue;
    }
    uint32_t bits = AccessBits(r.access);
    if (r.allow ? (want & ~bits) != 0 : (want & bits) == 0) {
      continue;
    }
    if (!IsWildcard(r.major) && *r.major != major) {
      continue;
    }
    if (!IsWildcard(r.minor) && *r.minor != minor) {
      continue;
    }
    return r.allow;
  }
  return false;
}

Result<UniqueFd> LoadDeviceProgram(const DeviceProgram& program) {
  static const char kLicense[] = "Apache-2.0";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = reinterpret_cast<uint64_t>(program.insns.data());
  attr.insn_cnt = static_cast<uint32_t>(program.insns.size());
  attr.license = reinterpret_cast<uint64_t>(kLicense);
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) {
    return UniqueFd(static_cast<int>(fd));
  }
  int err = errno;
  // Load again with the verifier log so that the error says why.
  std::string log(64 * 1024, '\0');
  attr.log_buf = reinterpret_cast<uint64_t>(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  attr.log_level = 1;
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) {
    return UniqueFd(static_cast<int>(fd));
  }
  log.resize(strnlen(log.data(), log.size()));
  while (!log.empty() && (log.back() == '\n' || log.back() == ' ')) {
    log.pop_back();
  }
  if (log.empty()) {
    return ErrnoFail(err, "load the cgroup device eBPF program ({} instructions)",
                     program.insns.size());
  }
  return ErrnoFail(err, "load the cgroup device eBPF program: verifier says: {}", log);
}

Status AttachDeviceProgram(int cgroup_dir_fd, int prog_fd) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) {
    return ErrnoFail(errno, "attach the cgroup device eBPF program");
  }
  return Ok();
}

Status DetachDeviceProgram(int cgroup_dir_fd, int prog_fd) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) != 0) {
    return ErrnoFail(errno, "detach the cgroup device eBPF program");
  }
  return Ok();
}

Result<std::vector<uint32_t>> QueryDevicePrograms(int cgroup_dir_fd) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = reinterpret_cast<uint64_t>(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (Bpf(BPF_PROG_QUERY, &attr) != 0) {
    return ErrnoFail(errno, "query the cgroup device eBPF programs");
  }
  ids.resize(attr.query.prog_cnt);
  return ids;
}

Result<UniqueFd> DeviceProgramFdById(uint32_t id) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) {
    return ErrnoFail(errno, "open eBPF program id {}", id);
  }
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace brick::cgroup
