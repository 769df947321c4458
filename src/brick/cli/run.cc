#include <filesystem>

#include "brick/base/strings.h"
#include "brick/cli/cli.h"
#include "brick/oci/capabilities.h"
#include "brick/oci/spec.h"
#include "brick/policy/profile.h"
#include "brick/runtime/container.h"
#include "brick/runtime/default_spec.h"
#include "brick/runtime/lifecycle.h"
#include "brick/runtime/secrets.h"
#include "brick/seccomp/annotations.h"
#include "brick/seccomp/profile_json.h"
#include "brick/sys/fs.h"

namespace brick::cli {
namespace {

struct RunFlags {
  std::string bundle;
  std::string rootfs;
  std::vector<std::string> volumes;
  bool tty = false;
  std::string id;
  std::string hostname;
  std::string user;
  std::vector<std::string> cap_add;
  std::vector<std::string> env;
  std::string workdir;
  std::vector<std::string> ulimits;
  std::vector<std::string> devices;
  std::optional<int64_t> memory;
  std::optional<int64_t> pids_limit;
  std::optional<uint64_t> cpu_weight;
  std::string seccomp_file;
  bool seccomp_allow_unknown = false;
  int preserve_fds = 0;
  std::vector<std::string> unsafe_share;
  bool unsafe_no_seccomp = false;
  bool unsafe_allow_new_privileges = false;
  bool unsafe_writable_root = false;
  std::vector<std::string> unsafe_unmask;
  std::vector<std::string> command;
  bool detach = false;
  std::string pid_file;
  std::string console_socket;
  std::string profile;
  std::vector<std::string> secrets;
  std::string learn;
  bool merge = false;
  std::string events_log;
};

Result<std::pair<uint32_t, uint32_t>> ParseUser(const std::string& text) {
  auto parts = Split(text, ':');
  auto uid = ParseU64(parts[0]);
  auto gid = parts.size() == 2 ? ParseU64(parts[1]) : uid;
  if (parts.size() > 2 || !uid || !gid || *uid > 0xfffffffeu || *gid > 0xfffffffeu) {
    return Fail("--user \"{}\": expected UID[:GID] as numbers, e.g. 1000:1000", text);
  }
  return std::pair<uint32_t, uint32_t>(static_cast<uint32_t>(*uid), static_cast<uint32_t>(*gid));
}

Result<oci::Spec> SpecFromFlags(const RunFlags& f) {
  runtime::DefaultSpecOptions o;
  o.rootfs = f.rootfs.empty() ? BRICK_TRY_VALUE(DefaultRootfs()) : f.rootfs;
  o.args = f.command;
  o.terminal = f.tty;
  if (!f.hostname.empty()) {
    o.hostname = f.hostname;
  }
  if (!f.user.empty()) {
    std::tie(o.uid, o.gid) = BRICK_TRY_VALUE(ParseUser(f.user));
  }
  o.cap_add = f.cap_add;
  o.env = f.env;
  if (!f.workdir.empty()) {
    o.cwd = f.workdir;
  }
  for (const auto& v : f.volumes) {
    runtime::Volume vol = BRICK_TRY_VALUE(runtime::ParseVolume(v));
    std::error_code ec;
    if (!std::filesystem::exists(vol.source, ec)) {
      return Fail("--volume {}: the source {} does not exist on the host", v, vol.source);
    }
    o.volumes.push_back(vol);
  }
  for (const auto& u : f.ulimits) {
    o.ulimits.push_back(BRICK_TRY_VALUE(runtime::ParseUlimit(u)));
  }
  o.devices = f.devices;
  o.memory_limit = f.memory;
  o.pids_limit = f.pids_limit;
  o.cpu_weight = f.cpu_weight;

  o.unsafe_share = f.unsafe_share;
  o.unsafe_no_seccomp = f.unsafe_no_seccomp;
  o.unsafe_allow_new_privileges = f.unsafe_allow_new_privileges;
  o.unsafe_writable_root = f.unsafe_writable_root;
  o.unsafe_unmask = f.unsafe_unmask;
  for (const auto& s : f.secrets) {
    o.secrets.push_back(BRICK_TRY_VALUE(runtime::ParseSecretArg(s)));
  }
  oci::Spec spec = BRICK_TRY_VALUE(runtime::BuildDefaultSpec(o));
  if (!f.learn.empty() && (!f.seccomp_file.empty() || f.unsafe_no_seccomp)) {
    return Fail(
        "--learn runs the container under a recording filter; it cannot be combined "
        "with --seccomp or --unsafe-no-seccomp");
  }
  if (!f.seccomp_file.empty()) {
    if (f.unsafe_no_seccomp) {
      return Fail("--seccomp and --unsafe-no-seccomp contradict each other; pick one");
    }
    // An OCI linux.seccomp object or a Docker profile, whose capability-conditional rules
    // see the capabilities this container is granted.
    seccomp::ProfileContext ctx;
    ctx.granted_caps =
        BRICK_TRY_VALUE(oci::CapabilityMask(spec.process->capabilities->bounding, "--cap-add"));
    auto loaded = BRICK_TRY_VALUE(seccomp::LoadProfileFile(f.seccomp_file, ctx));
    for (const auto& w : loaded.warnings) {
      LogWarning(fmt::format("--seccomp {}: {}", f.seccomp_file, w));
    }
    spec.linux.seccomp = std::move(loaded.profile);
  }
  return spec;
}

}  // namespace

Action RegisterRun(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  app.add_option("--bundle,-b", f->bundle,
                 "Run the OCI bundle in DIR exactly as its config.json says");
  app.add_option("--rootfs", f->rootfs, "Root filesystem for brick's default config");
  app.add_option("-v,--volume", f->volumes, "Bind SRC:DST[:ro|rw] (read-only unless :rw)");
  app.add_flag("-t,--tty", f->tty, "Give the process a pseudo-terminal");
  app.add_option("--id", f->id, "Container id (default: random)");
  app.add_option("--hostname", f->hostname, "Hostname (default: brick)");
  app.add_option("--user,-u", f->user, "UID[:GID] inside the container (default: 1000:1000)");
  app.add_option("--cap-add", f->cap_add, "Grant a capability, e.g. CAP_NET_BIND_SERVICE");
  app.add_option("-e,--env", f->env, "Set KEY=VALUE in the environment");
  app.add_option("-w,--workdir", f->workdir, "Working directory inside the container");
  app.add_option("--ulimit", f->ulimits, "Set an rlimit NAME=SOFT[:HARD]");
  app.add_option("--device", f->devices,
                 "Add a host device node (and allow it in the device cgroup)");
  app.add_option("--memory", f->memory, "Memory limit in bytes (default 512 MiB)");
  app.add_option("--pids-limit", f->pids_limit, "Maximum number of tasks (default 1024)");
  app.add_option("--cpu-weight", f->cpu_weight, "CPU weight 1-10000 (default 100)");
  app.add_option("--seccomp", f->seccomp_file,
                 "Seccomp profile: an OCI linux.seccomp object, a Docker seccomp profile "
                 "(resolved for the granted capabilities) or \"default\"");
  app.add_flag("--seccomp-allow-unknown", f->seccomp_allow_unknown,
               "Drop syscall names libseccomp does not know from the profile, with a warning, "
               "instead of refusing it (sets the run.brick.seccomp.allow-unknown annotation)");
  app.add_option("--preserve-fds", f->preserve_fds, "Pass fds 3..3+N-1 into the container");
  app.add_option("--unsafe-share", f->unsafe_share,
                 "UNSAFE: share a host namespace: pid, net, ipc, uts, user, cgroup, time");
  app.add_flag("--unsafe-no-seccomp", f->unsafe_no_seccomp, "UNSAFE: run without seccomp");
  app.add_flag("--unsafe-allow-new-privileges", f->unsafe_allow_new_privileges,
               "UNSAFE: let setuid binaries raise privileges (no no_new_privs)");
  app.add_flag("--unsafe-writable-root", f->unsafe_writable_root,
               "UNSAFE: mount the root filesystem read-write");
  app.add_option("--unsafe-unmask", f->unsafe_unmask,
                 "UNSAFE: leave a masked or read-only path of the defaults exposed");
  app.add_option("--profile", f->profile, "Run with the isolation described by a brick profile");
  app.add_option("--secret", f->secrets,
                 "NAME=FILE: FILE appears as /run/secrets/NAME (tmpfs, 0400, owned by the user)");
  app.add_option("--learn", f->learn,
                 "Record the syscalls the container makes (instead of enforcing a profile) and "
                 "write the allow-list to FILE when it exits");
  app.add_flag("--merge", f->merge, "With --learn: add to the profile already in FILE");
  app.add_option("--events-log", f->events_log,
                 "Append seccomp events here (default: <root>/events.jsonl)");
  app.add_flag("-d,--detach", f->detach, "Create and start, then return (runc run --detach)");
  app.add_option("--pid-file", f->pid_file, "Write the init's pid here");
  app.add_option("--console-socket", f->console_socket,
                 "Unix socket that receives the pty master instead of brick proxying it");
  app.add_option("command", f->command,
                 "Command and arguments (default: sh); with --bundle, the container id");
  app.positionals_at_end();
  return [f]() -> Result<int> {
    runtime::RunRequest req;
    if (!f->bundle.empty()) {
      // runc's form: `run --bundle DIR ID`.
      if (f->command.size() == 1 && f->id.empty()) {
        f->id = f->command[0];
        f->command.clear();
      }
      if (!f->rootfs.empty() || !f->volumes.empty() || !f->command.empty()) {
        return Fail(
            "--bundle runs the bundle's config.json exactly; --rootfs, --volume and a "
            "command cannot be combined with it");
      }
      req.bundle_dir = std::filesystem::absolute(f->bundle).string();
      req.spec = BRICK_TRY_VALUE(oci::LoadSpecFile(req.bundle_dir + "/config.json"));
    } else if (!f->profile.empty()) {
      if (!f->volumes.empty() || !f->secrets.empty()) {
        return Fail("--profile describes volumes and secrets itself; put them in {}", f->profile);
      }
      policy::Profile profile = BRICK_TRY_VALUE(policy::LoadProfile(f->profile));
      policy::CompileOptions co;
      co.rootfs = f->rootfs.empty() ? BRICK_TRY_VALUE(DefaultRootfs()) : f->rootfs;
      co.command = f->command;
      req.spec = BRICK_TRY_VALUE(policy::CompileProfile(profile, co));
      req.bundle_dir = std::filesystem::current_path().string();
    } else {
      req.spec = BRICK_TRY_VALUE(SpecFromFlags(*f));
      req.bundle_dir = std::filesystem::current_path().string();
    }
    if (f->seccomp_allow_unknown) {
      // Carried by the config, so that the profile is compiled the same way by `brick exec`.
      req.spec.annotations[seccomp::kAllowUnknownSyscallsAnnotation] = "true";
    }
    BRICK_TRY(CheckHostPolicy(req.spec));
    req.id = f->id.empty() ? runtime::GenerateContainerId() : f->id;
    if (f->preserve_fds < 0) {
      return Fail("--preserve-fds {}: must not be negative", f->preserve_fds);
    }
    if (f->detach && req.spec.process && req.spec.process->terminal && f->console_socket.empty()) {
      return Fail(
          "a detached container with a terminal needs --console-socket to receive its "
          "pty; pass --console-socket PATH, or leave out -t or --detach");
    }
    req.listen_fds = BRICK_TRY_VALUE(ListenFdsForBrick());
    BRICK_TRY(CheckPassedFds(req.listen_fds + f->preserve_fds,
                             fmt::format("--preserve-fds {}", f->preserve_fds)));
    req.preserve_fds = f->preserve_fds;
    req.state_root = Globals().root;
    req.pid_file = f->pid_file;
    req.console_socket = f->console_socket;
    req.learn_profile = f->learn;
    req.learn_merge = f->merge;
    req.events_log = f->events_log;
    if (f->detach) {
      req.detach = true;
      BRICK_TRY(runtime::RunContainer(req));
      BRICK_TRY(runtime::StartContainer({Globals().root}, req.id));
      return 0;
    }
    return runtime::RunContainer(req);
  };
}

}  // namespace brick::cli
