# The two set-up commands of the README: `make demo` and `make test`.
# Both bootstrap .venv from nothing but python3.11, gcc and make.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.robocoord-installed
export ROS_AUTOMATIC_DISCOVERY_RANGE ?= LOCALHOST

.PHONY: all demo test test-fast lint typecheck firmware-test bootstrap clean

all: test

$(STAMP): pyproject.toml setup.py
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	# The CPU-only torch wheel first, so nothing later resolves the multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[train,robot,ros,dev]'
	touch $(STAMP)

bootstrap: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/robocoord demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy robocoord controllers firmware_bridge

firmware-test:
	$(MAKE) -C firmware_bridge/firmware test

# Every test, slow ones included: CI runs exactly this.
test: $(STAMP) lint typecheck firmware-test
	PYTHON=$(PY) scripts/run-pytest -q -p no:cacheprovider --durations=25

# Local inner loop: skip the slow marker.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info firmware_bridge/firmware/build
