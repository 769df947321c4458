#include "brick/policy/profile.h"

#include <fmt/core.h>

#include "brick/cli/cli.h"
#include "brick/oci/spec.h"
#include "brick/policy/export_podman.h"
#include "brick/policy/export_systemd.h"
#include "brick/sys/fs.h"

namespace brick::cli {
namespace {

struct ProfileFlags {
  std::string profile;
  std::string rootfs;
  std::string output;
  bool systemd = false;
  bool podman = false;
  std::string image = "IMAGE";
};

Status WriteOut(const std::string& output, const std::string& text) {
  if (output.empty() || output == "-") {
    fmt::print("{}", text);
    return Ok();
  }
  return WriteFileAtomic(output, text, 0644);
}

}  // namespace

Action RegisterProfile(CLI::App& app) {
  auto f = std::make_shared<ProfileFlags>();
  app.require_subcommand(1);
  CLI::App* check = app.add_subcommand("check", "Validate a profile");
  check->add_option("profile", f->profile, "Profile file (.toml)")->required();
  CLI::App* compile = app.add_subcommand("compile", "Write the OCI config.json of a profile");
  compile->add_option("profile", f->profile, "Profile file (.toml)")->required();
  compile->add_option("--rootfs", f->rootfs, "root.path of the config (default: the profile's)");
  compile->add_option("-o,--output", f->output, "Write to FILE instead of stdout");
  CLI::App* exp = app.add_subcommand("export", "Export a profile to systemd or podman");
  exp->add_option("profile", f->profile, "Profile file (.toml)")->required();
  exp->add_flag("--systemd", f->systemd, "A systemd service unit with the same hardening");
  exp->add_flag("--podman", f->podman, "The equivalent `podman run` flags");
  exp->add_option("--image", f->image, "With --podman: the image to name (default IMAGE)");
  exp->add_option("-o,--output", f->output, "Write to FILE instead of stdout");
  return [f, check, compile, exp]() -> Result<int> {
    policy::Profile p = BRICK_TRY_VALUE(policy::LoadProfile(f->profile));
    if (check->parsed()) {
      // Compiling catches what only the whole config shows (an unknown device, a bad path).
      BRICK_TRY_VALUE(policy::CompileProfile(p, {}));
      std::string chain;
      for (const auto& c : p.chain) {
        chain += chain.empty() ? c : " -> " + c;
      }
      fmt::print("{}: ok{} ({})\n", f->profile,
                 p.unsafe.value_or(false) ? ", unsafe = true: weaker than default" : "", chain);
      return 0;
    }
    if (compile->parsed()) {
      policy::CompileOptions o;
      o.rootfs = f->rootfs;
      oci::Spec spec = BRICK_TRY_VALUE(policy::CompileProfile(p, o));
      if (p.address_families) {
        fmt::print(stderr,
                   "brick: note: address_families has no OCI equivalent; only "
                   "`brick profile export --systemd` enforces it\n");
      }
      BRICK_TRY(WriteOut(f->output, oci::SerializeSpec(spec) + "\n"));
      return 0;
    }
    if (f->systemd == f->podman) {
      return Fail("profile export: give exactly one of --systemd or --podman");
    }
    std::string text = f->systemd ? BRICK_TRY_VALUE(policy::ExportSystemdUnit(p))
                                  : BRICK_TRY_VALUE(policy::ExportPodmanFlags(p, f->image));
    BRICK_TRY(WriteOut(f->output, text));
    (void)exp;
    return 0;
  };
}

}  // namespace brick::cli
