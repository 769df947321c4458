// Path checks done on the string alone, before any file system is involved.
//
//   LexicalClean("/a//b/./../c/")        -> "/a/c"
//   LexicallyEscapesRoot("/../etc")      -> true   (a ".." climbs above the start)
//   LexicallyEscapesRoot("a/b/../c")     -> false
//
// These only reject configs that are wrong on their face. They are not a way to resolve a
// path inside a container root: symlinks can still escape, so the isolation code resolves
// every path from the root fd (see brick/sys/fs.h).
#pragma once

#include <string>
#include <string_view>

namespace brick::oci {

// Removes empty and "." components and folds "name/.." pairs. A ".." that would climb above
// "/" is dropped for an absolute path and kept for a relative one. "" becomes ".".
std::string LexicalClean(std::string_view path);

// True when, reading components left to right, a ".." goes above the starting directory.
// "/" and a relative path count as the same starting point: "/../x" and "../x" both escape.
bool LexicallyEscapesRoot(std::string_view path);

inline bool IsAbsolutePath(std::string_view path) { return !path.empty() && path[0] == '/'; }

}  // namespace brick::oci
