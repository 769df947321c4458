// brick seccomp: explain, diff, learn and print profiles.
#include <fmt/core.h>
#include <sys/wait.h>

#include <memory>
#include <optional>

#include "brick/cli/cli.h"
#include "brick/oci/capabilities.h"
#include "brick/seccomp/default_profile.h"
#include "brick/seccomp/event_log.h"
#include "brick/seccomp/explain.h"
#include "brick/seccomp/filter.h"
#include "brick/seccomp/learn.h"
#include "brick/seccomp/profile_json.h"
#include "brick/sys/fs.h"

namespace brick::cli {
namespace {

struct SeccompFlags {
  // explain / diff / default
  std::string profile;
  std::string other;
  std::string syscall;
  std::vector<std::string> args;
  std::vector<std::string> cap_add;
  bool allow_unknown = false;
  bool markdown = false;
  // learn
  std::string output;
  std::string merge;
  std::string rootfs;
  std::string events;
  std::vector<std::string> command;
};

Result<seccomp::ProfileContext> Context(const SeccompFlags& f) {
  seccomp::ProfileContext ctx;
  ctx.granted_caps = BRICK_TRY_VALUE(oci::CapabilityMask(f.cap_add, "--cap-add"));
  return ctx;
}

struct Compiled {
  oci::Seccomp profile;
  seccomp::BpfProgram program;
};

Result<Compiled> LoadAndCompile(const std::string& path, const SeccompFlags& f) {
  seccomp::ProfileContext ctx = BRICK_TRY_VALUE(Context(f));
  seccomp::LoadedProfile loaded = BRICK_TRY_VALUE(seccomp::LoadProfileFile(path, ctx));
  seccomp::CompileOptions opts;
  opts.allow_unknown_syscalls = f.allow_unknown;
  auto program = seccomp::CompileFilter(loaded.profile, opts);
  if (!program) {
    return std::unexpected(std::move(program.error()).Wrap(path));
  }
  for (const std::string& w : loaded.warnings) {
    fmt::print(stderr, "brick: warning: {}\n", w);
  }
  for (const std::string& w : program->warnings) {
    fmt::print(stderr, "brick: warning: {}: {}\n", path, w);
  }
  return Compiled{std::move(loaded.profile), std::move(*program)};
}

Result<int> Explain(const SeccompFlags& f) {
  Compiled c = BRICK_TRY_VALUE(LoadAndCompile(f.profile, f));
  if (f.syscall.empty()) {
    fmt::print("{}", BRICK_TRY_VALUE(seccomp::SummarizeFilter(c.program, c.profile)));
    return 0;
  }
  std::vector<uint64_t> args;
  for (const std::string& a : f.args) {
    args.push_back(BRICK_TRY_VALUE(seccomp::ParseSyscallArg(a)));
  }
  auto verdicts = BRICK_TRY_VALUE(seccomp::ExplainSyscall(c.program, c.profile, f.syscall, args));
  std::string shown;
  for (size_t i = 0; i < f.args.size(); ++i) {
    shown += (i ? ", " : "") + f.args[i];
  }
  fmt::print("{}({}) under {}:\n", f.syscall, shown, f.profile);
  for (const auto& v : verdicts) {
    if (v.nr < 0) {
      fmt::print("  {:7} {}\n", v.arch, v.verdict);
    } else if (!v.via.empty()) {
      fmt::print("  {:7} nr {:<10} {} (through {}; the filter cannot see its arguments)\n", v.arch,
                 fmt::format("0x{:x}", v.nr), v.verdict, v.via);
    } else {
      fmt::print("  {:7} nr {:<10} {}\n", v.arch, fmt::format("0x{:x}", v.nr), v.verdict);
    }
  }
  return 0;
}

Result<int> Diff(const SeccompFlags& f) {
  Compiled a = BRICK_TRY_VALUE(LoadAndCompile(f.profile, f));
  Compiled b = BRICK_TRY_VALUE(LoadAndCompile(f.other, f));
  std::string out = BRICK_TRY_VALUE(seccomp::DiffFilters(a.program, b.program));
  fmt::print("--- {}\n+++ {}\n{}", f.profile, f.other, out);
  return out == "0 differences\n" ? 0 : 1;
}

Result<int> PrintDefault(const SeccompFlags& f) {
  if (!f.markdown) {
    seccomp::ProfileContext ctx = BRICK_TRY_VALUE(Context(f));
    fmt::print("{}\n", seccomp::SeccompToJson(seccomp::DefaultProfile(ctx.granted_caps), true));
    return 0;
  }
  fmt::print("| group | verdict | syscalls | why |\n|---|---|---|---|\n");
  for (const seccomp::ProfileGroup& g : seccomp::DefaultProfileGroups()) {
    std::string verdict;
    switch (g.verdict) {
      case seccomp::GroupVerdict::kAllow:
        verdict = "allow";
        break;
      case seccomp::GroupVerdict::kArgs:
        verdict = "allow some arguments, else EPERM";
        break;
      case seccomp::GroupVerdict::kEnosys:
        verdict = "ENOSYS";
        break;
      case seccomp::GroupVerdict::kDeny:
        verdict = g.cap.empty() ? "EPERM" : fmt::format("EPERM; allowed with {}", g.cap);
        break;
    }
    fmt::print("| {} | {} | {} | {} |\n", g.title, verdict, g.syscalls, g.reason);
  }
  return 0;
}

Result<int> Learn(const SeccompFlags& f) {
  seccomp::LearnOptions opts;
  opts.argv = f.command;
  opts.rootfs = f.rootfs;
  std::optional<seccomp::EventLog> log;
  if (!f.events.empty()) {
    log.emplace(BRICK_TRY_VALUE(seccomp::EventLog::Open(f.events)));
    opts.events = &*log;
  }
  seccomp::Observations seen;
  if (!f.merge.empty()) {
    std::string text = BRICK_TRY_VALUE(ReadFile(f.merge));
    auto existing = seccomp::ParseOciSeccomp(text);
    if (!existing) {
      return std::unexpected(std::move(existing.error()).Wrap("--merge " + f.merge));
    }
    auto observed = seccomp::ObservationsFromProfile(*existing);
    if (!observed) {
      return std::unexpected(std::move(observed.error()).Wrap("--merge " + f.merge));
    }
    seen = std::move(*observed);
  }
  seccomp::LearnResult run = BRICK_TRY_VALUE(seccomp::LearnSyscalls(opts));
  seen.Merge(run.observed);
  for (int nr : run.observed.unnamed) {
    fmt::print(stderr,
               "brick: warning: syscall {} has no name in libseccomp; the learned profile cannot "
               "allow it (it gets ENOSYS)\n",
               nr);
  }
  std::string json = seccomp::SeccompToJson(seccomp::ProfileFromObservations(seen), true) + "\n";
  if (f.output.empty() || f.output == "-") {
    fmt::print("{}", json);
  } else {
    BRICK_TRY(WriteFileAtomic(f.output, json, 0644), "-o " + f.output);
    fmt::print(stderr, "brick: {} syscalls observed ({} notifications); profile written to {}\n",
               run.observed.syscalls.size(), run.notifications, f.output);
  }
  int status = run.wait_status;
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : kErrorExit;
}

}  // namespace

Action RegisterSeccomp(CLI::App& app) {
  auto f = std::make_shared<SeccompFlags>();
  app.require_subcommand(1);

  CLI::App* explain = app.add_subcommand(
      "explain", "What a profile does to a syscall on each arch, or a summary of the profile");
  explain
      ->add_option("profile", f->profile,
                   "OCI linux.seccomp JSON, Docker seccomp JSON, or the word default")
      ->required();
  explain->add_option("syscall", f->syscall, "Syscall name, e.g. socket");
  explain->add_option("args", f->args,
                      "Arguments: numbers or constants (AF_PACKET, CLONE_NEWUSER)");
  explain->add_option("--cap-add", f->cap_add,
                      "Resolve capability-conditional rules as if CAP were granted");
  explain->add_flag("--allow-unknown", f->allow_unknown,
                    "Warn about unknown syscall names instead of failing");

  CLI::App* diff = app.add_subcommand("diff", "Where two profiles disagree (exit 1 if they do)");
  diff->add_option("a", f->profile, "First profile (file or default)")->required();
  diff->add_option("b", f->other, "Second profile (file or default)")->required();
  diff->add_option("--cap-add", f->cap_add, "Capabilities for Docker and default profiles");
  diff->add_flag("--allow-unknown", f->allow_unknown,
                 "Warn about unknown syscall names instead of failing");

  CLI::App* learn = app.add_subcommand(
      "learn", "Run CMD under a recording filter and write the allow-list it needs");
  learn->add_option("-o,--output", f->output, "Write the profile here (default: stdout)");
  learn->add_option("--merge", f->merge, "Start from a profile an earlier learn run wrote");
  learn->add_option("--rootfs", f->rootfs, "chroot into DIR before running CMD");
  learn->add_option("--events", f->events, "Append each observed syscall to this JSON-lines log");
  learn->add_option("command", f->command, "Command and arguments, after --")->required();
  learn->positionals_at_end();

  CLI::App* def = app.add_subcommand("default", "Print brick's default profile");
  def->add_option("--cap-add", f->cap_add, "The profile for a container granted CAP");
  def->add_flag("--markdown", f->markdown, "Print the rule table of docs/seccomp.md instead");

  return [f, explain, diff, learn, def]() -> Result<int> {
    if (explain->parsed()) {
      return Explain(*f);
    }
    if (diff->parsed()) {
      return Diff(*f);
    }
    if (learn->parsed()) {
      return Learn(*f);
    }
    if (def->parsed()) {
      return PrintDefault(*f);
    }
    return Fail("brick seccomp: name a subcommand: explain, diff, learn or default");
  };
}

}  // namespace brick::cli
