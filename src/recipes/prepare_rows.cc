// Prepare processors that select rows or fill cells: filter_values, filter_range,
// filter_date_range, remove_empty, fill_empty, impute, fill_forward, fill_backward.
// Filters build a selection vector and take the rows once.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "recipes/prepare_processor.h"

namespace assay::recipes {
namespace {

constexpr int64_t kMicrosPerDay = 86'400'000'000;

// Keeps the rows where matches(row) == keep; returns the input unchanged if all stay.
template <typename Match>
Table SelectRows(const Table& table, bool keep, PrepareStepLog& log, Match&& matches) {
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(table.num_rows()));
  for (int64_t row = 0; row < table.num_rows(); ++row) {
    if (matches(row) == keep) rows.push_back(row);
  }
  log.detail = absl::StrCat(table.num_rows() - static_cast<int64_t>(rows.size()), " rows removed");
  if (static_cast<int64_t>(rows.size()) == table.num_rows()) return table;
  return TakeRows(table, rows);
}

bool ParseKeepRemove(StepConfig& config) {
  return config.Choice("action", {"keep", "remove"}, "keep") == "keep";
}

// ---- filter_values -----------------------------------------------------------------------------

class FilterValuesProcessor : public PrepareProcessor {
 public:
  FilterValuesProcessor(std::string column, std::vector<nlohmann::json> values, bool keep)
      : column_(std::move(column)), values_(std::move(values)), keep_(keep) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    const DataType type = input.field(source).type;
    auto strings = std::make_shared<absl::flat_hash_set<std::string>>();
    auto keys = std::make_shared<absl::flat_hash_set<int64_t>>();
    bool match_null = false;
    for (const nlohmann::json& value : values_) {
      absl::StatusOr<CellValue> cell = JsonToCell(value, type);
      if (!cell.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("values: ", cell.status().message(), " (column ", Quote(column_), ")"));
      }
      if (cell->is_null) {
        match_null = true;
      } else if (type == DataType::kString) {
        strings->insert(cell->text);
      } else {
        keys->insert(CellValueKey(*cell, type));
      }
    }
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, source, strings, keys, match_null](
                      const Table& table, const StepContext&,
                      PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      if (column.type() == DataType::kString) {
        return SelectRows(table, keep_, log, [&](int64_t row) {
          if (column.IsNull(row)) return match_null;
          return strings->contains(Absl(column.StringAt(row)));
        });
      }
      return SelectRows(table, keep_, log, [&](int64_t row) {
        if (column.IsNull(row)) return match_null;
        return keys->contains(CellKey(column, row));
      });
    };
    return bound;
  }

 private:
  std::string column_;
  std::vector<nlohmann::json> values_;
  bool keep_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFilterValues(StepConfig& config) {
  auto column = config.String("column");
  auto values = config.OptionalRaw("values");
  const bool keep = ParseKeepRemove(config);
  if (!values.has_value()) config.Fail("values", "missing required key (a list of values)");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!values->is_array() || values->empty()) {
    config.Fail("values", "expected a non-empty list of values");
    return config.Finish();
  }
  std::vector<nlohmann::json> list;
  for (const auto& value : *values) {
    if (value.is_object() || value.is_array()) {
      config.Fail("values", "expected a list of strings, numbers, booleans or null");
      return config.Finish();
    }
    list.push_back(value);
  }
  return std::make_unique<FilterValuesProcessor>(std::move(column), std::move(list), keep);
}

// ---- filter_range / filter_date_range ----------------------------------------------------------

class FilterRangeProcessor : public PrepareProcessor {
 public:
  FilterRangeProcessor(std::string column, std::optional<double> min, std::optional<double> max,
                       bool keep)
      : column_(std::move(column)), min_(min), max_(max), keep_(keep) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireType(input, source, {DataType::kInt64, DataType::kFloat64},
                                      "use filter_date_range for dates"));
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, source](const Table& table, const StepContext&,
                                 PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      const double low = min_.value_or(-HUGE_VAL);
      const double high = max_.value_or(HUGE_VAL);
      // Comparisons with NaN are false, so NaN is never in range, like null.
      if (column.type() == DataType::kFloat64) {
        const auto& values = column.float64_values();
        return SelectRows(table, keep_, log, [&](int64_t row) {
          return column.IsValid(row) && values[row] >= low && values[row] <= high;
        });
      }
      const auto& values = column.int64_values();
      return SelectRows(table, keep_, log, [&](int64_t row) {
        const auto value = static_cast<double>(values[row]);
        return column.IsValid(row) && value >= low && value <= high;
      });
    };
    return bound;
  }

 private:
  std::string column_;
  std::optional<double> min_;
  std::optional<double> max_;
  bool keep_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFilterRange(StepConfig& config) {
  auto column = config.String("column");
  auto min = config.OptionalNumber("min");
  auto max = config.OptionalNumber("max");
  const bool keep = ParseKeepRemove(config);
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!min.has_value() && !max.has_value()) {
    config.Fail("", "set min, max or both");
    return config.Finish();
  }
  if (min.has_value() && max.has_value() && *min > *max) {
    config.Fail("min", "min is greater than max");
    return config.Finish();
  }
  return std::make_unique<FilterRangeProcessor>(std::move(column), min, max, keep);
}

class FilterDateRangeProcessor : public PrepareProcessor {
 public:
  FilterDateRangeProcessor(std::string column, std::optional<std::string> from,
                           std::optional<std::string> to, bool keep)
      : column_(std::move(column)), from_(std::move(from)), to_(std::move(to)), keep_(keep) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireType(input, source, {DataType::kDate, DataType::kTimestamp},
                                      "parse it with parse_dates or cast it first"));
    // Bounds in microseconds, inclusive; a date-only "to" includes that whole day.
    int64_t low = std::numeric_limits<int64_t>::min();
    int64_t high = std::numeric_limits<int64_t>::max();
    if (from_.has_value()) {
      const auto micros = ParseTimestampText(*from_);
      if (!micros) return BadBound("from", *from_);
      low = *micros;
    }
    if (to_.has_value()) {
      if (const auto day = common::ParseIsoDate(TrimAscii(*to_))) {
        high = (int64_t{*day} + 1) * kMicrosPerDay - 1;
      } else if (const auto micros = ParseTimestampText(*to_)) {
        high = *micros;
      } else {
        return BadBound("to", *to_);
      }
    }
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, source, low, high](const Table& table, const StepContext&,
                                            PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      if (column.type() == DataType::kDate) {
        const auto& days = column.date_values();
        return SelectRows(table, keep_, log, [&](int64_t row) {
          const int64_t start = int64_t{days[row]} * kMicrosPerDay;
          // A day is in range when any instant of it is: its start is <= high and its end >= low.
          return column.IsValid(row) && start <= high && start + kMicrosPerDay - 1 >= low;
        });
      }
      const auto& micros = column.int64_values();
      return SelectRows(table, keep_, log, [&](int64_t row) {
        return column.IsValid(row) && micros[row] >= low && micros[row] <= high;
      });
    };
    return bound;
  }

 private:
  static absl::Status BadBound(std::string_view key, const std::string& value) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(key), ": ", Quote(value),
                                                   " is not an ISO date (2024-03-31) or "
                                                   "timestamp (2024-03-31T12:00:00Z)"));
  }

  std::string column_;
  std::optional<std::string> from_;
  std::optional<std::string> to_;
  bool keep_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFilterDateRange(StepConfig& config) {
  auto column = config.String("column");
  auto from = config.OptionalString("from");
  auto to = config.OptionalString("to");
  const bool keep = ParseKeepRemove(config);
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!from.has_value() && !to.has_value()) {
    config.Fail("", "set from, to or both");
    return config.Finish();
  }
  for (const auto& [key, value] : {std::pair{"from", from}, std::pair{"to", to}}) {
    if (value.has_value() && !ParseTimestampText(*value).has_value()) {
      config.Fail(key, absl::StrCat(Quote(*value), " is not an ISO date (2024-03-31) or ",
                                    "timestamp (2024-03-31T12:00:00Z)"));
      return config.Finish();
    }
  }
  return std::make_unique<FilterDateRangeProcessor>(std::move(column), std::move(from),
                                                    std::move(to), keep);
}

// ---- remove_empty ------------------------------------------------------------------------------

class RemoveEmptyProcessor : public PrepareProcessor {
 public:
  RemoveEmptyProcessor(std::optional<std::vector<std::string>> columns, bool all)
      : columns_(std::move(columns)), all_(all) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    std::vector<int> indexes;
    if (columns_.has_value()) {
      ASSAY_ASSIGN_OR_RETURN(indexes, ResolveColumns(input, *columns_, "columns"));
    } else {
      indexes.resize(static_cast<size_t>(input.num_fields()));
      std::iota(indexes.begin(), indexes.end(), 0);
    }
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, indexes](const Table& table, const StepContext&,
                                  PrepareStepLog& log) -> absl::StatusOr<Table> {
      return SelectRows(table, /*keep=*/false, log, [&](int64_t row) {
        for (int index : indexes) {
          if (IsEmptyCell(table.column(index), row) != all_) return !all_;
        }
        return all_;
      });
    };
    return bound;
  }

 private:
  std::optional<std::vector<std::string>> columns_;
  bool all_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseRemoveEmpty(StepConfig& config) {
  auto columns = config.OptionalStringList("columns", "column names");
  const bool all = config.Choice("how", {"any", "all"}, "any") == "all";
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<RemoveEmptyProcessor>(std::move(columns), all);
}

// ---- fill_empty --------------------------------------------------------------------------------

// Replaces the empty cells of `column` with `fill` (a one-row column of the same type).
Column FillEmpty(const Column& column, const Column& fill, int64_t* changed) {
  ColumnBuilder builder(column.type());
  builder.Reserve(column.size());
  for (int64_t row = 0; row < column.size(); ++row) {
    if (IsEmptyCell(column, row)) {
      builder.AppendFrom(fill, 0);
      ++*changed;
    } else {
      builder.AppendFrom(column, row);
    }
  }
  return builder.Finish();
}

class FillEmptyProcessor : public PrepareProcessor {
 public:
  FillEmptyProcessor(std::vector<std::string> columns, nlohmann::json value)
      : columns_(std::move(columns)), value_(std::move(value)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes,
                           ResolveColumns(input, columns_, "columns"));
    auto fills = std::make_shared<std::vector<Column>>();
    for (int index : indexes) {
      const DataType type = input.field(index).type;
      absl::StatusOr<CellValue> cell = JsonToCell(value_, type);
      if (!cell.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "value: ", cell.status().message(), " (column ", Quote(input.field(index).name), " is ",
            Absl(table::DataTypeName(type)), ")"));
      }
      ColumnBuilder builder(type);
      AppendCell(builder, type, *cell);
      fills->push_back(builder.Finish());
    }
    BoundStep bound;
    bound.output = input;
    bound.apply = [indexes, fills](const Table& table, const StepContext&,
                                   PrepareStepLog& log) -> absl::StatusOr<Table> {
      TableEdit edit = TableEdit::From(table);
      log.cells_changed = 0;
      for (size_t i = 0; i < indexes.size(); ++i) {
        edit.columns[indexes[i]] =
            FillEmpty(table.column(indexes[i]), (*fills)[i], &log.cells_changed);
      }
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  std::vector<std::string> columns_;
  nlohmann::json value_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFillEmpty(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  auto value = config.OptionalRaw("value");
  if (!value.has_value()) config.Fail("value", "missing required key (the fill value)");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!value->is_string() && !value->is_number() && !value->is_boolean()) {
    config.Fail("value", "expected a string, number or boolean");
    return config.Finish();
  }
  return std::make_unique<FillEmptyProcessor>(std::move(columns), *std::move(value));
}

// ---- impute ------------------------------------------------------------------------------------

enum class ImputeMethod { kMean, kMedian, kMode };

class ImputeProcessor : public PrepareProcessor {
 public:
  ImputeProcessor(std::vector<std::string> columns, ImputeMethod method)
      : columns_(std::move(columns)), method_(method) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes,
                           ResolveColumns(input, columns_, "columns"));
    std::vector<Field> fields = input.fields();
    for (int index : indexes) {
      if (method_ != ImputeMethod::kMode) {
        ASSAY_RETURN_IF_ERROR(RequireType(input, index, {DataType::kInt64, DataType::kFloat64},
                                          "use method \"mode\" for other types"));
        // The mean of integers is rarely an integer; the column becomes float64 rather than
        // rounding silently.
        fields[index].type = DataType::kFloat64;
      }
    }
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, indexes](const Table& table, const StepContext&,
                                  PrepareStepLog& log) -> absl::StatusOr<Table> {
      TableEdit edit = TableEdit::From(table);
      log.cells_changed = 0;
      for (int index : indexes) {
        const std::string& name = table.schema().field(index).name;
        const Column& column = table.column(index);
        Column fill;
        if (method_ == ImputeMethod::kMode) {
          const int64_t mode_row = ModeRow(column);
          if (mode_row < 0) {
            absl::StrAppend(&log.detail, log.detail.empty() ? "" : "; ", name,
                            ": no value to impute from");
            continue;
          }
          ColumnBuilder builder(column.type());
          builder.AppendFrom(column, mode_row);
          fill = builder.Finish();
        } else {
          const Column numbers = ToFloat64(column);
          const std::optional<double> statistic =
              method_ == ImputeMethod::kMean ? Mean(numbers) : Median(numbers);
          edit.columns[index] = numbers;
          edit.fields[index].type = DataType::kFloat64;
          if (!statistic.has_value()) {
            absl::StrAppend(&log.detail, log.detail.empty() ? "" : "; ", name,
                            ": no value to impute from");
            continue;
          }
          fill = *Column::FromFloat64s({*statistic});
        }
        absl::StrAppend(&log.detail, log.detail.empty() ? "" : "; ", name, ": imputed ",
                        fill.ValueToString(0));
        edit.columns[index] = FillEmpty(edit.columns[index], fill, &log.cells_changed);
      }
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  static Column ToFloat64(const Column& column) {
    if (column.type() == DataType::kFloat64) return column;
    std::vector<double> values(column.int64_values().begin(), column.int64_values().end());
    return *Column::FromFloat64s(std::move(values), column.validity());
  }

  // NaN is a value but has no place in a mean or median; it is skipped.
  static std::optional<double> Mean(const Column& column) {
    // Kahan-Babuska summation keeps the mean exact enough for large integer columns.
    double sum = 0.0;
    double compensation = 0.0;
    int64_t count = 0;
    for (int64_t row = 0; row < column.size(); ++row) {
      const double value = column.float64_values()[row];
      if (column.IsNull(row) || std::isnan(value)) continue;
      const double next = sum + value;
      compensation +=
          std::fabs(sum) >= std::fabs(value) ? (sum - next) + value : (value - next) + sum;
      sum = next;
      ++count;
    }
    if (count == 0) return std::nullopt;
    return (sum + compensation) / static_cast<double>(count);
  }

  static std::optional<double> Median(const Column& column) {
    std::vector<double> values;
    values.reserve(static_cast<size_t>(column.size()));
    for (int64_t row = 0; row < column.size(); ++row) {
      const double value = column.float64_values()[row];
      if (column.IsValid(row) && !std::isnan(value)) values.push_back(value);
    }
    if (values.empty()) return std::nullopt;
    const size_t middle = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<int64_t>(middle), values.end());
    const double upper = values[middle];
    if (values.size() % 2 == 1) return upper;
    const double lower =
        *std::max_element(values.begin(), values.begin() + static_cast<int64_t>(middle));
    return lower + (upper - lower) / 2;
  }

  // The row of the most frequent non-empty value; ties go to the smallest value. -1 if none.
  static int64_t ModeRow(const Column& column) {
    const Categories categories = EncodeCategories(column);
    int64_t best = -1;
    int64_t best_count = 0;
    for (size_t code = 0; code < categories.first_row.size(); ++code) {
      const int64_t row = categories.first_row[code];
      if (IsEmptyCell(column, row)) continue;
      const int64_t count = categories.counts[code];
      if (count > best_count || (count == best_count && CompareCells(column, row, best) < 0)) {
        best = row;
        best_count = count;
      }
    }
    return best;
  }

  std::vector<std::string> columns_;
  ImputeMethod method_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseImpute(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  const std::string method = config.Choice("method", {"mean", "median", "mode"}, "");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<ImputeProcessor>(std::move(columns),
                                           method == "mean"     ? ImputeMethod::kMean
                                           : method == "median" ? ImputeMethod::kMedian
                                                                : ImputeMethod::kMode);
}

// ---- fill_forward / fill_backward --------------------------------------------------------------

class FillDirectionalProcessor : public PrepareProcessor {
 public:
  FillDirectionalProcessor(bool forward, std::vector<std::string> columns,
                           std::vector<std::string> group_by, std::vector<std::string> order_by)
      : forward_(forward),
        columns_(std::move(columns)),
        group_by_(std::move(group_by)),
        order_by_(std::move(order_by)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes,
                           ResolveColumns(input, columns_, "columns"));
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> groups,
                           ResolveColumns(input, group_by_, "group_by"));
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> orders,
                           ResolveColumns(input, order_by_, "order_by"));
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, indexes, groups, orders](const Table& table, const StepContext&,
                                                  PrepareStepLog& log) -> absl::StatusOr<Table> {
      const int64_t rows = table.num_rows();
      // Visit rows group by group in the requested order; the output keeps the input order.
      std::vector<int64_t> order(static_cast<size_t>(rows));
      std::iota(order.begin(), order.end(), 0);
      auto compare_keys = [&](const std::vector<int>& keys, int64_t a, int64_t b) {
        for (int key : keys) {
          const int cmp = CompareCells(table.column(key), a, b);
          if (cmp != 0) return cmp;
        }
        return 0;
      };
      if (!groups.empty() || !orders.empty()) {
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          const int cmp = compare_keys(groups, a, b);
          return cmp != 0 ? cmp < 0 : compare_keys(orders, a, b) < 0;
        });
      }
      if (!forward_) std::reverse(order.begin(), order.end());
      TableEdit edit = TableEdit::From(table);
      log.cells_changed = 0;
      std::vector<int64_t> source(static_cast<size_t>(rows));
      for (int index : indexes) {
        const Column& column = table.column(index);
        int64_t last = -1;
        for (size_t i = 0; i < order.size(); ++i) {
          const int64_t row = order[i];
          if (i > 0 && compare_keys(groups, row, order[i - 1]) != 0) last = -1;
          if (!IsEmptyCell(column, row)) {
            last = row;
            source[row] = row;
          } else {
            source[row] = last >= 0 ? last : row;
            log.cells_changed += last >= 0;
          }
        }
        edit.columns[index] = TakeColumn(column, source);
      }
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  bool forward_;
  std::vector<std::string> columns_;
  std::vector<std::string> group_by_;
  std::vector<std::string> order_by_;
};

ProcessorParser FillDirectionalParser(bool forward) {
  return [forward](StepConfig& config) -> absl::StatusOr<std::unique_ptr<PrepareProcessor>> {
    auto columns = config.StringList("columns", "column names");
    auto group_by = config.OptionalStringList("group_by", "column names");
    auto order_by = config.OptionalStringList("order_by", "column names");
    ASSAY_RETURN_IF_ERROR(config.Finish());
    return std::make_unique<FillDirectionalProcessor>(
        forward, std::move(columns), group_by.value_or(std::vector<std::string>{}),
        order_by.value_or(std::vector<std::string>{}));
  };
}

}  // namespace

void AddRowProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry) {
  registry.emplace_back("filter_values", ParseFilterValues);
  registry.emplace_back("filter_range", ParseFilterRange);
  registry.emplace_back("filter_date_range", ParseFilterDateRange);
  registry.emplace_back("remove_empty", ParseRemoveEmpty);
  registry.emplace_back("fill_empty", ParseFillEmpty);
  registry.emplace_back("impute", ParseImpute);
  registry.emplace_back("fill_forward", FillDirectionalParser(true));
  registry.emplace_back("fill_backward", FillDirectionalParser(false));
}

}  // namespace assay::recipes
