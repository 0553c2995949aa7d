// Runs the fuzz targets over deterministic mutations of seed inputs, so every `make test`
// (and the ASan/UBSan build) exercises the parsers with hostile bytes. A crash or sanitizer
// report fails the test; the seeds and the mutation schedule are fixed, so failures repeat.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "table/csv_reader.h"
#include "table/table_format.h"
#include "tests/fuzz/fuzz_targets.h"

namespace assay::fuzz {
namespace {

constexpr int kMutationsPerSeed = 2000;

// Byte-level mutations in the spirit of libFuzzer's: flip, insert, erase, duplicate a span,
// and splice in characters that matter to the parsers.
std::string Mutate(std::string input, std::mt19937_64& rng) {
  static constexpr char kInteresting[] = {'"',    ',',    ';', '\t', '|', '\n', '\r', '\0',
                                          '\xff', '\xc3', '-', '.',  'e', '0',  '9',  ' '};
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int step = 0; step < steps; ++step) {
    const size_t pos = input.empty() ? 0 : rng() % input.size();
    switch (rng() % 5) {
      case 0:
        if (!input.empty()) input[pos] = static_cast<char>(input[pos] ^ (1u << (rng() % 8)));
        break;
      case 1:
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(pos),
                     kInteresting[rng() % sizeof(kInteresting)]);
        break;
      case 2:
        if (!input.empty()) input.erase(pos, 1 + rng() % 8);
        break;
      case 3:
        if (!input.empty()) input.insert(pos, input.substr(rng() % input.size(), rng() % 16));
        break;
      case 4:
        if (!input.empty()) input[pos] = kInteresting[rng() % sizeof(kInteresting)];
        break;
    }
  }
  return input;
}

void RunMutations(const std::vector<std::string>& seeds, void (*target)(const uint8_t*, size_t)) {
  std::mt19937_64 rng(20261128);
  for (const std::string& seed : seeds) {
    target(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
    std::string current = seed;
    for (int i = 0; i < kMutationsPerSeed; ++i) {
      current = (rng() % 4 == 0) ? Mutate(seed, rng) : Mutate(current, rng);
      target(reinterpret_cast<const uint8_t*>(current.data()), current.size());
    }
  }
}

TEST(FuzzSmoke, CsvReaderSurvivesMutations) {
  RunMutations(
      {
          "a,b,c\n1,2.5,x\n2,,\"q\"\"uoted\"\n",
          "id;when;flag\r\n1;2024-01-02;true\r\n2;2024-01-03T04:05:06Z;FALSE\r\n",
          "\xef\xbb\xbfname|note\n\"multi\nline\"|NA\n",
          "x\n01\n99999999999999999999\n-0.5\n1e5\nnan\n",
          "",
      },
      &FuzzCsvReader);
}

TEST(FuzzSmoke, TableFormatDecoderSurvivesMutations) {
  table::CsvReadOptions options;
  options.num_threads = 1;
  auto table = table::ReadCsvString(
      "i,f,s,d,t,b\n1,1.5,a,2024-01-01,2024-01-01T00:00:00Z,true\n,2.5,,2024-02-01,,false\n"
      "3,,\"c,d\",,2024-03-01T10:00:00.5Z,\n",
      options);
  ASSERT_TRUE(table.ok()) << table.status();
  auto encoded = table::EncodeTable(*table);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  RunMutations({*encoded, encoded->substr(0, encoded->size() / 2), ""}, &FuzzTableFormat);
}

TEST(FuzzSmoke, ExpressionCompilerSurvivesMutations) {
  RunMutations(
      {
          "i * 2 + f / 3 - `n a` % 4",
          "if(b and not isNull(s), upper(trim(s)) + 'x', coalesce(s, \"none\"))",
          "dateDiff(t, d, 'months') > 3 or dateAdd(d, -1, 'years') < date('2024-01-01')",
          "round(pow(abs(f), 0.5), 2) >= max(i, 1, -9223372036854775808)",
          "concat(substring(s, -2, 5), replace(s, 'A', ''), toString(year(now())))",
          "contains(lower(s), 'é') || startsWith(s, 'A') && endsWith(s, ' ') != false",
          "toNumber(s) <> log(f, 10) or sqrt(exp(i)) = ceil(floor(f))",
          "((((-i))))",
          "",
      },
      &FuzzExpressionCompile);
}

}  // namespace
}  // namespace assay::fuzz
