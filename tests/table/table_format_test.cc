#include "table/table_format.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/files.h"
#include "gtest/gtest.h"
#include "table/column.h"
#include "table/table.h"

namespace assay::table {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers.

Table MakeTable(std::vector<Field> fields, std::vector<Column> columns) {
  auto table = Table::Make(Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(table.ok()) << table.status();
  return std::move(table).value();
}

// A random table with one column of each type (two string columns), nulls at `null_rate`,
// floats with NaN, infinities and -0.0, strings with empty and (optionally) large values.
Table RandomTable(uint64_t seed, int64_t rows, double null_rate, bool large_strings = false) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::vector<DataType> types = {DataType::kBool,   DataType::kInt64, DataType::kFloat64,
                                       DataType::kString, DataType::kDate,  DataType::kTimestamp,
                                       DataType::kString};
  std::vector<Field> fields;
  std::vector<Column> columns;
  for (size_t col = 0; col < types.size(); ++col) {
    const DataType type = types[col];
    ColumnBuilder builder(type);
    for (int64_t row = 0; row < rows; ++row) {
      if (unit(rng) < null_rate) {
        builder.AppendNull();
        continue;
      }
      switch (type) {
        case DataType::kBool:
          builder.AppendBool(rng() % 2 == 0);
          break;
        case DataType::kInt64:
          // Mix small values (compressible) and full-range ones.
          builder.AppendInt64(rng() % 4 == 0 ? static_cast<int64_t>(rng())
                                             : static_cast<int64_t>(rng() % 1000) - 500);
          break;
        case DataType::kFloat64: {
          const uint64_t pick = rng() % 20;
          const double special[] = {std::numeric_limits<double>::quiet_NaN(),
                                    std::numeric_limits<double>::infinity(),
                                    -std::numeric_limits<double>::infinity(), -0.0};
          builder.AppendFloat64(pick < 4 ? special[pick] : (unit(rng) - 0.5) * 1e6);
          break;
        }
        case DataType::kString: {
          std::string value;
          const uint64_t pick = rng() % 10;
          if (pick == 0) {
            value = "";
          } else if (large_strings && pick == 1) {
            value.assign(100000 + rng() % 50000, static_cast<char>('a' + rng() % 26));
          } else {
            const size_t length = 1 + rng() % 12;
            for (size_t i = 0; i < length; ++i) value.push_back(static_cast<char>(rng() % 256));
          }
          builder.AppendString(value);
          break;
        }
        case DataType::kDate:
          builder.AppendDate(static_cast<int32_t>(rng() % 40000) - 10000);
          break;
        case DataType::kTimestamp:
          builder.AppendInt64(1'600'000'000'000'000 + static_cast<int64_t>(rng() % 1'000'000'000));
          break;
      }
    }
    fields.push_back(
        Field{"c" + std::to_string(col) + "_" + std::string(DataTypeName(type)), type});
    columns.push_back(builder.Finish());
  }
  return MakeTable(std::move(fields), std::move(columns));
}

// The same logical table, rebuilt value by value.
Table Rebuild(const Table& table) {
  std::vector<Column> columns;
  for (const Column& column : table.columns()) {
    ColumnBuilder builder(column.type());
    for (int64_t row = 0; row < column.size(); ++row) builder.AppendFrom(column, row);
    columns.push_back(builder.Finish());
  }
  return MakeTable(table.schema().fields(), std::move(columns));
}

std::string Encode(const Table& table, TableEncodeOptions options = {}) {
  auto bytes = EncodeTable(table, options);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : std::string();
}

void ExpectRoundTrip(const Table& table, TableEncodeOptions options = {}) {
  const std::string bytes = Encode(table, options);
  auto decoded = DecodeTable(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->Equals(table));
  EXPECT_EQ(decoded->schema(), table.schema());
  EXPECT_EQ(decoded->num_rows(), table.num_rows());
}

void PutLe(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

uint64_t GetLe(std::string_view bytes, size_t pos, int size) {
  uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[pos + i]);
  return value;
}

void SetLe(std::string* bytes, size_t pos, uint64_t value, int size) {
  for (int i = 0; i < size; ++i) (*bytes)[pos + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

constexpr size_t kHeaderSize = 12;
constexpr size_t kTrailerSize = 28;

// Rebuilds a file around a modified footer (and optionally other versions), recomputing the
// footer and trailer checksums as a deliberate forger would.
std::string ForgeFile(std::string_view file, const std::function<void(std::string*)>& edit_footer,
                      uint16_t major = kTableFormatMajorVersion,
                      uint16_t minor = kTableFormatMinorVersion) {
  const std::string_view trailer = file.substr(file.size() - kTrailerSize);
  const uint64_t footer_length = GetLe(trailer, 0, 8);
  const size_t footer_start = file.size() - kTrailerSize - footer_length;
  std::string footer(file.substr(footer_start, footer_length));
  edit_footer(&footer);
  std::string out(file.substr(0, footer_start));
  SetLe(&out, 8, major, 2);
  SetLe(&out, 10, minor, 2);
  out += footer;
  std::string fixed;
  PutLe(&fixed, footer.size(), 8);
  PutLe(&fixed, Crc32c(footer), 4);
  PutLe(&fixed, major, 2);
  PutLe(&fixed, minor, 2);
  PutLe(&fixed, Crc32c(fixed), 4);
  out += fixed;
  out.append("ASSAYTBL");
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checksum.

TEST(TableFormat, Crc32cKnownVectors) {
  // RFC 3720 appendix B.4 and the common "123456789" check value.
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(internal::Crc32cPortable("123456789"), 0xE3069283u);
}

TEST(TableFormat, Crc32cHardwareMatchesPortable) {
  std::mt19937_64 rng(7);
  for (size_t length = 0; length < 300; ++length) {
    std::string data;
    for (size_t i = 0; i < length; ++i) data.push_back(static_cast<char>(rng()));
    // Unaligned starts too.
    for (size_t start = 0; start < std::min<size_t>(length, 9); ++start) {
      const std::string_view view = std::string_view(data).substr(start);
      ASSERT_EQ(Crc32c(view), internal::Crc32cPortable(view)) << length << " " << start;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips.

TEST(TableFormat, RoundTripRandomTables) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(seed);
    const double null_rate = seed % 3 == 0 ? 0.0 : 0.15 * static_cast<double>(seed % 3);
    ExpectRoundTrip(RandomTable(seed, 1 + static_cast<int64_t>(seed) * 397, null_rate));
  }
}

TEST(TableFormat, RoundTripManyChunks) {
  const Table table = RandomTable(11, 1000, 0.2);
  // 7 rows per group: validity bitmaps of chunks start mid-byte of the column bitmap.
  ExpectRoundTrip(table, TableEncodeOptions{.rows_per_group = 7});
  ExpectRoundTrip(table, TableEncodeOptions{.rows_per_group = 8});
  ExpectRoundTrip(table, TableEncodeOptions{.rows_per_group = 1});
  ExpectRoundTrip(table, TableEncodeOptions{.rows_per_group = 999});
  auto footer = DecodeFooter(Encode(table, TableEncodeOptions{.rows_per_group = 7}));
  ASSERT_TRUE(footer.ok()) << footer.status();
  EXPECT_EQ(footer->row_groups.size(), 143u);
  EXPECT_EQ(footer->row_groups.back().num_rows, 1000 - 142 * 7);
}

TEST(TableFormat, RoundTripDefaultGroupsWithPartialLastGroup) {
  ColumnBuilder ints(DataType::kInt64);
  ColumnBuilder strings(DataType::kString);
  const int64_t rows = 2 * kDefaultRowsPerGroup + 1234;
  for (int64_t row = 0; row < rows; ++row) {
    if (row % 1001 == 0) {
      ints.AppendNull();
    } else {
      ints.AppendInt64(row * 7);
    }
    strings.AppendString(std::to_string(row % 777));
  }
  const Table table = MakeTable({{"i", DataType::kInt64}, {"s", DataType::kString}},
                                {ints.Finish(), strings.Finish()});
  ExpectRoundTrip(table);
  auto footer = DecodeFooter(Encode(table));
  ASSERT_TRUE(footer.ok());
  ASSERT_EQ(footer->row_groups.size(), 3u);
  EXPECT_EQ(footer->row_groups[2].first_row, 2 * kDefaultRowsPerGroup);
  EXPECT_EQ(footer->row_groups[2].num_rows, 1234);
}

TEST(TableFormat, RoundTripEmptyAndZeroColumnTables) {
  const Table no_columns;
  ExpectRoundTrip(no_columns);
  const std::string bytes = Encode(no_columns);
  EXPECT_EQ(bytes.size(), kHeaderSize + 16 + kTrailerSize);

  std::vector<Field> fields;
  std::vector<Column> columns;
  for (DataType type : {DataType::kBool, DataType::kInt64, DataType::kFloat64, DataType::kString,
                        DataType::kDate, DataType::kTimestamp}) {
    fields.push_back({std::string(DataTypeName(type)), type});
    columns.push_back(Column(type));
  }
  const Table empty = MakeTable(fields, std::move(columns));
  ExpectRoundTrip(empty);
  auto footer = DecodeFooter(Encode(empty));
  ASSERT_TRUE(footer.ok());
  EXPECT_EQ(footer->schema, empty.schema());
  EXPECT_EQ(footer->num_rows, 0);
  EXPECT_TRUE(footer->row_groups.empty());
}

TEST(TableFormat, RoundTripStringEdgeCases) {
  ColumnBuilder builder(DataType::kString);
  builder.AppendString("");
  builder.AppendNull();
  builder.AppendString("");
  builder.AppendString(std::string(3'000'000, 'x'));  // larger than a zstd block
  builder.AppendString(std::string("nul\0byte", 8));
  builder.AppendString("h\xC3\xA9llo \xE2\x82\xAC");
  builder.AppendNull();
  const Table table = MakeTable({{"s", DataType::kString}}, {builder.Finish()});
  ExpectRoundTrip(table);
  ExpectRoundTrip(table, TableEncodeOptions{.rows_per_group = 2});
  ExpectRoundTrip(RandomTable(5, 300, 0.1, /*large_strings=*/true));

  ColumnBuilder all_empty(DataType::kString);
  for (int i = 0; i < 10; ++i) all_empty.AppendString("");
  ExpectRoundTrip(MakeTable({{"e", DataType::kString}}, {all_empty.Finish()}));
}

TEST(TableFormat, RoundTripAllNullColumns) {
  std::vector<Field> fields;
  std::vector<Column> columns;
  for (DataType type : {DataType::kBool, DataType::kInt64, DataType::kFloat64, DataType::kString,
                        DataType::kDate, DataType::kTimestamp}) {
    ColumnBuilder builder(type);
    for (int i = 0; i < 21; ++i) builder.AppendNull();
    fields.push_back({std::string(DataTypeName(type)), type});
    columns.push_back(builder.Finish());
  }
  const Table table = MakeTable(fields, std::move(columns));
  ExpectRoundTrip(table);
  auto footer = DecodeFooter(Encode(table));
  ASSERT_TRUE(footer.ok());
  for (const ColumnChunkInfo& chunk : footer->row_groups[0].chunks) {
    EXPECT_EQ(chunk.null_count, 21);
    EXPECT_FALSE(chunk.min.has_value());
  }
}

TEST(TableFormat, RoundTripExtremeValues) {
  ColumnBuilder ints(DataType::kInt64);
  ColumnBuilder floats(DataType::kFloat64);
  ColumnBuilder dates(DataType::kDate);
  ColumnBuilder times(DataType::kTimestamp);
  const int64_t int_values[] = {std::numeric_limits<int64_t>::min(), -1, 0,
                                std::numeric_limits<int64_t>::max()};
  const double float_values[] = {std::numeric_limits<double>::denorm_min(),
                                 -std::numeric_limits<double>::max(), std::nan("0x123"), -0.0};
  const int32_t date_values[] = {std::numeric_limits<int32_t>::min(), -1, 0,
                                 std::numeric_limits<int32_t>::max()};
  for (int i = 0; i < 4; ++i) {
    ints.AppendInt64(int_values[i]);
    floats.AppendFloat64(float_values[i]);
    dates.AppendDate(date_values[i]);
    times.AppendInt64(int_values[3 - i]);
  }
  const Table table = MakeTable({{"i", DataType::kInt64},
                                 {"f", DataType::kFloat64},
                                 {"d", DataType::kDate},
                                 {"t", DataType::kTimestamp}},
                                {ints.Finish(), floats.Finish(), dates.Finish(), times.Finish()});
  ExpectRoundTrip(table);
}

TEST(TableFormat, RejectsInvalidOptions) {
  auto bytes = EncodeTable(RandomTable(1, 10, 0.0), TableEncodeOptions{.rows_per_group = 0});
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Determinism and statistics.

TEST(TableFormat, EncodingIsDeterministic) {
  const Table table = RandomTable(3, 5000, 0.1);
  const std::string first = Encode(table);
  EXPECT_EQ(Encode(table), first);
  EXPECT_EQ(Encode(Rebuild(table)), first);
  // Decoding and re-encoding reproduces the bytes.
  auto decoded = DecodeTable(first);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(Encode(*decoded), first);
  // Slices rebuilt from the same values give the same bytes as the original slice.
  EXPECT_EQ(Encode(table.Slice(100, 1000)), Encode(Rebuild(table.Slice(100, 1000))));
  // A different table gives different bytes.
  EXPECT_NE(Encode(table.Slice(0, 4999)), first);
}

TEST(TableFormat, FooterStatisticsMatchData) {
  const Table table = RandomTable(21, 700, 0.2);
  const int64_t group_rows = 64;
  auto footer = DecodeFooter(Encode(table, TableEncodeOptions{.rows_per_group = group_rows}));
  ASSERT_TRUE(footer.ok()) << footer.status();
  EXPECT_EQ(footer->major_version, kTableFormatMajorVersion);
  EXPECT_EQ(footer->minor_version, kTableFormatMinorVersion);
  EXPECT_EQ(footer->schema, table.schema());
  EXPECT_EQ(footer->num_rows, 700);
  ASSERT_EQ(footer->row_groups.size(), 11u);
  for (size_t group = 0; group < footer->row_groups.size(); ++group) {
    const RowGroupInfo& info = footer->row_groups[group];
    EXPECT_EQ(info.first_row, static_cast<int64_t>(group) * group_rows);
    for (int col = 0; col < table.num_columns(); ++col) {
      SCOPED_TRACE(testing::Message() << "group " << group << " column " << col);
      const Column& column = table.column(col);
      const ColumnChunkInfo& chunk = info.chunks[col];
      // Naive reference statistics.
      int64_t nulls = 0;
      std::optional<double> lo, hi;
      for (int64_t row = info.first_row; row < info.first_row + info.num_rows; ++row) {
        if (column.IsNull(row)) {
          ++nulls;
          continue;
        }
        double value;
        switch (column.type()) {
          case DataType::kInt64:
          case DataType::kTimestamp:
            value = static_cast<double>(column.int64_values()[row]);
            break;
          case DataType::kFloat64:
            value = column.float64_values()[row];
            break;
          case DataType::kDate:
            value = column.date_values()[row];
            break;
          default:
            continue;
        }
        if (std::isnan(value)) continue;
        if (!lo || value < *lo) lo = value;
        if (!hi || value > *hi) hi = value;
      }
      EXPECT_EQ(chunk.null_count, nulls);
      EXPECT_EQ(chunk.buffers.size(), column.type() == DataType::kString ? 3u : 2u);
      EXPECT_EQ(chunk.buffers[0].raw_size,
                nulls > 0 ? (static_cast<uint64_t>(info.num_rows) + 7) / 8 : 0u);
      ASSERT_EQ(chunk.min.has_value(), lo.has_value());
      if (lo) {
        const auto as_double = [](const ChunkBound& bound) {
          return std::holds_alternative<double>(bound)
                     ? std::get<double>(bound)
                     : static_cast<double>(std::get<int64_t>(bound));
        };
        EXPECT_EQ(as_double(*chunk.min), *lo);
        EXPECT_EQ(as_double(*chunk.max), *hi);
        EXPECT_EQ(std::holds_alternative<double>(*chunk.min), column.type() == DataType::kFloat64);
      }
      EXPECT_GT(chunk.stored_size(), 0u);
      EXPECT_GE(chunk.raw_size(), static_cast<uint64_t>(info.num_rows));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Corruption, truncation and hostile input.

void ExpectDataLoss(std::string_view bytes, const std::string& what) {
  auto decoded = DecodeTable(bytes);
  ASSERT_FALSE(decoded.ok()) << what << ": corruption was not detected";
  ASSERT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss)
      << what << ": " << decoded.status();
}

Table SmallTable() {
  ColumnBuilder b(DataType::kBool), i(DataType::kInt64), f(DataType::kFloat64),
      s(DataType::kString), d(DataType::kDate), t(DataType::kTimestamp);
  for (int row = 0; row < 9; ++row) {
    if (row == 4) {
      b.AppendNull();
      i.AppendNull();
      f.AppendNull();
      s.AppendNull();
      d.AppendNull();
      t.AppendNull();
      continue;
    }
    b.AppendBool(row % 3 == 0);
    i.AppendInt64(row * 1000 - 3);
    f.AppendFloat64(row * 0.25);
    s.AppendString(std::string(static_cast<size_t>(row), 'a' + row));
    d.AppendDate(19000 + row);
    t.AppendInt64(1'700'000'000'000'000 + row * 1'000'001);
  }
  return MakeTable({{"flag", DataType::kBool},
                    {"count", DataType::kInt64},
                    {"score", DataType::kFloat64},
                    {"name", DataType::kString},
                    {"day", DataType::kDate},
                    {"at", DataType::kTimestamp}},
                   {b.Finish(), i.Finish(), f.Finish(), s.Finish(), d.Finish(), t.Finish()});
}

TEST(TableFormat, DetectsEverySingleByteCorruptionOfASmallFile) {
  const std::string original = Encode(SmallTable(), TableEncodeOptions{.rows_per_group = 4});
  ASSERT_FALSE(original.empty());
  for (size_t pos = 0; pos < original.size(); ++pos) {
    for (const uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string corrupt = original;
      corrupt[pos] = static_cast<char>(corrupt[pos] ^ mask);
      ExpectDataLoss(corrupt, "byte " + std::to_string(pos) + " ^ " + std::to_string(mask));
      auto footer = DecodeFooter(corrupt);
      // DecodeFooter does not read chunks, but must catch everything else.
      if (pos >= kHeaderSize && footer.ok()) {
        continue;
      }
      ASSERT_FALSE(footer.ok()) << "byte " << pos;
      ASSERT_EQ(footer.status().code(), absl::StatusCode::kDataLoss) << footer.status();
    }
  }
}

TEST(TableFormat, DetectsDenseSampleOfCorruptionsInALargerFile) {
  const std::string original =
      Encode(RandomTable(8, 3000, 0.1), TableEncodeOptions{.rows_per_group = 1000});
  ASSERT_GT(original.size(), 20000u);
  std::mt19937_64 rng(99);
  for (size_t pos = 0; pos < original.size(); pos += 1 + rng() % 9) {
    std::string corrupt = original;
    corrupt[pos] = static_cast<char>(corrupt[pos] ^ static_cast<char>(1 + rng() % 255));
    ExpectDataLoss(corrupt, "byte " + std::to_string(pos));
  }
}

TEST(TableFormat, CorruptionErrorsNameTheChunk) {
  const std::string original = Encode(SmallTable(), TableEncodeOptions{.rows_per_group = 4});
  auto footer = DecodeFooter(original);
  ASSERT_TRUE(footer.ok());
  const ColumnChunkInfo& chunk = footer->row_groups[1].chunks[3];  // column "name", rows 5-8
  std::string corrupt = original;
  corrupt[chunk.offset + 1] ^= 0x10;
  auto decoded = DecodeTable(corrupt);
  ASSERT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(std::string(decoded.status().message()),
            "corrupt table file: checksum mismatch in chunk 1 of column \"name\" (rows 5 to 8)");

  std::string bad_magic = original;
  bad_magic[0] = 'X';
  EXPECT_NE(std::string(DecodeTable(bad_magic).status().message()).find("bad magic"),
            std::string::npos);
  EXPECT_NE(std::string(DecodeTable("not a table").status().message()).find("truncated"),
            std::string::npos);
}

TEST(TableFormat, DetectsTruncationAtEveryLength) {
  const std::string original = Encode(SmallTable(), TableEncodeOptions{.rows_per_group = 4});
  for (size_t length = 0; length < original.size(); ++length) {
    const std::string_view prefix = std::string_view(original).substr(0, length);
    ExpectDataLoss(prefix, "prefix of " + std::to_string(length) + " bytes");
    EXPECT_EQ(DecodeFooter(prefix).status().code(), absl::StatusCode::kDataLoss);
  }
  ExpectDataLoss(original + "x", "one byte appended");
  ExpectDataLoss(original + original, "file appended to itself");
  ExpectDataLoss("x" + original, "one byte prepended");
}

TEST(TableFormat, RejectsNewerMajorVersionWithFailedPrecondition) {
  const std::string original = Encode(SmallTable());
  const std::string newer = ForgeFile(
      original, [](std::string*) {}, kTableFormatMajorVersion + 1);
  auto decoded = DecodeTable(newer);
  ASSERT_EQ(decoded.status().code(), absl::StatusCode::kFailedPrecondition) << decoded.status();
  EXPECT_NE(std::string(decoded.status().message()).find("upgrade Assay"), std::string::npos);
  EXPECT_EQ(DecodeFooter(newer).status().code(), absl::StatusCode::kFailedPrecondition);
  // Version 0 never existed.
  EXPECT_EQ(DecodeTable(ForgeFile(
                            original, [](std::string*) {}, 0))
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
}

TEST(TableFormat, NewerMinorVersionMayAppendFooterFields) {
  const Table table = SmallTable();
  const std::string original = Encode(table);
  const auto append = [](std::string* footer) { footer->append("future field"); };
  auto newer = DecodeTable(
      ForgeFile(original, append, kTableFormatMajorVersion, kTableFormatMinorVersion + 1));
  ASSERT_TRUE(newer.ok()) << newer.status();
  EXPECT_TRUE(newer->Equals(table));
  // The same bytes under the current minor version are corruption.
  EXPECT_EQ(DecodeTable(ForgeFile(original, append)).status().code(), absl::StatusCode::kDataLoss);
  // Forging without changes reproduces the original file exactly.
  EXPECT_EQ(ForgeFile(original, [](std::string*) {}), original);
}

// Footer of a one-column int64 table "x" (docs/formats/table.md): field offsets.
constexpr size_t kNumColumnsAt = 0;
constexpr size_t kNumRowsAt = 10;
constexpr size_t kNumGroupsAt = 18;
constexpr size_t kGroupRowsAt = 22;
constexpr size_t kChunkOffsetAt = 30;
constexpr size_t kNullCountAt = 42;
constexpr size_t kValuesStoredAt = 83;
constexpr size_t kValuesRawAt = 91;

TEST(TableFormat, RejectsForgedFootersWithoutAllocating) {
  ColumnBuilder builder(DataType::kInt64);
  for (int i = 0; i < 100; ++i) builder.AppendInt64(i);
  const std::string original = Encode(MakeTable({{"x", DataType::kInt64}}, {builder.Finish()}));
  ASSERT_TRUE(DecodeTable(ForgeFile(original, [](std::string*) {})).ok());
  const uint64_t stored = GetLe(original, original.size() - kTrailerSize - 99 + kValuesStoredAt, 8);
  struct Case {
    const char* what;
    std::function<void(std::string*)> edit;
  };
  const auto set = [](size_t pos, uint64_t value, int size) {
    return [=](std::string* footer) { SetLe(footer, pos, value, size); };
  };
  const auto rows = [](uint64_t count) {
    return [=](std::string* footer) {
      SetLe(footer, kNumRowsAt, count, 8);
      SetLe(footer, kGroupRowsAt, count, 8);
      SetLe(footer, kValuesRawAt, count * 8, 8);
    };
  };
  const std::vector<Case> cases = {
      {"huge column count", set(kNumColumnsAt, 0xFFFFFFFF, 4)},
      {"huge group count", set(kNumGroupsAt, 0xFFFFFFFF, 4)},
      {"row count mismatch", set(kNumRowsAt, 101, 8)},
      {"row count overflow", set(kNumRowsAt, ~0ull, 8)},
      {"null count above rows", set(kNullCountAt, 101, 8)},
      {"nulls without bitmap", set(kNullCountAt, 1, 8)},
      {"chunk offset", set(kChunkOffsetAt, kHeaderSize + 1, 8)},
      {"stored size past footer", set(kValuesStoredAt, 1'000'000, 8)},
      {"raw size beyond any zstd frame", rows(1ull << 58)},
      // Within the zstd bound but not what the frame holds: caught by the dry run.
      {"raw size not backed by data", rows(stored * 4000)},
      {"raw size slightly off", set(kValuesRawAt, 808, 8)},
      {"truncated footer", [](std::string* footer) { footer->resize(footer->size() - 1); }},
      {"empty footer", [](std::string* footer) { footer->clear(); }},
      {"unknown type", set(9, 9, 1)},
      {"empty name",
       [](std::string* footer) {
         SetLe(footer, 4, 0, 4);
         footer->erase(8, 1);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string forged = ForgeFile(original, c.edit);
    auto decoded = DecodeTable(forged);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << decoded.status();
  }
}

TEST(TableFormat, SurvivesRandomForgedMutations) {
  // Mutations with checksums recomputed, as a fuzzer that learns to forge them would produce:
  // decoding may fail or succeed, but must never crash (run under ASan/UBSan).
  const Table table = RandomTable(4, 200, 0.2);
  const std::string original = Encode(table, TableEncodeOptions{.rows_per_group = 64});
  auto footer = DecodeFooter(original);
  ASSERT_TRUE(footer.ok());
  std::mt19937_64 rng(1234);
  int decoded_ok = 0;
  for (int iteration = 0; iteration < 1500; ++iteration) {
    std::string forged;
    if (iteration % 2 == 0) {
      // Footer mutation.
      forged = ForgeFile(original, [&](std::string* f) {
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits; ++e)
          (*f)[rng() % f->size()] ^= static_cast<char>(1 + rng() % 255);
      });
    } else {
      // Chunk byte mutation with the chunk's CRC recomputed and patched into the footer.
      const RowGroupInfo& group = footer->row_groups[rng() % footer->row_groups.size()];
      const ColumnChunkInfo& chunk = group.chunks[rng() % group.chunks.size()];
      std::string body = original;
      body[chunk.offset + rng() % chunk.stored_size()] ^= static_cast<char>(1 + rng() % 255);
      const uint32_t crc = Crc32c(std::string_view(body).substr(chunk.offset, chunk.stored_size()));
      forged = ForgeFile(body, [&](std::string* f) {
        std::string old_crc, new_crc;
        PutLe(&old_crc, chunk.crc32c, 4);
        PutLe(&new_crc, crc, 4);
        const size_t at = f->find(old_crc);
        if (at != std::string::npos) f->replace(at, 4, new_crc);
      });
    }
    auto decoded = DecodeTable(forged);
    if (decoded.ok()) {
      // Whatever decodes is a valid table: it re-encodes and decodes to itself.
      ++decoded_ok;
      EXPECT_EQ(decoded->num_columns(), table.num_columns());
      auto again = DecodeTable(Encode(*decoded));
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_TRUE(again->Equals(*decoded));
    } else {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << decoded.status();
    }
  }
  // Most mutations must be caught by the structural checks, but some (a changed literal
  // inside a zstd frame, a changed statistic) legitimately decode.
  EXPECT_LT(decoded_ok, 1500);
}

// ---------------------------------------------------------------------------------------------
// Golden files: bytes written by an earlier build must keep decoding to the same table, and
// the current encoder must reproduce them exactly. Regenerate deliberately with
//   ASSAY_REGENERATE_GOLDENS=1 ./assay_table_test --gtest_filter='TableFormat.Golden*'

Table GoldenTable() {
  ColumnBuilder b(DataType::kBool), i(DataType::kInt64), f(DataType::kFloat64),
      s(DataType::kString), d(DataType::kDate), t(DataType::kTimestamp);
  const int64_t ints[] = {0, -1, 42, std::numeric_limits<int64_t>::max(), 7, 8, 9};
  const double floats[] = {0.5,  -0.0, 1e300, std::numeric_limits<double>::infinity(),
                           3.25, -2.5, 0.1};
  const char* strings[] = {"alpha", "", "h\xC3\xA9llo", "delta", "epsilon", "zeta", "eta"};
  for (int row = 0; row < 7; ++row) {
    if (row == 5) {
      b.AppendNull();
      i.AppendNull();
      f.AppendNull();
      s.AppendNull();
      d.AppendNull();
      t.AppendNull();
      continue;
    }
    b.AppendBool(row % 2 == 0);
    i.AppendInt64(ints[row]);
    f.AppendFloat64(row == 6 ? std::numeric_limits<double>::quiet_NaN() : floats[row]);
    s.AppendString(strings[row]);
    d.AppendDate(19723 + row);  // 2024-01-01 onwards
    t.AppendInt64(1'704'067'200'000'000 + row * 3'600'000'123);
  }
  return MakeTable({{"is_active", DataType::kBool},
                    {"rx_count", DataType::kInt64},
                    {"score", DataType::kFloat64},
                    {"specialty", DataType::kString},
                    {"visit_date", DataType::kDate},
                    {"updated_at", DataType::kTimestamp}},
                   {b.Finish(), i.Finish(), f.Finish(), s.Finish(), d.Finish(), t.Finish()});
}

void CheckGolden(const std::string& file_name, const TableEncodeOptions& options) {
  // ctest sets ASSAY_TEST_DATA; the compiled-in source path serves a binary run by hand.
  const char* data_dir = std::getenv("ASSAY_TEST_DATA");
  if (data_dir == nullptr) data_dir = ASSAY_TEST_DATA_DIR;
  const std::filesystem::path path = std::filesystem::path(data_dir) / "table_format" / file_name;
  const Table table = GoldenTable();
  const std::string encoded = Encode(table, options);
  const char* regenerate = std::getenv("ASSAY_REGENERATE_GOLDENS");
  if (regenerate != nullptr && std::string(regenerate) == "1") {
    std::filesystem::create_directories(path.parent_path());
    ASSERT_TRUE(common::AtomicWriteFile(path, encoded).ok());
  }
  auto golden = common::ReadFile(path);
  ASSERT_TRUE(golden.ok()) << golden.status() << " (regenerate with ASSAY_REGENERATE_GOLDENS=1)";
  auto decoded = DecodeTable(*golden);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->Equals(table)) << "golden " << file_name << " no longer decodes to the "
                                      << "known table";
  EXPECT_TRUE(encoded == *golden)
      << "the encoder no longer reproduces " << file_name
      << " byte for byte: a format change needs a version bump (docs/formats/table.md)";
}

TEST(TableFormat, GoldenV1Small) { CheckGolden("v1_small.assaytbl", TableEncodeOptions{}); }

TEST(TableFormat, GoldenV1RowGroups) {
  CheckGolden("v1_row_groups.assaytbl", TableEncodeOptions{.rows_per_group = 3});
}

}  // namespace
}  // namespace assay::table
