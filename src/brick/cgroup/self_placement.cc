#include "brick/cgroup/self_placement.h"

#include <unistd.h>

namespace brick::cgroup {

Status PlaceSelf(const SelfPlacement& placement) {
  for (const auto& t : placement.v1_tasks) {
    // "0" is the writing thread itself: the kernel then skips the threadgroup lock.
    if (write(t.fd.get(), "0", 1) != 1) {
      return ErrnoFail(errno, "move the process into its cgroup: write 0 to {}", t.path);
    }
  }
  return Ok();
}

}  // namespace brick::cgroup
