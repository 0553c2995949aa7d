#include "ml/linear_model.h"

#include <cmath>
#include <random>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/feature_matrix.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;

// 24 rows x 3 features (two decimals, stored as float32 exactly as the test data below).
const std::vector<float> kX = {
    -0.65f, 0.65f,  -0.17f, 0.66f,  -2.28f, -1.0f,  -0.62f, 1.3f,   -1.8f,  0.24f,  1.47f, -0.21f,
    0.32f,  2.02f,  -1.75f, 2.25f,  -2.83f, -0.45f, -0.33f, -0.76f, -1.33f, -0.67f, 1.76f, -1.06f,
    1.48f,  -2.66f, -1.0f,  -0.89f, 2.55f,  -2.06f, -0.34f, 1.42f,  -1.74f, 0.99f,  1.36f, -0.5f,
    0.96f,  -0.96f, -1.4f,  -0.2f,  2.5f,   -0.57f, -0.71f, -0.21f, -1.4f,  -0.58f, 0.52f, -1.07f,
    2.06f,  -0.01f, -1.14f, 0.46f,  -0.91f, -1.18f, 0.01f,  2.55f,  -1.66f, 1.37f,  0.3f,  -0.92f,
    0.85f,  2.32f,  -0.47f, 0.17f,  0.96f,  -0.84f, -1.0f,  3.43f,  -1.39f, -1.26f, 5.11f, -1.07f};
const std::vector<float> kBinary = {1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1,
                                    1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0};
const std::vector<float> kClasses = {0, 1, 1, 1, 2, 2, 0, 1, 1, 1, 1, 2,
                                     1, 1, 0, 0, 2, 1, 1, 2, 2, 1, 1, 1};
const std::vector<float> kTargets = {-1.44f, 2.37f, 0.9f,  0.85f, 2.38f, 4.92f,  0.63f,  0.04f,
                                     4.19f,  0.39f, 1.3f,  2.32f, 3.47f, -0.25f, 0.38f,  -0.06f,
                                     5.32f,  2.28f, 1.68f, 3.58f, 2.53f, 1.21f,  -0.88f, -1.32f};
constexpr double kL2 = 0.05;  // sklearn C = 1 / (l2 * n) = 1 / 1.2; Ridge alpha = l2 * n = 1.2

FeatureMatrix Matrix() {
  FeatureMatrix x;
  x.rows = 24;
  x.cols = 3;
  x.values = kX;
  x.names = {"age", "visits", "dose"};
  return x;
}

TrainParams Params(TaskType task, nlohmann::json hyper = {{"l2", kL2}, {"tol", 1e-12}}) {
  TrainParams params;
  params.algorithm = "linear";
  params.task = task;
  params.num_classes = task == TaskType::kMulticlass ? 3 : 2;
  params.hyper = std::move(hyper);
  return params;
}

// L-BFGS's line search cannot resolve objective changes below rounding, so it is asked for a
// gradient of 1e-9 (coefficients within ~1e-8 here); Newton reaches 1e-12.
double Tolerance(std::string_view solver) { return solver == "newton" ? 1e-12 : 1e-9; }

const LinearModel& AsLinear(const TrainResult& result) {
  return static_cast<const LinearModel&>(*result.model);
}

TEST(TrainLinear, BinaryMatchesSklearnLogisticRegression) {
  const FeatureMatrix x = Matrix();
  for (const char* solver : {"newton", "lbfgs"}) {
    absl::StatusOr<TrainResult> trained = TrainLinear(
        Params(TaskType::kBinary, {{"l2", kL2}, {"tol", Tolerance(solver)}, {"solver", solver}}),
        {&x, &kBinary, nullptr}, nullptr);
    ASSERT_TRUE(trained.ok()) << trained.status();
    const LinearModel::Parameters& p = AsLinear(*trained).parameters();
    // sklearn 1.2.1 LogisticRegression(C=1/1.2, tol=1e-12, max_iter=100000) (lbfgs) on the
    // same float32 data; sklearn stops about 1e-6 short of the optimum Newton and L-BFGS
    // agree on, hence 1e-5.
    EXPECT_NEAR(p.coefficients[0], 0.7525373495129984, 1e-5) << solver;
    EXPECT_NEAR(p.coefficients[1], -1.210815302193137, 1e-5) << solver;
    EXPECT_NEAR(p.coefficients[2], -0.003593082617218175, 1e-5) << solver;
    EXPECT_NEAR(p.intercepts[0], 1.0365915289794712, 1e-5) << solver;
    EXPECT_TRUE(p.converged) << solver;
  }
}

TEST(TrainLinear, MultinomialMatchesSklearn) {
  const FeatureMatrix x = Matrix();
  absl::StatusOr<TrainResult> trained =
      TrainLinear(Params(TaskType::kMulticlass), {&x, &kClasses, nullptr}, nullptr);
  ASSERT_TRUE(trained.ok()) << trained.status();
  const LinearModel::Parameters& p = AsLinear(*trained).parameters();
  // sklearn LogisticRegression(C=1/1.2, multi_class="multinomial", tol=1e-12) stops with a
  // gradient of 6e-6 (its intercepts sum to 0 like ours), so it agrees to 1e-4; the tight
  // optimum below is scipy BFGS (gtol 1e-14, gradient 1.5e-10) on the same objective started
  // from sklearn's answer, intercepts centred.
  const double sklearn[3][3] = {{-1.3925714978921784, -0.5445689976380117, 0.27535662052331644},
                                {-0.1869744330040708, 0.06811400220811822, -0.3410860007014459},
                                {1.5795459308962492, 0.4764549954298931, 0.06572938017812953}};
  const double sklearn_intercepts[3] = {0.33811935529022674, 0.6123796306122262,
                                        -0.9504989859024523};
  const double tight[3][3] = {{-1.3926381275918254, -0.5445912165713632, 0.2753834239078399},
                              {-0.18695631587991726, 0.06811788129931563, -0.34106487737703556},
                              {1.5795944434717426, 0.4764733352720473, 0.06568145346919586}};
  const double tight_intercepts[3] = {0.3381553449316318, 0.6124154972508299, -0.9505708421824617};
  for (int k = 0; k < 3; ++k) {
    for (int col = 0; col < 3; ++col) {
      EXPECT_NEAR(p.coefficients[k * 3 + col], sklearn[k][col], 1e-4) << k << "," << col;
      EXPECT_NEAR(p.coefficients[k * 3 + col], tight[k][col], 1e-8) << k << "," << col;
    }
    EXPECT_NEAR(p.intercepts[k], sklearn_intercepts[k], 1e-4) << k;
    EXPECT_NEAR(p.intercepts[k], tight_intercepts[k], 1e-8) << k;
  }
  std::vector<double> probabilities = *trained->model->Predict(x);
  ASSERT_EQ(probabilities.size(), 72u);
  EXPECT_NEAR(probabilities[0] + probabilities[1] + probabilities[2], 1.0, 1e-12);
}

TEST(TrainLinear, RidgeMatchesSklearn) {
  const FeatureMatrix x = Matrix();
  for (const char* solver : {"newton", "lbfgs"}) {
    absl::StatusOr<TrainResult> trained =
        TrainLinear(Params(TaskType::kRegression,
                           {{"l2", kL2}, {"tol", Tolerance(solver)}, {"solver", solver}}),
                    {&x, &kTargets, nullptr}, nullptr);
    ASSERT_TRUE(trained.ok()) << trained.status();
    const LinearModel::Parameters& p = AsLinear(*trained).parameters();
    // sklearn Ridge(alpha=1.2) on the same float32 data.
    EXPECT_NEAR(p.coefficients[0], 1.7760343776482823, 1e-6) << solver;
    EXPECT_NEAR(p.coefficients[1], -0.07900962209598408, 1e-6) << solver;
    EXPECT_NEAR(p.coefficients[2], -0.8687436465775201, 1e-6) << solver;
    EXPECT_NEAR(p.intercepts[0], 0.311600118754372, 1e-6) << solver;
  }
}

TEST(TrainLinear, SeparableUnscaledDataConverges) {
  // Perfectly separated by the first feature, which is on a 1e4 scale; the penalty keeps the
  // optimum finite. On the original scale it is tiny for that feature (l2 / std^2 in
  // standardized units), so the optimum is very flat: both solvers must converge and agree on
  // the probabilities, not on every digit of the coefficient.
  FeatureMatrix x = FeatureMatrix::Filled(40, 2, 0);
  std::vector<float> labels(40);
  for (int row = 0; row < 40; ++row) {
    x.at(row, 0) = static_cast<float>((row - 19.5) * 1e4);
    x.at(row, 1) = static_cast<float>(row % 3);
    labels[row] = row >= 20 ? 1 : 0;
  }
  std::vector<double> newton_predictions;
  for (const char* solver : {"newton", "lbfgs"}) {
    absl::StatusOr<TrainResult> trained =
        TrainLinear(Params(TaskType::kBinary, {{"l2", 1e-4}, {"tol", 1e-9}, {"solver", solver}}),
                    {&x, &labels, nullptr}, nullptr);
    ASSERT_TRUE(trained.ok()) << trained.status();
    const LinearModel::Parameters& p = AsLinear(*trained).parameters();
    EXPECT_TRUE(p.converged) << solver << " after " << p.iterations;
    EXPECT_TRUE(std::isfinite(p.coefficients[0]));
    EXPECT_GT(p.coefficients[0], 0);
    std::vector<double> predictions = *trained->model->Predict(x);
    EXPECT_LT(predictions[0], 0.1);
    EXPECT_GT(predictions[39], 0.9);
    if (newton_predictions.empty()) {
      newton_predictions = predictions;
    } else {
      for (int row = 0; row < 40; ++row) {
        EXPECT_NEAR(predictions[row], newton_predictions[row], 1e-3) << row;
      }
    }
  }
}

TEST(TrainLinear, DeterministicBytesAndRoundTrip) {
  const FeatureMatrix x = Matrix();
  std::string first =
      *(*TrainLinear(Params(TaskType::kMulticlass), {&x, &kClasses, nullptr}, nullptr))
           .model->Serialize();
  std::string second =
      *(*TrainLinear(Params(TaskType::kMulticlass), {&x, &kClasses, nullptr}, nullptr))
           .model->Serialize();
  EXPECT_EQ(first, second);
  absl::StatusOr<std::unique_ptr<Model>> loaded = LoadLinearModel(first);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*(*loaded)->Serialize(), first);
  EXPECT_EQ((*loaded)->algorithm(), "linear");
  EXPECT_EQ((*loaded)->num_outputs(), 3);
  absl::StatusOr<TrainResult> original =
      TrainLinear(Params(TaskType::kMulticlass), {&x, &kClasses, nullptr}, nullptr);
  EXPECT_EQ(*(*loaded)->PredictMargin(x), *original->model->PredictMargin(x));  // bit-exact
  EXPECT_EQ(LoadLinearModel("{}").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadLinearModel("not json").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LinearModel, ContributionsSumToMargins) {
  const FeatureMatrix x = Matrix();
  for (TaskType task : {TaskType::kBinary, TaskType::kMulticlass, TaskType::kRegression}) {
    const std::vector<float>& labels = task == TaskType::kBinary       ? kBinary
                                       : task == TaskType::kMulticlass ? kClasses
                                                                       : kTargets;
    absl::StatusOr<TrainResult> trained =
        TrainLinear(Params(task), {&x, &labels, nullptr}, nullptr);
    ASSERT_TRUE(trained.ok());
    const Model& model = *trained->model;
    std::vector<double> margins = *model.PredictMargin(x);
    std::vector<double> contributions = *model.Contributions(x);
    const size_t outputs = static_cast<size_t>(model.num_outputs());
    ASSERT_EQ(contributions.size(), 24 * outputs * 4);
    for (size_t block = 0; block < 24 * outputs; ++block) {
      double sum = 0;
      for (size_t entry = 0; entry < 4; ++entry) sum += contributions[block * 4 + entry];
      EXPECT_NEAR(sum, margins[block], 1e-9);
    }
    // The bias is the margin at the training means: mean contribution of each feature is 0.
    for (size_t col = 0; col < 3; ++col) {
      double mean = 0;
      for (size_t row = 0; row < 24; ++row) mean += contributions[row * outputs * 4 + col];
      EXPECT_NEAR(mean / 24, 0, 1e-6);
    }
  }
}

TEST(LinearModel, GainImportanceIsCoefficientTimesStd) {
  const FeatureMatrix x = Matrix();
  absl::StatusOr<TrainResult> trained =
      TrainLinear(Params(TaskType::kRegression), {&x, &kTargets, nullptr}, nullptr);
  const LinearModel::Parameters& p = AsLinear(*trained).parameters();
  std::vector<double> importance = trained->model->GainImportance();
  for (int col = 0; col < 3; ++col) {
    double mean = 0, variance = 0;
    for (int row = 0; row < 24; ++row) mean += x.at(row, col) / 24.0;
    for (int row = 0; row < 24; ++row) variance += std::pow(x.at(row, col) - mean, 2) / 24.0;
    EXPECT_NEAR(importance[col], std::abs(p.coefficients[col]) * std::sqrt(variance), 1e-9);
  }
}

TEST(TrainLinear, Errors) {
  FeatureMatrix x = Matrix();
  EXPECT_THAT(TrainLinear(Params(TaskType::kBinary, {{"C", 1}}), {&x, &kBinary, nullptr}, nullptr)
                  .status()
                  .message(),
              HasSubstr("unknown linear hyperparameter \"C\" (valid: l2"));
  EXPECT_EQ(TrainLinear(Params(TaskType::kBinary, {{"l2", 0}}), {&x, &kBinary, nullptr}, nullptr)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      TrainLinear(Params(TaskType::kBinary), {&x, &kClasses, nullptr}, nullptr).status().message(),
      HasSubstr("must be 0 or 1"));
  x.at(5, 1) = kMissing;
  absl::StatusOr<TrainResult> missing =
      TrainLinear(Params(TaskType::kBinary), {&x, &kBinary, nullptr}, nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("feature \"visits\" is missing (NaN) in row 5"));
  const FeatureMatrix good = Matrix();
  absl::StatusOr<TrainResult> trained =
      TrainLinear(Params(TaskType::kBinary), {&good, &kBinary, nullptr}, nullptr);
  EXPECT_THAT(trained->model->PredictMargin(x).status().message(), HasSubstr("visits"));
  EXPECT_EQ(trained->model->PredictMargin(FeatureMatrix::Filled(1, 2, 0)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace assay::ml
