# The two commands a newcomer needs: `make app` and `make test` (see README.md).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8866

.PHONY: app test lab setup system-deps lint bench clean juce

# A virtual environment with the project installed (editable) and its test tools.
$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: system-deps $(BIN)/.installed

system-deps:
	bash scripts/system-deps.sh

# The Voilà app for non-coders, on http://127.0.0.1:$(PORT)/ (settings: voila.json).
# workbench.ui.voila_app is Voilà plus: a closed page frees its kernel, idle kernels are culled,
# a pool of pre-started kernels, a cap on visitors, and one sync service (its own process on
# ORCHESTRATOR_PORT, default 8000) that every visitor's kernel attaches to.
# The app's kernels run in notebooks/; the MIDI files go to the project's folder unless
# ORCHESTRATOR_FOLDER says otherwise.
FOLDER ?= $(or $(ORCHESTRATOR_FOLDER),$(CURDIR)/generated_accompaniments)
# JupyterLab refuses to run as root without --allow-root (CI and containers run as root)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

app: setup
	@echo "AI Band Workbench: open http://127.0.0.1:$(PORT)/ in your browser (Ctrl-C stops it)"
	@echo "MIDI files go to $(FOLDER)"
	ORCHESTRATOR_FOLDER="$(FOLDER)" $(BIN)/python -m workbench.ui.voila_app notebooks/app.ipynb \
		--port=$(PORT)

# JupyterLab on the notebooks.
lab: setup
	ORCHESTRATOR_FOLDER="$(FOLDER)" $(BIN)/jupyter lab notebooks/ $(ALLOW_ROOT)

lint: $(BIN)/.installed
	$(BIN)/ruff check .

# The JUCE sync module's probe and C++ tests (juce/build/, incremental; see juce/Makefile).
juce:
	$(MAKE) -C juce all

# The whole suite: lint, types (mypy on workbench and server, see [tool.mypy]), the C++ tests,
# unit and service tests, browser tests, the notebooks through nbval (tests/juce/ runs
# juce/build/aiband_probe against the real service).
test: setup juce
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(MAKE) -C juce test
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build juce/build *.egg-info .pytest_cache generated_accompaniments
