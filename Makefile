# The two entry points of the README. Each first installs the CPU build of torch 2.13.0
# (so that no CUDA wheels are pulled), then gsvc itself.
PY ?= python3

.PHONY: install demo test test-all bench

install:
	$(PY) -m pip install torch==2.13.0
	$(PY) -m pip install -e ".[test]"

demo: install
	gsvc demo

test: install
	$(PY) -m pytest

test-all: install
	$(PY) -m pytest -m ""
