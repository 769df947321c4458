// brick exec: runc's flags and meaning (see runtime/exec.h).
#include "brick/runtime/exec.h"

#include <fmt/core.h>

#include "brick/base/strings.h"
#include "brick/cli/cli.h"
#include "brick/oci/quote.h"
#include "brick/sys/fs.h"

namespace brick::cli {
namespace {

// "uid" or "uid:gid", numeric (runc's --user). Without a gid the config's stays.
Status ParseUserFlag(const std::string& text, runtime::ExecOverrides* o) {
  auto colon = text.find(':');
  auto uid = ParseU64(text.substr(0, colon));
  std::optional<uint64_t> gid;
  if (colon != std::string::npos) {
    gid = ParseU64(text.substr(colon + 1));
    if (!gid || *gid > 0xfffffffe) {
      uid.reset();
    }
  }
  if (!uid || *uid > 0xfffffffe) {
    return Fail("--user {}: expected numeric uid[:gid], e.g. 1000:1000", oci::Quote(text));
  }
  o->uid = static_cast<uint32_t>(*uid);
  if (gid) {
    o->gid = static_cast<uint32_t>(*gid);
  }
  return Ok();
}

}  // namespace

Action RegisterExec(CLI::App& app) {
  struct Flags {
    std::string id;
    std::vector<std::string> command;
    std::string process_file;
    bool detach = false;
    bool tty = false;
    std::string console_socket;
    std::string pid_file;
    std::string cwd;
    std::vector<std::string> env;
    std::string user;
    std::vector<uint32_t> additional_gids;
    std::vector<std::string> caps;
    bool no_new_privs = false;
    int preserve_fds = 0;
    std::string process_label;
    std::string apparmor;
    std::string cgroup;
  };
  auto f = std::make_shared<Flags>();
  // `brick exec [flags] ID COMMAND...`: flags end at the id, as with runc; the command's
  // own flags are not brick's.
  app.prefix_command();
  app.footer("Arguments: ID [--] COMMAND [ARG...]  (COMMAND may be left out with --process)");
  app.add_option("-p,--process", f->process_file, "process.json: the whole process to run");
  app.add_flag("-d,--detach", f->detach, "Return once the process runs; do not wait for it");
  app.add_flag("-t,--tty", f->tty, "Allocate a pseudo-terminal");
  app.add_option("--console-socket", f->console_socket,
                 "Unix socket that receives the pty master (with --tty)");
  app.add_option("--pid-file", f->pid_file, "Write the process's host pid here");
  app.add_option("--cwd", f->cwd, "Working directory inside the container");
  // One value per flag (repeat the flag): a greedy list would swallow the id and command.
  app.add_option("-e,--env", f->env, "Set an environment variable (KEY=value)")
      ->allow_extra_args(false);
  app.add_option("-u,--user", f->user, "uid[:gid] to run as");
  app.add_option("-g,--additional-gids", f->additional_gids, "Additional gids")
      ->allow_extra_args(false);
  app.add_option("-c,--cap", f->caps, "Add a capability to the process")->allow_extra_args(false);
  app.add_flag("--no-new-privs", f->no_new_privs, "Set no_new_privs for the process");
  app.add_option("--preserve-fds", f->preserve_fds, "Pass fds 3..3+N-1 into the process")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--process-label", f->process_label, "SELinux label (not supported)");
  app.add_option("--apparmor", f->apparmor, "AppArmor profile (not supported)");
  app.add_option("--cgroup", f->cgroup, "Sub-cgroup to join (not supported)");
  return [f, &app]() -> Result<int> {
    std::vector<std::string> rest = app.remaining();
    if (rest.empty()) {
      return Fail("exec: missing the container id; usage: brick exec [flags] ID COMMAND...");
    }
    f->id = rest[0];
    f->command.assign(rest.begin() + 1, rest.end());
    if (!f->command.empty() && f->command[0] == "--") {
      f->command.erase(f->command.begin());
    }
    runtime::ExecRequest req;
    req.state_root = Globals().root;
    req.id = f->id;
    req.detach = f->detach;
    req.console_socket = f->console_socket;
    req.pid_file = f->pid_file;
    req.preserve_fds = f->preserve_fds;
    BRICK_TRY(CheckPassedFds(f->preserve_fds, fmt::format("--preserve-fds {}", f->preserve_fds)));
    if (!f->process_label.empty() || !f->apparmor.empty()) {
      return Fail("--process-label/--apparmor: no LSM is enabled on this host");
    }
    if (!f->cgroup.empty()) {
      return Fail("--cgroup {}: joining a sub-cgroup is not supported; leave the flag out",
                  f->cgroup);
    }
    if (!f->process_file.empty()) {
      if (!f->command.empty()) {
        return Fail("exec: give either --process FILE or a command, not both");
      }
      std::string text;
      if (f->process_file == "-") {
        text = BRICK_TRY_VALUE(ReadFile("/dev/stdin"));
      } else {
        text = BRICK_TRY_VALUE(ReadFile(f->process_file));
      }
      auto process = oci::ParseProcess(text);
      if (!process) {
        return std::unexpected(std::move(process.error()).Wrap("--process " + f->process_file));
      }
      req.process = std::move(*process);
      if (f->tty) {
        req.process->terminal = true;
      }
    } else {
      runtime::ExecOverrides& o = req.overrides;
      o.args = f->command;
      o.env = f->env;
      if (!f->cwd.empty()) {
        o.cwd = f->cwd;
      }
      if (!f->user.empty()) {
        BRICK_TRY(ParseUserFlag(f->user, &o));
      }
      o.additional_gids = f->additional_gids;
      o.add_caps = f->caps;
      o.no_new_privs = f->no_new_privs;
      o.tty = f->tty;
    }
    bool terminal = req.process ? req.process->terminal : f->tty;
    if (f->detach && terminal && f->console_socket.empty()) {
      return Fail(
          "exec --detach with a terminal needs --console-socket to receive the pty; "
          "pass --console-socket PATH, or leave out --tty or --detach");
    }
    req.policy = [](const oci::Spec& spec) { return CheckHostPolicy(spec); };
    return runtime::ExecInContainer(req);
  };
}

}  // namespace brick::cli
