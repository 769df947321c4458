// `brick check TARGET` as a library call: find out what TARGET is, build its views, run the
// rules, and report drift between a config and the running process.
//
//   Report r = BRICK_TRY_VALUE(AuditTarget("pid:4242", {.config = "bundle/config.json"}));
//
// TARGET is a profile (*.toml), an OCI config.json, a bundle directory, "pid:N" for a running
// process (a podman, containerd or brick container's init), or a brick container id whose
// state is <state_root>/<id>/state.json ({"id","pid","bundle","status"}, OCI state).
#pragma once

#include <string>

#include "brick/base/error.h"
#include "brick/policy/container_view.h"
#include "brick/policy/proc_view.h"
#include "brick/policy/report.h"

namespace brick::policy {

struct AuditOptions {
  std::string config;  // with pid:N, the config the container claims to run (for drift)
  std::string state_root = "/run/brick";
  HostFacts host = DetectHostFacts();
  ProcPaths proc;
};

Result<Report> AuditTarget(const std::string& target, const AuditOptions& options);

}  // namespace brick::policy
