#include "ml/scorer.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "ml/trainer.h"

namespace assay::ml {
namespace {

absl::StatusOr<table::Column> StringColumn(const std::vector<std::string>& values) {
  std::vector<int64_t> offsets;
  offsets.reserve(values.size() + 1);
  offsets.push_back(0);
  std::string bytes;
  for (const std::string& value : values) {
    bytes += value;
    offsets.push_back(static_cast<int64_t>(bytes.size()));
  }
  return table::Column::FromStrings(std::move(offsets), std::move(bytes));
}

}  // namespace

double Calibration::Apply(double margin, double probability) const {
  if (platt) return platt->Apply(margin);
  if (isotonic) return isotonic->Apply(probability);
  return probability;
}

nlohmann::json Calibration::ToJson() const {
  if (platt) return platt->ToJson();
  if (isotonic) return isotonic->ToJson();
  return {{"method", "none"}};
}

absl::StatusOr<Calibration> Calibration::FromJson(const nlohmann::json& json) {
  Calibration calibration;
  if (!json.is_object() || !json.contains("method") || !json["method"].is_string()) {
    return absl::InvalidArgumentError("scoring.calibration: expected an object with a method");
  }
  calibration.method = json["method"].get<std::string>();
  if (calibration.method == "platt") {
    ASSAY_ASSIGN_OR_RETURN(calibration.platt, PlattCalibrator::FromJson(json));
  } else if (calibration.method == "isotonic") {
    ASSAY_ASSIGN_OR_RETURN(calibration.isotonic, IsotonicCalibrator::FromJson(json));
  } else if (calibration.method != "none") {
    return absl::InvalidArgumentError(
        absl::StrCat("scoring.calibration.method: unknown \"", Absl(calibration.method), "\""));
  }
  return calibration;
}

Scorer::Scorer(LabelMapping labels, FeaturePipeline pipeline, std::shared_ptr<const Model> model,
               Calibration calibration, double threshold, std::string threshold_method)
    : labels_(std::move(labels)),
      pipeline_(std::move(pipeline)),
      model_(std::move(model)),
      calibration_(std::move(calibration)),
      threshold_(threshold),
      threshold_method_(std::move(threshold_method)) {}

absl::StatusOr<Scorer> Scorer::FromJson(const nlohmann::json& scoring,
                                        std::string_view model_bytes) {
  for (const char* key : {"labels", "pipeline", "algorithm", "calibration", "threshold"}) {
    if (!scoring.is_object() || !scoring.contains(key)) {
      return absl::InvalidArgumentError(absl::StrCat("scoring.", key, " is missing"));
    }
  }
  ASSAY_ASSIGN_OR_RETURN(LabelMapping labels, LabelMapping::FromJson(scoring["labels"]));
  ASSAY_ASSIGN_OR_RETURN(FeaturePipeline pipeline, FeaturePipeline::FromJson(scoring["pipeline"]));
  if (!scoring["algorithm"].is_string() || !scoring["threshold"].is_number()) {
    return absl::InvalidArgumentError("scoring.algorithm / scoring.threshold have wrong types");
  }
  ASSAY_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                         LoadModel(scoring["algorithm"].get<std::string>(), model_bytes));
  if (model->num_features() != pipeline.num_features()) {
    return absl::DataLossError(absl::StrCat("the model expects ", model->num_features(),
                                            " features but the pipeline makes ",
                                            pipeline.num_features()));
  }
  ASSAY_ASSIGN_OR_RETURN(Calibration calibration, Calibration::FromJson(scoring["calibration"]));
  return Scorer(std::move(labels), std::move(pipeline), std::move(model), std::move(calibration),
                scoring["threshold"].get<double>(), scoring.value("threshold_method", ""));
}

nlohmann::json Scorer::ToJson(const std::string& model_sha256) const {
  return {{"task", TaskTypeName(labels_.task())},
          {"labels", labels_.ToJson()},
          {"pipeline", pipeline_.ToJson()},
          {"algorithm", model_->algorithm()},
          {"model_sha256", model_sha256},
          {"calibration", calibration_.ToJson()},
          {"threshold", threshold_},
          {"threshold_method", threshold_method_}};
}

absl::StatusOr<std::vector<double>> Scorer::Predict(const FeatureMatrix& x) const {
  std::vector<double> margins;
  return Predict(x, &margins);
}

absl::StatusOr<std::vector<double>> Scorer::Predict(const FeatureMatrix& x,
                                                    std::vector<double>* margins) const {
  ASSAY_ASSIGN_OR_RETURN(*margins, model_->PredictMargin(x));
  std::vector<double> predictions = ApplyLink(labels_.task(), model_->num_outputs(), *margins);
  if (labels_.task() == TaskType::kBinary && calibration_.method != "none") {
    for (size_t row = 0; row < predictions.size(); ++row) {
      predictions[row] = calibration_.Apply((*margins)[row], predictions[row]);
    }
  }
  return predictions;
}

std::vector<std::pair<std::string, double>> ContributionsByColumn(
    const double* contributions, const std::vector<std::string>& sources, double* bias) {
  std::vector<std::pair<std::string, double>> out;
  absl::flat_hash_map<std::string, size_t> index;
  for (size_t feature = 0; feature < sources.size(); ++feature) {
    auto [it, inserted] = index.try_emplace(sources[feature], out.size());
    if (inserted) out.emplace_back(sources[feature], 0.0);
    out[it->second].second += contributions[feature];
  }
  *bias = contributions[sources.size()];
  return out;
}

absl::StatusOr<table::Table> Scorer::Score(const table::Table& input,
                                           const ScoreOptions& options) const {
  if (options.explain_top_k < 0) {
    return absl::InvalidArgumentError("--explain must be 0 or more");
  }
  std::vector<std::string> keep = options.keep_columns;
  if (keep.empty()) {
    for (const ColumnDecision& decision : pipeline_.decisions()) {
      if (decision.rule.rfind("identifier", 0) == 0 &&
          input.schema().FindField(decision.column).has_value()) {
        keep.push_back(decision.column);
      }
    }
  }
  std::vector<table::Field> fields;
  std::vector<table::Column> columns;
  for (const std::string& name : keep) {
    const std::optional<int> index = input.schema().FindField(name);
    if (!index) {
      return absl::InvalidArgumentError(absl::StrCat("cannot keep column \"", Absl(name),
                                                     "\": the input has ",
                                                     Absl(input.schema().NameList())));
    }
    fields.push_back(input.schema().field(*index));
    columns.push_back(input.column(*index));
  }

  absl::StatusOr<FeatureMatrix> x = pipeline_.Transform(input);
  ASSAY_RETURN_IF_ERROR(x.status());  // names the column and what the model needs
  std::vector<double> margins;
  ASSAY_ASSIGN_OR_RETURN(const std::vector<double> predictions, Predict(*x, &margins));
  const int64_t rows = x->rows;
  const TaskType task = labels_.task();
  const int outputs = model_->num_outputs();
  auto add = [&](std::string name, table::DataType type,
                 absl::StatusOr<table::Column> column) -> absl::Status {
    ASSAY_RETURN_IF_ERROR(column.status());
    for (const table::Field& field : fields) {
      if (field.name == name) {
        return absl::InvalidArgumentError(absl::StrCat(
            "kept column \"", Absl(name), "\" clashes with a score column; keep other columns"));
      }
    }
    fields.push_back(table::Field{std::move(name), type});
    columns.push_back(*std::move(column));
    return absl::OkStatus();
  };

  std::vector<int> predicted_class(static_cast<size_t>(rows), 0);
  if (task == TaskType::kBinary) {
    std::vector<std::string> names(static_cast<size_t>(rows));
    for (int64_t row = 0; row < rows; ++row) {
      predicted_class[row] = predictions[row] >= threshold_ ? 1 : 0;
      names[row] = labels_.ClassName(predicted_class[row]);
    }
    ASSAY_RETURN_IF_ERROR(add("prediction", table::DataType::kString, StringColumn(names)));
    ASSAY_RETURN_IF_ERROR(
        add("probability", table::DataType::kFloat64, table::Column::FromFloat64s(predictions)));
  } else if (task == TaskType::kMulticlass) {
    std::vector<std::string> names(static_cast<size_t>(rows));
    for (int64_t row = 0; row < rows; ++row) {
      const double* p = predictions.data() + row * outputs;
      predicted_class[row] = static_cast<int>(std::max_element(p, p + outputs) - p);
      names[row] = labels_.ClassName(predicted_class[row]);
    }
    ASSAY_RETURN_IF_ERROR(add("prediction", table::DataType::kString, StringColumn(names)));
    for (int k = 0; k < outputs; ++k) {
      std::vector<double> values(static_cast<size_t>(rows));
      for (int64_t row = 0; row < rows; ++row) values[row] = predictions[row * outputs + k];
      ASSAY_RETURN_IF_ERROR(add(absl::StrCat("probability_", Absl(labels_.ClassName(k))),
                                table::DataType::kFloat64,
                                table::Column::FromFloat64s(std::move(values))));
    }
  } else {
    ASSAY_RETURN_IF_ERROR(
        add("prediction", table::DataType::kFloat64, table::Column::FromFloat64s(predictions)));
  }

  if (options.explain_top_k > 0) {
    ASSAY_ASSIGN_OR_RETURN(const std::vector<double> contributions, model_->Contributions(*x));
    const size_t block = static_cast<size_t>(x->cols) + 1;
    const int k = options.explain_top_k;
    std::vector<double> base(static_cast<size_t>(rows));
    std::vector<std::vector<std::string>> top_columns(k, std::vector<std::string>(rows));
    std::vector<std::vector<double>> top_values(k, std::vector<double>(rows, 0.0));
    std::vector<std::vector<uint8_t>> valid(k, std::vector<uint8_t>((rows + 7) / 8, 0));
    for (int64_t row = 0; row < rows; ++row) {
      const int output = outputs == 1 ? 0 : predicted_class[row];
      const double* block_start =
          contributions.data() + (static_cast<size_t>(row) * outputs + output) * block;
      auto by_column = ContributionsByColumn(block_start, pipeline_.feature_sources(), &base[row]);
      std::stable_sort(by_column.begin(), by_column.end(), [](const auto& a, const auto& b) {
        return std::abs(a.second) > std::abs(b.second);
      });
      for (int i = 0; i < k && i < static_cast<int>(by_column.size()); ++i) {
        top_columns[i][row] = by_column[i].first;
        top_values[i][row] = by_column[i].second;
        valid[i][row >> 3] |= static_cast<uint8_t>(1u << (row & 7));
      }
    }
    ASSAY_RETURN_IF_ERROR(
        add("shap_base", table::DataType::kFloat64, table::Column::FromFloat64s(std::move(base))));
    for (int i = 0; i < k; ++i) {
      absl::StatusOr<table::Column> names = StringColumn(top_columns[i]);
      ASSAY_RETURN_IF_ERROR(names.status());
      std::vector<int64_t> offsets = names->string_offsets();
      std::string bytes = names->string_bytes();
      ASSAY_RETURN_IF_ERROR(
          add(absl::StrCat("shap_", i + 1, "_column"), table::DataType::kString,
              table::Column::FromStrings(std::move(offsets), std::move(bytes), valid[i])));
      ASSAY_RETURN_IF_ERROR(add(absl::StrCat("shap_", i + 1, "_value"), table::DataType::kFloat64,
                                table::Column::FromFloat64s(std::move(top_values[i]), valid[i])));
    }
  }
  return table::Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::ml
