#include "brick/runtime/sync_socket.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace brick::runtime {
namespace {

TEST(SyncSocketTest, MessagesAndFdsCross) {
  auto pair = SyncSocket::Pair();
  ASSERT_TRUE(pair);
  auto& [a, b] = *pair;
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  ASSERT_TRUE(a.Send(SyncMessage::kConsole, "", pipefd[1]));
  close(pipefd[1]);
  auto r = b.Receive();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, SyncMessage::kConsole);
  ASSERT_TRUE(r->fd.valid());
  ASSERT_EQ(write(r->fd.get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(read(pipefd[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');
  close(pipefd[0]);
  ASSERT_TRUE(a.Send(SyncMessage::kError, "13:mount /proc"));
  r = b.Receive();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, SyncMessage::kError);
  EXPECT_EQ(r->payload, "13:mount /proc");
}

TEST(SyncSocketTest, ExecOfTheOtherEndReadsAsEof) {
  auto pair = SyncSocket::Pair();
  ASSERT_TRUE(pair);
  auto& [parent, child] = *pair;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    parent.Close();
    execl("/bin/true", "true", nullptr);  // the child's end is close-on-exec
    _exit(127);
  }
  child.Close();
  auto r = parent.Receive();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, SyncMessage::kEof);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace brick::runtime
