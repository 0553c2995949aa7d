#include "flow/quality_gate.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "quality/quality_rules.h"

namespace assay::flow {

absl::StatusOr<nlohmann::json> CheckTable(const catalog::DatasetRules& rules,
                                          const table::Table& table, int64_t now_micros) {
  ASSAY_ASSIGN_OR_RETURN(const std::vector<quality::RuleSpec> specs,
                         quality::ParseRules(rules.rules));
  expr::EvalOptions options;
  options.now_micros = now_micros;
  ASSAY_ASSIGN_OR_RETURN(const quality::QualityReport report,
                         quality::EvaluateRules(specs, table, options));
  return nlohmann::json{{"rules_sha256", rules.sha256},
                        {"passed", !report.HasErrors()},
                        {"errors", report.errors()},
                        {"warnings", report.warnings()},
                        {"report", report.ToJson()}};
}

absl::StatusOr<catalog::VersionChecker> MakeVersionChecker(catalog::Workspace& workspace,
                                                           const std::string& project,
                                                           const std::string& dataset) {
  ASSAY_ASSIGN_OR_RETURN(auto rules, catalog::RecipeCatalog(workspace).GetRules(project, dataset));
  if (!rules || rules->rules.empty()) return catalog::VersionChecker();
  const int64_t now = workspace.clock().NowMicros();
  return catalog::VersionChecker(
      [rules = *rules, now](const table::Table& table) { return CheckTable(rules, table, now); });
}

std::string DescribeFailedRules(const nlohmann::json& checks, int limit) {
  auto report = quality::QualityReport::FromJson(checks.value("report", nlohmann::json()));
  if (!report.ok()) return "the stored quality report is unreadable";
  std::vector<std::string> failures;
  int more = 0;
  for (const auto& result : report->results) {
    if (result.passed || result.severity != quality::Severity::kError) continue;
    if (static_cast<int>(failures.size()) >= limit) {
      ++more;
      continue;
    }
    failures.push_back(absl::StrCat(result.name, ": ", result.message));
  }
  std::string text = absl::StrJoin(failures, "; ");
  if (more > 0) absl::StrAppend(&text, "; and ", more, " more");
  return text;
}

std::string DescribeChecks(const nlohmann::json& checks) {
  if (checks.is_null()) return "no quality rules when this version was made";
  auto report = quality::QualityReport::FromJson(checks.value("report", nlohmann::json()));
  if (!report.ok()) return "the stored quality report is unreadable";
  return report->Summary();
}

}  // namespace assay::flow
