// The host's policy: which audit rules the runtime enforces on every config it is asked to
// create, whoever sent it (podman, containerd, a user).
//
//   auto policy = BRICK_TRY_VALUE(LoadHostPolicy(kDefaultHostPolicyPath));
//   std::vector<std::string> warnings;
//   BRICK_TRY(EnforceHostPolicy(policy.value_or(WarnOnlyHostPolicy()), spec, &warnings));
//   for (const auto& w : warnings) log.Warn(w);
//
// The file (TOML):
//   baseline = "recommended"        # or "none": what unlisted rules do
//   [rules]
//   "BRICK-ROOTFS-001" = "refuse"   # refuse | warn | off
//
// "recommended" refuses privileged-equivalent capabilities, host namespaces, no seccomp,
// writable /proc/sys or /sys, added devices and engine sockets, and warns about the rest.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/policy/rules.h"

namespace brick::policy {

inline constexpr const char* kDefaultHostPolicyPath = "/etc/brick/policy.toml";

enum class RuleAction { kOff, kWarn, kRefuse };

struct HostPolicy {
  std::string path;  // where it came from, for messages; "" for built-in policies
  std::map<std::string, RuleAction, std::less<>> actions;  // rule id -> action, every rule
};

// The rules refused by the "recommended" baseline.
std::vector<std::string> RecommendedRefusedRules();

// Without a policy file: every rule only warns.
HostPolicy WarnOnlyHostPolicy();
HostPolicy RecommendedHostPolicy();

// nullopt when the file does not exist; errors with file:line:column for bad content.
Result<std::optional<HostPolicy>> LoadHostPolicy(const std::string& path);
Result<HostPolicy> ParseHostPolicy(std::string_view toml_text, const std::string& path);

// Refuses the config when a rule set to refuse finds a violation; the error names every such
// rule, what it found and the fix. Violations of rules set to warn go to `warnings` (if given)
// as one line each.
Status EnforceHostPolicy(const HostPolicy& policy, const oci::Spec& spec,
                         std::vector<std::string>* warnings = nullptr);
// The same over a view, with the host facts it carries (for tests and `brick check`).
Status EnforceHostPolicyOnView(const HostPolicy& policy, const ContainerView& view,
                               std::vector<std::string>* warnings = nullptr);

}  // namespace brick::policy
