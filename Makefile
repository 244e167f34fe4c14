# Two entry points, each doing its own set-up in a virtual environment (.venv):
#   make demo   build the gallery of every spec in specs/ into build/site/
#   make test   lint, type-check and run the whole test suite
# The tools the suite runs are installed at the exact versions of constraints/tools.txt, so a new
# release of one cannot change a result; runtime dependencies keep setup.cfg's ranges.
#   make test-min   the test suite against the lowest allowed runtime dependencies (.venv-min)
#   make lock       rewrite constraints/tools.txt from the newest releases (then review the diff)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MIN_VENV := .venv-min
TOOLS := constraints/tools.txt
# setup.cfg's install_requires (and what they need): never pinned by the lock
RUNTIME := pyyaml|click|jinja2|numpy|graphviz|graphviz-pure|markupsafe

.PHONY: demo test test-min lint typecheck lock clean

$(VENV)/.created: $(TOOLS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -c $(TOOLS) pip
	touch $@

# The bundled engine is installed too, so no root or system Graphviz is needed;
# a Graphviz 'dot' on PATH is preferred when there is one.
$(VENV)/.demo: $(VENV)/.created setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[bundled]'
	touch $@

$(VENV)/.test: $(VENV)/.created setup.cfg pyproject.toml $(TOOLS)
	$(BIN)/python -m pip install --quiet -c $(TOOLS) -e '.[bundled,test,dev,torch,onnx,zoo]'
	touch $@

demo: $(VENV)/.demo
	$(BIN)/archdraw gallery specs -o build/site
	@echo "The gallery is built: open build/site/index.html in a browser."

lint: $(VENV)/.test
	$(BIN)/ruff check archdraw tests benchmarks
	$(BIN)/ruff format --check archdraw tests benchmarks

typecheck: $(VENV)/.test
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

$(MIN_VENV)/.test: setup.cfg pyproject.toml $(TOOLS) constraints/minimum.txt
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade -c $(TOOLS) pip
	$(MIN_VENV)/bin/python -m pip install --quiet --only-binary numpy,PyYAML \
	    -c $(TOOLS) -c constraints/minimum.txt -e '.[bundled,test]'
	touch $@

test-min: $(MIN_VENV)/.test
	$(MIN_VENV)/bin/python -m pytest -p no:cacheprovider

# A fresh environment with the newest tools; their versions become the new constraints/tools.txt.
lock:
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/python -m pip install --quiet --upgrade pip
	build/lock/bin/python -m pip install --quiet -e '.[bundled,test,dev,torch,onnx,zoo]'
	{ grep '^#' $(TOOLS); \
	  build/lock/bin/python -m pip freeze --exclude-editable | grep -viE '^($(RUNTIME))=='; \
	  build/lock/bin/python -m pip freeze --all | grep '^pip=='; } > $(TOOLS).new
	mv $(TOOLS).new $(TOOLS)

clean:
	rm -rf build $(VENV) $(MIN_VENV) .mypy_cache .pytest_cache .ruff_cache
