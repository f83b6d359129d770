# Two entry points for a fresh machine: `make run` and `make test`.
# Everything else here is what those two need.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# test files run on parallel workers (one file stays on one worker, so its fixtures are built once);
# most of the suite waits on servers, browsers and subprocesses, so two workers help on two cores
PYTEST_WORKERS ?= -n 2 --dist loadfile

.PHONY: run test index embeddings eval bench lint browser fonts clean

run: $(VENV)/.installed
	$(BIN)/ragqa serve

test: $(VENV)/.test-installed browser fonts
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_WORKERS)

index: $(VENV)/.installed
	$(BIN)/ragqa index

# rewrite corpus/embeddings (the shipped vectors) after the corpus or the splitting changed
embeddings: $(VENV)/.installed
	$(BIN)/ragqa index --export-embeddings

eval: $(VENV)/.installed
	$(BIN)/ragqa eval --gold eval/gold.jsonl --out eval/out --compare baseline,bm25,dense,hybrid

bench: $(VENV)/.test-installed
	$(BIN)/python -m benchmarks.run

lint: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy

# one pip call per target, so the dependencies are resolved once; --no-compile leaves
# byte-compiling to the first import, which compiles only the modules that are used
# (most of torch's, transformers' and ray's files never are)
define new_venv
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
endef

$(VENV)/.installed: pyproject.toml
	$(new_venv)
	$(BIN)/pip install --quiet --no-compile -e '.[ocr]'
	touch $@

# torch is pinned to the CPU build in the same call, so nothing pulls the CUDA one
$(VENV)/.test-installed: pyproject.toml
	$(new_venv)
	$(BIN)/pip install --quiet --no-compile torch==2.13.0 -e '.[ocr,test,scale]'
	touch $(VENV)/.installed $@

# Debian's Chromium and CJK fonts for the browser test (Playwright's own download fails here)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "browser test will be skipped: run 'sudo apt-get install chromium fonts-noto-cjk'"; fi; \
	fi

# the CJK font tests/make_documents.py draws the test PDFs with
fonts:
	@if [ ! -f /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	  else echo "document tests will be skipped: run 'sudo apt-get install fonts-noto-cjk'"; fi; \
	fi

clean:
	rm -rf .ragqa eval/out tests/artifacts
