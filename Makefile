# Two entry points: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
# The torch build to install before the project; e.g. TORCH_SPEC="torch==2.5.1" for another one.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
DEMO_DIR ?= latentatlas-demo

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch-fidelity (the inception judge) goes in with --no-deps: it requires torchvision, whose
# wheels pin a torch release of their own and break beside this one.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev,diffusers,pythae,judge,dask,features]"
	$(BIN)/python -m pip install --quiet --no-deps torch-fidelity==0.4.0
	touch $@

demo: $(VENV)/.installed
	$(BIN)/python -m latentatlas demo --out $(DEMO_DIR) --overwrite

# On every core (pytest-xdist); a test file stays on one worker, so its module fixtures (the
# bundled model's ladder, the reduced demo) are made once. `pytest --durations=20` lists the
# slowest tests.
test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -n auto --dist loadfile

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_foundation.py
	$(BIN)/python bench/bench_atlas.py
	$(BIN)/python bench/bench_manifold.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build src/*.egg-info
