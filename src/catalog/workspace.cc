#include "catalog/workspace.h"

#include <pwd.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace assay::catalog {
namespace {

namespace fs = std::filesystem;

constexpr char kDbName[] = "assay.db";
constexpr char kSecretKeyName[] = "workspace.ed25519";
constexpr char kPublicKeyName[] = "workspace.ed25519.pub";
constexpr fs::perms kOwnerOnlyFile = fs::perms::owner_read | fs::perms::owner_write;

absl::Status EnsureSodium() {
  if (sodium_init() < 0) return absl::InternalError("libsodium failed to initialize");
  return absl::OkStatus();
}

// Creates keys/ (0700) and the Ed25519 key pair if absent; loads it.
absl::StatusOr<audit::CheckpointKey> LoadOrCreateKey(const fs::path& home, bool create) {
  ASSAY_RETURN_IF_ERROR(EnsureSodium());
  const fs::path dir = home / "keys";
  const fs::path secret_path = dir / kSecretKeyName;
  const fs::path public_path = dir / kPublicKeyName;
  std::error_code ec;
  if (create) {
    fs::create_directories(dir, ec);
    if (ec)
      return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
    fs::permissions(dir, fs::perms::owner_all, ec);
    if (!fs::exists(secret_path)) {
      std::string public_key(crypto_sign_PUBLICKEYBYTES, '\0');
      std::string secret_key(crypto_sign_SECRETKEYBYTES, '\0');
      crypto_sign_keypair(reinterpret_cast<unsigned char*>(public_key.data()),
                          reinterpret_cast<unsigned char*>(secret_key.data()));
      ASSAY_RETURN_IF_ERROR(common::AtomicWriteFile(secret_path, secret_key, kOwnerOnlyFile));
      ASSAY_RETURN_IF_ERROR(common::AtomicWriteFile(public_path, public_key, kOwnerOnlyFile));
    }
  }
  audit::CheckpointKey key;
  auto secret = common::ReadFile(secret_path);
  if (!secret.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the workspace signing key ", secret_path.string(),
        " is missing or unreadable; restore it from backup (audit checkpoints cannot be "
        "signed or verified without it)"));
  }
  if (secret->size() != crypto_sign_SECRETKEYBYTES) {
    return absl::DataLossError(absl::StrCat("the workspace signing key ", secret_path.string(),
                                            " has the wrong size; restore it from backup"));
  }
  key.secret_key = *std::move(secret);
  key.public_key.assign(crypto_sign_PUBLICKEYBYTES, '\0');
  crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(key.public_key.data()),
                               reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  if (!fs::exists(public_path)) {
    ASSAY_RETURN_IF_ERROR(common::AtomicWriteFile(public_path, key.public_key, kOwnerOnlyFile));
  }
  return key;
}

absl::StatusOr<bool> IsInitialized(store::MetadataStore& metadata) {
  ASSAY_ASSIGN_OR_RETURN(auto rows, metadata.Query("SELECT value FROM workspace_info WHERE key = ?",
                                                   {std::string("initialized_at_micros")}));
  return !rows.empty();
}

}  // namespace

std::string CurrentOsUser() {
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  if (const passwd* entry = ::getpwuid(::geteuid()); entry != nullptr && entry->pw_name) {
    return entry->pw_name;
  }
  return absl::StrCat("uid:", ::geteuid());
}

fs::path ResolveHome(const std::string& flag) {
  if (!flag.empty()) return fs::path(flag);
  if (const char* env = std::getenv("ASSAY_HOME"); env != nullptr && *env != '\0') return env;
  return fs::path(".assay");
}

absl::StatusOr<audit::AuditEntry> Workspace::Change::Audit(audit::AuditEvent event) {
  event.actor = actor_.user;
  if (event.reason.empty()) event.reason = actor_.reason;
  return trail_.Append(session_, std::move(event));
}

absl::Status Workspace::Load(bool create) {
  ASSAY_ASSIGN_OR_RETURN(metadata_, store::OpenSqliteMetadataStore(home_ / kDbName));
  ASSAY_ASSIGN_OR_RETURN(auto objects, store::ObjectStore::Open(home_ / "objects"));
  objects_.emplace(std::move(objects));
  trail_ = std::make_unique<audit::AuditTrail>(clock_);
  ASSAY_ASSIGN_OR_RETURN(key_, LoadOrCreateKey(home_, create));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Workspace>> Workspace::Init(const fs::path& home, const Actor& actor,
                                                           const common::Clock& clock) {
  std::error_code ec;
  fs::create_directories(home, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create workspace directory ", home.string(), ": ", ec.message()));
  }
  std::unique_ptr<Workspace> workspace(new Workspace(fs::absolute(home), clock));
  if (fs::exists(home / kDbName)) {
    ASSAY_ASSIGN_OR_RETURN(auto metadata, store::OpenSqliteMetadataStore(home / kDbName));
    ASSAY_ASSIGN_OR_RETURN(const bool initialized, IsInitialized(*metadata));
    if (initialized) {
      return absl::AlreadyExistsError(
          absl::StrCat("an Assay workspace already exists at ", workspace->home_.string(),
                       "; use it as it is, or choose another directory with --home"));
    }
  }
  ASSAY_RETURN_IF_ERROR(workspace->Load(/*create=*/true));
  const std::string public_key_hex = common::HexEncode(workspace->key_.public_key);
  const int schema_version = workspace->metadata_->SchemaVersion();
  ASSAY_RETURN_IF_ERROR(workspace->Mutate(actor, [&](Change& change) -> absl::Status {
    const std::string now = absl::StrCat(clock.NowMicros());
    ASSAY_RETURN_IF_ERROR(
        change.sql().Execute("INSERT INTO workspace_info (key, value) VALUES (?, ?), (?, ?)",
                             {std::string("initialized_at_micros"), now,
                              std::string("signing_public_key"), public_key_hex}));
    audit::AuditEvent event;
    event.action = "workspace.init";
    event.object_type = "workspace";
    event.object_id = workspace->home_.string();
    event.details = {{"schema_version", schema_version}, {"signing_public_key", public_key_hex}};
    return change.Audit(std::move(event)).status();
  }));
  return workspace;
}

absl::StatusOr<std::unique_ptr<Workspace>> Workspace::Open(const fs::path& home,
                                                           const common::Clock& clock) {
  if (!fs::exists(home / kDbName)) {
    return absl::NotFoundError(absl::StrCat(
        "no Assay workspace at ", fs::absolute(home).string(),
        " (create one with `assay init`, or point to one with --home or $ASSAY_HOME)"));
  }
  std::unique_ptr<Workspace> workspace(new Workspace(fs::absolute(home), clock));
  ASSAY_RETURN_IF_ERROR(workspace->Load(/*create=*/false));
  ASSAY_ASSIGN_OR_RETURN(const bool initialized, IsInitialized(*workspace->metadata_));
  if (!initialized) {
    return absl::FailedPreconditionError(
        absl::StrCat("the workspace at ", workspace->home_.string(),
                     " was not fully initialized (an earlier `assay init` was interrupted); "
                     "run `assay init` again to finish it"));
  }
  return workspace;
}

// Refuses to move the checkpoint forward if the entry it names is no longer in the chain:
// otherwise a truncated chain would be re-signed and the tampering hidden.
absl::Status Workspace::CheckCheckpointIntact() const {
  const fs::path path = checkpoint_path();
  if (fs::exists(path)) {
    ASSAY_ASSIGN_OR_RETURN(const std::string text, common::ReadFile(path));
    const nlohmann::json checkpoint = nlohmann::json::parse(text, nullptr, false);
    if (checkpoint.is_discarded() || !checkpoint.is_object() || !checkpoint.contains("seq") ||
        !checkpoint["seq"].is_number_integer() || !checkpoint.contains("entry_hash") ||
        !checkpoint["entry_hash"].is_string()) {
      return absl::DataLossError(absl::StrCat("the audit checkpoint ", path.string(),
                                              " is damaged; run `assay audit verify`"));
    }
    ASSAY_ASSIGN_OR_RETURN(auto rows,
                           metadata_->Query("SELECT entry_hash FROM audit_log WHERE seq = ?",
                                            {checkpoint["seq"].get<int64_t>()}));
    if (rows.empty() || rows[0].GetText(0) != checkpoint["entry_hash"].get<std::string>()) {
      return absl::DataLossError(absl::StrCat(
          "the audit trail no longer contains checkpointed entry ",
          checkpoint["seq"].get<int64_t>(),
          "; the trail may have been tampered with. Run `assay audit verify` and escalate"));
    }
  }
  return absl::OkStatus();
}

absl::Status Workspace::Mutate(const Actor& actor, const std::function<absl::Status(Change&)>& fn) {
  ASSAY_RETURN_IF_ERROR(CheckCheckpointIntact());
  ASSAY_RETURN_IF_ERROR(metadata_->WithTransaction([&](store::SqlSession& session) {
    Change change(session, *trail_, actor);
    return fn(change);
  }));
  absl::Status status = trail_->WriteCheckpoint(*metadata_, checkpoint_path(), key_);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("the change was committed, but the audit checkpoint was "
                                     "not updated: ",
                                     status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<audit::VerifyReport> Workspace::VerifyAudit() const {
  return trail_->Verify(*metadata_, checkpoint_path(), key_);
}

}  // namespace assay::catalog
