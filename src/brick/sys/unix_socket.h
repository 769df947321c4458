// Sending one message with an fd attached (SCM_RIGHTS) over a unix socket.
//
//   BRICK_TRY(SendWithFd(sock, "/dev/ptmx", master_fd));   // fd < 0: no fd attached
#pragma once

#include <string_view>

#include "brick/base/error.h"

namespace brick {

Status SendWithFd(int sock, std::string_view data, int fd);

}  // namespace brick
