#include <cmath>
#include <set>

#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/automl.h"
#include "ml/metrics.h"
#include "ml/scorer.h"
#include "ml/trainer.h"
#include "table/column.h"

namespace assay::ml {
namespace {

using ::testing::HasSubstr;

// 800 rows where the label depends on two numeric signals and a category, plus an identifier
// (dropped) and a region column for subpopulations. `kind`: "binary", "multiclass",
// "regression".
table::Table MakeTable(const std::string& kind, int rows = 800) {
  table::ColumnBuilder id(table::DataType::kInt64);
  table::ColumnBuilder volume(table::DataType::kFloat64);
  table::ColumnBuilder trend(table::DataType::kFloat64);
  table::ColumnBuilder specialty(table::DataType::kString);
  table::ColumnBuilder region(table::DataType::kString);
  const table::DataType label_type =
      kind == "regression" ? table::DataType::kFloat64 : table::DataType::kString;
  table::ColumnBuilder label(label_type);
  SplitMix64 rng(5);
  const char* kSpecialties[] = {"Cardiology", "Oncology", "Pediatrics", "Dermatology"};
  const char* kRegions[] = {"north", "south", "east"};
  for (int row = 0; row < rows; ++row) {
    const double v = rng.Uniform() * 100;
    const double t = rng.Uniform() * 2 - 1;
    const int s = static_cast<int>(rng.Below(4));
    const double margin = -0.05 * v - 2.5 * t + (s == 1 ? 1.2 : 0.0) + 2.0;
    id.AppendInt64(100000 + row);
    if (row % 29 == 0) {
      volume.AppendNull();
    } else {
      volume.AppendFloat64(v);
    }
    trend.AppendFloat64(t);
    specialty.AppendString(kSpecialties[s]);
    region.AppendString(kRegions[rng.Below(3)]);
    const double noise = rng.Uniform() - 0.5;
    if (kind == "regression") {
      label.AppendFloat64(margin * 10 + noise * 4);
    } else if (kind == "multiclass") {
      const double m = margin + noise * 2;
      label.AppendString(m < -1 ? "low" : m < 1.5 ? "mid" : "high");
    } else {
      label.AppendString(rng.Uniform() < 1 / (1 + std::exp(-margin)) ? "yes" : "no");
    }
  }
  table::Schema schema({{"hcp_id", table::DataType::kInt64},
                        {"volume", table::DataType::kFloat64},
                        {"trend", table::DataType::kFloat64},
                        {"specialty", table::DataType::kString},
                        {"region", table::DataType::kString},
                        {"outcome", label_type}});
  return table::Table::Make(schema, {id.Finish(), volume.Finish(), trend.Finish(),
                                     specialty.Finish(), region.Finish(), label.Finish()})
      .value();
}

TaskSpec MakeSpec(const std::string& type, int max_trials = 4) {
  TaskSpec spec;
  spec.input = "TEST/data";
  spec.target = "outcome";
  spec.type = type;
  if (type == "binary") spec.positive_class = "yes";
  spec.split.folds = 3;
  spec.search.max_trials = max_trials;
  spec.search.budget_seconds = 0;
  spec.search.max_rounds = 80;
  spec.search.early_stopping_rounds = 10;
  spec.explain.subpopulation = {"region"};
  spec.explain.shap_rows = 150;
  return spec;
}

struct Fixture {
  table::Table table;
  PreparedTask task;
  common::FakeClock clock{1'000'000};
  AutoMlOptions options;
};

std::unique_ptr<Fixture> Prepare(const std::string& type, TaskSpec spec) {
  auto fixture = std::make_unique<Fixture>();
  fixture->table = MakeTable(type);
  fixture->task = PrepareTask(fixture->table, spec).value();
  fixture->options.clock = &fixture->clock;
  fixture->options.threads = 2;
  return fixture;
}

const nlohmann::json& MetricRow(const nlohmann::json& evaluation, const std::string& name) {
  for (const auto& row : evaluation["metrics"]) {
    if (row["name"] == name) return row;
  }
  static const nlohmann::json kNull;
  ADD_FAILURE() << "no metric row " << name;
  return kNull;
}

TEST(AutoMlRun, BinaryRunEvaluatesOutOfFoldAndOnTheHoldout) {
  auto f = Prepare("binary", MakeSpec("binary"));
  const AutoMlRun run = RunAutoMl(f->task, f->options).value();
  ASSERT_GE(run.search.best, 0);
  const FinalModel& best = run.best;
  EXPECT_EQ(best.trial.status, "complete");
  EXPECT_EQ(best.cv_score, run.search.trials[run.search.best].cv_mean);

  // Every binary metric, optimized metric first, with CV mean/std and a holdout value.
  const nlohmann::json& evaluation = best.evaluation;
  ASSERT_EQ(evaluation["metrics"].size(), MetricNames(TaskType::kBinary).size());
  EXPECT_EQ(evaluation["metrics"][0]["name"], "auc");
  for (const auto& row : evaluation["metrics"]) {
    EXPECT_TRUE(row["cv_mean"].is_number()) << row.dump();
    EXPECT_TRUE(row["holdout"].is_number()) << row.dump();
  }
  EXPECT_GT(MetricRow(evaluation, "auc")["holdout"].get<double>(), 0.75);
  ASSERT_TRUE(best.holdout_score.has_value());
  EXPECT_EQ(*best.holdout_score, MetricRow(evaluation, "auc")["holdout"].get<double>());

  // The holdout metrics are those of the scorer's predictions on the holdout rows.
  const Scorer& scorer = *best.scorer;
  const FeatureMatrix holdout_x =
      scorer.pipeline().Transform(f->table, f->task.plan.holdout_rows).value();
  const std::vector<double> predictions = scorer.Predict(holdout_x).value();
  std::vector<double> labels;
  for (int64_t row : f->task.plan.holdout_rows) labels.push_back(f->task.labelled.labels[row]);
  EXPECT_DOUBLE_EQ(RocAuc(labels, predictions).value(),
                   MetricRow(evaluation, "auc")["holdout"].get<double>());

  // The threshold is max-F1 on the pooled out-of-fold predictions of the search, never on
  // the holdout.
  std::vector<double> oof_labels, oof_predictions;
  for (size_t k = 0; k < f->task.plan.folds.size(); ++k) {
    for (int64_t row : f->task.plan.folds[k].valid_rows) {
      oof_labels.push_back(f->task.labelled.labels[row]);
    }
    const auto& fold = run.search.best_fold_predictions[k];
    oof_predictions.insert(oof_predictions.end(), fold.begin(), fold.end());
  }
  EXPECT_DOUBLE_EQ(scorer.threshold(), MaxF1Threshold(oof_labels, oof_predictions)->threshold);
  EXPECT_EQ(evaluation["threshold"]["method"], "maximum F1 on the out-of-fold predictions");
  EXPECT_EQ(evaluation["confusion_matrix"]["labels"], nlohmann::json({"no", "yes"}));
  double total = 0;
  for (const auto& row : evaluation["confusion_matrix"]["counts"]) {
    for (double count : row) total += count;
  }
  EXPECT_EQ(total, static_cast<double>(f->task.plan.holdout_rows.size()));
  EXPECT_GE(evaluation["roc_curve"]["points"].size(), 2u);
  EXPECT_GE(evaluation["pr_curve"]["points"].size(), 2u);
  EXPECT_EQ(evaluation["lift_chart"]["points"].back()["gain"], 1.0);

  // Explanations: one importance row per kept input column, the identifier dropped.
  const nlohmann::json& importance = best.explanations["importance"];
  std::set<std::string> columns;
  for (const auto& row : importance["features"]) columns.insert(row["column"]);
  EXPECT_EQ(columns, (std::set<std::string>{"volume", "trend", "specialty", "region"}));
  EXPECT_EQ(importance["rows"], 150);
  // trend and volume drive the label; region is noise.
  EXPECT_NE(importance["features"][0]["column"], "region");
  ASSERT_TRUE(best.explanations["partial_dependence"].contains("features"));
  for (const auto& chart : best.explanations["partial_dependence"]["features"]) {
    EXPECT_GE(chart["points"].size(), 2u) << chart.dump();
  }
  const nlohmann::json& groups = best.explanations["subpopulations"][0]["groups"];
  int64_t grouped = 0;
  for (const auto& group : groups) grouped += group["rows"].get<int64_t>();
  EXPECT_EQ(grouped, static_cast<int64_t>(f->task.plan.holdout_rows.size()));
  EXPECT_EQ(best.reference_profile["rows"], 800);
  EXPECT_EQ(best.reference_profile["predictions"]["columns"][0]["name"], "probability");
}

TEST(AutoMlRun, SameSeedGivesTheSameModelBytesAndEvaluation) {
  auto a = Prepare("binary", MakeSpec("binary", 3));
  auto b = Prepare("binary", MakeSpec("binary", 3));
  const AutoMlRun first = RunAutoMl(a->task, a->options).value();
  const AutoMlRun second = RunAutoMl(b->task, b->options).value();
  EXPECT_EQ(first.best.model_bytes, second.best.model_bytes);
  EXPECT_EQ(first.best.evaluation.dump(), second.best.evaluation.dump());
  EXPECT_EQ(first.best.explanations.dump(), second.best.explanations.dump());
  EXPECT_EQ(first.best.scorer->ToJson("x").dump(), second.best.scorer->ToJson("x").dump());
  TaskSpec other = MakeSpec("binary", 3);
  other.seed = 7;
  auto c = Prepare("binary", other);
  EXPECT_NE(RunAutoMl(c->task, c->options)->best.evaluation.dump(), first.best.evaluation.dump());
}

TEST(AutoMlRun, ScorerOutputsAddUpAndSurviveSerialization) {
  auto f = Prepare("binary", MakeSpec("binary", 2));
  const AutoMlRun run = RunAutoMl(f->task, f->options).value();
  const Scorer& scorer = *run.best.scorer;
  ScoreOptions options;
  options.explain_top_k = 10;  // more than the input columns: every column is listed
  const table::Table scored = scorer.Score(f->table, options).value();
  EXPECT_EQ(scored.num_rows(), 800);
  EXPECT_EQ(scored.schema().field(0).name, "hcp_id");  // identifiers kept by default
  const table::Column& probability = **scored.GetColumn("probability");
  const table::Column& base = **scored.GetColumn("shap_base");
  for (int64_t row = 0; row < scored.num_rows(); row += 37) {
    double margin = base.float64_values()[row];
    for (int i = 1; i <= 4; ++i) {
      const table::Column& value = **scored.GetColumn("shap_" + std::to_string(i) + "_value");
      ASSERT_TRUE(value.IsValid(row));
      margin += value.float64_values()[row];
    }
    EXPECT_TRUE((**scored.GetColumn("shap_5_value")).IsNull(row));
    const double p = probability.float64_values()[row];
    EXPECT_NEAR(margin, std::log(p / (1 - p)), 1e-4) << "row " << row;
  }
  // The stored form scores identically.
  const std::string bytes = scorer.model().Serialize().value();
  const Scorer loaded = Scorer::FromJson(scorer.ToJson("sha"), bytes).value();
  const table::Table again = loaded.Score(f->table, ScoreOptions{}).value();
  EXPECT_EQ((**again.GetColumn("probability")).float64_values(), probability.float64_values());
  EXPECT_EQ((**again.GetColumn("prediction")).string_bytes(),
            (**scored.GetColumn("prediction")).string_bytes());

  // A missing model column is named.
  const table::Table without =
      table::Table::Make(table::Schema({{"volume", table::DataType::kFloat64}}),
                         {f->table.column(1)})
          .value();
  absl::Status status = scorer.Score(without, ScoreOptions{}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("trend"));
  ScoreOptions bad_keep;
  bad_keep.keep_columns = {"nope"};
  EXPECT_THAT(scorer.Score(f->table, bad_keep).status().message(), HasSubstr("nope"));
}

TEST(AutoMlRun, PlattCalibrationIsFittedOutOfFoldAndApplied) {
  TaskSpec spec = MakeSpec("binary", 2);
  spec.calibration = "platt";
  spec.threshold.strategy = "cost";
  spec.threshold.cost_fn = 5;
  auto f = Prepare("binary", spec);
  const AutoMlRun run = RunAutoMl(f->task, f->options).value();
  const Scorer& scorer = *run.best.scorer;
  ASSERT_TRUE(scorer.calibration().platt.has_value());
  const FeatureMatrix x = scorer.pipeline().Transform(f->table).value();
  std::vector<double> margins;
  const std::vector<double> predictions = scorer.Predict(x, &margins).value();
  for (size_t row = 0; row < predictions.size(); row += 53) {
    EXPECT_DOUBLE_EQ(predictions[row], scorer.calibration().platt->Apply(margins[row]));
  }
  EXPECT_THAT(run.best.evaluation["threshold"]["method"].get<std::string>(),
              HasSubstr("minimum expected cost"));
  // A high false-negative cost pushes the threshold down.
  EXPECT_LT(scorer.threshold(), 0.5);
}

TEST(AutoMlRun, MulticlassAndRegressionHaveTheirSections) {
  auto multi = Prepare("multiclass", MakeSpec("multiclass", 2));
  const AutoMlRun m = RunAutoMl(multi->task, multi->options).value();
  EXPECT_EQ(m.best.evaluation["per_class_metrics"]["classes"].size(), 3u);
  EXPECT_EQ(m.best.evaluation["confusion_matrix"]["counts"].size(), 3u);
  EXPECT_FALSE(m.best.evaluation.contains("roc_curve"));
  EXPECT_TRUE(m.best.explanations["partial_dependence"].contains("not_available"));
  const table::Table scored = m.best.scorer->Score(multi->table, ScoreOptions{}).value();
  for (const char* name :
       {"prediction", "probability_high", "probability_low", "probability_mid"}) {
    EXPECT_TRUE(scored.GetColumn(name).ok()) << name;
  }

  auto reg = Prepare("regression", MakeSpec("regression", 2));
  const AutoMlRun r = RunAutoMl(reg->task, reg->options).value();
  EXPECT_EQ(r.best.evaluation["metrics"][0]["name"], "rmse");
  EXPECT_GT(MetricRow(r.best.evaluation, "r2")["holdout"].get<double>(), 0.8);
  EXPECT_FALSE(r.best.evaluation["residuals"]["points"].empty());
  EXPECT_FALSE(r.best.evaluation.contains("confusion_matrix"));
}

TEST(AutoMlRun, TheDeadlineCoversTheFinalFit) {
  // Every training "takes" one second of the fake clock: the search must leave room for the
  // final fit, so the whole run ends within 10% of the budget.
  TaskSpec spec = MakeSpec("binary", 0);
  auto f = Prepare("binary", spec);
  const int64_t start = f->clock.NowMicros();
  f->options.deadline_micros = start + 40'000'000;
  f->options.train = [&](const TrainParams& params, const TrainData& train,
                         const TrainData* valid) {
    f->clock.Advance(1'000'000);
    return TrainModel(params, train, valid);
  };
  const AutoMlRun run = RunAutoMl(f->task, f->options).value();
  EXPECT_EQ(run.search.stop_reason, "deadline");
  EXPECT_LE(f->clock.NowMicros() - start, 44'000'000);
  EXPECT_GT(run.search.trials.size(), 3u);
}

TEST(AutoMlRun, FinalizingAnotherTrialRecreatesItsOutOfFoldPredictions) {
  auto f = Prepare("binary", MakeSpec("binary", 4));
  const AutoMlRun run = RunAutoMl(f->task, f->options).value();
  for (const TrialRecord& trial : run.search.trials) {
    if (trial.status != "complete" || trial.number == run.best.trial.number) continue;
    const FinalModel other = FinalizeTrial(f->task, trial, nullptr, f->options).value();
    EXPECT_EQ(other.trial.number, trial.number);
    EXPECT_NEAR(MetricRow(other.evaluation, "auc")["cv_mean"].get<double>(), trial.cv_mean, 1e-9);
    return;
  }
  TrialRecord pruned;
  pruned.status = "pruned";
  EXPECT_EQ(FinalizeTrial(f->task, pruned, nullptr, f->options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(AutoMlRun, BadSpecsAreRefusedBeforeTraining) {
  const table::Table table = MakeTable("regression");
  TaskSpec spec = MakeSpec("regression");
  spec.calibration = "platt";
  absl::Status status = PrepareTask(table, spec).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("spec.calibration"));
  spec = MakeSpec("regression");
  spec.metric = "auc";
  EXPECT_THAT(PrepareTask(table, spec).status().message(), HasSubstr("spec.metric"));
  spec = MakeSpec("regression");
  spec.explain.subpopulation = {"territory"};
  EXPECT_THAT(PrepareTask(table, spec).status().message(), HasSubstr("territory"));
  spec = MakeSpec("regression");
  spec.split.time_column = "volume";
  EXPECT_THAT(PrepareTask(table, spec).status().message(), HasSubstr("date or timestamp"));
}

}  // namespace
}  // namespace assay::ml
