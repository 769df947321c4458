#include "brick/policy/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "brick/policy/audit.h"
#include "brick/policy/export_podman.h"
#include "brick/policy/export_systemd.h"
#include "brick/runtime/default_spec.h"
#include "brick/sys/fs.h"

namespace brick::policy {
namespace {

using ::testing::HasSubstr;

const std::string kProfiles = std::string(BRICK_POLICY_TEST_DATA_DIR) + "/profiles/";

// Compares with tests/data/profiles/NAME; BRICK_UPDATE_GOLDEN=1 rewrites the file instead
// (review the diff before committing it).
void ExpectGolden(const std::string& name, const std::string& actual) {
  std::string path = kProfiles + name;
  if (getenv("BRICK_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteFileAtomic(path, actual, 0644).has_value());
    return;
  }
  auto expected = ReadFile(path);
  ASSERT_TRUE(expected.has_value()) << path << ": " << expected.error().message()
                                    << " (run with BRICK_UPDATE_GOLDEN=1 to create it)";
  EXPECT_EQ(*expected, actual) << "golden " << path
                               << " differs; if the change is intended, rerun with "
                                  "BRICK_UPDATE_GOLDEN=1 and review the diff";
}

Profile Load(const std::string& name) {
  auto p = LoadProfile(kProfiles + name);
  EXPECT_TRUE(p.has_value()) << name << ": " << p.error().message();
  return p.value_or(Profile{});
}

TEST(ProfileTest, DefaultCompilesToBuildDefaultSpecAndScores100) {
  Profile p = Load("default.toml");
  auto spec = CompileProfile(p, {.rootfs = "rootfs"});
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  runtime::DefaultSpecOptions o;
  o.rootfs = "rootfs";
  EXPECT_EQ(*spec, *runtime::BuildDefaultSpec(o));
  auto report = AuditTarget(kProfiles + "default.toml", {.host = HostFacts{}});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->Score(), 100) << FormatTable(*report);
  EXPECT_EQ(report->Count(Outcome::kSkip), 0);
}

TEST(ProfileTest, GoldenCompileAndExports) {
  for (const char* name : {"default", "web"}) {
    Profile p = Load(std::string(name) + ".toml");
    auto spec = CompileProfile(p, {.rootfs = "rootfs"});
    ASSERT_TRUE(spec.has_value()) << spec.error().message();
    ExpectGolden(std::string(name) + ".config.golden", oci::SerializeSpec(*spec) + "\n");
    auto unit = ExportSystemdUnit(p);
    ASSERT_TRUE(unit.has_value()) << unit.error().message();
    ExpectGolden(std::string(name) + ".systemd.golden", *unit);
    auto flags = ExportPodmanFlags(p, "IMAGE");
    ASSERT_TRUE(flags.has_value()) << flags.error().message();
    ExpectGolden(std::string(name) + ".podman.golden", *flags);
  }
}

TEST(ProfileTest, WebProfileFields) {
  Profile p = Load("web.toml");
  auto spec = CompileProfile(p, {.rootfs = "rootfs"});
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  EXPECT_EQ(spec->process->user.additional_gids, std::vector<uint32_t>{100});
  EXPECT_EQ(spec->process->user.umask, 027u);
  EXPECT_EQ(spec->process->capabilities->bounding, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_EQ(spec->process->selinux_label, "system_u:system_r:container_t:s0:c1,c2");
  EXPECT_EQ(spec->linux.resources->memory->limit, 256 << 20);
  EXPECT_EQ(spec->linux.resources->cpu->quota, 50000);
  EXPECT_EQ(spec->linux.sysctl.at("net.ipv4.ip_unprivileged_port_start"), "80");
  EXPECT_EQ(spec->annotations.at(kSecretsAnnotation), "tls_key=/etc/brick/secrets/web.key\n");
  bool ro_volume = false;
  for (const auto& m : spec->mounts) {
    if (m.destination == "/srv") {
      ro_volume = std::find(m.options.begin(), m.options.end(), "ro") != m.options.end();
    }
  }
  EXPECT_TRUE(ro_volume) << "volumes are read-only unless writable = true";
}

TEST(ProfileTest, UnknownKeyHasLineColumnAndSuggestion) {
  auto p = LoadProfile(kProfiles + "unknown-key.toml");
  ASSERT_FALSE(p.has_value());
  EXPECT_THAT(p.error().message(),
              HasSubstr("unknown-key.toml:5:1: unknown key \"dorp\" in [capabilities]; did you "
                        "mean \"drop\"?"));
  auto top = LoadProfileText("extnds = \"default\"\n", "p.toml");
  ASSERT_FALSE(top.has_value());
  EXPECT_THAT(top.error().message(), HasSubstr("p.toml:1:1: unknown key \"extnds\"; did you mean "
                                               "\"extends\"?"));
}

TEST(ProfileTest, TypeErrorsAndSyntaxErrorsHavePositions) {
  auto t = LoadProfileText("[user]\nuid = \"root\"\n", "p.toml");
  ASSERT_FALSE(t.has_value());
  EXPECT_THAT(t.error().message(), HasSubstr("p.toml:2:7: user.uid must be a whole number"));
  auto s = LoadProfileText("[limits]\nmemory = \"lots\"\n", "p.toml");
  ASSERT_FALSE(s.has_value());
  EXPECT_THAT(s.error().message(), HasSubstr("p.toml:2:10: limits.memory must be a positive size"));
  auto syntax = LoadProfileText("[user\n", "p.toml");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_THAT(syntax.error().message(), HasSubstr("p.toml:1:"));
}

TEST(ProfileTest, ConflictsAreErrors) {
  auto c = LoadProfile(kProfiles + "conflict.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message(),
              HasSubstr("conflict.toml:3:8: CAP_NET_BIND_SERVICE is both added and dropped"));
  auto n = LoadProfileText("network = \"none\"\n[namespaces]\nshare = [\"net\"]\n", "p.toml");
  ASSERT_FALSE(n.has_value());
  EXPECT_THAT(n.error().message(), HasSubstr("p.toml:3:9: namespaces.share has \"net\" but network"));
  auto cap = LoadProfileText("[capabilities]\nadd = [\"CAP_NET_BIND\"]\n", "p.toml");
  ASSERT_FALSE(cap.has_value());
  EXPECT_THAT(cap.error().message(), HasSubstr("p.toml:2:8: capabilities.add"));
}

TEST(ProfileTest, WeakerThanDefaultNeedsUnsafe) {
  auto w = LoadProfile(kProfiles + "weaker-without-unsafe.toml");
  ASSERT_FALSE(w.has_value());
  EXPECT_THAT(w.error().message(), HasSubstr("weaker than `default` (BRICK-ROOTFS-001)"));
  EXPECT_THAT(w.error().message(), HasSubstr("set unsafe = true"));
  Profile u = Load("unsafe.toml");
  EXPECT_TRUE(u.unsafe.value_or(false));
  auto report = AuditTarget(kProfiles + "unsafe.toml", {.host = HostFacts{}});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  std::map<std::string, Outcome> by_id;
  for (const auto& f : report->findings) {
    by_id[std::string(f.rule->id)] = f.outcome;
  }
  EXPECT_EQ(by_id["BRICK-PROFILE-001"], Outcome::kWarn);
  EXPECT_EQ(by_id["BRICK-NS-004"], Outcome::kFail);
  EXPECT_EQ(by_id["BRICK-ROOTFS-001"], Outcome::kWarn);
  EXPECT_LT(report->Score(), 100);
}

TEST(ProfileTest, ExtendsChainsAndMerges) {
  Profile m = Load("minimal-child.toml");
  EXPECT_EQ(m.chain, (std::vector<std::string>{kProfiles + "minimal-child.toml", "minimal",
                                               "default"}));
  EXPECT_EQ(m.memory, 128 << 20);
  EXPECT_EQ(*m.command, std::vector<std::string>{"/bin/true"});

  Profile base;
  base.cap_add = {"CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
  base.env = {{"A", "1"}, {"B", "2"}};
  Profile child;
  child.cap_drop = {"CAP_CHOWN"};
  child.env = {{"B", "3"}};
  Profile merged = MergeProfiles(base, child);
  EXPECT_EQ(merged.cap_add, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
  EXPECT_EQ(merged.env.at("B"), "3");
  EXPECT_EQ(merged.env.at("A"), "1");

  auto missing = LoadProfileText("extends = \"nope.toml\"\n", "/tmp/p.toml");
  ASSERT_FALSE(missing.has_value());
  EXPECT_THAT(missing.error().message(), HasSubstr("extends \"nope.toml\""));
}

TEST(ProfileTest, ParseSize) {
  EXPECT_EQ(ParseSize("512M"), 512 << 20);
  EXPECT_EQ(ParseSize("1GiB"), int64_t{1} << 30);
  EXPECT_EQ(ParseSize("64k"), 64 << 10);
  EXPECT_EQ(ParseSize("100"), 100);
  EXPECT_FALSE(ParseSize("12Q").has_value());
  EXPECT_FALSE(ParseSize("").has_value());
  EXPECT_FALSE(ParseSize("-1M").has_value());
}

TEST(ProfileTest, ExportedUnitPassesSystemdAnalyzeVerify) {
  if (access("/usr/bin/systemd-analyze", X_OK) != 0 && access("/bin/systemd-analyze", X_OK) != 0) {
    GTEST_SKIP() << "systemd-analyze is not installed";
  }
  auto p = LoadProfileText("command = [\"/bin/sleep\", \"1\"]\n", "sleep.toml");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  auto unit = ExportSystemdUnit(*p);
  ASSERT_TRUE(unit.has_value()) << unit.error().message();
  std::string path = "/tmp/brick-profile-test-" + std::to_string(getpid()) + ".service";
  ASSERT_TRUE(WriteFileAtomic(path, *unit, 0644).has_value());
  std::string cmd = "systemd-analyze verify " + path + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) {
    out.append(buf, n);
  }
  int status = pclose(pipe);
  unlink(path.c_str());
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("Unknown key"))) << out;
}

}  // namespace
}  // namespace brick::policy
