// Prepare processors over dates: parse_dates (strftime-like formats tried in order),
// date_parts, date_diff. The format parser is written here rather than taken from strptime so
// month names and whitespace rules do not depend on the process locale.
#include <algorithm>
#include <array>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/status_macros.h"
#include "recipes/prepare_processor.h"

namespace assay::recipes {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// ---- The format parser -------------------------------------------------------------------------

enum class Directive : uint8_t {
  kLiteral,
  kSpace,  // whitespace in the format: zero or more whitespace characters
  kYear4,
  kYear2,
  kMonth,
  kMonthName,
  kDay,
  kDayOfYear,
  kHour24,
  kHour12,
  kMinute,
  kSecond,
  kFraction,
  kAmPm,
  kZone,
};

struct FormatToken {
  Directive directive;
  char literal = 0;
};

struct DateFormat {
  std::string text;
  std::vector<FormatToken> tokens;
};

// Compiles a strftime-like format. Errors: INVALID_ARGUMENT naming the unsupported directive.
absl::StatusOr<DateFormat> CompileFormat(const std::string& text) {
  DateFormat format{text, {}};
  auto add = [&](Directive directive, char literal = 0) {
    format.tokens.push_back(FormatToken{directive, literal});
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '%') {
      if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
        if (format.tokens.empty() || format.tokens.back().directive != Directive::kSpace) {
          add(Directive::kSpace);
        }
      } else {
        add(Directive::kLiteral, c);
      }
      continue;
    }
    if (++i == text.size()) {
      return absl::InvalidArgumentError(absl::StrCat("format ", Quote(text), " ends with %"));
    }
    switch (text[i]) {
      case 'Y':
        add(Directive::kYear4);
        break;
      case 'y':
        add(Directive::kYear2);
        break;
      case 'm':
        add(Directive::kMonth);
        break;
      case 'b':
      case 'B':
      case 'h':
        add(Directive::kMonthName);
        break;
      case 'd':
      case 'e':
        add(Directive::kDay);
        break;
      case 'j':
        add(Directive::kDayOfYear);
        break;
      case 'H':
        add(Directive::kHour24);
        break;
      case 'I':
        add(Directive::kHour12);
        break;
      case 'M':
        add(Directive::kMinute);
        break;
      case 'S':
        add(Directive::kSecond);
        break;
      case 'f':
        add(Directive::kFraction);
        break;
      case 'p':
        add(Directive::kAmPm);
        break;
      case 'z':
        add(Directive::kZone);
        break;
      case '%':
        add(Directive::kLiteral, '%');
        break;
      case 'F':
        add(Directive::kYear4), add(Directive::kLiteral, '-'), add(Directive::kMonth);
        add(Directive::kLiteral, '-'), add(Directive::kDay);
        break;
      case 'T':
        add(Directive::kHour24), add(Directive::kLiteral, ':'), add(Directive::kMinute);
        add(Directive::kLiteral, ':'), add(Directive::kSecond);
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(
            "format ", Quote(text), ": unsupported directive %", std::string(1, text[i]),
            " (supported: %Y %y %m %b %B %d %e %j %H %I %M %S %f %p %z %F %T %%)"));
    }
  }
  return format;
}

constexpr std::array<std::string_view, 12> kMonthNames = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

// Reads between min_digits and max_digits digits (greedy).
bool ReadNumber(std::string_view text, size_t& pos, int min_digits, int max_digits,
                int64_t* value) {
  int digits = 0;
  int64_t out = 0;
  while (digits < max_digits && pos < text.size() && absl::ascii_isdigit(text[pos])) {
    out = out * 10 + (text[pos] - '0');
    ++pos;
    ++digits;
  }
  *value = out;
  return digits >= min_digits;
}

bool StartsWithIgnoreCase(std::string_view text, size_t pos, std::string_view word) {
  if (text.size() - pos < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  }
  return true;
}

struct ParsedTime {
  int64_t year = 1970, month = 1, day = 1, day_of_year = 0;
  int64_t hour = 0, minute = 0, second = 0, micros = 0;
  int64_t zone_seconds = 0;
  int pm = -1;  // -1: no %p, 0: AM, 1: PM
  bool has_month_day = false;
};

// Parses `text` (already trimmed) with `format`. Returns the days since the epoch of the civil
// date as written and the microseconds since the epoch in UTC; nullopt if it does not match.
std::optional<std::pair<int32_t, int64_t>> ParseWithFormat(std::string_view text,
                                                           const DateFormat& format) {
  ParsedTime t;
  size_t pos = 0;
  int64_t value = 0;
  bool hour12 = false;
  for (const FormatToken& token : format.tokens) {
    switch (token.directive) {
      case Directive::kLiteral:
        if (pos >= text.size() || text[pos] != token.literal) return std::nullopt;
        ++pos;
        break;
      case Directive::kSpace:
        while (pos < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[pos]))) {
          ++pos;
        }
        break;
      case Directive::kYear4:
        if (!ReadNumber(text, pos, 4, 4, &t.year)) return std::nullopt;
        break;
      case Directive::kYear2:
        if (!ReadNumber(text, pos, 2, 2, &value)) return std::nullopt;
        // POSIX strptime: 69-99 are 1969-1999, 00-68 are 2000-2068.
        t.year = value >= 69 ? 1900 + value : 2000 + value;
        break;
      case Directive::kMonth:
        if (!ReadNumber(text, pos, 1, 2, &t.month)) return std::nullopt;
        t.has_month_day = true;
        break;
      case Directive::kMonthName: {
        bool found = false;
        for (size_t m = 0; m < kMonthNames.size() && !found; ++m) {
          // The full name first, so "March" is not read as "Mar" + "ch".
          for (const std::string_view name : {kMonthNames[m], kMonthNames[m].substr(0, 3)}) {
            if (StartsWithIgnoreCase(text, pos, name)) {
              pos += name.size();
              t.month = static_cast<int64_t>(m) + 1;
              found = true;
              break;
            }
          }
        }
        if (!found) return std::nullopt;
        t.has_month_day = true;
        break;
      }
      case Directive::kDay:
        if (!ReadNumber(text, pos, 1, 2, &t.day)) return std::nullopt;
        t.has_month_day = true;
        break;
      case Directive::kDayOfYear:
        if (!ReadNumber(text, pos, 1, 3, &t.day_of_year) || t.day_of_year < 1) {
          return std::nullopt;
        }
        break;
      case Directive::kHour24:
      case Directive::kHour12:
        if (!ReadNumber(text, pos, 1, 2, &t.hour)) return std::nullopt;
        hour12 |= token.directive == Directive::kHour12;
        break;
      case Directive::kMinute:
        if (!ReadNumber(text, pos, 1, 2, &t.minute)) return std::nullopt;
        break;
      case Directive::kSecond:
        if (!ReadNumber(text, pos, 1, 2, &t.second)) return std::nullopt;
        break;
      case Directive::kFraction: {
        const size_t start = pos;
        if (!ReadNumber(text, pos, 1, 9, &value)) return std::nullopt;
        // Scale to microseconds: "5" is 500000, "123456789" is 123456 (truncated).
        int64_t digits = static_cast<int64_t>(pos - start);
        for (; digits < 6; ++digits) value *= 10;
        for (; digits > 6; --digits) value /= 10;
        t.micros = value;
        break;
      }
      case Directive::kAmPm:
        if (StartsWithIgnoreCase(text, pos, "am")) {
          t.pm = 0;
        } else if (StartsWithIgnoreCase(text, pos, "pm")) {
          t.pm = 1;
        } else {
          return std::nullopt;
        }
        pos += 2;
        break;
      case Directive::kZone: {
        if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
          ++pos;
          break;
        }
        if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return std::nullopt;
        const int64_t sign = text[pos++] == '-' ? -1 : 1;
        int64_t hours = 0;
        int64_t minutes = 0;
        if (!ReadNumber(text, pos, 2, 2, &hours)) return std::nullopt;
        if (pos < text.size() && text[pos] == ':') ++pos;
        if (pos < text.size() && absl::ascii_isdigit(text[pos]) &&
            !ReadNumber(text, pos, 2, 2, &minutes)) {
          return std::nullopt;
        }
        if (hours > 23 || minutes > 59) return std::nullopt;
        t.zone_seconds = sign * (hours * 3600 + minutes * 60);
        break;
      }
    }
  }
  if (pos != text.size()) return std::nullopt;
  if (hour12) {
    if (t.hour < 1 || t.hour > 12) return std::nullopt;
    if (t.pm >= 0) t.hour = t.hour % 12 + (t.pm == 1 ? 12 : 0);
  } else if (t.pm >= 0) {
    if (t.hour < 1 || t.hour > 12) return std::nullopt;
    t.hour = t.hour % 12 + (t.pm == 1 ? 12 : 0);
  }
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return std::nullopt;
  if (t.year < 1 || t.year > 9999) return std::nullopt;
  int32_t days;
  if (t.day_of_year > 0 && !t.has_month_day) {
    const bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
    if (t.day_of_year > (leap ? 366 : 365)) return std::nullopt;
    days = common::DaysFromCivil(static_cast<int32_t>(t.year), 1, 1) +
           static_cast<int32_t>(t.day_of_year - 1);
  } else {
    if (!common::IsValidCivilDate(static_cast<int32_t>(t.year), static_cast<uint32_t>(t.month),
                                  static_cast<uint32_t>(t.day))) {
      return std::nullopt;
    }
    days = common::DaysFromCivil(static_cast<int32_t>(t.year), static_cast<uint32_t>(t.month),
                                 static_cast<uint32_t>(t.day));
  }
  const int64_t micros =
      int64_t{days} * kMicrosPerDay +
      ((t.hour * 60 + t.minute) * 60 + t.second - t.zone_seconds) * kMicrosPerSecond + t.micros;
  return std::make_pair(days, micros);
}

// ---- parse_dates -------------------------------------------------------------------------------

class ParseDatesProcessor : public PrepareProcessor {
 public:
  ParseDatesProcessor(std::string column, std::optional<std::string> into,
                      std::vector<DateFormat> formats, DataType to, bool fail)
      : column_(std::move(column)),
        into_(std::move(into)),
        formats_(std::move(formats)),
        to_(to),
        fail_(fail) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireType(input, source, {DataType::kString}, ""));
    const std::string target = into_.value_or(column_);
    std::vector<Field> fields = input.fields();
    PutField(fields, target, to_);
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "parse_dates"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, source, target](const Table& table, const StepContext&,
                                         PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      ColumnBuilder builder(to_);
      builder.Reserve(column.size());
      std::vector<int64_t> format_hits(formats_.size(), 0);
      for (int64_t row = 0; row < column.size(); ++row) {
        if (column.IsNull(row)) {
          builder.AppendNull();
          continue;
        }
        const std::string_view text = TrimAscii(column.StringAt(row));
        std::optional<std::pair<int32_t, int64_t>> parsed;
        for (size_t f = 0; f < formats_.size() && !parsed; ++f) {
          parsed = ParseWithFormat(text, formats_[f]);
          format_hits[f] += parsed.has_value();
        }
        if (parsed.has_value()) {
          if (to_ == DataType::kDate) {
            builder.AppendDate(parsed->first);
          } else {
            builder.AppendInt64(parsed->second);
          }
          continue;
        }
        if (fail_) {
          return absl::InvalidArgumentError(absl::StrCat(
              "column ", Quote(column_), ", row ", row + 1, ": ", Quote(column.StringAt(row)),
              " matches none of the formats; add a format or set ",
              "on_error to \"null\" (counted in the run log)"));
        }
        ++log.conversion_failures;
        builder.AppendNull();
      }
      for (size_t f = 0; f < formats_.size(); ++f) {
        absl::StrAppend(&log.detail, f == 0 ? "" : ", ", Quote(formats_[f].text), ": ",
                        format_hits[f]);
      }
      if (log.conversion_failures > 0) {
        absl::StrAppend(&log.detail, "; ", log.conversion_failures, " unparsed set to null");
      }
      return PutColumn(table, target, builder.Finish());
    };
    return bound;
  }

 private:
  std::string column_;
  std::optional<std::string> into_;
  std::vector<DateFormat> formats_;
  DataType to_;
  bool fail_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseParseDates(StepConfig& config) {
  auto column = config.String("column");
  auto into = config.OptionalString("into");
  auto format_texts = config.StringList("formats", "formats such as \"%d/%m/%Y\"");
  const std::string to = config.Choice("to", {"date", "timestamp"}, "date");
  const std::string on_error = config.Choice("on_error", {"fail", "null"}, "");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  std::vector<DateFormat> formats;
  for (const std::string& text : format_texts) {
    absl::StatusOr<DateFormat> format = CompileFormat(text);
    if (!format.ok()) {
      config.Fail("formats", std::string(format.status().message()));
      return config.Finish();
    }
    formats.push_back(*std::move(format));
  }
  return std::make_unique<ParseDatesProcessor>(
      std::move(column), std::move(into), std::move(formats),
      to == "date" ? DataType::kDate : DataType::kTimestamp, on_error == "fail");
}

// ---- date_parts --------------------------------------------------------------------------------

enum class DatePart {
  kYear,
  kQuarter,
  kMonth,
  kDay,
  kWeekday,
  kDayOfYear,
  kWeek,
  kHour,
  kMinute,
  kSecond
};

struct PartName {
  std::string_view name;
  DatePart part;
};
constexpr std::array<PartName, 10> kPartNames = {{{"year", DatePart::kYear},
                                                  {"quarter", DatePart::kQuarter},
                                                  {"month", DatePart::kMonth},
                                                  {"day", DatePart::kDay},
                                                  {"weekday", DatePart::kWeekday},
                                                  {"day_of_year", DatePart::kDayOfYear},
                                                  {"week", DatePart::kWeek},
                                                  {"hour", DatePart::kHour},
                                                  {"minute", DatePart::kMinute},
                                                  {"second", DatePart::kSecond}}};

// ISO weekday: Monday 1 .. Sunday 7 (1970-01-01 was a Thursday).
int64_t IsoWeekday(int64_t days) { return ((days % 7 + 7) % 7 + 3) % 7 + 1; }

int64_t DayOfYear(int64_t days) {
  const common::CivilDate date = common::CivilFromDays(static_cast<int32_t>(days));
  return days - common::DaysFromCivil(date.year, 1, 1) + 1;
}

// ISO 8601 week number: the week (Monday first) containing the year's first Thursday is 1.
int64_t IsoWeek(int64_t days) {
  const int64_t thursday = days + 4 - IsoWeekday(days);
  return (DayOfYear(thursday) - 1) / 7 + 1;
}

class DatePartsProcessor : public PrepareProcessor {
 public:
  DatePartsProcessor(std::string column, std::vector<std::pair<std::string, DatePart>> parts,
                     std::string prefix)
      : column_(std::move(column)), parts_(std::move(parts)), prefix_(std::move(prefix)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int source, ResolveColumn(input, column_, "column"));
    ASSAY_RETURN_IF_ERROR(RequireType(input, source, {DataType::kDate, DataType::kTimestamp},
                                      "parse it with parse_dates first"));
    std::vector<Field> fields = input.fields();
    for (const auto& [name, part] : parts_) {
      if (input.field(source).type == DataType::kDate &&
          (part == DatePart::kHour || part == DatePart::kMinute || part == DatePart::kSecond)) {
        return absl::InvalidArgumentError(absl::StrCat("column ", Quote(column_),
                                                       " is a date without time; part ", name,
                                                       " needs a timestamp column"));
      }
      PutField(fields, prefix_ + name, DataType::kInt64);
    }
    ASSAY_RETURN_IF_ERROR(CheckUniqueNames(fields, "date_parts"));
    BoundStep bound;
    bound.output = Schema(fields);
    bound.apply = [this, source](const Table& table, const StepContext&,
                                 PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& column = table.column(source);
      const int64_t rows = column.size();
      TableEdit edit = TableEdit::From(table);
      for (const auto& [name, part] : parts_) {
        std::vector<int64_t> values(static_cast<size_t>(rows), 0);
        for (int64_t row = 0; row < rows; ++row) {
          if (column.IsNull(row)) continue;
          int64_t days;
          int64_t micros_of_day = 0;
          if (column.type() == DataType::kDate) {
            days = column.date_values()[row];
          } else {
            days = FloorDiv(column.int64_values()[row], kMicrosPerDay);
            micros_of_day = column.int64_values()[row] - days * kMicrosPerDay;
          }
          values[row] = Extract(part, days, micros_of_day);
        }
        edit.Put(prefix_ + name, *Column::FromInt64s(std::move(values), column.validity()));
      }
      return std::move(edit).Build();
    };
    return bound;
  }

 private:
  static int64_t Extract(DatePart part, int64_t days, int64_t micros_of_day) {
    const int64_t seconds_of_day = micros_of_day / kMicrosPerSecond;
    switch (part) {
      case DatePart::kYear:
        return common::CivilFromDays(static_cast<int32_t>(days)).year;
      case DatePart::kQuarter:
        return (common::CivilFromDays(static_cast<int32_t>(days)).month - 1) / 3 + 1;
      case DatePart::kMonth:
        return common::CivilFromDays(static_cast<int32_t>(days)).month;
      case DatePart::kDay:
        return common::CivilFromDays(static_cast<int32_t>(days)).day;
      case DatePart::kWeekday:
        return IsoWeekday(days);
      case DatePart::kDayOfYear:
        return DayOfYear(days);
      case DatePart::kWeek:
        return IsoWeek(days);
      case DatePart::kHour:
        return seconds_of_day / 3600;
      case DatePart::kMinute:
        return seconds_of_day / 60 % 60;
      case DatePart::kSecond:
        return seconds_of_day % 60;
    }
    return 0;
  }

  std::string column_;
  std::vector<std::pair<std::string, DatePart>> parts_;
  std::string prefix_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseDateParts(StepConfig& config) {
  auto column = config.String("column");
  auto names = config.StringList("parts",
                                 "date parts (year, quarter, month, day, weekday, "
                                 "day_of_year, week, hour, minute, second)");
  auto prefix = config.OptionalString("prefix").value_or(column + "_");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  std::vector<std::pair<std::string, DatePart>> parts;
  for (const std::string& name : names) {
    const auto it = std::find_if(kPartNames.begin(), kPartNames.end(),
                                 [&](const PartName& entry) { return entry.name == name; });
    if (it == kPartNames.end()) {
      config.Fail("parts", absl::StrCat("unknown part ", Quote(name),
                                        "; expected year, quarter, month, day, weekday, "
                                        "day_of_year, week, hour, minute or second"));
      return config.Finish();
    }
    parts.emplace_back(name, it->part);
  }
  return std::make_unique<DatePartsProcessor>(std::move(column), std::move(parts),
                                              std::move(prefix));
}

// ---- date_diff ---------------------------------------------------------------------------------

enum class DiffUnit { kSeconds, kMinutes, kHours, kDays, kWeeks, kMonths, kYears };

int64_t ToMicros(const Column& column, int64_t row) {
  return column.type() == DataType::kDate ? int64_t{column.date_values()[row]} * kMicrosPerDay
                                          : column.int64_values()[row];
}

// Complete calendar months from `start` to `end` (start <= end): Jan 31 -> Feb 28 is 0 months,
// Jan 15 -> Feb 15 is 1.
int64_t CompleteMonths(int64_t start, int64_t end) {
  const int64_t start_days = FloorDiv(start, kMicrosPerDay);
  const int64_t end_days = FloorDiv(end, kMicrosPerDay);
  const common::CivilDate a = common::CivilFromDays(static_cast<int32_t>(start_days));
  const common::CivilDate b = common::CivilFromDays(static_cast<int32_t>(end_days));
  int64_t months = (int64_t{b.year} - a.year) * 12 + (int64_t{b.month} - int64_t{a.month});
  const int64_t a_in_month = (a.day - 1) * kMicrosPerDay + (start - start_days * kMicrosPerDay);
  const int64_t b_in_month = (b.day - 1) * kMicrosPerDay + (end - end_days * kMicrosPerDay);
  if (b_in_month < a_in_month) --months;
  return months;
}

class DateDiffProcessor : public PrepareProcessor {
 public:
  DateDiffProcessor(std::string start, std::string end, DiffUnit unit, std::string into)
      : start_(std::move(start)), end_(std::move(end)), unit_(unit), into_(std::move(into)) {}

  absl::StatusOr<BoundStep> Bind(const Schema& input) const override {
    ASSAY_ASSIGN_OR_RETURN(const int start, ResolveColumn(input, start_, "start"));
    ASSAY_ASSIGN_OR_RETURN(const int end, ResolveColumn(input, end_, "end"));
    for (int index : {start, end}) {
      ASSAY_RETURN_IF_ERROR(RequireType(input, index, {DataType::kDate, DataType::kTimestamp},
                                        "parse it with parse_dates first"));
    }
    BoundStep bound;
    bound.output = WithField(input, into_, DataType::kInt64);
    bound.apply = [this, start, end](const Table& table, const StepContext&,
                                     PrepareStepLog& log) -> absl::StatusOr<Table> {
      const Column& a = table.column(start);
      const Column& b = table.column(end);
      const int64_t rows = table.num_rows();
      std::vector<int64_t> values(static_cast<size_t>(rows), 0);
      std::vector<uint8_t> valid(static_cast<size_t>(rows), 0);
      for (int64_t row = 0; row < rows; ++row) {
        if (a.IsNull(row) || b.IsNull(row)) continue;
        valid[row] = 1;
        const int64_t from = ToMicros(a, row);
        const int64_t to = ToMicros(b, row);
        const int64_t delta = to - from;  // C++ division truncates toward zero, as documented
        switch (unit_) {
          case DiffUnit::kSeconds:
            values[row] = delta / kMicrosPerSecond;
            break;
          case DiffUnit::kMinutes:
            values[row] = delta / (60 * kMicrosPerSecond);
            break;
          case DiffUnit::kHours:
            values[row] = delta / (3600 * kMicrosPerSecond);
            break;
          case DiffUnit::kDays:
            values[row] = delta / kMicrosPerDay;
            break;
          case DiffUnit::kWeeks:
            values[row] = delta / (7 * kMicrosPerDay);
            break;
          case DiffUnit::kMonths:
          case DiffUnit::kYears: {
            const int64_t months =
                from <= to ? CompleteMonths(from, to) : -CompleteMonths(to, from);
            values[row] = unit_ == DiffUnit::kMonths ? months : months / 12;
            break;
          }
        }
      }
      return PutColumn(table, into_,
                       *Column::FromInt64s(std::move(values), ValidityFromFlags(valid)));
    };
    return bound;
  }

 private:
  std::string start_;
  std::string end_;
  DiffUnit unit_;
  std::string into_;
};

absl::StatusOr<std::unique_ptr<PrepareProcessor>> ParseDateDiff(StepConfig& config) {
  auto start = config.String("start");
  auto end = config.String("end");
  const std::string unit = config.Choice(
      "unit", {"seconds", "minutes", "hours", "days", "weeks", "months", "years"}, "");
  auto into = config.String("into");
  ASSAY_RETURN_IF_ERROR(config.Finish());
  const DiffUnit units[] = {DiffUnit::kSeconds, DiffUnit::kMinutes, DiffUnit::kHours,
                            DiffUnit::kDays,    DiffUnit::kWeeks,   DiffUnit::kMonths,
                            DiffUnit::kYears};
  const std::string_view names[] = {"seconds", "minutes", "hours", "days",
                                    "weeks",   "months",  "years"};
  DiffUnit chosen = DiffUnit::kDays;
  for (size_t i = 0; i < 7; ++i) {
    if (names[i] == unit) chosen = units[i];
  }
  return std::make_unique<DateDiffProcessor>(std::move(start), std::move(end), chosen,
                                             std::move(into));
}

}  // namespace

void AddDateProcessors(std::vector<std::pair<std::string, ProcessorParser>>& registry) {
  registry.emplace_back("parse_dates", ParseParseDates);
  registry.emplace_back("date_parts", ParseDateParts);
  registry.emplace_back("date_diff", ParseDateDiff);
}

}  // namespace assay::recipes
