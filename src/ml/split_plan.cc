#include "ml/split_plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace assay::ml {
namespace {

constexpr int64_t kMinRowsPerFold = 5;

// Deals `rows` (already shuffled) into `parts` groups round-robin.
void Deal(const std::vector<int64_t>& rows, int parts, std::vector<std::vector<int64_t>>& out) {
  for (size_t index = 0; index < rows.size(); ++index) {
    out[index % static_cast<size_t>(parts)].push_back(rows[index]);
  }
}

}  // namespace

void Shuffle(std::vector<int64_t>& rows, SplitMix64& rng) {
  for (size_t index = rows.size(); index > 1; --index) {
    const size_t other = static_cast<size_t>(rng.Below(index));
    std::swap(rows[index - 1], rows[other]);
  }
}

absl::StatusOr<SplitPlan> MakeSplitPlan(const std::vector<int64_t>& labelled_rows,
                                        const std::vector<float>& labels, TaskType task,
                                        const SplitSpec& spec,
                                        const std::optional<std::vector<int64_t>>& times,
                                        uint64_t seed) {
  const int64_t n = static_cast<int64_t>(labelled_rows.size());
  const int folds = spec.folds;
  const int64_t holdout_size = static_cast<int64_t>(std::llround(spec.holdout * n));
  if (n - holdout_size < static_cast<int64_t>(folds) * kMinRowsPerFold || holdout_size < 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "only ", n, " labelled rows: too few for a ", spec.holdout * 100, "% holdout and ", folds,
        "-fold cross-validation (need at least ", folds * kMinRowsPerFold + 2,
        "); add data or lower split.folds / split.holdout"));
  }
  SplitPlan plan;
  SplitMix64 rng(seed ^ 0x5eed5eed5eedULL);

  if (times.has_value()) {
    // Time order; ties broken by row id so the plan is deterministic.
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return (*times)[static_cast<size_t>(a)] < (*times)[static_cast<size_t>(b)];
    });
    const int64_t search_size = n - holdout_size;
    for (int64_t index = 0; index < n; ++index) {
      const int64_t row = labelled_rows[static_cast<size_t>(order[static_cast<size_t>(index)])];
      (index < search_size ? plan.search_rows : plan.holdout_rows).push_back(row);
    }
    // Forward chaining over K+1 blocks of the (time-ordered) search rows.
    const int blocks = folds + 1;
    for (int fold = 0; fold < folds; ++fold) {
      Fold result;
      const int64_t train_end = search_size * (fold + 1) / blocks;
      const int64_t valid_end = search_size * (fold + 2) / blocks;
      result.train_rows.assign(plan.search_rows.begin(), plan.search_rows.begin() + train_end);
      result.valid_rows.assign(plan.search_rows.begin() + train_end,
                               plan.search_rows.begin() + valid_end);
      std::sort(result.train_rows.begin(), result.train_rows.end());
      std::sort(result.valid_rows.begin(), result.valid_rows.end());
      plan.folds.push_back(std::move(result));
    }
    std::sort(plan.search_rows.begin(), plan.search_rows.end());
    std::sort(plan.holdout_rows.begin(), plan.holdout_rows.end());
    plan.description =
        absl::StrCat("time-based holdout: the latest ", spec.holdout * 100, "% of rows by ",
                     spec.time_column, "; ", folds, "-fold forward-chaining CV over time");
    return plan;
  }

  // Strata: one per class for stratified classification, else one.
  const bool stratify = spec.stratified && task != TaskType::kRegression;
  std::map<float, std::vector<int64_t>> strata;
  for (int64_t index = 0; index < n; ++index) {
    strata[stratify ? labels[static_cast<size_t>(index)] : 0.0f].push_back(
        labelled_rows[static_cast<size_t>(index)]);
  }
  std::vector<std::vector<int64_t>> fold_rows(static_cast<size_t>(folds));
  for (auto& [label, rows] : strata) {
    if (stratify && static_cast<int64_t>(rows.size()) < folds + 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("class with label index ", label, " has only ", rows.size(),
                       " rows: too few for a holdout and ", folds,
                       "-fold stratified CV; add data, lower split.folds, or merge rare classes"));
    }
    Shuffle(rows, rng);
    const int64_t stratum_holdout =
        static_cast<int64_t>(std::llround(spec.holdout * static_cast<double>(rows.size())));
    plan.holdout_rows.insert(plan.holdout_rows.end(), rows.begin(), rows.begin() + stratum_holdout);
    std::vector<int64_t> rest(rows.begin() + stratum_holdout, rows.end());
    plan.search_rows.insert(plan.search_rows.end(), rest.begin(), rest.end());
    Deal(rest, folds, fold_rows);
  }
  std::sort(plan.holdout_rows.begin(), plan.holdout_rows.end());
  std::sort(plan.search_rows.begin(), plan.search_rows.end());
  for (int fold = 0; fold < folds; ++fold) {
    Fold result;
    result.valid_rows = fold_rows[static_cast<size_t>(fold)];
    for (int other = 0; other < folds; ++other) {
      if (other == fold) continue;
      const auto& rows = fold_rows[static_cast<size_t>(other)];
      result.train_rows.insert(result.train_rows.end(), rows.begin(), rows.end());
    }
    std::sort(result.train_rows.begin(), result.train_rows.end());
    std::sort(result.valid_rows.begin(), result.valid_rows.end());
    plan.folds.push_back(std::move(result));
  }
  plan.description =
      absl::StrCat(stratify ? "stratified " : "", "random holdout ", spec.holdout * 100, "%; ",
                   folds, "-fold ", stratify ? "stratified " : "", "cross-validation");
  return plan;
}

}  // namespace assay::ml
