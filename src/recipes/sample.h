// The sample recipe: keeps a subset of the rows of one table, always in input order.
//   kFirst       the first `rows` rows, or the first round(ratio * N) rows;
//   kRandom      exactly `rows` rows (all if fewer) or exactly round(ratio * N) rows, drawn
//                uniformly without replacement;
//   kStratified  round(ratio * size) rows drawn uniformly from each stratum (each distinct
//                value of `column`, null being one stratum), so every stratum keeps the same
//                ratio.
// round() rounds halves up. Random draws are deterministic: the same seed and input select the
// same rows with any compiler or standard library (reshape::SeededRandom), using selection
// sampling (Knuth, TAOCP vol. 2, 3.4.2, Algorithm S) so rows come out in input order.
//
// Config (reference in docs/recipes/reshape.md):
//   {"method": "random", "ratio": 0.1, "seed": 42}
//   {"method": "stratified", "column": "site", "ratio": 0.2, "seed": 7}
//
// Thread-safety: reentrant; uses the default thread pool for large gathers, so it must not be
// called from inside a ParallelFor on it.
#ifndef ASSAY_RECIPES_SAMPLE_H_
#define ASSAY_RECIPES_SAMPLE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "table/table.h"

namespace assay::recipes {

enum class SampleMethod { kFirst, kRandom, kStratified };

struct SampleSpec {
  SampleMethod method = SampleMethod::kFirst;
  // Exactly one of rows and ratio for kFirst and kRandom; ratio for kStratified.
  std::optional<int64_t> rows;  // >= 0.
  std::optional<double> ratio;  // In [0, 1].
  uint64_t seed = 0;            // kRandom and kStratified.
  std::string column;           // kStratified: the stratum column.
};

// Parses the config. "method" is required; keys that the method does not use are rejected.
// Errors: INVALID_ARGUMENT for unknown, missing or mistyped keys, both or neither of
// rows/ratio, a ratio outside [0, 1] or a negative row count, naming the key path.
absl::StatusOr<SampleSpec> ParseSampleSpec(const nlohmann::json& config);

// The sampled rows of `input` in input order, same schema. Errors: INVALID_ARGUMENT for a spec
// that ParseSampleSpec would reject, or a stratum column missing from `input` (listing the
// available ones).
absl::StatusOr<table::Table> RunSample(const SampleSpec& spec, const table::Table& input);

}  // namespace assay::recipes

#endif  // ASSAY_RECIPES_SAMPLE_H_
