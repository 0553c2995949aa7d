#include "forest/tree_shap.h"

#include <cmath>
#include <string>
#include <vector>

#include "forest/forest.h"
#include "gtest/gtest.h"
#include "ml/feature_matrix.h"
#include "ml/model.h"
#include "ml/xgboost/xgboost_model.h"
#include "nlohmann/json.hpp"
#include "tests/forest/synthetic_data.h"

namespace assay::forest {
namespace {

using ml::TaskType;

std::string TrainJson(TaskType task, const std::string& algorithm, nlohmann::json hyper, int rounds,
                      const testing::SyntheticData& data) {
  ml::TrainParams params;
  params.algorithm = algorithm;
  params.task = task;
  params.num_classes = 3;
  params.hyper = std::move(hyper);
  params.max_rounds = rounds;
  params.seed = 11;
  params.threads = 1;  // OpenMP spin-waits make 2 threads slow on a loaded test machine
  absl::StatusOr<ml::TrainResult> trained = ml::TrainXgboost(params, data.view(), nullptr);
  EXPECT_TRUE(trained.ok()) << trained.status();
  if (!trained.ok()) return "";
  return *trained->model->Serialize();
}

struct Explained {
  std::vector<double> contributions;
  std::vector<double> margins;
};

Explained Explain(const Forest& forest, const ml::FeatureMatrix& x) {
  Explained out;
  const TreeShap shap(forest);
  out.contributions.resize(static_cast<size_t>(x.rows) * forest.num_outputs() * (x.cols + 1));
  EXPECT_TRUE(shap.Contributions(x.values.data(), x.rows, x.cols, out.contributions.data()).ok());
  out.margins.resize(static_cast<size_t>(x.rows) * forest.num_outputs());
  EXPECT_TRUE(forest.PredictMargin(x.values.data(), x.rows, x.cols, out.margins.data()).ok());
  return out;
}

// ---- Against XGBoost's pred_contribs --------------------------------------------------------

TEST(TreeShap, AgreesWithXgboostPredContribs) {
  struct Case {
    TaskType task;
    std::string algorithm;
    nlohmann::json hyper;
    int rounds;
  };
  const std::vector<Case> cases = {
      {TaskType::kBinary, "xgboost", {{"max_depth", 6}}, 60},
      {TaskType::kBinary, "xgboost_rf", {{"num_parallel_tree", 30}, {"max_depth", 8}}, 1},
      {TaskType::kMulticlass, "xgboost", {{"max_depth", 4}, {"learning_rate", 0.2}}, 40},
      {TaskType::kRegression,
       "xgboost",
       {{"grow_policy", "lossguide"}, {"max_leaves", 40}, {"max_depth", 0}},
       50},
  };
  uint64_t seed = 20;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(ml::TaskTypeName(c.task)) + " " + c.algorithm);
    const testing::SyntheticData data = testing::MakeSyntheticData(c.task, 1500, 7, 0.15, seed);
    const std::string model = TrainJson(c.task, c.algorithm, c.hyper, c.rounds, data);
    absl::StatusOr<Forest> forest = Forest::FromXgboostJson(model);
    ASSERT_TRUE(forest.ok()) << forest.status();
    const ml::FeatureMatrix x = testing::MakeSyntheticData(c.task, 300, 7, 0.2, seed + 1000).x;
    const Explained ours = Explain(*forest, x);
    absl::StatusOr<std::vector<float>> reference =
        ml::PredictWithXgboost(model, x, ml::XgboostOutput::kContributions);
    ASSERT_TRUE(reference.ok()) << reference.status();
    ASSERT_EQ(reference->size(), ours.contributions.size());
    double worst = 0;
    for (size_t i = 0; i < ours.contributions.size(); ++i) {
      worst = std::max(worst, std::fabs(ours.contributions[i] - (*reference)[i]));
    }
    EXPECT_LE(worst, 1e-5);
    ++seed;
  }
}

TEST(TreeShap, ContributionsSumToMargins) {
  const testing::SyntheticData data =
      testing::MakeSyntheticData(TaskType::kMulticlass, 1500, 6, 0.2, 5);
  const std::string model =
      TrainJson(TaskType::kMulticlass, "xgboost", {{"max_depth", 7}}, 30, data);
  absl::StatusOr<Forest> forest = Forest::FromXgboostJson(model);
  ASSERT_TRUE(forest.ok()) << forest.status();
  const ml::FeatureMatrix x = testing::MakeSyntheticData(TaskType::kMulticlass, 200, 6, 0.3, 6).x;
  const Explained ours = Explain(*forest, x);
  const size_t width = 7;
  for (size_t block = 0; block < ours.margins.size(); ++block) {
    double total = 0;
    for (size_t col = 0; col < width; ++col) total += ours.contributions[block * width + col];
    // The margin is a float32 sum; the Shapley values are exact in double.
    EXPECT_NEAR(total, ours.margins[block], 1e-5) << "block " << block;
  }
}

// ---- Against brute-force Shapley values ----------------------------------------------------

// E[f(x) | x_S] for one tree as TreeSHAP defines it: follow x on features in S, otherwise
// average both children weighted by cover.
double ConditionalExpectation(const Forest& forest, int tree, int node, const float* row,
                              unsigned subset) {
  const Node* nodes = forest.tree_nodes(tree);
  const Node& current = nodes[node];
  if (current.is_leaf()) return current.value;
  const int left = node + 1;
  const int right = current.right;
  if (subset & (1u << current.feature)) {
    const float x = row[current.feature];
    const bool go_left = std::isnan(x) ? current.default_left != 0 : x < current.value;
    return ConditionalExpectation(forest, tree, go_left ? left : right, row, subset);
  }
  const double* covers = forest.tree_covers(tree);
  return (covers[left] * ConditionalExpectation(forest, tree, left, row, subset) +
          covers[right] * ConditionalExpectation(forest, tree, right, row, subset)) /
         covers[node];
}

// phi_i = sum over S not containing i of |S|! (M - |S| - 1)! / M! (v(S + i) - v(S)), with v
// the sum over trees of the output's conditional expectations (Shapley 1953).
std::vector<double> BruteForceShapley(const Forest& forest, const float* row, int output) {
  const int features = forest.num_features();
  std::vector<double> factorial(static_cast<size_t>(features) + 1, 1.0);
  for (int n = 1; n <= features; ++n) factorial[n] = factorial[n - 1] * n;
  std::vector<double> value(size_t{1} << features, 0.0);
  for (unsigned subset = 0; subset < value.size(); ++subset) {
    for (int tree = 0; tree < forest.num_trees(); ++tree) {
      if (forest.tree_group(tree) != output) continue;
      value[subset] += ConditionalExpectation(forest, tree, 0, row, subset);
    }
  }
  std::vector<double> phi(static_cast<size_t>(features) + 1, 0.0);
  for (int feature = 0; feature < features; ++feature) {
    for (unsigned subset = 0; subset < value.size(); ++subset) {
      if (subset & (1u << feature)) continue;
      const int size = __builtin_popcount(subset);
      const double weight = factorial[size] * factorial[features - size - 1] / factorial[features];
      phi[feature] += weight * (value[subset | (1u << feature)] - value[subset]);
    }
  }
  phi[features] = value[0] + forest.base_margin();
  return phi;
}

TEST(TreeShap, MatchesBruteForceShapleyOnSmallForests) {
  // Few features and deep trees, so paths split on the same feature repeatedly (the unwind
  // case of the algorithm) and missing values take default branches.
  for (const TaskType task : {TaskType::kBinary, TaskType::kMulticlass}) {
    SCOPED_TRACE(std::string(ml::TaskTypeName(task)));
    const testing::SyntheticData data = testing::MakeSyntheticData(task, 600, 5, 0.2, 31);
    const std::string model =
        TrainJson(task, "xgboost",
                  {{"max_depth", 6}, {"colsample_bynode", 0.6}, {"learning_rate", 0.3}}, 8, data);
    absl::StatusOr<Forest> forest = Forest::FromXgboostJson(model);
    ASSERT_TRUE(forest.ok()) << forest.status();
    ASSERT_GE(forest->max_depth(), 5);
    const ml::FeatureMatrix x = testing::MakeSyntheticData(task, 40, 5, 0.25, 32).x;
    const Explained ours = Explain(*forest, x);
    const int outputs = forest->num_outputs();
    for (int64_t row = 0; row < x.rows; ++row) {
      for (int output = 0; output < outputs; ++output) {
        const std::vector<double> expected =
            BruteForceShapley(*forest, x.values.data() + row * 5, output);
        for (int col = 0; col <= 5; ++col) {
          EXPECT_NEAR(ours.contributions[(row * outputs + output) * 6 + col], expected[col], 1e-9)
              << "row " << row << " output " << output << " col " << col;
        }
      }
    }
  }
}

TEST(TreeShap, SingleSplitAttributesTheWholeDifference) {
  // One tree "x0 < 0 ? -1 : 3" with covers 1 (left) and 3 (right): mean 2, so a row going
  // left gets phi_0 = -1 - 2 = -3 and the bias is 2 + base_score 0.5.
  const nlohmann::json tree = {
      {"default_left", {1, 0, 0}},
      {"left_children", {1, -1, -1}},
      {"right_children", {2, -1, -1}},
      {"loss_changes", {1.0, 0, 0}},
      {"split_conditions", {0.0, -1.0, 3.0}},
      {"split_indices", {0, 0, 0}},
      {"split_type", {0, 0, 0}},
      {"sum_hessian", {4.0, 1.0, 3.0}},
      {"tree_param", {{"num_nodes", "3"}, {"num_feature", "2"}, {"size_leaf_vector", "0"}}},
  };
  const nlohmann::json model = {
      {"learner",
       {{"gradient_booster",
         {{"name", "gbtree"}, {"model", {{"tree_info", {0}}, {"trees", {tree}}}}}},
        {"learner_model_param", {{"base_score", "5E-1"}, {"num_class", "0"}, {"num_feature", "2"}}},
        {"objective", {{"name", "reg:squarederror"}}}}},
      {"version", {1, 7, 4}},
  };
  absl::StatusOr<Forest> forest = Forest::FromXgboostJson(model.dump());
  ASSERT_TRUE(forest.ok()) << forest.status();
  const TreeShap shap(*forest);
  const std::vector<float> rows = {-1.0f, 5.0f, ml::kMissing, 5.0f, 1.0f, 5.0f};
  std::vector<double> out(9);
  ASSERT_TRUE(shap.Contributions(rows.data(), 3, 2, out.data()).ok());
  EXPECT_EQ(out, (std::vector<double>{-3, 0, 2.5, -3, 0, 2.5, 1, 0, 2.5}));
  EXPECT_EQ(shap.expected_margins(), (std::vector<double>{2.5}));
  EXPECT_EQ(shap.Contributions(rows.data(), 1, 3, out.data()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace assay::forest
