// Quality rules at the moments a dataset version is made (import or build) and the gate that
// stops a build before a recipe reads a version that failed an error-severity rule.
//
// The report stored with a version (catalog::DatasetVersion::checks) is an envelope:
//   {"rules_sha256": "...", "passed": bool, "errors": n, "warnings": n,
//    "report": quality::QualityReport::ToJson()}
// where passed is false exactly when a rule of severity error failed.
//
// Thread-safety: functions are thread-safe; a checker is as thread-safe as the workspace.
#ifndef ASSAY_FLOW_QUALITY_GATE_H_
#define ASSAY_FLOW_QUALITY_GATE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "catalog/datasets.h"
#include "catalog/recipes.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::flow {

// Evaluates `rules` (as stored: a JSON array of specs) on `table` and returns the envelope.
// Errors: INVALID_ARGUMENT for malformed specs.
absl::StatusOr<nlohmann::json> CheckTable(const catalog::DatasetRules& rules,
                                          const table::Table& table, int64_t now_micros);

// A checker for catalog::DatasetCatalog::ImportCsv running the rules in force for
// project/dataset (null report when there are none). Errors: store errors.
absl::StatusOr<catalog::VersionChecker> MakeVersionChecker(catalog::Workspace& workspace,
                                                           const std::string& project,
                                                           const std::string& dataset);

// "not_null(npi): 3 of 1200 rows have a null npi: rows 4, 17, 980; ..." for the failed
// error-severity rules of an envelope (at most `limit` rules).
std::string DescribeFailedRules(const nlohmann::json& checks, int limit = 3);

// One line per rule for `dataset show`: the report's Summary(), or a note when unchecked.
std::string DescribeChecks(const nlohmann::json& checks);

}  // namespace assay::flow

#endif  // ASSAY_FLOW_QUALITY_GATE_H_
