#include "recipes/top_n.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "recipes/reshape_config.h"
#include "recipes/reshape_rows.h"

namespace assay::recipes {

absl::StatusOr<TopNSpec> ParseTopNSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("top_n");
  ASSAY_RETURN_IF_ERROR(context.CheckObject(
      config, "", {"group_by", "order_by", "n", "ties", "rank_column"}, {"order_by", "n"}));
  TopNSpec spec;
  ASSAY_ASSIGN_OR_RETURN(spec.group_by, context.StringList(config, "", "group_by", true));
  ASSAY_ASSIGN_OR_RETURN(spec.order_by, internal::ParseSortKeys(context, config, "order_by"));
  ASSAY_ASSIGN_OR_RETURN(const std::optional<int64_t> n, context.OptionalInt(config, "", "n", 1));
  spec.n = *n;
  ASSAY_ASSIGN_OR_RETURN(const int ties,
                         context.OptionalChoice(config, "", "ties", {"first", "include"}, 0));
  spec.ties = ties == 0 ? TopNTies::kFirst : TopNTies::kInclude;
  ASSAY_ASSIGN_OR_RETURN(spec.rank_column, context.OptionalString(config, "", "rank_column", ""));
  return spec;
}

absl::StatusOr<table::Table> RunTopN(const TopNSpec& spec, const table::Table& input) {
  if (spec.n < 1) {
    return absl::InvalidArgumentError(absl::StrCat("top_n: n must be >= 1, got ", spec.n));
  }
  const table::Schema& schema = input.schema();
  std::vector<int> group_columns;
  for (const std::string& name : spec.group_by) {
    ASSAY_ASSIGN_OR_RETURN(const int column,
                           reshape::FindColumn(schema, "top_n", "group_by", name));
    group_columns.push_back(column);
  }
  std::vector<reshape::OrderKey> order_keys;
  for (const SortKey& key : spec.order_by) {
    ASSAY_ASSIGN_OR_RETURN(const int column,
                           reshape::FindColumn(schema, "top_n", "order_by", key.column));
    order_keys.push_back(reshape::OrderKey{column, key.order == SortOrder::kDescending,
                                           key.nulls == NullPlacement::kFirst});
  }
  if (!spec.rank_column.empty()) {
    ASSAY_RETURN_IF_ERROR(
        reshape::CheckNewColumnName(schema, "top_n", "rank_column", spec.rank_column));
  }
  ASSAY_ASSIGN_OR_RETURN(const std::vector<int64_t> sorted,
                         SortPermutation(input, spec.order_by, "top_n"));
  const reshape::RowGroups groups = reshape::GroupRows(input, group_columns);

  // A stable counting sort of the ordered rows by group keeps each group's rows in rank order
  // and lays the groups out in first-appearance order, in O(rows).
  const int64_t num_groups = groups.num_groups();
  std::vector<int64_t> group_start(static_cast<size_t>(num_groups) + 1, 0);
  for (int64_t group : groups.group_of_row) ++group_start[group + 1];
  for (int64_t group = 0; group < num_groups; ++group) {
    group_start[group + 1] += group_start[group];
  }
  std::vector<int64_t> by_group(sorted.size());
  {
    std::vector<int64_t> next(group_start.begin(), group_start.end() - 1);
    for (int64_t row : sorted) by_group[next[groups.group_of_row[row]]++] = row;
  }

  const reshape::RowOrdering ordering(input, std::move(order_keys));
  std::vector<int64_t> kept;
  std::vector<int64_t> ranks;
  for (int64_t group = 0; group < num_groups; ++group) {
    const int64_t begin = group_start[group];
    const int64_t end = group_start[group + 1];
    int64_t rank = 0;
    for (int64_t position = begin; position < end; ++position) {
      const int64_t row = by_group[position];
      const int64_t row_number = position - begin + 1;
      if (spec.ties == TopNTies::kFirst) {
        rank = row_number;
      } else if (position == begin || ordering.Compare(by_group[position - 1], row) != 0) {
        rank = row_number;
      }
      if (rank > spec.n) break;  // Ranks only grow within a group.
      kept.push_back(row);
      ranks.push_back(rank);
    }
  }

  if (spec.rank_column.empty()) return reshape::TakeRows(input, kept);
  ASSAY_ASSIGN_OR_RETURN(table::Column rank_column, table::Column::FromInt64s(std::move(ranks)));
  std::vector<table::Column> extra;
  extra.push_back(std::move(rank_column));
  return reshape::MakeWithExtraColumns(schema, reshape::TakeColumns(input, kept),
                                       {table::Field{spec.rank_column, table::DataType::kInt64}},
                                       std::move(extra));
}

}  // namespace assay::recipes
