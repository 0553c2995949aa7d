#include "expr/binder.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"

namespace assay::expr {
namespace {

using table::DataType;

constexpr int kVariadic = -1;

struct FunctionInfo {
  const char* name;  // canonical spelling, used in messages
  Function id;
  int min_args;
  int max_args;  // kVariadic for no limit
};

constexpr FunctionInfo kFunctions[] = {
    {"if", Function::kIf, 3, 3},
    {"isNull", Function::kIsNull, 1, 1},
    {"isNotNull", Function::kIsNotNull, 1, 1},
    {"coalesce", Function::kCoalesce, 1, kVariadic},
    {"abs", Function::kAbs, 1, 1},
    {"round", Function::kRound, 1, 2},
    {"floor", Function::kFloor, 1, 1},
    {"ceil", Function::kCeil, 1, 1},
    {"log", Function::kLog, 1, 2},
    {"exp", Function::kExp, 1, 1},
    {"sqrt", Function::kSqrt, 1, 1},
    {"pow", Function::kPow, 2, 2},
    {"min", Function::kMin, 2, kVariadic},
    {"max", Function::kMax, 2, kVariadic},
    {"length", Function::kLength, 1, 1},
    {"lower", Function::kLower, 1, 1},
    {"upper", Function::kUpper, 1, 1},
    {"trim", Function::kTrim, 1, 1},
    {"contains", Function::kContains, 2, 2},
    {"startsWith", Function::kStartsWith, 2, 2},
    {"endsWith", Function::kEndsWith, 2, 2},
    {"substring", Function::kSubstring, 2, 3},
    {"replace", Function::kReplace, 3, 3},
    {"concat", Function::kConcat, 1, kVariadic},
    {"toString", Function::kToString, 1, 1},
    {"toNumber", Function::kToNumber, 1, 1},
    {"year", Function::kYear, 1, 1},
    {"month", Function::kMonth, 1, 1},
    {"day", Function::kDay, 1, 1},
    {"weekday", Function::kWeekday, 1, 1},
    {"dateDiff", Function::kDateDiff, 3, 3},
    {"dateAdd", Function::kDateAdd, 3, 3},
    {"now", Function::kNow, 0, 0},
    {"date", Function::kDate, 1, 1},
    {"timestamp", Function::kTimestamp, 1, 1},
};

// Function names are case-insensitive: spreadsheet users write IF and ISNULL.
const FunctionInfo* FindFunction(std::string_view name) {
  static const auto* const kByName = [] {
    auto* map = new absl::flat_hash_map<std::string, const FunctionInfo*>();
    for (const FunctionInfo& info : kFunctions) (*map)[absl::AsciiStrToLower(info.name)] = &info;
    return map;
  }();
  const auto it = kByName->find(absl::AsciiStrToLower(Absl(name)));
  return it == kByName->end() ? nullptr : it->second;
}

// Case-insensitive Levenshtein distance, for "did you mean" hints.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> previous(b.size() + 1), current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = absl::ascii_tolower(static_cast<unsigned char>(a[i - 1])) ==
                        absl::ascii_tolower(static_cast<unsigned char>(b[j - 1]));
      current[j] =
          std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

// The closest candidate within a third of the name's length (at least 1 edit), if any.
std::optional<std::string> Closest(std::string_view name,
                                   const std::vector<std::string>& candidates) {
  // Long names make the quadratic distance expensive and a suggestion useless.
  if (name.size() > 64) return std::nullopt;
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(1, name.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    if (candidate.size() > 64) continue;
    // A name that extends a real one ("npi_id" for "npi") is a near miss too.
    const std::string lower_name = absl::AsciiStrToLower(Absl(name));
    const std::string lower_candidate = absl::AsciiStrToLower(candidate);
    const bool prefix = std::min(name.size(), candidate.size()) >= 3 &&
                        (absl::StartsWith(lower_name, lower_candidate) ||
                         absl::StartsWith(lower_candidate, lower_name));
    const size_t distance = prefix ? 1 : EditDistance(name, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string TypeName(DataType type) { return std::string(table::DataTypeName(type)); }

using table::IsNumeric;
using table::IsTemporal;

// The byte offset where a subtree's text starts, to point at a whole argument.
size_t StartOffset(const SyntaxNode& node) {
  if (node.kind == SyntaxKind::kBinary) return StartOffset(*node.children[0]);
  return node.offset;
}

Array ScalarInt(int64_t value) {
  Array array;
  array.ints = {value};
  return array;
}
Array ScalarFloat(double value) {
  Array array;
  array.floats = {value};
  return array;
}
Array ScalarBool(bool value) {
  Array array;
  array.bools = {static_cast<uint8_t>(value ? 1 : 0)};
  return array;
}
Array ScalarDate(int32_t days) {
  Array array;
  array.dates = {days};
  return array;
}
Array ScalarString(std::string_view value) {
  Array array;
  array.offsets = {0, static_cast<int64_t>(value.size())};
  array.bytes = std::string(value);
  return array;
}
Array ScalarNull(DataType type) {
  Array array;
  array.validity = {0};
  switch (type) {
    case DataType::kBool:
      array.bools = {0};
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      array.ints = {0};
      break;
    case DataType::kFloat64:
      array.floats = {0.0};
      break;
    case DataType::kDate:
      array.dates = {0};
      break;
    case DataType::kString:
      array.offsets = {0, 0};
      break;
  }
  return array;
}

// A bound subtree. `untyped_null` marks the literal null before context gives it a type.
struct Bound {
  std::shared_ptr<const ExpressionNode> node;
  bool untyped_null = false;
  DataType type() const { return node->type; }
};

Bound Literal(DataType type, Array array) {
  auto node = std::make_shared<ExpressionNode>();
  node->kind = NodeKind::kLiteral;
  node->type = type;
  node->literal = std::make_shared<const Array>(std::move(array));
  return Bound{std::move(node)};
}

Bound MakeNode(NodeKind kind, DataType type, std::vector<Bound> args, Operator op = Operator::kAdd,
               Function function = Function::kIf) {
  auto node = std::make_shared<ExpressionNode>();
  node->kind = kind;
  node->type = type;
  node->op = op;
  node->function = function;
  for (Bound& arg : args) node->args.push_back(std::move(arg.node));
  return Bound{std::move(node)};
}

bool CanConvert(const Bound& from, DataType to) {
  if (from.untyped_null || from.type() == to) return true;
  return (from.type() == DataType::kInt64 && to == DataType::kFloat64) ||
         (from.type() == DataType::kDate && to == DataType::kTimestamp);
}

// Gives an untyped null its type, or inserts the implicit widening. Requires CanConvert.
Bound Convert(Bound from, DataType to) {
  if (from.untyped_null) return Literal(to, ScalarNull(to));
  if (from.type() == to) return from;
  return MakeNode(NodeKind::kCast, to, {std::move(from)});
}

// The common type of values that meet in one result (if branches, coalesce, min, max,
// comparison operands): equal types, int64 with float64 -> float64, date with timestamp ->
// timestamp. An untyped null takes the others' type. Returns nullopt and the index of the
// first value that does not fit. With only nulls the type is `fallback`.
std::optional<DataType> CommonType(const std::vector<Bound>& values, DataType fallback,
                                   size_t* bad_index) {
  std::optional<DataType> common;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].untyped_null) continue;
    const DataType type = values[i].type();
    if (!common || *common == type) {
      common = type;
    } else if (IsNumeric(*common) && IsNumeric(type)) {
      common = DataType::kFloat64;
    } else if (IsTemporal(*common) && IsTemporal(type)) {
      common = DataType::kTimestamp;
    } else {
      *bad_index = i;
      return std::nullopt;
    }
  }
  return common ? *common : fallback;
}

std::string BoundTypeName(const Bound& bound) {
  return bound.untyped_null ? "null" : TypeName(bound.type());
}

std::string ConversionHint(DataType want_or_have, DataType other) {
  if (other == DataType::kString || want_or_have == DataType::kString) {
    if (IsNumeric(want_or_have) || IsNumeric(other)) {
      return "; convert with toNumber() or toString()";
    }
    if (IsTemporal(want_or_have) || IsTemporal(other)) {
      return "; convert with date(), timestamp() or toString()";
    }
    return "; convert with toString()";
  }
  return "";
}

class Binder {
 public:
  Binder(std::string_view source, const table::Schema& schema,
         const std::vector<std::string>& columns)
      : source_(source), schema_(schema), columns_(columns) {}

  absl::StatusOr<Bound> Bind(const SyntaxNode& node) {
    switch (node.kind) {
      case SyntaxKind::kInteger:
        return Literal(DataType::kInt64, ScalarInt(node.int_value));
      case SyntaxKind::kFloat:
        return Literal(DataType::kFloat64, ScalarFloat(node.float_value));
      case SyntaxKind::kString:
        return Literal(DataType::kString, ScalarString(node.text));
      case SyntaxKind::kBool:
        return Literal(DataType::kBool, ScalarBool(node.bool_value));
      case SyntaxKind::kNull: {
        Bound bound = Literal(DataType::kString, ScalarNull(DataType::kString));
        bound.untyped_null = true;
        return bound;
      }
      case SyntaxKind::kColumn:
        return BindColumn(node);
      case SyntaxKind::kUnary:
        return BindUnary(node);
      case SyntaxKind::kBinary:
        return BindBinary(node);
      case SyntaxKind::kCall:
        return BindCall(node);
    }
    return Error(node.offset, "unsupported syntax");
  }

 private:
  absl::Status Error(size_t offset, std::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(PositionPrefix(source_, offset), Absl(message)));
  }

  absl::StatusOr<Bound> BindColumn(const SyntaxNode& node) {
    const std::optional<int> field = schema_.FindField(node.text);
    if (!field) {
      std::string message =
          absl::StrCat("unknown column \"", node.text, "\" (columns: ", schema_.NameList(), ")");
      std::vector<std::string> names;
      for (const table::Field& f : schema_.fields()) names.push_back(f.name);
      if (const auto suggestion = Closest(node.text, names)) {
        absl::StrAppend(&message, "; did you mean `", *suggestion, "`?");
      } else if (const FunctionInfo* function = FindFunction(node.text)) {
        absl::StrAppend(&message, "; to call the function write ", function->name, "(...)");
      }
      return Error(node.offset, message);
    }
    const auto slot = std::lower_bound(columns_.begin(), columns_.end(), node.text);
    auto bound = std::make_shared<ExpressionNode>();
    bound->kind = NodeKind::kColumn;
    bound->type = schema_.field(*field).type;
    bound->column_slot = static_cast<int>(slot - columns_.begin());
    return Bound{std::move(bound)};
  }

  absl::StatusOr<Bound> BindUnary(const SyntaxNode& node) {
    auto operand = Bind(*node.children[0]);
    if (!operand.ok()) return operand.status();
    if (node.op == Operator::kNot) {
      if (!CanConvert(*operand, DataType::kBool)) {
        return Error(node.offset,
                     absl::StrCat("cannot apply \"", node.text, "\" to ", BoundTypeName(*operand),
                                  "; it needs a true/false condition, e.g. not (x > 0)"));
      }
      return MakeNode(NodeKind::kUnary, DataType::kBool,
                      {Convert(std::move(*operand), DataType::kBool)}, Operator::kNot);
    }
    const DataType type = operand->untyped_null ? DataType::kInt64 : operand->type();
    if (!IsNumeric(type)) {
      return Error(node.offset, absl::StrCat("cannot apply unary \"", node.text, "\" to ",
                                             TypeName(type), "; it needs a number"));
    }
    if (node.op == Operator::kAdd) return Convert(std::move(*operand), type);
    return MakeNode(NodeKind::kUnary, type, {Convert(std::move(*operand), type)},
                    Operator::kNegate);
  }

  absl::StatusOr<Bound> BindBinary(const SyntaxNode& node) {
    auto left = Bind(*node.children[0]);
    if (!left.ok()) return left.status();
    auto right = Bind(*node.children[1]);
    if (!right.ok()) return right.status();
    const auto mismatch = [&](std::string_view hint) {
      return Error(node.offset,
                   absl::StrCat("cannot apply \"", node.text, "\" to ", BoundTypeName(*left),
                                " and ", BoundTypeName(*right), Absl(hint)));
    };
    switch (node.op) {
      case Operator::kAnd:
      case Operator::kOr:
        if (!CanConvert(*left, DataType::kBool) || !CanConvert(*right, DataType::kBool)) {
          return mismatch("; both sides must be true/false conditions, e.g. x > 0");
        }
        return MakeNode(NodeKind::kBinary, DataType::kBool,
                        {Convert(std::move(*left), DataType::kBool),
                         Convert(std::move(*right), DataType::kBool)},
                        node.op);
      case Operator::kAdd:
      case Operator::kSub:
      case Operator::kMul:
      case Operator::kDiv:
      case Operator::kMod: {
        const bool any_string = (!left->untyped_null && left->type() == DataType::kString) ||
                                (!right->untyped_null && right->type() == DataType::kString);
        if (node.op == Operator::kAdd && any_string && CanConvert(*left, DataType::kString) &&
            CanConvert(*right, DataType::kString)) {
          return MakeNode(NodeKind::kBinary, DataType::kString,
                          {Convert(std::move(*left), DataType::kString),
                           Convert(std::move(*right), DataType::kString)},
                          Operator::kAdd);
        }
        const bool left_ok = left->untyped_null || IsNumeric(left->type());
        const bool right_ok = right->untyped_null || IsNumeric(right->type());
        if (!left_ok || !right_ok) {
          const DataType bad = left_ok ? right->type() : left->type();
          if (node.op == Operator::kAdd && any_string) {
            return mismatch("; use concat() to join text with other values");
          }
          if (bad == DataType::kString) return mismatch("; convert the text with toNumber()");
          if (IsTemporal(bad)) return mismatch("; use dateAdd() or dateDiff() for dates");
          return mismatch("; arithmetic needs numbers");
        }
        DataType type = DataType::kInt64;
        if (node.op == Operator::kDiv ||
            (!left->untyped_null && left->type() == DataType::kFloat64) ||
            (!right->untyped_null && right->type() == DataType::kFloat64)) {
          type = DataType::kFloat64;
        }
        return MakeNode(NodeKind::kBinary, type,
                        {Convert(std::move(*left), type), Convert(std::move(*right), type)},
                        node.op);
      }
      case Operator::kEq:
      case Operator::kNe:
      case Operator::kLt:
      case Operator::kLe:
      case Operator::kGt:
      case Operator::kGe: {
        // A string literal next to a date or timestamp is read as one:
        // visit_date >= "2024-01-01".
        if (!right->untyped_null && IsTemporal(right->type()) &&
            node.children[0]->kind == SyntaxKind::kString) {
          ASSAY_RETURN_IF_ERROR(ParseTemporalLiteral(*node.children[0], &*left));
        }
        if (!left->untyped_null && IsTemporal(left->type()) &&
            node.children[1]->kind == SyntaxKind::kString) {
          ASSAY_RETURN_IF_ERROR(ParseTemporalLiteral(*node.children[1], &*right));
        }
        size_t bad = 0;
        const auto common = CommonType({*left, *right}, DataType::kBool, &bad);
        if (!common) {
          return Error(node.offset, absl::StrCat("cannot compare ", BoundTypeName(*left), " and ",
                                                 BoundTypeName(*right), " with \"", node.text, "\"",
                                                 ConversionHint(left->type(), right->type())));
        }
        return MakeNode(NodeKind::kBinary, DataType::kBool,
                        {Convert(std::move(*left), *common), Convert(std::move(*right), *common)},
                        node.op);
      }
      case Operator::kNot:
      case Operator::kNegate:
        break;
    }
    return Error(node.offset, "unsupported operator");
  }

  absl::Status ArgumentError(const FunctionInfo& info, const SyntaxNode& call, size_t index,
                             std::string_view expected, const Bound& got) const {
    std::string hint;
    if (!got.untyped_null) {
      if (got.type() == DataType::kString && expected.find("number") != std::string_view::npos) {
        hint = "; convert the text with toNumber()";
      } else if (got.type() == DataType::kString &&
                 expected.find("date") != std::string_view::npos) {
        hint = "; convert the text with date() or timestamp()";
      } else if (expected == "text") {
        hint = "; convert it with toString()";
      }
    }
    return Error(StartOffset(*call.children[index]),
                 absl::StrCat(info.name, "() argument ", index + 1, " must be ", Absl(expected),
                              ", got ", BoundTypeName(got), hint));
  }

  absl::Status ArgumentCountError(const FunctionInfo& info, const SyntaxNode& call) const {
    const auto got = call.children.size();
    std::string takes;
    if (info.max_args == 0) {
      takes = "no arguments";
    } else if (info.max_args == kVariadic) {
      takes =
          absl::StrCat("at least ", info.min_args, info.min_args == 1 ? " argument" : " arguments");
    } else if (info.min_args == info.max_args) {
      takes = absl::StrCat(info.min_args, info.min_args == 1 ? " argument" : " arguments");
    } else if (info.max_args == info.min_args + 1) {
      takes = absl::StrCat(info.min_args, " or ", info.max_args, " arguments");
    } else {
      takes = absl::StrCat(info.min_args, " to ", info.max_args, " arguments");
    }
    return Error(call.offset, absl::StrCat(info.name, "() takes ", takes, ", got ", got));
  }

  // The unit argument of dateDiff/dateAdd: a string literal such as "days".
  absl::StatusOr<TimeUnit> BindUnit(const FunctionInfo& info, const SyntaxNode& call,
                                    size_t index) const {
    const SyntaxNode& arg = *call.children[index];
    static constexpr std::pair<const char*, TimeUnit> kUnits[] = {
        {"second", TimeUnit::kSeconds}, {"minute", TimeUnit::kMinutes},
        {"hour", TimeUnit::kHours},     {"day", TimeUnit::kDays},
        {"week", TimeUnit::kWeeks},     {"month", TimeUnit::kMonths},
        {"year", TimeUnit::kYears},
    };
    if (arg.kind == SyntaxKind::kString) {
      std::string unit = absl::AsciiStrToLower(arg.text);
      if (!unit.empty() && unit.back() == 's') unit.pop_back();
      for (const auto& [name, value] : kUnits) {
        if (unit == name) return value;
      }
    }
    return Error(StartOffset(arg),
                 absl::StrCat(info.name, "() argument ", index + 1,
                              " must be a unit in quotes: \"days\", \"weeks\", \"months\", "
                              "\"years\", \"hours\", \"minutes\" or \"seconds\""));
  }

  absl::StatusOr<Bound> BindCall(const SyntaxNode& node) {
    const FunctionInfo* info = FindFunction(node.text);
    if (info == nullptr) {
      std::vector<std::string> names = FunctionNames();
      std::string message = absl::StrCat("unknown function \"", node.text, "\"");
      if (const auto suggestion = Closest(node.text, names)) {
        absl::StrAppend(&message, "; did you mean ", *suggestion, "()?");
      } else {
        absl::StrAppend(&message, " (functions: ", absl::StrJoin(names, ", "), ")");
      }
      return Error(node.offset, message);
    }
    const int count = static_cast<int>(node.children.size());
    if (count < info->min_args || (info->max_args != kVariadic && count > info->max_args)) {
      return ArgumentCountError(*info, node);
    }
    // Units are literals, not values: bind them separately.
    const bool has_unit = info->id == Function::kDateDiff || info->id == Function::kDateAdd;
    std::vector<Bound> args;
    for (int i = 0; i < count; ++i) {
      if (has_unit && i == 2) break;
      auto arg = Bind(*node.children[i]);
      if (!arg.ok()) return arg.status();
      args.push_back(std::move(*arg));
    }
    return TypeCall(*info, node, std::move(args));
  }

  // Requires a number (an untyped null becomes `null_type`).
  absl::Status ExpectNumber(const FunctionInfo& info, const SyntaxNode& call,
                            std::vector<Bound>& args, size_t index, DataType null_type) const {
    Bound& arg = args[index];
    if (arg.untyped_null) {
      arg = Convert(std::move(arg), null_type);
      return absl::OkStatus();
    }
    if (!IsNumeric(arg.type())) {
      return ArgumentError(info, call, index, "a number (int64 or float64)", arg);
    }
    return absl::OkStatus();
  }

  absl::Status ExpectType(const FunctionInfo& info, const SyntaxNode& call,
                          std::vector<Bound>& args, size_t index, DataType type,
                          std::string_view description) const {
    Bound& arg = args[index];
    if (!CanConvert(arg, type)) return ArgumentError(info, call, index, description, arg);
    arg = Convert(std::move(arg), type);
    return absl::OkStatus();
  }

  // Requires a date or timestamp; a string literal is parsed as one.
  absl::Status ExpectTemporal(const FunctionInfo& info, const SyntaxNode& call,
                              std::vector<Bound>& args, size_t index) const {
    Bound& arg = args[index];
    if (arg.untyped_null) {
      arg = Convert(std::move(arg), DataType::kDate);
      return absl::OkStatus();
    }
    if (arg.type() == DataType::kString && call.children[index]->kind == SyntaxKind::kString) {
      return ParseTemporalLiteral(*call.children[index], &arg);
    }
    if (!IsTemporal(arg.type())) {
      return ArgumentError(info, call, index, "a date or timestamp", arg);
    }
    return absl::OkStatus();
  }

  absl::Status ParseTemporalLiteral(const SyntaxNode& syntax, Bound* bound) const {
    if (const auto days = common::ParseIsoDate(syntax.text)) {
      *bound = Literal(DataType::kDate, ScalarDate(*days));
      return absl::OkStatus();
    }
    if (const auto micros = common::ParseIsoTimestamp(syntax.text)) {
      *bound = Literal(DataType::kTimestamp, ScalarInt(*micros));
      return absl::OkStatus();
    }
    return Error(syntax.offset, absl::StrCat("\"", syntax.text,
                                             "\" is not a date or timestamp; write YYYY-MM-DD or "
                                             "YYYY-MM-DDTHH:MM:SSZ"));
  }

  // Gives all of `args` their common type, or reports the first that does not fit.
  absl::StatusOr<DataType> Unify(const FunctionInfo& info, const SyntaxNode& call,
                                 std::vector<Bound>& args, size_t first) const {
    std::vector<Bound> values(args.begin() + static_cast<std::ptrdiff_t>(first), args.end());
    size_t bad = 0;
    const auto common = CommonType(values, DataType::kString, &bad);
    if (!common) {
      const size_t index = first + bad;
      DataType before = DataType::kString;
      for (size_t i = first; i < index; ++i) {
        if (!args[i].untyped_null) before = args[i].type();
      }
      return Error(
          StartOffset(*call.children[index]),
          absl::StrCat(info.name, "() arguments must have one type, but argument ", index + 1,
                       " is ", BoundTypeName(args[index]), " and an earlier one is ",
                       TypeName(before), ConversionHint(before, args[index].type())));
    }
    for (size_t i = first; i < args.size(); ++i) args[i] = Convert(std::move(args[i]), *common);
    return *common;
  }

  absl::StatusOr<Bound> TypeCall(const FunctionInfo& info, const SyntaxNode& call,
                                 std::vector<Bound> args) {
    const Function id = info.id;
    const auto make = [&](DataType type) {
      return MakeNode(NodeKind::kCall, type, std::move(args), Operator::kAdd, id);
    };
    switch (id) {
      case Function::kIf: {
        ASSAY_RETURN_IF_ERROR(
            ExpectType(info, call, args, 0, DataType::kBool, "a true/false condition"));
        ASSAY_ASSIGN_OR_RETURN(const DataType type, Unify(info, call, args, 1));
        return make(type);
      }
      case Function::kIsNull:
      case Function::kIsNotNull:
        if (args[0].untyped_null) args[0] = Convert(std::move(args[0]), DataType::kString);
        return make(DataType::kBool);
      case Function::kCoalesce:
      case Function::kMin:
      case Function::kMax: {
        ASSAY_ASSIGN_OR_RETURN(const DataType type, Unify(info, call, args, 0));
        return make(type);
      }
      case Function::kAbs:
      case Function::kFloor:
      case Function::kCeil: {
        ASSAY_RETURN_IF_ERROR(ExpectNumber(info, call, args, 0, DataType::kInt64));
        const DataType type = args[0].type();
        return make(type);
      }
      case Function::kRound: {
        ASSAY_RETURN_IF_ERROR(ExpectNumber(info, call, args, 0, DataType::kFloat64));
        if (args.size() == 2) {
          ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, 1, DataType::kInt64,
                                           "a whole number of digits (int64)"));
        }
        const DataType type = args[0].type();
        return make(type);
      }
      case Function::kLog:
      case Function::kExp:
      case Function::kSqrt:
      case Function::kPow:
        for (size_t i = 0; i < args.size(); ++i) {
          ASSAY_RETURN_IF_ERROR(ExpectNumber(info, call, args, i, DataType::kFloat64));
          args[i] = Convert(std::move(args[i]), DataType::kFloat64);
        }
        return make(DataType::kFloat64);
      case Function::kLength:
        ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, 0, DataType::kString, "text"));
        return make(DataType::kInt64);
      case Function::kLower:
      case Function::kUpper:
      case Function::kTrim:
        ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, 0, DataType::kString, "text"));
        return make(DataType::kString);
      case Function::kContains:
      case Function::kStartsWith:
      case Function::kEndsWith:
        for (size_t i = 0; i < 2; ++i) {
          ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, i, DataType::kString, "text"));
        }
        return make(DataType::kBool);
      case Function::kSubstring:
        ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, 0, DataType::kString, "text"));
        for (size_t i = 1; i < args.size(); ++i) {
          ASSAY_RETURN_IF_ERROR(
              ExpectType(info, call, args, i, DataType::kInt64, "a whole number (int64)"));
        }
        return make(DataType::kString);
      case Function::kReplace:
        for (size_t i = 0; i < 3; ++i) {
          ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, i, DataType::kString, "text"));
        }
        return make(DataType::kString);
      case Function::kConcat:
        // concat() renders every argument as text, so concat("ID-", id) works.
        for (Bound& arg : args) {
          if (arg.untyped_null) {
            arg = Convert(std::move(arg), DataType::kString);
          } else if (arg.type() != DataType::kString) {
            std::vector<Bound> inner;
            inner.push_back(std::move(arg));
            arg = MakeNode(NodeKind::kCall, DataType::kString, std::move(inner), Operator::kAdd,
                           Function::kToString);
          }
        }
        return make(DataType::kString);
      case Function::kToString:
        if (args[0].untyped_null) args[0] = Convert(std::move(args[0]), DataType::kString);
        return make(DataType::kString);
      case Function::kToNumber:
        if (args[0].untyped_null) args[0] = Convert(std::move(args[0]), DataType::kString);
        if (args[0].type() != DataType::kString && args[0].type() != DataType::kBool &&
            !IsNumeric(args[0].type())) {
          return ArgumentError(info, call, 0, "text, a number or a bool", args[0]);
        }
        return make(DataType::kFloat64);
      case Function::kYear:
      case Function::kMonth:
      case Function::kDay:
      case Function::kWeekday:
        ASSAY_RETURN_IF_ERROR(ExpectTemporal(info, call, args, 0));
        return make(DataType::kInt64);
      case Function::kDateDiff: {
        ASSAY_RETURN_IF_ERROR(ExpectTemporal(info, call, args, 0));
        ASSAY_RETURN_IF_ERROR(ExpectTemporal(info, call, args, 1));
        ASSAY_ASSIGN_OR_RETURN(const TimeUnit unit, BindUnit(info, call, 2));
        ASSAY_RETURN_IF_ERROR(Unify(info, call, args, 0).status());
        Bound bound = make(DataType::kInt64);
        std::const_pointer_cast<ExpressionNode>(bound.node)->unit = unit;
        return bound;
      }
      case Function::kDateAdd: {
        ASSAY_RETURN_IF_ERROR(ExpectTemporal(info, call, args, 0));
        ASSAY_RETURN_IF_ERROR(ExpectType(info, call, args, 1, DataType::kInt64,
                                         "a whole number (int64); round() it first"));
        ASSAY_ASSIGN_OR_RETURN(const TimeUnit unit, BindUnit(info, call, 2));
        // A date plus hours is a timestamp; a date plus days stays a date.
        const bool sub_day =
            unit == TimeUnit::kSeconds || unit == TimeUnit::kMinutes || unit == TimeUnit::kHours;
        if (sub_day) args[0] = Convert(std::move(args[0]), DataType::kTimestamp);
        const DataType type = args[0].type();
        Bound bound = make(type);
        std::const_pointer_cast<ExpressionNode>(bound.node)->unit = unit;
        return bound;
      }
      case Function::kNow:
        return make(DataType::kTimestamp);
      case Function::kDate:
      case Function::kTimestamp: {
        const DataType target = id == Function::kDate ? DataType::kDate : DataType::kTimestamp;
        if (call.children[0]->kind == SyntaxKind::kString) {
          // A literal is parsed now, so a typo is a compile error rather than a null column.
          const std::string& text = call.children[0]->text;
          if (target == DataType::kDate) {
            if (const auto days = common::ParseIsoDate(text)) {
              return Literal(DataType::kDate, ScalarDate(*days));
            }
            return Error(call.children[0]->offset,
                         absl::StrCat("\"", text, "\" is not a valid date; write YYYY-MM-DD"));
          }
          if (const auto micros = common::ParseIsoTimestamp(text)) {
            return Literal(DataType::kTimestamp, ScalarInt(*micros));
          }
          if (const auto days = common::ParseIsoDate(text)) {
            return Literal(DataType::kTimestamp, ScalarInt(int64_t{*days} * 86'400'000'000));
          }
          return Error(
              call.children[0]->offset,
              absl::StrCat("\"", text, "\" is not a valid timestamp; write YYYY-MM-DDTHH:MM:SSZ"));
        }
        if (args[0].untyped_null) args[0] = Convert(std::move(args[0]), target);
        if (args[0].type() != DataType::kString && !IsTemporal(args[0].type())) {
          return ArgumentError(info, call, 0, "text, a date or a timestamp", args[0]);
        }
        return make(target);
      }
    }
    return Error(call.offset, "unsupported function");
  }

  std::string_view source_;
  const table::Schema& schema_;
  const std::vector<std::string>& columns_;
};

void CollectColumns(const SyntaxNode& node, const table::Schema& schema,
                    std::vector<std::string>* names) {
  if (node.kind == SyntaxKind::kColumn && schema.FindField(node.text)) names->push_back(node.text);
  for (const auto& child : node.children) CollectColumns(*child, schema, names);
}

}  // namespace

std::vector<std::string> FunctionNames() {
  std::vector<std::string> names;
  for (const FunctionInfo& info : kFunctions) names.emplace_back(info.name);
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return absl::AsciiStrToLower(a) < absl::AsciiStrToLower(b);
  });
  return names;
}

absl::StatusOr<BoundExpression> Bind(std::string_view source, const SyntaxNode& syntax,
                                     const table::Schema& schema) {
  BoundExpression out;
  CollectColumns(syntax, schema, &out.referenced_columns);
  std::sort(out.referenced_columns.begin(), out.referenced_columns.end());
  out.referenced_columns.erase(
      std::unique(out.referenced_columns.begin(), out.referenced_columns.end()),
      out.referenced_columns.end());
  for (const std::string& name : out.referenced_columns) {
    out.referenced_types.push_back(schema.field(*schema.FindField(name)).type);
  }
  Binder binder(source, schema, out.referenced_columns);
  auto root = binder.Bind(syntax);
  if (!root.ok()) return root.status();
  // A formula that is only null has no context to type it; like SQL's unknown it becomes text.
  if (root->untyped_null) *root = Convert(std::move(*root), DataType::kString);
  out.root = std::move(root->node);
  return out;
}

}  // namespace assay::expr
