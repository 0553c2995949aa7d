#include "forest/forest.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace assay::forest {
namespace {

using nlohmann::json;

// Parses JSON into a DOM whose floating-point numbers are float32 values (stored widened in
// the double). XGBoost writes each float32 as its shortest round-trip decimal; converting the
// text straight to float32 is exact, whereas text -> double -> float32 rounds twice and can, in
// rare halfway cases, land on the neighbouring float. The SAX interface hands us the text.
class Float32DomBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  bool null() { return Put(json(nullptr)); }
  bool boolean(bool value) { return Put(json(value)); }
  bool number_integer(number_integer_t value) { return Put(json(value)); }
  bool number_unsigned(number_unsigned_t value) { return Put(json(value)); }
  bool number_float(number_float_t value, const string_t& text) {
    float parsed = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    // from_chars reports subnormals and overflow as out of range; the double is right there.
    if (error != std::errc() || end != text.data() + text.size()) {
      constexpr double kMax = std::numeric_limits<float>::max();
      // A double beyond float's range has no float32 value; converting it would be undefined.
      parsed = value > kMax    ? std::numeric_limits<float>::infinity()
               : value < -kMax ? -std::numeric_limits<float>::infinity()
                               : static_cast<float>(value);
    }
    return Put(json(static_cast<double>(parsed)));
  }
  bool string(string_t& value) { return Put(json(std::move(value))); }
  bool binary(binary_t& /*value*/) {
    error_ = "binary values do not occur in JSON text";
    return false;
  }
  bool start_object(std::size_t /*size*/) { return Open(json::object()); }
  bool key(string_t& value) {
    key_ = std::move(value);
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t /*size*/) { return Open(json::array()); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t position, const std::string& /*token*/,
                   const nlohmann::detail::exception& error) {
    error_ = absl::StrCat("at byte ", position, ": ", error.what());
    return false;
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  // Inserts into the innermost open container (or sets the root) and returns where it went.
  // Pointers on the stack stay valid: a container only grows while it is the innermost.
  json* Insert(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json* top = stack_.back();
    if (top->is_array()) {
      top->push_back(std::move(value));
      return &top->back();
    }
    json& slot = (*top)[key_];
    slot = std::move(value);
    return &slot;
  }
  bool Put(json value) {
    Insert(std::move(value));
    return true;
  }
  bool Open(json container) {
    stack_.push_back(Insert(std::move(container)));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  json root_;
  std::vector<json*> stack_;
  std::string key_;
  std::string error_;
};

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("XGBoost model JSON: ", absl::string_view(what.data(), what.size())));
}

// The member `name` of `object`, required to exist.
absl::StatusOr<const json*> Member(const json& object, const char* name, const std::string& path) {
  if (!object.is_object()) return Invalid(absl::StrCat(path, " is not an object"));
  auto it = object.find(name);
  if (it == object.end()) return Invalid(absl::StrCat(path, " has no \"", name, "\""));
  return &*it;
}

// XGBoost writes model parameters as strings ("5E-1", "0"); accept numbers too.
absl::StatusOr<float> ParamFloat(const json& object, const char* name, const std::string& path) {
  ASSAY_ASSIGN_OR_RETURN(const json* value, Member(object, name, path));
  if (value->is_number()) return value->get<float>();
  if (!value->is_string()) return Invalid(absl::StrCat(path, ".", name, " is not a number"));
  const std::string& text = value->get_ref<const std::string&>();
  float parsed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Invalid(absl::StrCat(path, ".", name, " = \"", text, "\" is not a number"));
  }
  return parsed;
}

absl::StatusOr<int64_t> ParamInt(const json& object, const char* name, const std::string& path) {
  ASSAY_ASSIGN_OR_RETURN(const json* value, Member(object, name, path));
  if (value->is_number_integer()) return value->get<int64_t>();
  if (!value->is_string()) return Invalid(absl::StrCat(path, ".", name, " is not an integer"));
  const std::string& text = value->get_ref<const std::string&>();
  int64_t parsed = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Invalid(absl::StrCat(path, ".", name, " = \"", text, "\" is not an integer"));
  }
  return parsed;
}

// A numeric array member of a tree with exactly `size` entries.
template <typename T>
absl::StatusOr<std::vector<T>> NumberArray(const json& tree, const char* name, size_t size,
                                           const std::string& path) {
  ASSAY_ASSIGN_OR_RETURN(const json* value, Member(tree, name, path));
  if (!value->is_array() || value->size() != size) {
    return Invalid(absl::StrCat(path, ".", name, " is not an array of ", size, " numbers"));
  }
  std::vector<T> out;
  out.reserve(size);
  for (const json& item : *value) {
    if (item.is_boolean()) {  // default_left is written as 0/1 or true/false
      out.push_back(static_cast<T>(item.get<bool>()));
    } else if (item.is_number_float() && std::is_integral_v<T>) {
      // Index arrays hold integers; a float there (or one out of range) is a corrupt model.
      const double value = item.get<double>();
      if (!(value == std::floor(value) && std::fabs(value) < 2147483648.0)) {
        return Invalid(absl::StrCat(path, ".", name, " holds ", value, ", not an integer"));
      }
      out.push_back(static_cast<T>(value));
    } else if (item.is_number()) {
      out.push_back(item.get<T>());
    } else {
      return Invalid(absl::StrCat(path, ".", name, " holds a non-number"));
    }
  }
  return out;
}

// The margin every prediction starts from (XGBoost's ObjFunction::ProbToMargin, float32).
absl::StatusOr<float> BaseMargin(const std::string& objective, float base_score) {
  if (objective == "binary:logistic" || objective == "reg:logistic") {
    if (!(base_score > 0.0f && base_score < 1.0f)) {
      return Invalid(absl::StrCat("base_score ", base_score, " of ", objective,
                                  " must lie strictly between 0 and 1"));
    }
    return -std::log(1.0f / base_score - 1.0f);
  }
  if (objective == "reg:squarederror" || objective == "reg:linear" ||
      objective == "binary:logitraw" || objective == "multi:softprob" ||
      objective == "multi:softmax") {
    return base_score;
  }
  return Invalid(absl::StrCat("objective \"", objective,
                              "\" is not supported (supported: reg:squarederror, reg:linear, "
                              "reg:logistic, binary:logistic, binary:logitraw, multi:softprob, "
                              "multi:softmax)"));
}

}  // namespace

absl::StatusOr<Forest> Forest::FromXgboostJson(std::string_view text) {
  Float32DomBuilder builder;
  if (!json::sax_parse(text.begin(), text.end(), &builder)) {
    return Invalid(absl::StrCat("not valid JSON ", builder.error()));
  }
  const json& root = builder.root();
  ASSAY_ASSIGN_OR_RETURN(const json* version, Member(root, "version", "model"));
  if (!version->is_array() || version->empty() || !(*version)[0].is_number_integer() ||
      (*version)[0].get<int>() != 1) {
    return Invalid(absl::StrCat("model version ",
                                version->dump(-1, ' ', false, json::error_handler_t::replace),
                                " is not supported (expected an XGBoost 1.x model)"));
  }
  ASSAY_ASSIGN_OR_RETURN(const json* learner, Member(root, "learner", "model"));
  ASSAY_ASSIGN_OR_RETURN(const json* learner_param,
                         Member(*learner, "learner_model_param", "learner"));
  ASSAY_ASSIGN_OR_RETURN(const json* objective, Member(*learner, "objective", "learner"));
  ASSAY_ASSIGN_OR_RETURN(const json* objective_name, Member(*objective, "name", "objective"));
  ASSAY_ASSIGN_OR_RETURN(const json* booster, Member(*learner, "gradient_booster", "learner"));
  ASSAY_ASSIGN_OR_RETURN(const json* booster_name, Member(*booster, "name", "gradient_booster"));
  if (!booster_name->is_string() || !objective_name->is_string()) {
    return Invalid("gradient_booster.name and objective.name must be strings");
  }
  const std::string& booster_kind = booster_name->get_ref<const std::string&>();
  if (booster_kind != "gbtree") {
    return Invalid(absl::StrCat("booster \"", booster_kind,
                                "\" cannot be compiled (only gbtree; dart and gblinear are "
                                "scored through XGBoost itself)"));
  }

  Forest forest;
  forest.objective_ = objective_name->get<std::string>();
  ASSAY_ASSIGN_OR_RETURN(const float base_score,
                         ParamFloat(*learner_param, "base_score", "learner_model_param"));
  ASSAY_ASSIGN_OR_RETURN(forest.base_margin_, BaseMargin(forest.objective_, base_score));
  ASSAY_ASSIGN_OR_RETURN(const int64_t num_feature,
                         ParamInt(*learner_param, "num_feature", "learner_model_param"));
  ASSAY_ASSIGN_OR_RETURN(const int64_t num_class,
                         ParamInt(*learner_param, "num_class", "learner_model_param"));
  if (num_feature < 0 || num_feature > (int64_t{1} << 30) || num_class < 0 ||
      num_class > (int64_t{1} << 20)) {
    return Invalid("learner_model_param has an out-of-range num_feature or num_class");
  }
  if (learner_param->contains("num_target")) {
    ASSAY_ASSIGN_OR_RETURN(const int64_t num_target,
                           ParamInt(*learner_param, "num_target", "learner_model_param"));
    if (num_target > 1) return Invalid("multi-target models are not supported");
  }
  forest.num_features_ = static_cast<int>(num_feature);
  forest.num_outputs_ = std::max<int>(1, static_cast<int>(num_class));
  forest.total_gain_.assign(static_cast<size_t>(num_feature), 0.0);

  ASSAY_ASSIGN_OR_RETURN(const json* model, Member(*booster, "model", "gradient_booster"));
  ASSAY_ASSIGN_OR_RETURN(const json* trees, Member(*model, "trees", "gradient_booster.model"));
  ASSAY_ASSIGN_OR_RETURN(const json* tree_info,
                         Member(*model, "tree_info", "gradient_booster.model"));
  if (!trees->is_array() || !tree_info->is_array() || trees->size() != tree_info->size()) {
    return Invalid("gradient_booster.model.trees and tree_info must be arrays of equal length");
  }

  forest.tree_offset_.push_back(0);
  for (size_t tree_index = 0; tree_index < trees->size(); ++tree_index) {
    const std::string path = absl::StrCat("trees[", tree_index, "]");
    const json& tree = (*trees)[tree_index];
    const json& group = (*tree_info)[tree_index];
    if (!group.is_number_integer() || group.get<int64_t>() < 0 ||
        group.get<int64_t>() >= forest.num_outputs_) {
      return Invalid(absl::StrCat("tree_info[", tree_index, "] is not an output group below ",
                                  forest.num_outputs_));
    }
    ASSAY_ASSIGN_OR_RETURN(const json* tree_param, Member(tree, "tree_param", path));
    ASSAY_ASSIGN_OR_RETURN(const int64_t num_nodes,
                           ParamInt(*tree_param, "num_nodes", path + ".tree_param"));
    if (tree_param->contains("size_leaf_vector")) {
      ASSAY_ASSIGN_OR_RETURN(const int64_t leaf_vector,
                             ParamInt(*tree_param, "size_leaf_vector", path + ".tree_param"));
      if (leaf_vector > 1) return Invalid(absl::StrCat(path, " has vector leaves (multi-target)"));
    }
    if (num_nodes < 1 || num_nodes > (int64_t{1} << 30)) {
      return Invalid(absl::StrCat(path, " has ", num_nodes, " nodes"));
    }
    const size_t size = static_cast<size_t>(num_nodes);
    ASSAY_ASSIGN_OR_RETURN(auto left, NumberArray<int64_t>(tree, "left_children", size, path));
    ASSAY_ASSIGN_OR_RETURN(auto right, NumberArray<int64_t>(tree, "right_children", size, path));
    ASSAY_ASSIGN_OR_RETURN(auto feature, NumberArray<int64_t>(tree, "split_indices", size, path));
    ASSAY_ASSIGN_OR_RETURN(auto condition,
                           NumberArray<float>(tree, "split_conditions", size, path));
    ASSAY_ASSIGN_OR_RETURN(auto default_left, NumberArray<int>(tree, "default_left", size, path));
    ASSAY_ASSIGN_OR_RETURN(auto cover, NumberArray<float>(tree, "sum_hessian", size, path));
    ASSAY_ASSIGN_OR_RETURN(auto gain, NumberArray<float>(tree, "loss_changes", size, path));
    if (tree.contains("split_type")) {
      ASSAY_ASSIGN_OR_RETURN(auto split_type, NumberArray<int>(tree, "split_type", size, path));
      for (int type : split_type) {
        if (type != 0) {
          return Invalid(absl::StrCat(path,
                                      " has categorical splits, which are not supported; "
                                      "one-hot or ordinal-encode categories in the feature "
                                      "pipeline instead"));
        }
      }
    }

    // Pre-order renumbering with an explicit stack (lossguide trees can be deep). Pushing the
    // right child before the left one makes the left child the next node emitted.
    struct Pending {
      int64_t id;
      int32_t parent;  // new index of the parent whose `right` this node is, or -1
      int32_t depth;
    };
    std::vector<Pending> stack = {{0, -1, 0}};
    std::vector<char> seen(size, 0);
    if (forest.nodes_.size() + size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return Invalid("the model has more than 2^31 nodes");
    }
    const int32_t start = static_cast<int32_t>(forest.nodes_.size());
    int32_t depth = 0;
    while (!stack.empty()) {
      const Pending item = stack.back();
      stack.pop_back();
      const size_t id = static_cast<size_t>(item.id);
      if (seen[id]) return Invalid(absl::StrCat(path, " is not a tree (node ", id, " repeats)"));
      seen[id] = 1;
      const int32_t index = static_cast<int32_t>(forest.nodes_.size()) - start;
      if (item.parent >= 0)
        forest.nodes_[static_cast<size_t>(start) + static_cast<size_t>(item.parent)].right = index;
      depth = std::max(depth, item.depth);
      Node node;
      node.value = condition[id];
      if (left[id] != -1) {
        if (left[id] < 0 || right[id] < 0 || left[id] >= num_nodes || right[id] >= num_nodes) {
          return Invalid(absl::StrCat(path, " node ", id, " has a child out of range"));
        }
        if (feature[id] < 0 || feature[id] >= num_feature) {
          return Invalid(absl::StrCat(path, " node ", id, " splits on feature ", feature[id],
                                      " but the model has ", num_feature, " features"));
        }
        node.feature = static_cast<int32_t>(feature[id]);
        node.default_left = default_left[id] != 0 ? 1 : 0;
        forest.total_gain_[static_cast<size_t>(feature[id])] += gain[id];
        stack.push_back({right[id], index, item.depth + 1});
        stack.push_back({left[id], -1, item.depth + 1});
      }
      forest.nodes_.push_back(node);
      forest.covers_.push_back(cover[id]);
    }
    forest.tree_offset_.push_back(static_cast<int32_t>(forest.nodes_.size()));
    forest.tree_group_.push_back(group.get<int32_t>());
    forest.tree_depth_.push_back(depth);
    forest.max_depth_ = std::max(forest.max_depth_, depth);
  }
  return forest;
}

namespace {

// x < threshold goes left, NaN takes the default direction. Written without branches: the
// comparison is false for NaN, and whether a row goes left is a coin flip a branch predictor
// cannot learn.
inline bool GoLeft(const Node& node, float x) {
  return (x < node.value) | (std::isnan(x) & (node.default_left != 0));
}

// Walks one row down one tree: XGBoost's RegTree::GetNext (x < threshold goes left, NaN takes
// the default direction).
inline float LeafValue(const Node* nodes, const float* row) {
  int32_t index = 0;
  while (nodes[index].feature >= 0) {
    const Node& node = nodes[index];
    const float x = row[node.feature];
    index = GoLeft(node, x) ? index + 1 : node.right;
  }
  return nodes[index].value;
}

// Walks kLanes rows down one tree in lockstep for exactly `depth` steps, a leaf absorbing
// the lanes that reach it early. Each row's walk is a chain of dependent loads and compares;
// interleaving independent rows lets the CPU overlap them, and the fixed trip count leaves no
// data-dependent branch in the loop.
constexpr int kLanes = 8;
inline void WalkLanes(const Node* nodes, int depth, const float* rows, int n_cols, float* target,
                      int groups) {
  int32_t index[kLanes] = {};
  for (int step = 0; step < depth; ++step) {
    for (int lane = 0; lane < kLanes; ++lane) {
      const Node& node = nodes[index[lane]];
      const bool leaf = node.feature < 0;
      const float x = rows[lane * n_cols + (leaf ? 0 : node.feature)];
      const int32_t next = GoLeft(node, x) ? index[lane] + 1 : node.right;
      index[lane] = leaf ? index[lane] : next;
    }
  }
  for (int lane = 0; lane < kLanes; ++lane) {
    target[static_cast<ptrdiff_t>(lane) * groups] += nodes[index[lane]].value;
  }
}

}  // namespace

absl::Status Forest::PredictMargin(const float* rows, int64_t n_rows, int n_cols,
                                   double* out) const {
  if (n_cols != num_features_ || n_rows < 0) {
    return absl::InvalidArgumentError(absl::StrCat("forest expects ", num_features_,
                                                   " feature columns, got ", n_cols, " (and ",
                                                   n_rows, " rows)"));
  }
  // Blocks of rows keep the accumulators in L1 while each tree is walked for the whole block
  // (the same blocking as XGBoost's CPU predictor; per row the order of additions is the tree
  // order, which is all bit-exactness needs).
  constexpr int64_t kBlockRows = 64;
  const int groups = num_outputs_;
  // Up to 8 groups the accumulators live on the stack, so scoring one request allocates nothing.
  constexpr int kStackGroups = 8;
  float stack_accumulators[kBlockRows * kStackGroups];
  std::vector<float> heap_accumulators;
  if (groups > kStackGroups) heap_accumulators.resize(static_cast<size_t>(kBlockRows * groups));
  float* accumulators = groups > kStackGroups ? heap_accumulators.data() : stack_accumulators;
  const int trees = num_trees();
  for (int64_t block = 0; block < n_rows; block += kBlockRows) {
    const int64_t block_rows = std::min(kBlockRows, n_rows - block);
    std::fill(accumulators, accumulators + block_rows * groups, base_margin_);
    const float* block_values = rows + block * n_cols;
    for (int tree = 0; tree < trees; ++tree) {
      const Node* nodes = tree_nodes(tree);
      float* target = accumulators + tree_group_[static_cast<size_t>(tree)];
      int64_t row = 0;
      for (; row + kLanes <= block_rows; row += kLanes) {
        WalkLanes(nodes, tree_depth_[static_cast<size_t>(tree)], block_values + row * n_cols,
                  n_cols, target + row * groups, groups);
      }
      for (; row < block_rows; ++row) {
        target[row * groups] += LeafValue(nodes, block_values + row * n_cols);
      }
    }
    double* block_out = out + block * groups;
    for (int64_t i = 0; i < block_rows * groups; ++i) block_out[i] = accumulators[i];
  }
  return absl::OkStatus();
}

}  // namespace assay::forest
