#include "table/data_type.h"

namespace assay::table {

std::string_view DataTypeName(DataType type) {
  switch (type) {
    case DataType::kBool:
      return "bool";
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat64:
      return "float64";
    case DataType::kString:
      return "string";
    case DataType::kDate:
      return "date";
    case DataType::kTimestamp:
      return "timestamp";
  }
  return "unknown";
}

std::optional<DataType> DataTypeFromName(std::string_view name) {
  for (DataType type : {DataType::kBool, DataType::kInt64, DataType::kFloat64, DataType::kString,
                        DataType::kDate, DataType::kTimestamp}) {
    if (DataTypeName(type) == name) return type;
  }
  return std::nullopt;
}

bool IsNumeric(DataType type) { return type == DataType::kInt64 || type == DataType::kFloat64; }

bool IsTemporal(DataType type) { return type == DataType::kDate || type == DataType::kTimestamp; }

}  // namespace assay::table
