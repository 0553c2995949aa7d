#include "ml/label_mapping.h"

#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace assay::ml {
namespace {

using table::Column;
using table::ColumnBuilder;
using table::DataType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Column Strings(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) {
    if (value) {
      builder.AppendString(*value);
    } else {
      builder.AppendNull();
    }
  }
  return builder.Finish();
}

Column Ints(const std::vector<std::optional<int64_t>>& values) {
  ColumnBuilder builder(DataType::kInt64);
  for (const auto& value : values) {
    if (value) {
      builder.AppendInt64(*value);
    } else {
      builder.AppendNull();
    }
  }
  return builder.Finish();
}

Column Doubles(const std::vector<std::optional<double>>& values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (const auto& value : values) {
    if (value) {
      builder.AppendFloat64(*value);
    } else {
      builder.AppendNull();
    }
  }
  return builder.Finish();
}

Column Bools(const std::vector<bool>& values) {
  ColumnBuilder builder(DataType::kBool);
  for (bool value : values) builder.AppendBool(value);
  return builder.Finish();
}

// A table with the target column "y" and a filler column "x".
table::Table WithTarget(Column target) {
  const int64_t rows = target.size();
  ColumnBuilder filler(DataType::kInt64);
  for (int64_t row = 0; row < rows; ++row) filler.AppendInt64(row);
  const table::DataType type = target.type();
  auto made = table::Table::Make(table::Schema({{"x", DataType::kInt64}, {"y", type}}),
                                 {filler.Finish(), std::move(target)});
  EXPECT_TRUE(made.ok()) << made.status();
  return *std::move(made);
}

LabelMapping MustInfer(const table::Table& table, LabelSpec spec) {
  auto mapping = LabelMapping::Infer(table, spec);
  EXPECT_TRUE(mapping.ok()) << mapping.status();
  return mapping.ok() ? *std::move(mapping) : LabelMapping();
}

LabelSpec Spec(std::string type = "auto", std::string positive = "") {
  return LabelSpec{"y", std::move(type), std::move(positive)};
}

TEST(LabelMapping, BinaryPositiveInferredFromYesText) {
  const auto table = WithTarget(Strings({"no", "yes", "no", "no", "Yes"}));
  // "yes" and "Yes" are two different classes: three values, so multiclass.
  EXPECT_EQ(MustInfer(table, Spec()).task(), TaskType::kMulticlass);

  const auto binary = WithTarget(Strings({"yes", "no", "yes", "yes", "no"}));
  const LabelMapping mapping = MustInfer(binary, Spec());
  EXPECT_EQ(mapping.task(), TaskType::kBinary);
  // "yes" is the majority, but it reads as positive, which beats the minority rule.
  EXPECT_EQ(mapping.positive_class(), "yes");
  EXPECT_THAT(mapping.classes(), ElementsAre("no", "yes"));
  EXPECT_THAT(mapping.explanation(), HasSubstr("reads as yes/true/1"));
  auto rows = mapping.Map(binary);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(rows->labels, ElementsAre(1, 0, 1, 1, 0));
}

TEST(LabelMapping, BinaryPositiveIsOneForIntegersAndTrueForBools) {
  const LabelMapping ints = MustInfer(WithTarget(Ints({1, 0, 1, 1})), Spec());
  EXPECT_EQ(ints.positive_class(), "1");
  const LabelMapping bools = MustInfer(WithTarget(Bools({true, true, false})), Spec());
  EXPECT_EQ(bools.positive_class(), "true");
  EXPECT_THAT(bools.classes(), ElementsAre("false", "true"));
}

TEST(LabelMapping, BinaryPositiveIsMinorityWithoutAYesValue) {
  const auto table = WithTarget(Strings({"stay", "stay", "churn", "stay"}));
  const LabelMapping mapping = MustInfer(table, Spec());
  EXPECT_EQ(mapping.positive_class(), "churn");
  EXPECT_THAT(mapping.explanation(), HasSubstr("minority class, 1 of 4 rows"));
  // A tie goes to the class sorting last.
  const LabelMapping tie = MustInfer(WithTarget(Strings({"a", "b"})), Spec());
  EXPECT_EQ(tie.positive_class(), "b");
}

TEST(LabelMapping, GivenPositiveClassWins) {
  const auto table = WithTarget(Ints({1, 0, 0}));
  const LabelMapping mapping = MustInfer(table, Spec("binary", "0"));
  EXPECT_EQ(mapping.positive_class(), "0");
  auto rows = mapping.Map(table);
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(rows->labels, ElementsAre(0, 1, 1));

  auto missing = LabelMapping::Infer(table, Spec("binary", "2"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("values: 0, 1"));
}

TEST(LabelMapping, MulticlassSortsNumericTargetsByValue) {
  const auto table = WithTarget(Ints({10, 2, 3, 2, 10}));
  const LabelMapping mapping = MustInfer(table, Spec());
  EXPECT_EQ(mapping.task(), TaskType::kMulticlass);
  EXPECT_THAT(mapping.classes(), ElementsAre("2", "3", "10"));
  auto rows = mapping.Map(table);
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(rows->labels, ElementsAre(2, 0, 1, 0, 2));
  EXPECT_EQ(mapping.ClassName(2), "10");

  const LabelMapping text = MustInfer(WithTarget(Strings({"b", "c", "a", "B"})), Spec());
  EXPECT_THAT(text.classes(), ElementsAre("B", "a", "b", "c"));  // bytewise
}

TEST(LabelMapping, AutoRegressionRule) {
  // Non-integral float values: regression however few.
  EXPECT_EQ(MustInfer(WithTarget(Doubles({0.5, 1, 1})), Spec()).task(), TaskType::kRegression);
  // Integers: regression above kAutoRegressionMinDistinct distinct values, else classes.
  std::vector<std::optional<int64_t>> many, few;
  for (int64_t value = 0; value <= kAutoRegressionMinDistinct; ++value) many.push_back(value);
  for (int64_t value = 0; value < kAutoRegressionMinDistinct; ++value) few.push_back(value);
  EXPECT_EQ(MustInfer(WithTarget(Ints(many)), Spec()).task(), TaskType::kRegression);
  EXPECT_EQ(MustInfer(WithTarget(Ints(few)), Spec()).task(), TaskType::kMulticlass);
  // Integral floats count as integers.
  EXPECT_EQ(MustInfer(WithTarget(Doubles({0.0, 1.0, 1.0})), Spec()).task(), TaskType::kBinary);
}

TEST(LabelMapping, RegressionLabelsAreValues) {
  const auto table = WithTarget(Doubles({1.5, std::nullopt, -2, std::nan("")}));
  const LabelMapping mapping = MustInfer(table, Spec("regression"));
  auto rows = mapping.Map(table);
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(rows->rows, ElementsAre(0, 2));
  EXPECT_THAT(rows->labels, ElementsAre(1.5f, -2.0f));
  EXPECT_EQ(rows->null_target_rows, 2);  // a null and a NaN
  EXPECT_TRUE(mapping.classes().empty());
}

TEST(LabelMapping, NullTargetsAreExcludedAndCounted) {
  const auto table = WithTarget(Strings({"a", std::nullopt, "b", std::nullopt, "a"}));
  const LabelMapping mapping = MustInfer(table, Spec());
  auto rows = mapping.Map(table);
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(rows->rows, ElementsAre(0, 2, 4));
  EXPECT_EQ(rows->null_target_rows, 2);
}

TEST(LabelMapping, IntegerAndFloatTargetsMapAlike) {
  const LabelMapping mapping = MustInfer(WithTarget(Ints({0, 1, 1})), Spec());
  auto rows = mapping.Map(WithTarget(Doubles({1.0, 0.0})));
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_THAT(rows->labels, ElementsAre(1, 0));
}

TEST(LabelMapping, UnknownClassOnMapIsAnError) {
  const LabelMapping mapping = MustInfer(WithTarget(Strings({"a", "b"})), Spec());
  auto rows = mapping.Map(WithTarget(Strings({"a", "c"})));
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rows.status().message(), HasSubstr("\"c\" at row 2"));
}

TEST(LabelMapping, Errors) {
  const auto table = WithTarget(Strings({"a", "b", "c"}));
  auto missing = LabelMapping::Infer(table, LabelSpec{"label", "auto", ""});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("columns: x, y"));

  auto one_class = LabelMapping::Infer(WithTarget(Strings({"a", "a", std::nullopt})), Spec());
  EXPECT_EQ(one_class.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(one_class.status().message(), HasSubstr("only one class"));

  auto all_null = LabelMapping::Infer(WithTarget(Strings({std::nullopt})), Spec());
  EXPECT_EQ(all_null.status().code(), absl::StatusCode::kFailedPrecondition);

  auto text_regression = LabelMapping::Infer(table, Spec("regression"));
  EXPECT_EQ(text_regression.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(text_regression.status().message(), HasSubstr("is string"));

  auto three_binary = LabelMapping::Infer(table, Spec("binary"));
  EXPECT_EQ(three_binary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(three_binary.status().message(), HasSubstr("has 3 distinct values"));

  auto positive_multiclass = LabelMapping::Infer(table, Spec("auto", "a"));
  EXPECT_EQ(positive_multiclass.status().code(), absl::StatusCode::kInvalidArgument);

  auto bad_type = LabelMapping::Infer(table, Spec("ranking"));
  EXPECT_EQ(bad_type.status().code(), absl::StatusCode::kInvalidArgument);

  std::vector<std::optional<std::string>> ids;
  for (int index = 0; index <= kMaxClasses; ++index) ids.push_back("id" + std::to_string(index));
  auto too_many = LabelMapping::Infer(WithTarget(Strings(ids)), Spec());
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_many.status().message(), HasSubstr("too many classes"));

  auto infinite = LabelMapping::Infer(WithTarget(Doubles({1.5, INFINITY})), Spec());
  EXPECT_EQ(infinite.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(infinite.status().message(), HasSubstr("row 2"));
}

TEST(LabelMapping, JsonRoundTrip) {
  const auto table = WithTarget(Strings({"stay", "churn", "stay"}));
  const LabelMapping mapping = MustInfer(table, Spec());
  auto loaded = LabelMapping::FromJson(nlohmann::json::parse(mapping.ToJson().dump()));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->ToJson().dump(), mapping.ToJson().dump());
  EXPECT_EQ(loaded->positive_class(), "churn");
  EXPECT_EQ(loaded->task(), TaskType::kBinary);
  auto rows = loaded->Map(table);
  ASSERT_TRUE(rows.ok());
  EXPECT_THAT(rows->labels, ElementsAre(0, 1, 0));

  nlohmann::json broken = mapping.ToJson();
  broken["classes"] = {"only"};
  EXPECT_EQ(LabelMapping::FromJson(broken).status().code(), absl::StatusCode::kInvalidArgument);
  broken = mapping.ToJson();
  broken.erase("task");
  EXPECT_THAT(LabelMapping::FromJson(broken).status().message(), HasSubstr("\"task\""));
}

}  // namespace
}  // namespace assay::ml
