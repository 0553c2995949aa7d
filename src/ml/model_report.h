// The model document: one self-contained, printable HTML file describing a saved-model
// version for a validation file (issue 4, "The model document"). The caller (the training /
// registry side) fills a JSON data document whose schema is docs/formats/model-document.md
// (schema_version 1); this module validates it strictly and renders the HTML: title block,
// table of contents and the sections purpose, data lineage, features, algorithm, leaderboard,
// metrics, evaluation charts for the task type (binary: ROC, PR, calibration, gains/lift,
// confusion matrix; multiclass: per-class metrics and confusion matrix; regression: predicted
// vs actual and residuals), global importance, partial dependence, subpopulations and
// environment. Charts are inline SVG (svg_chart.h); the output has no script, no external
// font, image, style sheet or link, and every user-supplied string is HTML-escaped. The
// renderer reads no clock and no environment: the same document gives the same bytes.
//
// Stateless pure function: thread-safe.
#ifndef ASSAY_ML_MODEL_REPORT_H_
#define ASSAY_ML_MODEL_REPORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace assay::ml {

// The schema_version this renderer reads.
inline constexpr int kModelDocumentSchemaVersion = 1;

// Validates `document` against the model-document schema and renders it as HTML (UTF-8).
//
// Requires: a JSON object as docs/formats/model-document.md describes. The task type
// (title.task_type) decides which sections are required and which are not allowed (for
// example roc_curve is required for binary and rejected for regression). An optional section
// may be absent or {"not_available": "reason"}; either way the document shows it as "not
// available for this model" with the reason if one is given.
// Returns: the complete HTML file.
// Errors: INVALID_ARGUMENT naming the JSON path of the first problem in document order
// ("model document: lineage.dataset.sha256 is required (string, 64 hex digits)"), for a
// missing required field, a wrong type, a value out of range, an unknown field, a section
// not applicable to the task type, or an inconsistency (e.g. model.trial_id not in the
// leaderboard, a confusion matrix that is not square).
absl::StatusOr<std::string> RenderModelDocument(const nlohmann::json& document);

}  // namespace assay::ml

#endif  // ASSAY_ML_MODEL_REPORT_H_
