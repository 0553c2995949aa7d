// Model-based test: random typed expressions over random small tables, each compared row by row
// with a naive per-row reference evaluator written here independently of the vectorized
// kernels (128-bit arithmetic for overflow, std::string code-point handling, civil-date
// helpers). A fixed seed makes failures repeatable; the failing formula is printed.
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/civil_time.h"
#include "expr/expression.h"
#include "gtest/gtest.h"
#include "tests/expr/expr_test_util.h"

namespace assay::expr {
namespace {

using table::DataType;
using namespace assay::expr::testing;  // NOLINT(build/namespaces)

constexpr int64_t kMaxInt = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt = std::numeric_limits<int64_t>::min();

// One row's value in the reference model. Bools, int64s and dates live in `i`.
struct Ref {
  bool null = true;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
};

Ref Null() { return Ref{}; }
Ref Int(int64_t v) { return Ref{false, v, 0.0, ""}; }
Ref Float(double v) { return Ref{false, 0, v, ""}; }
Ref Str(std::string v) { return Ref{false, 0, 0.0, std::move(v)}; }
Ref Bool(bool v) { return Int(v ? 1 : 0); }

// An int128 result, or null when it does not fit in int64.
Ref Checked(__int128 v) {
  if (v > kMaxInt || v < kMinInt) return Null();
  return Int(static_cast<int64_t>(v));
}

struct Node {
  DataType type = DataType::kBool;
  std::string source;
  std::function<Ref(int64_t)> eval;
};

double AsDouble(const Node& node, const Ref& value) {
  return node.type == DataType::kInt64 ? static_cast<double>(value.i) : value.f;
}

std::vector<std::string> CodePoints(const std::string& text) {
  std::vector<std::string> out;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80 && !out.empty()) {
      out.back().push_back(c);
    } else {
      out.emplace_back(1, c);
    }
  }
  return out;
}

std::string CaseMap(const std::string& text, bool upper) {
  std::string out;
  for (const std::string& cp : CodePoints(text)) {
    if (cp.size() == 1) {
      out.push_back(static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(cp[0]))
                                            : std::tolower(static_cast<unsigned char>(cp[0]))));
    } else if (cp == "é" || cp == "É") {
      out += upper ? "É" : "é";
    } else if (cp == "ä" || cp == "Ä") {
      out += upper ? "Ä" : "ä";
    } else {
      out += cp;
    }
  }
  return out;
}

bool Leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int64_t MonthLength(int64_t y, int64_t m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && Leap(y) ? 29 : kDays[m - 1];
}

class Model {
 public:
  Model(uint64_t seed, const table::Table& input) : rng_(seed), input_(input) {}

  Node Make(DataType type, int depth) {
    switch (type) {
      case DataType::kInt64:
        return MakeInt(depth);
      case DataType::kFloat64:
        return MakeFloat(depth);
      case DataType::kBool:
        return MakeBool(depth);
      case DataType::kString:
        return MakeString(depth);
      default:
        return MakeDate(depth);
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }

  Node Column(const std::string& name) {
    const table::Column* column = &input_.column(*input_.schema().FindField(name));
    const DataType type = column->type();
    return Node{type, "`" + name + "`", [column, type](int64_t row) {
                  if (column->IsNull(row)) return Null();
                  switch (type) {
                    case DataType::kFloat64:
                      return Float(column->float64_values()[row]);
                    case DataType::kString:
                      return Str(std::string(column->StringAt(row)));
                    case DataType::kBool:
                      return Bool(column->bool_values()[row] != 0);
                    case DataType::kDate:
                      return Int(column->date_values()[row]);
                    default:
                      return Int(column->int64_values()[row]);
                  }
                }};
  }

  // The right operand of a binary operator, sometimes the untyped literal null.
  Node Operand(DataType type, int depth) {
    if (Chance(5)) return Node{type, "null", [](int64_t) { return Null(); }};
    return Make(type, depth);
  }

  Node MakeInt(int depth) {
    if (depth <= 0 || Chance(25)) {
      switch (Pick(4)) {
        case 0:
          return Column("i1");
        case 1:
          return Column("i2");
        case 2: {
          static const int64_t kLiterals[] = {0, 1, -1, 2, 3, -7, 10, kMaxInt, kMinInt};
          const int64_t v = kLiterals[Pick(9)];
          return Node{DataType::kInt64, v == kMinInt ? "-9223372036854775808" : absl::StrCat(v),
                      [v](int64_t) { return Int(v); }};
        }
        default:
          return Node{DataType::kInt64, "abs(null)", [](int64_t) { return Null(); }};
      }
    }
    switch (Pick(12)) {
      case 0:
      case 1: {
        Node a = MakeInt(depth - 1), b = Operand(DataType::kInt64, depth - 1);
        static const char* kOps[] = {"+", "-", "*", "%"};
        const int op = Pick(4);
        return Node{DataType::kInt64, "(" + a.source + " " + kOps[op] + " " + b.source + ")",
                    [a, b, op](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      if (x.null || y.null) return Null();
                      const __int128 l = x.i, r = y.i;
                      if (op == 0) return Checked(l + r);
                      if (op == 1) return Checked(l - r);
                      if (op == 2) return Checked(l * r);
                      if (r == 0) return Null();
                      return Checked(l % r);  // int128 makes INT64_MIN % -1 well defined: 0
                    }};
      }
      case 2: {
        Node a = MakeInt(depth - 1);
        return Node{DataType::kInt64, "-" + a.source, [a](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Checked(-static_cast<__int128>(x.i));
                    }};
      }
      case 3: {
        Node a = MakeInt(depth - 1);
        return Node{DataType::kInt64, "ABS(" + a.source + ")", [a](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Checked(x.i < 0 ? -static_cast<__int128>(x.i) : x.i);
                    }};
      }
      case 4:
        return If(DataType::kInt64, depth);
      case 5:
        return Coalesce(DataType::kInt64, depth);
      case 6: {
        Node a = MakeString(depth - 1);
        return Node{DataType::kInt64, "length(" + a.source + ")", [a](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Int(static_cast<int64_t>(CodePoints(x.s).size()));
                    }};
      }
      case 7: {
        Node a = MakeDate(depth - 1);
        static const char* kParts[] = {"year", "month", "day", "weekday"};
        const int part = Pick(4);
        return Node{DataType::kInt64, std::string(kParts[part]) + "(" + a.source + ")",
                    [a, part](int64_t row) {
                      const Ref x = a.eval(row);
                      if (x.null) return Null();
                      const common::CivilDate c = common::CivilFromDays(static_cast<int32_t>(x.i));
                      if (part == 0) return Int(c.year);
                      if (part == 1) return Int(c.month);
                      if (part == 2) return Int(c.day);
                      return Int(((x.i + 3) % 7 + 7) % 7 + 1);
                    }};
      }
      case 8: {
        Node a = MakeDate(depth - 1), b = MakeDate(depth - 1);
        static const char* kUnits[] = {"days", "weeks", "months", "years"};
        const int unit = Pick(4);
        return Node{DataType::kInt64,
                    "dateDiff(" + a.source + ", " + b.source + ", '" + kUnits[unit] + "')",
                    [a, b, unit](int64_t row) {
                      const Ref e = a.eval(row), s = b.eval(row);
                      if (e.null || s.null) return Null();
                      if (unit == 0) return Int(e.i - s.i);
                      if (unit == 1) return Int((e.i - s.i) / 7);
                      const auto ce = common::CivilFromDays(static_cast<int32_t>(e.i));
                      const auto cs = common::CivilFromDays(static_cast<int32_t>(s.i));
                      int64_t months = (int64_t{ce.year} - cs.year) * 12 +
                                       (static_cast<int64_t>(ce.month) - cs.month);
                      if (months > 0 && ce.day < cs.day) --months;
                      if (months < 0 && ce.day > cs.day) ++months;
                      return Int(unit == 2 ? months : months / 12);
                    }};
      }
      case 9: {
        Node a = MakeInt(depth - 1), b = MakeInt(depth - 1);
        const bool is_max = Chance(50);
        return Node{DataType::kInt64,
                    std::string(is_max ? "max(" : "min(") + a.source + ", " + b.source + ")",
                    [a, b, is_max](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      if (x.null || y.null) return Null();
                      return Int(is_max ? std::max(x.i, y.i) : std::min(x.i, y.i));
                    }};
      }
      case 10: {
        Node a = MakeInt(depth - 1);
        const int digits = -Pick(3);
        return Node{DataType::kInt64, "round(" + a.source + ", " + absl::StrCat(digits) + ")",
                    [a, digits](int64_t row) {
                      const Ref x = a.eval(row);
                      if (x.null) return Null();
                      if (digits == 0) return x;
                      const __int128 scale = digits == -1 ? 10 : 100;
                      // Half away from zero, via the magnitude.
                      const __int128 magnitude = x.i < 0 ? -static_cast<__int128>(x.i) : x.i;
                      __int128 rounded = (magnitude + scale / 2) / scale * scale;
                      if (x.i < 0) rounded = -rounded;
                      return Checked(rounded);
                    }};
      }
      default: {
        Node a = MakeInt(depth - 1);
        return Node{DataType::kInt64, (Chance(50) ? "floor(" : "ceil(") + a.source + ")", a.eval};
      }
    }
  }

  Node MakeFloat(int depth) {
    if (depth <= 0 || Chance(25)) {
      switch (Pick(3)) {
        case 0:
          return Column("f1");
        case 1: {
          static const char* kText[] = {"0.5", "2.25", "0.0", "1e300", "3.0"};
          static const double kValue[] = {0.5, 2.25, 0.0, 1e300, 3.0};
          const int k = Pick(5);
          const double v = kValue[k];
          return Node{DataType::kFloat64, kText[k], [v](int64_t) { return Float(v); }};
        }
        default:
          return Node{DataType::kFloat64, "sqrt(null)", [](int64_t) { return Null(); }};
      }
    }
    switch (Pick(9)) {
      case 0:
      case 1:
      case 2: {
        // Mixed int/float operands; "/" also on two ints.
        static const char* kOps[] = {"+", "-", "*", "/", "%"};
        const int op = Pick(5);
        const bool left_int = Chance(40);
        // At least one float operand, except for "/", which is float64 on two ints too.
        const bool right_int = (op == 3 || !left_int) && Chance(40);
        Node a = left_int ? MakeInt(depth - 1) : MakeFloat(depth - 1);
        Node b = right_int ? MakeInt(depth - 1) : MakeFloat(depth - 1);
        return Node{DataType::kFloat64, "(" + a.source + " " + kOps[op] + " " + b.source + ")",
                    [a, b, op](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      if (x.null || y.null) return Null();
                      const double l = AsDouble(a, x), r = AsDouble(b, y);
                      if (op == 0) return Float(l + r);
                      if (op == 1) return Float(l - r);
                      if (op == 2) return Float(l * r);
                      if (r == 0.0) return Null();
                      return Float(op == 3 ? l / r : std::fmod(l, r));
                    }};
      }
      case 3: {
        Node a = MakeFloat(depth - 1);
        return Node{DataType::kFloat64, "sqrt(" + a.source + ")", [a](int64_t row) {
                      const Ref x = a.eval(row);
                      if (x.null || x.f < 0) return Null();
                      return Float(std::sqrt(x.f));
                    }};
      }
      case 4: {
        Node a = MakeFloat(depth - 1);
        const int kind = Pick(4);
        static const char* kNames[] = {"abs(", "floor(", "ceil(", "round("};
        return Node{DataType::kFloat64, kNames[kind] + a.source + ")", [a, kind](int64_t row) {
                      const Ref x = a.eval(row);
                      if (x.null) return Null();
                      if (kind == 0) return Float(std::fabs(x.f));
                      if (kind == 1) return Float(std::floor(x.f));
                      if (kind == 2) return Float(std::ceil(x.f));
                      return Float(std::round(x.f));
                    }};
      }
      case 5:
        return If(DataType::kFloat64, depth);
      case 6:
        return Coalesce(DataType::kFloat64, depth);
      case 7: {
        Node a = MakeFloat(depth - 1), b = MakeInt(depth - 1);
        const bool is_max = Chance(50);
        return Node{DataType::kFloat64,
                    std::string(is_max ? "max(" : "min(") + a.source + ", " + b.source + ")",
                    [a, b, is_max](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      if (x.null || y.null) return Null();
                      const double l = x.f, r = static_cast<double>(y.i);
                      double best = l;
                      if (is_max ? best < r : r < best) best = r;
                      return Float(best);
                    }};
      }
      default: {
        Node a = MakeInt(depth - 1);
        return Node{DataType::kFloat64, "toNumber(toString(" + a.source + "))", [a](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Float(static_cast<double>(x.i));
                    }};
      }
    }
  }

  Node MakeBool(int depth) {
    if (depth <= 0 || Chance(20)) {
      switch (Pick(5)) {
        case 0:
          return Column("b1");
        case 1:
          return Column("b2");
        case 2:
          return Node{DataType::kBool, "true", [](int64_t) { return Bool(true); }};
        case 3:
          return Node{DataType::kBool, "FALSE", [](int64_t) { return Bool(false); }};
        default:
          return Node{DataType::kBool, "not null", [](int64_t) { return Null(); }};
      }
    }
    switch (Pick(9)) {
      case 0:
      case 1:
        return Comparison(depth);
      case 2:
      case 3: {
        Node a = MakeBool(depth - 1), b = Operand(DataType::kBool, depth - 1);
        const bool is_and = Chance(50);
        static const char* kAnd[] = {" and ", " && ", " AND "};
        static const char* kOr[] = {" or ", " || ", " Or "};
        return Node{DataType::kBool,
                    "(" + a.source + (is_and ? kAnd[Pick(3)] : kOr[Pick(3)]) + b.source + ")",
                    [a, b, is_and](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      const int64_t dominant = is_and ? 0 : 1;
                      if ((!x.null && x.i == dominant) || (!y.null && y.i == dominant)) {
                        return Bool(dominant == 1);
                      }
                      if (x.null || y.null) return Null();
                      return Bool(dominant == 0);
                    }};
      }
      case 4: {
        Node a = MakeBool(depth - 1);
        return Node{DataType::kBool, (Chance(50) ? "not " : "!") + a.source, [a](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Bool(x.i == 0);
                    }};
      }
      case 5: {
        const DataType types[] = {DataType::kInt64, DataType::kFloat64, DataType::kString,
                                  DataType::kDate, DataType::kBool};
        Node a = Make(types[Pick(5)], depth - 1);
        const bool want_null = Chance(50);
        return Node{DataType::kBool, (want_null ? "isNull(" : "isNotNull(") + a.source + ")",
                    [a, want_null](int64_t row) { return Bool(a.eval(row).null == want_null); }};
      }
      case 6: {
        Node a = MakeString(depth - 1), b = MakeString(depth - 1);
        const int kind = Pick(3);
        static const char* kNames[] = {"contains(", "startsWith(", "endsWith("};
        return Node{DataType::kBool, kNames[kind] + a.source + ", " + b.source + ")",
                    [a, b, kind](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      if (x.null || y.null) return Null();
                      if (kind == 0) return Bool(x.s.find(y.s) != std::string::npos);
                      if (kind == 1) return Bool(x.s.rfind(y.s, 0) == 0);
                      return Bool(x.s.size() >= y.s.size() &&
                                  x.s.compare(x.s.size() - y.s.size(), y.s.size(), y.s) == 0);
                    }};
      }
      case 7:
        return If(DataType::kBool, depth);
      default:
        return Coalesce(DataType::kBool, depth);
    }
  }

  Node Comparison(int depth) {
    static const char* kOps[] = {"=", "!=", "<", "<=", ">", ">=", "==", "<>"};
    const int op = Pick(8);
    const auto decide = [op](int c) {
      switch (op) {
        case 0:
        case 6:
          return c == 0;
        case 1:
        case 7:
          return c != 0;
        case 2:
          return c < 0;
        case 3:
          return c <= 0;
        case 4:
          return c > 0;
        default:
          return c >= 0;
      }
    };
    const int kind = Pick(4);
    Node a, b;
    if (kind == 0) {
      a = Chance(50) ? MakeInt(depth - 1) : MakeFloat(depth - 1);
      b = Chance(50) ? MakeInt(depth - 1) : MakeFloat(depth - 1);
    } else if (kind == 1) {
      a = MakeString(depth - 1);
      b = MakeString(depth - 1);
    } else if (kind == 2) {
      a = MakeDate(depth - 1);
      b = MakeDate(depth - 1);
    } else {
      a = MakeBool(depth - 1);
      b = MakeBool(depth - 1);
    }
    return Node{DataType::kBool, "(" + a.source + " " + kOps[op] + " " + b.source + ")",
                [a, b, kind, decide](int64_t row) {
                  const Ref x = a.eval(row), y = b.eval(row);
                  if (x.null || y.null) return Null();
                  int c = 0;
                  if (kind == 0) {
                    const bool both_int = a.type == DataType::kInt64 && b.type == DataType::kInt64;
                    if (both_int) {
                      c = x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
                    } else {
                      const double l = AsDouble(a, x), r = AsDouble(b, y);
                      // NaN compares false with everything, including itself, except "!=".
                      if (std::isnan(l) || std::isnan(r)) return Bool(decide(1) && decide(-1));
                      c = l < r ? -1 : l > r ? 1 : 0;
                    }
                  } else if (kind == 1) {
                    c = x.s.compare(y.s);
                  } else {
                    c = x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
                  }
                  return Bool(decide(c));
                }};
  }

  Node MakeString(int depth) {
    if (depth <= 0 || Chance(25)) {
      switch (Pick(4)) {
        case 0:
          return Column("s1");
        case 1:
          return Column("s2");
        case 2: {
          static const char* kLiterals[] = {"", "a", "Bé", " x ", "ä"};
          const std::string v = kLiterals[Pick(5)];
          return Node{DataType::kString, "'" + v + "'", [v](int64_t) { return Str(v); }};
        }
        default:
          return Node{DataType::kString, "lower(null)", [](int64_t) { return Null(); }};
      }
    }
    switch (Pick(10)) {
      case 0: {
        Node a = MakeString(depth - 1), b = Operand(DataType::kString, depth - 1);
        return Node{DataType::kString, "(" + a.source + " + " + b.source + ")",
                    [a, b](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      return x.null || y.null ? Null() : Str(x.s + y.s);
                    }};
      }
      case 1: {
        Node a = MakeString(depth - 1), b = MakeInt(depth - 1);
        return Node{DataType::kString, "concat(" + a.source + ", " + b.source + ")",
                    [a, b](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      return x.null || y.null ? Null() : Str(x.s + std::to_string(y.i));
                    }};
      }
      case 2: {
        Node a = MakeString(depth - 1);
        const bool upper = Chance(50);
        return Node{DataType::kString, (upper ? "upper(" : "lower(") + a.source + ")",
                    [a, upper](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Str(CaseMap(x.s, upper));
                    }};
      }
      case 3: {
        Node a = MakeString(depth - 1);
        return Node{DataType::kString, "trim(" + a.source + ")", [a](int64_t row) {
                      const Ref x = a.eval(row);
                      if (x.null) return Null();
                      const size_t first = x.s.find_first_not_of(" \t");
                      if (first == std::string::npos) return Str("");
                      return Str(x.s.substr(first, x.s.find_last_not_of(" \t") - first + 1));
                    }};
      }
      case 4: {
        Node a = MakeString(depth - 1), start = MakeInt(depth - 1);
        const bool has_length = Chance(50);
        Node length = has_length ? MakeInt(depth - 1) : Node{};
        return Node{DataType::kString,
                    "substring(" + a.source + ", " + start.source +
                        (has_length ? ", " + length.source : std::string()) + ")",
                    [a, start, length, has_length](int64_t row) {
                      const Ref x = a.eval(row), s = start.eval(row);
                      const Ref l = has_length ? length.eval(row) : Int(kMaxInt);
                      if (x.null || s.null || l.null) return Null();
                      const std::vector<std::string> cps = CodePoints(x.s);
                      const auto n = static_cast<__int128>(cps.size());
                      __int128 begin = s.i > 0 ? __int128{s.i} - 1 : s.i == 0 ? 0 : n + s.i;
                      if (begin < 0) begin = 0;
                      std::string out;
                      for (__int128 k = begin; k < n && k - begin < l.i; ++k) {
                        out += cps[static_cast<size_t>(k)];
                      }
                      return Str(out);
                    }};
      }
      case 5: {
        Node a = MakeString(depth - 1);
        static const char* kFrom[] = {"a", "é", " ", "xx"};
        const std::string from = kFrom[Pick(4)];
        return Node{DataType::kString, "replace(" + a.source + ", '" + from + "', '-')",
                    [a, from](int64_t row) {
                      const Ref x = a.eval(row);
                      if (x.null) return Null();
                      std::string out;
                      for (size_t pos = 0; pos < x.s.size();) {
                        if (x.s.compare(pos, from.size(), from) == 0) {
                          out += "-";
                          pos += from.size();
                        } else {
                          out += x.s[pos++];
                        }
                      }
                      return Str(out);
                    }};
      }
      case 6:
        return If(DataType::kString, depth);
      case 7:
        return Coalesce(DataType::kString, depth);
      case 8: {
        Node a = MakeInt(depth - 1);
        return Node{DataType::kString, "toString(" + a.source + ")", [a](int64_t row) {
                      const Ref x = a.eval(row);
                      return x.null ? Null() : Str(std::to_string(x.i));
                    }};
      }
      default: {
        Node a = MakeString(depth - 1), b = MakeString(depth - 1);
        const bool is_max = Chance(50);
        return Node{DataType::kString,
                    std::string(is_max ? "max(" : "min(") + a.source + ", " + b.source + ")",
                    [a, b, is_max](int64_t row) {
                      const Ref x = a.eval(row), y = b.eval(row);
                      if (x.null || y.null) return Null();
                      return Str(is_max ? std::max(x.s, y.s) : std::min(x.s, y.s));
                    }};
      }
    }
  }

  Node MakeDate(int depth) {
    if (depth <= 0 || Chance(30)) {
      switch (Pick(3)) {
        case 0:
        case 1:
          return Column("d1");
        default:
          return Node{DataType::kDate, "date('2024-02-29')",
                      [](int64_t) { return Int(*common::ParseIsoDate("2024-02-29")); }};
      }
    }
    switch (Pick(4)) {
      case 0:
      case 1: {
        Node a = MakeDate(depth - 1), n = MakeInt(depth - 1);
        static const char* kUnits[] = {"days", "weeks", "months", "years"};
        const int unit = Pick(4);
        return Node{
            DataType::kDate, "dateAdd(" + a.source + ", " + n.source + ", '" + kUnits[unit] + "')",
            [a, n, unit](int64_t row) {
              const Ref d = a.eval(row), k = n.eval(row);
              if (d.null || k.null) return Null();
              constexpr __int128 kLimit = 365'000'000;
              if (unit < 2) {
                const __int128 result = __int128{d.i} + __int128{k.i} * (unit == 0 ? 1 : 7);
                if (result > kLimit || result < -kLimit) return Null();
                return Int(static_cast<int64_t>(result));
              }
              const __int128 months = __int128{k.i} * (unit == 2 ? 1 : 12);
              if (months > 12'000'000 || months < -12'000'000) return Null();
              const auto c = common::CivilFromDays(static_cast<int32_t>(d.i));
              const __int128 total = __int128{c.year} * 12 + (c.month - 1) + months;
              __int128 year = total / 12;
              __int128 month = total % 12;
              if (month < 0) {
                month += 12;
                year -= 1;
              }
              const auto y = static_cast<int64_t>(year);
              const auto m = static_cast<int64_t>(month) + 1;
              if (y > 2'000'000 || y < -2'000'000) return Null();
              const int64_t day = std::min<int64_t>(c.day, MonthLength(y, m));
              const int64_t result = common::DaysFromCivil(
                  static_cast<int32_t>(y), static_cast<uint32_t>(m), static_cast<uint32_t>(day));
              if (result > kLimit || result < -kLimit) return Null();
              return Int(result);
            }};
      }
      case 2:
        return If(DataType::kDate, depth);
      default:
        return Coalesce(DataType::kDate, depth);
    }
  }

  Node If(DataType type, int depth) {
    Node c = MakeBool(depth - 1), a = Make(type, depth - 1), b = Make(type, depth - 1);
    return Node{type,
                (Chance(50) ? "if(" : "IF(") + c.source + ", " + a.source + ", " + b.source + ")",
                [c, a, b](int64_t row) {
                  const Ref x = c.eval(row);
                  return !x.null && x.i != 0 ? a.eval(row) : b.eval(row);
                }};
  }

  Node Coalesce(DataType type, int depth) {
    Node a = Make(type, depth - 1), b = Make(type, depth - 1);
    const bool with_null = Chance(30);
    return Node{
        type,
        "coalesce(" + std::string(with_null ? "null, " : "") + a.source + ", " + b.source + ")",
        [a, b](int64_t row) {
          const Ref x = a.eval(row);
          return x.null ? b.eval(row) : x;
        }};
  }

  std::mt19937_64 rng_;
  const table::Table& input_;
};

table::Table RandomTable(std::mt19937_64& rng, int64_t rows) {
  const auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const auto null = [&] { return pick(100) < 20; };
  std::vector<std::optional<int64_t>> i1, i2;
  std::vector<std::optional<double>> f1;
  std::vector<std::optional<std::string>> s1, s2;
  std::vector<std::optional<bool>> b1, b2;
  std::vector<std::optional<std::string>> d1;
  static const int64_t kInts[] = {0, 1, -1, 2, 5, -5, 7, 10, 100, kMaxInt, kMinInt, 1LL << 40};
  static const double kFloats[] = {0.0, -0.0, 0.5, -1.5, 2.0, 1e-3, 1e300, -7.25, 3.0};
  static const char* kStrings[] = {"", "a", "B", "ab", " a ", "é", "Éa", "xxa", "ä b", "aé"};
  static const char* kDates[] = {"2024-01-31", "2024-02-29", "2023-12-25", "1999-12-31",
                                 "1970-01-01", "1969-07-20", "2031-05-15"};
  for (int64_t row = 0; row < rows; ++row) {
    i1.push_back(null() ? std::nullopt : std::optional<int64_t>(kInts[pick(12)]));
    i2.push_back(null() ? std::nullopt : std::optional<int64_t>(pick(21) - 10));
    f1.push_back(null() ? std::nullopt : std::optional<double>(kFloats[pick(9)]));
    s1.push_back(null() ? std::nullopt : std::optional<std::string>(kStrings[pick(10)]));
    s2.push_back(null() ? std::nullopt : std::optional<std::string>(kStrings[pick(10)]));
    b1.push_back(null() ? std::nullopt : std::optional<bool>(pick(2) == 1));
    b2.push_back(null() ? std::nullopt : std::optional<bool>(pick(2) == 1));
    d1.push_back(null() ? std::nullopt : std::optional<std::string>(kDates[pick(7)]));
  }
  return MakeTable({{"i1", Ints(i1)},
                    {"i2", Ints(i2)},
                    {"f1", Floats(f1)},
                    {"s1", Strings(s1)},
                    {"s2", Strings(s2)},
                    {"b1", Bools(b1)},
                    {"b2", Bools(b2)},
                    {"d1", Dates(d1)}});
}

std::string Describe(const Ref& value, DataType type) {
  if (value.null) return "null";
  switch (type) {
    case DataType::kFloat64:
      return absl::StrCat(value.f);
    case DataType::kString:
      return "\"" + value.s + "\"";
    default:
      return absl::StrCat(value.i);
  }
}

// Compares one result row with the model; returns "" or a description of the mismatch.
std::string Mismatch(const table::Column& column, int64_t row, const Ref& want, DataType type) {
  if (column.IsNull(row) != want.null) {
    return absl::StrCat("got ", column.ValueToString(row, "null"), ", want ", Describe(want, type));
  }
  if (want.null) return "";
  bool same = true;
  switch (type) {
    case DataType::kFloat64: {
      const double got = column.float64_values()[row];
      same = (std::isnan(got) && std::isnan(want.f)) ||
             std::bit_cast<uint64_t>(got) == std::bit_cast<uint64_t>(want.f);
      break;
    }
    case DataType::kString:
      same = column.StringAt(row) == want.s;
      break;
    case DataType::kBool:
      same = column.bool_values()[row] == want.i;
      break;
    case DataType::kDate:
      same = column.date_values()[row] == want.i;
      break;
    default:
      same = column.int64_values()[row] == want.i;
      break;
  }
  if (same) return "";
  return absl::StrCat("got ", column.ValueToString(row, "null"), ", want ", Describe(want, type));
}

TEST(ExpressionModel, RandomExpressionsMatchPerRowReference) {
  std::mt19937_64 rng(20261128);
  const DataType kTypes[] = {DataType::kInt64, DataType::kFloat64, DataType::kBool,
                             DataType::kString, DataType::kDate};
  int checked = 0;
  for (int table_index = 0; table_index < 12; ++table_index) {
    const int64_t rows = table_index == 0 ? 0 : static_cast<int64_t>(rng() % 70);
    const table::Table input = RandomTable(rng, rows);
    Model model(rng(), input);
    for (int expression_index = 0; expression_index < 120; ++expression_index) {
      const DataType type = kTypes[expression_index % 5];
      const Node node = model.Make(type, 1 + expression_index % 4);
      auto expression = Expression::Compile(node.source, input.schema());
      ASSERT_TRUE(expression.ok()) << node.source << "\n" << expression.status();
      ASSERT_EQ(expression->result_type(), node.type) << node.source;
      auto column = expression->Evaluate(input);
      ASSERT_TRUE(column.ok()) << node.source << "\n" << column.status();
      ASSERT_EQ(column->size(), rows);
      ASSERT_EQ(column->type(), node.type);
      for (int64_t row = 0; row < rows; ++row) {
        const std::string problem = Mismatch(*column, row, node.eval(row), node.type);
        ASSERT_EQ(problem, "") << "formula: " << node.source << "\nrow " << row;
      }
      // Null slots must hold zero values (Column's invariant).
      table::ColumnBuilder rebuilt(column->type());
      for (int64_t row = 0; row < rows; ++row) rebuilt.AppendFrom(*column, row);
      ASSERT_TRUE(rebuilt.Finish().Equals(*column)) << node.source;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12 * 120);
}

}  // namespace
}  // namespace assay::expr
