# The two commands a newcomer needs: `make app` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8866

.PHONY: app test lab setup system-deps lint bench clean

# A virtual environment with the project installed (editable) and its test tools.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: system-deps $(BIN)/.installed

system-deps:
	bash scripts/system-deps.sh

# The Voilà app for non-coders, on http://127.0.0.1:$(PORT)/
# The app's kernel runs in notebooks/; the MIDI files go to the project's folder unless
# ORCHESTRATOR_FOLDER says otherwise.
FOLDER ?= $(or $(ORCHESTRATOR_FOLDER),$(CURDIR)/generated_accompaniments)

app: setup
	@echo "AI Band Workbench: open http://127.0.0.1:$(PORT)/ in your browser (Ctrl-C stops it)"
	@echo "MIDI files go to $(FOLDER)"
	ORCHESTRATOR_FOLDER="$(FOLDER)" $(BIN)/voila notebooks/app.ipynb --no-browser \
		--port=$(PORT) --Voila.ip=127.0.0.1

# JupyterLab on the notebooks.
lab: setup
	ORCHESTRATOR_FOLDER="$(FOLDER)" $(BIN)/jupyter lab notebooks/

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# The whole suite: lint, types (mypy on workbench and server, see [tool.mypy]), unit and service
# tests, browser tests, the notebooks through nbval.
test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache generated_accompaniments
