# graphopt: `make demo` and `make test` do all set-up on a fresh machine.
#
#   deps     Debian packages (MLIR 22, LLVM tools, gtest, ccache, ninja, g++)
#   venv     .venv with torch==2.13.0 (CPU wheel) and the Python tools
#   build    graphopt-opt, unit tests, lit suite (build/dev) + the package (build/wheel)
#   test     ctest (gtest + lit) and pytest
#   demo     trains and runs an MLP block compiled with graphopt
#   docs     regenerates docs/ops.md and docs/passes.md

SHELL      := /bin/bash
PYTHON     ?= python3
VENV       := $(CURDIR)/.venv
PY         := $(VENV)/bin/python
BUILD      := $(CURDIR)/build/dev
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS   := libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools libgtest-dev ccache \
              ninja-build cmake g++ python3-venv chromium
PY_PKGS    := torch==2.13.0 numpy pytest pybind11 scikit-build-core lit expecttest transformers

export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_DIR     ?= $(HOME)/.cache/ccache
export GRAPHOPT_OPT   := $(BUILD)/csrc/tools/graphopt-opt

CXX_SOURCES := $(shell find csrc passes -name '*.cpp' -o -name '*.h' -o -name '*.td' -o -name CMakeLists.txt) \
               CMakeLists.txt cmake/GraphOptMLIR.cmake pyproject.toml

.PHONY: all deps venv build test demo lit ctest pytest docs sanitize fuzz bench clean

all: build

deps: build/.deps
build/.deps:
	@mkdir -p build
	@if dpkg -s $(APT_PKGS) >/dev/null 2>&1; then echo "system packages present"; else \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PKGS); fi
	@touch $@

venv: $(VENV)/.ready
$(VENV)/.ready: build/.deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	# torch first and pinned: the CPU wheel on disk, never a CUDA build.
	$(PY) -m pip install -q $(PY_PKGS) 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	# nvcc for the CUDA compile checks: the system's, else NVIDIA's PyPI wheels (~125 MB).
	@if command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ]; then echo "nvcc present"; else \
	  $(PY) -m pip install -q nvidia-cuda-nvcc nvidia-cuda-crt nvidia-nvvm nvidia-cuda-runtime; fi
	@touch $@

build: $(BUILD)/.built build/.installed

$(BUILD)/.built: $(VENV)/.ready $(CXX_SOURCES) $(wildcard tests/cpp/*.cpp) tests/CMakeLists.txt
	cmake -G Ninja -S . -B $(BUILD) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
	  -DPython_EXECUTABLE=$(PY) -Dpybind11_DIR=$$($(PY) -c 'import pybind11; print(pybind11.get_cmake_dir())') \
	  -DGRAPHOPT_BUILD_PYTHON=OFF >/dev/null
	ninja -C $(BUILD)
	@touch $@

# The Python package, editable: python/graphopt in place, _C built in build/wheel.
build/.installed: $(VENV)/.ready $(CXX_SOURCES)
	$(PY) -m pip install -q --no-build-isolation -e . \
	  -Ccmake.args=-DCMAKE_CXX_COMPILER_LAUNCHER=ccache 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) -c "import graphopt._C"
	@touch $@

ctest: $(BUILD)/.built
	cd $(BUILD) && ctest --output-on-failure

lit: $(BUILD)/.built
	/usr/lib/llvm-22/bin/lit -sv $(BUILD)/tests/lit

pytest: build
	$(PY) -m pytest -q tests/python

test: build ctest pytest

demo: build
	$(PY) examples/mlp_demo.py

# ASan + UBSan build of the C++ (tools, unit tests, lit); any report fails it.
SAN_BUILD := $(CURDIR)/build/sanitize
sanitize: $(VENV)/.ready
	cmake -G Ninja -S . -B $(SAN_BUILD) -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGRAPHOPT_SANITIZE=ON -DGRAPHOPT_BUILD_PYTHON=OFF >/dev/null
	ninja -C $(SAN_BUILD)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure

# libFuzzer on the C++ entry point (graphopt._C.compile / graphopt-opt's
# pipeline), seeded with every lit test and the adversarial seeds.
FUZZ_BUILD   := $(CURDIR)/build/fuzz
FUZZ_SECONDS ?= 600
fuzz: build/.deps
	@command -v clang++-22 >/dev/null || $(SUDO) apt-get install -y -qq clang-22 libclang-rt-22-dev
	cmake -G Ninja -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++-22 \
	  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DGRAPHOPT_FUZZ=ON -DGRAPHOPT_BUILD_PYTHON=OFF >/dev/null
	ninja -C $(FUZZ_BUILD) graphopt-compile-fuzzer
	mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/artifacts
	cp tests/fuzz/seeds/*.mlir $(FUZZ_BUILD)/corpus/
	for f in $$(find tests/lit -name '*.mlir'); do cp $$f $(FUZZ_BUILD)/corpus/lit-$$(basename $$f); done
	ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BUILD)/tests/graphopt-compile-fuzzer $(FUZZ_BUILD)/corpus \
	  -dict=tests/fuzz/graphopt.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/ -print_final_stats=1
	ninja -C $(FUZZ_BUILD) graphopt-opt
	tests/fuzz/replay_opt.sh $(FUZZ_BUILD)/csrc/tools/graphopt-opt $(FUZZ_BUILD)/corpus

# The benchmark suite against eager, Inductor and ONNX Runtime (docs/benchmarks.md).
BENCH_ARGS ?=
bench: build
	$(PY) -m pip install -q onnxruntime onnxscript 2>&1 | grep -v '^WARNING: Location' || true
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# Pages generated from the code.
docs: build
	$(PY) -m graphopt.ops_doc > docs/ops.md
	$(PY) passes/passes_doc.py > docs/passes.md

clean:
	rm -rf build
