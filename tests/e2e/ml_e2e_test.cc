// End-to-end tests of the AutoML commands (ml create/list/train/leaderboard/show/deploy), the
// saved-model commands (model list/versions/show/report) and batch scoring (score), driving the
// real binary on the churn reference example and on a small synthetic table.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_test_support.h"

namespace {

// The churn task of the reference example. max_rounds keeps each XGBoost fit to a few dozen
// rounds so that a whole search stays at seconds on two cores; budget 0 means "no wall-clock
// limit", so the search is the same however fast the machine is.
constexpr char kChurnTask[] = R"(input: CHURN/training
target: churned
type: binary
positive_class: "1"
explain: {subpopulation: [specialty]}
search: {max_trials: 6, budget_seconds: 0, max_rounds: 40}
seed: 42
)";

// A parsed CSV file (RFC 4180 quoting; the first record is the header).
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  // The index of column `name`, or -1.
  int Column(const std::string& name) const {
    const auto found = std::find(header.begin(), header.end(), name);
    return found == header.end() ? -1 : static_cast<int>(found - header.begin());
  }
};

Csv ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  bool any = false;  // the current record has at least one character
  for (size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    if (quoted) {
      if (c == '"' && at + 1 < text.size() && text[at + 1] == '"') {
        field += '"';
        ++at;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && at + 1 < text.size() && text[at + 1] == '\n') ++at;
      if (any) {
        record.push_back(std::move(field));
        records.push_back(std::move(record));
      }
      field.clear();
      record.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any) {
    record.push_back(std::move(field));
    records.push_back(std::move(record));
  }
  Csv csv;
  if (records.empty()) return csv;
  csv.header = std::move(records.front());
  csv.rows.assign(std::make_move_iterator(records.begin() + 1),
                  std::make_move_iterator(records.end()));
  return csv;
}

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// `csv` without column `drop`, as CSV text.
std::string WithoutColumn(const Csv& csv, const std::string& drop) {
  const int skip = csv.Column(drop);
  std::string out;
  auto append = [&](const std::vector<std::string>& record) {
    bool first = true;
    for (size_t col = 0; col < record.size(); ++col) {
      if (static_cast<int>(col) == skip) continue;
      if (!first) out += ',';
      out += CsvField(record[col]);
      first = false;
    }
    out += '\n';
  };
  append(csv.header);
  for (const auto& row : csv.rows) append(row);
  return out;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The actions of the audit entries of `log` (`assay audit log --json`).
std::multiset<std::string> Actions(const nlohmann::json& log) {
  std::multiset<std::string> actions;
  for (const auto& entry : log) actions.insert(entry["action"].get<std::string>());
  return actions;
}

class MlCliTest : public CliTest {
 protected:
  // Writes the churn example's source files (about 540 labelled providers) to dir_/data.
  fs::path GenerateChurnData() {
    const fs::path data = dir_ / "data";
    const std::string generate = "/usr/bin/python3 " + (Example() / "generate.py").string() +
                                 " --providers 900 --months 15 --seed 3 --quiet --output " +
                                 data.string();
    EXPECT_EQ(std::system(generate.c_str()), 0) << generate;
    return data;
  }

  // In a new workspace at home_: project CHURN with the example flow, its five source files
  // imported from `data` and CHURN/training built. Returns the rows of CHURN/training.
  int64_t BuildChurnTraining(const fs::path& data) {
    InitWithProject();
    Ok({"flow", "apply", "CHURN", (Example() / "flow.yaml").string()});
    Ok({"dataset", "import", "CHURN/hcps", (data / "hcps.csv").string(), "--type", "npi=string",
        "--type", "practice_zip=string"});
    for (const char* name : {"rx_monthly", "calls", "emails", "labels"}) {
      Ok({"dataset", "import", std::string("CHURN/") + name,
          (data / (std::string(name) + ".csv")).string()});
    }
    const nlohmann::json build = Json({"flow", "build", "CHURN", "training"});
    EXPECT_TRUE(build.value("ok", false)) << build.dump(2);
    return Json({"dataset", "show", "CHURN/training"})["rows"].get<int64_t>();
  }

  static fs::path Example() { return fs::path(ASSAY_SOURCE_DIR) / "examples" / "churn"; }
};

// The trial of `training` (`ml train|leaderboard --json`) numbered `number`.
const nlohmann::json& Trial(const nlohmann::json& training, int number) {
  for (const auto& trial : training["trials"]) {
    if (trial["number"] == number) return trial;
  }
  ADD_FAILURE() << "no trial " << number << " in " << training.dump();
  static const nlohmann::json* const kNone = new nlohmann::json(nlohmann::json::object());
  return *kNone;
}

TEST_F(MlCliTest, ChurnTrainDeployDocumentAndScore) {
  const int64_t rows = BuildChurnTraining(GenerateChurnData());
  ASSERT_GT(rows, 500);

  // Create the task; the same spec again is a no-op.
  const fs::path spec = WriteFile("task.yaml", kChurnTask);
  const nlohmann::json created = Json({"ml", "create", "CHURN", "churn", "--spec", spec.string()});
  EXPECT_EQ(created["status"], "created");
  EXPECT_EQ(created["task"], "CHURN/churn@v1");
  EXPECT_EQ(created["spec"]["target"], "churned");
  EXPECT_EQ(created["spec"]["search"]["max_trials"], 6);
  EXPECT_EQ(Json({"ml", "create", "CHURN", "churn", "--spec", spec.string()})["status"],
            "unchanged");
  const nlohmann::json tasks = Json({"ml", "list", "CHURN"});
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0]["task"], "CHURN/churn@v1");
  EXPECT_EQ(tasks[0]["trainings"], 0);

  // Train: six trials, the best one complete and the best complete cv_mean (AUC: higher wins).
  // One thread: on a loaded machine XGBoost's threads wait on each other far longer than the
  // small fits take.
  const nlohmann::json trained =
      Json({"ml", "train", "CHURN", "churn", "--max-trials", "6", "--threads", "1"});
  ASSERT_EQ(trained["status"], "complete") << trained.dump(2);
  const int best = trained["best_trial"].get<int>();
  ASSERT_GT(best, 0);
  ASSERT_EQ(trained["trials"].size(), 6u);
  EXPECT_EQ(trained["training"], 1);
  EXPECT_EQ(trained["summary"]["metric"], "auc");
  EXPECT_EQ(trained["summary"]["dataset"], "CHURN/training@v1");
  EXPECT_EQ(trained["summary"]["labelled_rows"], rows);
  EXPECT_EQ(trained["summary"]["stop_reason"], "max_trials");
  EXPECT_EQ(Json({"ml", "list", "CHURN"})[0]["trainings"], 1);

  const nlohmann::json board = Json({"ml", "leaderboard", "CHURN", "churn"});
  EXPECT_EQ(board["training"], 1);
  EXPECT_EQ(board["best_trial"], best);
  ASSERT_EQ(board["trials"].size(), trained["trials"].size());
  const double best_cv = Trial(board, best)["cv_mean"].get<double>();
  EXPECT_EQ(Trial(board, best)["status"], "complete");
  // A complete trial that is not the best, to deploy as v2. Deploying it refits it (on every
  // core: `ml deploy` has no --threads), so a linear one is preferred for speed.
  int other = 0;
  bool other_is_linear = false;
  for (const auto& trial : board["trials"]) {
    const std::string status = trial["status"];
    EXPECT_TRUE(status == "complete" || status == "pruned" || status == "failed") << status;
    if (status != "complete") continue;
    EXPECT_LE(trial["cv_mean"].get<double>(), best_cv) << trial.dump();
    EXPECT_GT(trial["cv_mean"].get<double>(), 0.5) << trial.dump();  // better than chance
    const bool linear = trial["algorithm"] == "linear";
    if (trial["number"] != best && (other == 0 || (linear && !other_is_linear))) {
      other = trial["number"].get<int>();
      other_is_linear = linear;
    }
  }
  ASSERT_GT(other, 0) << "no second complete trial to deploy: " << board.dump(2);

  const nlohmann::json shown = Json({"ml", "show", "CHURN", "churn/best"});
  EXPECT_EQ(shown["number"], best);
  EXPECT_TRUE(shown["best"].get<bool>());
  EXPECT_EQ(shown["training"], 1);
  EXPECT_EQ(shown["task"], "CHURN/churn@v1");
  EXPECT_EQ(shown["cv_mean"], Trial(board, best)["cv_mean"]);
  EXPECT_EQ(shown["hyper"], Trial(board, best)["hyper"]);
  EXPECT_TRUE(shown.contains("final")) << shown.dump(2);
  const nlohmann::json shown_other =
      Json({"ml", "show", "CHURN", "churn/" + std::to_string(other)});
  EXPECT_EQ(shown_other["number"], other);
  EXPECT_FALSE(shown_other["best"].get<bool>());

  // Deploy the best trial (v1; the same trial again changes nothing), then another (v2).
  const nlohmann::json v1 =
      Json({"ml", "deploy", "CHURN", "churn/best", "--saved-model", "churn_model"});
  EXPECT_EQ(v1["status"], "created");
  EXPECT_EQ(v1["ref"], "CHURN/churn_model@v1");
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["trial"], best);
  EXPECT_EQ(v1["task_type"], "binary");
  ASSERT_EQ(v1["sha256"].get<std::string>().size(), 64u);
  const nlohmann::json again = Json(
      {"ml", "deploy", "CHURN", "churn/" + std::to_string(best), "--saved-model", "churn_model"});
  EXPECT_EQ(again["status"], "unchanged");
  EXPECT_EQ(again["version"], 1);
  EXPECT_EQ(again["sha256"], v1["sha256"]);
  EXPECT_TRUE(Contains(Ok({"ml", "deploy", "CHURN", "churn/best", "--saved-model", "churn_model"}),
                       "nothing changed"));
  const nlohmann::json v2 = Json(
      {"ml", "deploy", "CHURN", "churn/" + std::to_string(other), "--saved-model", "churn_model"});
  EXPECT_EQ(v2["status"], "created");
  EXPECT_EQ(v2["ref"], "CHURN/churn_model@v2");
  EXPECT_EQ(v2["trial"], other);
  EXPECT_NE(v2["sha256"], v1["sha256"]);

  // The registry.
  const nlohmann::json models = Json({"model", "list", "CHURN"});
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["model"], "CHURN/churn_model");
  EXPECT_EQ(models[0]["versions"], 2);
  EXPECT_EQ(models[0]["latest"]["version"], 2);
  const nlohmann::json versions = Json({"model", "versions", "CHURN/churn_model"});
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["version"], 1);
  EXPECT_EQ(versions[0]["trial"], best);
  EXPECT_EQ(versions[0]["sha256"], v1["sha256"]);
  EXPECT_EQ(versions[1]["version"], 2);
  EXPECT_EQ(versions[1]["trial"], other);
  const nlohmann::json model = Json({"model", "show", "CHURN/churn_model@v1"});
  EXPECT_EQ(model["ref"], "CHURN/churn_model@v1");
  EXPECT_EQ(model["sha256"], v1["sha256"]);
  const nlohmann::json& manifest = model["manifest"];
  EXPECT_EQ(manifest["model"]["sha256"].get<std::string>().size(), 64u) << manifest["model"];
  EXPECT_EQ(manifest["target"], "churned");
  EXPECT_EQ(manifest["lineage"]["dataset"]["ref"], "CHURN/training");
  EXPECT_EQ(manifest["lineage"]["training"]["trial"], best);
  // The logit check below holds only for an uncalibrated model.
  ASSERT_EQ(manifest["scoring"]["calibration"].value("method", "none"), "none")
      << manifest["scoring"].dump();
  const double threshold = manifest["scoring"]["threshold"].get<double>();
  const nlohmann::json latest = Json({"model", "show", "CHURN/churn_model"});
  EXPECT_EQ(latest["version"], 2);
  EXPECT_NE(latest["manifest"]["model"]["sha256"], manifest["model"]["sha256"]);

  // The model document: one self-contained HTML file, no scripts.
  const fs::path report = dir_ / "report.html";
  EXPECT_TRUE(Contains(Ok({"model", "report", "CHURN/churn_model@v1", "--output", report.string()}),
                       "CHURN/churn_model@v1"));
  ASSERT_TRUE(fs::exists(report));
  const std::string html = Slurp(report);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u) << html.substr(0, 100);
  EXPECT_FALSE(Contains(html, "<script")) << "the model document must not run scripts";
  EXPECT_TRUE(Contains(html, "churn_model"));

  // Score the training table with the top-3 explanations.
  const fs::path top3 = dir_ / "top3.csv";
  EXPECT_TRUE(Contains(Ok({"score", "CHURN/churn_model@v1", "--input", "CHURN/training", "--output",
                           top3.string(), "--explain", "3"}),
                       "Scored " + std::to_string(rows) + " rows"));
  const Csv scored = ParseCsv(Slurp(top3));
  EXPECT_EQ(scored.header,
            (std::vector<std::string>{"hcp_id", "prediction", "probability", "shap_base",
                                      "shap_1_column", "shap_1_value", "shap_2_column",
                                      "shap_2_value", "shap_3_column", "shap_3_value"}));
  ASSERT_EQ(static_cast<int64_t>(scored.rows.size()), rows);
  ASSERT_EQ(scored.header.size(), 10u);
  std::set<std::string> ids;
  for (const auto& row : scored.rows) {
    ASSERT_EQ(row.size(), scored.header.size());
    ids.insert(row[0]);
    const double probability = std::stod(row[2]);
    EXPECT_GE(probability, 0.0);
    EXPECT_LE(probability, 1.0);
    EXPECT_EQ(row[1], probability >= threshold ? "1" : "0") << "p=" << probability;
    const double top1 = std::abs(std::stod(row[5]));
    const double top2 = std::abs(std::stod(row[7]));
    const double top3_value = std::abs(std::stod(row[9]));
    EXPECT_GE(top1, top2) << row[0];
    EXPECT_GE(top2, top3_value) << row[0];
    EXPECT_NE(row[4], row[6]);
    EXPECT_NE(row[6], row[8]);
  }
  EXPECT_EQ(static_cast<int64_t>(ids.size()), rows);  // hcp_id kept, one row per provider

  // With K above the number of input columns every column's contribution is listed, and
  // shap_base + the contributions is the margin: logit(probability).
  const fs::path all = dir_ / "all.csv";
  Ok({"score", "CHURN/churn_model@v1", "--input", "CHURN/training", "--output", all.string(),
      "--explain", "100"});
  const Csv full = ParseCsv(Slurp(all));
  ASSERT_EQ(static_cast<int64_t>(full.rows.size()), rows);
  const int probability_col = full.Column("probability");
  const int base_col = full.Column("shap_base");
  ASSERT_GE(probability_col, 0);
  ASSERT_GE(base_col, 0);
  size_t most_listed = 0;
  for (const auto& row : full.rows) {
    double margin = std::stod(row[base_col]);
    double scale = std::abs(margin);
    std::set<std::string> listed;
    for (int k = 1; k <= 100; ++k) {
      const int value_col = full.Column("shap_" + std::to_string(k) + "_value");
      ASSERT_GE(value_col, 0) << k;
      if (row[value_col].empty()) continue;  // fewer columns than K
      margin += std::stod(row[value_col]);
      scale += std::abs(std::stod(row[value_col]));
      listed.insert(row[value_col - 1]);
    }
    most_listed = std::max(most_listed, listed.size());
    const double p = std::stod(row[probability_col]);
    ASSERT_GT(p, 0.0);
    ASSERT_LT(p, 1.0);
    // XGBoost's contributions are float32; 1e-6 of their absolute sum covers the rounding.
    EXPECT_NEAR(std::log(p / (1 - p)), margin, 1e-6 * std::max(1.0, scale)) << row[0];
  }
  EXPECT_GT(most_listed, 5u);
  EXPECT_LT(most_listed, 100u);  // so every column was listed

  // Scoring an exported CSV of the dataset gives the same scores as scoring the dataset.
  const fs::path exported = dir_ / "training.csv";
  Ok({"dataset", "export", "CHURN/training", "--output", exported.string()});
  const fs::path from_file = dir_ / "from_file.csv";
  const fs::path from_ref = dir_ / "from_ref.csv";
  Ok({"score", "CHURN/churn_model@v1", "--input", exported.string(), "--output",
      from_file.string()});
  Ok({"score", "CHURN/churn_model@v1", "--input", "CHURN/training", "--output", from_ref.string()});
  const Csv file_scores = ParseCsv(Slurp(from_file));
  const Csv ref_scores = ParseCsv(Slurp(from_ref));
  EXPECT_EQ(file_scores.header, (std::vector<std::string>{"hcp_id", "prediction", "probability"}));
  EXPECT_EQ(file_scores.rows, ref_scores.rows);
  ASSERT_EQ(ref_scores.rows.size(), scored.rows.size());
  for (size_t row = 0; row < scored.rows.size(); ++row) {
    EXPECT_EQ(ref_scores.rows[row][2], scored.rows[row][2]) << "explanations changed a score";
  }
  // v2 is a different model: different scores.
  const fs::path with_v2 = dir_ / "v2.csv";
  Ok({"score", "CHURN/churn_model", "--input", "CHURN/training", "--output", with_v2.string()});
  EXPECT_NE(ParseCsv(Slurp(with_v2)).rows, ref_scores.rows);

  // The audit trail holds all of it and verifies.
  const Result verify = Run({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  const std::multiset<std::string> actions = Actions(Json({"audit", "log", "--project", "CHURN"}));
  EXPECT_EQ(actions.count("ml_task.create"), 1u);
  EXPECT_EQ(actions.count("ml_task.update"), 0u);
  EXPECT_EQ(actions.count("ml_task.train"), 1u);
  EXPECT_EQ(actions.count("model.version.create"), 2u);
}

// The same data and spec in two fresh workspaces give the same search and the same model bytes.
TEST_F(MlCliTest, TrainingIsReproducibleAcrossWorkspaces) {
  const fs::path data = GenerateChurnData();
  const fs::path spec = WriteFile("task.yaml", kChurnTask);
  std::vector<nlohmann::json> boards;
  std::vector<std::string> model_shas;
  for (const char* name : {"first", "second"}) {
    home_ = dir_ / name;
    ASSERT_GT(BuildChurnTraining(data), 500);
    Ok({"ml", "create", "CHURN", "churn", "--spec", spec.string()});
    const nlohmann::json trained = Json({"ml", "train", "CHURN", "churn", "--threads", "1"});
    ASSERT_EQ(trained["status"], "complete") << trained.dump(2);
    boards.push_back(Json({"ml", "leaderboard", "CHURN", "churn"}));
    Ok({"ml", "deploy", "CHURN", "churn/best", "--saved-model", "churn_model"});
    model_shas.push_back(
        Json({"model", "show", "CHURN/churn_model"})["manifest"]["model"]["sha256"]);
  }
  ASSERT_EQ(boards[0]["trials"].size(), 6u);
  ASSERT_EQ(boards[1]["trials"].size(), boards[0]["trials"].size());
  EXPECT_EQ(boards[1]["best_trial"], boards[0]["best_trial"]);
  for (size_t at = 0; at < boards[0]["trials"].size(); ++at) {
    const nlohmann::json& first = boards[0]["trials"][at];
    const nlohmann::json& second = boards[1]["trials"][at];
    EXPECT_EQ(second["number"], first["number"]);
    EXPECT_EQ(second["algorithm"], first["algorithm"]);
    EXPECT_EQ(second["status"], first["status"]);
    EXPECT_EQ(second["hyper"], first["hyper"]) << "trial " << first["number"];
    EXPECT_EQ(second["cv_mean"], first["cv_mean"]) << "trial " << first["number"];
    EXPECT_EQ(second["fold_scores"], first["fold_scores"]) << "trial " << first["number"];
  }
  EXPECT_EQ(boards[1]["summary"]["holdout_score"], boards[0]["summary"]["holdout_score"]);
  ASSERT_EQ(model_shas[0].size(), 64u);
  EXPECT_EQ(model_shas[1], model_shas[0]);
}

// Bad specs, references and inputs fail with exit code 1 (2 for a flag CLI11 rejects), a message
// naming what is wrong, and no stored task, model version or output file.
TEST_F(MlCliTest, BadInputFailsWithAUsefulMessageAndLeavesNothingBehind) {
  InitWithProject();
  // A small table: churn depends on tenure and plan; account_id is an identifier.
  std::string csv = "account_id,tenure,spend,plan,churned\n";
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uniform(0, 1);
  for (int row = 0; row < 300; ++row) {
    const int tenure = static_cast<int>(rng() % 60);
    const char* plan = row % 3 == 0 ? "basic" : row % 3 == 1 ? "plus" : "pro";
    const double risk = 0.8 - tenure / 80.0 - (row % 3 == 2 ? 0.3 : 0.0);
    csv += std::to_string(5000 + row) + "," + std::to_string(tenure) + "," +
           std::to_string(10 + 50 * uniform(rng)) + "," + plan + "," +
           (uniform(rng) < risk ? "1" : "0") + "\n";
  }
  const fs::path accounts = WriteFile("accounts.csv", csv);
  Ok({"dataset", "import", "CHURN/accounts", accounts.string()});

  // An unknown key, at the top level and nested: the error names its path and the allowed keys.
  const Result top_key = Run(
      {"ml", "create", "CHURN", "bad", "--spec",
       WriteFile("bad1.yaml", "input: CHURN/accounts\ntarget: churned\ntaget: churn\n").string()});
  EXPECT_EQ(top_key.exit_code, 1);
  EXPECT_TRUE(Contains(top_key.err, "spec.taget: unknown key")) << top_key.err;
  EXPECT_TRUE(Contains(top_key.err, "bad1.yaml")) << top_key.err;
  const Result nested_key = Run(
      {"ml", "create", "CHURN", "bad", "--spec",
       WriteFile("bad2.yaml", "input: CHURN/accounts\ntarget: churned\nsearch: {max_trails: 3}\n")
           .string()});
  EXPECT_EQ(nested_key.exit_code, 1);
  EXPECT_TRUE(Contains(nested_key.err, "spec.search.max_trails: unknown key")) << nested_key.err;
  EXPECT_TRUE(Contains(nested_key.err, "max_trials")) << nested_key.err;  // the fix
  // A target the dataset lacks.
  const Result no_target =
      Run({"ml", "create", "CHURN", "bad", "--spec",
           WriteFile("bad3.yaml", "input: CHURN/accounts\ntarget: will_churn\n").string()});
  EXPECT_EQ(no_target.exit_code, 1);
  EXPECT_TRUE(Contains(no_target.err, "has no column \"will_churn\"")) << no_target.err;
  EXPECT_TRUE(Contains(no_target.err, "churned")) << no_target.err;  // the columns it has
  EXPECT_EQ(Json({"ml", "list", "CHURN"}).size(), 0u);

  // A good task, trained on the linear model alone (fast).
  Ok({"ml", "create", "CHURN", "accounts", "--spec",
      WriteFile("good.yaml",
                "input: CHURN/accounts\ntarget: churned\ntype: binary\npositive_class: \"1\"\n"
                "algorithms: [linear]\nsearch: {max_trials: 2, budget_seconds: 0}\nseed: 7\n")
          .string()});
  const Result unknown_task = Run({"ml", "train", "CHURN", "nosuch"});
  EXPECT_EQ(unknown_task.exit_code, 1);
  EXPECT_TRUE(Contains(unknown_task.err, "has no ML task \"nosuch\"")) << unknown_task.err;
  EXPECT_TRUE(Contains(unknown_task.err, "accounts")) << unknown_task.err;  // the tasks it has
  const Result zero_trials = Run({"ml", "train", "CHURN", "accounts", "--max-trials", "0"});
  EXPECT_EQ(zero_trials.exit_code, 2) << zero_trials.err;
  EXPECT_TRUE(Contains(zero_trials.err, "--max-trials")) << zero_trials.err;
  const Result untrained = Run({"ml", "deploy", "CHURN", "accounts/best", "--saved-model", "m"});
  EXPECT_EQ(untrained.exit_code, 1);
  EXPECT_TRUE(Contains(untrained.err, "has not been trained yet")) << untrained.err;
  const nlohmann::json trained = Json({"ml", "train", "CHURN", "accounts", "--threads", "1"});
  ASSERT_EQ(trained["status"], "complete") << trained.dump(2);

  const Result no_trial =
      Run({"ml", "deploy", "CHURN", "accounts/999", "--saved-model", "accounts_model"});
  EXPECT_EQ(no_trial.exit_code, 1);
  EXPECT_TRUE(Contains(no_trial.err, "has no trial 999")) << no_trial.err;
  const Result bad_trial =
      Run({"ml", "deploy", "CHURN", "accounts/first", "--saved-model", "accounts_model"});
  EXPECT_EQ(bad_trial.exit_code, 1);
  EXPECT_TRUE(Contains(bad_trial.err, "invalid trial \"first\"")) << bad_trial.err;
  const Result show_no_trial = Run({"ml", "show", "CHURN", "accounts/999"});
  EXPECT_EQ(show_no_trial.exit_code, 1);
  EXPECT_TRUE(Contains(show_no_trial.err, "has no trial 999")) << show_no_trial.err;
  EXPECT_EQ(Json({"model", "list", "CHURN"}).size(), 0u);

  Ok({"ml", "deploy", "CHURN", "accounts/best", "--saved-model", "accounts_model"});
  const fs::path output = dir_ / "scored.csv";
  const Csv input = ParseCsv(Slurp(accounts));
  const fs::path no_tenure = WriteFile("no_tenure.csv", WithoutColumn(input, "tenure"));
  const Result missing = Run({"score", "CHURN/accounts_model", "--input", no_tenure.string(),
                              "--output", output.string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "\"tenure\" is missing")) << missing.err;
  EXPECT_FALSE(fs::exists(output));
  const Result unknown_model =
      Run({"score", "CHURN/nope", "--input", accounts.string(), "--output", output.string()});
  EXPECT_EQ(unknown_model.exit_code, 1);
  EXPECT_TRUE(Contains(unknown_model.err, "no saved model \"nope\"")) << unknown_model.err;
  EXPECT_TRUE(Contains(unknown_model.err, "accounts_model")) << unknown_model.err;
  EXPECT_FALSE(fs::exists(output));
  const Result unknown_version = Run({"score", "CHURN/accounts_model@v9", "--input",
                                      accounts.string(), "--output", output.string()});
  EXPECT_EQ(unknown_version.exit_code, 1);
  EXPECT_TRUE(Contains(unknown_version.err, "no version v9")) << unknown_version.err;
  EXPECT_FALSE(fs::exists(output));
  const Result unknown_input = Run(
      {"score", "CHURN/accounts_model", "--input", "CHURN/nosuch", "--output", output.string()});
  EXPECT_EQ(unknown_input.exit_code, 1);
  EXPECT_TRUE(Contains(unknown_input.err, "CHURN/nosuch does not exist")) << unknown_input.err;
  EXPECT_FALSE(fs::exists(output));

  // A failed score leaves an earlier output as it was; a good one then replaces it.
  std::ofstream(output) << "earlier\n";
  EXPECT_EQ(Run({"score", "CHURN/accounts_model", "--input", no_tenure.string(), "--output",
                 output.string()})
                .exit_code,
            1);
  EXPECT_EQ(Slurp(output), "earlier\n");
  Ok({"score", "CHURN/accounts_model", "--input", accounts.string(), "--output", output.string()});
  const Csv scored = ParseCsv(Slurp(output));
  EXPECT_EQ(scored.header, (std::vector<std::string>{"account_id", "prediction", "probability"}));
  EXPECT_EQ(scored.rows.size(), 300u);

  // Only the good task, training and model version reached the audit trail, and it verifies.
  const Result verify = Run({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  const std::multiset<std::string> actions = Actions(Json({"audit", "log"}));
  EXPECT_EQ(actions.count("ml_task.create"), 1u);
  EXPECT_EQ(actions.count("ml_task.train"), 1u);
  EXPECT_EQ(actions.count("model.version.create"), 1u);
}

}  // namespace
