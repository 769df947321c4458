#include "brick/runtime/sync_socket.h"

#include <poll.h>
#include <sys/socket.h>

#include <cstring>

#include "brick/sys/unix_socket.h"

namespace brick::runtime {
namespace {
constexpr size_t kMaxMessage = 65536;
}

Result<std::pair<SyncSocket, SyncSocket>> SyncSocket::Pair() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoFail(errno, "create the sync socket pair");
  }
  return std::pair<SyncSocket, SyncSocket>(SyncSocket(UniqueFd(fds[0])),
                                           SyncSocket(UniqueFd(fds[1])));
}

Status SyncSocket::Send(SyncMessage type, std::string_view payload, int pass_fd) const {
  std::string buf(1, static_cast<char>(type));
  buf.append(payload.substr(0, kMaxMessage - 1));
  BRICK_TRY(SendWithFd(fd_.get(), buf, pass_fd), "sync socket");
  return Ok();
}

Result<std::optional<Received>> SyncSocket::TryReceive() const {
  struct pollfd p = {fd_.get(), POLLIN, 0};
  int n = poll(&p, 1, 0);
  if (n < 0) {
    return ErrnoFail(errno, "sync socket: poll");
  }
  if (n == 0) {
    return std::optional<Received>();
  }
  return std::optional<Received>(BRICK_TRY_VALUE(Receive()));
}

Result<Received> SyncSocket::Receive() const {
  std::string buf(kMaxMessage, '\0');
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno != EINTR) {
      return ErrnoFail(errno, "sync socket: receive");
    }
  }
  Received r;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
      r.fd.reset(fd);
    }
  }
  if (n == 0) {
    return r;  // kEof
  }
  r.type = static_cast<SyncMessage>(buf[0]);
  r.payload = buf.substr(1, static_cast<size_t>(n) - 1);
  return r;
}

}  // namespace brick::runtime
