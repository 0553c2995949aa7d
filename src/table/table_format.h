// The native table format: how every dataset version is stored. A file holds one Table,
// split into row groups; each column of a row group is one chunk whose buffers (validity
// bitmap, values, string lengths and bytes) are zstd-compressed and CRC32C-checksummed. A
// footer holds the schema, the row count, per-chunk statistics and sizes; a fixed trailer at
// the very end holds the footer's length and checksum and the format version. The byte-exact
// layout and the versioning policy are specified in docs/formats/table.md.
//
// Encoding is deterministic: for a given zstd library version and options, the same logical
// table (Table::Equals) always gives the same bytes, whatever the number of threads, so the
// SHA-256 of the bytes (computed by the caller) can serve as the dataset version id.
// Decoding validates every length and offset before use and never trusts a declared size to
// allocate more than the input could really decompress to, so it is safe on hostile input.
//
// All functions are thread-safe. EncodeTable and DecodeTable spread their work over
// common::ThreadPool::Default(), so they must not be called from inside a task of that pool.
#ifndef ASSAY_TABLE_TABLE_FORMAT_H_
#define ASSAY_TABLE_TABLE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "table/table.h"

namespace assay::table {

// The format version this build writes. Readers accept every minor version of their major
// version and every older major version; a newer major version is FAILED_PRECONDITION.
inline constexpr uint16_t kTableFormatMajorVersion = 1;
inline constexpr uint16_t kTableFormatMinorVersion = 0;

// Rows per row group written by default. A multiple of 8, so chunk validity bitmaps are byte
// slices of the column's bitmap.
inline constexpr int64_t kDefaultRowsPerGroup = 65536;

struct TableEncodeOptions {
  // Rows per row group (the last group may be smaller). Must be >= 1. The dataset catalog
  // always uses the default, since the bytes (and so the version id) depend on it.
  int64_t rows_per_group = kDefaultRowsPerGroup;
};

// One compressed buffer of a chunk. An empty buffer (raw_size 0) is not stored (stored_size 0).
struct ChunkBufferInfo {
  uint64_t stored_size = 0;  // bytes in the file (one zstd frame)
  uint64_t raw_size = 0;     // bytes after decompression
  bool operator==(const ChunkBufferInfo&) const = default;
};

// A chunk's minimum or maximum: int64_t for int64 (value), date (days since 1970-01-01) and
// timestamp (microseconds since the epoch, UTC) columns; double for float64 columns.
using ChunkBound = std::variant<int64_t, double>;

// One column of one row group.
struct ColumnChunkInfo {
  int64_t null_count = 0;
  // Minimum and maximum of the chunk's non-null values (NaN excluded) for int64, float64,
  // date and timestamp columns; nullopt for bool and string columns and when no value
  // qualifies (all null or all NaN).
  std::optional<ChunkBound> min;
  std::optional<ChunkBound> max;
  uint64_t offset = 0;  // file offset of the chunk's first stored byte
  uint32_t crc32c = 0;  // CRC32C of the chunk's stored bytes (all its buffers)
  // Buffers in storage order: validity, values (non-string types); validity, lengths, bytes
  // (string). Validity is empty when null_count is 0.
  std::vector<ChunkBufferInfo> buffers;

  uint64_t stored_size() const;  // sum of buffers[i].stored_size
  uint64_t raw_size() const;     // sum of buffers[i].raw_size
  bool operator==(const ColumnChunkInfo&) const = default;
};

struct RowGroupInfo {
  int64_t first_row = 0;                // index in the table of the group's first row
  int64_t num_rows = 0;                 // >= 1
  std::vector<ColumnChunkInfo> chunks;  // one per schema field, in schema order
  bool operator==(const RowGroupInfo&) const = default;
};

// What the footer of a table file says, without reading any chunk.
struct TableFooter {
  uint16_t major_version = kTableFormatMajorVersion;
  uint16_t minor_version = kTableFormatMinorVersion;
  Schema schema;
  int64_t num_rows = 0;
  std::vector<RowGroupInfo> row_groups;
  bool operator==(const TableFooter&) const = default;
};

// Encodes `table` in the current format version with the default options.
// Errors: OUT_OF_RANGE if a string value is 4 GiB or longer (lengths are stored as 32 bits);
// INTERNAL if zstd fails.
absl::StatusOr<std::string> EncodeTable(const Table& table);
// Same with explicit options. Errors as above, plus INVALID_ARGUMENT for rows_per_group < 1.
absl::StatusOr<std::string> EncodeTable(const Table& table, const TableEncodeOptions& options);

// Decodes a whole table file, verifying every checksum.
// Errors: DATA_LOSS naming what is corrupt ("bad magic at the start of the file", "checksum
// mismatch in chunk 3 of column \"x\" (row group 1)", "truncated: ..."), FAILED_PRECONDITION
// if the file has a newer major format version than this build reads.
absl::StatusOr<Table> DecodeTable(std::string_view bytes);

// Reads and verifies only the header, footer and trailer: schema, row count and per-chunk
// statistics. Chunk contents are not read, so chunk corruption is detected only by
// DecodeTable. Errors: as DecodeTable.
absl::StatusOr<TableFooter> DecodeFooter(std::string_view bytes);

// CRC32C (Castagnoli polynomial 0x1EDC6F41, reflected, initial value and final XOR
// 0xFFFFFFFF), the checksum of the format. Uses the SSE4.2 instruction when available.
// Crc32c("123456789") == 0xE3069283.
uint32_t Crc32c(std::string_view bytes);

namespace internal {
// The portable (table-driven) CRC32C, exposed so tests can check it against the hardware path.
uint32_t Crc32cPortable(std::string_view bytes);

// Asks the kernel to back the whole 2 MiB pages inside [data, data + size) with transparent
// huge pages when first touched (a hint; no effect off Linux or for small ranges). Used for
// large fresh buffers, whose first touch otherwise costs one page fault per 4 KiB.
void AdviseHugePages(const void* data, size_t size);
}  // namespace internal

}  // namespace assay::table

#endif  // ASSAY_TABLE_TABLE_FORMAT_H_
