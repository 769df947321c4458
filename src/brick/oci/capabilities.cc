#include "brick/oci/capabilities.h"

#include <array>
#include <cctype>

namespace brick::oci {
namespace {

// Index = capability number.
constexpr std::array<const char*, 41> kCapabilityNames = {
    "CAP_CHOWN",               // 0
    "CAP_DAC_OVERRIDE",        // 1
    "CAP_DAC_READ_SEARCH",     // 2
    "CAP_FOWNER",              // 3
    "CAP_FSETID",              // 4
    "CAP_KILL",                // 5
    "CAP_SETGID",              // 6
    "CAP_SETUID",              // 7
    "CAP_SETPCAP",             // 8
    "CAP_LINUX_IMMUTABLE",     // 9
    "CAP_NET_BIND_SERVICE",    // 10
    "CAP_NET_BROADCAST",       // 11
    "CAP_NET_ADMIN",           // 12
    "CAP_NET_RAW",             // 13
    "CAP_IPC_LOCK",            // 14
    "CAP_IPC_OWNER",           // 15
    "CAP_SYS_MODULE",          // 16
    "CAP_SYS_RAWIO",           // 17
    "CAP_SYS_CHROOT",          // 18
    "CAP_SYS_PTRACE",          // 19
    "CAP_SYS_PACCT",           // 20
    "CAP_SYS_ADMIN",           // 21
    "CAP_SYS_BOOT",            // 22
    "CAP_SYS_NICE",            // 23
    "CAP_SYS_RESOURCE",        // 24
    "CAP_SYS_TIME",            // 25
    "CAP_SYS_TTY_CONFIG",      // 26
    "CAP_MKNOD",               // 27
    "CAP_LEASE",               // 28
    "CAP_AUDIT_WRITE",         // 29
    "CAP_AUDIT_CONTROL",       // 30
    "CAP_SETFCAP",             // 31
    "CAP_MAC_OVERRIDE",        // 32
    "CAP_MAC_ADMIN",           // 33
    "CAP_SYSLOG",              // 34
    "CAP_WAKE_ALARM",          // 35
    "CAP_BLOCK_SUSPEND",       // 36
    "CAP_AUDIT_READ",          // 37
    "CAP_PERFMON",             // 38
    "CAP_BPF",                 // 39
    "CAP_CHECKPOINT_RESTORE",  // 40
};

std::string ToUpper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::optional<int> CapabilityNumber(std::string_view name) {
  for (size_t i = 0; i < kCapabilityNames.size(); ++i) {
    if (name == kCapabilityNames[i]) {
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

const char* CapabilityName(int number) {
  if (number < 0 || number > LastKnownCapability()) {
    return nullptr;
  }
  return kCapabilityNames[static_cast<size_t>(number)];
}

int LastKnownCapability() { return static_cast<int>(kCapabilityNames.size()) - 1; }

std::string UnknownCapabilityMessage(std::string_view name) {
  // Other runtimes accept "NET_ADMIN" or "cap_net_admin"; point at the spelling the spec
  // requires instead of guessing, so that a config means the same thing everywhere.
  std::string upper = ToUpper(name);
  std::string candidate = upper.starts_with("CAP_") ? upper : "CAP_" + upper;
  if (candidate != name && CapabilityNumber(candidate)) {
    return fmt::format("unknown capability \"{}\" (did you mean \"{}\"?)", name, candidate);
  }
  return fmt::format("unknown capability \"{}\"", name);
}

Result<uint64_t> CapabilityMask(const std::vector<std::string>& names, std::string_view list_name) {
  uint64_t mask = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    std::optional<int> number = CapabilityNumber(names[i]);
    if (!number) {
      return Fail("{}[{}]: {}", list_name, i, UnknownCapabilityMessage(names[i]));
    }
    mask |= uint64_t{1} << *number;
  }
  return mask;
}

std::vector<std::string> CapabilityNames(uint64_t mask) {
  std::vector<std::string> out;
  for (int i = 0; i <= LastKnownCapability(); ++i) {
    if (mask & (uint64_t{1} << i)) {
      out.emplace_back(kCapabilityNames[static_cast<size_t>(i)]);
    }
  }
  return out;
}

}  // namespace brick::oci
