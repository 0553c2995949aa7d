#include "ml/trainer.h"

#include <cmath>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/pipeline_folds.h"
#include "ml/search.h"
#include "ml/split_plan.h"
#include "table/column.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;

// 600 rows where churn depends on two numeric signals and a category, plus noise.
table::Table MakeChurnTable(std::vector<float>& labels) {
  table::ColumnBuilder volume(table::DataType::kFloat64);
  table::ColumnBuilder trend(table::DataType::kFloat64);
  table::ColumnBuilder specialty(table::DataType::kString);
  table::ColumnBuilder churned(table::DataType::kInt64);
  SplitMix64 rng(11);
  const char* kSpecialties[] = {"Cardiology", "Oncology", "Pediatrics", "Dermatology"};
  for (int row = 0; row < 600; ++row) {
    const double v = rng.Uniform() * 100;
    const double t = rng.Uniform() * 2 - 1;
    const int s = static_cast<int>(rng.Below(4));
    const double margin = -0.04 * v - 2.0 * t + (s == 1 ? 1.0 : 0.0) + 1.5 + (rng.Uniform() - 0.5);
    const bool positive = rng.Uniform() < 1 / (1 + std::exp(-margin));
    if (row % 23 == 0) {
      volume.AppendNull();
    } else {
      volume.AppendFloat64(v);
    }
    trend.AppendFloat64(t);
    specialty.AppendString(kSpecialties[s]);
    churned.AppendInt64(positive ? 1 : 0);
    labels.push_back(positive ? 1.0f : 0.0f);
  }
  table::Schema schema({{"volume", table::DataType::kFloat64},
                        {"trend", table::DataType::kFloat64},
                        {"specialty", table::DataType::kString},
                        {"churned", table::DataType::kInt64}});
  return table::Table::Make(schema,
                            {volume.Finish(), trend.Finish(), specialty.Finish(), churned.Finish()})
      .value();
}

TEST(Trainer, UnknownAlgorithmIsAnError) {
  TrainParams params;
  params.algorithm = "svm";
  FeatureMatrix x = FeatureMatrix::Filled(2, 1, 0);
  std::vector<float> y = {0, 1};
  absl::Status status = TrainModel(params, TrainData{&x, &y, nullptr}, nullptr).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("known: xgboost"));
  EXPECT_EQ(LoadModel("svm", "{}").status().code(), absl::StatusCode::kInvalidArgument);
}

// The whole search path on real algorithms: pipeline folds, XGBoost and the linear model,
// halving; the same seed gives the same leaderboard and the best trial's model reloads.
TEST(Trainer, RealSearchIsDeterministicAndFindsSignal) {
  std::vector<float> labels;
  const table::Table table = MakeChurnTable(labels);
  LabelledTable data{&table, "churned", labels, TaskType::kBinary};
  std::vector<int64_t> rows;
  for (int64_t row = 0; row < table.num_rows(); ++row) rows.push_back(row);
  SplitSpec split;
  split.folds = 3;
  SplitPlan plan = MakeSplitPlan(rows, labels, TaskType::kBinary, split, std::nullopt, 42).value();
  PipelineSpec features;
  SearchOptions options;
  options.train = TrainModel;
  options.algorithms = {"xgboost", "linear"};
  options.max_trials = 4;
  options.folds = 3;
  options.metric = "auc";
  options.max_rounds = 100;
  options.early_stopping_rounds = 10;

  std::vector<nlohmann::json> runs;
  for (int run = 0; run < 2; ++run) {
    FoldSource folds = MakePipelineFolds(data, features, plan, 42);
    absl::StatusOr<SearchResult> result =
        RunSearch(options, folds, common::SystemClock::Get(), nullptr);
    ASSERT_TRUE(result.ok()) << result.status();
    nlohmann::json scores = nlohmann::json::array();
    for (const TrialRecord& trial : result->trials) {
      scores.push_back({trial.algorithm, trial.hyper, trial.status, trial.fold_scores});
    }
    runs.push_back(scores);
    const TrialRecord& best = result->trials[static_cast<size_t>(result->best)];
    EXPECT_GT(best.cv_mean, 0.7) << best.ToJson().dump();
  }
  EXPECT_EQ(runs[0], runs[1]);

  // Refit the best configuration on all search rows; the bytes are identical twice over and
  // load back into a model that predicts the same.
  FittedRows fitted = FitOnRows(data, features, "trees", plan.search_rows, 42).value();
  TrainParams params;
  params.algorithm = "xgboost";
  params.hyper = {{"max_depth", 3}, {"learning_rate", 0.1}};
  params.max_rounds = 50;
  params.seed = 42;
  TrainData train{&fitted.x, &fitted.y, nullptr};
  TrainResult first = TrainModel(params, train, nullptr).value();
  TrainResult second = TrainModel(params, train, nullptr).value();
  const std::string bytes = first.model->Serialize().value();
  EXPECT_EQ(bytes, second.model->Serialize().value());
  std::unique_ptr<Model> loaded = LoadModel("xgboost", bytes).value();
  EXPECT_EQ(loaded->PredictMargin(fitted.x).value(), first.model->PredictMargin(fitted.x).value());
}

}  // namespace
}  // namespace assay::ml
