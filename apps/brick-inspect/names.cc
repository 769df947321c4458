#include "names.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include <array>
#include <charconv>

namespace brick::inspect {
namespace {

// Indexed by capability number, as in linux/capability.h.
constexpr std::array<std::string_view, 41> kCapabilityNames = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

struct NamedNumber {
  std::string_view name;
  int value;
};

constexpr NamedNumber kSocketFamilies[] = {
    {"AF_UNIX", AF_UNIX},
    {"AF_INET", AF_INET},
    {"AF_INET6", AF_INET6},
    {"AF_NETLINK", AF_NETLINK},
    {"AF_PACKET", AF_PACKET},
    {"AF_VSOCK", AF_VSOCK},
    {"AF_KEY", AF_KEY},
    {"AF_BLUETOOTH", AF_BLUETOOTH},
    {"AF_ALG", AF_ALG},
    {"AF_CAN", AF_CAN},
    {"AF_TIPC", AF_TIPC},
    {"AF_XDP", AF_XDP},
    {"AF_APPLETALK", AF_APPLETALK},
    {"AF_X25", AF_X25},
    {"AF_AX25", AF_AX25},
    {"AF_RDS", AF_RDS},
    {"AF_LLC", AF_LLC},
    {"AF_NFC", AF_NFC},
};

constexpr NamedNumber kSocketTypes[] = {
    {"SOCK_STREAM", SOCK_STREAM},       {"SOCK_DGRAM", SOCK_DGRAM}, {"SOCK_RAW", SOCK_RAW},
    {"SOCK_SEQPACKET", SOCK_SEQPACKET}, {"SOCK_RDM", SOCK_RDM},     {"SOCK_PACKET", SOCK_PACKET},
};

template <size_t N>
std::optional<int> ParseNamed(const NamedNumber (&table)[N], std::string_view prefix,
                              std::string_view text) {
  for (const NamedNumber& entry : table) {
    if (entry.name == text || entry.name.substr(prefix.size()) == text) {
      return entry.value;
    }
  }
  if (auto n = ParseInt(text); n && *n >= 0 && *n <= 0xffff) {
    return static_cast<int>(*n);
  }
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  if (text.empty()) {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

std::string ErrnoName(int errnum) {
  const char* name = strerrorname_np(errnum);
  if (name == nullptr) {
    return "E" + std::to_string(errnum);
  }
  return name;
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev == nullptr) {
    return "SIG" + std::to_string(sig);
  }
  return std::string("SIG") + abbrev;
}

std::optional<int> ParseSignal(std::string_view text) {
  if (auto n = ParseInt(text)) {
    if (*n > 0 && *n < NSIG) {
      return static_cast<int>(*n);
    }
    return std::nullopt;
  }
  if (text.starts_with("SIG")) {
    text.remove_prefix(3);
  }
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && text == abbrev) {
      return sig;
    }
  }
  return std::nullopt;
}

std::string CapabilityName(int cap) {
  if (cap >= 0 && static_cast<size_t>(cap) < kCapabilityNames.size()) {
    return std::string(kCapabilityNames[cap]);
  }
  return "CAP_" + std::to_string(cap);
}

std::vector<std::string> CapabilityNames(uint64_t mask) {
  std::vector<std::string> names;
  for (int bit = 0; bit < 64; ++bit) {
    if (mask & (uint64_t{1} << bit)) {
      names.push_back(CapabilityName(bit));
    }
  }
  return names;
}

std::optional<int> ParseSocketFamily(std::string_view text) {
  return ParseNamed(kSocketFamilies, "AF_", text);
}

std::optional<int> ParseSocketType(std::string_view text) {
  return ParseNamed(kSocketTypes, "SOCK_", text);
}

}  // namespace brick::inspect
