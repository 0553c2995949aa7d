// MixedCsvGenerator: deterministic synthetic HCP-prescription CSV for the ingest benchmarks.
//
// The table mixes every type the CSV reader has to infer (int64, float64, string, date,
// timestamp, bool), RFC 4180 quoting (strings with commas, doubled quotes) and about 2% empty
// fields (nulls) in every column but the identifier. Output depends only on the seed: the
// generator uses its own splitmix64 PRNG and formats numbers itself, so the bytes are the
// same on every platform and standard library.
//
// Standard library only, so the generator builds without the rest of Assay. One generator
// is not thread-safe; independent generators may run on different threads.
#ifndef ASSAY_BENCH_MIXED_CSV_GENERATOR_H_
#define ASSAY_BENCH_MIXED_CSV_GENERATOR_H_

#include <cstdint>
#include <string>

namespace assay::bench {

class MixedCsvGenerator {
 public:
  // Column names, in order, of the header row.
  static constexpr const char* kHeader =
      "hcp_id,npi,specialty,note,rx_volume,market_share,first_rx_date,last_call_ts,is_target\n";

  explicit MixedCsvGenerator(uint64_t seed);

  // Appends the header line (with its '\n') to `out`.
  void AppendHeader(std::string* out) const;

  // Appends the next data row (with its '\n') to `out`. Rows are numbered from 0; the
  // hcp_id of row r is kFirstHcpId + r, so ids are unique.
  void AppendRow(std::string* out);

  // Number of rows appended so far.
  uint64_t rows() const { return rows_; }

  static constexpr int64_t kFirstHcpId = 100000;

 private:
  // splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
  // OOPSLA 2014; constants from Vigna's reference implementation at prng.di.unimi.it).
  uint64_t Next();
  // Uniform in [0, bound) by Lemire's multiply-shift ("Fast random integer generation in an
  // interval", ACM TOMACS 2019), without the rejection step: the bias is below 2^-40 for our
  // bounds, irrelevant for benchmark data, and skipping it keeps the stream length fixed.
  uint64_t Below(uint64_t bound);
  // True with probability per_mille / 1000.
  bool Chance(uint64_t per_mille);

  void AppendNote(std::string* out);

  uint64_t state_;
  uint64_t rows_ = 0;
};

// Writes a whole CSV of about `target_bytes` (header plus as many full rows as fit, so never
// more than target_bytes unless the header alone is larger) into `out`, replacing its
// contents. For in-memory benchmarks; the executable streams instead.
void GenerateMixedCsv(uint64_t seed, uint64_t target_bytes, std::string* out);

}  // namespace assay::bench

#endif  // ASSAY_BENCH_MIXED_CSV_GENERATOR_H_
