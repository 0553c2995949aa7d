#include "table/table.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"

namespace assay::table {

std::optional<int> Schema::FindField(std::string_view name) const {
  for (int i = 0; i < num_fields(); ++i) {
    if (fields_[i].name == name) return i;
  }
  return std::nullopt;
}

std::string Schema::NameList(int limit) const {
  std::string out;
  for (int i = 0; i < num_fields(); ++i) {
    if (i == limit) {
      absl::StrAppend(&out, ", ...");
      break;
    }
    absl::StrAppend(&out, i == 0 ? "" : ", ", fields_[i].name);
  }
  return out;
}

absl::StatusOr<Table> Table::Make(Schema schema, std::vector<Column> columns) {
  if (static_cast<size_t>(schema.num_fields()) != columns.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schema has ", schema.num_fields(), " fields but ", columns.size(), " columns were given"));
  }
  absl::flat_hash_set<std::string_view> names;
  int64_t rows = columns.empty() ? 0 : columns[0].size();
  for (int i = 0; i < schema.num_fields(); ++i) {
    const Field& field = schema.field(i);
    if (field.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("column ", i + 1, " has an empty name"));
    }
    if (!names.insert(field.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate column name \"", field.name, "\""));
    }
    if (columns[i].type() != field.type) {
      return absl::InvalidArgumentError(absl::StrCat("column \"", field.name, "\" is declared ",
                                                     Absl(DataTypeName(field.type)), " but holds ",
                                                     Absl(DataTypeName(columns[i].type()))));
    }
    if (columns[i].size() != rows) {
      return absl::InvalidArgumentError(absl::StrCat("column \"", field.name, "\" has ",
                                                     columns[i].size(), " rows, expected ", rows));
    }
  }
  Table table;
  table.schema_ = std::move(schema);
  table.columns_ = std::move(columns);
  table.num_rows_ = rows;
  return table;
}

absl::StatusOr<const Column*> Table::GetColumn(std::string_view name) const {
  const auto index = schema_.FindField(name);
  if (!index) {
    return absl::NotFoundError(
        absl::StrCat("no column \"", Absl(name), "\" (columns: ", schema_.NameList(), ")"));
  }
  return &columns_[*index];
}

Table Table::Slice(int64_t offset, int64_t length) const {
  Table out;
  out.schema_ = schema_;
  for (const Column& column : columns_) out.columns_.push_back(column.Slice(offset, length));
  out.num_rows_ = out.columns_.empty() ? 0 : out.columns_[0].size();
  return out;
}

bool Table::Equals(const Table& other) const {
  if (!(schema_ == other.schema_) || num_rows_ != other.num_rows_) return false;
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (!columns_[i].Equals(other.columns_[i])) return false;
  }
  return true;
}

}  // namespace assay::table
