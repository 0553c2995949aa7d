// assay_join_group_bench: times the relational recipes (join, group) on generated tables, for
// bench/join_group.sh, which runs bench/peers/pandas_join_group.py on the same data.
//
//   assay_join_group_bench [--rows 10000000] [--dim-rows 1000000] [--groups 100000]
//                          [--runs 3] [--ops left_join,group_int,group_string]
//
// Data (identical, value for value, to the pandas peer: both use splitmix64 of the row index):
//   fact  ROWS rows:   key int64 in [0, 2 * DIM_ROWS)   (about half the keys find a dim row)
//                      v1 float64, v2 int64 in [0, 1000), g int64 in [0, GROUPS),
//                      s string "hcp_<g>"
//   dim   DIM_ROWS rows: id int64 = 2 * row, d1 float64, d2 int64 in [0, 100)
// Operations (only these are timed; the best of RUNS runs is kept):
//   left_join     fact LEFT JOIN dim ON key = id (all columns of both)
//   group_int     fact GROUP BY g: sum(v1), mean(v1), count, max(v2)
//   group_string  fact GROUP BY s: the same aggregations
// Prints one JSON object: {"tool": "assay", "threads": N, "ops": {op: {"seconds",
// "cpu_seconds", "rows_in", "rows_out", "checksum"}}} (wall and process CPU time of the best
// run). The checksums are integers that the peer computes the same way,
// so the report can check both tools produced the same result. Exit codes: 0 success,
// 1 a recipe failed, 2 usage error.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "common/huge_pages.h"
#include "common/thread_pool.h"
#include "recipes/group.h"
#include "recipes/join.h"
#include "table/column.h"
#include "table/table.h"

namespace {

using assay::table::Column;
using assay::table::DataType;
using assay::table::Table;

// splitmix64 (Vigna, public domain), the same in bench/peers/pandas_join_group.py.
uint64_t Mix(uint64_t row, uint64_t stream) {
  uint64_t x = row + (stream << 36) + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

Table MakeFact(int64_t rows, int64_t dim_rows, int64_t groups) {
  std::vector<int64_t> key(rows), v2(rows), g(rows);
  std::vector<double> v1(rows);
  std::vector<int64_t> offsets(rows + 1, 0);
  std::string bytes;
  bytes.reserve(static_cast<size_t>(rows) * 10);
  for (int64_t row = 0; row < rows; ++row) {
    const uint64_t r = static_cast<uint64_t>(row);
    key[row] = static_cast<int64_t>(Mix(r, 1) % static_cast<uint64_t>(2 * dim_rows));
    v1[row] = static_cast<double>(Mix(r, 2) % 1000000) / 100.0;
    v2[row] = static_cast<int64_t>(Mix(r, 3) % 1000);
    g[row] = static_cast<int64_t>(Mix(r, 4) % static_cast<uint64_t>(groups));
    bytes += "hcp_";
    bytes += std::to_string(g[row]);
    offsets[row + 1] = static_cast<int64_t>(bytes.size());
  }
  std::vector<Column> columns;
  columns.push_back(*Column::FromInt64s(std::move(key)));
  columns.push_back(*Column::FromFloat64s(std::move(v1)));
  columns.push_back(*Column::FromInt64s(std::move(v2)));
  columns.push_back(*Column::FromInt64s(std::move(g)));
  columns.push_back(*Column::FromStrings(std::move(offsets), std::move(bytes)));
  return *Table::Make(assay::table::Schema({{"key", DataType::kInt64},
                                            {"v1", DataType::kFloat64},
                                            {"v2", DataType::kInt64},
                                            {"g", DataType::kInt64},
                                            {"s", DataType::kString}}),
                      std::move(columns));
}

Table MakeDim(int64_t rows) {
  std::vector<int64_t> id(rows), d2(rows);
  std::vector<double> d1(rows);
  for (int64_t row = 0; row < rows; ++row) {
    const uint64_t r = static_cast<uint64_t>(row);
    id[row] = 2 * row;
    d1[row] = static_cast<double>(Mix(r, 5) % 10000) / 10.0;
    d2[row] = static_cast<int64_t>(Mix(r, 6) % 100);
  }
  std::vector<Column> columns;
  columns.push_back(*Column::FromInt64s(std::move(id)));
  columns.push_back(*Column::FromFloat64s(std::move(d1)));
  columns.push_back(*Column::FromInt64s(std::move(d2)));
  return *Table::Make(
      assay::table::Schema(
          {{"id", DataType::kInt64}, {"d1", DataType::kFloat64}, {"d2", DataType::kInt64}}),
      std::move(columns));
}

struct OpResult {
  double seconds = 1e300;
  double cpu_seconds = 0;  // user + system CPU of the process (all threads) in that run
  int64_t rows_in = 0;
  int64_t rows_out = 0;
  int64_t checksum = 0;
};

// Sum of an int64 column, nulls as 0.
int64_t SumInts(const Table& table, const char* name) {
  const Column* column = *table.GetColumn(name);
  int64_t sum = 0;
  for (int64_t value : column->int64_values()) sum += value;  // null slots hold 0
  return sum;
}

bool ParseInt(const char* text, int64_t* value) {
  char* end = nullptr;
  const long long parsed = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || parsed <= 0) return false;
  *value = parsed;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // The same allocator set-up as the assay command (src/common/huge_pages.h).
  assay::common::ReexecWithProcessTunables(argv);
  int64_t rows = 10'000'000, dim_rows = 1'000'000, groups = 100'000, runs = 3;
  std::string only;  // --ops NAME[,NAME]: run only these operations
  for (int arg = 1; arg < argc; ++arg) {
    const std::string flag = argv[arg];
    if (flag == "--ops" && arg + 1 < argc) {
      only = argv[++arg];
      continue;
    }
    int64_t* target = flag == "--rows"       ? &rows
                      : flag == "--dim-rows" ? &dim_rows
                      : flag == "--groups"   ? &groups
                      : flag == "--runs"     ? &runs
                                             : nullptr;
    if (target == nullptr || arg + 1 >= argc || !ParseInt(argv[arg + 1], target)) {
      std::fprintf(stderr,
                   "usage: assay_join_group_bench [--rows N] [--dim-rows N] [--groups N] "
                   "[--runs N] [--ops left_join,group_int,group_string]\n");
      return 2;
    }
    ++arg;
  }
  const Table fact = MakeFact(rows, dim_rows, groups);
  const Table dim = MakeDim(dim_rows);

  assay::recipes::JoinSpec join;
  join.type = assay::recipes::JoinType::kLeft;
  join.left_on = {"key"};
  join.right_on = {"id"};
  auto group_spec = [](const char* key) {
    return assay::recipes::ParseGroupSpec(nlohmann::json{{"keys", {key}},
                                                         {"aggregations",
                                                          {{{"agg", "sum"}, {"column", "v1"}},
                                                           {{"agg", "mean"}, {"column", "v1"}},
                                                           {{"agg", "count"}},
                                                           {{"agg", "max"}, {"column", "v2"}}}}});
  };
  const auto group_int = group_spec("g");
  const auto group_string = group_spec("s");
  if (!group_int.ok() || !group_string.ok()) {
    std::fprintf(stderr, "assay_join_group_bench: bad group spec\n");
    return 1;
  }

  struct Op {
    const char* name;
    std::function<absl::StatusOr<Table>()> run;
    std::function<int64_t(const Table&)> checksum;
  };
  const std::vector<Op> ops = {
      {"left_join", [&] { return assay::recipes::RunJoin(join, fact, dim); },
       [](const Table& out) { return SumInts(out, "d2"); }},
      {"group_int", [&] { return assay::recipes::RunGroupWithMasks(*group_int, fact, {}); },
       [](const Table& out) { return SumInts(out, "v2_max") + SumInts(out, "count"); }},
      {"group_string", [&] { return assay::recipes::RunGroupWithMasks(*group_string, fact, {}); },
       [](const Table& out) { return SumInts(out, "v2_max") + SumInts(out, "count"); }},
  };
  std::string json = "{\"tool\": \"assay\", \"threads\": " +
                     std::to_string(assay::common::ThreadPool::Default().num_threads()) +
                     ", \"rows\": " + std::to_string(rows) +
                     ", \"dim_rows\": " + std::to_string(dim_rows) +
                     ", \"groups\": " + std::to_string(groups) + ", \"ops\": {";
  bool first = true;
  for (size_t index = 0; index < ops.size(); ++index) {
    if (!only.empty() && only.find(ops[index].name) == std::string::npos) continue;
    OpResult result;
    result.rows_in = rows;
    for (int64_t run = 0; run < runs; ++run) {
      const std::clock_t cpu_start = std::clock();
      const auto start = std::chrono::steady_clock::now();
      absl::StatusOr<Table> out = ops[index].run();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      if (!out.ok()) {
        std::fprintf(stderr, "assay_join_group_bench: %s failed: %s\n", ops[index].name,
                     std::string(out.status().message()).c_str());
        return 1;
      }
      if (seconds < result.seconds) {
        result.seconds = seconds;
        result.cpu_seconds = cpu_seconds;
      }
      result.rows_out = out->num_rows();
      result.checksum = ops[index].checksum(*out);
    }
    char buffer[256];
    std::snprintf(buffer, sizeof(buffer),
                  "%s\"%s\": {\"seconds\": %.4f, \"cpu_seconds\": %.4f, \"rows_in\": %lld, "
                  "\"rows_out\": %lld, \"checksum\": %lld}",
                  first ? "" : ", ", ops[index].name, result.seconds, result.cpu_seconds,
                  static_cast<long long>(result.rows_in), static_cast<long long>(result.rows_out),
                  static_cast<long long>(result.checksum));
    json += buffer;
    first = false;
  }
  json += "}}";
  std::printf("%s\n", json.c_str());
  return 0;
}
