// The network namespace's loopback interface.
//
//   if (plan.new_net) BRICK_TRY(BringUpLoopback());   // child, inside the new netns
#pragma once

#include "brick/base/error.h"

namespace brick::isolation {

// Sets IFF_UP on "lo" in the caller's network namespace.
Status BringUpLoopback();

}  // namespace brick::isolation
