#include "table/csv_reader.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "table/csv_writer.h"

namespace assay::table {
namespace {

using ::testing::HasSubstr;

// Options that split even tiny inputs into many chunks parsed on two threads, so tests run
// the chunk boundary search, the parallel parse, the stitching and the type merge.
CsvReadOptions Chunked(int64_t chunk_bytes, CsvReadOptions options = {}) {
  options.chunk_bytes = chunk_bytes;
  options.num_threads = 2;
  return options;
}

Table ReadOk(std::string_view text, const CsvReadOptions& options = {},
             CsvReadReport* report = nullptr) {
  absl::StatusOr<Table> table = ReadCsvString(text, options, report);
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *std::move(table) : Table();
}

std::string ReadError(std::string_view text, const CsvReadOptions& options = {}) {
  absl::StatusOr<Table> table = ReadCsvString(text, options);
  EXPECT_FALSE(table.ok());
  if (table.ok()) return "";
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument) << table.status();
  return std::string(table.status().message());
}

const Column& Col(const Table& table, std::string_view name) {
  absl::StatusOr<const Column*> column = table.GetColumn(name);
  EXPECT_TRUE(column.ok()) << column.status();
  static const Column kEmpty;
  return column.ok() ? **column : kEmpty;
}

std::vector<std::optional<std::string>> Strings(const Column& column) {
  std::vector<std::optional<std::string>> out;
  EXPECT_EQ(column.type(), DataType::kString);
  if (column.type() != DataType::kString) return out;
  for (int64_t row = 0; row < column.size(); ++row) {
    if (column.IsNull(row)) {
      out.push_back(std::nullopt);
    } else {
      out.push_back(std::string(column.StringAt(row)));
    }
  }
  return out;
}

std::vector<std::optional<int64_t>> Int64s(const Column& column) {
  std::vector<std::optional<int64_t>> out;
  EXPECT_EQ(column.type(), DataType::kInt64);
  if (column.type() != DataType::kInt64) return out;
  for (int64_t row = 0; row < column.size(); ++row) {
    out.push_back(column.IsNull(row) ? std::nullopt
                                     : std::optional<int64_t>(column.int64_values()[row]));
  }
  return out;
}

using S = std::optional<std::string>;
using I = std::optional<int64_t>;

int64_t Micros(std::string_view timestamp) {
  const auto micros = common::ParseIsoTimestamp(timestamp);
  EXPECT_TRUE(micros.has_value()) << timestamp;
  return micros.value_or(0);
}

// ---------------------------------------------------------------------------------------
// RFC 4180 structure.

TEST(CsvReader, QuotedDelimiter) {
  const Table table = ReadOk("name,n\n\"Smith, John\",1\n\"a,b,c\",2\n");
  EXPECT_EQ(Strings(Col(table, "name")), (std::vector<S>{"Smith, John", "a,b,c"}));
  EXPECT_EQ(Int64s(Col(table, "n")), (std::vector<I>{1, 2}));
}

TEST(CsvReader, DoubledQuotes) {
  const Table table = ReadOk("q,n\n\"say \"\"hi\"\"\",1\n\"\"\"\",2\n\"a\"\"\",3\n");
  EXPECT_EQ(Strings(Col(table, "q")), (std::vector<S>{"say \"hi\"", "\"", "a\""}));
}

TEST(CsvReader, QuotedNewlinesKeepTheirBytesAndLineNumbers) {
  const std::string text =
      "text,n\n"               // line 1
      "\"one\ntwo\",1\n"       // lines 2-3
      "\"three\r\nfour\",2\n"  // lines 4-5
      "\"five\rsix\",3\n"      // lines 6-7
      "seven,4\n";             // line 8
  const Table table = ReadOk(text);
  EXPECT_EQ(Strings(Col(table, "text")),
            (std::vector<S>{"one\ntwo", "three\r\nfour", "five\rsix", "seven"}));
  EXPECT_EQ(Int64s(Col(table, "n")), (std::vector<I>{1, 2, 3, 4}));
  // A bad row after them is reported on its physical line.
  EXPECT_THAT(ReadError(text + "x,5,6\n"), HasSubstr("line 9, column 3: row has 3 fields"));
  EXPECT_THAT(ReadError(text + "x,5,6\n", Chunked(5)), HasSubstr("line 9, column 3"));
}

TEST(CsvReader, Utf8BomIsSkipped) {
  const Table table = ReadOk("\xEF\xBB\xBFid,name\n1,a\n");
  EXPECT_EQ(table.schema().field(0).name, "id");
  EXPECT_EQ(Int64s(Col(table, "id")), (std::vector<I>{1}));
}

TEST(CsvReader, CrlfLineEndings) {
  const Table table = ReadOk("a,b\r\n1,x\r\n2,y\r\n");
  EXPECT_EQ(Int64s(Col(table, "a")), (std::vector<I>{1, 2}));
  EXPECT_EQ(Strings(Col(table, "b")), (std::vector<S>{"x", "y"}));
}

TEST(CsvReader, LoneCrLineEndings) {
  const Table table = ReadOk("a,b\r1,x\r2,y");
  EXPECT_EQ(Int64s(Col(table, "a")), (std::vector<I>{1, 2}));
  EXPECT_EQ(Strings(Col(table, "b")), (std::vector<S>{"x", "y"}));
}

TEST(CsvReader, LastLineWithoutNewline) {
  const Table table = ReadOk("a,b\n1,x\n2,y");
  EXPECT_EQ(Strings(Col(table, "b")), (std::vector<S>{"x", "y"}));
  // A trailing delimiter is an empty last field.
  const Table trailing = ReadOk("a,b\n1,");
  EXPECT_TRUE(Col(trailing, "b").IsNull(0));
}

TEST(CsvReader, BlankLines) {
  // At the end: ignored. Inside a multi-column file: no data, skipped.
  const Table table = ReadOk("\n\na,b\n1,x\n\n2,y\n\r\n\n\r\n");
  EXPECT_EQ(table.num_rows(), 2);
  EXPECT_EQ(Int64s(Col(table, "a")), (std::vector<I>{1, 2}));
  // In a one-column file a blank line inside the data is a null value.
  const Table one = ReadOk("a\n1\n\n3\n\n");
  EXPECT_EQ(Int64s(Col(one, "a")), (std::vector<I>{1, std::nullopt, 3}));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsLiteral) {
  const Table table = ReadOk("item,n\"\n27\" monitor,1\nx\"y\"z,2\n \"padded\",3\n");
  EXPECT_EQ(table.schema().field(1).name, "n\"");
  EXPECT_EQ(Strings(Col(table, "item")),
            (std::vector<S>{"27\" monitor", "x\"y\"z", " \"padded\""}));
  // Odd quote counts fool the quote-parity chunk split; the result must not change.
  std::string big = "item,n\n";
  for (int row = 0; row < 300; ++row) {
    big += row % 3 == 0 ? "27\" monitor," : "\"multi\nline, quoted\",";
    big += std::to_string(row) + "\n";
  }
  const Table whole = ReadOk(big);
  for (int64_t chunk : {1, 7, 64, 500}) {
    EXPECT_TRUE(ReadOk(big, Chunked(chunk)).Equals(whole)) << "chunk_bytes " << chunk;
  }
}

TEST(CsvReader, TextAfterClosingQuoteIsABadRow) {
  EXPECT_EQ(ReadError("a,b\n\"x\"y,1\n"),
            "CSV input line 2, column 1: unexpected text after the closing quote of a quoted "
            "field (inside quotes, write a quote as two quotes \"\") (use --on-bad-rows=skip to "
            "skip such rows)");
  CsvReadOptions skip;
  skip.on_bad_rows = BadRowPolicy::kSkip;
  CsvReadReport report;
  const Table table = ReadOk("a,b\n\"x\"y,1\nok,2\n", skip, &report);
  EXPECT_EQ(Strings(Col(table, "a")), (std::vector<S>{"ok"}));
  EXPECT_EQ(report.skipped_rows, 1);
}

// ---------------------------------------------------------------------------------------
// Delimiter sniffing and headers.

class CsvReaderSniff : public ::testing::TestWithParam<char> {};

TEST_P(CsvReaderSniff, PicksTheConsistentDelimiter) {
  const char d = GetParam();
  // The other candidates appear inside the data; only `d` splits every row into 3 fields.
  std::string others;
  for (const char candidate : {',', ';', '\t', '|'}) {
    if (candidate != d) others += candidate;
  }
  const std::string sep(1, d);
  std::string text = "name" + sep + "score" + sep + "note\n";
  text += "a" + others.substr(0, 1) + "b" + sep + "1.5" + sep + "x" + others.substr(1, 1) + "y\n";
  text += "c" + others.substr(2, 1) + "d" + sep + "2" + sep + "\"q" + sep + "uoted\"\n";
  text += "e" + sep + "-3" + sep + "z" + others + "w\n";
  CsvReadReport report;
  const Table table = ReadOk(text, {}, &report);
  EXPECT_EQ(report.delimiter, d);
  ASSERT_EQ(table.num_columns(), 3);
  EXPECT_EQ(Col(table, "score").type(), DataType::kFloat64);
  EXPECT_EQ(Strings(Col(table, "name")), (std::vector<S>{"a" + others.substr(0, 1) + "b",
                                                         "c" + others.substr(2, 1) + "d", "e"}));
  EXPECT_EQ(Strings(Col(table, "note"))[1], "q" + sep + "uoted");
}

INSTANTIATE_TEST_SUITE_P(CsvReader, CsvReaderSniff, ::testing::Values(',', ';', '\t', '|'));

TEST(CsvReader, SniffFallsBackToCommaForOneColumn) {
  CsvReadReport report;
  const Table table = ReadOk("value\na b\nc d\n", {}, &report);
  EXPECT_EQ(report.delimiter, ',');
  EXPECT_EQ(table.num_columns(), 1);
}

TEST(CsvReader, ExplicitDelimiter) {
  CsvReadOptions options;
  options.delimiter = ';';
  const Table table = ReadOk("a,b;c\n1,5;2\n", options);
  EXPECT_EQ(table.schema().field(0).name, "a,b");
  EXPECT_EQ(Strings(Col(table, "a,b")), (std::vector<S>{"1,5"}));
  options.delimiter = '"';
  EXPECT_THAT(ReadError("a\n", options), HasSubstr("delimiter cannot be a quote"));
}

TEST(CsvReader, HeaderAutoDetection) {
  CsvReadReport report;
  const Table named = ReadOk("id,when\n1,2024-01-02\n", {}, &report);
  EXPECT_TRUE(report.header);
  EXPECT_EQ(named.schema().field(1).name, "when");
  // A number, bool, date or timestamp in the first row means it is data.
  for (const char* first : {"1,a\n2,b\n", "true,a\nfalse,b\n", "2024-01-02,a\n2024-01-03,b\n",
                            "2024-01-02T10:00:00Z,a\n2024-01-03 11:00,b\n", "-1.5,a\n2,b\n"}) {
    const Table data = ReadOk(first, {}, &report);
    EXPECT_FALSE(report.header) << first;
    EXPECT_EQ(data.num_rows(), 2) << first;
    EXPECT_EQ(data.schema().field(0).name, "column_1");
    EXPECT_EQ(data.schema().field(1).name, "column_2");
  }
}

TEST(CsvReader, HeaderForcedPresentOrAbsent) {
  CsvReadOptions present;
  present.header = HeaderMode::kPresent;
  const Table numbers = ReadOk("2023,2024\n1,2\n", present);
  EXPECT_EQ(numbers.schema().field(0).name, "2023");
  EXPECT_EQ(numbers.num_rows(), 1);
  CsvReadOptions absent;
  absent.header = HeaderMode::kAbsent;
  CsvReadReport report;
  const Table words = ReadOk("a,b\nc,d\n", absent, &report);
  EXPECT_FALSE(report.header);
  EXPECT_EQ(Strings(Col(words, "column_1")), (std::vector<S>{"a", "c"}));
}

TEST(CsvReader, BadHeaderNames) {
  EXPECT_THAT(ReadError("a,,c\nx,y,z\n"),
              HasSubstr("CSV input line 1, column 2: the header has an empty column name"));
  EXPECT_THAT(ReadError("\n\"a\",b,a\n"),
              HasSubstr("line 2, column 3: duplicate column name \"a\" (also column 1)"));
}

TEST(CsvReader, EmptyInputIsAnError) {
  for (const char* text : {"", "\n", "\r\n\r\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\n"}) {
    EXPECT_THAT(ReadError(text), HasSubstr("CSV input is empty")) << text;
  }
}

TEST(CsvReader, HeaderOnlyFile) {
  const Table table = ReadOk("a,b\n");
  EXPECT_EQ(table.num_rows(), 0);
  EXPECT_EQ(table.schema(), Schema({{"a", DataType::kString}, {"b", DataType::kString}}));
  CsvReadOptions options;
  options.column_types = {{"b", DataType::kDate}};
  const Table typed = ReadOk("a,b", options);
  EXPECT_EQ(typed.schema(), Schema({{"a", DataType::kString}, {"b", DataType::kDate}}));
}

// ---------------------------------------------------------------------------------------
// Null tokens.

TEST(CsvReader, UnquotedNullTokensAreNull) {
  const Table table = ReadOk("a,b\n1,x\n,x\nNA,x\nN/A,x\nNULL,x\nnull,x\nNaN,x\n");
  EXPECT_EQ(Int64s(Col(table, "a")), (std::vector<I>{1, std::nullopt, std::nullopt, std::nullopt,
                                                     std::nullopt, std::nullopt, std::nullopt}));
}

TEST(CsvReader, QuotedFieldIsNeverNull) {
  const Table table = ReadOk("s,n\n\"NA\",1\n\"\",2\nNA,3\n,4\n\"null\",5\n");
  EXPECT_EQ(Strings(Col(table, "s")),
            (std::vector<S>{"NA", "", std::nullopt, std::nullopt, "null"}));
}

TEST(CsvReader, CustomNullTokens) {
  CsvReadOptions options;
  options.null_tokens = {"-", "missing"};
  const Table table = ReadOk("a,b\n1,-\nmissing,NA\n,x\n", options);
  // "" is not a token here: an empty field is an empty string, which makes `a` a string.
  EXPECT_EQ(Strings(Col(table, "a")), (std::vector<S>{"1", std::nullopt, ""}));
  EXPECT_EQ(Strings(Col(table, "b")), (std::vector<S>{std::nullopt, "NA", "x"}));
}

// ---------------------------------------------------------------------------------------
// Type inference.

TEST(CsvReader, InfersEachType) {
  const Table table = ReadOk(
      "b,i,f,d,t,s\n"
      "true,1,1.5,2024-02-29,2024-02-29T13:45:00Z,x\n"
      "FALSE,-42,1e5,1999-12-31,2024-02-29 13:45:01.250,y\n"
      "True,0,-0.5,,2024-02-29T13:45:00+01:00,\n"
      ",9223372036854775807,.5,2000-01-01,,z\n"
      "false,-9223372036854775808,inf,2000-01-02,2024-01-01T00:00Z,w\n"
      "true,NA,nan,2000-01-03,2024-01-01T00:00:00.000001Z,v\n"
      "true,7,-inf,2000-01-04,2024-01-01T00:00:00Z,1x\n");
  EXPECT_EQ(table.schema(), Schema({{"b", DataType::kBool},
                                    {"i", DataType::kInt64},
                                    {"f", DataType::kFloat64},
                                    {"d", DataType::kDate},
                                    {"t", DataType::kTimestamp},
                                    {"s", DataType::kString}}));
  EXPECT_EQ(Col(table, "b").bool_values(), (std::vector<uint8_t>{1, 0, 1, 0, 0, 1, 1}));
  EXPECT_TRUE(Col(table, "b").IsNull(3));
  EXPECT_EQ(Int64s(Col(table, "i")),
            (std::vector<I>{1, -42, 0, std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(), std::nullopt, 7}));
  const std::vector<double>& f = Col(table, "f").float64_values();
  EXPECT_EQ(f[0], 1.5);
  EXPECT_EQ(f[1], 1e5);
  EXPECT_EQ(f[2], -0.5);
  EXPECT_EQ(f[3], 0.5);
  EXPECT_EQ(f[4], std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(f[5]));
  EXPECT_EQ(f[6], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(Col(table, "d").date_values()[0], *common::ParseIsoDate("2024-02-29"));
  EXPECT_TRUE(Col(table, "d").IsNull(2));
  const std::vector<int64_t>& t = Col(table, "t").int64_values();
  EXPECT_EQ(t[0], Micros("2024-02-29T13:45:00Z"));
  EXPECT_EQ(t[1], Micros("2024-02-29T13:45:01.25Z"));
  EXPECT_EQ(t[2], Micros("2024-02-29T12:45:00Z"));
  EXPECT_EQ(t[5], Micros("2024-01-01T00:00:00.000001Z"));
  EXPECT_EQ(Strings(Col(table, "s")),
            (std::vector<S>{"x", "y", std::nullopt, "z", "w", "v", "1x"}));
}

TEST(CsvReader, TimestampsAgreeWithTheCivilTimeParser) {
  // The reader has a fast path for canonical forms; every form must give what
  // common::ParseIsoTimestamp gives (or a date at midnight), and reject what it rejects.
  const std::vector<std::string> values = {
      "2024-02-29T13:45:00Z",        "2024-02-29T13:45:00.123456Z",  "2023-02-29T13:45:00Z",
      "2024-01-01T24:00:00Z",        "2024-01-01T23:60:00Z",         "2016-12-31T23:59:60Z",
      "2024-01-01T00:00:00.12345xZ", "2024-01-01X00:00:00Z",         "2024-01-01T00:00:00.1Z",
      "2024-01-01 00:00:00",         "2024-01-01T10:00+05:30",       "0000-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999999Z", "2024-01-01T00:00:00.1234567Z", "2024-1-01T00:00:00Z"};
  for (const std::string& value : values) {
    CsvReadOptions options;
    options.column_types = {{"t", DataType::kTimestamp}};
    const absl::StatusOr<Table> table = ReadCsvString("t\n" + value + "\n", options);
    const std::optional<int64_t> expected = common::ParseIsoTimestamp(value);
    ASSERT_EQ(table.ok(), expected.has_value()) << value << ": " << table.status();
    if (expected) {
      EXPECT_EQ(table->column(0).int64_values()[0], *expected) << value;
    }
  }
  for (const std::string value : {"2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10",
                                  "0000-01-01", "2024-1-1", "2024-01-0x"}) {
    CsvReadOptions options;
    options.column_types = {{"d", DataType::kDate}};
    const absl::StatusOr<Table> table = ReadCsvString("d\n" + value + "\n", options);
    const std::optional<int32_t> expected = common::ParseIsoDate(value);
    ASSERT_EQ(table.ok(), expected.has_value()) << value;
    if (expected) {
      EXPECT_EQ(table->column(0).date_values()[0], *expected) << value;
    }
  }
}

TEST(CsvReader, TimestampsOutsideYears0To9999AreStrings) {
  // Offsets can move an instant past year 9999 or before year 0; those have no canonical
  // text, so the values stay strings rather than becoming timestamps that cannot round-trip.
  const Table table = ReadOk(
      "a,b\n9999-12-31T23:30:00-01:00,0000-01-01T00:30:00+01:00\n"
      "9999-12-31T22:30:00-01:00,0000-01-01T01:30:00+01:00\n");
  EXPECT_EQ(Strings(Col(table, "a")),
            (std::vector<S>{"9999-12-31T23:30:00-01:00", "9999-12-31T22:30:00-01:00"}));
  EXPECT_EQ(Strings(Col(table, "b")),
            (std::vector<S>{"0000-01-01T00:30:00+01:00", "0000-01-01T01:30:00+01:00"}));
  CsvReadOptions options;
  options.column_types = {{"a", DataType::kTimestamp}};
  EXPECT_THAT(ReadError("a\n9999-12-31T23:30:00-01:00\n", options),
              HasSubstr("is not a valid timestamp"));
}

TEST(CsvReader, WideningRules) {
  const Table table = ReadOk(
      "if,dt,bi,ds,fb\n"
      "1,2024-01-01,true,2024-01-01,1.5\n"
      "2.5,2024-01-01T06:00:00Z,1,x,false\n");
  EXPECT_EQ(Col(table, "if").type(), DataType::kFloat64);
  EXPECT_EQ(Col(table, "if").float64_values(), (std::vector<double>{1.0, 2.5}));
  EXPECT_EQ(Col(table, "dt").type(), DataType::kTimestamp);
  EXPECT_EQ(Col(table, "dt").int64_values(),
            (std::vector<int64_t>{Micros("2024-01-01T00:00:00Z"), Micros("2024-01-01T06:00:00Z")}));
  // Any other mix becomes string, keeping the original text of every value.
  EXPECT_EQ(Strings(Col(table, "bi")), (std::vector<S>{"true", "1"}));
  EXPECT_EQ(Strings(Col(table, "ds")), (std::vector<S>{"2024-01-01", "x"}));
  EXPECT_EQ(Strings(Col(table, "fb")), (std::vector<S>{"1.5", "false"}));
}

TEST(CsvReader, StringColumnKeepsOriginalText) {
  // Numbers are not re-rendered: "1.50" stays "1.50", "1e3" stays "1e3".
  const Table table = ReadOk("v\n1.50\n1e3\n007x\n-0\n");
  EXPECT_EQ(Strings(Col(table, "v")), (std::vector<S>{"1.50", "1e3", "007x", "-0"}));
}

TEST(CsvReader, LeadingZerosAreNotNumbers) {
  const Table table = ReadOk("zip,code,x,ok\n02134,01.5,00,0\n10001,2.5,1,-0\n");
  EXPECT_EQ(Strings(Col(table, "zip")), (std::vector<S>{"02134", "10001"}));
  EXPECT_EQ(Strings(Col(table, "code")), (std::vector<S>{"01.5", "2.5"}));
  EXPECT_EQ(Strings(Col(table, "x")), (std::vector<S>{"00", "1"}));
  EXPECT_EQ(Int64s(Col(table, "ok")), (std::vector<I>{0, 0}));
}

TEST(CsvReader, IntegerOverflowIsString) {
  const Table table = ReadOk(
      "big,neg,mixed\n"
      "9223372036854775808,-9223372036854775809,1.5\n"
      "1,2,99999999999999999999\n");
  EXPECT_EQ(Strings(Col(table, "big")), (std::vector<S>{"9223372036854775808", "1"}));
  EXPECT_EQ(Strings(Col(table, "neg")), (std::vector<S>{"-9223372036854775809", "2"}));
  // Not a lossy float either.
  EXPECT_EQ(Strings(Col(table, "mixed")), (std::vector<S>{"1.5", "99999999999999999999"}));
}

TEST(CsvReader, NothingBecomesNullSilently) {
  const Table table = ReadOk("n,d\n1,2024-01-01\nabc,2024-13-01\n3,\n");
  EXPECT_EQ(Strings(Col(table, "n")), (std::vector<S>{"1", "abc", "3"}));
  EXPECT_EQ(Strings(Col(table, "d")), (std::vector<S>{"2024-01-01", "2024-13-01", std::nullopt}));
}

TEST(CsvReader, AllNullColumnIsString) {
  const Table table = ReadOk("a,b\n1,\n2,NA\n");
  EXPECT_EQ(Strings(Col(table, "b")), (std::vector<S>{std::nullopt, std::nullopt}));
}

TEST(CsvReader, WideningLateInAMultiChunkFile) {
  // The breaking values sit in the last row of a file spanning hundreds of chunks.
  std::string text = "i,f,s,t,b,n\n";
  constexpr int kRows = 3000;
  for (int row = 0; row < kRows; ++row) {
    text += std::to_string(row) + "," + std::to_string(row) + "," + std::to_string(row * 7) +
            ",2024-01-" + (row % 2 == 0 ? "05" : "06") + "," + (row % 2 ? "true" : "false") + "," +
            (row % 10 == 0 ? "" : std::to_string(row)) + "\n";
  }
  text += "1,2.5,abc,2024-01-07T08:09:10Z,true,NA\n";
  for (int64_t chunk : {int64_t{64}, int64_t{1000}, int64_t{0}}) {
    CsvReadOptions options = Chunked(chunk);
    if (chunk == 0) options.num_threads = 1;
    const Table table = ReadOk(text, options);
    ASSERT_EQ(table.num_rows(), kRows + 1);
    EXPECT_EQ(table.schema(), Schema({{"i", DataType::kInt64},
                                      {"f", DataType::kFloat64},
                                      {"s", DataType::kString},
                                      {"t", DataType::kTimestamp},
                                      {"b", DataType::kBool},
                                      {"n", DataType::kInt64}}));
    const Column& f = Col(table, "f");
    const Column& s = Col(table, "s");
    const Column& t = Col(table, "t");
    const Column& n = Col(table, "n");
    for (int row = 0; row < kRows; ++row) {
      ASSERT_EQ(f.float64_values()[row], row);
      ASSERT_EQ(s.StringAt(row), std::to_string(row * 7));
      ASSERT_EQ(t.int64_values()[row],
                Micros(row % 2 == 0 ? "2024-01-05T00:00:00Z" : "2024-01-06T00:00:00Z"));
      ASSERT_EQ(n.IsNull(row), row % 10 == 0);
    }
    EXPECT_EQ(f.float64_values()[kRows], 2.5);
    EXPECT_EQ(s.StringAt(kRows), "abc");
    EXPECT_EQ(t.int64_values()[kRows], Micros("2024-01-07T08:09:10Z"));
    EXPECT_TRUE(n.IsNull(kRows));
  }
}

TEST(CsvReader, ColumnTurningStringMidChunkRecoversEarlierText) {
  // Within one chunk: values before the switch were parsed as numbers, then re-read as text.
  const Table table = ReadOk("a,b\n1.50,x\nNA,y\n2,z\n\"3\",w\nabc,v\n");
  EXPECT_EQ(Strings(Col(table, "a")), (std::vector<S>{"1.50", std::nullopt, "2", "3", "abc"}));
}

// ---------------------------------------------------------------------------------------
// Explicit column types.

TEST(CsvReader, ExplicitColumnTypesOverrideInference) {
  CsvReadOptions options;
  options.column_types = {{"zip", DataType::kString},
                          {"n", DataType::kInt64},
                          {"x", DataType::kFloat64},
                          {"t", DataType::kTimestamp}};
  const Table table = ReadOk("zip,n,x,t\n02134,007,3,2024-01-01\n10001,-01,1e400,\n", options);
  EXPECT_EQ(Strings(Col(table, "zip")), (std::vector<S>{"02134", "10001"}));
  EXPECT_EQ(Int64s(Col(table, "n")), (std::vector<I>{7, -1}));
  EXPECT_EQ(Col(table, "x").float64_values()[0], 3.0);
  EXPECT_EQ(Col(table, "t").int64_values()[0], Micros("2024-01-01T00:00:00Z"));
  EXPECT_TRUE(Col(table, "t").IsNull(1));
}

TEST(CsvReader, ExplicitTypeMismatchIsABadRow) {
  CsvReadOptions options;
  options.source_name = "visits.csv";
  options.column_types = {{"day", DataType::kDate}};
  EXPECT_EQ(ReadError("id,day\n1,2024-01-01\n2,\"01/02/2024\"\n", options),
            "visits.csv line 3, column 2: value \"01/02/2024\" is not a valid date (column "
            "\"day\" has explicit type date) (use --on-bad-rows=skip to skip such rows)");
  options.on_bad_rows = BadRowPolicy::kSkip;
  CsvReadReport report;
  const Table table = ReadOk("id,day\n1,2024-01-01\n2,01/02/2024\n3,NA\n", options, &report);
  EXPECT_EQ(Int64s(Col(table, "id")), (std::vector<I>{1, 3}));
  EXPECT_EQ(report.skipped_rows, 1);
  ASSERT_EQ(report.skipped_examples.size(), 1u);
  EXPECT_EQ(report.skipped_examples[0].line, 3);
  EXPECT_THAT(report.skipped_examples[0].message, HasSubstr("column 2: value \"01/02/2024\""));
}

TEST(CsvReader, ExplicitTypeForUnknownColumnIsAnError) {
  CsvReadOptions options;
  options.column_types = {{"npi_id", DataType::kInt64}};
  EXPECT_THAT(
      ReadError("hcp_id,specialty\n1,x\n", options),
      HasSubstr("an explicit type (--type) names column \"npi_id\", which CSV input does not have "
                "(columns: hcp_id, specialty)"));
  options.column_types = {{"hcp_id", DataType::kInt64}, {"hcp_id", DataType::kString}};
  EXPECT_THAT(ReadError("hcp_id\n1\n", options), HasSubstr("lists column \"hcp_id\" twice"));
}

// ---------------------------------------------------------------------------------------
// Malformed input.

TEST(CsvReader, RaggedRowIsAnError) {
  CsvReadOptions options;
  options.source_name = "providers.csv";
  EXPECT_EQ(ReadError("a,b,c,d\n1,2,3,4\n1,2,3,4,5\n", options),
            "providers.csv line 3, column 5: row has 5 fields, expected 4 (use "
            "--on-bad-rows=skip to skip such rows)");
  EXPECT_THAT(ReadError("a,b,c,d\n1,2,3,4\n1,2\n", options),
              HasSubstr("providers.csv line 3, column 3: row has 2 fields, expected 4"));
}

TEST(CsvReader, RaggedRowsSkippedAndReported) {
  std::string text = "a,b\n";
  for (int row = 0; row < 40; ++row) {
    text += row % 3 == 1 ? "1,2,3\n" : std::to_string(row) + ",x\n";
  }
  for (int64_t chunk : {int64_t{0}, int64_t{16}}) {
    CsvReadOptions options = Chunked(chunk);
    options.on_bad_rows = BadRowPolicy::kSkip;
    CsvReadReport report;
    const Table table = ReadOk(text, options, &report);
    EXPECT_EQ(table.num_rows(), 27);
    EXPECT_EQ(report.rows, 27);
    EXPECT_EQ(report.skipped_rows, 13);
    ASSERT_EQ(report.skipped_examples.size(), 10u);
    for (size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(report.skipped_examples[i].line, static_cast<int64_t>(3 + 3 * i));
      EXPECT_EQ(report.skipped_examples[i].message, "column 3: row has 3 fields, expected 2");
    }
    EXPECT_EQ(Int64s(Col(table, "a"))[1], 2);
  }
}

TEST(CsvReader, UnterminatedQuoteIsAnErrorEvenWhenSkipping) {
  CsvReadOptions options;
  options.on_bad_rows = BadRowPolicy::kSkip;
  const std::string text = "a,b\n1,2\n3,\"open\n4,5\n6,7\n";
  EXPECT_EQ(ReadError(text, options),
            "CSV input line 3, column 2: unterminated quoted field: the quote that opens it is "
            "never closed (close it, and write a quote inside a quoted field as two quotes \"\")");
  EXPECT_THAT(ReadError(text, Chunked(3, options)), HasSubstr("line 3, column 2: unterminated"));
  EXPECT_THAT(ReadError("\"a,b\n1,2\n"), HasSubstr("line 1, column 1: unterminated quoted field"));
}

TEST(CsvReader, InvalidUtf8NamesLineAndColumn) {
  EXPECT_EQ(ReadError("a,b\nok,1\nx,y\xFFz\n"),
            "CSV input line 3, column 2: invalid UTF-8 (byte 0xFF at byte offset 12); CSV input "
            "must be UTF-8: re-export the file as UTF-8 or convert it, e.g. iconv -f "
            "WINDOWS-1252 -t UTF-8");
  // Latin-1 "é", an overlong encoding, a surrogate, a truncated sequence at the very end.
  EXPECT_THAT(ReadError("name\ncaf\xE9\n"),
              HasSubstr("line 2, column 1: invalid UTF-8 (byte 0xE9"));
  EXPECT_THAT(ReadError("a\n\xC0\xAF\n"), HasSubstr("line 2, column 1: invalid UTF-8 (byte 0xC0"));
  EXPECT_THAT(ReadError("a\n\xED\xA0\x80\n"), HasSubstr("line 2, column 1: invalid UTF-8"));
  EXPECT_THAT(ReadError("a,b\n1,\xE6\x97"),
              HasSubstr("line 2, column 2: invalid UTF-8 (byte 0xE6"));
  // Inside a multi-line quoted field, in a late chunk; under kSkip too.
  std::string text = "a,b\n";
  for (int row = 0; row < 50; ++row) text += "\"x\ny\",1\n";
  text += "\"p\nq\xFFr\",2\n";
  CsvReadOptions options = Chunked(10);
  options.on_bad_rows = BadRowPolicy::kSkip;
  EXPECT_THAT(ReadError(text, options), HasSubstr("line 103, column 1: invalid UTF-8"));
}

TEST(CsvReader, MultibyteUtf8SurvivesChunkSplits) {
  std::string text = "name,city\n";
  for (int row = 0; row < 100; ++row) text += "José 日本,Zürich 🙂\n";
  const Table table = ReadOk(text, Chunked(1));
  ASSERT_EQ(table.num_rows(), 100);
  EXPECT_EQ(Col(table, "name").StringAt(99), "José 日本");
  EXPECT_EQ(Col(table, "city").StringAt(0), "Zürich 🙂");
}

// ---------------------------------------------------------------------------------------
// Files and threads.

TEST(CsvReader, ReadsFilesAndNamesThemInErrors) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("assay_csv_reader_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path good = dir / "good.csv";
  const std::filesystem::path bad = dir / "providers.csv";
  std::ofstream(good) << "id,score\n1,0.5\n2,1.5\n";
  std::ofstream(bad) << "id,score\n1,0.5\n2,1.5,9\n";
  absl::StatusOr<Table> table = ReadCsvFile(good);
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->num_rows(), 2);
  absl::StatusOr<Table> error = ReadCsvFile(bad);
  ASSERT_FALSE(error.ok());
  EXPECT_THAT(std::string(error.status().message()),
              HasSubstr(bad.string() + " line 3, column 3: row has 3 fields, expected 2"));
  EXPECT_EQ(ReadCsvFile(dir / "missing.csv").status().code(), absl::StatusCode::kNotFound);
  std::ofstream(dir / "empty.csv").flush();
  EXPECT_THAT(std::string(ReadCsvFile(dir / "empty.csv").status().message()),
              HasSubstr("empty.csv is empty"));
  std::filesystem::remove_all(dir);
}

TEST(CsvReader, ThreadCountDoesNotChangeTheResult) {
  std::string text = "a,b,c\n";
  for (int row = 0; row < 2000; ++row) {
    text += std::to_string(row * 31 % 977) + ",\"v" + std::to_string(row) + "\n\"," +
            (row % 13 == 0 ? "NA" : std::to_string(row) + ".25") + "\n";
  }
  CsvReadOptions single;
  single.num_threads = 1;
  const Table expected = ReadOk(text, single);
  for (int threads : {0, 2, 3}) {
    CsvReadOptions options = Chunked(100);
    options.num_threads = threads;
    EXPECT_TRUE(ReadOk(text, options).Equals(expected)) << threads;
  }
}

// ---------------------------------------------------------------------------------------
// Model-based: the chunked, parallel reader against a naive one-character-at-a-time
// tokenizer of the documented dialect, on random inputs.

struct NaiveResult {
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: null
  int64_t skipped = 0;
  bool error = false;  // unterminated quote
};

bool IsNullToken(const std::string& text) {
  for (const char* token : {"", "NA", "N/A", "NULL", "null", "NaN"}) {
    if (text == token) return true;
  }
  return false;
}

NaiveResult NaiveRead(std::string text, char delimiter) {
  NaiveResult result;
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  struct Field {
    std::string text;
    bool quoted;
  };
  std::vector<std::vector<Field>> records;
  std::vector<bool> bad;
  size_t i = 0;
  const size_t n = text.size();
  const auto is_break = [&](size_t at) { return text[at] == '\n' || text[at] == '\r'; };
  while (i < n) {
    std::vector<Field> record;
    bool record_bad = false;
    while (true) {
      Field field{"", false};
      if (i < n && text[i] == '"') {
        field.quoted = true;
        ++i;
        while (true) {
          if (i >= n) {
            result.error = true;
            return result;
          }
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.text += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          field.text += text[i++];
        }
        if (i < n && text[i] != delimiter && !is_break(i)) {
          record_bad = true;
          while (i < n && text[i] != delimiter && !is_break(i)) ++i;
        }
      } else {
        while (i < n && text[i] != delimiter && !is_break(i)) field.text += text[i++];
      }
      record.push_back(field);
      if (i == n) break;
      if (text[i] == delimiter) {
        ++i;
        continue;
      }
      if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      ++i;
      break;
    }
    records.push_back(record);
    bad.push_back(record_bad);
  }
  size_t first = 0;
  const auto blank = [&](size_t r) {
    return records[r].size() == 1 && !records[r][0].quoted && records[r][0].text.empty();
  };
  while (first < records.size() && blank(first)) ++first;
  if (first == records.size()) return result;
  const size_t columns = records[first].size();
  for (size_t r = first; r < records.size(); ++r) {
    if (columns > 1 && blank(r)) continue;
    if (bad[r] || records[r].size() != columns) {
      ++result.skipped;
      continue;
    }
    std::vector<std::optional<std::string>> row;
    for (const Field& field : records[r]) {
      if (!field.quoted && IsNullToken(field.text)) {
        row.push_back(std::nullopt);
      } else {
        row.push_back(field.text);
      }
    }
    result.rows.push_back(row);
  }
  return result;
}

std::string RandomCsv(std::mt19937_64& rng, char delimiter, int columns) {
  const std::string d(1, delimiter);
  const std::vector<std::string> pieces = {"ab",
                                           "",
                                           "NA",
                                           "1",
                                           "x y",
                                           "\"q\"",
                                           "\"a" + d + "b\"",
                                           "\"l1\nl2\"",
                                           "\"c\r\nd\"",
                                           "\"e\rf\"",
                                           "\"say \"\"hi\"\"\"",
                                           "\"\"",
                                           "in\"ch",
                                           "a\"b\"c",
                                           " \"sp\"",
                                           "\"\"\"\"",
                                           "\"x\"y",
                                           "é日",
                                           "null",
                                           "\"NA\""};
  const std::vector<std::string> breaks = {"\n", "\r\n", "\r"};
  std::string text;
  // A clean first record fixes the column count.
  for (int c = 0; c < columns; ++c) text += (c ? d : "") + "h" + std::to_string(c);
  text += "\n";
  const int rows = static_cast<int>(rng() % 60);
  for (int row = 0; row < rows; ++row) {
    if (rng() % 12 == 0) {
      text += breaks[rng() % breaks.size()];  // blank line
      continue;
    }
    int fields = columns;
    if (rng() % 10 == 0) fields += rng() % 2 ? 1 : -1;
    for (int c = 0; c < std::max(fields, 1); ++c) {
      if (c) text += d;
      text += pieces[rng() % pieces.size()];
    }
    text += breaks[rng() % breaks.size()];
  }
  if (rng() % 2) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  }
  return text;
}

TEST(CsvReader, MatchesNaiveTokenizerOnRandomInputs) {
  std::mt19937_64 rng(20240601);
  for (int iteration = 0; iteration < 300; ++iteration) {
    const char delimiter = ",;\t|"[iteration % 4];
    const int columns = 1 + static_cast<int>(rng() % 4);
    const std::string text = RandomCsv(rng, delimiter, columns);
    const NaiveResult expected = NaiveRead(text, delimiter);
    for (int64_t chunk : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{37}}) {
      CsvReadOptions options = Chunked(chunk);
      options.delimiter = delimiter;
      options.header = HeaderMode::kAbsent;
      options.on_bad_rows = BadRowPolicy::kSkip;
      for (int c = 0; c < columns; ++c) {
        options.column_types.push_back({"column_" + std::to_string(c + 1), DataType::kString});
      }
      CsvReadReport report;
      absl::StatusOr<Table> table = ReadCsvString(text, options, &report);
      SCOPED_TRACE(::testing::Message()
                   << "iteration " << iteration << " chunk " << chunk << " text:\n"
                   << text);
      ASSERT_EQ(table.ok(), !expected.error) << table.status();
      if (!table.ok()) continue;
      ASSERT_EQ(table->num_rows(), static_cast<int64_t>(expected.rows.size()));
      ASSERT_EQ(report.skipped_rows, expected.skipped);
      for (size_t row = 0; row < expected.rows.size(); ++row) {
        for (int c = 0; c < columns; ++c) {
          const Column& column = table->column(c);
          const std::optional<std::string>& cell = expected.rows[row][c];
          ASSERT_EQ(column.IsNull(static_cast<int64_t>(row)), !cell.has_value())
              << "row " << row << " column " << c;
          if (cell) {
            ASSERT_EQ(column.StringAt(static_cast<int64_t>(row)), *cell);
          }
        }
      }
    }
  }
}

// Typed columns whose values sometimes break the type (anywhere, including the first and
// the last row), nulls, quoted values and quoted line breaks: every chunking and thread
// count must give the single-chunk result, which exercises the type guess from chunk 0, the
// in-place slices, spilling and the merge.
std::string RandomTypedValue(std::mt19937_64& rng, int kind) {
  switch (kind) {
    case 0:
      return std::to_string(static_cast<int64_t>(rng() % 2000) - 1000);
    case 1:
      return std::to_string(static_cast<int64_t>(rng() % 2000) - 1000) + "." +
             std::to_string(rng() % 100);
    case 2:
      return "2024-0" + std::to_string(1 + rng() % 9) + "-1" + std::to_string(rng() % 10);
    case 3:
      return "2024-01-0" + std::to_string(1 + rng() % 9) + "T1" + std::to_string(rng() % 10) +
             ":00:00Z";
    case 4:
      return rng() % 2 ? "true" : "False";
    case 5:
      return rng() % 2 ? "\"multi\nline\"" : "\"a,b\"";
    default:
      return "w" + std::to_string(rng() % 100);
  }
}

TEST(CsvReader, ChunkingDoesNotChangeInference) {
  std::mt19937_64 rng(99);
  for (int iteration = 0; iteration < 60; ++iteration) {
    const int columns = 1 + static_cast<int>(rng() % 5);
    std::vector<int> kinds;
    for (int c = 0; c < columns; ++c) kinds.push_back(static_cast<int>(rng() % 7));
    std::string text;
    for (int c = 0; c < columns; ++c) text += (c ? "," : "") + ("c" + std::to_string(c));
    text += "\n";
    const int rows = 1 + static_cast<int>(rng() % 300);
    const int null_run = static_cast<int>(rng() % 50);  // a column may start with nulls
    for (int row = 0; row < rows; ++row) {
      for (int c = 0; c < columns; ++c) {
        if (c) text += ",";
        const uint64_t draw = rng() % 1000;
        if ((c == 0 && row < null_run) || draw < 100) continue;  // null
        const bool breaks = draw < 104 || (row == rows - 1 && iteration % 3 == 0);
        text += RandomTypedValue(rng, breaks ? static_cast<int>(rng() % 7) : kinds[c]);
      }
      text += rng() % 20 == 0 ? "\r\n" : "\n";
      if (rng() % 50 == 0 && columns > 1) text += "\n";  // a blank line
    }
    CsvReadOptions single;
    single.num_threads = 1;
    CsvReadReport expected_report;
    const Table expected = ReadOk(text, single, &expected_report);
    for (int64_t chunk : {int64_t{1}, int64_t{16}, int64_t{200}, int64_t{1500}}) {
      CsvReadReport report;
      const Table table = ReadOk(text, Chunked(chunk), &report);
      EXPECT_TRUE(table.Equals(expected)) << "iteration " << iteration << " chunk " << chunk << "\n"
                                          << text;
      EXPECT_EQ(report.rows, expected_report.rows);
    }
  }
}

TEST(CsvReader, RandomBytesNeverCrash) {
  // Structural characters, numbers, dates, timestamps near the year limits, and invalid or
  // multi-byte sequences. Every outcome must be a table or INVALID_ARGUMENT, identical for
  // every chunking; a table must survive a write/read round trip with its schema.
  const std::vector<std::string> alphabet = {",",
                                             ";",
                                             "\t",
                                             "|",
                                             "\"",
                                             "\"\"",
                                             "\n",
                                             "\r",
                                             "\r\n",
                                             "1",
                                             "-",
                                             ".",
                                             "e",
                                             "a",
                                             "NA",
                                             "NaN",
                                             "nan",
                                             "007",
                                             "1e400",
                                             "99999999999999999999",
                                             "2024-01-02",
                                             "T10:00Z",
                                             "T10:00:00.1234567+05:30",
                                             "9999-12-31T23:59:59-01:00",
                                             "true",
                                             " ",
                                             std::string(1, '\0'),
                                             "\xFF",
                                             "\xC3\xA9",
                                             "\xE6\x97",
                                             "\xEF\xBB\xBF"};
  std::mt19937_64 rng(7);
  for (int iteration = 0; iteration < 1500; ++iteration) {
    std::string text;
    const int length = static_cast<int>(rng() % 80);
    for (int i = 0; i < length; ++i) text += alphabet[rng() % alphabet.size()];
    CsvReadOptions options;
    options.on_bad_rows = iteration % 2 ? BadRowPolicy::kSkip : BadRowPolicy::kError;
    const absl::StatusOr<Table> whole = ReadCsvString(text, options);
    if (!whole.ok()) {
      EXPECT_EQ(whole.status().code(), absl::StatusCode::kInvalidArgument) << whole.status();
    }
    for (int64_t chunk : {int64_t{1}, int64_t{3}, int64_t{16}}) {
      const absl::StatusOr<Table> chunked = ReadCsvString(text, Chunked(chunk, options));
      ASSERT_EQ(chunked.ok(), whole.ok()) << chunked.status() << " vs " << whole.status();
      if (whole.ok()) {
        EXPECT_TRUE(chunked->Equals(*whole));
      } else {
        EXPECT_EQ(chunked.status(), whole.status());
      }
    }
    if (!whole.ok()) continue;
    CsvReadOptions again;
    again.column_types = whole->schema().fields();
    again.header = HeaderMode::kPresent;
    const std::string written = WriteCsvString(*whole);
    const absl::StatusOr<Table> reread = ReadCsvString(written, again);
    ASSERT_TRUE(reread.ok()) << reread.status() << "\n" << written;
    EXPECT_TRUE(reread->Equals(*whole)) << written;
  }
}

}  // namespace
}  // namespace assay::table
