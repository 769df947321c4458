// Small file helpers that keep errno, for an inspector that must report why a read failed
// as faithfully as what it read.
//
//   FileRead r = ReadFileCapped("/proc/self/uid_map", 1 << 20);
//   if (!r.ok) puts(ErrnoName(r.err).c_str());
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace brick::inspect {

struct FileRead {
  bool ok = false;
  int err = 0;             // errno when !ok
  std::string data;        // at most the cap given
  bool truncated = false;  // more bytes were available than the cap
};

// Reads a file from the start, stopping after max_bytes.
FileRead ReadFileCapped(const std::string& path, size_t max_bytes);

struct LinkRead {
  bool ok = false;
  int err = 0;
  std::string target;
};

LinkRead ReadLink(const std::string& path);

// The entries of a directory except "." and "..", sorted; err is set when it cannot be
// opened or read.
struct DirRead {
  bool ok = false;
  int err = 0;
  std::vector<std::string> names;
};

DirRead ListDir(const std::string& path);

// Splits on a single character, keeping empty fields.
std::vector<std::string> Split(const std::string& s, char sep);

// Splits on runs of spaces, tabs and line ends, dropping empty fields.
std::vector<std::string> SplitWhitespace(const std::string& s);

}  // namespace brick::inspect
