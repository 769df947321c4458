// Names for the numbers the inspector reports: errno values, signals, capabilities,
// socket families and types. Results are printed by name so that tests and people read
// "errno EPERM" rather than "errno 1".
//
//   ErrnoName(EPERM)              -> "EPERM"
//   SignalName(SIGSYS)            -> "SIGSYS"
//   ParseSignal("TERM")           -> SIGTERM      (also "SIGTERM" and "15")
//   CapabilityNames(1ull << 10)   -> {"CAP_NET_BIND_SERVICE"}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace brick::inspect {

// "EPERM", or "E<number>" for a value glibc has no name for.
std::string ErrnoName(int errnum);

// "SIGTERM", or "SIG<number>" for a value glibc has no name for.
std::string SignalName(int sig);

// Accepts "TERM", "SIGTERM" or "15".
std::optional<int> ParseSignal(std::string_view text);

// The capability with this number ("CAP_CHOWN" for 0), or "CAP_<number>" for one newer than
// this table.
std::string CapabilityName(int cap);

// The names of the bits set in a capability mask, lowest bit first.
std::vector<std::string> CapabilityNames(uint64_t mask);

// Accepts "AF_INET" or "INET" (and a number) for the socket families the probes know.
std::optional<int> ParseSocketFamily(std::string_view text);

// Accepts "SOCK_RAW" or "RAW" (and a number).
std::optional<int> ParseSocketType(std::string_view text);

// Parses a whole decimal number; nullopt on any stray character or overflow.
std::optional<int64_t> ParseInt(std::string_view text);

}  // namespace brick::inspect
