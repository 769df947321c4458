// brick run's secrets, profiles and the host policy, observed from inside the container.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "container.h"
#include "harness.h"

namespace brick::integration {
namespace {

using ::testing::HasSubstr;

TEST(SecretsTest, ArriveAsPrivateTmpfsFilesOwnedByTheUserAndNotInEnv) {
  TempDir dir;
  std::string file = dir / "token";
  ASSERT_TRUE(WriteFile(file, "top-secret-value"));
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  RunResult r = BrickRun({"--secret", "api_token=" + file},
                         {"/bin/sh", "-c",
                          "stat -c '%a %u %g' /run/secrets/api_token; cat /run/secrets/api_token; "
                          "echo; grep ' /run/secrets ' /proc/self/mountinfo | cut -d' ' -f9; "
                          "env | grep -c top-secret || true"});
  ASSERT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_EQ(r.out, "400 1000 1000\ntop-secret-value\ntmpfs\n0\n");
}

TEST(SecretsTest, MissingFileOrBadNameIsRefused) {
  RunResult missing = BrickRun({"--secret", "x=/nonexistent/brick-secret"}, {"true"});
  EXPECT_EQ(missing.ExitCode(), 125);
  EXPECT_THAT(missing.err, HasSubstr("secret x"));
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent/brick-secret"));
  RunResult bad = BrickRun({"--secret", "../x=/etc/hostname"}, {"true"});
  EXPECT_EQ(bad.ExitCode(), 125);
  EXPECT_THAT(bad.err, HasSubstr("the name may hold only"));
}

TEST(ProfileRunTest, DefaultProfileRunsWithEveryDefault) {
  nlohmann::json j;
  ASSERT_TRUE(InspectJson({"--profile", std::string(BRICK_SOURCE_DIR) +
                                            "/tests/data/profiles/default.toml"},
                          &j));
  EXPECT_EQ(j.dump().find("\"no_new_privs\":1") != std::string::npos ||
                j.dump().find("\"no_new_privs\":true") != std::string::npos,
            true)
      << j.dump().substr(0, 400);
}

TEST(HostPolicyTest, RecommendedPolicyRefusesAHostNamespaceNamingTheRule) {
  TempDir dir;
  std::string policy = dir / "policy.toml";
  ASSERT_TRUE(WriteFile(policy, "baseline = \"recommended\"\n"));
  HostSnapshot before = HostSnapshot::Capture();
  RunResult r = RunCommand({kBrick, "--policy", policy, "run", "--unsafe-share", "net", "--",
                            "true"});
  EXPECT_EQ(r.ExitCode(), 125) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("BRICK-"));
  EXPECT_EQ(HostSnapshot::Capture().mountinfo, before.mountinfo);
  // The defaults pass the same policy.
  RunResult ok = RunCommand({kBrick, "--policy", policy, "run", "--", "true"});
  EXPECT_EQ(ok.ExitCode(), 0) << ok.Describe();
}

TEST(HostPolicyTest, WithoutAPolicyFileOnlyWarnsInTheLog) {
  TempDir dir;
  std::string log = dir / "brick.log";
  RunResult r = RunCommand({kBrick, "--policy", dir / "absent.toml", "--log", log, "run",
                            "--unsafe-share", "net", "--", "true"});
  EXPECT_EQ(r.ExitCode(), 0) << r.Describe();
  EXPECT_THAT(ReadFileOrEmpty(log), HasSubstr("warning"));
}

}  // namespace
}  // namespace brick::integration
