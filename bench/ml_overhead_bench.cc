// assay_ml_overhead_bench: trains one fixed XGBoost configuration through Assay's own path
// (CSV reader, label mapping, feature pipeline, trainer dispatch), for bench/ml_overhead.sh,
// which trains the same configuration with raw XGBoost (bench/peers/xgboost_train.py) on the
// same file.
//
//   assay_ml_overhead_bench --csv FILE [--target target] [--rounds 300] [--max-depth 6]
//                           [--eta 0.1] [--threads 2] [--seed 7]
//
// Timed, as one span, in the order a training run does them:
//   read       table::ReadCsvFile (types inferred, default thread pool)
//   labels     ml::LabelMapping::Infer + Map (binary, positive class "1")
//   fit        ml::FeaturePipeline::Fit on every row (trees family defaults: NaN kept, no
//              scaling; no target encoding)
//   transform  FeaturePipeline::TransformTrainingRows (the training matrix)
//   train      ml::TrainModel, algorithm "xgboost", max_depth / learning_rate as given, every
//              other hyperparameter at its documented default, max_rounds rounds, no early
//              stopping, the given seed and threads
// After the span (not timed) the model predicts the training matrix, and a summary of those
// probabilities (count, sum, sum of squares, the first 5) is printed so the report can check
// that both tools trained the same model.
// Prints one JSON object: {"tool": "assay", "rows", "features", "rounds", "seconds",
// "cpu_seconds", "stages": {...}, "check": {...}}. Exit codes: 0 success, 1 a step failed
// (the message names it), 2 usage error.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/huge_pages.h"
#include "ml/feature_matrix.h"
#include "ml/feature_pipeline.h"
#include "ml/feature_spec.h"
#include "ml/label_mapping.h"
#include "ml/model.h"
#include "ml/task_type.h"
#include "ml/trainer.h"
#include "nlohmann/json.hpp"
#include "table/csv_reader.h"
#include "table/table.h"

namespace {

struct Options {
  std::string csv;
  std::string target = "target";
  int rounds = 300;
  int max_depth = 6;
  double eta = 0.1;
  int threads = 2;
  uint64_t seed = 7;
};

bool ParseOptions(int argc, char** argv, Options& options) {
  for (int arg = 1; arg + 1 < argc; arg += 2) {
    const std::string flag = argv[arg];
    const char* value = argv[arg + 1];
    char* end = nullptr;
    if (flag == "--csv") {
      options.csv = value;
      continue;
    }
    if (flag == "--target") {
      options.target = value;
      continue;
    }
    if (flag == "--eta") {
      options.eta = std::strtod(value, &end);
    } else {
      const long long number = std::strtoll(value, &end, 10);
      if (number < 0) return false;
      if (flag == "--rounds") {
        options.rounds = static_cast<int>(number);
      } else if (flag == "--max-depth") {
        options.max_depth = static_cast<int>(number);
      } else if (flag == "--threads") {
        options.threads = static_cast<int>(number);
      } else if (flag == "--seed") {
        options.seed = static_cast<uint64_t>(number);
      } else {
        return false;
      }
    }
    if (end == value || *end != '\0') return false;
  }
  return argc % 2 == 1 && !options.csv.empty() && options.rounds > 0 && options.threads > 0;
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// Wall seconds since `start`.
double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Fail(const char* step, const absl::Status& status) {
  std::fprintf(stderr, "assay_ml_overhead_bench: %s failed: %s\n", step,
               std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // The same allocator set-up as the assay command (src/common/huge_pages.h).
  assay::common::ReexecWithProcessTunables(argv);
  Options options;
  if (!ParseOptions(argc, argv, options)) {
    std::fprintf(stderr,
                 "usage: assay_ml_overhead_bench --csv FILE [--target target] [--rounds 300] "
                 "[--max-depth 6] [--eta 0.1] [--threads 2] [--seed 7]\n");
    return 2;
  }
  nlohmann::json stages = nlohmann::json::object();
  const double cpu_start = CpuSeconds();
  const auto start = std::chrono::steady_clock::now();

  auto stage_start = std::chrono::steady_clock::now();
  absl::StatusOr<assay::table::Table> table = assay::table::ReadCsvFile(options.csv);
  if (!table.ok()) return Fail("reading the CSV", table.status());
  stages["read"] = Since(stage_start);

  stage_start = std::chrono::steady_clock::now();
  assay::ml::LabelSpec label_spec;
  label_spec.target = options.target;
  label_spec.type = "binary";
  label_spec.positive_class = "1";
  absl::StatusOr<assay::ml::LabelMapping> mapping =
      assay::ml::LabelMapping::Infer(*table, label_spec);
  if (!mapping.ok()) return Fail("inferring the labels", mapping.status());
  absl::StatusOr<assay::ml::LabelledRows> labelled = mapping->Map(*table);
  if (!labelled.ok()) return Fail("mapping the labels", labelled.status());
  stages["labels"] = Since(stage_start);

  stage_start = std::chrono::steady_clock::now();
  assay::ml::PipelineSpec pipeline_spec;
  pipeline_spec.family = assay::ml::FeatureFamily::kTrees;
  absl::StatusOr<assay::ml::FeaturePipeline> pipeline =
      assay::ml::FeaturePipeline::Fit(*table, options.target, labelled->rows, labelled->labels,
                                      assay::ml::TaskType::kBinary, pipeline_spec, options.seed);
  if (!pipeline.ok()) return Fail("fitting the feature pipeline", pipeline.status());
  stages["fit"] = Since(stage_start);

  stage_start = std::chrono::steady_clock::now();
  absl::StatusOr<assay::ml::FeatureMatrix> features =
      pipeline->TransformTrainingRows(*table, labelled->rows);
  if (!features.ok()) return Fail("transforming the training rows", features.status());
  stages["transform"] = Since(stage_start);

  stage_start = std::chrono::steady_clock::now();
  assay::ml::TrainParams params;
  params.algorithm = "xgboost";
  params.task = assay::ml::TaskType::kBinary;
  params.hyper = {{"max_depth", options.max_depth}, {"learning_rate", options.eta}};
  params.max_rounds = options.rounds;
  params.early_stopping_rounds = 0;
  params.seed = options.seed;
  params.threads = options.threads;
  assay::ml::TrainData train{&*features, &labelled->labels, nullptr};
  absl::StatusOr<assay::ml::TrainResult> trained = assay::ml::TrainModel(params, train, nullptr);
  if (!trained.ok()) return Fail("training", trained.status());
  stages["train"] = Since(stage_start);

  const double seconds = Since(start);
  const double cpu_seconds = CpuSeconds() - cpu_start;

  absl::StatusOr<std::vector<double>> probabilities = trained->model->Predict(*features);
  if (!probabilities.ok()) return Fail("predicting the training rows", probabilities.status());
  double sum = 0;
  double sum_squares = 0;
  for (double probability : *probabilities) {
    sum += probability;
    sum_squares += probability * probability;
  }
  nlohmann::json first = nlohmann::json::array();
  for (size_t row = 0; row < 5 && row < probabilities->size(); ++row) {
    first.push_back((*probabilities)[row]);
  }
  nlohmann::json report = {
      {"tool", "assay"},
      {"rows", table->num_rows()},
      {"features", features->cols},
      {"rounds", trained->rounds},
      {"seconds", seconds},
      {"cpu_seconds", cpu_seconds},
      {"stages", stages},
      {"check",
       {{"count", probabilities->size()},
        {"sum", sum},
        {"sum_squares", sum_squares},
        {"first", first}}},
  };
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
