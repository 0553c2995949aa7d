// The prepare recipe: an ordered list of processor steps (rename, filter, impute, cast, parse
// dates, one-hot, ...) over one input table, producing one output table. docs/recipes/prepare.md
// is the user reference for every processor and its config keys.
//
// Three phases, so a flow can validate without data and a run fails before touching any row:
//   ParsePrepareSpec  JSON config -> PrepareSpec (keys, JSON types, regexes, option values)
//   BindPrepare       PrepareSpec + input schema -> output schema (columns, types, formulas),
//                     binding every step in order against the schema the previous one produces
//   RunPrepare        binds all steps, then applies them one after another to the table and
//                     returns the output with a short per-step log for the run log
//
// Error messages of the bind and run phases start with "prepare step N (type): " (N 1-based);
// config errors start with "prepare config: steps[i].key: " (i 0-based, as in the JSON).
//
// Thread-safety: a PrepareSpec is immutable after parsing; BindPrepare and RunPrepare may be
// called on the same spec from several threads at once. RunPrepare uses the default thread pool
// (ParallelFor), so it must not be called from inside another ParallelFor on that pool.
#ifndef ASSAY_RECIPES_PREPARE_H_
#define ASSAY_RECIPES_PREPARE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

class PrepareProcessor;  // One parsed step; defined in prepare_processor.h.

struct PrepareStep {
  std::string type;     // "rename", "cast", ...
  std::string comment;  // The optional "comment" key, kept for the run log.
  std::shared_ptr<const PrepareProcessor> processor;
};

struct PrepareSpec {
  std::vector<PrepareStep> steps;
};

struct PrepareContext {
  // The build start time in microseconds since the Unix epoch (UTC): the value of now() in
  // formulas, identical for every row so a rebuild is reproducible.
  int64_t now_micros = 0;
};

// What one step did, for the audit-minded reader of the run log.
struct PrepareStepLog {
  int step = 0;  // 1-based
  std::string type;
  std::string comment;
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  // Cells whose value the step changed (filled, replaced, clipped, ...); -1 where the step
  // does not count them (it would cost a second pass or has no meaning, e.g. rename).
  int64_t cells_changed = -1;
  // Cells a cast or date parse with on_error "null" turned into null because they did not
  // convert; with on_error "keep", the cells kept unconverted.
  int64_t conversion_failures = 0;
  // A short human-readable note, e.g. "price: imputed 12.5 (mean)".
  std::string detail;
};

struct PrepareResult {
  table::Table output;
  std::vector<PrepareStepLog> log;  // One entry per step, in order.
};

// Parses {"steps": [{"type": ..., ...}, ...]}.
// Returns the spec; a config without steps is valid (the output equals the input).
// Errors: INVALID_ARGUMENT naming the key path (steps[3].columns) and what is expected, for an
// unknown step type, an unknown, missing or mistyped key, an invalid regex or option value.
absl::StatusOr<PrepareSpec> ParsePrepareSpec(const nlohmann::json& config);

// Validates the spec against `input` without data: binds every step in order.
// Returns the output schema. Columns added by a one_hot step without "values" depend on the
// data and are absent from this schema (later steps cannot name them; see prepare.md).
// Errors: INVALID_ARGUMENT "prepare step N (type): ..." for an unknown column (listing the
// available ones), an incompatible type, a formula error or a name collision.
absl::StatusOr<table::Schema> BindPrepare(const PrepareSpec& spec, const table::Schema& input);

// Binds every step (same errors as BindPrepare, reported before any row is processed), then
// applies the steps in order. Returns the output table and one log entry per step.
// Errors: INVALID_ARGUMENT for bind errors and for row-level failures, which name the step,
// the column, the 1-based row of the step's input and the offending value (a cast or date parse
// with on_error "fail", one_hot over more than max_categories values).
absl::StatusOr<PrepareResult> RunPrepare(const PrepareSpec& spec, const table::Table& input,
                                         const PrepareContext& context = {});

// The log as JSON (a list of objects with the PrepareStepLog fields; cells_changed omitted
// when not counted), for the flow's run log.
nlohmann::json PrepareLogToJson(const std::vector<PrepareStepLog>& log);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_PREPARE_H_
