#include "ml/feature_pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ml/feature_roles.h"
#include "ml/feature_spec.h"

namespace assay::ml {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// --- builders ------------------------------------------------------------------------------

template <typename T, typename AppendFn>
Column Build(DataType type, const std::vector<std::optional<T>>& values, AppendFn append) {
  ColumnBuilder builder(type);
  for (const auto& value : values) {
    if (value) {
      append(builder, *value);
    } else {
      builder.AppendNull();
    }
  }
  return builder.Finish();
}

Column Doubles(const std::vector<std::optional<double>>& values) {
  return Build<double>(DataType::kFloat64, values,
                       [](ColumnBuilder& b, double v) { b.AppendFloat64(v); });
}
Column Ints(const std::vector<std::optional<int64_t>>& values) {
  return Build<int64_t>(DataType::kInt64, values,
                        [](ColumnBuilder& b, int64_t v) { b.AppendInt64(v); });
}
Column Bools(const std::vector<std::optional<bool>>& values) {
  return Build<bool>(DataType::kBool, values, [](ColumnBuilder& b, bool v) { b.AppendBool(v); });
}
Column Strings(const std::vector<std::optional<std::string>>& values) {
  return Build<std::string>(DataType::kString, values,
                            [](ColumnBuilder& b, const std::string& v) { b.AppendString(v); });
}
Column Dates(const std::vector<std::optional<std::string>>& iso) {
  return Build<std::string>(DataType::kDate, iso, [](ColumnBuilder& b, const std::string& v) {
    b.AppendDate(*common::ParseIsoDate(v));
  });
}
Column Timestamps(const std::vector<std::optional<std::string>>& iso) {
  return Build<std::string>(DataType::kTimestamp, iso, [](ColumnBuilder& b, const std::string& v) {
    b.AppendInt64(*common::ParseIsoTimestamp(v));
  });
}

table::Table MakeTable(std::vector<std::pair<std::string, Column>> named) {
  std::vector<table::Field> fields;
  std::vector<Column> columns;
  for (auto& [name, column] : named) {
    fields.push_back({name, column.type()});
    columns.push_back(std::move(column));
  }
  auto made = table::Table::Make(table::Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(made.ok()) << made.status();
  return *std::move(made);
}

std::vector<int64_t> RowsUpTo(int64_t n) {
  std::vector<int64_t> rows(static_cast<size_t>(n));
  for (int64_t row = 0; row < n; ++row) rows[static_cast<size_t>(row)] = row;
  return rows;
}

PipelineSpec SpecFrom(const std::string& json) {
  auto spec = PipelineSpec::FromJson(nlohmann::json::parse(json));
  EXPECT_TRUE(spec.ok()) << spec.status();
  return spec.ok() ? *spec : PipelineSpec();
}

FeaturePipeline MustFit(const table::Table& table, const std::vector<int64_t>& rows,
                        const std::vector<float>& labels, const PipelineSpec& spec,
                        TaskType task = TaskType::kBinary, uint64_t seed = 7,
                        std::string_view target = "") {
  auto fitted = FeaturePipeline::Fit(table, target, rows, labels, task, spec, seed);
  EXPECT_TRUE(fitted.ok()) << fitted.status();
  return fitted.ok() ? *std::move(fitted) : FeaturePipeline();
}

FeatureMatrix MustTransform(const FeaturePipeline& pipeline, const table::Table& table) {
  auto matrix = pipeline.Transform(table);
  EXPECT_TRUE(matrix.ok()) << matrix.status();
  return matrix.ok() ? *std::move(matrix) : FeatureMatrix();
}

// The matrix column of a feature name (-1 if absent).
int FeatureIndex(const FeatureMatrix& matrix, const std::string& name) {
  const auto found = std::find(matrix.names.begin(), matrix.names.end(), name);
  return found == matrix.names.end() ? -1 : static_cast<int>(found - matrix.names.begin());
}

std::vector<float> FeatureColumn(const FeatureMatrix& matrix, const std::string& name) {
  const int col = FeatureIndex(matrix, name);
  EXPECT_GE(col, 0) << "no feature " << name << " in " << ::testing::PrintToString(matrix.names);
  std::vector<float> values;
  if (col < 0) return values;
  for (int64_t row = 0; row < matrix.rows; ++row) values.push_back(matrix.at(row, col));
  return values;
}

// Bitwise equality of two matrices (NaN equals NaN).
bool SameMatrix(const FeatureMatrix& a, const FeatureMatrix& b) {
  return a.rows == b.rows && a.cols == b.cols && a.names == b.names &&
         a.values.size() == b.values.size() &&
         std::memcmp(a.values.data(), b.values.data(), a.values.size() * sizeof(float)) == 0;
}

const ColumnDecision& DecisionOf(const std::vector<ColumnDecision>& decisions,
                                 const std::string& column) {
  for (const auto& decision : decisions) {
    if (decision.column == column) return decision;
  }
  ADD_FAILURE() << "no decision for " << column;
  static const ColumnDecision kNone;
  return kNone;
}

MATCHER(IsNan, "is NaN") { return std::isnan(arg); }

// --- PipelineSpec ---------------------------------------------------------------------------

TEST(PipelineSpec, ParsesEveryOptionAndRoundTrips) {
  const PipelineSpec spec = SpecFrom(R"({
    "family": "linear", "include": ["a", "b"], "exclude": "c", "phi_columns": ["d"],
    "allow_phi": ["e"], "phi_name_heuristic": false, "max_distinct_ratio": 0.25,
    "onehot_max_categories": 4, "target_folds": 3,
    "numeric": {"impute": "constant", "impute_value": -1, "scale": "minmax",
                "missing_indicator": false},
    "categorical": {"encoding": "target", "top_k": 7, "min_count": 2, "order": "lexical",
                    "prior_weight": 3.5},
    "columns": {"a": {"role": "categorical", "encoding": "ordinal"},
                "b": {"role": "dropped"}}})");
  EXPECT_EQ(spec.family, FeatureFamily::kLinear);
  EXPECT_THAT(spec.include, ElementsAre("a", "b"));
  EXPECT_THAT(spec.exclude, ElementsAre("c"));
  EXPECT_FALSE(spec.phi_name_heuristic);
  EXPECT_EQ(spec.max_distinct_ratio, 0.25);
  EXPECT_EQ(spec.target_folds, 3);
  EXPECT_EQ(spec.numeric.impute, ImputeStrategy::kConstant);
  EXPECT_EQ(spec.numeric.impute_value, -1);
  EXPECT_EQ(spec.categorical.encoding, CategoricalEncoding::kTarget);
  EXPECT_EQ(spec.categorical.prior_weight, 3.5);
  EXPECT_EQ(spec.columns.at("a").role, ColumnRole::kCategorical);
  EXPECT_EQ(spec.columns.at("a").categorical.encoding, CategoricalEncoding::kOrdinal);
  EXPECT_FALSE(spec.columns.at("a").numeric.impute.has_value());

  auto again = PipelineSpec::FromJson(spec.ToJson());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->ToJson().dump(), spec.ToJson().dump());
}

TEST(PipelineSpec, UnknownKeyNamesItsPath) {
  auto spec = PipelineSpec::FromJson(nlohmann::json::parse(R"({"columns": {"age": {"imput": 1}}})"),
                                     "spec.features");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(spec.status().message(), HasSubstr("spec.features.columns.age.imput: unknown key"));
  EXPECT_THAT(spec.status().message(), HasSubstr("impute"));

  auto top = PipelineSpec::FromJson(nlohmann::json::parse(R"({"numerics": {}})"));
  EXPECT_THAT(top.status().message(), HasSubstr("features.numerics: unknown key"));
}

TEST(PipelineSpec, BadValuesNameWhatIsAllowed) {
  auto impute = PipelineSpec::FromJson(nlohmann::json::parse(R"({"numeric": {"impute": "avg"}})"));
  EXPECT_THAT(impute.status().message(),
              HasSubstr("features.numeric.impute: must be one of none, mean, median, constant; "
                        "got \"avg\""));
  auto folds = PipelineSpec::FromJson(nlohmann::json::parse(R"({"target_folds": 1})"));
  EXPECT_THAT(folds.status().message(), HasSubstr("from 2 to 20, got 1"));
  auto constant =
      PipelineSpec::FromJson(nlohmann::json::parse(R"({"numeric": {"impute": "constant"}})"));
  EXPECT_THAT(constant.status().message(), HasSubstr("impute_value: is required"));
  auto stray = PipelineSpec::FromJson(nlohmann::json::parse(R"({"numeric": {"impute_value": 1}})"));
  EXPECT_THAT(stray.status().message(), HasSubstr("applies only with impute: constant"));
  auto twice = PipelineSpec::FromJson(nlohmann::json::parse(R"({"exclude": ["a", "a"]})"));
  EXPECT_THAT(twice.status().message(), HasSubstr("listed twice"));
  EXPECT_FALSE(PipelineSpec::FromJson(nlohmann::json::parse("[]")).ok());
}

TEST(PipelineSpec, FamilyNamesMatchTheTrainer) {
  EXPECT_EQ(FeatureFamilyFromName("linear"), FeatureFamily::kLinear);
  EXPECT_EQ(FeatureFamilyFromName("trees"), FeatureFamily::kTrees);
  EXPECT_FALSE(FeatureFamilyFromName("forest").has_value());
}

// --- column roles ---------------------------------------------------------------------------

TEST(ColumnRoles, NameHeuristics) {
  EXPECT_EQ(NormalizeColumnName("hcpId"), "hcp_id");
  EXPECT_EQ(NormalizeColumnName("E-Mail  Address"), "e_mail_address");
  EXPECT_EQ(NormalizeColumnName("HCP_ID"), "hcp_id");

  for (const char* phi : {"name", "first_name", "LastName", "hcp_email", "Email", "home_phone",
                          "practice_zip", "street_address", "ssn", "DOB", "date_of_birth", "npi",
                          "patient_name", "ip_address", "mrn"}) {
    EXPECT_TRUE(IsPhiColumnName(phi)) << phi;
  }
  for (const char* safe : {"product_name", "email_opt_in", "specialty", "state", "zipper_count",
                           "names_count", "phone_calls"}) {
    EXPECT_FALSE(IsPhiColumnName(safe)) << safe;
  }
  for (const char* id : {"id", "hcp_id", "hcpId", "ID", "npi", "uuid", "order_guid"}) {
    EXPECT_TRUE(IsIdentifierColumnName(id)) << id;
  }
  for (const char* other : {"paid", "idle", "valid", "identity_score", "video"}) {
    EXPECT_FALSE(IsIdentifierColumnName(other)) << other;
  }
}

// A table with one column per role rule; 60 rows, training rows 0..59.
table::Table RulesTable() {
  std::vector<std::optional<double>> numeric, target, all_missing;
  std::vector<std::optional<int64_t>> constant, unique_ints, rep_id;
  std::vector<std::optional<std::string>> text, category, first_name, tagged, excluded;
  std::vector<std::optional<std::string>> dates;
  std::vector<std::optional<bool>> flag;
  for (int row = 0; row < 60; ++row) {
    numeric.push_back(row * 0.5);
    target.push_back(row % 2);
    all_missing.push_back(std::nullopt);
    constant.push_back(3);
    unique_ints.push_back(1000 + row * 7);
    rep_id.push_back(row % 5);
    text.push_back("comment " + std::to_string(row % 40));  // 40 distinct of 60
    category.push_back(row % 3 == 0 ? "a" : "b");
    first_name.push_back(row % 2 == 0 ? "Ann" : "Bob");
    tagged.push_back(row % 2 == 0 ? "x" : "y");
    excluded.push_back("e" + std::to_string(row % 4));
    dates.push_back(common::FormatDate(19000 + row));
    flag.push_back(row % 3 == 0);
  }
  return MakeTable({{"target", Doubles(target)},
                    {"excluded", Strings(excluded)},
                    {"tagged", Strings(tagged)},
                    {"first_name", Strings(first_name)},
                    {"forced", Strings(category)},
                    {"empty", Doubles(all_missing)},
                    {"constant", Ints(constant)},
                    {"rep_id", Ints(rep_id)},
                    {"account", Ints(unique_ints)},
                    {"notes", Strings(text)},
                    {"amount", Doubles(numeric)},
                    {"segment", Strings(category)},
                    {"visit", Dates(dates)},
                    {"flag", Bools(flag)}});
}

TEST(ColumnRoles, EveryRuleHasItsReason) {
  const table::Table table = RulesTable();
  const PipelineSpec spec = SpecFrom(R"({"exclude": ["excluded"], "phi_columns": ["tagged"],
                                         "columns": {"forced": {"role": "dropped"}}})");
  auto decisions = DecideColumnRoles(table, "target", RowsUpTo(60), spec);
  ASSERT_TRUE(decisions.ok()) << decisions.status();
  const std::map<std::string, std::pair<std::string, ColumnRole>> expected = {
      {"target", {"target", ColumnRole::kDropped}},
      {"excluded", {"excluded", ColumnRole::kDropped}},
      {"tagged", {"phi_tagged", ColumnRole::kDropped}},
      {"first_name", {"phi_name", ColumnRole::kDropped}},
      {"forced", {"override", ColumnRole::kDropped}},
      {"empty", {"all_missing", ColumnRole::kDropped}},
      {"constant", {"constant", ColumnRole::kDropped}},
      {"rep_id", {"identifier_name", ColumnRole::kDropped}},
      {"account", {"identifier_unique", ColumnRole::kDropped}},
      {"notes", {"high_cardinality_text", ColumnRole::kDropped}},
      {"amount", {"type", ColumnRole::kNumeric}},
      {"segment", {"type", ColumnRole::kCategorical}},
      {"visit", {"type", ColumnRole::kDate}},
      {"flag", {"type", ColumnRole::kNumeric}}};
  ASSERT_EQ(decisions->size(), expected.size());
  for (const ColumnDecision& decision : *decisions) {
    const auto& [rule, role] = expected.at(decision.column);
    EXPECT_EQ(decision.rule, rule) << decision.column;
    EXPECT_EQ(decision.role, role) << decision.column;
    EXPECT_FALSE(decision.reason.empty()) << decision.column;
  }
  EXPECT_THAT(DecisionOf(*decisions, "notes").reason, HasSubstr("40 distinct values in 60"));
  EXPECT_THAT(DecisionOf(*decisions, "account").reason, HasSubstr("all 60"));
  EXPECT_THAT(DecisionOf(*decisions, "tagged").reason, HasSubstr("features.allow_phi"));
}

TEST(ColumnRoles, IncludeAllowPhiAndOverrides) {
  const table::Table table = RulesTable();
  const PipelineSpec spec = SpecFrom(R"({"include": ["first_name", "tagged", "account", "amount"],
      "phi_columns": ["tagged"], "allow_phi": ["first_name", "tagged"],
      "columns": {"account": {"role": "numeric"}}})");
  auto decisions = DecideColumnRoles(table, "target", RowsUpTo(60), spec);
  ASSERT_TRUE(decisions.ok()) << decisions.status();
  EXPECT_EQ(DecisionOf(*decisions, "segment").rule, "not_included");
  EXPECT_EQ(DecisionOf(*decisions, "first_name").role, ColumnRole::kCategorical);
  EXPECT_EQ(DecisionOf(*decisions, "tagged").role, ColumnRole::kCategorical);
  EXPECT_EQ(DecisionOf(*decisions, "account").rule, "override");
  EXPECT_EQ(DecisionOf(*decisions, "account").role, ColumnRole::kNumeric);

  // The heuristic can be switched off; explicit tags still apply.
  const PipelineSpec no_heuristic = SpecFrom(R"({"phi_name_heuristic": false,
                                                 "phi_columns": ["tagged"]})");
  auto plain = DecideColumnRoles(table, "target", RowsUpTo(60), no_heuristic);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(DecisionOf(*plain, "first_name").role, ColumnRole::kCategorical);
  EXPECT_EQ(DecisionOf(*plain, "tagged").rule, "phi_tagged");
}

TEST(ColumnRoles, DecidedOnTrainingRowsOnly) {
  // Constant on rows 0..9, varying after: constant for a fit on 0..9.
  std::vector<std::optional<double>> values;
  for (int row = 0; row < 20; ++row) values.push_back(row < 10 ? 1.0 : row);
  const table::Table table = MakeTable({{"x", Doubles(values)}});
  auto few = DecideColumnRoles(table, "", RowsUpTo(10), PipelineSpec());
  ASSERT_TRUE(few.ok());
  EXPECT_EQ((*few)[0].rule, "constant");
  auto all = DecideColumnRoles(table, "", RowsUpTo(20), PipelineSpec());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].rule, "type");
  // One value plus missing values is not constant (missingness may carry signal).
  const table::Table with_null = MakeTable({{"x", Doubles({1.0, std::nullopt, 1.0})}});
  auto one_and_null = DecideColumnRoles(with_null, "", RowsUpTo(3), PipelineSpec());
  ASSERT_TRUE(one_and_null.ok());
  EXPECT_EQ((*one_and_null)[0].role, ColumnRole::kNumeric);
}

TEST(ColumnRoles, ErrorsNameTheColumn) {
  const table::Table table = RulesTable();
  auto unknown =
      DecideColumnRoles(table, "target", RowsUpTo(60), SpecFrom(R"({"exclude": ["nope"]})"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("features.exclude: the table has no column \"nope\""));
  EXPECT_THAT(unknown.status().message(), HasSubstr("columns: target, excluded"));
  auto override_unknown = DecideColumnRoles(
      table, "target", RowsUpTo(60), SpecFrom(R"({"columns": {"nope": {"role": "numeric"}}})"));
  EXPECT_THAT(override_unknown.status().message(), HasSubstr("features.columns"));
  auto bad_role = DecideColumnRoles(table, "target", RowsUpTo(60),
                                    SpecFrom(R"({"columns": {"segment": {"role": "numeric"}}})"));
  EXPECT_EQ(bad_role.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_role.status().message(),
              HasSubstr("features.columns.segment.role: a string column cannot be numeric"));
  auto bad_date = DecideColumnRoles(table, "target", RowsUpTo(60),
                                    SpecFrom(R"({"columns": {"amount": {"role": "date"}}})"));
  EXPECT_FALSE(bad_date.ok());
}

TEST(ColumnRoles, DecisionJsonRoundTrip) {
  auto decisions = DecideColumnRoles(RulesTable(), "target", RowsUpTo(60), PipelineSpec());
  ASSERT_TRUE(decisions.ok());
  for (const ColumnDecision& decision : *decisions) {
    auto again = ColumnDecision::FromJson(decision.ToJson());
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, decision);
  }
}

// --- numeric handling -----------------------------------------------------------------------

// A naive reference of one numeric output: impute, then scale, from the training values.
std::vector<float> NaiveNumeric(const std::vector<std::optional<double>>& values,
                                const std::vector<int64_t>& train, const std::string& impute,
                                double constant, const std::string& scale) {
  std::vector<double> observed;
  for (int64_t row : train) {
    if (values[static_cast<size_t>(row)]) observed.push_back(*values[static_cast<size_t>(row)]);
  }
  double mean = 0;
  for (double v : observed) mean += v;
  mean /= static_cast<double>(observed.size());
  double variance = 0;
  for (double v : observed) variance += (v - mean) * (v - mean);
  variance /= static_cast<double>(observed.size());
  std::vector<double> sorted = observed;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  double fill = std::nan("");
  if (impute == "mean") fill = mean;
  if (impute == "median") fill = median;
  if (impute == "constant") fill = constant;
  double center = 0, divisor = 1;
  if (scale == "standard") {
    center = mean;
    divisor = variance > 0 ? std::sqrt(variance) : 1;
  } else if (scale == "minmax") {
    center = sorted.front();
    divisor = sorted.back() > sorted.front() ? sorted.back() - sorted.front() : 1;
  }
  std::vector<float> out;
  for (const auto& value : values) {
    const double x = value ? *value : fill;
    out.push_back(std::isnan(x) ? std::nanf("") : static_cast<float>((x - center) / divisor));
  }
  return out;
}

void ExpectSameFloats(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t index = 0; index < actual.size(); ++index) {
    if (std::isnan(expected[index])) {
      EXPECT_TRUE(std::isnan(actual[index])) << "at " << index;
    } else {
      EXPECT_FLOAT_EQ(actual[index], expected[index]) << "at " << index;
    }
  }
}

TEST(FeaturePipeline, NumericImputeAndScaleMatchNaiveReference) {
  std::mt19937_64 random(11);
  std::uniform_real_distribution<double> uniform(-50, 150);
  std::vector<std::optional<double>> values;
  for (int row = 0; row < 300; ++row) {
    if (random() % 5 == 0) {
      values.push_back(std::nullopt);
    } else {
      values.push_back(std::round(uniform(random) * 4) / 4);
    }
  }
  const table::Table table = MakeTable({{"x", Doubles(values)}});
  std::vector<int64_t> train;
  for (int64_t row = 0; row < 300; row += 3) train.push_back(row);  // a third of the rows
  const std::vector<float> labels(train.size(), 0.0f);
  for (const char* impute : {"none", "mean", "median", "constant"}) {
    for (const char* scale : {"none", "standard", "minmax"}) {
      nlohmann::json spec = {{"numeric", {{"impute", impute}, {"scale", scale}}}};
      if (std::string(impute) == "constant") spec["numeric"]["impute_value"] = -7.5;
      const FeaturePipeline pipeline =
          MustFit(table, train, labels, SpecFrom(spec.dump()), TaskType::kRegression);
      const FeatureMatrix matrix = MustTransform(pipeline, table);
      SCOPED_TRACE(std::string(impute) + "/" + scale);
      ExpectSameFloats(FeatureColumn(matrix, "x"),
                       NaiveNumeric(values, train, impute, -7.5, scale));
    }
  }
}

TEST(FeaturePipeline, MissingIndicatorAndBoolAsZeroOne) {
  const table::Table table = MakeTable({{"x", Doubles({1, std::nullopt, 3, std::nan("")})},
                                        {"b", Bools({true, false, std::nullopt, true})}});
  const FeaturePipeline pipeline =
      MustFit(table, RowsUpTo(4), {0, 1, 0, 1},
              SpecFrom(R"({"numeric": {"impute": "mean", "missing_indicator": true}})"));
  const FeatureMatrix matrix = MustTransform(pipeline, table);
  EXPECT_THAT(matrix.names, ElementsAre("x", "x:missing", "b", "b:missing"));
  EXPECT_THAT(FeatureColumn(matrix, "x"), ElementsAre(1, 2, 3, 2));  // NaN is missing too
  EXPECT_THAT(FeatureColumn(matrix, "x:missing"), ElementsAre(0, 1, 0, 1));
  EXPECT_THAT(FeatureColumn(matrix, "b"), ElementsAre(1, 0, 2.0f / 3, 1));
  EXPECT_THAT(pipeline.feature_sources(), ElementsAre("x", "x", "b", "b"));
  // No indicator when the training rows have no missing value.
  const table::Table full = MakeTable({{"x", Doubles({1, 2, 3})}});
  const FeaturePipeline no_missing = MustFit(
      full, RowsUpTo(3), {0, 1, 0}, SpecFrom(R"({"numeric": {"missing_indicator": true}})"));
  EXPECT_THAT(no_missing.feature_names(), ElementsAre("x"));
}

TEST(FeaturePipeline, NumericAcceptsAnyNumericTypeAtTransform) {
  const table::Table train = MakeTable({{"x", Doubles({1.5, 2.5, 4})}});
  const FeaturePipeline pipeline = MustFit(train, RowsUpTo(3), {0, 1, 0}, PipelineSpec());
  const table::Table ints = MakeTable({{"x", Ints({7, std::nullopt})}});
  const FeatureMatrix matrix = MustTransform(pipeline, ints);
  EXPECT_EQ(matrix.at(0, 0), 7);
  EXPECT_TRUE(std::isnan(matrix.at(1, 0)));  // trees: NaN kept
}

// --- categorical handling -------------------------------------------------------------------

table::Table CategoryTable(const std::vector<std::optional<std::string>>& values) {
  return MakeTable({{"c", Strings(values)}});
}

TEST(FeaturePipeline, OneHotTopKWithOtherAndMissing) {
  // Frequencies: a 4, b 3, c 2, d 1; ties would go lexically.
  const table::Table table =
      CategoryTable({"a", "b", "a", "c", "b", "a", "d", "c", "b", "a", std::nullopt});
  const FeaturePipeline pipeline = MustFit(table, RowsUpTo(11), std::vector<float>(11, 0),
                                           SpecFrom(R"({"categorical": {"encoding": "onehot",
                                                         "top_k": 2}})"));
  EXPECT_THAT(pipeline.feature_names(), ElementsAre("c=a", "c=b", "c=(other)", "c=(missing)"));
  EXPECT_THAT(pipeline.decisions()[0].handling, HasSubstr("2 of 4 training categories"));
  const table::Table scoring = CategoryTable({"b", "zebra", std::nullopt, "c", "a"});
  const FeatureMatrix matrix = MustTransform(pipeline, scoring);
  const std::vector<std::vector<float>> expected = {
      {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, 0, 1, 0}, {1, 0, 0, 0}};
  for (int64_t row = 0; row < 5; ++row) {
    for (int col = 0; col < 4; ++col) {
      EXPECT_EQ(matrix.at(row, col), expected[static_cast<size_t>(row)][static_cast<size_t>(col)])
          << row << "," << col;
    }
  }
  // min_count drops rare categories into (other).
  const FeaturePipeline frequent =
      MustFit(table, RowsUpTo(11), std::vector<float>(11, 0),
              SpecFrom(R"({"categorical": {"encoding": "onehot", "min_count": 3}})"));
  EXPECT_THAT(frequent.feature_names(), ElementsAre("c=a", "c=b", "c=(other)", "c=(missing)"));
}

TEST(FeaturePipeline, OrdinalByFrequencyOrLexical) {
  const table::Table table = CategoryTable({"b", "c", "c", "a", "c", "b", std::nullopt});
  const auto labels = std::vector<float>(7, 0);
  const FeaturePipeline by_frequency =
      MustFit(table, RowsUpTo(7), labels, SpecFrom(R"({"categorical": {"encoding": "ordinal"}})"));
  const table::Table scoring = CategoryTable({"a", "b", "c", "new", std::nullopt});
  EXPECT_THAT(FeatureColumn(MustTransform(by_frequency, scoring), "c"),
              ElementsAre(2, 1, 0, 3, IsNan()));  // trees keep missing as NaN
  const FeaturePipeline lexical = MustFit(
      table, RowsUpTo(7), labels,
      SpecFrom(
          R"({"family": "linear", "categorical": {"encoding": "ordinal", "order": "lexical"}})"));
  // Linear family: missing gets its own code (C + 1) instead of NaN.
  EXPECT_THAT(FeatureColumn(MustTransform(lexical, scoring), "c"), ElementsAre(0, 1, 2, 3, 4));
}

TEST(FeaturePipeline, IntegerColumnAsCategorical) {
  const table::Table table = MakeTable({{"code", Ints({7, 3, 7, std::nullopt})}});
  const FeaturePipeline pipeline =
      MustFit(table, RowsUpTo(4), {0, 1, 0, 1},
              SpecFrom(R"({"columns": {"code": {"role": "categorical", "encoding": "onehot"}}})"));
  EXPECT_THAT(pipeline.feature_names(),
              ElementsAre("code=7", "code=3", "code=(other)", "code=(missing)"));
  auto loaded = FeaturePipeline::FromJson(pipeline.ToJson());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const table::Table scoring = MakeTable({{"code", Ints({3, 9})}});
  EXPECT_TRUE(SameMatrix(MustTransform(*loaded, scoring), MustTransform(pipeline, scoring)));
  EXPECT_EQ(MustTransform(*loaded, scoring).at(1, 2), 1);  // 9 is unseen: (other)
}

TEST(FeaturePipeline, FamilyDefaults) {
  std::vector<std::optional<std::string>> few, many;
  std::vector<std::optional<double>> numbers;
  for (int row = 0; row < 40; ++row) {
    few.push_back(std::string(1, static_cast<char>('a' + row % 3)));
    many.push_back("k" + std::to_string(row % 12));
    numbers.push_back(row % 7 == 0 ? std::nullopt : std::optional<double>(row));
  }
  const table::Table table =
      MakeTable({{"few", Strings(few)}, {"many", Strings(many)}, {"n", Doubles(numbers)}});
  const std::vector<float> labels(40, 0);
  const FeaturePipeline trees = MustFit(table, RowsUpTo(40), labels, PipelineSpec());
  // Trees: one-hot up to onehot_max_categories (10) distinct values, ordinal above; NaN kept.
  EXPECT_EQ(FeatureIndex(MustTransform(trees, table), "few=a"), 0);
  EXPECT_THAT(DecisionOf(trees.decisions(), "many").handling, HasSubstr("ordinal"));
  EXPECT_THAT(DecisionOf(trees.decisions(), "n").handling, HasSubstr("missing kept as NaN"));
  EXPECT_TRUE(std::isnan(
      MustTransform(trees, table).at(0, FeatureIndex(MustTransform(trees, table), "n"))));

  PipelineSpec linear_spec;
  linear_spec.family = FeatureFamily::kLinear;
  const FeaturePipeline linear = MustFit(table, RowsUpTo(40), labels, linear_spec);
  const FeatureMatrix matrix = MustTransform(linear, table);
  EXPECT_GE(FeatureIndex(matrix, "many=k0"), 0);  // one-hot even above 10 categories
  EXPECT_GE(FeatureIndex(matrix, "n:missing"), 0);
  EXPECT_THAT(DecisionOf(linear.decisions(), "n").handling,
              HasSubstr("median impute (19.5), missing indicator, standard scaling"));
  const table::Table dated = MakeTable({{"d", Dates({"2024-01-01", std::nullopt, "2024-01-03"})}});
  const FeaturePipeline linear_dates = MustFit(dated, RowsUpTo(3), {0, 1, 0}, linear_spec);
  EXPECT_EQ(linear_dates.decisions()[0].handling,
            "year, month, day, weekday and days before 2024-01-03 (latest training date); median "
            "impute, missing indicator, standard scaling (per part)");
  EXPECT_THAT(FeatureColumn(MustTransform(linear_dates, dated), "d:elapsed_days"),
              ElementsAre(1, 0, -1));  // elapsed 2, (median 1), 0; then (x - 1) / 1
  for (float value : matrix.values) EXPECT_FALSE(std::isnan(value));  // linear: never NaN
  // Standard scaling: the observed training values have mean 0 and deviation 1.
  std::vector<float> scaled = FeatureColumn(matrix, "n");
  double sum = 0, squares = 0;
  int count = 0;
  for (size_t row = 0; row < scaled.size(); ++row) {
    if (!numbers[row]) continue;
    sum += scaled[row];
    squares += scaled[row] * scaled[row];
    ++count;
  }
  EXPECT_NEAR(sum / count, 0, 1e-6);
  EXPECT_NEAR(squares / count, 1, 1e-5);
}

// --- target encoding ------------------------------------------------------------------------

struct EncodedData {
  table::Table table;
  std::vector<std::optional<std::string>> categories;
  std::vector<float> labels;
};

EncodedData RandomEncodedData(int rows, uint64_t seed, int classes = 2) {
  std::mt19937_64 random(seed);
  EncodedData data;
  for (int row = 0; row < rows; ++row) {
    const int pick = static_cast<int>(random() % 6);
    data.categories.push_back(pick == 5 ? std::nullopt
                                        : std::optional<std::string>(std::string(1, 'p' + pick)));
    // Category-dependent labels so encodings differ.
    const bool likely = pick < 2;
    const int label = classes == 2 ? ((random() % 10) < (likely ? 8u : 3u) ? 1 : 0)
                                   : static_cast<int>((random() % 10 < 6 ? pick : random()) %
                                                      static_cast<uint64_t>(classes));
    data.labels.push_back(static_cast<float>(label));
  }
  data.table = MakeTable({{"c", Strings(data.categories)}});
  return data;
}

// The smoothed mean of `labels` over the positions `use` with category `value`.
double NaiveEncoding(const EncodedData& data, const std::vector<bool>& use,
                     const std::optional<std::string>& value, double m, int output, bool multi) {
  double sum = 0, count = 0, total_sum = 0, total = 0;
  for (size_t index = 0; index < data.labels.size(); ++index) {
    if (!use[index]) continue;
    const double y = multi ? (data.labels[index] == output ? 1 : 0) : data.labels[index];
    total_sum += y;
    total += 1;
    if (data.categories[index] == value) {
      sum += y;
      count += 1;
    }
  }
  const double prior = total_sum / total;
  return (sum + m * prior) / (count + m);
}

TEST(FeaturePipeline, TargetEncodingMatchesNaiveReference) {
  const EncodedData data = RandomEncodedData(400, 5);
  const std::vector<int64_t> train = RowsUpTo(400);
  const FeaturePipeline pipeline =
      MustFit(data.table, train, data.labels,
              SpecFrom(R"({"categorical": {"encoding": "target", "prior_weight": 4},
                           "target_folds": 5})"));
  EXPECT_THAT(pipeline.feature_names(), ElementsAre("c:target"));
  const std::vector<bool> everyone(400, true);
  // Transform: the encoding fitted on all training rows.
  const FeatureMatrix full = MustTransform(pipeline, data.table);
  for (int64_t row = 0; row < 400; ++row) {
    EXPECT_FLOAT_EQ(full.at(row, 0), static_cast<float>(NaiveEncoding(
                                         data, everyone, data.categories[row], 4, 0, false)));
  }
  // TransformTrainingRows: each row's encoding from the other folds only.
  auto oof = pipeline.TransformTrainingRows(data.table, train);
  ASSERT_TRUE(oof.ok()) << oof.status();
  const std::vector<uint8_t>& folds = pipeline.training_folds();
  ASSERT_EQ(folds.size(), 400u);
  std::vector<int> fold_sizes(5, 0);
  for (uint8_t fold : folds) ++fold_sizes[fold];
  EXPECT_THAT(fold_sizes, ElementsAre(80, 80, 80, 80, 80));
  bool any_differs = false;
  for (int64_t row = 0; row < 400; ++row) {
    std::vector<bool> others(400);
    for (size_t index = 0; index < 400; ++index) others[index] = folds[index] != folds[row];
    const float expected =
        static_cast<float>(NaiveEncoding(data, others, data.categories[row], 4, 0, false));
    EXPECT_FLOAT_EQ(oof->at(row, 0), expected) << row;
    any_differs |= oof->at(row, 0) != full.at(row, 0);
  }
  EXPECT_TRUE(any_differs);
  // Unseen categories get the prior.
  const FeatureMatrix unseen = MustTransform(pipeline, CategoryTable({"never"}));
  double mean = 0;
  for (float label : data.labels) mean += label;
  EXPECT_FLOAT_EQ(unseen.at(0, 0), static_cast<float>(mean / 400));
}

TEST(FeaturePipeline, OutOfFoldEncodingIgnoresTheRowsOwnLabel) {
  EncodedData data = RandomEncodedData(200, 9);
  const PipelineSpec spec = SpecFrom(R"({"categorical": {"encoding": "target"}})");
  const std::vector<int64_t> train = RowsUpTo(200);
  const FeaturePipeline before = MustFit(data.table, train, data.labels, spec);
  data.labels[17] = 1 - data.labels[17];
  const FeaturePipeline after = MustFit(data.table, train, data.labels, spec);
  auto oof_before = before.TransformTrainingRows(data.table, train);
  auto oof_after = after.TransformTrainingRows(data.table, train);
  ASSERT_TRUE(oof_before.ok() && oof_after.ok());
  EXPECT_EQ(oof_before->at(17, 0), oof_after->at(17, 0));
  // The label did matter: the full-fit encoding of row 17 and the OOF encoding of some other
  // row with the same category moved.
  EXPECT_NE(MustTransform(before, data.table).at(17, 0),
            MustTransform(after, data.table).at(17, 0));
  bool other_moved = false;
  for (int64_t row = 0; row < 200; ++row) {
    if (row != 17 && data.categories[row] == data.categories[17]) {
      other_moved |= oof_before->at(row, 0) != oof_after->at(row, 0);
    }
  }
  EXPECT_TRUE(other_moved);
}

TEST(FeaturePipeline, MulticlassTargetEncodingHasOneFeaturePerClass) {
  const EncodedData data = RandomEncodedData(300, 3, 3);
  const FeaturePipeline pipeline =
      MustFit(data.table, RowsUpTo(300), data.labels,
              SpecFrom(R"({"categorical": {"encoding": "target"}})"), TaskType::kMulticlass);
  EXPECT_THAT(pipeline.feature_names(), ElementsAre("c:target_0", "c:target_1", "c:target_2"));
  const FeatureMatrix matrix = MustTransform(pipeline, data.table);
  const std::vector<bool> everyone(300, true);
  for (int64_t row = 0; row < 300; ++row) {
    double sum = 0;
    for (int output = 0; output < 3; ++output) {
      EXPECT_FLOAT_EQ(matrix.at(row, output),
                      static_cast<float>(NaiveEncoding(data, everyone, data.categories[row],
                                                       kDefaultPriorWeight, output, true)));
      sum += matrix.at(row, output);
    }
    EXPECT_NEAR(sum, 1, 1e-6);  // smoothed class shares still sum to one
  }
}

TEST(FeaturePipeline, TransformTrainingRowsContract) {
  const EncodedData data = RandomEncodedData(50, 1);
  const std::vector<int64_t> train = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19};
  const std::vector<float> labels = SelectRows(data.labels, train);
  const FeaturePipeline onehot = MustFit(data.table, train, labels, PipelineSpec());
  auto rows = onehot.TransformTrainingRows(data.table, train);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(SameMatrix(*rows, MustTransform(onehot, data.table).SelectRows(train)));

  const FeaturePipeline encoded =
      MustFit(data.table, train, labels, SpecFrom(R"({"categorical": {"encoding": "target"}})"));
  // Transform of a row subset is the subset of Transform, with the all-rows encoding.
  const std::vector<int64_t> some = {40, 2, 19, 2};
  auto subset = encoded.Transform(data.table, some);
  ASSERT_TRUE(subset.ok()) << subset.status();
  EXPECT_TRUE(SameMatrix(*subset, MustTransform(encoded, data.table).SelectRows(some)));
  EXPECT_EQ(encoded.Transform(data.table, {50}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto wrong = encoded.TransformTrainingRows(data.table, {1, 3});
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  auto loaded = FeaturePipeline::FromJson(encoded.ToJson());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->TransformTrainingRows(data.table, train).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// --- dates ----------------------------------------------------------------------------------

TEST(FeaturePipeline, DatePartsAndElapsedDaysToTheLatestTrainingDate) {
  const table::Table table =
      MakeTable({{"d", Dates({"2024-02-29", "2023-12-31", std::nullopt, "2030-01-01"})}});
  // Row 3 (2030) is not a training row: the reference is the latest training date.
  const FeaturePipeline pipeline =
      MustFit(table, {0, 1, 2}, {0, 1, 0}, SpecFrom(R"({"numeric": {"missing_indicator": true}})"));
  EXPECT_THAT(pipeline.feature_names(), ElementsAre("d:year", "d:month", "d:day", "d:weekday",
                                                    "d:elapsed_days", "d:missing"));
  EXPECT_THAT(pipeline.decisions()[0].handling, HasSubstr("days before 2024-02-29"));
  const FeatureMatrix matrix = MustTransform(pipeline, table);
  EXPECT_THAT(FeatureColumn(matrix, "d:year"), ElementsAre(2024, 2023, IsNan(), 2030));
  EXPECT_THAT(FeatureColumn(matrix, "d:month"), ElementsAre(2, 12, IsNan(), 1));
  EXPECT_THAT(FeatureColumn(matrix, "d:day"), ElementsAre(29, 31, IsNan(), 1));
  // 2024-02-29 was a Thursday, 2023-12-31 a Sunday, 2030-01-01 a Tuesday (ISO: Monday = 1).
  EXPECT_THAT(FeatureColumn(matrix, "d:weekday"), ElementsAre(4, 7, IsNan(), 2));
  EXPECT_THAT(FeatureColumn(matrix, "d:elapsed_days"), ElementsAre(0, 60, IsNan(), -2133));
  EXPECT_THAT(FeatureColumn(matrix, "d:missing"), ElementsAre(0, 0, 1, 0));
}

TEST(FeaturePipeline, TimestampsAreDatesAtDayResolution) {
  const table::Table table = MakeTable(
      {{"t",
        Timestamps({"2024-03-01T23:59:59Z", "1969-12-31T12:00:00Z", "2024-03-02T00:00:01Z"})}});
  const FeaturePipeline pipeline = MustFit(table, RowsUpTo(3), {0, 1, 0}, PipelineSpec());
  const FeatureMatrix matrix = MustTransform(pipeline, table);
  EXPECT_THAT(FeatureColumn(matrix, "t:day"), ElementsAre(1, 31, 2));
  EXPECT_THAT(FeatureColumn(matrix, "t:year"), ElementsAre(2024, 1969, 2024));
  EXPECT_THAT(FeatureColumn(matrix, "t:elapsed_days"),
              ElementsAre(1, static_cast<float>(common::DaysFromCivil(2024, 3, 2) + 1), 0));
  // A date column may score a pipeline fitted on timestamps.
  const table::Table dates = MakeTable({{"t", Dates({"2024-03-01"})}});
  EXPECT_EQ(MustTransform(pipeline, dates).at(0, 2), 1);
}

// --- nulls, unseen values, errors -----------------------------------------------------------

table::Table MixedTable(int rows, uint64_t seed, bool all_null = false) {
  std::mt19937_64 random(seed);
  std::vector<std::optional<double>> amount;
  std::vector<std::optional<int64_t>> visits;
  std::vector<std::optional<std::string>> region, when;
  std::vector<std::optional<bool>> kol;
  const char* regions[] = {"north", "south", "east", "west"};
  for (int row = 0; row < rows; ++row) {
    const bool null = all_null || random() % 6 == 0;
    amount.push_back(null ? std::nullopt : std::optional<double>((random() % 1000) / 10.0));
    visits.push_back(all_null || random() % 7 == 0
                         ? std::nullopt
                         : std::optional<int64_t>(static_cast<int64_t>(random() % 30)));
    region.push_back(all_null || random() % 5 == 0
                         ? std::nullopt
                         : std::optional<std::string>(regions[random() % 4]));
    when.push_back(all_null || random() % 8 == 0
                       ? std::nullopt
                       : std::optional<std::string>(
                             common::FormatDate(19000 + static_cast<int32_t>(random() % 700))));
    kol.push_back(all_null || random() % 9 == 0 ? std::nullopt
                                                : std::optional<bool>(random() % 2 == 0));
  }
  return MakeTable({{"amount", Doubles(amount)},
                    {"visits", Ints(visits)},
                    {"region", Strings(region)},
                    {"when", Dates(when)},
                    {"kol", Bools(kol)}});
}

TEST(FeaturePipeline, NullsEverywhere) {
  const table::Table table = MixedTable(200, 4);
  for (const char* family : {"trees", "linear"}) {
    const FeaturePipeline pipeline =
        MustFit(table, RowsUpTo(200), std::vector<float>(200, 1),
                SpecFrom(absl::StrCat(R"({"family": ")", family, R"("})")));
    const table::Table nulls = MixedTable(5, 4, true);
    const FeatureMatrix matrix = MustTransform(pipeline, nulls);
    ASSERT_EQ(matrix.rows, 5);
    ASSERT_EQ(matrix.cols, pipeline.num_features());
    if (std::string(family) == "linear") {
      for (float value : matrix.values) EXPECT_FALSE(std::isnan(value));
      EXPECT_EQ(matrix.at(0, FeatureIndex(matrix, "region=(missing)")), 1);
    } else {
      EXPECT_TRUE(std::isnan(matrix.at(0, FeatureIndex(matrix, "amount"))));
      EXPECT_TRUE(std::isnan(matrix.at(0, FeatureIndex(matrix, "when:year"))));
    }
  }
}

TEST(FeaturePipeline, ExtraColumnsIgnoredMissingOrMistypedColumnsNamed) {
  const table::Table table = MixedTable(50, 2);
  const FeaturePipeline pipeline =
      MustFit(table, RowsUpTo(50), std::vector<float>(50, 0), PipelineSpec());
  const table::Table reordered = MakeTable({{"extra", Ints({1})},
                                            {"kol", Bools({true})},
                                            {"when", Dates({"2022-01-01"})},
                                            {"region", Strings({"east"})},
                                            {"visits", Ints({3})},
                                            {"amount", Doubles({1})}});
  auto matrix = pipeline.Transform(reordered);
  ASSERT_TRUE(matrix.ok()) << matrix.status();
  EXPECT_EQ(matrix->at(0, FeatureIndex(*matrix, "region=east")), 1);

  const table::Table missing = MakeTable({{"amount", Doubles({1})}});
  auto no_column = pipeline.Transform(missing);
  EXPECT_EQ(no_column.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_column.status().message(), HasSubstr("input column \"visits\" is missing"));

  const table::Table mistyped = MakeTable({{"amount", Doubles({1})},
                                           {"visits", Ints({3})},
                                           {"region", Ints({3})},
                                           {"when", Dates({"2022-01-01"})},
                                           {"kol", Bools({true})}});
  auto wrong_type = pipeline.Transform(mistyped);
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong_type.status().message(),
              HasSubstr("input column \"region\" is int64 but the pipeline was fitted on string"));
}

TEST(FeaturePipeline, FitErrors) {
  const table::Table table = MixedTable(20, 3);
  const PipelineSpec spec;
  auto count = FeaturePipeline::Fit(table, "", RowsUpTo(20), {0, 1}, TaskType::kBinary, spec, 1);
  EXPECT_THAT(count.status().message(), HasSubstr("2 labels for 20 training rows"));
  auto range = FeaturePipeline::Fit(table, "", {0, 25}, {0, 1}, TaskType::kBinary, spec, 1);
  EXPECT_THAT(range.status().message(), HasSubstr("row id 25"));
  auto empty = FeaturePipeline::Fit(table, "", {}, {}, TaskType::kBinary, spec, 1);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  auto label = FeaturePipeline::Fit(table, "", {0}, {2}, TaskType::kBinary, spec, 1);
  EXPECT_THAT(label.status().message(), HasSubstr("not valid for a binary task"));
  auto target = FeaturePipeline::Fit(table, "churned", {0}, {1}, TaskType::kBinary, spec, 1);
  EXPECT_THAT(target.status().message(), HasSubstr("target column \"churned\""));
  auto nothing =
      FeaturePipeline::Fit(table, "", RowsUpTo(20), std::vector<float>(20, 0), TaskType::kBinary,
                           SpecFrom(R"({"include": ["amount"], "exclude": ["amount"]})"), 1);
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(nothing.status().message(), HasSubstr("amount: listed in features.exclude"));
  auto numeric_on_categorical =
      FeaturePipeline::Fit(table, "", RowsUpTo(20), std::vector<float>(20, 0), TaskType::kBinary,
                           SpecFrom(R"({"columns": {"region": {"impute": "mean"}}})"), 1);
  EXPECT_THAT(numeric_on_categorical.status().message(),
              HasSubstr("features.columns.region: impute, impute_value, scale"));
  auto categorical_on_numeric =
      FeaturePipeline::Fit(table, "", RowsUpTo(20), std::vector<float>(20, 0), TaskType::kBinary,
                           SpecFrom(R"({"columns": {"amount": {"encoding": "onehot"}}})"), 1);
  EXPECT_THAT(categorical_on_numeric.status().message(), HasSubstr("\"amount\" is numeric"));
}

// --- leakage, determinism, persistence ------------------------------------------------------

TEST(FeaturePipeline, NoLeakageFromRowsOutsideTraining) {
  const table::Table table = MixedTable(300, 8);
  std::vector<int64_t> train;
  for (int64_t row = 0; row < 300; ++row) {
    if (row % 4 != 0) train.push_back(row);
  }
  // The same table with every non-training row replaced by other values (new categories,
  // later dates, extreme numbers, nulls).
  const table::Table other = MixedTable(300, 99);
  auto mixed_column = [&](int col) {
    ColumnBuilder builder(table.column(col).type());
    for (int64_t row = 0; row < 300; ++row) {
      if (row % 4 != 0) {
        builder.AppendFrom(table.column(col), row);
      } else if (col == 2) {
        builder.AppendString("leak" + std::to_string(row));
      } else if (col == 3) {
        builder.AppendDate(30000);
      } else {
        builder.AppendFrom(other.column(col), row);
      }
    }
    return builder.Finish();
  };
  std::vector<std::pair<std::string, Column>> columns;
  for (int col = 0; col < table.num_columns(); ++col) {
    columns.push_back({table.schema().field(col).name, mixed_column(col)});
  }
  const table::Table changed = MakeTable(std::move(columns));
  ASSERT_FALSE(changed.Equals(table));

  std::mt19937_64 random(2);
  std::vector<float> labels;
  for (size_t index = 0; index < train.size(); ++index) labels.push_back(random() % 2);
  for (const char* spec_text :
       {R"({"family": "trees"})", R"({"family": "linear"})",
        R"({"family": "linear", "categorical": {"encoding": "target"},
            "numeric": {"impute": "mean", "scale": "minmax"}})",
        R"({"categorical": {"encoding": "ordinal", "order": "lexical"}})"}) {
    const PipelineSpec spec = SpecFrom(spec_text);
    const FeaturePipeline a = MustFit(table, train, labels, spec);
    const FeaturePipeline b = MustFit(changed, train, labels, spec);
    EXPECT_EQ(a.ToJson().dump(), b.ToJson().dump()) << spec_text;
    auto oof_a = a.TransformTrainingRows(table, train);
    auto oof_b = b.TransformTrainingRows(changed, train);
    ASSERT_TRUE(oof_a.ok() && oof_b.ok());
    EXPECT_TRUE(SameMatrix(*oof_a, *oof_b)) << spec_text;
  }
}

TEST(FeaturePipeline, DeterministicAndJsonRoundTripGivesIdenticalMatrices) {
  const table::Table table = MixedTable(500, 12);
  std::vector<float> labels;
  for (int row = 0; row < 500; ++row) labels.push_back(static_cast<float>(row % 3));
  for (const char* spec_text :
       {R"({})", R"({"family": "linear"})",
        R"({"categorical": {"encoding": "target", "prior_weight": 2.5}})",
        R"({"categorical": {"encoding": "ordinal"}, "numeric": {"impute": "constant",
            "impute_value": 0.1, "scale": "minmax", "missing_indicator": true}})"}) {
    const PipelineSpec spec = SpecFrom(spec_text);
    const FeaturePipeline first = MustFit(table, RowsUpTo(400), SelectRows(labels, RowsUpTo(400)),
                                          spec, TaskType::kMulticlass, 3);
    const FeaturePipeline second = MustFit(table, RowsUpTo(400), SelectRows(labels, RowsUpTo(400)),
                                           spec, TaskType::kMulticlass, 3);
    const std::string text = first.ToJson().dump();
    EXPECT_EQ(text, second.ToJson().dump());
    auto loaded = FeaturePipeline::FromJson(nlohmann::json::parse(text));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->ToJson().dump(), text);
    EXPECT_TRUE(SameMatrix(MustTransform(*loaded, table), MustTransform(first, table)))
        << spec_text;
    EXPECT_EQ(loaded->feature_sources(), first.feature_sources());
    EXPECT_EQ(loaded->decisions(), first.decisions());
  }
}

TEST(FeaturePipeline, FromJsonRejectsBrokenDocuments) {
  const table::Table table = MixedTable(40, 1);
  const FeaturePipeline pipeline =
      MustFit(table, RowsUpTo(40), std::vector<float>(40, 0), PipelineSpec());
  nlohmann::json json = pipeline.ToJson();
  json["version"] = 99;
  EXPECT_THAT(FeaturePipeline::FromJson(json).status().message(), HasSubstr("version"));
  json = pipeline.ToJson();
  json["features"][0]["name"] = "renamed";
  EXPECT_THAT(FeaturePipeline::FromJson(json).status().message(), HasSubstr("features[0]"));
  json = pipeline.ToJson();
  json["columns"][0]["steps"] = nlohmann::json::array();
  EXPECT_THAT(FeaturePipeline::FromJson(json).status().message(), HasSubstr("steps"));
  json = pipeline.ToJson();
  json["spec"]["bogus"] = 1;
  EXPECT_THAT(FeaturePipeline::FromJson(json).status().message(), HasSubstr("pipeline.spec.bogus"));
  EXPECT_FALSE(FeaturePipeline::FromJson(nlohmann::json::parse("{}")).ok());
}

// A naive, row-at-a-time reference of the whole pipeline for numeric (median + standard),
// one-hot and date columns, compared on random tables with nulls.
TEST(FeaturePipeline, MatchesRowAtATimeReferenceOnRandomTables) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const table::Table table = MixedTable(700, seed);
    std::vector<int64_t> train;
    for (int64_t row = 0; row < 700; ++row) {
      if ((row * 7 + static_cast<int64_t>(seed)) % 3 != 0) train.push_back(row);
    }
    const FeaturePipeline pipeline =
        MustFit(table, train, std::vector<float>(train.size(), 0),
                SpecFrom(R"({"family": "linear", "categorical": {"top_k": 3}})"));
    const FeatureMatrix matrix = MustTransform(pipeline, table);

    // amount: median impute + standard scaling from the training rows.
    const Column& amount = table.column(0);
    std::vector<std::optional<double>> amounts;
    for (int64_t row = 0; row < 700; ++row) {
      amounts.push_back(amount.IsNull(row) ? std::nullopt
                                           : std::optional<double>(amount.float64_values()[row]));
    }
    ExpectSameFloats(FeatureColumn(matrix, "amount"),
                     NaiveNumeric(amounts, train, "median", 0, "standard"));

    // region: the 3 most frequent training values (ties lexical), else (other)/(missing).
    const Column& region = table.column(2);
    std::map<std::string, int> counts;
    for (int64_t row : train) {
      if (region.IsValid(row)) ++counts[std::string(region.StringAt(row))];
    }
    std::vector<std::pair<std::string, int>> ranked(counts.begin(), counts.end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    ranked.resize(3);
    for (int64_t row = 0; row < 700; ++row) {
      std::string expected = "region=(missing)";
      if (region.IsValid(row)) {
        expected = "region=(other)";
        for (const auto& [value, count] : ranked) {
          if (value == region.StringAt(row)) expected = "region=" + value;
        }
      }
      for (const std::string& name :
           {std::string("region=") + ranked[0].first, std::string("region=") + ranked[1].first,
            std::string("region=") + ranked[2].first, std::string("region=(other)"),
            std::string("region=(missing)")}) {
        EXPECT_EQ(matrix.at(row, FeatureIndex(matrix, name)), name == expected ? 1.0f : 0.0f)
            << "seed " << seed << " row " << row << " " << name;
      }
    }

    // when:elapsed_days: reference = latest training date, median impute, standard scaling.
    const Column& when = table.column(3);
    int32_t reference = INT32_MIN;
    for (int64_t row : train) {
      if (when.IsValid(row)) reference = std::max(reference, when.date_values()[row]);
    }
    std::vector<std::optional<double>> elapsed;
    for (int64_t row = 0; row < 700; ++row) {
      elapsed.push_back(when.IsNull(row)
                            ? std::nullopt
                            : std::optional<double>(reference - when.date_values()[row]));
    }
    ExpectSameFloats(FeatureColumn(matrix, "when:elapsed_days"),
                     NaiveNumeric(elapsed, train, "median", 0, "standard"));
  }
}

}  // namespace
}  // namespace assay::ml
