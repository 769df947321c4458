#include "container.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace brick::integration {
namespace {

std::vector<std::string> ListDir(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    return names;
  }
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      names.push_back(name);
    }
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

std::string LastLine(const std::string& out) {
  std::string trimmed = TrimEnd(out);
  size_t nl = trimmed.find_last_of('\n');
  std::string line = nl == std::string::npos ? trimmed : trimmed.substr(nl + 1);
  while (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

// The mount point field of a mountinfo line, unescaped.
std::string MountPoint(const std::string& line) {
  std::istringstream in(line);
  std::string field;
  for (int i = 0; i < 5 && in >> field; ++i) {
  }
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      out += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += field[i];
    }
  }
  return out;
}

void Fingerprint(const std::string& path, std::string& out) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    out += path + " missing errno " + std::to_string(errno) + "\n";
    return;
  }
  out += path + " mode " + std::to_string(st.st_mode) + " owner " + std::to_string(st.st_uid) +
         ":" + std::to_string(st.st_gid) + " size " + std::to_string(st.st_size) + " mtime " +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + " dev " +
         std::to_string(st.st_dev) + "\n";
  if (S_ISREG(st.st_mode)) {
    out += "content " + ReadFileOrEmpty(path) + "\n";
  } else if (S_ISLNK(st.st_mode)) {
    char buf[4096];
    ssize_t n = readlink(path.c_str(), buf, sizeof(buf));
    out += "target " + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) + "\n";
  } else if (S_ISDIR(st.st_mode)) {
    for (const std::string& name : ListDir(path)) {
      Fingerprint(path + "/" + name, out);
    }
  }
}

}  // namespace

std::vector<std::string> BrickRunArgv(const std::vector<std::string>& brick_args,
                                      const std::vector<std::string>& cmd) {
  std::vector<std::string> argv = {kBrick, "run"};
  argv.insert(argv.end(), brick_args.begin(), brick_args.end());
  argv.push_back("--");
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

RunResult BrickRun(const std::vector<std::string>& brick_args, const std::vector<std::string>& cmd,
                   const RunOptions& options) {
  return RunCommand(BrickRunArgv(brick_args, cmd), options);
}

::testing::AssertionResult InspectJson(const std::vector<std::string>& brick_args,
                                       nlohmann::json* out, const RunOptions& options) {
  RunResult r = BrickRun(brick_args, {kInspect, "--json"}, options);
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure() << "brick-inspect --json in a container: " << r.Describe();
  }
  // With a pty, stdout may carry \r\n; JSON treats \r as whitespace.
  try {
    *out = nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    return ::testing::AssertionFailure()
           << "brick-inspect --json printed invalid JSON (" << e.what() << "): " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ProbeLine(const std::vector<std::string>& brick_args,
                                     const std::vector<std::string>& probe, std::string* line,
                                     const RunOptions& options) {
  std::vector<std::string> cmd = {kInspect};
  cmd.insert(cmd.end(), probe.begin(), probe.end());
  RunResult r = BrickRun(brick_args, cmd, options);
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure() << "probe did not exit 0: " << r.Describe();
  }
  *line = LastLine(r.out);
  return ::testing::AssertionSuccess();
}

std::string UniqueId(std::string_view what) {
  static std::atomic<int> counter{0};
  return "brick-it-" + std::string(what) + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++);
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/brick-it-XXXXXX";
  char* made = mkdtemp(tmpl);
  if (made == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << strerror(errno);
    return;
  }
  path_ = made;
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  if (path_.empty()) {
    return;
  }
  // --one-file-system: should a buggy brick have left a mount in here, do not delete
  // through it into whatever it exposes.
  RunResult r = RunCommand({"/bin/rm", "-rf", "--one-file-system", path_});
  if (r.ExitCode() != 0) {
    ADD_FAILURE() << "cleaning up " << path_ << ": " << r.Describe();
  }
}

::testing::AssertionResult CopyRootfs(const std::string& dest) {
  RunResult r = RunCommand({"/bin/cp", "-a", kRootfs, dest});
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure()
           << "cp -a " << kRootfs << " " << dest << ": " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult WriteFile(const std::string& path, std::string_view data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  f.close();
  if (!f) {
    return ::testing::AssertionFailure() << "cannot write " << path;
  }
  return ::testing::AssertionSuccess();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string OwnNamespace(const std::string& name) {
  char buf[256];
  ssize_t n = readlink(("/proc/self/ns/" + name).c_str(), buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::vector<std::string> MountInfo() {
  std::vector<std::string> lines;
  std::istringstream in(ReadFileOrEmpty("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> MountsAtOrBelow(const std::string& path) {
  std::vector<std::string> found;
  for (const std::string& line : MountInfo()) {
    std::string mp = MountPoint(line);
    if (mp == path || mp.starts_with(path + "/")) {
      found.push_back(line);
    }
  }
  return found;
}

std::vector<std::string> CgroupDirsFor(const std::string& id) {
  std::vector<std::string> found;
  for (const std::string& hierarchy : ListDir("/sys/fs/cgroup")) {
    std::string dir = "/sys/fs/cgroup/" + hierarchy + "/brick/" + id;
    struct stat st;
    if (stat(dir.c_str(), &st) == 0) {
      found.push_back(dir);
    }
  }
  struct stat st;
  if (stat(("/sys/fs/cgroup/brick/" + id).c_str(), &st) == 0) {
    found.push_back("/sys/fs/cgroup/brick/" + id);
  }
  return found;
}

std::vector<pid_t> ProcessesWithArg(std::string_view marker) {
  std::vector<pid_t> found;
  for (const std::string& name : ListDir("/proc")) {
    if (name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    std::string cmdline = ReadFileOrEmpty("/proc/" + name + "/cmdline");
    size_t start = 0;
    while (start < cmdline.size()) {
      size_t end = cmdline.find('\0', start);
      if (end == std::string::npos) {
        end = cmdline.size();
      }
      if (std::string_view(cmdline).substr(start, end - start) == marker) {
        found.push_back(static_cast<pid_t>(std::stoi(name)));
        break;
      }
      start = end + 1;
    }
  }
  return found;
}

std::string TreeFingerprint(const std::string& path) {
  std::string out;
  Fingerprint(path, out);
  return out;
}

HostSnapshot HostSnapshot::Capture() { return HostSnapshot{MountInfo()}; }

::testing::AssertionResult NothingLeftBehind(const HostSnapshot& before, const std::string& id,
                                             const std::string& marker) {
  std::string problems;
  std::set<std::string> old(before.mountinfo.begin(), before.mountinfo.end());
  for (const std::string& line : MountInfo()) {
    if (!old.contains(line)) {
      problems += "new mount: " + line + "\n";
    }
  }
  for (const std::string& dir : CgroupDirsFor(id)) {
    problems += "cgroup left: " + dir + "\n";
  }
  for (const std::string& name : ListDir("/run/brick")) {
    if (name.find(id) != std::string::npos) {
      problems += "state left: /run/brick/" + name + "\n";
    }
  }
  if (!marker.empty()) {
    for (pid_t pid : ProcessesWithArg(marker)) {
      problems += "process left: " + std::to_string(pid) + " (killed now)\n";
      // The marker is unique to this test, so the process is one this test caused.
      kill(pid, SIGKILL);
    }
  }
  if (!problems.empty()) {
    return ::testing::AssertionFailure() << problems;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DefaultSpec(const std::string& rootfs, nlohmann::json* out) {
  RunResult r = RunCommand({kBrick, "spec", "--stdout", "--rootfs", rootfs});
  if (r.ExitCode() != 0) {
    return ::testing::AssertionFailure()
           << "brick spec --rootfs " << rootfs << ": " << r.Describe();
  }
  try {
    *out = nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    return ::testing::AssertionFailure()
           << "brick spec printed invalid JSON (" << e.what() << "): " << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult MakeBundle(const std::string& dir, const std::string& rootfs,
                                      const std::function<void(nlohmann::json&)>& edit,
                                      const std::string& marker) {
  nlohmann::json config;
  if (auto ok = DefaultSpec(rootfs, &config); !ok) {
    return ok;
  }
  if (symlink(rootfs.c_str(), (dir + "/rootfs").c_str()) != 0) {
    return ::testing::AssertionFailure() << "symlink rootfs in " << dir << ": " << strerror(errno);
  }
  config["root"]["path"] = "rootfs";
  config["process"]["args"] = {"/bin/sh", "-c", "exit 0", marker};
  edit(config);
  return WriteFile(dir + "/config.json", config.dump(2));
}

}  // namespace brick::integration
