#include "ml/xgboost/xgboost_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ml/feature_matrix.h"
#include "ml/model.h"
#include "nlohmann/json.hpp"
#include "tests/forest/synthetic_data.h"

namespace assay::ml {
namespace {

using testing::MakeSyntheticData;
using testing::SyntheticData;

TrainParams Params(const std::string& algorithm, TaskType task, nlohmann::json hyper = {},
                   int rounds = 30) {
  TrainParams params;
  params.algorithm = algorithm;
  params.task = task;
  params.num_classes = 3;
  params.hyper = hyper.is_null() ? nlohmann::json::object() : std::move(hyper);
  params.max_rounds = rounds;
  params.seed = 3;
  params.threads = 1;  // OpenMP spin-waits make more threads slow on a loaded test machine
  return params;
}

std::unique_ptr<Model> Train(const TrainParams& params, const SyntheticData& data,
                             const SyntheticData* valid = nullptr, int* rounds = nullptr) {
  const TrainData valid_view = valid != nullptr ? valid->view() : TrainData{};
  absl::StatusOr<TrainResult> result =
      TrainXgboost(params, data.view(), valid != nullptr ? &valid_view : nullptr);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return nullptr;
  if (rounds != nullptr) *rounds = result->rounds;
  return std::move(result->model);
}

std::string Bytes(const Model& model) {
  absl::StatusOr<std::string> bytes = model.Serialize();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

// The weighted mean loss the early stopping uses, recomputed naively from predictions.
double Loss(TaskType task, const std::vector<double>& predictions, const SyntheticData& data) {
  double total = 0;
  for (size_t row = 0; row < data.labels.size(); ++row) {
    const float label = data.labels[row];
    if (task == TaskType::kBinary) {
      total -= label == 1 ? std::log(predictions[row]) : std::log(1 - predictions[row]);
    } else if (task == TaskType::kMulticlass) {
      total -= std::log(predictions[row * 3 + static_cast<size_t>(label)]);
    } else {
      total += (predictions[row] - label) * (predictions[row] - label);
    }
  }
  return total / static_cast<double>(data.labels.size());
}

TEST(XgboostModel, TrainsEveryAlgorithmForEveryTask) {
  for (const std::string algorithm : {"xgboost", "xgboost_rf", "xgboost_linear"}) {
    for (const TaskType task : {TaskType::kBinary, TaskType::kMulticlass, TaskType::kRegression}) {
      SCOPED_TRACE(algorithm + " " + std::string(TaskTypeName(task)));
      const SyntheticData train = MakeSyntheticData(task, 800, 6, 0.1, 1);
      const SyntheticData test = MakeSyntheticData(task, 400, 6, 0.1, 2);
      TrainParams params = Params(algorithm, task);
      if (algorithm == "xgboost_rf") params.hyper = {{"num_parallel_tree", 20}};
      int rounds = 0;
      std::unique_ptr<Model> model = Train(params, train, nullptr, &rounds);
      ASSERT_NE(model, nullptr);
      EXPECT_EQ(model->algorithm(), algorithm);
      EXPECT_EQ(model->task_type(), task);
      EXPECT_EQ(model->num_features(), 6);
      const int outputs = task == TaskType::kMulticlass ? 3 : 1;
      EXPECT_EQ(model->num_outputs(), outputs);
      EXPECT_EQ(rounds, algorithm == "xgboost_rf" ? 1 : 30);

      absl::StatusOr<std::vector<double>> predictions = model->Predict(test.x);
      ASSERT_TRUE(predictions.ok()) << predictions.status();
      ASSERT_EQ(predictions->size(), static_cast<size_t>(400 * outputs));
      // Better than predicting the training prior / mean for every row.
      std::vector<double> prior(predictions->size());
      for (size_t row = 0; row < 400; ++row) {
        for (int k = 0; k < outputs; ++k) {
          double share = 0;
          for (float label : train.labels) {
            share += task == TaskType::kRegression
                         ? label
                         : (task == TaskType::kBinary ? label == 1 : label == k);
          }
          prior[row * outputs + k] = share / static_cast<double>(train.labels.size());
        }
      }
      EXPECT_LT(Loss(task, *predictions, test), 0.9 * Loss(task, prior, test));

      // Contributions: the layout of model.h, each block summing to the margin.
      absl::StatusOr<std::vector<double>> margins = model->PredictMargin(test.x);
      absl::StatusOr<std::vector<double>> contributions = model->Contributions(test.x);
      ASSERT_TRUE(margins.ok() && contributions.ok());
      ASSERT_EQ(contributions->size(), static_cast<size_t>(400 * outputs * 7));
      for (size_t block = 0; block < margins->size(); ++block) {
        double total = 0;
        for (size_t col = 0; col < 7; ++col) total += (*contributions)[block * 7 + col];
        EXPECT_NEAR(total, (*margins)[block], 1e-4);
      }
    }
  }
}

TEST(XgboostModel, ScoresLikeXgboostItself) {
  for (const std::string algorithm : {"xgboost", "xgboost_linear"}) {
    SCOPED_TRACE(algorithm);
    const SyntheticData train = MakeSyntheticData(TaskType::kMulticlass, 600, 5, 0.2, 4);
    const SyntheticData test = MakeSyntheticData(TaskType::kMulticlass, 300, 5, 0.2, 5);
    std::unique_ptr<Model> model = Train(Params(algorithm, TaskType::kMulticlass), train);
    ASSERT_NE(model, nullptr);
    absl::StatusOr<std::vector<float>> margins =
        PredictWithXgboost(Bytes(*model), test.x, XgboostOutput::kMargin);
    absl::StatusOr<std::vector<float>> contributions =
        PredictWithXgboost(Bytes(*model), test.x, XgboostOutput::kContributions);
    ASSERT_TRUE(margins.ok() && contributions.ok());
    absl::StatusOr<std::vector<double>> our_margins = model->PredictMargin(test.x);
    absl::StatusOr<std::vector<double>> our_contributions = model->Contributions(test.x);
    ASSERT_TRUE(our_margins.ok() && our_contributions.ok());
    EXPECT_EQ(*our_margins, std::vector<double>(margins->begin(), margins->end()));
    ASSERT_EQ(our_contributions->size(), contributions->size());
    for (size_t i = 0; i < contributions->size(); ++i) {
      EXPECT_NEAR((*our_contributions)[i], (*contributions)[i], 1e-5) << i;
    }
  }
}

TEST(XgboostModel, SameInputsGiveIdenticalBytes) {
  for (const std::string algorithm : {"xgboost", "xgboost_rf", "xgboost_linear"}) {
    SCOPED_TRACE(algorithm);
    const SyntheticData train = MakeSyntheticData(TaskType::kBinary, 1000, 6, 0.1, 6);
    TrainParams params = Params(algorithm, TaskType::kBinary);
    params.threads = 2;  // parallel histogram building must not change the result
    if (algorithm == "xgboost") params.hyper = {{"subsample", 0.7}, {"colsample_bynode", 0.7}};
    if (algorithm == "xgboost_rf") params.hyper = {{"num_parallel_tree", 15}};
    if (algorithm == "xgboost_linear") params.hyper = {{"feature_selector", "shuffle"}};
    std::unique_ptr<Model> first = Train(params, train);
    std::unique_ptr<Model> second = Train(params, train);
    ASSERT_NE(first, nullptr);
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(Bytes(*first), Bytes(*second));
    // The seed reaches XGBoost: another seed samples other rows / features.
    params.seed = 4;
    std::unique_ptr<Model> reseeded = Train(params, train);
    ASSERT_NE(reseeded, nullptr);
    EXPECT_NE(Bytes(*first), Bytes(*reseeded));
  }
}

TEST(XgboostModel, EarlyStoppingKeepsExactlyTheBestRounds) {
  for (const std::string algorithm : {"xgboost", "xgboost_linear"}) {
    for (const TaskType task : {TaskType::kBinary, TaskType::kRegression}) {
      SCOPED_TRACE(algorithm + " " + std::string(TaskTypeName(task)));
      // Small, noisy data and a high learning rate: the validation loss turns up early.
      const SyntheticData train = MakeSyntheticData(task, 200, 6, 0.1, 7);
      const SyntheticData valid = MakeSyntheticData(task, 200, 6, 0.1, 8);
      TrainParams params = Params(algorithm, task, {{"learning_rate", 0.6}}, 200);
      if (algorithm == "xgboost") params.hyper["max_depth"] = 6;
      params.early_stopping_rounds = 4;
      int rounds = 0;
      std::unique_ptr<Model> stopped = Train(params, train, &valid, &rounds);
      ASSERT_NE(stopped, nullptr);
      ASSERT_GT(rounds, 0);
      ASSERT_LT(rounds, 200 - 4);

      // Reference: train 1, 2, ..., rounds + 4 rounds without early stopping; the kept model
      // is the one with the least validation loss, and the stopped model predicts like it.
      params.early_stopping_rounds = 0;
      int best = 0;
      double best_loss = INFINITY;
      std::vector<double> best_margins;
      for (int k = 1; k <= rounds + 4; ++k) {
        params.max_rounds = k;
        std::unique_ptr<Model> model = Train(params, train);
        ASSERT_NE(model, nullptr);
        const double loss = Loss(task, *model->Predict(valid.x), valid);
        if (loss < best_loss) {
          best_loss = loss;
          best = k;
          best_margins = *model->PredictMargin(valid.x);
        }
      }
      EXPECT_EQ(rounds, best);
      EXPECT_EQ(*stopped->PredictMargin(valid.x), best_margins);
      if (algorithm == "xgboost") {
        const nlohmann::json json = nlohmann::json::parse(Bytes(*stopped));
        EXPECT_EQ(json["learner"]["gradient_booster"]["model"]["trees"].size(),
                  static_cast<size_t>(rounds));
      }
    }
  }
}

TEST(XgboostModel, SerializeAndLoadRoundTrip) {
  for (const std::string algorithm : {"xgboost", "xgboost_rf", "xgboost_linear"}) {
    SCOPED_TRACE(algorithm);
    const SyntheticData train = MakeSyntheticData(TaskType::kRegression, 500, 5, 0.1, 9);
    TrainParams params = Params(algorithm, TaskType::kRegression);
    if (algorithm == "xgboost_rf") params.hyper = {{"num_parallel_tree", 10}};
    std::unique_ptr<Model> model = Train(params, train);
    ASSERT_NE(model, nullptr);
    const std::string bytes = Bytes(*model);
    absl::StatusOr<std::unique_ptr<Model>> loaded = LoadXgboostModel(bytes);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ((*loaded)->algorithm(), algorithm);
    EXPECT_EQ((*loaded)->task_type(), TaskType::kRegression);
    EXPECT_EQ(Bytes(**loaded), bytes);
    EXPECT_EQ(*(*loaded)->PredictMargin(train.x), *model->PredictMargin(train.x));
    EXPECT_EQ(*(*loaded)->Contributions(train.x), *model->Contributions(train.x));
    EXPECT_EQ((*loaded)->GainImportance(), model->GainImportance());
  }
}

TEST(XgboostModel, GainImportanceIsTotalGainPerFeature) {
  SyntheticData train = MakeSyntheticData(TaskType::kBinary, 800, 6, 0.1, 10);
  for (int64_t row = 0; row < train.x.rows; ++row) train.x.at(row, 5) = kMissing;  // unusable
  std::unique_ptr<Model> model = Train(Params("xgboost", TaskType::kBinary), train);
  ASSERT_NE(model, nullptr);
  const std::vector<double> importance = model->GainImportance();
  ASSERT_EQ(importance.size(), 6u);
  EXPECT_EQ(importance[5], 0.0);
  EXPECT_GT(importance[0], importance[4]);  // x0 drives the label, x4 is noise
  // Naive reference: the loss_changes of the split nodes in XGBoost's JSON, by feature.
  std::vector<double> expected(6, 0.0);
  const nlohmann::json json = nlohmann::json::parse(Bytes(*model));
  for (const nlohmann::json& tree : json["learner"]["gradient_booster"]["model"]["trees"]) {
    for (size_t node = 0; node < tree["left_children"].size(); ++node) {
      if (tree["left_children"][node].get<int>() == -1) continue;
      expected[tree["split_indices"][node].get<size_t>()] +=
          tree["loss_changes"][node].get<double>();
    }
  }
  for (int col = 0; col < 6; ++col)
    EXPECT_NEAR(importance[col], expected[col], 1e-3 * (1 + expected[col]));

  std::unique_ptr<Model> linear = Train(Params("xgboost_linear", TaskType::kBinary), train);
  ASSERT_NE(linear, nullptr);
  const std::vector<double> weights = linear->GainImportance();
  ASSERT_EQ(weights.size(), 6u);
  EXPECT_EQ(weights[5], 0.0);
  EXPECT_GT(weights[0], 0.0);
}

TEST(XgboostModel, ScoresConcurrentlyLikeSerially) {
  for (const std::string algorithm : {"xgboost", "xgboost_linear"}) {
    SCOPED_TRACE(algorithm);
    const SyntheticData train = MakeSyntheticData(TaskType::kBinary, 400, 5, 0.1, 15);
    std::unique_ptr<Model> model = Train(Params(algorithm, TaskType::kBinary), train);
    ASSERT_NE(model, nullptr);
    const std::vector<double> margins = *model->PredictMargin(train.x);
    const std::vector<double> contributions = *model->Contributions(train.x);
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int thread = 0; thread < 4; ++thread) {
      threads.emplace_back([&] {
        for (int repeat = 0; repeat < 5; ++repeat) {
          if (*model->PredictMargin(train.x) != margins) ++mismatches;
          if (*model->Contributions(train.x) != contributions) ++mismatches;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(mismatches.load(), 0);
  }
}

// ---- Errors --------------------------------------------------------------------------------

absl::Status TrainError(const TrainParams& params, const TrainData& train,
                        const TrainData* valid = nullptr) {
  absl::StatusOr<TrainResult> result = TrainXgboost(params, train, valid);
  return result.ok() ? absl::OkStatus() : result.status();
}

bool Mentions(const absl::Status& status, const std::string& text) {
  return status.message().find(text) != absl::string_view::npos;
}

TEST(XgboostModel, RejectsBadHyperparameters) {
  const SyntheticData train = MakeSyntheticData(TaskType::kBinary, 100, 4, 0.0, 11);
  absl::Status status =
      TrainError(Params("xgboost", TaskType::kBinary, {{"eta", 0.1}}), train.view());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(status, "unknown xgboost hyperparameter \"eta\"")) << status;
  EXPECT_TRUE(Mentions(status, "learning_rate")) << status;

  status =
      TrainError(Params("xgboost_rf", TaskType::kBinary, {{"learning_rate", 0.1}}), train.view());
  EXPECT_TRUE(Mentions(status, "num_parallel_tree")) << status;  // the allowed list

  status = TrainError(Params("xgboost", TaskType::kBinary, {{"subsample", 1.5}}), train.view());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(status, "subsample = 1.5 is outside (0, 1]")) << status;

  status = TrainError(Params("xgboost", TaskType::kBinary, {{"max_depth", 2.5}}), train.view());
  EXPECT_TRUE(Mentions(status, "must be an integer")) << status;

  status =
      TrainError(Params("xgboost", TaskType::kBinary, {{"grow_policy", "leafwise"}}), train.view());
  EXPECT_TRUE(Mentions(status, "depthwise, lossguide")) << status;

  status = TrainError(Params("xgboost_rf", TaskType::kBinary, {{"subsample", 1.0}}), train.view());
  EXPECT_TRUE(Mentions(status, "outside (0, 1)")) << status;

  status =
      TrainError(Params("xgboost", TaskType::kRegression, {{"scale_pos_weight", 2}}), train.view());
  EXPECT_TRUE(Mentions(status, "binary tasks only")) << status;

  status = TrainError(Params("gbm", TaskType::kBinary), train.view());
  EXPECT_TRUE(Mentions(status, "not an XGBoost algorithm")) << status;

  EXPECT_EQ(XgboostHyperparameterNames("xgboost_linear"),
            (std::vector<std::string>{"feature_selector", "learning_rate", "reg_alpha",
                                      "reg_lambda", "scale_pos_weight"}));
}

TEST(XgboostModel, RejectsBadData) {
  SyntheticData train = MakeSyntheticData(TaskType::kBinary, 100, 4, 0.0, 12);
  const TrainParams params = Params("xgboost", TaskType::kBinary);

  std::vector<float> short_labels(99, 0.0f);
  absl::Status status = TrainError(params, TrainData{&train.x, &short_labels, nullptr});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(status, "99 labels for 100 rows")) << status;

  std::vector<float> nan_labels = train.labels;
  nan_labels[17] = kMissing;
  status = TrainError(params, TrainData{&train.x, &nan_labels, nullptr});
  EXPECT_TRUE(Mentions(status, "label of row 17 is nan")) << status;

  std::vector<float> three = train.labels;
  three[3] = 2;
  status = TrainError(params, TrainData{&train.x, &three, nullptr});
  EXPECT_TRUE(Mentions(status, "binary labels must be 0 or 1")) << status;
  status =
      TrainError(Params("xgboost", TaskType::kMulticlass), TrainData{&train.x, &three, nullptr});
  EXPECT_TRUE(status.ok()) << status;  // 0..2 is fine for three classes

  std::vector<float> weights(100, 1.0f);
  weights[5] = -1;
  status = TrainError(params, TrainData{&train.x, &train.labels, &weights});
  EXPECT_TRUE(Mentions(status, "weight of row 5")) << status;

  TrainParams stopping = params;
  stopping.early_stopping_rounds = 5;
  status = TrainError(stopping, train.view());
  EXPECT_TRUE(Mentions(status, "needs a validation set")) << status;
  const SyntheticData wide = MakeSyntheticData(TaskType::kBinary, 50, 5, 0.0, 13);
  const TrainData wide_view = wide.view();
  status = TrainError(stopping, train.view(), &wide_view);
  EXPECT_TRUE(Mentions(status, "validation data has 5 feature columns, training data 4")) << status;

  std::unique_ptr<Model> model = Train(params, train);
  ASSERT_NE(model, nullptr);
  absl::StatusOr<std::vector<double>> margins = model->PredictMargin(wide.x);
  EXPECT_EQ(margins.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(margins.status(), "expects 4 feature columns")) << margins.status();
  EXPECT_EQ(model->Contributions(wide.x).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(XgboostModel, LoadRejectsWhatItCannotScore) {
  EXPECT_EQ(LoadXgboostModel("not json").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LoadXgboostModel(R"({"learner": {}})").status().code(), absl::StatusCode::kDataLoss);

  const SyntheticData train = MakeSyntheticData(TaskType::kRegression, 100, 4, 0.0, 14);
  std::unique_ptr<Model> model = Train(Params("xgboost", TaskType::kRegression), train);
  ASSERT_NE(model, nullptr);
  std::string bytes = Bytes(*model);
  std::string poisson = bytes;
  poisson.replace(poisson.find("\"reg:squarederror\""), 18, "\"count:poisson\"");
  absl::StatusOr<std::unique_ptr<Model>> loaded = LoadXgboostModel(poisson);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Mentions(loaded.status(), "count:poisson")) << loaded.status();
  std::string no_features = bytes;
  const std::string param = R"("num_class":"0","num_feature":"4")";
  ASSERT_NE(no_features.find(param), std::string::npos);
  no_features.replace(no_features.find(param), param.size(),
                      R"("num_class":"0","num_feature":"0")");
  EXPECT_EQ(LoadXgboostModel(no_features).status().code(), absl::StatusCode::kDataLoss);
  std::string dart = bytes;
  dart.replace(dart.find("\"name\":\"gbtree\""), 15, "\"name\":\"dart\"");
  EXPECT_EQ(LoadXgboostModel(dart).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(XgboostModel, ReportsTheLinkedVersion) { EXPECT_EQ(XgboostVersion(), "1.7.4"); }

}  // namespace
}  // namespace assay::ml
