#include "table/column_profile.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/thread_pool.h"
#include "table/table_format.h"

namespace assay::table {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Numeric and temporal statistics.
//
// Every statistic is computed from the column's distinct values in ascending order with their
// counts ("runs"). Runs come from a hash map when a column has few distinct values (one pass,
// cache-resident, no copy of the column), and otherwise from a radix sort of a copy of the
// values; both give the same runs, so the results do not depend on the path taken.

// Uninitialised memory for arrays of trivially copyable values, kept from column to column.
// Large allocations are fresh anonymous mappings, whose first touch (page faults and kernel
// page zeroing) costs more than the sorting done in them, so ProfileTable hands the same two
// buffers to every column a worker profiles instead of allocating per column, and nothing is
// value-initialised: every element is written before it is read.
class ScratchBuffer {
 public:
  // At least n elements of T; the previous contents are not preserved.
  template <typename T>
  T* Get(size_t n) {
    static_assert(std::is_trivially_copyable_v<T> && alignof(T) <= alignof(std::max_align_t));
    const size_t bytes = std::max<size_t>(n * sizeof(T), 1);
    if (bytes > capacity_) {
      data_.reset(new std::byte[bytes]);
      capacity_ = bytes;
      internal::AdviseHugePages(data_.get(), capacity_);
    }
    return reinterpret_cast<T*>(data_.get());
  }

 private:
  std::unique_ptr<std::byte[]> data_;
  size_t capacity_ = 0;
};

// The scratch memory of one profiling worker.
struct ProfileScratch {
  ScratchBuffer a;
  ScratchBuffer b;
};

// Above this many distinct values a hash map stops being cache-resident and sorting is faster.
constexpr size_t kMaxHashedDistinct = 1 << 16;

// Order-preserving maps of int64 and double to uint64 (for radix sorting) and back. Doubles
// follow IEEE 754 total order, with -0.0 normalized to +0.0 before mapping.
constexpr uint64_t kSignBit = uint64_t{1} << 63;
uint64_t SortKey(int64_t value) { return static_cast<uint64_t>(value) ^ kSignBit; }
uint64_t SortKey(double value) {
  const auto bits = std::bit_cast<uint64_t>(value);
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}
template <typename T>
T FromSortKey(uint64_t key) {
  if constexpr (std::is_same_v<T, double>) {
    return std::bit_cast<double>((key & kSignBit) != 0 ? key & ~kSignBit : ~key);
  } else {
    return static_cast<int64_t>(key ^ kSignBit);
  }
}

// LSD radix sort, one byte per pass; passes in which every key has the same byte are
// skipped, so narrow value ranges (small ints, dates, timestamps) need few passes. Keys that
// are already in order (sequential identifiers) are detected by one pass and left as they are.
// Sorts keys[0, n); `other` must hold n keys of room. Returns whichever of the two holds the
// sorted keys.
uint64_t* RadixSort(uint64_t* keys, uint64_t* other, size_t n) {
  if (std::is_sorted(keys, keys + n)) return keys;
  std::vector<std::array<size_t, 256>> histograms(8);
  for (std::array<size_t, 256>& histogram : histograms) histogram.fill(0);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t key = keys[i];
    for (int pass = 0; pass < 8; ++pass) ++histograms[pass][(key >> (8 * pass)) & 0xFF];
  }
  for (int pass = 0; pass < 8; ++pass) {
    std::array<size_t, 256>& histogram = histograms[pass];
    if (std::find(histogram.begin(), histogram.end(), n) != histogram.end()) continue;
    size_t offset = 0;
    for (size_t& bucket : histogram) offset += std::exchange(bucket, offset);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t key = keys[i];
      other[histogram[(key >> (8 * pass)) & 0xFF]++] = key;
    }
    std::swap(keys, other);
  }
  return keys;
}

template <typename T>
struct Run {
  T value;
  int64_t count;
};

// The runs of a column's qualifying values. T is int64_t or double.
template <typename T>
class Runs {
 public:
  // Collects values by calling produce(emit) where emit(T value) is called once per value;
  // `expected` is the number of values it emits. The sorted path keeps its keys in `scratch`,
  // which must outlive the Runs and not be reused meanwhile.
  template <typename Producer>
  Runs(const Producer& produce, int64_t expected, ProfileScratch& scratch) {
    // First try counting in a small hash map; give up as soon as it grows too large.
    absl::flat_hash_map<uint64_t, int64_t> counts;
    bool small = true;
    produce([&](T value) {
      if (!small) return;
      ++counts[SortKey(value)];
      if (counts.size() > kMaxHashedDistinct) small = false;
    });
    if (small) {
      for (const auto& [key, count] : counts) pairs_.push_back({FromSortKey<T>(key), count});
      std::sort(pairs_.begin(), pairs_.end(), [](const Run<T>& a, const Run<T>& b) {
        return SortKey(a.value) < SortKey(b.value);
      });
      for (const Run<T>& run : pairs_) size_ += run.count;
      return;
    }
    counts = {};
    const auto n = static_cast<size_t>(expected);
    uint64_t* keys = scratch.a.Get<uint64_t>(n);
    uint64_t* other = scratch.b.Get<uint64_t>(n);
    size_t filled = 0;
    produce([&](T value) { keys[filled++] = SortKey(value); });
    assert(filled == n);
    sorted_keys_ = RadixSort(keys, other, filled);
    num_sorted_ = filled;
    size_ = static_cast<int64_t>(filled);
  }

  int64_t size() const { return size_; }  // values, with repetitions

  // Calls fn(value, count) for each distinct value in ascending order.
  template <typename Fn>
  void ForEach(const Fn& fn) const {
    if (sorted_keys_ == nullptr) {
      for (const Run<T>& run : pairs_) fn(run.value, run.count);
      return;
    }
    size_t start = 0;
    for (size_t i = 1; i <= num_sorted_; ++i) {
      if (i == num_sorted_ || sorted_keys_[i] != sorted_keys_[start]) {
        fn(FromSortKey<T>(sorted_keys_[start]), static_cast<int64_t>(i - start));
        start = i;
      }
    }
  }

 private:
  std::vector<Run<T>> pairs_;              // the hash-map path
  const uint64_t* sorted_keys_ = nullptr;  // the radix-sort path: num_sorted_ keys
  size_t num_sorted_ = 0;
  int64_t size_ = 0;
};

// Linear interpolation as numpy's _lerp, which evaluates from the nearer end so that the result
// is exact at t = 1 and monotonic in t.
double Lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

// numpy.histogram's equal-width bins over [lo, hi] for int64 and float64 columns.
class NumericBins {
 public:
  NumericBins(double lo, double hi) : lo_(lo) {
    // hi - lo overflows for ranges wider than DBL_MAX; then work on halves (exact for normal
    // numbers) so every intermediate stays finite.
    span_ = hi - lo;
    halved_ = !std::isfinite(span_);
    if (halved_) span_ = hi * 0.5 - lo * 0.5;
    const double step = span_ / kProfileHistogramBins;
    edges_.resize(kProfileHistogramBins + 1);
    for (int i = 0; i < kProfileHistogramBins; ++i) {
      edges_[i] = halved_ ? 2.0 * (lo * 0.5 + step * i) : lo + step * i;
    }
    edges_[kProfileHistogramBins] = hi;
  }

  // Requires lo <= x <= hi and lo < hi.
  int Bin(double x) const {
    const double offset = halved_ ? x * 0.5 - lo_ * 0.5 : x - lo_;
    int bin = std::clamp(static_cast<int>(offset / span_ * kProfileHistogramBins), 0,
                         kProfileHistogramBins - 1);
    // The division can round across an edge; the edges are the definition.
    while (bin > 0 && x < edges_[bin]) --bin;
    while (bin < kProfileHistogramBins - 1 && x >= edges_[bin + 1]) ++bin;
    return bin;
  }

  const std::vector<double>& edges() const { return edges_; }

 private:
  double lo_;
  double span_;
  bool halved_;
  std::vector<double> edges_;
};

// Whole-unit bins for dates and timestamps (see the header).
class TemporalBins {
 public:
  TemporalBins(int64_t lo, int64_t hi, int64_t max_edge) : lo_(lo) {
    const unsigned __int128 span =
        static_cast<unsigned __int128>(static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo)) + 1;
    width_ = static_cast<uint64_t>((span + kProfileHistogramBins - 1) / kProfileHistogramBins);
    const auto bins = static_cast<int>((span + width_ - 1) / width_);
    for (int i = 0; i <= bins; ++i) {
      const __int128 edge = static_cast<__int128>(lo) + static_cast<__int128>(width_) * i;
      edges_.push_back(static_cast<int64_t>(std::min<__int128>(edge, max_edge)));
    }
  }

  int Bin(int64_t x) const {
    return static_cast<int>((static_cast<uint64_t>(x) - static_cast<uint64_t>(lo_)) / width_);
  }
  int num_bins() const { return static_cast<int>(edges_.size()) - 1; }
  const std::vector<int64_t>& edges() const { return edges_; }

 private:
  int64_t lo_;
  uint64_t width_;
  std::vector<int64_t> edges_;
};

struct QuantilePoint {
  int64_t lo;  // order statistics (0-based) to interpolate between
  int64_t hi;
  double fraction;
};

std::array<QuantilePoint, 7> QuantilePoints(int64_t n) {
  std::array<QuantilePoint, 7> points;
  for (size_t i = 0; i < kProfileQuantiles.size(); ++i) {
    const double h = static_cast<double>(n - 1) * kProfileQuantiles[i];
    const auto lo = static_cast<int64_t>(std::floor(h));
    points[i] = {lo, std::min(lo + 1, n - 1), h - static_cast<double>(lo)};
  }
  return points;
}

// Fills min, max, quantiles, histogram and (unless temporal) mean and std from `runs`.
template <typename T>
void StatsFromRuns(const Runs<T>& runs, DataType type, ColumnProfile& profile) {
  const int64_t n = runs.size();
  if (n == 0) return;
  const bool temporal = IsTemporal(type);

  // Pass 1: min, max, sum.
  bool first = true;
  T lo{};
  T hi{};
  long double sum = 0;
  runs.ForEach([&](T value, int64_t count) {
    if (first) lo = value;
    first = false;
    hi = value;
    sum += static_cast<long double>(value) * count;
  });
  profile.min = ProfileNumber(lo);
  profile.max = ProfileNumber(hi);

  // Pass 2: deviations (the two-pass algorithm with the correction term of Chan, Golub and
  // LeVeque, "Algorithms for computing the sample variance", 1983), order statistics and
  // histogram counts.
  const long double mean = sum / static_cast<long double>(n);
  long double squares = 0;
  long double deviations = 0;
  const std::array<QuantilePoint, 7> points = QuantilePoints(n);
  std::vector<int64_t> positions;
  for (const QuantilePoint& point : points) {
    positions.push_back(point.lo);
    positions.push_back(point.hi);
  }
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  std::vector<T> order_statistics(positions.size());
  size_t next_position = 0;
  int64_t seen = 0;

  std::optional<NumericBins> numeric_bins;
  std::optional<TemporalBins> temporal_bins;
  Histogram histogram;
  if (temporal) {
    const int64_t max_edge = type == DataType::kDate ? std::numeric_limits<int32_t>::max()
                                                     : std::numeric_limits<int64_t>::max();
    temporal_bins.emplace(static_cast<int64_t>(lo), static_cast<int64_t>(hi), max_edge);
    histogram.counts.assign(static_cast<size_t>(temporal_bins->num_bins()), 0);
  } else if (lo < hi) {
    numeric_bins.emplace(static_cast<double>(lo), static_cast<double>(hi));
    histogram.counts.assign(kProfileHistogramBins, 0);
  }

  runs.ForEach([&](T value, int64_t count) {
    if (!temporal) {
      const long double deviation = static_cast<long double>(value) - mean;
      squares += deviation * deviation * count;
      deviations += deviation * count;
    }
    while (next_position < positions.size() && positions[next_position] < seen + count) {
      order_statistics[next_position++] = value;
    }
    seen += count;
    if (temporal_bins) {
      histogram.counts[temporal_bins->Bin(static_cast<int64_t>(value))] += count;
    } else if (numeric_bins) {
      histogram.counts[numeric_bins->Bin(static_cast<double>(value))] += count;
    }
  });

  const auto order_statistic = [&](int64_t position) {
    const auto it = std::lower_bound(positions.begin(), positions.end(), position);
    return order_statistics[static_cast<size_t>(it - positions.begin())];
  };
  std::array<ProfileNumber, 7> quantiles;
  for (size_t i = 0; i < points.size(); ++i) {
    const T a = order_statistic(points[i].lo);
    const T b = order_statistic(points[i].hi);
    if (temporal) {
      // Exact integer interpolation: a + round-half-up(fraction * (b - a)), computed on the
      // non-negative difference so it cannot overflow.
      const auto diff =
          static_cast<long double>(static_cast<uint64_t>(b) - static_cast<uint64_t>(a));
      const auto step = static_cast<uint64_t>(std::floor(points[i].fraction * diff + 0.5L));
      quantiles[i] = static_cast<int64_t>(static_cast<uint64_t>(a) + step);
    } else {
      quantiles[i] = Lerp(static_cast<double>(a), static_cast<double>(b), points[i].fraction);
    }
  }
  profile.quantiles = quantiles;

  if (temporal_bins) {
    histogram.edges.assign(temporal_bins->edges().begin(), temporal_bins->edges().end());
  } else if (numeric_bins) {
    histogram.edges.assign(numeric_bins->edges().begin(), numeric_bins->edges().end());
  } else {
    // A constant column: one bin holding every value.
    histogram.edges = {static_cast<double>(lo), static_cast<double>(hi)};
    histogram.counts = {n};
  }
  profile.histogram = std::move(histogram);

  if (temporal) return;
  if (std::isfinite(static_cast<double>(mean))) profile.mean = static_cast<double>(mean);
  if (n >= 2) {
    const long double count = static_cast<long double>(n);
    const long double variance = (squares - deviations * deviations / count) / (count - 1);
    const double stddev = static_cast<double>(std::sqrt(std::max<long double>(variance, 0)));
    if (std::isfinite(stddev)) profile.stddev = stddev;
  }
}

// Calls emit(value) for every non-null value of an int64, date or timestamp column.
template <typename V, typename Emit>
void ForEachValid(const Column& column, const std::vector<V>& values, const Emit& emit) {
  if (column.null_count() == 0) {
    for (const V value : values) emit(static_cast<int64_t>(value));
    return;
  }
  for (int64_t row = 0; row < column.size(); ++row) {
    if (column.IsValid(row)) emit(static_cast<int64_t>(values[row]));
  }
}

// ---------------------------------------------------------------------------------------------
// Per-type profiles.

void ProfileInteger(const Column& column, ColumnProfile& profile, ProfileScratch& scratch) {
  const auto produce = [&](const auto& emit) {
    if (column.type() == DataType::kDate) {
      ForEachValid(column, column.date_values(), emit);
    } else {
      ForEachValid(column, column.int64_values(), emit);
    }
  };
  const Runs<int64_t> runs(produce, column.size() - column.null_count(), scratch);
  runs.ForEach([&](int64_t, int64_t) { ++profile.distinct; });
  StatsFromRuns(runs, column.type(), profile);
}

void ProfileFloat64(const Column& column, ColumnProfile& profile, ProfileScratch& scratch) {
  const std::vector<double>& values = column.float64_values();
  int64_t nans = 0;
  int64_t positive_infinities = 0;
  int64_t negative_infinities = 0;
  for (int64_t row = 0; row < column.size(); ++row) {
    const double value = values[row];
    if (std::isfinite(value) || !column.IsValid(row)) continue;
    if (std::isnan(value)) {
      ++nans;
    } else if (value > 0) {
      ++positive_infinities;
    } else {
      ++negative_infinities;
    }
  }
  const auto produce = [&](const auto& emit) {
    for (int64_t row = 0; row < column.size(); ++row) {
      const double value = values[row];
      // -0.0 == 0.0: both count as +0.0.
      if (std::isfinite(value) && column.IsValid(row)) emit(value == 0.0 ? 0.0 : value);
    }
  };
  const Runs<double> runs(
      produce,
      column.size() - column.null_count() - nans - positive_infinities - negative_infinities,
      scratch);
  profile.nan_count = nans;
  profile.inf_count = positive_infinities + negative_infinities;
  profile.distinct = (positive_infinities > 0) + (negative_infinities > 0);
  runs.ForEach([&](double, int64_t) { ++profile.distinct; });
  StatsFromRuns(runs, DataType::kFloat64, profile);
}

// Unicode code points of UTF-8 text: every byte that is not a continuation byte (10xxxxxx).
int64_t CodePoints(std::string_view text) {
  int64_t count = 0;
  for (const char c : text) count += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return count;
}

// Orders by count descending, then value ascending.
bool MoreFrequent(const ValueCount& a, const ValueCount& b) {
  return a.count != b.count ? a.count > b.count : a.value < b.value;
}

// A string of the column as a hash-map key, with its first 16 bytes inline (zero padded):
// hashing, comparing and rehashing short strings (identifiers, codes) then never touches the
// column's byte buffer, whose random accesses would otherwise dominate profiling a
// high-cardinality column.
struct StringKey {
  // `end` is the end of the buffer holding `text`, so whole words can be read when they fit.
  StringKey(std::string_view text, const char* end) : data(text.data()), size(text.size()) {
    if constexpr (std::endian::native == std::endian::little) {
      if (end - text.data() >= 16) {
        std::memcpy(head, text.data(), 16);
        if (size < 16) {
          // Keep the first `size` bytes (the low-order ones on a little-endian machine).
          const auto keep = [](size_t bytes) {
            return bytes >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * bytes)) - 1;
          };
          head[0] &= keep(size);
          head[1] &= size > 8 ? keep(size - 8) : 0;
        }
        return;
      }
    }
    std::memcpy(head, text.data(), std::min<size_t>(size, 16));
  }
  std::string_view view() const { return {data, size}; }
  // The text when it fits in head, else the column's bytes.
  std::string_view inline_view() const {
    return size <= 16 ? std::string_view(reinterpret_cast<const char*>(head), size) : view();
  }

  const char* data;
  size_t size;
  uint64_t head[2] = {0, 0};
};

struct StringKeyHash {
  size_t operator()(const StringKey& key) const {
    if (key.size <= 16) return absl::HashOf(key.head[0], key.head[1], key.size);
    return absl::HashOf(Absl(key.view()));
  }
};

struct StringKeyEq {
  bool operator()(const StringKey& a, const StringKey& b) const {
    return a.size == b.size && a.head[0] == b.head[0] && a.head[1] == b.head[1] &&
           (a.size <= 16 || std::memcmp(a.data + 16, b.data + 16, a.size - 16) == 0);
  }
};

// Keeps the kProfileTopValues most frequent (value, count) pairs offered to it, ordered by
// count descending, then value ascending.
class TopValues {
 public:
  // Whether a value with this count could enter the top list (lets callers skip reading it).
  bool Wants(int64_t count) const {
    return top_.size() < static_cast<size_t>(kProfileTopValues) || count >= top_.front().count;
  }
  // Notes a value's length in code points for min_length/max_length.
  void NoteLength(int64_t length) {
    min_length_ = std::min(min_length_, length);
    max_length_ = std::max(max_length_, length);
  }
  // Offers one distinct value with its count.
  void Offer(std::string_view value, int64_t count) {
    const Entry entry{value, count};
    if (top_.size() < static_cast<size_t>(kProfileTopValues)) {
      top_.push_back(entry);
      std::push_heap(top_.begin(), top_.end(), MoreFrequentEntry);
    } else if (count >= top_.front().count && MoreFrequentEntry(entry, top_.front())) {
      std::pop_heap(top_.begin(), top_.end(), MoreFrequentEntry);
      top_.back() = entry;
      std::push_heap(top_.begin(), top_.end(), MoreFrequentEntry);
    }
  }
  // Fills top_values, min_length and max_length (the latter two only if a value was offered).
  void MoveTo(ColumnProfile& profile) {
    std::sort_heap(top_.begin(), top_.end(), MoreFrequentEntry);
    for (const Entry& entry : top_) {
      profile.top_values.push_back(ValueCount{std::string(entry.value), entry.count});
    }
    if (max_length_ >= 0) {
      profile.min_length = min_length_;
      profile.max_length = max_length_;
    }
    top_.clear();
  }

 private:
  struct Entry {
    std::string_view value;
    int64_t count;
  };
  // A heap whose front is the least frequent of the best so far.
  static bool MoreFrequentEntry(const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  }
  std::vector<Entry> top_;
  int64_t min_length_ = std::numeric_limits<int64_t>::max();
  int64_t max_length_ = -1;
};

// Distinct values and counts of a high-cardinality string column without a giant hash map:
// hash every valid row once (a sequential pass over the byte buffer), bucket the (hash, row)
// pairs by the hash's top 16 bits, sort each small bucket, and walk runs of equal hashes.
// Equal hashes are confirmed by comparing the strings, so the result is exact even when two
// different strings collide.
void StringRunsBySorting(const Column& column, ColumnProfile& profile, TopValues& top,
                         ProfileScratch& scratch) {
  struct HashedRow {
    uint64_t hash;
    int64_t row;
  };
  const int64_t rows = column.size();
  const auto num_valid = static_cast<size_t>(rows - column.null_count());
  HashedRow* hashed = scratch.a.Get<HashedRow>(num_valid);
  size_t num_hashed = 0;
  constexpr int kBucketBits = 16;
  std::vector<int64_t> bucket_start((size_t{1} << kBucketBits) + 1, 0);
  for (int64_t row = 0; row < rows; ++row) {
    if (!column.IsValid(row)) continue;
    const std::string_view value = column.StringAt(row);
    top.NoteLength(CodePoints(value));
    const uint64_t hash = absl::HashOf(Absl(value));
    hashed[num_hashed++] = HashedRow{hash, row};
    ++bucket_start[(hash >> (64 - kBucketBits)) + 1];
  }
  for (size_t bucket = 1; bucket < bucket_start.size(); ++bucket) {
    bucket_start[bucket] += bucket_start[bucket - 1];
  }
  assert(num_hashed == num_valid);
  HashedRow* sorted = scratch.b.Get<HashedRow>(num_hashed);
  {
    std::vector<int64_t> next(bucket_start.begin(), bucket_start.end() - 1);
    for (size_t i = 0; i < num_hashed; ++i) {
      sorted[next[hashed[i].hash >> (64 - kBucketBits)]++] = hashed[i];
    }
  }
  const auto by_hash_then_row = [](const HashedRow& a, const HashedRow& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.row < b.row;
  };
  for (size_t bucket = 0; bucket + 1 < bucket_start.size(); ++bucket) {
    std::sort(sorted + bucket_start[bucket], sorted + bucket_start[bucket + 1], by_hash_then_row);
  }

  int64_t distinct = 0;
  std::vector<std::string_view> group;  // distinct strings within one run of equal hashes
  std::vector<int64_t> group_counts;
  for (size_t begin = 0; begin < num_hashed;) {
    size_t end = begin + 1;
    while (end < num_hashed && sorted[end].hash == sorted[begin].hash) ++end;
    if (end == begin + 1) {
      // A value seen once: read its text only if it could still make the top list.
      ++distinct;
      if (top.Wants(1)) top.Offer(column.StringAt(sorted[begin].row), 1);
      begin = end;
      continue;
    }
    group.clear();
    group_counts.clear();
    for (size_t i = begin; i < end; ++i) {
      const std::string_view value = column.StringAt(sorted[i].row);
      size_t g = 0;
      while (g < group.size() && group[g] != value) ++g;  // a collision makes g > 0: rare
      if (g == group.size()) {
        group.push_back(value);
        group_counts.push_back(0);
      }
      ++group_counts[g];
    }
    for (size_t g = 0; g < group.size(); ++g) {
      if (top.Wants(group_counts[g])) top.Offer(group[g], group_counts[g]);
    }
    distinct += static_cast<int64_t>(group.size());
    begin = end;
  }
  profile.distinct = distinct;
}

void ProfileString(const Column& column, ColumnProfile& profile, ProfileScratch& scratch) {
  const int64_t rows = column.size();
  // Few distinct values: one pass with a cache-resident hash map. Keys view the column's byte
  // buffer: no string is copied per value. Once the map outgrows kMaxHashedDistinct it stops
  // being cache-resident, and sorting hashes is faster (both paths give identical results).
  TopValues top;
  absl::flat_hash_map<StringKey, int64_t, StringKeyHash, StringKeyEq> counts;
  const char* end = column.string_bytes().data() + column.string_bytes().size();
  bool too_many = false;
  for (int64_t row = 0; row < rows; ++row) {
    if (column.IsValid(row)) ++counts[StringKey(column.StringAt(row), end)];
    if (counts.size() > kMaxHashedDistinct) {
      too_many = true;
      break;
    }
  }
  if (too_many) {
    counts = {};
    StringRunsBySorting(column, profile, top, scratch);
  } else {
    profile.distinct = static_cast<int64_t>(counts.size());
    for (const auto& [key, count] : counts) {
      top.NoteLength(CodePoints(key.inline_view()));
      top.Offer(key.view(), count);
    }
  }
  top.MoveTo(profile);
}

void ProfileBool(const Column& column, ColumnProfile& profile) {
  int64_t trues = 0;
  const std::vector<uint8_t>& values = column.bool_values();
  for (int64_t row = 0; row < column.size(); ++row) {
    trues += values[row] != 0 && column.IsValid(row);
  }
  const int64_t falses = column.size() - column.null_count() - trues;
  if (trues > 0) profile.top_values.push_back(ValueCount{"true", trues});
  if (falses > 0) profile.top_values.push_back(ValueCount{"false", falses});
  std::sort(profile.top_values.begin(), profile.top_values.end(), MoreFrequent);
  profile.distinct = static_cast<int64_t>(profile.top_values.size());
}

// ---------------------------------------------------------------------------------------------
// JSON.

// Dates and timestamps render as ISO text when their year is 0000..9999 (what the ISO parsers
// read back), else as the raw integer encoding.
constexpr int64_t kMinIsoDay = -719528;  // 0000-01-01
constexpr int64_t kMaxIsoDay = 2932896;  // 9999-12-31
constexpr int64_t kMicrosPerDay = 86'400'000'000;

json TemporalToJson(DataType type, int64_t value) {
  if (type == DataType::kDate) {
    if (value < kMinIsoDay || value > kMaxIsoDay) return value;
    return common::FormatDate(static_cast<int32_t>(value));
  }
  if (value < kMinIsoDay * kMicrosPerDay || value >= (kMaxIsoDay + 1) * kMicrosPerDay) {
    return value;
  }
  return common::FormatTimestampMicros(value);
}

json NumberToJson(DataType type, const ProfileNumber& number) {
  if (const auto* integer = std::get_if<int64_t>(&number)) {
    if (IsTemporal(type)) return TemporalToJson(type, *integer);
    return *integer;
  }
  return std::get<double>(number);
}

// Whether a statistic of a column of `type` is held as int64_t: min/max of int64 columns and
// every statistic of date and timestamp columns.
bool HoldsInteger(DataType type, bool is_min_max) {
  return IsTemporal(type) || (type == DataType::kInt64 && is_min_max);
}

absl::Status JsonError(std::string_view column, std::string_view key, std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("profile of column \"", Absl(column), "\": \"",
                                                 Absl(key), "\" ", Absl(problem)));
}

absl::StatusOr<ProfileNumber> NumberFromJson(DataType type, bool is_min_max, const json& value,
                                             std::string_view column, std::string_view key) {
  if (!HoldsInteger(type, is_min_max)) {
    if (!value.is_number()) return JsonError(column, key, "must be a number");
    return ProfileNumber(value.get<double>());
  }
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() &&
        value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return JsonError(column, key, "is out of range");
    }
    return ProfileNumber(value.get<int64_t>());
  }
  if (IsTemporal(type) && value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (type == DataType::kDate) {
      if (const auto days = common::ParseIsoDate(text)) return ProfileNumber(int64_t{*days});
      return JsonError(column, key, "must be a date like 2024-01-31");
    }
    if (const auto micros = common::ParseIsoTimestamp(text)) return ProfileNumber(*micros);
    return JsonError(column, key, "must be a timestamp like 2024-01-31T12:00:00Z");
  }
  return JsonError(column, key, IsTemporal(type) ? "must be ISO text" : "must be an integer");
}

// A JSON integer in [0, INT64_MAX], whether it was parsed (unsigned) or built in memory.
std::optional<int64_t> NonNegativeInteger(const json& value) {
  if (value.is_number_unsigned()) {
    const auto number = value.get<uint64_t>();
    if (number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(number);
  }
  if (value.is_number_integer() && value.get<int64_t>() >= 0) return value.get<int64_t>();
  return std::nullopt;
}

absl::StatusOr<int64_t> CountFromJson(const json& object, std::string_view column,
                                      std::string_view key) {
  const auto it = object.find(std::string(key));
  if (it == object.end()) return JsonError(column, key, "is missing");
  const auto count = NonNegativeInteger(*it);
  if (!count) return JsonError(column, key, "must be a non-negative integer");
  return *count;
}

absl::StatusOr<ColumnProfile> ColumnFromJson(const json& object, size_t index) {
  ColumnProfile profile;
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile column ", index + 1, " must be a JSON object"));
  }
  const auto name = object.find("name");
  if (name == object.end() || !name->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile column ", index + 1, " needs a string \"name\""));
  }
  profile.name = name->get<std::string>();
  const std::string_view column = profile.name;
  const auto type = object.find("type");
  if (type == object.end() || !type->is_string()) {
    return JsonError(column, "type", "must be a type name such as \"int64\"");
  }
  const auto data_type = DataTypeFromName(type->get_ref<const std::string&>());
  if (!data_type) return JsonError(column, "type", "is not a known type");
  profile.type = *data_type;

  auto count = CountFromJson(object, column, "count");
  if (!count.ok()) return count.status();
  profile.count = *count;
  auto nulls = CountFromJson(object, column, "nulls");
  if (!nulls.ok()) return nulls.status();
  profile.nulls = *nulls;
  auto distinct = CountFromJson(object, column, "distinct");
  if (!distinct.ok()) return distinct.status();
  profile.distinct = *distinct;
  for (const char* key : {"nan_count", "inf_count", "min_length", "max_length"}) {
    if (!object.contains(key)) continue;
    auto value = CountFromJson(object, column, key);
    if (!value.ok()) return value.status();
    const std::string_view k = key;
    (k == "nan_count"    ? profile.nan_count
     : k == "inf_count"  ? profile.inf_count
     : k == "min_length" ? profile.min_length
                         : profile.max_length) = *value;
  }
  for (const char* key : {"mean", "std"}) {
    const auto it = object.find(key);
    if (it == object.end()) continue;
    if (!it->is_number()) return JsonError(column, key, "must be a number");
    (std::string_view(key) == "mean" ? profile.mean : profile.stddev) = it->get<double>();
  }
  for (const char* key : {"min", "max"}) {
    const auto it = object.find(key);
    if (it == object.end()) continue;
    auto number = NumberFromJson(profile.type, /*is_min_max=*/true, *it, column, key);
    if (!number.ok()) return number.status();
    (std::string_view(key) == "min" ? profile.min : profile.max) = *number;
  }
  if (const auto it = object.find("quantiles"); it != object.end()) {
    if (!it->is_object()) return JsonError(column, "quantiles", "must be an object");
    std::array<ProfileNumber, 7> quantiles;
    for (size_t i = 0; i < kProfileQuantileNames.size(); ++i) {
      const auto q = it->find(kProfileQuantileNames[i]);
      const std::string key = absl::StrCat("quantiles.", kProfileQuantileNames[i]);
      if (q == it->end()) return JsonError(column, key, "is missing");
      auto number = NumberFromJson(profile.type, /*is_min_max=*/false, *q, column, key);
      if (!number.ok()) return number.status();
      quantiles[i] = *number;
    }
    profile.quantiles = quantiles;
  }
  if (const auto it = object.find("histogram"); it != object.end()) {
    const auto edges = it->is_object() ? it->find("edges") : it->end();
    const auto counts = it->is_object() ? it->find("counts") : it->end();
    if (!it->is_object() || edges == it->end() || counts == it->end() || !edges->is_array() ||
        !counts->is_array() || edges->size() != counts->size() + 1) {
      return JsonError(column, "histogram",
                       "must be {\"edges\": [n + 1 numbers], \"counts\": [n integers]}");
    }
    Histogram histogram;
    for (const json& edge : *edges) {
      auto number =
          NumberFromJson(profile.type, /*is_min_max=*/false, edge, column, "histogram.edges");
      if (!number.ok()) return number.status();
      histogram.edges.push_back(*number);
    }
    for (const json& bin : *counts) {
      const auto count = NonNegativeInteger(bin);
      if (!count) return JsonError(column, "histogram.counts", "must hold non-negative integers");
      histogram.counts.push_back(*count);
    }
    profile.histogram = std::move(histogram);
  }
  if (const auto it = object.find("top_values"); it != object.end()) {
    if (!it->is_array()) return JsonError(column, "top_values", "must be an array");
    for (const json& entry : *it) {
      const auto count = entry.is_object() && entry.contains("count")
                             ? NonNegativeInteger(entry["count"])
                             : std::nullopt;
      if (!count || !entry.contains("value") || !entry["value"].is_string()) {
        return JsonError(column, "top_values",
                         "must hold {\"value\": string, \"count\": integer} objects");
      }
      profile.top_values.push_back(ValueCount{entry["value"].get<std::string>(), *count});
    }
  }
  return profile;
}

}  // namespace

double ProfileNumberToDouble(const ProfileNumber& number) {
  if (const auto* integer = std::get_if<int64_t>(&number)) return static_cast<double>(*integer);
  return std::get<double>(number);
}

ColumnProfile ProfileColumnWith(std::string name, const Column& column, ProfileScratch& scratch) {
  ColumnProfile profile;
  profile.name = std::move(name);
  profile.type = column.type();
  profile.count = column.size();
  profile.nulls = column.null_count();
  switch (column.type()) {
    case DataType::kBool:
      ProfileBool(column, profile);
      break;
    case DataType::kInt64:
    case DataType::kDate:
    case DataType::kTimestamp:
      ProfileInteger(column, profile, scratch);
      break;
    case DataType::kFloat64:
      ProfileFloat64(column, profile, scratch);
      break;
    case DataType::kString:
      ProfileString(column, profile, scratch);
      break;
  }
  return profile;
}

ColumnProfile ProfileColumn(std::string name, const Column& column) {
  ProfileScratch scratch;
  return ProfileColumnWith(std::move(name), column, scratch);
}

std::vector<ColumnProfile> ProfileTable(const Table& table) {
  std::vector<ColumnProfile> profiles(static_cast<size_t>(table.num_columns()));
  // The costliest columns start first, so that the last column to finish is a cheap one and
  // both workers stay busy to the end (longest-processing-time-first list scheduling; R. L.
  // Graham, "Bounds on multiprocessing timing anomalies", 1969). Strings cost the most (every
  // value is hashed and sorted), by their bytes; booleans the least.
  const auto cost = [&](int col) -> int64_t {
    const Column& column = table.column(col);
    switch (column.type()) {
      case DataType::kString:
        return 16 * column.size() + static_cast<int64_t>(column.string_bytes().size());
      case DataType::kBool:
        return column.size() / 8;
      default:
        return 8 * column.size();
    }
  };
  std::vector<int> order(static_cast<size_t>(table.num_columns()));
  for (int col = 0; col < table.num_columns(); ++col) order[col] = col;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return cost(a) > cost(b); });
  // One scratch per worker at most, handed from column to column (see ScratchBuffer).
  std::mutex mu;
  std::vector<std::unique_ptr<ProfileScratch>> free_scratch;
  common::ThreadPool::Default().ParallelFor(table.num_columns(), [&](int64_t task) {
    const int col = order[static_cast<size_t>(task)];
    std::unique_ptr<ProfileScratch> scratch;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!free_scratch.empty()) {
        scratch = std::move(free_scratch.back());
        free_scratch.pop_back();
      }
    }
    if (scratch == nullptr) scratch = std::make_unique<ProfileScratch>();
    profiles[col] = ProfileColumnWith(table.schema().field(col).name, table.column(col), *scratch);
    std::lock_guard<std::mutex> lock(mu);
    free_scratch.push_back(std::move(scratch));
  });
  return profiles;
}

json ProfileToJson(const std::vector<ColumnProfile>& profiles) {
  json columns = json::array();
  for (const ColumnProfile& profile : profiles) {
    json column = json::object();
    column["name"] = profile.name;
    column["type"] = std::string(DataTypeName(profile.type));
    column["count"] = profile.count;
    column["nulls"] = profile.nulls;
    column["distinct"] = profile.distinct;
    if (profile.nan_count) column["nan_count"] = *profile.nan_count;
    if (profile.inf_count) column["inf_count"] = *profile.inf_count;
    if (profile.min) column["min"] = NumberToJson(profile.type, *profile.min);
    if (profile.max) column["max"] = NumberToJson(profile.type, *profile.max);
    if (profile.mean) column["mean"] = *profile.mean;
    if (profile.stddev) column["std"] = *profile.stddev;
    if (profile.quantiles) {
      json quantiles = json::object();
      for (size_t i = 0; i < kProfileQuantileNames.size(); ++i) {
        quantiles[kProfileQuantileNames[i]] = NumberToJson(profile.type, (*profile.quantiles)[i]);
      }
      column["quantiles"] = std::move(quantiles);
    }
    if (profile.histogram) {
      json edges = json::array();
      for (const ProfileNumber& edge : profile.histogram->edges) {
        edges.push_back(NumberToJson(profile.type, edge));
      }
      column["histogram"] = {{"edges", std::move(edges)}, {"counts", profile.histogram->counts}};
    }
    if (profile.type == DataType::kString || profile.type == DataType::kBool) {
      json top = json::array();
      for (const ValueCount& entry : profile.top_values) {
        top.push_back({{"value", entry.value}, {"count", entry.count}});
      }
      column["top_values"] = std::move(top);
    }
    if (profile.min_length) column["min_length"] = *profile.min_length;
    if (profile.max_length) column["max_length"] = *profile.max_length;
    columns.push_back(std::move(column));
  }
  return json{{"columns", std::move(columns)}};
}

absl::StatusOr<std::vector<ColumnProfile>> ProfileFromJson(const json& json_profile) {
  if (!json_profile.is_object() || !json_profile.contains("columns") ||
      !json_profile["columns"].is_array()) {
    return absl::InvalidArgumentError(
        "a column profile must be a JSON object {\"columns\": [...]}");
  }
  std::vector<ColumnProfile> profiles;
  const json& columns = json_profile["columns"];
  for (size_t index = 0; index < columns.size(); ++index) {
    auto profile = ColumnFromJson(columns[index], index);
    if (!profile.ok()) return profile.status();
    profiles.push_back(std::move(profile).value());
  }
  return profiles;
}

}  // namespace assay::table
