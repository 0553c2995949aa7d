#include "ml/model_report.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/files.h"
#include "gtest/gtest.h"
#include "ml/svg_chart.h"

namespace assay::ml {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Fixtures: complete documents for the three task types, with curves from closed forms so the
// numbers are plausible and reproducible.

double Round4(double value) { return std::round(value * 10000) / 10000; }

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

const char kSha[] = "3f2a9c0d4b5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";
const char kDataSha[] = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

json Environment() {
  return {{"assay_version", "0.4.0"},
          {"assay_commit", "797b6641c0ffee00000000000000000000000000"},
          {"xgboost_version", "1.7.4"},
          {"compiler", "GCC 12.2.0"},
          {"os", "Debian GNU/Linux 12 (bookworm), x86_64"},
          {"other", {{"threads", "2"}}}};
}

json Lineage(int64_t rows) {
  return {
      {"dataset",
       {{"ref", "CHURN/customers_prepared"},
        {"version", 3},
        {"sha256", kDataSha},
        {"rows", rows},
        {"columns", 12}}},
      {"split",
       {{"method", "stratified 5-fold CV on the training rows + 20% holdout"},
        {"cv_folds", 5},
        {"holdout_fraction", 0.2},
        {"stratified", true},
        {"train_rows", rows - rows / 5},
        {"holdout_rows", rows / 5},
        {"seed", 42}}},
      {"task_spec_sha256", kSha},
      {"upstream_runs", json::array({{{"run_id", "run-0007"},
                                      {"recipe", "clean_customers"},
                                      {"recipe_type", "prepare"},
                                      {"inputs", {"CHURN/customers@v2"}},
                                      {"outputs", {"CHURN/customers_clean@v2"}},
                                      {"finished_at_utc", "2026-11-30T10:02:11Z"}},
                                     {{"run_id", "run-0009"},
                                      {"recipe", "join_usage"},
                                      {"recipe_type", "join"},
                                      {"inputs", {"CHURN/customers_clean@v2", "CHURN/usage@v5"}},
                                      {"outputs", {"CHURN/customers_prepared@v3"}},
                                      {"finished_at_utc", "2026-11-30T10:04:40Z"}}})}};
}

json Features() {
  return json::array({{{"column", "customer_id"},
                       {"type", "string"},
                       {"role", "identifier"},
                       {"handling", "none"},
                       {"dropped", true},
                       {"reason", "identifier: 7,043 distinct values in 7,043 rows"}},
                      {{"column", "tenure_months"},
                       {"type", "int64"},
                       {"role", "numeric"},
                       {"handling", "median imputation, standardized"}},
                      {{"column", "monthly_charges"},
                       {"type", "float64"},
                       {"role", "numeric"},
                       {"handling", "median imputation, standardized"}},
                      {{"column", "total_charges"},
                       {"type", "float64"},
                       {"role", "numeric"},
                       {"handling", "median imputation (11 missing), standardized"}},
                      {{"column", "contract"},
                       {"type", "string"},
                       {"role", "categorical"},
                       {"handling", "one-hot (3 levels)"}},
                      {{"column", "payment_method"},
                       {"type", "string"},
                       {"role", "categorical"},
                       {"handling", "one-hot top-4 + other"}},
                      {{"column", "region"},
                       {"type", "string"},
                       {"role", "categorical"},
                       {"handling", "out-of-fold target encoding"}},
                      {{"column", "signup_date"},
                       {"type", "date"},
                       {"role", "date"},
                       {"handling", "year, month, day of week, elapsed days"}},
                      {{"column", "support_calls"},
                       {"type", "int64"},
                       {"role", "numeric"},
                       {"handling", "median imputation, standardized"}},
                      {{"column", "contact_notes"},
                       {"type", "string"},
                       {"role", "excluded"},
                       {"handling", "none"},
                       {"dropped", true},
                       {"reason", "PHI-tagged column; not allowed by the task spec"}}});
}

json Leaderboard(const std::string& metric, bool greater_is_better) {
  return {{"metric", metric},
          {"greater_is_better", greater_is_better},
          {"trials", json::array({{{"trial_id", "t03"},
                                   {"algorithm", "xgboost gbtree"},
                                   {"params", "eta=0.05 max_depth=4 subsample=0.8 rounds=412"},
                                   {"cv_mean", 0.8471},
                                   {"cv_std", 0.0093},
                                   {"status", "completed"}},
                                  {{"trial_id", "t01"},
                                   {"algorithm", "logistic regression"},
                                   {"params", "l2=1.0"},
                                   {"cv_mean", 0.8412},
                                   {"cv_std", 0.0101},
                                   {"status", "completed"}},
                                  {{"trial_id", "t05"},
                                   {"algorithm", "xgboost random forest"},
                                   {"params", "trees=300 max_depth=8 colsample=0.6"},
                                   {"cv_mean", 0.8325},
                                   {"cv_std", 0.0117},
                                   {"status", "completed"}},
                                  {{"trial_id", "t02"},
                                   {"algorithm", "xgboost gbtree"},
                                   {"params", "eta=0.3 max_depth=10"},
                                   {"cv_mean", 0.8107},
                                   {"cv_std", 0.0142},
                                   {"status", "pruned"},
                                   {"message", "successive halving, rung 1"}},
                                  {{"trial_id", "t04"},
                                   {"algorithm", "xgboost gblinear"},
                                   {"params", "lambda=0.01"},
                                   {"cv_mean", nullptr},
                                   {"cv_std", nullptr},
                                   {"status", "failed"},
                                   {"message", "time budget exhausted"}}})}};
}

json BinaryDocument() {
  json doc;
  doc["schema_version"] = 1;
  doc["title"] = {{"project", "CHURN"},
                  {"model_name", "churn_model"},
                  {"model_version", 2},
                  {"task_type", "binary"},
                  {"target", "churned"},
                  {"positive_class", "yes"},
                  {"generated_at_utc", "2026-12-01T09:30:00Z"},
                  {"assay_version", "0.4.0"},
                  {"version_sha256", kSha}};
  doc["purpose"] =
      "Rank active customers by their risk of cancelling within 90 days, so the retention team "
      "can call the top decile each month.";
  doc["lineage"] = Lineage(7043);
  doc["features"] = Features();
  doc["model"] = {{"trial_id", "t03"},
                  {"algorithm", "xgboost gbtree"},
                  {"hyperparameters",
                   {{"eta", 0.05},
                    {"max_depth", 4},
                    {"subsample", 0.8},
                    {"colsample_bytree", 0.9},
                    {"min_child_weight", 1},
                    {"lambda", 1.0},
                    {"num_boost_round", 412},
                    {"tree_method", "hist"},
                    {"early_stopping", true}}},
                  {"optimized_metric", "auc"},
                  {"selection", "best CV mean AUC of 5 trials (successive halving, 60 s budget)"},
                  {"calibration", "none"}};
  doc["leaderboard"] = Leaderboard("auc", true);
  doc["metrics"] = json::array({
      {{"name", "auc"}, {"cv_mean", 0.8471}, {"cv_std", 0.0093}, {"holdout", 0.8436}},
      {{"name", "pr_auc"}, {"cv_mean", 0.6612}, {"cv_std", 0.0188}, {"holdout", 0.6540}},
      {{"name", "log_loss"}, {"cv_mean", 0.4123}, {"cv_std", 0.0110}, {"holdout", 0.4187}},
      {{"name", "brier"}, {"cv_mean", 0.1354}, {"cv_std", 0.0041}, {"holdout", 0.1372}},
      {{"name", "f1"}, {"cv_mean", 0.6301}, {"cv_std", 0.0150}, {"holdout", 0.6245}},
      {{"name", "mcc"}, {"cv_mean", 0.4822}, {"cv_std", 0.0201}, {"holdout", 0.4760}},
      {{"name", "lift_at_10"}, {"cv_mean", 2.9120}, {"cv_std", 0.1402}, {"holdout", nullptr}},
  });
  // Binormal ROC with separation 1.45 (AUC = Phi(1.45 / sqrt 2) ~ 0.847) and prevalence 0.265.
  const double separation = 1.45, prevalence = 0.265;
  json roc = json::array({{{"fpr", 0.0}, {"tpr", 0.0}}});
  json pr = json::array({{{"recall", 0.0}, {"precision", 1.0}}});
  for (int step = 0; step <= 40; ++step) {
    const double t = 3.5 - step * 0.2;
    const double fpr = 1 - NormalCdf(t), tpr = 1 - NormalCdf(t - separation);
    roc.push_back({{"fpr", Round4(fpr)}, {"tpr", Round4(tpr)}, {"threshold", Round4(t)}});
    const double precision = prevalence * tpr / (prevalence * tpr + (1 - prevalence) * fpr);
    pr.push_back({{"recall", Round4(tpr)}, {"precision", Round4(precision)}});
  }
  roc.push_back({{"fpr", 1.0}, {"tpr", 1.0}});
  doc["roc_curve"] = {{"auc", 0.8436}, {"points", roc}, {"evaluated_on", "holdout, 1,408 rows"}};
  doc["pr_curve"] = {{"average_precision", 0.6540},
                     {"positive_rate", prevalence},
                     {"points", pr},
                     {"evaluated_on", "holdout, 1,408 rows"}};
  json bins = json::array();
  for (int bin = 0; bin < 10; ++bin) {
    const double predicted = 0.05 + 0.1 * bin;
    bins.push_back({{"mean_predicted", Round4(predicted)},
                    {"observed_rate", Round4(predicted + 0.04 * std::sin(bin))},
                    {"count", 300 - 25 * bin}});
  }
  doc["calibration_curve"] = {
      {"bins", bins}, {"binning", "10 equal-width bins"}, {"evaluated_on", "holdout"}};
  json gains = json::array({{{"fraction", 0.0}, {"gain", 0.0}}});
  for (int decile = 1; decile <= 10; ++decile) {
    const double fraction = decile / 10.0;
    const double gain = 1 - std::pow(1 - fraction, 2.6);
    gains.push_back(
        {{"fraction", fraction}, {"gain", Round4(gain)}, {"lift", Round4(gain / fraction)}});
  }
  doc["lift_chart"] = {{"points", gains}, {"evaluated_on", "holdout"}};
  doc["confusion_matrix"] = {{"labels", {"no", "yes"}},
                             {"counts", {{842, 193}, {98, 275}}},
                             {"threshold", 0.3127},
                             {"threshold_method", "maximum F1 on the out-of-fold predictions"},
                             {"evaluated_on", "holdout, 1,408 rows"}};
  doc["importance"] = {
      {"features",
       json::array({{{"column", "contract"}, {"mean_abs_shap", 0.6123}, {"gain", 412.5}},
                    {{"column", "tenure_months"}, {"mean_abs_shap", 0.4871}, {"gain", 301.2}},
                    {{"column", "monthly_charges"}, {"mean_abs_shap", 0.2210}, {"gain", 155.0}},
                    {{"column", "payment_method"}, {"mean_abs_shap", 0.1502}, {"gain", 80.4}},
                    {{"column", "total_charges"}, {"mean_abs_shap", 0.1498}, {"gain", 97.1}},
                    {{"column", "support_calls"}, {"mean_abs_shap", 0.0911}, {"gain", 40.2}},
                    {{"column", "region"}, {"mean_abs_shap", 0.0420}, {"gain", 12.8}},
                    {{"column", "signup_date"}, {"mean_abs_shap", 0.0103}, {"gain", 3.3}}})},
      {"note", "SHAP values are on the log-odds scale, on the holdout rows."}};
  json tenure = json::array();
  for (int month = 0; month <= 72; month += 8) {
    tenure.push_back(
        {{"value", month}, {"mean_prediction", Round4(0.45 * std::exp(-month / 24.0) + 0.08)}});
  }
  doc["partial_dependence"] = {
      {"prediction_label", "mean P(churned = yes)"},
      {"features",
       json::array(
           {{{"column", "tenure_months"}, {"kind", "numeric"}, {"points", tenure}},
            {{"column", "contract"},
             {"kind", "categorical"},
             {"points", json::array({{{"value", "month-to-month"}, {"mean_prediction", 0.4271}},
                                     {{"value", "one year"}, {"mean_prediction", 0.1124}},
                                     {{"value", "two year"}, {"mean_prediction", 0.0287}}})}}})}};
  doc["subpopulations"] = {
      {"column", "region"},
      {"metrics", {"auc", "recall", "precision"}},
      {"evaluated_on", "holdout"},
      {"groups",
       json::array({{{"value", "north"},
                     {"rows", 402},
                     {"positives", 101},
                     {"values", {{"auc", 0.8512}, {"recall", 0.7327}, {"precision", 0.5873}}}},
                    {{"value", "south"},
                     {"rows", 377},
                     {"positives", 104},
                     {"values", {{"auc", 0.8390}, {"recall", 0.7404}, {"precision", 0.5661}}}},
                    {{"value", "east"},
                     {"rows", 351},
                     {"positives", 92},
                     {"values", {{"auc", 0.8477}, {"recall", 0.7283}, {"precision", 0.5583}}}},
                    {{"value", "islands"},
                     {"rows", 12},
                     {"positives", 0},
                     {"values", {{"auc", nullptr}, {"recall", 0.0}, {"precision", 0.0}}}}})}};
  doc["environment"] = Environment();
  return doc;
}

json RegressionDocument() {
  json doc = BinaryDocument();
  for (const char* key : {"roc_curve", "pr_curve", "calibration_curve", "lift_chart",
                          "confusion_matrix", "subpopulations"}) {
    doc.erase(key);
  }
  doc["title"]["task_type"] = "regression";
  doc["title"]["target"] = "monthly_spend";
  doc["title"]["model_name"] = "spend_model";
  doc["title"].erase("positive_class");
  doc["purpose"] = "";
  doc["model"]["optimized_metric"] = "rmse";
  doc["leaderboard"] = Leaderboard("rmse", false);
  doc["metrics"] = json::array({
      {{"name", "rmse"}, {"cv_mean", 12.41}, {"cv_std", 0.52}, {"holdout", 12.88}},
      {{"name", "mae"}, {"cv_mean", 9.02}, {"cv_std", 0.31}, {"holdout", 9.20}},
      {{"name", "r2"}, {"cv_mean", 0.7312}, {"cv_std", 0.0201}, {"holdout", 0.7205}},
      {{"name", "mape"}, {"cv_mean", 0.1420}, {"cv_std", 0.0100}, {"holdout", nullptr}},
  });
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 10.0);
  json points = json::array();
  for (int row = 0; row < 120; ++row) {
    const double actual = 20 + row * 0.9;
    points.push_back({{"actual", Round4(actual)}, {"predicted", Round4(actual + noise(rng))}});
  }
  doc["residuals"] = {{"points", points}, {"evaluated_on", "holdout, 120-row sample"}};
  doc["partial_dependence"]["prediction_label"] = "mean predicted monthly_spend";
  doc["partial_dependence"]["features"][0]["points"] =
      json::array({{{"value", 0}, {"mean_prediction", 61.2}},
                   {{"value", 24}, {"mean_prediction", 70.4}},
                   {{"value", 48}, {"mean_prediction", 84.9}},
                   {{"value", 72}, {"mean_prediction", 88.0}}});
  doc["partial_dependence"]["features"][1]["points"] =
      json::array({{{"value", "month-to-month"}, {"mean_prediction", 64.5}},
                   {{"value", "one year"}, {"mean_prediction", 71.0}},
                   {{"value", "two year"}, {"mean_prediction", 79.3}}});
  return doc;
}

json MulticlassDocument() {
  json doc = RegressionDocument();
  doc.erase("residuals");
  doc["title"]["task_type"] = "multiclass";
  doc["title"]["target"] = "plan";
  doc["title"]["model_name"] = "plan_model";
  doc["model"]["optimized_metric"] = "macro_f1";
  doc["leaderboard"] = Leaderboard("macro_f1", true);
  doc["metrics"] = json::array({
      {{"name", "accuracy"}, {"cv_mean", 0.7710}, {"cv_std", 0.0120}, {"holdout", 0.7650}},
      {{"name", "macro_f1"}, {"cv_mean", 0.7012}, {"cv_std", 0.0150}, {"holdout", 0.6951}},
      {{"name", "auc"}, {"cv_mean", 0.9012}, {"cv_std", 0.0061}, {"holdout", 0.8977}},
  });
  doc["per_class_metrics"] = {{"classes", json::array({{{"class", "basic"},
                                                        {"support", 610},
                                                        {"precision", 0.8120},
                                                        {"recall", 0.8561},
                                                        {"f1", 0.8335},
                                                        {"auc", 0.9301}},
                                                       {{"class", "plus"},
                                                        {"support", 502},
                                                        {"precision", 0.7411},
                                                        {"recall", 0.7012},
                                                        {"f1", 0.7206},
                                                        {"auc", 0.8810}},
                                                       {{"class", "premium"},
                                                        {"support", 296},
                                                        {"precision", 0.5712},
                                                        {"recall", 0.5101},
                                                        {"f1", 0.5389},
                                                        {"auc", 0.8820}}})}};
  doc["confusion_matrix"] = {{"labels", {"basic", "plus", "premium"}},
                             {"counts", {{522, 70, 18}, {98, 352, 52}, {23, 122, 151}}},
                             {"evaluated_on", "holdout, 1,408 rows"}};
  doc["subpopulations"] = {
      {"column", "region"},
      {"metrics", {"accuracy", "macro_f1"}},
      {"groups", json::array({{{"value", "north"},
                               {"rows", 402},
                               {"values", {{"accuracy", 0.7811}, {"macro_f1", 0.7102}}}},
                              {{"value", "south"},
                               {"rows", 377},
                               {"values", {{"accuracy", 0.7520}, {"macro_f1", 0.6890}}}}})}};
  return doc;
}

std::string Render(const json& doc) {
  absl::StatusOr<std::string> html = RenderModelDocument(doc);
  EXPECT_TRUE(html.ok()) << html.status();
  return html.ok() ? *html : std::string();
}

size_t CountOf(const std::string& haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

// Checks that every element is closed in order (HTML void elements and self-closed SVG
// elements aside). Returns the first problem, or "" when the markup nests properly.
std::string CheckNesting(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "br", "hr", "img", "link", "input"};
  std::vector<std::string> open;
  size_t pos = 0;
  while ((pos = html.find('<', pos)) != std::string::npos) {
    const size_t end = html.find('>', pos);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(pos);
    const std::string tag = html.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    if (tag.empty() || tag[0] == '!') continue;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) {
        return "</" + name + "> closes <" + (open.empty() ? "nothing" : open.back()) + ">";
      }
      open.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \n/"));
    if (tag.back() == '/' || kVoid.count(name) > 0) continue;
    open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> is never closed";
  return "";
}

// Every reference the file could fetch or run: none may appear.
void ExpectNoExternalReferences(const std::string& html) {
  for (const char* needle : {"http://", "https://", "src=", "url(", "@import", "<link", "<script",
                             "<img", "<iframe", "<object", "<embed", "xlink:href", "@font-face"}) {
    EXPECT_EQ(html.find(needle), std::string::npos) << needle;
  }
}

std::filesystem::path GoldenDir() {
  // ctest sets ASSAY_TEST_DATA; the compiled-in source path serves a binary run by hand.
  const char* data_dir = std::getenv("ASSAY_TEST_DATA");
  if (data_dir == nullptr) data_dir = ASSAY_TEST_DATA_DIR;
  return std::filesystem::path(data_dir) / "model_report";
}

// Expects RenderModelDocument to fail with INVALID_ARGUMENT mentioning `fragment`.
void ExpectInvalid(const json& doc, const std::string& fragment) {
  absl::StatusOr<std::string> html = RenderModelDocument(doc);
  ASSERT_FALSE(html.ok()) << "expected an error mentioning " << fragment;
  EXPECT_EQ(html.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(html.status().message()).find(fragment), std::string::npos)
      << html.status();
}

// ---------------------------------------------------------------------------------------------
// Complete documents.

TEST(ModelReport, BinaryDocumentHasEverySectionInOrder) {
  const std::string html = Render(BinaryDocument());
  const std::vector<std::string> ids = {
      "purpose",    "lineage",        "features",         "algorithm", "leaderboard",
      "metrics",    "roc-pr",         "calibration-lift", "confusion", "importance",
      "dependence", "subpopulations", "environment"};
  size_t last = 0;
  for (const std::string& id : ids) {
    const size_t at = html.find("<section id=\"" + id + "\">");
    ASSERT_NE(at, std::string::npos) << id;
    EXPECT_GT(at, last) << id << " is out of order";
    last = at;
    EXPECT_EQ(CountOf(html, "<a href=\"#" + id + "\">"), 1u) << "table of contents entry " << id;
  }
  EXPECT_EQ(html.find("id=\"residuals\""), std::string::npos);
  EXPECT_EQ(CheckNesting(html), "");
  // ROC, PR, calibration, gains, importance and the numeric partial dependence are charts,
  // and so is the categorical one.
  EXPECT_EQ(CountOf(html, "<svg "), 7u);
  // Title block facts.
  EXPECT_NE(html.find("churn_model"), std::string::npos);
  EXPECT_NE(html.find(kSha), std::string::npos);
  EXPECT_NE(html.find("2026-12-01T09:30:00Z"), std::string::npos);
  // CV mean +- std next to holdout, fixed at four decimals.
  EXPECT_NE(html.find("0.8471 &plusmn; 0.0093</td><td class=\"num\">0.8436"), std::string::npos);
  // The threshold and how it was chosen.
  EXPECT_NE(html.find("At threshold <strong>0.3127</strong>"), std::string::npos);
  EXPECT_NE(html.find("maximum F1 on the out-of-fold predictions"), std::string::npos);
  // The chosen trial is marked; the failed one shows its message and a dash for the score.
  EXPECT_NE(html.find("completed (chosen)"), std::string::npos);
  EXPECT_NE(html.find("failed: time budget exhausted"), std::string::npos);
  // Dropped columns carry their reason.
  EXPECT_NE(html.find("PHI-tagged column; not allowed by the task spec"), std::string::npos);
  EXPECT_NE(html.find("10 input columns: 8 used, 2 dropped."), std::string::npos);
  // Print layout.
  EXPECT_NE(html.find("@page { size: A4;"), std::string::npos);
  EXPECT_NE(html.find("break-before: page"), std::string::npos);
  EXPECT_NE(html.find("tr { break-inside: avoid;"), std::string::npos);
}

TEST(ModelReport, BinaryMatchesGolden) {
  // The golden changes only through an explicit regeneration step:
  //   ASSAY_REGENERATE_GOLDENS=1 ./assay_ml_report_test --gtest_filter='ModelReport.Binary*'
  // which also writes the input document next to it, as an example for producers.
  const std::string html = Render(BinaryDocument());
  const std::filesystem::path dir = GoldenDir();
  const char* regenerate = std::getenv("ASSAY_REGENERATE_GOLDENS");
  if (regenerate != nullptr && std::string(regenerate) == "1") {
    std::filesystem::create_directories(dir);
    ASSERT_TRUE(common::AtomicWriteFile(dir / "binary.html", html).ok());
    ASSERT_TRUE(common::AtomicWriteFile(dir / "binary.json", BinaryDocument().dump(2) + "\n").ok());
  }
  auto golden = common::ReadFile(dir / "binary.html");
  ASSERT_TRUE(golden.ok()) << golden.status() << " (regenerate with ASSAY_REGENERATE_GOLDENS=1)";
  EXPECT_TRUE(html == *golden) << "the rendering of the binary fixture changed; if intended, "
                                  "regenerate with ASSAY_REGENERATE_GOLDENS=1 and review the diff";
  // The stored example input renders to the golden too.
  auto example = common::ReadFile(dir / "binary.json");
  ASSERT_TRUE(example.ok()) << example.status();
  EXPECT_EQ(json::parse(*example), BinaryDocument());
}

TEST(ModelReport, RegressionDocumentHasRegressionChartsOnly) {
  const std::string html = Render(RegressionDocument());
  EXPECT_NE(html.find("<section id=\"residuals\">"), std::string::npos);
  for (const char* absent : {"id=\"roc-pr\"", "id=\"calibration-lift\"", "id=\"confusion\"",
                             "href=\"#roc-pr\"", "positive class"}) {
    EXPECT_EQ(html.find(absent), std::string::npos) << absent;
  }
  EXPECT_NE(html.find("Predicted against actual for 120 rows"), std::string::npos);
  EXPECT_NE(html.find("Residuals against the prediction"), std::string::npos);
  // An empty purpose is stated, not left blank.
  EXPECT_NE(html.find("The task spec states no purpose."), std::string::npos);
  // Lower-is-better metric named in the leaderboard.
  EXPECT_NE(html.find("(lower is better)"), std::string::npos);
  // The subpopulation section was removed: shown as not available.
  EXPECT_NE(html.find("The subpopulation analysis: not available for this model."),
            std::string::npos);
  EXPECT_EQ(CheckNesting(html), "");
}

TEST(ModelReport, MulticlassDocumentHasPerClassMetricsAndSquareMatrix) {
  const std::string html = Render(MulticlassDocument());
  EXPECT_NE(html.find("<h3>Per-class metrics</h3>"), std::string::npos);
  EXPECT_NE(html.find("AUC (one vs rest)"), std::string::npos);
  EXPECT_NE(html.find("<section id=\"confusion\">"), std::string::npos);
  EXPECT_EQ(html.find("At threshold"), std::string::npos);
  EXPECT_EQ(html.find("id=\"roc-pr\""), std::string::npos);
  EXPECT_EQ(html.find("id=\"residuals\""), std::string::npos);
  EXPECT_EQ(html.find("<th class=\"num\">Positives</th>"), std::string::npos);
  // 3 x 3 counts, the diagonal in bold, the row percentage below each count.
  EXPECT_NE(html.find("<strong>522</strong><br><span>85.6%</span>"), std::string::npos);
  EXPECT_NE(html.find(">122<br><span>41.2%</span>"), std::string::npos);
  EXPECT_EQ(CheckNesting(html), "");
}

TEST(ModelReport, DocumentationExampleRenders) {
  // docs/formats/model-document.md carries an example; it must stay a valid document.
  const std::filesystem::path doc_path = GoldenDir().parent_path().parent_path().parent_path() /
                                         "docs" / "formats" / "model-document.md";
  auto markdown = common::ReadFile(doc_path);
  ASSERT_TRUE(markdown.ok()) << markdown.status();
  const size_t start = markdown->find("```json\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = markdown->find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  const json example = json::parse(markdown->substr(start + 8, end - start - 8));
  const std::string html = Render(example);
  EXPECT_NE(html.find("The calibration curve: not available for this model (calibration was not "
                      "computed for this version)."),
            std::string::npos);
  EXPECT_NE(html.find("The gains and lift chart: not available for this model."),
            std::string::npos);
  EXPECT_NE(html.find("Partial dependence: not available for this model."), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Validation.

TEST(ModelReport, MissingRequiredFieldsNameTheirPath) {
  struct Case {
    std::string pointer;  // JSON pointer of the member to remove
    std::string message;  // expected fragment of the error
  };
  const std::vector<Case> cases = {
      {"/schema_version", "schema_version is required"},
      {"/title/version_sha256", "title.version_sha256 is required"},
      {"/title/positive_class", "title.positive_class is required"},
      {"/purpose", "purpose is required"},
      {"/lineage/dataset/sha256", "lineage.dataset.sha256 is required"},
      {"/lineage/split/holdout_rows", "lineage.split.holdout_rows is required"},
      {"/lineage/upstream_runs/1/recipe", "lineage.upstream_runs[1].recipe is required"},
      {"/features/0/reason", "features[0].reason is required"},
      {"/features/3/role", "features[3].role is required"},
      {"/model/hyperparameters", "model.hyperparameters is required"},
      {"/leaderboard/trials/2/cv_mean", "leaderboard.trials[2].cv_mean is required"},
      {"/metrics/1/holdout", "metrics[1].holdout is required"},
      {"/roc_curve", "roc_curve is required for binary tasks"},
      {"/pr_curve/points/3/precision", "pr_curve.points[3].precision is required"},
      {"/confusion_matrix/threshold", "confusion_matrix.threshold is required"},
      {"/confusion_matrix/threshold_method", "confusion_matrix.threshold_method is required"},
      {"/importance/features/1/mean_abs_shap", "importance.features[1].mean_abs_shap is required"},
      {"/subpopulations/groups/0/positives", "subpopulations.groups[0].positives is required"},
      {"/subpopulations/groups/2/values/recall",
       "subpopulations.groups[2].values.recall is required"},
      {"/environment/xgboost_version", "environment.xgboost_version is required"},
      {"/environment", "environment is required"},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.pointer);
    json doc = BinaryDocument();
    const json::json_pointer pointer(test.pointer);
    doc[pointer.parent_pointer()].erase(pointer.back());
    ExpectInvalid(doc, "model document: " + test.message);
  }
  json multiclass = MulticlassDocument();
  multiclass.erase("per_class_metrics");
  ExpectInvalid(multiclass, "per_class_metrics is required for multiclass tasks");
}

TEST(ModelReport, RejectsWrongTypesRangesAndUnknownFields) {
  auto with = [](const std::string& pointer, json value) {
    json doc = BinaryDocument();
    doc[json::json_pointer(pointer)] = std::move(value);
    return doc;
  };
  ExpectInvalid(with("/title/model_version", "2"), "title.model_version must be an integer");
  ExpectInvalid(with("/title/model_version", 0), "title.model_version must be >= 1");
  ExpectInvalid(with("/title/task_type", "ranking"), "title.task_type must be \"binary\"");
  ExpectInvalid(with("/title/version_sha256", "abc"), "title.version_sha256 must be a SHA-256");
  ExpectInvalid(with("/lineage/dataset/rows", -1), "lineage.dataset.rows must be >= 0");
  ExpectInvalid(with("/roc_curve/points/2/tpr", 1.5), "roc_curve.points[2].tpr must be in [0, 1]");
  ExpectInvalid(with("/metrics/0/cv_mean", "high"), "metrics[0].cv_mean must be a number or null");
  ExpectInvalid(with("/features", json::array()), "features must have at least 1 element");
  ExpectInvalid(with("/lineage/dataset/verison", 3),
                "lineage.dataset.verison is not a field of this schema");
  ExpectInvalid(with("/schema_version", 2), "schema_version is 2");
  ExpectInvalid(with("/confusion_matrix/counts", {{1, 2}, {3}}),
                "confusion_matrix.counts[1] must be an array of 2 counts");
  ExpectInvalid(with("/confusion_matrix/labels", {"a", "b", "c"}),
                "confusion_matrix.labels must have exactly 2 labels");
  ExpectInvalid(with("/model/trial_id", "t99"), "model.trial_id \"t99\" is not among");
  ExpectInvalid(with("/partial_dependence/features/0/kind", "ordinal"),
                "partial_dependence.features[0].kind must be \"numeric\" or \"categorical\"");
  ExpectInvalid(with("/subpopulations/groups/1/values/mcc", 0.3),
                "subpopulations.groups[1].values.mcc is not listed");
  // A section of another task type, and a required section marked not available.
  json regression = RegressionDocument();
  regression["roc_curve"] = BinaryDocument()["roc_curve"];
  ExpectInvalid(regression, "roc_curve applies to binary tasks only");
  ExpectInvalid(with("/confusion_matrix", {{"not_available", "no holdout"}}),
                "confusion_matrix is required for binary tasks; not_available is allowed for "
                "optional sections only");
  json not_object = json::array();
  ExpectInvalid(not_object, "(document root) must be an object");
  // A NaN built in C++ (JSON text cannot hold one) is refused, not printed as "nan".
  ExpectInvalid(with("/metrics/0/holdout", std::nan("")), "metrics[0].holdout must be a finite");
}

TEST(ModelReport, OptionalSectionsShowNotAvailableWithReason) {
  json doc = BinaryDocument();
  doc.erase("calibration_curve");
  doc["lift_chart"] = {{"not_available", "fewer than 10 positives in the holdout"}};
  doc["importance"] = {{"not_available", "linear <model> without SHAP"}};
  doc["lineage"].erase("upstream_runs");
  const std::string html = Render(doc);
  EXPECT_NE(html.find("The calibration curve: not available for this model."), std::string::npos);
  EXPECT_NE(html.find("The gains and lift chart: not available for this model (fewer than 10 "
                      "positives in the holdout)."),
            std::string::npos);
  EXPECT_NE(html.find("Global importance: not available for this model (linear &lt;model&gt; "
                      "without SHAP)."),
            std::string::npos);
  EXPECT_NE(html.find("The chain of upstream recipe runs: not available for this model."),
            std::string::npos);
  EXPECT_EQ(CheckNesting(html), "");
  doc["lineage"]["upstream_runs"] = json::array();
  EXPECT_NE(Render(doc).find("None: the training dataset was imported directly."),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Safety and determinism.

TEST(ModelReport, EscapesEveryUserSuppliedString) {
  const std::string evil = "<script>alert('x')</script>&\"";
  json doc = BinaryDocument();
  doc["title"]["project"] = evil;
  doc["purpose"] = evil;
  doc["lineage"]["dataset"]["ref"] = evil;
  doc["features"][1]["column"] = evil;
  doc["model"]["hyperparameters"][evil] = evil;
  doc["leaderboard"]["trials"][1]["params"] = evil;
  doc["importance"]["features"][0]["column"] = evil;
  doc["partial_dependence"]["features"][1]["points"][0]["value"] = evil;
  doc["confusion_matrix"]["labels"][0] = evil;
  doc["environment"]["other"][evil] = evil;
  const std::string html = Render(doc);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("alert('x')"), std::string::npos);
  EXPECT_GE(CountOf(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"), 11u);
  EXPECT_EQ(CheckNesting(html), "");
}

TEST(ModelReport, HasNoNetworkReferences) {
  for (const json& doc : {BinaryDocument(), RegressionDocument(), MulticlassDocument()}) {
    ExpectNoExternalReferences(Render(doc));
  }
  // A URL the user wrote appears as escaped text only, never as a link or a resource.
  json doc = BinaryDocument();
  doc["purpose"] = "See https://wiki.example/churn?a=1&b=2 for the business case.";
  const std::string html = Render(doc);
  EXPECT_EQ(CountOf(html, "https://"), 1u);
  EXPECT_NE(html.find("<p class=\"purpose\">See https://wiki.example/churn?a=1&amp;b=2 for"),
            std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
}

TEST(ModelReport, SameDocumentSameBytes) {
  for (const json& doc : {BinaryDocument(), RegressionDocument(), MulticlassDocument()}) {
    const std::string first = Render(doc);
    EXPECT_EQ(first, Render(doc));
    // Through JSON text and back (as the document travels from the registry) changes nothing.
    EXPECT_EQ(first, Render(json::parse(doc.dump())));
  }
}

TEST(ModelReport, ImportanceShowsTopTwentyByMeanAbsShap) {
  json doc = BinaryDocument();
  json features = json::array();
  for (int index = 0; index < 25; ++index) {
    // Ascending input order; ties between c10 and c11 broken by name.
    const double shap = index == 11 ? 0.10 : 0.01 * index;
    features.push_back({{"column", "c" + std::to_string(index)}, {"mean_abs_shap", shap}});
  }
  doc["importance"] = {{"features", features}};
  const std::string html = Render(doc);
  EXPECT_NE(html.find("top 20 of 25"), std::string::npos);
  EXPECT_NE(html.find("5 further columns with smaller importance are not shown."),
            std::string::npos);
  const std::string table = html.substr(html.find("<th class=\"num\">Mean |SHAP|</th>"));
  EXPECT_LT(table.find("<code>c24</code>"), table.find("<code>c23</code>"));
  EXPECT_LT(table.find("<code>c10</code>"), table.find("<code>c11</code>"));
  EXPECT_EQ(table.find("<code>c4</code>"), std::string::npos);  // 21st
  EXPECT_NE(table.find("<code>c5</code>"), std::string::npos);  // 20th
  EXPECT_NE(table.find("<td class=\"num\">0.2400</td><td class=\"num\">&mdash;</td>"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Chart primitives.

TEST(SvgChart, FormatFixedNeverPrintsNegativeZero) {
  EXPECT_EQ(FormatFixed(-0.00001, 2), "0.00");
  EXPECT_EQ(FormatFixed(-0.0, 0), "0");
  EXPECT_EQ(FormatFixed(-0.016, 2), "-0.02");
  // Exact binary halves round to even (glibc printf), so the bytes do not depend on the caller.
  EXPECT_EQ(FormatFixed(0.125, 2), "0.12");
  EXPECT_EQ(FormatFixed(0.375, 2), "0.38");
  EXPECT_EQ(FormatFixed(1234.5678, 1), "1234.6");
  EXPECT_EQ(FormatFixed(std::nan(""), 3), "n/a");
}

TEST(SvgChart, EscapeMarkupEscapesAllFive) {
  EXPECT_EQ(EscapeMarkup("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(EscapeMarkup("h\xC3\xA9llo"), "h\xC3\xA9llo");
}

TEST(SvgChart, NiceTicksKnownRanges) {
  const AxisTicks unit = NiceTicks(0, 1, 6);
  EXPECT_EQ(unit.values, (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  EXPECT_EQ(unit.decimals, 1);
  const AxisTicks money = NiceTicks(12.3, 187.0, 6);
  EXPECT_DOUBLE_EQ(money.lo, 0);
  EXPECT_DOUBLE_EQ(money.hi, 200);
  EXPECT_DOUBLE_EQ(money.step, 50);
  EXPECT_EQ(money.decimals, 0);
  const AxisTicks flat = NiceTicks(5, 5, 5);
  EXPECT_LE(flat.lo, 5);
  EXPECT_GE(flat.hi, 5);
  EXPECT_LT(flat.lo, flat.hi);
}

// Model-based: against the definition (ticks cover the range, the step is 1, 2 or 5 times a
// power of ten, ticks are multiples of the step, and their count stays near the target).
TEST(SvgChart, NiceTicksPropertiesOnRandomRanges) {
  std::mt19937_64 rng(20261204);
  std::uniform_real_distribution<double> exponent(-6, 6), unit(-1, 1);
  for (int trial = 0; trial < 2000; ++trial) {
    const double scale = std::pow(10.0, exponent(rng));
    double lo = unit(rng) * scale, hi = unit(rng) * scale;
    if (lo > hi) std::swap(lo, hi);
    const AxisTicks ticks = NiceTicks(lo, hi, 6);
    SCOPED_TRACE(std::to_string(lo) + " .. " + std::to_string(hi));
    EXPECT_LE(ticks.lo, lo + std::abs(lo) * 1e-12);
    EXPECT_GE(ticks.hi, hi - std::abs(hi) * 1e-12);
    const double power = std::pow(10.0, std::floor(std::log10(ticks.step)));
    const double mantissa = ticks.step / power;
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
                std::abs(mantissa - 5) < 1e-9)
        << ticks.step;
    EXPECT_GE(ticks.values.size(), 3u);
    EXPECT_LE(ticks.values.size(), 13u);
    for (double value : ticks.values) {
      const double multiple = value / ticks.step;
      EXPECT_NEAR(multiple, std::round(multiple), 1e-6);
    }
    // The printed ticks are distinct at the chosen precision.
    std::set<std::string> printed;
    for (double value : ticks.values) printed.insert(FormatFixed(value, ticks.decimals));
    EXPECT_EQ(printed.size(), ticks.values.size());
  }
}

TEST(SvgChart, XyChartMapsPointsIntoThePlotArea) {
  XyChartOptions options;
  options.title = "t";
  options.x = {"x", 0.0, 1.0};
  options.y = {"y", 0.0, 1.0};
  options.width = 200;
  options.height = 160;
  options.diagonal = true;
  const std::string svg =
      XyChart(options, {ChartSeries{"s", {{0, 0}, {1, 1}}, SeriesStyle::kLine, false, 0}});
  // Left margin 58, right 16, top 30 (legend), bottom 44: plot 126 x 86.
  EXPECT_NE(svg.find("<path d=\"M58.0 116.0 L184.0 30.0\""), std::string::npos) << svg;
  EXPECT_NE(svg.find("stroke-dasharray=\"4 3\""), std::string::npos);
  EXPECT_EQ(CheckNesting(svg), "");
  EXPECT_EQ(svg.find("xmlns"), std::string::npos);
}

TEST(SvgChart, BarChartShortensLongLabelsAndKeepsThemInTitle) {
  BarChartOptions options;
  options.title = "bars";
  const std::string label(40, 'a');
  const std::string svg = HorizontalBarChart(options, {{label, 2.0}, {"b", -1.0}});
  EXPECT_NE(svg.find("<title>" + label + "</title>"), std::string::npos);
  EXPECT_NE(svg.find(std::string(27, 'a') + "...</text>"), std::string::npos);
  EXPECT_EQ(CountOf(svg, "<rect "), 2u);
  EXPECT_EQ(CheckNesting(svg), "");
}

}  // namespace
}  // namespace assay::ml
