#include "brick/runtime/default_spec.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace brick::runtime {
namespace {

bool HasMount(const oci::Spec& s, const std::string& dest) {
  return std::any_of(s.mounts.begin(), s.mounts.end(),
                     [&](const oci::Mount& m) { return m.destination == dest; });
}

oci::Spec Defaults(DefaultSpecOptions o = {}) {
  o.rootfs = "/tmp/rootfs";
  auto s = BuildDefaultSpec(o);
  EXPECT_TRUE(s) << s.error().message();
  return *s;
}

TEST(DefaultSpecTest, EveryLayerIsOn) {
  oci::Spec s = Defaults();
  EXPECT_EQ(s.linux.namespaces.size(), 8u);
  EXPECT_TRUE(s.root.readonly);
  ASSERT_TRUE(s.process);
  EXPECT_EQ(s.process->user.uid, 1000u);
  EXPECT_TRUE(s.process->no_new_privileges);
  ASSERT_TRUE(s.process->capabilities);
  EXPECT_TRUE(s.process->capabilities->bounding.empty());
  EXPECT_TRUE(s.process->capabilities->effective.empty());
  EXPECT_TRUE(s.process->capabilities->ambient.empty());
  ASSERT_TRUE(s.linux.seccomp);
  EXPECT_EQ(s.linux.uid_mappings.size(), 1u);
  EXPECT_EQ(s.linux.uid_mappings[0].container_id, 0u);
  EXPECT_GE(s.linux.uid_mappings[0].host_id, 100000u);
  EXPECT_EQ(s.annotations.at(kAutoUsernsAnnotation), "auto");
  for (const char* m :
       {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/tmp", "/run"}) {
    EXPECT_TRUE(HasMount(s, m)) << m;
  }
  for (const char* p : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug",
                        "/proc/acpi", "/proc/scsi", "/sys/firmware"}) {
    EXPECT_NE(std::find(s.linux.masked_paths.begin(), s.linux.masked_paths.end(), p),
              s.linux.masked_paths.end())
        << p;
  }
  ASSERT_TRUE(s.linux.resources);
  ASSERT_TRUE(s.linux.resources->memory);
  EXPECT_EQ(s.linux.resources->memory->limit, 512 * 1024 * 1024);
  ASSERT_TRUE(s.linux.resources->pids);
  EXPECT_EQ(s.linux.resources->pids->limit, 1024);
  EXPECT_EQ(s.hostname, "brick");
}

TEST(DefaultSpecTest, RlimitsDefaultsAndOverride) {
  DefaultSpecOptions o;
  o.ulimits.push_back(*ParseUlimit("nofile=100:200"));
  oci::Spec s = Defaults(o);
  auto find = [&](const std::string& t) {
    return std::find_if(s.process->rlimits.begin(), s.process->rlimits.end(),
                        [&](const oci::Rlimit& r) { return r.type == t; });
  };
  ASSERT_NE(find("RLIMIT_CORE"), s.process->rlimits.end());
  EXPECT_EQ(find("RLIMIT_CORE")->hard, 0u);
  EXPECT_EQ(find("RLIMIT_NOFILE")->soft, 100u);
  EXPECT_EQ(find("RLIMIT_NOFILE")->hard, 200u);
  EXPECT_EQ(find("RLIMIT_NPROC")->soft, 1024u);
}

TEST(DefaultSpecTest, EachRelaxationIsExplicit) {
  DefaultSpecOptions o;
  o.unsafe_share = {"net", "user"};
  o.unsafe_no_seccomp = true;
  o.unsafe_writable_root = true;
  o.unsafe_allow_new_privileges = true;
  o.unsafe_unmask = {"/proc/kcore"};
  o.cap_add = {"net_bind_service"};
  oci::Spec s = Defaults(o);
  EXPECT_EQ(s.linux.namespaces.size(), 6u);
  EXPECT_FALSE(s.linux.FindNamespace(oci::NamespaceType::kNetwork));
  EXPECT_TRUE(s.linux.uid_mappings.empty());
  EXPECT_FALSE(s.linux.seccomp);
  EXPECT_FALSE(s.root.readonly);
  EXPECT_FALSE(s.process->no_new_privileges);
  EXPECT_EQ(std::count(s.linux.masked_paths.begin(), s.linux.masked_paths.end(), "/proc/kcore"), 0);
  EXPECT_EQ(s.process->capabilities->ambient, std::vector<std::string>{"CAP_NET_BIND_SERVICE"});
}

TEST(DefaultSpecTest, RejectsUnknownRelaxations) {
  DefaultSpecOptions o;
  o.rootfs = "/tmp/rootfs";
  o.unsafe_share = {"mount"};
  auto s = BuildDefaultSpec(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("--unsafe-share mount"), std::string::npos);
  o.unsafe_share.clear();
  o.unsafe_unmask = {"/etc"};
  s = BuildDefaultSpec(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("--unsafe-unmask /etc"), std::string::npos);
  o.unsafe_unmask.clear();
  o.cpu_weight = 0;
  s = BuildDefaultSpec(o);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("--cpu-weight 0"), std::string::npos);
}

TEST(VolumeTest, ReadOnlyUnlessRw) {
  auto v = ParseVolume("/host:/data");
  ASSERT_TRUE(v);
  EXPECT_FALSE(v->writable);
  EXPECT_TRUE(ParseVolume("/host:/data:rw")->writable);
  auto bad = ParseVolume("/host:/data:rx");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("must be ro or rw"), std::string::npos);
  EXPECT_FALSE(ParseVolume("relative:/data"));
  EXPECT_FALSE(ParseVolume("/host"));
}

TEST(UlimitTest, ParsesNamesAndRejectsJunk) {
  auto r = ParseUlimit("nofile=10");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, "RLIMIT_NOFILE");
  EXPECT_EQ(r->soft, 10u);
  EXPECT_EQ(r->hard, 10u);
  EXPECT_FALSE(ParseUlimit("nofile"));
  EXPECT_FALSE(ParseUlimit("nofile=x"));
}

}  // namespace
}  // namespace brick::runtime
