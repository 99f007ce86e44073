# The two commands of README.md:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint install clean bundle

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/segview $(ARGS)

test: $(STAMP)
	$(BIN)/python -m ruff check segview tests bench
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

# The frozen one-folder app in dist/segview/ (packaging/README.md), then its smoke test. Not part of `make test`.
$(VENV)/.bundle-tools: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bundle]"
	touch $@

bundle: $(VENV)/.bundle-tools
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/segview.spec
	packaging/smoke.sh dist/segview

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
