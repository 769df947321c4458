#include "files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "brick/sys/unique_fd.h"

namespace brick::inspect {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

FileRead ReadFileCapped(const std::string& path, size_t max_bytes) {
  FileRead result;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    result.err = errno;
    return result;
  }
  char buf[4096];
  while (result.data.size() < max_bytes) {
    size_t want = std::min(sizeof(buf), max_bytes - result.data.size());
    ssize_t n = read(fd.get(), buf, want);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      result.err = errno;
      return result;
    }
    if (n == 0) {
      result.ok = true;
      return result;
    }
    result.data.append(buf, static_cast<size_t>(n));
  }
  char extra;
  ssize_t n = read(fd.get(), &extra, 1);
  result.truncated = n > 0;
  result.ok = true;
  return result;
}

LinkRead ReadLink(const std::string& path) {
  LinkRead result;
  std::string buf(4096, '\0');
  ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0) {
    result.err = errno;
    return result;
  }
  buf.resize(static_cast<size_t>(n));
  result.ok = true;
  result.target = std::move(buf);
  return result;
}

DirRead ListDir(const std::string& path) {
  DirRead result;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    result.err = errno;
    return result;
  }
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") {
      result.names.push_back(std::move(name));
    }
  }
  result.err = errno;
  closedir(dir);
  result.ok = result.err == 0;
  std::sort(result.names.begin(), result.names.end());
  return result;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::vector<std::string> SplitWhitespace(const std::string& s) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) {
      ++i;
    }
    if (i > start) {
      parts.push_back(s.substr(start, i - start));
    }
  }
  return parts;
}

}  // namespace brick::inspect
