# lits-engine: `make demo` and `make test` set up, configure, build and run.
#   make demo            set-up + build of the `lits` command only + `lits demo`
#   make test            set-up + build + the whole test suite (ctest)
#   make check           the cheap checks CI runs before building: formatting, include layering,
#                        size budget, citations that stay inside the repository (tools/check/)
#   make test-variants   the suite again with LITS_CUDA=OFF and with LITS_ONEDNN=OFF LITS_BLAS=OFF,
#                        then test-sanitizers, test-emu-sanitizers and a 60 s fuzz run of each target
#   make test-sanitizers the whole suite built with ASan+UBSan (LITS_SANITIZE, build-asan/): any report
#                        fails its test
#   make fuzz            the libFuzzer targets (clang, build-fuzz/), FUZZ_SECONDS (default 300) each,
#                        then a table of executions and crashes (tools/fuzz.sh, docs/robustness.md)
#   make test-emu        the whole suite again with the CUDA backend on the emulated device
#                        (LITS_CUDA_EMU=ON, build-emu/): every CUDA test runs, none skips
#   make test-emu-sanitizers  the emulated CUDA kernels (ctest -L cuda-emu) under ASan+UBSan
#                        (fibers) and under TSan (threads), building only what they need
#   make build           set-up + build only
#   make install         set-up + build of the `lits` command + `cmake --install $(BUILD) --prefix $(PREFIX)`:
#                        PREFIX/bin/lits, PREFIX/share/lits/presets/, PREFIX/share/doc/lits/ (README.md,
#                        LICENSE, docs/); PREFIX defaults to /usr/local, DESTDIR=dir stages it. The tree may
#                        be moved: `lits` finds its presets relative to itself
# Variables: BUILD (build folder), JOBS (parallel jobs), CMAKE_FLAGS (extra -D options), PREFIX.
# CI=true turns warnings into errors.

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
FUZZ_SECONDS ?= 300
PREFIX ?= /usr/local
WERROR := $(if $(filter true,$(CI)),ON,OFF)

.PHONY: all setup configure build install test demo check test-variants test-emu test-emu-sanitizers test-sanitizers \
        fuzz clean

all: build

setup:
	@bash tools/setup.sh

configure: setup
	cmake -S . -B $(BUILD) -G Ninja -DLITS_WERROR=$(WERROR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure

# Only the command is installed (with the presets and the docs), so only it is built.
install: configure
	cmake --build $(BUILD) -j $(JOBS) --target lits
	cmake --install $(BUILD) --prefix $(PREFIX)

# The demo needs only the command, not the test suite.
demo: configure
	cmake --build $(BUILD) -j $(JOBS) --target lits
	$(BUILD)/tools/lits demo

check:
	@bash tools/setup.sh --check
	bash tools/check/format.sh
	python3 tools/check/layering.py
	python3 tools/check/sizes.py
	python3 tools/check/references.py

test-variants: setup
	$(MAKE) test BUILD=build-cpu-only CMAKE_FLAGS="-DLITS_CUDA=OFF"
	$(MAKE) test BUILD=build-own-kernels CMAKE_FLAGS="-DLITS_ONEDNN=OFF -DLITS_BLAS=OFF"
	$(MAKE) test-sanitizers
	$(MAKE) test-emu-sanitizers
	$(MAKE) fuzz FUZZ_SECONDS=60

# Leaks inside OpenMPI's own start-up and shut-down are not the project's: tests/sanitizers/lsan.supp,
# and MPI ranks run without the leak check (tests/sanitizers/mpiexec says why).
test-sanitizers: setup
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp $(MAKE) test BUILD=build-asan \
	  CMAKE_FLAGS="-DLITS_CUDA=OFF -DLITS_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMPIEXEC_EXECUTABLE=$(CURDIR)/tests/sanitizers/mpiexec"

# Only what the fuzzers read is built: no tests, no CUDA, MPI, oneDNN or BLAS.
fuzz:
	@bash tools/setup.sh --fuzz
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DLITS_FUZZ=ON -DLITS_BUILD_TESTS=OFF \
	  -DLITS_CUDA=OFF -DLITS_MPI=OFF -DLITS_ONEDNN=OFF -DLITS_BLAS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DLITS_WERROR=$(WERROR)
	cmake --build build-fuzz -j $(JOBS) --target lits_fuzz
	bash tools/fuzz.sh build-fuzz $(FUZZ_SECONDS)

# CI runs this after `make test` (docs/cuda-emulation.md): no nvcc, no GPU, the CUDA backend served by cuda_emu/.
test-emu: setup
	$(MAKE) test BUILD=build-emu CMAKE_FLAGS="-DLITS_CUDA_EMU=ON $(CMAKE_FLAGS)"

# No nvcc in these builds: the kernels run on the emulated device, the CPU twins beside them.
EMU_TARGETS := --target lits_cuda_emu_tests lits_cuda_emu_selftest
EMU_FLAGS := -G Ninja -DLITS_CUDA=OFF -DLITS_MPI=OFF -DLITS_WERROR=$(WERROR) -DCMAKE_BUILD_TYPE=RelWithDebInfo
test-emu-sanitizers: setup
	cmake -S . -B build-emu-asan $(EMU_FLAGS) \
	  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
	cmake --build build-emu-asan -j $(JOBS) $(EMU_TARGETS)
	ctest --test-dir build-emu-asan -L cuda-emu -j $(JOBS) --output-on-failure
	cmake -S . -B build-emu-tsan $(EMU_FLAGS) "-DCMAKE_CXX_FLAGS=-fsanitize=thread -fno-omit-frame-pointer"
	cmake --build build-emu-tsan -j $(JOBS) $(EMU_TARGETS)
	ctest --test-dir build-emu-tsan -L cuda-emu -j $(JOBS) --output-on-failure

clean:
	rm -rf build build-cpu-only build-own-kernels build-gpu build-emu build-emu-asan build-emu-tsan build-asan \
	  build-fuzz
