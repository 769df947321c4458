#include "brick/isolation/network.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "brick/sys/unique_fd.h"

namespace brick::isolation {

Status BringUpLoopback() {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) {
    return ErrnoFail(errno, "network: open a socket to configure lo");
  }
  struct ifreq req = {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0) {
    return ErrnoFail(errno, "network: read flags of lo");
  }
  req.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0) {
    return ErrnoFail(errno, "network: bring lo up");
  }
  return Ok();
}

}  // namespace brick::isolation
