// Test helper: a fake cgroupfs on a temporary directory, standing in for the kernel.
//
//   FakeCgroupFs fake = FakeCgroupFs::V1();   // or V2(), Hybrid()
//   Layout layout = *DetectLayoutFromMounts(fake.mounts(), fake.root(), *fake.fs());
//   ... run a manager with Options{.fs_root = fake.root(), .fs = fake.fs()} ...
//   EXPECT_THAT(fake.fs()->writes(), ...);   // {"memory/brick/c1/memory.limit_in_bytes", "..."}
//
// A new directory gets the interface files of its hierarchy (a v2 one those of the
// controllers its parent enables); rmdir removes them first; every write is recorded
// with its path relative to the root; device programs are recorded instead of loaded.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "brick/base/strings.h"
#include "brick/cgroup/cgroup_fs.h"
#include "brick/cgroup/layout.h"
#include "brick/sys/fs.h"

namespace brick::cgroup::testing {

using Files = std::map<std::string, std::string>;  // name -> initial content

class RecordingFs : public KernelCgroupFs {
 public:
  explicit RecordingFs(std::string root) : root_(std::move(root)) {}

  // Interface files a new directory below `mount` gets; for the unified mount, keyed by
  // controller ("" = core files).
  std::map<std::string, Files> v1_files;  // mount name -> files
  std::map<std::string, Files> v2_files;  // controller -> files
  std::string unified_mount;  // mount name of the cgroup2 hierarchy ("" = the root itself)
  bool has_unified = false;

  std::vector<std::pair<std::string, std::string>> writes;  // relative path, value
  std::vector<std::string> mkdirs, rmdirs;                  // relative paths
  std::vector<std::pair<std::string, std::vector<oci::DeviceCgroupRule>>> programs;
  std::vector<std::string> detached;
  std::vector<pid_t> killed;

  std::string Rel(const std::string& path) const {
    return path.starts_with(root_ + "/") ? path.substr(root_.size() + 1) : path;
  }

  Status Mkdir(const std::string& dir) override {
    BRICK_TRY(KernelCgroupFs::Mkdir(dir));
    std::string rel = Rel(dir);
    mkdirs.push_back(rel);
    std::string mount = rel.substr(0, rel.find('/'));
    Files files;
    if (has_unified && (unified_mount.empty() || mount == unified_mount)) {
      files = v2_files[""];
      std::string parent = dir.substr(0, dir.rfind('/'));
      auto enabled = ReadFile(parent + "/cgroup.subtree_control");
      std::string ctl;
      for (const auto& c : Split(Trim(enabled.value_or("")), ' ')) {
        if (c.empty()) {
          continue;
        }
        ctl += (ctl.empty() ? "" : " ") + c;
        for (const auto& [n, v] : v2_files[c]) {
          files[n] = v;
        }
      }
      files["cgroup.controllers"] = ctl;
    } else {
      files = v1_files[mount];
    }
    for (const auto& [name, content] : files) {
      std::string p = dir + "/" + name;
      BRICK_TRY(WriteFileAtomic(p, content, 0644));
    }
    return Ok();
  }

  Status Rmdir(const std::string& dir) override {
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) {
      for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.is_directory()) {
          return ErrnoFail(EBUSY, "rmdir {}", dir);  // a child cgroup
        }
      }
      auto procs = ReadFile(dir + "/cgroup.procs");
      if (procs && !Trim(*procs).empty()) {
        return ErrnoFail(EBUSY, "rmdir {}", dir);
      }
      for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        std::filesystem::remove(e.path(), ec);
      }
    }
    BRICK_TRY(KernelCgroupFs::Rmdir(dir));
    rmdirs.push_back(Rel(dir));
    return Ok();
  }

  Status Write(const std::string& file, std::string_view value) override {
    writes.emplace_back(Rel(file), std::string(value));
    if (!Exists(file)) {
      return ErrnoFail(ENOENT, "open {} for writing", file);
    }
    std::string data(value);
    if (file.ends_with("/cgroup.subtree_control")) {
      // The kernel merges "+a -b" into the enabled set.
      std::set<std::string> on;
      for (const auto& c : Split(Trim(ReadFile(file).value_or("")), ' ')) {
        if (!c.empty()) {
          on.insert(c);
        }
      }
      for (const auto& c : Split(value, ' ')) {
        if (c.size() > 1 && c[0] == '+') {
          on.insert(c.substr(1));
        } else if (c.size() > 1 && c[0] == '-') {
          on.erase(c.substr(1));
        }
      }
      data.clear();
      for (const auto& c : on) {
        data += (data.empty() ? "" : " ") + c;
      }
    }
    if (file.ends_with("/cgroup.freeze")) {
      std::string dir = file.substr(0, file.rfind('/'));
      BRICK_TRY(WriteFile(dir + "/cgroup.events",
                          fmt::format("populated 0\nfrozen {}\n", value == "1" ? 1 : 0)));
    }
    if (file.ends_with("/cgroup.kill")) {
      std::string dir = file.substr(0, file.rfind('/'));
      BRICK_TRY(WriteFile(dir + "/cgroup.procs", ""));
    }
    return WriteFile(file, data);
  }

  Result<UniqueFd> ReplaceDeviceProgram(const std::string& dir,
                                        const DeviceProgram& program) override {
    programs.emplace_back(Rel(dir), program.rules);
    return UniqueFd(dup(0));  // any open fd stands for the attachment
  }
  Status DetachDeviceProgram(const std::string& dir, int) override {
    detached.push_back(Rel(dir));
    return Ok();
  }
  // Records the kill and takes the pid out of every cgroup.procs below the root, as its
  // death would.
  Status Kill(pid_t pid, int) override {
    killed.push_back(pid);
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root_, ec)) {
      if (e.path().filename() != "cgroup.procs") {
        continue;
      }
      std::string out;
      for (const auto& line : Split(ReadFile(e.path()).value_or(""), '\n')) {
        if (!Trim(line).empty() && Trim(line) != std::to_string(pid)) {
          out += std::string(Trim(line)) + "\n";
        }
      }
      (void)WriteFile(e.path(), out);
    }
    return Ok();
  }

  // Writes that touched files below `prefix` (relative), in order.
  std::vector<std::pair<std::string, std::string>> WritesUnder(const std::string& prefix) const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& w : writes) {
      if (w.first.starts_with(prefix)) {
        out.push_back(w);
      }
    }
    return out;
  }

 private:
  std::string root_;
};

// A temporary directory holding the fake hierarchies; removed with everything in it.
class FakeCgroupRoot {
 public:
  FakeCgroupRoot() {
    std::string tmpl = std::filesystem::temp_directory_path() / "brick-cgfake-XXXXXX";
    root_ = mkdtemp(tmpl.data());
    fs_ = std::make_shared<RecordingFs>(root_);
  }
  ~FakeCgroupRoot() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeCgroupRoot(const FakeCgroupRoot&) = delete;
  FakeCgroupRoot& operator=(const FakeCgroupRoot&) = delete;

  const std::string& root() const { return root_; }
  std::shared_ptr<RecordingFs> fs() const { return fs_; }
  const std::vector<MountEntry>& mounts() const { return mounts_; }

  // A v1 hierarchy named `name` ("cpu,cpuacct"), with root files and per-cgroup files.
  void AddV1(const std::string& name, const Files& root_files, const Files& cgroup_files) {
    std::filesystem::create_directories(root_ + "/" + name);
    for (const auto& [n, v] : root_files) {
      (void)WriteFileAtomic(root_ + "/" + name + "/" + n, v, 0644);
    }
    (void)WriteFileAtomic(root_ + "/" + name + "/cgroup.procs", "", 0644);
    Files files = cgroup_files;
    files["cgroup.procs"] = "";
    files["tasks"] = "";
    fs_->v1_files[name] = files;
    mounts_.push_back({root_ + "/" + name, "cgroup", "rw," + name});
  }

  // The cgroup2 hierarchy at `name` ("" = at the root itself) offering `controllers`,
  // all enabled in the root's subtree_control as systemd does.
  void AddV2(const std::string& name, const std::string& controllers) {
    std::string dir = name.empty() ? root_ : root_ + "/" + name;
    std::filesystem::create_directories(dir);
    (void)WriteFileAtomic(dir + "/cgroup.controllers", controllers, 0644);
    (void)WriteFileAtomic(dir + "/cgroup.subtree_control", controllers, 0644);
    (void)WriteFileAtomic(dir + "/cgroup.procs", "", 0644);
    fs_->unified_mount = name;
    fs_->has_unified = true;
    fs_->v2_files[""] = {{"cgroup.procs", ""},
                         {"cgroup.subtree_control", ""},
                         {"cgroup.events", "populated 0\nfrozen 0\n"},
                         {"cgroup.freeze", "0"},
                         {"cgroup.kill", ""},
                         {"cgroup.max.depth", "max"},
                         {"cgroup.max.descendants", "max"},
                         {"cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"}};
    fs_->v2_files["memory"] = {{"memory.max", "max"},
                               {"memory.low", "0"},
                               {"memory.high", "max"},
                               {"memory.swap.max", "max"},
                               {"memory.current", "0"},
                               {"memory.peak", "0"},
                               {"memory.swap.current", "0"},
                               {"memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n"}};
    fs_->v2_files["cpu"] = {{"cpu.weight", "100"},
                            {"cpu.max", "max 100000"},
                            {"cpu.max.burst", "0"},
                            {"cpu.idle", "0"}};
    fs_->v2_files["cpuset"] = {{"cpuset.cpus", ""}, {"cpuset.mems", ""}};
    fs_->v2_files["io"] = {{"io.max", ""}, {"io.weight", "default 100"}, {"io.stat", ""}};
    fs_->v2_files["pids"] = {{"pids.max", "max"}, {"pids.current", "0"}};
    fs_->v2_files["hugetlb"] = {{"hugetlb.2MB.max", "max"}};
    fs_->v2_files["rdma"] = {{"rdma.max", ""}};
    mounts_.push_back({dir, "cgroup2", "rw"});
  }

  // The usual v1 controllers with the files a kernel shows.
  void AddAllV1() {
    const std::string unlimited = "9223372036854771712";
    AddV1("memory", {{"memory.memsw.limit_in_bytes", unlimited}},
          {{"memory.limit_in_bytes", unlimited},
           {"memory.memsw.limit_in_bytes", unlimited},
           {"memory.soft_limit_in_bytes", unlimited},
           {"memory.swappiness", "60"},
           {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"},
           {"memory.usage_in_bytes", "0"},
           {"memory.max_usage_in_bytes", "0"},
           {"memory.failcnt", "0"},
           {"memory.memsw.usage_in_bytes", "0"},
           {"memory.kmem.limit_in_bytes", unlimited},
           {"memory.kmem.tcp.limit_in_bytes", unlimited},
           {"memory.use_hierarchy", "1"}});
    AddV1("cpu,cpuacct", {},
          {{"cpu.shares", "1024"},
           {"cpu.cfs_period_us", "100000"},
           {"cpu.cfs_quota_us", "-1"},
           {"cpu.cfs_burst_us", "0"},
           {"cpu.rt_period_us", "1000000"},
           {"cpu.rt_runtime_us", "0"},
           {"cpu.idle", "0"},
           {"cpu.stat", "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"},
           {"cpuacct.usage", "0"},
           {"cpuacct.usage_user", "0"},
           {"cpuacct.usage_sys", "0"}});
    AddV1("cpuset", {{"cpuset.cpus", "0-3"}, {"cpuset.mems", "0"}},
          {{"cpuset.cpus", ""}, {"cpuset.mems", ""}});
    AddV1("pids", {}, {{"pids.max", "max"}, {"pids.current", "0"}});
    AddV1("blkio", {},
          {{"blkio.bfq.weight", "100"},
           {"blkio.bfq.weight_device", ""},
           {"blkio.throttle.read_bps_device", ""},
           {"blkio.throttle.write_bps_device", ""},
           {"blkio.throttle.read_iops_device", ""},
           {"blkio.throttle.write_iops_device", ""},
           {"blkio.throttle.io_service_bytes", ""},
           {"blkio.throttle.io_serviced", ""}});
    AddV1("devices", {}, {{"devices.allow", ""}, {"devices.deny", ""}, {"devices.list", ""}});
    AddV1("freezer", {}, {{"freezer.state", "THAWED"}});
    AddV1("hugetlb", {}, {{"hugetlb.2MB.limit_in_bytes", unlimited}});
    AddV1("net_cls,net_prio", {}, {{"net_cls.classid", "0"}, {"net_prio.ifpriomap", ""}});
    AddV1("rdma", {}, {{"rdma.max", ""}});
  }

 private:
  std::string root_;
  std::shared_ptr<RecordingFs> fs_;
  std::vector<MountEntry> mounts_;
};

}  // namespace brick::cgroup::testing
