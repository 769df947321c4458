// The process settings step: hostname and domainname, user ids and groups, umask,
// environment, working directory, oom_score_adj, and finding args[0].
//
//   // parent, validating everything before clone:
//   UtsPlan uts = BRICK_TRY_VALUE(PlanUts(spec.hostname, spec.domainname, has_new_uts));
//   IdsPlan ids = BRICK_TRY_VALUE(PlanIds(p.user));
//   ExecStrings env = BRICK_TRY_VALUE(ExecStrings::FromEnv(p.env));
//   ExecStrings argv = BRICK_TRY_VALUE(ExecStrings::FromArgs(p.args));
//   BRICK_TRY(CheckCwd(p.cwd));
//   BRICK_TRY(CheckOomScoreAdj(p.oom_score_adj));
//   // child:
//   BRICK_TRY(ApplyUts(sys, uts));
//   BRICK_TRY(ApplyOomScoreAdj(sys, proc_fd, p.oom_score_adj));    // before dropping caps
//   ... SwitchIdsKeepingCaps(sys, ids) (caps.h) ...
//   ApplyUmask(sys, UmaskOf(p.user));
//   BRICK_TRY(ApplyCwd(sys, root_fd, p.cwd));                       // root_fd: "/" after
//   pivot_root std::string exe = BRICK_TRY_VALUE(ResolveExecutable(root_fd, p.args[0], p.cwd,
//   env.Get("PATH"))); execve(exe.c_str(), argv.data(), env.data());
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "brick/base/error.h"
#include "brick/isolation/caps.h"
#include "brick/isolation/syscalls.h"
#include "brick/oci/spec.h"

namespace brick::isolation {

struct UtsPlan {
  std::optional<std::string> hostname;
  std::optional<std::string> domainname;
};

// Empty strings mean "leave as is". Setting either needs a new uts namespace, else it
// would rename the host. Names longer than 64 bytes are refused.
Result<UtsPlan> PlanUts(const std::string& hostname, const std::string& domainname,
                        bool new_uts_namespace);
Status ApplyUts(Syscalls& sys, const UtsPlan& plan);

// process.user as the ids to switch to (see SwitchIdsKeepingCaps in caps.h).
// Duplicate additional gids are dropped.
Result<IdsPlan> PlanIds(const oci::User& user, bool setgroups_allowed = true);

// process.user.umask, or 0022 when absent.
mode_t UmaskOf(const oci::User& user);
void ApplyUmask(Syscalls& sys, mode_t mask);

// A NULL-terminated char* array over owned strings, for execve. Move-only: the
// pointers stay valid across moves because the strings' storage does not move.
class ExecStrings {
 public:
  // process.env: every entry must be KEY=VALUE with a non-empty key and no NUL.
  static Result<ExecStrings> FromEnv(std::vector<std::string> env);
  // process.args: at least one entry, args[0] non-empty, no NUL.
  static Result<ExecStrings> FromArgs(std::vector<std::string> args);

  ExecStrings(ExecStrings&&) = default;
  ExecStrings& operator=(ExecStrings&&) = default;
  ExecStrings(const ExecStrings&) = delete;
  ExecStrings& operator=(const ExecStrings&) = delete;

  char* const* data() const { return pointers_.data(); }
  const std::vector<std::string>& entries() const { return entries_; }
  // For an environment: the value of the last KEY=..., or nullopt.
  std::optional<std::string_view> Get(std::string_view key) const;

 private:
  explicit ExecStrings(std::vector<std::string> entries);

  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

// process.cwd must be absolute.
Status CheckCwd(const std::string& cwd);
// Opens cwd anchored inside the container root (root_fd) and fchdir's to it, so a
// symlink or ".." in the rootfs cannot make the working directory a host directory.
Status ApplyCwd(Syscalls& sys, int root_fd, const std::string& cwd);

// process.oomScoreAdj must be within -1000..1000.
Status CheckOomScoreAdj(std::optional<int> adj);
// Writes self/oom_score_adj beneath a verified procfs fd (nothing when absent).
// Lowering it needs CAP_SYS_RESOURCE, so this runs before the capability drop.
Status ApplyOomScoreAdj(Syscalls& sys, int proc_fd, std::optional<int> adj);

// The default search path when the environment has no PATH.
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Finds the program of args[0] inside the container root, resolving every lookup
// anchored at root_fd. A name with a '/' is taken as a path (relative ones from cwd);
// otherwise each absolute PATH entry is tried. Returns the in-container path to
// execve. Errors: `process.args[0] "x": executable file not found in $PATH`, and for
// a path `...: no such file or directory` or `...: permission denied`.
Result<std::string> ResolveExecutable(int root_fd, std::string_view arg0, std::string_view cwd,
                                      std::optional<std::string_view> path_env);

}  // namespace brick::isolation
