#include "audit/audit_trail.h"

#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/files.h"
#include "common/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "store/metadata_store.h"
#include "store/sqlite_metadata_store.h"
#include "tests/testing/raw_sqlite.h"
#include "tests/testing/temp_dir.h"

namespace assay::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr int64_t kStart = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
const std::string kGenesis(64, '0');

using ::assay::test::TempDir;

// What an attacker with file access does: a plain sqlite3 connection to the workspace file,
// with the append-only triggers dropped so rows can be edited and deleted.
class RawConnection : public test::RawSqlite {
 public:
  using RawSqlite::RawSqlite;
  void Exec(const std::string& sql) { MustExec(sql); }
  void DropTriggers() {
    MustExec("DROP TRIGGER audit_log_no_update");
    MustExec("DROP TRIGGER audit_log_no_delete");
  }
};

CheckpointKey KeyFromSeed(char fill) {
  auto key = CheckpointKeyFromSeed(std::string(32, fill));
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

// A workspace-like setup: a metadata store, a trail on a fake clock, a key and a checkpoint.
class Trail {
 public:
  Trail() : clock_(kStart), trail_(clock_), key_(KeyFromSeed('\x01')) {
    auto store = store::OpenSqliteMetadataStore(db_path());
    EXPECT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  const fs::path db_path() const { return dir_.path() / "assay.db"; }
  const fs::path checkpoint_path() const { return dir_.path() / "audit_checkpoint.json"; }
  const fs::path& dir() const { return dir_.path(); }
  store::MetadataStore& store() { return *store_; }
  const AuditTrail& trail() const { return trail_; }
  const CheckpointKey& key() const { return key_; }
  common::FakeClock& clock() { return clock_; }

  // Appends one event in its own transaction, then moves the checkpoint (as the catalog does).
  AuditEntry Append(AuditEvent event, bool checkpoint = true) {
    AuditEntry appended;
    absl::Status status = store_->WithTransaction([&](store::SqlSession& session) -> absl::Status {
      auto entry = trail_.Append(session, std::move(event));
      if (!entry.ok()) return entry.status();
      appended = *entry;
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    if (checkpoint) {
      absl::Status written = trail_.WriteCheckpoint(*store_, checkpoint_path(), key_);
      EXPECT_TRUE(written.ok()) << written;
    }
    clock_.Advance(1'000'000);
    return appended;
  }

  // Entry n (1-based) of a small, varied history.
  static AuditEvent Event(int n) {
    AuditEvent event;
    event.actor = n % 2 == 0 ? "bob" : "alice";
    event.action = n == 1 ? "project.create" : "dataset.import";
    event.project_key = n % 3 == 0 ? "OTHER" : "CHURN";
    event.object_type = n == 1 ? "project" : "dataset";
    event.object_id = n == 1 ? "CHURN" : "CHURN/providers";
    event.object_version = n == 1 ? "" : "v" + std::to_string(n - 1);
    event.after_hash = common::Sha256Hex("version " + std::to_string(n));
    event.details = {{"rows", 1000 + n}, {"source", "providers.csv"}};
    event.reason = n == 2 ? "initial load" : "";
    return event;
  }

  void AppendHistory(int count) {
    for (int n = 1; n <= count; ++n) Append(Event(n));
  }

  VerifyReport Verify() {
    auto report = trail_.Verify(*store_, checkpoint_path(), key_);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport{false, 0, -1, "verify failed"};
  }

  std::vector<AuditEntry> All() {
    auto entries = trail_.List(*store_, AuditFilter());
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? *entries : std::vector<AuditEntry>();
  }

 private:
  TempDir dir_;
  common::FakeClock clock_;
  AuditTrail trail_;
  CheckpointKey key_;
  std::unique_ptr<store::MetadataStore> store_;
};

std::string ReadText(const fs::path& path) {
  auto text = common::ReadFile(path);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : std::string();
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

// --- Entries and canonical form ----------------------------------------------------------

TEST(AuditTrail, CanonicalJsonIsStable) {
  AuditEntry entry;
  entry.seq = 7;
  entry.time_micros = kStart;
  entry.event.actor = "alice";
  entry.event.action = "dataset.import";
  entry.event.project_key = "CHURN";
  entry.event.object_type = "dataset";
  entry.event.object_id = "CHURN/providers";
  entry.event.object_version = "v2";
  entry.event.before_hash = "";
  entry.event.after_hash = "ab";
  entry.event.details = {{"z", 1}, {"a", {{"y", "é\"\n"}, {"b", json::array({3, -1})}}}};
  entry.event.reason = "monthly refresh";
  entry.prev_hash = kGenesis;
  // Golden: changing this string changes every entry hash ever written. Do not, without a
  // format version.
  const std::string expected =
      R"({"action":"dataset.import","actor":"alice","after_hash":"ab","before_hash":"",)"
      R"("details":{"a":{"b":[3,-1],"y":"é\"\n"},"z":1},"object_id":"CHURN/providers",)"
      R"("object_type":"dataset","object_version":"v2","prev_hash":")" +
      kGenesis +
      R"(","project_key":"CHURN","reason":"monthly refresh","seq":7,)"
      R"("time_micros":1767225600000000})";
  EXPECT_EQ(CanonicalEntryJson(entry), expected);
  EXPECT_EQ(ComputeEntryHash(entry), common::Sha256Hex(kGenesis + "\n" + expected));
  EXPECT_EQ(ComputeEntryHash(entry),
            "2902e4084f3a5312daa7d4a682181cc34198712b654496de9d222485434da385");
}

TEST(AuditTrail, AppendChainsEntries) {
  Trail t;
  const AuditEntry first = t.Append(Trail::Event(1));
  const AuditEntry second = t.Append(Trail::Event(2));
  EXPECT_EQ(first.seq, 1);
  EXPECT_EQ(first.prev_hash, kGenesis);
  EXPECT_EQ(first.time_micros, kStart);
  EXPECT_EQ(first.entry_hash, ComputeEntryHash(first));
  EXPECT_TRUE(common::IsSha256Hex(first.entry_hash));
  EXPECT_EQ(second.seq, 2);
  EXPECT_EQ(second.prev_hash, first.entry_hash);
  EXPECT_EQ(second.time_micros, kStart + 1'000'000);
  EXPECT_EQ(second.event.reason, "initial load");

  // details are stored as canonical JSON text.
  auto rows = t.store().Query("SELECT details_json FROM audit_log WHERE seq = 2");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].GetText(0), R"({"rows":1002,"source":"providers.csv"})");

  const std::vector<AuditEntry> all = t.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].entry_hash, second.entry_hash);
  EXPECT_EQ(all[1].event.details, second.event.details);
}

TEST(AuditTrail, AppendRejectsIncompleteEvents) {
  Trail t;
  auto append = [&](AuditEvent event) {
    return t.store().WithTransaction(
        [&](store::SqlSession& session) { return t.trail().Append(session, event).status(); });
  };
  AuditEvent no_actor = Trail::Event(1);
  no_actor.actor.clear();
  EXPECT_EQ(append(no_actor).code(), absl::StatusCode::kInvalidArgument);
  AuditEvent no_action = Trail::Event(1);
  no_action.action.clear();
  EXPECT_EQ(append(no_action).code(), absl::StatusCode::kInvalidArgument);
  AuditEvent array_details = Trail::Event(1);
  array_details.details = json::array({1, 2});
  EXPECT_EQ(append(array_details).code(), absl::StatusCode::kInvalidArgument);
  AuditEvent bad_utf8 = Trail::Event(1);
  bad_utf8.object_id = "CHURN/\xff\xfe";
  EXPECT_EQ(append(bad_utf8).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(t.All().empty());

  AuditEvent null_details = Trail::Event(1);
  null_details.details = nullptr;
  ASSERT_TRUE(append(null_details).ok());
  EXPECT_EQ(t.All()[0].event.details, json::object());
}

TEST(AuditTrail, EntryJsonRoundTrip) {
  Trail t;
  t.AppendHistory(2);
  for (const AuditEntry& entry : t.All()) {
    const json object = EntryToJson(entry);
    EXPECT_EQ(object["entry_hash"], entry.entry_hash);
    auto back = EntryFromJson(object);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(CanonicalEntryJson(*back), CanonicalEntryJson(entry));
    EXPECT_EQ(back->entry_hash, entry.entry_hash);

    json missing = object;
    missing.erase("actor");
    EXPECT_EQ(EntryFromJson(missing).status().code(), absl::StatusCode::kInvalidArgument);
    json wrong_type = object;
    wrong_type["seq"] = "1";
    EXPECT_EQ(EntryFromJson(wrong_type).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(EntryFromJson(json::array()).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Verify: intact chains -----------------------------------------------------------------

TEST(AuditTrail, FreshChainVerifies) {
  Trail t;
  t.AppendHistory(6);
  const VerifyReport report = t.Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, 6);
  EXPECT_EQ(report.first_bad_seq, 0);
  EXPECT_EQ(report.problem, "");
}

TEST(AuditTrail, EmptyChainWithoutCheckpointVerifies) {
  Trail t;
  const VerifyReport report = t.Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, 0);
}

TEST(AuditTrail, MissingCheckpointFails) {
  Trail t;
  t.Append(Trail::Event(1), /*checkpoint=*/false);
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 0);
  EXPECT_THAT(report.problem, HasSubstr("checkpoint missing"));

  // An empty checkpoint path means "chain only".
  auto chain_only = t.trail().Verify(t.store(), fs::path(), CheckpointKey());
  ASSERT_TRUE(chain_only.ok());
  EXPECT_TRUE(chain_only->ok);
}

TEST(AuditTrail, ChainVerifiesAcrossPages) {
  Trail t;
  // More entries than one read page (512), appended in one transaction for speed.
  ASSERT_TRUE(t.store()
                  .WithTransaction([&](store::SqlSession& session) -> absl::Status {
                    for (int n = 1; n <= 600; ++n) {
                      auto entry = t.trail().Append(session, Trail::Event(n));
                      if (!entry.ok()) return entry.status();
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), t.key()).ok());
  const VerifyReport report = t.Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, 600);
}

TEST(AuditTrail, ConcurrentAppendsFormOneChain) {
  Trail t;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::Status status = t.store().WithTransaction([&](store::SqlSession& session) {
          return t.trail().Append(session, Trail::Event(thread * kPerThread + i + 1)).status();
        });
        if (!status.ok()) ++failures;
        if (!t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), t.key()).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  const VerifyReport report = t.Verify();
  EXPECT_TRUE(report.ok) << report.problem;
  EXPECT_EQ(report.entries_checked, kThreads * kPerThread);
}

// --- Verify: tampering with the SQLite file directly ----------------------------------------

TEST(AuditTrail, StoreRefusesUpdateAndDelete) {
  Trail t;
  t.AppendHistory(3);
  absl::Status update = t.store().WithTransaction([](store::SqlSession& session) {
    return session.Execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
  });
  EXPECT_EQ(update.code(), absl::StatusCode::kFailedPrecondition) << update;
  EXPECT_THAT(std::string(update.message()), HasSubstr("append-only"));
  absl::Status remove = t.store().WithTransaction([](store::SqlSession& session) {
    return session.Execute("DELETE FROM audit_log WHERE seq = 3");
  });
  EXPECT_EQ(remove.code(), absl::StatusCode::kFailedPrecondition) << remove;
  EXPECT_TRUE(t.Verify().ok);
}

TEST(AuditTrail, DetectsChangedDetailsByte) {
  Trail t;
  t.AppendHistory(6);
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  raw.Exec(
      "UPDATE audit_log SET details_json = replace(details_json, '1003', '1004') "
      "WHERE seq = 3");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_THAT(report.problem, HasSubstr("seq 3: entry_hash does not match"));
}

TEST(AuditTrail, DetectsChangedActor) {
  Trail t;
  t.AppendHistory(6);
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  raw.Exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 4");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 4);
  EXPECT_THAT(report.problem, HasSubstr("seq 4: entry_hash does not match"));
}

TEST(AuditTrail, DetectsNonCanonicalDetails) {
  Trail t;
  t.AppendHistory(6);
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  // Same JSON value, different text: the hash still matches, the canonical form does not.
  raw.Exec(
      "UPDATE audit_log SET details_json = '{\"source\": \"providers.csv\", "
      "\"rows\": 1003}' WHERE seq = 3");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_THAT(report.problem, HasSubstr("canonical"));
}

TEST(AuditTrail, DetectsDeletedMiddleEntry) {
  Trail t;
  t.AppendHistory(6);
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  raw.Exec("DELETE FROM audit_log WHERE seq = 3");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 3);
  EXPECT_THAT(report.problem, HasSubstr("entry seq 3 is missing"));
  EXPECT_EQ(report.entries_checked, 3);
}

TEST(AuditTrail, DetectsDeletedLastEntryThroughCheckpoint) {
  Trail t;
  t.AppendHistory(6);
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  raw.Exec("DELETE FROM audit_log WHERE seq = 6");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 6);
  EXPECT_EQ(report.problem, "entries after seq 5 were deleted (checkpoint records seq 6)");
  // Without the checkpoint the chain alone looks fine: that is why checkpoints exist.
  auto chain_only = t.trail().Verify(t.store(), fs::path(), CheckpointKey());
  ASSERT_TRUE(chain_only.ok());
  EXPECT_TRUE(chain_only->ok);
}

TEST(AuditTrail, DetectsSwappedRows) {
  Trail t;
  t.AppendHistory(6);
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  // Every column but seq trades places between rows 2 and 4.
  raw.Exec("CREATE TEMP TABLE saved AS SELECT * FROM audit_log WHERE seq IN (2, 4)");
  raw.Exec(
      "UPDATE audit_log SET (time_micros, actor, action, project_key, object_type, object_id, "
      "object_version, before_hash, after_hash, details_json, reason, prev_hash, entry_hash) = "
      "(SELECT time_micros, actor, action, project_key, object_type, object_id, object_version, "
      "before_hash, after_hash, details_json, reason, prev_hash, entry_hash FROM saved "
      "WHERE saved.seq = 6 - audit_log.seq) WHERE seq IN (2, 4)");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 2);
  EXPECT_THAT(report.problem, HasSubstr("seq 2: prev_hash does not match"));
}

TEST(AuditTrail, DetectsForgedRowInsertedInTheMiddle) {
  Trail t;
  t.AppendHistory(6);
  const std::vector<AuditEntry> before = t.All();
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  // Make room at seq 4 (in two steps: the primary key must stay unique throughout).
  raw.Exec("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 4");
  raw.Exec("UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000");
  // A forged entry that links correctly to seq 3 and carries a correct hash of its own.
  AuditEntry forged;
  forged.seq = 4;
  forged.time_micros = before[2].time_micros + 1;
  forged.event = Trail::Event(4);
  forged.event.actor = "mallory";
  forged.event.action = "model.approve";
  forged.prev_hash = before[2].entry_hash;
  forged.entry_hash = ComputeEntryHash(forged);
  raw.Exec("INSERT INTO audit_log VALUES (4, " + std::to_string(forged.time_micros) +
           ", 'mallory', 'model.approve', 'CHURN', 'dataset', 'CHURN/providers', 'v3', '', '" +
           forged.event.after_hash + "', '" + forged.event.details.dump() + "', '', '" +
           forged.prev_hash + "', '" + forged.entry_hash + "')");
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  // The forged row itself is consistent; the chain breaks at the genuine entry after it.
  EXPECT_EQ(report.first_bad_seq, 5);
  EXPECT_THAT(report.problem, HasSubstr("seq 5: prev_hash does not match the entry_hash of seq 4"));
}

TEST(AuditTrail, DetectsRewrittenChainThroughCheckpoint) {
  Trail t;
  t.AppendHistory(6);
  std::vector<AuditEntry> entries = t.All();
  RawConnection raw(t.db_path());
  raw.DropTriggers();
  // The attacker changes seq 2 and recomputes every hash after it: the chain is consistent.
  entries[1].event.actor = "mallory";
  for (size_t index = 1; index < entries.size(); ++index) {
    entries[index].prev_hash = entries[index - 1].entry_hash;
    entries[index].entry_hash = ComputeEntryHash(entries[index]);
    raw.Exec("UPDATE audit_log SET actor = '" + entries[index].event.actor + "', prev_hash = '" +
             entries[index].prev_hash + "', entry_hash = '" + entries[index].entry_hash +
             "' WHERE seq = " + std::to_string(entries[index].seq));
  }
  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 6);
  EXPECT_THAT(report.problem, HasSubstr("differs from the signed checkpoint"));
}

// --- Checkpoints ---------------------------------------------------------------------------

TEST(AuditTrail, CheckpointFileIsSignedCanonicalJson) {
  Trail t;
  t.AppendHistory(3);
  const json checkpoint = json::parse(ReadText(t.checkpoint_path()));
  EXPECT_EQ(checkpoint["seq"], 3);
  EXPECT_EQ(checkpoint["entry_hash"], t.All().back().entry_hash);
  EXPECT_EQ(checkpoint["signed_at_micros"], kStart + 2'000'000);
  EXPECT_EQ(checkpoint["public_key"], common::HexEncode(t.key().public_key));
  EXPECT_EQ(checkpoint.size(), 5u);

  // Check the signature with libsodium directly, over the documented body.
  json body = checkpoint;
  body.erase("signature");
  const std::string message = "assay-audit-checkpoint-v1\n" + body.dump();
  const std::string signature_hex = checkpoint["signature"];
  ASSERT_EQ(signature_hex.size(), 2u * crypto_sign_BYTES);
  unsigned char signature[crypto_sign_BYTES];
  ASSERT_EQ(sodium_hex2bin(signature, sizeof(signature), signature_hex.data(), signature_hex.size(),
                           nullptr, nullptr, nullptr),
            0);
  EXPECT_EQ(crypto_sign_verify_detached(
                signature, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                reinterpret_cast<const unsigned char*>(t.key().public_key.data())),
            0);
}

TEST(AuditTrail, CheckpointSignedWithAnotherKeyFails) {
  Trail t;
  t.AppendHistory(3);
  const CheckpointKey other = KeyFromSeed('\x02');
  ASSERT_TRUE(t.trail().WriteCheckpoint(t.store(), t.dir() / "other.json", other).ok());
  ASSERT_NO_THROW(fs::rename(t.dir() / "other.json", t.checkpoint_path()));

  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 0);
  EXPECT_THAT(report.problem, HasSubstr("signed by another key"));

  // The key's owner must not silently replace it either.
  absl::Status status = t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), t.key());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
}

TEST(AuditTrail, AlteredCheckpointFails) {
  Trail t;
  t.AppendHistory(4);
  json checkpoint = json::parse(ReadText(t.checkpoint_path()));
  checkpoint["seq"] = 3;  // Claim an older head, as if hiding entry 4.
  WriteText(t.checkpoint_path(), checkpoint.dump());
  VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problem, HasSubstr("does not verify"));

  WriteText(t.checkpoint_path(), "{not json");
  report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_THAT(report.problem, HasSubstr("not a JSON object"));
}

TEST(AuditTrail, WriteCheckpointRefusesToResignTruncatedChain) {
  Trail t;
  t.AppendHistory(5);
  const std::string signed_before = ReadText(t.checkpoint_path());
  {
    RawConnection raw(t.db_path());
    raw.DropTriggers();
    raw.Exec("DELETE FROM audit_log WHERE seq = 5");
  }
  // A later legitimate change re-uses seq 5; the checkpoint must not move past the gap.
  t.Append(Trail::Event(6), /*checkpoint=*/false);
  absl::Status status = t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), t.key());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("checkpointed entry seq 5"));
  EXPECT_EQ(ReadText(t.checkpoint_path()), signed_before);

  const VerifyReport report = t.Verify();
  EXPECT_FALSE(report.ok);
  EXPECT_EQ(report.first_bad_seq, 5);
}

TEST(AuditTrail, WriteCheckpointRefusesBrokenChain) {
  Trail t;
  t.AppendHistory(3);
  {
    RawConnection raw(t.db_path());
    raw.DropTriggers();
    fs::remove(t.checkpoint_path());
    raw.Exec("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
  }
  absl::Status status = t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), t.key());
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("seq 2"));
  EXPECT_FALSE(fs::exists(t.checkpoint_path()));
}

TEST(AuditTrail, WriteCheckpointNeedsSecretKey) {
  Trail t;
  CheckpointKey public_only = t.key();
  public_only.secret_key.clear();
  EXPECT_EQ(t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), public_only).code(),
            absl::StatusCode::kInvalidArgument);
  CheckpointKey mismatched = t.key();
  mismatched.public_key = KeyFromSeed('\x03').public_key;
  EXPECT_EQ(t.trail().WriteCheckpoint(t.store(), t.checkpoint_path(), mismatched).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckpointKeyFromSeed("short").status().code(), absl::StatusCode::kInvalidArgument);
  auto random_key = GenerateCheckpointKey();
  ASSERT_TRUE(random_key.ok());
  EXPECT_EQ(random_key->public_key.size(), 32u);
  EXPECT_EQ(random_key->secret_key.size(), 64u);
}

// --- Export --------------------------------------------------------------------------------

TEST(AuditTrail, ExportVerifies) {
  Trail t;
  t.AppendHistory(5);
  const fs::path output = t.dir() / "audit.jsonl";
  ASSERT_TRUE(t.trail().Export(t.store(), output).ok());
  const std::vector<std::string> lines = Lines(ReadText(output));
  ASSERT_EQ(lines.size(), 5u);
  const std::vector<AuditEntry> entries = t.All();
  for (size_t index = 0; index < lines.size(); ++index) {
    EXPECT_EQ(json::parse(lines[index]), EntryToJson(entries[index]));
  }
  auto report = VerifyExportFile(output);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->entries_checked, 5);
}

TEST(AuditTrail, TamperedExportFails) {
  Trail t;
  t.AppendHistory(5);
  const fs::path output = t.dir() / "audit.jsonl";
  ASSERT_TRUE(t.trail().Export(t.store(), output).ok());
  const std::vector<std::string> lines = Lines(ReadText(output));

  std::vector<std::string> changed = lines;
  json entry = json::parse(changed[2]);
  entry["actor"] = "mallory";
  changed[2] = entry.dump();
  WriteText(output, JoinLines(changed));
  auto report = VerifyExportFile(output);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 3);

  std::vector<std::string> dropped = lines;
  dropped.erase(dropped.begin() + 1);
  WriteText(output, JoinLines(dropped));
  report = VerifyExportFile(output);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 2);

  std::vector<std::string> swapped = lines;
  std::swap(swapped[1], swapped[3]);
  WriteText(output, JoinLines(swapped));
  report = VerifyExportFile(output);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok);
  EXPECT_EQ(report->first_bad_seq, 2);

  std::vector<std::string> garbage = lines;
  garbage[3] = "this is not json";
  WriteText(output, JoinLines(garbage));
  EXPECT_EQ(VerifyExportFile(output).status().code(), absl::StatusCode::kInvalidArgument);

  std::vector<std::string> not_entry = lines;
  not_entry[3] = R"({"seq": 4})";
  WriteText(output, JoinLines(not_entry));
  EXPECT_EQ(VerifyExportFile(output).status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(VerifyExportFile(t.dir() / "absent.jsonl").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(AuditTrail, EmptyExportVerifies) {
  Trail t;
  const fs::path output = t.dir() / "audit.jsonl";
  ASSERT_TRUE(t.trail().Export(t.store(), output).ok());
  EXPECT_EQ(ReadText(output), "");
  auto report = VerifyExportFile(output);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->entries_checked, 0);
}

// --- List ----------------------------------------------------------------------------------

std::vector<int64_t> Seqs(const std::vector<AuditEntry>& entries) {
  std::vector<int64_t> seqs;
  for (const AuditEntry& entry : entries) seqs.push_back(entry.seq);
  return seqs;
}

TEST(AuditTrail, ListFilters) {
  Trail t;
  auto event = [](std::string project, std::string object_id) {
    AuditEvent e = Trail::Event(2);
    e.project_key = std::move(project);
    e.object_id = std::move(object_id);
    return e;
  };
  t.Append(event("CHURN", "CHURN"));                   // 1
  t.Append(event("CHURN", "CHURN/providers"));         // 2
  t.Append(event("CHURN", "CHURN/providers@v2"));      // 3
  t.Append(event("CHURN", "CHURN/providers2"));        // 4
  t.Append(event("OTHER", "OTHER/x"));                 // 5
  t.Append(event("", "/tmp/workspace"));               // 6
  t.Append(event("CHURN", "CHURN/providers/rule_1"));  // 7
  t.Append(event("CHURN", "CHURN/prov%"));             // 8

  auto filter = [](std::optional<std::string> project_key, std::optional<std::string> object_id,
                   int64_t limit = 0) {
    AuditFilter f;
    f.project_key = std::move(project_key);
    f.object_id = std::move(object_id);
    f.limit = limit;
    return f;
  };
  auto list = [&](AuditFilter filter) {
    auto entries = t.trail().List(t.store(), filter);
    EXPECT_TRUE(entries.ok()) << entries.status();
    return entries.ok() ? Seqs(*entries) : std::vector<int64_t>();
  };
  using ::testing::ElementsAre;
  EXPECT_THAT(list({}), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  EXPECT_THAT(list(filter("OTHER", std::nullopt)), ElementsAre(5));
  EXPECT_THAT(list(filter("", std::nullopt)), ElementsAre(6));
  EXPECT_THAT(list(filter(std::nullopt, "CHURN/providers")), ElementsAre(2, 3, 7));
  EXPECT_THAT(list(filter(std::nullopt, "CHURN")), ElementsAre(1, 2, 3, 4, 7, 8));
  EXPECT_THAT(list(filter(std::nullopt, "CHURN/prov%")), ElementsAre(8));  // No LIKE wildcards.
  EXPECT_THAT(list(filter(std::nullopt, "CHURN/prov")), ElementsAre());
  EXPECT_THAT(list(filter(std::nullopt, std::nullopt, 3)),
              ElementsAre(6, 7, 8));  // Newest 3, oldest first.
  EXPECT_THAT(list(filter("CHURN", "CHURN/providers", 2)), ElementsAre(3, 7));
  EXPECT_EQ(t.trail().List(t.store(), filter(std::nullopt, std::nullopt, -1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace assay::audit
