# `make lab`: set up and open the course.  `make test`: set up and run every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# One .venv, two stamps: the course (requirements.txt, the package) and, on top, tests and
# tooling (requirements-dev.txt). `make lab` needs the first, `make test` both, in any order.
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The learner's and the instructor's JupyterLab settings (see gdcourse/jupyter_config/README.md),
# first on Jupyter's configuration path for this server only.
config_path = JUPYTER_CONFIG_PATH="$(CURDIR)/gdcourse/jupyter_config/$(1)$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}"
# JupyterLab refuses to run as root without --allow-root.
ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab instructor test bench lint clean

$(STAMP): requirements.txt pyproject.toml setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

# Opens on the start notebook of the student versions: no news pop-up, no nbgrader panels.
# The first time (and after a change to the package) it runs the chapter notebooks once, headless, so
# that their multi-seed studies are stored (gdcourse/memo.py) and every notebook then runs in seconds.
lab: $(STAMP)
	-$(BIN)/python -m gdcourse.cli cache warm
	$(call config_path,learner) $(BIN)/jupyter lab --notebook-dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

# The instructor's JupyterLab: the same, with nbgrader's menu, sidebar and formgrader; opens on solutions/.
instructor: $(DEV_STAMP)
	$(call config_path,instructor) $(BIN)/jupyter lab --notebook-dir=. \
		--LabApp.default_url=/lab/tree/solutions $(ROOT_FLAG) $(LAB_ARGS)

# Unit tests and every notebook (nbval) on 2 workers, each notebook's cells kept on one worker;
# then the browser suite on its own (it runs one JupyterLab server; skipped without Chromium).
# Both start from one empty store of experiment results, so every claim is computed in this run.
test: $(DEV_STAMP)
	$(BIN)/ruff check gdcourse tests bench
	store=$$(mktemp -d) && trap 'rm -rf "$$store"' EXIT && export GDCOURSE_CACHE="$$store" && \
	$(BIN)/python -m pytest -q -n 2 --dist loadscope --ignore=tests/browser && \
	$(BIN)/python -m pytest -q tests/browser

bench: $(STAMP)
	$(BIN)/python -m gdcourse.cli bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
