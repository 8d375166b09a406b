# seglib: the two set-up commands of the README, and a few more.
#   make run    execute every notebook headless on the default dataset (runs/latest/)
#   make test   the whole test suite (unit tests, nbval on the notebooks, papermill runs)
#   make test-fast  the tests not marked slow: no notebook, kernel or server (under 2 minutes)
#   make assignments  nbgrader assignments from the notebooks: course/release/ (student versions)
#   make site   the course website from the committed notebooks: site/student/ and site/instructor/ (offline)
# Both create (or reuse) the virtual environment .venv and install what they need.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.seglib-installed

.PHONY: run test test-fast lint bench lab install clean assignments site

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[notebooks,test,docs]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) tools/run_notebooks.py $(ARGS)

test: $(STAMP) lint
	$(PY) -m pytest $(ARGS)

# tests/ only (not notebooks/), without the tests marked slow: the edit-test loop
test-fast: $(STAMP) lint
	$(PY) -m pytest tests -m "not slow" $(ARGS)

# ruff: pyflakes, pycodestyle and import order on the whole tree, notebooks included (pyproject.toml)
lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/bench_skeleton.py $(ARGS)
	$(PY) benchmarks/bench_data_cache.py
	$(PY) benchmarks/bench_widgets.py
	$(PY) benchmarks/bench_metrics.py
	$(PY) benchmarks/bench_pinned_kernels.py

# nbgrader course folder course/ (git-ignored): source/ with solutions, release/ without (README: Teaching)
assignments: $(STAMP)
	$(PY) tools/make_assignments.py $(ARGS)

# The website (README: The course as a website): nothing is executed or downloaded; ARGS="--edition student"
site: $(STAMP)
	$(PY) tools/build_site.py $(ARGS)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

clean:
	rm -rf runs site .pytest_cache
