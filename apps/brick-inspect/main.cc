// brick-inspect: runs inside a container and reports what isolates it.
//
//   brick-inspect            human-readable report
//   brick-inspect --json     the same report as one JSON object
//   brick-inspect PROBE ...  one probe, see probes.h
//
// It is linked statically and depends on nothing but libc, so that it runs in any rootfs.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "probes.h"
#include "report.h"

int main(int argc, char** argv) {
  using namespace brick::inspect;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(RenderHumanReport(CollectReport()).c_str(), stdout);
    return 0;
  }
  if (args.size() == 1 && args[0] == "--json") {
    std::string json = CollectReport().ToJson();
    json += '\n';
    std::fwrite(json.data(), 1, json.size(), stdout);
    return 0;
  }
  if (args[0] == "-h" || args[0] == "--help") {
    std::fputs(ProbeUsage(), stdout);
    return 0;
  }
  return RunProbe(args);
}
