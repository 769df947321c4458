#include "brick/seccomp/bpf_interpreter.h"

#include <linux/seccomp.h>
#include <string.h>

#include <cstddef>

namespace brick::seccomp {
namespace {

constexpr uint32_t kDataSize = sizeof(seccomp_data);

// The kernel reads seccomp_data as 32-bit words in host byte order.
uint32_t LoadWord(const SyscallInput& in, uint32_t offset) {
  seccomp_data d{};
  d.nr = in.nr;
  d.arch = in.arch;
  d.instruction_pointer = in.ip;
  for (int i = 0; i < 6; ++i) {
    d.args[i] = in.args[i];
  }
  uint32_t word;
  memcpy(&word, reinterpret_cast<const char*>(&d) + offset, sizeof(word));
  return word;
}

std::string ErrnoName(uint32_t err) {
  const char* name = strerrorname_np(static_cast<int>(err));
  return name != nullptr ? std::string(name) : std::to_string(err);
}

}  // namespace

uint32_t ActionOf(uint32_t ret) { return ret & SECCOMP_RET_ACTION_FULL; }

std::string DescribeReturn(uint32_t ret) {
  uint32_t data = ret & SECCOMP_RET_DATA;
  switch (ActionOf(ret)) {
    case SECCOMP_RET_KILL_PROCESS:
      return "kill process";
    case SECCOMP_RET_KILL_THREAD:
      return "kill thread";
    case SECCOMP_RET_TRAP:
      return "trap";
    case SECCOMP_RET_ERRNO:
      return "errno " + ErrnoName(data);
    case SECCOMP_RET_USER_NOTIF:
      return "notify";
    case SECCOMP_RET_TRACE:
      return fmt::format("trace {}", data);
    case SECCOMP_RET_LOG:
      return "log";
    case SECCOMP_RET_ALLOW:
      return "allow";
    default:
      return fmt::format("unknown action 0x{:08x}", ret);
  }
}

Result<uint32_t> EvaluateSeccompBpf(std::span<const sock_filter> program, const SyscallInput& in,
                                    size_t* steps) {
  size_t executed = 0;
  if (steps == nullptr) {
    steps = &executed;
  }
  *steps = 0;
  if (program.empty() || program.size() > BPF_MAXINSNS) {
    return Fail("bpf program: {} instructions; a program has 1 to {}", program.size(),
                BPF_MAXINSNS);
  }
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  size_t pc = 0;
  // Classic BPF only jumps forward, so this loop ends within program.size() steps.
  while (pc < program.size()) {
    const sock_filter& ins = program[pc];
    ++*steps;
    size_t next = pc + 1;
    uint16_t code = ins.code;
    uint32_t k = ins.k;
    switch (BPF_CLASS(code)) {
      case BPF_LD:
        if (code == (BPF_LD | BPF_W | BPF_ABS)) {
          if (k >= kDataSize || k % 4 != 0) {
            return Fail("bpf program: instruction {} loads offset {} outside seccomp_data", pc, k);
          }
          a = LoadWord(in, k);
        } else if (code == (BPF_LD | BPF_W | BPF_LEN)) {
          a = kDataSize;
        } else if (code == (BPF_LD | BPF_IMM)) {
          a = k;
        } else if (code == (BPF_LD | BPF_MEM)) {
          if (k >= BPF_MEMWORDS) {
            return Fail("bpf program: instruction {} reads scratch word {}", pc, k);
          }
          a = mem[k];
        } else {
          return Fail("bpf program: instruction {} has load code 0x{:x}, which seccomp refuses", pc,
                      code);
        }
        break;
      case BPF_LDX:
        if (code == (BPF_LDX | BPF_W | BPF_LEN)) {
          x = kDataSize;
        } else if (code == (BPF_LDX | BPF_IMM)) {
          x = k;
        } else if (code == (BPF_LDX | BPF_MEM)) {
          if (k >= BPF_MEMWORDS) {
            return Fail("bpf program: instruction {} reads scratch word {}", pc, k);
          }
          x = mem[k];
        } else {
          return Fail("bpf program: instruction {} has ldx code 0x{:x}, which seccomp refuses", pc,
                      code);
        }
        break;
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) {
          return Fail("bpf program: instruction {} writes scratch word {}", pc, k);
        }
        mem[k] = BPF_CLASS(code) == BPF_ST ? a : x;
        break;
      case BPF_ALU: {
        uint32_t operand = BPF_SRC(code) == BPF_X ? x : k;
        switch (BPF_OP(code)) {
          case BPF_ADD:
            a += operand;
            break;
          case BPF_SUB:
            a -= operand;
            break;
          case BPF_MUL:
            a *= operand;
            break;
          case BPF_DIV:
            if (operand == 0) {
              return 0u;  // the kernel's classic BPF returns 0 (kill) on division by zero
            }
            a /= operand;
            break;
          case BPF_MOD:
            if (operand == 0) {
              return 0u;
            }
            a %= operand;
            break;
          case BPF_AND:
            a &= operand;
            break;
          case BPF_OR:
            a |= operand;
            break;
          case BPF_XOR:
            a ^= operand;
            break;
          case BPF_LSH:
            a = operand >= 32 ? 0 : a << operand;
            break;
          case BPF_RSH:
            a = operand >= 32 ? 0 : a >> operand;
            break;
          case BPF_NEG:
            a = 0u - a;
            break;
          default:
            return Fail("bpf program: instruction {} has alu code 0x{:x}", pc, code);
        }
        break;
      }
      case BPF_JMP: {
        if (BPF_OP(code) == BPF_JA) {
          next = pc + 1 + k;
          break;
        }
        uint32_t operand = BPF_SRC(code) == BPF_X ? x : k;
        bool taken;
        switch (BPF_OP(code)) {
          case BPF_JEQ:
            taken = a == operand;
            break;
          case BPF_JGT:
            taken = a > operand;
            break;
          case BPF_JGE:
            taken = a >= operand;
            break;
          case BPF_JSET:
            taken = (a & operand) != 0;
            break;
          default:
            return Fail("bpf program: instruction {} has jump code 0x{:x}", pc, code);
        }
        next = pc + 1 + (taken ? ins.jt : ins.jf);
        break;
      }
      case BPF_RET:
        if (BPF_RVAL(code) == BPF_K) {
          return k;
        }
        if (BPF_RVAL(code) == BPF_A) {
          return a;
        }
        return Fail("bpf program: instruction {} returns X, which seccomp refuses", pc);
      case BPF_MISC:
        if (BPF_MISCOP(code) == BPF_TAX) {
          x = a;
        } else if (BPF_MISCOP(code) == BPF_TXA) {
          a = x;
        } else {
          return Fail("bpf program: instruction {} has misc code 0x{:x}", pc, code);
        }
        break;
      default:
        return Fail("bpf program: instruction {} has unknown class 0x{:x}", pc, code);
    }
    if (next >= program.size()) {
      return Fail("bpf program: instruction {} jumps past the end ({} instructions)", pc,
                  program.size());
    }
    pc = next;
  }
  return Fail("bpf program: ran off the end without a return");
}

}  // namespace brick::seccomp
