// Prepare processors that reshape or retype columns: rename, delete_columns, keep_columns,
// cast, fold, one_hot, switch_case, merge_long_tail; plus the typed-value helpers they share
// with the other processor files.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "fast_float/fast_float.h"
#include "re2/re2.h"
#include "recipes/prepare_processor.h"

namespace assay::recipes {

namespace {
constexpr int64_t kMicrosPerDay = 86'400'000'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

// ---- Typed values ------------------------------------------------------------------------------

std::string_view TrimAscii(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && absl::ascii_isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && absl::ascii_isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

namespace {

// Parses the whole of `text` as a T with `parse` (a from_chars-like function), after trimming
// ASCII whitespace and one leading '+'; nullopt if anything is left over or it does not parse.
template <typename T, typename Parse>
std::optional<T> ParseWholeNumber(std::string_view text, const Parse& parse) {
  text = TrimAscii(text);
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || text[0] == '+') return std::nullopt;
  T value = 0;
  const char* const end = text.data() + text.size();
  const auto result = parse(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<int64_t> ParseInt64Text(std::string_view text) {
  return ParseWholeNumber<int64_t>(text, [](const char* first, const char* last, int64_t& value) {
    return std::from_chars(first, last, value);
  });
}

std::optional<double> ParseFloat64Text(std::string_view text) {
  return ParseWholeNumber<double>(text, [](const char* first, const char* last, double& value) {
    return fast_float::from_chars(first, last, value);
  });
}

std::optional<bool> ParseBoolText(std::string_view text) {
  text = TrimAscii(text);
  if (text.size() > 5) return std::nullopt;
  char lower[6] = {};
  for (size_t i = 0; i < text.size(); ++i) {
    lower[i] = absl::ascii_tolower(static_cast<unsigned char>(text[i]));
  }
  const std::string_view word(lower, text.size());
  if (word == "true" || word == "1" || word == "yes" || word == "t" || word == "y") return true;
  if (word == "false" || word == "0" || word == "no" || word == "f" || word == "n") return false;
  return std::nullopt;
}

std::optional<int32_t> ParseDateText(std::string_view text) {
  text = TrimAscii(text);
  if (auto date = common::ParseIsoDate(text)) return date;
  if (auto micros = common::ParseIsoTimestamp(text)) {
    return static_cast<int32_t>(FloorDiv(*micros, kMicrosPerDay));
  }
  return std::nullopt;
}

std::optional<int64_t> ParseTimestampText(std::string_view text) {
  text = TrimAscii(text);
  if (auto micros = common::ParseIsoTimestamp(text)) return micros;
  if (auto date = common::ParseIsoDate(text)) return int64_t{*date} * kMicrosPerDay;
  return std::nullopt;
}

namespace {

// A cell with the parsed `value` stored in `member` (CellValue::integer or ::real), or nullopt
// when `value` did not parse.
template <typename T, typename Member>
std::optional<CellValue> CellFrom(const std::optional<T>& value, Member CellValue::*member) {
  if (!value) return std::nullopt;
  CellValue cell;
  cell.*member = *value;
  return cell;
}

}  // namespace

std::optional<CellValue> ParseCell(std::string_view text, DataType type) {
  switch (type) {
    case DataType::kString: {
      CellValue cell;
      cell.text = std::string(text);
      return cell;
    }
    case DataType::kBool:
      return CellFrom(ParseBoolText(text), &CellValue::integer);
    case DataType::kInt64:
      return CellFrom(ParseInt64Text(text), &CellValue::integer);
    case DataType::kFloat64:
      return CellFrom(ParseFloat64Text(text), &CellValue::real);
    case DataType::kDate:
      return CellFrom(ParseDateText(text), &CellValue::integer);
    case DataType::kTimestamp:
      return CellFrom(ParseTimestampText(text), &CellValue::integer);
  }
  return std::nullopt;
}

absl::StatusOr<CellValue> JsonToCell(const nlohmann::json& value, DataType type) {
  if (value.is_null()) return CellValue{.is_null = true};
  std::optional<CellValue> cell;
  if (value.is_string()) {
    cell = ParseCell(value.get<std::string>(), type);
  } else if (value.is_boolean()) {
    if (type == DataType::kString) {
      cell = CellValue{.text = value.get<bool>() ? "true" : "false"};
    } else if (type == DataType::kBool) {
      cell = CellValue{.integer = value.get<bool>() ? 1 : 0};
    }
  } else if (value.is_number_integer() && type == DataType::kFloat64) {
    cell = CellValue{.real = value.get<double>()};
  } else if (value.is_number()) {
    cell = ParseCell(value.dump(), type);
  }
  if (!cell.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot use ", value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
        " as a ", Absl(table::DataTypeName(type)), " value"));
  }
  return *std::move(cell);
}

void AppendCell(ColumnBuilder& builder, DataType type, const CellValue& cell) {
  if (cell.is_null) {
    builder.AppendNull();
    return;
  }
  switch (type) {
    case DataType::kBool:
      builder.AppendBool(cell.integer != 0);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      builder.AppendInt64(cell.integer);
      break;
    case DataType::kFloat64:
      builder.AppendFloat64(cell.real);
      break;
    case DataType::kDate:
      builder.AppendDate(static_cast<int32_t>(cell.integer));
      break;
    case DataType::kString:
      builder.AppendString(cell.text);
      break;
  }
}

std::string CellText(const CellValue& cell, DataType type) {
  ColumnBuilder builder(type);
  AppendCell(builder, type, cell);
  return builder.Finish().ValueToString(0);
}

namespace {
int64_t FloatKey(double value) {
  if (value == 0.0) value = 0.0;  // -0 and 0 are one value
  if (std::isnan(value)) value = std::numeric_limits<double>::quiet_NaN();
  int64_t key;
  std::memcpy(&key, &value, sizeof(key));
  return key;
}
}  // namespace

int64_t CellKey(const Column& column, int64_t row) {
  switch (column.type()) {
    case DataType::kBool:
      return column.bool_values()[row];
    case DataType::kInt64:
    case DataType::kTimestamp:
      return column.int64_values()[row];
    case DataType::kDate:
      return column.date_values()[row];
    case DataType::kFloat64:
      return FloatKey(column.float64_values()[row]);
    case DataType::kString:
      break;
  }
  return 0;
}

int64_t CellValueKey(const CellValue& cell, DataType type) {
  return type == DataType::kFloat64 ? FloatKey(cell.real) : cell.integer;
}

Categories EncodeCategories(const Column& column) {
  Categories out;
  const int64_t rows = column.size();
  out.codes.assign(static_cast<size_t>(rows), -1);
  auto add = [&](auto& map, auto key, int64_t row) {
    const auto [it, inserted] = map.try_emplace(key, static_cast<int32_t>(out.first_row.size()));
    if (inserted) {
      out.first_row.push_back(row);
      out.counts.push_back(0);
    }
    out.codes[row] = it->second;
    ++out.counts[it->second];
  };
  if (column.type() == DataType::kString) {
    absl::flat_hash_map<std::string_view, int32_t> map;
    for (int64_t row = 0; row < rows; ++row) {
      if (column.IsValid(row)) add(map, column.StringAt(row), row);
    }
  } else {
    absl::flat_hash_map<int64_t, int32_t> map;
    for (int64_t row = 0; row < rows; ++row) {
      if (column.IsValid(row)) add(map, CellKey(column, row), row);
    }
  }
  return out;
}

namespace {

std::string TypeName(DataType type) { return std::string(table::DataTypeName(type)); }

// ---- rename ------------------------------------------------------------------------------------

class RenameProcessor : public PrepareProcessor {
 public:
  explicit RenameProcessor(std::vector<std::pair<std::string, std::string>> renames)
      : renames_(std::move(renames)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    std::vector<Field> fields = input.fields();
    for (const auto& [from, to] : renames_) {
      ASSAY_ASSIGN_OR_RETURN(const int index, ResolveColumn(input, from, "columns"));
      fields[index].name = to;
    }
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "rename"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [fields](const Table& table, const StepContext&, PrepareStepLog& log) {
      log.cells_changed = 0;
      return Table::Make(Schema(fields), table.columns());
    };
    return bound;
  }

 private:
  std::vector<std::pair<std::string, std::string>> renames_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseRename(StepConfig& config) {
  auto renames = config.StringMap("columns", "old column names to new names");
  return std::make_unique<RenameProcessor>(std::move(renames));
}

// ---- delete_columns / keep_columns -------------------------------------------------------------

class SelectColumnsProcessor : public PrepareProcessor {
 public:
  SelectColumnsProcessor(bool keep, std::vector<std::string> names, std::shared_ptr<RE2> pattern)
      : keep_(keep), names_(std::move(names)), pattern_(std::move(pattern)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> named, ResolveColumns(input, names_, "columns"));
    std::vector<int> chosen;
    std::vector<Field> fields;
    for (int index = 0; index < input.num_fields(); ++index) {
      const bool selected =
          std::find(named.begin(), named.end(), index) != named.end() ||
          (pattern_ != nullptr && RE2::PartialMatch(input.field(index).name, *pattern_));
      if (selected == keep_) {
        chosen.push_back(index);
        fields.push_back(input.field(index));
      }
    }
    if (fields.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the step would leave no column (columns: ", input.NameList(), "); a table needs one"));
    }
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [chosen, fields](const Table& table, const StepContext&, PrepareStepLog& log) {
      std::vector<Column> columns;
      columns.reserve(chosen.size());
      for (int index : chosen) columns.push_back(table.column(index));
      log.detail =
          absl::StrCat(table.num_columns() - static_cast<int>(chosen.size()), " columns removed");
      return Table::Make(Schema(fields), std::move(columns));
    };
    return bound;
  }

 private:
  bool keep_;
  std::vector<std::string> names_;
  std::shared_ptr<RE2> pattern_;
};

absl::StatusOr<std::shared_ptr<RE2>> CompileRegex(StepConfig& config, std::string_view key,
                                                  const std::string& pattern) {
  auto regex = std::make_shared<RE2>(pattern, RE2::Quiet);
  if (!regex->ok()) {
    config.Fail(key, absl::StrCat("invalid regular expression ", Quote(pattern), ": ",
                                  regex->error(), " (RE2 syntax)"));
    return config.Finish();
  }
  return regex;
}

ProcessorParser SelectColumnsParser(bool keep) {
  return [keep](StepConfig& config) -> absl::StatusOr<std::unique_ptr<PrepareProcessor>> {
    auto names = config.OptionalStringList("columns", "column names");
    auto pattern = config.OptionalString("pattern");
    ASSAY_RETURN_IF_ERROR(config.Finish());
    if (!names.has_value() && !pattern.has_value()) {
      config.Fail("", "set columns (a list of names), pattern (a regular expression) or both");
      return config.Finish();
    }
    std::shared_ptr<RE2> regex;
    if (pattern.has_value()) {
      ASSAY_ASSIGN_OR_RETURN(regex, CompileRegex(config, "pattern", *pattern));
    }
    return std::make_unique<SelectColumnsProcessor>(
        keep, names.value_or(std::vector<std::string>{}), std::move(regex));
  };
}

// ---- cast --------------------------------------------------------------------------------------

enum class OnError { kFail, kNull, kKeep };

bool CastSupported(DataType from, DataType to) {
  if (from == to || to == DataType::kString || from == DataType::kString) return true;
  const bool from_number = from == DataType::kInt64 || from == DataType::kFloat64;
  const bool to_number = to == DataType::kInt64 || to == DataType::kFloat64;
  if ((from_number || from == DataType::kBool) && (to_number || to == DataType::kBool)) {
    return true;
  }
  return table::IsTemporal(from) && table::IsTemporal(to);
}

// Converts one valid cell; nullopt when the value has no representation in `to`.
std::optional<CellValue> ConvertCell(const Column& column, int64_t row, DataType to) {
  CellValue cell;
  const DataType from = column.type();
  if (from == DataType::kString) return ParseCell(column.StringAt(row), to);
  if (to == DataType::kString) {
    cell.text = column.ValueToString(row);
    return cell;
  }
  switch (from) {
    case DataType::kBool:
      cell.integer = column.bool_values()[row];
      cell.real = static_cast<double>(cell.integer);
      return cell;
    case DataType::kInt64: {
      const int64_t value = column.int64_values()[row];
      if (to == DataType::kBool && value != 0 && value != 1) return std::nullopt;
      cell.integer = value;
      cell.real = static_cast<double>(value);
      return cell;
    }
    case DataType::kFloat64: {
      const double value = column.float64_values()[row];
      cell.real = value;
      if (to == DataType::kFloat64) return cell;
      // Only integral values in range convert: 2.5 -> int64 is a failure, not a truncation.
      if (!(value >= -9223372036854775808.0 && value < 9223372036854775808.0) ||
          value != std::trunc(value)) {
        return std::nullopt;
      }
      cell.integer = static_cast<int64_t>(value);
      if (to == DataType::kBool && cell.integer != 0 && cell.integer != 1) return std::nullopt;
      return cell;
    }
    case DataType::kDate:
      cell.integer = to == DataType::kTimestamp ? int64_t{column.date_values()[row]} * kMicrosPerDay
                                                : column.date_values()[row];
      return cell;
    case DataType::kTimestamp:
      cell.integer = to == DataType::kDate ? FloorDiv(column.int64_values()[row], kMicrosPerDay)
                                           : column.int64_values()[row];
      return cell;
    case DataType::kString:
      break;
  }
  return std::nullopt;
}

class CastProcessor : public PrepareProcessor {
 public:
  CastProcessor(std::vector<std::string> columns, DataType to, OnError on_error)
      : columns_(std::move(columns)), to_(to), on_error_(on_error) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> indexes,
                           ResolveColumns(input, columns_, "columns"));
    std::vector<Field> fields = input.fields();
    const DataType out_type = on_error_ == OnError::kKeep ? DataType::kString : to_;
    for (int index : indexes) {
      const DataType from = input.field(index).type;
      if (!CastSupported(from, to_)) {
        return absl::InvalidArgumentError(
            absl::StrCat("column ", Quote(input.field(index).name), " has type ", TypeName(from),
                         ", which cannot be cast to ", TypeName(to_),
                         "; cast to string first, or use parse_dates or date_parts"));
      }
      fields[index].type = out_type;
    }
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, indexes, out_type](const Table& table, const StepContext&,
                                            PrepareStepLog& log) -> absl::StatusOr<Table> {
      TableEdit edit = TableEdit::From(table);
      std::vector<absl::Status> errors(indexes.size());
      std::vector<int64_t> failures(indexes.size(), 0);
      std::vector<int64_t> changed(indexes.size(), 0);
      common::ThreadPool::Default().ParallelFor(
          static_cast<int64_t>(indexes.size()), [&](int64_t task) {
            const int index = indexes[task];
            absl::StatusOr<Column> column =
                CastColumn(table.schema().field(index).name, table.column(index), out_type,
                           &failures[task], &changed[task]);
            if (column.ok()) {
              edit.columns[index] = *std::move(column);
              edit.fields[index].type = out_type;
            } else {
              errors[task] = column.status();
            }
          });
      for (const absl::Status& error : errors) ASSAY_RETURN_IF_ERROR(error);
      for (size_t task = 0; task < indexes.size(); ++task) {
        log.conversion_failures += failures[task];
        if (failures[task] > 0) {
          absl::StrAppend(&log.detail, log.detail.empty() ? "" : "; ",
                          table.schema().field(indexes[task]).name, ": ", failures[task],
                          on_error_ == OnError::kNull ? " values not convertible, set to null"
                                                      : " values not convertible, kept as text");
        }
      }
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  absl::StatusOr<Column> CastColumn(const std::string& name, const Column& column,
                                    DataType out_type, int64_t* failures, int64_t* changed) const {
    if (column.type() == to_ && out_type == to_) return column;  // nothing to convert
    ColumnBuilder builder(out_type);
    builder.Reserve(column.size());
    for (int64_t row = 0; row < column.size(); ++row) {
      if (column.IsNull(row)) {
        builder.AppendNull();
        continue;
      }
      std::optional<CellValue> cell = ConvertCell(column, row, to_);
      if (cell.has_value()) {
        if (out_type == to_) {
          AppendCell(builder, to_, *cell);
        } else {
          builder.AppendString(CellText(*cell, to_));
        }
        continue;
      }
      ++*failures;
      switch (on_error_) {
        case OnError::kFail:
          return absl::InvalidArgumentError(absl::StrCat(
              "column ", Quote(name), ", row ", row + 1, ": cannot convert ",
              Quote(column.ValueToString(row)), " to ", TypeName(to_),
              "; fix the data, or set on_error to \"null\" (counted in the run log) or \"keep\""));
        case OnError::kNull:
          builder.AppendNull();
          break;
        case OnError::kKeep:
          builder.AppendString(column.ValueToString(row));
          break;
      }
    }
    *changed = column.size();
    return builder.Finish();
  }

  std::vector<std::string> columns_;
  DataType to_;
  OnError on_error_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseCast(StepConfig& config) {
  auto columns = config.StringList("columns", "column names");
  const std::string to =
      config.Choice("to", {"bool", "int64", "float64", "string", "date", "timestamp"}, "");
  const std::string on_error = config.Choice("on_error", {"fail", "null", "keep"}, "");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  const OnError policy = on_error == "fail"   ? OnError::kFail
                         : on_error == "null" ? OnError::kNull
                                              : OnError::kKeep;
  return std::make_unique<CastProcessor>(std::move(columns), *table::DataTypeFromName(to), policy);
}

// ---- fold --------------------------------------------------------------------------------------

class FoldProcessor : public PrepareProcessor {
 public:
  FoldProcessor(std::vector<std::string> columns, std::string name_column, std::string value_column,
                bool drop_nulls)
      : columns_(std::move(columns)),
        name_column_(std::move(name_column)),
        value_column_(std::move(value_column)),
        drop_nulls_(drop_nulls) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<int> folded,
                           ResolveColumns(input, columns_, "columns"));
    // One value type for all folded columns: their common type, int64 with float64 widening to
    // float64, anything else mixed becoming string text.
    DataType value_type = input.field(folded[0]).type;
    for (int index : folded) {
      const DataType type = input.field(index).type;
      if (type == value_type) continue;
      if (table::IsNumeric(type) && table::IsNumeric(value_type)) {
        value_type = DataType::kFloat64;
      } else {
        value_type = DataType::kString;
      }
    }
    std::vector<int> kept;
    std::vector<Field> fields;
    for (int index = 0; index < input.num_fields(); ++index) {
      if (std::find(folded.begin(), folded.end(), index) != folded.end()) continue;
      kept.push_back(index);
      fields.push_back(input.field(index));
    }
    fields.push_back(Field{name_column_, DataType::kString});
    fields.push_back(Field{value_column_, value_type});
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "fold"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, folded, kept, fields, value_type](
                      const Table& table, const StepContext&,
                      PrepareStepLog& log) -> absl::StatusOr<Table> {
      const int64_t rows = table.num_rows();
      const auto width = static_cast<int64_t>(folded.size());
      std::vector<int64_t> source_rows;
      ColumnBuilder names(DataType::kString);
      ColumnBuilder values(value_type);
      source_rows.reserve(static_cast<size_t>(rows * width));
      names.Reserve(rows * width);
      values.Reserve(rows * width);
      for (int64_t row = 0; row < rows; ++row) {
        for (int index : folded) {
          const Column& column = table.column(index);
          if (drop_nulls_ && column.IsNull(row)) continue;
          source_rows.push_back(row);
          names.AppendString(table.schema().field(index).name);
          if (column.IsNull(row)) {
            values.AppendNull();
          } else if (column.type() == value_type) {
            values.AppendFrom(column, row);
          } else if (value_type == DataType::kFloat64) {
            values.AppendFloat64(static_cast<double>(column.int64_values()[row]));
          } else {
            values.AppendString(column.ValueToString(row));
          }
        }
      }
      std::vector<Column> columns;
      for (int index : kept) columns.push_back(TakeColumn(table.column(index), source_rows));
      columns.push_back(names.Finish());
      columns.push_back(values.Finish());
      log.detail = absl::StrCat(width, " columns folded into ", name_column_, "/", value_column_);
      return Table::Make(Schema(fields), std::move(columns));
    };
    return bound;
  }

 private:
  std::vector<std::string> columns_;
  std::string name_column_;
  std::string value_column_;
  bool drop_nulls_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseFold(StepConfig& config) {
  auto columns = config.StringList("columns", "column names to fold");
  auto name_column = config.OptionalString("name_column").value_or("variable");
  auto value_column = config.OptionalString("value_column").value_or("value");
  const bool drop_nulls = config.Bool("drop_nulls", false);
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<FoldProcessor>(std::move(columns), std::move(name_column),
                                         std::move(value_column), drop_nulls);
}

// ---- one_hot -----------------------------------------------------------------------------------

class OneHotProcessor : public PrepareProcessor {
 public:
  OneHotProcessor(std::string column, std::optional<std::vector<std::string>> values,
                  std::optional<std::string> prefix, int64_t max_categories,
                  std::optional<std::string> null_column, bool drop_source)
      : column_(std::move(column)),
        values_(std::move(values)),
        prefix_(prefix.value_or(column_ + "_")),
        max_categories_(max_categories),
        null_column_(std::move(null_column)),
        drop_source_(drop_source) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    std::vector<std::string> canonical;
    if (values_.has_value()) {
      for (const std::string& value : *values_) {
        const std::optional<CellValue> cell = ParseCell(value, input.field(source).type);
        if (!cell.has_value()) {
          return absl::InvalidArgumentError(absl::StrCat("values: ", Quote(value), " is not a ",
                                                         TypeName(input.field(source).type),
                                                         " value of column ", Quote(column_)));
        }
        canonical.push_back(CellText(*cell, input.field(source).type));
      }
    }
    ASSAY_ASSIGN_OR_RETURN(std::vector<Field> fields, OutputFields(input, source, canonical));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.data_dependent_schema = !values_.has_value();
    bound.apply = [this, source, canonical](const Table& table, const StepContext&,
                                            PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      const Categories categories = EncodeCategories(column);
      // category code -> output column, -1 when the value has no column (not in "values").
      std::vector<int32_t> target(categories.first_row.size(), -1);
      std::vector<std::string> names = canonical;
      if (values_.has_value()) {
        absl::flat_hash_map<std::string, int32_t> position;
        for (size_t i = 0; i < canonical.size(); ++i) {
          position.emplace(canonical[i], static_cast<int32_t>(i));
        }
        for (size_t code = 0; code < target.size(); ++code) {
          const auto it = position.find(column.ValueToString(categories.first_row[code]));
          if (it != position.end()) target[code] = it->second;
        }
      } else {
        if (static_cast<int64_t>(categories.first_row.size()) > max_categories_) {
          return absl::InvalidArgumentError(absl::StrCat(
              "column ", Quote(column_), " has ", categories.first_row.size(),
              " distinct values, more than max_categories (", max_categories_,
              "); raise max_categories, list the wanted values, or merge_long_tail first"));
        }
        std::vector<int32_t> order(categories.first_row.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
        std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
          return CompareCells(column, categories.first_row[a], categories.first_row[b]) < 0;
        });
        names.clear();
        for (size_t rank = 0; rank < order.size(); ++rank) {
          target[order[rank]] = static_cast<int32_t>(rank);
          names.push_back(column.ValueToString(categories.first_row[order[rank]]));
        }
      }
      ASSAY_ASSIGN_OR_RETURN(std::vector<Field> fields,
                             OutputFields(table.schema(), source, names));
      const int64_t rows = table.num_rows();
      std::vector<std::vector<int64_t>> buffers(names.size(),
                                                std::vector<int64_t>(static_cast<size_t>(rows)));
      std::vector<int64_t> nulls(static_cast<size_t>(rows), 0);
      for (int64_t row = 0; row < rows; ++row) {
        const int32_t code = categories.codes[row];
        if (code < 0) {
          nulls[row] = 1;
        } else if (target[code] >= 0) {
          buffers[target[code]][row] = 1;
        }
      }
      std::vector<Column> columns;
      for (int index = 0; index < table.num_columns(); ++index) {
        if (index != source || !drop_source_) columns.push_back(table.column(index));
        if (index == source) {
          for (auto& buffer : buffers) columns.push_back(*Column::FromInt64s(std::move(buffer)));
          if (null_column_.has_value()) columns.push_back(*Column::FromInt64s(std::move(nulls)));
        }
      }
      log.detail = absl::StrCat(column_, ": ", names.size(), " indicator columns");
      return Table::Make(Schema(fields), std::move(columns));
    };
    return bound;
  }

 private:
  absl::StatusOr<std::vector<Field>> OutputFields(const Schema& input, int source,
                                                  const std::vector<std::string>& names) const {
    std::vector<Field> fields;
    for (int index = 0; index < input.num_fields(); ++index) {
      if (index != source || !drop_source_) fields.push_back(input.field(index));
      if (index == source) {
        for (const std::string& name : names) {
          fields.push_back(Field{prefix_ + name, DataType::kInt64});
        }
        if (null_column_.has_value()) fields.push_back(Field{*null_column_, DataType::kInt64});
      }
    }
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "one_hot"));
    return fields;
  }

  std::string column_;
  std::optional<std::vector<std::string>> values_;
  std::string prefix_;
  int64_t max_categories_;
  std::optional<std::string> null_column_;
  bool drop_source_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseOneHot(StepConfig& config) {
  auto column = config.String("column");
  auto values = config.OptionalStringList("values", "category values");
  auto prefix = config.OptionalString("prefix");
  const int64_t max_categories = config.OptionalInt("max_categories").value_or(100);
  auto null_column = config.OptionalString("null_column");
  const bool drop_source = config.Bool("drop_source", true);
  if (max_categories < 1) config.Fail("max_categories", "expected a positive integer");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  return std::make_unique<OneHotProcessor>(std::move(column), std::move(values), std::move(prefix),
                                           max_categories, std::move(null_column), drop_source);
}

// ---- switch_case -------------------------------------------------------------------------------

class SwitchCaseProcessor : public PrepareProcessor {
 public:
  SwitchCaseProcessor(std::string column, std::optional<std::string> into,
                      std::vector<std::pair<std::string, nlohmann::json>> cases,
                      std::optional<nlohmann::json> fallback, DataType out_type)
      : column_(std::move(column)),
        into_(std::move(into)),
        cases_(std::move(cases)),
        default_(std::move(fallback)),
        out_type_(out_type) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    const DataType in_type = input.field(source).type;
    if (!default_.has_value() && in_type != out_type_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the cases map ", TypeName(in_type), " column ", Quote(column_), " to ",
          TypeName(out_type_), " values, so unmatched values cannot be kept; add a default (a ",
          TypeName(out_type_), " value, or null)"));
    }
    // Keys are matched on the canonical text of the column's type, so "1.50" finds 1.5.
    auto map = std::make_shared<absl::flat_hash_map<std::string, CellValue>>();
    for (const auto& [key, value] : cases_) {
      const std::optional<CellValue> key_cell = ParseCell(key, in_type);
      if (!key_cell.has_value()) {
        return absl::InvalidArgumentError(absl::StrCat("cases: key ", Quote(key), " is not a ",
                                                       TypeName(in_type), " value of column ",
                                                       Quote(column_)));
      }
      ASSAY_ASSIGN_OR_RETURN(CellValue out, JsonToCell(value, out_type_));
      map->insert_or_assign(CellText(*key_cell, in_type), std::move(out));
    }
    std::optional<CellValue> fallback;
    if (default_.has_value()) {
      ASSAY_ASSIGN_OR_RETURN(fallback, JsonToCell(*default_, out_type_));
    }
    const std::string target = into_.value_or(column_);
    std::vector<Field> fields = input.fields();
    PutField(fields, target, out_type_);
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "switch_case"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, source, map, fallback, target](
                      const Table& table, const StepContext&,
                      PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      const Categories categories = EncodeCategories(column);
      // Per category: the mapped cell, or nullptr to keep the value.
      std::vector<const CellValue*> mapped(categories.first_row.size(), nullptr);
      for (size_t code = 0; code < mapped.size(); ++code) {
        const auto it = map->find(column.ValueToString(categories.first_row[code]));
        if (it != map->end()) {
          mapped[code] = &it->second;
        } else if (fallback.has_value()) {
          mapped[code] = &*fallback;
        }
      }
      ColumnBuilder builder(out_type_);
      builder.Reserve(column.size());
      int64_t changed = 0;
      for (int64_t row = 0; row < column.size(); ++row) {
        const int32_t code = categories.codes[row];
        if (code < 0) {
          builder.AppendNull();
        } else if (mapped[code] == nullptr) {
          builder.AppendFrom(column, row);
        } else {
          AppendCell(builder, out_type_, *mapped[code]);
          ++changed;
        }
      }
      log.cells_changed = changed;
      return PutColumn(table, target, builder.Finish());
    };
    return bound;
  }

 private:
  std::string column_;
  std::optional<std::string> into_;
  std::vector<std::pair<std::string, nlohmann::json>> cases_;
  std::optional<nlohmann::json> default_;
  DataType out_type_;
};

// The output type implied by the JSON values: all strings -> string, all booleans -> bool,
// all integers -> int64, numbers -> float64; nulls fit any. nullopt if they mix.
std::optional<DataType> JsonValuesType(const std::vector<const nlohmann::json*>& values) {
  std::optional<DataType> type;
  for (const nlohmann::json* value : values) {
    DataType next;
    if (value->is_null()) continue;
    if (value->is_string()) {
      next = DataType::kString;
    } else if (value->is_boolean()) {
      next = DataType::kBool;
    } else if (value->is_number_integer()) {
      next = DataType::kInt64;
    } else if (value->is_number()) {
      next = DataType::kFloat64;
    } else {
      return std::nullopt;
    }
    if (!type.has_value() || *type == next) {
      type = next;
    } else if (table::IsNumeric(*type) && table::IsNumeric(next)) {
      type = DataType::kFloat64;
    } else {
      return std::nullopt;
    }
  }
  return type.value_or(DataType::kString);
}

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseSwitchCase(StepConfig& config) {
  auto column = config.String("column");
  auto into = config.OptionalString("into");
  auto cases_json = config.OptionalRaw("cases");
  auto fallback = config.OptionalRaw("default");
  auto type_name = config.OptionalString("result_type");
  if (!cases_json.has_value()) config.Fail("cases", "missing required key (a map value -> result)");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!cases_json->is_object() || cases_json->empty()) {
    config.Fail("cases", "expected a non-empty map from values to results");
    return config.Finish();
  }
  std::vector<std::pair<std::string, nlohmann::json>> cases;
  std::vector<const nlohmann::json*> results;
  for (const auto& [key, value] : cases_json->items()) {
    cases.emplace_back(key, value);
    if (value.is_object() || value.is_array()) {
      config.Fail(absl::StrCat("cases.", key), "expected a string, number, boolean or null");
      return config.Finish();
    }
  }
  for (const auto& item : cases) results.push_back(&item.second);
  if (fallback.has_value()) results.push_back(&*fallback);
  std::optional<DataType> type;
  if (type_name.has_value()) {
    type = table::DataTypeFromName(*type_name);
    if (!type.has_value()) {
      config.Fail("result_type", "expected one of bool, int64, float64, string, date, timestamp");
      return config.Finish();
    }
  } else {
    type = JsonValuesType(results);
    if (!type.has_value()) {
      config.Fail("cases", "results mix types; use one type or set \"result_type\"");
      return config.Finish();
    }
  }
  return std::make_unique<SwitchCaseProcessor>(std::move(column), std::move(into), std::move(cases),
                                               std::move(fallback), *type);
}

// ---- merge_long_tail ---------------------------------------------------------------------------

class MergeLongTailProcessor : public PrepareProcessor {
 public:
  MergeLongTailProcessor(std::string column, std::optional<int64_t> top_k,
                         std::optional<int64_t> min_count, std::string other_label)
      : column_(std::move(column)),
        top_k_(top_k),
        min_count_(min_count),
        other_label_(std::move(other_label)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireType(input, source, {DataType::kString},
                                      "cast it to string first (the merged label is text)"));
    BoundStep bound;
    bound.output = input;
    bound.apply = [this, source](const Table& table, const StepContext&,
                                 PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      const Categories categories = EncodeCategories(column);
      const size_t count = categories.first_row.size();
      std::vector<int32_t> order(count);
      for (size_t i = 0; i < count; ++i) order[i] = static_cast<int32_t>(i);
      // Most frequent first; ties go to the smallest value so the result is deterministic.
      std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        if (categories.counts[a] != categories.counts[b]) {
          return categories.counts[a] > categories.counts[b];
        }
        return column.StringAt(categories.first_row[a]) < column.StringAt(categories.first_row[b]);
      });
      std::vector<uint8_t> keep(count, 0);
      int64_t kept = 0;
      for (size_t rank = 0; rank < count; ++rank) {
        const int32_t code = order[rank];
        const bool in_top = !top_k_.has_value() || static_cast<int64_t>(rank) < *top_k_;
        const bool frequent = !min_count_.has_value() || categories.counts[code] >= *min_count_;
        keep[code] = in_top && frequent;
        kept += keep[code];
      }
      ColumnBuilder builder(DataType::kString);
      builder.Reserve(column.size());
      int64_t changed = 0;
      for (int64_t row = 0; row < column.size(); ++row) {
        const int32_t code = categories.codes[row];
        if (code < 0) {
          builder.AppendNull();
        } else if (keep[code]) {
          builder.AppendString(column.StringAt(row));
        } else {
          builder.AppendString(other_label_);
          changed += column.StringAt(row) != other_label_;
        }
      }
      log.cells_changed = changed;
      log.detail = absl::StrCat(column_, ": kept ", kept, " of ", count, " categories");
      TableEdit edit = TableEdit::From(table);
      edit.columns[source] = builder.Finish();
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  std::string column_;
  std::optional<int64_t> top_k_;
  std::optional<int64_t> min_count_;
  std::string other_label_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseMergeLongTail(StepConfig& config) {
  auto column = config.String("column");
  auto top_k = config.OptionalInt("top_k");
  auto min_count = config.OptionalInt("min_count");
  auto other = config.OptionalString("other_label").value_or("Other");
  if (top_k.has_value() && *top_k < 1) config.Fail("top_k", "expected a positive integer");
  if (min_count.has_value() && *min_count < 1) {
    config.Fail("min_count", "expected a positive integer");
  }
  ASSAY_RETURN_IF_ERROR(config.Finish());
  if (!top_k.has_value() && !min_count.has_value()) {
    config.Fail("", "set top_k, min_count or both");
    return config.Finish();
  }
  return std::make_unique<MergeLongTailProcessor>(std::move(column), top_k, min_count,
                                                  std::move(other));
}

}  // namespace

absl::StatusOr<std::shared_ptr<RE2>> CompilePrepareRegex(StepConfig& config, std::string_view key,
                                                         const std::string& pattern) {
  return CompileRegex(config, key, pattern);
}

void AddColumnProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry) {
  registry.emplace_back("rename", ParseRename);
  registry.emplace_back("delete_columns", SelectColumnsParser(false));
  registry.emplace_back("keep_columns", SelectColumnsParser(true));
  registry.emplace_back("cast", ParseCast);
  registry.emplace_back("fold", ParseFold);
  registry.emplace_back("one_hot", ParseOneHot);
  registry.emplace_back("switch_case", ParseSwitchCase);
  registry.emplace_back("merge_long_tail", ParseMergeLongTail);
}

}  // namespace assay::recipes
