#include "store/object_store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace assay::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using ::assay::test::TempDir;

ObjectStore OpenOrDie(const fs::path& root) {
  auto store = ObjectStore::Open(root);
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(rng() & 0xff);
  return bytes;
}

std::vector<std::string> FilesIn(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string HostName() {
  char name[256] = {};
  ::gethostname(name, sizeof(name) - 1);
  return name;
}

TEST(ObjectStore, PutThenGet) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string bytes = RandomBytes(100'000, 1);
  auto hash = store.Put(bytes);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(*hash, common::Sha256Hex(bytes));

  // Layout: <root>/sha256/ab/cdef...
  EXPECT_EQ(store.PathFor(*hash), dir.path() / "sha256" / hash->substr(0, 2) / hash->substr(2));
  EXPECT_TRUE(fs::is_regular_file(store.PathFor(*hash)));
  EXPECT_TRUE(store.Contains(*hash));
  auto size = store.Size(*hash);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 100'000);

  auto read = store.Get(*hash);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);
  EXPECT_TRUE(FilesIn(dir.path() / "tmp").empty());
}

TEST(ObjectStore, EmptyObject) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  auto hash = store.Put("");
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto read = store.Get(*hash);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, "");
}

TEST(ObjectStore, PutIsIdempotent) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  auto first = store.Put("same bytes");
  ASSERT_TRUE(first.ok());
  const auto first_write = fs::last_write_time(store.PathFor(*first));
  auto second = store.Put("same bytes");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(fs::last_write_time(store.PathFor(*first)), first_write);  // Not rewritten.
  EXPECT_EQ(FilesIn(store.PathFor(*first).parent_path()).size(), 1u);
  EXPECT_TRUE(FilesIn(dir.path() / "tmp").empty());
}

TEST(ObjectStore, PutWithHashStoresUnderGivenHash) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string bytes = "precomputed";
  const std::string hash = common::Sha256Hex(bytes);
  ASSERT_TRUE(store.PutWithHash(bytes, hash).ok());
  auto read = store.Get(hash);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, bytes);
}

TEST(ObjectStore, DetectsCorruption) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string bytes = RandomBytes(4096, 2);
  auto hash = store.Put(bytes);
  ASSERT_TRUE(hash.ok());
  const fs::path path = store.PathFor(*hash);

  // Objects are stored read-only; a tamperer (or a disk) does not care.
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  std::string damaged = bytes;
  damaged[1234] = static_cast<char>(damaged[1234] ^ 0x01);
  WriteFile(path, damaged);

  auto read = store.Get(*hash);
  ASSERT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(read.status().message()),
              HasSubstr("object " + *hash + " is corrupt: stored bytes hash to " +
                        common::Sha256Hex(damaged)));
  // Same size: Put cannot tell and leaves it; Get keeps refusing it.
  EXPECT_TRUE(store.Put(bytes).ok());
  EXPECT_EQ(store.Get(*hash).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ObjectStore, PutRepairsTruncatedObject) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string bytes = RandomBytes(4096, 3);
  auto hash = store.Put(bytes);
  ASSERT_TRUE(hash.ok());
  fs::permissions(store.PathFor(*hash), fs::perms::owner_write, fs::perm_options::add);
  WriteFile(store.PathFor(*hash), bytes.substr(0, 100));
  EXPECT_EQ(store.Get(*hash).status().code(), absl::StatusCode::kDataLoss);

  ASSERT_TRUE(store.Put(bytes).ok());
  auto read = store.Get(*hash);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, bytes);
}

TEST(ObjectStore, MissingObjectIsNotFound) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string hash = common::Sha256Hex("never stored");
  EXPECT_FALSE(store.Contains(hash));
  EXPECT_EQ(store.Get(hash).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.Size(hash).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(store.Get(hash).status().message()), HasSubstr(hash));
}

TEST(ObjectStore, MalformedHashIsInvalidArgument) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string valid = common::Sha256Hex("x");
  std::string upper = valid;
  upper[0] = 'A';
  upper[1] = 'B';
  for (const std::string& bad :
       {std::string(), std::string("abc"), valid.substr(1), upper, valid + "0",
        std::string("../../../../etc/passwd") + std::string(42, 'a')}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(store.Get(bad).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store.Size(bad).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(store.PutWithHash("x", bad).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(store.Contains(bad));
    EXPECT_TRUE(store.PathFor(bad).empty());
  }
}

TEST(ObjectStore, OpenRemovesOnlyStaleTemporaries) {
  TempDir dir;
  ASSERT_TRUE(ObjectStore::Open(dir.path()).ok());
  const fs::path tmp = dir.path() / "tmp";
  const std::string host = HostName();

  // A PID that certainly belonged to a process that has exited: our own reaped child.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);

  const std::string dead_writer = "put-" + std::to_string(child) + "-00000000000000aa@" + host;
  const std::string live_writer = "put-" + std::to_string(::getpid()) + "-00000000000000bb@" + host;
  const std::string parent_writer =  // A live process of (possibly) another user.
      "put-1-00000000000000cc@" + host;
  const std::string other_host_recent = "put-123-00000000000000dd@some-other-host";
  const std::string other_host_old = "put-456-00000000000000ee@some-other-host";
  const std::string not_ours = "notes.txt";
  for (const std::string& name :
       {dead_writer, live_writer, parent_writer, other_host_recent, other_host_old, not_ours}) {
    WriteFile(tmp / name, "partial");
  }
  fs::last_write_time(tmp / other_host_old,
                      fs::file_time_type::clock::now() - std::chrono::hours(48));

  ASSERT_TRUE(ObjectStore::Open(dir.path()).ok());
  std::vector<std::string> expected = {live_writer, parent_writer, other_host_recent, not_ours};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(FilesIn(tmp), expected);
}

TEST(ObjectStore, ConcurrentPutsOfTheSameObject) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  const std::string bytes = RandomBytes(256 * 1024, 4);
  const std::string hash = common::Sha256Hex(bytes);

  constexpr int kThreads = 8;
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int round = 0; round < 5; ++round) {
        auto put = store.Put(bytes);
        if (!put.ok() || *put != hash) ++failures;
        // Whatever copy is in place at any instant is complete.
        auto read = store.Get(hash);
        if (!read.ok() || *read != bytes) ++failures;
      }
    });
  }
  go.store(true);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(FilesIn(dir.path() / "tmp").empty());
  EXPECT_EQ(FilesIn(store.PathFor(hash).parent_path()).size(), 1u);
}

TEST(ObjectStore, ConcurrentPutsOfDifferentObjects) {
  TempDir dir;
  ObjectStore store = OpenOrDie(dir.path());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string bytes = RandomBytes(1000, static_cast<uint64_t>(thread * 1000 + i));
        auto put = store.Put(bytes);
        if (!put.ok()) {
          ++failures;
          continue;
        }
        auto read = store.Get(*put);
        if (!read.ok() || *read != bytes) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  int objects = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir.path() / "sha256")) {
    if (entry.is_regular_file()) ++objects;
  }
  EXPECT_EQ(objects, kThreads * kPerThread);
}

}  // namespace
}  // namespace assay::store
