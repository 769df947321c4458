#include "brick/runtime/console_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "brick/sys/unique_fd.h"
#include "brick/sys/unix_socket.h"

namespace brick::runtime {

Status SendConsoleToSocket(const std::string& socket_path, int master_fd) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return Fail("--console-socket {}: the path is longer than a unix socket allows", socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return ErrnoFail(errno, "--console-socket: socket");
  }
  if (connect(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoFail(errno, "--console-socket: connect to {}", socket_path);
  }
  BRICK_TRY(SendWithFd(sock.get(), "/dev/ptmx", master_fd),
            fmt::format("--console-socket: send the pty to {}", socket_path));
  return Ok();
}

}  // namespace brick::runtime
