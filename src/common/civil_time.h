// Conversions between civil (proleptic Gregorian, UTC) dates/times and the integer encodings
// Assay stores: a date is days since 1970-01-01 (int32), a timestamp is microseconds since
// 1970-01-01T00:00:00Z (int64). Parsers accept ISO 8601 forms; formatters emit the canonical
// form that the parsers read back.
//
// Pure functions; thread-safe.
#ifndef ASSAY_COMMON_CIVIL_TIME_H_
#define ASSAY_COMMON_CIVIL_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace assay::common {

struct CivilDate {
  int32_t year;
  uint32_t month;  // 1..12
  uint32_t day;    // 1..31
};

// Days since 1970-01-01 for a valid civil date (no validation).
int32_t DaysFromCivil(int32_t year, uint32_t month, uint32_t day);
CivilDate CivilFromDays(int32_t days);

// True if (year, month, day) names a real calendar day.
bool IsValidCivilDate(int32_t year, uint32_t month, uint32_t day);

// Parses "YYYY-MM-DD". Returns nullopt for anything else or an impossible date.
std::optional<int32_t> ParseIsoDate(std::string_view text);

// Parses "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" with 'T' or ' ' as separator and an optional zone:
// "Z", "+HH:MM", "-HH:MM", "+HHMM" (converted to UTC). No zone means UTC.
// Returns nullopt for anything else.
std::optional<int64_t> ParseIsoTimestamp(std::string_view text);

// "YYYY-MM-DD".
std::string FormatDate(int32_t days);
// "YYYY-MM-DDTHH:MM:SSZ", or with ".ffffff" before the Z when the microseconds are not zero.
std::string FormatTimestampMicros(int64_t micros);

}  // namespace assay::common

#endif  // ASSAY_COMMON_CIVIL_TIME_H_
