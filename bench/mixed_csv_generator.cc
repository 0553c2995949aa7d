// Deterministic synthetic HCP-prescription CSV rows; see mixed_csv_generator.h.
#include "mixed_csv_generator.h"

#include <array>
#include <charconv>
#include <cstddef>
#include <string_view>

#include "common/civil_time.h"

namespace assay::bench {
namespace {

// 128-bit product for Lemire's bounded draw; __extension__ keeps -Wpedantic quiet.
__extension__ typedef unsigned __int128 Uint128;

// Each nullable column is empty in about 2% of rows.
constexpr uint64_t kNullPerMille = 20;

// Specialties with a comma must be quoted on output; the reader has to keep them whole.
constexpr std::array<std::string_view, 14> kSpecialties = {
    "Oncology, Medical", "Cardiology",          "Family Medicine",      "Internal Medicine",
    "Endocrinology",     "Neurology",           "Psychiatry",           "Pediatrics",
    "Rheumatology",      "Surgery, General",    "Hematology, Oncology", "Nurse Practitioner",
    "Pulmonary Disease", "Physician Assistant",
};

constexpr std::array<std::string_view, 32> kNoteWords = {
    "discussed", "efficacy", "data",     "with",     "HCP",     "requested", "samples",
    "follow-up", "next",     "quarter",  "prefers",  "generic", "formulary", "access",
    "concern",   "about",    "side",     "effects",  "patient", "support",   "program",
    "enrolled",  "new",      "starts",   "declined", "meeting", "lunch",     "and",
    "learn",     "payer",    "coverage", "renewal",
};

// Quoted terms inside notes; on output each '"' is doubled (RFC 4180 section 2.7).
constexpr std::array<std::string_view, 4> kQuotedTerms = {
    "\"prior auth\"",
    "\"step therapy\"",
    "\"samples\"",
    "\"copay card\"",
};

using common::CivilDate;
using common::CivilFromDays;
using common::DaysFromCivil;

const int64_t kFirstRxFirstDay = DaysFromCivil(2010, 1, 1);
const int64_t kFirstRxLastDay = DaysFromCivil(2026, 11, 28);
const int64_t kCallFirstSecond = int64_t{DaysFromCivil(2025, 1, 1)} * 86400;
const int64_t kCallLastSecond = int64_t{DaysFromCivil(2026, 11, 28)} * 86400;

// NPI check digit: Luhn over the 9-digit base prefixed with "80840", which adds a constant 24
// to the Luhn sum (CMS, "Requirements for National Provider Identifier (NPI) and NPI
// Enumeration", check-digit annex).
uint64_t NpiWithCheckDigit(uint64_t base9) {
  unsigned sum = 24;
  bool double_it = true;  // the rightmost base digit is doubled
  for (uint64_t rest = base9; rest != 0; rest /= 10) {
    unsigned digit = static_cast<unsigned>(rest % 10);
    if (double_it) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double_it = !double_it;
  }
  return base9 * 10 + (10 - sum % 10) % 10;
}

void AppendUint(std::string* out, uint64_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  out->append(digits, result.ptr);
}

// Appends `value` zero-padded to `width` digits (value < 10^width).
void AppendPadded(std::string* out, uint64_t value, int width) {
  char digits[24];
  for (int pos = width - 1; pos >= 0; --pos) {
    digits[pos] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out->append(digits, static_cast<size_t>(width));
}

void AppendDate(std::string* out, int64_t days) {
  const CivilDate date = CivilFromDays(static_cast<int32_t>(days));
  AppendPadded(out, static_cast<uint64_t>(date.year), 4);
  out->push_back('-');
  AppendPadded(out, date.month, 2);
  out->push_back('-');
  AppendPadded(out, date.day, 2);
}

// Appends `text` as one CSV field, quoted only when RFC 4180 requires it.
void AppendCsvField(std::string* out, std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

MixedCsvGenerator::MixedCsvGenerator(uint64_t seed) : state_(seed) {}

uint64_t MixedCsvGenerator::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t MixedCsvGenerator::Below(uint64_t bound) {
  return static_cast<uint64_t>((static_cast<Uint128>(Next()) * bound) >> 64);
}

bool MixedCsvGenerator::Chance(uint64_t per_mille) { return Below(1000) < per_mille; }

void MixedCsvGenerator::AppendHeader(std::string* out) const { out->append(kHeader); }

void MixedCsvGenerator::AppendNote(std::string* out) {
  // A few words, sometimes a second clause after a comma, sometimes a quoted term: about a
  // fifth of the notes need RFC 4180 quoting.
  std::string note;
  note.reserve(96);
  const uint64_t words = 2 + Below(8);
  for (uint64_t word = 0; word < words; ++word) {
    if (word != 0) note.push_back(Chance(60) ? ',' : ' ');
    if (word != 0 && note.back() == ',') note.push_back(' ');
    if (Chance(25)) {
      note.append(kQuotedTerms[Below(kQuotedTerms.size())]);
    } else {
      note.append(kNoteWords[Below(kNoteWords.size())]);
    }
  }
  AppendCsvField(out, note);
}

void MixedCsvGenerator::AppendRow(std::string* out) {
  // hcp_id: never null, unique.
  AppendUint(out, static_cast<uint64_t>(kFirstHcpId) + rows_);
  out->push_back(',');

  // npi: 10 digits, starting with 1 or 2 like real NPIs, valid check digit.
  if (!Chance(kNullPerMille)) AppendUint(out, NpiWithCheckDigit(100000000 + Below(200000000)));
  out->push_back(',');

  if (!Chance(kNullPerMille)) AppendCsvField(out, kSpecialties[Below(kSpecialties.size())]);
  out->push_back(',');

  if (!Chance(kNullPerMille)) AppendNote(out);
  out->push_back(',');

  // rx_volume: skewed towards small prescribers, 0.00 .. 9999.99, two decimals.
  if (!Chance(kNullPerMille)) {
    const uint64_t u = Below(1000000);
    const uint64_t hundredths = u * u / 1000000;
    AppendUint(out, hundredths / 100);
    out->push_back('.');
    AppendPadded(out, hundredths % 100, 2);
  }
  out->push_back(',');

  // market_share: 0.0000 .. 1.0000, four decimals.
  if (!Chance(kNullPerMille)) {
    const uint64_t share = Below(10001);
    AppendUint(out, share / 10000);
    out->push_back('.');
    AppendPadded(out, share % 10000, 4);
  }
  out->push_back(',');

  if (!Chance(kNullPerMille)) {
    AppendDate(out, kFirstRxFirstDay +
                        static_cast<int64_t>(Below(kFirstRxLastDay - kFirstRxFirstDay + 1)));
  }
  out->push_back(',');

  // last_call_ts: ISO 8601 UTC with a Z suffix.
  if (!Chance(kNullPerMille)) {
    const int64_t second =
        kCallFirstSecond + static_cast<int64_t>(Below(kCallLastSecond - kCallFirstSecond));
    const int64_t day = second / 86400;
    const int64_t in_day = second % 86400;
    AppendDate(out, day);
    out->push_back('T');
    AppendPadded(out, static_cast<uint64_t>(in_day / 3600), 2);
    out->push_back(':');
    AppendPadded(out, static_cast<uint64_t>(in_day / 60 % 60), 2);
    out->push_back(':');
    AppendPadded(out, static_cast<uint64_t>(in_day % 60), 2);
    out->push_back('Z');
  }
  out->push_back(',');

  // is_target: about 30% true.
  if (!Chance(kNullPerMille)) out->append(Chance(300) ? "true" : "false");
  out->push_back('\n');

  ++rows_;
}

void GenerateMixedCsv(uint64_t seed, uint64_t target_bytes, std::string* out) {
  MixedCsvGenerator generator(seed);
  out->clear();
  out->reserve(target_bytes + 512);
  generator.AppendHeader(out);
  while (true) {
    const size_t before = out->size();
    generator.AppendRow(out);
    if (out->size() > target_bytes) {
      out->resize(before);
      return;
    }
  }
}

}  // namespace assay::bench
