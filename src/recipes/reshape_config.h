// Reading reshape recipe configs (sort, top_n, distinct, sample, stack, split, pivot) from
// JSON: every recipe config is a JSON object whose unknown keys, missing required keys and
// wrongly typed values are rejected with INVALID_ARGUMENT messages of one shape,
//   <recipe> config: <key path>: expected <what>
// e.g. `sort config: "keys"[1]: expected an object with "column"`, so the flow and flow.yaml
// report config mistakes the same way for every recipe.
//
// Also resolves column names against a schema with the standard "unknown column" message.
//
// Pure functions; thread-safe.
#ifndef ASSAY_RECIPES_RESHAPE_CONFIG_H_
#define ASSAY_RECIPES_RESHAPE_CONFIG_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes::reshape {

// Identifies the recipe being parsed and builds key paths for messages.
class ConfigContext {
 public:
  explicit ConfigContext(std::string recipe) : recipe_(std::move(recipe)) {}

  const std::string& recipe() const { return recipe_; }

  // `"keys"` for a top-level key, `"keys"[1]."column"` below it.
  static std::string KeyPath(std::string_view parent, std::string_view key);
  static std::string IndexPath(std::string_view parent, size_t index);

  // INVALID_ARGUMENT "<recipe> config: <path>: expected <expected>" (or without the path when
  // it is empty).
  absl::Status Expected(std::string_view path, std::string_view expected) const;
  // INVALID_ARGUMENT "<recipe> config: <path>: <message>".
  absl::Status Error(std::string_view path, std::string_view message) const;

  // Requires `value` to be an object whose keys are all in `allowed` and which has every key
  // in `required`. Errors: INVALID_ARGUMENT naming the unknown or missing key and the allowed
  // ones.
  absl::Status CheckObject(const nlohmann::json& value, std::string_view path,
                           std::initializer_list<std::string_view> allowed,
                           std::initializer_list<std::string_view> required = {}) const;

  // Typed member readers. `object` must already have passed CheckObject. The Optional forms
  // return `fallback` (or nullopt) when the key is absent; a present key of the wrong type,
  // including JSON null, is INVALID_ARGUMENT.
  absl::StatusOr<std::string> String(const nlohmann::json& object, std::string_view parent,
                                     std::string_view key) const;  // non-empty string
  absl::StatusOr<std::string> OptionalString(const nlohmann::json& object, std::string_view parent,
                                             std::string_view key, std::string fallback) const;
  absl::StatusOr<bool> OptionalBool(const nlohmann::json& object, std::string_view parent,
                                    std::string_view key, bool fallback) const;
  // An integer >= minimum.
  absl::StatusOr<std::optional<int64_t>> OptionalInt(const nlohmann::json& object,
                                                     std::string_view parent, std::string_view key,
                                                     int64_t minimum) const;
  // Any JSON number.
  absl::StatusOr<std::optional<double>> OptionalNumber(const nlohmann::json& object,
                                                       std::string_view parent,
                                                       std::string_view key) const;
  // A seed: an integer in [0, 2^64).
  absl::StatusOr<uint64_t> OptionalSeed(const nlohmann::json& object, std::string_view parent,
                                        std::string_view key, uint64_t fallback) const;
  // An array of non-empty strings without duplicates (empty allowed when `allow_empty`).
  absl::StatusOr<std::vector<std::string>> StringList(const nlohmann::json& object,
                                                      std::string_view parent, std::string_view key,
                                                      bool allow_empty) const;
  // A string that must be one of `choices`; returns its index in `choices`.
  absl::StatusOr<int> OptionalChoice(const nlohmann::json& object, std::string_view parent,
                                     std::string_view key,
                                     std::initializer_list<std::string_view> choices,
                                     int fallback) const;

 private:
  std::string recipe_;
};

// The index of column `name` in `schema`. `role` says what the column is for ("sort key").
// Errors: INVALID_ARGUMENT `<recipe>: <role> column "x" not found (columns: a, b, ...)`.
absl::StatusOr<int> FindColumn(const table::Schema& schema, std::string_view recipe,
                               std::string_view role, std::string_view name);

// Requires that a column the recipe adds (`role` e.g. "count_column") does not clash with an
// input column. Errors: INVALID_ARGUMENT naming the clash and the key to change.
absl::Status CheckNewColumnName(const table::Schema& schema, std::string_view recipe,
                                std::string_view role, std::string_view name);

}  // namespace assay::recipes::reshape

#endif  // ASSAY_RECIPES_RESHAPE_CONFIG_H_
