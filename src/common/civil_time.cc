#include "common/civil_time.h"

#include <cstdio>

namespace assay::common {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at text[pos..]; returns false if any is not a digit.
bool ReadDigits(std::string_view text, size_t pos, size_t n, uint32_t* out) {
  if (pos + n > text.size()) return false;
  uint32_t value = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  *out = value;
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

// Howard Hinnant, "chrono-Compatible Low-Level Date Algorithms", days_from_civil.
int32_t DaysFromCivil(int32_t year, uint32_t month, uint32_t day) {
  year -= month <= 2;
  const int32_t era = (year >= 0 ? year : year - 399) / 400;
  const auto yoe = static_cast<uint32_t>(year - era * 400);
  const uint32_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

// Same source, civil_from_days.
CivilDate CivilFromDays(int32_t days) {
  days += 719468;
  const int32_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<uint32_t>(days - era * 146097);
  const uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int32_t y = static_cast<int32_t>(yoe) + era * 400;
  const uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint32_t mp = (5 * doy + 2) / 153;
  const uint32_t d = doy - (153 * mp + 2) / 5 + 1;
  const uint32_t m = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{y + (m <= 2), m, d};
}

bool IsValidCivilDate(int32_t year, uint32_t month, uint32_t day) {
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr uint32_t kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const uint32_t limit = (month == 2 && leap) ? 29 : kDays[month - 1];
  return day <= limit;
}

std::optional<int32_t> ParseIsoDate(std::string_view text) {
  uint32_t y, m, d;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!ReadDigits(text, 0, 4, &y) || !ReadDigits(text, 5, 2, &m) || !ReadDigits(text, 8, 2, &d)) {
    return std::nullopt;
  }
  if (!IsValidCivilDate(static_cast<int32_t>(y), m, d)) return std::nullopt;
  return DaysFromCivil(static_cast<int32_t>(y), m, d);
}

std::optional<int64_t> ParseIsoTimestamp(std::string_view text) {
  if (text.size() < 16) return std::nullopt;
  const auto date = ParseIsoDate(text.substr(0, 10));
  if (!date || (text[10] != 'T' && text[10] != ' ')) return std::nullopt;
  uint32_t hh, mm, ss = 0;
  if (!ReadDigits(text, 11, 2, &hh) || text[13] != ':' || !ReadDigits(text, 14, 2, &mm)) {
    return std::nullopt;
  }
  size_t pos = 16;
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == ':') {
    if (!ReadDigits(text, pos + 1, 2, &ss)) return std::nullopt;
    pos += 3;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      int64_t scale = 100'000;
      size_t digits = 0;
      while (pos < text.size() && IsDigit(text[pos])) {
        if (digits < 6) micros += (text[pos] - '0') * scale;
        scale /= 10;
        ++digits;
        ++pos;
      }
      if (digits == 0 || digits > 9) return std::nullopt;
    }
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    const char sign = text[pos];
    if (sign == 'Z' && pos + 1 == text.size()) {
      pos += 1;
    } else if (sign == '+' || sign == '-') {
      uint32_t oh, om;
      if (!ReadDigits(text, pos + 1, 2, &oh)) return std::nullopt;
      size_t minute_pos = pos + 3;
      if (minute_pos < text.size() && text[minute_pos] == ':') ++minute_pos;
      if (!ReadDigits(text, minute_pos, 2, &om) || minute_pos + 2 != text.size()) {
        return std::nullopt;
      }
      if (oh > 23 || om > 59) return std::nullopt;
      offset_seconds = (sign == '+' ? 1 : -1) * static_cast<int64_t>(oh * 3600 + om * 60);
      pos = text.size();
    } else {
      return std::nullopt;
    }
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t seconds = static_cast<int64_t>(hh) * 3600 + mm * 60 + ss - offset_seconds;
  return static_cast<int64_t>(*date) * kMicrosPerDay + seconds * kMicrosPerSecond + micros;
}

std::string FormatDate(int32_t days) {
  const CivilDate date = CivilFromDays(days);
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u", date.year, date.month, date.day);
  return buffer;
}

std::string FormatTimestampMicros(int64_t micros) {
  const int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rest = micros - days * kMicrosPerDay;
  const CivilDate date = CivilFromDays(static_cast<int32_t>(days));
  const int64_t fraction = rest % kMicrosPerSecond;
  rest /= kMicrosPerSecond;
  char buffer[48];
  if (fraction == 0) {
    std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02dZ", date.year, date.month,
                  date.day, static_cast<int>(rest / 3600), static_cast<int>(rest / 60 % 60),
                  static_cast<int>(rest % 60));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", date.year,
                  date.month, date.day, static_cast<int>(rest / 3600),
                  static_cast<int>(rest / 60 % 60), static_cast<int>(rest % 60),
                  static_cast<int>(fraction));
  }
  return buffer;
}

}  // namespace assay::common
