// CleanupStale: see manager.h.
#include <fmt/format.h>

#include "brick/base/strings.h"
#include "brick/cgroup/manager.h"

namespace brick::cgroup {
namespace {

bool IsEmptyCgroup(CgroupFs& fs, const std::string& dir) {
  auto procs = fs.Read(dir + "/cgroup.procs");
  return procs && Trim(*procs).empty();
}

struct StaleRule {
  const std::function<bool(const std::string&)>& keep;
  std::chrono::seconds min_age;
  std::chrono::system_clock::time_point now;
};

bool OldEnough(CgroupFs& fs, const std::string& dir, const StaleRule& rule) {
  if (rule.min_age.count() <= 0) {
    return true;
  }
  auto mtime = fs.ModifiedTime(dir);
  // A clock that went backwards makes a cgroup look younger: it stays, which is safe.
  return mtime && rule.now - *mtime >= rule.min_age;
}

// Post-order walk: children first, so a container's cgroup goes before its parent.
void RemoveStaleBelow(CgroupFs& fs, const std::string& mount, const std::string& rel,
                      const StaleRule& rule, std::vector<std::string>* errors) {
  std::string dir = mount + rel;
  auto children = fs.ListChildren(dir);
  if (!children) {
    if (children.error().errnum() != ENOENT) {
      errors->push_back(children.error().message());
    }
    return;
  }
  for (const auto& child : *children) {
    std::string child_rel = rel + "/" + child;
    RemoveStaleBelow(fs, mount, child_rel, rule, errors);
    if (rule.keep && rule.keep(child_rel)) {
      continue;
    }
    std::string child_dir = mount + child_rel;
    if (!IsEmptyCgroup(fs, child_dir) || !OldEnough(fs, child_dir, rule)) {
      continue;
    }
    auto st = fs.Rmdir(child_dir);
    if (!st) {
      int err = st.error().errnum();
      // Processes or child cgroups arrived meanwhile: not stale.
      if (err != ENOENT && err != EBUSY && err != ENOTEMPTY) {
        errors->push_back(st.error().message());
      }
    }
  }
}

}  // namespace

Status CleanupStale(const Layout& layout, const Options& options,
                    const std::function<bool(const std::string& path)>& keep,
                    std::chrono::seconds min_age) {
  // Resolving any id gives the normalised parent, checked like every other path.
  CgroupPath probe = BRICK_TRY_VALUE(ResolveCgroupsPath("", "x", options));
  std::string parent = probe.brick_parent;
  CgroupFs& fs = options.Fs();
  StaleRule rule{keep, min_age, std::chrono::system_clock::now()};
  std::vector<std::string> errors;
  std::vector<const Hierarchy*> hierarchies;
  for (const auto& h : layout.v1) {
    hierarchies.push_back(&h);
  }
  if (layout.unified) {
    hierarchies.push_back(&*layout.unified);
  }
  for (const Hierarchy* h : hierarchies) {
    RemoveStaleBelow(fs, h->mount_point, parent, rule, &errors);
  }
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) {
      all += (all.empty() ? "" : "; ") + e;
    }
    return Fail("clean up stale cgroups below {}: {}", parent, all);
  }
  return Ok();
}

Status CleanupStale(const Options& options) {
  Layout layout = BRICK_TRY_VALUE(DetectLayout(options.fs_root));
  return CleanupStale(layout, options, {}, kStaleMinAge);
}

}  // namespace brick::cgroup
