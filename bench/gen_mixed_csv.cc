// assay_gen_mixed_csv: writes the benchmark's mixed-type HCP-prescription CSV to a file.
//
//   assay_gen_mixed_csv --bytes 1000000000 --seed 42 --output bench/out/mixed.csv
//
// The file holds the header and as many whole rows as fit in --bytes; the same seed and size
// give the same bytes everywhere. Written to OUTPUT.tmp and renamed, so an interrupted run
// never leaves a truncated file under the final name. Prints one JSON line on success:
// {"path": ..., "bytes": ..., "rows": ..., "seed": ...}. Exit codes: 0 success, 1 I/O error,
// 2 usage error.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "mixed_csv_generator.h"

namespace {

constexpr const char* kUsage =
    "usage: assay_gen_mixed_csv --bytes N --seed S --output FILE\n"
    "  writes a deterministic mixed-type CSV of at most N bytes (whole rows) to FILE\n";

// Rows are formatted into this buffer and written in one fwrite when it fills.
constexpr size_t kChunkBytes = size_t{4} << 20;

bool ParseUint(std::string_view text, uint64_t* value) {
  if (text.empty()) return false;
  uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (result > (UINT64_MAX - digit) / 10) return false;
    result = result * 10 + digit;
  }
  *value = result;
  return true;
}

int Usage(const char* problem) {
  std::fprintf(stderr, "assay_gen_mixed_csv: %s\n%s", problem, kUsage);
  return 2;
}

int IoError(const std::string& what, const std::string& path) {
  std::fprintf(stderr, "assay_gen_mixed_csv: cannot %s %s: %s\n", what.c_str(), path.c_str(),
               std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t target_bytes = 0;
  uint64_t seed = 0;
  std::string output;
  bool have_bytes = false;
  bool have_seed = false;
  for (int arg = 1; arg < argc; ++arg) {
    const std::string_view flag = argv[arg];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg + 1 >= argc) return Usage(("missing value after " + std::string(flag)).c_str());
    const std::string_view value = argv[++arg];
    if (flag == "--bytes") {
      if (!ParseUint(value, &target_bytes)) return Usage("--bytes needs a non-negative integer");
      have_bytes = true;
    } else if (flag == "--seed") {
      if (!ParseUint(value, &seed)) return Usage("--seed needs a non-negative integer");
      have_seed = true;
    } else if (flag == "--output") {
      output = std::string(value);
    } else {
      return Usage(("unknown flag " + std::string(flag)).c_str());
    }
  }
  if (!have_bytes || !have_seed || output.empty()) {
    return Usage("--bytes, --seed and --output are required");
  }

  const std::string temp_path = output + ".tmp";
  std::FILE* file = std::fopen(temp_path.c_str(), "wb");
  if (file == nullptr) return IoError("create", temp_path);

  assay::bench::MixedCsvGenerator generator(seed);
  std::string chunk;
  chunk.reserve(kChunkBytes + 4096);
  generator.AppendHeader(&chunk);
  uint64_t written = 0;  // bytes already handed to fwrite
  uint64_t rows = 0;
  if (chunk.size() <= target_bytes) {
    while (true) {
      const size_t before = chunk.size();
      generator.AppendRow(&chunk);
      if (written + chunk.size() > target_bytes) {
        chunk.resize(before);  // the row does not fit: the file ends at the previous one
        break;
      }
      ++rows;
      if (chunk.size() >= kChunkBytes) {
        if (std::fwrite(chunk.data(), 1, chunk.size(), file) != chunk.size()) {
          std::fclose(file);
          return IoError("write", temp_path);
        }
        written += chunk.size();
        chunk.clear();
      }
    }
  }
  if (std::fwrite(chunk.data(), 1, chunk.size(), file) != chunk.size()) {
    std::fclose(file);
    return IoError("write", temp_path);
  }
  written += chunk.size();
  if (std::fclose(file) != 0) return IoError("close", temp_path);
  if (std::rename(temp_path.c_str(), output.c_str()) != 0) return IoError("rename", temp_path);

  std::printf("{\"path\": \"%s\", \"bytes\": %llu, \"rows\": %llu, \"seed\": %llu}\n",
              output.c_str(), static_cast<unsigned long long>(written),
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(seed));
  return 0;
}
