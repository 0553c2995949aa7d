// libFuzzer entry point for the formula compiler (built by `make fuzz`).
#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assay::fuzz::FuzzExpressionCompile(data, size);
  return 0;
}
