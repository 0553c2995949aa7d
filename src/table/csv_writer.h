// CSV writer: renders a Table as RFC 4180 text that the CSV reader (csv_reader.h) reads back
// to an equal Table.
//
// Values are written in canonical form (Column::ValueToString: "true"/"false", shortest
// round-trip floats, ISO dates, ISO UTC timestamps with microseconds when present), except
// that a NaN float is written "nan" (or "-nan") because "NaN" is a default null token. A null
// is an empty unquoted field (a one-column table writes NA instead, because an empty line at
// the end of a file is ignored by readers). A string is quoted when it is empty, equals a
// default null token, has leading or trailing whitespace, starts with a byte-order mark, or
// contains a quote, CR, LF, the delimiter or any other delimiter the reader could sniff
// (, ; tab |); quotes inside are doubled. Other values are quoted only if they contain the
// delimiter (an unusual one such as '.' or '-'). Lines end with LF. The rules are in
// docs/formats/csv.md.
//
// Pure functions of their arguments; thread-safe.
#ifndef ASSAY_TABLE_CSV_WRITER_H_
#define ASSAY_TABLE_CSV_WRITER_H_

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "table/table.h"

namespace assay::table {

struct CsvWriteOptions {
  // The field delimiter. Must not be '"', '\r' or '\n'.
  char delimiter = ',';
  // Write the column names as the first line.
  bool header = true;
};

// Renders `table` as CSV text. A table without columns renders as "" (CSV cannot represent
// it). Requires a valid delimiter (checked by assert; WriteCsvFile reports it as an error).
std::string WriteCsvString(const Table& table, const CsvWriteOptions& options = {});

// Writes `table` as CSV to `path` atomically: a temporary file in the same directory is
// written, fsynced and renamed over `path`, so readers see the old file or the new one.
// Errors: INVALID_ARGUMENT for an invalid delimiter; INTERNAL with the OS reason on I/O
// failure (e.g. the parent directory does not exist).
absl::Status WriteCsvFile(const Table& table, const std::filesystem::path& path,
                          const CsvWriteOptions& options = {});

}  // namespace assay::table

#endif  // ASSAY_TABLE_CSV_WRITER_H_
