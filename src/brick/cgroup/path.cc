#include "brick/cgroup/path.h"

#include <algorithm>

#include "brick/base/strings.h"

namespace brick::cgroup {
namespace {

// Splits into components, dropping empty and "." ones; fails on "..".
Result<std::vector<std::string>> Components(std::string_view path, std::string_view what) {
  std::vector<std::string> out;
  for (auto& c : Split(path, '/')) {
    if (c.empty() || c == ".") {
      continue;
    }
    if (c == "..") {
      return Fail(
          "{} \"{}\": \"..\" components are not allowed; a cgroup path may not climb "
          "out of its parent",
          what, path);
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

Result<CgroupPath> ResolveCgroupsPath(const std::string& oci_cgroups_path,
                                      const std::string& container_id, const Options& options) {
  const std::string& p = oci_cgroups_path;
  if (container_id.empty() || container_id == "." || container_id == ".." ||
      container_id.find('/') != std::string::npos || container_id.find('\0') != std::string::npos) {
    return Fail("container id \"{}\" cannot name a cgroup; use letters, digits, '-', '_' or '.'",
                container_id);
  }
  if (options.parent.find('\0') != std::string::npos) {
    return Fail("cgroup parent contains a NUL byte");
  }
  auto parent_parts = Components(options.parent, "cgroup parent");
  if (!parent_parts) {
    return std::unexpected(std::move(parent_parts.error()));
  }
  if (parent_parts->empty()) {
    return Fail(
        "cgroup parent \"{}\" is the hierarchy root; brick needs a subtree of its own "
        "such as \"brick\"",
        options.parent);
  }
  std::string parent = Join(*parent_parts);
  if (p.find('\0') != std::string::npos) {
    return Fail("linux.cgroupsPath contains a NUL byte");
  }
  if (!p.empty() && p[0] != '/' && std::count(p.begin(), p.end(), ':') == 2) {
    return Fail(
        "linux.cgroupsPath \"{}\": the systemd cgroup driver is not supported yet; use a "
        "path such as {}/{}",
        p, parent, container_id);
  }
  auto parts = Components(p, "linux.cgroupsPath");
  if (!parts) {
    return std::unexpected(std::move(parts.error()));
  }
  CgroupPath out;
  if (p.empty()) {
    out.path = parent + "/" + container_id;
  } else if (p[0] == '/') {
    if (parts->empty()) {
      return Fail(
          "linux.cgroupsPath \"{}\" is the hierarchy root; the container needs a cgroup "
          "of its own such as {}/{}",
          p, parent, container_id);
    }
    out.path = Join(*parts);
  } else {
    if (parts->empty()) {
      return Fail("linux.cgroupsPath \"{}\" names no cgroup; leave it empty for {}/{}", p, parent,
                  container_id);
    }
    out.path = parent + Join(*parts);
  }
  if (out.path.starts_with(parent + "/")) {
    out.brick_parent = parent;
  }
  return out;
}

}  // namespace brick::cgroup
