#include "brick/cgroup/update.h"

#include <fmt/format.h>

#include <cerrno>

namespace brick::cgroup {

Result<std::unique_ptr<Manager>> OpenContainerCgroup(const Layout& layout, const std::string& id,
                                                     const std::string& cgroups_path,
                                                     const Options& options) {
  // A '/' would reach another container's cgroup or one nested below it.
  if (id.empty() || id.find('/') != std::string::npos) {
    return Fail("container id \"{}\": must be a non-empty name without '/'", id);
  }
  CgroupPath where = BRICK_TRY_VALUE(ResolveCgroupsPath(cgroups_path, id, options));
  auto manager = BRICK_TRY_VALUE(NewManager(layout, where, options));
  if (auto st = manager->AdoptExisting(); !st) {
    return std::unexpected(Error(fmt::format("container {} does not exist (no cgroup {} below {})",
                                             id, where.path, options.fs_root),
                                 ENOENT));
  }
  return manager;
}

Result<std::unique_ptr<Manager>> OpenContainerCgroup(const Layout& layout, const std::string& id,
                                                     const Options& options) {
  return OpenContainerCgroup(layout, id, "", options);
}

Result<std::unique_ptr<Manager>> OpenContainerCgroup(const std::string& id,
                                                     const std::string& cgroups_path,
                                                     const Options& options) {
  Layout layout = BRICK_TRY_VALUE(DetectLayout(options.fs_root));
  return OpenContainerCgroup(layout, id, cgroups_path, options);
}

Result<std::unique_ptr<Manager>> OpenContainerCgroup(const std::string& id,
                                                     const Options& options) {
  return OpenContainerCgroup(id, "", options);
}

Status UpdateContainerResources(const Layout& layout, const std::string& id,
                                const std::string& cgroups_path, const oci::Resources& resources,
                                const Options& options) {
  auto manager = BRICK_TRY_VALUE(OpenContainerCgroup(layout, id, cgroups_path, options));
  auto st = manager->Update(resources);
  if (!st) {
    return std::unexpected(std::move(st.error()).Wrap(fmt::format("update container {}", id)));
  }
  return Ok();
}

Status UpdateContainerResources(const Layout& layout, const std::string& id,
                                const oci::Resources& resources, const Options& options) {
  return UpdateContainerResources(layout, id, "", resources, options);
}

Status UpdateContainerResources(const std::string& id, const std::string& cgroups_path,
                                const oci::Resources& resources, const Options& options) {
  Layout layout = BRICK_TRY_VALUE(DetectLayout(options.fs_root));
  return UpdateContainerResources(layout, id, cgroups_path, resources, options);
}

Status UpdateContainerResources(const std::string& id, const oci::Resources& resources,
                                const Options& options) {
  return UpdateContainerResources(id, "", resources, options);
}

}  // namespace brick::cgroup
