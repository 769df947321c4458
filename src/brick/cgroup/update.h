// A running container's cgroup, found by its id: read its usage, change its limits.
//
//   Options opts;                                      // /sys/fs/cgroup, parent "brick"
//   auto mgr = BRICK_TRY_VALUE(OpenContainerCgroup("web1", opts));
//   Stats s = BRICK_TRY_VALUE(mgr->ReadStats());
//
//   oci::Resources r;
//   r.pids = oci::PidsResources{.limit = 64};
//   BRICK_TRY(UpdateContainerResources("web1", r, opts));   // `brick update`
//
// Without a cgroups path both look up the cgroup brick gives a container without a
// linux.cgroupsPath: <parent>/<id> in every hierarchy. A container created with one is found
// by passing the linux.cgroupsPath it was created with (brick keeps it in its state):
//
//   auto mgr = BRICK_TRY_VALUE(OpenContainerCgroup("web1", state.cgroups_path, opts));
//
// The manager returned does not own the cgroup: letting it go changes nothing; the brick
// that runs the container (or `brick delete`) removes it.
#pragma once

#include <memory>
#include <string>

#include "brick/base/error.h"
#include "brick/cgroup/manager.h"
#include "brick/oci/spec.h"

namespace brick::cgroup {

// The manager of container `id`'s existing cgroup. A cgroup that exists in no hierarchy
// gives "container <id> does not exist" (errno ENOENT).
Result<std::unique_ptr<Manager>> OpenContainerCgroup(const std::string& id, const Options& options);
// The same on a given layout (tests describe a fake cgroupfs with one).
Result<std::unique_ptr<Manager>> OpenContainerCgroup(const Layout& layout, const std::string& id,
                                                     const Options& options);
// The cgroup of a container created with linux.cgroupsPath `cgroups_path` (resolved as
// ResolveCgroupsPath does; "" is <parent>/<id>).
Result<std::unique_ptr<Manager>> OpenContainerCgroup(const std::string& id,
                                                     const std::string& cgroups_path,
                                                     const Options& options);
Result<std::unique_ptr<Manager>> OpenContainerCgroup(const Layout& layout, const std::string& id,
                                                     const std::string& cgroups_path,
                                                     const Options& options);

// Live update: validates `resources` against the host, then writes the fields that are
// set (Manager::Update). Fields left unset keep their current values; nothing is written
// when validation fails.
Status UpdateContainerResources(const std::string& id, const oci::Resources& resources,
                                const Options& options);
Status UpdateContainerResources(const Layout& layout, const std::string& id,
                                const oci::Resources& resources, const Options& options);
// The same for a container created with linux.cgroupsPath `cgroups_path`.
Status UpdateContainerResources(const std::string& id, const std::string& cgroups_path,
                                const oci::Resources& resources, const Options& options);
Status UpdateContainerResources(const Layout& layout, const std::string& id,
                                const std::string& cgroups_path, const oci::Resources& resources,
                                const Options& options);

}  // namespace brick::cgroup
