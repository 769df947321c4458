#include "brick/seccomp/filter_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "brick/seccomp/default_profile.h"
#include "brick/sys/fs.h"

namespace brick::seccomp {
namespace {

class FilterCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brick-seccomp-cache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;  // mkdtemp makes it 0700, owned by us (root)
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      out.push_back(e.path().filename().string());
    }
    return out;
  }

  std::string dir_;
};

TEST_F(FilterCacheTest, SecondCompileIsAHitWithTheSameProgram) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the cache is only used in a root-owned directory";
  }
  FilterCache cache(dir_);
  bool hit = true;
  auto cold = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(cold) << cold.error().message();
  EXPECT_FALSE(hit);
  EXPECT_TRUE(cold->warnings.empty()) << cold->warnings[0];
  EXPECT_EQ(Entries(), std::vector<std::string>{cache.KeyFor(DefaultProfile())});

  auto warm = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(warm) << warm.error().message();
  EXPECT_TRUE(hit);
  ASSERT_EQ(warm->instructions.size(), cold->instructions.size());
  EXPECT_EQ(memcmp(warm->instructions.data(), cold->instructions.data(),
                   cold->instructions.size() * sizeof(sock_filter)),
            0);
  EXPECT_EQ(warm->flags, cold->flags);
  EXPECT_EQ(warm->enosys.size(), cold->enosys.size());
}

TEST_F(FilterCacheTest, KeyChangesWithTheProfileAndTheOptions) {
  FilterCache cache(dir_);
  std::string a = cache.KeyFor(DefaultProfile(0));
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, cache.KeyFor(DefaultProfile(uint64_t{1} << 21)));
  CompileOptions o;
  o.enosys_for_newer_syscalls = false;
  EXPECT_NE(a, cache.KeyFor(DefaultProfile(0), o));
  EXPECT_EQ(a, cache.KeyFor(DefaultProfile(0)));
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(FilterCacheTest, CorruptOrForeignEntriesAreRecompiledNeverTrusted) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the cache is only used in a root-owned directory";
  }
  FilterCache cache(dir_);
  auto cold = cache.Compile(DefaultProfile());
  ASSERT_TRUE(cold);
  std::string path = dir_ + "/" + cache.KeyFor(DefaultProfile());
  std::string good = *ReadFile(path);

  // One flipped bit in an instruction: the checksum no longer matches.
  std::string flipped = good;
  flipped[flipped.size() - 40] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(path, flipped, 0600));
  bool hit = true;
  auto again = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(again);
  EXPECT_FALSE(hit);
  EXPECT_EQ(*ReadFile(path), good) << "the bad entry was rewritten";

  // A valid entry of another profile planted under this key: its stored key differs.
  std::string other_key = cache.KeyFor(DefaultProfile(uint64_t{1} << 21));
  ASSERT_TRUE(cache.Compile(DefaultProfile(uint64_t{1} << 21)));
  std::string other = *ReadFile(dir_ + "/" + other_key);
  ASSERT_TRUE(WriteFileAtomic(path, other, 0600));
  again = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(again);
  EXPECT_FALSE(hit);
  EXPECT_EQ(again->instructions.size(), cold->instructions.size());

  // Truncated.
  ASSERT_TRUE(WriteFileAtomic(path, good.substr(0, 20), 0600));
  again = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(again);
  EXPECT_FALSE(hit);

  // Group- or world-writable entry.
  ASSERT_TRUE(cache.Compile(DefaultProfile(), {}, &hit));
  ASSERT_EQ(chmod(path.c_str(), 0666), 0);
  again = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(again);
  EXPECT_FALSE(hit);
}

TEST_F(FilterCacheTest, ADirectoryOthersCanWriteIsNotUsed) {
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
  FilterCache cache(dir_);
  bool hit = true;
  auto p = cache.Compile(DefaultProfile(), {}, &hit);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_FALSE(hit);
  EXPECT_TRUE(Entries().empty());
  ASSERT_EQ(p->warnings.size(), 1u);
  EXPECT_NE(p->warnings[0].find("not root with 0700; not used"), std::string::npos)
      << p->warnings[0];
}

TEST_F(FilterCacheTest, MissingDirectoryIsCreated0700) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the cache is only used in a root-owned directory";
  }
  std::string sub = dir_ + "/brick/seccomp";
  FilterCache cache(sub);
  ASSERT_TRUE(cache.Compile(DefaultProfile()));
  struct stat st;
  ASSERT_EQ(stat(sub.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  bool hit = false;
  ASSERT_TRUE(cache.Compile(DefaultProfile(), {}, &hit));
  EXPECT_TRUE(hit);
}

TEST_F(FilterCacheTest, ConcurrentStartsLeaveOneWholeEntry) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "the cache is only used in a root-owned directory";
  }
  FilterCache cache(dir_);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        auto p = cache.Compile(DefaultProfile());
        if (!p || !p->warnings.empty()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  // No temporary files left, one entry, and it is a hit.
  EXPECT_EQ(Entries(), std::vector<std::string>{cache.KeyFor(DefaultProfile())});
  bool hit = false;
  ASSERT_TRUE(cache.Compile(DefaultProfile(), {}, &hit));
  EXPECT_TRUE(hit);
}

}  // namespace
}  // namespace brick::seccomp
