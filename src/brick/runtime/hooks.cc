#include "brick/runtime/hooks.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "brick/runtime/final_steps.h"
#include "brick/runtime/spawn.h"
#include "brick/sys/unique_fd.h"

namespace brick::runtime {
namespace {

constexpr size_t kKeptOutput = 4096;

std::string Describe(const std::string& list, size_t index, const oci::Hook& hook) {
  return fmt::format("hooks.{}[{}] {}", list, index, hook.path);
}

std::string Tail(std::string out) {
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
    out.pop_back();
  }
  if (out.empty()) {
    return "";
  }
  return ": " + out;
}

Status RunHook(const oci::Hook& hook, const std::string& what, const std::string& state_json) {
  // The state goes into the pipe before the fork: no SIGPIPE if the hook ignores stdin,
  // and no deadlock if it never reads.
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    return ErrnoFail(errno, "{}: stdin pipe", what);
  }
  UniqueFd in_read(in[0]), in_write(in[1]);
  if (state_json.size() > 65536) {
    (void)fcntl(in_write.get(), F_SETPIPE_SZ, static_cast<int>(state_json.size() + 4096));
  }
  if (write(in_write.get(), state_json.data(), state_json.size()) !=
      static_cast<ssize_t>(state_json.size())) {
    return ErrnoFail(errno, "{}: write the state to its stdin", what);
  }
  in_write.reset();
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return ErrnoFail(errno, "{}: output pipe", what);
  }
  UniqueFd out_read(out[0]), out_write(out[1]);

  std::vector<std::string> args =
      hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = hook.env;
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  auto cloned = BRICK_TRY_VALUE(CloneChild(0));
  if (cloned.first == 0) {
    if (dup2(in_read.get(), 0) < 0 || dup2(out_write.get(), 1) < 0 ||
        dup2(out_write.get(), 2) < 0) {
      _exit(127);
    }
    syscall(SYS_close_range, 3, ~0U, 0);
    ResetSignals();
    // A group of its own, so that a timeout kills what the hook started too.
    (void)setpgid(0, 0);
    execve(hook.path.c_str(), argv.data(), envp.data());
    std::string msg = fmt::format("exec: {}\n", strerror(errno));
    (void)!write(2, msg.data(), msg.size());
    _exit(127);
  }
  ChildGuard child(cloned.first, std::move(cloned.second));
  in_read.reset();
  out_write.reset();

  std::string output;
  using Clock = std::chrono::steady_clock;
  auto deadline =
      hook.timeout ? Clock::now() + std::chrono::seconds(*hook.timeout) : Clock::time_point::max();
  bool exited = false;
  while (!exited) {
    int wait_ms = -1;
    if (hook.timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        // The group's id is the hook's pid, which stays ours until the guard reaps it.
        (void)kill(-child.pid(), SIGKILL);
        return Fail(
            "{}: timed out after {} s (hook timeout); the hook and its process group were killed",
            what, *hook.timeout);
      }
      wait_ms = static_cast<int>(left.count());
    }
    pollfd fds[2] = {{child.pidfd(), POLLIN, 0}, {out_read.get(), POLLIN, 0}};
    int n = poll(fds, out_read ? 2 : 1, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail(errno, "{}: wait", what);
    }
    if (out_read && (fds[1].revents & (POLLIN | POLLHUP))) {
      char buf[4096];
      ssize_t got = read(out_read.get(), buf, sizeof buf);
      if (got <= 0) {
        out_read.reset();
      } else {
        output.append(buf, static_cast<size_t>(got));
        if (output.size() > kKeptOutput) {
          output.erase(0, output.size() - kKeptOutput);
        }
      }
    }
    exited = fds[0].revents & POLLIN;
  }
  siginfo_t info = {};
  if (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(child.pidfd()), &info, WEXITED) !=
      0) {
    return ErrnoFail(errno, "{}: reap", what);
  }
  child.Reaped();
  if (info.si_code == CLD_EXITED && info.si_status == 0) {
    return Ok();
  }
  if (info.si_code == CLD_EXITED) {
    return Fail("{}: exited with status {}{}", what, info.si_status, Tail(output));
  }
  return Fail("{}: killed by signal {}{}", what, info.si_status, Tail(output));
}

}  // namespace

Status RunHooks(const std::vector<oci::Hook>& hooks, const std::string& list,
                const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    BRICK_TRY(RunHook(hooks[i], Describe(list, i, hooks[i]), state_json));
  }
  return Ok();
}

void RunHooksWarnOnly(const std::vector<oci::Hook>& hooks, const std::string& list,
                      const std::string& state_json, std::vector<std::string>* warnings) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    if (auto s = RunHook(hooks[i], Describe(list, i, hooks[i]), state_json); !s) {
      warnings->push_back(s.error().message());
    }
  }
}

std::string StateJsonWithStatus(const std::string& state_json, const std::string& status) {
  auto j = nlohmann::json::parse(state_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return state_json;
  }
  j["status"] = status;
  return j.dump();
}

}  // namespace brick::runtime
