#include "quality/quality_rules.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "quality/message_text.h"
#include "re2/re2.h"

namespace assay::quality {
namespace {

using json = nlohmann::json;
using table::Column;
using table::DataType;
using table::Schema;
using table::Table;

// ---------------------------------------------------------------------------------------------
// Names

constexpr std::pair<RuleType, std::string_view> kRuleTypeNames[] = {
    {RuleType::kNotNull, "not_null"}, {RuleType::kUnique, "unique"},
    {RuleType::kInRange, "in_range"}, {RuleType::kInSet, "in_set"},
    {RuleType::kRegex, "regex"},      {RuleType::kRowCount, "row_count"},
    {RuleType::kSchema, "schema"},    {RuleType::kExpression, "expression"},
};

bool IsRowLevel(RuleType type) { return type != RuleType::kRowCount && type != RuleType::kSchema; }

bool UsesOneColumn(RuleType type) {
  return type == RuleType::kInRange || type == RuleType::kInSet || type == RuleType::kRegex;
}

bool UsesColumnList(RuleType type) {
  return type == RuleType::kNotNull || type == RuleType::kUnique;
}

std::string GeneratedName(const RuleSpec& spec) {
  const std::string type(RuleTypeName(spec.type));
  switch (spec.type) {
    case RuleType::kRowCount:
    case RuleType::kSchema:
      return type;
    case RuleType::kExpression:
      return absl::StrCat(type, "(", spec.expression, ")");
    default:
      return absl::StrCat(type, "(", absl::StrJoin(spec.columns, ", "), ")");
  }
}

// "rule 2 ("npi_format")": the prefix of every spec error, 1-based like the rows.
std::string RuleLabel(size_t index, std::string_view name) {
  if (name.empty()) return absl::StrCat("rule ", index + 1);
  return absl::StrCat("rule ", index + 1, " (", QuoteText(name), ")");
}

absl::Status SpecError(size_t index, std::string_view name, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(RuleLabel(index, name), ": ", Absl(problem)));
}

// "\"key\": problem"
std::string KeyProblem(std::string_view key, std::string_view problem) {
  return absl::StrCat(QuoteText(key), ": ", Absl(problem));
}

// ---------------------------------------------------------------------------------------------
// Structural validation shared by ParseRules and EvaluateRules (specs may be built by hand).

std::string CompileRegexError(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  const RE2 regex(pattern, options);
  if (regex.ok()) return "";
  return absl::StrCat("invalid regular expression: ", regex.error());
}

std::string ValidateSpecProblem(const RuleSpec& spec) {
  if (spec.name.empty()) return "\"name\": must not be empty";
  const RuleType type = spec.type;
  if (UsesColumnList(type)) {
    if (spec.columns.empty()) return "\"columns\": needs at least one column";
  } else if (UsesOneColumn(type)) {
    if (spec.columns.size() != 1) return "\"column\": needs exactly one column";
  } else if (!spec.columns.empty()) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)), " rule takes no \"column\"");
  }
  for (const std::string& column : spec.columns) {
    if (column.empty()) return "\"columns\": a column name must not be empty";
  }
  if (UsesColumnList(type)) {
    for (size_t i = 0; i < spec.columns.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (spec.columns[i] == spec.columns[j]) {
          return KeyProblem(
              "columns", absl::StrCat("column ", QuoteText(spec.columns[i]), " is listed twice"));
        }
      }
    }
  }
  if (type == RuleType::kInRange) {
    if (!spec.min && !spec.max) return "needs \"min\", \"max\" or both";
    for (const auto* bound : {&spec.min, &spec.max}) {
      if (*bound && !(*bound)->is_number() && !(*bound)->is_string()) {
        return KeyProblem(bound == &spec.min ? "min" : "max",
                          "must be a number or an ISO date/timestamp string");
      }
    }
    if (spec.min && spec.max && spec.min->is_number() && spec.max->is_number() &&
        spec.min->get<double>() > spec.max->get<double>()) {
      return "\"min\" is greater than \"max\"";
    }
  } else if (spec.min || spec.max) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)), " rule takes no \"min\"/\"max\"");
  }
  if (type == RuleType::kRowCount) {
    if (!spec.min_rows && !spec.max_rows) return "needs \"min\", \"max\" or both";
    if ((spec.min_rows && *spec.min_rows < 0) || (spec.max_rows && *spec.max_rows < 0)) {
      return "row count bounds must not be negative";
    }
    if (spec.min_rows && spec.max_rows && *spec.min_rows > *spec.max_rows) {
      return "\"min\" is greater than \"max\"";
    }
  } else if (spec.min_rows || spec.max_rows) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)), " rule takes no row count bounds");
  }
  if (type == RuleType::kInSet) {
    if (spec.values.empty()) return "\"values\": needs at least one value";
    for (size_t i = 0; i < spec.values.size(); ++i) {
      const json& value = spec.values[i];
      if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
        return absl::StrCat("\"values[", i, "]\": must be a string, number or boolean");
      }
    }
  } else if (!spec.values.empty()) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)), " rule takes no \"values\"");
  }
  if (type == RuleType::kRegex) {
    if (spec.pattern.empty()) return "\"pattern\": must not be empty";
    const std::string problem = CompileRegexError(spec.pattern);
    if (!problem.empty()) return KeyProblem("pattern", problem);
  } else if (!spec.pattern.empty()) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)), " rule takes no \"pattern\"");
  }
  if (type == RuleType::kSchema) {
    if (spec.schema_columns.empty()) return "\"columns\": needs at least one column";
    for (size_t i = 0; i < spec.schema_columns.size(); ++i) {
      if (spec.schema_columns[i].name.empty()) {
        return absl::StrCat("\"columns[", i, "].name\": must not be empty");
      }
      for (size_t j = 0; j < i; ++j) {
        if (spec.schema_columns[i].name == spec.schema_columns[j].name) {
          return KeyProblem(
              "columns",
              absl::StrCat("column ", QuoteText(spec.schema_columns[i].name), " is listed twice"));
        }
      }
    }
    if (spec.ordered && spec.schema_mode != SchemaMode::kEquals) {
      return "\"ordered\": applies only to mode \"equals\"";
    }
  } else if (!spec.schema_columns.empty() || spec.ordered) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)), " rule takes no schema columns");
  }
  if (type == RuleType::kExpression) {
    if (spec.expression.empty()) return "\"expression\": must not be empty";
  } else if (!spec.expression.empty() || spec.allow_null) {
    return absl::StrCat("a ", Absl(RuleTypeName(type)),
                        " rule takes no \"expression\"/\"allow_null\"");
  }
  if (spec.max_failing_fraction) {
    if (!IsRowLevel(type)) {
      return absl::StrCat("a ", Absl(RuleTypeName(type)),
                          " rule takes no \"max_failing_fraction\"");
    }
    const double fraction = *spec.max_failing_fraction;
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
      return "\"max_failing_fraction\": must be between 0 and 1";
    }
  }
  return "";
}

absl::Status ValidateSpecs(const std::vector<RuleSpec>& specs) {
  for (size_t index = 0; index < specs.size(); ++index) {
    const std::string problem = ValidateSpecProblem(specs[index]);
    if (!problem.empty()) return SpecError(index, specs[index].name, problem);
    for (size_t other = 0; other < index; ++other) {
      if (specs[other].name == specs[index].name) {
        return SpecError(index, specs[index].name,
                         absl::StrCat("duplicate rule name (rule ", other + 1,
                                      " has it too); give one of them a \"name\""));
      }
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// JSON parsing of specs

// The keys each rule type accepts besides name, type, severity and description.
std::vector<std::string_view> TypeKeys(RuleType type) {
  switch (type) {
    case RuleType::kNotNull:
    case RuleType::kUnique:
      return {"column", "columns", "max_failing_fraction"};
    case RuleType::kInRange:
      return {"column", "min", "max", "max_failing_fraction"};
    case RuleType::kInSet:
      return {"column", "values", "max_failing_fraction"};
    case RuleType::kRegex:
      return {"column", "pattern", "max_failing_fraction"};
    case RuleType::kRowCount:
      return {"min", "max"};
    case RuleType::kSchema:
      return {"mode", "columns", "ordered"};
    case RuleType::kExpression:
      return {"expression", "allow_null", "max_failing_fraction"};
  }
  return {};
}

constexpr std::string_view kCommonKeys[] = {"name", "type", "severity", "description"};

// Integers, or floats with an integral value in range (YAML and JSON writers produce 1e6).
std::optional<int64_t> JsonToInt64(const json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(number);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_float()) {
    const double number = value.get<double>();
    // 2^63 is exactly representable; anything at or beyond it is out of range.
    if (std::trunc(number) != number || number < -9223372036854775808.0 ||
        number >= 9223372036854775808.0) {
      return std::nullopt;
    }
    return static_cast<int64_t>(number);
  }
  return std::nullopt;
}

// Parses one rule object; errors are the bare problem text (the caller adds the label).
absl::Status ParseRule(const json& object, RuleSpec* spec, bool* name_given) {
  auto fail = [](std::string_view key, std::string_view problem) {
    return absl::InvalidArgumentError(KeyProblem(key, problem));
  };
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("must be an object like {\"type\": \"not_null\", \"columns\": [\"npi\"]}, "
                     "not ",
                     object.type_name()));
  }
  if (auto it = object.find("name"); it != object.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
      return fail("name", "must be a non-empty string");
    }
    spec->name = it->get<std::string>();
    *name_given = true;
  }
  const auto type_it = object.find("type");
  std::string type_names;
  for (const auto& [type, name] : kRuleTypeNames) {
    absl::StrAppend(&type_names, type_names.empty() ? "" : ", ", Absl(name));
  }
  if (type_it == object.end()) {
    return absl::InvalidArgumentError(absl::StrCat("missing \"type\" (one of ", type_names, ")"));
  }
  if (!type_it->is_string()) return fail("type", absl::StrCat("must be one of ", type_names));
  const auto type = RuleTypeFromName(type_it->get_ref<const std::string&>());
  if (!type) {
    return fail("type", absl::StrCat("unknown rule type ",
                                     QuoteText(type_it->get_ref<const std::string&>()),
                                     " (types: ", type_names, ")"));
  }
  spec->type = *type;

  const std::vector<std::string_view> type_keys = TypeKeys(*type);
  for (const auto& [key, value] : object.items()) {
    const bool known =
        std::find(std::begin(kCommonKeys), std::end(kCommonKeys), key) != std::end(kCommonKeys) ||
        std::find(type_keys.begin(), type_keys.end(), key) != type_keys.end();
    if (!known) {
      std::vector<std::string_view> all(std::begin(kCommonKeys), std::end(kCommonKeys));
      all.insert(all.end(), type_keys.begin(), type_keys.end());
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown key ", QuoteText(key), " for a ", Absl(RuleTypeName(*type)), " rule (keys: ",
          absl::StrJoin(all, ", ", [](std::string* out, std::string_view k) { out->append(k); }),
          ")"));
    }
  }

  if (auto it = object.find("severity"); it != object.end()) {
    std::optional<Severity> severity;
    if (it->is_string()) severity = SeverityFromName(it->get_ref<const std::string&>());
    if (!severity) return fail("severity", "must be \"error\" or \"warning\"");
    spec->severity = *severity;
  }
  if (auto it = object.find("description"); it != object.end()) {
    if (!it->is_string()) return fail("description", "must be a string");
    spec->description = it->get<std::string>();
  }
  if (auto it = object.find("max_failing_fraction"); it != object.end()) {
    if (!it->is_number()) return fail("max_failing_fraction", "must be a number between 0 and 1");
    spec->max_failing_fraction = it->get<double>();
  }

  switch (*type) {
    case RuleType::kNotNull:
    case RuleType::kUnique: {
      const auto column = object.find("column");
      const auto columns = object.find("columns");
      if ((column == object.end()) == (columns == object.end())) {
        return absl::InvalidArgumentError(
            "needs \"columns\" (a list of column names) or \"column\" (one name), not both");
      }
      if (column != object.end()) {
        if (!column->is_string()) return fail("column", "must be a column name (a string)");
        spec->columns.push_back(column->get<std::string>());
      } else {
        if (!columns->is_array()) return fail("columns", "must be a list of column names");
        for (size_t i = 0; i < columns->size(); ++i) {
          if (!(*columns)[i].is_string()) {
            return fail(absl::StrCat("columns[", i, "]"), "must be a column name (a string)");
          }
          spec->columns.push_back((*columns)[i].get<std::string>());
        }
      }
      break;
    }
    case RuleType::kInRange:
    case RuleType::kInSet:
    case RuleType::kRegex: {
      const auto column = object.find("column");
      if (column == object.end()) return absl::InvalidArgumentError("missing \"column\"");
      if (!column->is_string()) return fail("column", "must be a column name (a string)");
      spec->columns.push_back(column->get<std::string>());
      if (*type == RuleType::kInRange) {
        for (const char* key : {"min", "max"}) {
          const auto it = object.find(key);
          if (it == object.end()) continue;
          if (!it->is_number() && !it->is_string()) {
            return fail(key, "must be a number or an ISO date/timestamp string");
          }
          (std::string_view(key) == "min" ? spec->min : spec->max) = *it;
        }
      } else if (*type == RuleType::kInSet) {
        const auto values = object.find("values");
        if (values == object.end()) return absl::InvalidArgumentError("missing \"values\"");
        if (!values->is_array()) return fail("values", "must be a list of allowed values");
        for (size_t i = 0; i < values->size(); ++i) {
          const json& value = (*values)[i];
          if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
            return fail(absl::StrCat("values[", i, "]"), "must be a string, number or boolean");
          }
          spec->values.push_back(value);
        }
      } else {
        const auto pattern = object.find("pattern");
        if (pattern == object.end()) return absl::InvalidArgumentError("missing \"pattern\"");
        if (!pattern->is_string()) return fail("pattern", "must be a string");
        spec->pattern = pattern->get<std::string>();
      }
      break;
    }
    case RuleType::kRowCount:
      for (const char* key : {"min", "max"}) {
        const auto it = object.find(key);
        if (it == object.end()) continue;
        const auto count = JsonToInt64(*it);
        if (!count || *count < 0) return fail(key, "must be a non-negative integer");
        (std::string_view(key) == "min" ? spec->min_rows : spec->max_rows) = *count;
      }
      break;
    case RuleType::kSchema: {
      const auto mode = object.find("mode");
      if (mode == object.end()) {
        return absl::InvalidArgumentError("missing \"mode\" (\"equals\" or \"contains\")");
      }
      if (*mode == "equals") {
        spec->schema_mode = SchemaMode::kEquals;
      } else if (*mode == "contains") {
        spec->schema_mode = SchemaMode::kContains;
      } else {
        return fail("mode", "must be \"equals\" or \"contains\"");
      }
      if (auto it = object.find("ordered"); it != object.end()) {
        if (!it->is_boolean()) return fail("ordered", "must be true or false");
        spec->ordered = it->get<bool>();
      }
      const auto columns = object.find("columns");
      if (columns == object.end()) return absl::InvalidArgumentError("missing \"columns\"");
      if (!columns->is_array()) {
        return fail("columns", "must be a list of {\"name\": ..., \"type\": ...} objects");
      }
      for (size_t i = 0; i < columns->size(); ++i) {
        const json& entry = (*columns)[i];
        const std::string path = absl::StrCat("columns[", i, "]");
        SchemaColumn column;
        if (entry.is_string()) {
          column.name = entry.get<std::string>();
        } else if (entry.is_object()) {
          for (const auto& [key, value] : entry.items()) {
            if (key != "name" && key != "type") {
              return fail(absl::StrCat(path, ".", key), "unknown key (keys: name, type)");
            }
          }
          const auto name = entry.find("name");
          if (name == entry.end() || !name->is_string()) {
            return fail(absl::StrCat(path, ".name"), "must be a column name (a string)");
          }
          column.name = name->get<std::string>();
          if (auto type_entry = entry.find("type"); type_entry != entry.end()) {
            std::optional<DataType> data_type;
            if (type_entry->is_string()) {
              data_type = table::DataTypeFromName(type_entry->get_ref<const std::string&>());
            }
            if (!data_type) {
              return fail(absl::StrCat(path, ".type"),
                          absl::StrCat("unknown type ", QuoteJson(*type_entry),
                                       " (types: bool, int64, float64, string, date, "
                                       "timestamp)"));
            }
            column.type = *data_type;
          }
        } else {
          return fail(path, "must be a column name or a {\"name\": ..., \"type\": ...} object");
        }
        spec->schema_columns.push_back(std::move(column));
      }
      break;
    }
    case RuleType::kExpression: {
      const auto expression = object.find("expression");
      if (expression == object.end()) return absl::InvalidArgumentError("missing \"expression\"");
      if (!expression->is_string()) return fail("expression", "must be a string");
      spec->expression = expression->get<std::string>();
      if (auto it = object.find("allow_null"); it != object.end()) {
        if (!it->is_boolean()) return fail("allow_null", "must be true or false");
        spec->allow_null = it->get<bool>();
      }
      break;
    }
  }
  if (!*name_given) spec->name = GeneratedName(*spec);
  const std::string problem = ValidateSpecProblem(*spec);
  if (!problem.empty()) return absl::InvalidArgumentError(problem);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Binding a rule to a schema: everything that depends on the column types, computed once.

// Bounds of an in_range rule in the column's own encoding.
struct IntegerRange {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
  bool empty = false;  // A bound beyond int64: no value can be inside.
};
struct FloatRange {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
};

struct BoundRule {
  std::vector<int> columns;  // Indexes into the schema, in spec order.
  IntegerRange int_range;    // in_range over int64, date, timestamp
  FloatRange float_range;    // in_range over float64
  // in_set, by column type.
  absl::flat_hash_set<int64_t> int_set;  // int64, date, timestamp
  absl::flat_hash_set<double> float_set;
  absl::flat_hash_set<std::string> string_set;
  bool allow_true = false;
  bool allow_false = false;
  std::unique_ptr<RE2> regex;
  std::optional<expr::Expression> expression;
};

std::string DescribeType(DataType type) { return std::string(table::DataTypeName(type)); }

// Integer bound for an int64 column: a float bound rounds inward (min 0.5 means >= 1).
void IntegerBound(const json& bound, bool is_min, IntegerRange* range) {
  constexpr double kTwo63 = 9223372036854775808.0;
  if (bound.is_number_unsigned()) {
    const uint64_t value = bound.get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      if (is_min) range->empty = true;  // A max beyond int64 bounds nothing.
      return;
    }
    (is_min ? range->lo : range->hi) = static_cast<int64_t>(value);
  } else if (bound.is_number_integer()) {
    (is_min ? range->lo : range->hi) = bound.get<int64_t>();
  } else {
    double value = bound.get<double>();
    value = is_min ? std::ceil(value) : std::floor(value);
    if (value >= kTwo63) {
      if (is_min) range->empty = true;
    } else if (value < -kTwo63) {
      if (!is_min) range->empty = true;
    } else {
      (is_min ? range->lo : range->hi) = static_cast<int64_t>(value);
    }
  }
}

absl::Status BindRange(const RuleSpec& spec, const std::string& column, DataType type,
                       BoundRule* bound) {
  for (const bool is_min : {true, false}) {
    const std::optional<json>& value = is_min ? spec.min : spec.max;
    if (!value) continue;
    const char* key = is_min ? "min" : "max";
    switch (type) {
      case DataType::kInt64:
      case DataType::kFloat64:
        if (!value->is_number()) {
          return absl::InvalidArgumentError(
              KeyProblem(key, absl::StrCat(QuoteJson(*value), " is not a number, but column ",
                                           QuoteText(column), " is ", DescribeType(type))));
        }
        if (type == DataType::kInt64) {
          IntegerBound(*value, is_min, &bound->int_range);
        } else {
          (is_min ? bound->float_range.lo : bound->float_range.hi) = value->get<double>();
        }
        break;
      case DataType::kDate:
      case DataType::kTimestamp: {
        std::optional<int64_t> parsed;
        if (value->is_string()) {
          const std::string& text = value->get_ref<const std::string&>();
          if (type == DataType::kDate) {
            if (auto days = common::ParseIsoDate(text)) parsed = *days;
          } else {
            parsed = common::ParseIsoTimestamp(text);
            // A bare date bounds a timestamp column at midnight UTC.
            if (!parsed) {
              if (auto days = common::ParseIsoDate(text)) {
                parsed = int64_t{*days} * 86'400'000'000;
              }
            }
          }
        }
        if (!parsed) {
          return absl::InvalidArgumentError(KeyProblem(
              key, absl::StrCat(QuoteJson(*value), " is not an ISO ",
                                type == DataType::kDate ? "date (YYYY-MM-DD)"
                                                        : "timestamp (YYYY-MM-DDTHH:MM:SSZ)",
                                ", but column ", QuoteText(column), " is ", DescribeType(type))));
        }
        (is_min ? bound->int_range.lo : bound->int_range.hi) = *parsed;
        break;
      }
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("in_range needs an int64, float64, date or timestamp column; column ",
                         QuoteText(column), " is ", DescribeType(type)));
    }
  }
  if (type != DataType::kFloat64 && !bound->int_range.empty &&
      bound->int_range.lo > bound->int_range.hi && spec.min && spec.max && spec.min->is_string()) {
    return absl::InvalidArgumentError("\"min\" is after \"max\"");
  }
  return absl::OkStatus();
}

absl::Status BindSet(const RuleSpec& spec, const std::string& column, DataType type,
                     BoundRule* bound) {
  for (size_t i = 0; i < spec.values.size(); ++i) {
    const json& value = spec.values[i];
    auto mismatch = [&](std::string_view expected) {
      return absl::InvalidArgumentError(
          KeyProblem(absl::StrCat("values[", i, "]"),
                     absl::StrCat(QuoteJson(value), " is not ", Absl(expected), ", but column ",
                                  QuoteText(column), " is ", DescribeType(type))));
    };
    switch (type) {
      case DataType::kString:
        if (!value.is_string()) return mismatch("a string");
        bound->string_set.insert(value.get<std::string>());
        break;
      case DataType::kInt64: {
        const auto number = value.is_number() ? JsonToInt64(value) : std::nullopt;
        if (!number) return mismatch("an int64 integer");
        bound->int_set.insert(*number);
        break;
      }
      case DataType::kFloat64: {
        if (!value.is_number()) return mismatch("a number");
        const double number = value.get<double>();
        bound->float_set.insert(number == 0.0 ? 0.0 : number);  // -0.0 is 0.0
        break;
      }
      case DataType::kBool:
        if (!value.is_boolean()) return mismatch("true or false");
        (value.get<bool>() ? bound->allow_true : bound->allow_false) = true;
        break;
      case DataType::kDate: {
        std::optional<int32_t> days;
        if (value.is_string()) days = common::ParseIsoDate(value.get_ref<const std::string&>());
        if (!days) return mismatch("an ISO date (YYYY-MM-DD)");
        bound->int_set.insert(*days);
        break;
      }
      case DataType::kTimestamp: {
        std::optional<int64_t> micros;
        if (value.is_string()) {
          micros = common::ParseIsoTimestamp(value.get_ref<const std::string&>());
        }
        if (!micros) return mismatch("an ISO timestamp (YYYY-MM-DDTHH:MM:SSZ)");
        bound->int_set.insert(*micros);
        break;
      }
    }
  }
  return absl::OkStatus();
}

// Resolves and checks everything about `spec` that depends on the schema. Errors are the
// reasons a rule cannot be applied to this table (the message of a not-evaluated result).
absl::StatusOr<BoundRule> BindRule(const RuleSpec& spec, const Schema& schema) {
  BoundRule bound;
  for (const std::string& name : spec.columns) {
    const auto index = schema.FindField(name);
    if (!index) {
      return absl::InvalidArgumentError(
          absl::StrCat("no column ", QuoteText(name), " (columns: ", schema.NameList(), ")"));
    }
    bound.columns.push_back(*index);
  }
  const std::string column = spec.columns.empty() ? "" : spec.columns[0];
  const DataType type =
      bound.columns.empty() ? DataType::kInt64 : schema.field(bound.columns[0]).type;
  switch (spec.type) {
    case RuleType::kInRange:
      ASSAY_RETURN_IF_ERROR(BindRange(spec, column, type, &bound));
      break;
    case RuleType::kInSet:
      ASSAY_RETURN_IF_ERROR(BindSet(spec, column, type, &bound));
      break;
    case RuleType::kRegex: {
      if (type != DataType::kString) {
        return absl::InvalidArgumentError(absl::StrCat(
            "regex needs a string column; column ", QuoteText(column), " is ", DescribeType(type)));
      }
      RE2::Options options;
      options.set_log_errors(false);
      bound.regex = std::make_unique<RE2>(spec.pattern, options);
      if (!bound.regex->ok()) {
        return absl::InvalidArgumentError(KeyProblem(
            "pattern", absl::StrCat("invalid regular expression: ", bound.regex->error())));
      }
      break;
    }
    case RuleType::kExpression: {
      auto compiled = expr::Expression::Compile(spec.expression, schema);
      if (!compiled.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("expression does not compile: ", compiled.status().message()));
      }
      if (compiled->result_type() != DataType::kBool) {
        return absl::InvalidArgumentError(
            absl::StrCat("expression must be true or false for each row, but it gives ",
                         DescribeType(compiled->result_type())));
      }
      bound.expression = std::move(*compiled);
      break;
    }
    default:
      break;
  }
  return bound;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

// Collects failing rows while scanning: the count and the first kMaxSampleRows rows.
class FailureLog {
 public:
  void Add(int64_t row) {
    if (static_cast<int>(rows_.size()) < kMaxSampleRows) rows_.push_back(row);
    ++count_;
  }
  int64_t count() const { return count_; }
  // For scans that find failures out of row order: the total and (row, ...) pairs holding the
  // earliest failing rows, ascending.
  template <typename Pairs>
  void SetSummary(int64_t count, const Pairs& earliest) {
    count_ = count;
    rows_.clear();
    for (const auto& pair : earliest) rows_.push_back(pair.first);
  }
  // 0-based rows in ascending order.
  const std::vector<int64_t>& rows() const { return rows_; }

 private:
  int64_t count_ = 0;
  std::vector<int64_t> rows_;
};

// Calls fails(row) for every non-null row of `column` and logs those for which it is true.
template <typename Predicate>
void ScanValid(const Column& column, Predicate fails, FailureLog* log) {
  const int64_t rows = column.size();
  if (column.null_count() == 0) {
    for (int64_t row = 0; row < rows; ++row) {
      if (fails(row)) [[unlikely]]
        log->Add(row);
    }
  } else {
    for (int64_t row = 0; row < rows; ++row) {
      if (column.IsValid(row) && fails(row)) [[unlikely]]
        log->Add(row);
    }
  }
}

// The sample text of one value: itself, "null" for a null, cut to kMaxSampleValueBytes.
std::string SampleValue(const Column& column, int64_t row) {
  if (column.IsNull(row)) return "null";
  return CleanText(column.ValueToString(row), kMaxSampleValueBytes);
}

// A value inside a message: strings quoted (so blanks and empty strings show), others bare.
std::string MessageValue(const Column& column, int64_t row) {
  if (column.IsNull(row)) return "null";
  if (column.type() == DataType::kString) return QuoteText(SampleValue(column, row));
  return SampleValue(column, row);
}

// "hcp_id=1042, month=2024-03-01"
std::string KeyText(const Table& table, const std::vector<int>& columns, int64_t row,
                    bool for_message) {
  std::string out;
  for (const int index : columns) {
    const Column& column = table.column(index);
    absl::StrAppend(&out, out.empty() ? "" : ", ", table.schema().field(index).name, "=",
                    for_message ? MessageValue(column, row) : SampleValue(column, row));
  }
  return out;
}

std::string Plural(int64_t count, std::string_view one, std::string_view many) {
  return absl::StrCat(count, " ", count == 1 ? Absl(one) : Absl(many));
}

// ": rows 4, 17, 980 and 12 more"
std::string RowsText(const FailureLog& log) {
  std::string out = log.rows().size() == 1 ? ": row " : ": rows ";
  for (size_t i = 0; i < log.rows().size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", log.rows()[i] + 1);
  }
  const int64_t more = log.count() - static_cast<int64_t>(log.rows().size());
  if (more > 0) absl::StrAppend(&out, " and ", more, " more");
  return out;
}

// ": -1 (row 4), 85 (row 17) and 12 more"; `value_text(row)` renders one offending row.
template <typename ValueText>
std::string ValuesText(const FailureLog& log, ValueText value_text, std::string_view separator) {
  std::string out = ": ";
  for (size_t i = 0; i < log.rows().size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : Absl(separator), value_text(log.rows()[i]), " (row ",
                    log.rows()[i] + 1, ")");
  }
  const int64_t more = log.count() - static_cast<int64_t>(log.rows().size());
  if (more > 0) absl::StrAppend(&out, " and ", more, " more");
  return out;
}

std::string ColumnList(const std::vector<std::string>& columns) {
  return absl::StrJoin(columns, ", ");
}

// Fills passed, failing_rows and the samples of a row-level rule from `log`, and returns
// the tolerance note to append to the message ("" when none applies).
std::string FinishRowLevel(const RuleSpec& spec, const Table& table, const FailureLog& log,
                           const std::vector<int>& sample_columns, RuleResult* result) {
  result->failing_rows = log.count();
  result->passed = log.count() == 0;
  for (const int64_t row : log.rows()) {
    result->sample_rows.push_back(row + 1);
    result->sample_values.push_back(
        sample_columns.size() == 1 ? SampleValue(table.column(sample_columns[0]), row)
                                   : KeyText(table, sample_columns, row, /*for_message=*/false));
  }
  if (log.count() == 0 || !spec.max_failing_fraction) return "";
  const double allowed = *spec.max_failing_fraction * static_cast<double>(table.num_rows());
  result->passed = static_cast<double>(log.count()) <= allowed;
  return absl::StrCat(result->passed ? "; tolerated" : "; more than", " (max_failing_fraction ",
                      FormatNumber(*spec.max_failing_fraction), ")");
}

void EvaluateNotNull(const RuleSpec& spec, const BoundRule& bound, const Table& table,
                     RuleResult* result) {
  const int64_t rows = table.num_rows();
  FailureLog log;
  // AND the validity bytes of the nullable columns: a row fails if any of its bits is clear.
  std::vector<const Column*> nullable;
  for (const int index : bound.columns) {
    if (table.column(index).null_count() > 0) nullable.push_back(&table.column(index));
  }
  if (!nullable.empty()) {
    const int64_t bytes = (rows + 7) / 8;
    for (int64_t byte = 0; byte < bytes; ++byte) {
      uint8_t valid = 0xFF;
      for (const Column* column : nullable) valid &= column->validity()[byte];
      if (valid == 0xFF) [[likely]]
        continue;
      for (int bit = 0; bit < 8; ++bit) {
        const int64_t row = byte * 8 + bit;
        if (row < rows && ((valid >> bit) & 1) == 0) log.Add(row);
      }
    }
  }
  const std::string columns = ColumnList(spec.columns);
  std::string tolerance = FinishRowLevel(spec, table, log, bound.columns, result);
  if (log.count() == 0) {
    result->message = absl::StrCat("no nulls in ", columns, " (", Plural(rows, "row", "rows"), ")");
  } else {
    result->message = absl::StrCat(log.count(), " of ", Plural(rows, "row", "rows"),
                                   spec.columns.size() == 1 ? " have a null " : " have a null in ",
                                   columns, RowsText(log), tolerance);
  }
}

// A 64-bit mix (the finalizer of MurmurHash3, Appleby 2011) so keys combine without bias.
inline uint64_t Mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb93e185a878bULL;
  h ^= h >> 33;
  return h;
}

inline uint64_t Combine(uint64_t seed, uint64_t value) {
  return Mix64(seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2)));
}

// Doubles compared as keys: -0.0 equals 0.0 and every NaN equals every NaN.
inline uint64_t FloatKeyBits(double value) {
  if (value == 0.0) return 0;
  if (std::isnan(value)) return 0x7ff8000000000000ULL;
  return std::bit_cast<uint64_t>(value);
}

// Equality of rows by their key columns (values, not hashes).
struct RowKeys {
  std::vector<const Column*> columns;

  bool Equal(int64_t a, int64_t b) const {
    for (const Column* column : columns) {
      switch (column->type()) {
        case DataType::kBool:
          if (column->bool_values()[a] != column->bool_values()[b]) return false;
          break;
        case DataType::kInt64:
        case DataType::kTimestamp:
          if (column->int64_values()[a] != column->int64_values()[b]) return false;
          break;
        case DataType::kFloat64:
          if (FloatKeyBits(column->float64_values()[a]) !=
              FloatKeyBits(column->float64_values()[b])) {
            return false;
          }
          break;
        case DataType::kDate:
          if (column->date_values()[a] != column->date_values()[b]) return false;
          break;
        case DataType::kString:
          if (column->StringAt(a) != column->StringAt(b)) return false;
          break;
      }
    }
    return true;
  }
};

// A row of a unique rule with the hash of its key.
struct KeyEntry {
  uint64_t hash;
  int64_t row;
};

// Finds repeated keys among rows offered in ascending row order. Remembers the first
// occurrence of every key in `firsts_`, indexed by an open-addressing table with linear
// probing that compares hashes first and values only on a hash match. (A table of our own
// rather than absl::flat_hash_set: clear() there frees large tables, and the partitioned scan
// below resets the table once per partition.)
class RepeatFinder {
 public:
  explicit RepeatFinder(const RowKeys* keys) : keys_(keys) {}

  // Forgets all keys (not the duplicated-key count) and sizes the table for `expected` keys.
  void Reset(size_t expected) {
    firsts_.clear();
    counted_.clear();
    size_t capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    slots_.assign(capacity, kEmpty);  // Keeps the allocation of earlier partitions.
    mask_ = capacity - 1;
  }
  // The first row with the same key as `row`, or -1 if this is the key's first occurrence.
  int64_t Offer(uint64_t hash, int64_t row) {
    // The partition uses the top bits of the hash; the table uses the bottom ones.
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      const uint32_t slot = slots_[pos];
      if (slot == kEmpty) [[likely]] {
        slots_[pos] = static_cast<uint32_t>(firsts_.size());
        firsts_.push_back({hash, row});
        counted_.push_back(0);
        // Keep the load factor at most 1/2 so probe sequences stay short.
        if (2 * firsts_.size() > slots_.size()) Grow();
        return -1;
      }
      const KeyEntry& first = firsts_[slot];
      if (first.hash == hash && keys_->Equal(first.row, row)) {
        if (!counted_[slot]) {
          counted_[slot] = 1;
          ++duplicated_keys_;
        }
        return first.row;
      }
    }
  }
  // Distinct keys since the last Reset.
  size_t distinct() const { return firsts_.size(); }
  // Keys seen more than once, over all Resets.
  int64_t duplicated_keys() const { return duplicated_keys_; }

 private:
  static constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();

  void Grow() {
    slots_.assign(slots_.size() * 2, kEmpty);
    mask_ = slots_.size() - 1;
    for (size_t index = 0; index < firsts_.size(); ++index) {
      size_t pos = firsts_[index].hash & mask_;
      while (slots_[pos] != kEmpty) pos = (pos + 1) & mask_;
      slots_[pos] = static_cast<uint32_t>(index);
    }
  }

  const RowKeys* keys_;
  std::vector<KeyEntry> firsts_;
  std::vector<uint8_t> counted_;  // Per first occurrence: already counted as duplicated.
  std::vector<uint32_t> slots_;   // Indexes into firsts_, or kEmpty.
  size_t mask_ = 0;
  int64_t duplicated_keys_ = 0;
};

// Hashes rows [begin, end) of `column` into out[0, end - begin), or combines them into the
// hashes already there when !first.
void HashColumn(const Column& column, bool first, int64_t begin, int64_t end, uint64_t* out) {
  auto apply = [&](auto value_bits) {
    if (first) {
      for (int64_t row = begin; row < end; ++row) out[row - begin] = Mix64(value_bits(row));
    } else {
      for (int64_t row = begin; row < end; ++row) {
        out[row - begin] = Combine(out[row - begin], value_bits(row));
      }
    }
  };
  switch (column.type()) {
    case DataType::kBool: {
      const uint8_t* values = column.bool_values().data();
      apply([values](int64_t row) { return uint64_t{values[row]}; });
      break;
    }
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const int64_t* values = column.int64_values().data();
      apply([values](int64_t row) { return static_cast<uint64_t>(values[row]); });
      break;
    }
    case DataType::kFloat64: {
      const double* values = column.float64_values().data();
      apply([values](int64_t row) { return FloatKeyBits(values[row]); });
      break;
    }
    case DataType::kDate: {
      const int32_t* values = column.date_values().data();
      apply([values](int64_t row) { return static_cast<uint64_t>(int64_t{values[row]}); });
      break;
    }
    case DataType::kString: {
      const int64_t* offsets = column.string_offsets().data();
      const char* bytes = column.string_bytes().data();
      const absl::Hash<absl::string_view> hasher;
      apply([&](int64_t row) {
        return static_cast<uint64_t>(hasher(absl::string_view(
            bytes + offsets[row], static_cast<size_t>(offsets[row + 1] - offsets[row]))));
      });
      break;
    }
  }
}

// Finding repeats needs a set of all distinct keys. One set over 10M distinct keys is bound by
// cache misses, so when a sample of the first rows shows many distinct keys, the rows are
// radix-partitioned by the top bits of their key hash (stably) and each partition is searched
// with a small cache-resident set: equal keys have equal hashes and so land in the same
// partition, in row order, and "this key appeared in an earlier row" stays exact. This is the
// partitioned hashing of Manegold, Boncz and Kersten, "Optimizing main-memory join on modern
// hardware" (IEEE TKDE 2002). With few distinct keys one set stays small and the rows are
// read in order, which beats partitioning.
void EvaluateUnique(const RuleSpec& spec, const BoundRule& bound, const Table& table,
                    RuleResult* result) {
  constexpr int64_t kBlockRows = 4096;
  constexpr int64_t kSampleRows = 65536;
  constexpr int64_t kRowsPerPartition = 4096;
  constexpr int kMaxPartitionBits = 10;
  const int64_t rows = table.num_rows();
  RowKeys keys;
  bool any_nulls = false;
  for (const int index : bound.columns) {
    keys.columns.push_back(&table.column(index));
    any_nulls = any_nulls || table.column(index).null_count() > 0;
  }
  // Calls fn(hash, row) for the rows in [begin, end) without a null key column (SQL UNIQUE: a
  // key with a null equals nothing), hashing a block of rows at a time column by column.
  std::vector<uint64_t> block(kBlockRows);
  const auto for_each_key = [&](int64_t begin, int64_t end, auto fn) {
    for (int64_t start = begin; start < end; start += kBlockRows) {
      const int64_t stop = std::min(end, start + kBlockRows);
      for (size_t i = 0; i < keys.columns.size(); ++i) {
        HashColumn(*keys.columns[i], i == 0, start, stop, block.data());
      }
      for (int64_t row = start; row < stop; ++row) {
        if (any_nulls) {
          bool has_null = false;
          for (const Column* column : keys.columns) has_null = has_null || column->IsNull(row);
          if (has_null) continue;
        }
        fn(block[static_cast<size_t>(row - start)], row);
      }
    }
  };

  int64_t failing = 0;
  // (repeated row, its first occurrence) for the earliest kMaxSampleRows repeated rows.
  std::vector<std::pair<int64_t, int64_t>> samples;
  int64_t duplicated_keys = 0;
  const int64_t sample_end = std::min(rows, kSampleRows);
  bool partition = false;
  {
    RepeatFinder finder(&keys);
    finder.Reset(static_cast<size_t>(sample_end));
    const auto offer = [&](uint64_t hash, int64_t row) {
      const int64_t first = finder.Offer(hash, row);
      if (first < 0) [[likely]]
        return;
      if (++failing <= kMaxSampleRows) samples.emplace_back(row, first);
    };
    for_each_key(0, sample_end, offer);
    const bool few_keys = static_cast<int64_t>(finder.distinct()) * 4 <= sample_end;
    // Partition entries hold 32-bit row numbers; larger tables take the one-set path.
    if (sample_end == rows || few_keys || rows > std::numeric_limits<uint32_t>::max()) {
      for_each_key(sample_end, rows, offer);
      duplicated_keys = finder.duplicated_keys();
    } else {
      partition = true;
      failing = 0;
      samples.clear();
    }
  }
  if (partition) {
    int bits = 0;
    while (bits < kMaxPartitionBits && (rows >> bits) > kRowsPerPartition) ++bits;
    const int shift = 64 - bits;
    const auto partition_of = [bits, shift](uint64_t hash) {
      return bits == 0 ? size_t{0} : static_cast<size_t>(hash >> shift);
    };
    const size_t partitions = size_t{1} << bits;
    std::vector<int64_t> starts(partitions + 1, 0);
    for_each_key(0, rows, [&](uint64_t hash, int64_t) { ++starts[partition_of(hash) + 1]; });
    for (size_t p = 0; p < partitions; ++p) starts[p + 1] += starts[p];
    // Eight bytes per row: the top bits of a hash chose its partition, so the low 32 bits are
    // enough to tell keys apart there before values are compared. Not value-initialized:
    // every entry is written by the scatter below.
    struct PartitionEntry {
      uint32_t hash;
      uint32_t row;
    };
    std::unique_ptr<PartitionEntry[]> entries(
        new PartitionEntry[static_cast<size_t>(starts[partitions])]);
    {
      std::vector<int64_t> next(starts.begin(), starts.end() - 1);
      for_each_key(0, rows, [&](uint64_t hash, int64_t row) {
        entries[static_cast<size_t>(next[partition_of(hash)]++)] = {static_cast<uint32_t>(hash),
                                                                    static_cast<uint32_t>(row)};
      });
    }
    RepeatFinder finder(&keys);
    for (size_t p = 0; p < partitions; ++p) {
      const int64_t size = starts[p + 1] - starts[p];
      if (size < 2) continue;
      finder.Reset(static_cast<size_t>(size));
      int kept = 0;
      for (int64_t i = starts[p]; i < starts[p + 1]; ++i) {
        const int64_t first = finder.Offer(entries[i].hash, entries[i].row);
        if (first < 0) [[likely]]
          continue;
        ++failing;
        // Rows ascend within a partition, so its first repeats are its earliest.
        if (kept < kMaxSampleRows) {
          samples.emplace_back(entries[i].row, first);
          ++kept;
        }
      }
      if (samples.size() > static_cast<size_t>(kMaxSampleRows)) {
        std::sort(samples.begin(), samples.end());
        samples.resize(kMaxSampleRows);
      }
    }
    duplicated_keys = finder.duplicated_keys();
  }
  std::sort(samples.begin(), samples.end());
  FailureLog log;
  log.SetSummary(failing, samples);
  const std::string tolerance = FinishRowLevel(spec, table, log, bound.columns, result);
  const bool single = spec.columns.size() == 1;
  const std::string key =
      single ? spec.columns[0] : absl::StrCat("(", ColumnList(spec.columns), ")");
  if (log.count() == 0) {
    result->message = absl::StrCat("no duplicate ", key, " in ", Plural(rows, "row", "rows"));
    return;
  }
  const std::string example =
      single ? MessageValue(*keys.columns[0], samples[0].second)
             : KeyText(table, bound.columns, samples[0].second, /*for_message=*/true);
  result->message =
      absl::StrCat(Plural(duplicated_keys, single ? "value" : "key", single ? "values" : "keys"),
                   " of ", key, duplicated_keys == 1 ? " occurs" : " occur", " more than once (",
                   Plural(log.count(), "repeated row", "repeated rows"), "), e.g. ", example,
                   " at rows ", samples[0].second + 1, " and ", samples[0].first + 1, tolerance);
}

std::string BoundText(const json& bound) {
  return bound.is_string() ? CleanText(bound.get<std::string>(), 200) : QuoteJson(bound);
}

void EvaluateInRange(const RuleSpec& spec, const BoundRule& bound, const Table& table,
                     RuleResult* result) {
  const Column& column = table.column(bound.columns[0]);
  FailureLog log;
  const IntegerRange& ints = bound.int_range;
  switch (column.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const int64_t* values = column.int64_values().data();
      ScanValid(
          column,
          [&](int64_t row) { return ints.empty || values[row] < ints.lo || values[row] > ints.hi; },
          &log);
      break;
    }
    case DataType::kDate: {
      const int32_t* values = column.date_values().data();
      ScanValid(
          column,
          [&](int64_t row) { return ints.empty || values[row] < ints.lo || values[row] > ints.hi; },
          &log);
      break;
    }
    case DataType::kFloat64: {
      const double* values = column.float64_values().data();
      const double lo = bound.float_range.lo;
      const double hi = bound.float_range.hi;
      // Written as a negated "inside" test so NaN (all comparisons false) is outside.
      ScanValid(
          column, [&](int64_t row) { return !(values[row] >= lo && values[row] <= hi); }, &log);
      break;
    }
    default:
      break;  // BindRange admits no other type.
  }
  std::string range;
  if (spec.min && spec.max) {
    range = absl::StrCat("[", BoundText(*spec.min), ", ", BoundText(*spec.max), "]");
  }
  const std::string tolerance = FinishRowLevel(spec, table, log, bound.columns, result);
  const std::string& name = spec.columns[0];
  if (log.count() == 0) {
    const std::string all = absl::StrCat("all non-null values of ", name, " are ");
    result->message = spec.min && spec.max ? absl::StrCat(all, "in ", range)
                      : spec.min           ? absl::StrCat(all, ">= ", BoundText(*spec.min))
                                           : absl::StrCat(all, "<= ", BoundText(*spec.max));
    return;
  }
  const std::string where = spec.min && spec.max ? absl::StrCat("outside ", range)
                            : spec.min           ? absl::StrCat("below ", BoundText(*spec.min))
                                                 : absl::StrCat("above ", BoundText(*spec.max));
  result->message = absl::StrCat(
      log.count(), " of ", Plural(table.num_rows(), "row", "rows"), " have ", name, " ", where,
      ValuesText(
          log, [&](int64_t row) { return MessageValue(column, row); }, ", "),
      tolerance);
}

std::string SetText(const std::vector<json>& values) {
  constexpr size_t kShown = 10;
  std::string out = "{";
  for (size_t i = 0; i < values.size() && i < kShown; ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ", ", QuoteJson(values[i]));
  }
  if (values.size() > kShown) absl::StrAppend(&out, ", ... (", values.size(), " values)");
  return out + "}";
}

void EvaluateInSet(const RuleSpec& spec, const BoundRule& bound, const Table& table,
                   RuleResult* result) {
  const Column& column = table.column(bound.columns[0]);
  FailureLog log;
  switch (column.type()) {
    case DataType::kInt64:
    case DataType::kTimestamp: {
      const int64_t* values = column.int64_values().data();
      ScanValid(
          column, [&](int64_t row) { return !bound.int_set.contains(values[row]); }, &log);
      break;
    }
    case DataType::kDate: {
      const int32_t* values = column.date_values().data();
      ScanValid(
          column, [&](int64_t row) { return !bound.int_set.contains(values[row]); }, &log);
      break;
    }
    case DataType::kFloat64: {
      const double* values = column.float64_values().data();
      ScanValid(
          column,
          [&](int64_t row) {
            const double value = values[row];
            return !bound.float_set.contains(value == 0.0 ? 0.0 : value);
          },
          &log);
      break;
    }
    case DataType::kBool: {
      const uint8_t* values = column.bool_values().data();
      ScanValid(
          column,
          [&](int64_t row) { return !(values[row] ? bound.allow_true : bound.allow_false); }, &log);
      break;
    }
    case DataType::kString:
      ScanValid(
          column,
          [&](int64_t row) { return !bound.string_set.contains(Absl(column.StringAt(row))); },
          &log);
      break;
  }
  const std::string tolerance = FinishRowLevel(spec, table, log, bound.columns, result);
  const std::string& name = spec.columns[0];
  if (log.count() == 0) {
    result->message =
        absl::StrCat("all non-null values of ", name, " are in ", SetText(spec.values));
    return;
  }
  result->message =
      absl::StrCat(log.count(), " of ", Plural(table.num_rows(), "row", "rows"), " have ", name,
                   " not in ", SetText(spec.values),
                   ValuesText(
                       log, [&](int64_t row) { return MessageValue(column, row); }, ", "),
                   tolerance);
}

void EvaluateRegex(const RuleSpec& spec, const BoundRule& bound, const Table& table,
                   RuleResult* result) {
  const Column& column = table.column(bound.columns[0]);
  FailureLog log;
  const RE2& regex = *bound.regex;
  const int64_t* offsets = column.string_offsets().data();
  const char* bytes = column.string_bytes().data();
  ScanValid(
      column,
      [&](int64_t row) {
        const re2::StringPiece text(bytes + offsets[row],
                                    static_cast<size_t>(offsets[row + 1] - offsets[row]));
        return !RE2::FullMatch(text, regex);
      },
      &log);
  const std::string tolerance = FinishRowLevel(spec, table, log, bound.columns, result);
  const std::string& name = spec.columns[0];
  const std::string pattern = CleanText(spec.pattern, 200);
  if (log.count() == 0) {
    result->message = absl::StrCat("all non-null values of ", name, " match ", pattern);
    return;
  }
  result->message =
      absl::StrCat(log.count(), " of ", Plural(table.num_rows(), "row", "rows"), " have ", name,
                   " not matching ", pattern,
                   ValuesText(
                       log, [&](int64_t row) { return MessageValue(column, row); }, ", "),
                   tolerance);
}

void EvaluateRowCount(const RuleSpec& spec, const Table& table, RuleResult* result) {
  const int64_t rows = table.num_rows();
  result->passed =
      (!spec.min_rows || rows >= *spec.min_rows) && (!spec.max_rows || rows <= *spec.max_rows);
  const std::string expected =
      spec.min_rows && spec.max_rows
          ? absl::StrCat("between ", *spec.min_rows, " and ", *spec.max_rows)
      : spec.min_rows ? absl::StrCat("at least ", *spec.min_rows)
                      : absl::StrCat("at most ", *spec.max_rows);
  result->message = absl::StrCat(Plural(rows, "row", "rows"), ", expected ", expected);
}

void EvaluateSchema(const RuleSpec& spec, const Table& table, RuleResult* result) {
  const Schema& schema = table.schema();
  std::vector<std::string> problems;
  for (const SchemaColumn& expected : spec.schema_columns) {
    const auto index = schema.FindField(expected.name);
    if (!index) {
      problems.push_back(
          absl::StrCat("missing column ", QuoteText(expected.name),
                       expected.type ? absl::StrCat(" (", DescribeType(*expected.type), ")") : ""));
    } else if (expected.type && schema.field(*index).type != *expected.type) {
      problems.push_back(absl::StrCat("column ", QuoteText(expected.name), " is ",
                                      DescribeType(schema.field(*index).type), ", expected ",
                                      DescribeType(*expected.type)));
    }
  }
  if (spec.schema_mode == SchemaMode::kEquals) {
    for (const table::Field& field : schema.fields()) {
      const bool listed =
          std::any_of(spec.schema_columns.begin(), spec.schema_columns.end(),
                      [&](const SchemaColumn& expected) { return expected.name == field.name; });
      if (!listed) problems.push_back(absl::StrCat("unexpected column ", QuoteText(field.name)));
    }
    if (spec.ordered && problems.empty()) {
      for (size_t i = 0; i < spec.schema_columns.size(); ++i) {
        if (schema.field(static_cast<int>(i)).name != spec.schema_columns[i].name) {
          problems.push_back(absl::StrCat("column ", i + 1, " is ",
                                          QuoteText(schema.field(static_cast<int>(i)).name),
                                          ", expected ", QuoteText(spec.schema_columns[i].name),
                                          " (columns in order: ", schema.NameList(), ")"));
          break;
        }
      }
    }
  }
  result->passed = problems.empty();
  if (problems.empty()) {
    result->message =
        spec.schema_mode == SchemaMode::kEquals
            ? absl::StrCat("the columns are exactly the ",
                           Plural(static_cast<int64_t>(spec.schema_columns.size()),
                                  "expected column", "expected columns"),
                           spec.ordered ? ", in order" : "")
            : absl::StrCat("has the ", Plural(static_cast<int64_t>(spec.schema_columns.size()),
                                              "expected column", "expected columns"));
  } else {
    result->message = absl::StrJoin(problems, "; ");
  }
}

absl::Status EvaluateExpression(const RuleSpec& spec, const BoundRule& bound, const Table& table,
                                const expr::EvalOptions& options, RuleResult* result) {
  auto evaluated = bound.expression->Evaluate(table, options);
  if (!evaluated.ok()) return evaluated.status();
  const Column& values = *evaluated;
  if (values.type() != DataType::kBool || values.size() != table.num_rows()) {
    return absl::InternalError("expression evaluation returned a column of the wrong shape");
  }
  FailureLog log;
  int64_t nulls = 0;
  const uint8_t* truth = values.bool_values().data();
  const int64_t rows = values.size();
  for (int64_t row = 0; row < rows; ++row) {
    if (values.IsNull(row)) [[unlikely]] {
      ++nulls;
      if (!spec.allow_null) log.Add(row);
    } else if (truth[row] == 0) [[unlikely]] {
      log.Add(row);
    }
  }
  std::vector<int> referenced;
  for (const std::string& name : bound.expression->referenced_columns()) {
    if (auto index = table.schema().FindField(name)) referenced.push_back(*index);
  }
  const std::string tolerance = FinishRowLevel(spec, table, log, referenced, result);
  const std::string expression = CleanText(spec.expression, 200);
  if (log.count() == 0) {
    result->message = absl::StrCat("true for every row",
                                   nulls > 0 ? absl::StrCat(" (", nulls, " null, allowed)") : "");
    return absl::OkStatus();
  }
  const int64_t failing_nulls = spec.allow_null ? 0 : nulls;
  result->message = absl::StrCat(
      log.count(), " of ", Plural(table.num_rows(), "row", "rows"), " are not true",
      failing_nulls > 0 ? absl::StrCat(" (", failing_nulls, " null)") : "",
      referenced.empty()
          ? RowsText(log)
          : ValuesText(
                log, [&](int64_t row) { return KeyText(table, referenced, row, true); }, "; "),
      tolerance);
  return absl::OkStatus();
}

}  // namespace

std::string_view RuleTypeName(RuleType type) {
  for (const auto& [candidate, name] : kRuleTypeNames) {
    if (candidate == type) return name;
  }
  return "unknown";
}

std::optional<RuleType> RuleTypeFromName(std::string_view name) {
  for (const auto& [type, candidate] : kRuleTypeNames) {
    if (candidate == name) return type;
  }
  return std::nullopt;
}

std::string_view SeverityName(Severity severity) {
  return severity == Severity::kWarning ? "warning" : "error";
}

std::optional<Severity> SeverityFromName(std::string_view name) {
  if (name == "error") return Severity::kError;
  if (name == "warning") return Severity::kWarning;
  return std::nullopt;
}

absl::StatusOr<std::vector<RuleSpec>> ParseRules(const nlohmann::json& rules) {
  if (!rules.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("quality rules must be a list of rule objects, not ", rules.type_name()));
  }
  std::vector<RuleSpec> specs;
  specs.reserve(rules.size());
  for (size_t index = 0; index < rules.size(); ++index) {
    RuleSpec spec;
    bool name_given = false;
    const absl::Status status = ParseRule(rules[index], &spec, &name_given);
    if (!status.ok()) {
      std::string label_name = name_given ? spec.name : "";
      if (!name_given && rules[index].is_object()) {
        // Without a name, the type still helps to find the rule in a long list.
        if (auto type = rules[index].find("type");
            type != rules[index].end() && type->is_string()) {
          return absl::InvalidArgumentError(absl::StrCat("rule ", index + 1, " (",
                                                         CleanText(type->get<std::string>(), 40),
                                                         "): ", status.message()));
        }
      }
      return SpecError(index, label_name, std::string(status.message()));
    }
    specs.push_back(std::move(spec));
  }
  ASSAY_RETURN_IF_ERROR(ValidateSpecs(specs));
  return specs;
}

nlohmann::json RulesToJson(const std::vector<RuleSpec>& specs) {
  json out = json::array();
  for (const RuleSpec& spec : specs) {
    json rule = json::object();
    rule["type"] = std::string(RuleTypeName(spec.type));
    if (spec.name != GeneratedName(spec)) rule["name"] = spec.name;
    if (spec.severity != Severity::kError)
      rule["severity"] = std::string(SeverityName(spec.severity));
    if (!spec.description.empty()) rule["description"] = spec.description;
    if (UsesColumnList(spec.type)) rule["columns"] = spec.columns;
    if (UsesOneColumn(spec.type) && !spec.columns.empty()) rule["column"] = spec.columns[0];
    if (spec.min) rule["min"] = *spec.min;
    if (spec.max) rule["max"] = *spec.max;
    if (spec.min_rows) rule["min"] = *spec.min_rows;
    if (spec.max_rows) rule["max"] = *spec.max_rows;
    if (spec.type == RuleType::kInSet) rule["values"] = spec.values;
    if (spec.type == RuleType::kRegex) rule["pattern"] = spec.pattern;
    if (spec.type == RuleType::kSchema) {
      rule["mode"] = spec.schema_mode == SchemaMode::kEquals ? "equals" : "contains";
      if (spec.ordered) rule["ordered"] = true;
      json columns = json::array();
      for (const SchemaColumn& column : spec.schema_columns) {
        json entry = {{"name", column.name}};
        if (column.type) entry["type"] = std::string(table::DataTypeName(*column.type));
        columns.push_back(std::move(entry));
      }
      rule["columns"] = std::move(columns);
    }
    if (spec.type == RuleType::kExpression) {
      rule["expression"] = spec.expression;
      if (spec.allow_null) rule["allow_null"] = true;
    }
    if (spec.max_failing_fraction) rule["max_failing_fraction"] = *spec.max_failing_fraction;
    out.push_back(std::move(rule));
  }
  return out;
}

absl::Status BindRules(const std::vector<RuleSpec>& specs, const table::Schema& schema) {
  ASSAY_RETURN_IF_ERROR(ValidateSpecs(specs));
  for (size_t index = 0; index < specs.size(); ++index) {
    const auto bound = BindRule(specs[index], schema);
    if (!bound.ok())
      return SpecError(index, specs[index].name, std::string(bound.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<QualityReport> EvaluateRules(const std::vector<RuleSpec>& specs,
                                            const table::Table& table,
                                            const expr::EvalOptions& options) {
  ASSAY_RETURN_IF_ERROR(ValidateSpecs(specs));
  QualityReport report;
  report.num_rows = table.num_rows();
  report.results.reserve(specs.size());
  for (const RuleSpec& spec : specs) {
    RuleResult result;
    result.name = CleanText(spec.name, std::string::npos);
    result.type = spec.type;
    result.severity = spec.severity;
    auto bound = BindRule(spec, table.schema());
    if (!bound.ok()) {
      result.evaluated = false;
      result.passed = false;
      result.message = OneLine(absl::StrCat("not evaluated: ", bound.status().message()));
      report.results.push_back(std::move(result));
      continue;
    }
    switch (spec.type) {
      case RuleType::kNotNull:
        EvaluateNotNull(spec, *bound, table, &result);
        break;
      case RuleType::kUnique:
        EvaluateUnique(spec, *bound, table, &result);
        break;
      case RuleType::kInRange:
        EvaluateInRange(spec, *bound, table, &result);
        break;
      case RuleType::kInSet:
        EvaluateInSet(spec, *bound, table, &result);
        break;
      case RuleType::kRegex:
        EvaluateRegex(spec, *bound, table, &result);
        break;
      case RuleType::kRowCount:
        EvaluateRowCount(spec, table, &result);
        break;
      case RuleType::kSchema:
        EvaluateSchema(spec, table, &result);
        break;
      case RuleType::kExpression:
        // Compiled against this very schema, evaluation should not fail; if it does, the
        // report still gets a result rather than losing every other rule's.
        if (absl::Status status = EvaluateExpression(spec, *bound, table, options, &result);
            !status.ok()) {
          result = RuleResult{
              result.name,         spec.type, spec.severity,
              /*passed=*/false,
              /*evaluated=*/false, 0,         absl::StrCat("not evaluated: ", status.message())};
        }
        break;
    }
    // Column names and values may carry any bytes; the report is stored as JSON text.
    result.message = OneLine(result.message);
    report.results.push_back(std::move(result));
  }
  return report;
}

}  // namespace assay::quality
