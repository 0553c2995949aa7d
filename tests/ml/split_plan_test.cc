#include "ml/split_plan.h"

#include <algorithm>
#include <map>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace assay::ml {
namespace {

// Rows 0..n-1 with every `stride`-th row positive.
void MakeLabels(int n, int stride, std::vector<int64_t>& rows, std::vector<float>& labels) {
  for (int row = 0; row < n; ++row) {
    rows.push_back(row);
    labels.push_back(row % stride == 0 ? 1.0f : 0.0f);
  }
}

TEST(SplitPlan, StratifiedFoldsPartitionTheSearchRows) {
  std::vector<int64_t> rows;
  std::vector<float> labels;
  MakeLabels(1000, 10, rows, labels);
  SplitSpec spec;
  absl::StatusOr<SplitPlan> plan =
      MakeSplitPlan(rows, labels, TaskType::kBinary, spec, std::nullopt, 7);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->holdout_rows.size(), 200u);
  EXPECT_EQ(plan->search_rows.size(), 800u);
  // Holdout and search rows are disjoint and cover everything.
  std::set<int64_t> all(plan->holdout_rows.begin(), plan->holdout_rows.end());
  all.insert(plan->search_rows.begin(), plan->search_rows.end());
  EXPECT_EQ(all.size(), 1000u);
  // Each class keeps its 10% share in the holdout and in every validation fold.
  auto positives = [&](const std::vector<int64_t>& subset) {
    return std::count_if(subset.begin(), subset.end(), [](int64_t row) { return row % 10 == 0; });
  };
  EXPECT_EQ(positives(plan->holdout_rows), 20);
  std::multiset<int64_t> validated;
  for (const Fold& fold : plan->folds) {
    EXPECT_EQ(positives(fold.valid_rows), 16);
    EXPECT_EQ(fold.train_rows.size() + fold.valid_rows.size(), 800u);
    for (int64_t row : fold.valid_rows) {
      validated.insert(row);
      EXPECT_FALSE(std::binary_search(fold.train_rows.begin(), fold.train_rows.end(), row));
      EXPECT_FALSE(std::binary_search(plan->holdout_rows.begin(), plan->holdout_rows.end(), row));
    }
  }
  // Every search row is validated exactly once.
  EXPECT_EQ(validated.size(), 800u);
  EXPECT_EQ(std::set<int64_t>(validated.begin(), validated.end()).size(), 800u);
}

TEST(SplitPlan, SameSeedSamePlanOtherSeedOtherPlan) {
  std::vector<int64_t> rows;
  std::vector<float> labels;
  MakeLabels(300, 3, rows, labels);
  SplitSpec spec;
  auto a = MakeSplitPlan(rows, labels, TaskType::kBinary, spec, std::nullopt, 1);
  auto b = MakeSplitPlan(rows, labels, TaskType::kBinary, spec, std::nullopt, 1);
  auto c = MakeSplitPlan(rows, labels, TaskType::kBinary, spec, std::nullopt, 2);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->holdout_rows, b->holdout_rows);
  EXPECT_EQ(a->folds[3].valid_rows, b->folds[3].valid_rows);
  EXPECT_NE(a->holdout_rows, c->holdout_rows);
}

TEST(SplitPlan, TimeSplitHoldsOutTheLatestAndChainsForward) {
  std::vector<int64_t> rows;
  std::vector<float> labels;
  std::vector<int64_t> times;
  for (int row = 0; row < 120; ++row) {
    rows.push_back(row);
    labels.push_back(static_cast<float>(row % 2));
    times.push_back(1000 - row);  // later rows are older
  }
  SplitSpec spec;
  spec.folds = 3;
  spec.holdout = 0.25;
  spec.time_column = "as_of";
  auto plan = MakeSplitPlan(rows, labels, TaskType::kBinary, spec, times, 1);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // The holdout is the 30 most recent rows: row ids 0..29.
  ASSERT_EQ(plan->holdout_rows.size(), 30u);
  EXPECT_EQ(plan->holdout_rows.front(), 0);
  EXPECT_EQ(plan->holdout_rows.back(), 29);
  for (const Fold& fold : plan->folds) {
    // Every training row is older (larger id here) than every validation row.
    EXPECT_GT(*std::min_element(fold.train_rows.begin(), fold.train_rows.end()),
              *std::max_element(fold.valid_rows.begin(), fold.valid_rows.end()));
  }
  EXPECT_LT(plan->folds[0].train_rows.size(), plan->folds[2].train_rows.size());
}

TEST(SplitPlan, TooFewRowsIsAClearError) {
  std::vector<int64_t> rows;
  std::vector<float> labels;
  MakeLabels(12, 2, rows, labels);
  absl::Status status =
      MakeSplitPlan(rows, labels, TaskType::kBinary, SplitSpec{}, std::nullopt, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), testing::HasSubstr("only 12 labelled rows"));
}

TEST(SplitPlan, RareClassIsAClearError) {
  std::vector<int64_t> rows;
  std::vector<float> labels;
  MakeLabels(200, 100, rows, labels);  // two positives
  absl::Status status =
      MakeSplitPlan(rows, labels, TaskType::kBinary, SplitSpec{}, std::nullopt, 1).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), testing::HasSubstr("has only 2 rows"));
}

}  // namespace
}  // namespace assay::ml
