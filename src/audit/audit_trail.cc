#include "audit/audit_trail.h"

#include <sodium.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/status_macros.h"

namespace assay::audit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The prev_hash of entry 1.
const std::string& GenesisHash() {
  static const std::string* const kGenesis = new std::string(64, '0');
  return *kGenesis;
}

// Verify and Export read the log in pages so memory stays bounded for long trails.
constexpr int64_t kPageSize = 512;

constexpr std::string_view kColumns =
    "seq, time_micros, actor, action, project_key, object_type, object_id, object_version, "
    "before_hash, after_hash, details_json, reason, prev_hash, entry_hash";

absl::Status EnsureSodium() {
  // sodium_init() is idempotent and thread-safe; the static runs it once per process.
  static const int kInit = sodium_init();
  if (kInit < 0) return absl::InternalError("libsodium failed to initialize");
  return absl::OkStatus();
}

// Compact, sorted-key JSON. nlohmann's default object type is a std::map, so keys come out in
// byte order at every depth, and dump() without indent emits no whitespace. Invalid UTF-8 is
// replaced rather than thrown; Append refuses it beforehand so stored entries never need it.
std::string Dump(const json& value) {
  return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::replace);
}

// Dump, but fails on invalid UTF-8 instead of replacing it.
absl::StatusOr<std::string> DumpStrict(const json& value, std::string_view what) {
  try {
    return value.dump(-1, ' ', /*ensure_ascii=*/false, json::error_handler_t::strict);
  } catch (const json::exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(Absl(what), " is not valid UTF-8 text (", error.what(), ")"));
  }
}

json CanonicalObject(const AuditEntry& entry) {
  json object = json::object();
  object["seq"] = entry.seq;
  object["time_micros"] = entry.time_micros;
  object["actor"] = entry.event.actor;
  object["action"] = entry.event.action;
  object["project_key"] = entry.event.project_key;
  object["object_type"] = entry.event.object_type;
  object["object_id"] = entry.event.object_id;
  object["object_version"] = entry.event.object_version;
  object["before_hash"] = entry.event.before_hash;
  object["after_hash"] = entry.event.after_hash;
  object["details"] = entry.event.details;
  object["reason"] = entry.event.reason;
  object["prev_hash"] = entry.prev_hash;
  return object;
}

// One row of audit_log with the details exactly as stored, for the canonical-form check.
struct StoredEntry {
  AuditEntry entry;
  std::string details_json;
};

StoredEntry EntryFromRow(const store::SqlRow& row) {
  StoredEntry stored;
  AuditEntry& entry = stored.entry;
  entry.seq = row.GetInt(0);
  entry.time_micros = row.GetInt(1);
  entry.event.actor = row.GetText(2);
  entry.event.action = row.GetText(3);
  entry.event.project_key = row.GetText(4);
  entry.event.object_type = row.GetText(5);
  entry.event.object_id = row.GetText(6);
  entry.event.object_version = row.GetText(7);
  entry.event.before_hash = row.GetText(8);
  entry.event.after_hash = row.GetText(9);
  stored.details_json = row.GetText(10);
  json details = json::parse(stored.details_json, nullptr, /*allow_exceptions=*/false);
  // Text that is not JSON (only possible by tampering) is kept as a JSON string, so that List
  // still shows it and the hash check fails on it.
  entry.event.details = details.is_discarded() ? json(stored.details_json) : std::move(details);
  entry.event.reason = row.GetText(11);
  entry.prev_hash = row.GetText(12);
  entry.entry_hash = row.GetText(13);
  return stored;
}

// Reads audit_log in seq order, one page per snapshot, calling `visit` per row until it
// returns false. Rows appended meanwhile are visited too (the log only grows).
absl::Status ForEachStoredEntry(store::MetadataStore& store,
                                const std::function<bool(const StoredEntry&)>& visit) {
  const std::string first_page =
      absl::StrCat("SELECT ", Absl(kColumns), " FROM audit_log ORDER BY seq LIMIT ?");
  const std::string next_page =
      absl::StrCat("SELECT ", Absl(kColumns), " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?");
  std::optional<int64_t> last_seq;
  while (true) {
    absl::StatusOr<std::vector<store::SqlRow>> rows =
        last_seq ? store.Query(next_page, {*last_seq, kPageSize})
                 : store.Query(first_page, {kPageSize});
    if (!rows.ok()) return rows.status();
    for (const store::SqlRow& row : *rows) {
      StoredEntry stored = EntryFromRow(row);
      last_seq = stored.entry.seq;
      if (!visit(stored)) return absl::OkStatus();
    }
    if (static_cast<int64_t>(rows->size()) < kPageSize) return absl::OkStatus();
  }
}

// Walks a chain entry by entry and records the first place it breaks.
class ChainChecker {
 public:
  // Starts after entry `seq` (0: at the genesis) whose entry_hash is `hash`.
  ChainChecker(int64_t seq, std::string hash)
      : expected_seq_(seq + 1), expected_prev_(std::move(hash)) {}

  // Optionally: the entry a trusted checkpoint records; the chain must contain it unchanged.
  void ExpectCheckpoint(int64_t seq, std::string entry_hash) {
    checkpoint_seq_ = seq;
    checkpoint_hash_ = std::move(entry_hash);
  }

  // Checks the next entry. `details_json` is the stored text of the details (null when the
  // entry came from an export, where formatting is not part of the record). Returns false at
  // the first problem, after which report() holds it.
  bool Check(const AuditEntry& entry, const std::string* details_json) {
    ++report_.entries_checked;
    const int64_t seq = expected_seq_;
    if (entry.seq != seq) {
      if (entry.seq > seq) {
        const std::string missing =
            entry.seq - seq == 1
                ? absl::StrCat("entry seq ", seq, " is missing")
                : absl::StrCat("entries seq ", seq, " to ", entry.seq - 1, " are missing");
        return Fail(seq, absl::StrCat(missing, ": the chain goes from seq ", seq - 1, " to seq ",
                                      entry.seq, " (entries were deleted or moved)"));
      }
      return Fail(seq, absl::StrCat("an entry numbered seq ", entry.seq, " stands where seq ", seq,
                                    " belongs (entries were duplicated, moved or forged)"));
    }
    if (entry.prev_hash != expected_prev_) {
      return Fail(seq, seq == 1
                           ? std::string("seq 1: prev_hash is not the genesis value (64 "
                                         "zeros); the start of the chain was replaced")
                           : absl::StrCat("seq ", seq,
                                          ": prev_hash does not match the "
                                          "entry_hash of seq ",
                                          seq - 1, " (an entry was changed, inserted or moved)"));
    }
    if (details_json != nullptr) {
      const json parsed = json::parse(*details_json, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded()) {
        return Fail(seq, absl::StrCat("seq ", seq, ": details_json is not valid JSON"));
      }
      if (Dump(parsed) != *details_json) {
        return Fail(seq, absl::StrCat("seq ", seq,
                                      ": details_json is not in canonical form (sorted keys, no "
                                      "whitespace); the stored text was edited"));
      }
    }
    if (ComputeEntryHash(entry) != entry.entry_hash) {
      return Fail(seq, absl::StrCat("seq ", seq,
                                    ": entry_hash does not match the entry's contents (the "
                                    "entry was changed)"));
    }
    if (checkpoint_seq_ == seq && entry.entry_hash != checkpoint_hash_) {
      return Fail(seq, absl::StrCat("seq ", seq, ": entry_hash ", entry.entry_hash,
                                    " differs from the signed checkpoint's ", checkpoint_hash_,
                                    " (the chain up to here was rewritten)"));
    }
    ++expected_seq_;
    expected_prev_ = entry.entry_hash;
    return true;
  }

  // The seq of the last entry that checked out (0 if none).
  int64_t last_good_seq() const { return expected_seq_ - 1; }
  const std::string& last_good_hash() const { return expected_prev_; }
  bool failed() const { return !report_.ok; }
  VerifyReport& report() { return report_; }

 private:
  bool Fail(int64_t seq, std::string problem) {
    report_.ok = false;
    report_.first_bad_seq = seq;
    report_.problem = std::move(problem);
    return false;
  }

  int64_t expected_seq_;
  std::string expected_prev_;
  std::optional<int64_t> checkpoint_seq_;
  std::string checkpoint_hash_;
  VerifyReport report_;
};

// --- Checkpoints -------------------------------------------------------------------------

struct Checkpoint {
  int64_t seq = 0;
  std::string entry_hash;
  int64_t signed_at_micros = 0;
  std::string public_key_hex;
  std::string signature_hex;
};

// The checkpoint object without "signature". kCheckpointSignaturePrefix followed by its
// canonical JSON (as for entries) is the exact byte string the signature covers; the prefix
// keeps a checkpoint signature from ever being valid for another kind of message signed with
// the same workspace key (bundles, later).
json CheckpointBodyObject(const Checkpoint& checkpoint) {
  json body = json::object();
  body["seq"] = checkpoint.seq;
  body["entry_hash"] = checkpoint.entry_hash;
  body["signed_at_micros"] = checkpoint.signed_at_micros;
  body["public_key"] = checkpoint.public_key_hex;
  return body;
}

constexpr char kCheckpointSignaturePrefix[] = "assay-audit-checkpoint-v1\n";

std::string CheckpointBody(const Checkpoint& checkpoint) {
  return kCheckpointSignaturePrefix + Dump(CheckpointBodyObject(checkpoint));
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string bytes(hex.size() / 2, '\0');
  size_t length = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), hex.data(),
                     hex.size(), /*ignore=*/nullptr, &length, &end) != 0 ||
      length != bytes.size() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return bytes;
}

// Parses a checkpoint file and checks its signature against `public_key`. Returns the
// checkpoint, or a problem description (second) when it cannot be trusted.
std::pair<std::optional<Checkpoint>, std::string> ParseAndVerifyCheckpoint(
    std::string_view text, const fs::path& path, const std::string& public_key) {
  const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const std::string where = absl::StrCat("checkpoint ", path.string());
  if (parsed.is_discarded() || !parsed.is_object()) {
    return {std::nullopt, absl::StrCat(where, " is not a JSON object (damaged or replaced)")};
  }
  for (const char* field : {"seq", "signed_at_micros"}) {
    if (!parsed.contains(field) || !parsed[field].is_number_integer()) {
      return {std::nullopt, absl::StrCat(where, " lacks the integer field \"", field, "\"")};
    }
  }
  for (const char* field : {"entry_hash", "public_key", "signature"}) {
    if (!parsed.contains(field) || !parsed[field].is_string()) {
      return {std::nullopt, absl::StrCat(where, " lacks the string field \"", field, "\"")};
    }
  }
  Checkpoint checkpoint;
  checkpoint.seq = parsed["seq"].get<int64_t>();
  checkpoint.entry_hash = parsed["entry_hash"].get<std::string>();
  checkpoint.signed_at_micros = parsed["signed_at_micros"].get<int64_t>();
  checkpoint.public_key_hex = parsed["public_key"].get<std::string>();
  checkpoint.signature_hex = parsed["signature"].get<std::string>();

  const std::optional<std::string> signer = HexDecode(checkpoint.public_key_hex);
  if (!signer || *signer != public_key) {
    return {std::nullopt, absl::StrCat(where, " was signed by another key (public key ",
                                       checkpoint.public_key_hex, ", the workspace key is ",
                                       common::HexEncode(public_key), ")")};
  }
  const std::optional<std::string> signature = HexDecode(checkpoint.signature_hex);
  const std::string body = CheckpointBody(checkpoint);
  if (!signature || signature->size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature->data()),
                                  reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                                  reinterpret_cast<const unsigned char*>(public_key.data())) != 0) {
    return {std::nullopt,
            absl::StrCat(where,
                         " has a signature that does not verify with the workspace key "
                         "(the checkpoint was altered)")};
  }
  return {std::move(checkpoint), std::string()};
}

// What Verify and WriteCheckpoint learn from the checkpoint file.
struct CheckpointState {
  bool missing = false;
  std::optional<Checkpoint> trusted;
  std::string problem;  // Non-empty when present but not trustworthy.
};

absl::StatusOr<CheckpointState> LoadCheckpoint(const fs::path& path,
                                               const std::string& public_key) {
  CheckpointState state;
  absl::StatusOr<std::string> text = common::ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() != absl::StatusCode::kNotFound) return text.status();
    state.missing = true;
    return state;
  }
  std::tie(state.trusted, state.problem) = ParseAndVerifyCheckpoint(*text, path, public_key);
  return state;
}

absl::Status CheckPublicKey(const std::string& public_key) {
  if (public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError(absl::StrCat("the audit checkpoint public key must be ",
                                                   crypto_sign_PUBLICKEYBYTES, " bytes, got ",
                                                   public_key.size()));
  }
  return absl::OkStatus();
}

// Number of characters in UTF-8 text, as SQL's substr() counts them.
int64_t Utf8Length(std::string_view text) {
  return std::count_if(text.begin(), text.end(),
                       [](char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; });
}

}  // namespace

std::string CanonicalEntryJson(const AuditEntry& entry) { return Dump(CanonicalObject(entry)); }

std::string ComputeEntryHash(const AuditEntry& entry) {
  return common::Sha256Hex(absl::StrCat(entry.prev_hash, "\n", CanonicalEntryJson(entry)));
}

json EntryToJson(const AuditEntry& entry) {
  json object = CanonicalObject(entry);
  object["entry_hash"] = entry.entry_hash;
  return object;
}

absl::StatusOr<AuditEntry> EntryFromJson(const json& object) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError("an audit entry must be a JSON object");
  }
  AuditEntry entry;
  for (const auto& [field, target] :
       {std::pair{"seq", &entry.seq}, std::pair{"time_micros", &entry.time_micros}}) {
    const auto it = object.find(field);
    if (it == object.end() || !it->is_number_integer() ||
        (it->is_number_unsigned() &&
         it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit entry field \"", field, "\" is missing or not a 64-bit integer"));
    }
    *target = it->get<int64_t>();
  }
  const std::pair<const char*, std::string*> text_fields[] = {
      {"actor", &entry.event.actor},
      {"action", &entry.event.action},
      {"project_key", &entry.event.project_key},
      {"object_type", &entry.event.object_type},
      {"object_id", &entry.event.object_id},
      {"object_version", &entry.event.object_version},
      {"before_hash", &entry.event.before_hash},
      {"after_hash", &entry.event.after_hash},
      {"reason", &entry.event.reason},
      {"prev_hash", &entry.prev_hash},
      {"entry_hash", &entry.entry_hash},
  };
  for (const auto& [field, target] : text_fields) {
    const auto it = object.find(field);
    if (it == object.end() || !it->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("audit entry field \"", field, "\" is missing or not a string"));
    }
    *target = it->get<std::string>();
  }
  const auto details = object.find("details");
  if (details == object.end()) {
    return absl::InvalidArgumentError("audit entry field \"details\" is missing");
  }
  // Any JSON value is accepted here; a details value that Append would not have written shows
  // up as a hash mismatch in the verify report.
  entry.event.details = *details;
  return entry;
}

absl::StatusOr<CheckpointKey> GenerateCheckpointKey() {
  ASSAY_RETURN_IF_ERROR(EnsureSodium());
  CheckpointKey key;
  key.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  key.secret_key.assign(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                      reinterpret_cast<unsigned char*>(key.secret_key.data()));
  return key;
}

absl::StatusOr<CheckpointKey> CheckpointKeyFromSeed(std::string_view seed) {
  ASSAY_RETURN_IF_ERROR(EnsureSodium());
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a checkpoint key seed must be ", crypto_sign_SEEDBYTES, " bytes, got ", seed.size()));
  }
  CheckpointKey key;
  key.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  key.secret_key.assign(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(reinterpret_cast<unsigned char*>(key.public_key.data()),
                           reinterpret_cast<unsigned char*>(key.secret_key.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  return key;
}

absl::StatusOr<AuditEntry> AuditTrail::Append(store::SqlSession& session, AuditEvent event) const {
  if (event.actor.empty() || event.action.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("an audit event needs an actor and an action (got actor \"", event.actor,
                     "\", action \"", event.action, "\")"));
  }
  if (event.details.is_null()) event.details = json::object();
  if (!event.details.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("audit event details must be a JSON object, got ", event.details.type_name()));
  }

  ASSAY_ASSIGN_OR_RETURN(
      std::vector<store::SqlRow> last,
      session.Query("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1"));
  AuditEntry entry;
  entry.seq = last.empty() ? 1 : last[0].GetInt(0) + 1;
  entry.prev_hash = last.empty() ? GenesisHash() : last[0].GetText(1);
  entry.time_micros = clock_.NowMicros();
  entry.event = std::move(event);

  // Refuse text that cannot be hashed as exactly what was given (invalid UTF-8 would be
  // replaced by U+FFFD in the canonical form).
  ASSAY_RETURN_IF_ERROR(DumpStrict(CanonicalObject(entry), "the audit event").status());
  entry.entry_hash = ComputeEntryHash(entry);

  const AuditEvent& e = entry.event;
  ASSAY_RETURN_IF_ERROR(
      session.Execute(absl::StrCat("INSERT INTO audit_log (", Absl(kColumns),
                                   ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
                      {entry.seq, entry.time_micros, e.actor, e.action, e.project_key,
                       e.object_type, e.object_id, e.object_version, e.before_hash, e.after_hash,
                       Dump(e.details), e.reason, entry.prev_hash, entry.entry_hash}));
  return entry;
}

absl::StatusOr<std::vector<AuditEntry>> AuditTrail::List(store::MetadataStore& store,
                                                         const AuditFilter& filter) const {
  if (filter.limit < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit list limit must be 0 (all) or positive, got ", filter.limit));
  }
  std::string sql = absl::StrCat("SELECT ", Absl(kColumns), " FROM audit_log");
  std::vector<std::string> conditions;
  std::vector<store::SqlValue> params;
  if (filter.project_key) {
    conditions.push_back("project_key = ?");
    params.emplace_back(*filter.project_key);
  }
  if (filter.object_id) {
    // substr() rather than LIKE: object ids may contain LIKE's wildcards '%' and '_'.
    conditions.push_back("(object_id = ? OR substr(object_id, 1, ?) IN (?, ?))");
    params.emplace_back(*filter.object_id);
    params.emplace_back(Utf8Length(*filter.object_id) + 1);
    params.emplace_back(*filter.object_id + "@");
    params.emplace_back(*filter.object_id + "/");
  }
  if (!conditions.empty()) absl::StrAppend(&sql, " WHERE ", absl::StrJoin(conditions, " AND "));
  if (filter.limit > 0) {
    absl::StrAppend(&sql, " ORDER BY seq DESC LIMIT ?");
    params.emplace_back(filter.limit);
  } else {
    absl::StrAppend(&sql, " ORDER BY seq");
  }
  ASSAY_ASSIGN_OR_RETURN(std::vector<store::SqlRow> rows, store.Query(sql, params));
  std::vector<AuditEntry> entries;
  entries.reserve(rows.size());
  for (const store::SqlRow& row : rows) entries.push_back(EntryFromRow(row).entry);
  if (filter.limit > 0) std::reverse(entries.begin(), entries.end());
  return entries;
}

absl::StatusOr<VerifyReport> AuditTrail::Verify(store::MetadataStore& store,
                                                const fs::path& checkpoint_path,
                                                const CheckpointKey& key) const {
  ASSAY_RETURN_IF_ERROR(EnsureSodium());
  // The checkpoint is read before the chain: the chain only grows, so everything the
  // checkpoint records must still be there when the chain is read afterwards.
  CheckpointState checkpoint;
  if (!checkpoint_path.empty()) {
    ASSAY_RETURN_IF_ERROR(CheckPublicKey(key.public_key));
    ASSAY_ASSIGN_OR_RETURN(checkpoint, LoadCheckpoint(checkpoint_path, key.public_key));
  }

  ChainChecker checker(0, GenesisHash());
  if (checkpoint.trusted) {
    checker.ExpectCheckpoint(checkpoint.trusted->seq, checkpoint.trusted->entry_hash);
  }
  ASSAY_RETURN_IF_ERROR(ForEachStoredEntry(store, [&](const StoredEntry& stored) {
    return checker.Check(stored.entry, &stored.details_json);
  }));

  VerifyReport report = checker.report();
  if (!report.ok) {
    if (!checkpoint.problem.empty())
      absl::StrAppend(&report.problem, "; also: ", checkpoint.problem);
    return report;
  }
  const int64_t last_seq = checker.last_good_seq();
  if (!checkpoint.problem.empty()) {
    report.ok = false;
    report.problem = checkpoint.problem;
  } else if (checkpoint.trusted && checkpoint.trusted->seq > last_seq) {
    report.ok = false;
    report.first_bad_seq = last_seq + 1;
    report.problem =
        absl::StrCat("entries after seq ", last_seq, " were deleted (checkpoint records seq ",
                     checkpoint.trusted->seq, ")");
  } else if (checkpoint.missing && last_seq > 0) {
    report.ok = false;
    report.problem = absl::StrCat(
        "checkpoint missing: ", checkpoint_path.string(),
        " does not exist, so entries deleted from the end of the chain would go unnoticed; "
        "restore it from a backup");
  }
  return report;
}

absl::Status AuditTrail::WriteCheckpoint(store::MetadataStore& store,
                                         const fs::path& checkpoint_path,
                                         const CheckpointKey& key) const {
  ASSAY_RETURN_IF_ERROR(EnsureSodium());
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InvalidArgumentError(
        absl::StrCat("writing an audit checkpoint needs the ", crypto_sign_SECRETKEYBYTES,
                     "-byte secret key, got ", key.secret_key.size(), " bytes"));
  }
  std::string public_key(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(public_key.data()),
                               reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  if (!key.public_key.empty() && key.public_key != public_key) {
    return absl::InvalidArgumentError("the checkpoint key's public and secret halves differ");
  }

  // Under the write lock: no append can move the head meanwhile, and two writers of the
  // checkpoint cannot interleave (an older head never overwrites a newer one).
  return store.WithTransaction([&](store::SqlSession& session) -> absl::Status {
    ASSAY_ASSIGN_OR_RETURN(CheckpointState previous, LoadCheckpoint(checkpoint_path, public_key));
    if (!previous.problem.empty()) {
      return absl::DataLossError(absl::StrCat(
          previous.problem, "; not replacing it. Run `assay audit verify` and investigate"));
    }
    // Never sign a chain that does not extend what was signed before: a truncated or edited
    // chain would otherwise be legitimized by the next change. Only the entries since the last
    // checkpoint are read (the whole chain when there is none yet).
    int64_t from_seq = 0;
    std::string from_hash = GenesisHash();
    if (previous.trusted && previous.trusted->seq > 0) {
      from_seq = previous.trusted->seq;
      from_hash = previous.trusted->entry_hash;
      ASSAY_ASSIGN_OR_RETURN(
          std::vector<store::SqlRow> anchor,
          session.Query("SELECT entry_hash FROM audit_log WHERE seq = ?", {from_seq}));
      if (anchor.empty() || anchor[0].GetText(0) != from_hash) {
        return absl::DataLossError(absl::StrCat(
            "the audit trail no longer contains the checkpointed entry seq ", from_seq,
            " unchanged; not moving the checkpoint. Run `assay audit verify` and investigate"));
      }
    }
    ChainChecker checker(from_seq, from_hash);
    const std::string page_sql = absl::StrCat("SELECT ", Absl(kColumns),
                                              " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?");
    int64_t cursor = from_seq;
    while (!checker.failed()) {
      ASSAY_ASSIGN_OR_RETURN(std::vector<store::SqlRow> rows,
                             session.Query(page_sql, {cursor, kPageSize}));
      for (const store::SqlRow& row : rows) {
        const StoredEntry stored = EntryFromRow(row);
        cursor = stored.entry.seq;
        if (!checker.Check(stored.entry, &stored.details_json)) break;
      }
      if (static_cast<int64_t>(rows.size()) < kPageSize) break;
    }
    if (checker.failed()) {
      return absl::DataLossError(
          absl::StrCat("the audit trail is broken: ", checker.report().problem,
                       "; not moving the checkpoint. Run `assay audit "
                       "verify` and investigate"));
    }

    Checkpoint checkpoint;
    checkpoint.seq = checker.last_good_seq();
    checkpoint.entry_hash = checker.last_good_hash();
    checkpoint.signed_at_micros = clock_.NowMicros();
    checkpoint.public_key_hex = common::HexEncode(public_key);
    const std::string body = CheckpointBody(checkpoint);
    std::string signature(crypto_sign_BYTES, '\0');
    crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                         reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                         reinterpret_cast<const unsigned char*>(key.secret_key.data()));
    json file = CheckpointBodyObject(checkpoint);
    file["signature"] = common::HexEncode(signature);
    return common::AtomicWriteFile(checkpoint_path, Dump(file) + "\n");
  });
}

absl::Status AuditTrail::Export(store::MetadataStore& store, const fs::path& output) const {
  std::string text;
  ASSAY_RETURN_IF_ERROR(ForEachStoredEntry(store, [&](const StoredEntry& stored) {
    absl::StrAppend(&text, Dump(EntryToJson(stored.entry)), "\n");
    return true;
  }));
  return common::AtomicWriteFile(output, text);
}

absl::StatusOr<VerifyReport> VerifyExportFile(const fs::path& path) {
  ASSAY_ASSIGN_OR_RETURN(const std::string text, common::ReadFile(path));
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // The final newline.

  ChainChecker checker(0, GenesisHash());
  for (size_t index = 0; index < lines.size(); ++index) {
    const size_t line_number = index + 1;
    const json parsed = json::parse(lines[index].begin(), lines[index].end(), nullptr,
                                    /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, " of ", path.string(),
                                                     " is not JSON; is this an audit export?"));
    }
    absl::StatusOr<AuditEntry> entry = EntryFromJson(parsed);
    if (!entry.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_number, " of ", path.string(),
                                                     ": ", entry.status().message()));
    }
    if (!checker.Check(*entry, nullptr)) break;
  }
  return checker.report();
}

}  // namespace assay::audit
