#include "ml/pipeline_folds.h"

#include <cmath>

#include "gtest/gtest.h"
#include "ml/split_plan.h"
#include "table/column.h"

namespace assay::ml {
namespace {

// 200 rows: a numeric column with some nulls, a categorical column, and the label.
LabelledTable MakeData(table::Table& storage) {
  table::ColumnBuilder amount(table::DataType::kFloat64);
  table::ColumnBuilder specialty(table::DataType::kString);
  table::ColumnBuilder label(table::DataType::kInt64);
  LabelledTable data;
  const char* kSpecialties[] = {"Cardiology", "Oncology", "Pediatrics"};
  for (int row = 0; row < 200; ++row) {
    if (row % 17 == 0) {
      amount.AppendNull();
    } else {
      amount.AppendFloat64(row * 1.5);
    }
    specialty.AppendString(kSpecialties[row % 3]);
    label.AppendInt64(row % 4 == 0 ? 1 : 0);
    data.labels.push_back(row % 4 == 0 ? 1.0f : 0.0f);
  }
  table::Schema schema({{"amount", table::DataType::kFloat64},
                        {"specialty", table::DataType::kString},
                        {"churned", table::DataType::kInt64}});
  storage =
      table::Table::Make(schema, {amount.Finish(), specialty.Finish(), label.Finish()}).value();
  data.table = &storage;
  data.target = "churned";
  return data;
}

TEST(PipelineFolds, FitsOnTheFoldsTrainingRowsOnly) {
  table::Table storage;
  LabelledTable data = MakeData(storage);
  std::vector<int64_t> rows;
  for (int64_t row = 0; row < 200; ++row) rows.push_back(row);
  SplitPlan plan =
      MakeSplitPlan(rows, data.labels, TaskType::kBinary, SplitSpec{}, std::nullopt, 3).value();
  PipelineSpec spec;
  FoldSource folds = MakePipelineFolds(data, spec, plan, 3);
  for (const std::string family : {"trees", "linear"}) {
    absl::StatusOr<FoldData> fold = folds(family, 1);
    ASSERT_TRUE(fold.ok()) << fold.status();
    EXPECT_EQ(fold->train_x.rows, static_cast<int64_t>(plan.folds[1].train_rows.size()));
    EXPECT_EQ(fold->valid_x.rows, static_cast<int64_t>(plan.folds[1].valid_rows.size()));
    EXPECT_EQ(fold->train_x.cols, fold->valid_x.cols);
    EXPECT_EQ(fold->valid_y.size(), plan.folds[1].valid_rows.size());
    // The pipeline fitted on the training rows alone gives the same validation features.
    FittedRows refit = FitOnRows(data, spec, family, plan.folds[1].train_rows, 3).value();
    FeatureMatrix expected =
        refit.pipeline.Transform(storage).value().SelectRows(plan.folds[1].valid_rows);
    EXPECT_EQ(expected.values.size(), fold->valid_x.values.size());
    for (size_t index = 0; index < expected.values.size(); ++index) {
      const float a = expected.values[index], b = fold->valid_x.values[index];
      EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << family << " at " << index;
    }
  }
  // Linear features are imputed: no missing value reaches a linear model.
  FoldData linear = folds("linear", 0).value();
  for (float value : linear.train_x.values) EXPECT_FALSE(std::isnan(value));
}

}  // namespace
}  // namespace assay::ml
