#include "common/civil_time.h"

#include <random>

#include "gtest/gtest.h"

namespace assay::common {
namespace {

TEST(CivilTime, EpochAndKnownDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
}

TEST(CivilTime, RoundTripsEveryDayOverFourCenturies) {
  for (int32_t days = -146097; days <= 146097; ++days) {
    const CivilDate date = CivilFromDays(days);
    ASSERT_TRUE(IsValidCivilDate(date.year, date.month, date.day));
    ASSERT_EQ(DaysFromCivil(date.year, date.month, date.day), days);
  }
}

TEST(CivilTime, ParsesIsoDatesAndRejectsImpossibleOnes) {
  EXPECT_EQ(ParseIsoDate("2024-02-29"), DaysFromCivil(2024, 2, 29));
  EXPECT_FALSE(ParseIsoDate("2023-02-29"));
  EXPECT_FALSE(ParseIsoDate("2023-13-01"));
  EXPECT_FALSE(ParseIsoDate("2023-1-01"));
  EXPECT_FALSE(ParseIsoDate("20230101"));
  EXPECT_FALSE(ParseIsoDate(""));
}

TEST(CivilTime, ParsesTimestampsWithZones) {
  const int64_t base = int64_t{DaysFromCivil(2026, 11, 28)} * 86400 * 1000000;
  EXPECT_EQ(ParseIsoTimestamp("2026-11-28T00:00:00Z"), base);
  EXPECT_EQ(ParseIsoTimestamp("2026-11-28 00:00"), base);
  EXPECT_EQ(ParseIsoTimestamp("2026-11-28T01:00:00+01:00"), base);
  EXPECT_EQ(ParseIsoTimestamp("2026-11-27T23:00:00-0100"), base);
  EXPECT_EQ(ParseIsoTimestamp("2026-11-28T00:00:00.5Z"), base + 500000);
  EXPECT_FALSE(ParseIsoTimestamp("2026-11-28T24:00:00"));
  EXPECT_FALSE(ParseIsoTimestamp("2026-11-28T00:00:00Q"));
  EXPECT_FALSE(ParseIsoTimestamp("2026-11-28"));
}

TEST(CivilTime, FormatParseRoundTrip) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> dist(-4'000'000'000'000'000, 4'000'000'000'000'000);
  for (int i = 0; i < 10000; ++i) {
    const int64_t micros = dist(rng);
    const std::string text = FormatTimestampMicros(micros);
    ASSERT_EQ(ParseIsoTimestamp(text), micros) << text;
  }
}

}  // namespace
}  // namespace assay::common
