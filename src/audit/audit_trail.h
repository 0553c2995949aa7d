// The tamper-evident audit trail. Every mutating operation appends one entry in the same
// metadata-store transaction as the change itself. Entries are hash-chained: an entry's
// entry_hash is SHA-256 over the previous entry's hash and the entry's canonical JSON
// (docs/formats/audit.md), so any changed byte, deleted, reordered or inserted row breaks
// the chain from that entry on. Nothing here edits or deletes entries; the schema also has
// triggers that refuse UPDATE and DELETE on the table.
//
// Removing entries from the end of the chain cannot be seen from the chain alone, so after
// each committed append the caller writes a checkpoint (the last sequence number and hash,
// signed with the workspace's Ed25519 key) to a file outside the database; Verify checks the
// chain still contains the checkpointed entry.
//
// Thread-safety: AuditTrail holds no mutable state; concurrency comes from the store's
// transactions.
#ifndef ASSAY_AUDIT_AUDIT_TRAIL_H_
#define ASSAY_AUDIT_AUDIT_TRAIL_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "nlohmann/json.hpp"
#include "store/metadata_store.h"

namespace assay::audit {

// What the caller says happened. Empty strings are stored as NULL-equivalent "".
struct AuditEvent {
  std::string actor;           // who (the OS user for now)
  std::string action;          // e.g. "project.create", "dataset.import"
  std::string project_key;     // "" when not project-scoped (e.g. workspace.init)
  std::string object_type;     // "project", "dataset", "workspace", ...
  std::string object_id;       // "CHURN/providers"
  std::string object_version;  // "v3"
  std::string before_hash;     // content hash before the change ("" if none)
  std::string after_hash;      // content hash after the change ("" if none)
  nlohmann::json details = nlohmann::json::object();
  std::string reason;  // --reason, optional for now
};

struct AuditEntry {
  int64_t seq = 0;          // 1, 2, 3, ... without gaps
  int64_t time_micros = 0;  // server UTC time
  AuditEvent event;
  std::string prev_hash;  // 64 zeros for seq 1
  std::string entry_hash;
};

// The exact bytes the entry hash covers: a JSON object with sorted keys and no whitespace,
// holding every field of the entry except entry_hash.
std::string CanonicalEntryJson(const AuditEntry& entry);
// SHA-256 hex of prev_hash + "\n" + CanonicalEntryJson(entry).
std::string ComputeEntryHash(const AuditEntry& entry);
// One entry as a JSON object (all fields, including entry_hash); the JSONL export format.
nlohmann::json EntryToJson(const AuditEntry& entry);
absl::StatusOr<AuditEntry> EntryFromJson(const nlohmann::json& json);

struct AuditFilter {
  std::optional<std::string> project_key;
  // Matches object_id exactly, or any object_id starting with "<object_id>@" or "<object_id>/".
  std::optional<std::string> object_id;
  int64_t limit = 0;  // 0: no limit; otherwise the newest `limit` entries
};

struct VerifyReport {
  bool ok = true;
  // Entries read, up to and including the first bad one.
  int64_t entries_checked = 0;
  // The first sequence number at which the chain is not intact (for a deleted entry: the
  // missing number). 0 when ok, and also when the problem concerns the checkpoint file itself
  // (missing, damaged, signed by another key) rather than an entry.
  int64_t first_bad_seq = 0;
  std::string problem;  // human-readable, names the sequence number and what is wrong
};

// The Ed25519 key that signs checkpoints. Sizes are libsodium's crypto_sign_* sizes.
struct CheckpointKey {
  std::string public_key;  // 32 bytes
  std::string secret_key;  // 64 bytes (empty when only verifying)
};

// A fresh random key pair. Errors: INTERNAL if libsodium cannot initialize.
absl::StatusOr<CheckpointKey> GenerateCheckpointKey();
// The key pair derived from a 32-byte seed (deterministic; for tests and key escrow).
// Errors: INVALID_ARGUMENT for a seed of another size; INTERNAL as above.
absl::StatusOr<CheckpointKey> CheckpointKeyFromSeed(std::string_view seed);

class AuditTrail {
 public:
  explicit AuditTrail(const common::Clock& clock) : clock_(clock) {}

  // Appends `event` inside the caller's transaction and returns the stored entry.
  // Errors: INVALID_ARGUMENT if actor or action is empty; store errors.
  absl::StatusOr<AuditEntry> Append(store::SqlSession& session, AuditEvent event) const;

  // Entries matching `filter`, oldest first. Errors: INVALID_ARGUMENT for a negative limit;
  // store errors.
  absl::StatusOr<std::vector<AuditEntry>> List(store::MetadataStore& store,
                                               const AuditFilter& filter) const;

  // Recomputes the whole chain. A broken chain is reported in the VerifyReport (ok=false),
  // not as an error status; errors are reserved for being unable to read at all.
  // If `checkpoint_path` names an existing checkpoint file, also checks its signature with
  // `key.public_key` and that the chain contains the checkpointed entry unchanged. If it names
  // no file while the chain has entries, the report is ok=false ("checkpoint missing"); an
  // empty chain without a checkpoint is ok. An empty `checkpoint_path` skips the checkpoint.
  // Errors: INVALID_ARGUMENT if a checkpoint is to be checked and key.public_key is not 32
  // bytes; store and I/O errors.
  absl::StatusOr<VerifyReport> Verify(store::MetadataStore& store,
                                      const std::filesystem::path& checkpoint_path,
                                      const CheckpointKey& key) const;

  // Writes the checkpoint for the current head of the chain (atomically), inside a write
  // transaction so the head cannot move meanwhile. Before signing, re-checks the entries since
  // the previous checkpoint (all entries if there is none) and that the previous checkpoint's
  // entry is still there, so a truncated or edited chain is never re-signed.
  // Requires key.secret_key (key.public_key may be empty; if set it must match).
  // Errors: INVALID_ARGUMENT for a bad key; DATA_LOSS (nothing written) if the chain is broken
  // or the existing checkpoint is damaged, signed by another key or no longer in the chain;
  // store/I/O errors.
  absl::Status WriteCheckpoint(store::MetadataStore& store,
                               const std::filesystem::path& checkpoint_path,
                               const CheckpointKey& key) const;

  // Writes every entry as JSON lines (one EntryToJson per line, oldest first), atomically.
  // The entries are exported as stored, without verifying them. Errors: store/I/O errors.
  absl::Status Export(store::MetadataStore& store, const std::filesystem::path& output) const;

 private:
  const common::Clock& clock_;
};

// Re-verifies an exported JSONL file on its own (chain, sequence, hashes). A file cut short
// after a whole line cannot be told from a shorter trail; compare its last entry with the
// signed checkpoint for that.
// Errors: NOT_FOUND, INVALID_ARGUMENT for a line that is not an entry (reported in the report
// instead when the line parses but the chain is broken).
absl::StatusOr<VerifyReport> VerifyExportFile(const std::filesystem::path& path);

}  // namespace assay::audit

#endif  // ASSAY_AUDIT_AUDIT_TRAIL_H_
