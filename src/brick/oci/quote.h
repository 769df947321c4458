// Quoting of config values inside error messages.
//
//   Fail("{}: {} is not an absolute path", field, Quote(value));   // "x\"\x0ay" stays one line
//
// Config values come from whoever wrote the config; escaping quotes and control bytes keeps
// a hostile value from forging extra lines or fields in a log.
#pragma once

#include <string>
#include <string_view>

namespace brick::oci {

// `s` in double quotes, with '"' and '\' backslash-escaped and control bytes as \xNN.
std::string Quote(std::string_view s);

}  // namespace brick::oci
