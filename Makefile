# Two entry points, both self-contained on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test browser clean constraints

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vnet-audit scan --demo -o demo-report
	@echo "open demo-report/report.html"

browser:
	@scripts/ensure-chromium

test: $(STAMP) browser
	$(BIN)/python -m pytest -n auto

# The Docker image's pins: the runtime dependencies as installed in the venv.
constraints: $(STAMP)
	$(BIN)/python scripts/runtime-constraints.py > constraints.txt

clean:
	rm -rf $(VENV) demo-report .pytest_cache
