// TreeShap: exact Shapley values of a compiled Forest's margins, per row and output.
//
// The algorithm is exact TreeSHAP, Algorithm 2 of Lundberg, Erion and Lee (2018),
// "Consistent Individualized Feature Attribution for Tree Ensembles" (arXiv:1802.03888): for
// each tree it walks every root-to-leaf path once while maintaining, for the unique features
// on the path, the proportion of all feature subsets that flow down it, giving O(T L D^2)
// work per row instead of the exponential subset enumeration. The conditional expectation
// E[f(x) | x_S] weights the branches of a split on a feature outside S by node cover
// (XGBoost's sum_hessian), as XGBoost's own pred_contribs does, so the values agree with
// XGBoost to float32 rounding.
//
// Output layout (ml/model.h): rows x outputs x (cols + 1), the last entry of each
// (row, output) block the bias: the base margin plus each tree's cover-weighted mean leaf
// value. Each block sums to that row's margin for that output.
//
// Thread-safety: immutable after construction; Contributions is safe to call concurrently.
// The explainer refers to the Forest it was built from, which must outlive it.
#ifndef ASSAY_FOREST_TREE_SHAP_H_
#define ASSAY_FOREST_TREE_SHAP_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "forest/forest.h"

namespace assay::forest {

class TreeShap {
 public:
  // Precomputes each tree's expected value (O(nodes)). Keeps a reference to `forest`.
  explicit TreeShap(const Forest& forest);

  // Writes the Shapley values of `n_rows` rows (row-major, `n_cols` float32 values each, NaN =
  // missing) to out[(row * num_outputs + output) * (n_cols + 1) + col], the bias at
  // col == n_cols. Requires `out` to hold n_rows * num_outputs * (n_cols + 1) values.
  // Errors: INVALID_ARGUMENT if n_cols != forest.num_features() or n_rows < 0.
  absl::Status Contributions(const float* rows, int64_t n_rows, int n_cols, double* out) const;

  // The bias of each output: base margin + sum of the trees' root expected values.
  const std::vector<double>& expected_margins() const { return expected_margins_; }

 private:
  const Forest& forest_;
  std::vector<double> expected_margins_;
};

}  // namespace assay::forest

#endif  // ASSAY_FOREST_TREE_SHAP_H_
