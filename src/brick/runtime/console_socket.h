// The console-socket contract of runc's callers (conmon, containerd-shim): connect to the
// unix socket, send one message whose data is the pty's name and which carries exactly
// one fd, the pty master, as SCM_RIGHTS.
//
//   BRICK_TRY(SendConsoleToSocket("/run/conmon/abc/console.sock", master_fd));
#pragma once

#include <string>

#include "brick/base/error.h"

namespace brick::runtime {

Status SendConsoleToSocket(const std::string& socket_path, int master_fd);

}  // namespace brick::runtime
