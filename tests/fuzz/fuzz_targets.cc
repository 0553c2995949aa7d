#include "tests/fuzz/fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

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

}  // namespace assay::fuzz
