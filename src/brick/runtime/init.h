// The container init: the child side of the clone. It runs the plan's steps in the
// order below, then execs the container process. On error it reports the message to
// the parent over the sync socket and exits; it never returns.
//
//   if (pid == 0) RunContainerInit(plan, child_end);   // in the cloned child
#pragma once

#include "brick/runtime/plan.h"
#include "brick/runtime/sync_socket.h"

namespace brick::runtime {

// Exit status of an init that failed before exec (the parent reports the message).
inline constexpr int kInitFailedStatus = 125;

[[noreturn]] void RunContainerInit(const ContainerPlan& plan, SyncSocket& sync);

}  // namespace brick::runtime
