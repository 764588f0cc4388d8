# openpose-tf. The two commands of the README:
#   make demo   set everything up (apt packages, .venv, build, install) and run the main job
#   make test   set everything up and run every C++ and Python test (what CI runs)
# Both are idempotent: what is already there is not installed or rebuilt again.

SHELL := /bin/bash
VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python3
BAZEL := bazel
# Bazel's TensorFlow repository rule (third_party/tensorflow) uses this Python.
export PYTHON_BIN_PATH := $(PY)
export TF_CPP_MIN_LOG_LEVEL ?= 2
APT_PACKAGES := bazel-bootstrap googletest libgtest-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LIB := bazel-bin/_openpose_ops.so

.PHONY: demo test setup apt venv build install test-cc test-asan test-python bench bench-net wheel clean

demo: install
	$(PY) -m openpose_tf.demo

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

build: setup
	$(BAZEL) build //...

# Editable install of python/openpose_tf into the venv; the library is found in bazel-bin/.
install: build $(VENV)/.package
$(VENV)/.package: pyproject.toml $(VENV)/.installed
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

# A wheel that carries the compiled library: dist/openpose_tf-*.whl
wheel: build
	cp -f $(LIB) python/openpose_tf/
	$(PY) -m pip wheel -q --no-deps --no-build-isolation -w dist . ; \
	  status=$$?; rm -f python/openpose_tf/_openpose_ops.so; exit $$status

clean:
	$(BAZEL) clean
	rm -rf dist build python/*.egg-info $(VENV)/.package
