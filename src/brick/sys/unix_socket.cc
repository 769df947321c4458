#include "brick/sys/unix_socket.h"

#include <sys/socket.h>

#include <cstring>
#include <string>

namespace brick {

Status SendWithFd(int sock, std::string_view data, int fd) {
  std::string buf(data);  // sendmsg wants a mutable iovec
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) {
      return ErrnoFail(errno, "send on a unix socket");
    }
  }
  return Ok();
}

}  // namespace brick
