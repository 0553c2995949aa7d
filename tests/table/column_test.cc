#include "table/column.h"

#include "gtest/gtest.h"
#include "table/table.h"

namespace assay::table {
namespace {

TEST(Column, BuilderTracksNullsAndZeroesNullSlots) {
  ColumnBuilder builder(DataType::kString);
  builder.AppendString("a");
  builder.AppendNull();
  builder.AppendString("");
  const Column column = builder.Finish();
  EXPECT_EQ(column.size(), 3);
  EXPECT_EQ(column.null_count(), 1);
  EXPECT_TRUE(column.IsNull(1));
  EXPECT_TRUE(column.IsValid(2));
  EXPECT_EQ(column.StringAt(0), "a");
  EXPECT_EQ(column.StringAt(1), "");
  EXPECT_EQ(column.string_offsets(), (std::vector<int64_t>{0, 1, 1, 1}));
}

TEST(Column, FromBuffersClearsValuesUnderNulls) {
  auto column = Column::FromInt64s({5, 6, 7}, {0b101});
  ASSERT_TRUE(column.ok());
  EXPECT_EQ(column->int64_values(), (std::vector<int64_t>{5, 0, 7}));
  EXPECT_EQ(column->null_count(), 1);
  auto no_nulls = Column::FromInt64s({1, 2}, {0b11});
  ASSERT_TRUE(no_nulls.ok());
  EXPECT_TRUE(no_nulls->validity().empty());
}

TEST(Column, RejectsMalformedBuffers) {
  EXPECT_FALSE(Column::FromInt64s({1, 2, 3}, {0, 0}).ok());
  EXPECT_FALSE(Column::FromStrings({0, 3, 2}, "abc").ok());
  EXPECT_FALSE(Column::FromStrings({1, 3}, "abc").ok());
}

TEST(Column, RendersCanonicalText) {
  ColumnBuilder floats(DataType::kFloat64);
  floats.AppendFloat64(3.0);
  floats.AppendFloat64(0.1);
  floats.AppendNull();
  const Column column = floats.Finish();
  EXPECT_EQ(column.ValueToString(0), "3.0");
  EXPECT_EQ(column.ValueToString(1), "0.1");
  EXPECT_EQ(column.ValueToString(2, "null"), "null");
}

TEST(Column, SliceAndEquals) {
  ColumnBuilder builder(DataType::kInt64);
  for (int i = 0; i < 10; ++i) i % 3 == 0 ? builder.AppendNull() : builder.AppendInt64(i);
  const Column column = builder.Finish();
  const Column slice = column.Slice(2, 3);
  EXPECT_EQ(slice.size(), 3);
  EXPECT_EQ(slice.null_count(), 1);
  EXPECT_TRUE(slice.IsNull(1));
  EXPECT_TRUE(column.Equals(column.Slice(0, 100)));
  EXPECT_FALSE(column.Equals(slice));
}

TEST(Table, MakeValidatesShape) {
  auto ints = Column::FromInt64s({1, 2});
  auto more = Column::FromInt64s({1, 2, 3});
  EXPECT_TRUE(Table::Make(Schema({{"a", DataType::kInt64}}), {*ints}).ok());
  EXPECT_FALSE(
      Table::Make(Schema({{"a", DataType::kInt64}, {"b", DataType::kInt64}}), {*ints, *more}).ok());
  EXPECT_FALSE(
      Table::Make(Schema({{"a", DataType::kInt64}, {"a", DataType::kInt64}}), {*ints, *ints}).ok());
  EXPECT_FALSE(Table::Make(Schema({{"a", DataType::kString}}), {*ints}).ok());
  auto table = Table::Make(Schema({{"a", DataType::kInt64}}), {*ints});
  auto missing = table->GetColumn("b");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("columns: a"), std::string::npos);
}

}  // namespace
}  // namespace assay::table
