#include "forest/tree_shap.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"

namespace assay::forest {
namespace {

// One entry of the path of unique features (Lundberg et al. 2018, Algorithm 2): the feature,
// the fraction of "zero" paths (feature not in S: the share of cover flowing this way) and
// "one" paths (feature in S: 1 if x goes this way, else 0), and the permutation weight.
struct PathElement {
  int feature;
  double zero_fraction;
  double one_fraction;
  double weight;
};

// EXTEND of Algorithm 2: appends a feature to the path and updates the subset weights.
void ExtendPath(PathElement* path, int depth, double zero_fraction, double one_fraction,
                int feature) {
  path[depth] = {feature, zero_fraction, one_fraction, depth == 0 ? 1.0 : 0.0};
  for (int i = depth - 1; i >= 0; --i) {
    path[i + 1].weight += one_fraction * path[i].weight * (i + 1) / (depth + 1.0);
    path[i].weight = zero_fraction * path[i].weight * (depth - i) / (depth + 1.0);
  }
}

// UNWIND of Algorithm 2: removes entry `index` (undoing its EXTEND).
void UnwindPath(PathElement* path, int depth, int index) {
  const double one_fraction = path[index].one_fraction;
  const double zero_fraction = path[index].zero_fraction;
  double next_one_portion = path[depth].weight;
  for (int i = depth - 1; i >= 0; --i) {
    if (one_fraction != 0) {
      const double previous = path[i].weight;
      path[i].weight = next_one_portion * (depth + 1) / ((i + 1) * one_fraction);
      next_one_portion = previous - path[i].weight * zero_fraction * (depth - i) / (depth + 1.0);
    } else {
      path[i].weight = path[i].weight * (depth + 1) / (zero_fraction * (depth - i));
    }
  }
  for (int i = index; i < depth; ++i) {
    path[i].feature = path[i + 1].feature;
    path[i].zero_fraction = path[i + 1].zero_fraction;
    path[i].one_fraction = path[i + 1].one_fraction;
  }
}

// The total permutation weight the path would have with entry `index` unwound, without
// modifying it (the sum in the leaf case of RECURSE).
double UnwoundPathSum(const PathElement* path, int depth, int index) {
  const double one_fraction = path[index].one_fraction;
  const double zero_fraction = path[index].zero_fraction;
  double next_one_portion = path[depth].weight;
  double total = 0;
  for (int i = depth - 1; i >= 0; --i) {
    if (one_fraction != 0) {
      const double share = next_one_portion * (depth + 1) / ((i + 1) * one_fraction);
      total += share;
      next_one_portion = path[i].weight - share * zero_fraction * (depth - i) / (depth + 1.0);
    } else if (zero_fraction != 0) {
      total += path[i].weight / zero_fraction / ((depth - i) / (depth + 1.0));
    }
  }
  return total;
}

struct TreeView {
  const Node* nodes;
  const double* covers;
  const float* row;
  double* phi;
};

// RECURSE of Algorithm 2. `parent_path` holds depth + 1 entries; this call's copy lives right
// after them in the same buffer, so the whole walk needs one buffer of O(D^2) entries.
void Recurse(const TreeView& tree, int node, PathElement* parent_path, int depth,
             double parent_zero_fraction, double parent_one_fraction, int parent_feature) {
  PathElement* path = parent_path + depth + 1;
  std::copy(parent_path, parent_path + depth + 1, path);
  ExtendPath(path, depth, parent_zero_fraction, parent_one_fraction, parent_feature);

  const Node& current = tree.nodes[node];
  if (current.is_leaf()) {
    for (int i = 1; i <= depth; ++i) {
      const double weight = UnwoundPathSum(path, depth, i);
      tree.phi[path[i].feature] +=
          weight * (path[i].one_fraction - path[i].zero_fraction) * current.value;
    }
    return;
  }

  const float x = tree.row[current.feature];
  const bool go_left = std::isnan(x) ? current.default_left != 0 : x < current.value;
  const int left = node + 1;
  const int right = current.right;
  const int hot = go_left ? left : right;
  const int cold = go_left ? right : left;
  const double cover = tree.covers[node];
  const double hot_zero_fraction = tree.covers[hot] / cover;
  const double cold_zero_fraction = tree.covers[cold] / cover;
  double incoming_zero_fraction = 1;
  double incoming_one_fraction = 1;

  // A feature met again on the path is unwound first so it appears once (the paper's
  // "previous split on this feature" case).
  int previous = 1;
  while (previous <= depth && path[previous].feature != current.feature) ++previous;
  if (previous <= depth) {
    incoming_zero_fraction = path[previous].zero_fraction;
    incoming_one_fraction = path[previous].one_fraction;
    UnwindPath(path, depth, previous);
    --depth;
  }
  Recurse(tree, hot, path, depth + 1, hot_zero_fraction * incoming_zero_fraction,
          incoming_one_fraction, current.feature);
  Recurse(tree, cold, path, depth + 1, cold_zero_fraction * incoming_zero_fraction, 0,
          current.feature);
}

}  // namespace

TreeShap::TreeShap(const Forest& forest) : forest_(forest) {
  expected_margins_.assign(static_cast<size_t>(forest.num_outputs()), forest.base_margin());
  std::vector<double> means;
  for (int tree = 0; tree < forest.num_trees(); ++tree) {
    const Node* nodes = forest.tree_nodes(tree);
    const double* covers = forest.tree_covers(tree);
    const int size = forest.tree_size(tree);
    means.assign(static_cast<size_t>(size), 0.0);
    // Pre-order puts children after their parent, so a reverse sweep sees children first.
    for (int node = size - 1; node >= 0; --node) {
      if (nodes[node].is_leaf()) {
        means[node] = nodes[node].value;
      } else {
        const int left = node + 1;
        const int right = nodes[node].right;
        means[node] = (means[left] * covers[left] + means[right] * covers[right]) / covers[node];
      }
    }
    expected_margins_[static_cast<size_t>(forest.tree_group(tree))] += means[0];
  }
}

absl::Status TreeShap::Contributions(const float* rows, int64_t n_rows, int n_cols,
                                     double* out) const {
  if (n_cols != forest_.num_features() || n_rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat("TreeSHAP expects ", forest_.num_features(),
                                                   " feature columns, got ", n_cols, " (and ",
                                                   n_rows, " rows)"));
  }
  const int groups = forest_.num_outputs();
  const size_t width = static_cast<size_t>(n_cols) + 1;
  const int max_depth = forest_.max_depth();
  std::vector<PathElement> buffer(static_cast<size_t>((max_depth + 2) * (max_depth + 3) / 2 + 1));
  std::fill(out, out + static_cast<size_t>(n_rows) * groups * width, 0.0);
  for (int64_t row = 0; row < n_rows; ++row) {
    const float* values = rows + row * n_cols;
    double* row_out = out + static_cast<size_t>(row) * groups * width;
    for (int group = 0; group < groups; ++group) {
      row_out[group * width + static_cast<size_t>(n_cols)] = expected_margins_[group];
    }
    for (int tree = 0; tree < forest_.num_trees(); ++tree) {
      const TreeView view{forest_.tree_nodes(tree), forest_.tree_covers(tree), values,
                          row_out + static_cast<size_t>(forest_.tree_group(tree)) * width};
      Recurse(view, 0, buffer.data(), 0, 1, 1, -1);
    }
  }
  return absl::OkStatus();
}

}  // namespace assay::forest
