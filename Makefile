# The two commands: `make demo` (solve the catalog, write results and reports) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= reports/site
# pytest-xdist processes for make test / make fast; each test file runs whole on one of them (--dist loadfile)
WORKERS ?= 2

# first interpreter on PATH that is Python >= 3.12 (.python-version makes pyenv's python3.12 resolve)
PYTHON_BOOT := $(shell for p in python3.12 python3.13 python3.14 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 \
	&& { echo $$p; break; }; done)

.PHONY: demo test fast lint typecheck clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON_BOOT)" || { echo "modemean needs Python >= 3.12 and none was found on PATH: install it (e.g. 'pyenv install 3.12') and retry" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	@# uv resolves and installs in seconds where pip takes ~50 s (the same versions: checked by pip freeze);
	@# pip does it alone where uv cannot be installed or cannot reach an index (uv does not read pip.conf).
	@# --compile-bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set no .pyc is ever written, and
	@# without them every process importing PyMC and ArviZ spends 7.5 s instead of 2.5 s (make test: +16% CPU)
	$(PY) -m pip install --quiet --disable-pip-version-check uv && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[test]' \
		|| $(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

# the times: benchmarks/demo_time.py (its README row)
demo: $(STAMP)
	@echo "make demo: the 19 catalog models with find_MAP, EM and NUTS (about 6 min the first time on 2 free cores, 10-30 s when nothing changed); each model's page and $(OUT)/index.html appear as it finishes"
	@MPLBACKEND=Agg $(VENV)/bin/modemean run all --out $(OUT)
	@MPLBACKEND=Agg $(VENV)/bin/modemean teach --out $(OUT)
	@MPLBACKEND=Agg $(VENV)/bin/modemean report --out $(OUT)
	@echo "open $(abspath $(OUT))/index.html"

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -n $(WORKERS) --dist loadfile --durations=15

fast: $(STAMP)   # the tests not marked slow (no sampler, no whole catalog model, no batch of worker processes)
	MPLBACKEND=Agg $(PY) -m pytest -n $(WORKERS) --dist loadfile -m "not slow" --durations=10

lint: $(STAMP)   # ruff lint + format check (pre-commit runs the same on each commit)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)   # mypy on the engine
	$(PY) -m mypy comparisons

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
