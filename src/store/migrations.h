// Numbered schema migrations for the metadata store.
//
// A migration is a list of SQL statements with a version number; versions are 1, 2, 3, ...
// without gaps, and a released migration is never edited (add a new one instead). Each
// migration runs in its own write transaction together with the row that records it in
// schema_migrations(version, applied_at_micros), so a crash leaves it either fully applied or
// not at all. A database whose highest recorded version is above what this build knows is
// refused, because an older build cannot know what a newer schema means.
//
// Statements are kept one per string (no script splitting): SQLite trigger bodies contain
// semicolons. The statements are in SQLite's dialect; a PostgreSQL store will carry its own
// list with the same version numbers (docs/decisions/0001-metadata-store-sql-interface.md).
//
// Thread-safety: the migration lists are immutable; ApplyMigrations is as thread-safe as the
// store it is given, and safe against other processes migrating the same database at the same
// time (each step re-reads the version inside its write transaction).
#ifndef ASSAY_STORE_MIGRATIONS_H_
#define ASSAY_STORE_MIGRATIONS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace assay::store {

class MetadataStore;

struct Migration {
  int version = 0;
  std::string_view description;
  std::vector<std::string_view> statements;
};

// The migrations of the SQLite metadata store, in version order.
const std::vector<Migration>& SqliteMigrations();

// The highest version in `migrations` (0 for an empty list).
int LatestVersion(const std::vector<Migration>& migrations);

// Creates schema_migrations if needed and applies every migration of `migrations` above the
// database's current version, each in its own transaction stamped with `now_micros`.
// Requires `migrations` to be numbered 1..N in order. Returns the schema version afterwards.
// Errors: FAILED_PRECONDITION "workspace was created by a newer assay (schema N, this build
// knows M); upgrade assay" if the database is ahead of `migrations`; INTERNAL if the list is
// not numbered 1..N; the store's errors (the failing migration is named in the message and
// rolled back; earlier ones stay applied).
absl::StatusOr<int> ApplyMigrations(MetadataStore& store, const std::vector<Migration>& migrations,
                                    int64_t now_micros);

}  // namespace assay::store

#endif  // ASSAY_STORE_MIGRATIONS_H_
