// The column types of Assay tables (ARCHITECTURE.md section 5) and their names.
//
// Physical encodings:
//   kBool      one byte per value, 0 or 1
//   kInt64     int64_t
//   kFloat64   double
//   kString    UTF-8 bytes; int64_t offsets (size + 1 entries) into one byte buffer
//   kDate      int32_t days since 1970-01-01
//   kTimestamp int64_t microseconds since 1970-01-01T00:00:00Z (always UTC)
// Every column is nullable through a validity bitmap.
//
// Pure functions; thread-safe.
#ifndef ASSAY_TABLE_DATA_TYPE_H_
#define ASSAY_TABLE_DATA_TYPE_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace assay::table {

enum class DataType : uint8_t {
  kBool = 1,
  kInt64 = 2,
  kFloat64 = 3,
  kString = 4,
  kDate = 5,
  kTimestamp = 6,
};

// "bool", "int64", "float64", "string", "date", "timestamp".
std::string_view DataTypeName(DataType type);
// Inverse of DataTypeName; nullopt for an unknown name.
std::optional<DataType> DataTypeFromName(std::string_view name);

bool IsNumeric(DataType type);   // int64 or float64
bool IsTemporal(DataType type);  // date or timestamp

}  // namespace assay::table

#endif  // ASSAY_TABLE_DATA_TYPE_H_
