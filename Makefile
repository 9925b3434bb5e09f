# The entry point for people and CI alike. `make demo` and `make test` work on a fresh machine:
# they install packer (Debian's, via apt) when it is missing, create .venv and install packerpy.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install packer sshd chromium scap compliance demo test unit lint fmt typecheck check bench clean

install: packer $(STAMP)

packer:
	@if command -v packer >/dev/null 2>&1; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "packer not found: installing Debian's packer (apt-get install packer)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq packer >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	  echo "packer not found: installing Debian's packer (sudo apt-get install packer)"; \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq packer >/dev/null; \
	else \
	  echo "packer not found and apt is not usable: install Packer >= 1.6 (https://developer.hashicorp.com/packer/install), then re-run make" >&2; \
	  exit 1; \
	fi; \
	command -v packer >/dev/null 2>&1 || { echo "packer install failed: install Packer >= 1.6 by hand" >&2; exit 1; }

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "packerpy needs Python >= 3.11 (set PYTHON=...)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

demo: install
	@PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

# The SSH bake test provisions over an sshd it starts on 127.0.0.1 (Debian's openssh-server).
sshd:
	@if [ -x /usr/sbin/sshd ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "sshd not found: installing Debian's openssh-server (for the SSH bake test)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; \
	else \
	  echo "sshd not found and apt is not usable: install OpenSSH's server (sshd), then re-run make test" >&2; \
	  exit 1; \
	fi

# The estate report's browser test opens the page in Debian's Chromium (driven by Playwright).
chromium:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "chromium not found: installing Debian's chromium (for the report's browser test)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  echo "chromium not found and apt is not usable: the report's browser test will be skipped" >&2; \
	fi

# The compliance tests scan a Debian 11 root they build (debootstrap) with OpenSCAP and the SCAP
# Security Guide: Debian's openscap-scanner, openscap-utils (oscap-chroot), ssg-debian, ssg-debderived.
scap:
	@if command -v oscap-chroot >/dev/null 2>&1 && [ -d /usr/share/xml/scap/ssg/content ] && \
	  command -v debootstrap >/dev/null 2>&1; then exit 0; fi; \
	pkgs="openscap-scanner openscap-utils ssg-debian ssg-debderived debootstrap"; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "OpenSCAP not found: installing $$pkgs (for the compliance tests)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; \
	elif command -v apt-get >/dev/null 2>&1 && command -v sudo >/dev/null 2>&1; then \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; \
	else \
	  echo "OpenSCAP not found and apt is not usable: install $$pkgs, then re-run make test" >&2; \
	  exit 1; \
	fi

# Python's bytecode cache on for the test targets even when the shell sets
# PYTHONDONTWRITEBYTECODE (ours did): without it every xdist worker recompiles packerpy and its
# libraries and pytest re-rewrites every test module's asserts, and so does every
# `python -m packerpy` subprocess. Collecting the suite took 7.3 s CPU without it, 2.9 s with.
test unit: export PYTHONDONTWRITEBYTECODE :=

# Everything, in xdist workers (each starts its own moto; tmp dirs are per worker). The e2e tests
# mostly wait on packer and on `python -m packerpy` subprocesses, so 3 workers on 2 cores beat 2.
# `--dist loadscope` keeps a module's tests in one worker, so a module-scoped bake (one per
# module) is baked once. TEST_WORKERS=0 runs it in one process. Hypothesis: the `ci` profile.
TEST_WORKERS ?= 3
test: install sshd chromium scap
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadscope

# The harden library against a real Debian 11 root (debootstrap, cached in ~/.cache/packerpy-tests),
# scored with OpenSCAP before and after: about a minute with network access, so not in `make test`.
compliance: install scap
	$(BIN)/pytest -m compliance tests/compliance

# The fast loop: no end-to-end tests and no tests on the moto server (marked `e2e` and `moto`;
# `make test` runs both). Tests that need packer (marked `packer`) are skipped when it is not on
# PATH. Two xdist workers; UNIT_WORKERS=0 runs it in one process. The `dev` hypothesis profile
# runs a fifth of each property's examples (`make test` runs all).
UNIT_WORKERS ?= 2
unit: $(STAMP)
	HYPOTHESIS_PROFILE=dev $(BIN)/pytest -m "not e2e and not moto" -n $(UNIT_WORKERS)

# Style, types and the layers of ARCHITECTURE.md (import-linter, configured in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check packerpy tests bench
	$(BIN)/ruff format --check packerpy tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

fmt: $(STAMP)
	$(BIN)/ruff format packerpy tests bench
	$(BIN)/ruff check --fix packerpy tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# What to run before a commit (pre-commit runs the lint half on the changed files).
check: lint unit

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist .packerpy .pytest_cache .mypy_cache .ruff_cache .hypothesis .import_linter_cache
