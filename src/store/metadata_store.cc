#include "store/metadata_store.h"

#include <cassert>
#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace assay::store {

// The getters convert between types the way SQLite's own sqlite3_column_* functions do, so a
// value reads the same whichever backend produced it (PostgreSQL returns COUNT(*) as bigint,
// SQLite as INTEGER; both read back through GetInt).

bool SqlRow::IsNull(size_t index) const {
  assert(index < values_.size());
  return std::holds_alternative<std::monostate>(values_[index]);
}

int64_t SqlRow::GetInt(size_t index) const {
  assert(index < values_.size());
  const SqlValue& value = values_[index];
  if (const auto* integer = std::get_if<int64_t>(&value)) return *integer;
  if (const auto* real = std::get_if<double>(&value)) {
    // Out-of-range and NaN conversions are undefined behaviour in C++; clamp like SQLite.
    if (std::isnan(*real)) return 0;
    if (*real >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
    if (*real <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(*real);
  }
  if (const auto* text = std::get_if<std::string>(&value)) {
    int64_t parsed = 0;
    return absl::SimpleAtoi(*text, &parsed) ? parsed : 0;
  }
  return 0;
}

double SqlRow::GetDouble(size_t index) const {
  assert(index < values_.size());
  const SqlValue& value = values_[index];
  if (const auto* real = std::get_if<double>(&value)) return *real;
  if (const auto* integer = std::get_if<int64_t>(&value)) return static_cast<double>(*integer);
  if (const auto* text = std::get_if<std::string>(&value)) {
    double parsed = 0;
    return absl::SimpleAtod(*text, &parsed) ? parsed : 0.0;
  }
  return 0.0;
}

std::string SqlRow::GetText(size_t index) const {
  assert(index < values_.size());
  const SqlValue& value = values_[index];
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* integer = std::get_if<int64_t>(&value)) return absl::StrCat(*integer);
  if (const auto* real = std::get_if<double>(&value)) {
    // Shortest of 15 or 17 significant digits that reads back as the same double (absl::StrCat
    // would keep only 6).
    std::string text = absl::StrFormat("%.15g", *real);
    double parsed = 0;
    if (!absl::SimpleAtod(text, &parsed) || parsed != *real) text = absl::StrFormat("%.17g", *real);
    return text;
  }
  return std::string();
}

}  // namespace assay::store
