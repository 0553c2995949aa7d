#include "table/table_format.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace assay::table {
namespace {

// ---------------------------------------------------------------------------------------------
// Layout constants (docs/formats/table.md). The header, the trailer and the trailer checksum
// are frozen for every future version, so any reader can find the version of any file.

constexpr char kMagic[8] = {'A', 'S', 'S', 'A', 'Y', 'T', 'B', 'L'};
constexpr size_t kHeaderSize = 12;   // magic, u16 major, u16 minor
constexpr size_t kTrailerSize = 28;  // u64 footer length, u32 footer crc, u16 major, u16 minor,
                                     // u32 trailer crc, magic
constexpr uint8_t kStatsHasMinMax = 1;

// zstd level 1. Measured on a representative 10-column, 10M-row table (811 MB of raw
// buffers, 65,536-row chunks) on the 2-core reference VM, per core: level -1 574 MB/s at
// ratio 2.33, level 1 480 MB/s at 2.64, level 3 318 MB/s at 2.71. Level 1 keeps encoding well
// inside the ingest budget for nearly all of level 3's compression.
constexpr int kZstdLevel = 1;

// No zstd frame can decompress to more than 32768 times its size: a block holds at most
// 128 KiB (ZSTD_BLOCKSIZE_MAX) and the smallest block (an RLE block) takes 4 bytes (RFC 8878
// section 3.1.1.2). A declared raw size above that bound is corrupt.
constexpr uint64_t kMaxZstdExpansion = ZSTD_BLOCKSIZE_MAX / 4;
// Above this ratio a declared raw size is verified by a streaming dry run before the output
// is allocated, so a hostile footer cannot make the decoder allocate more than the input
// really decompresses to.
constexpr uint64_t kTrustedExpansion = 128;

enum BufferKind { kValidityBuffer = 0, kValuesBuffer = 1, kBytesBuffer = 2 };

int NumBuffers(DataType type) { return type == DataType::kString ? 3 : 2; }

// Bytes per value of the values buffer (string: the u32 lengths buffer).
uint64_t ValueWidth(DataType type) {
  switch (type) {
    case DataType::kBool:
      return 1;
    case DataType::kDate:
    case DataType::kString:
      return 4;
    case DataType::kInt64:
    case DataType::kFloat64:
    case DataType::kTimestamp:
      return 8;
  }
  return 8;
}

bool HasMinMax(DataType type) { return type != DataType::kBool && type != DataType::kString; }

// Chunk record size in the footer: offset, crc, null count, flags, min, max, buffer sizes.
uint64_t ChunkRecordSize(DataType type) {
  return 8 + 4 + 8 + 1 + 8 + 8 + 16 * static_cast<uint64_t>(NumBuffers(type));
}

// ---------------------------------------------------------------------------------------------
// CRC32C. Chosen over zstd's frame checksum (XXH64 of the decompressed content) because a CRC
// detects every burst error of up to 32 bits with certainty, so any single corrupted byte is
// always caught, and because it runs over the stored bytes, so corrupt data never reaches the
// decompressor. The SSE4.2 crc32 instruction computes it at several GB/s.

constexpr std::array<std::array<uint32_t, 256>, 8> MakeCrc32cTables() {
  std::array<std::array<uint32_t, 256>, 8> tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
    tables[0][byte] = crc;
  }
  // Slicing-by-8 (Kounavis and Berry, "Novel Table Lookup-Based Algorithms for High-Performance
  // CRC Generation", IEEE Trans. Computers 2008).
  for (uint32_t byte = 0; byte < 256; ++byte) {
    for (int slice = 1; slice < 8; ++slice) {
      const uint32_t prev = tables[slice - 1][byte];
      tables[slice][byte] = (prev >> 8) ^ tables[0][prev & 0xFF];
    }
  }
  return tables;
}

constexpr auto kCrc32cTables = MakeCrc32cTables();

uint32_t LoadLe32(const char* p) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(p[i]);
  return value;
}

uint32_t Crc32cSoftware(const char* data, size_t size) {
  const auto& t = kCrc32cTables;
  uint32_t crc = 0xFFFFFFFFu;
  while (size >= 8) {
    const uint32_t low = LoadLe32(data) ^ crc;
    const uint32_t high = LoadLe32(data + 4);
    crc = t[7][low & 0xFF] ^ t[6][(low >> 8) & 0xFF] ^ t[5][(low >> 16) & 0xFF] ^ t[4][low >> 24] ^
          t[3][high & 0xFF] ^ t[2][(high >> 8) & 0xFF] ^ t[1][(high >> 16) & 0xFF] ^
          t[0][high >> 24];
    data += 8;
    size -= 8;
  }
  while (size-- > 0) crc = (crc >> 8) ^ t[0][(crc ^ static_cast<uint8_t>(*data++)) & 0xFF];
  return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cSse42(const char* data, size_t size) {
  uint64_t crc = 0xFFFFFFFFu;
  while (size >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    crc = _mm_crc32_u64(crc, word);
    data += 8;
    size -= 8;
  }
  auto crc32 = static_cast<uint32_t>(crc);
  while (size-- > 0) crc32 = _mm_crc32_u8(crc32, static_cast<uint8_t>(*data++));
  return ~crc32;
}
#endif

// ---------------------------------------------------------------------------------------------
// Little-endian serialization.

void PutU8(std::string* out, uint8_t value) { out->push_back(static_cast<char>(value)); }
void PutU16(std::string* out, uint16_t value) {
  for (int i = 0; i < 2; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}
void PutU32(std::string* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}
void PutU64(std::string* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

// Reads little-endian fields from a bounded buffer. Every read checks the remaining length;
// after a failed read the reader stays failed and returns zeros.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  size_t remaining() const { return data_.size() - pos_; }
  bool ok() const { return ok_; }

  uint8_t U8() { return static_cast<uint8_t>(Fixed(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Fixed(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Fixed(4)); }
  uint64_t U64() { return Fixed(8); }
  std::string_view Bytes(size_t size) {
    if (!ok_ || size > remaining()) {
      ok_ = false;
      return {};
    }
    std::string_view out = data_.substr(pos_, size);
    pos_ += size;
    return out;
  }

 private:
  uint64_t Fixed(int size) {
    if (!ok_ || remaining() < static_cast<size_t>(size)) {
      ok_ = false;
      return 0;
    }
    uint64_t value = 0;
    for (int i = size - 1; i >= 0; --i)
      value = (value << 8) | static_cast<uint8_t>(data_[pos_ + i]);
    pos_ += size;
    return value;
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// ---------------------------------------------------------------------------------------------
// Memory.

// Resizes a fresh vector to `size` elements, advising huge pages before the zero-fill
// touches the memory.
template <typename Container>
void ResizeFresh(Container& container, size_t size) {
  container.reserve(size);
  internal::AdviseHugePages(container.data(), container.capacity() * sizeof(container[0]));
  container.resize(size);
}

// ---------------------------------------------------------------------------------------------
// zstd contexts, one per thread and reused: creating a context allocates its workspace.

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

ZSTD_CCtx* ThreadCCtx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Runs fn(task) for every task in parallel and returns the error of the lowest-numbered
// failing task, so the reported error does not depend on thread scheduling.
absl::Status ParallelTasks(int64_t num_tasks, const std::function<absl::Status(int64_t)>& fn) {
  std::vector<absl::Status> statuses(static_cast<size_t>(num_tasks));
  common::ThreadPool::Default().ParallelFor(num_tasks,
                                            [&](int64_t task) { statuses[task] = fn(task); });
  for (absl::Status& status : statuses) {
    if (!status.ok()) return std::move(status);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Encoding.

// Per-thread buffers reused from chunk to chunk: fresh memory costs a page fault per 4 KiB
// on first touch, which would otherwise dominate encoding.
struct EncodeScratch {
  std::vector<char> compressed;  // sized to ZSTD_compressBound of the largest buffer so far
  std::vector<uint32_t> lengths;
  std::string swapped;  // big-endian hosts only
};

constexpr size_t kMaxScratchBytes = 16 << 20;

EncodeScratch& ThreadEncodeScratch() {
  thread_local EncodeScratch scratch;
  return scratch;
}

// Appends one zstd frame holding `raw` to `out` and records its sizes. An empty buffer is not
// stored at all.
absl::Status CompressBuffer(std::string_view raw, std::string* out, ChunkBufferInfo* info) {
  info->raw_size = raw.size();
  info->stored_size = 0;
  if (raw.empty()) return absl::OkStatus();
  ZSTD_CCtx* ctx = ThreadCCtx();
  if (ctx == nullptr) return absl::InternalError("cannot allocate a zstd compression context");
  const size_t bound = ZSTD_compressBound(raw.size());
  // Huge buffers (long strings) get a one-off buffer rather than a scratch kept forever.
  std::vector<char> one_off;
  std::vector<char>& scratch =
      bound <= kMaxScratchBytes ? ThreadEncodeScratch().compressed : one_off;
  if (scratch.size() < bound) scratch.resize(bound);
  const size_t written =
      ZSTD_compressCCtx(ctx, scratch.data(), bound, raw.data(), raw.size(), kZstdLevel);
  if (ZSTD_isError(written)) {
    return absl::InternalError(
        absl::StrCat("zstd compression failed: ", ZSTD_getErrorName(written)));
  }
  out->append(scratch.data(), written);
  info->stored_size = written;
  return absl::OkStatus();
}

template <typename T>
std::string_view RawView(const std::vector<T>& values, int64_t first, int64_t rows,
                         std::string* scratch) {
  const char* begin = reinterpret_cast<const char*>(values.data() + first);
  const size_t size = static_cast<size_t>(rows) * sizeof(T);
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    return std::string_view(begin, size);
  } else {
    // Big-endian host: reverse each element's bytes.
    scratch->clear();
    for (int64_t row = first; row < first + rows; ++row) {
      char bytes[sizeof(T)];
      std::memcpy(bytes, &values[row], sizeof(T));
      std::reverse(bytes, bytes + sizeof(T));
      scratch->append(bytes, sizeof(T));
    }
    return *scratch;
  }
}

template <typename T>
void IntegerMinMax(const Column& column, const std::vector<T>& values, int64_t first, int64_t rows,
                   ColumnChunkInfo* info) {
  bool any = false;
  T lo = 0;
  T hi = 0;
  for (int64_t row = first; row < first + rows; ++row) {
    if (!column.IsValid(row)) continue;
    const T value = values[row];
    if (!any || value < lo) lo = value;
    if (!any || value > hi) hi = value;
    any = true;
  }
  if (any) {
    info->min = static_cast<int64_t>(lo);
    info->max = static_cast<int64_t>(hi);
  }
}

void FloatMinMax(const Column& column, int64_t first, int64_t rows, ColumnChunkInfo* info) {
  const std::vector<double>& values = column.float64_values();
  bool any = false;
  double lo = 0;
  double hi = 0;
  for (int64_t row = first; row < first + rows; ++row) {
    const double value = values[row];
    if (value != value || !column.IsValid(row)) continue;  // NaN is excluded
    if (!any || value < lo) lo = value;
    if (!any || value > hi) hi = value;
    any = true;
  }
  if (any) {
    info->min = lo;
    info->max = hi;
  }
}

// Compresses rows [first, first + rows) of `column` into `stored` (the chunk's buffers,
// concatenated) and describes them in `info` (all but the offset).
absl::Status EncodeChunk(const Column& column, std::string_view name, int64_t first, int64_t rows,
                         std::string* stored, ColumnChunkInfo* info_out) {
  ColumnChunkInfo& info = *info_out;
  info.buffers.resize(static_cast<size_t>(NumBuffers(column.type())));

  // Validity: this chunk's bits, starting at bit 0, padding bits zero; absent without nulls.
  std::string validity;
  if (column.null_count() > 0) {
    validity.assign(static_cast<size_t>((rows + 7) / 8), '\0');
    int64_t valid = 0;
    if (first % 8 == 0) {
      // Byte-aligned (always, with the default group size): a slice of the column's bitmap.
      std::memcpy(validity.data(), column.validity().data() + first / 8, validity.size());
      if (rows % 8 != 0)
        validity.back() = static_cast<char>(validity.back() & ((1 << (rows % 8)) - 1));
      for (const char byte : validity) valid += std::popcount(static_cast<uint8_t>(byte));
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        if (column.IsValid(first + i)) {
          validity[i >> 3] = static_cast<char>(validity[i >> 3] | (1 << (i & 7)));
          ++valid;
        }
      }
    }
    info.null_count = rows - valid;
    if (info.null_count == 0) validity.clear();
  }
  ASSAY_RETURN_IF_ERROR(CompressBuffer(validity, stored, &info.buffers[kValidityBuffer]));

  std::string& scratch = ThreadEncodeScratch().swapped;
  std::string_view values;
  switch (column.type()) {
    case DataType::kBool:
      values = RawView(column.bool_values(), first, rows, &scratch);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      values = RawView(column.int64_values(), first, rows, &scratch);
      IntegerMinMax(column, column.int64_values(), first, rows, &info);
      break;
    case DataType::kFloat64:
      values = RawView(column.float64_values(), first, rows, &scratch);
      FloatMinMax(column, first, rows, &info);
      break;
    case DataType::kDate:
      values = RawView(column.date_values(), first, rows, &scratch);
      IntegerMinMax(column, column.date_values(), first, rows, &info);
      break;
    case DataType::kString: {
      const std::vector<int64_t>& offsets = column.string_offsets();
      std::vector<uint32_t>& lengths = ThreadEncodeScratch().lengths;
      lengths.resize(static_cast<size_t>(rows));
      for (int64_t i = 0; i < rows; ++i) {
        const int64_t length = offsets[first + i + 1] - offsets[first + i];
        if (length > static_cast<int64_t>(std::numeric_limits<uint32_t>::max())) {
          return absl::OutOfRangeError(absl::StrCat(
              "row ", first + i + 1, " of column \"", Absl(name), "\" holds a string of ", length,
              " bytes; the table format stores strings shorter than 4 GiB"));
        }
        lengths[i] = static_cast<uint32_t>(length);
      }
      values = RawView(lengths, 0, rows, &scratch);
      ASSAY_RETURN_IF_ERROR(CompressBuffer(values, stored, &info.buffers[kValuesBuffer]));
      const std::string_view bytes =
          std::string_view(column.string_bytes())
              .substr(static_cast<size_t>(offsets[first]),
                      static_cast<size_t>(offsets[first + rows] - offsets[first]));
      ASSAY_RETURN_IF_ERROR(CompressBuffer(bytes, stored, &info.buffers[kBytesBuffer]));
      info.crc32c = Crc32c(*stored);
      return absl::OkStatus();
    }
  }
  ASSAY_RETURN_IF_ERROR(CompressBuffer(values, stored, &info.buffers[kValuesBuffer]));
  info.crc32c = Crc32c(*stored);
  return absl::OkStatus();
}

uint64_t BoundBits(const std::optional<ChunkBound>& bound) {
  if (!bound) return 0;
  if (const auto* integer = std::get_if<int64_t>(&*bound)) return static_cast<uint64_t>(*integer);
  return std::bit_cast<uint64_t>(std::get<double>(*bound));
}

void PutChunkRecord(const ColumnChunkInfo& info, std::string* out) {
  PutU64(out, info.offset);
  PutU32(out, info.crc32c);
  PutU64(out, static_cast<uint64_t>(info.null_count));
  PutU8(out, info.min.has_value() ? kStatsHasMinMax : 0);
  PutU64(out, BoundBits(info.min));
  PutU64(out, BoundBits(info.max));
  for (const ChunkBufferInfo& buffer : info.buffers) {
    PutU64(out, buffer.stored_size);
    PutU64(out, buffer.raw_size);
  }
}

void PutTrailer(uint64_t footer_length, uint32_t footer_crc, std::string* out) {
  const size_t start = out->size();
  PutU64(out, footer_length);
  PutU32(out, footer_crc);
  PutU16(out, kTableFormatMajorVersion);
  PutU16(out, kTableFormatMinorVersion);
  PutU32(out, Crc32c(std::string_view(*out).substr(start)));
  out->append(kMagic, sizeof(kMagic));
}

// ---------------------------------------------------------------------------------------------
// Decoding.

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt table file: ", Absl(what)));
}

std::string ChunkName(const TableFooter& footer, size_t group, size_t column) {
  const RowGroupInfo& info = footer.row_groups[group];
  return absl::StrCat("chunk ", group, " of column \"", footer.schema.field(column).name,
                      "\" (rows ", info.first_row + 1, " to ", info.first_row + info.num_rows, ")");
}

// Validates the sizes of a chunk's buffers against its type and row count.
absl::Status CheckChunkSizes(DataType type, int64_t rows, const ColumnChunkInfo& chunk,
                             const std::string& where) {
  const uint64_t n = static_cast<uint64_t>(rows);
  const uint64_t expected_validity = chunk.null_count > 0 ? (n + 7) / 8 : 0;
  if (chunk.buffers[kValidityBuffer].raw_size != expected_validity) {
    return Corrupt(absl::StrCat(where, " has a validity bitmap of ",
                                chunk.buffers[kValidityBuffer].raw_size, " bytes, expected ",
                                expected_validity));
  }
  // Compared by division: rows * width could overflow for a hostile row count.
  const uint64_t width = ValueWidth(type);
  const uint64_t values_raw = chunk.buffers[kValuesBuffer].raw_size;
  if (values_raw % width != 0 || values_raw / width != n) {
    return Corrupt(
        absl::StrCat(where, " has a values buffer of ", values_raw, " bytes for ", rows, " rows"));
  }
  for (size_t index = 0; index < chunk.buffers.size(); ++index) {
    const ChunkBufferInfo& buffer = chunk.buffers[index];
    if ((buffer.raw_size == 0) != (buffer.stored_size == 0)) {
      return Corrupt(absl::StrCat(where, " buffer ", index, " stores ", buffer.stored_size,
                                  " bytes for ", buffer.raw_size, " raw bytes"));
    }
    const uint64_t min_stored =
        buffer.raw_size / kMaxZstdExpansion + (buffer.raw_size % kMaxZstdExpansion != 0);
    if (buffer.stored_size < min_stored) {
      return Corrupt(absl::StrCat(where, " buffer ", index, " declares ", buffer.raw_size,
                                  " raw bytes, more than ", buffer.stored_size,
                                  " compressed bytes can hold"));
    }
  }
  if (chunk.min.has_value() != chunk.max.has_value() || (chunk.min && !HasMinMax(type))) {
    return Corrupt(absl::StrCat(where, " has statistics that do not fit its type"));
  }
  if (chunk.min) {
    if (type == DataType::kFloat64) {
      const double lo = std::get<double>(*chunk.min);
      const double hi = std::get<double>(*chunk.max);
      if (!(lo <= hi)) return Corrupt(absl::StrCat(where, " has min > max or NaN statistics"));
    } else {
      const int64_t lo = std::get<int64_t>(*chunk.min);
      const int64_t hi = std::get<int64_t>(*chunk.max);
      if (lo > hi) return Corrupt(absl::StrCat(where, " has min > max"));
      if (type == DataType::kDate &&
          (lo < std::numeric_limits<int32_t>::min() || hi > std::numeric_limits<int32_t>::max())) {
        return Corrupt(absl::StrCat(where, " has date statistics out of range"));
      }
    }
  }
  return absl::OkStatus();
}

// Checks the frozen header and trailer, then parses and validates the footer.
absl::StatusOr<TableFooter> ParseFile(std::string_view bytes) {
  if (bytes.size() < kHeaderSize + kTrailerSize) {
    return absl::DataLossError(absl::StrCat("corrupt table file: truncated or not a table file (",
                                            bytes.size(), " bytes; a table file has at least ",
                                            kHeaderSize + kTrailerSize, ")"));
  }
  if (bytes.substr(0, sizeof(kMagic)) != std::string_view(kMagic, sizeof(kMagic))) {
    return Corrupt("bad magic at the start of the file (not an Assay table file)");
  }
  const std::string_view trailer = bytes.substr(bytes.size() - kTrailerSize);
  if (trailer.substr(kTrailerSize - sizeof(kMagic)) != std::string_view(kMagic, sizeof(kMagic))) {
    return Corrupt("bad magic at the end of the file (truncated, or extra bytes appended)");
  }
  ByteReader trailer_reader(trailer);
  const uint64_t footer_length = trailer_reader.U64();
  const uint32_t footer_crc = trailer_reader.U32();
  const uint16_t major = trailer_reader.U16();
  const uint16_t minor = trailer_reader.U16();
  const uint32_t trailer_crc = trailer_reader.U32();
  if (Crc32c(trailer.substr(0, 16)) != trailer_crc) {
    return Corrupt("checksum mismatch in the trailer");
  }
  if (major > kTableFormatMajorVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("table file has format version ", major, ".", minor, ", newer than version ",
                     kTableFormatMajorVersion, ".", kTableFormatMinorVersion,
                     " that this build reads; upgrade Assay to read it"));
  }
  if (major == 0) return Corrupt("format version 0 does not exist");
  ByteReader header_reader(bytes.substr(sizeof(kMagic), kHeaderSize - sizeof(kMagic)));
  const uint16_t header_major = header_reader.U16();
  const uint16_t header_minor = header_reader.U16();
  if (header_major != major || header_minor != minor) {
    return Corrupt(absl::StrCat("the header says format version ", header_major, ".", header_minor,
                                " but the trailer says ", major, ".", minor));
  }
  const uint64_t body_size = bytes.size() - kHeaderSize - kTrailerSize;
  if (footer_length > body_size) {
    return Corrupt(absl::StrCat("footer length ", footer_length, " exceeds the file (",
                                bytes.size(), " bytes)"));
  }
  const uint64_t footer_start = bytes.size() - kTrailerSize - footer_length;
  const std::string_view footer_bytes = bytes.substr(footer_start, footer_length);
  if (Crc32c(footer_bytes) != footer_crc) return Corrupt("checksum mismatch in the footer");

  // Every count below is checked against the bytes left before anything is reserved.
  TableFooter footer;
  footer.major_version = major;
  footer.minor_version = minor;
  ByteReader reader(footer_bytes);
  const uint32_t num_columns = reader.U32();
  if (!reader.ok() || num_columns > reader.remaining() / 5) {
    return Corrupt(absl::StrCat("footer declares ", num_columns, " columns, more than it holds"));
  }
  std::vector<Field> fields;
  fields.reserve(num_columns);
  for (uint32_t col = 0; col < num_columns; ++col) {
    const uint32_t name_length = reader.U32();
    const std::string_view name = reader.Bytes(name_length);
    const uint8_t type_code = reader.U8();
    if (!reader.ok()) return Corrupt(absl::StrCat("footer ends inside column ", col + 1));
    if (type_code < static_cast<uint8_t>(DataType::kBool) ||
        type_code > static_cast<uint8_t>(DataType::kTimestamp)) {
      return Corrupt(absl::StrCat("column ", col + 1, " has unknown type code ", type_code));
    }
    if (name.empty()) return Corrupt(absl::StrCat("column ", col + 1, " has an empty name"));
    fields.push_back(Field{std::string(name), static_cast<DataType>(type_code)});
  }
  footer.schema = Schema(std::move(fields));
  {
    // Same rule as Table::Make, so a decoded footer always describes a valid table.
    std::vector<std::string_view> names;
    for (const Field& field : footer.schema.fields()) names.push_back(field.name);
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
      return Corrupt("duplicate column names in the footer");
    }
  }
  const uint64_t num_rows = reader.U64();
  const uint32_t num_groups = reader.U32();
  if (!reader.ok()) return Corrupt("footer ends before the row count");
  if (num_rows > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Corrupt(absl::StrCat("row count ", num_rows, " out of range"));
  }
  if (num_columns == 0 && (num_rows != 0 || num_groups != 0)) {
    return Corrupt("a table without columns must have no rows and no row groups");
  }
  uint64_t group_record_size = 8;
  for (const Field& field : footer.schema.fields())
    group_record_size += ChunkRecordSize(field.type);
  if (num_groups > reader.remaining() / group_record_size) {
    return Corrupt(absl::StrCat("footer declares ", num_groups, " row groups, more than it holds"));
  }
  footer.num_rows = static_cast<int64_t>(num_rows);
  footer.row_groups.resize(num_groups);
  uint64_t rows_so_far = 0;
  uint64_t next_offset = kHeaderSize;
  for (uint32_t group = 0; group < num_groups; ++group) {
    RowGroupInfo& info = footer.row_groups[group];
    const uint64_t group_rows = reader.U64();
    if (group_rows == 0 || group_rows > num_rows - rows_so_far) {
      return Corrupt(absl::StrCat("row group ", group, " declares ", group_rows,
                                  " rows, inconsistent with the row count ", num_rows));
    }
    info.first_row = static_cast<int64_t>(rows_so_far);
    info.num_rows = static_cast<int64_t>(group_rows);
    rows_so_far += group_rows;
    info.chunks.resize(num_columns);
    for (uint32_t col = 0; col < num_columns; ++col) {
      const DataType type = footer.schema.field(static_cast<int>(col)).type;
      ColumnChunkInfo& chunk = info.chunks[col];
      chunk.offset = reader.U64();
      chunk.crc32c = reader.U32();
      const uint64_t null_count = reader.U64();
      const uint8_t flags = reader.U8();
      const uint64_t min_bits = reader.U64();
      const uint64_t max_bits = reader.U64();
      chunk.buffers.resize(static_cast<size_t>(NumBuffers(type)));
      for (ChunkBufferInfo& buffer : chunk.buffers) {
        buffer.stored_size = reader.U64();
        buffer.raw_size = reader.U64();
      }
      const std::string where = ChunkName(footer, group, col);
      if (!reader.ok()) return Corrupt(absl::StrCat("footer ends inside ", where));
      if (null_count > group_rows) {
        return Corrupt(
            absl::StrCat(where, " claims ", null_count, " nulls in ", group_rows, " rows"));
      }
      chunk.null_count = static_cast<int64_t>(null_count);
      if ((flags & kStatsHasMinMax) != 0) {
        if (type == DataType::kFloat64) {
          chunk.min = std::bit_cast<double>(min_bits);
          chunk.max = std::bit_cast<double>(max_bits);
        } else {
          chunk.min = static_cast<int64_t>(min_bits);
          chunk.max = static_cast<int64_t>(max_bits);
        }
      }
      ASSAY_RETURN_IF_ERROR(CheckChunkSizes(type, info.num_rows, chunk, where));
      if (chunk.offset != next_offset) {
        return Corrupt(
            absl::StrCat(where, " starts at byte ", chunk.offset, ", expected ", next_offset));
      }
      for (const ChunkBufferInfo& buffer : chunk.buffers) {
        if (buffer.stored_size > footer_start - next_offset) {
          return Corrupt(absl::StrCat(where, " extends past the start of the footer"));
        }
        next_offset += buffer.stored_size;
      }
    }
  }
  if (rows_so_far != num_rows) {
    return Corrupt(
        absl::StrCat("row groups hold ", rows_so_far, " rows, the footer says ", num_rows));
  }
  if (next_offset != footer_start) {
    return Corrupt(absl::StrCat("chunks end at byte ", next_offset, " but the footer starts at ",
                                footer_start));
  }
  // A newer minor version may append fields that this reader does not know; otherwise the
  // footer must end exactly here.
  if (reader.remaining() != 0 && minor <= kTableFormatMinorVersion) {
    return Corrupt(absl::StrCat(reader.remaining(), " unexpected bytes at the end of the footer"));
  }
  return footer;
}

// Decompresses one frame sequence into exactly `raw_size` bytes at `dst`.
absl::Status Decompress(std::string_view src, char* dst, uint64_t raw_size,
                        std::string_view where) {
  if (raw_size == 0) return absl::OkStatus();
  ZSTD_DCtx* ctx = ThreadDCtx();
  if (ctx == nullptr) return absl::InternalError("cannot allocate a zstd decompression context");
  const size_t written = ZSTD_decompressDCtx(ctx, dst, raw_size, src.data(), src.size());
  if (ZSTD_isError(written)) {
    return Corrupt(absl::StrCat(Absl(where), ": zstd: ", ZSTD_getErrorName(written)));
  }
  if (written != raw_size) {
    return Corrupt(
        absl::StrCat(Absl(where), " decompresses to ", written, " bytes, expected ", raw_size));
  }
  return absl::OkStatus();
}

// Decompresses `src` into a small scratch buffer, discarding the output, to confirm it really
// yields `raw_size` bytes before that much memory is allocated.
absl::Status DryRunDecompress(std::string_view src, uint64_t raw_size, std::string_view where) {
  ZSTD_DCtx* ctx = ThreadDCtx();
  if (ctx == nullptr) return absl::InternalError("cannot allocate a zstd decompression context");
  ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
  thread_local std::vector<char> scratch(ZSTD_DStreamOutSize());
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  uint64_t total = 0;
  while (true) {
    const size_t consumed_before = in.pos;
    ZSTD_outBuffer out{scratch.data(), scratch.size(), 0};
    const size_t result = ZSTD_decompressStream(ctx, &out, &in);
    if (ZSTD_isError(result)) {
      ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
      return Corrupt(absl::StrCat(Absl(where), ": zstd: ", ZSTD_getErrorName(result)));
    }
    total += out.pos;
    if (total > raw_size) break;
    if (result == 0 && in.pos == in.size) break;  // every frame complete
    if (out.pos == 0 && in.pos == consumed_before) {
      total = raw_size + 1;  // no progress: the last frame is truncated
      break;
    }
  }
  ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
  if (total != raw_size) {
    return Corrupt(
        absl::StrCat(Absl(where), " does not decompress to the declared ", raw_size, " bytes"));
  }
  return absl::OkStatus();
}

// The decoded buffers of one column, filled chunk by chunk.
struct ColumnBuffers {
  std::vector<uint8_t> u8;
  std::vector<int32_t> i32;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<int64_t> offsets;
  std::string bytes;
  // Each chunk's validity bitmap (empty without nulls), stitched together per column.
  std::vector<std::vector<uint8_t>> chunk_validity;
  std::vector<uint64_t> chunk_byte_start;  // strings: the chunk's first byte in `bytes`
};

char* ValuesSlot(ColumnBuffers& buffers, DataType type, int64_t first_row) {
  switch (type) {
    case DataType::kBool:
      return reinterpret_cast<char*>(buffers.u8.data() + first_row);
    case DataType::kDate:
      return reinterpret_cast<char*>(buffers.i32.data() + first_row);
    case DataType::kInt64:
    case DataType::kTimestamp:
      return reinterpret_cast<char*>(buffers.i64.data() + first_row);
    case DataType::kFloat64:
      return reinterpret_cast<char*>(buffers.f64.data() + first_row);
    case DataType::kString:
      return nullptr;
  }
  return nullptr;
}

template <typename T>
void FromLittleEndian(T* values, int64_t count) {
  if constexpr (std::endian::native == std::endian::big && sizeof(T) > 1) {
    for (int64_t i = 0; i < count; ++i) {
      T value;
      std::memcpy(&value, &values[i], sizeof(T));
      if constexpr (sizeof(T) == 4) {
        value = static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(value)));
      } else {
        value = std::bit_cast<T>(__builtin_bswap64(std::bit_cast<uint64_t>(value)));
      }
      values[i] = value;
    }
  }
}

// Decompresses one verified chunk into its slots of the column buffers.
absl::Status DecodeChunk(std::string_view bytes, const TableFooter& footer, size_t group,
                         size_t col, ColumnBuffers& buffers) {
  const RowGroupInfo& group_info = footer.row_groups[group];
  const ColumnChunkInfo& chunk = group_info.chunks[col];
  const DataType type = footer.schema.field(static_cast<int>(col)).type;
  const int64_t first = group_info.first_row;
  const int64_t rows = group_info.num_rows;
  const std::string where = ChunkName(footer, group, col);
  uint64_t position = chunk.offset;
  auto next_frame = [&](BufferKind kind) {
    const std::string_view frame = bytes.substr(position, chunk.buffers[kind].stored_size);
    position += chunk.buffers[kind].stored_size;
    return frame;
  };

  const std::string_view validity_frame = next_frame(kValidityBuffer);
  if (chunk.null_count > 0) {
    std::vector<uint8_t>& validity = buffers.chunk_validity[group];
    validity.assign(chunk.buffers[kValidityBuffer].raw_size, 0);
    ASSAY_RETURN_IF_ERROR(Decompress(validity_frame, reinterpret_cast<char*>(validity.data()),
                                     validity.size(), where));
    int64_t valid = 0;
    for (uint8_t byte : validity) valid += std::popcount(byte);
    if (rows % 8 != 0 && (validity.back() >> (rows % 8)) != 0) {
      return Corrupt(absl::StrCat(where, " has padding bits set in its validity bitmap"));
    }
    if (rows - valid != chunk.null_count) {
      return Corrupt(
          absl::StrCat(where, " has ", rows - valid, " nulls, the footer says ", chunk.null_count));
    }
  }

  const std::string_view values_frame = next_frame(kValuesBuffer);
  if (type == DataType::kString) {
    std::vector<uint32_t> lengths(static_cast<size_t>(rows));
    ASSAY_RETURN_IF_ERROR(Decompress(values_frame, reinterpret_cast<char*>(lengths.data()),
                                     chunk.buffers[kValuesBuffer].raw_size, where));
    FromLittleEndian(lengths.data(), rows);
    const uint64_t start = buffers.chunk_byte_start[group];
    const uint64_t total = chunk.buffers[kBytesBuffer].raw_size;
    uint64_t sum = 0;
    for (int64_t i = 0; i < rows; ++i) {
      sum += lengths[i];  // at most 2^32 * 2^32 before the check below fails: no overflow
      if (sum > total) {
        return Corrupt(absl::StrCat(where, " has string lengths exceeding its ", total, " bytes"));
      }
      buffers.offsets[first + i + 1] = static_cast<int64_t>(start + sum);
    }
    if (sum != total) {
      return Corrupt(absl::StrCat(where, " has string lengths summing to ", sum, ", not ", total));
    }
    return Decompress(next_frame(kBytesBuffer), buffers.bytes.data() + start, total, where);
  }

  char* slot = ValuesSlot(buffers, type, first);
  ASSAY_RETURN_IF_ERROR(
      Decompress(values_frame, slot, chunk.buffers[kValuesBuffer].raw_size, where));
  switch (type) {
    case DataType::kBool:
      for (int64_t i = 0; i < rows; ++i) {
        if (buffers.u8[first + i] > 1) {
          return Corrupt(absl::StrCat(where, " has a bool value other than 0 or 1"));
        }
      }
      break;
    case DataType::kDate:
      FromLittleEndian(buffers.i32.data() + first, rows);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      FromLittleEndian(buffers.i64.data() + first, rows);
      break;
    case DataType::kFloat64:
      FromLittleEndian(buffers.f64.data() + first, rows);
      break;
    case DataType::kString:
      break;
  }
  return absl::OkStatus();
}

// Joins the chunks' validity bitmaps into the column's bitmap (empty without nulls).
std::vector<uint8_t> StitchValidity(const TableFooter& footer, size_t col,
                                    const ColumnBuffers& buffers) {
  int64_t nulls = 0;
  for (const RowGroupInfo& group : footer.row_groups) nulls += group.chunks[col].null_count;
  if (nulls == 0) return {};
  std::vector<uint8_t> validity(static_cast<size_t>((footer.num_rows + 7) / 8), 0);
  for (size_t group = 0; group < footer.row_groups.size(); ++group) {
    const RowGroupInfo& info = footer.row_groups[group];
    const std::vector<uint8_t>& chunk = buffers.chunk_validity[group];
    const int64_t first = info.first_row;
    if (first % 8 == 0 && !chunk.empty()) {
      std::memcpy(validity.data() + first / 8, chunk.data(), chunk.size());
      continue;
    }
    for (int64_t i = 0; i < info.num_rows; ++i) {
      const bool valid = chunk.empty() || ((chunk[i >> 3] >> (i & 7)) & 1) != 0;
      if (valid) validity[(first + i) >> 3] |= static_cast<uint8_t>(1u << ((first + i) & 7));
    }
  }
  return validity;
}

absl::StatusOr<Column> FinishColumn(DataType type, ColumnBuffers& buffers,
                                    std::vector<uint8_t> validity) {
  switch (type) {
    case DataType::kBool:
      return Column::FromBools(std::move(buffers.u8), std::move(validity));
    case DataType::kInt64:
      return Column::FromInt64s(std::move(buffers.i64), std::move(validity));
    case DataType::kFloat64:
      return Column::FromFloat64s(std::move(buffers.f64), std::move(validity));
    case DataType::kDate:
      return Column::FromDates(std::move(buffers.i32), std::move(validity));
    case DataType::kTimestamp:
      return Column::FromTimestamps(std::move(buffers.i64), std::move(validity));
    case DataType::kString:
      return Column::FromStrings(std::move(buffers.offsets), std::move(buffers.bytes),
                                 std::move(validity));
  }
  return absl::InternalError("unknown column type");
}

}  // namespace

uint64_t ColumnChunkInfo::stored_size() const {
  uint64_t total = 0;
  for (const ChunkBufferInfo& buffer : buffers) total += buffer.stored_size;
  return total;
}

uint64_t ColumnChunkInfo::raw_size() const {
  uint64_t total = 0;
  for (const ChunkBufferInfo& buffer : buffers) total += buffer.raw_size;
  return total;
}

uint32_t Crc32c(std::string_view bytes) {
#if defined(__x86_64__)
  static const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
  if (kHasSse42) return Crc32cSse42(bytes.data(), bytes.size());
#endif
  return Crc32cSoftware(bytes.data(), bytes.size());
}

namespace internal {
uint32_t Crc32cPortable(std::string_view bytes) {
  return Crc32cSoftware(bytes.data(), bytes.size());
}

// Asks the kernel to back [data, data + size) with transparent huge pages when it is touched.
// Large outputs are fresh memory, and the first touch of each 4 KiB page is a page fault: on
// the virtual machines Assay targets that costs ~10-25 us, so touching 320 MB took 2.1 s
// with 4 KiB pages and 0.08 s with 2 MiB pages (measured; THP in "madvise" mode, the Debian
// default). Only a hint: errors are ignored, and only whole 2 MiB pages inside the range are
// advised, so memory shared with other allocations is never affected.
void AdviseHugePages(const void* data, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHugePage = uintptr_t{2} << 20;
  if (size < 2 * kHugePage) return;
  const auto begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = (reinterpret_cast<uintptr_t>(data) + size) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)size;
#endif
}
}  // namespace internal

absl::StatusOr<std::string> EncodeTable(const Table& table) {
  return EncodeTable(table, TableEncodeOptions{});
}

absl::StatusOr<std::string> EncodeTable(const Table& table, const TableEncodeOptions& options) {
  if (options.rows_per_group < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("rows_per_group must be at least 1, got ", options.rows_per_group));
  }
  const int64_t num_rows = table.num_rows();
  const int64_t num_columns = table.num_columns();
  const int64_t num_groups =
      num_columns == 0 ? 0 : (num_rows + options.rows_per_group - 1) / options.rows_per_group;

  const auto group_rows = [&](int64_t group) {
    return std::min(options.rows_per_group, num_rows - group * options.rows_per_group);
  };

  // Reserve the worst case up front: untouched capacity costs address space only, while
  // growing the string would copy everything written so far.
  uint64_t footer_size = 4 + 8 + 4;
  for (const Field& field : table.schema().fields()) footer_size += 4 + field.name.size() + 1;
  uint64_t capacity = kHeaderSize + kTrailerSize;
  for (int64_t group = 0; group < num_groups; ++group) {
    const int64_t first = group * options.rows_per_group;
    const auto rows = static_cast<uint64_t>(group_rows(group));
    footer_size += 8;
    for (int col = 0; col < num_columns; ++col) {
      const Column& column = table.column(col);
      footer_size += ChunkRecordSize(column.type());
      capacity +=
          ZSTD_compressBound((rows + 7) / 8) + ZSTD_compressBound(rows * ValueWidth(column.type()));
      if (column.type() == DataType::kString) {
        const std::vector<int64_t>& offsets = column.string_offsets();
        capacity += ZSTD_compressBound(
            static_cast<size_t>(offsets[first + static_cast<int64_t>(rows)] - offsets[first]));
      }
    }
  }
  std::string out;
  out.reserve(capacity + footer_size);
  internal::AdviseHugePages(out.data(), out.capacity());
  out.append(kMagic, sizeof(kMagic));
  PutU16(&out, kTableFormatMajorVersion);
  PutU16(&out, kTableFormatMinorVersion);

  // Chunks are compressed in parallel in batches, each into a slot reused from batch to batch,
  // and appended in (group, column) order, so the bytes do not depend on the number of threads
  // and only the output itself is fresh memory.
  const int64_t num_chunks = num_groups * num_columns;
  const int64_t batch_size =
      std::min<int64_t>(num_chunks, 4 * common::ThreadPool::Default().num_threads());
  std::vector<ColumnChunkInfo> infos(static_cast<size_t>(num_chunks));
  std::vector<std::string> slots(static_cast<size_t>(batch_size));
  for (int64_t batch_start = 0; batch_start < num_chunks; batch_start += batch_size) {
    const int64_t count = std::min(batch_size, num_chunks - batch_start);
    ASSAY_RETURN_IF_ERROR(ParallelTasks(count, [&](int64_t slot) {
      const int64_t task = batch_start + slot;
      const int64_t group = task / num_columns;
      const int col = static_cast<int>(task % num_columns);
      slots[slot].clear();
      return EncodeChunk(table.column(col), table.schema().field(col).name,
                         group * options.rows_per_group, group_rows(group), &slots[slot],
                         &infos[task]);
    }));
    for (int64_t slot = 0; slot < count; ++slot) {
      infos[batch_start + slot].offset = out.size();
      out.append(slots[slot]);
    }
  }

  const size_t footer_start = out.size();
  PutU32(&out, static_cast<uint32_t>(num_columns));
  for (const Field& field : table.schema().fields()) {
    PutU32(&out, static_cast<uint32_t>(field.name.size()));
    out.append(field.name);
    PutU8(&out, static_cast<uint8_t>(field.type));
  }
  PutU64(&out, static_cast<uint64_t>(num_rows));
  PutU32(&out, static_cast<uint32_t>(num_groups));
  for (int64_t group = 0; group < num_groups; ++group) {
    PutU64(&out, static_cast<uint64_t>(group_rows(group)));
    for (int64_t col = 0; col < num_columns; ++col) {
      PutChunkRecord(infos[group * num_columns + col], &out);
    }
  }
  const uint64_t footer_length = out.size() - footer_start;
  const uint32_t footer_crc = Crc32c(std::string_view(out).substr(footer_start));
  PutTrailer(footer_length, footer_crc, &out);
  return out;
}

absl::StatusOr<TableFooter> DecodeFooter(std::string_view bytes) { return ParseFile(bytes); }

absl::StatusOr<Table> DecodeTable(std::string_view bytes) {
  ASSAY_ASSIGN_OR_RETURN(const TableFooter footer, ParseFile(bytes));
  const size_t num_columns = static_cast<size_t>(footer.schema.num_fields());
  const size_t num_groups = footer.row_groups.size();
  const int64_t num_chunks = static_cast<int64_t>(num_columns * num_groups);

  // Pass 1: verify every checksum, and confirm suspiciously large declared sizes by a dry run,
  // before allocating anything in proportion to what the footer declares.
  ASSAY_RETURN_IF_ERROR(ParallelTasks(num_chunks, [&](int64_t task) -> absl::Status {
    const size_t group = static_cast<size_t>(task) / num_columns;
    const size_t col = static_cast<size_t>(task) % num_columns;
    const ColumnChunkInfo& chunk = footer.row_groups[group].chunks[col];
    const std::string_view stored = bytes.substr(chunk.offset, chunk.stored_size());
    if (Crc32c(stored) != chunk.crc32c) {
      return Corrupt(absl::StrCat("checksum mismatch in ", ChunkName(footer, group, col)));
    }
    uint64_t position = chunk.offset;
    for (const ChunkBufferInfo& buffer : chunk.buffers) {
      if (buffer.raw_size / kTrustedExpansion > buffer.stored_size) {
        ASSAY_RETURN_IF_ERROR(DryRunDecompress(bytes.substr(position, buffer.stored_size),
                                               buffer.raw_size, ChunkName(footer, group, col)));
      }
      position += buffer.stored_size;
    }
    return absl::OkStatus();
  }));

  // Pass 2: allocate each column's buffers, then decompress every chunk into its slot.
  std::vector<ColumnBuffers> columns(num_columns);
  const size_t rows = static_cast<size_t>(footer.num_rows);
  for (size_t col = 0; col < num_columns; ++col) {
    ColumnBuffers& buffers = columns[col];
    buffers.chunk_validity.resize(num_groups);
    switch (footer.schema.field(static_cast<int>(col)).type) {
      case DataType::kBool:
        ResizeFresh(buffers.u8, rows);
        break;
      case DataType::kDate:
        ResizeFresh(buffers.i32, rows);
        break;
      case DataType::kInt64:
      case DataType::kTimestamp:
        ResizeFresh(buffers.i64, rows);
        break;
      case DataType::kFloat64:
        ResizeFresh(buffers.f64, rows);
        break;
      case DataType::kString: {
        uint64_t total_bytes = 0;
        buffers.chunk_byte_start.resize(num_groups);
        for (size_t group = 0; group < num_groups; ++group) {
          buffers.chunk_byte_start[group] = total_bytes;
          // Bounded by kMaxZstdExpansion times the file size: cannot overflow.
          total_bytes += footer.row_groups[group].chunks[col].buffers[kBytesBuffer].raw_size;
        }
        ResizeFresh(buffers.offsets, rows + 1);
        ResizeFresh(buffers.bytes, total_bytes);
        break;
      }
    }
  }
  ASSAY_RETURN_IF_ERROR(ParallelTasks(num_chunks, [&](int64_t task) {
    const size_t group = static_cast<size_t>(task) / num_columns;
    const size_t col = static_cast<size_t>(task) % num_columns;
    return DecodeChunk(bytes, footer, group, col, columns[col]);
  }));

  // Pass 3: assemble the columns.
  std::vector<Column> result(num_columns);
  ASSAY_RETURN_IF_ERROR(ParallelTasks(static_cast<int64_t>(num_columns), [&](int64_t task) {
    const size_t col = static_cast<size_t>(task);
    std::vector<uint8_t> validity = StitchValidity(footer, col, columns[col]);
    columns[col].chunk_validity.clear();
    auto column = FinishColumn(footer.schema.field(static_cast<int>(col)).type, columns[col],
                               std::move(validity));
    if (!column.ok()) {
      return Corrupt(absl::StrCat("column \"", footer.schema.field(static_cast<int>(col)).name,
                                  "\": ", std::string(column.status().message())));
    }
    result[col] = std::move(column).value();
    return absl::OkStatus();
  }));
  auto table = Table::Make(footer.schema, std::move(result));
  if (!table.ok()) return Corrupt(std::string(table.status().message()));
  return table;
}

}  // namespace assay::table
