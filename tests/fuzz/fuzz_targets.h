// Fuzz targets for Assay's parsers. Each takes arbitrary bytes and must never crash, hang,
// leak or trip a sanitizer; errors must come back as Status values. They run two ways:
//   - under libFuzzer (clang, `make fuzz`), through the LLVMFuzzerTestOneInput shims in
//     *_fuzzer.cc;
//   - inside `make test`, where fuzz_smoke_test.cc feeds them deterministic mutations of seed
//     inputs (also under ASan/UBSan), so every CI run exercises them.
//
// Thread-compatible: each call is independent.
#ifndef ASSAY_TESTS_FUZZ_FUZZ_TARGETS_H_
#define ASSAY_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>

namespace assay::fuzz {

// Reads the bytes as CSV with both bad-row policies and, when they parse, checks that writing
// the table and reading it back with its schema gives the same table.
void FuzzCsvReader(const uint8_t* data, size_t size);

// Decodes the bytes as a native-format table; when that succeeds, checks that re-encoding
// and decoding again gives an equal table.
void FuzzTableFormat(const uint8_t* data, size_t size);

// Compiles the bytes as a formula (expr::Expression::Compile) against a fixed schema with
// every column type. A rejected formula must give INVALID_ARGUMENT starting "position N: ";
// an accepted one must evaluate over a small table with nulls to a column of its
// result_type() with one value per row and zeroed null slots.
void FuzzExpressionCompile(const uint8_t* data, size_t size);

}  // namespace assay::fuzz

#endif  // ASSAY_TESTS_FUZZ_FUZZ_TARGETS_H_
