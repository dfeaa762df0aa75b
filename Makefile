# hydrant: the two commands of the quick start are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
HYDRANT_ARGS ?=
CTEST_ARGS ?=
BENCH_ARGS ?=
TORTURE_MINUTES ?= 30
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_CXX ?= clang++-14

.PHONY: all deps test-deps configure build run test unit bench torture fuzz clean

all: build

deps:
	@bash scripts/install-deps.sh

test-deps:
	@bash scripts/install-deps.sh --test

configure:
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache > /dev/null

build: deps configure
	@cmake --build $(BUILD_DIR)

# Installs, builds and starts hydrant on its embedded default
# (127.0.0.1:4573, data in ./hydrant-data).
run: build
	./$(BUILD_DIR)/hydrant serve $(HYDRANT_ARGS)

# Installs, builds and runs the whole suite (unit and integration) with ctest.
test: test-deps configure
	@cmake --build $(BUILD_DIR)
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 $(CTEST_ARGS)

# Unit tests only (no clients or servers needed).
unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L unit $(CTEST_ARGS)

# Benchmarks (bench/README.md): hydrant, moto_server and the machine's limits side
# by side; prints a Markdown report and writes bench/results/latest.md.
# BENCH_ARGS="--quick" for a short run, "--long" adds the 10 GiB recovery run.
bench: test-deps configure
	@cmake --build $(BUILD_DIR)
	@HYDRANT_BENCH_FROM_MAKE=1 /usr/bin/python3 bench/run.py --build-dir $(BUILD_DIR) $(BENCH_ARGS)

# The torture suite (docs/reliability.md): 100 SIGKILLs under load, control-plane
# churn while putting, mixed load with RSS and descriptors sampled, for about
# TORTURE_MINUTES in all. Writes tests/torture/results/latest.md.
torture: test-deps configure
	@cmake --build $(BUILD_DIR)
	@rm -f tests/torture/results/latest.md
	@HYDRANT_TORTURE_MINUTES=$(TORTURE_MINUTES) HYDRANT_BIN=$(abspath $(BUILD_DIR))/hydrant \
	  /usr/bin/python3 -m pytest -q -s -p no:cacheprovider tests/torture

# libFuzzer targets (docs/reliability.md): installs clang-14, builds fuzz/ with
# ASan and UBSan in $(FUZZ_BUILD_DIR) and runs each target for FUZZ_SECONDS (60;
# `make fuzz FUZZ_SECONDS=600` for the ten-minute runs), one after the other.
# FUZZ_TARGETS="prefix sigv4" runs only those. Fails on a crash, naming the reproducer.
fuzz:
	@bash scripts/install-deps.sh --fuzz
	@cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DHYDRANT_FUZZ=ON -DCMAKE_CXX_COMPILER_LAUNCHER=ccache > /dev/null
	@cmake --build $(FUZZ_BUILD_DIR) --target fuzz_all
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_TARGETS)

clean:
	rm -rf $(BUILD_DIR)
