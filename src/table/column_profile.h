// Column profiles: summary statistics of every column of a table, computed when a dataset
// version is imported, stored as JSON next to it and shown by `assay dataset profile`.
//
// Per column, whatever its type: count (rows), nulls, distinct (exact number of distinct
// non-null values). Then by type:
//   int64, float64  min, max, mean, std (sample, n - 1), quantiles, histogram
//   date, timestamp min, max, quantiles, histogram (rendered as ISO text in JSON)
//   string          min_length, max_length (in Unicode code points), top_values
//   bool            top_values ("true" / "false")
//
// Definitions:
//   - Quantiles p1 p5 p25 p50 p75 p95 p99 are exact, with linear interpolation between the
//     two nearest order statistics, as numpy.percentile's default ("linear"): for n sorted
//     values x and q in [0, 1], h = (n - 1) q, quantile = x[floor h] + (h - floor h) *
//     (x[floor h + 1] - x[floor h]). Date and timestamp quantiles are rounded to the nearest
//     day / microsecond (halves rounded up, to the later instant).
//   - mean and std use a two-pass algorithm with extended-precision (long double) sums; std
//     is absent for fewer than two values, and either is absent if it overflows a double.
//   - int64 and float64 histograms have 20 equal-width bins between min and max (21 edges);
//     bin i holds edges[i] <= x < edges[i + 1], the last bin also holds max (numpy.histogram
//     semantics). A constant column gets a single bin with edges [v, v].
//   - Date and timestamp histograms use whole-unit bins so their edges are exact: the bin
//     width w is ceil(span / 20) days or microseconds, where span = max - min + 1, giving
//     ceil(span / w) <= 20 half-open bins [min + i w, min + (i + 1) w).
//   - float64 NaN values are counted in nan_count and +/-inf in inf_count; both are excluded
//     from min, max, mean, std, quantiles and histogram (so every number in the JSON is
//     finite). distinct counts infinities as values and ignores NaN (like pandas' nunique);
//     -0.0 and 0.0 are the same value.
//   - top_values: the 20 most frequent values, by count descending, ties by value ascending
//     (bytewise), so the output is deterministic.
//
// Dates and timestamps render as ISO text ("2024-01-31", "2024-01-31T12:00:00Z") when their
// year is 0000..9999, which is what the ISO parsers read back, else as their integer encoding.
//
// Implementation: straight over the column's buffers, without a std::string per value.
// Numeric and temporal statistics come from the distinct values in order with their counts,
// gathered in an absl::flat_hash_map for up to 65,536 distinct values and by a radix sort of
// a copy otherwise; string values are counted in an absl::flat_hash_map keyed by views into
// the column's byte buffer. Distinct counts are exact.
//
// Keys of a statistic that does not apply (no "mean" for strings) or has no value ("min" of
// an all-null column) are absent from the JSON. The same table always gives the same JSON.
//
// Pure functions; thread-safe. ProfileTable uses common::ThreadPool::Default() and so must
// not be called from inside a task of that pool.
#ifndef ASSAY_TABLE_COLUMN_PROFILE_H_
#define ASSAY_TABLE_COLUMN_PROFILE_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/data_type.h"
#include "table/table.h"

namespace assay::table {

// A statistic kept in the column's own encoding: int64_t for int64 values, date days and
// timestamp microseconds; double for float64 values and interpolated int64 quantiles.
using ProfileNumber = std::variant<int64_t, double>;

// The numeric value of a ProfileNumber.
double ProfileNumberToDouble(const ProfileNumber& number);

inline constexpr std::array<double, 7> kProfileQuantiles = {0.01, 0.05, 0.25, 0.50,
                                                            0.75, 0.95, 0.99};
// JSON keys of kProfileQuantiles.
inline constexpr std::array<const char*, 7> kProfileQuantileNames = {"p1",  "p5",  "p25", "p50",
                                                                     "p75", "p95", "p99"};
inline constexpr int kProfileHistogramBins = 20;
inline constexpr int kProfileTopValues = 20;

struct ValueCount {
  std::string value;
  int64_t count = 0;
  bool operator==(const ValueCount&) const = default;
};

struct Histogram {
  std::vector<ProfileNumber> edges;  // counts.size() + 1 ascending edges
  std::vector<int64_t> counts;
  bool operator==(const Histogram&) const = default;
};

struct ColumnProfile {
  std::string name;
  DataType type = DataType::kInt64;
  int64_t count = 0;  // rows, nulls included
  int64_t nulls = 0;
  int64_t distinct = 0;  // distinct non-null values (see the NaN rule above)

  // float64 only (nullopt for other types).
  std::optional<int64_t> nan_count;
  std::optional<int64_t> inf_count;

  // int64, float64, date, timestamp; nullopt when no value qualifies.
  std::optional<ProfileNumber> min;
  std::optional<ProfileNumber> max;
  std::optional<std::array<ProfileNumber, 7>> quantiles;  // in kProfileQuantiles order
  std::optional<Histogram> histogram;

  // int64 and float64 only.
  std::optional<double> mean;
  std::optional<double> stddev;  // JSON key "std"

  // string and bool only (empty when every value is null).
  std::vector<ValueCount> top_values;
  // string only; nullopt when every value is null.
  std::optional<int64_t> min_length;
  std::optional<int64_t> max_length;

  bool operator==(const ColumnProfile&) const = default;
};

// Profiles every column of `table`, in schema order, computing the columns in parallel.
std::vector<ColumnProfile> ProfileTable(const Table& table);

// Profiles one column. Pure; used by ProfileTable and usable on its own.
ColumnProfile ProfileColumn(std::string name, const Column& column);

// {"columns": [{"name": ..., "type": ..., "count": ..., ...}, ...]} with the keys documented
// above. Deterministic: the same profiles always dump to the same text.
nlohmann::json ProfileToJson(const std::vector<ColumnProfile>& profiles);

// Inverse of ProfileToJson: ProfileFromJson(ProfileToJson(p)) == p.
// Errors: INVALID_ARGUMENT naming the column and key that is missing or malformed.
absl::StatusOr<std::vector<ColumnProfile>> ProfileFromJson(const nlohmann::json& json);

}  // namespace assay::table

#endif  // ASSAY_TABLE_COLUMN_PROFILE_H_
