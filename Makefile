# `make lab`: set up and open the course.  `make test`: set up and run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test bench lint clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Opens on the start notebook of the student versions; JupyterLab refuses to run as root without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. --ServerApp.default_url=/lab/tree/notebooks/00_start_here.ipynb \
		$(if $(filter 0,$(shell id -u)),--allow-root,) $(LAB_ARGS)

# Unit tests and every notebook (nbval) on 2 workers, each notebook's cells kept on one worker;
# then the browser suite on its own (it runs one JupyterLab server; skipped without Chromium).
test: $(STAMP)
	$(BIN)/ruff check gdcourse tests bench
	$(BIN)/python -m pytest -q -n 2 --dist loadscope --ignore=tests/browser
	$(BIN)/python -m pytest -q tests/browser

bench: $(STAMP)
	$(BIN)/python -m gdcourse.cli bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
