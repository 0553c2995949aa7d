#include "recipes/stack.h"

#include <cassert>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "recipes/reshape_config.h"

namespace assay::recipes {
namespace {

using table::Column;
using table::DataType;

// Below this many output cells, concatenating column by column on one thread is cheaper.
constexpr int64_t kParallelCells = 1 << 17;

// One input's share of an output column: its column, or null when the input lacks it.
struct Piece {
  const Column* column;
  int64_t rows;
};

template <typename T>
void AppendValues(const std::vector<T>& values, std::vector<T>* out) {
  out->insert(out->end(), values.begin(), values.end());
}

// Concatenates the pieces into one column of type `type`. Pieces are of that type, except
// int64 pieces of a float64 column (converted) and missing pieces (null).
Column Concatenate(DataType type, const std::vector<Piece>& pieces, int64_t total_rows) {
  bool has_nulls = false;
  for (const Piece& piece : pieces) {
    has_nulls = has_nulls || piece.column == nullptr || piece.column->null_count() > 0;
  }
  std::vector<uint8_t> validity;
  if (has_nulls) {
    validity.assign(static_cast<size_t>((total_rows + 7) / 8), 0);
    int64_t out_row = 0;
    for (const Piece& piece : pieces) {
      if (piece.column != nullptr) {
        for (int64_t row = 0; row < piece.rows; ++row, ++out_row) {
          if (piece.column->IsValid(row)) {
            validity[out_row >> 3] |= static_cast<uint8_t>(1u << (out_row & 7));
          }
        }
      } else {
        out_row += piece.rows;
      }
    }
  }
  absl::StatusOr<Column> out;
  switch (type) {
    case DataType::kBool:
    case DataType::kInt64:
    case DataType::kTimestamp:
    case DataType::kDate: {
      std::vector<uint8_t> bools;
      std::vector<int64_t> ints;
      std::vector<int32_t> days;
      for (const Piece& piece : pieces) {
        const auto rows = static_cast<size_t>(piece.rows);
        if (type == DataType::kBool) {
          piece.column ? AppendValues(piece.column->bool_values(), &bools)
                       : bools.resize(bools.size() + rows, 0);
        } else if (type == DataType::kDate) {
          piece.column ? AppendValues(piece.column->date_values(), &days)
                       : days.resize(days.size() + rows, 0);
        } else {
          piece.column ? AppendValues(piece.column->int64_values(), &ints)
                       : ints.resize(ints.size() + rows, 0);
        }
      }
      if (type == DataType::kBool) out = Column::FromBools(std::move(bools), std::move(validity));
      if (type == DataType::kDate) out = Column::FromDates(std::move(days), std::move(validity));
      if (type == DataType::kInt64) out = Column::FromInt64s(std::move(ints), std::move(validity));
      if (type == DataType::kTimestamp) {
        out = Column::FromTimestamps(std::move(ints), std::move(validity));
      }
      break;
    }
    case DataType::kFloat64: {
      std::vector<double> values;
      values.reserve(static_cast<size_t>(total_rows));
      for (const Piece& piece : pieces) {
        if (piece.column == nullptr) {
          values.resize(values.size() + static_cast<size_t>(piece.rows), 0.0);
        } else if (piece.column->type() == DataType::kInt64) {
          for (int64_t value : piece.column->int64_values()) {
            values.push_back(static_cast<double>(value));
          }
        } else {
          AppendValues(piece.column->float64_values(), &values);
        }
      }
      out = Column::FromFloat64s(std::move(values), std::move(validity));
      break;
    }
    case DataType::kString: {
      std::vector<int64_t> offsets;
      offsets.reserve(static_cast<size_t>(total_rows) + 1);
      offsets.push_back(0);
      std::string bytes;
      size_t total_bytes = 0;
      for (const Piece& piece : pieces) {
        if (piece.column != nullptr) total_bytes += piece.column->string_bytes().size();
      }
      bytes.reserve(total_bytes);
      for (const Piece& piece : pieces) {
        const auto base = static_cast<int64_t>(bytes.size());
        if (piece.column == nullptr) {
          offsets.resize(offsets.size() + static_cast<size_t>(piece.rows), base);
          continue;
        }
        const std::vector<int64_t>& source = piece.column->string_offsets();
        for (int64_t row = 1; row <= piece.rows; ++row) offsets.push_back(base + source[row]);
        bytes.append(piece.column->string_bytes());
      }
      out = Column::FromStrings(std::move(offsets), std::move(bytes), std::move(validity));
      break;
    }
  }
  assert(out.ok());
  return *std::move(out);
}

}  // namespace

absl::StatusOr<StackSpec> ParseStackSpec(const nlohmann::json& config) {
  const reshape::ConfigContext context("stack");
  ASSAY_RETURN_IF_ERROR(context.CheckObject(config, "", {"origin_column"}));
  StackSpec spec;
  ASSAY_ASSIGN_OR_RETURN(spec.origin_column,
                         context.OptionalString(config, "", "origin_column", ""));
  return spec;
}

absl::StatusOr<table::Table> RunStack(const StackSpec& spec,
                                      const std::vector<NamedTable>& inputs) {
  if (inputs.empty()) return absl::InvalidArgumentError("stack: needs at least one input");
  // The output schema, and for each output field the input that fixed its type (for messages).
  std::vector<table::Field> fields;
  std::vector<size_t> type_source;
  absl::flat_hash_map<std::string, size_t> field_index;
  int64_t total_rows = 0;
  for (size_t input = 0; input < inputs.size(); ++input) {
    const table::Table& table = *inputs[input].second;
    total_rows += table.num_rows();
    for (const table::Field& field : table.schema().fields()) {
      const auto [it, inserted] = field_index.try_emplace(field.name, fields.size());
      if (inserted) {
        fields.push_back(field);
        type_source.push_back(input);
        continue;
      }
      table::Field& merged = fields[it->second];
      if (merged.type == field.type) continue;
      const bool numeric = table::IsNumeric(merged.type) && table::IsNumeric(field.type);
      if (numeric) {
        merged.type = DataType::kFloat64;
        continue;
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "stack: column \"", field.name, "\" is ", Absl(DataTypeName(merged.type)), " in input \"",
          inputs[type_source[it->second]].first, "\" but ", Absl(DataTypeName(field.type)),
          " in input \"", inputs[input].first,
          "\"; only int64 and float64 combine (to float64); convert one of them first"));
    }
  }
  if (!spec.origin_column.empty() && field_index.contains(spec.origin_column)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stack: origin_column \"", spec.origin_column,
        "\" is already a column of an input; choose another name with \"origin_column\""));
  }

  std::vector<Column> columns(fields.size());
  auto build = [&](int64_t index) {
    const table::Field& field = fields[static_cast<size_t>(index)];
    std::vector<Piece> pieces;
    pieces.reserve(inputs.size());
    for (const NamedTable& input : inputs) {
      const std::optional<int> column = input.second->schema().FindField(field.name);
      pieces.push_back(Piece{column.has_value() ? &input.second->column(*column) : nullptr,
                             input.second->num_rows()});
    }
    columns[static_cast<size_t>(index)] = Concatenate(field.type, pieces, total_rows);
  };
  const auto num_fields = static_cast<int64_t>(fields.size());
  if (num_fields > 1 && total_rows * num_fields >= kParallelCells) {
    common::ThreadPool::Default().ParallelFor(num_fields, build);
  } else {
    for (int64_t index = 0; index < num_fields; ++index) build(index);
  }

  if (!spec.origin_column.empty()) {
    std::vector<int64_t> offsets;
    offsets.reserve(static_cast<size_t>(total_rows) + 1);
    offsets.push_back(0);
    std::string bytes;
    for (const NamedTable& input : inputs) {
      for (int64_t row = 0; row < input.second->num_rows(); ++row) {
        bytes.append(input.first);
        offsets.push_back(static_cast<int64_t>(bytes.size()));
      }
    }
    ASSAY_ASSIGN_OR_RETURN(Column origin,
                           Column::FromStrings(std::move(offsets), std::move(bytes)));
    fields.push_back(table::Field{spec.origin_column, DataType::kString});
    columns.push_back(std::move(origin));
  }
  return table::Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::recipes
