#include "brick/runtime/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "brick/base/strings.h"
#include "brick/oci/spec.h"
#include "brick/sys/fs.h"

namespace brick::runtime {
namespace {

using json = nlohmann::json;

// Locks a container directory; with `wait` false, an invalid fd means someone else holds it.
Result<UniqueFd> LockDir(const std::string& dir, bool wait = true) {
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return ErrnoFail(errno, "open {}", dir);
  }
  while (flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
    if (!wait && errno == EWOULDBLOCK) {
      return UniqueFd();
    }
    if (errno != EINTR) {
      return ErrnoFail(errno, "lock {}", dir);
    }
  }
  return fd;
}

Status MkdirAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return Fail("create {}: {}", path, ec.message());
  }
  chmod(path.c_str(), 0711);
  return Ok();
}

}  // namespace

const char* ContainerStatusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating:
      return "creating";
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kPaused:
      return "paused";
    case ContainerStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

Result<ContainerDir> StateStore::Create(const std::string& id) const {
  BRICK_TRY(MkdirAll(root_), "state store");
  std::string dir = root_ + "/" + id;
  // The directory appears under its name already locked: it is made and locked under a
  // hidden name, then renamed without replacing. Otherwise another brick's sweep of
  // abandoned directories could take the lock of (and remove) a directory between its
  // mkdir and its flock.
  std::string staging = fmt::format("{}/.new-{}-{}", root_, id, getpid());
  if (mkdir(staging.c_str(), 0700) != 0) {
    return ErrnoFail(errno, "create state directory {}", staging);
  }
  auto lock = LockDir(staging);
  if (!lock) {
    rmdir(staging.c_str());
    return std::unexpected(lock.error());
  }
  if (renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    rmdir(staging.c_str());
    if (err == EEXIST) {
      return ErrnoFail(EEXIST, "container {} already exists; pick another id or delete it first",
                       id);
    }
    return ErrnoFail(err, "create state directory {}", dir);
  }
  return ContainerDir(dir, std::move(*lock));
}

namespace {

Result<std::optional<ContainerDir>> OpenDir(const std::string& root, const std::string& id,
                                            bool wait) {
  std::string dir = root + "/" + id;
  struct stat st;
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ErrnoFail(ENOENT, "container {} does not exist", id);
  }
  UniqueFd lock = BRICK_TRY_VALUE(LockDir(dir, wait));
  if (!lock) {
    return std::optional<ContainerDir>();
  }
  // A delete that held the lock before us may have removed it meanwhile.
  if (access((dir + "/state.json").c_str(), F_OK) != 0) {
    return ErrnoFail(ENOENT, "container {} does not exist", id);
  }
  return std::optional<ContainerDir>(ContainerDir(dir, std::move(lock)));
}

}  // namespace

Result<ContainerDir> StateStore::Open(const std::string& id) const {
  auto dir = BRICK_TRY_VALUE(OpenDir(root_, id, /*wait=*/true));
  return std::move(*dir);
}

Result<std::optional<ContainerDir>> StateStore::TryOpen(const std::string& id) const {
  return OpenDir(root_, id, /*wait=*/false);
}

Result<std::vector<std::string>> StateStore::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  if (!std::filesystem::exists(root_, ec)) {
    return ids;
  }
  for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
    if (e.is_directory() && std::filesystem::exists(e.path() / "state.json")) {
      ids.push_back(e.path().filename().string());
    }
  }
  if (ec) {
    return Fail("list {}: {}", root_, ec.message());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void StateStore::RemoveAbandoned() const {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
    std::string name = e.path().filename().string();
    // ".new-*": a create killed between its mkdir and its rename (see Create).
    if ((name.starts_with(".") && !name.starts_with(".new-")) || !e.is_directory() ||
        std::filesystem::exists(e.path() / "state.json")) {
      continue;
    }
    UniqueFd fd(open(e.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd && flock(fd.get(), LOCK_EX | LOCK_NB) == 0 &&
        !std::filesystem::exists(e.path() / "state.json")) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

void StateStore::RemoveStaging(const std::string& id) const {
  std::error_code ec;
  std::string prefix = ".new-" + id + "-";
  for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
    std::string name = e.path().filename().string();
    if (!name.starts_with(prefix) || !e.is_directory() ||
        !ParseU64(std::string_view(name).substr(prefix.size()))) {
      continue;
    }
    UniqueFd fd(open(e.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd && flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

Result<ContainerState> ContainerDir::Load() const {
  std::string text = BRICK_TRY_VALUE(ReadFile(dir_ + "/state.json"));
  try {
    json j = json::parse(text);
    ContainerState s;
    s.id = j.at("id").get<std::string>();
    s.pid = j.at("pid").get<pid_t>();
    s.pid_start_time = j.value("pidStartTime", uint64_t{0});
    s.bundle = j.value("bundle", "");
    s.created = j.value("created", "");
    s.annotations = j.value("annotations", std::map<std::string, std::string>{});
    s.cgroup_parent = j.value("cgroupParent", "brick");
    s.cgroups_path = j.value("cgroupsPath", "");
    if (j.contains("idSlot")) {
      s.id_slot = j["idSlot"].get<uint32_t>();
    }
    s.paused = j.value("paused", false);
    s.foreground = j.value("foreground", false);
    s.creator_pid = j.value("creatorPid", pid_t{0});
    s.creator_start_time = j.value("creatorStartTime", uint64_t{0});
    return s;
  } catch (const json::exception& e) {
    return Fail("{}/state.json is damaged ({}); `brick delete --force` removes it", dir_, e.what());
  }
}

Status ContainerDir::Save(const ContainerState& s) const {
  json j = {{"ociVersion", oci::kSpecVersion},
            {"id", s.id},
            {"pid", s.pid},
            {"pidStartTime", s.pid_start_time},
            {"bundle", s.bundle},
            {"created", s.created},
            {"annotations", s.annotations},
            {"cgroupParent", s.cgroup_parent},
            {"cgroupsPath", s.cgroups_path},
            {"paused", s.paused},
            {"foreground", s.foreground},
            {"creatorPid", s.creator_pid},
            {"creatorStartTime", s.creator_start_time}};
  if (s.id_slot) {
    j["idSlot"] = *s.id_slot;
  }
  // Atomic for readers; no fsync: the state lives for one boot (and /run is usually tmpfs).
  return WriteFileAtomic(dir_ + "/state.json", j.dump(2), 0600, Durability::kRenameOnly);
}

Status ContainerDir::Remove() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (ec) {
    return Fail("remove state directory {}: {}", dir_, ec.message());
  }
  return Ok();
}

std::optional<uint64_t> ProcessStartTime(pid_t pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  auto stat = ReadFile(fmt::format("/proc/{}/stat", pid));
  if (!stat) {
    return std::nullopt;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  auto close = stat->rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  auto fields = Split(Trim(std::string_view(*stat).substr(close + 1)), ' ');
  // fields[0] is field 3 (state); field 22 is fields[19].
  if (fields.size() < 20 || fields[0] == "Z" || fields[0] == "X") {
    return std::nullopt;
  }
  return ParseU64(fields[19]);
}

bool InitAlive(const ContainerState& state) {
  auto start = ProcessStartTime(state.pid);
  return state.pid > 0 && start && *start == state.pid_start_time;
}

ContainerStatus StatusOf(const ContainerState& state, const std::string& dir) {
  if (state.pid <= 0) {
    auto creator = ProcessStartTime(state.creator_pid);
    bool creating = creator && *creator == state.creator_start_time;
    return creating ? ContainerStatus::kCreating : ContainerStatus::kStopped;
  }
  if (!InitAlive(state)) {
    return ContainerStatus::kStopped;
  }
  if (state.paused) {
    return ContainerStatus::kPaused;  // a created container can be paused too, as with runc
  }
  if (access((dir + "/exec.fifo").c_str(), F_OK) == 0) {
    return ContainerStatus::kCreated;
  }
  return ContainerStatus::kRunning;
}

std::string OciStateJson(const ContainerState& state, ContainerStatus status) {
  json j = {{"ociVersion", oci::kSpecVersion},
            {"id", state.id},
            {"status", ContainerStatusName(status)},
            {"bundle", state.bundle},
            {"created", state.created}};
  if (status != ContainerStatus::kStopped) {
    j["pid"] = state.pid;
  } else {
    j["pid"] = 0;
  }
  if (!state.annotations.empty()) {
    j["annotations"] = state.annotations;
  }
  return j.dump(2);
}

std::string NowRfc3339() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09d}Z", buf, ts.tv_nsec);
}

}  // namespace brick::runtime
