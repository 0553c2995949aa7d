#include "table/csv_writer.h"

#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "common/civil_time.h"
#include "common/files.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "table/csv_reader.h"

namespace assay::table {
namespace {

using ::testing::HasSubstr;

Table MakeTable(std::vector<Field> fields, std::vector<Column> columns) {
  absl::StatusOr<Table> table = Table::Make(Schema(std::move(fields)), std::move(columns));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : Table();
}

Column StringColumn(const std::vector<std::optional<std::string>>& values) {
  ColumnBuilder builder(DataType::kString);
  for (const auto& value : values) value ? builder.AppendString(*value) : builder.AppendNull();
  return builder.Finish();
}

Column FloatColumn(const std::vector<double>& values) {
  ColumnBuilder builder(DataType::kFloat64);
  for (double value : values) builder.AppendFloat64(value);
  return builder.Finish();
}

CsvReadOptions WithSchema(const Table& table) {
  CsvReadOptions options;
  options.column_types = table.schema().fields();
  return options;
}

void ExpectRoundTrip(const Table& table, const CsvReadOptions& read_options,
                     const CsvWriteOptions& write_options = {}) {
  const std::string text = WriteCsvString(table, write_options);
  absl::StatusOr<Table> back = ReadCsvString(text, read_options);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  EXPECT_TRUE(back->Equals(table)) << "CSV:\n" << text;
}

TEST(CsvWriter, WritesHeaderAndCanonicalValues) {
  ColumnBuilder b(DataType::kBool), i(DataType::kInt64), d(DataType::kDate),
      t(DataType::kTimestamp);
  b.AppendBool(true);
  b.AppendBool(false);
  i.AppendInt64(-42);
  i.AppendNull();
  d.AppendDate(*common::ParseIsoDate("2024-02-29"));
  d.AppendDate(0);
  t.AppendInt64(*common::ParseIsoTimestamp("2024-02-29T13:45:00.000250Z"));
  t.AppendInt64(0);
  const Table table = MakeTable({{"b", DataType::kBool},
                                 {"i", DataType::kInt64},
                                 {"f", DataType::kFloat64},
                                 {"d", DataType::kDate},
                                 {"t", DataType::kTimestamp},
                                 {"s", DataType::kString}},
                                {b.Finish(), i.Finish(), FloatColumn({3.0, 0.1}), d.Finish(),
                                 t.Finish(), StringColumn({"plain", std::nullopt})});
  EXPECT_EQ(WriteCsvString(table),
            "b,i,f,d,t,s\n"
            "true,-42,3.0,2024-02-29,2024-02-29T13:45:00.000250Z,plain\n"
            "false,,0.1,1970-01-01,1970-01-01T00:00:00Z,\n");
  CsvWriteOptions options;
  options.delimiter = '\t';
  options.header = false;
  EXPECT_EQ(WriteCsvString(table, options),
            "true\t-42\t3.0\t2024-02-29\t2024-02-29T13:45:00.000250Z\tplain\n"
            "false\t\t0.1\t1970-01-01\t1970-01-01T00:00:00Z\t\n");
}

TEST(CsvWriter, QuotesStringsOnlyWhenNeeded) {
  const Table table = MakeTable(
      {{"s", DataType::kString}, {"n", DataType::kInt64}},
      {StringColumn({"plain",   "",          "NA",    "N/A",    "NULL",          "null",
                     "NaN",     "a,b",       "a;b",   "a|b",    "a\tb",          "say \"hi\"",
                     "l1\nl2",  "c\r",       " lead", "trail ", "\xEF\xBB\xBFx", "nan",
                     "in side", std::nullopt}),
       Column::FromInt64s(std::vector<int64_t>(20, 1)).value()});
  EXPECT_EQ(WriteCsvString(table),
            "s,n\n"
            "plain,1\n"
            "\"\",1\n"
            "\"NA\",1\n"
            "\"N/A\",1\n"
            "\"NULL\",1\n"
            "\"null\",1\n"
            "\"NaN\",1\n"
            "\"a,b\",1\n"
            "\"a;b\",1\n"
            "\"a|b\",1\n"
            "\"a\tb\",1\n"
            "\"say \"\"hi\"\"\",1\n"
            "\"l1\nl2\",1\n"
            "\"c\r\",1\n"
            "\" lead\",1\n"
            "\"trail \",1\n"
            "\"\xEF\xBB\xBFx\",1\n"
            "nan,1\n"
            "in side,1\n"
            ",1\n");
}

TEST(CsvWriter, SpecialFloats) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const Table table = MakeTable({{"f", DataType::kFloat64}, {"g", DataType::kFloat64}},
                                {FloatColumn({nan, -nan, inf, -inf, -0.0, 1e300, 5e-324}),
                                 FloatColumn({1, 2, 3, 4, 5, 6, 7})});
  EXPECT_EQ(WriteCsvString(table),
            "f,g\nnan,1.0\n-nan,2.0\ninf,3.0\n-inf,4.0\n-0.0,5.0\n1e+300,6.0\n5e-324,7.0\n");
  ExpectRoundTrip(table, CsvReadOptions());  // inference alone, bit-exact
}

TEST(CsvWriter, OneColumnTableWritesNullAsNA) {
  ColumnBuilder builder(DataType::kInt64);
  builder.AppendNull();
  builder.AppendInt64(1);
  builder.AppendNull();
  builder.AppendNull();
  const Table table = MakeTable({{"n", DataType::kInt64}}, {builder.Finish()});
  EXPECT_EQ(WriteCsvString(table), "n\nNA\n1\nNA\nNA\n");
  ExpectRoundTrip(table, CsvReadOptions());
  const Table strings =
      MakeTable({{"s", DataType::kString}}, {StringColumn({"", std::nullopt, "NA", std::nullopt})});
  EXPECT_EQ(WriteCsvString(strings), "s\n\"\"\nNA\n\"NA\"\nNA\n");
  ExpectRoundTrip(strings, WithSchema(strings));
}

TEST(CsvWriter, TablesWithoutRowsOrColumns) {
  EXPECT_EQ(WriteCsvString(Table()), "");
  const Table empty = MakeTable({{"when", DataType::kDate}, {"x y", DataType::kFloat64}},
                                {Column(DataType::kDate), Column(DataType::kFloat64)});
  EXPECT_EQ(WriteCsvString(empty), "when,x y\n");
  ExpectRoundTrip(empty, WithSchema(empty));
}

TEST(CsvWriter, WritesFilesAtomically) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("assay_csv_writer_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Table table = MakeTable({{"s", DataType::kString}, {"f", DataType::kFloat64}},
                                {StringColumn({"a,b", std::nullopt}), FloatColumn({1.25, -2})});
  const std::filesystem::path path = dir / "out.csv";
  ASSERT_TRUE(WriteCsvFile(table, path).ok());
  absl::StatusOr<std::string> text = common::ReadFile(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "s,f\n\"a,b\",1.25\n,-2.0\n");
  // Overwriting leaves no temporary files behind.
  ASSERT_TRUE(WriteCsvFile(table, path).ok());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  absl::StatusOr<Table> back = ReadCsvFile(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->Equals(table));
  EXPECT_EQ(WriteCsvFile(table, dir / "missing" / "out.csv").code(), absl::StatusCode::kInternal);
  CsvWriteOptions bad;
  bad.delimiter = '\n';
  EXPECT_THAT(std::string(WriteCsvFile(table, path, bad).message()),
              HasSubstr("delimiter cannot be"));
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------------------
// Round-trip properties over random tables (fixed seeds).

const std::vector<std::string>& NastyStrings() {
  static const std::vector<std::string> kStrings = {"",
                                                    " ",
                                                    "  ",
                                                    "NA",
                                                    "N/A",
                                                    "NULL",
                                                    "null",
                                                    "NaN",
                                                    "nan",
                                                    "\"",
                                                    "\"\"",
                                                    "a,b",
                                                    "a;b",
                                                    "a|b",
                                                    "a\tb",
                                                    "line1\nline2",
                                                    "crlf\r\nx",
                                                    "cr\r",
                                                    "\n",
                                                    " lead",
                                                    "trail ",
                                                    "\t",
                                                    "é日本🙂",
                                                    "\xEF\xBB\xBF"
                                                    "bom",
                                                    "123",
                                                    "02134",
                                                    "-0",
                                                    "1e5",
                                                    "true",
                                                    "FALSE",
                                                    "2024-01-01",
                                                    "2024-01-01T00:00:00Z",
                                                    "inf",
                                                    "x\"y",
                                                    "\"quoted\"",
                                                    ",",
                                                    "column_1"};
  return kStrings;
}

std::string RandomString(std::mt19937_64& rng) {
  if (rng() % 3 != 0) return NastyStrings()[rng() % NastyStrings().size()];
  static const std::string kAlphabet = "ab ,;|\t\"\r\nNA01.-xé";
  std::string out;
  const int length = static_cast<int>(rng() % 8);
  for (int i = 0; i < length; ++i) out += kAlphabet[rng() % kAlphabet.size()];
  // Keep the string valid UTF-8: 'é' is two bytes, so drop a dangling lead byte.
  while (!out.empty() && static_cast<unsigned char>(out.back()) == 0xC3) out.pop_back();
  std::string clean;
  for (size_t i = 0; i < out.size(); ++i) {
    const auto byte = static_cast<unsigned char>(out[i]);
    if (byte == 0xA9 && (i == 0 || static_cast<unsigned char>(out[i - 1]) != 0xC3)) continue;
    if (byte == 0xC3 && (i + 1 == out.size() || static_cast<unsigned char>(out[i + 1]) != 0xA9)) {
      continue;
    }
    clean += out[i];
  }
  return clean;
}

double RandomDouble(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return rng() % 2 ? std::numeric_limits<double>::quiet_NaN()
                       : -std::numeric_limits<double>::quiet_NaN();
    case 1:
      return rng() % 2 ? std::numeric_limits<double>::infinity()
                       : -std::numeric_limits<double>::infinity();
    case 2:
      return rng() % 2 ? 0.0 : -0.0;
    case 3:
      return static_cast<double>(static_cast<int64_t>(rng() % 2000) - 1000);
    default: {
      const double value = std::bit_cast<double>(rng());  // any finite bit pattern
      return std::isnan(value) ? 0.5 : value;
    }
  }
}

constexpr int32_t kMinDay = -719528;  // 0000-01-01
constexpr int32_t kMaxDay = 2932896;  // 9999-12-31

// A random table with the given column types; every column holds at least one non-null value
// unless allow_all_null.
Table RandomTable(std::mt19937_64& rng, const std::vector<DataType>& types, int64_t rows,
                  double null_rate, bool nasty_strings) {
  std::vector<Field> fields;
  std::vector<Column> columns;
  for (size_t c = 0; c < types.size(); ++c) {
    const DataType type = types[c];
    fields.push_back({std::string(DataTypeName(type)) + "_" + std::to_string(c), type});
    ColumnBuilder builder(type);
    for (int64_t row = 0; row < rows; ++row) {
      const bool null = row > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < null_rate;
      if (null) {
        builder.AppendNull();
        continue;
      }
      switch (type) {
        case DataType::kBool:
          builder.AppendBool(rng() % 2 == 0);
          break;
        case DataType::kInt64:
          builder.AppendInt64(rng() % 4 == 0 ? static_cast<int64_t>(rng())
                                             : static_cast<int64_t>(rng() % 20001) - 10000);
          break;
        case DataType::kFloat64:
          builder.AppendFloat64(RandomDouble(rng));
          break;
        case DataType::kDate:
          builder.AppendDate(std::uniform_int_distribution<int32_t>(kMinDay, kMaxDay)(rng));
          break;
        case DataType::kTimestamp:
          builder.AppendInt64(std::uniform_int_distribution<int64_t>(
              int64_t{kMinDay} * 86'400'000'000, int64_t{kMaxDay} * 86'400'000'000)(rng));
          break;
        case DataType::kString:
          if (nasty_strings) {
            builder.AppendString(RandomString(rng));
          } else {
            builder.AppendString("name " + std::to_string(rng() % 1000) + (rng() % 2 ? "x" : ""));
          }
          break;
      }
    }
    columns.push_back(builder.Finish());
  }
  return MakeTable(std::move(fields), std::move(columns));
}

const std::vector<DataType> kAllTypes = {DataType::kBool,   DataType::kInt64, DataType::kFloat64,
                                         DataType::kString, DataType::kDate,  DataType::kTimestamp};

TEST(CsvWriter, RoundTripsRandomTablesWithTheirSchema) {
  std::mt19937_64 rng(42);
  for (int iteration = 0; iteration < 200; ++iteration) {
    std::vector<DataType> types;
    const int num_columns = 1 + static_cast<int>(rng() % 7);
    for (int c = 0; c < num_columns; ++c) types.push_back(kAllTypes[rng() % kAllTypes.size()]);
    const int64_t rows = static_cast<int64_t>(rng() % 40);
    const Table table = RandomTable(rng, types, rows, 0.2, /*nasty_strings=*/true);
    CsvWriteOptions write_options;
    write_options.delimiter = ",;\t|"[iteration % 4];
    CsvReadOptions read_options = WithSchema(table);
    read_options.header = HeaderMode::kPresent;
    if (iteration % 3 == 0) {
      read_options.chunk_bytes = 1 + static_cast<int64_t>(rng() % 64);
      read_options.num_threads = 2;
    }
    SCOPED_TRACE(::testing::Message() << "iteration " << iteration);
    ExpectRoundTrip(table, read_options, write_options);
  }
}

TEST(CsvWriter, RoundTripsByInferenceAlone) {
  // Typed columns and plain strings need no schema: header detection, delimiter sniffing and
  // inference recover the table.
  std::mt19937_64 rng(1234);
  for (int iteration = 0; iteration < 100; ++iteration) {
    std::vector<DataType> types;
    const int num_columns = 1 + static_cast<int>(rng() % 6);
    for (int c = 0; c < num_columns; ++c) types.push_back(kAllTypes[rng() % kAllTypes.size()]);
    const int64_t rows = 1 + static_cast<int64_t>(rng() % 200);
    const Table table = RandomTable(rng, types, rows, 0.1, /*nasty_strings=*/false);
    CsvWriteOptions write_options;
    write_options.delimiter = ",;\t|"[iteration % 4];
    CsvReadOptions read_options;
    if (iteration % 2 == 0) {
      read_options.chunk_bytes = 1 + static_cast<int64_t>(rng() % 200);
      read_options.num_threads = 2;
    }
    SCOPED_TRACE(::testing::Message() << "iteration " << iteration);
    ExpectRoundTrip(table, read_options, write_options);
  }
}

TEST(CsvWriter, QuotesValuesContainingAnUnusualDelimiter) {
  std::mt19937_64 rng(5);
  const Table table = RandomTable(rng, kAllTypes, 50, 0.2, /*nasty_strings=*/true);
  for (const char delimiter : {'.', '-', '1', 'e', ':', 'T', 'a', ' '}) {
    CsvWriteOptions options;
    options.delimiter = delimiter;
    CsvReadOptions read_options = WithSchema(table);
    read_options.delimiter = delimiter;
    read_options.header = HeaderMode::kPresent;
    SCOPED_TRACE(::testing::Message() << "delimiter '" << delimiter << "'");
    ExpectRoundTrip(table, read_options, options);
  }
}

}  // namespace
}  // namespace assay::table
