// Forest: a tree ensemble compiled from an XGBoost JSON model for fast, bit-faithful scoring.
//
// XGBoost's JSON model (doc/model.schema in the XGBoost sources, version 1.7) stores each tree
// as parallel arrays indexed by node id in growth order. Forest renumbers every tree in
// pre-order into one flat node array (ARCHITECTURE.md section 8; layout in
// docs/formats/forest.md): a split's left child is the next node, its right child is named by
// index, leaves carry their value in place of the threshold. Prediction reproduces XGBoost's
// CPU predictor exactly: per output group a float32 accumulator starts at the base margin and
// adds each tree's leaf value (float32) in tree order; a row goes left when x < threshold
// (float32 compare) and follows the default direction when x is NaN (missing).
//
// Supported: gbtree models (any num_parallel_tree, any number of output groups) with numeric
// splits and the objectives reg:squarederror, reg:linear, reg:logistic, binary:logistic,
// binary:logitraw, multi:softprob and multi:softmax. Rejected with INVALID_ARGUMENT:
// categorical splits, dart, gblinear, multi-target trees and other objectives.
//
// Thread-safety: immutable after construction; every const method is safe to call from many
// threads at once.
#ifndef ASSAY_FOREST_FOREST_H_
#define ASSAY_FOREST_FOREST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace assay::forest {

// One node of a compiled tree. 16 bytes, so four nodes share a cache line.
struct Node {
  int32_t feature = -1;       // split feature, or -1 for a leaf
  float value = 0;            // split threshold (go left when x < value), or the leaf value
  int32_t right = 0;          // index of the right child within the tree (splits only)
  uint32_t default_left = 0;  // 1: a missing value goes left (splits only)

  bool is_leaf() const { return feature < 0; }
};

class Forest {
 public:
  // Compiles an XGBoost JSON model (the bytes of XGBoosterSaveModelToBuffer with
  // {"format":"json"}, or a model file saved as .json). Split thresholds and leaf values are
  // read as float32 directly from their decimal text, so they equal XGBoost's in-memory
  // values. Errors: INVALID_ARGUMENT for bytes that are not JSON, a structure that is not an
  // XGBoost 1.x tree model, or an unsupported feature (the message names it).
  static absl::StatusOr<Forest> FromXgboostJson(std::string_view json);

  int num_features() const { return num_features_; }
  // Output groups: 1 for regression and binary, K for multiclass.
  int num_outputs() const { return num_outputs_; }
  int num_trees() const { return static_cast<int>(tree_group_.size()); }
  const std::string& objective() const { return objective_; }
  // The float32 value every accumulator starts from: base_score, or logit(base_score) for
  // the logistic objectives (XGBoost's ObjFunction::ProbToMargin).
  float base_margin() const { return base_margin_; }

  // Writes the margins of `n_rows` rows of `rows` (row-major, `n_cols` float32 values each,
  // NaN = missing) to out[row * num_outputs() + output]. The values are XGBoost's float32
  // output_margin predictions, widened to double. Requires `out` to hold
  // n_rows * num_outputs() values. Allocates nothing per row. Errors: INVALID_ARGUMENT if
  // n_cols != num_features() or n_rows < 0.
  absl::Status PredictMargin(const float* rows, int64_t n_rows, int n_cols, double* out) const;

  // Total gain (sum of loss_changes over the splits on each feature), size num_features();
  // zero for features no tree splits on. Equals XGBoost's "total_gain" feature score.
  const std::vector<double>& total_gain() const { return total_gain_; }

  // --- Tree access (for TreeSHAP and tests) ----------------------------------------------
  // Nodes of tree `tree` in pre-order (the root first); `right` indices are relative to it.
  const Node* tree_nodes(int tree) const { return nodes_.data() + tree_offset_[tree]; }
  int tree_size(int tree) const { return tree_offset_[tree + 1] - tree_offset_[tree]; }
  // Node covers (XGBoost's sum_hessian), parallel to tree_nodes(tree).
  const double* tree_covers(int tree) const { return covers_.data() + tree_offset_[tree]; }
  // The output group tree `tree` adds to (XGBoost's tree_info).
  int tree_group(int tree) const { return tree_group_[tree]; }
  // Edges on the longest root-to-leaf path of tree `tree` (0 for a single leaf).
  int tree_depth(int tree) const { return tree_depth_[tree]; }
  int max_depth() const { return max_depth_; }

 private:
  Forest() = default;

  std::vector<Node> nodes_;           // all trees, each in pre-order
  std::vector<double> covers_;        // parallel to nodes_
  std::vector<int32_t> tree_offset_;  // num_trees + 1 entries into nodes_
  std::vector<int32_t> tree_group_;
  std::vector<int32_t> tree_depth_;
  std::vector<double> total_gain_;
  std::string objective_;
  float base_margin_ = 0;
  int num_features_ = 0;
  int num_outputs_ = 1;
  int max_depth_ = 0;
};

}  // namespace assay::forest

#endif  // ASSAY_FOREST_FOREST_H_
