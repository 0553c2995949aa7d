// SplitPlan: which labelled rows are held out for the final, unbiased metrics and how the
// rest is cut into K cross-validation folds (ARCHITECTURE.md section 6; docs/ml.md "Splits").
// The holdout is never used to choose anything: not the trial, not the number of boosting
// rounds, not the threshold, not the calibration.
//
// Pure functions of their inputs and seed; thread-safe.
#ifndef ASSAY_ML_SPLIT_PLAN_H_
#define ASSAY_ML_SPLIT_PLAN_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "ml/task_spec.h"
#include "ml/task_type.h"

namespace assay::ml {

struct Fold {
  std::vector<int64_t> train_rows;  // table row ids, ascending
  std::vector<int64_t> valid_rows;  // table row ids, ascending
};

struct SplitPlan {
  std::vector<int64_t> holdout_rows;  // ascending
  std::vector<int64_t> search_rows;   // every labelled row not in the holdout, ascending
  std::vector<Fold> folds;
  std::string description;  // "stratified random holdout 20%, 5-fold stratified CV"
};

// A small deterministic PRNG (splitmix64, Vigna 2015, public domain) so that splits and the
// search draw the same numbers on every platform (std distributions are implementation-
// defined).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, bound).
  uint64_t Below(uint64_t bound) { return bound == 0 ? 0 : Next() % bound; }

 private:
  uint64_t state_;
};

// Fisher-Yates shuffle with SplitMix64.
void Shuffle(std::vector<int64_t>& rows, SplitMix64& rng);

// Builds the plan for `labelled_rows` (table row ids with a label; `labels[i]` belongs to
// labelled_rows[i]). Classification with `spec.stratified` keeps each class's share in the
// holdout and every fold. With `times` (one value per labelled row, e.g. days since epoch),
// the holdout is the latest rows and folds are forward chains: fold k trains on the first
// k+1 of K+1 time blocks and validates on the next block.
// Errors: FAILED_PRECONDITION when there are too few rows (or too few of a class) to hold out
// and fold, naming the counts.
absl::StatusOr<SplitPlan> MakeSplitPlan(const std::vector<int64_t>& labelled_rows,
                                        const std::vector<float>& labels, TaskType task,
                                        const SplitSpec& spec,
                                        const std::optional<std::vector<int64_t>>& times,
                                        uint64_t seed);

}  // namespace assay::ml

#endif  // ASSAY_ML_SPLIT_PLAN_H_
