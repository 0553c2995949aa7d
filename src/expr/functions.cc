// Kernels of the built-in functions (everything except if(), which the evaluator handles so
// that a scalar condition evaluates only one branch). Argument types were checked and
// converted by the binder, so each kernel sees exactly the types its signature allows.
#include <fast_float/fast_float.h>
#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "common/civil_time.h"
#include "expr/evaluator.h"

namespace assay::expr {
namespace {

using table::DataType;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr int64_t kMicrosPerWeek = 7 * kMicrosPerDay;
// Civil conversions (common/civil_time.h) overflow int32 arithmetic near the ends of the
// int32 day range, so calendar functions give null outside about +-1 million years.
constexpr int64_t kMaxCivilDays = 365'000'000;
// The first day whose midnight is representable in int64 microseconds.
constexpr int64_t kMinTimestampDay = -106'751'991;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool InCivilRange(int64_t days) { return days >= -kMaxCivilDays && days <= kMaxCivilDays; }

// Microseconds since midnight (0 .. a day - 1), without the overflow of micros - day * 86400e6
// at the bottom of the int64 range.
int64_t MicrosOfDay(int64_t micros) {
  const int64_t rest = micros % kMicrosPerDay;
  return rest < 0 ? rest + kMicrosPerDay : rest;
}

std::vector<const Value*> Pointers(const std::vector<Value>& args) {
  std::vector<const Value*> out;
  out.reserve(args.size());
  for (const Value& arg : args) out.push_back(&arg);
  return out;
}

// ---- null handling ----------------------------------------------------------------------

Value NullTest(const Value& input, bool want_null, const Shape& shape) {
  Array array;
  array.bools.resize(static_cast<size_t>(shape.rows));
  for (int64_t row = 0; row < shape.rows; ++row) {
    array.bools[static_cast<size_t>(row)] = input.IsValid(row) != want_null ? 1 : 0;
  }
  return Value::Owned(DataType::kBool, shape.scalar, std::move(array));
}

template <typename T>
Value CoalesceFixed(DataType type, const std::vector<Value>& args, const Shape& shape) {
  const int64_t rows = shape.rows;
  Array array;
  std::vector<T>& values = TypedBuffer<T>(array);
  values.assign(static_cast<size_t>(rows), T{});
  std::vector<uint8_t> filled(static_cast<size_t>((rows + 7) / 8), 0);
  T* out = values.data();
  for (const Value& arg : args) {
    if (arg.IsNullScalar()) continue;
    const StridedRead<T> read = Reader<T>(arg);
    for (int64_t row = 0; row < rows; ++row) {
      if (!BitIsSet(filled.data(), row) && arg.IsValid(row)) {
        out[row] = read(row);
        SetBit(filled.data(), row);
      }
    }
    // An argument without nulls fills every remaining row; later ones cannot matter.
    if (arg.validity() == nullptr) break;
  }
  NormalizeValidity(&filled, rows);
  array.validity = std::move(filled);
  return Value::Owned(type, shape.scalar, std::move(array));
}

Value CoalesceStrings(const std::vector<Value>& args, const Shape& shape) {
  const int64_t rows = shape.rows;
  Array array;
  array.offsets.resize(static_cast<size_t>(rows) + 1);
  std::vector<uint8_t> validity = AllValidBitmap(rows);
  for (int64_t row = 0; row < rows; ++row) {
    bool found = false;
    for (const Value& arg : args) {
      if (arg.IsValid(row)) {
        array.bytes.append(arg.StringAt(row));
        found = true;
        break;
      }
    }
    if (!found) ClearBit(validity.data(), row);
    array.offsets[static_cast<size_t>(row) + 1] = static_cast<int64_t>(array.bytes.size());
  }
  NormalizeValidity(&validity, rows);
  array.validity = std::move(validity);
  return Value::Owned(DataType::kString, shape.scalar, std::move(array));
}

// ---- math -------------------------------------------------------------------------------

// A float kernel of one argument; fn returns nullopt for no result.
template <typename Fn>
Value FloatUnary(const Value& input, const Shape& shape, Fn fn) {
  const StridedRead<double> x = Reader<double>(input);
  return MapRows<double>(DataType::kFloat64, shape, {&input}, [&](int64_t row, double* out) {
    const std::optional<double> result = fn(x(row));
    if (!result) return false;
    *out = *result;
    return true;
  });
}

// Rounds half away from zero to `digits` decimal places (negative: tens, hundreds, ...).
std::optional<double> RoundFloat(double x, int64_t digits) {
  if (!std::isfinite(x)) return x;
  if (digits > 300) return x;
  double result;
  if (digits >= 0) {
    const double scale = std::pow(10.0, static_cast<double>(digits));
    const double scaled = x * scale;
    // Past ~15 significant digits a double has nothing left to round.
    if (!std::isfinite(scaled) || std::fabs(scaled) >= 1e17) return x;
    result = std::round(scaled) / scale;
  } else {
    if (digits < -400) return 0.0;
    const double scale = std::pow(10.0, static_cast<double>(-digits));
    if (!std::isfinite(scale)) return 0.0;
    result = std::round(x / scale) * scale;
  }
  if (!std::isfinite(result)) return std::nullopt;
  return result;
}

std::optional<int64_t> RoundInt(int64_t x, int64_t digits) {
  if (digits >= 0) return x;
  if (digits < -19) return 0;
  __int128 scale = 1;
  for (int64_t i = 0; i < -digits; ++i) scale *= 10;
  const __int128 value = x;
  __int128 quotient = value / scale;
  const __int128 remainder = value % scale;
  if (remainder * 2 >= scale) ++quotient;
  if (remainder * 2 <= -scale) --quotient;
  const __int128 result = quotient * scale;
  if (result > std::numeric_limits<int64_t>::max() ||
      result < std::numeric_limits<int64_t>::min()) {
    return std::nullopt;
  }
  return static_cast<int64_t>(result);
}

Value Round(const std::vector<Value>& args, const Shape& shape) {
  const Value& input = args[0];
  std::vector<const Value*> inputs = Pointers(args);
  const bool has_digits = args.size() == 2;
  const StridedRead<int64_t> digits =
      has_digits ? Reader<int64_t>(args[1]) : StridedRead<int64_t>{nullptr, 0};
  if (input.type() == DataType::kInt64) {
    const StridedRead<int64_t> x = Reader<int64_t>(input);
    return MapRows<int64_t>(DataType::kInt64, shape, inputs, [&](int64_t row, int64_t* out) {
      const auto result = RoundInt(x(row), has_digits ? digits(row) : 0);
      if (!result) return false;
      *out = *result;
      return true;
    });
  }
  const StridedRead<double> x = Reader<double>(input);
  return MapRows<double>(DataType::kFloat64, shape, inputs, [&](int64_t row, double* out) {
    const auto result = has_digits ? RoundFloat(x(row), digits(row)) : std::round(x(row));
    if (!result) return false;
    *out = *result;
    return true;
  });
}

Value Abs(const Value& input, const Shape& shape) {
  if (input.type() == DataType::kInt64) {
    const StridedRead<int64_t> x = Reader<int64_t>(input);
    return MapRows<int64_t>(DataType::kInt64, shape, {&input}, [&](int64_t row, int64_t* out) {
      const int64_t value = x(row);
      if (value == std::numeric_limits<int64_t>::min()) return false;  // |INT64_MIN| overflows
      *out = value < 0 ? -value : value;
      return true;
    });
  }
  return FloatUnary(input, shape, [](double x) -> std::optional<double> { return std::fabs(x); });
}

Value Log(const std::vector<Value>& args, const Shape& shape) {
  if (args.size() == 1) {
    return FloatUnary(args[0], shape, [](double x) -> std::optional<double> {
      if (!(x > 0)) return std::nullopt;
      return std::log(x);
    });
  }
  const StridedRead<double> x = Reader<double>(args[0]);
  const StridedRead<double> base = Reader<double>(args[1]);
  return MapRows<double>(DataType::kFloat64, shape, Pointers(args), [&](int64_t row, double* out) {
    const double value = x(row);
    const double b = base(row);
    if (!(value > 0) || !(b > 0) || b == 1.0) return false;
    *out = std::log(value) / std::log(b);
    return true;
  });
}

Value Pow(const std::vector<Value>& args, const Shape& shape) {
  const StridedRead<double> x = Reader<double>(args[0]);
  const StridedRead<double> y = Reader<double>(args[1]);
  return MapRows<double>(DataType::kFloat64, shape, Pointers(args), [&](int64_t row, double* out) {
    const double base = x(row);
    const double exponent = y(row);
    // pow(0, negative) is a division by zero; pow(negative, fraction) is not a real number.
    if (base == 0.0 && exponent < 0) return false;
    const double result = std::pow(base, exponent);
    if (std::isnan(result) && !std::isnan(base) && !std::isnan(exponent)) return false;
    *out = result;
    return true;
  });
}

template <typename T>
Value ExtremeFixed(DataType type, bool is_max, const std::vector<Value>& args, const Shape& shape) {
  std::vector<StridedRead<T>> readers;
  for (const Value& arg : args) readers.push_back(Reader<T>(arg));
  return MapRows<T>(type, shape, Pointers(args), [&](int64_t row, T* out) {
    T best = readers[0](row);
    for (size_t i = 1; i < readers.size(); ++i) {
      const T candidate = readers[i](row);
      if (is_max ? best < candidate : candidate < best) best = candidate;
    }
    *out = best;
    return true;
  });
}

Value Extreme(DataType type, bool is_max, const std::vector<Value>& args, const Shape& shape) {
  if (type == DataType::kString) {
    return MapStrings(shape, Pointers(args), [&](int64_t row, std::string* bytes) {
      std::string_view best = args[0].StringAt(row);
      for (size_t i = 1; i < args.size(); ++i) {
        const std::string_view candidate = args[i].StringAt(row);
        if (is_max ? best < candidate : candidate < best) best = candidate;
      }
      bytes->append(best);
      return true;
    });
  }
  return VisitFixedWidth(type, [&](auto tag) {
    using T = typename decltype(tag)::type;
    return ExtremeFixed<T>(type, is_max, args, shape);
  });
}

// ---- strings ----------------------------------------------------------------------------

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

int64_t CodePointCount(std::string_view text) {
  int64_t count = 0;
  for (char c : text) count += IsContinuationByte(c) ? 0 : 1;
  return count;
}

// Byte offset of code point `index` (clamped to the end).
size_t CodePointOffset(std::string_view text, int64_t index) {
  size_t pos = 0;
  while (index > 0 && pos < text.size()) {
    ++pos;
    while (pos < text.size() && IsContinuationByte(text[pos])) ++pos;
    --index;
  }
  return pos;
}

// Simple (one-to-one) Unicode case mapping via utf8proc; bytes that are not valid UTF-8 are
// copied unchanged.
void MapCase(std::string_view text, bool upper, std::string* out) {
  const bool ascii = std::all_of(text.begin(), text.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) {
    for (char c : text)
      out->push_back(upper ? absl::ascii_toupper(static_cast<unsigned char>(c))
                           : absl::ascii_tolower(static_cast<unsigned char>(c)));
    return;
  }
  const auto* data = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length =
        utf8proc_iterate(data + pos, static_cast<utf8proc_ssize_t>(text.size() - pos), &code_point);
    if (length <= 0) {
      out->push_back(text[pos]);
      ++pos;
      continue;
    }
    const utf8proc_int32_t mapped =
        upper ? utf8proc_toupper(code_point) : utf8proc_tolower(code_point);
    utf8proc_uint8_t buffer[4];
    const utf8proc_ssize_t written = utf8proc_encode_char(mapped, buffer);
    out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(written));
    pos += static_cast<size_t>(length);
  }
}

bool IsTrimmed(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// substring(text, start, length): 1-based start in code points; 0 counts as 1; a negative
// start counts from the end (-1 is the last character). A negative length gives "".
void Substring(std::string_view text, int64_t start, std::optional<int64_t> length,
               std::string* out) {
  int64_t begin;
  if (start > 0) {
    begin = start - 1;
  } else if (start == 0) {
    begin = 0;
  } else {
    begin = std::max<int64_t>(0, CodePointCount(text) + start);
  }
  if (length && *length <= 0) return;
  const size_t first = CodePointOffset(text, begin);
  const std::string_view rest = text.substr(first);
  const size_t last = length ? CodePointOffset(rest, *length) : rest.size();
  out->append(rest.substr(0, last));
}

void ReplaceAll(std::string_view text, std::string_view from, std::string_view to,
                std::string* out) {
  if (from.empty()) {
    out->append(text);
    return;
  }
  size_t pos = 0;
  while (true) {
    const size_t found = text.find(from, pos);
    if (found == std::string_view::npos) break;
    out->append(text.substr(pos, found - pos));
    out->append(to);
    pos = found + from.size();
  }
  out->append(text.substr(pos));
}

// Same rendering as table::Column::ValueToString, so toString(x) matches CSV output.
void AppendFloat(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(value)) {
    out->append(value > 0 ? "inf" : "-inf");
    return;
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  const std::string_view text(buffer, static_cast<size_t>(result.ptr - buffer));
  out->append(text);
  if (text.find_first_of(".eE") == std::string_view::npos) out->append(".0");
}

Value ToString(const Value& input, const Shape& shape) {
  switch (input.type()) {
    case DataType::kString:
      return input;
    case DataType::kBool: {
      const StridedRead<uint8_t> x = Reader<uint8_t>(input);
      return MapStrings(shape, {&input}, [&](int64_t row, std::string* out) {
        out->append(x(row) ? "true" : "false");
        return true;
      });
    }
    case DataType::kInt64: {
      const StridedRead<int64_t> x = Reader<int64_t>(input);
      return MapStrings(shape, {&input}, [&](int64_t row, std::string* out) {
        char buffer[24];
        const auto result = std::to_chars(buffer, buffer + sizeof(buffer), x(row));
        out->append(buffer, result.ptr);
        return true;
      });
    }
    case DataType::kFloat64: {
      const StridedRead<double> x = Reader<double>(input);
      return MapStrings(shape, {&input}, [&](int64_t row, std::string* out) {
        AppendFloat(x(row), out);
        return true;
      });
    }
    case DataType::kDate: {
      const StridedRead<int32_t> x = Reader<int32_t>(input);
      return MapStrings(shape, {&input}, [&](int64_t row, std::string* out) {
        if (!InCivilRange(x(row))) return false;
        out->append(common::FormatDate(x(row)));
        return true;
      });
    }
    case DataType::kTimestamp: {
      const StridedRead<int64_t> x = Reader<int64_t>(input);
      return MapStrings(shape, {&input}, [&](int64_t row, std::string* out) {
        // FormatTimestampMicros overflows within a day of the int64 minimum.
        if (FloorDiv(x(row), kMicrosPerDay) < kMinTimestampDay) return false;
        out->append(common::FormatTimestampMicros(x(row)));
        return true;
      });
    }
  }
  return input;
}

std::optional<double> ParseNumber(std::string_view text) {
  while (!text.empty() && IsTrimmed(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsTrimmed(text.back())) text.remove_suffix(1);
  // fast_float reads a leading "-" but not "+"; accept one sign, not "+-1".
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto result = fast_float::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

Value ToNumber(const Value& input, const Shape& shape) {
  switch (input.type()) {
    case DataType::kFloat64:
      return input;
    case DataType::kString: {
      const StringRead x = StringReader(input);
      return MapRows<double>(DataType::kFloat64, shape, {&input}, [&](int64_t row, double* out) {
        const auto value = ParseNumber(x(row));
        if (!value) return false;
        *out = *value;
        return true;
      });
    }
    case DataType::kBool: {
      const StridedRead<uint8_t> x = Reader<uint8_t>(input);
      return MapRows<double>(DataType::kFloat64, shape, {&input}, [&](int64_t row, double* out) {
        *out = x(row) ? 1.0 : 0.0;
        return true;
      });
    }
    default: {
      const StridedRead<int64_t> x = Reader<int64_t>(input);
      return MapRows<double>(DataType::kFloat64, shape, {&input}, [&](int64_t row, double* out) {
        *out = static_cast<double>(x(row));
        return true;
      });
    }
  }
}

// ---- dates ------------------------------------------------------------------------------

// Days since the epoch of a date or timestamp value at `row`.
int64_t DayOf(const Value& input, int64_t row) {
  if (input.type() == DataType::kDate) return input.dates()[row * input.stride()];
  return FloorDiv(input.ints()[row * input.stride()], kMicrosPerDay);
}

Value DatePart(Function function, const Value& input, const Shape& shape) {
  return MapRows<int64_t>(DataType::kInt64, shape, {&input}, [&](int64_t row, int64_t* out) {
    const int64_t days = DayOf(input, row);
    if (!InCivilRange(days)) return false;
    if (function == Function::kWeekday) {
      // ISO 8601: Monday = 1 ... Sunday = 7; 1970-01-01 was a Thursday (4).
      *out = ((days % 7 + 7) % 7 + 3) % 7 + 1;
      return true;
    }
    const common::CivilDate civil = common::CivilFromDays(static_cast<int32_t>(days));
    *out = function == Function::kYear    ? int64_t{civil.year}
           : function == Function::kMonth ? int64_t{civil.month}
                                          : int64_t{civil.day};
    return true;
  });
}

uint32_t DaysInMonth(int64_t year, uint32_t month) {
  static constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Calendar month arithmetic: the day is clamped to the end of the target month
// (2024-01-31 + 1 month = 2024-02-29). nullopt outside the supported range.
std::optional<int64_t> AddMonths(int64_t days, int64_t months) {
  if (!InCivilRange(days) || months > 12'000'000 || months < -12'000'000) return std::nullopt;
  const common::CivilDate civil = common::CivilFromDays(static_cast<int32_t>(days));
  const int64_t total = int64_t{civil.year} * 12 + (civil.month - 1) + months;
  const int64_t year = FloorDiv(total, 12);
  const auto month = static_cast<uint32_t>(total - year * 12 + 1);
  const uint32_t day = std::min(civil.day, DaysInMonth(year, month));
  const int64_t result = common::DaysFromCivil(static_cast<int32_t>(year), month, day);
  if (!InCivilRange(result)) return std::nullopt;
  return result;
}

// Whole months from `start` to `end` (truncated toward zero): a month counts once the day and
// time of day of `end` reach those of `start`.
int64_t MonthsBetween(int64_t end_day, int64_t end_micros_of_day, int64_t start_day,
                      int64_t start_micros_of_day) {
  const common::CivilDate end = common::CivilFromDays(static_cast<int32_t>(end_day));
  const common::CivilDate start = common::CivilFromDays(static_cast<int32_t>(start_day));
  int64_t months = (int64_t{end.year} * 12 + end.month) - (int64_t{start.year} * 12 + start.month);
  const auto end_rest = std::make_pair(end.day, end_micros_of_day);
  const auto start_rest = std::make_pair(start.day, start_micros_of_day);
  if (months > 0 && end_rest < start_rest) --months;
  if (months < 0 && end_rest > start_rest) ++months;
  return months;
}

int64_t MicrosPerUnit(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSeconds:
      return kMicrosPerSecond;
    case TimeUnit::kMinutes:
      return kMicrosPerMinute;
    case TimeUnit::kHours:
      return kMicrosPerHour;
    case TimeUnit::kDays:
      return kMicrosPerDay;
    case TimeUnit::kWeeks:
      return kMicrosPerWeek;
    case TimeUnit::kMonths:
    case TimeUnit::kYears:
      break;
  }
  return 0;
}

Value DateDiff(TimeUnit unit, const std::vector<Value>& args, const Shape& shape) {
  const Value& end = args[0];
  const Value& start = args[1];
  const bool calendar = unit == TimeUnit::kMonths || unit == TimeUnit::kYears;
  if (end.type() == DataType::kDate) {
    const StridedRead<int32_t> e = Reader<int32_t>(end);
    const StridedRead<int32_t> s = Reader<int32_t>(start);
    return MapRows<int64_t>(
        DataType::kInt64, shape, {&end, &start}, [&](int64_t row, int64_t* out) {
          const int64_t end_day = e(row);
          const int64_t start_day = s(row);
          if (calendar) {
            if (!InCivilRange(end_day) || !InCivilRange(start_day)) return false;
            const int64_t months = MonthsBetween(end_day, 0, start_day, 0);
            *out = unit == TimeUnit::kYears ? months / 12 : months;
            return true;
          }
          const int64_t days = end_day - start_day;  // at most 2^32: no overflow below
          switch (unit) {
            case TimeUnit::kSeconds:
              *out = days * 86'400;
              break;
            case TimeUnit::kMinutes:
              *out = days * 1'440;
              break;
            case TimeUnit::kHours:
              *out = days * 24;
              break;
            case TimeUnit::kWeeks:
              *out = days / 7;
              break;
            default:
              *out = days;
              break;
          }
          return true;
        });
  }
  const StridedRead<int64_t> e = Reader<int64_t>(end);
  const StridedRead<int64_t> s = Reader<int64_t>(start);
  return MapRows<int64_t>(DataType::kInt64, shape, {&end, &start}, [&](int64_t row, int64_t* out) {
    const int64_t end_micros = e(row);
    const int64_t start_micros = s(row);
    if (calendar) {
      const int64_t end_day = FloorDiv(end_micros, kMicrosPerDay);
      const int64_t start_day = FloorDiv(start_micros, kMicrosPerDay);
      if (!InCivilRange(end_day) || !InCivilRange(start_day)) return false;
      const int64_t months =
          MonthsBetween(end_day, MicrosOfDay(end_micros), start_day, MicrosOfDay(start_micros));
      *out = unit == TimeUnit::kYears ? months / 12 : months;
      return true;
    }
    int64_t difference = 0;
    if (__builtin_sub_overflow(end_micros, start_micros, &difference)) return false;
    *out = difference / MicrosPerUnit(unit);
    return true;
  });
}

Value DateAdd(TimeUnit unit, DataType type, const std::vector<Value>& args, const Shape& shape) {
  const Value& base = args[0];
  const StridedRead<int64_t> n = Reader<int64_t>(args[1]);
  const bool calendar = unit == TimeUnit::kMonths || unit == TimeUnit::kYears;
  const auto months_of = [unit](int64_t count, int64_t* months) {
    return unit == TimeUnit::kYears ? !__builtin_mul_overflow(count, 12, months)
                                    : (*months = count, true);
  };
  if (type == DataType::kDate) {
    const StridedRead<int32_t> d = Reader<int32_t>(base);
    return MapRows<int32_t>(DataType::kDate, shape, Pointers(args), [&](int64_t row, int32_t* out) {
      std::optional<int64_t> result;
      if (calendar) {
        int64_t months = 0;
        if (!months_of(n(row), &months)) return false;
        result = AddMonths(d(row), months);
      } else {
        int64_t days = 0;
        int64_t sum = 0;
        if (__builtin_mul_overflow(n(row), unit == TimeUnit::kWeeks ? 7 : 1, &days) ||
            __builtin_add_overflow(int64_t{d(row)}, days, &sum) || !InCivilRange(sum)) {
          return false;
        }
        result = sum;
      }
      if (!result) return false;
      *out = static_cast<int32_t>(*result);
      return true;
    });
  }
  const StridedRead<int64_t> t = Reader<int64_t>(base);
  return MapRows<int64_t>(
      DataType::kTimestamp, shape, Pointers(args), [&](int64_t row, int64_t* out) {
        const int64_t micros = t(row);
        if (calendar) {
          int64_t months = 0;
          if (!months_of(n(row), &months)) return false;
          const int64_t day = FloorDiv(micros, kMicrosPerDay);
          const auto shifted = AddMonths(day, months);
          int64_t midnight = 0;
          return shifted && !__builtin_mul_overflow(*shifted, kMicrosPerDay, &midnight) &&
                 !__builtin_add_overflow(midnight, MicrosOfDay(micros), out);
        }
        int64_t delta = 0;
        return !__builtin_mul_overflow(n(row), MicrosPerUnit(unit), &delta) &&
               !__builtin_add_overflow(micros, delta, out);
      });
}

Value ToDate(const Value& input, const Shape& shape) {
  if (input.type() == DataType::kDate) return input;
  if (input.type() == DataType::kTimestamp) {
    const StridedRead<int64_t> x = Reader<int64_t>(input);
    return MapRows<int32_t>(DataType::kDate, shape, {&input}, [&](int64_t row, int32_t* out) {
      *out = static_cast<int32_t>(FloorDiv(x(row), kMicrosPerDay));
      return true;
    });
  }
  const StringRead x = StringReader(input);
  return MapRows<int32_t>(DataType::kDate, shape, {&input}, [&](int64_t row, int32_t* out) {
    const std::string_view text = x(row);
    if (const auto days = common::ParseIsoDate(text)) {
      *out = *days;
      return true;
    }
    if (const auto micros = common::ParseIsoTimestamp(text)) {
      *out = static_cast<int32_t>(FloorDiv(*micros, kMicrosPerDay));
      return true;
    }
    return false;
  });
}

Value ToTimestamp(const Value& input, const Shape& shape) {
  if (input.type() == DataType::kTimestamp) return input;
  if (input.type() == DataType::kDate) {
    const StridedRead<int32_t> x = Reader<int32_t>(input);
    return MapRows<int64_t>(DataType::kTimestamp, shape, {&input}, [&](int64_t row, int64_t* out) {
      return !__builtin_mul_overflow(int64_t{x(row)}, kMicrosPerDay, out);
    });
  }
  const StringRead x = StringReader(input);
  return MapRows<int64_t>(DataType::kTimestamp, shape, {&input}, [&](int64_t row, int64_t* out) {
    const std::string_view text = x(row);
    if (const auto micros = common::ParseIsoTimestamp(text)) {
      *out = *micros;
      return true;
    }
    if (const auto days = common::ParseIsoDate(text)) {
      *out = int64_t{*days} * kMicrosPerDay;
      return true;
    }
    return false;
  });
}

}  // namespace

Value EvalFunction(const ExpressionNode& node, const std::vector<Value>& args, const Shape& shape,
                   const EvalOptions& options) {
  const DataType type = node.type;
  switch (node.function) {
    case Function::kIf:
      break;  // handled by Evaluator::EvalIf
    case Function::kIsNull:
      return NullTest(args[0], true, shape);
    case Function::kIsNotNull:
      return NullTest(args[0], false, shape);
    case Function::kCoalesce:
      if (type == DataType::kString) return CoalesceStrings(args, shape);
      return VisitFixedWidth(type, [&](auto tag) {
        using T = typename decltype(tag)::type;
        return CoalesceFixed<T>(type, args, shape);
      });
    case Function::kAbs:
      return Abs(args[0], shape);
    case Function::kRound:
      return Round(args, shape);
    case Function::kFloor:
    case Function::kCeil: {
      if (type == DataType::kInt64) return args[0];
      const bool floor = node.function == Function::kFloor;
      return FloatUnary(args[0], shape, [floor](double x) -> std::optional<double> {
        return floor ? std::floor(x) : std::ceil(x);
      });
    }
    case Function::kLog:
      return Log(args, shape);
    case Function::kExp:
      return FloatUnary(args[0], shape,
                        [](double x) -> std::optional<double> { return std::exp(x); });
    case Function::kSqrt:
      return FloatUnary(args[0], shape, [](double x) -> std::optional<double> {
        if (x < 0) return std::nullopt;
        return std::sqrt(x);
      });
    case Function::kPow:
      return Pow(args, shape);
    case Function::kMin:
    case Function::kMax:
      return Extreme(type, node.function == Function::kMax, args, shape);
    case Function::kLength: {
      const StringRead x = StringReader(args[0]);
      return MapRows<int64_t>(DataType::kInt64, shape, {&args[0]}, [&](int64_t row, int64_t* out) {
        *out = CodePointCount(x(row));
        return true;
      });
    }
    case Function::kLower:
    case Function::kUpper: {
      const StringRead x = StringReader(args[0]);
      const bool upper = node.function == Function::kUpper;
      return MapStrings(shape, {&args[0]}, [&](int64_t row, std::string* out) {
        MapCase(x(row), upper, out);
        return true;
      });
    }
    case Function::kTrim: {
      const StringRead x = StringReader(args[0]);
      return MapStrings(shape, {&args[0]}, [&](int64_t row, std::string* out) {
        std::string_view text = x(row);
        while (!text.empty() && IsTrimmed(text.front())) text.remove_prefix(1);
        while (!text.empty() && IsTrimmed(text.back())) text.remove_suffix(1);
        out->append(text);
        return true;
      });
    }
    case Function::kContains:
    case Function::kStartsWith:
    case Function::kEndsWith: {
      const StringRead text = StringReader(args[0]);
      const StringRead part = StringReader(args[1]);
      const Function function = node.function;
      return MapRows<uint8_t>(
          DataType::kBool, shape, Pointers(args), [&](int64_t row, uint8_t* out) {
            const std::string_view t = text(row);
            const std::string_view p = part(row);
            const bool match = function == Function::kContains ? t.find(p) != std::string_view::npos
                               : function == Function::kStartsWith ? t.starts_with(p)
                                                                   : t.ends_with(p);
            *out = match ? 1 : 0;
            return true;
          });
    }
    case Function::kSubstring: {
      const StringRead text = StringReader(args[0]);
      const StridedRead<int64_t> start = Reader<int64_t>(args[1]);
      const bool has_length = args.size() == 3;
      const StridedRead<int64_t> length =
          has_length ? Reader<int64_t>(args[2]) : StridedRead<int64_t>{nullptr, 0};
      return MapStrings(shape, Pointers(args), [&](int64_t row, std::string* out) {
        Substring(text(row), start(row),
                  has_length ? std::optional<int64_t>(length(row)) : std::nullopt, out);
        return true;
      });
    }
    case Function::kReplace: {
      const StringRead text = StringReader(args[0]);
      const StringRead from = StringReader(args[1]);
      const StringRead to = StringReader(args[2]);
      return MapStrings(shape, Pointers(args), [&](int64_t row, std::string* out) {
        ReplaceAll(text(row), from(row), to(row), out);
        return true;
      });
    }
    case Function::kConcat: {
      std::vector<StringRead> readers;
      for (const Value& arg : args) readers.push_back(StringReader(arg));
      return MapStrings(shape, Pointers(args), [&](int64_t row, std::string* out) {
        for (const StringRead& read : readers) out->append(read(row));
        return true;
      });
    }
    case Function::kToString:
      return ToString(args[0], shape);
    case Function::kToNumber:
      return ToNumber(args[0], shape);
    case Function::kYear:
    case Function::kMonth:
    case Function::kDay:
    case Function::kWeekday:
      return DatePart(node.function, args[0], shape);
    case Function::kDateDiff:
      return DateDiff(node.unit, args, shape);
    case Function::kDateAdd:
      return DateAdd(node.unit, type, args, shape);
    case Function::kNow: {
      Array array;
      array.ints = {options.now_micros};
      return Value::Owned(DataType::kTimestamp, true, std::move(array));
    }
    case Function::kDate:
      return ToDate(args[0], shape);
    case Function::kTimestamp:
      return ToTimestamp(args[0], shape);
  }
  return Value::AllNull(type, shape.scalar, shape.rows);
}

}  // namespace assay::expr
