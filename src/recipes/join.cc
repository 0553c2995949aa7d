#include "recipes/join.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/absl_compat.h"
#include "common/status_macros.h"
#include "common/thread_pool.h"
#include "recipes/relational_common.h"
#include "table/data_type.h"

namespace assay::recipes {
namespace {

using relational::ConfigError;
using relational::KeyPath;
using table::Column;
using table::Table;

constexpr std::string_view kRecipe = "join";
// Left rows per probe task.
constexpr int64_t kProbeChunkRows = 1 << 16;
// Below this many output rows the gather runs on the calling thread.
constexpr int64_t kParallelGatherRows = 1 << 15;

// Where an output column comes from.
struct OutputColumn {
  enum class Source { kLeft, kRight, kMergedKey } source;
  int left_index = -1;
  int right_index = -1;
  table::Field field;
};

struct JoinPlan {
  std::vector<int> left_keys;
  std::vector<int> right_keys;
  std::vector<OutputColumn> outputs;
};

absl::StatusOr<JoinPlan> PlanJoin(const JoinSpec& spec, const table::Schema& left,
                                  const table::Schema& right) {
  JoinPlan plan;
  absl::flat_hash_set<std::string> merged;  // same-named keys, output once
  for (size_t index = 0; index < spec.left_on.size(); ++index) {
    ASSAY_ASSIGN_OR_RETURN(int left_key,
                           relational::FindColumn(left, spec.left_on[index], "join: left key"));
    ASSAY_ASSIGN_OR_RETURN(int right_key,
                           relational::FindColumn(right, spec.right_on[index], "join: right key"));
    const table::DataType left_type = left.field(left_key).type;
    const table::DataType right_type = right.field(right_key).type;
    if (left_type != right_type) {
      return absl::InvalidArgumentError(
          absl::StrCat("join: key \"", spec.left_on[index], "\" is ",
                       Absl(table::DataTypeName(left_type)), " on the left but right key \"",
                       spec.right_on[index], "\" is ", Absl(table::DataTypeName(right_type)),
                       "; keys must have the same type: cast one of them in a prepare step first"));
    }
    plan.left_keys.push_back(left_key);
    plan.right_keys.push_back(right_key);
    if (spec.left_on[index] == spec.right_on[index]) merged.insert(spec.left_on[index]);
  }

  // Left side: merged keys missing from left_columns first, then the selection.
  std::vector<int> left_selected;
  if (spec.left_columns.has_value()) {
    for (const std::string& key : spec.left_on) {
      if (merged.contains(key) && std::find(spec.left_columns->begin(), spec.left_columns->end(),
                                            key) == spec.left_columns->end()) {
        left_selected.push_back(*left.FindField(key));
      }
    }
    for (const std::string& name : *spec.left_columns) {
      ASSAY_ASSIGN_OR_RETURN(int index, relational::FindColumn(left, name, "join: left_columns"));
      left_selected.push_back(index);
    }
  } else {
    for (int index = 0; index < left.num_fields(); ++index) left_selected.push_back(index);
  }
  std::vector<int> right_selected;
  if (spec.right_columns.has_value()) {
    for (const std::string& name : *spec.right_columns) {
      ASSAY_ASSIGN_OR_RETURN(int index, relational::FindColumn(right, name, "join: right_columns"));
      if (!merged.contains(name)) right_selected.push_back(index);
    }
  } else {
    for (int index = 0; index < right.num_fields(); ++index) {
      if (!merged.contains(right.field(index).name)) right_selected.push_back(index);
    }
  }

  absl::flat_hash_set<std::string> left_names, right_names;
  for (int index : left_selected) left_names.insert(left.field(index).name);
  for (int index : right_selected) right_names.insert(right.field(index).name);
  for (int index : left_selected) {
    OutputColumn output;
    output.field = left.field(index);
    output.left_index = index;
    if (merged.contains(output.field.name)) {
      output.source = OutputColumn::Source::kMergedKey;
      output.right_index = *right.FindField(output.field.name);
    } else {
      output.source = OutputColumn::Source::kLeft;
      if (right_names.contains(output.field.name)) output.field.name += spec.left_suffix;
    }
    plan.outputs.push_back(std::move(output));
  }
  for (int index : right_selected) {
    OutputColumn output;
    output.field = right.field(index);
    output.source = OutputColumn::Source::kRight;
    output.right_index = index;
    if (left_names.contains(output.field.name)) output.field.name += spec.right_suffix;
    plan.outputs.push_back(std::move(output));
  }
  absl::flat_hash_set<std::string> output_names;
  for (const OutputColumn& output : plan.outputs) {
    if (!output_names.insert(output.field.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("join: output column \"", output.field.name,
                       "\" would appear twice after adding the suffixes (left_suffix \"",
                       spec.left_suffix, "\", right_suffix \"", spec.right_suffix,
                       "\"); choose other suffixes or select fewer columns"));
    }
  }
  return plan;
}

// The matched row pairs, in output order; -1 stands for "no row on this side". When
// `left_identity` is set, `left` is empty and output row i is left row i.
struct RowPairs {
  std::vector<int64_t> left;
  std::vector<int64_t> right;
  bool left_identity = false;
  // With left_identity: the right row of each left row, first touched by the probe tasks.
  std::unique_ptr<int64_t[]> right_of_left;

  std::span<const int64_t> RightRows(int64_t left_rows) const {
    if (left_identity) return {right_of_left.get(), static_cast<size_t>(left_rows)};
    return right;
  }
};

RowPairs CrossPairs(int64_t left_rows, int64_t right_rows) {
  RowPairs pairs;
  pairs.left.reserve(static_cast<size_t>(left_rows * right_rows));
  pairs.right.reserve(static_cast<size_t>(left_rows * right_rows));
  for (int64_t left_row = 0; left_row < left_rows; ++left_row) {
    for (int64_t right_row = 0; right_row < right_rows; ++right_row) {
      pairs.left.push_back(left_row);
      pairs.right.push_back(right_row);
    }
  }
  return pairs;
}

RowPairs HashJoinPairs(JoinType type, const Table& left, const Table& right, const JoinPlan& plan,
                       common::ThreadPool& pool) {
  std::vector<const Column*> left_keys, right_keys;
  for (int index : plan.left_keys) left_keys.push_back(&left.column(index));
  for (int index : plan.right_keys) right_keys.push_back(&right.column(index));
  const int64_t left_rows = left.num_rows();
  const int64_t right_rows = right.num_rows();

  // Build: hash -> first right row of a chain that lists, in right order, every right row
  // with that hash. Iterating backwards and prepending keeps each chain in ascending order.
  // `next` is only materialised once a hash repeats: a lookup table (unique keys, the common
  // case) then costs one hash-map probe per left row and nothing else.
  const relational::RowHashes right_hashes = relational::HashRows(right_keys, right_rows, pool);
  absl::flat_hash_map<uint64_t, int64_t> heads;
  heads.reserve(static_cast<size_t>(right_rows));
  std::vector<int64_t> next;
  for (int64_t row = right_rows - 1; row >= 0; --row) {
    if (!right_hashes.has_null.empty() && right_hashes.has_null[row]) continue;
    auto [it, inserted] = heads.try_emplace(right_hashes.hash[row], row);
    if (!inserted) {
      if (next.empty()) next.assign(static_cast<size_t>(right_rows), -1);
      next[row] = it->second;
      it->second = row;
    }
  }

  const relational::RowHashes left_hashes = relational::HashRows(left_keys, left_rows, pool);
  const bool keep_left = type == JoinType::kLeft || type == JoinType::kFull;
  const bool verify = !(left_hashes.exact && right_hashes.exact);
  const int64_t chunks = std::max<int64_t>(1, (left_rows + kProbeChunkRows - 1) / kProbeChunkRows);
  auto run = [&](const std::function<void(int64_t)>& task) {
    if (chunks > 1) {
      pool.ParallelFor(chunks, task);
    } else {
      task(0);
    }
  };
  auto is_null_key = [&](int64_t row) {
    return !left_hashes.has_null.empty() && left_hashes.has_null[row];
  };

  RowPairs pairs;
  if (next.empty() && !verify && type == JoinType::kLeft) {
    // Unique build keys, left join: exactly one output row per left row, in left order, so
    // each probe task writes its slice of the right-row vector directly.
    pairs.left_identity = true;
    pairs.right_of_left = std::make_unique_for_overwrite<int64_t[]>(static_cast<size_t>(left_rows));
    run([&](int64_t chunk) {
      const int64_t begin = chunk * kProbeChunkRows;
      const int64_t end = std::min(left_rows, begin + kProbeChunkRows);
      int64_t* out = pairs.right_of_left.get();
      for (int64_t row = begin; row < end; ++row) {
        int64_t match = -1;
        if (!is_null_key(row)) {
          auto it = heads.find(left_hashes.hash[row]);
          if (it != heads.end()) match = it->second;
        }
        out[row] = match;
      }
    });
    return pairs;
  }

  // General case: each chunk of left rows collects its pairs; chunks are concatenated in
  // order, so the output order does not depend on scheduling.
  std::vector<RowPairs> chunk_pairs(static_cast<size_t>(chunks));
  run([&](int64_t chunk) {
    const int64_t begin = chunk * kProbeChunkRows;
    const int64_t end = std::min(left_rows, begin + kProbeChunkRows);
    RowPairs& out = chunk_pairs[static_cast<size_t>(chunk)];
    out.left.reserve(static_cast<size_t>(end - begin));
    out.right.reserve(static_cast<size_t>(end - begin));
    for (int64_t row = begin; row < end; ++row) {
      bool matched = false;
      if (!is_null_key(row)) {
        auto it = heads.find(left_hashes.hash[row]);
        if (it != heads.end()) {
          for (int64_t match = it->second; match >= 0; match = next.empty() ? -1 : next[match]) {
            if (verify && !relational::KeysEqual(left_keys, row, right_keys, match)) continue;
            out.left.push_back(row);
            out.right.push_back(match);
            matched = true;
          }
        }
      }
      if (!matched && keep_left) {
        out.left.push_back(row);
        out.right.push_back(-1);
      }
    }
  });

  std::vector<size_t> starts(static_cast<size_t>(chunks) + 1, 0);
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    starts[chunk + 1] = starts[chunk] + chunk_pairs[chunk].left.size();
  }
  int64_t unmatched_right = 0;
  std::vector<uint8_t> right_matched;
  if (type == JoinType::kRight || type == JoinType::kFull) {
    right_matched.assign(static_cast<size_t>(right_rows), 0);
    for (const RowPairs& chunk : chunk_pairs) {
      for (int64_t row : chunk.right) {
        if (row >= 0) right_matched[row] = 1;
      }
    }
    for (uint8_t flag : right_matched) unmatched_right += flag ? 0 : 1;
  }
  pairs.left.resize(starts.back() + static_cast<size_t>(unmatched_right));
  pairs.right.resize(pairs.left.size());
  run([&](int64_t chunk) {
    RowPairs& from = chunk_pairs[chunk];
    std::copy(from.left.begin(), from.left.end(), pairs.left.begin() + starts[chunk]);
    std::copy(from.right.begin(), from.right.end(), pairs.right.begin() + starts[chunk]);
    from = RowPairs();
  });
  size_t at = starts.back();
  for (int64_t row = 0; row < static_cast<int64_t>(right_matched.size()); ++row) {
    if (right_matched[row]) continue;
    pairs.left[at] = -1;
    pairs.right[at] = row;
    ++at;
  }
  return pairs;
}

// Rows from `left` where left_rows[i] >= 0, else from `right` (a same-named key coalesced).
Column TakeCoalesced(const Column& left, const std::vector<int64_t>& left_rows, const Column& right,
                     const std::vector<int64_t>& right_rows) {
  table::ColumnBuilder builder(left.type());
  builder.Reserve(static_cast<int64_t>(left_rows.size()));
  for (size_t index = 0; index < left_rows.size(); ++index) {
    if (left_rows[index] >= 0) {
      builder.AppendFrom(left, left_rows[index]);
    } else if (right_rows[index] >= 0) {
      builder.AppendFrom(right, right_rows[index]);
    } else {
      builder.AppendNull();
    }
  }
  return builder.Finish();
}

}  // namespace

std::string_view JoinTypeName(JoinType type) {
  switch (type) {
    case JoinType::kInner:
      return "inner";
    case JoinType::kLeft:
      return "left";
    case JoinType::kRight:
      return "right";
    case JoinType::kFull:
      return "full";
    case JoinType::kCross:
      return "cross";
  }
  return "inner";
}

absl::StatusOr<JoinSpec> ParseJoinSpec(const nlohmann::json& config) {
  ASSAY_RETURN_IF_ERROR(
      relational::CheckObject(config, kRecipe, "",
                              {"type", "on", "left_on", "right_on", "left_columns", "right_columns",
                               "left_suffix", "right_suffix"}));
  JoinSpec spec;
  if (config.contains("type")) {
    const nlohmann::json& type = config["type"];
    bool known = false;
    for (JoinType candidate :
         {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kFull, JoinType::kCross}) {
      if (type.is_string() && type.get_ref<const std::string&>() == JoinTypeName(candidate)) {
        spec.type = candidate;
        known = true;
      }
    }
    if (!known) {
      return ConfigError(
          kRecipe, KeyPath("", "type"),
          absl::StrCat("expected one of inner, left, right, full, cross, got ",
                       type.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
  }
  const bool has_on = config.contains("on");
  const bool has_left_on = config.contains("left_on");
  const bool has_right_on = config.contains("right_on");
  if (spec.type == JoinType::kCross) {
    if (has_on || has_left_on || has_right_on) {
      return ConfigError(kRecipe, "",
                         "a cross join pairs every row with every row and takes no keys; remove "
                         "\"on\"/\"left_on\"/\"right_on\" or choose another type");
    }
  } else if (has_on) {
    if (has_left_on || has_right_on) {
      return ConfigError(kRecipe, "",
                         "give either \"on\" or \"left_on\" with \"right_on\", not both");
    }
    ASSAY_ASSIGN_OR_RETURN(spec.left_on,
                           relational::ReadNameList(config["on"], kRecipe, KeyPath("", "on")));
    spec.right_on = spec.left_on;
  } else if (has_left_on || has_right_on) {
    if (!has_left_on || !has_right_on) {
      return ConfigError(kRecipe, KeyPath("", has_left_on ? "right_on" : "left_on"),
                         "is required together with the other side's key list");
    }
    ASSAY_ASSIGN_OR_RETURN(
        spec.left_on, relational::ReadNameList(config["left_on"], kRecipe, KeyPath("", "left_on")));
    ASSAY_ASSIGN_OR_RETURN(spec.right_on, relational::ReadNameList(config["right_on"], kRecipe,
                                                                   KeyPath("", "right_on")));
    if (spec.left_on.size() != spec.right_on.size()) {
      return ConfigError(
          kRecipe, "",
          absl::StrCat("\"left_on\" has ", spec.left_on.size(), " columns but \"right_on\" has ",
                       spec.right_on.size(), "; keys are paired by position"));
    }
  } else {
    return ConfigError(kRecipe, "",
                       absl::StrCat("a ", Absl(JoinTypeName(spec.type)),
                                    " join needs keys: \"on\" or \"left_on\" with \"right_on\" "
                                    "(for every pair of rows use type: cross)"));
  }
  if (config.contains("left_columns")) {
    ASSAY_ASSIGN_OR_RETURN(
        spec.left_columns,
        relational::ReadNameList(config["left_columns"], kRecipe, KeyPath("", "left_columns")));
  }
  if (config.contains("right_columns")) {
    ASSAY_ASSIGN_OR_RETURN(
        spec.right_columns,
        relational::ReadNameList(config["right_columns"], kRecipe, KeyPath("", "right_columns")));
  }
  if (config.contains("left_suffix")) {
    ASSAY_ASSIGN_OR_RETURN(spec.left_suffix,
                           relational::ReadString(config["left_suffix"], kRecipe,
                                                  KeyPath("", "left_suffix"), "a suffix"));
  }
  if (config.contains("right_suffix")) {
    ASSAY_ASSIGN_OR_RETURN(spec.right_suffix,
                           relational::ReadString(config["right_suffix"], kRecipe,
                                                  KeyPath("", "right_suffix"), "a suffix"));
  }
  if (spec.left_suffix == spec.right_suffix) {
    return ConfigError(kRecipe, KeyPath("", "right_suffix"),
                       "must differ from \"left_suffix\", or clashing names stay ambiguous");
  }
  return spec;
}

absl::StatusOr<Table> RunJoin(const JoinSpec& spec, const Table& left, const Table& right) {
  if (spec.left_on.size() != spec.right_on.size() ||
      (spec.type == JoinType::kCross) != spec.left_on.empty()) {
    return absl::InvalidArgumentError(
        "join: left_on and right_on must pair up, and only a cross join has no keys");
  }
  ASSAY_ASSIGN_OR_RETURN(JoinPlan plan, PlanJoin(spec, left.schema(), right.schema()));
  common::ThreadPool& pool = common::ThreadPool::Default();

  RowPairs pairs = spec.type == JoinType::kCross
                       ? CrossPairs(left.num_rows(), right.num_rows())
                       : HashJoinPairs(spec.type, left, right, plan, pool);

  // When the output keeps every left row once, in order (a left join on unique right keys, or
  // an inner join where everything matched), the left columns are reused as they are.
  bool left_identity = pairs.left_identity;
  if (!left_identity && static_cast<int64_t>(pairs.left.size()) == left.num_rows()) {
    left_identity = true;
    for (size_t index = 0; left_identity && index < pairs.left.size(); ++index) {
      left_identity = pairs.left[index] == static_cast<int64_t>(index);
    }
  }
  const std::span<const int64_t> right_rows = pairs.RightRows(left.num_rows());
  bool any_left_missing = false;
  for (int64_t row : pairs.left) any_left_missing |= row < 0;

  std::vector<table::Field> fields;
  for (const OutputColumn& output : plan.outputs) fields.push_back(output.field);
  std::vector<Column> columns(plan.outputs.size());
  auto gather = [&](int64_t index) {
    const OutputColumn& output = plan.outputs[index];
    switch (output.source) {
      case OutputColumn::Source::kMergedKey:
        if (any_left_missing) {
          columns[index] = TakeCoalesced(left.column(output.left_index), pairs.left,
                                         right.column(output.right_index), pairs.right);
          break;
        }
        [[fallthrough]];
      case OutputColumn::Source::kLeft:
        columns[index] = left_identity
                             ? left.column(output.left_index)
                             : relational::TakeRows(left.column(output.left_index), pairs.left);
        break;
      case OutputColumn::Source::kRight:
        columns[index] = relational::TakeRows(right.column(output.right_index), right_rows);
        break;
    }
  };
  const int64_t num_outputs = static_cast<int64_t>(plan.outputs.size());
  if (static_cast<int64_t>(right_rows.size()) >= kParallelGatherRows && num_outputs > 1) {
    pool.ParallelFor(num_outputs, gather);
  } else {
    for (int64_t index = 0; index < num_outputs; ++index) gather(index);
  }
  return Table::Make(table::Schema(std::move(fields)), std::move(columns));
}

}  // namespace assay::recipes
