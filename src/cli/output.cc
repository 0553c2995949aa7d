#include "cli/output.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/clock.h"

namespace assay::cli {
namespace {

// Display width of UTF-8 text: counts code points, not bytes (good enough for alignment of
// names and values; wide CJK glyphs are rare in these tables).
size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) width += (c & 0xC0) != 0x80;
  return width;
}

std::string Truncate(const std::string& text, size_t max_width) {
  if (DisplayWidth(text) <= max_width) return text;
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (width + 1 == max_width) break;
      ++width;
    }
    out.push_back(text[i]);
  }
  return out + "…";
}

std::string Sanitize(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void TextTable::Print(std::ostream& out, size_t max_width, const std::string& indent) const {
  std::vector<size_t> widths(header_.size(), 0);
  auto cell = [&](const std::vector<std::string>& row, size_t col) {
    return col < row.size() ? Truncate(Sanitize(row[col]), max_width) : std::string();
  };
  for (size_t col = 0; col < header_.size(); ++col) {
    widths[col] = DisplayWidth(cell(header_, col));
    for (const auto& row : rows_) widths[col] = std::max(widths[col], DisplayWidth(cell(row, col)));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line = indent;
    for (size_t col = 0; col < header_.size(); ++col) {
      const std::string text = cell(row, col);
      line += text;
      if (col + 1 < header_.size()) line += std::string(widths[col] - DisplayWidth(text) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  print_row(header_);
  for (const auto& row : rows_) print_row(row);
}

std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  if (unit == 0) {
    std::snprintf(buffer, sizeof(buffer), "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(buffer, sizeof(buffer), "%.1f %s", value, kUnits[unit]);
  }
  return buffer;
}

std::string FormatCount(int64_t count) {
  std::string digits = std::to_string(count < 0 ? -count : count);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return count < 0 ? "-" + out : out;
}

std::string FormatTime(int64_t micros) {
  return common::FormatUtcMicros(micros - micros % 1'000'000);
}

std::string FormatJsonScalar(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number_float()) {
    const double number = value.get<double>();
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.6g", number);
    return buffer;
  }
  if (value.is_null()) return "";
  return value.dump();
}

void PrintJson(std::ostream& out, const nlohmann::json& json) {
  out << json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

}  // namespace assay::cli
