// RunGroup: the `where` filters of the group recipe, compiled and evaluated with the formula
// language, in front of the mask-based kernel RunGroupWithMasks (group.cc). Kept in its own
// file so the kernel and its tests do not need assay_expr.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "expr/expression.h"
#include "recipes/group.h"

namespace assay::recipes {

absl::StatusOr<table::Table> RunGroup(const GroupSpec& spec, const table::Table& input) {
  ASSAY_RETURN_IF_ERROR(CheckGroupSpec(spec, input.schema()));
  // Compile every formula before evaluating any, so a type error in the last one is reported
  // before any row is read.
  std::vector<std::optional<expr::Expression>> filters(spec.aggregations.size());
  bool any_filter = false;
  for (size_t index = 0; index < spec.aggregations.size(); ++index) {
    const Aggregation& aggregation = spec.aggregations[index];
    if (!aggregation.where.has_value()) continue;
    absl::StatusOr<expr::Expression> compiled =
        expr::Expression::Compile(*aggregation.where, input.schema());
    if (!compiled.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("group: aggregation \"",
                                                     aggregation.output_name,
                                                     "\": where: ", compiled.status().message()));
    }
    if (compiled->result_type() != table::DataType::kBool) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group: aggregation \"", aggregation.output_name, "\": where: the formula gives ",
          Absl(table::DataTypeName(compiled->result_type())),
          ", expected a condition (bool), e.g. \"rx_volume > 10\""));
    }
    filters[index] = *std::move(compiled);
    any_filter = true;
  }
  std::vector<std::optional<table::Column>> masks;
  if (any_filter) {
    masks.resize(spec.aggregations.size());
    for (size_t index = 0; index < filters.size(); ++index) {
      if (!filters[index].has_value()) continue;
      ASSAY_ASSIGN_OR_RETURN(masks[index], filters[index]->Evaluate(input));
    }
  }
  return RunGroupWithMasks(spec, input, masks);
}

}  // namespace assay::recipes
