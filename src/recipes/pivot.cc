#include "recipes/pivot.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "recipes/reshape_config.h"
#include "recipes/reshape_rows.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::DataType;

constexpr std::string_view kAggregationNames[] = {"count", "sum", "mean", "min", "max", "first"};

std::string_view AggregationName(PivotAggregation aggregation) {
  return kAggregationNames[static_cast<int>(aggregation)];
}

// One generated column: the pivot-value group it collects (-1 for none) and its name.
struct PivotSlot {
  int64_t pivot_group;
  std::string name;
};

// Aggregates the value column into cells laid out slot-major (cell = slot * groups + group),
// so each output column is one contiguous run of cells.
class CellAggregator {
 public:
  CellAggregator(PivotAggregation aggregation, const Column* value, int64_t cells)
      : aggregation_(aggregation), value_(value) {
    switch (aggregation) {
      case PivotAggregation::kCount:
        counts_.assign(static_cast<size_t>(cells), 0);
        break;
      case PivotAggregation::kSum:
      case PivotAggregation::kMean:
        counts_.assign(static_cast<size_t>(cells), 0);
        if (value->type() == DataType::kInt64 && aggregation == PivotAggregation::kSum) {
          int_sums_.assign(static_cast<size_t>(cells), 0);
        } else {
          float_sums_.assign(static_cast<size_t>(cells), 0.0);
        }
        break;
      case PivotAggregation::kMin:
      case PivotAggregation::kMax:
      case PivotAggregation::kFirst:
        best_row_.assign(static_cast<size_t>(cells), -1);
        break;
    }
  }

  // Adds input row `row` to `cell`. Errors: INVALID_ARGUMENT on int64 sum overflow.
  absl::Status Add(int64_t cell, int64_t row) {
    if (value_ != nullptr && value_->IsNull(row)) return absl::OkStatus();
    switch (aggregation_) {
      case PivotAggregation::kCount:
        ++counts_[cell];
        break;
      case PivotAggregation::kSum:
      case PivotAggregation::kMean:
        ++counts_[cell];
        if (!int_sums_.empty()) {
          if (__builtin_add_overflow(int_sums_[cell], value_->int64_values()[row],
                                     &int_sums_[cell])) {
            return absl::InvalidArgumentError(
                "pivot: the int64 sum overflows; convert the value column to float64 first");
          }
        } else if (value_->type() == DataType::kInt64) {
          float_sums_[cell] += static_cast<double>(value_->int64_values()[row]);
        } else {
          float_sums_[cell] += value_->float64_values()[row];
        }
        break;
      case PivotAggregation::kMin:
      case PivotAggregation::kMax: {
        int64_t& best = best_row_[cell];
        if (best < 0) {
          best = row;
        } else {
          const int order = reshape::CompareValues(*value_, row, best);
          if (aggregation_ == PivotAggregation::kMin ? order < 0 : order > 0) best = row;
        }
        break;
      }
      case PivotAggregation::kFirst:
        if (best_row_[cell] < 0) best_row_[cell] = row;
        break;
    }
    return absl::OkStatus();
  }

  // The output column of cells [begin, begin + groups).
  Column Finish(int64_t begin, int64_t groups) const {
    const auto first = static_cast<size_t>(begin);
    const auto last = static_cast<size_t>(begin + groups);
    absl::StatusOr<Column> out;
    std::vector<uint8_t> validity;
    auto count_validity = [&] {
      validity.assign(static_cast<size_t>((groups + 7) / 8), 0);
      for (size_t cell = first; cell < last; ++cell) {
        const size_t slot = cell - first;
        if (counts_[cell] > 0) validity[slot >> 3] |= static_cast<uint8_t>(1u << (slot & 7));
      }
    };
    switch (aggregation_) {
      case PivotAggregation::kCount:
        out = Column::FromInt64s(
            std::vector<int64_t>(counts_.begin() + first, counts_.begin() + last));
        break;
      case PivotAggregation::kSum:
        count_validity();
        if (!int_sums_.empty()) {
          out = Column::FromInt64s(
              std::vector<int64_t>(int_sums_.begin() + first, int_sums_.begin() + last),
              std::move(validity));
        } else {
          out = Column::FromFloat64s(
              std::vector<double>(float_sums_.begin() + first, float_sums_.begin() + last),
              std::move(validity));
        }
        break;
      case PivotAggregation::kMean: {
        count_validity();
        std::vector<double> means(static_cast<size_t>(groups), 0.0);
        for (size_t cell = first; cell < last; ++cell) {
          if (counts_[cell] > 0) {
            means[cell - first] = float_sums_[cell] / static_cast<double>(counts_[cell]);
          }
        }
        out = Column::FromFloat64s(std::move(means), std::move(validity));
        break;
      }
      case PivotAggregation::kMin:
      case PivotAggregation::kMax:
      case PivotAggregation::kFirst:
        return reshape::TakeColumn(
            *value_, std::vector<int64_t>(best_row_.begin() + first, best_row_.begin() + last));
    }
    return *std::move(out);
  }

 private:
  PivotAggregation aggregation_;
  const Column* value_;  // Null for a count of rows.
  std::vector<int64_t> counts_;
  std::vector<int64_t> int_sums_;
  std::vector<double> float_sums_;
  std::vector<int64_t> best_row_;
};

}  // namespace

absl::StatusOr<PivotSpec> ParsePivotSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("pivot");
  ASSAY_RETURN_IF_ERROR(
      context.CheckObject(config, "",
                          {"index", "pivot_column", "value_column", "aggregation", "max_columns",
                           "column_prefix", "null_pivot", "null_label"},
                          {"pivot_column", "aggregation"}));
  PivotSpec spec;
  ASSAY_ASSIGN_OR_RETURN(spec.index, context.StringList(config, "", "index", true));
  ASSAY_ASSIGN_OR_RETURN(spec.pivot_column, context.String(config, "", "pivot_column"));
  ASSAY_ASSIGN_OR_RETURN(spec.value_column, context.OptionalString(config, "", "value_column", ""));
  ASSAY_ASSIGN_OR_RETURN(
      const int aggregation,
      context.OptionalChoice(config, "", "aggregation",
                             {"count", "sum", "mean", "min", "max", "first"}, 0));
  spec.aggregation = static_cast<PivotAggregation>(aggregation);
  if (spec.value_column.empty() && spec.aggregation != PivotAggregation::kCount) {
    return context.Error(
        "", absl::StrCat("missing required key \"value_column\" (aggregation \"",
                         Absl(AggregationName(spec.aggregation)), "\" needs a value column)"));
  }
  ASSAY_ASSIGN_OR_RETURN(const std::optional<int64_t> max_columns,
                         context.OptionalInt(config, "", "max_columns", 1));
  if (max_columns.has_value()) spec.max_columns = *max_columns;
  if (config.contains("column_prefix")) {
    // An empty prefix is allowed (it is the default), so read it without OptionalString.
    if (!config["column_prefix"].is_string()) {
      return context.Expected("\"column_prefix\"", "a string");
    }
    spec.column_prefix = config["column_prefix"].get<std::string>();
  }
  ASSAY_ASSIGN_OR_RETURN(const int null_pivot,
                         context.OptionalChoice(config, "", "null_pivot", {"column", "drop"}, 0));
  spec.null_pivot = null_pivot == 0 ? PivotNulls::kColumn : PivotNulls::kDrop;
  ASSAY_ASSIGN_OR_RETURN(spec.null_label, context.OptionalString(config, "", "null_label", "null"));
  return spec;
}

absl::StatusOr<table::Table> RunPivot(const PivotSpec& spec, const table::Table& input) {
  const table::Schema& schema = input.schema();
  // Everything that depends only on the schema is checked before any row is read.
  if (spec.max_columns < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("pivot: max_columns must be >= 1, got ", spec.max_columns));
  }
  std::vector<int> index_columns;
  for (const std::string& name : spec.index) {
    ASSAY_ASSIGN_OR_RETURN(const int column, reshape::FindColumn(schema, "pivot", "index", name));
    if (std::find(index_columns.begin(), index_columns.end(), column) != index_columns.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("pivot: index column \"", name, "\" is listed twice"));
    }
    index_columns.push_back(column);
  }
  ASSAY_ASSIGN_OR_RETURN(const int pivot_column,
                         reshape::FindColumn(schema, "pivot", "pivot", spec.pivot_column));
  if (std::find(index_columns.begin(), index_columns.end(), pivot_column) != index_columns.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pivot: pivot_column \"", spec.pivot_column,
                     "\" is also an index column; remove it from \"index\""));
  }
  const Column* value = nullptr;
  if (!spec.value_column.empty()) {
    ASSAY_ASSIGN_OR_RETURN(const int value_column,
                           reshape::FindColumn(schema, "pivot", "value", spec.value_column));
    value = &input.column(value_column);
  } else if (spec.aggregation != PivotAggregation::kCount) {
    return absl::InvalidArgumentError(absl::StrCat("pivot: aggregation \"",
                                                   Absl(AggregationName(spec.aggregation)),
                                                   "\" needs a value_column"));
  }
  if ((spec.aggregation == PivotAggregation::kSum || spec.aggregation == PivotAggregation::kMean) &&
      !table::IsNumeric(value->type())) {
    return absl::InvalidArgumentError(
        absl::StrCat("pivot: aggregation \"", Absl(AggregationName(spec.aggregation)),
                     "\" needs an int64 or float64 value column, but \"", spec.value_column,
                     "\" is ", Absl(table::DataTypeName(value->type()))));
  }

  // Pivot values: distinct values in sort order, null last (or dropped).
  const reshape::RowGroups pivot_groups = reshape::GroupRows(input, {pivot_column});
  const Column& pivot = input.column(pivot_column);
  std::vector<int64_t> value_groups;
  int64_t null_group = -1;
  for (int64_t group = 0; group < pivot_groups.num_groups(); ++group) {
    if (pivot.IsNull(pivot_groups.first_row[group])) {
      null_group = group;
    } else {
      value_groups.push_back(group);
    }
  }
  std::sort(value_groups.begin(), value_groups.end(), [&](int64_t a, int64_t b) {
    return reshape::CompareValues(pivot, pivot_groups.first_row[a], pivot_groups.first_row[b]) < 0;
  });
  std::vector<PivotSlot> slots;
  for (int64_t group : value_groups) {
    slots.push_back(
        PivotSlot{group, spec.column_prefix + pivot.ValueToString(pivot_groups.first_row[group])});
  }
  if (null_group >= 0 && spec.null_pivot == PivotNulls::kColumn) {
    slots.push_back(PivotSlot{null_group, spec.column_prefix + spec.null_label});
  }
  if (static_cast<int64_t>(slots.size()) > spec.max_columns) {
    return absl::InvalidArgumentError(
        absl::StrCat("pivot: column \"", spec.pivot_column, "\" has ", slots.size(),
                     " distinct values, more than max_columns = ", spec.max_columns,
                     "; raise \"max_columns\" in the pivot config or filter the rows first"));
  }
  absl::flat_hash_map<std::string, std::string> taken;  // Generated name -> what took it.
  for (int column : index_columns) {
    taken.emplace(schema.field(column).name, "index column");
  }
  for (const PivotSlot& slot : slots) {
    if (slot.name.empty()) {
      return absl::InvalidArgumentError(
          "pivot: the empty pivot value would make a column without a name; set "
          "\"column_prefix\"");
    }
    const auto [it, inserted] = taken.emplace(slot.name, "pivot column");
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("pivot: generated column \"", slot.name, "\" clashes with the ", it->second,
                       " of that name; set \"column_prefix\" or \"null_label\""));
    }
  }

  std::vector<int64_t> slot_of_group(static_cast<size_t>(pivot_groups.num_groups()), -1);
  for (size_t slot = 0; slot < slots.size(); ++slot) {
    slot_of_group[slots[slot].pivot_group] = static_cast<int64_t>(slot);
  }
  const reshape::RowGroups index_groups = reshape::GroupRows(input, index_columns);
  const int64_t num_groups = index_groups.num_groups();
  CellAggregator aggregator(spec.aggregation, value,
                            num_groups * static_cast<int64_t>(slots.size()));
  for (int64_t row = 0; row < input.num_rows(); ++row) {
    const int64_t slot = slot_of_group[pivot_groups.group_of_row[row]];
    if (slot < 0) continue;
    ASSAY_RETURN_IF_ERROR(aggregator.Add(slot * num_groups + index_groups.group_of_row[row], row));
  }

  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (int column : index_columns) {
    fields.push_back(schema.field(column));
    columns.push_back(reshape::TakeColumn(input.column(column), index_groups.first_row));
  }
  for (size_t slot = 0; slot < slots.size(); ++slot) {
    Column column = aggregator.Finish(static_cast<int64_t>(slot) * num_groups, num_groups);
    fields.push_back(table::Field{slots[slot].name, column.type()});
    columns.push_back(std::move(column));
  }
  return table::Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::recipes
