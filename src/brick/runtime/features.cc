#include "brick/runtime/features.h"

#include <nlohmann/json.hpp>

#include "brick/isolation/mounts.h"
#include "brick/oci/capabilities.h"
#include "brick/oci/spec.h"
#include "brick/runtime/default_spec.h"
#include "brick/runtime/secrets.h"
#include "brick/seccomp/annotations.h"
#include "brick/seccomp/filter.h"

namespace brick::runtime {
namespace {

using Json = nlohmann::ordered_json;

// The OCI hooks brick runs, in the order of the runtime spec's lifecycle.
constexpr const char* kHooks[] = {"prestart",       "createRuntime", "createContainer",
                                  "startContainer", "poststart",     "poststop"};

constexpr oci::NamespaceType kNamespaces[] = {
    oci::NamespaceType::kCgroup,  oci::NamespaceType::kIpc, oci::NamespaceType::kMount,
    oci::NamespaceType::kNetwork, oci::NamespaceType::kPid, oci::NamespaceType::kTime,
    oci::NamespaceType::kUser,    oci::NamespaceType::kUts,
};

std::vector<std::string> Capabilities() {
  std::vector<std::string> out;
  for (int n = 0; n <= oci::LastKnownCapability(); ++n) {
    if (const char* name = oci::CapabilityName(n)) {
      out.emplace_back(name);
    }
  }
  return out;
}

// Every action the filter compiler takes. SCMP_ACT_NOTIFY included: brick hands the
// listener to linux.seccomp.listenerPath (seccomp_agent.h).
std::vector<std::string> SeccompActions() { return seccomp::KnownSeccompActions(); }

}  // namespace

Result<std::string> FeaturesJson(const FeaturesOptions& options) {
  isolation::HostLsms lsms;
  if (options.host_lsms) {
    lsms = *options.host_lsms;
  } else {
    auto detected = isolation::DetectHostLsms();
    if (!detected) {
      return std::unexpected(std::move(detected.error()).Wrap("features: detect the host's LSMs"));
    }
    lsms = *detected;
  }
  std::vector<std::string> supported_flags = options.seccomp_supported_flags
                                                 ? *options.seccomp_supported_flags
                                                 : seccomp::KernelSupportedSeccompFlags();

  Json j = Json::object();
  j["ociVersionMin"] = kOciVersionMin;
  j["ociVersionMax"] = kOciVersionMax;
  j["hooks"] = Json::array();
  for (const char* h : kHooks) {
    j["hooks"].push_back(h);
  }
  j["mountOptions"] = isolation::KnownMountOptions();

  Json linux = Json::object();
  linux["namespaces"] = Json::array();
  for (oci::NamespaceType t : kNamespaces) {
    linux["namespaces"].push_back(oci::NamespaceTypeName(t));
  }
  linux["capabilities"] = Capabilities();
  // cgroupfs drivers for v1, v2 and hybrid hosts, with the rdma controller; no systemd driver.
  linux["cgroup"] = {
      {"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}, {"rdma", true}};
  linux["seccomp"] = {
      {"enabled", true},
      {"actions", SeccompActions()},
      {"operators", seccomp::KnownSeccompOperators()},
      {"archs", seccomp::KnownSeccompArchitectures()},
      {"knownFlags", seccomp::KnownSeccompFlags()},
      {"supportedFlags", supported_flags},
  };
  linux["apparmor"] = {{"enabled", lsms.apparmor}};
  linux["selinux"] = {{"enabled", lsms.selinux}};
  linux["intelRdt"] = {{"enabled", false}};
  linux["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
  linux["netDevices"] = {{"enabled", false}};
  j["linux"] = std::move(linux);

  j["annotations"] = {
      {"io.github.seccomp.libseccomp.version", seccomp::LinkedLibseccompVersion()},
      {"run.brick.version", options.brick_version},
  };
  // Config annotations that change what brick does: secrets make brick read host files into
  // the container; userns lets brick replace the config's id mappings; allow-unknown drops
  // seccomp rules' unknown syscall names, which can weaken a deny rule.
  j["potentiallyUnsafeConfigAnnotations"] = {kSecretsAnnotation, kAutoUsernsAnnotation,
                                             seccomp::kAllowUnknownSyscallsAnnotation};
  return j.dump(2);
}

}  // namespace brick::runtime
