#include "brick/cgroup/layout.h"

#include <algorithm>
#include <array>

#include "brick/base/strings.h"
#include "brick/sys/fs.h"

namespace brick::cgroup {
namespace {

constexpr std::array<std::string_view, 15> kV1Controllers = {
    "cpu",   "cpuacct",    "cpuset",  "memory", "devices", "freezer", "net_cls", "net_prio",
    "blkio", "perf_event", "hugetlb", "pids",   "rdma",    "misc",    "debug"};

std::string DecodeMountField(std::string_view s) {
  auto oct = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && oct(s[i + 1]) && oct(s[i + 2]) && oct(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
      continue;
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string StripSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

}  // namespace

const char* VersionName(Version v) {
  switch (v) {
    case Version::kV1:
      return "v1";
    case Version::kV2:
      return "v2";
    case Version::kHybrid:
      return "hybrid";
  }
  return "?";
}

bool Hierarchy::Has(std::string_view controller) const {
  return std::find(controllers.begin(), controllers.end(), controller) != controllers.end();
}

std::string Hierarchy::ControllersField() const {
  if (unified) {
    return "";
  }
  std::string out;
  for (const auto& c : controllers) {
    if (!out.empty()) {
      out += ',';
    }
    out += c;
  }
  return out;
}

const Hierarchy* Layout::FindV1(std::string_view controller) const {
  for (const auto& h : v1) {
    if (h.Has(controller)) {
      return &h;
    }
  }
  return nullptr;
}

Result<std::vector<MountEntry>> ParseMountInfo(std::string_view text) {
  std::vector<MountEntry> out;
  size_t line_no = 0;
  for (const auto& line : Split(text, '\n')) {
    ++line_no;
    if (Trim(line).empty()) {
      continue;
    }
    auto fields = Split(line, ' ');
    // id parent major:minor root mount-point options [optional...] - type source super
    auto sep = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 7 || sep == fields.end() || fields.end() - sep < 4) {
      return Fail("mountinfo line {}: unexpected format \"{}\"", line_no, line);
    }
    MountEntry e;
    e.mount_point = DecodeMountField(fields[4]);
    e.fs_type = *(sep + 1);
    e.super_options = *(sep + 3);
    out.push_back(std::move(e));
  }
  return out;
}

Result<Layout> DetectLayoutFromMounts(const std::vector<MountEntry>& mounts,
                                      const std::string& fs_root_in, CgroupFs& fs) {
  Layout layout;
  layout.fs_root = StripSlashes(fs_root_in);
  const std::string& root = layout.fs_root;
  for (const auto& m : mounts) {
    std::string mp = StripSlashes(m.mount_point);
    bool at_root = mp == root;
    bool below_root = mp.size() > root.size() + 1 && mp.starts_with(root + "/") &&
                      mp.find('/', root.size() + 1) == std::string::npos;
    if (!at_root && !below_root) {
      continue;
    }
    if (m.fs_type == "cgroup2") {
      if (layout.unified) {
        continue;  // the same hierarchy mounted twice
      }
      Hierarchy h;
      h.mount_point = mp;
      h.unified = true;
      auto text = fs.Read(mp + "/cgroup.controllers");
      if (!text) {
        return std::unexpected(std::move(text.error()).Wrap("detect cgroup layout"));
      }
      for (const auto& c : Split(Trim(*text), ' ')) {
        if (!c.empty()) {
          h.controllers.push_back(c);
        }
      }
      layout.unified = std::move(h);
    } else if (m.fs_type == "cgroup") {
      Hierarchy h;
      h.mount_point = mp;
      for (const auto& opt : Split(m.super_options, ',')) {
        bool known =
            std::find(kV1Controllers.begin(), kV1Controllers.end(), opt) != kV1Controllers.end();
        if (known || opt.starts_with("name=")) {
          h.controllers.push_back(opt);
        }
      }
      if (h.controllers.empty()) {
        continue;
      }
      bool dup = std::any_of(layout.v1.begin(), layout.v1.end(),
                             [&](const Hierarchy& o) { return o.controllers == h.controllers; });
      if (!dup) {
        layout.v1.push_back(std::move(h));
      }
    }
  }
  if (layout.v1.empty() && !layout.unified) {
    return Fail("no cgroup hierarchy is mounted at or below {}; mount cgroup2 there", root);
  }
  if (layout.v1.empty()) {
    layout.version = Version::kV2;
  } else if (!layout.unified) {
    layout.version = Version::kV1;
  } else {
    layout.version = Version::kHybrid;
  }
  return layout;
}

Result<Layout> DetectLayout(const std::string& fs_root) {
  auto text = ReadFile("/proc/self/mountinfo");
  if (!text) {
    return std::unexpected(std::move(text.error()).Wrap("detect cgroup layout"));
  }
  auto mounts = BRICK_TRY_VALUE(ParseMountInfo(*text));
  return DetectLayoutFromMounts(mounts, fs_root, KernelCgroupFs::Get());
}

}  // namespace brick::cgroup
