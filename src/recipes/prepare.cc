#include "recipes/prepare.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "recipes/prepare_processor.h"

namespace assay::recipes {

// ---- StepConfig ------------------------------------------------------------------------------

StepConfig::StepConfig(const nlohmann::json& object, std::string path, std::string type)
    : object_(object), path_(std::move(path)), type_(std::move(type)) {
  read_ = {"type", "comment"};
}

bool StepConfig::Has(std::string_view key) const {
  return object_.find(std::string(key)) != object_.end();
}

const nlohmann::json* StepConfig::Find(std::string_view key) {
  read_.emplace_back(key);
  const auto it = object_.find(std::string(key));
  if (it == object_.end()) return nullptr;
  return &*it;
}

void StepConfig::Fail(std::string_view key, std::string_view message) {
  if (!status_.ok()) return;
  status_ = absl::InvalidArgumentError(absl::StrCat("prepare config: ", path_,
                                                    key.empty() ? "" : ".", Absl(key), ": ",
                                                    Absl(message), " (step type \"", type_, "\")"));
}

std::string StepConfig::String(std::string_view key) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) {
    Fail(key, "missing required key");
    return "";
  }
  if (!value->is_string()) {
    Fail(key, "expected a string");
    return "";
  }
  return value->get<std::string>();
}

std::optional<std::string> StepConfig::OptionalString(std::string_view key) {
  if (!Has(key)) {
    read_.emplace_back(key);
    return std::nullopt;
  }
  return String(key);
}

std::optional<std::vector<std::string>> StepConfig::OptionalStringList(std::string_view key,
                                                                       std::string_view what) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  const std::string expected = absl::StrCat("expected a non-empty list of ", Absl(what));
  if (!value->is_array() || value->empty()) {
    Fail(key, expected);
    return std::vector<std::string>{};
  }
  std::vector<std::string> out;
  for (const auto& item : *value) {
    if (!item.is_string()) {
      Fail(key, expected);
      return std::vector<std::string>{};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::string> StepConfig::StringList(std::string_view key, std::string_view what) {
  auto list = OptionalStringList(key, what);
  if (!list.has_value()) {
    Fail(key, absl::StrCat("missing required key (a list of ", Absl(what), ")"));
    return {};
  }
  return *std::move(list);
}

std::string StepConfig::Choice(std::string_view key, const std::vector<std::string>& allowed,
                               std::string_view fallback) {
  const std::string expected = absl::StrCat("expected one of ", absl::StrJoin(allowed, ", "));
  const nlohmann::json* value = Find(key);
  if (value == nullptr) {
    if (fallback.empty()) Fail(key, absl::StrCat("missing required key; ", expected));
    return std::string(fallback);
  }
  if (value->is_string()) {
    const std::string text = value->get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) return text;
  }
  Fail(key, absl::StrCat(expected, ", got ",
                         value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  return std::string(fallback);
}

std::optional<double> StepConfig::OptionalNumber(std::string_view key) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) {
    Fail(key, "expected a number");
    return std::nullopt;
  }
  return value->get<double>();
}

std::optional<int64_t> StepConfig::OptionalInt(std::string_view key) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer()) {
    Fail(key, "expected an integer");
    return std::nullopt;
  }
  return value->get<int64_t>();
}

bool StepConfig::Bool(std::string_view key, bool fallback) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    Fail(key, "expected true or false");
    return fallback;
  }
  return value->get<bool>();
}

std::optional<nlohmann::json> StepConfig::OptionalRaw(std::string_view key) {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::vector<std::pair<std::string, std::string>> StepConfig::StringMap(std::string_view key,
                                                                       std::string_view what) {
  const nlohmann::json* value = Find(key);
  const std::string expected = absl::StrCat("expected a non-empty map of ", Absl(what));
  if (value == nullptr) {
    Fail(key, absl::StrCat("missing required key; ", expected));
    return {};
  }
  if (!value->is_object() || value->empty()) {
    Fail(key, expected);
    return {};
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, item] : value->items()) {
    if (!item.is_string()) {
      Fail(absl::StrCat(Absl(key), ".", name), absl::StrCat(expected, " (values are strings)"));
      return {};
    }
    out.emplace_back(name, item.get<std::string>());
  }
  return out;
}

absl::Status StepConfig::Finish() const {
  if (!status_.ok()) return status_;
  for (const auto& [key, value] : object_.items()) {
    if (std::find(read_.begin(), read_.end(), key) == read_.end()) {
      std::vector<std::string> allowed = read_;
      std::sort(allowed.begin(), allowed.end());
      allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
      return absl::InvalidArgumentError(
          absl::StrCat("prepare config: ", path_, ".", key, ": unknown key for step type \"", type_,
                       "\" (keys: ", absl::StrJoin(allowed, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// ---- Helpers ---------------------------------------------------------------------------------

std::string Quote(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<int> ResolveColumn(const Schema& schema, const std::string& name,
                                  std::string_view key) {
  const std::optional<int> index = schema.FindField(name);
  if (!index.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "column ", Quote(name), " (", Absl(key), ") not found (columns: ", schema.NameList(), ")"));
  }
  return *index;
}

absl::StatusOr<std::vector<int>> ResolveColumns(const Schema& schema,
                                                const std::vector<std::string>& names,
                                                std::string_view key) {
  std::vector<int> out;
  out.reserve(names.size());
  for (const std::string& name : names) {
    ASSAY_ASSIGN_OR_RETURN(const int index, ResolveColumn(schema, name, key));
    if (std::find(out.begin(), out.end(), index) != out.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", Quote(name), " is listed twice in ", Absl(key)));
    }
    out.push_back(index);
  }
  return out;
}

absl::Status RequireType(const Schema& schema, int index, std::initializer_list<DataType> allowed,
                         std::string_view fix) {
  const Field& field = schema.field(index);
  if (std::find(allowed.begin(), allowed.end(), field.type) != allowed.end()) {
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (DataType type : allowed) names.emplace_back(table::DataTypeName(type));
  return absl::InvalidArgumentError(absl::StrCat(
      "column ", Quote(field.name), " has type ", Absl(table::DataTypeName(field.type)),
      ", expected ", absl::StrJoin(names, " or "), fix.empty() ? "" : "; ", Absl(fix)));
}

TableEdit TableEdit::From(const Table& table) {
  return TableEdit{table.schema().fields(), table.columns()};
}

void TableEdit::Put(const std::string& name, Column column) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) {
      fields[i].type = column.type();
      columns[i] = std::move(column);
      return;
    }
  }
  fields.push_back(Field{name, column.type()});
  columns.push_back(std::move(column));
}

absl::StatusOr<Table> TableEdit::Build() && {
  return Table::Make(Schema(std::move(fields)), std::move(columns));
}

absl::StatusOr<Table> PutColumn(const Table& table, const std::string& name, Column column) {
  TableEdit edit = TableEdit::From(table);
  edit.Put(name, std::move(column));
  return std::move(edit).Build();
}

void PutField(std::vector<Field>& fields, const std::string& name, DataType type) {
  for (Field& field : fields) {
    if (field.name == name) {
      field.type = type;
      return;
    }
  }
  fields.push_back(Field{name, type});
}

Schema WithField(const Schema& schema, const std::string& name, DataType type) {
  std::vector<Field> fields = schema.fields();
  PutField(fields, name, type);
  return Schema(std::move(fields));
}

absl::Status CheckUniqueNames(const std::vector<Field>& fields, std::string_view producer) {
  absl::flat_hash_set<std::string_view> seen;
  for (const Field& field : fields) {
    if (field.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Absl(producer), " would produce a column with an empty name"));
    }
    if (!seen.insert(field.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          Absl(producer), " would produce two columns named ", Quote(field.name),
          "; choose another output name or delete or rename the existing column first"));
    }
  }
  return absl::OkStatus();
}

std::vector<uint8_t> ValidityFromFlags(const std::vector<uint8_t>& valid) {
  bool all = true;
  for (uint8_t flag : valid) all &= flag != 0;
  if (all) return {};
  std::vector<uint8_t> bits((valid.size() + 7) / 8, 0);
  for (size_t row = 0; row < valid.size(); ++row) {
    if (valid[row]) bits[row >> 3] |= static_cast<uint8_t>(1u << (row & 7));
  }
  return bits;
}

namespace {

std::vector<uint8_t> TakeValidity(const Column& column, const std::vector<int64_t>& rows) {
  bool any_null = false;
  for (int64_t row : rows) any_null |= row < 0;
  if (column.null_count() == 0 && !any_null) return {};
  std::vector<uint8_t> bits((rows.size() + 7) / 8, 0);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] >= 0 && column.IsValid(rows[i])) {
      bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
    }
  }
  return bits;
}

template <typename T>
std::vector<T> TakeValues(const std::vector<T>& values, const std::vector<int64_t>& rows) {
  std::vector<T> out;
  out.reserve(rows.size());
  for (int64_t row : rows) out.push_back(row < 0 ? T{} : values[static_cast<size_t>(row)]);
  return out;
}

}  // namespace

Column TakeColumn(const Column& column, const std::vector<int64_t>& rows) {
  std::vector<uint8_t> validity = TakeValidity(column, rows);
  absl::StatusOr<Column> out;
  switch (column.type()) {
    case DataType::kBool:
      out = Column::FromBools(TakeValues(column.bool_values(), rows), std::move(validity));
      break;
    case DataType::kInt64:
      out = Column::FromInt64s(TakeValues(column.int64_values(), rows), std::move(validity));
      break;
    case DataType::kTimestamp:
      out = Column::FromTimestamps(TakeValues(column.int64_values(), rows), std::move(validity));
      break;
    case DataType::kFloat64:
      out = Column::FromFloat64s(TakeValues(column.float64_values(), rows), std::move(validity));
      break;
    case DataType::kDate:
      out = Column::FromDates(TakeValues(column.date_values(), rows), std::move(validity));
      break;
    case DataType::kString: {
      const auto& offsets = column.string_offsets();
      int64_t total = 0;
      for (int64_t row : rows) total += row < 0 ? 0 : offsets[row + 1] - offsets[row];
      std::vector<int64_t> new_offsets;
      new_offsets.reserve(rows.size() + 1);
      new_offsets.push_back(0);
      std::string bytes;
      bytes.reserve(static_cast<size_t>(total));
      for (int64_t row : rows) {
        if (row >= 0) bytes.append(column.StringAt(row));
        new_offsets.push_back(static_cast<int64_t>(bytes.size()));
      }
      out = Column::FromStrings(std::move(new_offsets), std::move(bytes), std::move(validity));
      break;
    }
  }
  // The buffers are well-formed by construction.
  return *std::move(out);
}

Table TakeRows(const Table& table, const std::vector<int64_t>& rows) {
  std::vector<Column> columns(static_cast<size_t>(table.num_columns()));
  common::ThreadPool::Default().ParallelFor(table.num_columns(), [&](int64_t col) {
    columns[static_cast<size_t>(col)] = TakeColumn(table.column(static_cast<int>(col)), rows);
  });
  return *Table::Make(table.schema(), std::move(columns));
}

int CompareCells(const Column& column, int64_t a, int64_t b) {
  const bool null_a = column.IsNull(a);
  const bool null_b = column.IsNull(b);
  if (null_a || null_b) return static_cast<int>(null_a) - static_cast<int>(null_b);
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (column.type()) {
    case DataType::kBool:
      return cmp(column.bool_values()[a], column.bool_values()[b]);
    case DataType::kInt64:
    case DataType::kTimestamp:
      return cmp(column.int64_values()[a], column.int64_values()[b]);
    case DataType::kDate:
      return cmp(column.date_values()[a], column.date_values()[b]);
    case DataType::kFloat64: {
      const double x = column.float64_values()[a];
      const double y = column.float64_values()[b];
      if (std::isnan(x) || std::isnan(y)) {
        return static_cast<int>(std::isnan(x)) - static_cast<int>(std::isnan(y));
      }
      return cmp(x, y);
    }
    case DataType::kString:
      return column.StringAt(a).compare(column.StringAt(b)) < 0
                 ? -1
                 : (column.StringAt(a) == column.StringAt(b) ? 0 : 1);
  }
  return 0;
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// ---- The recipe ------------------------------------------------------------------------------

namespace {

const std::vector<std::pair<std::string, ProcessorParser>>& Registry() {
  static const auto* registry = [] {
    auto* out = new std::vector<std::pair<std::string, ProcessorParser>>();
    AddColumnProcessors(*out);
    AddRowProcessors(*out);
    AddNumberProcessors(*out);
    AddStringProcessors(*out);
    AddDateProcessors(*out);
    AddFormulaProcessors(*out);
    return out;
  }();
  return *registry;
}

std::string StepPrefix(size_t index, const std::string& type) {
  return absl::StrCat("prepare step ", index + 1, " (", type, "): ");
}

absl::Status WithStepPrefix(const absl::Status& status, size_t index, const std::string& type) {
  return absl::Status(status.code(), absl::StrCat(StepPrefix(index, type), status.message()));
}

// Binds the steps in order from `from`; stops at the first error.
absl::StatusOr<std::vector<BoundStep>> BindSteps(const PrepareSpec& spec, Schema schema,
                                                 size_t from) {
  std::vector<BoundStep> bound;
  bound.reserve(spec.steps.size() - std::min(from, spec.steps.size()));
  for (size_t index = from; index < spec.steps.size(); ++index) {
    const PrepareStep& step = spec.steps[index];
    absl::StatusOr<BoundStep> result = step.processor->Bind(schema);
    if (!result.ok()) return WithStepPrefix(result.status(), index, step.type);
    schema = result->output;
    bound.push_back(*std::move(result));
  }
  return bound;
}

}  // namespace

absl::StatusOr<PrepareSpec> ParsePrepareSpec(const nlohmann::json& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("prepare config: expected an object with a \"steps\" list");
  }
  for (const auto& [key, value] : config.items()) {
    if (key != "steps") {
      return absl::InvalidArgumentError(
          absl::StrCat("prepare config: ", key, ": unknown key (keys: steps)"));
    }
  }
  PrepareSpec spec;
  const auto steps = config.find("steps");
  if (steps == config.end()) return spec;
  if (!steps->is_array()) {
    return absl::InvalidArgumentError(
        "prepare config: steps: expected a list of step objects, each with a \"type\"");
  }
  std::vector<std::string> type_names;
  for (const auto& [name, parser] : Registry()) type_names.push_back(name);
  for (size_t index = 0; index < steps->size(); ++index) {
    const nlohmann::json& object = (*steps)[index];
    const std::string path = absl::StrCat("steps[", index, "]");
    if (!object.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("prepare config: ", path, ": expected an object with a \"type\""));
    }
    const auto type = object.find("type");
    if (type == object.end() || !type->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("prepare config: ", path, ".type: missing or not a string; expected one of ",
                       absl::StrJoin(type_names, ", ")));
    }
    const std::string type_name = type->get<std::string>();
    const auto entry = std::find_if(Registry().begin(), Registry().end(),
                                    [&](const auto& item) { return item.first == type_name; });
    if (entry == Registry().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("prepare config: ", path, ".type: unknown ", "step type ", Quote(type_name),
                       " (types: ", absl::StrJoin(type_names, ", "), ")"));
    }
    PrepareStep step;
    step.type = type_name;
    const auto comment = object.find("comment");
    if (comment != object.end()) {
      if (!comment->is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("prepare config: ", path, ".comment: expected a string"));
      }
      step.comment = comment->get<std::string>();
    }
    StepConfig reader(object, path, type_name);
    absl::StatusOr<std::unique_ptr<PrepareProcessor>> processor = entry->second(reader);
    ASSAY_RETURN_IF_ERROR(reader.Finish());
    if (!processor.ok()) return processor.status();
    step.processor = *std::move(processor);
    spec.steps.push_back(std::move(step));
  }
  return spec;
}

absl::StatusOr<Schema> BindPrepare(const PrepareSpec& spec, const Schema& input) {
  ASSAY_ASSIGN_OR_RETURN(std::vector<BoundStep> bound, BindSteps(spec, input, 0));
  return bound.empty() ? input : bound.back().output;
}

absl::StatusOr<PrepareResult> RunPrepare(const PrepareSpec& spec, const Table& input,
                                         const PrepareContext& context) {
  // Every step is bound before any row is processed, so a mistake in the last step costs no
  // work and is reported alone.
  ASSAY_ASSIGN_OR_RETURN(std::vector<BoundStep> bound, BindSteps(spec, input.schema(), 0));
  PrepareResult result;
  result.output = input;
  const StepContext step_context{context.now_micros};
  for (size_t index = 0; index < spec.steps.size(); ++index) {
    const PrepareStep& step = spec.steps[index];
    PrepareStepLog log;
    log.step = static_cast<int>(index) + 1;
    log.type = step.type;
    log.comment = step.comment;
    log.rows_in = result.output.num_rows();
    const BoundStep& current = bound[index];
    absl::StatusOr<Table> output = current.apply(result.output, step_context, log);
    if (!output.ok()) return WithStepPrefix(output.status(), index, step.type);
    result.output = *std::move(output);
    log.rows_out = result.output.num_rows();
    result.log.push_back(std::move(log));
    if (current.data_dependent_schema && index + 1 < spec.steps.size() &&
        !(result.output.schema() == current.output)) {
      // The later steps were checked against the schema without the data-dependent columns;
      // bind them again to the real one (the columns they name are unchanged).
      ASSAY_ASSIGN_OR_RETURN(std::vector<BoundStep> rest,
                             BindSteps(spec, result.output.schema(), index + 1));
      std::move(rest.begin(), rest.end(), bound.begin() + static_cast<int64_t>(index) + 1);
    }
  }
  return result;
}

nlohmann::json PrepareLogToJson(const std::vector<PrepareStepLog>& log) {
  nlohmann::json out = nlohmann::json::array();
  for (const PrepareStepLog& entry : log) {
    nlohmann::json item = {{"step", entry.step},
                           {"type", entry.type},
                           {"rows_in", entry.rows_in},
                           {"rows_out", entry.rows_out}};
    if (!entry.comment.empty()) item["comment"] = entry.comment;
    if (entry.cells_changed >= 0) item["cells_changed"] = entry.cells_changed;
    if (entry.conversion_failures > 0) item["conversion_failures"] = entry.conversion_failures;
    if (!entry.detail.empty()) item["detail"] = entry.detail;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace assay::recipes
