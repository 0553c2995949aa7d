// Table: a schema (ordered, uniquely named, typed fields) plus one Column per field, all of
// the same length. Immutable once made; safe to read from many threads.
#ifndef ASSAY_TABLE_TABLE_H_
#define ASSAY_TABLE_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "table/column.h"
#include "table/data_type.h"

namespace assay::table {

struct Field {
  std::string name;
  DataType type;
  bool operator==(const Field&) const = default;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  int num_fields() const { return static_cast<int>(fields_.size()); }
  const Field& field(int index) const { return fields_[index]; }
  // Index of the field called `name`, or nullopt.
  std::optional<int> FindField(std::string_view name) const;
  // "hcp_id, specialty, ..." for error messages (at most `limit` names, then "...").
  std::string NameList(int limit = 12) const;

  bool operator==(const Schema&) const = default;

 private:
  std::vector<Field> fields_;
};

class Table {
 public:
  Table() = default;

  // Errors: INVALID_ARGUMENT if the counts differ, a column's type differs from its field,
  // columns have different lengths, or two fields share a name or a name is empty.
  static absl::StatusOr<Table> Make(Schema schema, std::vector<Column> columns);

  const Schema& schema() const { return schema_; }
  int num_columns() const { return schema_.num_fields(); }
  int64_t num_rows() const { return num_rows_; }
  const Column& column(int index) const { return columns_[index]; }
  const std::vector<Column>& columns() const { return columns_; }
  // The column called `name`. Errors: NOT_FOUND naming the available columns.
  absl::StatusOr<const Column*> GetColumn(std::string_view name) const;

  // Rows [offset, offset + length), clamped.
  Table Slice(int64_t offset, int64_t length) const;

  bool Equals(const Table& other) const;

 private:
  Schema schema_;
  std::vector<Column> columns_;
  int64_t num_rows_ = 0;
};

}  // namespace assay::table

#endif  // ASSAY_TABLE_TABLE_H_
