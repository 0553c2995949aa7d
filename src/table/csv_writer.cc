#include "table/csv_writer.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/civil_time.h"
#include "common/files.h"

namespace assay::table {
namespace {

// The reader's default null tokens other than "" (which is handled as "empty"): strings equal
// to one of them are quoted, because a quoted field is never null.
constexpr std::string_view kNullTokens[] = {"NA", "N/A", "NULL", "null", "NaN"};

bool NeedsQuotes(std::string_view value, char delimiter) {
  if (value.empty()) return true;
  const char first = value.front();
  const char last = value.back();
  if (first == ' ' || first == '\t' || last == ' ' || last == '\t') return true;
  // A leading BOM would be stripped if the value opened the file.
  if (value.size() >= 3 && value.substr(0, 3) == "\xEF\xBB\xBF") return true;
  for (const char c : value) {
    // The sniffing candidates too, so delimiter sniffing reads the output back unambiguously.
    if (c == '"' || c == '\n' || c == '\r' || c == delimiter || c == ',' || c == ';' || c == '\t' ||
        c == '|') {
      return true;
    }
  }
  for (const std::string_view token : kNullTokens) {
    if (value == token) return true;
  }
  return false;
}

void AppendString(std::string_view value, char delimiter, std::string* out) {
  if (!NeedsQuotes(value, delimiter)) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (const char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// A canonical non-string value (digits, signs, '.', 'e', ':', letters; never a quote or a
// line break), quoted only if an unusual delimiter ('.', '-', a digit...) occurs in it.
void AppendCanonical(std::string_view text, char delimiter, std::string* out) {
  if (text.find(delimiter) == std::string_view::npos) {
    out->append(text);
    return;
  }
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

// Column::ValueToString's float form (shortest round trip, ".0" added to integral values so
// they read back as floats), with NaN written "nan"/"-nan" instead of the null token "NaN".
std::string_view FormatFloat(double value, char (&buffer)[64]) {
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer) - 2, value);
  char* end = result.ptr;
  // std::to_chars writes "inf", "-inf", "nan" and "-nan" for the special values.
  if (std::string_view(buffer, static_cast<size_t>(end - buffer)).find_first_of(".eEn") ==
      std::string_view::npos) {
    *end++ = '.';
    *end++ = '0';
  }
  return std::string_view(buffer, static_cast<size_t>(end - buffer));
}

void AppendValue(const Column& column, int64_t row, char delimiter, std::string* out) {
  char buffer[64];
  switch (column.type()) {
    case DataType::kBool:
      AppendCanonical(column.bool_values()[row] ? "true" : "false", delimiter, out);
      return;
    case DataType::kInt64: {
      const auto result =
          std::to_chars(buffer, buffer + sizeof(buffer), column.int64_values()[row]);
      AppendCanonical(std::string_view(buffer, static_cast<size_t>(result.ptr - buffer)), delimiter,
                      out);
      return;
    }
    case DataType::kFloat64:
      AppendCanonical(FormatFloat(column.float64_values()[row], buffer), delimiter, out);
      return;
    case DataType::kDate:
      AppendCanonical(common::FormatDate(column.date_values()[row]), delimiter, out);
      return;
    case DataType::kTimestamp:
      AppendCanonical(common::FormatTimestampMicros(column.int64_values()[row]), delimiter, out);
      return;
    case DataType::kString:
      AppendString(column.StringAt(row), delimiter, out);
      return;
  }
}

bool ValidDelimiter(char delimiter) {
  return delimiter != '"' && delimiter != '\n' && delimiter != '\r';
}

}  // namespace

std::string WriteCsvString(const Table& table, const CsvWriteOptions& options) {
  assert(ValidDelimiter(options.delimiter));
  std::string out;
  const int num_columns = table.num_columns();
  if (num_columns == 0) return out;
  const char delimiter = options.delimiter;
  // An empty line in a one-column file would read back as null only in the middle of the
  // file: at its end blank lines are ignored. NA reads back as null everywhere.
  const std::string_view null_text = num_columns == 1 ? "NA" : "";
  // A rough size guess: a few bytes per value.
  out.reserve(static_cast<size_t>(table.num_rows() * num_columns * 8 + 64));
  if (options.header) {
    for (int c = 0; c < num_columns; ++c) {
      if (c > 0) out.push_back(delimiter);
      AppendString(table.schema().field(c).name, delimiter, &out);
    }
    out.push_back('\n');
  }
  for (int64_t row = 0; row < table.num_rows(); ++row) {
    for (int c = 0; c < num_columns; ++c) {
      if (c > 0) out.push_back(delimiter);
      const Column& column = table.column(c);
      if (column.IsNull(row)) {
        out.append(null_text);
      } else {
        AppendValue(column, row, delimiter, &out);
      }
    }
    out.push_back('\n');
  }
  return out;
}

absl::Status WriteCsvFile(const Table& table, const std::filesystem::path& path,
                          const CsvWriteOptions& options) {
  if (!ValidDelimiter(options.delimiter)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", path.string(),
                     ": the delimiter cannot be a quote, CR or LF; choose e.g. ',' or ';'"));
  }
  return common::AtomicWriteFile(path, WriteCsvString(table, options));
}

}  // namespace assay::table
