// The `score` recipe (docs/recipes/score.md, decision 0007): batch-scores its one input with
// a saved model of the project's registry and writes the scored table, exactly as
// `assay score` does (same ml::Scorer, same output columns).
//
// Unlike the other recipe types it is not a pure table function: it reads the model
// registry and the object store. recipes::RecipeTypes() lists it (so `recipe create --type`
// and the unknown-type message name it), but the flow parses its config (the model
// reference is a registry concept, a layer above recipes/) and runs it. At build time the
// model reference is resolved to one version; that version's manifest hash enters the memo
// key, so a new version of an unpinned model re-runs the recipe and a pinned one
// (`@vN`) stays memoized.
//
// Thread-safety: the functions are as thread-safe as the Workspace they are given.
#ifndef ASSAY_FLOW_SCORE_RECIPE_H_
#define ASSAY_FLOW_SCORE_RECIPE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "catalog/workspace.h"
#include "ml/scorer.h"
#include "nlohmann/json.hpp"
#include "recipes/recipe.h"
#include "registry/model_registry.h"

namespace assay::flow {

inline constexpr std::string_view kScoreRecipeType = "score";

// A parsed score config: `model: PROJECT/MODEL[@vN]`, `explain: K`, `keep: [columns]`.
struct ScoreSpec {
  registry::ModelRef model;  // version 0: the latest version at build time
  ml::ScoreOptions options;  // explain_top_k, keep_columns
};

// Parses a score config strictly (unknown keys are errors). When `project` is not empty the
// model must belong to it (a flow scores with its own project's models).
// Errors: INVALID_ARGUMENT "score config: <key>: ..." naming the key and what is expected.
absl::StatusOr<ScoreSpec> ParseScoreSpec(const nlohmann::json& config, std::string_view project);

// The model version a score recipe reads now: the pinned version, else the latest.
// Errors: NOT_FOUND naming the model or version and saying to run `assay ml deploy`; store
// errors.
absl::StatusOr<registry::SavedModelVersion> ResolveScoreModel(catalog::Workspace& workspace,
                                                              const ScoreSpec& spec);

// Rebuilds the scorer of a saved-model version from its manifest's "scoring" object and the
// model object it names (the same steps as training::TrainingService::LoadScorer, which the
// flow cannot link: training depends on the flow). Sets `*model_sha256` (when not null) to
// the model object's hash.
// Errors: FAILED_PRECONDITION for a manifest of another format or format version; DATA_LOSS
// for a corrupt manifest or a missing or corrupt model object; the scorer's parse errors.
absl::StatusOr<ml::Scorer> LoadSavedModelScorer(catalog::Workspace& workspace,
                                                const registry::SavedModelVersion& version,
                                                std::string* model_sha256 = nullptr);

// Scores `input` with `model` (resolved by ResolveScoreModel). The outcome has one output,
// a log line naming the model version and its manifest hash, and an environment
// {"model": {"ref", "manifest_sha256", "model_sha256", "algorithm", "pinned"}} for the run
// record and lineage.
// Errors: those of LoadSavedModelScorer; INVALID_ARGUMENT from Scorer::Score (a column the
// model needs is missing or has another type, an unknown keep column).
absl::StatusOr<recipes::RecipeOutcome> RunScoreRecipe(catalog::Workspace& workspace,
                                                      const ScoreSpec& spec,
                                                      const registry::SavedModelVersion& model,
                                                      const recipes::RecipeInput& input);

}  // namespace assay::flow

#endif  // ASSAY_FLOW_SCORE_RECIPE_H_
