#include "brick/isolation/idmap_alloc.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

namespace brick::isolation {
namespace {

using ::testing::HasSubstr;

TEST(ParseSubIdRanges, FindsTheUserAndSkipsCommentsAndOthers) {
  auto r = ParseSubIdRanges("# comment\n\nalice:100000:65536\nbrick:200000:1310720\n",
                            "/etc/subuid", "brick");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->start, 200000u);
  EXPECT_EQ((*r)->count, 1310720u);
  auto none = ParseSubIdRanges("alice:100000:65536\n", "/etc/subuid", "brick");
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST(ParseSubIdRanges, MalformedLinesNameFileAndLine) {
  auto missing = ParseSubIdRanges("alice:1:2\nbrick:100000\n", "/etc/subuid", "brick");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), "/etc/subuid:2: \"brick:100000\" is not name:start:count");
  auto junk = ParseSubIdRanges("\n\nbrick:1x:65536\n", "/etc/subgid", "brick");
  ASSERT_FALSE(junk);
  EXPECT_THAT(junk.error().message(), HasSubstr("/etc/subgid:3: "));
  auto overflow = ParseSubIdRanges("brick:4294967000:65536\n", "f", "brick");
  ASSERT_FALSE(overflow);
  EXPECT_THAT(overflow.error().message(), HasSubstr("f:1: range 4294967000:65536"));
  EXPECT_FALSE(ParseSubIdRanges("brick:1:0\n", "f", "brick"));
}

class IdAllocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/brick-idmap-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    top_ = tmpl;
    options_.subuid_path = top_ / "subuid";
    options_.subgid_path = top_ / "subgid";
    options_.state_dir = top_ / "state/idmap";
  }
  void TearDown() override { std::filesystem::remove_all(top_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(top_ / name) << text;
  }
  std::filesystem::path top_;
  IdAllocatorOptions options_;
};

TEST_F(IdAllocTest, DefaultRangesWithoutSubidEntries) {
  auto slots = LoadIdSlots(options_);  // neither file exists
  ASSERT_TRUE(slots) << slots.error().message();
  EXPECT_EQ(slots->uid_base, 1000000000u);
  EXPECT_EQ(slots->count, 1024u);
  auto lease = AllocateIdRange(options_);
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(lease->slot(), 0u);
  EXPECT_EQ(lease->uid_start(), 1000000000u);
  auto uids = lease->UidMappings();
  ASSERT_EQ(uids.size(), 1u);
  EXPECT_EQ(uids[0].container_id, 0u);
  EXPECT_EQ(uids[0].host_id, 1000000000u);
  EXPECT_EQ(uids[0].size, 65536u);
}

TEST_F(IdAllocTest, SubidEntriesAreCutIntoSlots) {
  Write("subuid", "brick:100000:196608\n");
  Write("subgid", "brick:300000:131072\n");
  auto slots = LoadIdSlots(options_);
  ASSERT_TRUE(slots) << slots.error().message();
  EXPECT_EQ(slots->count, 2u);  // the smaller of the two ranges
  auto a = AllocateIdRange(options_);
  auto b = AllocateIdRange(options_);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->uid_start(), 100000u);
  EXPECT_EQ(a->gid_start(), 300000u);
  EXPECT_EQ(b->uid_start(), 165536u);
  EXPECT_EQ(b->gid_start(), 365536u);
  auto c = AllocateIdRange(options_);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("all 2 host id ranges are in use"));
}

TEST_F(IdAllocTest, EntryInOnlyOneFileOrTooSmallIsAnError) {
  Write("subuid", "brick:100000:65536\n");
  auto one = LoadIdSlots(options_);
  ASSERT_FALSE(one);
  EXPECT_THAT(one.error().message(), HasSubstr("has an entry for brick but"));
  Write("subgid", "brick:100000:1000\n");
  auto small = LoadIdSlots(options_);
  ASSERT_FALSE(small);
  EXPECT_THAT(small.error().message(), HasSubstr("a container needs 65536"));
}

TEST_F(IdAllocTest, TwoLeasesNeverShareASlotAndReleaseFreesIt) {
  auto a = AllocateIdRange(options_);
  auto b = AllocateIdRange(options_);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->slot(), b->slot());
  EXPECT_NE(a->uid_start(), b->uid_start());
  uint32_t freed = a->slot();
  a->Release();
  EXPECT_FALSE(std::filesystem::exists(options_.state_dir + "/slot-0.lock"));
  auto c = AllocateIdRange(options_);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->slot(), freed);
}

TEST_F(IdAllocTest, LeaseFdIsCloseOnExecAndMoveOnly) {
  auto a = AllocateIdRange(options_);
  ASSERT_TRUE(a);
  EXPECT_TRUE(fcntl(a->lock_fd(), F_GETFD) & FD_CLOEXEC);
  IdRangeLease moved = std::move(*a);
  EXPECT_FALSE(a->held());
  EXPECT_TRUE(moved.held());
  // Still held by `moved`: another allocation takes the next slot.
  auto b = AllocateIdRange(options_);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->slot(), moved.slot() + 1);
}

// Another process (another brick) holding slot 0 is respected; once it dies without
// cleaning up, its lock file is stale and the slot is reused.
TEST_F(IdAllocTest, SlotOfALiveProcessIsSkippedAndOfADeadOneReused) {
  int ready[2];
  int release[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(release), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto lease = AllocateIdRange(options_);
    char c = lease && lease->slot() == 0 ? 'y' : 'n';
    (void)!write(ready[1], &c, 1);
    (void)!read(release[0], &c, 1);
    _exit(0);  // dies holding the lease: no Release, the lock file stays
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  {
    auto other = AllocateIdRange(options_);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->slot(), 1u);
  }
  ASSERT_EQ(write(release[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(std::filesystem::exists(options_.state_dir + "/slot-0.lock"));
  auto reused = AllocateIdRange(options_);
  ASSERT_TRUE(reused);
  EXPECT_EQ(reused->slot(), 0u);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) {
    close(fd);
  }
}

// Release must not unlink a lock file that is no longer the one it locked.
TEST_F(IdAllocTest, ReleaseLeavesAReplacedLockFileAlone) {
  auto a = AllocateIdRange(options_);
  ASSERT_TRUE(a);
  std::string path = options_.state_dir + "/slot-0.lock";
  ASSERT_EQ(unlink(path.c_str()), 0);
  Write("state/idmap/slot-0.lock", "");  // someone else's file now
  a->Release();
  EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace brick::isolation

namespace brick::isolation {
namespace {

TEST_F(IdAllocTest, KeptSlotStaysTakenWhileItsOwnerDirExists) {
  std::string owner = (top_ / "container-a").string();
  ASSERT_EQ(mkdir(owner.c_str(), 0700), 0);
  {
    auto lease = AllocateIdRange(options_);
    ASSERT_TRUE(lease) << lease.error().message();
    ASSERT_EQ(lease->slot(), 0u);
    ASSERT_TRUE(lease->KeepFor(owner));
  }  // the keeping process is gone: no lock is held any more
  auto second = AllocateIdRange(options_);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->slot(), 1u);  // slot 0 still belongs to container-a
  second->Release();
  ASSERT_EQ(rmdir(owner.c_str()), 0);  // its state is gone: the slot is free again
  auto third = AllocateIdRange(options_);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->slot(), 0u);
}

TEST_F(IdAllocTest, FreeKeptSlotOnlyFreesTheOwnersSlot) {
  std::string owner = (top_ / "container-b").string();
  ASSERT_EQ(mkdir(owner.c_str(), 0700), 0);
  auto lease = AllocateIdRange(options_);
  ASSERT_TRUE(lease);
  ASSERT_TRUE(lease->KeepFor(owner));
  ASSERT_TRUE(FreeKeptSlot(options_, 0, (top_ / "someone-else").string()));
  EXPECT_EQ(AllocateIdRange(options_)->slot(), 1u);
  ASSERT_TRUE(FreeKeptSlot(options_, 0, owner));
  EXPECT_EQ(AllocateIdRange(options_)->slot(), 0u);
  rmdir(owner.c_str());
}

}  // namespace
}  // namespace brick::isolation
