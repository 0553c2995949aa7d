#include "recipes/distinct.h"

#include <numeric>
#include <utility>

#include "common/status_macros.h"
#include "recipes/reshape_config.h"
#include "recipes/reshape_rows.h"

namespace assay::recipes {

absl::StatusOr<DistinctSpec> ParseDistinctSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("distinct");
  ASSAY_RETURN_IF_ERROR(context.CheckObject(config, "", {"columns", "count_column"}));
  DistinctSpec spec;
  ASSAY_ASSIGN_OR_RETURN(spec.columns, context.StringList(config, "", "columns", true));
  ASSAY_ASSIGN_OR_RETURN(spec.count_column, context.OptionalString(config, "", "count_column", ""));
  return spec;
}

absl::StatusOr<table::Table> RunDistinct(const DistinctSpec& spec, const table::Table& input) {
  const table::Schema& schema = input.schema();
  std::vector<int> key_columns;
  for (const std::string& name : spec.columns) {
    ASSAY_ASSIGN_OR_RETURN(const int column, reshape::FindColumn(schema, "distinct", "key", name));
    key_columns.push_back(column);
  }
  if (key_columns.empty()) {
    key_columns.resize(static_cast<size_t>(input.num_columns()));
    std::iota(key_columns.begin(), key_columns.end(), 0);
  }
  if (!spec.count_column.empty()) {
    ASSAY_RETURN_IF_ERROR(
        reshape::CheckNewColumnName(schema, "distinct", "count_column", spec.count_column));
  }
  const reshape::RowGroups groups = reshape::GroupRows(input, key_columns);
  // Groups are numbered in first-appearance order, so their first rows ascend: input order.
  if (spec.count_column.empty()) return reshape::TakeRows(input, groups.first_row);
  std::vector<int64_t> counts(static_cast<size_t>(groups.num_groups()), 0);
  for (int64_t group : groups.group_of_row) ++counts[group];
  ASSAY_ASSIGN_OR_RETURN(table::Column count_column, table::Column::FromInt64s(std::move(counts)));
  std::vector<table::Column> extra;
  extra.push_back(std::move(count_column));
  return reshape::MakeWithExtraColumns(schema, reshape::TakeColumns(input, groups.first_row),
                                       {table::Field{spec.count_column, table::DataType::kInt64}},
                                       std::move(extra));
}

}  // namespace assay::recipes
