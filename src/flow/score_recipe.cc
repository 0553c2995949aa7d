#include "flow/score_recipe.h"

#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "recipes/reshape_config.h"

namespace assay::flow {
namespace {

std::string DeployHint(const registry::ModelRef& ref) {
  return absl::StrCat("train an ML task and deploy a trial as this model with `assay ml deploy ",
                      ref.project, " TASK/best --saved-model ", ref.name, "`");
}

}  // namespace

absl::StatusOr<ScoreSpec> ParseScoreSpec(const nlohmann::json& config, std::string_view project) {
  const recipes::reshape::ConfigContext context("score");
  ASSAY_RETURN_IF_ERROR(context.CheckObject(config, "", {"model", "explain", "keep"}, {"model"}));
  ScoreSpec spec;
  ASSAY_ASSIGN_OR_RETURN(const std::string model, context.String(config, "", "model"));
  absl::StatusOr<registry::ModelRef> ref = registry::ParseModelRef(model);
  if (!ref.ok()) return context.Error("\"model\"", std::string(ref.status().message()));
  spec.model = *std::move(ref);
  if (!project.empty() && spec.model.project != project) {
    return context.Error(
        "\"model\"", absl::StrCat(spec.model.ToString(), " belongs to project ", spec.model.project,
                                  "; a flow scores with its own project's saved models (use ",
                                  std::string(project), "/", spec.model.name, ")"));
  }
  ASSAY_ASSIGN_OR_RETURN(const std::optional<int64_t> explain,
                         context.OptionalInt(config, "", "explain", 0));
  if (explain) {
    if (*explain > std::numeric_limits<int>::max()) {
      return context.Expected("\"explain\"", "an integer >= 0 (the number of top contributors)");
    }
    spec.options.explain_top_k = static_cast<int>(*explain);
  }
  if (config.contains("keep")) {
    ASSAY_ASSIGN_OR_RETURN(spec.options.keep_columns,
                           context.StringList(config, "", "keep", /*allow_empty=*/true));
  }
  return spec;
}

absl::StatusOr<registry::SavedModelVersion> ResolveScoreModel(catalog::Workspace& workspace,
                                                              const ScoreSpec& spec) {
  absl::StatusOr<registry::SavedModelVersion> version =
      registry::ModelRegistry(workspace).Resolve(spec.model);
  if (version.status().code() == absl::StatusCode::kNotFound) {
    return absl::NotFoundError(
        absl::StrCat("model ", spec.model.ToString(), " is not in the model registry: ",
                     version.status().message(), "; ", DeployHint(spec.model)));
  }
  return version;
}

absl::StatusOr<ml::Scorer> LoadSavedModelScorer(catalog::Workspace& workspace,
                                                const registry::SavedModelVersion& version,
                                                std::string* model_sha256) {
  ASSAY_ASSIGN_OR_RETURN(const nlohmann::json manifest,
                         registry::ModelRegistry(workspace).LoadManifest(version));
  if (manifest.value("format", "") != registry::kSavedModelFormat ||
      manifest.value("format_version", 0) != registry::kSavedModelFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        version.Ref(), " is stored in saved-model format ", manifest.value("format", "?"), " v",
        manifest.value("format_version", 0), "; this build reads ", registry::kSavedModelFormat,
        " v", registry::kSavedModelFormatVersion));
  }
  const auto scoring = manifest.find("scoring");
  if (scoring == manifest.end() || !scoring->is_object() ||
      !scoring->value("model_sha256", nlohmann::json()).is_string()) {
    return absl::DataLossError(absl::StrCat("the manifest of ", version.Ref(), " (object ",
                                            version.sha256,
                                            ") has no \"scoring\" object naming "
                                            "its model object"));
  }
  const std::string model_sha = (*scoring)["model_sha256"];
  absl::StatusOr<std::string> bytes = workspace.objects().Get(model_sha);
  if (!bytes.ok()) {
    return absl::DataLossError(absl::StrCat("the model object of ", version.Ref(), " (", model_sha,
                                            ") cannot be read: ", bytes.status().message()));
  }
  if (model_sha256 != nullptr) *model_sha256 = model_sha;
  return ml::Scorer::FromJson(*scoring, *bytes);
}

absl::StatusOr<recipes::RecipeOutcome> RunScoreRecipe(catalog::Workspace& workspace,
                                                      const ScoreSpec& spec,
                                                      const registry::SavedModelVersion& model,
                                                      const recipes::RecipeInput& input) {
  std::string model_sha;
  ASSAY_ASSIGN_OR_RETURN(const ml::Scorer scorer,
                         LoadSavedModelScorer(workspace, model, &model_sha));
  absl::StatusOr<table::Table> scored = scorer.Score(*input.table, spec.options);
  if (!scored.ok()) {
    return absl::Status(scored.status().code(),
                        absl::StrCat("scoring ", input.name, " with ", model.Ref(), ": ",
                                     scored.status().message()));
  }
  recipes::RecipeOutcome outcome;
  outcome.log =
      absl::StrCat("scored with ", model.Ref(), " (manifest sha256 ", model.sha256,
                   spec.model.version == 0 ? ", the latest version" : ", pinned", "): ", input.name,
                   ": ", input.table->num_rows(), " rows in, ", scored->num_rows(), " rows out\n");
  outcome.environment = {{"model",
                          {{"ref", model.Ref()},
                           {"manifest_sha256", model.sha256},
                           {"model_sha256", model_sha},
                           {"algorithm", model.algorithm},
                           {"pinned", spec.model.version != 0}}}};
  outcome.outputs.push_back(*std::move(scored));
  return outcome;
}

}  // namespace assay::flow
