#include "brick/cgroup/manager.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "brick/base/strings.h"
#include "brick/cgroup/plan.h"

namespace brick::cgroup {
namespace {

// Bounded waits for the kernel: freezing, and processes leaving after SIGKILL.
constexpr int kWaitRounds = 1000;
constexpr long kWaitStepNs = 5 * 1000 * 1000;  // 5 ms, so about 5 s in all

// BRICK_TRY's context is a string_view, so a formatted context must outlive the macro.
Status WithContext(Status st, const std::string& context) {
  if (!st) {
    return std::unexpected(std::move(st.error()).Wrap(context));
  }
  return Ok();
}

void SleepStep() {
  timespec ts{0, kWaitStepNs};
  nanosleep(&ts, nullptr);
}

// The v2 name of a v1 controller name and back.
std::string V2Name(std::string_view v1) { return v1 == "blkio" ? "io" : std::string(v1); }
std::string V1Name(std::string_view v2) { return v2 == "io" ? "blkio" : std::string(v2); }

// "/a/b/c" -> {"/a", "/a/b", "/a/b/c"}.
std::vector<std::string> Prefixes(const std::string& path) {
  std::vector<std::string> out;
  for (size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
    out.push_back(path.substr(0, pos));
    if (pos == std::string::npos) {
      break;
    }
  }
  return out;
}

std::string Parent(const std::string& rel) {
  size_t pos = rel.rfind('/');
  return pos == 0 || pos == std::string::npos ? "" : rel.substr(0, pos);
}

// Writable core files of cgroup v2 and, per controller, the writable interface files the
// kernel documents (Documentation/admin-guide/cgroup-v2.rst); used to check unified keys
// when no cgroup below the hierarchy root exists yet to look at.
bool KnownUnifiedFile(std::string_view key) {
  static const std::set<std::string, std::less<>> kFiles = {"cgroup.max.depth",
                                                            "cgroup.max.descendants",
                                                            "cgroup.pressure",
                                                            "cpu.weight",
                                                            "cpu.weight.nice",
                                                            "cpu.max",
                                                            "cpu.max.burst",
                                                            "cpu.idle",
                                                            "cpu.uclamp.min",
                                                            "cpu.uclamp.max",
                                                            "cpu.pressure",
                                                            "memory.min",
                                                            "memory.low",
                                                            "memory.high",
                                                            "memory.max",
                                                            "memory.oom.group",
                                                            "memory.swap.high",
                                                            "memory.swap.max",
                                                            "memory.zswap.max",
                                                            "memory.zswap.writeback",
                                                            "memory.reclaim",
                                                            "memory.pressure",
                                                            "io.weight",
                                                            "io.bfq.weight",
                                                            "io.max",
                                                            "io.latency",
                                                            "io.prio.class",
                                                            "io.pressure",
                                                            "pids.max",
                                                            "cpuset.cpus",
                                                            "cpuset.mems",
                                                            "cpuset.cpus.exclusive",
                                                            "cpuset.cpus.partition",
                                                            "rdma.max",
                                                            "misc.max"};
  if (kFiles.contains(key)) {
    return true;
  }
  // hugetlb.<size>.max and hugetlb.<size>.rsvd.max
  return key.starts_with("hugetlb.") && key.ends_with(".max");
}

class HierarchyManager : public Manager {
 public:
  HierarchyManager(Version version, const Layout& layout, const CgroupPath& path,
                   const Options& options)
      : version_(version), layout_(layout), path_(path), options_(options), fs_(options.Fs()) {
    if (version != Version::kV2) {
      for (const auto& h : layout_.v1) {
        targets_.push_back(Target{&h, h.mount_point + path_.path, {}});
      }
    }
    if (version != Version::kV1 && layout_.unified) {
      targets_.push_back(Target{&*layout_.unified, layout_.unified->mount_point + path_.path, {}});
    }
  }
  ~HierarchyManager() override = default;

  Version version() const override { return version_; }
  const CgroupPath& path() const override { return path_; }

  Status Validate(const oci::Resources& r) const override {
    Placement p = ComputePlacement();
    Plan plan = BRICK_TRY_VALUE(BuildPlan(r, p));
    ProbeCache cache;  // one stat per path, however many writes go to the same cgroup
    for (const auto& step : plan.steps) {
      if (const auto* w = std::get_if<FileWrite>(&step)) {
        BRICK_TRY(ProbeWrite(*w, p, cache));
      } else if (const auto* m = std::get_if<V1MemoryLimits>(&step)) {
        const Target* t = FindTarget("memory");
        if (m->memsw && t && !fs_.Exists(t->h->mount_point + "/memory.memsw.limit_in_bytes")) {
          return Fail(
              "linux.resources.memory.swap: swap accounting is off on this host ({} has "
              "no memory.memsw.limit_in_bytes); boot with swapaccount=1 or remove the "
              "field",
              t->h->mount_point);
        }
      }
    }
    return Ok();
  }

  Status Create() override {
    // A concurrent Destroy of a sibling may remove a shared parent between our mkdirs;
    // start over a few times when that happens.
    for (int attempt = 0;; ++attempt) {
      auto st = CreateOnce();
      if (st || st.error().errnum() != ENOENT || attempt == 4) {
        if (!st) {
          RemoveCreated();
          return std::unexpected(
              std::move(st.error()).Wrap(fmt::format("create cgroup {}", path_.path)));
        }
        return Ok();
      }
      RemoveCreated();
    }
  }

  Status AdoptExisting() override {
    bool any = false;
    for (auto& t : targets_) {
      if (!fs_.Exists(t.dir)) {
        continue;
      }
      any = true;
      t.created.clear();
      // The empty directories between the container and brick's parent are brick's too.
      for (const auto& prefix : Prefixes(path_.path)) {
        if (!path_.brick_parent.empty() && prefix.size() > path_.brick_parent.size() &&
            prefix.starts_with(path_.brick_parent + "/")) {
          t.created.push_back(prefix);
        } else if (prefix == path_.path) {
          t.created.push_back(prefix);
        }
      }
    }
    if (!any) {
      return Fail("cgroup {} does not exist in any hierarchy", path_.path);
    }
    return Ok();
  }

  Status Apply(const oci::Resources& r) override {
    BRICK_TRY(WithContext(Validate(r), fmt::format("apply resources to cgroup {}", path_.path)));
    Placement p = ComputePlacement();
    Plan plan = BRICK_TRY_VALUE(BuildPlan(r, p));
    for (const auto& step : plan.steps) {
      auto st = Execute(step);
      if (!st) {
        return std::unexpected(
            std::move(st.error()).Wrap(fmt::format("apply resources to cgroup {}", path_.path)));
      }
    }
    return Ok();
  }

  Status Update(const oci::Resources& r) override { return Apply(r); }

  Status AddProcess(pid_t pid) override {
    for (const auto& t : targets_) {
      BRICK_TRY(WithContext(fs_.Write(t.dir + "/cgroup.procs", std::to_string(pid)),
                            fmt::format("move process {} into cgroup {}", pid, t.dir)));
    }
    return Ok();
  }

  Status AddProcessToUnified(pid_t pid) override {
    if (const Target* t = Unified()) {
      BRICK_TRY(WithContext(fs_.Write(t->dir + "/cgroup.procs", std::to_string(pid)),
                            fmt::format("move process {} into cgroup {}", pid, t->dir)));
    }
    return Ok();
  }

  Result<SelfPlacement> OpenSelfPlacement() const override {
    SelfPlacement out;
    for (const auto& t : targets_) {
      if (t.h->unified) {
        out.unified_dir = BRICK_TRY_VALUE(fs_.Open(t.dir, O_RDONLY | O_DIRECTORY));
        out.unified_path = t.dir;
      } else {
        std::string tasks = t.dir + "/tasks";
        out.v1_tasks.push_back({tasks, BRICK_TRY_VALUE(fs_.Open(tasks, O_WRONLY))});
      }
    }
    return out;
  }

  Result<std::vector<pid_t>> Pids() const override {
    std::set<pid_t> pids;
    for (const auto& t : targets_) {
      auto text = fs_.Read(t.dir + "/cgroup.procs");
      if (!text) {
        if (text.error().errnum() == ENOENT) {
          continue;
        }
        return std::unexpected(std::move(text.error()));
      }
      for (const auto& line : Split(*text, '\n')) {
        if (auto v = ParseI64(Trim(line)); v && *v > 0) {
          pids.insert(static_cast<pid_t>(*v));
        }
      }
    }
    return std::vector<pid_t>(pids.begin(), pids.end());
  }

  Result<Stats> ReadStats() const override {
    Stats s;
    auto wrap = [&](Error e) {
      return std::unexpected(std::move(e).Wrap(fmt::format("read stats of cgroup {}", path_.path)));
    };
    if (const Target* t = FindTarget("memory")) {
      auto m = t->h->unified ? ReadV2MemoryStats(fs_, t->dir) : ReadV1MemoryStats(fs_, t->dir);
      if (!m) {
        return wrap(std::move(m.error()));
      }
      s.memory = *m;
    }
    const Target* cpu = FindTarget("cpu");
    const Target* cpuacct = FindTarget("cpuacct");
    if ((cpu && !cpu->h->unified) || cpuacct) {
      auto c =
          ReadV1CpuStats(fs_, cpu && !cpu->h->unified ? cpu->dir : "", cpuacct ? cpuacct->dir : "");
      if (!c) {
        return wrap(std::move(c.error()));
      }
      s.cpu = *c;
    } else if (const Target* u = Unified(); u && fs_.Exists(u->dir + "/cpu.stat")) {
      // cpu.stat is a core file of cgroup v2: usage is there even without the controller.
      auto c = ReadV2CpuStats(fs_, u->dir);
      if (!c) {
        return wrap(std::move(c.error()));
      }
      s.cpu = *c;
    }
    if (const Target* t = FindTarget("pids")) {
      auto p = ReadPidsStats(fs_, t->dir);
      if (!p) {
        return wrap(std::move(p.error()));
      }
      s.pids = *p;
    }
    if (const Target* t = FindTarget("blkio")) {
      auto io = t->h->unified ? ReadV2IoStats(fs_, t->dir) : ReadV1IoStats(fs_, t->dir);
      if (!io) {
        return wrap(std::move(io.error()));
      }
      s.io = *io;
    }
    return s;
  }

  Result<bool> OomKilled() const override {
    Stats s = BRICK_TRY_VALUE(ReadStats());
    return s.memory && s.memory->oom_kill > 0;
  }

  Status Freeze() override {
    return WithContext(SetFrozen(true), fmt::format("freeze cgroup {}", path_.path));
  }
  Status Thaw() override {
    return WithContext(SetFrozen(false), fmt::format("thaw cgroup {}", path_.path));
  }

  Status KillAll() override {
    auto st = KillAllImpl();
    if (!st) {
      return std::unexpected(
          std::move(st.error()).Wrap(fmt::format("kill the processes of cgroup {}", path_.path)));
    }
    return Ok();
  }

  Status Destroy() override {
    std::vector<std::string> errors;
    bool has_created = std::any_of(targets_.begin(), targets_.end(),
                                   [](const Target& t) { return !t.created.empty(); });
    if (!has_created) {
      return Ok();
    }
    auto pids = Pids();
    if (pids && !pids->empty()) {
      if (auto st = KillAll(); !st) {
        errors.push_back(st.error().message());
      }
    }
    if (device_prog_) {
      const Target* u = Unified();
      if (u) {
        if (auto st = fs_.DetachDeviceProgram(u->dir, device_prog_.get()); !st) {
          errors.push_back(st.error().message());
        }
      }
      device_prog_.reset();
    }
    for (auto& t : targets_) {
      for (auto it = t.created.rbegin(); it != t.created.rend(); ++it) {
        std::string dir = t.h->mount_point + *it;
        bool leaf = *it == path_.path;
        auto st = RmdirWithRetry(dir, leaf);
        if (!st) {
          errors.push_back(st.error().message());
          break;  // the parents cannot go either
        }
      }
      t.created.clear();
    }
    if (!errors.empty()) {
      std::string all;
      for (const auto& e : errors) {
        all += (all.empty() ? "" : "; ") + e;
      }
      return Fail("destroy cgroup {}: {}", path_.path, all);
    }
    return Ok();
  }

  std::vector<HierarchyPath> Paths() const override {
    std::vector<HierarchyPath> out;
    for (const auto& t : targets_) {
      out.push_back(HierarchyPath{t.h->ControllersField(), t.h->unified, t.h->mount_point, t.dir,
                                  path_.path});
    }
    return out;
  }

 private:
  struct Target {
    const Hierarchy* h;
    std::string dir;                   // mount point + path
    std::vector<std::string> created;  // relative paths made by Create, top-down
  };

  const Target* Unified() const {
    for (const auto& t : targets_) {
      if (t.h->unified) {
        return &t;
      }
    }
    return nullptr;
  }

  bool Owned(const Target& t, const std::string& rel) const {
    if (std::find(t.created.begin(), t.created.end(), rel) != t.created.end()) {
      return true;
    }
    return !path_.brick_parent.empty() &&
           (rel == path_.brick_parent || rel.starts_with(path_.brick_parent + "/"));
  }

  // The v2 controllers the container's cgroup will have: those of the deepest existing
  // directory on its path, if brick may enable them there, else those that directory
  // already hands down.
  std::set<std::string> UnifiedControllers() const {
    std::set<std::string> out;
    const Target* u = Unified();
    if (!u) {
      return out;
    }
    auto prefixes = Prefixes(path_.path);
    std::string deepest;
    for (const auto& p : prefixes) {
      if (!fs_.Exists(u->h->mount_point + p)) {
        break;
      }
      deepest = p;
    }
    std::string file;
    if (deepest == path_.path) {
      file = u->dir + "/cgroup.controllers";
    } else if (!deepest.empty() && Owned(*u, deepest)) {
      file = u->h->mount_point + deepest + "/cgroup.controllers";
    } else {
      file = u->h->mount_point + deepest + "/cgroup.subtree_control";
    }
    auto text = fs_.Read(file);
    if (!text) {
      return out;
    }
    for (const auto& c : Split(Trim(*text), ' ')) {
      if (!c.empty()) {
        out.insert(c);
      }
    }
    return out;
  }

  Placement ComputePlacement() const {
    Placement p;
    const Target* u = Unified();
    p.has_unified = u != nullptr;
    if (version_ != Version::kV2) {
      for (const auto& h : layout_.v1) {
        for (const auto& c : h.controllers) {
          p.controllers.emplace(c, Version::kV1);
        }
      }
    }
    if (u) {
      for (const auto& c : UnifiedControllers()) {
        p.controllers.emplace(V1Name(c), Version::kV2);
      }
    }
    switch (version_) {
      case Version::kV1:
        p.host = "cgroup v1";
        break;
      case Version::kV2:
        p.host = fmt::format("cgroup v2 at {}", u ? u->h->mount_point : layout_.fs_root);
        break;
      case Version::kHybrid:
        p.host = fmt::format("cgroup v1 controllers with cgroup v2 at {}",
                             u ? u->h->mount_point : layout_.fs_root);
        break;
    }
    return p;
  }

  // The target whose hierarchy drives `controller` (v1 name), v1 first.
  const Target* FindTarget(std::string_view controller) const {
    for (const auto& t : targets_) {
      if (!t.h->unified && t.h->Has(controller)) {
        return &t;
      }
    }
    const Target* u = Unified();
    if (u && controller != "cpuacct" && UnifiedControllers().contains(V2Name(controller))) {
      return u;
    }
    return nullptr;
  }

  // The target a FileWrite's controller key selects.
  const Target* TargetForKey(const std::string& key) const {
    if (key.empty()) {
      return Unified();
    }
    for (const auto& t : targets_) {
      if (!t.h->unified && t.h->Has(key)) {
        return &t;
      }
    }
    return nullptr;
  }

  // Checks before anything exists that the kernel offers a file the plan writes. It looks
  // at the deepest existing cgroup below the hierarchy root on the container's path (the
  // root lacks most interface files); with none, unified keys are checked against the
  // kernel's documented files and everything else is left to Apply.
  struct ProbeCache {
    std::map<std::string, bool> exists, writable;
  };
  bool CachedExists(ProbeCache& c, const std::string& path) const {
    auto [it, added] = c.exists.try_emplace(path, false);
    if (added) {
      it->second = fs_.Exists(path);
    }
    return it->second;
  }

  Status ProbeWrite(const FileWrite& w, const Placement& p, ProbeCache& cache) const {
    const Target* t = TargetForKey(w.controller);
    if (!t) {
      return Fail("{}: no hierarchy holds the {} controller", w.field,
                  w.controller.empty() ? "unified" : w.controller);
    }
    std::string probe;
    for (const auto& prefix : Prefixes(path_.path)) {
      if (!CachedExists(cache, t->h->mount_point + prefix)) {
        break;
      }
      probe = t->h->mount_point + prefix;
    }
    bool unified_key = w.field.starts_with("linux.resources.unified");
    const std::string& file = w.choices.front().first;
    if (unified_key) {
      std::string controller = file.substr(0, file.find('.'));
      bool core = controller == "cgroup" || file.ends_with(".pressure");
      if (!core && !p.controllers.contains(V1Name(controller))) {
        return Fail(
            "{}: the {} controller is not available in the cgroup v2 hierarchy at {}; "
            "remove the key{}",
            w.field, controller, t->h->mount_point,
            layout_.FindV1(V1Name(controller))
                ? " and use the linux.resources field for it (it is bound to cgroup v1 "
                  "on this host)"
                : "");
      }
      if (!core && p.controllers.at(V1Name(controller)) != Version::kV2) {
        return Fail(
            "{}: the {} controller is bound to cgroup v1 on this host, not to the "
            "unified hierarchy at {}; use the linux.resources field for it",
            w.field, controller, t->h->mount_point);
      }
      if (probe.empty()) {
        if (!KnownUnifiedFile(file)) {
          return Fail("{}: cgroup v2 has no writable interface file \"{}\"", w.field, file);
        }
        return Ok();
      }
      auto [it, added] = cache.writable.try_emplace(probe + "/" + file, false);
      if (added) {
        it->second = fs_.IsWritableFile(it->first);
      }
      if (!it->second) {
        return Fail("{}: cgroup v2 has no writable interface file \"{}\" (looked in {})", w.field,
                    file, probe);
      }
      return Ok();
    }
    if (probe.empty()) {
      return Ok();
    }
    for (const auto& [name, value] : w.choices) {
      if (CachedExists(cache, probe + "/" + name)) {
        return Ok();
      }
    }
    std::string names;
    for (const auto& [name, value] : w.choices) {
      names += (names.empty() ? "" : " or ") + name;
    }
    return Fail("{}: the kernel offers no {} (looked in {}); remove the field", w.field, names,
                probe);
  }

  Status Execute(const Step& step) {
    if (const auto* w = std::get_if<FileWrite>(&step)) {
      const Target* t = TargetForKey(w->controller);
      if (!t) {
        return Fail("{}: no hierarchy holds the {} controller", w->field, w->controller);
      }
      for (const auto& [name, value] : w->choices) {
        std::string file = t->dir + "/" + name;
        // With one choice the write itself tells whether the file exists.
        if (w->choices.size() > 1 && !fs_.Exists(file)) {
          continue;
        }
        auto written = fs_.Write(file, value);
        if (!written && written.error().errnum() == ENOENT && w->choices.size() == 1) {
          break;
        }
        BRICK_TRY(std::move(written), w->field);
        return Ok();
      }
      return Fail("{}: the kernel offers no {} in {}", w->field, w->choices.front().first, t->dir);
    }
    if (const auto* m = std::get_if<V1MemoryLimits>(&step)) {
      return WriteV1MemoryLimits(*m);
    }
    if (const auto* c = std::get_if<MemoryUsageCheck>(&step)) {
      const Target* t = TargetForKey(c->controller);
      if (!t || !fs_.Exists(t->dir + "/" + c->usage_file)) {
        return Ok();
      }
      std::string text = BRICK_TRY_VALUE(fs_.Read(t->dir + "/" + c->usage_file));
      auto usage = ParseU64(Trim(text));
      if (usage && *usage > static_cast<uint64_t>(c->new_limit)) {
        return Fail(
            "linux.resources.memory.limit: the container uses {} bytes, more than the "
            "new limit {}, and memory.checkBeforeUpdate is set",
            *usage, c->new_limit);
      }
      return Ok();
    }
    const auto& d = std::get<DeviceProgramStep>(step);
    const Target* u = Unified();
    if (!u) {
      return Fail("linux.resources.devices: no cgroup v2 hierarchy for the eBPF device program");
    }
    UniqueFd prog = BRICK_TRY_VALUE(fs_.ReplaceDeviceProgram(u->dir, d.program));
    device_prog_ = std::move(prog);
    return Ok();
  }

  Status WriteV1MemoryLimits(const V1MemoryLimits& m) {
    const Target* t = TargetForKey("memory");
    if (!t) {
      return Fail("linux.resources.memory: no memory hierarchy");
    }
    std::string limit_file = t->dir + "/memory.limit_in_bytes";
    std::string memsw_file = t->dir + "/memory.memsw.limit_in_bytes";
    auto write_limit = [&]() -> Status {
      BRICK_TRY(fs_.Write(limit_file, std::to_string(*m.limit)), "linux.resources.memory.limit");
      return Ok();
    };
    auto write_memsw = [&]() -> Status {
      BRICK_TRY(fs_.Write(memsw_file, std::to_string(*m.memsw)), "linux.resources.memory.swap");
      return Ok();
    };
    if (m.limit && !m.memsw) {
      return write_limit();
    }
    if (!m.limit) {
      return write_memsw();
    }
    // The kernel keeps limit <= memsw at every moment: raise memsw before the limit, lower
    // it after.
    bool memsw_first = *m.memsw == -1;
    if (!memsw_first) {
      std::string text = BRICK_TRY_VALUE(fs_.Read(memsw_file));
      auto current = ParseU64(Trim(text));
      memsw_first = !current || static_cast<uint64_t>(*m.memsw) >= *current;
    }
    if (memsw_first) {
      BRICK_TRY(write_memsw());
      return write_limit();
    }
    BRICK_TRY(write_limit());
    return write_memsw();
  }

  Status CreateOnce() {
    for (auto& t : targets_) {
      for (const auto& rel : Prefixes(path_.path)) {
        std::string dir = t.h->mount_point + rel;
        bool made = false;
        if (!fs_.Exists(dir)) {
          auto st = fs_.Mkdir(dir);
          if (!st && st.error().errnum() != EEXIST) {
            return st;
          }
          made = static_cast<bool>(st);
        }
        if (made) {
          t.created.push_back(rel);
        }
        if (t.h->unified && rel != path_.path && Owned(t, rel)) {
          BRICK_TRY(EnableControllers(dir));
        }
        if (!t.h->unified && t.h->Has("cpuset") && Owned(t, rel)) {
          BRICK_TRY(FillCpuset(t, rel));
        }
      }
    }
    return Ok();
  }

  // Hands every controller a cgroup has down to its children (cgroup v2).
  Status EnableControllers(const std::string& dir) {
    std::string have = BRICK_TRY_VALUE(fs_.Read(dir + "/cgroup.controllers"));
    std::string enabled = BRICK_TRY_VALUE(fs_.Read(dir + "/cgroup.subtree_control"));
    std::set<std::string> on;
    for (const auto& c : Split(Trim(enabled), ' ')) {
      on.insert(c);
    }
    std::string add;
    for (const auto& c : Split(Trim(have), ' ')) {
      if (!c.empty() && !on.contains(c)) {
        add += (add.empty() ? "+" : " +") + c;
      }
    }
    if (add.empty()) {
      return Ok();
    }
    auto st = fs_.Write(dir + "/cgroup.subtree_control", add);
    if (!st && st.error().errnum() == EBUSY) {
      return std::unexpected(
          std::move(st.error())
              .Wrap(fmt::format(
                  "enable controllers in {}: it holds processes, and cgroup v2 allows controllers "
                  "only above cgroups without processes; move them into a child cgroup",
                  dir)));
    }
    return st;
  }

  // A new v1 cpuset starts with no cpus and no mems, and takes no process until it has
  // them: copy the parent's.
  Status FillCpuset(const Target& t, const std::string& rel) {
    std::string parent = t.h->mount_point + Parent(rel);
    std::string dir = t.h->mount_point + rel;
    for (const char* name : {"cpuset.cpus", "cpuset.mems"}) {
      std::string mine = BRICK_TRY_VALUE(fs_.Read(dir + "/" + name));
      if (!Trim(mine).empty()) {
        continue;
      }
      std::string theirs = BRICK_TRY_VALUE(fs_.Read(parent + "/" + name));
      BRICK_TRY(fs_.Write(dir + "/" + name, Trim(theirs)));
    }
    return Ok();
  }

  void RemoveCreated() {
    for (auto& t : targets_) {
      for (auto it = t.created.rbegin(); it != t.created.rend(); ++it) {
        (void)fs_.Rmdir(t.h->mount_point + *it);
      }
      t.created.clear();
    }
  }

  Status RmdirWithRetry(const std::string& dir, bool leaf) {
    for (int round = 0;; ++round) {
      auto st = fs_.Rmdir(dir);
      if (st || st.error().errnum() == ENOENT) {
        return Ok();
      }
      int err = st.error().errnum();
      if (!leaf && (err == EBUSY || err == ENOTEMPTY)) {
        return Ok();  // shared with another container: stays
      }
      if (err != EBUSY || round == kWaitRounds) {
        return st;
      }
      SleepStep();  // processes that were killed are still leaving
    }
  }

  // Freezes through the v1 freezer when one is mounted, else through cgroup.freeze.
  Status SetFrozen(bool frozen) {
    for (const auto& t : targets_) {
      if (!t.h->unified && t.h->Has("freezer")) {
        const char* want = frozen ? "FROZEN" : "THAWED";
        BRICK_TRY(fs_.Write(t.dir + "/freezer.state", want));
        for (int round = 0; round < kWaitRounds; ++round) {
          std::string state = BRICK_TRY_VALUE(fs_.Read(t.dir + "/freezer.state"));
          if (Trim(state) == want) {
            return Ok();
          }
          // Writing again retries a freeze that a task in the middle of a fork held up.
          BRICK_TRY(fs_.Write(t.dir + "/freezer.state", want));
          SleepStep();
        }
        return Fail("{}/freezer.state did not become {}", t.dir, want);
      }
    }
    const Target* u = Unified();
    if (!u || !fs_.Exists(u->dir + "/cgroup.freeze")) {
      return Fail("this host has neither a freezer controller nor cgroup.freeze");
    }
    BRICK_TRY(fs_.Write(u->dir + "/cgroup.freeze", frozen ? "1" : "0"));
    for (int round = 0; round < kWaitRounds; ++round) {
      std::string events = BRICK_TRY_VALUE(fs_.Read(u->dir + "/cgroup.events"));
      for (const auto& line : Split(events, '\n')) {
        if (Trim(line) == (frozen ? "frozen 1" : "frozen 0")) {
          return Ok();
        }
      }
      SleepStep();
    }
    return Fail("{}/cgroup.events did not report frozen {}", u->dir, frozen ? 1 : 0);
  }

  Status KillAllImpl() {
    const Target* u = Unified();
    if (u && fs_.Exists(u->dir + "/cgroup.kill")) {
      // One write kills every process, forks in flight included.
      BRICK_TRY(fs_.Write(u->dir + "/cgroup.kill", "1"));
    } else {
      bool can_freeze = std::any_of(targets_.begin(), targets_.end(), [](const Target& t) {
        return !t.h->unified && t.h->Has("freezer");
      });
      if (can_freeze) {
        BRICK_TRY(SetFrozen(true));
      }
      auto pids = Pids();
      if (pids) {
        for (pid_t pid : *pids) {
          auto st = fs_.Kill(pid, SIGKILL);
          if (!st && st.error().errnum() != ESRCH) {
            return st;
          }
        }
      }
      if (can_freeze) {
        BRICK_TRY(SetFrozen(false));
      }
      if (!pids) {
        return std::unexpected(std::move(pids.error()));
      }
    }
    for (int round = 0; round < kWaitRounds; ++round) {
      std::vector<pid_t> left = BRICK_TRY_VALUE(Pids());
      if (left.empty()) {
        return Ok();
      }
      // Kill again what a fork may have added since.
      for (pid_t pid : left) {
        (void)fs_.Kill(pid, SIGKILL);
      }
      SleepStep();
    }
    std::vector<pid_t> left = BRICK_TRY_VALUE(Pids());
    return Fail("{} processes are still in the cgroup after SIGKILL", left.size());
  }

  Version version_;
  Layout layout_;
  CgroupPath path_;
  Options options_;
  CgroupFs& fs_;
  std::vector<Target> targets_;
  UniqueFd device_prog_;
};

}  // namespace

Result<std::unique_ptr<Manager>> NewManager(const Layout& layout, const CgroupPath& path,
                                            const Options& options) {
  if (path.path.empty() || path.path[0] != '/' || path.path == "/") {
    return Fail("cgroup path \"{}\" is not resolved; use ResolveCgroupsPath", path.path);
  }
  if (layout.version != Version::kV1 && !layout.unified) {
    return Fail("cgroup layout {} has no unified hierarchy", VersionName(layout.version));
  }
  if (layout.version != Version::kV2 && layout.v1.empty()) {
    return Fail("cgroup layout {} has no v1 hierarchy", VersionName(layout.version));
  }
  // Layout is copied into the manager, so the Hierarchy pointers stay valid.
  return std::unique_ptr<Manager>(new HierarchyManager(layout.version, layout, path, options));
}

ScopedCgroup& ScopedCgroup::operator=(ScopedCgroup&& other) noexcept {
  if (this != &other) {
    (void)Reset();
    manager_ = std::move(other.manager_);
  }
  return *this;
}

ScopedCgroup::~ScopedCgroup() { (void)Reset(); }

Status ScopedCgroup::Reset() {
  if (!manager_) {
    return Ok();
  }
  auto st = manager_->Destroy();
  manager_.reset();
  return st;
}

}  // namespace brick::cgroup
