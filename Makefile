# seglib: the two set-up commands of the README, and a few more.
#   make run    execute every notebook headless on the default dataset (runs/latest/)
#   make test   the whole test suite (unit tests, nbval on the notebooks, papermill runs)
# Both create (or reuse) the virtual environment .venv and install what they need.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.seglib-installed

.PHONY: run test bench lab install clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[notebooks,test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) tools/run_notebooks.py $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_skeleton.py $(ARGS)
	$(PY) benchmarks/bench_data_cache.py
	$(PY) benchmarks/bench_widgets.py

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf runs .pytest_cache
