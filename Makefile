# Two entry points, each doing its own set-up in a virtual environment (.venv):
#   make demo   build the gallery of every spec in specs/ into build/site/
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

# The bundled engine is installed too, so no root or system Graphviz is needed;
# a Graphviz 'dot' on PATH is preferred when there is one.
$(VENV)/.demo: $(VENV)/.created setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bundled]'
	touch $@

$(VENV)/.test: $(VENV)/.created setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bundled,test,dev]'
	touch $@

demo: $(VENV)/.demo
	$(BIN)/archdraw gallery specs -o build/site
	@echo "The gallery is built: open build/site/index.html in a browser."

lint: $(VENV)/.test
	$(BIN)/ruff check archdraw tests
	$(BIN)/ruff format --check archdraw tests

typecheck: $(VENV)/.test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

clean:
	rm -rf build $(VENV) .mypy_cache .pytest_cache .ruff_cache
