// Text helpers for quality-rule messages and reports. Values in a report come from user data
// (any bytes) but the report is stored and shown as JSON text, so everything it holds is made
// valid UTF-8 here; long values are cut so one huge cell cannot bloat a report.
//
// Pure functions; thread-safe.
#ifndef ASSAY_QUALITY_MESSAGE_TEXT_H_
#define ASSAY_QUALITY_MESSAGE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

namespace assay::quality {

// `text` with every invalid UTF-8 sequence replaced by U+FFFD; if longer than `max_bytes`,
// cut at a code point boundary at or before max_bytes and followed by "...".
// std::string::npos means no limit.
std::string CleanText(std::string_view text, size_t max_bytes);

// CleanText(text, npos) with control characters (newline, tab, ...) replaced by spaces, so a
// message stays on one line.
std::string OneLine(std::string_view text);

// `text` as a JSON string literal ("ONC", "a\"b"), invalid UTF-8 replaced.
std::string QuoteText(std::string_view text);

// A JSON value as compact JSON text, invalid UTF-8 replaced.
std::string QuoteJson(const nlohmann::json& value);

// The shortest text that reads back as `value` (0.01, 1e-07).
std::string FormatNumber(double value);

}  // namespace assay::quality

#endif  // ASSAY_QUALITY_MESSAGE_TEXT_H_
