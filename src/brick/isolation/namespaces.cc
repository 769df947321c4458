#include "brick/isolation/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "brick/sys/fs.h"

namespace brick::isolation {
namespace {

bool KernelHasNamespace(oci::NamespaceType t) {
  std::string p = std::string("/proc/self/ns/") + oci::NamespaceProcName(t);
  return access(p.c_str(), F_OK) == 0;
}

}  // namespace

Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux) {
  NamespacePlan plan;
  for (size_t i = 0; i < linux.namespaces.size(); ++i) {
    const auto& ns = linux.namespaces[i];
    const char* name = oci::NamespaceTypeName(ns.type);
    if (!KernelHasNamespace(ns.type)) {
      return Fail("linux.namespaces[{}]: this kernel does not support {} namespaces; remove the "
                  "entry or run on a kernel built with them",
                  i, name);
    }
    if (ns.path.empty()) {
      switch (ns.type) {
        case oci::NamespaceType::kCgroup: plan.new_cgroup = true; break;
        case oci::NamespaceType::kTime: plan.new_time = true; break;
        default: plan.clone_flags |= oci::NamespaceCloneFlag(ns.type); break;
      }
      plan.new_user |= ns.type == oci::NamespaceType::kUser;
      plan.new_net |= ns.type == oci::NamespaceType::kNetwork;
      plan.new_uts |= ns.type == oci::NamespaceType::kUts;
      plan.new_pid |= ns.type == oci::NamespaceType::kPid;
      plan.new_mount |= ns.type == oci::NamespaceType::kMount;
      continue;
    }
    UniqueFd fd(open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      return ErrnoFail(errno, "linux.namespaces[{}].path: open {}", i, ns.path);
    }
    int kind = ioctl(fd.get(), NS_GET_NSTYPE);
    if (kind < 0) {
      return ErrnoFail(errno, "linux.namespaces[{}].path: {} is not a namespace file", i, ns.path);
    }
    if (kind != oci::NamespaceCloneFlag(ns.type)) {
      return Fail("linux.namespaces[{}].path: {} is not a {} namespace", i, ns.path, name);
    }
    if (ns.type == oci::NamespaceType::kMount) {
      return Fail("linux.namespaces[{}]: joining a mount namespace by path is not supported yet; "
                  "remove the path to get a new mount namespace",
                  i);
    }
    if (ns.type == oci::NamespaceType::kUser) {
      plan.join_user = std::move(fd);
    } else {
      plan.join_in_parent.push_back({ns.type, ns.path, std::move(fd)});
    }
  }
  if (plan.join_user && (plan.clone_flags & CLONE_NEWPID)) {
    return Fail("linux.namespaces: joining a user namespace by path together with a new pid "
                "namespace is not supported yet; join the pid namespace too or share the host's");
  }
  if (plan.join_user) {
    // Everything new must be created after joining the user namespace, so that the
    // joined namespace owns it: the child unshares instead of clone3 creating them.
    plan.child_unshare_flags = plan.clone_flags & ~CLONE_NEWUSER;
    plan.clone_flags = 0;
  }
  plan.time_offsets = linux.time_offsets;
  return plan;
}

Status JoinNamespacesInParent(const NamespacePlan& plan, std::vector<JoinedNamespace>* restore) {
  for (const auto& j : plan.join_in_parent) {
    std::string own = std::string("/proc/self/ns/") +
                      (j.type == oci::NamespaceType::kPid    ? "pid_for_children"
                       : j.type == oci::NamespaceType::kTime ? "time_for_children"
                                                             : oci::NamespaceProcName(j.type));
    UniqueFd saved(open(own.c_str(), O_RDONLY | O_CLOEXEC));
    if (!saved) {
      return ErrnoFail(errno, "open {}", own);
    }
    if (setns(j.fd.get(), oci::NamespaceCloneFlag(j.type)) != 0) {
      return ErrnoFail(errno, "join {} namespace {}", oci::NamespaceTypeName(j.type), j.path);
    }
    restore->push_back({j.type, own, std::move(saved)});
  }
  return Ok();
}

Status RestoreParentNamespaces(std::vector<JoinedNamespace>* restore) {
  Status result = Ok();
  for (auto it = restore->rbegin(); it != restore->rend(); ++it) {
    if (setns(it->fd.get(), oci::NamespaceCloneFlag(it->type)) != 0 && result) {
      result = ErrnoFail(errno, "return to brick's own {} namespace",
                         oci::NamespaceTypeName(it->type));
    }
  }
  restore->clear();
  return result;
}

Status JoinUserNamespace(const NamespacePlan& plan) {
  if (!plan.join_user) {
    return Ok();
  }
  if (setns(plan.join_user.get(), CLONE_NEWUSER) != 0) {
    return ErrnoFail(errno, "join user namespace");
  }
  // Created after the join so that the joined user namespace owns them.
  if (plan.child_unshare_flags != 0 && unshare(plan.child_unshare_flags) != 0) {
    return ErrnoFail(errno, "create namespaces inside the joined user namespace");
  }
  return Ok();
}

Status EnterCgroupNamespace(const NamespacePlan& plan) {
  if (plan.new_cgroup && unshare(CLONE_NEWCGROUP) != 0) {
    return ErrnoFail(errno, "create cgroup namespace");
  }
  return Ok();
}

Status EnterTimeNamespace(const NamespacePlan& plan) {
  if (!plan.new_time) {
    return Ok();
  }
  if (unshare(CLONE_NEWTIME) != 0) {
    return ErrnoFail(errno, "create time namespace");
  }
  std::string offsets;
  for (const auto& [clock, off] : plan.time_offsets) {
    offsets += fmt::format("{} {} {}\n", clock, off.secs, off.nanosecs);
  }
  if (!offsets.empty()) {
    BRICK_TRY(WriteFile("/proc/self/timens_offsets", offsets), "linux.timeOffsets");
  }
  UniqueFd tfc(open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
  if (!tfc) {
    return ErrnoFail(errno, "open /proc/self/ns/time_for_children");
  }
  if (setns(tfc.get(), CLONE_NEWTIME) != 0) {
    return ErrnoFail(errno, "enter time namespace");
  }
  return Ok();
}

std::string FormatIdMap(const std::vector<oci::IdMapping>& mappings) {
  std::string out;
  for (const auto& m : mappings) {
    out += fmt::format("{} {} {}\n", m.container_id, m.host_id, m.size);
  }
  return out;
}

Status WriteIdMappings(pid_t pid, const std::vector<oci::IdMapping>& uid_mappings,
                       const std::vector<oci::IdMapping>& gid_mappings) {
  std::string dir = fmt::format("/proc/{}/", pid);
  BRICK_TRY(WriteFile(dir + "uid_map", FormatIdMap(uid_mappings)), "linux.uidMappings");
  BRICK_TRY(WriteFile(dir + "gid_map", FormatIdMap(gid_mappings)), "linux.gidMappings");
  return Ok();
}

}  // namespace brick::isolation
