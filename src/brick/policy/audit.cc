#include "brick/policy/audit.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "brick/base/strings.h"
#include "brick/policy/profile.h"
#include "brick/runtime/container.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

Result<oci::Spec> LoadConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap("read " + path));
  }
  // The audit inspects configs other runtimes accept, so it does not refuse what brick's own
  // validation would; type errors are still errors.
  auto spec = oci::ParseSpecUnvalidated(*text);
  if (!spec) {
    return std::unexpected(std::move(spec.error()).Wrap(path));
  }
  return spec;
}

void AddRules(Report& r, const ContainerView& v) {
  for (auto& f : EvaluateRules(v)) {
    r.findings.push_back(std::move(f));
  }
  for (const auto& n : v.notes) {
    r.notes.push_back(n);
  }
}

void AddDrift(Report& r, const ContainerView& claimed, const ContainerView& running) {
  auto drift = CompareViews(claimed, running);
  if (drift.empty()) {
    r.findings.push_back({&DriftRule(), Outcome::kPass, "the running process matches its config"});
  }
  for (auto& d : drift) {
    r.findings.push_back(std::move(d));
  }
}

Result<Report> AuditProcess(pid_t pid, const std::string& config, const std::string& target,
                            const AuditOptions& o) {
  Report r;
  r.target = target;
  r.kind = "process";
  ContainerView running = BRICK_TRY_VALUE(ViewFromProcess(pid, o.proc, o.host));
  if (config.empty()) {
    AddRules(r, running);
    r.notes.push_back("no config given: drift between config and process not checked "
                      "(pass --config FILE)");
    return r;
  }
  oci::Spec spec = BRICK_TRY_VALUE(LoadConfig(config));
  ContainerView claimed = ViewFromSpec(spec, o.host);
  // The process is the truth; the config fills in what /proc cannot show (the seccomp
  // profile), but only when /proc agrees that a filter is on.
  if (running.seccomp_enabled.value_or(false) && claimed.seccomp_profile) {
    running.seccomp_profile = claimed.seccomp_profile;
    r.notes.push_back("seccomp strength judged from the config's profile; /proc shows only that "
                      "a filter is installed");
  }
  AddRules(r, running);
  AddDrift(r, claimed, running);
  return r;
}

}  // namespace

Result<Report> AuditTarget(const std::string& target, const AuditOptions& o) {
  if (target.starts_with("pid:")) {
    auto pid = ParseU64(target.substr(4));
    if (!pid || *pid == 0 || *pid > 0x3fffffff) {
      return Fail("check {}: expected pid:N with N a process id", target);
    }
    return AuditProcess(static_cast<pid_t>(*pid), o.config, target, o);
  }
  struct stat st;
  if (stat(target.c_str(), &st) == 0) {
    Report r;
    r.target = target;
    if (S_ISDIR(st.st_mode)) {
      r.kind = "bundle";
      oci::Spec spec = BRICK_TRY_VALUE(LoadConfig(target + "/config.json"));
      AddRules(r, ViewFromSpec(spec, o.host));
      return r;
    }
    if (target.ends_with(".toml")) {
      r.kind = "profile";
      // An unsafe profile loads (and is flagged); any other error is the profile's.
      Profile p = BRICK_TRY_VALUE(LoadProfile(target));
      oci::Spec spec = BRICK_TRY_VALUE(CompileProfile(p, {}));
      ContainerView v = ViewFromSpec(spec, o.host);
      v.source = ViewSource::kProfile;
      v.declared_unsafe = p.unsafe.value_or(false);
      AddRules(r, v);
      return r;
    }
    r.kind = "config";
    oci::Spec spec = BRICK_TRY_VALUE(LoadConfig(target));
    AddRules(r, ViewFromSpec(spec, o.host));
    return r;
  }
  if (target.find('/') != std::string::npos) {
    return ErrnoFail(errno, "check {}", target);
  }
  if (!runtime::ValidateContainerId(target)) {
    return Fail("check {}: not a file, a bundle directory, pid:N or a container id", target);
  }
  std::string state_path = o.state_root + "/" + target + "/state.json";
  auto text = ReadFile(state_path);
  if (!text) {
    if (text.error().errnum() == ENOENT) {
      return Fail("check {}: no such file, and no container {} either ({} does not exist); "
                  "for a container started by another engine, pass pid:N and --config",
                  target, target, state_path);
    }
    return std::unexpected(std::move(text.error()).Wrap("read " + state_path));
  }
  nlohmann::json state = nlohmann::json::parse(*text, nullptr, false);
  if (state.is_discarded() || !state.is_object() || !state.contains("pid") ||
      !state["pid"].is_number_integer() || !state.contains("bundle") ||
      !state["bundle"].is_string()) {
    return Fail("{}: not an OCI state document with integer pid and string bundle", state_path);
  }
  std::string status = state.value("status", "");
  if (status != "running" && status != "created" && status != "paused") {
    return Fail("check {}: container {} is {}; only a live container can be checked (check its "
                "bundle {} instead)",
                target, target, status.empty() ? "in an unknown state" : status,
                state["bundle"].get<std::string>());
  }
  Report r = BRICK_TRY_VALUE(AuditProcess(static_cast<pid_t>(state["pid"].get<int64_t>()),
                                          state["bundle"].get<std::string>() + "/config.json",
                                          target, o));
  r.kind = "container";
  return r;
}

}  // namespace brick::policy
