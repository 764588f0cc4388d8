# openpose-tf. The two commands of the README:
#   make demo   set everything up (apt packages, .venv, build, install) and run the main job
#   make test   set everything up and run every C++ and Python test (what CI runs)
# Both are idempotent: what is already there is not installed or rebuilt again.

SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python3
# .bazelversion pins Bazel 4.2.3. Debian's `bazel` wrapper reads it and looks for `bazel-4.2.3`
# beside itself, but bazel-bootstrap installs the binary as `bazel-4`: call the binary directly.
# (Evaluated when used, i.e. after `apt` has installed it.) Override with BAZEL=... .
BAZEL = $(shell command -v bazel-4.2.3 || command -v bazel-4 || echo bazel)
# Bazel's TensorFlow repository rule (third_party/tensorflow) uses this Python.
export PYTHON_BIN_PATH := $(PY)
export TF_CPP_MIN_LOG_LEVEL ?= 2
APT_PACKAGES := bazel-bootstrap googletest libgtest-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LIB := bazel-bin/_openpose_ops.so

.PHONY: demo test setup apt venv build install test-cc test-asan test-python bench bench-net wheel gpu-test build-cuda clean

demo: install
	$(PY) -m openpose_tf demo --output demo_output

test: build test-cc test-asan test-python

setup: apt venv

# Debian packages: Bazel 4.2.3 (bazel-bootstrap) and googletest, installed only when missing.
apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing apt packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
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
	$(PY) -m pytest -q -rs tests/python

bench: install
	$(PY) tools/bench_ops.py

bench-net: install
	$(PY) tools/bench_net.py

# The op library with its CUDA kernels (needs nvcc; runs on CPU too).
build-cuda: setup
	$(BAZEL) build --config=cuda //:_openpose_ops.so

# Standalone GPU tests of the framework-free CUDA launchers against the CPU core: nvcc only (no
# TensorFlow, no Bazel), for a machine with a GPU. Each binary ends with "N passed, N failed".
NVCC ?= nvcc
GPU_TESTS := $(patsubst tests/gpu/%.cc,build/gpu/%,$(wildcard tests/gpu/*_test.cc))
# The same flags as the Bazel build (third_party/cuda/nvcc_flags: --fmad=false, -gencode list).
NVCC_FLAGS := $(shell grep -v '^\#' third_party/cuda/nvcc_flags) -I.
build/gpu/%: tests/gpu/%.cc $(wildcard kernels/*.cu.cc kernels/*_gpu.h kernels/core/*) tests/gpu/gpu_check.h
	@mkdir -p build/gpu/obj
	@set -e; objs=""; \
	for src in $< $(wildcard kernels/*.cu.cc); do \
	  obj=build/gpu/obj/$$(echo $$src | tr / _).o; $(NVCC) $(NVCC_FLAGS) -x cu -c $$src -o $$obj; \
	  objs="$$objs $$obj"; done; \
	for src in $(wildcard kernels/core/*.cc); do \
	  obj=build/gpu/obj/$$(echo $$src | tr / _).o; \
	  $(NVCC) $(filter-out -gencode%,$(NVCC_FLAGS)) -x c++ -c $$src -o $$obj; \
	  objs="$$objs $$obj"; done; \
	$(NVCC) $(filter -gencode%,$(NVCC_FLAGS)) $$objs -o $@; echo "built $@"

gpu-test: $(GPU_TESTS)
	@status=0; for t in $(GPU_TESTS); do echo "== $$t"; $$t || status=1; done; exit $$status

# A wheel that carries the compiled library: dist/openpose_tf-*.whl
wheel: build
	cp -f $(LIB) python/openpose_tf/
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w dist . ; \
	  status=$$?; rm -f python/openpose_tf/_openpose_ops.so; exit $$status

clean:
	$(BAZEL) clean
	rm -rf dist build python/*.egg-info $(VENV)/.package
