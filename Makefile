# openpose-tf. The two commands of the README:
#   make demo   set everything up (apt packages, .venv, build, install) and run the main job
#   make test   set everything up and run every C++ and Python test (what CI runs)
# Both are idempotent: what is already there is not installed or rebuilt again.

SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python3
# .bazelversion pins Bazel 4.2.3. Debian's `bazel` wrapper reads it and looks for `bazel-4.2.3`
# beside itself, but bazel-bootstrap installs the binary as `bazel-4`: `make setup` links the
# one name to the other (bazel-link), so plain `bazel` works as typed; here the binary is called
# directly. (Evaluated when used, i.e. after `apt` has installed it.) Override with BAZEL=... .
BAZEL = $(shell command -v bazel-4.2.3 || command -v bazel-4 || echo bazel)
# Bazel's TensorFlow repository rule (third_party/tensorflow) uses this Python.
export PYTHON_BIN_PATH := $(PY)
export TF_CPP_MIN_LOG_LEVEL ?= 2
# chromium + chromium-driver: the browser test of `openpose-tf serve`'s page (Selenium, headless).
APT_PACKAGES := bazel-bootstrap googletest libgtest-dev chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LIB := bazel-bin/_openpose_ops.so

.PHONY: demo test lint setup apt bazel-link venv build install test-cc test-asan test-cuda-check test-python bench bench-net bench-postprocess bench-vs-openpose bench-ab bench-run bench-serve wheel gpu-build gpu-test gpu-build-check build-cuda clean

demo: install
	$(PY) -m openpose_tf demo --output demo_output

test: build lint test-cc test-asan test-cuda-check test-python

# Python style and errors (ruff's pycodestyle and pyflakes rules; pyproject.toml [tool.ruff]).
lint: venv
	$(VENV)/bin/ruff check .

# What CI can check of the CUDA code without a GPU, where nvcc is on the PATH: the op library
# with its CUDA kernels for one architecture builds (test-python then loads it in tensorflow-cpu)
# and the standalone GPU tests compile and link. The kernels for every architecture: build-cuda.
NVCC_FOUND = $(shell command -v $(NVCC) 2>/dev/null)
test-cuda-check: setup
	@if [ -z "$(NVCC_FOUND)" ]; then \
	  echo "make test: nvcc is not on the PATH: the CUDA stage (compile the CUDA kernels, load them) is skipped"; \
	else \
	  $(BAZEL) build --config=cuda_check //:_openpose_ops.so && \
	  $(MAKE) --no-print-directory gpu-build-check; \
	fi
# test-python tests the CUDA library when `make test` built it.
test: CUDA_LIBRARY_UNDER_TEST = $(if $(NVCC_FOUND),$(shell $(BAZEL) info --config=cuda_check bazel-bin 2>/dev/null)/_openpose_ops.so)

setup: apt bazel-link venv

# Debian packages: Bazel 4.2.3 (bazel-bootstrap) and googletest, installed only when missing.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing apt packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

# Debian's `bazel` wrapper reads .bazelversion (4.2.3) and runs `bazel-4.2.3` beside itself, but
# bazel-bootstrap installs that binary as `bazel-4`: one link (the same binary) makes
# `bazel build //:_openpose_ops.so` work as typed. Nothing is done where the name exists.
bazel-link:
	@dir=$$(dirname "$$(command -v bazel-4 2>/dev/null || echo /nonexistent/bazel-4)"); \
	if [ -x "$$dir/bazel-4" ] && [ ! -e "$$dir/bazel-4.2.3" ]; then \
	  echo "Linking $$dir/bazel-4.2.3 -> bazel-4 (Debian's bazel wrapper looks for that name)"; \
	  $(SUDO) ln -s bazel-4 "$$dir/bazel-4.2.3"; \
	fi

# The venv with the pinned Python packages; redone when requirements.txt changes.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	@[ -x $(PY) ] || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

# The op library only (the C++ tests are built by test-cc; the wheel needs none of them).
build: setup
	$(BAZEL) build //:_openpose_ops.so

# Editable install of python/openpose_tf into the venv; the library is found in bazel-bin/.
install: build $(VENV)/.package
$(VENV)/.package: pyproject.toml setup.py $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

test-cc: setup
	$(BAZEL) test //tests/cc/...

# The C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: setup
	$(BAZEL) test --config=asan //tests/cc/...

test-python: install
	OPENPOSE_TF_CUDA_LIBRARY=$(if $(CUDA_LIBRARY_UNDER_TEST),$(CUDA_LIBRARY_UNDER_TEST)) \
	  $(PY) -m pytest -q -rs --durations=15 tests/python

bench: install
	$(PY) benchmarks/bench_ops.py

bench-net: install
	$(PY) benchmarks/bench_net.py

# `run`'s frames/s on a folder of mixed sizes and a video against the pipeline's time per frame.
bench-run: install
	$(PY) benchmarks/bench_run.py

bench-serve: install
	$(PY) benchmarks/bench_serve.py

# Net output -> people: postprocess vs the plain-TensorFlow way, 1 and 2 threads, peak memory.
bench-postprocess: install
	$(PY) benchmarks/bench_postprocess.py

# Against OpenPose's own CPU functions, compiled from a checkout of its source:
#   make bench-vs-openpose OPENPOSE=path/to/openpose   (needs libopencv-dev)
bench-vs-openpose: install
	$(if $(OPENPOSE),,$(error OPENPOSE=path/to/an/openpose/checkout is needed))
	$(PY) benchmarks/bench_vs_openpose.py --openpose "$(OPENPOSE)"

# The sparse post-processing's C++ core of two versions, call by call in one process:
#   make bench-ab BASE=main   (a git ref; NEW=worktree by default)
bench-ab: venv
	$(if $(BASE),,$(error BASE=a git ref to compare against is needed))
	$(PY) benchmarks/ab_sparse.py --base "$(BASE)" --new "$(or $(NEW),worktree)"

# Everything with the CUDA kernels (needs nvcc, not a GPU): the op library (it runs on CPU too)
# and the C++ tests; the library lands in $(bazel info --config=cuda bazel-bin).
build-cuda: setup
	$(BAZEL) build --config=cuda //...

# Standalone GPU tests of the framework-free CUDA launchers against the CPU core, and the
# kernels' micro-benchmark: nvcc only (no TensorFlow, no Bazel), for a machine with a GPU.
# `make gpu-test` builds and runs them all and writes, under $(GPU_TEST_OUT): summary.txt (PASS or
# FAIL per binary, also under compute-sanitizer when it is installed), each binary's log, and
# bench.md (the benchmark table). Each test ends with "N passed, N failed".
NVCC ?= nvcc
GPU_TEST_OUT ?= build/gpu/results
# The same flags as the Bazel build (third_party/cuda/nvcc_flags: --fmad=false, -gencode list).
NVCC_FLAGS := $(shell grep -v '^\#' third_party/cuda/nvcc_flags) -I.
# `make gpu-build-check` (CI, no GPU): the same sources for one architecture, in its own folder.
GPU_BUILD := build/gpu
GPU_GENCODE = $(filter -gencode%,$(NVCC_FLAGS))
GPU_SRCS := $(wildcard kernels/*.cu.cc) $(wildcard kernels/core/*.cc)
GPU_HDRS := $(wildcard kernels/*_gpu.h kernels/core/*.h tests/gpu/*.h)
GPU_MAINS := $(patsubst tests/gpu/%.cc,%,$(wildcard tests/gpu/*.cc))
GPU_TESTS := $(filter %_test,$(GPU_MAINS))
gpu_objs = $(patsubst %.cc,$(GPU_BUILD)/obj/%.o,$(subst /,_,$(GPU_SRCS)))

# One object per source: .cu.cc (and the tests' mains) as CUDA, kernels/core as host C++.
$(GPU_BUILD)/obj/kernels_%.cu.o: kernels/%.cu.cc $(GPU_HDRS)
	@mkdir -p $(@D)
	$(NVCC) $(filter-out -gencode%,$(NVCC_FLAGS)) $(GPU_GENCODE) -x cu -c $< -o $@
$(GPU_BUILD)/obj/kernels_core_%.o: kernels/core/%.cc $(GPU_HDRS)
	@mkdir -p $(@D)
	$(NVCC) $(filter-out -gencode%,$(NVCC_FLAGS)) -x c++ -c $< -o $@
$(GPU_BUILD)/obj/tests_gpu_%.o: tests/gpu/%.cc $(GPU_HDRS)
	@mkdir -p $(@D)
	$(NVCC) $(filter-out -gencode%,$(NVCC_FLAGS)) $(GPU_GENCODE) -x cu -c $< -o $@
$(GPU_BUILD)/%: $(GPU_BUILD)/obj/tests_gpu_%.o $(gpu_objs)
	$(NVCC) $(GPU_GENCODE) $^ -o $@

# Keep the objects (make deletes chained intermediates): rebuilding is only what changed.
.PRECIOUS: build/gpu/obj/%.o build/gpu-check/obj/%.o

gpu-build: $(addprefix $(GPU_BUILD)/,$(GPU_MAINS))

gpu-test: gpu-build
	@mkdir -p $(GPU_TEST_OUT); out=$(GPU_TEST_OUT); : > $$out/summary.txt; status=0; \
	sanitizer=$$(command -v compute-sanitizer || ls $${CUDA_PATH:-/usr/local/cuda}/bin/compute-sanitizer \
	  /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -n1); \
	for t in $(GPU_TESTS); do \
	  if $(GPU_BUILD)/$$t > $$out/$$t.log 2>&1; then r=PASS; else r=FAIL; status=1; fi; \
	  echo "$$r $$t: $$(tail -n1 $$out/$$t.log)" | tee -a $$out/summary.txt; \
	  if [ -n "$$sanitizer" ]; then \
	    if $$sanitizer --error-exitcode=1 $(GPU_BUILD)/$$t --quick > $$out/$$t.sanitizer.log 2>&1; \
	    then r=PASS; else r=FAIL; status=1; fi; \
	    echo "$$r $$t under compute-sanitizer --quick: $$(tail -n1 $$out/$$t.sanitizer.log)" \
	      | tee -a $$out/summary.txt; \
	  else echo "compute-sanitizer not found: $$t not run under it" | tee -a $$out/summary.txt; fi; \
	done; \
	if $(GPU_BUILD)/postprocess_gpu_bench > $$out/bench.md 2>&1; then cat $$out/bench.md; \
	else status=1; echo "FAIL postprocess_gpu_bench" | tee -a $$out/summary.txt; cat $$out/bench.md; fi; \
	echo "results in $$out"; exit $$status

# CI (no GPU): every CUDA source and GPU test compiles and links, for one architecture only.
gpu-build-check:
	$(MAKE) --no-print-directory gpu-build GPU_BUILD=build/gpu-check \
	  GPU_GENCODE=-gencode=arch=compute_90,code=sm_90

# A wheel that carries the compiled library: dist/openpose_tf-*.whl
wheel: build
	cp -f $(LIB) python/openpose_tf/
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w dist . ; \
	  status=$$?; rm -f python/openpose_tf/_openpose_ops.so; exit $$status

clean:
	$(BAZEL) clean
	rm -rf dist build python/*.egg-info $(VENV)/.package
