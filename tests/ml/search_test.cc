#include "ml/search.h"

#include <cmath>
#include <memory>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/split_plan.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;

// A model whose margin is x0 plus deterministic noise of amplitude `noise`: the smaller the
// noise, the higher the AUC, so the search's choice is known in advance.
class NoisyModel : public Model {
 public:
  explicit NoisyModel(double noise) : noise_(noise) {}
  std::string algorithm() const override { return "linear"; }
  TaskType task_type() const override { return TaskType::kBinary; }
  int num_outputs() const override { return 1; }
  int num_features() const override { return 1; }
  absl::StatusOr<std::vector<double>> PredictMargin(const FeatureMatrix& x) const override {
    std::vector<double> out;
    SplitMix64 rng(7);
    for (int64_t row = 0; row < x.rows; ++row) {
      out.push_back(x.at(row, 0) + noise_ * (rng.Uniform() - 0.5) * 8);
    }
    return out;
  }
  absl::StatusOr<std::vector<double>> Contributions(const FeatureMatrix&) const override {
    return absl::UnimplementedError("not needed by the search");
  }
  std::vector<double> GainImportance() const override { return {1}; }
  absl::StatusOr<std::string> Serialize() const override { return std::string("noisy"); }

 private:
  double noise_;
};

FoldData MakeFold(int fold) {
  FoldData data;
  SplitMix64 rng(100 + fold);
  for (auto* part : {&data.train_x, &data.valid_x}) {
    *part = FeatureMatrix::Filled(200, 1, 0);
    std::vector<float>& labels = part == &data.train_x ? data.train_y : data.valid_y;
    for (int row = 0; row < 200; ++row) {
      const float x = static_cast<float>(rng.Uniform() * 2 - 1);
      part->at(row, 0) = x;
      labels.push_back(x > 0 ? 1.0f : 0.0f);
    }
  }
  return data;
}

struct Harness {
  common::FakeClock clock{1'000'000'000};
  int fold_requests = 0;
  int trainings = 0;
  int64_t seconds_per_training = 1;
  std::string failing_algorithm;

  FoldSource Folds() {
    return [this](const std::string&, int fold) -> absl::StatusOr<FoldData> {
      ++fold_requests;
      return MakeFold(fold);
    };
  }
  SearchOptions Options() {
    SearchOptions options;
    options.train = [this](const TrainParams& params, const TrainData&,
                           const TrainData*) -> absl::StatusOr<TrainResult> {
      ++trainings;
      clock.Advance(seconds_per_training * 1'000'000);
      if (params.algorithm == failing_algorithm) {
        return absl::InvalidArgumentError("this algorithm always fails");
      }
      TrainResult result;
      result.model = std::make_unique<NoisyModel>(params.hyper.value("l2", 1.0));
      result.rounds = 1;
      return result;
    };
    options.algorithms = {"linear"};
    options.folds = 3;
    options.metric = "auc";
    options.seed = 5;
    return options;
  }
};

TEST(Search, RandomSearchPicksTheBestTrialAndIsDeterministic) {
  Harness harness;
  SearchOptions options = harness.Options();
  options.strategy = "random";
  options.max_trials = 8;
  absl::StatusOr<SearchResult> first = RunSearch(options, harness.Folds(), harness.clock, nullptr);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->trials.size(), 8u);
  EXPECT_EQ(first->stop_reason, "max_trials");
  // The best trial is the one with the least noise (smallest l2).
  int least_noise = 0;
  for (size_t index = 0; index < first->trials.size(); ++index) {
    EXPECT_EQ(first->trials[index].status, "complete");
    EXPECT_EQ(first->trials[index].fold_scores.size(), 3u);
    if (first->trials[index].hyper["l2"] < first->trials[least_noise].hyper["l2"]) {
      least_noise = static_cast<int>(index);
    }
  }
  EXPECT_EQ(first->best, least_noise);
  EXPECT_EQ(first->best_fold_predictions.size(), 3u);
  EXPECT_EQ(first->best_fold_predictions[0].size(), 200u);
  // Trial 1 is the documented default.
  EXPECT_EQ(first->trials[0].hyper["l2"], 0.001);
  // Each fold's matrices are requested once, however many trials use them.
  EXPECT_EQ(harness.fold_requests, 3);

  Harness again;
  SearchOptions same = again.Options();
  same.strategy = options.strategy;
  same.max_trials = options.max_trials;
  absl::StatusOr<SearchResult> second = RunSearch(same, again.Folds(), again.clock, nullptr);
  ASSERT_TRUE(second.ok());
  for (size_t index = 0; index < first->trials.size(); ++index) {
    EXPECT_EQ(first->trials[index].ToJson(), second->trials[index].ToJson());
  }
}

TEST(Search, HalvingPrunesWeakTrialsAfterTheFirstFold) {
  Harness harness;
  SearchOptions options = harness.Options();
  options.strategy = "halving";
  options.max_trials = 12;
  absl::StatusOr<SearchResult> result = RunSearch(options, harness.Folds(), harness.clock, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  int pruned = 0;
  for (const TrialRecord& trial : result->trials) {
    if (trial.status == "pruned") {
      ++pruned;
      EXPECT_EQ(trial.fold_scores.size(), 1u);
    }
  }
  EXPECT_GT(pruned, 0);
  EXPECT_EQ(result->trials[0].status, "complete");  // the default always runs fully
  // Fewer trainings than the full 12 x 3.
  EXPECT_LT(harness.trainings, 36);
  EXPECT_EQ(result->trials[static_cast<size_t>(result->best)].status, "complete");
}

TEST(Search, StopsBeforeTheDeadline) {
  Harness harness;
  SearchOptions options = harness.Options();
  options.strategy = "random";
  options.deadline_micros = harness.clock.NowMicros() + 20'000'000;  // 20 trainings of 1 s
  options.reserve_folds = 2;
  SearchProgress last;
  int reports = 0;
  absl::StatusOr<SearchResult> result =
      RunSearch(options, harness.Folds(), harness.clock, [&](const SearchProgress& progress) {
        last = progress;
        ++reports;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->stop_reason, "deadline");
  // Two folds' worth of time (the reserve for the final fit) is left over.
  EXPECT_LE(harness.clock.NowMicros(), options.deadline_micros - 2'000'000);
  EXPECT_GE(harness.trainings, 12);
  EXPECT_GT(reports, 0);
  EXPECT_TRUE(last.has_best);
  EXPECT_GE(last.seconds_left, 0);
}

TEST(Search, DefaultTrialsRunEvenPastTheDeadline) {
  Harness harness;
  SearchOptions options = harness.Options();
  options.algorithms = {"linear", "xgboost"};
  options.deadline_micros = harness.clock.NowMicros() + 1;  // already (nearly) over
  absl::StatusOr<SearchResult> result = RunSearch(options, harness.Folds(), harness.clock, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->trials.size(), 2u);
  EXPECT_EQ(result->trials[0].algorithm, "linear");
  EXPECT_EQ(result->trials[1].algorithm, "xgboost");
}

TEST(Search, FailedTrialsAreRecordedAndAllFailingIsAnError) {
  Harness harness;
  harness.failing_algorithm = "xgboost";
  SearchOptions options = harness.Options();
  options.algorithms = {"xgboost", "linear"};
  options.max_trials = 4;
  absl::StatusOr<SearchResult> result = RunSearch(options, harness.Folds(), harness.clock, nullptr);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->trials[0].status, "failed");
  EXPECT_THAT(result->trials[0].error, HasSubstr("always fails"));
  EXPECT_EQ(result->trials[static_cast<size_t>(result->best)].algorithm, "linear");

  options.algorithms = {"xgboost"};
  absl::Status status = RunSearch(options, harness.Folds(), harness.clock, nullptr).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("no trial completed"));
  EXPECT_THAT(status.message(), HasSubstr("always fails"));
}

TEST(Search, RejectsAnUnknownMetric) {
  Harness harness;
  SearchOptions options = harness.Options();
  options.metric = "accuracy_at_k";
  EXPECT_EQ(RunSearch(options, harness.Folds(), harness.clock, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Search, CrossValidateTrialReproducesTheSearchScores) {
  Harness harness;
  SearchOptions options = harness.Options();
  options.strategy = "random";
  options.max_trials = 3;
  absl::StatusOr<SearchResult> search = RunSearch(options, harness.Folds(), harness.clock, nullptr);
  ASSERT_TRUE(search.ok());
  const TrialRecord& trial = search->trials[2];
  absl::StatusOr<SearchResult> again = CrossValidateTrial(options, trial, harness.Folds());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->trials[0].fold_scores, trial.fold_scores);
  EXPECT_EQ(again->best_fold_predictions.size(), 3u);
}

}  // namespace
}  // namespace assay::ml
