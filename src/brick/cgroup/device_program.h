// The cgroup v2 device controller: an eBPF BPF_PROG_TYPE_CGROUP_DEVICE program built
// from linux.resources.devices.
//
//   DeviceProgram prog = BRICK_TRY_VALUE(BuildDeviceProgram(resources.devices));
//   UniqueFd fd = BRICK_TRY_VALUE(LoadDeviceProgram(prog));
//   UniqueFd cg = ...open("/sys/fs/cgroup/brick/abc", O_DIRECTORY)...;
//   BRICK_TRY(AttachDeviceProgram(cg.get(), fd.get()));
//
// Semantics match the v1 files as brick writes them (devices.deny "a", then every rule
// in order): everything is denied unless a rule says otherwise, and when rules overlap
// the last matching rule wins. An allow rule matches a request whose access bits are all
// in the rule's access; a deny rule matches a request that asks for any of the rule's
// access bits. Type 'a' (or absent) matches block and char devices; an absent or -1
// major/minor matches any number.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <vector>

#include "brick/base/error.h"
#include "brick/oci/spec.h"
#include "brick/sys/unique_fd.h"

namespace brick::cgroup {

struct DeviceProgram {
  std::vector<oci::DeviceCgroupRule> rules;  // what it was built from
  std::vector<bpf_insn> insns;
};

// Checks the rules (type a/b/c, access within "rwm", major/minor -1 or in range) and
// builds the program. Errors name linux.resources.devices[i].
Result<DeviceProgram> BuildDeviceProgram(const std::vector<oci::DeviceCgroupRule>& rules);

// Evaluates the rules the same way the program does (used by tests to check the
// program against the rule semantics, and handy for explaining a denial).
// `type` is 'b' or 'c'; `access` is a subset of "rwm".
bool DeviceRulesAllow(const std::vector<oci::DeviceCgroupRule>& rules, char type, int64_t major,
                      int64_t minor, std::string_view access);

// bpf(BPF_PROG_LOAD). The error carries the verifier log when the kernel refuses.
Result<UniqueFd> LoadDeviceProgram(const DeviceProgram& program);
// bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI) to a cgroup2 directory fd.
Status AttachDeviceProgram(int cgroup_dir_fd, int prog_fd);
// bpf(BPF_PROG_DETACH) of one program from a cgroup2 directory fd.
Status DetachDeviceProgram(int cgroup_dir_fd, int prog_fd);
// The ids of the device programs attached directly to a cgroup2 directory fd.
Result<std::vector<uint32_t>> QueryDevicePrograms(int cgroup_dir_fd);
// bpf(BPF_PROG_GET_FD_BY_ID).
Result<UniqueFd> DeviceProgramFdById(uint32_t id);

}  // namespace brick::cgroup
