#include "table/csv_reader.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <span>
#include <type_traits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <fast_float/fast_float.h>
#include <simdjson.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/civil_time.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"

// How the reader works (details in docs/formats/csv.md):
//
//  1. Strip the UTF-8 BOM and the trailing line breaks; sniff the delimiter from the first
//     records; parse the first record to decide the header and the column count.
//  2. Pass A, parallel over a grid of fixed-size cells: validate UTF-8 (simdjson), count
//     quote characters and line breaks. The prefix parity of the quote counts tells whether a
//     grid point lies inside a quoted field, so each cell boundary can be moved to the next
//     line break outside quotes: these are the chunk boundaries.
//  3. Pass B: chunk 0 (small) first, whose column types become the guesses; then the other
//     chunks in parallel. A chunk tokenizes records, checks field counts, and converts each
//     field straight into typed storage: for a column guessed fixed-width, its slice of the
//     final column buffer ("direct mode", sized from the line-break counts; see DirectPlan);
//     otherwise a per-chunk buffer. A value that does not fit widens the chunk's column type
//     (int64 -> float64, date -> timestamp, anything -> string).
//  4. Stitch, in file order: a chunk is accepted only if it starts exactly where the previous
//     accepted chunk ended. Parity can be fooled by a quote inside an unquoted field, which
//     RFC 4180 readers (and this one) keep literally; a chunk that started at a wrong place is
//     re-parsed sequentially from the right place, and the next chunks re-synchronise. Errors
//     and bad rows of a chunk count only once the chunk is accepted, so they are exact.
//  5. Merge the column types over chunks; convert chunks whose type is narrower than the final
//     one (parallel over chunks). A chunk column that must become string is re-tokenized once
//     to recover the original text: values are never re-rendered from parsed numbers.
//  6. Concatenate the chunk buffers into the final Column buffers, or for direct-mode columns
//     close the gaps between the slices (parallel over columns).

namespace assay::table {
namespace {

constexpr int kSniffRecords = 20;
constexpr size_t kSniffBytes = size_t{64} << 10;
constexpr size_t kMaxSkippedExamples = 10;
// At most this many (chunk, column) states exist at once (~200 bytes each).
constexpr int64_t kMaxChunkColumns = int64_t{1} << 18;
// Size of chunk 0, which is parsed first and alone to guess the column types.
constexpr int64_t kProbeBytes = int64_t{1} << 20;
constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;
constexpr char kSniffCandidates[] = {',', ';', '\t', '|'};
constexpr char kSkipHint[] = " (use --on-bad-rows=skip to skip such rows)";

// ----------------------------------------------------------------------------------------
// Memory. Every buffer of the reader is written once on first touch, so page faults are a
// large part of the cost (measured on the target VM: first touch of 4 KiB pages runs at
// ~170 MB/s, of transparent huge pages at several GB/s). Large buffers therefore ask for
// huge pages.

constexpr size_t kHugePage = size_t{2} << 20;

// Asks for transparent huge pages on the 2 MiB-aligned interior of [data, data + bytes).
void AdviseHugePages(const void* data, size_t bytes) {
  if (bytes < 2 * kHugePage) return;
  const auto begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHugePage - 1);
  if (begin < end) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// Maps the pages of a file mapping in one call instead of one fault each (first touches of
// mapped file pages are expensive on virtual machines). Best effort: errors are ignored.
void PopulatePages(const char* begin, const char* end) {
#if defined(MADV_POPULATE_READ)
  const uintptr_t page = 4096;
  const uintptr_t first = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
  const auto last = reinterpret_cast<uintptr_t>(end);
  if (first < last) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_READ);
#else
  (void)begin;
  (void)end;
#endif
}

template <typename Container>
void ReserveHuge(Container& container, size_t n) {
  container.reserve(n);
  AdviseHugePages(container.data(), container.capacity() * sizeof(container[0]));
}

// Allocator of the per-chunk buffers: large blocks are anonymous mappings advised for huge
// pages (and returned to the system when freed); small ones come from operator new.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kMapThreshold = size_t{1} << 20;

  HugePageAllocator() = default;
  template <typename U>
  explicit HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMapThreshold) return static_cast<T*>(::operator new(bytes));
    // Map whole, aligned huge pages: over-map by one huge page, then trim head and tail.
    const size_t mapped = RoundUp(bytes);
    void* raw = ::mmap(nullptr, mapped + kHugePage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
    if (aligned > start) ::munmap(raw, aligned - start);
    const size_t tail = kHugePage - (aligned - start);
    if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + mapped), tail);
    ::madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);
    return reinterpret_cast<T*>(aligned);
  }

  void deallocate(T* data, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMapThreshold) {
      ::operator delete(data);
    } else {
      ::munmap(data, RoundUp(bytes));
    }
  }

  static size_t RoundUp(size_t bytes) { return (bytes + kHugePage - 1) & ~(kHugePage - 1); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using ChunkVector = std::vector<T, HugePageAllocator<T>>;
using ChunkBytes = std::basic_string<char, std::char_traits<char>, HugePageAllocator<char>>;

template <typename Container>
void Release(Container& container) {
  Container().swap(container);
}

// ----------------------------------------------------------------------------------------
// Byte scanning.

// First byte in [p, end) equal to a, b or c; end if none.
inline const char* FindAny3(const char* p, const char* end, char a, char b, char c) {
#if defined(__SSE2__)
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, va), _mm_cmpeq_epi8(chunk, vb)),
                     _mm_cmpeq_epi8(chunk, vc));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != a && *p != b && *p != c) ++p;
  return p;
}

// Number of bytes equal to c in [p, end).
int64_t CountByte(const char* p, const char* end, char c) {
  int64_t count = 0;
#if defined(__SSE2__)
  const __m128i vc = _mm_set1_epi8(c);
  while (end - p >= 16) {
    // Byte lanes count up to 255 matches before they are summed with SAD.
    const int64_t blocks = std::min<int64_t>((end - p) / 16, 255);
    __m128i acc = _mm_setzero_si128();
    for (int64_t i = 0; i < blocks; ++i, p += 16) {
      const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(chunk, vc));
    }
    const __m128i sums = _mm_sad_epu8(acc, _mm_setzero_si128());
    count += _mm_cvtsi128_si32(sums) + _mm_extract_epi16(sums, 4);
  }
#endif
  for (; p < end; ++p) count += (*p == c);
  return count;
}

// Quote characters and record-ending line breaks (LF, and CR not followed by LF) in
// [p, end); a CR at end - 1 looks at the byte after it when that is before eof.
struct CellCounts {
  int64_t quotes = 0;
  int64_t breaks = 0;
};

CellCounts CountCell(const char* p, const char* end, const char* eof) {
  CellCounts counts;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  // A block also reads the byte after it (CR followed by LF), so it needs 17 bytes.
  while (end - p >= 16 && eof - p >= 17) {
    const int64_t blocks = std::min<int64_t>({(end - p) / 16, (eof - p - 1) / 16, 255});
    __m128i quotes = _mm_setzero_si128();
    __m128i breaks = _mm_setzero_si128();
    for (int64_t i = 0; i < blocks; ++i, p += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
      quotes = _mm_sub_epi8(quotes, _mm_cmpeq_epi8(bytes, quote));
      const __m128i bare_cr = _mm_andnot_si128(_mm_cmpeq_epi8(next, lf), _mm_cmpeq_epi8(bytes, cr));
      breaks = _mm_sub_epi8(breaks, _mm_or_si128(_mm_cmpeq_epi8(bytes, lf), bare_cr));
    }
    const __m128i quote_sums = _mm_sad_epu8(quotes, _mm_setzero_si128());
    const __m128i break_sums = _mm_sad_epu8(breaks, _mm_setzero_si128());
    counts.quotes += _mm_cvtsi128_si32(quote_sums) + _mm_extract_epi16(quote_sums, 4);
    counts.breaks += _mm_cvtsi128_si32(break_sums) + _mm_extract_epi16(break_sums, 4);
  }
#endif
  for (; p < end; ++p) {
    if (*p == '"') {
      ++counts.quotes;
    } else if (*p == '\n' || (*p == '\r' && (p + 1 == eof || p[1] != '\n'))) {
      ++counts.breaks;
    }
  }
  return counts;
}

// Line breaks (LF, CRLF, lone CR) in [p, end).
int64_t CountLineBreaks(const char* p, const char* end) {
  int64_t lines = 0;
  for (; p < end; ++p) {
    if (*p == '\n' || (*p == '\r' && (p + 1 == end || p[1] != '\n'))) ++lines;
  }
  return lines;
}

// Offset of the first byte that starts an invalid UTF-8 sequence (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF), or n if the text is valid.
size_t FirstInvalidUtf8(const unsigned char* s, size_t n) {
  size_t i = 0;
  while (i < n) {
    const unsigned lead = s[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code;
    uint32_t minimum;
    if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1F, minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0F, minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07, minimum = 0x10000;
    } else {
      return i;
    }
    if (n - i < length) return i;
    for (size_t k = 1; k < length; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      code = (code << 6) | (s[i + k] & 0x3F);
    }
    if (code < minimum || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return i;
    i += length;
  }
  return n;
}

// ----------------------------------------------------------------------------------------
// Value parsing. Inference is strict so that reading never loses information: integers keep
// their digits, so "02134" (a leading zero) and integers beyond int64 are strings, not numbers.

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "-?[0-9]+".
bool IsPlainInteger(const char* p, const char* end) {
  if (p < end && *p == '-') ++p;
  if (p == end) return false;
  for (; p < end; ++p) {
    if (!IsDigit(*p)) return false;
  }
  return true;
}

// Parses "-?[0-9]+" into an int64. Leading zeros ("007", "-01") are rejected unless
// allow_leading_zeros; out-of-range values are rejected.
bool ParseInt64(const char* p, const char* end, bool allow_leading_zeros, int64_t* out) {
  bool negative = false;
  if (p < end && *p == '-') {
    negative = true;
    ++p;
  }
  if (p == end) return false;
  if (*p == '0' && end - p > 1) {
    if (!allow_leading_zeros) return false;
    while (end - p > 1 && *p == '0') ++p;
  }
  if (end - p > 19) return false;
  uint64_t value = 0;  // at most 19 digits: no overflow
  for (; p < end; ++p) {
    const unsigned digit = static_cast<unsigned char>(*p) - static_cast<unsigned>('0');
    if (digit > 9) return false;
    value = value * 10 + digit;
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (value > kMax + 1) return false;
    *out = static_cast<int64_t>(uint64_t{0} - value);  // modular conversion (C++20)
  } else {
    if (value > kMax) return false;
    *out = static_cast<int64_t>(value);
  }
  return true;
}

// Any form fast_float reads ("1e5", "-0.5", ".5", "inf", "nan", ...), consuming the whole
// field. Rejects "nan(...)" payload forms, which would lose text.
bool ParseFloat64Lenient(const char* p, const char* end, double* out) {
  if (p == end) return false;
  const auto result = fast_float::from_chars(p, end, *out);
  if (result.ec != std::errc() || result.ptr != end) return false;
  if (std::isnan(*out) && std::memchr(p, '(', static_cast<size_t>(end - p)) != nullptr) {
    return false;
  }
  return true;
}

// The float64 syntax of inference: ParseFloat64Lenient, minus leading zeros in the integer
// part ("01.5") and minus plain integers that are not int64 (they stay strings).
bool ParseFloat64Strict(const char* p, const char* end, double* out) {
  if (!ParseFloat64Lenient(p, end, out)) return false;
  const char* digits = p + (*p == '-' ? 1 : 0);
  if (end - digits > 1 && digits[0] == '0' && IsDigit(digits[1])) return false;
  if (IsPlainInteger(p, end)) {
    int64_t ignored;
    return ParseInt64(p, end, /*allow_leading_zeros=*/false, &ignored);
  }
  return true;
}

// "true" / "false", case-insensitive.
bool ParseBool(const char* p, const char* end, uint8_t* out) {
  const auto matches = [p](const char* word, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      if (static_cast<char>(p[i] | 0x20) != word[i]) return false;
    }
    return true;
  };
  const auto n = static_cast<size_t>(end - p);
  if (n == 4 && matches("true", 4)) {
    *out = 1;
    return true;
  }
  if (n == 5 && matches("false", 5)) {
    *out = 0;
    return true;
  }
  return false;
}

// Reads n decimal digits at p; false if one is not a digit.
inline bool ReadDigits(const char* p, int n, uint32_t* out) {
  uint32_t value = 0;
  for (int i = 0; i < n; ++i) {
    const unsigned digit = static_cast<unsigned char>(p[i]) - static_cast<unsigned>('0');
    if (digit > 9) return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

// "YYYY-MM-DD": the same result as common::ParseIsoDate, without its generality (hot path).
bool ParseDate(const char* p, const char* end, int32_t* out) {
  uint32_t year, month, day;
  if (end - p != 10 || p[4] != '-' || p[7] != '-' || !ReadDigits(p, 4, &year) ||
      !ReadDigits(p + 5, 2, &month) || !ReadDigits(p + 8, 2, &day) ||
      !common::IsValidCivilDate(static_cast<int32_t>(year), month, day)) {
    return false;
  }
  *out = common::DaysFromCivil(static_cast<int32_t>(year), month, day);
  return true;
}

// An ISO timestamp (common::ParseIsoTimestamp), or a date (midnight UTC): date + timestamp
// widens to timestamp. The canonical "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" forms the writer emits
// take a fast path with the same result.
bool ParseTimestampOrDate(const char* p, const char* end, int64_t* out) {
  const auto n = end - p;
  if (n == 20 || n == 27) {
    int32_t days;
    uint32_t hours, minutes, seconds, micros = 0;
    if (ParseDate(p, p + 10, &days) && p[10] == 'T' && p[13] == ':' && p[16] == ':' &&
        end[-1] == 'Z' && ReadDigits(p + 11, 2, &hours) && ReadDigits(p + 14, 2, &minutes) &&
        ReadDigits(p + 17, 2, &seconds) && hours <= 23 && minutes <= 59 && seconds <= 60 &&
        (n == 20 || (p[19] == '.' && ReadDigits(p + 20, 6, &micros)))) {
      const int64_t second_of_day =
          int64_t{hours} * 3600 + int64_t{minutes} * 60 + int64_t{seconds};
      *out = int64_t{days} * kMicrosPerDay + second_of_day * 1'000'000 + micros;
      return true;
    }
  }
  const std::string_view text(p, static_cast<size_t>(n));
  if (text.size() >= 16) {
    // A zone offset can move the instant out of years 0000-9999, which have no canonical
    // text to be written back as: such a value is not a timestamp (it stays a string).
    constexpr int64_t kFirstMicros = int64_t{-719528} * kMicrosPerDay;  // 0000-01-01
    constexpr int64_t kEndMicros = int64_t{2932897} * kMicrosPerDay;    // 10000-01-01
    const auto micros = common::ParseIsoTimestamp(text);
    if (!micros || *micros < kFirstMicros || *micros >= kEndMicros) return false;
    *out = *micros;
    return true;
  }
  int32_t days;
  if (!ParseDate(p, end, &days)) return false;
  *out = static_cast<int64_t>(days) * kMicrosPerDay;
  return true;
}

// The narrowest type a single non-null value parses as.
DataType Classify(const char* p, const char* end) {
  if (p == end) return DataType::kString;
  const char first = *p;
  if (IsDigit(first) || first == '-' || first == '.') {
    int64_t integer;
    if (ParseInt64(p, end, /*allow_leading_zeros=*/false, &integer)) return DataType::kInt64;
    if (IsPlainInteger(p, end)) return DataType::kString;  // leading zero or overflow
    const auto n = end - p;
    int32_t days;
    if (n == 10 && ParseDate(p, end, &days)) return DataType::kDate;
    int64_t micros;
    if (n >= 16 && p[4] == '-' && ParseTimestampOrDate(p, end, &micros)) {
      return DataType::kTimestamp;
    }
    double real;
    if (ParseFloat64Strict(p, end, &real)) return DataType::kFloat64;
    return DataType::kString;
  }
  const char lower = static_cast<char>(first | 0x20);
  if (lower == 't' || lower == 'f') {
    uint8_t flag;
    if (ParseBool(p, end, &flag)) return DataType::kBool;
  } else if (lower == 'n' || lower == 'i') {
    double real;
    if (ParseFloat64Strict(p, end, &real)) return DataType::kFloat64;
  }
  return DataType::kString;
}

// The narrowest type holding both: int64 + float64 -> float64, date + timestamp ->
// timestamp, any other mix -> string.
DataType Widen(DataType a, DataType b) {
  if (a == b) return a;
  const auto is = [&](DataType x, DataType y) { return (a == x && b == y) || (a == y && b == x); };
  if (is(DataType::kInt64, DataType::kFloat64)) return DataType::kFloat64;
  if (is(DataType::kDate, DataType::kTimestamp)) return DataType::kTimestamp;
  return DataType::kString;
}

// Appends [p, end) to out, turning each doubled quote into one.
template <typename String>
void AppendUnescaped(const char* p, const char* end, String* out) {
  while (p < end) {
    const char* quote = static_cast<const char*>(std::memchr(p, '"', static_cast<size_t>(end - p)));
    if (quote == nullptr) {
      out->append(p, static_cast<size_t>(end - p));
      return;
    }
    out->append(p, static_cast<size_t>(quote + 1 - p));
    p = quote + 2;  // skip the second quote of the pair
  }
}

// A value quoted for an error message, cut to a readable length at a character boundary.
std::string Excerpt(const char* p, const char* end) {
  constexpr size_t kMaxBytes = 40;
  auto n = static_cast<size_t>(end - p);
  std::string out = "\"";
  if (n > kMaxBytes) {
    n = kMaxBytes;
    while (n > 0 && (static_cast<unsigned char>(p[n]) & 0xC0) == 0x80) --n;
    out.append(p, n);
    out += "...\"";
  } else {
    out.append(p, n);
    out += "\"";
  }
  return out;
}

// ----------------------------------------------------------------------------------------
// Records.

struct FieldSpan {
  const char* begin;  // content, without the surrounding quotes
  const char* end;
  int64_t lines_before;  // line breaks inside the record before this field starts
  bool quoted;
  bool escaped;  // holds doubled quotes
};

// Appends the value of a field: its bytes, with doubled quotes undone if it was quoted.
template <typename String>
void AppendFieldText(const FieldSpan& field, String* out) {
  if (field.escaped) {
    AppendUnescaped(field.begin, field.end, out);
  } else {
    out->append(field.begin, static_cast<size_t>(field.end - field.begin));
  }
}

enum class RecordStatus : uint8_t { kOk, kTextAfterQuote, kUnterminatedQuote };

// Finds structural bytes 64 at a time: one pass over a block computes bitmasks of
// delimiter-or-line-break and quote-or-line-break positions, and the several fields inside
// the block are then found with a shift and a count-trailing-zeros each.
class StructuralScanner {
 public:
  StructuralScanner(const char* eof, char delimiter) : eof_(eof), delimiter_(delimiter) {}

  // The first delimiter, LF or CR at or after p; eof if none.
  const char* FindFieldEnd(const char* p) { return Find<true>(p); }
  // The first quote, LF or CR at or after p; eof if none.
  const char* FindQuoteOrBreak(const char* p) { return Find<false>(p); }

 private:
  template <bool kFieldEnd>
  const char* Find(const char* p) {
    while (p < eof_) {
      // Unsigned: a position before the current block wraps to a large offset.
      const uintptr_t offset = reinterpret_cast<uintptr_t>(p) - block_;
      if (offset >= 64) {
        Load(p);
        continue;
      }
      const uint64_t mask = (kFieldEnd ? field_end_ : quote_or_break_) >> offset;
      if (mask != 0) return p + __builtin_ctzll(mask);
      p += 64 - offset;
    }
    return eof_;
  }

  void Load(const char* p) {
    const auto available = static_cast<size_t>(eof_ - p);
    char tail[64];
    const char* src = p;
    if (available < 64) {
      std::memset(tail, 0, sizeof(tail));
      std::memcpy(tail, p, available);
      src = tail;
    }
    uint64_t field_end = 0;
    uint64_t quote_or_break = 0;
#if defined(__SSE2__)
    const __m128i delimiter = _mm_set1_epi8(delimiter_);
    const __m128i lf = _mm_set1_epi8('\n');
    const __m128i cr = _mm_set1_epi8('\r');
    const __m128i quote = _mm_set1_epi8('"');
    for (int i = 0; i < 4; ++i) {
      const __m128i bytes =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + ptrdiff_t{16} * i));
      const __m128i line_break = _mm_or_si128(_mm_cmpeq_epi8(bytes, lf), _mm_cmpeq_epi8(bytes, cr));
      const auto ends = static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_or_si128(line_break, _mm_cmpeq_epi8(bytes, delimiter))));
      const auto quotes = static_cast<uint32_t>(
          _mm_movemask_epi8(_mm_or_si128(line_break, _mm_cmpeq_epi8(bytes, quote))));
      field_end |= uint64_t{ends} << (16 * i);
      quote_or_break |= uint64_t{quotes} << (16 * i);
    }
#else
    for (int i = 0; i < 64; ++i) {
      const char c = src[i];
      const bool line_break = c == '\n' || c == '\r';
      field_end |= uint64_t{line_break || c == delimiter_} << i;
      quote_or_break |= uint64_t{line_break || c == '"'} << i;
    }
#endif
    if (available < 64) {
      // The zero padding must not match (a NUL delimiter would).
      const uint64_t valid = (uint64_t{1} << available) - 1;
      field_end &= valid;
      quote_or_break &= valid;
    }
    block_ = reinterpret_cast<uintptr_t>(p);
    field_end_ = field_end;
    quote_or_break_ = quote_or_break;
  }

  const char* eof_;
  char delimiter_;
  uintptr_t block_ = 0;  // address of the current block; 0: none (no object lives there)
  uint64_t field_end_ = 0;
  uint64_t quote_or_break_ = 0;
};

// Splits one record into fields. RFC 4180 plus: LF, CRLF or a lone CR end a record; a quote
// inside an unquoted field is an ordinary character. Owns a field buffer reused from record
// to record, so parsing does not allocate per field.
class RecordParser {
 public:
  RecordParser(const char* eof, char delimiter)
      : eof_(eof), delimiter_(delimiter), scanner_(eof, delimiter) {
    storage_.resize(64);
  }

  // Parses the record starting at p (requires p < eof) and returns the position after its
  // terminator (or eof).
  const char* Parse(const char* p) {
    count_ = 0;
    status_ = RecordStatus::kOk;
    bad_field_ = 0;
    int64_t lines = 0;
    while (true) {
      // Fields are written in place (building one on the stack and copying it stalls on
      // store forwarding in this loop).
      if (count_ == storage_.size()) storage_.resize(2 * count_);
      FieldSpan& field = storage_[count_];
      field.lines_before = lines;
      if (p < eof_ && *p == '"') {
        const char* q = p + 1;
        bool escaped = false;
        while (true) {
          q = scanner_.FindQuoteOrBreak(q);
          if (q == eof_) {
            status_ = RecordStatus::kUnterminatedQuote;
            bad_field_ = count_;
            field = FieldSpan{p + 1, eof_, field.lines_before, true, escaped};
            ++count_;
            lines_ = lines;
            return eof_;
          }
          if (*q == '"') {
            if (q + 1 < eof_ && q[1] == '"') {
              escaped = true;
              q += 2;
              continue;
            }
            break;
          }
          ++lines;
          if (*q == '\r' && q + 1 < eof_ && q[1] == '\n') ++q;
          ++q;
        }
        field.begin = p + 1;
        field.end = q;
        field.quoted = true;
        field.escaped = escaped;
        p = q + 1;
        if (p < eof_ && *p != delimiter_ && *p != '\n' && *p != '\r') {
          if (status_ == RecordStatus::kOk) {
            status_ = RecordStatus::kTextAfterQuote;
            bad_field_ = count_;
          }
          p = scanner_.FindFieldEnd(p);
        }
      } else {
        const char* q = scanner_.FindFieldEnd(p);
        field.begin = p;
        field.end = q;
        field.quoted = false;
        field.escaped = false;
        p = q;
      }
      ++count_;
      if (p == eof_) break;
      if (*p == delimiter_) {
        ++p;
        continue;
      }
      ++lines;
      if (*p == '\r' && p + 1 < eof_ && p[1] == '\n') ++p;
      ++p;
      break;
    }
    lines_ = lines;
    return p;
  }

  std::span<const FieldSpan> fields() const { return {storage_.data(), count_}; }
  RecordStatus status() const { return status_; }
  size_t bad_field() const { return bad_field_; }
  // Line breaks consumed by the last Parse, including the record's own terminator.
  int64_t lines() const { return lines_; }
  // An empty line: one empty unquoted field.
  bool IsBlank() const {
    return count_ == 1 && !storage_[0].quoted && storage_[0].begin == storage_[0].end;
  }

 private:
  const char* eof_;
  char delimiter_;
  StructuralScanner scanner_;
  std::vector<FieldSpan> storage_;  // grows, never shrinks
  size_t count_ = 0;
  RecordStatus status_ = RecordStatus::kOk;
  size_t bad_field_ = 0;
  int64_t lines_ = 0;
};

// Null-token matching that rejects most fields by length alone.
class NullTokens {
 public:
  explicit NullTokens(const std::vector<std::string>& tokens) : tokens_(tokens) {
    for (const std::string& token : tokens_) {
      if (token.size() < 64) {
        length_mask_ |= uint64_t{1} << token.size();
      } else {
        has_long_ = true;
      }
    }
  }

  bool Match(const char* p, const char* end) const {
    const auto n = static_cast<size_t>(end - p);
    if (n < 64 ? ((length_mask_ >> n) & 1) == 0 : !has_long_) return false;
    for (const std::string& token : tokens_) {
      if (token.size() == n && (n == 0 || std::memcmp(token.data(), p, n) == 0)) return true;
    }
    return false;
  }

  bool IsNull(const FieldSpan& field) const {
    return !field.quoted && Match(field.begin, field.end);
  }

 private:
  std::vector<std::string> tokens_;
  uint64_t length_mask_ = 0;
  bool has_long_ = false;
};

// Everything the chunk parsers share; read-only while they run.
struct ReadContext {
  const char* data = nullptr;  // after the BOM
  const char* eof = nullptr;   // after the trailing line breaks were trimmed
  char delimiter = ',';
  int num_columns = 0;
  BadRowPolicy policy = BadRowPolicy::kError;
  std::unique_ptr<NullTokens> nulls;
  std::vector<std::optional<DataType>> explicit_types;
  bool has_explicit = false;
  std::vector<std::string> names;
};

// ----------------------------------------------------------------------------------------
// Chunks.

// One column of one chunk while parsing: a type guess and a typed buffer. Rows that are null
// hold the zero value and are listed in null_rows.
struct ChunkColumn {
  bool known = false;  // false while every value so far was null (no buffer yet)
  DataType type = DataType::kString;
  // kString only: rows [0, string_from_row) still need their text (the column became string
  // part-way through the chunk); offsets/bytes hold rows [string_from_row, rows).
  int64_t string_from_row = 0;
  ChunkVector<uint8_t> u8;       // kBool
  ChunkVector<int64_t> i64;      // kInt64, kTimestamp
  ChunkVector<double> f64;       // kFloat64
  ChunkVector<int32_t> i32;      // kDate
  ChunkVector<int64_t> offsets;  // kString
  ChunkBytes bytes;              // kString
  std::vector<int64_t> null_rows;
  // Direct mode (fixed-width types only): the values go to direct[row], a slice of the final
  // column buffer with room for direct_capacity rows, instead of the vectors above.
  void* direct = nullptr;
  int64_t direct_capacity = 0;
};

// An error or bad row, located relative to its chunk.
struct ChunkIssue {
  int64_t line = 0;      // line breaks between the chunk start and the issue
  int64_t row_line = 0;  // same, for the start of the row
  int column = 0;        // 1-based; 0 if none
  std::string message;
  bool skippable = true;
};

struct ChunkResult {
  const char* begin = nullptr;
  const char* end = nullptr;  // after the last record parsed
  int64_t rows = 0;
  int64_t lines = 0;
  int64_t bad_row_count = 0;
  std::vector<ChunkColumn> columns;
  std::vector<ChunkIssue> bad_rows;         // the first kMaxSkippedExamples
  std::vector<const char*> skipped_starts;  // every skipped record, for re-tokenizing
  std::optional<ChunkIssue> error;          // parsing stopped here
  // Set while stitching.
  int64_t base_line = 0;
  int64_t row_base = 0;
};

struct ExplicitValue {
  int64_t i64 = 0;
  double f64 = 0;
  int32_t days = 0;
  uint8_t flag = 0;
};

void AppendNull(ChunkColumn& col, int64_t row) {
  col.null_rows.push_back(row);
  if (!col.known) return;
  switch (col.type) {
    case DataType::kBool:
      col.u8.push_back(0);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      col.i64.push_back(0);
      break;
    case DataType::kFloat64:
      col.f64.push_back(0.0);
      break;
    case DataType::kDate:
      col.i32.push_back(0);
      break;
    case DataType::kString:
      col.offsets.push_back(static_cast<int64_t>(col.bytes.size()));
      break;
  }
}

void AppendText(ChunkColumn& col, const FieldSpan& field) {
  AppendFieldText(field, &col.bytes);
  col.offsets.push_back(static_cast<int64_t>(col.bytes.size()));
}

// Expected buffer sizes of a chunk, so buffers rarely grow (growing copies and re-faults).
struct SizeHint {
  int64_t rows = 0;
  int64_t bytes = 0;  // upper bound on the string bytes of one column
};

void Reserve(ChunkColumn& col, const SizeHint& hint) {
  const auto rows = static_cast<size_t>(hint.rows);
  switch (col.type) {
    case DataType::kBool:
      col.u8.reserve(rows);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      col.i64.reserve(rows);
      break;
    case DataType::kFloat64:
      col.f64.reserve(rows);
      break;
    case DataType::kDate:
      col.i32.reserve(rows);
      break;
    case DataType::kString:
      col.offsets.reserve(rows + 1);
      // Lazily backed memory: reserving the chunk size costs address space, not RAM.
      col.bytes.reserve(static_cast<size_t>(hint.bytes));
      break;
  }
}

// Gives a so-far all-null column its type: `rows` null slots (zero values) come first.
void BecomeKnown(ChunkColumn& col, DataType type, int64_t rows, const SizeHint& hint) {
  col.known = true;
  col.type = type;
  Reserve(col, hint);
  const auto n = static_cast<size_t>(rows);
  switch (type) {
    case DataType::kBool:
      col.u8.assign(n, 0);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      col.i64.assign(n, 0);
      break;
    case DataType::kFloat64:
      col.f64.assign(n, 0.0);
      break;
    case DataType::kDate:
      col.i32.assign(n, 0);
      break;
    case DataType::kString:
      col.string_from_row = 0;
      col.offsets.assign(n + 1, 0);
      break;
  }
}

// Widens a known column to `type` at row `row` (the rows before it are converted).
void Widen(ChunkColumn& col, DataType type, int64_t row) {
  if (col.type == DataType::kInt64 && type == DataType::kFloat64) {
    // Round-to-nearest, the same double that parsing the decimal text gives.
    col.f64.reserve(col.i64.capacity());
    col.f64.assign(col.i64.begin(), col.i64.end());
    Release(col.i64);
  } else if (col.type == DataType::kDate && type == DataType::kTimestamp) {
    col.i64.reserve(col.i32.capacity());
    for (int32_t days : col.i32) col.i64.push_back(static_cast<int64_t>(days) * kMicrosPerDay);
    Release(col.i32);
  } else if (type == DataType::kString) {
    Release(col.u8);
    Release(col.i64);
    Release(col.f64);
    Release(col.i32);
    col.string_from_row = row;
    col.offsets.assign(1, 0);
    col.bytes.clear();
  }
  col.type = type;
}

// Direct mode. A value that does not parse as the column's type, or a row beyond the slice
// (which the sizing rules out; checked anyway), makes the column leave direct mode (Spill).

template <typename T>
T* DirectSlice(const ChunkColumn& col) {
  return static_cast<T*>(col.direct);
}

// Writes the value at `row` of a direct column; false if it does not fit (the slot then holds
// an unspecified value, which Spill does not copy).
bool WriteDirect(ChunkColumn& col, const FieldSpan& field, int64_t row) {
  if (row >= col.direct_capacity) return false;
  const char* p = field.begin;
  const char* end = field.end;
  switch (col.type) {
    case DataType::kBool:
      return ParseBool(p, end, DirectSlice<uint8_t>(col) + row);
    case DataType::kInt64:
      return ParseInt64(p, end, false, DirectSlice<int64_t>(col) + row);
    case DataType::kFloat64:
      return ParseFloat64Strict(p, end, DirectSlice<double>(col) + row);
    case DataType::kDate:
      return ParseDate(p, end, DirectSlice<int32_t>(col) + row);
    case DataType::kTimestamp:
      return ParseTimestampOrDate(p, end, DirectSlice<int64_t>(col) + row);
    case DataType::kString:
      break;
  }
  return false;
}

// The zero value under a null of a direct column.
bool WriteDirectNull(ChunkColumn& col, int64_t row) {
  if (row >= col.direct_capacity) return false;
  switch (col.type) {
    case DataType::kBool:
      DirectSlice<uint8_t>(col)[row] = 0;
      return true;
    case DataType::kInt64:
    case DataType::kTimestamp:
      DirectSlice<int64_t>(col)[row] = 0;
      return true;
    case DataType::kFloat64:
      DirectSlice<double>(col)[row] = 0.0;
      return true;
    case DataType::kDate:
      DirectSlice<int32_t>(col)[row] = 0;
      return true;
    case DataType::kString:
      break;
  }
  return false;
}

// Leaves direct mode: the `rows` values written so far move into the column's own buffer.
void Spill(ChunkColumn& col, int64_t rows, const SizeHint& hint) {
  const void* data = col.direct;
  col.direct = nullptr;
  col.direct_capacity = 0;
  SizeHint bigger = hint;
  bigger.rows = std::max(hint.rows, rows + 1);
  Reserve(col, bigger);
  const auto n = static_cast<size_t>(rows);
  const auto copy = [data, n](auto& values) {
    using T = typename std::decay_t<decltype(values)>::value_type;
    const T* first = static_cast<const T*>(data);
    values.assign(first, first + n);
  };
  switch (col.type) {
    case DataType::kBool:
      copy(col.u8);
      break;
    case DataType::kInt64:
    case DataType::kTimestamp:
      copy(col.i64);
      break;
    case DataType::kFloat64:
      copy(col.f64);
      break;
    case DataType::kDate:
      copy(col.i32);
      break;
    case DataType::kString:
      break;
  }
}

// Appends a value known to parse as the column's type.
void AppendParsed(ChunkColumn& col, const FieldSpan& field) {
  const char* p = field.begin;
  const char* end = field.end;
  switch (col.type) {
    case DataType::kBool: {
      uint8_t value = 0;
      ParseBool(p, end, &value);
      col.u8.push_back(value);
      break;
    }
    case DataType::kInt64: {
      int64_t value = 0;
      ParseInt64(p, end, false, &value);
      col.i64.push_back(value);
      break;
    }
    case DataType::kFloat64: {
      double value = 0;
      ParseFloat64Lenient(p, end, &value);
      col.f64.push_back(value);
      break;
    }
    case DataType::kDate: {
      int32_t value = 0;
      ParseDate(p, end, &value);
      col.i32.push_back(value);
      break;
    }
    case DataType::kTimestamp: {
      int64_t value = 0;
      ParseTimestampOrDate(p, end, &value);
      col.i64.push_back(value);
      break;
    }
    case DataType::kString:
      AppendText(col, field);
      break;
  }
}

// Where a chunk writes one column in direct mode.
struct DirectTarget {
  void* data = nullptr;  // the chunk's row 0 in the final buffer; null: no direct mode
  int64_t capacity = 0;  // rows the slice holds
  DataType type = DataType::kInt64;
};

class ChunkParser {
 public:
  explicit ChunkParser(const ReadContext& ctx)
      : ctx_(ctx),
        parser_(ctx.eof, ctx.delimiter),
        explicit_values_(static_cast<size_t>(ctx.num_columns)) {}

  // Parses the records that start in [begin, nominal_end). The last one may run past
  // nominal_end; out->end tells where it stopped. `direct`, when given, holds per column the
  // slice of the final buffer this chunk writes to (data null: no direct mode).
  void Run(const char* begin, const char* nominal_end, ChunkResult* out,
           const std::vector<DirectTarget>* direct = nullptr) {
    out->begin = begin;
    out->columns.resize(static_cast<size_t>(ctx_.num_columns));
    for (int c = 0; c < ctx_.num_columns; ++c) {
      ChunkColumn& col = out->columns[c];
      if (direct != nullptr && (*direct)[c].data != nullptr) {
        col.known = true;
        col.type = (*direct)[c].type;
        col.direct = (*direct)[c].data;
        col.direct_capacity = (*direct)[c].capacity;
      } else if (ctx_.explicit_types[c]) {
        BecomeKnown(col, *ctx_.explicit_types[c], 0, {});
      }
    }
    const char* p = begin;
    int64_t lines = 0;
    int64_t rows = 0;
    SizeHint hint;
    const auto num_columns = static_cast<size_t>(ctx_.num_columns);
    while (p < nominal_end) {
      const char* record = p;
      const int64_t record_line = lines;
      p = parser_.Parse(p);
      lines += parser_.lines();
      std::span<const FieldSpan> fields = parser_.fields();
      if (parser_.status() == RecordStatus::kUnterminatedQuote) {
        const FieldSpan& field = fields[parser_.bad_field()];
        out->error = ChunkIssue{
            record_line + field.lines_before, record_line,
            static_cast<int>(parser_.bad_field()) + 1,
            "unterminated quoted field: the quote that opens it is never closed (close it, and "
            "write a quote inside a quoted field as two quotes \"\")",
            false};
        break;
      }
      // Blank lines hold no data in a multi-column file; in a one-column file they are nulls.
      if (num_columns > 1 && parser_.IsBlank()) continue;
      ChunkIssue issue;
      if (!CheckRow(fields, record_line, &issue)) {
        if (ctx_.policy == BadRowPolicy::kError) {
          out->error = std::move(issue);
          break;
        }
        ++out->bad_row_count;
        if (out->bad_rows.size() < kMaxSkippedExamples) out->bad_rows.push_back(std::move(issue));
        out->skipped_starts.push_back(record);
        continue;
      }
      if (hint.rows == 0) {
        // Size the buffers from the first row's length.
        const int64_t row_bytes = std::max<int64_t>(1, p - record);
        hint.rows = (nominal_end - begin) / row_bytes * 3 / 2 + 16;
        hint.bytes = (nominal_end - begin) + 64;
        for (ChunkColumn& col : out->columns) {
          if (col.known && col.direct == nullptr) Reserve(col, hint);
        }
      }
      AppendRow(fields, rows, hint, out->columns);
      ++rows;
    }
    out->end = p;
    out->rows = rows;
    out->lines = lines;
  }

 private:
  // Validates the field count, the quoting and the explicit-typed values; fills issue when
  // the row is bad.
  bool CheckRow(std::span<const FieldSpan> fields, int64_t record_line, ChunkIssue* issue) {
    const auto expected = static_cast<size_t>(ctx_.num_columns);
    if (parser_.status() == RecordStatus::kTextAfterQuote) {
      const FieldSpan& field = fields[parser_.bad_field()];
      *issue = ChunkIssue{record_line + field.lines_before, record_line,
                          static_cast<int>(parser_.bad_field()) + 1,
                          "unexpected text after the closing quote of a quoted field (inside "
                          "quotes, write a quote as two quotes \"\")",
                          true};
      return false;
    }
    if (fields.size() != expected) {
      const size_t at = std::min(fields.size(), expected);
      const FieldSpan& field = fields[std::min(at, fields.size() - 1)];
      *issue =
          ChunkIssue{record_line + field.lines_before, record_line, static_cast<int>(at) + 1,
                     absl::StrCat("row has ", fields.size(), " fields, expected ", expected), true};
      return false;
    }
    if (!ctx_.has_explicit) return true;
    for (size_t c = 0; c < expected; ++c) {
      const std::optional<DataType>& type = ctx_.explicit_types[c];
      if (!type || *type == DataType::kString) continue;
      const FieldSpan& field = fields[c];
      if (ctx_.nulls->IsNull(field)) continue;
      ExplicitValue& value = explicit_values_[c];
      bool ok = false;
      switch (*type) {
        case DataType::kBool:
          ok = ParseBool(field.begin, field.end, &value.flag);
          break;
        case DataType::kInt64:
          ok = ParseInt64(field.begin, field.end, /*allow_leading_zeros=*/true, &value.i64);
          break;
        case DataType::kFloat64:
          ok = ParseFloat64Lenient(field.begin, field.end, &value.f64);
          break;
        case DataType::kDate:
          ok = ParseDate(field.begin, field.end, &value.days);
          break;
        case DataType::kTimestamp:
          ok = ParseTimestampOrDate(field.begin, field.end, &value.i64);
          break;
        case DataType::kString:
          ok = true;
          break;
      }
      if (!ok) {
        std::string text;
        AppendFieldText(field, &text);
        const std::string_view type_name = DataTypeName(*type);
        *issue =
            ChunkIssue{record_line + field.lines_before, record_line, static_cast<int>(c) + 1,
                       absl::StrCat("value ", Excerpt(text.data(), text.data() + text.size()),
                                    " is not a valid ", Absl(type_name), " (column \"",
                                    ctx_.names[c], "\" has explicit type ", Absl(type_name), ")"),
                       true};
        return false;
      }
    }
    return true;
  }

  void AppendRow(std::span<const FieldSpan> fields, int64_t row, const SizeHint& hint,
                 std::vector<ChunkColumn>& columns) {
    for (size_t c = 0; c < columns.size(); ++c) {
      const FieldSpan& field = fields[c];
      ChunkColumn& col = columns[c];
      if (ctx_.nulls->IsNull(field)) {
        if (col.direct != nullptr) {
          if (WriteDirectNull(col, row)) {
            col.null_rows.push_back(row);
            continue;
          }
          Spill(col, row, hint);
        }
        AppendNull(col, row);
        continue;
      }
      const std::optional<DataType>& explicit_type = ctx_.explicit_types[c];
      if (explicit_type) {
        const ExplicitValue& value = explicit_values_[c];
        if (col.direct != nullptr) {
          if (WriteExplicitDirect(col, value, row)) continue;
          Spill(col, row, hint);
        }
        switch (*explicit_type) {
          case DataType::kBool:
            col.u8.push_back(value.flag);
            break;
          case DataType::kInt64:
          case DataType::kTimestamp:
            col.i64.push_back(value.i64);
            break;
          case DataType::kFloat64:
            col.f64.push_back(value.f64);
            break;
          case DataType::kDate:
            col.i32.push_back(value.days);
            break;
          case DataType::kString:
            AppendText(col, field);
            break;
        }
        continue;
      }
      AppendInferred(col, field, row, hint);
    }
  }

  // An explicit-typed value (already parsed) into a direct column.
  static bool WriteExplicitDirect(ChunkColumn& col, const ExplicitValue& value, int64_t row) {
    if (row >= col.direct_capacity) return false;
    switch (col.type) {
      case DataType::kBool:
        DirectSlice<uint8_t>(col)[row] = value.flag;
        return true;
      case DataType::kInt64:
      case DataType::kTimestamp:
        DirectSlice<int64_t>(col)[row] = value.i64;
        return true;
      case DataType::kFloat64:
        DirectSlice<double>(col)[row] = value.f64;
        return true;
      case DataType::kDate:
        DirectSlice<int32_t>(col)[row] = value.days;
        return true;
      case DataType::kString:
        break;
    }
    return false;
  }

  // The hot path: the value usually parses as the column's current type.
  static void AppendInferred(ChunkColumn& col, const FieldSpan& field, int64_t row,
                             const SizeHint& hint) {
    if (col.direct != nullptr) {
      if (WriteDirect(col, field, row)) return;
      Spill(col, row, hint);
    }
    const char* p = field.begin;
    const char* end = field.end;
    if (col.known) {
      switch (col.type) {
        case DataType::kInt64: {
          int64_t value;
          if (ParseInt64(p, end, false, &value)) {
            col.i64.push_back(value);
            return;
          }
          break;
        }
        case DataType::kFloat64: {
          double value;
          if (ParseFloat64Strict(p, end, &value)) {
            col.f64.push_back(value);
            return;
          }
          break;
        }
        case DataType::kBool: {
          uint8_t value;
          if (ParseBool(p, end, &value)) {
            col.u8.push_back(value);
            return;
          }
          break;
        }
        case DataType::kDate: {
          int32_t value;
          if (ParseDate(p, end, &value)) {
            col.i32.push_back(value);
            return;
          }
          break;
        }
        case DataType::kTimestamp: {
          int64_t value;
          if (ParseTimestampOrDate(p, end, &value)) {
            col.i64.push_back(value);
            return;
          }
          break;
        }
        case DataType::kString:
          AppendText(col, field);
          return;
      }
    }
    const DataType value_type = Classify(p, end);
    if (!col.known) {
      BecomeKnown(col, value_type, row, hint);
    } else {
      const DataType widened = Widen(col.type, value_type);
      if (widened != col.type) Widen(col, widened, row);
    }
    AppendParsed(col, field);
  }

  const ReadContext& ctx_;
  RecordParser parser_;
  std::vector<ExplicitValue> explicit_values_;  // the current row's explicit-typed values
};

// Text of the rows [0, limit) of one chunk column, recovered by re-tokenizing the chunk.
struct PendingText {
  size_t column;
  int64_t limit;
  ChunkVector<int64_t> offsets;
  ChunkBytes bytes;
};

void RecoverText(const ReadContext& ctx, const ChunkResult& chunk,
                 std::vector<PendingText>& pending) {
  int64_t max_limit = 0;
  for (PendingText& text : pending) {
    max_limit = std::max(max_limit, text.limit);
    text.offsets.reserve(static_cast<size_t>(text.limit) + 1);
    text.offsets.push_back(0);
  }
  RecordParser parser(ctx.eof, ctx.delimiter);
  size_t next_skipped = 0;
  int64_t row = 0;
  const char* p = chunk.begin;
  // Visits exactly the records ChunkParser::Run accepted: same start, same skip rules.
  while (p < chunk.end && row < max_limit) {
    const char* record = p;
    p = parser.Parse(p);
    if (ctx.num_columns > 1 && parser.IsBlank()) continue;
    if (next_skipped < chunk.skipped_starts.size() &&
        chunk.skipped_starts[next_skipped] == record) {
      ++next_skipped;
      continue;
    }
    std::span<const FieldSpan> fields = parser.fields();
    for (PendingText& text : pending) {
      if (row >= text.limit) continue;
      const FieldSpan& field = fields[text.column];
      if (!ctx.nulls->IsNull(field)) {
        AppendFieldText(field, &text.bytes);
      }
      text.offsets.push_back(static_cast<int64_t>(text.bytes.size()));
    }
    ++row;
  }
}

// Brings every column of a chunk to its final type.
void FinalizeChunk(const ReadContext& ctx, const std::vector<DataType>& types,
                   const std::vector<uint8_t>& direct_ok, ChunkResult& chunk) {
  std::vector<PendingText> pending;
  for (size_t c = 0; c < chunk.columns.size(); ++c) {
    ChunkColumn& col = chunk.columns[c];
    if (!col.known) continue;  // all null: filled with zero values when assembling
    const DataType type = types[c];
    if (col.direct != nullptr) {
      if (direct_ok[c]) continue;                       // the values are in place
      Spill(col, chunk.rows, SizeHint{chunk.rows, 0});  // e.g. the guess was too narrow
    }
    if (col.type != type) {
      Widen(col, type, chunk.rows);
    }
    if (col.type == DataType::kString && col.string_from_row > 0) {
      pending.push_back(PendingText{c, col.string_from_row, {}, {}});
    }
  }
  if (pending.empty()) return;
  RecoverText(ctx, chunk, pending);
  for (PendingText& text : pending) {
    ChunkColumn& col = chunk.columns[text.column];
    const auto shift = static_cast<int64_t>(text.bytes.size());
    text.bytes.append(col.bytes.data(), col.bytes.size());
    for (size_t i = 1; i < col.offsets.size(); ++i) text.offsets.push_back(col.offsets[i] + shift);
    col.offsets = std::move(text.offsets);
    col.bytes = std::move(text.bytes);
    col.string_from_row = 0;
  }
}

template <typename T>
void AppendPiece(std::vector<T>& out, ChunkVector<T>* piece, int64_t rows) {
  if (piece == nullptr) {
    out.insert(out.end(), static_cast<size_t>(rows), T{});
    return;
  }
  out.insert(out.end(), piece->begin(), piece->end());
  Release(*piece);
}

// The validity bitmap of column c (empty when it has no null).
std::vector<uint8_t> BuildValidity(std::vector<ChunkResult>& chunks, size_t c, int64_t total_rows) {
  std::vector<uint8_t> validity;
  for (ChunkResult& chunk : chunks) {
    ChunkColumn& col = chunk.columns[c];
    if (col.null_rows.empty()) continue;
    if (validity.empty()) validity.assign(static_cast<size_t>((total_rows + 7) / 8), 0xFF);
    for (int64_t row : col.null_rows) {
      const int64_t at = chunk.row_base + row;
      validity[static_cast<size_t>(at >> 3)] &= static_cast<uint8_t>(~(1u << (at & 7)));
    }
    Release(col.null_rows);
  }
  return validity;
}

// Builds column c from the chunks (each chunk's buffer is released as it is copied, to keep
// the peak memory near one copy of the data).
absl::StatusOr<Column> AssembleColumn(std::vector<ChunkResult>& chunks, size_t c, DataType type,
                                      int64_t total_rows) {
  std::vector<uint8_t> validity = BuildValidity(chunks, c, total_rows);
  const auto n = static_cast<size_t>(total_rows);
  switch (type) {
    case DataType::kBool: {
      std::vector<uint8_t> values;
      ReserveHuge(values, n);
      for (ChunkResult& chunk : chunks) {
        ChunkColumn& col = chunk.columns[c];
        AppendPiece(values, col.known ? &col.u8 : nullptr, chunk.rows);
      }
      return Column::FromBools(std::move(values), std::move(validity));
    }
    case DataType::kInt64:
    case DataType::kTimestamp: {
      std::vector<int64_t> values;
      ReserveHuge(values, n);
      for (ChunkResult& chunk : chunks) {
        ChunkColumn& col = chunk.columns[c];
        AppendPiece(values, col.known ? &col.i64 : nullptr, chunk.rows);
      }
      return type == DataType::kInt64
                 ? Column::FromInt64s(std::move(values), std::move(validity))
                 : Column::FromTimestamps(std::move(values), std::move(validity));
    }
    case DataType::kFloat64: {
      std::vector<double> values;
      ReserveHuge(values, n);
      for (ChunkResult& chunk : chunks) {
        ChunkColumn& col = chunk.columns[c];
        AppendPiece(values, col.known ? &col.f64 : nullptr, chunk.rows);
      }
      return Column::FromFloat64s(std::move(values), std::move(validity));
    }
    case DataType::kDate: {
      std::vector<int32_t> values;
      ReserveHuge(values, n);
      for (ChunkResult& chunk : chunks) {
        ChunkColumn& col = chunk.columns[c];
        AppendPiece(values, col.known ? &col.i32 : nullptr, chunk.rows);
      }
      return Column::FromDates(std::move(values), std::move(validity));
    }
    case DataType::kString: {
      size_t total_bytes = 0;
      for (const ChunkResult& chunk : chunks) total_bytes += chunk.columns[c].bytes.size();
      std::vector<int64_t> offsets;
      ReserveHuge(offsets, n + 1);
      offsets.push_back(0);
      std::string bytes;
      ReserveHuge(bytes, total_bytes);
      for (ChunkResult& chunk : chunks) {
        ChunkColumn& col = chunk.columns[c];
        const auto base = static_cast<int64_t>(bytes.size());
        if (!col.known) {
          offsets.insert(offsets.end(), static_cast<size_t>(chunk.rows), base);
          continue;
        }
        for (size_t i = 1; i < col.offsets.size(); ++i) offsets.push_back(col.offsets[i] + base);
        bytes.append(col.bytes.data(), col.bytes.size());
        Release(col.offsets);
        Release(col.bytes);
      }
      return Column::FromStrings(std::move(offsets), std::move(bytes), std::move(validity));
    }
  }
  return absl::InternalError("unknown column type");
}

// ----------------------------------------------------------------------------------------
// Direct mode: the final buffers of fixed-width columns, written in place by the chunks.
//
// Chunk 0 (small) is parsed first; its column types are the guesses. Every later chunk k gets
// a slice [start_k, start_k + rows_k) of each guessed column's final buffer, where rows_k is
// the number of line breaks in the chunk plus one: a bound on its rows, because every record
// but the chunk's last one ends with a line break inside the chunk. Chunks write values of
// the guessed type straight into their slice (no per-chunk buffer, no copy); a value of
// another type makes that chunk column spill into its own buffer. After the merge, a column
// whose type is the guess only needs its slices moved together (a no-op unless rows were
// quoted line breaks, blank or bad); any other column is assembled from spilled buffers.

// One final buffer; the vector matching the guessed type is used.
struct DirectBuffer {
  std::vector<uint8_t> u8;
  std::vector<int64_t> i64;
  std::vector<double> f64;
  std::vector<int32_t> i32;

  // Allocates `rows` zeroed values (huge pages) and returns the first one.
  void* Allocate(DataType type, int64_t rows) {
    const auto n = static_cast<size_t>(rows);
    const auto allocate = [n](auto& values) -> void* {
      ReserveHuge(values, n);
      values.resize(n);
      return values.data();
    };
    switch (type) {
      case DataType::kBool:
        return allocate(u8);
      case DataType::kInt64:
      case DataType::kTimestamp:
        return allocate(i64);
      case DataType::kFloat64:
        return allocate(f64);
      case DataType::kDate:
        return allocate(i32);
      case DataType::kString:
        break;
    }
    return nullptr;
  }

  void Release() {
    table::Release(u8);
    table::Release(i64);
    table::Release(f64);
    table::Release(i32);
  }
};

size_t FixedWidth(DataType type) {
  switch (type) {
    case DataType::kBool:
      return 1;
    case DataType::kDate:
      return 4;
    case DataType::kInt64:
    case DataType::kFloat64:
    case DataType::kTimestamp:
      return 8;
    case DataType::kString:
      break;
  }
  return 0;
}

struct DirectPlan {
  bool enabled = false;
  std::vector<std::optional<DataType>> types;  // per column: the guess, if fixed-width
  std::vector<void*> data;                     // per column: the final buffer
  std::vector<int64_t> slice_start;            // per chunk
  std::vector<int64_t> slice_rows;             // per chunk
  std::vector<DirectBuffer> buffers;           // per column

  std::vector<DirectTarget> Targets(size_t chunk) const {
    std::vector<DirectTarget> targets(types.size());
    for (size_t c = 0; c < types.size(); ++c) {
      if (!types[c]) continue;
      targets[c] =
          DirectTarget{static_cast<char*>(data[c]) + slice_start[chunk] * FixedWidth(*types[c]),
                       slice_rows[chunk], *types[c]};
    }
    return targets;
  }
};

template <typename T>
ChunkVector<T>& OwnBuffer(ChunkColumn& col);
template <>
ChunkVector<uint8_t>& OwnBuffer<uint8_t>(ChunkColumn& col) {
  return col.u8;
}
template <>
ChunkVector<int64_t>& OwnBuffer<int64_t>(ChunkColumn& col) {
  return col.i64;
}
template <>
ChunkVector<double>& OwnBuffer<double>(ChunkColumn& col) {
  return col.f64;
}
template <>
ChunkVector<int32_t>& OwnBuffer<int32_t>(ChunkColumn& col) {
  return col.i32;
}

// Moves the chunks' slices of `values` (the final buffer of column c) together, copies in the
// chunks that are not in direct mode (chunk 0), and cuts the buffer to total_rows.
template <typename T>
void CloseSlices(std::vector<ChunkResult>& chunks, size_t c, int64_t total_rows,
                 std::vector<T>& values) {
  // Chunk k's rows move down to row_base (<= its slice start), in file order, so a move never
  // overwrites a slice that has not moved yet.
  for (ChunkResult& chunk : chunks) {
    ChunkColumn& col = chunk.columns[c];
    T* destination = values.data() + chunk.row_base;
    const auto n = static_cast<size_t>(chunk.rows);
    if (col.direct != nullptr) {
      if (col.direct != destination && n > 0) {
        std::memmove(destination, col.direct, n * sizeof(T));
      }
    } else if (col.known) {
      ChunkVector<T>& own = OwnBuffer<T>(col);
      if (n > 0) std::memcpy(destination, own.data(), n * sizeof(T));
      Release(own);
    } else {
      std::fill(destination, destination + n, T{});
    }
  }
  values.resize(static_cast<size_t>(total_rows));
}

absl::StatusOr<Column> AssembleDirectColumn(std::vector<ChunkResult>& chunks, size_t c,
                                            DataType type, int64_t total_rows,
                                            DirectBuffer& buffer) {
  std::vector<uint8_t> validity = BuildValidity(chunks, c, total_rows);
  switch (type) {
    case DataType::kBool:
      CloseSlices(chunks, c, total_rows, buffer.u8);
      return Column::FromBools(std::move(buffer.u8), std::move(validity));
    case DataType::kInt64:
      CloseSlices(chunks, c, total_rows, buffer.i64);
      return Column::FromInt64s(std::move(buffer.i64), std::move(validity));
    case DataType::kTimestamp:
      CloseSlices(chunks, c, total_rows, buffer.i64);
      return Column::FromTimestamps(std::move(buffer.i64), std::move(validity));
    case DataType::kFloat64:
      CloseSlices(chunks, c, total_rows, buffer.f64);
      return Column::FromFloat64s(std::move(buffer.f64), std::move(validity));
    case DataType::kDate:
      CloseSlices(chunks, c, total_rows, buffer.i32);
      return Column::FromDates(std::move(buffer.i32), std::move(validity));
    case DataType::kString:
      break;
  }
  return absl::InternalError("direct mode for a string column");
}

// ----------------------------------------------------------------------------------------
// Parallel loops.

// The pool chosen by CsvReadOptions::num_threads. For() turns an exception escaping a task
// (std::bad_alloc in practice) into a Status instead of terminating a worker thread.
class Parallel {
 public:
  explicit Parallel(int num_threads) {
    if (num_threads <= 0) {
      pool_ = &common::ThreadPool::Default();
    } else if (num_threads > 1) {
      owned_ = std::make_unique<common::ThreadPool>(num_threads);
      pool_ = owned_.get();
    }
  }

  int num_threads() const { return pool_ == nullptr ? 1 : pool_->num_threads(); }

  absl::Status For(int64_t num_tasks, const std::function<void(int64_t)>& fn) {
    std::mutex mu;
    std::string failure;
    const auto guarded = [&](int64_t task) {
      try {
        fn(task);
      } catch (const std::bad_alloc&) {
        std::lock_guard<std::mutex> lock(mu);
        failure = "out of memory";
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        failure = e.what();
      }
    };
    if (pool_ == nullptr || num_tasks <= 1) {
      for (int64_t task = 0; task < num_tasks; ++task) guarded(task);
    } else {
      pool_->ParallelFor(num_tasks, guarded);
    }
    if (!failure.empty()) {
      return absl::ResourceExhaustedError(absl::StrCat("reading CSV failed: ", failure));
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<common::ThreadPool> owned_;
  common::ThreadPool* pool_ = nullptr;
};

// ----------------------------------------------------------------------------------------
// The steps before the parallel parse.

// Picks the candidate delimiter that splits the first records into a consistent number (> 1)
// of fields; ',' when none does (a one-column file).
char SniffDelimiter(const char* data, const char* eof) {
  const char* sample_end = static_cast<size_t>(eof - data) > kSniffBytes ? data + kSniffBytes : eof;
  char best = ',';
  // Ranking: consistent first, then more matching records, then more fields; ties keep the
  // earlier candidate.
  bool best_consistent = false;
  size_t best_matches = 0;
  size_t best_fields = 0;
  for (const char candidate : kSniffCandidates) {
    RecordParser parser(sample_end, candidate);
    std::vector<size_t> counts;
    const char* p = data;
    while (p < sample_end && counts.size() < static_cast<size_t>(kSniffRecords)) {
      p = parser.Parse(p);
      const bool truncated = sample_end != eof && p == sample_end;
      if (truncated && !counts.empty()) break;  // cut by the sample window
      if (parser.IsBlank()) continue;
      counts.push_back(parser.fields().size());
      if (truncated) break;
    }
    if (counts.empty() || counts[0] < 2) continue;
    const auto matches = static_cast<size_t>(std::count(counts.begin(), counts.end(), counts[0]));
    const bool consistent = matches == counts.size();
    const bool better =
        best_matches == 0 || (consistent && !best_consistent) ||
        (consistent == best_consistent &&
         (matches > best_matches || (matches == best_matches && counts[0] > best_fields)));
    if (better) {
      best = candidate;
      best_consistent = consistent;
      best_matches = matches;
      best_fields = counts[0];
    }
  }
  return best;
}

std::string SourceName(const CsvReadOptions& options) {
  return options.source_name.empty() ? std::string("CSV input") : options.source_name;
}

absl::Status LineError(const std::string& source, int64_t line, int column,
                       std::string_view message, bool skippable) {
  std::string text = absl::StrCat(source, " line ", line);
  if (column > 0) absl::StrAppend(&text, ", column ", column);
  absl::StrAppend(&text, ": ", Absl(message));
  if (skippable) absl::StrAppend(&text, kSkipHint);
  return absl::InvalidArgumentError(text);
}

// Locates the byte at `bad` (known to start invalid UTF-8) by line and column.
absl::Status Utf8Error(const std::string& source, const char* data, const char* eof, char delimiter,
                       const char* bad, size_t bom) {
  RecordParser parser(eof, delimiter);
  const char* p = data;
  int64_t line = 1;
  int column = 0;
  int64_t bad_line = 1;
  while (p < eof) {
    const char* next = parser.Parse(p);
    if (next > bad || next == eof) {
      std::span<const FieldSpan> fields = parser.fields();
      size_t index = 0;
      for (size_t i = 0; i < fields.size(); ++i) {
        const char* start = fields[i].begin - (fields[i].quoted ? 1 : 0);
        if (start <= bad) index = i;
      }
      const FieldSpan& field = fields[index];
      column = static_cast<int>(index) + 1;
      bad_line =
          line + field.lines_before + (bad > field.begin ? CountLineBreaks(field.begin, bad) : 0);
      break;
    }
    line += parser.lines();
    p = next;
  }
  char hex[8];
  std::snprintf(hex, sizeof(hex), "0x%02X",
                static_cast<unsigned>(static_cast<unsigned char>(*bad)));
  return LineError(source, bad_line, column,
                   absl::StrCat("invalid UTF-8 (byte ", hex, " at byte offset ",
                                static_cast<int64_t>(bad - data) + static_cast<int64_t>(bom),
                                "); CSV input must be UTF-8: re-export the file as UTF-8 or "
                                "convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8"),
                   false);
}

// From a grid point with known quote parity, the position after the next line feed outside
// quotes (eof if none): a record start, unless a quote inside an unquoted field fooled the
// parity; stitching checks it.
const char* FindRecordStart(const char* p, const char* eof, bool inside_quotes) {
  while (p < eof) {
    p = FindAny3(p, eof, '"', '\n', '\n');
    if (p == eof) break;
    if (*p == '"') {
      inside_quotes = !inside_quotes;
    } else if (!inside_quotes) {
      return p + 1;
    }
    ++p;
  }
  return eof;
}

absl::Status ValidateOptions(const CsvReadOptions& options, const std::string& source) {
  if (options.delimiter) {
    const char d = *options.delimiter;
    if (d == '"' || d == '\n' || d == '\r') {
      return absl::InvalidArgumentError(
          absl::StrCat("reading ", source,
                       ": the delimiter cannot be a quote, CR or LF; choose e.g. ',' or ';'"));
    }
  }
  for (size_t i = 0; i < options.column_types.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (options.column_types[i].name == options.column_types[j].name) {
        return absl::InvalidArgumentError(
            absl::StrCat("reading ", source, ": column_types lists column \"",
                         options.column_types[i].name, "\" twice; give each column one type"));
      }
    }
  }
  return absl::OkStatus();
}

// `mapped`: the input is a fresh file mapping, worth populating in bulk.
absl::StatusOr<Table> ReadCsvImpl(std::string_view input, const CsvReadOptions& options,
                                  bool mapped, CsvReadReport* report) {
  const std::string source = SourceName(options);
  ASSAY_RETURN_IF_ERROR(ValidateOptions(options, source));

  // 1. BOM, trailing line breaks, emptiness.
  size_t bom = 0;
  if (input.size() >= 3 && std::memcmp(input.data(), "\xEF\xBB\xBF", 3) == 0) bom = 3;
  std::string_view text = input.substr(bom);
  size_t size = text.size();
  while (size > 0 && (text[size - 1] == '\n' || text[size - 1] == '\r')) --size;
  if (size == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " is empty: a CSV input needs at least one row (a header or data)"));
  }
  ReadContext ctx;
  ctx.data = text.data();
  ctx.eof = text.data() + size;
  ctx.policy = options.on_bad_rows;
  ctx.delimiter = options.delimiter ? *options.delimiter : SniffDelimiter(ctx.data, ctx.eof);
  ctx.nulls = std::make_unique<NullTokens>(options.null_tokens);

  // 2. Pass A over a grid of cells: UTF-8, quote parity, line-break counts.
  Parallel parallel(options.num_threads);
  int64_t cell = options.chunk_bytes;
  if (cell <= 0) {
    cell = static_cast<int64_t>(size) / (int64_t{parallel.num_threads()} * 8);
    cell = std::clamp<int64_t>(cell, int64_t{1} << 20, int64_t{32} << 20);
  }
  const int64_t num_cells = (static_cast<int64_t>(size) + cell - 1) / cell;
  const auto cell_start = [&](int64_t k) {
    return ctx.data + std::min<int64_t>(k * cell, static_cast<int64_t>(size));
  };
  // A cell's UTF-8 range starts at the first byte that is not a continuation byte.
  const auto utf8_start = [&](int64_t k) {
    const char* p = cell_start(k);
    if (k == 0) return p;
    for (int i = 0; i < 3 && p < ctx.eof && (static_cast<unsigned char>(*p) & 0xC0) == 0x80; ++i) {
      ++p;
    }
    return p;
  };
  std::vector<CellCounts> counts(static_cast<size_t>(num_cells));
  std::vector<uint8_t> utf8_ok(static_cast<size_t>(num_cells), 1);
  ASSAY_RETURN_IF_ERROR(parallel.For(num_cells, [&](int64_t k) {
    if (mapped) PopulatePages(cell_start(k), cell_start(k + 1));
    const char* begin = utf8_start(k);
    const char* end = k + 1 == num_cells ? ctx.eof : utf8_start(k + 1);
    if (begin < end) {
      utf8_ok[k] = simdjson::validate_utf8(begin, static_cast<size_t>(end - begin)) ? 1 : 0;
    }
    counts[k] = CountCell(cell_start(k), cell_start(k + 1), ctx.eof);
  }));
  for (int64_t k = 0; k < num_cells; ++k) {
    if (utf8_ok[k]) continue;
    const char* begin = utf8_start(k);
    const char* end = k + 1 == num_cells ? ctx.eof : utf8_start(k + 1);
    const size_t offset = FirstInvalidUtf8(reinterpret_cast<const unsigned char*>(begin),
                                           static_cast<size_t>(end - begin));
    const char* bad = begin + std::min(offset, static_cast<size_t>(end - begin - 1));
    return Utf8Error(source, ctx.data, ctx.eof, ctx.delimiter, bad, bom);
  }

  // 3. The first record: header decision and column count. Blank lines before it are skipped.
  const char* p = ctx.data;
  int64_t lines_before_data = 0;
  while (*p == '\n' || *p == '\r') {  // stops at a non-break byte: the text was trimmed
    if (*p == '\r' && p[1] == '\n') ++p;
    ++p;
    ++lines_before_data;
  }
  RecordParser first(ctx.eof, ctx.delimiter);
  const char* after_first = first.Parse(p);
  const std::span<const FieldSpan> first_fields = first.fields();
  if (first.status() != RecordStatus::kOk) {
    const FieldSpan& field = first_fields[first.bad_field()];
    return LineError(source, lines_before_data + 1 + field.lines_before,
                     static_cast<int>(first.bad_field()) + 1,
                     first.status() == RecordStatus::kUnterminatedQuote
                         ? "unterminated quoted field in the first row: the quote that opens "
                           "it is never closed"
                         : "unexpected text after the closing quote of a quoted field in the "
                           "first row (inside quotes, write a quote as two quotes \"\")",
                     false);
  }
  ctx.num_columns = static_cast<int>(first_fields.size());
  bool header = options.header == HeaderMode::kPresent;
  if (options.header == HeaderMode::kAuto) {
    header = std::all_of(first_fields.begin(), first_fields.end(), [](const FieldSpan& f) {
      return Classify(f.begin, f.end) == DataType::kString;
    });
  }
  const char* data_begin = p;
  if (header) {
    absl::flat_hash_map<std::string, size_t> name_index;
    for (size_t c = 0; c < first_fields.size(); ++c) {
      const FieldSpan& field = first_fields[c];
      std::string name;
      AppendFieldText(field, &name);
      const int64_t line = lines_before_data + 1 + field.lines_before;
      if (name.empty()) {
        return LineError(source, line, static_cast<int>(c) + 1,
                         "the header has an empty column name; name every column in the "
                         "header, or read the file as having no header (columns are then "
                         "named column_1, column_2, ...)",
                         false);
      }
      const auto [it, inserted] = name_index.emplace(name, c);
      if (!inserted) {
        return LineError(
            source, line, static_cast<int>(c) + 1,
            absl::StrCat("duplicate column name \"", name, "\" (also column ", it->second + 1,
                         "); rename one of them so every name is unique"),
            false);
      }
      ctx.names.push_back(std::move(name));
    }
    data_begin = after_first;
    lines_before_data += first.lines();
  } else {
    for (int c = 0; c < ctx.num_columns; ++c) ctx.names.push_back(absl::StrCat("column_", c + 1));
  }

  ctx.explicit_types.assign(static_cast<size_t>(ctx.num_columns), std::nullopt);
  for (const Field& field : options.column_types) {
    const auto it = std::find(ctx.names.begin(), ctx.names.end(), field.name);
    if (it == ctx.names.end()) {
      std::vector<Field> known;
      for (const std::string& name : ctx.names) known.push_back(Field{name, DataType::kString});
      return absl::InvalidArgumentError(absl::StrCat(
          "an explicit type (--type) names column \"", field.name, "\", which ", source,
          " does not have (columns: ", Schema(std::move(known)).NameList(), ")"));
    }
    ctx.explicit_types[static_cast<size_t>(it - ctx.names.begin())] = field.type;
    ctx.has_explicit = true;
  }

  // 4. Chunk boundaries: every `stride`-th grid point moved to the next line feed outside
  // quotes. The stride bounds the per-chunk column state of very wide inputs.
  const int64_t stride =
      std::max<int64_t>(1, (num_cells * ctx.num_columns + kMaxChunkColumns - 1) / kMaxChunkColumns);
  const int64_t num_grid_chunks = (num_cells + stride - 1) / stride;
  std::vector<uint8_t> parity(static_cast<size_t>(num_cells) + 1, 0);
  std::vector<int64_t> breaks(static_cast<size_t>(num_cells) + 1, 0);
  for (int64_t k = 0; k < num_cells; ++k) {
    parity[k + 1] = parity[k] ^ (counts[k].quotes & 1);
    breaks[k + 1] = breaks[k] + counts[k].breaks;
  }
  std::vector<const char*> bounds(static_cast<size_t>(num_grid_chunks) + 1);
  bounds[0] = data_begin;
  bounds[num_grid_chunks] = ctx.eof;
  ASSAY_RETURN_IF_ERROR(parallel.For(num_grid_chunks - 1, [&](int64_t task) {
    const int64_t grid = (task + 1) * stride;
    bounds[task + 1] = FindRecordStart(cell_start(grid), ctx.eof, parity[grid] != 0);
  }));
  for (size_t k = 1; k < bounds.size(); ++k) bounds[k] = std::max(bounds[k], bounds[k - 1]);
  // Chunk 0 is parsed alone to guess the column types (step 5): keep it small.
  if (bounds.size() > 2 && bounds[1] - bounds[0] > 2 * kProbeBytes) {
    const char* probe = bounds[0] + kProbeBytes;
    const bool inside = (CountByte(ctx.data, probe, '"') & 1) != 0;
    const char* split = FindRecordStart(probe, ctx.eof, inside);
    if (split < bounds[1]) bounds.insert(bounds.begin() + 1, split);
  }
  const auto num_chunks = static_cast<int64_t>(bounds.size()) - 1;

  // 5. Chunk 0, then the direct-mode plan, then the other chunks in parallel (pass B).
  std::vector<ChunkResult> chunks(static_cast<size_t>(num_chunks));
  ChunkParser(ctx).Run(bounds[0], bounds[1], &chunks[0]);
  DirectPlan plan;
  if (num_chunks > 1 && !chunks[0].error && chunks[0].rows > 0) {
    plan.types.resize(static_cast<size_t>(ctx.num_columns));
    for (size_t c = 0; c < plan.types.size(); ++c) {
      const ChunkColumn& col = chunks[0].columns[c];
      if (col.known && col.type != DataType::kString) {
        plan.types[c] = col.type;
        plan.enabled = true;
      }
    }
    // Line breaks before a record start (a bound's line-break count, for slice sizes).
    const auto breaks_before = [&](const char* bound) {
      const int64_t k = std::min<int64_t>((bound - ctx.data) / cell, num_cells);
      return breaks[k] + CountLineBreaks(cell_start(k), bound);
    };
    plan.slice_start.assign(static_cast<size_t>(num_chunks), 0);
    plan.slice_rows.assign(static_cast<size_t>(num_chunks), 0);
    plan.slice_rows[0] = chunks[0].rows;
    int64_t total = chunks[0].rows;
    int64_t previous_breaks = breaks_before(bounds[1]);
    for (int64_t k = 1; k < num_chunks; ++k) {
      const int64_t next_breaks = breaks_before(bounds[k + 1]);
      plan.slice_start[k] = total;
      plan.slice_rows[k] = next_breaks - previous_breaks + 1;
      total += plan.slice_rows[k];
      previous_breaks = next_breaks;
    }
    // Line breaks inside quoted fields inflate the slices; past a point, buffers are cheaper.
    const double rows_per_byte =
        static_cast<double>(chunks[0].rows) / static_cast<double>(bounds[1] - bounds[0]);
    const double expected_rows =
        chunks[0].rows + rows_per_byte * static_cast<double>(ctx.eof - bounds[1]);
    if (static_cast<double>(total) > 1.25 * expected_rows + 4096) plan.enabled = false;
    if (plan.enabled) {
      plan.buffers.resize(plan.types.size());
      plan.data.assign(plan.types.size(), nullptr);
      ASSAY_RETURN_IF_ERROR(parallel.For(ctx.num_columns, [&](int64_t c) {
        if (plan.types[c]) plan.data[c] = plan.buffers[c].Allocate(*plan.types[c], total);
      }));
    }
  }
  // (An error in chunk 0 is the first error of the input: stitching reports it at once.)
  ASSAY_RETURN_IF_ERROR(parallel.For(chunks[0].error ? 0 : num_chunks - 1, [&](int64_t task) {
    const auto k = static_cast<size_t>(task + 1);
    const std::vector<DirectTarget> targets =
        plan.enabled ? plan.Targets(k) : std::vector<DirectTarget>();
    ChunkParser(ctx).Run(bounds[k], bounds[k + 1], &chunks[k], plan.enabled ? &targets : nullptr);
  }));

  // 6. Stitch in file order; re-parse chunks that did not start at a record boundary.
  const char* expected = data_begin;
  int64_t base_line = lines_before_data;
  int64_t total_rows = 0;
  int64_t skipped_rows = 0;
  std::vector<CsvBadRow> skipped_examples;
  bool overflow = false;
  for (int64_t k = 0; k < num_chunks; ++k) {
    ChunkResult& chunk = chunks[k];
    if (chunk.begin != expected) {
      chunk = ChunkResult();
      const std::vector<DirectTarget> targets =
          plan.enabled ? plan.Targets(static_cast<size_t>(k)) : std::vector<DirectTarget>();
      ChunkParser(ctx).Run(expected, std::max(expected, bounds[k + 1]), &chunk,
                           plan.enabled ? &targets : nullptr);
    }
    if (chunk.error) {
      const ChunkIssue& issue = *chunk.error;
      return LineError(source, base_line + issue.line + 1, issue.column, issue.message,
                       issue.skippable);
    }
    skipped_rows += chunk.bad_row_count;
    for (const ChunkIssue& issue : chunk.bad_rows) {
      if (skipped_examples.size() >= kMaxSkippedExamples) break;
      skipped_examples.push_back(CsvBadRow{
          base_line + issue.row_line + 1,
          absl::StrCat(issue.column > 0 ? absl::StrCat("column ", issue.column, ": ") : "",
                       issue.message)});
    }
    if (plan.enabled && chunk.rows > plan.slice_rows[k]) overflow = true;  // see Spill
    chunk.base_line = base_line;
    chunk.row_base = total_rows;
    base_line += chunk.lines;
    total_rows += chunk.rows;
    expected = chunk.end;
  }

  // 7. Column types: explicit, else the widening of every chunk's type; all-null -> string.
  std::vector<DataType> types(static_cast<size_t>(ctx.num_columns), DataType::kString);
  for (size_t c = 0; c < types.size(); ++c) {
    if (ctx.explicit_types[c]) {
      types[c] = *ctx.explicit_types[c];
      continue;
    }
    std::optional<DataType> merged;
    for (const ChunkResult& chunk : chunks) {
      const ChunkColumn& col = chunk.columns[c];
      if (!col.known) continue;
      merged = merged ? Widen(*merged, col.type) : col.type;
    }
    types[c] = merged.value_or(DataType::kString);
  }
  // Direct-mode columns whose guess was right keep their values in place.
  std::vector<uint8_t> direct_ok(types.size(), 0);
  for (size_t c = 0; plan.enabled && c < types.size(); ++c) {
    direct_ok[c] = !overflow && plan.types[c] == types[c];
  }

  // 8. Convert chunks to the final types, then assemble the columns.
  ASSAY_RETURN_IF_ERROR(parallel.For(
      num_chunks, [&](int64_t k) { FinalizeChunk(ctx, types, direct_ok, chunks[k]); }));
  for (size_t c = 0; plan.enabled && c < types.size(); ++c) {
    if (!direct_ok[c]) plan.buffers[c].Release();
  }
  std::vector<Column> columns(static_cast<size_t>(ctx.num_columns));
  std::vector<absl::Status> statuses(static_cast<size_t>(ctx.num_columns));
  ASSAY_RETURN_IF_ERROR(parallel.For(ctx.num_columns, [&](int64_t c) {
    absl::StatusOr<Column> column =
        direct_ok[c] ? AssembleDirectColumn(chunks, static_cast<size_t>(c), types[c], total_rows,
                                            plan.buffers[c])
                     : AssembleColumn(chunks, static_cast<size_t>(c), types[c], total_rows);
    if (column.ok()) {
      columns[c] = std::move(column).value();
    } else {
      statuses[c] = column.status();
    }
  }));
  for (const absl::Status& status : statuses) ASSAY_RETURN_IF_ERROR(status);
  chunks.clear();

  std::vector<Field> fields;
  fields.reserve(types.size());
  for (size_t c = 0; c < types.size(); ++c) fields.push_back(Field{ctx.names[c], types[c]});
  ASSAY_ASSIGN_OR_RETURN(Table table, Table::Make(Schema(std::move(fields)), std::move(columns)));
  if (report != nullptr) {
    report->delimiter = ctx.delimiter;
    report->header = header;
    report->rows = total_rows;
    report->skipped_rows = skipped_rows;
    report->skipped_examples = std::move(skipped_examples);
  }
  return table;
}

// Catches what escapes from library code (std::bad_alloc in practice) at the boundary.
absl::StatusOr<Table> ReadCsv(std::string_view data, const CsvReadOptions& options, bool mapped,
                              CsvReadReport* report) {
  try {
    return ReadCsvImpl(data, options, mapped, report);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        absl::StrCat("out of memory while reading ", SourceName(options)));
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("unexpected failure while reading ", SourceName(options), ": ", e.what()));
  }
}

}  // namespace

absl::StatusOr<Table> ReadCsvString(std::string_view data, const CsvReadOptions& options,
                                    CsvReadReport* report) {
  return ReadCsv(data, options, /*mapped=*/false, report);
}

absl::StatusOr<Table> ReadCsvFile(const std::filesystem::path& path, const CsvReadOptions& options,
                                  CsvReadReport* report) {
  ASSAY_ASSIGN_OR_RETURN(common::MappedFile file, common::MappedFile::Open(path));
  if (!options.source_name.empty()) return ReadCsv(file.view(), options, /*mapped=*/true, report);
  CsvReadOptions named = options;
  named.source_name = path.string();
  return ReadCsv(file.view(), named, /*mapped=*/true, report);
}

}  // namespace assay::table
