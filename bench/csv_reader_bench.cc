// Micro-benchmark of assay::table::ReadCsvString on an in-memory mixed-type CSV (the same
// generator as the 1 GB file benchmark), so reader changes can be measured without disk,
// encoding, hashing, profiling or the metadata store. Not part of the test suite; run
//   build-release/bench/assay_csv_reader_bench
// It reports bytes/s (and rows) for one thread and for the default pool (all cores).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "mixed_csv_generator.h"
#include "table/csv_reader.h"

namespace {

constexpr uint64_t kSeed = 42;

// Arguments: buffer size in bytes, CsvReadOptions::num_threads (0 = all cores). Parses the
// whole buffer, type inference included, once per iteration.
void BM_ReadCsvString(benchmark::State& state) {
  std::string csv;
  assay::bench::GenerateMixedCsv(kSeed, static_cast<uint64_t>(state.range(0)), &csv);
  assay::table::CsvReadOptions options;
  options.num_threads = static_cast<int>(state.range(1));
  int64_t rows = 0;
  for ([[maybe_unused]] auto iteration : state) {
    absl::StatusOr<assay::table::Table> table = assay::table::ReadCsvString(csv, options);
    if (!table.ok()) {
      state.SkipWithError(table.status().ToString().c_str());
      break;
    }
    rows = table->num_rows();
    benchmark::DoNotOptimize(rows);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(csv.size()));
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_ReadCsvString)
    ->ArgNames({"bytes", "threads"})
    ->Args({int64_t{16} << 20, 1})
    ->Args({int64_t{16} << 20, 0})
    ->Args({int64_t{128} << 20, 1})
    ->Args({int64_t{128} << 20, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
