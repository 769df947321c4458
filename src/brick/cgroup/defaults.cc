#include "brick/cgroup/defaults.h"

namespace brick::cgroup {
namespace {

oci::DeviceCgroupRule AllowChar(int64_t major, std::optional<int64_t> minor) {
  oci::DeviceCgroupRule r;
  r.allow = true;
  r.type = 'c';
  r.major = major;
  r.minor = minor;
  r.access = "rw";  // never 'm': the container gets no new device nodes
  return r;
}

}  // namespace

std::vector<oci::DeviceCgroupRule> DefaultDeviceAllowRules() {
  return {
      AllowChar(1, 3),               // /dev/null
      AllowChar(1, 5),               // /dev/zero
      AllowChar(1, 7),               // /dev/full
      AllowChar(1, 8),               // /dev/random
      AllowChar(1, 9),               // /dev/urandom
      AllowChar(5, 0),               // /dev/tty
      AllowChar(5, 1),               // /dev/console
      AllowChar(5, 2),               // /dev/ptmx
      AllowChar(136, std::nullopt),  // /dev/pts/*
  };
}

oci::Resources DefaultResources() {
  oci::Resources r;
  oci::DeviceCgroupRule deny_all;
  deny_all.allow = false;
  deny_all.type = 'a';
  deny_all.access = "rwm";
  r.devices.push_back(deny_all);
  for (auto& rule : DefaultDeviceAllowRules()) {
    r.devices.push_back(std::move(rule));
  }
  r.memory = oci::MemoryResources{};
  r.memory->limit = kDefaultMemoryLimit;
  r.pids = oci::PidsResources{kDefaultPidsLimit};
  r.cpu = oci::CpuResources{};
  r.cpu->shares = kDefaultCpuShares;
  return r;
}

}  // namespace brick::cgroup
