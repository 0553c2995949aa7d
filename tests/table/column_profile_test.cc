#include "table/column_profile.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/civil_time.h"
#include "gtest/gtest.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::table {
namespace {

using nlohmann::json;

Column Int64s(const std::vector<std::optional<int64_t>>& values) {
  ColumnBuilder builder(DataType::kInt64);
  for (const auto& value : values) value ? builder.AppendInt64(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Float64s(const std::vector<std::optional<double>>& values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (const auto& value : values) value ? builder.AppendFloat64(*value) : builder.AppendNull();
  return builder.Finish();
}

Column Strings(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) value ? builder.AppendString(*value) : builder.AppendNull();
  return builder.Finish();
}

// The 20 most frequent values by a naive method: the map is ordered by value, and a stable
// sort by count keeps that order among ties (count descending, then value ascending).
std::vector<ValueCount> ReferenceTopValues(const std::map<std::string, int64_t>& counts) {
  std::vector<ValueCount> expected;
  for (const auto& [value, count] : counts) expected.push_back({value, count});
  std::stable_sort(expected.begin(), expected.end(),
                   [](const ValueCount& a, const ValueCount& b) { return a.count > b.count; });
  if (expected.size() > 20) expected.resize(20);
  return expected;
}

double AsDouble(const ProfileNumber& number) { return ProfileNumberToDouble(number); }

// ---------------------------------------------------------------------------------------------
// Naive reference implementations.

// numpy.percentile(values, 100 q) with the default linear method, via a full sort.
double ReferenceQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const double h = static_cast<double>(values.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double ReferenceMean(const std::vector<double>& values) {
  long double sum = 0;
  for (double v : values) sum += v;
  return static_cast<double>(sum / values.size());
}

double ReferenceStd(const std::vector<double>& values) {
  const double mean = ReferenceMean(values);
  long double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(static_cast<double>(squares / (values.size() - 1)));
}

// Histogram counts by the edge definition: bin i holds edges[i] <= x < edges[i + 1], the last
// bin also holds the maximum.
std::vector<int64_t> ReferenceHistogram(const std::vector<double>& values,
                                        const std::vector<double>& edges) {
  std::vector<int64_t> counts(edges.size() - 1, 0);
  for (double v : values) {
    size_t bin = 0;
    while (bin + 1 < counts.size() && v >= edges[bin + 1]) ++bin;
    ++counts[bin];
  }
  return counts;
}

std::vector<double> EdgesAsDoubles(const Histogram& histogram) {
  std::vector<double> edges;
  for (const ProfileNumber& edge : histogram.edges) edges.push_back(AsDouble(edge));
  return edges;
}

void ExpectNear(double actual, double expected, const std::string& what) {
  EXPECT_NEAR(actual, expected, 1e-9 * std::max(1.0, std::abs(expected))) << what;
}

// ---------------------------------------------------------------------------------------------
// Numeric columns.

TEST(ColumnProfile, MatchesNumpyOnKnownValues) {
  const ColumnProfile profile =
      ProfileColumn("x", Int64s({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, std::nullopt}));
  EXPECT_EQ(profile.count, 11);
  EXPECT_EQ(profile.nulls, 1);
  EXPECT_EQ(profile.distinct, 10);
  EXPECT_EQ(profile.min, ProfileNumber(int64_t{1}));
  EXPECT_EQ(profile.max, ProfileNumber(int64_t{10}));
  ASSERT_TRUE(profile.mean && profile.stddev);
  EXPECT_DOUBLE_EQ(*profile.mean, 5.5);
  EXPECT_DOUBLE_EQ(*profile.stddev, 3.0276503540974917);  // numpy.std(x, ddof=1)
  ASSERT_TRUE(profile.quantiles);
  // numpy.percentile(range(1, 11), [1, 5, 25, 50, 75, 95, 99])
  const double expected[] = {1.09, 1.45, 3.25, 5.5, 7.75, 9.55, 9.91};
  for (size_t i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(AsDouble((*profile.quantiles)[i]), expected[i]);
  ASSERT_TRUE(profile.histogram);
  EXPECT_EQ(profile.histogram->edges.size(), 21u);
  EXPECT_EQ(AsDouble(profile.histogram->edges.front()), 1.0);
  EXPECT_EQ(AsDouble(profile.histogram->edges.back()), 10.0);
  // numpy.histogram(range(1, 11), bins=20)[0]
  const std::vector<int64_t> numpy_counts = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0,
                                             0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  EXPECT_EQ(profile.histogram->counts, numpy_counts);
  EXPECT_FALSE(profile.nan_count.has_value());
  EXPECT_TRUE(profile.top_values.empty());
  EXPECT_FALSE(profile.min_length.has_value());
}

TEST(ColumnProfile, NumericColumnsMatchReferenceOnRandomData) {
  std::mt19937_64 rng(42);
  for (int trial = 0; trial < 12; ++trial) {
    SCOPED_TRACE(trial);
    const int64_t rows = 1 + static_cast<int64_t>(rng() % 3000);
    const bool floats = trial % 2 == 1;
    const int64_t range = trial < 4 ? 10 : 1'000'000;  // many ties vs few
    std::vector<double> reference;
    ColumnBuilder builder(floats ? DataType::kFloat64 : DataType::kInt64);
    for (int64_t row = 0; row < rows; ++row) {
      if (rng() % 7 == 0) {
        builder.AppendNull();
        continue;
      }
      const int64_t base = static_cast<int64_t>(rng() % range) - range / 3;
      if (floats) {
        const double value =
            static_cast<double>(base) / 8.0 + 1e-3 * static_cast<double>(rng() % 5);
        builder.AppendFloat64(value);
        reference.push_back(value);
      } else {
        builder.AppendInt64(base);
        reference.push_back(static_cast<double>(base));
      }
    }
    const ColumnProfile profile = ProfileColumn("v", builder.Finish());
    EXPECT_EQ(profile.count, rows);
    EXPECT_EQ(profile.nulls, rows - static_cast<int64_t>(reference.size()));
    EXPECT_EQ(profile.distinct,
              static_cast<int64_t>(std::set<double>(reference.begin(), reference.end()).size()));
    if (reference.empty()) continue;
    EXPECT_EQ(AsDouble(*profile.min), *std::min_element(reference.begin(), reference.end()));
    EXPECT_EQ(AsDouble(*profile.max), *std::max_element(reference.begin(), reference.end()));
    ExpectNear(*profile.mean, ReferenceMean(reference), "mean");
    if (reference.size() > 1) {
      ExpectNear(*profile.stddev, ReferenceStd(reference), "std");
    } else {
      EXPECT_FALSE(profile.stddev.has_value());
    }
    for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
      ExpectNear(AsDouble((*profile.quantiles)[i]),
                 ReferenceQuantile(reference, kProfileQuantiles[i]), kProfileQuantileNames[i]);
    }
    const Histogram& histogram = *profile.histogram;
    int64_t total = 0;
    for (int64_t count : histogram.counts) total += count;
    EXPECT_EQ(total, static_cast<int64_t>(reference.size()));
    if (histogram.counts.size() == 20) {
      EXPECT_EQ(histogram.counts, ReferenceHistogram(reference, EdgesAsDoubles(histogram)));
      EXPECT_TRUE(std::is_sorted(histogram.edges.begin(), histogram.edges.end(),
                                 [](const ProfileNumber& a, const ProfileNumber& b) {
                                   return AsDouble(a) < AsDouble(b);
                                 }));
    }
  }
}

// More distinct values than the hash-map path takes: the radix-sort path, with negative
// numbers, -0.0 and nulls.
TEST(ColumnProfile, HighCardinalityColumnsMatchReference) {
  std::mt19937_64 rng(2024);
  for (const bool floats : {false, true}) {
    SCOPED_TRACE(floats ? "float64" : "int64");
    std::vector<double> reference;
    ColumnBuilder builder(floats ? DataType::kFloat64 : DataType::kInt64);
    for (int row = 0; row < 150'000; ++row) {
      if (row % 13 == 0) {
        builder.AppendNull();
        continue;
      }
      const auto base = static_cast<int64_t>(rng() % 2'000'001) - 1'000'000;
      if (floats) {
        const double value = row % 101 == 0 ? -0.0 : static_cast<double>(base) * 1.25e-3;
        builder.AppendFloat64(value);
        reference.push_back(value == 0.0 ? 0.0 : value);
      } else {
        builder.AppendInt64(base * 1'000'003);  // spread over many bytes of the sort key
        reference.push_back(static_cast<double>(base * 1'000'003));
      }
    }
    const ColumnProfile profile = ProfileColumn("v", builder.Finish());
    const std::set<double> distinct(reference.begin(), reference.end());
    ASSERT_GT(distinct.size(), 65536u);
    EXPECT_EQ(profile.distinct, static_cast<int64_t>(distinct.size()));
    EXPECT_EQ(AsDouble(*profile.min), *distinct.begin());
    EXPECT_EQ(AsDouble(*profile.max), *distinct.rbegin());
    ExpectNear(*profile.mean, ReferenceMean(reference), "mean");
    ExpectNear(*profile.stddev, ReferenceStd(reference), "std");
    for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
      ExpectNear(AsDouble((*profile.quantiles)[i]),
                 ReferenceQuantile(reference, kProfileQuantiles[i]), kProfileQuantileNames[i]);
    }
    EXPECT_EQ(profile.histogram->counts,
              ReferenceHistogram(reference, EdgesAsDoubles(*profile.histogram)));
  }
}

TEST(ColumnProfile, StdIsNumericallyStable) {
  // Values with a huge offset and a tiny spread: a naive sum-of-squares formula loses every
  // significant digit here.
  std::vector<std::optional<double>> values;
  for (int i = 0; i < 1000; ++i) values.push_back(1e9 + (i % 2 == 0 ? 0.5 : -0.5));
  const ColumnProfile profile = ProfileColumn("x", Float64s(values));
  EXPECT_NEAR(*profile.mean, 1e9, 1e-6);
  EXPECT_NEAR(*profile.stddev, std::sqrt(1000.0 / 999.0) * 0.5, 1e-9);
}

TEST(ColumnProfile, NanAndInfinityHandling) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const ColumnProfile profile =
      ProfileColumn("x", Float64s({1.0, nan, inf, -inf, 3.0, std::nullopt, nan, -0.0, 0.0, inf}));
  EXPECT_EQ(profile.count, 10);
  EXPECT_EQ(profile.nulls, 1);
  EXPECT_EQ(profile.nan_count, 2);
  EXPECT_EQ(profile.inf_count, 3);
  // 1, inf, -inf, 3, 0 (-0.0 and 0.0 are one value); NaN is not a value.
  EXPECT_EQ(profile.distinct, 5);
  EXPECT_EQ(AsDouble(*profile.min), 0.0);
  EXPECT_EQ(AsDouble(*profile.max), 3.0);
  EXPECT_DOUBLE_EQ(*profile.mean, 1.0);  // over 1, 3, -0, 0
  int64_t total = 0;
  for (int64_t count : profile.histogram->counts) total += count;
  EXPECT_EQ(total, 4);
  // Everything in the JSON is a finite number.
  const std::string dump = ProfileToJson({profile}).dump();
  EXPECT_EQ(dump.find(":null"), std::string::npos) << dump;

  const ColumnProfile only_nan = ProfileColumn("n", Float64s({nan, nan, std::nullopt}));
  EXPECT_EQ(only_nan.nan_count, 2);
  EXPECT_EQ(only_nan.distinct, 0);
  EXPECT_FALSE(only_nan.min.has_value());
  EXPECT_FALSE(only_nan.mean.has_value());
  EXPECT_FALSE(only_nan.quantiles.has_value());
  EXPECT_FALSE(only_nan.histogram.has_value());
}

TEST(ColumnProfile, ExtremeRangesStayFinite) {
  const double big = std::numeric_limits<double>::max();
  const ColumnProfile floats = ProfileColumn("f", Float64s({-big, big, 0.0, big / 2}));
  ASSERT_TRUE(floats.histogram);
  EXPECT_EQ(floats.histogram->counts.size(), 20u);
  int64_t total = 0;
  for (int64_t count : floats.histogram->counts) total += count;
  EXPECT_EQ(total, 4);
  EXPECT_EQ(floats.histogram->counts.front(), 1);
  EXPECT_EQ(floats.histogram->counts.back(), 1);
  for (const ProfileNumber& edge : floats.histogram->edges)
    EXPECT_TRUE(std::isfinite(AsDouble(edge)));

  const ColumnProfile ints = ProfileColumn(
      "i", Int64s({std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}));
  EXPECT_EQ(ints.min, ProfileNumber(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(ints.max, ProfileNumber(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(ints.histogram->counts.front(), 1);
  EXPECT_EQ(ints.histogram->counts.back(), 1);
}

TEST(ColumnProfile, ConstantSingleAndAllNullColumns) {
  const ColumnProfile constant = ProfileColumn("c", Int64s({7, 7, 7, std::nullopt}));
  EXPECT_EQ(constant.distinct, 1);
  EXPECT_DOUBLE_EQ(*constant.stddev, 0.0);
  ASSERT_TRUE(constant.histogram);
  EXPECT_EQ(constant.histogram->edges,
            (std::vector<ProfileNumber>{ProfileNumber(7.0), ProfileNumber(7.0)}));
  EXPECT_EQ(constant.histogram->counts, std::vector<int64_t>{3});
  for (const ProfileNumber& q : *constant.quantiles) EXPECT_EQ(AsDouble(q), 7.0);

  const ColumnProfile single = ProfileColumn("s", Float64s({2.5}));
  EXPECT_EQ(single.count, 1);
  EXPECT_EQ(single.distinct, 1);
  EXPECT_DOUBLE_EQ(*single.mean, 2.5);
  EXPECT_FALSE(single.stddev.has_value());  // undefined for one value (n - 1 = 0)
  EXPECT_EQ(AsDouble((*single.quantiles)[0]), 2.5);

  const ColumnProfile all_null = ProfileColumn("n", Int64s({std::nullopt, std::nullopt}));
  EXPECT_EQ(all_null.count, 2);
  EXPECT_EQ(all_null.nulls, 2);
  EXPECT_EQ(all_null.distinct, 0);
  const json rendered = ProfileToJson({all_null})["columns"][0];
  for (const char* key : {"min", "max", "mean", "std", "quantiles", "histogram", "top_values"}) {
    EXPECT_FALSE(rendered.contains(key)) << key;
  }
  EXPECT_EQ(rendered["nulls"], 2);
}

// ---------------------------------------------------------------------------------------------
// Strings, bools, dates and timestamps.

TEST(ColumnProfile, StringTopValuesMatchReference) {
  std::mt19937_64 rng(5);
  std::vector<std::optional<std::string>> values;
  std::map<std::string, int64_t> reference;
  for (int row = 0; row < 5000; ++row) {
    if (rng() % 10 == 0) {
      values.push_back(std::nullopt);
      continue;
    }
    // Skewed: small ids are frequent, and many counts tie.
    const uint64_t id = (rng() % 60) * (rng() % 60) / 40;
    std::string value = id == 0 ? "" : "v" + std::to_string(id);
    ++reference[value];
    values.push_back(std::move(value));
  }
  const ColumnProfile profile = ProfileColumn("s", Strings(values));
  EXPECT_EQ(profile.distinct, static_cast<int64_t>(reference.size()));
  EXPECT_EQ(profile.top_values, ReferenceTopValues(reference));
  EXPECT_EQ(profile.min_length, 0);  // the empty string
  EXPECT_FALSE(profile.mean.has_value());
  EXPECT_FALSE(profile.min.has_value());
}

// Strings of every length around the 16 bytes kept inline in the hash-map key, sharing long
// prefixes, with embedded NULs, and enough of them for the prefetching path.
TEST(ColumnProfile, StringDistinctAndTopValuesForAllKeyLengths) {
  std::mt19937_64 rng(31);
  std::vector<std::optional<std::string>> values;
  std::map<std::string, int64_t> reference;
  for (int row = 0; row < 120'000; ++row) {
    if (row % 17 == 0) {
      values.push_back(std::nullopt);
      continue;
    }
    const size_t length = rng() % 41;
    std::string value;
    const bool popular = rng() % 4 == 0;  // a few frequent values among many rare ones
    for (size_t i = 0; i < length; ++i) {
      value.push_back(popular ? 'a' : "ab\0"[rng() % 3]);
    }
    ++reference[value];
    values.push_back(std::move(value));
  }
  const ColumnProfile profile = ProfileColumn("s", Strings(values));
  ASSERT_GT(reference.size(), 65536u);
  EXPECT_EQ(profile.distinct, static_cast<int64_t>(reference.size()));
  EXPECT_EQ(profile.top_values, ReferenceTopValues(reference));
  EXPECT_EQ(profile.min_length, 0);
  EXPECT_EQ(profile.max_length, 40);
}

TEST(ColumnProfile, StringLengthsCountCodePoints) {
  const ColumnProfile profile =
      ProfileColumn("s", Strings({"h\xC3\xA9llo", "\xE2\x82\xAC", std::nullopt, "ab"}));
  EXPECT_EQ(profile.min_length, 1);  // "€" is one code point, three bytes
  EXPECT_EQ(profile.max_length, 5);
  EXPECT_EQ(profile.distinct, 3);
  // Ties (count 1) ordered by value.
  ASSERT_EQ(profile.top_values.size(), 3u);
  EXPECT_EQ(profile.top_values[0].value, "ab");

  const ColumnProfile all_null = ProfileColumn("s", Strings({std::nullopt}));
  EXPECT_TRUE(all_null.top_values.empty());
  EXPECT_FALSE(all_null.min_length.has_value());
  EXPECT_EQ(ProfileToJson({all_null})["columns"][0]["top_values"], json::array());
}

TEST(ColumnProfile, BoolCountsAsTopValues) {
  ColumnBuilder builder(DataType::kBool);
  for (int i = 0; i < 10; ++i) i % 4 == 0 ? builder.AppendBool(true) : builder.AppendBool(false);
  builder.AppendNull();
  const ColumnProfile profile = ProfileColumn("b", builder.Finish());
  EXPECT_EQ(profile.count, 11);
  EXPECT_EQ(profile.nulls, 1);
  EXPECT_EQ(profile.distinct, 2);
  EXPECT_EQ(profile.top_values, (std::vector<ValueCount>{{"false", 7}, {"true", 3}}));

  ColumnBuilder tie(DataType::kBool);
  tie.AppendBool(true);
  tie.AppendBool(false);
  EXPECT_EQ(ProfileColumn("t", tie.Finish()).top_values,
            (std::vector<ValueCount>{{"false", 1}, {"true", 1}}));
}

TEST(ColumnProfile, DatesRenderAsIsoWithWholeDayBins) {
  ColumnBuilder builder(DataType::kDate);
  const int32_t start = *common::ParseIsoDate("2024-01-01");
  for (int32_t day = 0; day < 10; ++day) builder.AppendDate(start + day);
  builder.AppendDate(start);
  builder.AppendNull();
  const ColumnProfile profile = ProfileColumn("d", builder.Finish());
  EXPECT_EQ(profile.distinct, 10);
  EXPECT_EQ(profile.min, ProfileNumber(int64_t{start}));
  EXPECT_EQ(profile.max, ProfileNumber(int64_t{start + 9}));
  // Ten days: ten one-day bins.
  ASSERT_EQ(profile.histogram->counts.size(), 10u);
  EXPECT_EQ(profile.histogram->counts[0], 2);
  EXPECT_EQ(profile.histogram->edges.size(), 11u);
  const json rendered = ProfileToJson({profile})["columns"][0];
  EXPECT_EQ(rendered["min"], "2024-01-01");
  EXPECT_EQ(rendered["max"], "2024-01-10");
  EXPECT_EQ(rendered["histogram"]["edges"][10], "2024-01-11");
  // Sorted: 1 1 2 3 4 5 6 7 8 9 10 (day numbers); p50 = day 5 = 2024-01-05.
  EXPECT_EQ(rendered["quantiles"]["p50"], "2024-01-05");
  EXPECT_FALSE(rendered.contains("mean"));
}

TEST(ColumnProfile, TemporalQuantilesAndHistogramMatchReference) {
  std::mt19937_64 rng(77);
  ColumnBuilder builder(DataType::kTimestamp);
  std::vector<int64_t> reference;
  for (int row = 0; row < 2000; ++row) {
    const int64_t value = 1'700'000'000'000'000 + static_cast<int64_t>(rng() % 86'400'000'000);
    builder.AppendInt64(value);
    reference.push_back(value);
  }
  const ColumnProfile profile = ProfileColumn("t", builder.Finish());
  std::sort(reference.begin(), reference.end());
  for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
    const double h = 1999.0 * kProfileQuantiles[i];
    const size_t lo = static_cast<size_t>(std::floor(h));
    const double exact = static_cast<double>(reference[lo]) +
                         (h - lo) * static_cast<double>(reference[lo + 1] - reference[lo]);
    EXPECT_NEAR(static_cast<double>(std::get<int64_t>((*profile.quantiles)[i])), exact, 0.5001);
  }
  const Histogram& histogram = *profile.histogram;
  const int64_t width =
      std::get<int64_t>(histogram.edges[1]) - std::get<int64_t>(histogram.edges[0]);
  std::vector<int64_t> expected(histogram.counts.size(), 0);
  for (int64_t value : reference) ++expected[(value - reference.front()) / width];
  EXPECT_EQ(histogram.counts, expected);
  EXPECT_LE(histogram.counts.size(), 20u);
  EXPECT_GT(std::get<int64_t>(histogram.edges.back()), reference.back());
  const json rendered = ProfileToJson({profile})["columns"][0];
  EXPECT_TRUE(rendered["min"].is_string());
  EXPECT_EQ(common::ParseIsoTimestamp(rendered["min"].get<std::string>()), reference.front());
}

// ---------------------------------------------------------------------------------------------
// Tables and JSON.

Table MixedTable(uint64_t seed, int64_t rows) {
  std::mt19937_64 rng(seed);
  ColumnBuilder b(DataType::kBool), i(DataType::kInt64), f(DataType::kFloat64),
      s(DataType::kString), d(DataType::kDate), t(DataType::kTimestamp);
  for (int64_t row = 0; row < rows; ++row) {
    const bool null = rng() % 9 == 0;
    null ? b.AppendNull() : b.AppendBool(rng() % 3 == 0);
    null ? i.AppendNull() : i.AppendInt64(static_cast<int64_t>(rng() % 500));
    null ? f.AppendFloat64(std::numeric_limits<double>::quiet_NaN())
         : f.AppendFloat64(static_cast<double>(rng() % 10000) / 7.0);
    null ? s.AppendNull() : s.AppendString("s" + std::to_string(rng() % 50));
    null ? d.AppendNull() : d.AppendDate(static_cast<int32_t>(rng() % 3000));
    null ? t.AppendNull() : t.AppendInt64(static_cast<int64_t>(rng() % 1'000'000'000'000));
  }
  auto table =
      Table::Make(Schema({{"b", DataType::kBool},
                          {"i", DataType::kInt64},
                          {"f", DataType::kFloat64},
                          {"s", DataType::kString},
                          {"d", DataType::kDate},
                          {"t", DataType::kTimestamp}}),
                  {b.Finish(), i.Finish(), f.Finish(), s.Finish(), d.Finish(), t.Finish()});
  EXPECT_TRUE(table.ok());
  return std::move(table).value();
}

TEST(ColumnProfile, ProfileTableIsParallelButDeterministic) {
  const Table table = MixedTable(3, 4000);
  const std::vector<ColumnProfile> profiles = ProfileTable(table);
  ASSERT_EQ(profiles.size(), 6u);
  for (int col = 0; col < 6; ++col) {
    EXPECT_EQ(profiles[col], ProfileColumn(table.schema().field(col).name, table.column(col)));
  }
  EXPECT_EQ(ProfileToJson(profiles).dump(), ProfileToJson(ProfileTable(table)).dump());
  EXPECT_TRUE(ProfileTable(Table()).empty());
}

// High-cardinality columns take the sorting paths, whose scratch memory ProfileTable hands
// from column to column (largest column first): every column must still match its profile
// computed alone, and against naive references, whatever a previous column left behind.
// Covers an already sorted column (which skips the sort), a descending one, nulls (fewer
// values than the scratch held before) and strings.
TEST(ColumnProfile, ProfileTableReusesScratchAcrossSortedColumns) {
  constexpr int kRows = 100'000;
  std::mt19937_64 rng(77);
  ColumnBuilder ascending(DataType::kInt64);
  ColumnBuilder descending(DataType::kInt64);
  ColumnBuilder sparse(DataType::kInt64);
  ColumnBuilder floats(DataType::kFloat64);
  ColumnBuilder strings(DataType::kString);
  std::vector<double> sparse_reference;
  std::set<std::string> distinct_strings;
  for (int row = 0; row < kRows; ++row) {
    ascending.AppendInt64(100'000 + row);
    descending.AppendInt64(-3 * static_cast<int64_t>(row));
    if (row % 3 == 0) {
      sparse.AppendNull();
    } else {
      const auto value = static_cast<int64_t>(rng() % 1'000'000'007) - 500'000'000;
      sparse.AppendInt64(value);
      sparse_reference.push_back(static_cast<double>(value));
    }
    floats.AppendFloat64(static_cast<double>(rng() % 10'000'000) / 7.0);
    const std::string text = "note " + std::to_string(rng() % 200'000);
    strings.AppendString(text);
    distinct_strings.insert(text);
  }
  auto table = Table::Make(Schema({{"ascending", DataType::kInt64},
                                   {"descending", DataType::kInt64},
                                   {"sparse", DataType::kInt64},
                                   {"floats", DataType::kFloat64},
                                   {"strings", DataType::kString}}),
                           {ascending.Finish(), descending.Finish(), sparse.Finish(),
                            floats.Finish(), strings.Finish()});
  ASSERT_TRUE(table.ok()) << table.status();
  const std::vector<ColumnProfile> profiles = ProfileTable(*table);
  ASSERT_EQ(profiles.size(), 5u);
  for (int col = 0; col < 5; ++col) {
    SCOPED_TRACE(table->schema().field(col).name);
    EXPECT_EQ(profiles[col], ProfileColumn(table->schema().field(col).name, table->column(col)));
  }
  for (int col = 0; col < 2; ++col) {
    EXPECT_EQ(profiles[col].distinct, kRows);
  }
  EXPECT_EQ(AsDouble(*profiles[0].min), 100'000);
  EXPECT_EQ(AsDouble(*profiles[0].max), 100'000 + kRows - 1);
  EXPECT_EQ(AsDouble((*profiles[0].quantiles)[3]), 100'000 + (kRows - 1) / 2.0);
  EXPECT_EQ(AsDouble(*profiles[1].min), -3.0 * (kRows - 1));
  const std::set<double> sparse_distinct(sparse_reference.begin(), sparse_reference.end());
  EXPECT_EQ(profiles[2].distinct, static_cast<int64_t>(sparse_distinct.size()));
  for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
    ExpectNear(AsDouble((*profiles[2].quantiles)[i]),
               ReferenceQuantile(sparse_reference, kProfileQuantiles[i]), kProfileQuantileNames[i]);
  }
  EXPECT_EQ(profiles[4].distinct, static_cast<int64_t>(distinct_strings.size()));
}

TEST(ColumnProfile, EmptyTable) {
  const Table table = MixedTable(1, 0);
  const std::vector<ColumnProfile> profiles = ProfileTable(table);
  ASSERT_EQ(profiles.size(), 6u);
  for (const ColumnProfile& profile : profiles) {
    EXPECT_EQ(profile.count, 0);
    EXPECT_EQ(profile.distinct, 0);
    EXPECT_FALSE(profile.min.has_value());
    EXPECT_FALSE(profile.histogram.has_value());
  }
  auto round_trip = ProfileFromJson(ProfileToJson(profiles));
  ASSERT_TRUE(round_trip.ok());
  EXPECT_EQ(*round_trip, profiles);
}

TEST(ColumnProfile, JsonShape) {
  const json rendered = ProfileToJson({ProfileColumn("x", Int64s({1, 2, 3, std::nullopt}))});
  const json& column = rendered["columns"][0];
  EXPECT_EQ(column["name"], "x");
  EXPECT_EQ(column["type"], "int64");
  EXPECT_EQ(column["count"], 4);
  EXPECT_EQ(column["nulls"], 1);
  EXPECT_EQ(column["distinct"], 3);
  EXPECT_TRUE(column["min"].is_number_integer());
  EXPECT_EQ(column["min"], 1);
  EXPECT_EQ(column["max"], 3);
  EXPECT_EQ(column["mean"], 2.0);
  EXPECT_EQ(column["std"], 1.0);
  for (const char* q : kProfileQuantileNames) EXPECT_TRUE(column["quantiles"].contains(q)) << q;
  EXPECT_EQ(column["quantiles"]["p50"], 2.0);
  EXPECT_EQ(column["histogram"]["edges"].size(), 21u);
  EXPECT_EQ(column["histogram"]["counts"].size(), 20u);
  EXPECT_FALSE(column.contains("top_values"));
  EXPECT_FALSE(column.contains("nan_count"));
}

TEST(ColumnProfile, JsonRoundTrip) {
  const std::vector<ColumnProfile> profiles = ProfileTable(MixedTable(9, 3000));
  const json rendered = ProfileToJson(profiles);
  // In memory and through text.
  auto direct = ProfileFromJson(rendered);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(*direct, profiles);
  auto parsed = ProfileFromJson(json::parse(rendered.dump()));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, profiles);
  EXPECT_EQ(ProfileToJson(*parsed).dump(), rendered.dump());

  // Out-of-ISO-range temporal values round-trip as integers.
  ColumnBuilder far(DataType::kTimestamp);
  far.AppendInt64(std::numeric_limits<int64_t>::max());
  far.AppendInt64(0);
  const std::vector<ColumnProfile> extreme = {ProfileColumn("far", far.Finish())};
  auto extreme_trip = ProfileFromJson(json::parse(ProfileToJson(extreme).dump()));
  ASSERT_TRUE(extreme_trip.ok()) << extreme_trip.status();
  EXPECT_EQ(*extreme_trip, extreme);
}

TEST(ColumnProfile, FromJsonRejectsMalformedInput) {
  EXPECT_EQ(ProfileFromJson(json::array()).status().code(), absl::StatusCode::kInvalidArgument);
  json good = ProfileToJson({ProfileColumn("x", Int64s({1, 2}))});
  json missing = good;
  missing["columns"][0].erase("count");
  auto status = ProfileFromJson(missing).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(status.message()).find("\"count\" is missing"), std::string::npos)
      << status;
  json bad_type = good;
  bad_type["columns"][0]["type"] = "decimal";
  EXPECT_FALSE(ProfileFromJson(bad_type).ok());
  json bad_min = good;
  bad_min["columns"][0]["min"] = "one";
  EXPECT_FALSE(ProfileFromJson(bad_min).ok());
  json negative = good;
  negative["columns"][0]["nulls"] = -1;
  EXPECT_FALSE(ProfileFromJson(negative).ok());
  json bad_histogram = good;
  bad_histogram["columns"][0]["histogram"]["counts"].push_back(1);
  EXPECT_FALSE(ProfileFromJson(bad_histogram).ok());
  json missing_quantile = good;
  missing_quantile["columns"][0]["quantiles"].erase("p99");
  EXPECT_FALSE(ProfileFromJson(missing_quantile).ok());
}

}  // namespace
}  // namespace assay::table
