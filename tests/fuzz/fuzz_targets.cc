#include "tests/fuzz/fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "expr/expression.h"
#include "table/column.h"
#include "table/csv_reader.h"
#include "table/csv_writer.h"
#include "table/table_format.h"

namespace assay::fuzz {
namespace {

// A fuzz property failed: print what and the input (escaped), then abort so both libFuzzer
// and the smoke test report it.
void Require(bool condition, const char* what, std::string_view input) {
  if (condition) return;
  std::string escaped;
  for (unsigned char c : input) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      escaped.push_back(static_cast<char>(c));
    } else {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
      escaped += buffer;
    }
  }
  std::fprintf(stderr, "fuzz property failed: %s\ninput (%zu bytes): \"%s\"\n", what, input.size(),
               escaped.c_str());
  std::abort();
}

}  // namespace

void FuzzCsvReader(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const auto policy : {table::BadRowPolicy::kError, table::BadRowPolicy::kSkip}) {
    table::CsvReadOptions options;
    options.on_bad_rows = policy;
    options.num_threads = 1;
    options.chunk_bytes = 7;  // many chunks even for tiny inputs
    auto parsed = table::ReadCsvString(text, options);
    if (!parsed.ok()) continue;
    // A table that parsed must survive a write/read round trip unchanged.
    table::CsvReadOptions again;
    again.column_types = parsed->schema().fields();
    again.header = table::HeaderMode::kPresent;
    again.delimiter = ',';
    again.num_threads = 1;
    if (parsed->num_columns() == 0) continue;
    auto reread = table::ReadCsvString(table::WriteCsvString(*parsed), again);
    Require(reread.ok(), "a parsed table must re-read from its own CSV", text);
    Require(reread->Equals(*parsed), "re-reading the written CSV must give the same table", text);
  }
}

void FuzzTableFormat(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = table::DecodeTable(bytes);
  if (!decoded.ok()) return;
  auto encoded = table::EncodeTable(*decoded);
  Require(encoded.ok(), "a decoded table must encode", bytes);
  auto again = table::DecodeTable(*encoded);
  Require(again.ok(), "a re-encoded table must decode", bytes);
  Require(again->Equals(*decoded), "decode(encode(t)) must equal t", bytes);
}

namespace {

// Three rows per type, the last one null, plus a name that needs backticks.
const table::Table& ExpressionInput() {
  static const table::Table* const kTable = [] {
    const auto make = [](table::DataType type, auto append) {
      table::ColumnBuilder builder(type);
      append(builder);
      builder.AppendNull();
      return builder.Finish();
    };
    std::vector<table::Field> fields = {
        {"i", table::DataType::kInt64},  {"f", table::DataType::kFloat64},
        {"s", table::DataType::kString}, {"b", table::DataType::kBool},
        {"d", table::DataType::kDate},   {"t", table::DataType::kTimestamp},
        {"n a", table::DataType::kInt64}};
    std::vector<table::Column> columns;
    columns.push_back(make(table::DataType::kInt64, [](auto& b) {
      b.AppendInt64(9'223'372'036'854'775'807);
      b.AppendInt64(-3);
    }));
    columns.push_back(make(table::DataType::kFloat64, [](auto& b) {
      b.AppendFloat64(-0.5);
      b.AppendFloat64(1e308);
    }));
    columns.push_back(make(table::DataType::kString, [](auto& b) {
      b.AppendString("Ab\xc3\xa9 ");
      b.AppendString("\xff");
    }));
    columns.push_back(make(table::DataType::kBool, [](auto& b) {
      b.AppendBool(true);
      b.AppendBool(false);
    }));
    columns.push_back(make(table::DataType::kDate, [](auto& b) {
      b.AppendDate(2'147'483'647);
      b.AppendDate(19'782);
    }));
    columns.push_back(make(table::DataType::kTimestamp, [](auto& b) {
      b.AppendInt64(-9'223'372'036'854'775'807 - 1);
      b.AppendInt64(1'709'294'400'000'000);
    }));
    columns.push_back(make(table::DataType::kInt64, [](auto& b) {
      b.AppendInt64(0);
      b.AppendInt64(-1);
    }));
    return new table::Table(
        table::Table::Make(table::Schema(std::move(fields)), std::move(columns)).value());
  }();
  return *kTable;
}

}  // namespace

void FuzzExpressionCompile(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  const table::Table& input = ExpressionInput();
  auto expression = expr::Expression::Compile(source, input.schema());
  if (!expression.ok()) {
    Require(expression.status().code() == absl::StatusCode::kInvalidArgument,
            "a rejected formula must give INVALID_ARGUMENT", source);
    Require(expression.status().message().rfind("position ", 0) == 0,
            "a compile error must start with \"position N: \"", source);
    return;
  }
  Require(expression->source() == source, "source() must return the compiled text", source);
  expr::EvalOptions options;
  options.now_micros = 1'709'294'400'000'000;
  auto column = expression->Evaluate(input, options);
  Require(column.ok(), "a compiled formula must evaluate over its schema", source);
  Require(column->type() == expression->result_type(), "result type must match", source);
  Require(column->size() == input.num_rows(), "one value per row", source);
  table::ColumnBuilder rebuilt(column->type());
  for (int64_t row = 0; row < column->size(); ++row) rebuilt.AppendFrom(*column, row);
  Require(rebuilt.Finish().Equals(*column), "null slots must hold zero values", source);
}

}  // namespace assay::fuzz
