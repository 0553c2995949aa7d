// Rendering helpers for the `assay` command: aligned text tables, sizes, times, JSON.
// Text output is for people; every read command also has --json for programs.
//
// Stateless apart from what is passed in; thread-compatible.
#ifndef ASSAY_CLI_OUTPUT_H_
#define ASSAY_CLI_OUTPUT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace assay::cli {

// A table printed with columns padded to their widest cell.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Cells longer than `max_width` are cut with "…".
  void Print(std::ostream& out, size_t max_width = 48, const std::string& indent = "") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "1.2 MiB".
std::string FormatBytes(int64_t bytes);
// "12,345".
std::string FormatCount(int64_t count);
// RFC 3339 UTC, second precision: "2026-11-28T03:12:00Z".
std::string FormatTime(int64_t micros);
// A JSON scalar for display: strings without quotes, integers in full, floats with up to 6
// significant digits.
std::string FormatJsonScalar(const nlohmann::json& value);

// Pretty JSON (2-space indent) followed by a newline.
void PrintJson(std::ostream& out, const nlohmann::json& json);

}  // namespace assay::cli

#endif  // ASSAY_CLI_OUTPUT_H_
