// Seccomp in the container runtime path, through the real brick binary:
//   - `brick run --learn`: learn a workload in a real container, enforce what was learned,
//     refuse another workload; --merge; the refusals; the "learn" events;
//   - linux.seccomp.listenerPath: the test is the seccomp agent. It receives the
//     containerProcessState and the listener, answers a notified syscall with an errno and
//     the next with CONTINUE, and the container sees both answers (brick run, and
//     brick create + start);
//   - bad listener configs, and the hand-off event in the event log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<json> JsonLines(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(ReadFileOrEmpty(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(json::parse(line));
    }
  }
  return out;
}

std::vector<std::string> With(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ---------------------------------------------------------------------------------------
// brick run --learn

class RunLearnTest : public ::testing::Test {
 protected:
  std::string Profile() const { return dir_ / "learned.json"; }
  RunResult Learn(const std::vector<std::string>& extra, const std::vector<std::string>& cmd) {
    return BrickRun(With({"--learn", Profile()}, extra), cmd);
  }
  TempDir dir_;
};

TEST_F(RunLearnTest, LearnedProfileRunsTheWorkloadAndRefusesAnother) {
  const std::vector<std::string> workload = {"/bin/sh", "-c", "echo hi; ls /"};
  std::string id = UniqueId("learn");
  std::string events = dir_ / "events.jsonl";
  RunResult learned = Learn({"--id", id, "--events-log", events}, workload);
  ASSERT_EQ(learned.ExitCode(), 0) << learned.Describe();
  EXPECT_THAT(learned.out, HasSubstr("hi\n"));
  EXPECT_THAT(learned.err, HasSubstr("profile written to " + Profile()));
  ASSERT_TRUE(std::filesystem::exists(Profile()));

  RunResult again = BrickRun({"--seccomp", Profile()}, workload);
  EXPECT_EQ(again.ExitCode(), 0) << again.Describe();
  EXPECT_THAT(again.out, HasSubstr("hi\n"));
  EXPECT_THAT(again.out, HasSubstr("etc\n"));

  // mkdir was never made while learning: the profile's default action refuses it.
  RunResult other =
      BrickRun({"--seccomp", Profile()}, {"/bin/sh", "-c", "mkdir /tmp/x && echo made"});
  EXPECT_NE(other.ExitCode(), 0) << other.Describe();
  EXPECT_THAT(other.out, Not(HasSubstr("made")));
  EXPECT_THAT(other.err, HasSubstr("Operation not permitted"));

  // Each syscall seen appears once in the event log, with the container, arch and action.
  std::vector<json> lines = JsonLines(events);
  ASSERT_FALSE(lines.empty());
  std::set<std::string> seen;
  for (const json& e : lines) {
    EXPECT_EQ(e["type"], "seccomp") << e.dump();
    EXPECT_EQ(e["container"], id) << e.dump();
    EXPECT_EQ(e["action"], "learn") << e.dump();
    EXPECT_EQ(e["arch"], "x86_64") << e.dump();
    EXPECT_TRUE(seen.insert(e["syscall"].get<std::string>()).second) << "twice: " << e.dump();
  }
  EXPECT_TRUE(seen.contains("execve"));
  EXPECT_TRUE(seen.contains("getdents64"));  // ls /

  // Nothing of the runtime is blamed on the workload: the init's own steps before exec
  // (capset, setresuid, prctl, close_range, pivot_root, ...) were not recorded.
  json profile = json::parse(ReadFileOrEmpty(Profile()));
  std::set<std::string> allowed;
  for (const json& rule : profile["syscalls"]) {
    if (rule["action"] == "SCMP_ACT_ALLOW") {
      for (const json& n : rule["names"]) {
        allowed.insert(n.get<std::string>());
      }
    }
  }
  for (const char* runtime_only :
       {"capset", "setresuid", "pivot_root", "close_range", "seccomp", "pidfd_getfd", "mount"}) {
    EXPECT_FALSE(allowed.contains(runtime_only)) << runtime_only;
  }
}

TEST_F(RunLearnTest, MergeAddsAnotherWorkload) {
  const std::vector<std::string> shell = {"/bin/sh", "-c", "echo hi"};
  const std::vector<std::string> inspect = {kInspect, "socket", "AF_INET6", "SOCK_DGRAM"};
  RunResult first = Learn({}, shell);
  ASSERT_EQ(first.ExitCode(), 0) << first.Describe();

  // brick-inspect makes an AF_INET6 socket, which the shell never did.
  RunResult refused = BrickRun({"--seccomp", Profile()}, inspect);
  EXPECT_THAT(refused.out, Not(HasSubstr("ok"))) << refused.Describe();

  RunResult merged = Learn({"--merge"}, inspect);
  ASSERT_EQ(merged.ExitCode(), 0) << merged.Describe();
  EXPECT_THAT(merged.err, HasSubstr("with the merged profile"));

  RunResult both_inspect = BrickRun({"--seccomp", Profile()}, inspect);
  EXPECT_EQ(both_inspect.ExitCode(), 0) << both_inspect.Describe();
  EXPECT_EQ(TrimEnd(both_inspect.out), "ok");
  RunResult both_shell = BrickRun({"--seccomp", Profile()}, shell);
  EXPECT_EQ(both_shell.ExitCode(), 0) << both_shell.Describe();
  EXPECT_EQ(both_shell.out, "hi\n");

  // Without --merge the file is replaced by what one run saw: the shell again, no socket.
  RunResult replaced = Learn({}, shell);
  ASSERT_EQ(replaced.ExitCode(), 0) << replaced.Describe();
  RunResult refused_again = BrickRun({"--seccomp", Profile()}, inspect);
  EXPECT_THAT(refused_again.out, Not(HasSubstr("ok"))) << refused_again.Describe();
}

TEST_F(RunLearnTest, BadCombinationsAreRefusedAndLeaveNothing) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::string learn = Profile();
  const std::vector<Case> cases = {
      {{"--learn", learn, "--detach"}, "--detach"},
      {{"--learn", learn, "--seccomp", "default"}, "cannot be combined with --seccomp"},
      {{"--learn", learn, "--unsafe-no-seccomp"}, "--unsafe-no-seccomp"},
      {{"--learn", learn, "--unsafe-allow-new-privileges"}, "process.noNewPrivileges"},
      {{"--merge"}, "add --learn FILE"},
      {{"--learn", dir_ / "no-such-dir/p.json"}, "does not exist"},
  };
  for (const Case& c : cases) {
    HostSnapshot before = HostSnapshot::Capture();
    std::string id = UniqueId("learn-bad");
    std::string marker = "marker-" + id;
    RunResult r = BrickRun(With({"--id", id}, c.args), {"/bin/sh", "-c", "exit 0", marker});
    EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(c.message)) << r.Describe();
    EXPECT_TRUE(NothingLeftBehind(before, id, marker));
  }
  EXPECT_FALSE(std::filesystem::exists(learn));
}

TEST_F(RunLearnTest, MergeRefusesAProfileLearnDidNotWrite) {
  ASSERT_TRUE(WriteFile(Profile(), R"({"defaultAction":"SCMP_ACT_ERRNO","syscalls":[)"
                                   R"({"names":["read"],"action":"SCMP_ACT_ALLOW",)"
                                   R"("args":[{"index":0,"value":3,"op":"SCMP_CMP_EQ"}]}]})"));
  RunResult r = Learn({"--merge"}, {"/bin/sh", "-c", "exit 0"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("--learn " + Profile()));
  EXPECT_THAT(r.err, HasSubstr("merge only profiles written by brick seccomp learn"));
}

// ---------------------------------------------------------------------------------------
// The test as the seccomp agent

// Listens at `path`; on Start, a thread accepts one connection, reads the container process
// state and the listener, then answers notifications: the first with -first_errno, the rest
// with CONTINUE, until the listener hangs up or Stop is called.
TEST_F(RunLearnTest, LoggedActionsBecomeEventsOfThisContainerOnly) {
  std::string profile = dir_ / "log-mkdir.json";
  ASSERT_TRUE(WriteFile(profile, R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}]})"));
  std::string events = dir_ / "events.jsonl";
  std::string id = UniqueId("logged");
  // Another container makes the same call at the same time; its records must not be
  // attributed to this one (it has its own host id range).
  Process other = Process::Start(
      BrickRunArgv({"--seccomp", profile}, {"/bin/sh", "-c", "mkdir /tmp/other; sleep 1"}));
  RunResult r = BrickRun({"--id", id, "--events-log", events, "--seccomp", profile},
                         {"/bin/sh", "-c", "mkdir /tmp/a && mkdir /tmp/b && echo made"});
  other.Wait();
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("made"));  // LOG allows the call
  std::vector<json> lines = JsonLines(events);
  // The kernel rate-limits these records (10 per 5 s burst): two fit.
  ASSERT_EQ(lines.size(), 2u) << ReadFileOrEmpty(events);
  for (const json& e : lines) {
    EXPECT_EQ(e["container"], id) << e.dump();
    EXPECT_EQ(e["action"], "log") << e.dump();
    EXPECT_EQ(e["syscall"], "mkdir") << e.dump();
    EXPECT_EQ(e["arch"], "x86_64") << e.dump();
  }
}

// A created container has no brick process beside it: its watcher records instead, and
// ends with the container.
TEST_F(RunLearnTest, LoggedActionsOfACreatedContainerBecomeEventsToo) {
  TempDir state, bundle;
  std::string id = UniqueId("logged-detached");
  ASSERT_TRUE(MakeBundle(
      bundle.path(), kRootfs,
      [&](json& c) {
        c["process"]["args"] = {"/bin/sh", "-c", "mkdir /tmp/a && echo made", id};
        c["linux"]["seccomp"] = {
            {"defaultAction", "SCMP_ACT_ALLOW"},
            {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_LOG"}}}}};
      },
      id));
  auto brick = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kBrick, "--root", state.path()});
    RunOptions o;
    o.drain_after_exit = std::chrono::milliseconds(300);
    return RunCommand(args, o);
  };
  RunResult created = brick({"create", "--bundle", bundle.path(), id});
  ASSERT_EQ(created.ExitCode(), 0) << created.Describe();
  // brick create has returned, and with it every process but the init and the watcher.
  ASSERT_EQ(brick({"start", id}).ExitCode(), 0);
  std::string events = state / "events.jsonl";
  bool watcher_gone = false;
  for (int i = 0; i < 250 && !watcher_gone; ++i) {
    // The watcher carries brick create's command line, the id among it, until it ends.
    watcher_gone = !JsonLines(events).empty() && ProcessesWithArg(id).empty();
    if (!watcher_gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_TRUE(watcher_gone) << "the watcher outlived the container, or recorded nothing";
  std::vector<json> lines = JsonLines(events);
  ASSERT_FALSE(lines.empty()) << ReadFileOrEmpty(events);
  for (const json& e : lines) {
    EXPECT_EQ(e["container"], id) << e.dump();
    EXPECT_EQ(e["action"], "log") << e.dump();
    EXPECT_EQ(e["syscall"], "mkdir") << e.dump();
    EXPECT_EQ(e["arch"], "x86_64") << e.dump();
  }
  EXPECT_EQ(brick({"delete", id}).ExitCode(), 0);
}

class Agent {
 public:
  explicit Agent(std::string path) : path_(std::move(path)) {
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr = {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ok_ = listen_fd_ >= 0 &&
          bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
          listen(listen_fd_, 4) == 0;
    stop_fd_ = eventfd(0, EFD_CLOEXEC);
  }
  ~Agent() {
    Stop();
    close(listen_fd_);
    close(stop_fd_);
    unlink(path_.c_str());
  }
  bool ok() const { return ok_ && stop_fd_ >= 0; }
  void Start(int first_errno) {
    thread_ = std::thread([this, first_errno] { Serve(first_errno); });
  }
  void Stop() {
    if (thread_.joinable()) {
      uint64_t one = 1;
      (void)!write(stop_fd_, &one, sizeof one);
      thread_.join();
    }
  }

  // Filled by the thread; read after Stop.
  json state;
  std::string problem;  // what went wrong on the agent's side
  bool got_fd = false;
  bool fd_is_notify = false;
  std::vector<std::string> answered;  // "errno" / "continue", in order
  std::vector<int> pids;              // of the notifying processes

 private:
  // Waits until fd is readable; false when Stop came first.
  bool WaitFor(int fd) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    while (poll(p, 2, -1) < 0) {
      if (errno != EINTR) {
        return false;
      }
    }
    return (p[1].revents & POLLIN) == 0;
  }

  void Serve(int first_errno) {
    if (!WaitFor(listen_fd_)) {
      problem = "brick never connected";
      return;
    }
    int conn = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) {
      problem = std::string("accept: ") + strerror(errno);
      return;
    }
    std::string text;
    int listener = -1;
    for (;;) {
      char buf[4096];
      iovec iov = {buf, sizeof buf};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
      msghdr msg = {};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
      if (n <= 0) {
        break;  // brick closes the connection after one state
      }
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
          std::memcpy(&listener, CMSG_DATA(c), sizeof(int));
        }
      }
      text.append(buf, static_cast<size_t>(n));
    }
    close(conn);
    state = json::parse(text, nullptr, false);
    got_fd = listener >= 0;
    if (!got_fd) {
      problem = "no fd came with the state";
      return;
    }
    char target[64] = {};
    ssize_t len =
        readlink(("/proc/self/fd/" + std::to_string(listener)).c_str(), target, sizeof target - 1);
    fd_is_notify =
        len > 0 && std::string(target, static_cast<size_t>(len)) == "anon_inode:seccomp notify";
    for (;;) {
      pollfd p[2] = {{listener, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) {
          continue;
        }
        break;
      }
      if ((p[0].revents & POLLIN) != 0) {
        seccomp_notif notif = {};
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &notif) != 0) {
          continue;
        }
        seccomp_notif_resp resp = {};
        resp.id = notif.id;
        if (answered.empty()) {
          resp.error = -first_errno;
          answered.push_back("errno");
        } else {
          resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
          answered.push_back("continue");
        }
        pids.push_back(static_cast<int>(notif.pid));
        (void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        continue;
      }
      if ((p[0].revents & (POLLHUP | POLLERR)) != 0 || (p[1].revents & POLLIN) != 0) {
        break;
      }
    }
    close(listener);
  }

  std::string path_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  bool ok_ = false;
  std::thread thread_;
};

// The first mkdir is refused by the agent (EXDEV), the second runs (CONTINUE).
constexpr const char* kNotifiedWorkload =
    "mkdir /tmp/a; echo a=$?; mkdir /tmp/b && echo b-made; ls -d /tmp/b";

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = UniqueId("notify");
    socket_ = state_ / "agent.sock";
  }
  // A bundle whose seccomp notifies on mkdir and mkdirat and allows the rest.
  ::testing::AssertionResult Bundle(const std::function<void(json&)>& seccomp_edit = {},
                                    const std::function<void(json&)>& config_edit = {}) {
    return MakeBundle(
        bundle_.path(), kRootfs,
        [&](json& c) {
          if (config_edit) {
            config_edit(c);
          }
          c["process"]["args"] = {"/bin/sh", "-c", kNotifiedWorkload, id_};
          json sc = {
              {"defaultAction", "SCMP_ACT_ALLOW"},
              {"listenerPath", socket_},
              {"listenerMetadata", "agent-meta " + id_},
              {"syscalls", {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_NOTIFY"}}}}};
          if (seccomp_edit) {
            seccomp_edit(sc);
          }
          c["linux"]["seccomp"] = sc;
        },
        id_);
  }
  RunResult Brick(std::vector<std::string> args, const RunOptions& options = {}) {
    args.insert(args.begin(), {kBrick, "--root", state_.path()});
    return RunCommand(args, options);
  }
  std::vector<json> Events() { return JsonLines(state_ / "events.jsonl"); }
  void ExpectHandOffEvent(int pid) {
    bool found = false;
    for (const json& e : Events()) {
      if (e["action"] == "notify-listener") {
        found = true;
        EXPECT_EQ(e["container"], id_) << e.dump();
        EXPECT_EQ(e["pid"], pid) << e.dump();
        EXPECT_THAT(e["detail"].get<std::string>(), HasSubstr(socket_)) << e.dump();
        EXPECT_THAT(e["detail"].get<std::string>(), HasSubstr("mkdir, mkdirat")) << e.dump();
      }
    }
    EXPECT_TRUE(found) << ReadFileOrEmpty(state_ / "events.jsonl");
  }
  void ExpectState(const Agent& agent, const std::string& status, int pid) {
    EXPECT_TRUE(agent.got_fd) << agent.problem;
    EXPECT_TRUE(agent.fd_is_notify);
    ASSERT_TRUE(agent.state.is_object()) << agent.state.dump();
    EXPECT_EQ(agent.state["fds"], json::array({"seccompFd"}));
    EXPECT_EQ(agent.state["metadata"], "agent-meta " + id_);
    EXPECT_EQ(agent.state["pid"], pid);
    EXPECT_FALSE(agent.state["ociVersion"].get<std::string>().empty());
    const json& st = agent.state["state"];
    EXPECT_EQ(st["id"], id_);
    EXPECT_EQ(st["status"], status);
    EXPECT_EQ(st["pid"], pid);
    EXPECT_EQ(st["bundle"], bundle_.path());
  }

  TempDir state_;
  TempDir bundle_;
  std::string id_;
  std::string socket_;
};

TEST_F(ListenerTest, AgentAnswersTheContainersSyscallsInBrickRun) {
  ASSERT_TRUE(Bundle());
  Agent agent(socket_);
  ASSERT_TRUE(agent.ok()) << strerror(errno);
  agent.Start(EXDEV);
  std::string pid_file = state_ / "pid";
  RunResult r = Brick({"run", "--bundle", bundle_.path(), "--pid-file", pid_file, id_});
  agent.Stop();
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  // The container saw the agent's answers: EXDEV, then the real mkdir.
  EXPECT_THAT(r.err, HasSubstr("Invalid cross-device link")) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("a=1\n"));
  EXPECT_THAT(r.out, HasSubstr("b-made\n/tmp/b\n"));
  ASSERT_EQ(agent.answered, (std::vector<std::string>{"errno", "continue"})) << agent.problem;

  int pid = std::stoi(ReadFileOrEmpty(pid_file));
  ExpectState(agent, "creating", pid);
  // The notifying processes were the container's (mkdir is a child of the init's shell).
  for (int p : agent.pids) {
    EXPECT_NE(p, 0);
  }
  ExpectHandOffEvent(pid);
}

TEST_F(ListenerTest, WithoutNoNewPrivsTheFilterGoesInBeforeTheCapsDropAndStillHandsOff) {
  // Without no_new_privs the init installs while it still holds CAP_SYS_ADMIN and drops
  // its capabilities afterwards, under the filter: the hand-off must not depend on order.
  ASSERT_TRUE(Bundle({}, [](json& c) { c["process"]["noNewPrivileges"] = false; }));
  Agent agent(socket_);
  ASSERT_TRUE(agent.ok()) << strerror(errno);
  agent.Start(EXDEV);
  RunResult r = Brick({"run", "--bundle", bundle_.path(), id_});
  agent.Stop();
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("Invalid cross-device link")) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("b-made\n/tmp/b\n"));
  EXPECT_EQ(agent.answered, (std::vector<std::string>{"errno", "continue"})) << agent.problem;
}

TEST_F(ListenerTest, AgentGetsTheListenerAtStartForCreatedContainers) {
  ASSERT_TRUE(Bundle());
  Agent agent(socket_);
  ASSERT_TRUE(agent.ok()) << strerror(errno);
  agent.Start(EPERM);
  std::string pid_file = state_ / "pid";
  // The container writes to create's stdout, which stays open until it ends.
  Process create = Process::Start({kBrick, "--root", state_.path(), "create", "--bundle",
                                   bundle_.path(), "--pid-file", pid_file, id_});
  std::string status;
  for (int i = 0; i < 500 && status != "created"; ++i) {
    RunResult st = Brick({"state", id_});
    status = st.ExitCode() == 0 ? json::parse(st.out)["status"].get<std::string>() : "";
    if (status != "created") {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_EQ(status, "created");
  RunResult start = Brick({"start", id_});
  EXPECT_EQ(start.ExitCode(), 0) << start.Describe();
  RunResult out = create.Wait();  // the container's output, once it has exited
  agent.Stop();
  EXPECT_THAT(out.err, HasSubstr("Operation not permitted")) << out.Describe();
  EXPECT_THAT(out.out, HasSubstr("a=1\n"));
  EXPECT_THAT(out.out, HasSubstr("b-made\n/tmp/b\n"));
  EXPECT_EQ(agent.answered, (std::vector<std::string>{"errno", "continue"})) << agent.problem;
  int pid = std::stoi(ReadFileOrEmpty(pid_file));
  ExpectState(agent, "created", pid);
  ExpectHandOffEvent(pid);
  EXPECT_EQ(Brick({"delete", "--force", id_}).ExitCode(), 0);
}

TEST_F(ListenerTest, NoAgentListeningIsAnErrorAndLeavesNothing) {
  ASSERT_TRUE(Bundle());  // nothing listens at socket_
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = Brick({"run", "--bundle", bundle_.path(), id_});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("linux.seccomp.listenerPath " + socket_));
  EXPECT_THAT(r.err, HasSubstr("start the seccomp agent first"));
  EXPECT_TRUE(NothingLeftBehind(before, id_, id_));
}

TEST_F(ListenerTest, AgentThatGoesAwayBeforeTheHandOffFailsTheRun) {
  ASSERT_TRUE(Bundle());
  {
    Agent gone(socket_);  // bound, then closed: the socket file stays, nobody listens
    ASSERT_TRUE(gone.ok());
  }
  // ~Agent unlinked it; leave a dead socket file in its place.
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(s);
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = Brick({"run", "--bundle", bundle_.path(), id_});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("connect to the seccomp agent"));
  EXPECT_THAT(r.err, HasSubstr("connection refused"));
  EXPECT_THAT(r.out, Not(HasSubstr("a=")));  // the workload never ran
  EXPECT_TRUE(NothingLeftBehind(before, id_, id_));
  unlink(socket_.c_str());
}

TEST_F(ListenerTest, BadListenerConfigsNameTheField) {
  struct Case {
    std::function<void(json&)> edit;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](json& sc) {
         sc.erase("listenerPath");
         sc.erase("listenerMetadata");
       },
       "SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"},
      {[](json& sc) { sc.erase("listenerPath"); },
       "linux.seccomp.listenerMetadata: set without linux.seccomp.listenerPath"},
      {[](json& sc) { sc["listenerPath"] = "relative/agent.sock"; }, "linux.seccomp.listenerPath"},
      {[](json& sc) { sc["defaultAction"] = "SCMP_ACT_NOTIFY"; },
       "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"},
  };
  for (const Case& c : cases) {
    std::filesystem::remove(bundle_ / "rootfs");
    ASSERT_TRUE(Bundle(c.edit));
    HostSnapshot before = HostSnapshot::Capture();
    RunResult r = Brick({"run", "--bundle", bundle_.path(), id_});
    EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(c.message)) << r.Describe();
    EXPECT_TRUE(NothingLeftBehind(before, id_, id_));
  }
}

TEST_F(ListenerTest, ListenerPathWithoutNotifyRulesIsIgnored) {
  // The spec: "If the SCMP_ACT_NOTIFY action is not used this value is ignored."
  ASSERT_TRUE(Bundle([](json& sc) { sc["syscalls"][0]["action"] = "SCMP_ACT_ALLOW"; }));
  RunResult r = Brick({"run", "--bundle", bundle_.path(), id_});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("a=0\n"));
  EXPECT_THAT(r.err, HasSubstr("listenerPath " + socket_ + " ignored"));
}

}  // namespace
}  // namespace brick::integration
