// libFuzzer entry point for the native table format decoder (built by `make fuzz`).
#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  assay::fuzz::FuzzTableFormat(data, size);
  return 0;
}
