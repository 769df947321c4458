#include <sched.h>

#include "brick/oci/spec.h"

namespace brick::oci {

const char* NamespaceTypeName(NamespaceType t) {
  switch (t) {
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kNetwork: return "network";
    case NamespaceType::kMount: return "mount";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kTime: return "time";
  }
  return "?";
}

const char* NamespaceProcName(NamespaceType t) {
  switch (t) {
    case NamespaceType::kPid: return "pid";
    case NamespaceType::kNetwork: return "net";
    case NamespaceType::kMount: return "mnt";
    case NamespaceType::kIpc: return "ipc";
    case NamespaceType::kUts: return "uts";
    case NamespaceType::kUser: return "user";
    case NamespaceType::kCgroup: return "cgroup";
    case NamespaceType::kTime: return "time";
  }
  return "?";
}

int NamespaceCloneFlag(NamespaceType t) {
  switch (t) {
    case NamespaceType::kPid: return CLONE_NEWPID;
    case NamespaceType::kNetwork: return CLONE_NEWNET;
    case NamespaceType::kMount: return CLONE_NEWNS;
    case NamespaceType::kIpc: return CLONE_NEWIPC;
    case NamespaceType::kUts: return CLONE_NEWUTS;
    case NamespaceType::kUser: return CLONE_NEWUSER;
    case NamespaceType::kCgroup: return CLONE_NEWCGROUP;
    case NamespaceType::kTime: return CLONE_NEWTIME;
  }
  return 0;
}

const Namespace* Linux::FindNamespace(NamespaceType t) const {
  for (const auto& ns : namespaces) {
    if (ns.type == t) {
      return &ns;
    }
  }
  return nullptr;
}

}  // namespace brick::oci
