// CSV reader: turns RFC 4180 text (a file or an in-memory buffer) into a typed Table.
//
// The reader is the entry point of every dataset import, so it is built for throughput and
// for exact, explainable results: it sniffs the delimiter, detects a header row, recognises
// null tokens, and infers one column type per column over the WHOLE input without ever
// turning a value silently into null. Malformed input gives an INVALID_ARGUMENT status naming
// the source, the physical line, the column and what to do; with BadRowPolicy::kSkip bad rows
// are dropped and reported instead. The accepted dialect, the inference rules and the error
// messages are specified in docs/formats/csv.md.
//
// Large inputs are memory-mapped, split into chunks at record boundaries, and parsed and
// converted in parallel on a common::ThreadPool.
//
// Thread-safety: the functions are reentrant and keep no state; concurrent calls are safe
// (calls sharing ThreadPool::Default() run their parallel loops one after the other). They
// must not be called from inside a task of the pool they use.
#ifndef ASSAY_TABLE_CSV_READER_H_
#define ASSAY_TABLE_CSV_READER_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "table/table.h"

namespace assay::table {

// Whether the first row holds column names.
//   kAuto: the first row is a header unless one of its fields parses as a non-string value
//          (a number, bool, date or timestamp; see docs/formats/csv.md).
//   kPresent / kAbsent force the decision. Without a header columns are named column_1, ...
enum class HeaderMode { kAuto, kPresent, kAbsent };

// What to do with a malformed row (wrong field count, text after a closing quote, a value
// that does not parse as its explicit column type).
//   kError: fail with INVALID_ARGUMENT naming the first such row.
//   kSkip:  drop the row and count it in CsvReadReport.
// An unterminated quote and invalid UTF-8 are errors under both policies.
enum class BadRowPolicy { kError, kSkip };

struct CsvReadOptions {
  // The field delimiter; nullopt sniffs it among ',', ';', '\t' and '|' from the first 20
  // records. Must not be '"', '\r' or '\n'.
  std::optional<char> delimiter;
  HeaderMode header = HeaderMode::kAuto;
  // An UNQUOTED field equal to one of these is null. A quoted field is never null.
  std::vector<std::string> null_tokens = {"", "NA", "N/A", "NULL", "null", "NaN"};
  BadRowPolicy on_bad_rows = BadRowPolicy::kError;
  // Explicit types by column name; they override inference. Every name must exist in the
  // input. A non-null value that does not parse as its explicit type makes the row bad.
  std::vector<Field> column_types;
  // Parallelism: 0 uses common::ThreadPool::Default() (all cores); 1 parses on the calling
  // thread; n > 1 uses a private pool of n threads.
  int num_threads = 0;
  // Names the input in error messages. ReadCsvFile uses the path when this is empty; an empty
  // name reads "CSV input".
  std::string source_name;
  // Target size in bytes of the pieces parsed in parallel; 0 picks it from the input size and
  // the thread count. Test seam: a tiny value makes small inputs use many chunks, so the
  // chunk-splitting, merging and re-synchronisation paths run in unit tests.
  int64_t chunk_bytes = 0;
};

// One row dropped under BadRowPolicy::kSkip.
struct CsvBadRow {
  int64_t line;         // physical line (1-based) where the row starts
  std::string message;  // "column 3: row has 5 fields, expected 4"
};

// What the reader decided and what it dropped.
struct CsvReadReport {
  char delimiter = ',';
  bool header = true;
  int64_t rows = 0;                         // rows in the returned table
  int64_t skipped_rows = 0;                 // bad rows dropped under BadRowPolicy::kSkip
  std::vector<CsvBadRow> skipped_examples;  // the first 10 skipped rows, in file order
};

// Reads the CSV file at `path` (memory-mapped) into a Table. `report`, when not null, is
// filled on success.
// Errors: NOT_FOUND if the file does not exist; INTERNAL on I/O failure; INVALID_ARGUMENT for
// invalid options, an empty file, a bad header (empty or duplicate names), an unknown column
// in column_types, invalid UTF-8, an unterminated quote, or a bad row under kError;
// RESOURCE_EXHAUSTED if memory runs out. Messages start with the source name and, for content
// errors, "line L, column C: ".
absl::StatusOr<Table> ReadCsvFile(const std::filesystem::path& path,
                                  const CsvReadOptions& options = {},
                                  CsvReadReport* report = nullptr);

// Reads CSV text from memory. Same behaviour and errors as ReadCsvFile (minus the I/O ones).
// `data` must stay valid for the duration of the call only.
absl::StatusOr<Table> ReadCsvString(std::string_view data, const CsvReadOptions& options = {},
                                    CsvReadReport* report = nullptr);

}  // namespace assay::table

#endif  // ASSAY_TABLE_CSV_READER_H_
