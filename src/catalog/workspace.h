// Workspace: one directory holding everything Assay knows (ARCHITECTURE.md section 1):
//
//   <home>/assay.db           metadata store (SQLite, WAL)
//   <home>/objects/           content-addressed object store (dataset versions, ...)
//   <home>/keys/              0700 directory; workspace.ed25519 (secret, 0600) and
//                             workspace.ed25519.pub: signs audit checkpoints (later bundles)
//   <home>/audit.checkpoint   signed head of the audit chain, rewritten after each change
//
// Every user-visible change goes through Mutate(): one metadata transaction that also appends
// the change's audit entries, followed by a new signed checkpoint.
//
// Thread-safety: a Workspace may be shared by threads (the store serializes); several
// processes may open the same home (SQLite locking).
#ifndef ASSAY_CATALOG_WORKSPACE_H_
#define ASSAY_CATALOG_WORKSPACE_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "audit/audit_trail.h"
#include "common/clock.h"
#include "store/metadata_store.h"
#include "store/object_store.h"

namespace assay::catalog {

// Who is acting and why; attached to every audit entry of a change.
struct Actor {
  std::string user;    // the OS user for now (real identities come with identity/)
  std::string reason;  // --reason, optional for now
};

// The OS user running this process ($USER, else the passwd entry, else "uid:<n>").
std::string CurrentOsUser();

// Picks the workspace directory: `flag` if non-empty, else $ASSAY_HOME, else ./.assay.
std::filesystem::path ResolveHome(const std::string& flag);

class Workspace {
 public:
  // Creates a workspace in `home` (the directory may exist and be empty of Assay files).
  // Errors: ALREADY_EXISTS if `home` already holds an initialized workspace; INTERNAL on I/O.
  // A killed init leaves a directory that a second init completes.
  static absl::StatusOr<std::unique_ptr<Workspace>> Init(const std::filesystem::path& home,
                                                         const Actor& actor,
                                                         const common::Clock& clock);

  // Opens an initialized workspace. Errors: NOT_FOUND (with the hint to run `assay init`),
  // FAILED_PRECONDITION for a newer schema, DATA_LOSS for a damaged database.
  static absl::StatusOr<std::unique_ptr<Workspace>> Open(const std::filesystem::path& home,
                                                         const common::Clock& clock);

  // The transaction context handed to Mutate callbacks.
  class Change {
   public:
    store::SqlSession& sql() { return session_; }
    // Appends an audit entry for this change; actor and reason come from the Mutate call.
    absl::StatusOr<audit::AuditEntry> Audit(audit::AuditEvent event);

   private:
    friend class Workspace;
    Change(store::SqlSession& session, const audit::AuditTrail& trail, const Actor& actor)
        : session_(session), trail_(trail), actor_(actor) {}
    store::SqlSession& session_;
    const audit::AuditTrail& trail_;
    const Actor& actor_;
  };

  // Runs fn in one metadata transaction; commits only if it returns OK; then re-signs the
  // audit checkpoint. Errors: fn's, the store's; a failure to write the checkpoint after a
  // successful commit is returned as INTERNAL with a note that the change itself committed.
  absl::Status Mutate(const Actor& actor, const std::function<absl::Status(Change&)>& fn);

  // Verifies the audit chain and the checkpoint.
  absl::StatusOr<audit::VerifyReport> VerifyAudit() const;

  const std::filesystem::path& home() const { return home_; }
  store::MetadataStore& metadata() const { return *metadata_; }
  const store::ObjectStore& objects() const { return *objects_; }
  const audit::AuditTrail& audit_trail() const { return *trail_; }
  const common::Clock& clock() const { return clock_; }
  std::filesystem::path checkpoint_path() const { return home_ / "audit.checkpoint"; }

 private:
  Workspace(std::filesystem::path home, const common::Clock& clock)
      : home_(std::move(home)), clock_(clock) {}
  absl::Status Load(bool create);
  // DATA_LOSS if the signed checkpoint names an entry the chain no longer holds.
  absl::Status CheckCheckpointIntact() const;

  std::filesystem::path home_;
  const common::Clock& clock_;
  std::unique_ptr<store::MetadataStore> metadata_;
  std::optional<store::ObjectStore> objects_;
  std::unique_ptr<audit::AuditTrail> trail_;
  audit::CheckpointKey key_;
};

}  // namespace assay::catalog

#endif  // ASSAY_CATALOG_WORKSPACE_H_
