#include "ml/automl.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "ml/metrics.h"
#include "ml/search_space.h"
#include "ml/trainer.h"
#include "table/column_profile.h"

namespace assay::ml {
namespace {

// Rows sampled for partial dependence (each grid point predicts all of them).
constexpr size_t kPartialDependenceRows = 500;
constexpr int kPartialDependenceGrid = 12;
constexpr int kPartialDependenceTopColumns = 6;
constexpr int kCategoricalGridValues = 12;
constexpr int kSubpopulationMaxGroups = 25;
constexpr size_t kResidualSampleRows = 300;
constexpr int64_t kShapChunkRows = 64;

std::vector<double> ToDouble(const std::vector<float>& values) {
  return std::vector<double>(values.begin(), values.end());
}

nlohmann::json NumberOrNull(const std::optional<double>& value) {
  if (!value || !std::isfinite(*value)) return nullptr;
  return *value;
}

// A metric's value, or nullopt when it is undefined for these rows (one class, ...).
std::optional<double> TryMetric(const std::string& name, TaskType task,
                                const std::vector<double>& labels,
                                const std::vector<double>& predictions, int num_classes,
                                double threshold) {
  if (labels.empty()) return std::nullopt;
  absl::StatusOr<MetricScore> score =
      ScoreMetric(name, task, labels, predictions, num_classes, threshold);
  if (!score.ok() || !std::isfinite(score->value)) return std::nullopt;
  return score->value;
}

bool IsTreeAlgorithm(const std::string& algorithm) {
  return algorithm == "xgboost" || algorithm == "xgboost_rf";
}

}  // namespace

std::string AlgorithmTitle(const std::string& algorithm, TaskType task) {
  if (algorithm == "xgboost") return "XGBoost gradient-boosted trees (gbtree, hist)";
  if (algorithm == "xgboost_rf") return "XGBoost random forest";
  if (algorithm == "xgboost_linear") return "XGBoost linear booster (gblinear)";
  if (algorithm == "linear") {
    return task == TaskType::kRegression ? "ridge regression"
                                         : "L2-regularized logistic regression";
  }
  return algorithm;
}

namespace {

// The rows of `rows` in a deterministic pseudo-random order, at most `limit` of them.
std::vector<int64_t> SampleRows(std::vector<int64_t> rows, size_t limit, uint64_t seed) {
  if (rows.size() > limit) {
    SplitMix64 rng(seed ^ 0x5ca1ab1e5eedULL);
    Shuffle(rows, rng);
    rows.resize(limit);
    std::sort(rows.begin(), rows.end());
  }
  return rows;
}

// One-row table equal to row `row` of `table` except column `column`, which is `value`.
absl::StatusOr<table::Table> OneRowWith(const table::Table& table, int64_t row, int column_index,
                                        table::Column value) {
  std::vector<table::Column> columns;
  columns.reserve(static_cast<size_t>(table.num_columns()));
  for (int c = 0; c < table.num_columns(); ++c) {
    columns.push_back(c == column_index ? std::move(value) : table.column(c).Slice(row, 1));
  }
  return table::Table::Make(table.schema(), std::move(columns));
}

struct GridPoint {
  nlohmann::json label;  // number or string, as the document shows it
  table::Column value;   // one-row column of the input column's type
};

// The partial-dependence grid of an input column, from the values in `rows`: quantiles for
// numeric columns, the most frequent values for strings and booleans. Empty if the column's
// type has no grid (dates, timestamps) or it has no values.
absl::StatusOr<std::vector<GridPoint>> MakeGrid(const table::Column& column,
                                                const std::vector<int64_t>& rows, bool* numeric) {
  std::vector<GridPoint> grid;
  const table::DataType type = column.type();
  *numeric = type == table::DataType::kInt64 || type == table::DataType::kFloat64;
  if (*numeric) {
    std::vector<double> values;
    for (int64_t row : rows) {
      if (column.IsNull(row)) continue;
      const double value = type == table::DataType::kInt64
                               ? static_cast<double>(column.int64_values()[row])
                               : column.float64_values()[row];
      if (std::isfinite(value)) values.push_back(value);
    }
    if (values.empty()) return grid;
    std::sort(values.begin(), values.end());
    std::vector<double> points;
    for (int i = 0; i < kPartialDependenceGrid; ++i) {
      const double q = 0.05 + 0.9 * i / (kPartialDependenceGrid - 1);
      double value = values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
      if (type == table::DataType::kInt64) value = std::round(value);
      if (points.empty() || value != points.back()) points.push_back(value);
    }
    for (double value : points) {
      absl::StatusOr<table::Column> one =
          type == table::DataType::kInt64 ? table::Column::FromInt64s({static_cast<int64_t>(value)})
                                          : table::Column::FromFloat64s({value});
      ASSAY_RETURN_IF_ERROR(one.status());
      grid.push_back(GridPoint{value, *std::move(one)});
    }
    return grid;
  }
  if (type != table::DataType::kString && type != table::DataType::kBool) return grid;
  absl::flat_hash_map<std::string, int64_t> counts;
  absl::flat_hash_map<std::string, int64_t> first_row;
  for (int64_t row : rows) {
    if (column.IsNull(row)) continue;
    const std::string text = column.ValueToString(row);
    if (++counts[text] == 1) first_row[text] = row;
  }
  std::vector<std::pair<std::string, int64_t>> ordered(counts.begin(), counts.end());
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (ordered.size() > kCategoricalGridValues) ordered.resize(kCategoricalGridValues);
  for (const auto& [text, count] : ordered) {
    grid.push_back(GridPoint{text, column.Slice(first_row[text], 1)});
  }
  return grid;
}

// Cumulative gains at 5% steps: the top `fraction` of rows by score capture `gain` of the
// positives.
nlohmann::json LiftChart(const std::vector<double>& labels, const std::vector<double>& scores) {
  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  const double positives = std::accumulate(labels.begin(), labels.end(), 0.0);
  nlohmann::json points = nlohmann::json::array();
  if (positives <= 0 || labels.empty()) return points;
  const double rate = positives / static_cast<double>(labels.size());
  double captured = 0;
  size_t taken = 0;
  for (int step = 1; step <= 20; ++step) {
    const double fraction = step / 20.0;
    const size_t until = static_cast<size_t>(std::llround(fraction * labels.size()));
    for (; taken < until; ++taken) captured += labels[order[taken]];
    const double gain = captured / positives;
    const double precision = taken == 0 ? 0 : captured / static_cast<double>(taken);
    points.push_back({{"fraction", fraction}, {"gain", gain}, {"lift", precision / rate}});
  }
  return points;
}

struct Evaluated {
  std::vector<double> labels;
  std::vector<double> predictions;  // calibrated
  std::vector<double> margins;
};

// Threshold choice (binary) on the out-of-fold predictions.
absl::StatusOr<std::pair<double, std::string>> ChooseThreshold(const ThresholdSpec& spec,
                                                               const Evaluated& oof) {
  if (spec.strategy == "fixed")
    return std::make_pair(spec.value, std::string("fixed in the task spec"));
  if (spec.strategy == "cost") {
    CostMatrix costs{spec.cost_fp, spec.cost_fn, spec.cost_tp, spec.cost_tn};
    ASSAY_ASSIGN_OR_RETURN(const CostThreshold best,
                           MinCostThreshold(oof.labels, oof.predictions, costs));
    return std::make_pair(
        best.metrics.threshold,
        absl::StrFormat("minimum expected cost on the out-of-fold predictions (FP %g, FN %g, "
                        "TP %g, TN %g; expected cost %.4f per row)",
                        spec.cost_fp, spec.cost_fn, spec.cost_tp, spec.cost_tn,
                        best.expected_cost));
  }
  ASSAY_ASSIGN_OR_RETURN(const ThresholdMetrics best, MaxF1Threshold(oof.labels, oof.predictions));
  return std::make_pair(best.threshold, std::string("maximum F1 on the out-of-fold predictions"));
}

// The binary confusion matrix in document shape.
nlohmann::json BinaryConfusion(const LabelMapping& labels, const Evaluated& data, double threshold,
                               const std::string& method, const std::string& evaluated_on) {
  absl::StatusOr<ThresholdMetrics> metrics =
      MetricsAtThreshold(data.labels, data.predictions, threshold);
  ConfusionMatrix confusion = metrics.ok() ? metrics->confusion : ConfusionMatrix{};
  return {{"labels", {labels.ClassName(0), labels.ClassName(1)}},
          {"counts",
           {{confusion.true_negative, confusion.false_positive},
            {confusion.false_negative, confusion.true_positive}}},
          {"threshold", threshold},
          {"threshold_method", method},
          {"evaluated_on", evaluated_on}};
}

}  // namespace

absl::StatusOr<PreparedTask> PrepareTask(const table::Table& table, const TaskSpec& spec) {
  PreparedTask task;
  task.spec = spec;
  ASSAY_ASSIGN_OR_RETURN(task.features, PipelineSpec::FromJson(spec.features, "spec.features"));
  ASSAY_ASSIGN_OR_RETURN(task.labels, LabelMapping::Infer(table, LabelSpec{spec.target, spec.type,
                                                                           spec.positive_class}));
  ASSAY_ASSIGN_OR_RETURN(const LabelledRows labelled, task.labels.Map(table));
  const TaskType type = task.labels.task();
  task.labelled.table = &table;
  task.labelled.target = spec.target;
  task.labelled.task = type;
  task.labelled.labels.assign(static_cast<size_t>(table.num_rows()),
                              std::numeric_limits<float>::quiet_NaN());
  for (size_t i = 0; i < labelled.rows.size(); ++i) {
    task.labelled.labels[static_cast<size_t>(labelled.rows[i])] = labelled.labels[i];
  }
  task.labelled_rows = static_cast<int64_t>(labelled.rows.size());
  task.null_target_rows = labelled.null_target_rows;

  task.metric = spec.metric;
  if (task.metric.empty()) {
    task.metric = type == TaskType::kBinary       ? "auc"
                  : type == TaskType::kMulticlass ? "log_loss"
                                                  : "rmse";
  }
  absl::StatusOr<bool> direction = MetricGreaterIsBetter(task.metric, type);
  if (!direction.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("spec.metric: ", direction.status().message()));
  }
  if (spec.calibration != "none" && type != TaskType::kBinary) {
    return absl::InvalidArgumentError(absl::StrCat(
        "spec.calibration: ", Absl(spec.calibration), " calibration applies to binary tasks; this ",
        Absl(TaskTypeName(type)), " task needs calibration: none"));
  }
  for (const std::string& column : spec.explain.subpopulation) {
    if (!table.schema().FindField(column)) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.explain.subpopulation: no column \"", Absl(column), "\" in ",
                       Absl(spec.input), " (columns: ", Absl(table.schema().NameList()), ")"));
    }
  }
  for (const std::string& column : spec.explain.partial_dependence) {
    if (!table.schema().FindField(column)) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.explain.partial_dependence: no column \"", Absl(column), "\" in ",
                       Absl(spec.input), " (columns: ", Absl(table.schema().NameList()), ")"));
    }
  }

  std::optional<std::vector<int64_t>> times;
  if (!spec.split.time_column.empty()) {
    absl::StatusOr<const table::Column*> column = table.GetColumn(spec.split.time_column);
    if (!column.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.split.time_column: ", column.status().message()));
    }
    const table::Column& time = **column;
    if (time.type() != table::DataType::kDate && time.type() != table::DataType::kTimestamp) {
      return absl::InvalidArgumentError(
          absl::StrCat("spec.split.time_column: \"", Absl(spec.split.time_column), "\" is ",
                       Absl(table::DataTypeName(time.type())),
                       "; a time-based split needs a date or timestamp column"));
    }
    times.emplace();
    int64_t missing = 0;
    for (int64_t row : labelled.rows) {
      if (time.IsNull(row)) {
        ++missing;
        continue;
      }
      times->push_back(time.type() == table::DataType::kDate ? time.date_values()[row]
                                                             : time.int64_values()[row]);
    }
    if (missing > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          missing, " labelled rows have no ", Absl(spec.split.time_column),
          "; a time-based split needs a time on every row (fill or filter them in a recipe)"));
    }
  }
  ASSAY_ASSIGN_OR_RETURN(
      task.plan, MakeSplitPlan(labelled.rows, labelled.labels, type, spec.split, times, spec.seed));
  return task;
}

SearchOptions MakeSearchOptions(const PreparedTask& task, const AutoMlOptions& options) {
  SearchOptions search;
  search.train = options.train ? options.train : TrainFn(TrainModel);
  search.task = task.labels.task();
  search.num_classes = std::max(2, task.labels.num_classes());
  search.algorithms = task.spec.algorithms;
  search.strategy = task.spec.search.strategy;
  search.max_trials = task.spec.search.max_trials;
  search.deadline_micros = options.deadline_micros;
  search.folds = static_cast<int>(task.plan.folds.size());
  search.early_stopping_rounds = task.spec.search.early_stopping_rounds;
  search.max_rounds = task.spec.search.max_rounds;
  search.metric = task.metric;
  search.seed = task.spec.seed;
  search.threads = options.threads;
  return search;
}

absl::StatusOr<FinalModel> FinalizeTrial(const PreparedTask& task, const TrialRecord& trial,
                                         const SearchResult* oof, const AutoMlOptions& options) {
  if (trial.status != "complete") {
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", trial.number, " is ", Absl(trial.status),
                     "; only a complete trial (scored on every fold) can become a model"));
  }
  const table::Table& table = *task.labelled.table;
  const TaskType type = task.labels.task();
  const int num_classes = std::max(2, task.labels.num_classes());
  const SearchOptions search = MakeSearchOptions(task, options);
  const SplitPlan& plan = task.plan;
  const int folds = static_cast<int>(plan.folds.size());

  // 1. Out-of-fold predictions of this trial.
  SearchResult recreated;
  if (oof == nullptr || oof->best_fold_predictions.size() != static_cast<size_t>(folds)) {
    SearchOptions cv = search;
    cv.deadline_micros = 0;
    ASSAY_ASSIGN_OR_RETURN(
        recreated,
        CrossValidateTrial(cv, trial,
                           MakePipelineFolds(task.labelled, task.features, plan, task.spec.seed)));
    oof = &recreated;
  }
  std::vector<Evaluated> fold_data(static_cast<size_t>(folds));
  Evaluated pooled;
  for (int k = 0; k < folds; ++k) {
    Evaluated& data = fold_data[k];
    data.labels = ToDouble(SelectRows(task.labelled.labels, plan.folds[k].valid_rows));
    data.predictions = oof->best_fold_predictions[k];
    data.margins = oof->best_fold_margins[k];
  }

  // 2. Calibration and threshold (binary), fitted out of fold.
  Calibration calibration;
  double threshold = 0.5;
  std::string threshold_method;
  nlohmann::json evaluation = nlohmann::json::object();
  if (type == TaskType::kBinary) {
    for (const Evaluated& data : fold_data) {
      pooled.labels.insert(pooled.labels.end(), data.labels.begin(), data.labels.end());
      pooled.predictions.insert(pooled.predictions.end(), data.predictions.begin(),
                                data.predictions.end());
      pooled.margins.insert(pooled.margins.end(), data.margins.begin(), data.margins.end());
    }
    calibration.method = task.spec.calibration;
    if (calibration.method == "platt") {
      ASSAY_ASSIGN_OR_RETURN(calibration.platt,
                             PlattCalibrator::Fit(pooled.margins, pooled.labels));
    } else if (calibration.method == "isotonic") {
      ASSAY_ASSIGN_OR_RETURN(calibration.isotonic,
                             IsotonicCalibrator::Fit(pooled.predictions, pooled.labels));
    }
    if (calibration.method != "none") {
      size_t position = 0;
      for (Evaluated& data : fold_data) {
        for (size_t i = 0; i < data.predictions.size(); ++i, ++position) {
          data.predictions[i] = calibration.Apply(data.margins[i], data.predictions[i]);
          pooled.predictions[position] = data.predictions[i];
        }
      }
    }
    ASSAY_ASSIGN_OR_RETURN(std::tie(threshold, threshold_method),
                           ChooseThreshold(task.spec.threshold, pooled));
    evaluation["threshold"] = {{"value", threshold},
                               {"method", threshold_method},
                               {"strategy", task.spec.threshold.strategy}};
  }

  // 3. The final pipeline and model on every search row.
  const std::string family = PipelineFamily(trial.algorithm);
  ASSAY_ASSIGN_OR_RETURN(FittedRows fitted, FitOnRows(task.labelled, task.features, family,
                                                      plan.search_rows, task.spec.seed));
  FinalModel final_model;
  final_model.trial = trial;
  std::vector<double> rounds(trial.fold_rounds.begin(), trial.fold_rounds.end());
  const double mean_rounds = Mean(rounds);
  if (mean_rounds > 0) {
    // Capped at search.max_rounds, the documented most rounds of any model.
    final_model.final_rounds =
        std::clamp(static_cast<int>(std::lround(mean_rounds * folds / std::max(1, folds - 1))), 1,
                   search.max_rounds);
  }
  TrainParams params;
  params.algorithm = trial.algorithm;
  params.task = type;
  params.num_classes = num_classes;
  params.hyper = trial.hyper;
  params.max_rounds = final_model.final_rounds > 0 ? final_model.final_rounds : search.max_rounds;
  params.early_stopping_rounds = 0;
  params.seed = task.spec.seed;
  params.threads = options.threads;
  const TrainData train_data{&fitted.x, &fitted.y, nullptr};
  ASSAY_ASSIGN_OR_RETURN(TrainResult trained, search.train(params, train_data, nullptr));
  ASSAY_ASSIGN_OR_RETURN(final_model.model_bytes, trained.model->Serialize());
  // Evaluate exactly what is stored: the model as loaded back from its bytes.
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Model> loaded,
                         LoadModel(trial.algorithm, final_model.model_bytes));
  std::shared_ptr<const Model> model = std::move(loaded);
  final_model.scorer = std::make_unique<Scorer>(task.labels, fitted.pipeline, model, calibration,
                                                threshold, threshold_method);
  const Scorer& scorer = *final_model.scorer;
  const FeaturePipeline& pipeline = scorer.pipeline();

  // 4. Holdout predictions.
  Evaluated holdout;
  holdout.labels = ToDouble(SelectRows(task.labelled.labels, plan.holdout_rows));
  FeatureMatrix holdout_x;
  if (!plan.holdout_rows.empty()) {
    ASSAY_ASSIGN_OR_RETURN(holdout_x, pipeline.Transform(table, plan.holdout_rows));
    ASSAY_ASSIGN_OR_RETURN(holdout.predictions, scorer.Predict(holdout_x, &holdout.margins));
  }
  const bool has_holdout = !holdout.labels.empty();
  const Evaluated& shown = has_holdout ? holdout : pooled;
  const std::string evaluated_on = has_holdout
                                       ? absl::StrCat("holdout, ", holdout.labels.size(), " rows")
                                       : "out-of-fold predictions (no holdout)";

  // 5. Metrics: CV mean/std next to the holdout.
  ASSAY_ASSIGN_OR_RETURN(const bool greater_is_better, MetricGreaterIsBetter(task.metric, type));
  evaluation["metric"] = task.metric;
  evaluation["greater_is_better"] = greater_is_better;
  nlohmann::json metric_rows = nlohmann::json::array();
  std::vector<std::string> names = MetricNames(type);
  std::stable_partition(names.begin(), names.end(),
                        [&](const std::string& name) { return name == task.metric; });
  for (const std::string& name : names) {
    std::vector<double> per_fold;
    for (const Evaluated& data : fold_data) {
      if (auto value =
              TryMetric(name, type, data.labels, data.predictions, num_classes, threshold)) {
        per_fold.push_back(*value);
      }
    }
    const std::optional<double> on_holdout =
        TryMetric(name, type, holdout.labels, holdout.predictions, num_classes, threshold);
    if (name == task.metric) final_model.holdout_score = on_holdout;
    metric_rows.push_back(
        {{"name", name},
         {"cv_mean", per_fold.empty() ? nlohmann::json(nullptr) : nlohmann::json(Mean(per_fold))},
         {"cv_std",
          per_fold.empty() ? nlohmann::json(nullptr) : nlohmann::json(SampleStd(per_fold))},
         {"holdout", NumberOrNull(on_holdout)}});
  }
  evaluation["metrics"] = std::move(metric_rows);
  final_model.cv_score = trial.cv_mean;

  // 6. Curves and matrices of the task type.
  if (type == TaskType::kBinary) {
    ASSAY_ASSIGN_OR_RETURN(const auto roc, RocCurve(shown.labels, shown.predictions));
    nlohmann::json roc_points = nlohmann::json::array();
    for (const RocPoint& point : roc) {
      roc_points.push_back({{"fpr", point.false_positive_rate},
                            {"tpr", point.true_positive_rate},
                            {"threshold", NumberOrNull(point.threshold)}});
    }
    evaluation["roc_curve"] = {
        {"auc", NumberOrNull(TryMetric("auc", type, shown.labels, shown.predictions, 2, 0.5))},
        {"points", roc_points},
        {"evaluated_on", evaluated_on}};
    ASSAY_ASSIGN_OR_RETURN(const auto pr, PrCurve(shown.labels, shown.predictions));
    nlohmann::json pr_points = nlohmann::json::array();
    for (const PrPoint& point : pr) {
      pr_points.push_back({{"recall", point.recall},
                           {"precision", point.precision},
                           {"threshold", NumberOrNull(point.threshold)}});
    }
    const double positive_rate = Mean(shown.labels);
    evaluation["pr_curve"] = {
        {"average_precision",
         NumberOrNull(TryMetric("pr_auc", type, shown.labels, shown.predictions, 2, 0.5))},
        {"positive_rate", positive_rate},
        {"points", pr_points},
        {"evaluated_on", evaluated_on}};
    ASSAY_ASSIGN_OR_RETURN(const auto bins, CalibrationCurve(shown.labels, shown.predictions, 10));
    nlohmann::json bin_rows = nlohmann::json::array();
    for (const CalibrationBin& bin : bins) {
      if (bin.count <= 0) continue;
      bin_rows.push_back({{"mean_predicted", bin.mean_predicted},
                          {"observed_rate", bin.observed_rate},
                          {"count", bin.count}});
    }
    evaluation["calibration_curve"] = {
        {"bins", bin_rows}, {"binning", "10 equal-width bins"}, {"evaluated_on", evaluated_on}};
    evaluation["lift_chart"] = {{"points", LiftChart(shown.labels, shown.predictions)},
                                {"evaluated_on", evaluated_on}};
    evaluation["confusion_matrix"] =
        BinaryConfusion(task.labels, shown, threshold, threshold_method, evaluated_on);
  } else if (type == TaskType::kMulticlass) {
    ASSAY_ASSIGN_OR_RETURN(const MulticlassMetrics metrics,
                           ComputeMulticlassMetrics(shown.labels, shown.predictions, num_classes));
    nlohmann::json labels = nlohmann::json::array();
    for (int k = 0; k < num_classes; ++k) labels.push_back(task.labels.ClassName(k));
    evaluation["confusion_matrix"] = {
        {"labels", labels}, {"counts", metrics.confusion}, {"evaluated_on", evaluated_on}};
    nlohmann::json classes = nlohmann::json::array();
    for (int k = 0; k < num_classes; ++k) {
      double tp = metrics.confusion[k][k], actual = 0, predicted = 0;
      for (int j = 0; j < num_classes; ++j) {
        actual += metrics.confusion[k][j];
        predicted += metrics.confusion[j][k];
      }
      const double precision = predicted > 0 ? tp / predicted : 0;
      const double recall = actual > 0 ? tp / actual : 0;
      const double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0;
      std::vector<double> one_vs_rest(shown.labels.size()), scores(shown.labels.size());
      for (size_t row = 0; row < shown.labels.size(); ++row) {
        one_vs_rest[row] = shown.labels[row] == k ? 1 : 0;
        scores[row] = shown.predictions[row * num_classes + k];
      }
      absl::StatusOr<double> auc = RocAuc(one_vs_rest, scores);
      classes.push_back({{"class", task.labels.ClassName(k)},
                         {"support", actual},
                         {"precision", precision},
                         {"recall", recall},
                         {"f1", f1},
                         {"auc", auc.ok() ? nlohmann::json(*auc) : nlohmann::json(nullptr)}});
    }
    evaluation["per_class_metrics"] = {{"classes", classes}};
  } else {
    nlohmann::json points = nlohmann::json::array();
    const size_t n = shown.labels.size();
    const size_t step = std::max<size_t>(1, (n + kResidualSampleRows - 1) / kResidualSampleRows);
    for (size_t row = 0; row < n; row += step) {
      points.push_back({{"actual", shown.labels[row]}, {"predicted", shown.predictions[row]}});
    }
    evaluation["residuals"] = {
        {"points", points},
        {"evaluated_on", absl::StrCat(evaluated_on, ", every ", step, ". row")}};
  }
  final_model.evaluation = std::move(evaluation);

  // 7. Explanations on a sample of the holdout rows.
  nlohmann::json explanations = nlohmann::json::object();
  const std::vector<int64_t>& explain_pool = has_holdout ? plan.holdout_rows : plan.search_rows;
  const std::vector<int64_t> sample_rows = SampleRows(
      explain_pool, static_cast<size_t>(std::max(1, task.spec.explain.shap_rows)), task.spec.seed);
  ASSAY_ASSIGN_OR_RETURN(const FeatureMatrix sample_x, pipeline.Transform(table, sample_rows));
  const std::vector<std::string>& sources = pipeline.feature_sources();
  const int outputs = model->num_outputs();
  const size_t block = static_cast<size_t>(sample_x.cols) + 1;
  const int64_t chunks = (sample_x.rows + kShapChunkRows - 1) / kShapChunkRows;
  std::vector<absl::StatusOr<std::vector<double>>> chunk_results(
      static_cast<size_t>(chunks), absl::UnavailableError("not computed"));
  {
    common::ThreadPool pool(std::max(1, options.threads));
    const common::Clock& clock = *options.clock;
    pool.ParallelFor(chunks, [&](int64_t chunk) {
      // Under a deadline, explanations use the rows computed in time (stated in the note).
      if (options.deadline_micros > 0 && chunk > 0 && clock.NowMicros() > options.deadline_micros) {
        return;
      }
      std::vector<int64_t> rows;
      for (int64_t r = chunk * kShapChunkRows;
           r < std::min(sample_x.rows, (chunk + 1) * kShapChunkRows); ++r) {
        rows.push_back(r);
      }
      chunk_results[chunk] = model->Contributions(sample_x.SelectRows(rows));
    });
  }
  absl::flat_hash_map<std::string, double> abs_shap;
  int64_t shap_rows = 0;
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const auto& result = chunk_results[chunk];
    if (!result.ok()) {
      if (absl::IsUnavailable(result.status())) continue;
      return result.status();
    }
    const int64_t rows = static_cast<int64_t>(result->size() / (block * outputs));
    for (int64_t row = 0; row < rows; ++row) {
      for (int output = 0; output < outputs; ++output) {
        double bias = 0;
        for (const auto& [column, value] : ContributionsByColumn(
                 result->data() + (static_cast<size_t>(row) * outputs + output) * block, sources,
                 &bias)) {
          abs_shap[column] += std::abs(value);
        }
      }
    }
    shap_rows += rows;
  }
  const std::vector<double> gain = model->GainImportance();
  absl::flat_hash_map<std::string, double> gain_by_column;
  for (size_t feature = 0; feature < sources.size() && feature < gain.size(); ++feature) {
    gain_by_column[sources[feature]] += gain[feature];
  }
  std::vector<std::pair<std::string, double>> ranked;
  for (const std::string& column : pipeline.input_columns()) {
    const double mean =
        shap_rows > 0 ? abs_shap[column] / static_cast<double>(shap_rows * outputs) : 0.0;
    ranked.emplace_back(column, mean);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json importance_rows = nlohmann::json::array();
  for (const auto& [column, mean] : ranked) {
    importance_rows.push_back(
        {{"column", column},
         {"mean_abs_shap", mean},
         {"gain", IsTreeAlgorithm(trial.algorithm) ? nlohmann::json(gain_by_column[column])
                                                   : nlohmann::json(nullptr)}});
  }
  explanations["importance"] = {
      {"features", importance_rows},
      {"rows", shap_rows},
      {"note",
       absl::StrCat("mean |Shapley value| in margin units (",
                    type == TaskType::kBinary       ? "log-odds"
                    : type == TaskType::kMulticlass ? "per-class margins, averaged over classes"
                                                    : "target units",
                    ") over ", shap_rows, " ", has_holdout ? "holdout" : "training",
                    " rows; encoded features summed per input column",
                    IsTreeAlgorithm(trial.algorithm) ? "; gain is XGBoost's total gain" : "")}};

  // Partial dependence (binary and regression).
  if (type == TaskType::kMulticlass) {
    explanations["partial_dependence"] = {
        {"not_available", "partial dependence is drawn for binary and regression models"}};
  } else {
    std::vector<std::string> columns = task.spec.explain.partial_dependence;
    if (columns.empty()) {
      for (const auto& [column, mean] : ranked) {
        if (static_cast<int>(columns.size()) >= kPartialDependenceTopColumns) break;
        const table::DataType column_type = table.column(*table.schema().FindField(column)).type();
        if (column_type == table::DataType::kDate || column_type == table::DataType::kTimestamp) {
          continue;
        }
        columns.push_back(column);
      }
    }
    std::vector<int64_t> pd_positions;  // positions in sample_rows
    for (size_t i = 0; i < sample_rows.size() && i < kPartialDependenceRows; ++i) {
      pd_positions.push_back(static_cast<int64_t>(i));
    }
    const FeatureMatrix pd_x = sample_x.SelectRows(pd_positions);
    const std::vector<int64_t> pd_rows(
        sample_rows.begin(), sample_rows.begin() + static_cast<long>(pd_positions.size()));
    nlohmann::json charts = nlohmann::json::array();
    for (const std::string& column : columns) {
      const std::vector<std::string> inputs = pipeline.input_columns();
      if (std::find(inputs.begin(), inputs.end(), column) == inputs.end()) continue;
      const int column_index = *table.schema().FindField(column);
      bool numeric = false;
      ASSAY_ASSIGN_OR_RETURN(const std::vector<GridPoint> grid,
                             MakeGrid(table.column(column_index), pd_rows, &numeric));
      if (grid.empty() || pd_rows.empty()) continue;
      std::vector<int> features;
      for (int f = 0; f < static_cast<int>(sources.size()); ++f) {
        if (sources[f] == column) features.push_back(f);
      }
      nlohmann::json points = nlohmann::json::array();
      for (const GridPoint& point : grid) {
        ASSAY_ASSIGN_OR_RETURN(const table::Table one,
                               OneRowWith(table, pd_rows[0], column_index, point.value));
        ASSAY_ASSIGN_OR_RETURN(const FeatureMatrix encoded, pipeline.Transform(one));
        FeatureMatrix x = pd_x;
        for (int64_t row = 0; row < x.rows; ++row) {
          for (int f : features) x.at(row, f) = encoded.at(0, f);
        }
        ASSAY_ASSIGN_OR_RETURN(const std::vector<double> predictions, scorer.Predict(x));
        points.push_back({{"value", point.label}, {"mean_prediction", Mean(predictions)}});
      }
      charts.push_back(
          {{"column", column}, {"kind", numeric ? "numeric" : "categorical"}, {"points", points}});
    }
    if (charts.empty()) {
      explanations["partial_dependence"] = {
          {"not_available", "no numeric, string or boolean input column to vary"}};
    } else {
      explanations["partial_dependence"] = {
          {"prediction_label", type == TaskType::kBinary
                                   ? absl::StrCat("mean P(", Absl(task.spec.target), " = ",
                                                  Absl(task.labels.positive_class()), ")")
                                   : absl::StrCat("mean predicted ", Absl(task.spec.target))},
          {"features", charts},
          {"rows", pd_rows.size()}};
    }
  }

  // Subpopulations: metrics per value of each chosen column.
  nlohmann::json subpopulations = nlohmann::json::array();
  const std::vector<int64_t>& group_rows = has_holdout ? plan.holdout_rows : plan.search_rows;
  std::vector<int64_t> pooled_rows;
  if (!has_holdout) {
    for (const Fold& fold : plan.folds) {
      pooled_rows.insert(pooled_rows.end(), fold.valid_rows.begin(), fold.valid_rows.end());
    }
  }
  const std::vector<int64_t>& shown_rows = has_holdout ? group_rows : pooled_rows;
  const std::vector<std::string> group_metrics =
      type == TaskType::kBinary ? std::vector<std::string>{"auc", "pr_auc", "precision", "recall"}
      : type == TaskType::kMulticlass ? std::vector<std::string>{"accuracy", "macro_f1", "log_loss"}
                                      : std::vector<std::string>{"rmse", "mae", "r2"};
  for (const std::string& column_name : task.spec.explain.subpopulation) {
    const table::Column& column = table.column(*table.schema().FindField(column_name));
    std::vector<std::string> order;
    absl::flat_hash_map<std::string, std::vector<size_t>> members;
    for (size_t i = 0; i < shown_rows.size(); ++i) {
      const std::string value = column.ValueToString(shown_rows[i], "(missing)");
      auto [it, inserted] = members.try_emplace(value);
      if (inserted) order.push_back(value);
      it->second.push_back(i);
    }
    std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
      return members[a].size() > members[b].size();
    });
    if (order.size() > kSubpopulationMaxGroups) order.resize(kSubpopulationMaxGroups);
    nlohmann::json groups = nlohmann::json::array();
    for (const std::string& value : order) {
      Evaluated group;
      const int outputs_per_row = type == TaskType::kMulticlass ? num_classes : 1;
      for (size_t i : members[value]) {
        group.labels.push_back(shown.labels[i]);
        for (int k = 0; k < outputs_per_row; ++k) {
          group.predictions.push_back(shown.predictions[i * outputs_per_row + k]);
        }
      }
      nlohmann::json values = nlohmann::json::object();
      for (const std::string& metric : group_metrics) {
        values[metric] = NumberOrNull(
            TryMetric(metric, type, group.labels, group.predictions, num_classes, threshold));
      }
      nlohmann::json entry = {{"value", value}, {"rows", group.labels.size()}, {"values", values}};
      if (type == TaskType::kBinary) {
        entry["positives"] = static_cast<int64_t>(
            std::llround(std::accumulate(group.labels.begin(), group.labels.end(), 0.0)));
      }
      groups.push_back(std::move(entry));
    }
    subpopulations.push_back({{"column", column_name},
                              {"metrics", group_metrics},
                              {"groups", groups},
                              {"evaluated_on", evaluated_on}});
  }
  explanations["subpopulations"] = std::move(subpopulations);
  final_model.explanations = std::move(explanations);

  // 8. Reference profile for drift: the training dataset's input columns and the final
  // model's predictions on it.
  std::vector<table::ColumnProfile> feature_profiles;
  for (const std::string& column : pipeline.input_columns()) {
    feature_profiles.push_back(
        table::ProfileColumn(column, table.column(*table.schema().FindField(column))));
  }
  ASSAY_ASSIGN_OR_RETURN(const FeatureMatrix all_x, pipeline.Transform(table));
  ASSAY_ASSIGN_OR_RETURN(const std::vector<double> all_predictions, scorer.Predict(all_x));
  std::vector<table::ColumnProfile> prediction_profiles;
  if (type == TaskType::kMulticlass) {
    for (int k = 0; k < num_classes; ++k) {
      std::vector<double> values(static_cast<size_t>(all_x.rows));
      for (int64_t row = 0; row < all_x.rows; ++row)
        values[row] = all_predictions[row * num_classes + k];
      ASSAY_ASSIGN_OR_RETURN(table::Column column, table::Column::FromFloat64s(std::move(values)));
      prediction_profiles.push_back(table::ProfileColumn(
          absl::StrCat("probability_", Absl(task.labels.ClassName(k))), column));
    }
  } else {
    ASSAY_ASSIGN_OR_RETURN(table::Column column, table::Column::FromFloat64s(all_predictions));
    prediction_profiles.push_back(
        table::ProfileColumn(type == TaskType::kBinary ? "probability" : "prediction", column));
  }
  final_model.reference_profile = {{"rows", table.num_rows()},
                                   {"features", table::ProfileToJson(feature_profiles)},
                                   {"predictions", table::ProfileToJson(prediction_profiles)}};

  final_model.split = {{"method", plan.description},
                       {"cv_folds", folds},
                       {"holdout_fraction", task.spec.split.holdout},
                       {"stratified", task.spec.split.stratified && type != TaskType::kRegression},
                       {"train_rows", plan.search_rows.size()},
                       {"holdout_rows", plan.holdout_rows.size()},
                       {"seed", task.spec.seed}};
  if (!task.spec.split.time_column.empty()) {
    final_model.split["time_column"] = task.spec.split.time_column;
  }
  return final_model;
}

absl::StatusOr<AutoMlRun> RunAutoMl(const PreparedTask& task, const AutoMlOptions& options) {
  AutoMlRun run;
  const SearchOptions search = MakeSearchOptions(task, options);
  ASSAY_ASSIGN_OR_RETURN(
      run.search,
      RunSearch(search, MakePipelineFolds(task.labelled, task.features, task.plan, task.spec.seed),
                *options.clock, options.progress));
  if (run.search.best < 0) {
    return absl::FailedPreconditionError("no trial completed; see the trial errors");
  }
  ASSAY_ASSIGN_OR_RETURN(
      run.best, FinalizeTrial(task, run.search.trials[run.search.best], &run.search, options));
  return run;
}

}  // namespace assay::ml
