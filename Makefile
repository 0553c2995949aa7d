# Assay developer entry points. Everything goes through CMake + Ninja in build/ (and the
# sanitizer build of the core libraries in build-asan/).
#   make demo   install missing packages, build, run the walkthrough on a scratch workspace
#   make test   install missing packages, build, run every test (plus ASan/UBSan core tests)
#   make bench  build in Release and run the benchmarks in bench/ against their peers
#   make build  configure and build only
#   make fuzz   build the libFuzzer targets with clang and fuzz each parser for a while
BUILD_DIR ?= build
ASAN_DIR ?= build-asan
ASSAY_WERROR ?= OFF
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all bootstrap build build-asan test test-unit test-asan demo bench fuzz format clean

all: build

bootstrap:
	@bash scripts/bootstrap.sh

# Configuring is cheap and idempotent, so every build re-runs it with the current flags.
build: bootstrap
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DASSAY_WERROR=$(ASSAY_WERROR) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: bootstrap
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DASSAY_SANITIZE=ON \
	  -DASSAY_CORE_ONLY=ON -DASSAY_WERROR=$(ASSAY_WERROR)
	cmake --build $(ASAN_DIR) -j $(JOBS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_DIR) && ctest --output-on-failure -j $(JOBS)

test: test-unit test-asan

demo: build
	bash scripts/demo.sh $(BUILD_DIR)/src/cli/assay

bench:
	@bash scripts/bootstrap.sh
	cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build build-release -j $(JOBS)
	bash bench/run_all.sh build-release

# Open-ended fuzzing with libFuzzer (clang). FUZZ_SECONDS per target; crashes land in
# build-fuzz/ as crash-* files.
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/bootstrap.sh --fuzz
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DASSAY_FUZZ=ON -DASSAY_CORE_ONLY=ON
	cmake --build build-fuzz -j $(JOBS) --target csv_reader_fuzzer table_format_fuzzer
	cd build-fuzz && ./tests/fuzz/csv_reader_fuzzer -max_total_time=$(FUZZ_SECONDS) && \
	  ./tests/fuzz/table_format_fuzzer -max_total_time=$(FUZZ_SECONDS)

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) build-release
