// QualityReport: counting, the stored JSON form and the text summary. Declared in
// quality_rules.h.
#include <algorithm>
#include <array>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "quality/message_text.h"
#include "quality/quality_rules.h"

namespace assay::quality {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 9> kResultKeys = {
    "name",         "type",    "severity",    "passed",        "evaluated",
    "failing_rows", "message", "sample_rows", "sample_values",
};

absl::Status ReportError(std::string_view where, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("quality report: ", Absl(where), ": ", Absl(problem)));
}

// Exactly an integer (a float such as 3.0 would not survive the round trip as written).
std::optional<int64_t> StrictInt64(const json& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<int64_t>();
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  return std::nullopt;
}

absl::StatusOr<RuleResult> ResultFromJson(const json& object, size_t index) {
  const std::string where = absl::StrCat("results[", index, "]");
  if (!object.is_object()) return ReportError(where, "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (std::find(kResultKeys.begin(), kResultKeys.end(), key) == kResultKeys.end()) {
      return ReportError(where, absl::StrCat("unknown key ", QuoteText(key)));
    }
  }
  for (const std::string_view key : kResultKeys) {
    if (!object.contains(key)) {
      return ReportError(where, absl::StrCat("missing key \"", Absl(key), "\""));
    }
  }
  const auto bad = [&](std::string_view key, std::string_view expected) {
    return ReportError(where, absl::StrCat("\"", Absl(key), "\" must be ", Absl(expected)));
  };
  RuleResult result;
  if (!object["name"].is_string()) return bad("name", "a string");
  result.name = object["name"].get<std::string>();
  std::optional<RuleType> type;
  if (object["type"].is_string()) type = RuleTypeFromName(object["type"].get<std::string>());
  if (!type) return bad("type", "a rule type such as \"not_null\"");
  result.type = *type;
  std::optional<Severity> severity;
  if (object["severity"].is_string()) {
    severity = SeverityFromName(object["severity"].get<std::string>());
  }
  if (!severity) return bad("severity", "\"error\" or \"warning\"");
  result.severity = *severity;
  if (!object["passed"].is_boolean()) return bad("passed", "true or false");
  result.passed = object["passed"].get<bool>();
  if (!object["evaluated"].is_boolean()) return bad("evaluated", "true or false");
  result.evaluated = object["evaluated"].get<bool>();
  const auto failing = StrictInt64(object["failing_rows"]);
  if (!failing || *failing < 0) return bad("failing_rows", "a non-negative integer");
  result.failing_rows = *failing;
  if (!object["message"].is_string()) return bad("message", "a string");
  result.message = object["message"].get<std::string>();
  const json& rows = object["sample_rows"];
  if (!rows.is_array()) return bad("sample_rows", "a list of row numbers");
  for (const json& row : rows) {
    const auto number = StrictInt64(row);
    if (!number || *number < 1) return bad("sample_rows", "a list of 1-based row numbers");
    result.sample_rows.push_back(*number);
  }
  const json& values = object["sample_values"];
  if (!values.is_array()) return bad("sample_values", "a list of strings");
  for (const json& value : values) {
    if (!value.is_string()) return bad("sample_values", "a list of strings");
    result.sample_values.push_back(value.get<std::string>());
  }
  return result;
}

}  // namespace

bool QualityReport::HasErrors() const { return errors() > 0; }

int QualityReport::errors() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const RuleResult& r) {
    return !r.passed && r.severity == Severity::kError;
  }));
}

int QualityReport::warnings() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const RuleResult& r) {
    return !r.passed && r.severity == Severity::kWarning;
  }));
}

nlohmann::json QualityReport::ToJson() const {
  json out_results = json::array();
  for (const RuleResult& result : results) {
    out_results.push_back({
        {"name", result.name},
        {"type", std::string(RuleTypeName(result.type))},
        {"severity", std::string(SeverityName(result.severity))},
        {"passed", result.passed},
        {"evaluated", result.evaluated},
        {"failing_rows", result.failing_rows},
        {"message", result.message},
        {"sample_rows", result.sample_rows},
        {"sample_values", result.sample_values},
    });
  }
  return {{"num_rows", num_rows}, {"results", std::move(out_results)}};
}

absl::StatusOr<QualityReport> QualityReport::FromJson(const nlohmann::json& json_report) {
  if (!json_report.is_object()) return ReportError("top level", "must be an object");
  for (const auto& [key, value] : json_report.items()) {
    if (key != "num_rows" && key != "results") {
      return ReportError("top level", absl::StrCat("unknown key ", QuoteText(key)));
    }
  }
  QualityReport report;
  const auto rows =
      json_report.contains("num_rows") ? StrictInt64(json_report["num_rows"]) : std::nullopt;
  if (!rows || *rows < 0) return ReportError("num_rows", "must be a non-negative integer");
  report.num_rows = *rows;
  if (!json_report.contains("results") || !json_report["results"].is_array()) {
    return ReportError("results", "must be a list");
  }
  const json& results = json_report["results"];
  for (size_t index = 0; index < results.size(); ++index) {
    ASSAY_ASSIGN_OR_RETURN(RuleResult result, ResultFromJson(results[index], index));
    report.results.push_back(std::move(result));
  }
  return report;
}

std::string QualityReport::Summary() const {
  const int error_count = errors();
  const int warning_count = warnings();
  const int passed = static_cast<int>(
      std::count_if(results.begin(), results.end(), [](const RuleResult& r) { return r.passed; }));
  std::string out = absl::StrCat(
      "quality: ", error_count, error_count == 1 ? " error, " : " errors, ", warning_count,
      warning_count == 1 ? " warning, " : " warnings, ", passed, " passed (", results.size(),
      results.size() == 1 ? " rule, " : " rules, ", num_rows, num_rows == 1 ? " row)" : " rows)");
  // Failures first (errors, then warnings), each group in rule order.
  const auto rank = [](const RuleResult& r) {
    if (r.passed) return 2;
    return r.severity == Severity::kError ? 0 : 1;
  };
  for (int group = 0; group < 3; ++group) {
    for (const RuleResult& result : results) {
      if (rank(result) != group) continue;
      const std::string_view status = result.passed ? "passed" : "FAILED";
      const std::string severity = absl::StrCat("[", Absl(SeverityName(result.severity)), "]");
      absl::StrAppend(&out, "\n  ", Absl(status), std::string(9 - status.size(), ' '), severity,
                      std::string(severity.size() < 10 ? 10 - severity.size() : 1, ' '),
                      OneLine(result.name), ": ", OneLine(result.message));
    }
  }
  return out;
}

}  // namespace assay::quality
