#include "forest/forest.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "forest/tree_shap.h"
#include "gtest/gtest.h"
#include "ml/feature_matrix.h"
#include "ml/model.h"
#include "ml/xgboost/xgboost_model.h"
#include "nlohmann/json.hpp"
#include "tests/forest/synthetic_data.h"

namespace assay::forest {
namespace {

using ml::TaskType;

// Trains through ml::TrainXgboost and returns XGBoost's JSON model.
std::string TrainJson(TaskType task, const std::string& algorithm, nlohmann::json hyper, int rounds,
                      const testing::SyntheticData& data) {
  ml::TrainParams params;
  params.algorithm = algorithm;
  params.task = task;
  params.num_classes = 3;
  params.hyper = std::move(hyper);
  params.max_rounds = rounds;
  params.seed = 7;
  params.threads = 1;  // OpenMP spin-waits make 2 threads slow on a loaded test machine
  absl::StatusOr<ml::TrainResult> trained = ml::TrainXgboost(params, data.view(), nullptr);
  EXPECT_TRUE(trained.ok()) << trained.status();
  if (!trained.ok()) return "";
  absl::StatusOr<std::string> bytes = trained->model->Serialize();
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : "";
}

// Rows to score: fresh random rows (with missing values), plus rows whose values sit exactly
// on split thresholds, where `<` versus `<=` or a rounded threshold would show.
ml::FeatureMatrix ScoringRows(const Forest& forest, int cols, uint64_t seed) {
  ml::FeatureMatrix x = testing::MakeSyntheticData(TaskType::kRegression, 400, cols, 0.2, seed).x;
  std::vector<float> values = x.values;
  int64_t rows = x.rows;
  for (int tree = 0; tree < forest.num_trees() && rows < 1200; ++tree) {
    const Node* nodes = forest.tree_nodes(tree);
    for (int node = 0; node < forest.tree_size(tree); ++node) {
      if (nodes[node].is_leaf()) continue;
      std::vector<float> row(values.begin() + (rows % 400) * cols,
                             values.begin() + (rows % 400 + 1) * cols);
      row[static_cast<size_t>(nodes[node].feature)] = nodes[node].value;
      values.insert(values.end(), row.begin(), row.end());
      ++rows;
    }
  }
  x.values = std::move(values);
  x.rows = rows;
  return x;
}

// Compares the forest's margins with XGBoost's own output_margin prediction, bit for bit.
void ExpectBitEqualToXgboost(const std::string& model_json, int cols, uint64_t seed) {
  absl::StatusOr<Forest> forest = Forest::FromXgboostJson(model_json);
  ASSERT_TRUE(forest.ok()) << forest.status();
  const ml::FeatureMatrix x = ScoringRows(*forest, cols, seed);
  std::vector<double> ours(static_cast<size_t>(x.rows) * forest->num_outputs());
  ASSERT_TRUE(forest->PredictMargin(x.values.data(), x.rows, x.cols, ours.data()).ok());
  absl::StatusOr<std::vector<float>> reference =
      ml::PredictWithXgboost(model_json, x, ml::XgboostOutput::kMargin);
  ASSERT_TRUE(reference.ok()) << reference.status();
  ASSERT_EQ(reference->size(), ours.size());
  int mismatches = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    const float mine = static_cast<float>(ours[i]);
    // Exact float equality is the point: compare the bit patterns.
    if (std::memcmp(&mine, &(*reference)[i], sizeof(float)) != 0 ||
        ours[i] != static_cast<double>(mine)) {
      if (++mismatches <= 3) {
        ADD_FAILURE() << "value " << i << ": forest " << ours[i] << " xgboost " << (*reference)[i];
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << ours.size();
}

struct Case {
  TaskType task;
  std::string algorithm;
  nlohmann::json hyper;
  int rounds;
};

TEST(Forest, MarginsAreBitEqualToXgboost) {
  const std::vector<Case> cases = {
      {TaskType::kBinary, "xgboost", {{"max_depth", 2}}, 80},
      {TaskType::kBinary, "xgboost", {{"max_depth", 8}, {"learning_rate", 0.1}}, 120},
      {TaskType::kBinary, "xgboost_rf", {{"num_parallel_tree", 60}, {"max_depth", 10}}, 1},
      {TaskType::kMulticlass, "xgboost", {{"max_depth", 5}, {"subsample", 0.7}}, 60},
      {TaskType::kMulticlass, "xgboost_rf", {{"num_parallel_tree", 20}}, 1},
      {TaskType::kRegression,
       "xgboost",
       {{"grow_policy", "lossguide"}, {"max_leaves", 31}, {"max_depth", 0}},
       100},
      {TaskType::kRegression, "xgboost", {{"max_depth", 12}, {"min_child_weight", 0}}, 40},
      // A large gamma refuses weak splits: trees of uneven depth (lanes finishing early).
      {TaskType::kBinary, "xgboost", {{"max_depth", 8}, {"gamma", 2.0}}, 40},
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(ml::TaskTypeName(c.task)) + " " + c.algorithm + " " + c.hyper.dump());
    const testing::SyntheticData data = testing::MakeSyntheticData(c.task, 2000, 8, 0.15, seed);
    const std::string model = TrainJson(c.task, c.algorithm, c.hyper, c.rounds, data);
    ExpectBitEqualToXgboost(model, 8, seed + 100);
    ++seed;
  }
}

TEST(Forest, BinaryBaseMarginIsLogitOfBaseScore) {
  const testing::SyntheticData data =
      testing::MakeSyntheticData(TaskType::kBinary, 1000, 6, 0.1, 3);
  const std::string model = TrainJson(TaskType::kBinary, "xgboost", {{"max_depth", 4}}, 30, data);
  ASSERT_NE(model.find(R"("base_score":"5E-1")"), std::string::npos);
  for (const char* score : {"3E-1", "8.5E-1", "1.2345E-2", "9.9E-1"}) {
    SCOPED_TRACE(score);
    std::string edited = model;
    edited.replace(edited.find(R"("base_score":"5E-1")"), 19,
                   std::string(R"("base_score":")") + score + "\"");
    absl::StatusOr<Forest> forest = Forest::FromXgboostJson(edited);
    ASSERT_TRUE(forest.ok()) << forest.status();
    const float p = std::strtof(score, nullptr);
    // float32 arithmetic, as in XGBoost: 1 / p - 1 loses relative precision near p = 1.
    EXPECT_NEAR(forest->base_margin(), std::log(p / (1 - p)),
                2e-6 * (1 + std::fabs(std::log(p / (1 - p)))));
    ExpectBitEqualToXgboost(edited, 6, 4);
  }
}

// A hand-written model: one tree "x0 < 0.5 ? (x1 < -1 ? 1 : 2) : 3", missing x0 goes right
// (default_left 0) and missing x1 goes left, base_score 0.25 (regression: margin base 0.25).
std::string TinyModel(const std::string& booster = "gbtree", int split_type = 0) {
  nlohmann::json tree = {
      {"base_weights", {0, 0, 3, 1, 2}},
      {"categories", nlohmann::json::array()},
      {"categories_nodes", nlohmann::json::array()},
      {"categories_segments", nlohmann::json::array()},
      {"categories_sizes", nlohmann::json::array()},
      {"default_left", {0, 1, 0, 0, 0}},
      {"id", 0},
      {"left_children", {1, 3, -1, -1, -1}},
      {"loss_changes", {10.0, 4.0, 0, 0, 0}},
      {"parents", {2147483647, 0, 0, 1, 1}},
      {"right_children", {2, 4, -1, -1, -1}},
      {"split_conditions", {0.5, -1.0, 3.0, 1.0, 2.0}},
      {"split_indices", {0, 1, 0, 0, 0}},
      {"split_type", {split_type, 0, 0, 0, 0}},
      {"sum_hessian", {10.0, 6.0, 4.0, 2.0, 4.0}},
      {"tree_param",
       {{"num_deleted", "0"}, {"num_feature", "3"}, {"num_nodes", "5"}, {"size_leaf_vector", "0"}}},
  };
  nlohmann::json model = {
      {"learner",
       {{"attributes", nlohmann::json::object()},
        {"feature_names", nlohmann::json::array()},
        {"feature_types", nlohmann::json::array()},
        {"gradient_booster",
         {{"model",
           {{"gbtree_model_param", {{"num_parallel_tree", "1"}, {"num_trees", "1"}}},
            {"tree_info", {0}},
            {"trees", {tree}}}},
          {"name", booster}}},
        {"learner_model_param",
         {{"base_score", "2.5E-1"},
          {"boost_from_average", "1"},
          {"num_class", "0"},
          {"num_feature", "3"},
          {"num_target", "1"}}},
        {"objective", {{"name", "reg:squarederror"}}}}},
      {"version", {1, 7, 4}},
  };
  return model.dump();
}

TEST(Forest, CompilesTreesInPreOrder) {
  absl::StatusOr<Forest> forest = Forest::FromXgboostJson(TinyModel());
  ASSERT_TRUE(forest.ok()) << forest.status();
  ASSERT_EQ(forest->num_trees(), 1);
  ASSERT_EQ(forest->tree_size(0), 5);
  EXPECT_EQ(forest->tree_depth(0), 2);
  const Node* nodes = forest->tree_nodes(0);
  // Pre-order: root, its left subtree (x1 split, leaves 1 and 2), then the right leaf 3.
  EXPECT_EQ(nodes[0].feature, 0);
  EXPECT_EQ(nodes[0].right, 4);
  EXPECT_EQ(nodes[1].feature, 1);
  EXPECT_EQ(nodes[1].right, 3);
  EXPECT_EQ(nodes[1].default_left, 1u);
  EXPECT_EQ(nodes[2].value, 1.0f);
  EXPECT_EQ(nodes[3].value, 2.0f);
  EXPECT_EQ(nodes[4].value, 3.0f);
  EXPECT_EQ(forest->tree_covers(0)[4], 4.0);
  EXPECT_EQ(forest->total_gain(), (std::vector<double>{10.0, 4.0, 0.0}));
}

TEST(Forest, RoutesMissingValuesByDefaultDirection) {
  absl::StatusOr<Forest> forest = Forest::FromXgboostJson(TinyModel());
  ASSERT_TRUE(forest.ok()) << forest.status();
  const float nan = ml::kMissing;
  const std::vector<float> rows = {
      0.0f, -2.0f, 0.0f,  // left, left -> 1
      0.0f, -1.0f, 0.0f,  // x1 == threshold goes right -> 2
      0.0f, nan,   0.0f,  // missing x1 goes left -> 1
      0.5f, -2.0f, 0.0f,  // x0 == threshold goes right -> 3
      nan,  -2.0f, 0.0f,  // missing x0 goes right -> 3
  };
  std::vector<double> out(5);
  ASSERT_TRUE(forest->PredictMargin(rows.data(), 5, 3, out.data()).ok());
  EXPECT_EQ(out, (std::vector<double>{1.25, 2.25, 1.25, 3.25, 3.25}));
}

TEST(Forest, PredictRejectsWrongColumnCount) {
  absl::StatusOr<Forest> forest = Forest::FromXgboostJson(TinyModel());
  ASSERT_TRUE(forest.ok());
  std::vector<float> row(4, 0.0f);
  double out = 0;
  absl::Status status = forest->PredictMargin(row.data(), 1, 4, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("expects 3 feature columns"), std::string::npos) << status;
}

TEST(Forest, RejectsUnsupportedModels) {
  const auto message = [](const std::string& json) {
    absl::StatusOr<Forest> forest = Forest::FromXgboostJson(json);
    EXPECT_FALSE(forest.ok());
    EXPECT_EQ(forest.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(forest.status().message());
  };
  EXPECT_NE(message(TinyModel("gbtree", 1)).find("categorical splits"), std::string::npos);
  EXPECT_NE(message(TinyModel("dart")).find("booster \"dart\""), std::string::npos);
  EXPECT_NE(message("{\"learner\": ").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message("[1, 2]").find("model is not an object"), std::string::npos);
  EXPECT_NE(message(R"({"version": [2, 0, 0], "learner": {}})").find("expected an XGBoost 1.x"),
            std::string::npos);

  std::string poisson = TinyModel();
  poisson.replace(poisson.find("reg:squarederror"), 16, "count:poisson");
  EXPECT_NE(message(poisson).find("objective \"count:poisson\" is not supported"),
            std::string::npos);

  std::string bad_feature = TinyModel();
  bad_feature.replace(bad_feature.find(R"("split_indices":[0,1)"), 20, R"("split_indices":[0,7)");
  EXPECT_NE(message(bad_feature).find("splits on feature 7"), std::string::npos);

  std::string cycle = TinyModel();
  cycle.replace(cycle.find(R"("left_children":[1,3)"), 20, R"("left_children":[1,0)");
  EXPECT_NE(message(cycle).find("not a tree"), std::string::npos);
}

// Hostile input: flipped and truncated bytes of a real model either fail with
// INVALID_ARGUMENT or compile into a forest that scores without reading out of bounds (run
// under ASan/UBSan in the sanitizer build).
TEST(Forest, SurvivesCorruptedModels) {
  const testing::SyntheticData data =
      testing::MakeSyntheticData(TaskType::kMulticlass, 300, 4, 0.1, 8);
  const std::string model =
      TrainJson(TaskType::kMulticlass, "xgboost", {{"max_depth", 3}}, 3, data);
  ASSERT_FALSE(model.empty());
  std::mt19937_64 rng(99);
  const std::string replacements = "0123456789-.eE,[]{}\":tf ";
  int compiled = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string corrupt = model;
    if (trial % 10 == 0) {
      corrupt.resize(rng() % corrupt.size());
    } else {
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
        corrupt[rng() % corrupt.size()] = replacements[rng() % replacements.size()];
      }
    }
    absl::StatusOr<Forest> forest = Forest::FromXgboostJson(corrupt);
    if (!forest.ok()) {
      EXPECT_EQ(forest.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    ++compiled;
    const int cols = forest->num_features();
    if (cols <= 0 || cols > 64) continue;
    std::vector<float> rows(static_cast<size_t>(cols) * 3, 0.25f);
    rows[0] = ml::kMissing;
    std::vector<double> out(static_cast<size_t>(3 * forest->num_outputs()));
    EXPECT_TRUE(forest->PredictMargin(rows.data(), 3, cols, out.data()).ok());
    std::vector<double> contributions(out.size() * static_cast<size_t>(cols + 1));
    EXPECT_TRUE(TreeShap(*forest).Contributions(rows.data(), 3, cols, contributions.data()).ok());
  }
  EXPECT_GT(compiled, 0);  // some flips land in values and still give a valid model
}

}  // namespace
}  // namespace assay::forest
