// The join recipe: combines two tables on equal keys (inner, left, right, full outer), or
// pairs every row with every row when a cross join is asked for explicitly. The user
// reference, with a YAML example, is docs/recipes/relational.md.
//
// Semantics in short:
//   - Keys: `on: [a, b]` (same names on both sides) or `left_on` / `right_on` (pairwise).
//     Paired key columns must have the same type; a mismatch (int64 vs float64, string vs
//     int64, ...) is an error that tells the user to cast in a prepare step first.
//   - A null key never matches anything (SQL semantics); such rows still appear, unmatched, in
//     the outer side(s) of left/right/full joins. Float keys compare by value with -0.0 == 0.0
//     and NaN == NaN.
//   - Output columns: the selected left columns (left_columns, default all), then the selected
//     right columns (right_columns, default all). A key with the same name on both sides
//     appears once, as a left column (for right/full joins its value comes from the right row
//     when the row has no left match); it is always kept, first, if left_columns omits it.
//     Other names present on both sides get left_suffix / right_suffix ("_left"/"_right").
//   - Output row order (deterministic): the left rows in left order, each followed by its
//     matches in right order (unmatched left rows once, with nulls, for left/full joins); then,
//     for right/full joins, the right rows that matched nothing, in right order. Many-to-many
//     matches multiply rows; a cartesian product needs `type: cross` (no keys).
//
// Implementation: a hash join. The right table is the build side (a flat hash map from a
// 64-bit row hash over all key columns to a chain of right rows, verified on collision); the
// left table is probed in parallel chunks on common::ThreadPool::Default(); output columns are
// gathered in parallel.
//
// Thread-safety: ParseJoinSpec and RunJoin are reentrant. RunJoin uses
// common::ThreadPool::Default() and must not be called from inside one of its tasks.
#ifndef ASSAY_RECIPES_JOIN_H_
#define ASSAY_RECIPES_JOIN_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

enum class JoinType { kInner, kLeft, kRight, kFull, kCross };

// "inner", "left", "right", "full", "cross".
std::string_view JoinTypeName(JoinType type);

struct JoinSpec {
  JoinType type = JoinType::kInner;
  // Pairwise key columns; same length, empty only for kCross.
  std::vector<std::string> left_on;
  std::vector<std::string> right_on;
  // Columns to keep from each side, in output order; nullopt keeps all, in schema order.
  std::optional<std::vector<std::string>> left_columns;
  std::optional<std::vector<std::string>> right_columns;
  // Appended to a column name present in the output of both sides.
  std::string left_suffix = "_left";
  std::string right_suffix = "_right";
};

// Parses a join config:
//   type: inner | left | right | full | cross     (default inner)
//   on: [key, ...]             or   left_on: [...] + right_on: [...]   (a single name is fine)
//   left_columns: [...]        right_columns: [...]                    (optional)
//   left_suffix: "_left"       right_suffix: "_right"                  (optional)
// Errors: INVALID_ARGUMENT naming "join config", the key path and what is expected, for an
// unknown key, a wrong JSON type, a missing key list (non-cross), keys given for a cross join,
// both `on` and `left_on`/`right_on`, key lists of different lengths, or empty/equal suffixes.
absl::StatusOr<JoinSpec> ParseJoinSpec(const nlohmann::json& config);

// Joins `left` and `right` as described above. Every check (unknown columns, key type
// mismatches, output name clashes left after suffixing) is made from the schemas before any
// row is read. Returns the joined table.
// Errors: INVALID_ARGUMENT naming the column and listing the available ones; for a key type
// mismatch, naming both types and asking for a cast in a prepare step.
absl::StatusOr<table::Table> RunJoin(const JoinSpec& spec, const table::Table& left,
                                     const table::Table& right);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_JOIN_H_
