# One-command environment and entry points of the study.
#   make setup   create .venv with the pinned environment and install lipsglass
#   make run     (sets up if needed) run the default study with all cores
#   make test    (sets up if needed) run the whole test suite
#   make validate  kernels beside independent implementations: results/validation/agreement.md
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint dry-run validate clean-results

setup: $(STAMP)

$(STAMP): envs/requirements.txt envs/requirements-slurm.txt envs/requirements-checks.txt envs/constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r envs/requirements.txt -c envs/constraints.txt
	# the SLURM executor plugin is optional for running, but the tests plan the cluster profile
	$(BIN)/python -m pip install --quiet -r envs/requirements-slurm.txt -c envs/constraints.txt
	# independent implementations the tests compare against (OVITO's D2min)
	$(BIN)/python -m pip install --quiet -r envs/requirements-checks.txt -c envs/constraints.txt
	# headless Chromium for the report test: Debian's package, installed when we are root
	command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "note: no chromium; the report test will be skipped (install Debian's chromium)"
	# a software Vulkan driver for OVITO's off-screen renderer (Figs. 1C, 3A, 3C, 4D), Debian's, as root
	[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ] || ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 \
		|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt-get update -qq \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers >/dev/null; } \
		|| echo "note: no Vulkan driver; rendered figures and their test need Debian's libvulkan1 mesa-vulkan-drivers"
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: setup
	$(BIN)/snakemake --cores all

test: setup
	$(BIN)/python -m pytest

validate: setup
	$(BIN)/python -m lipsglass validate --out results/validation

lint: setup
	$(BIN)/snakemake --lint

dry-run: setup
	$(BIN)/snakemake -n --cores 1

clean-results:
	# generated outputs only (benchmark tables are under results/benchmarks/); tracked files stay
	rm -rf results logs .snakemake
