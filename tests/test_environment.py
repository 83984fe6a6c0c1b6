"""The conda environment file (`--sdm conda`) pins the same packages as the venv that `make setup`
builds, inline (it names no other file, so it builds from any copy Snakemake makes)."""

import re

import yaml

from conftest import REPO


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]+\])?==(\S+)", line)
        assert match, f"not an exact pin: {line!r}"
        pins[match[1].lower()] = (match[2] or "", match[3])
    return pins


def test_conda_environment_pins_equal_the_requirements_and_name_no_file():
    env = yaml.safe_load((REPO / "envs" / "lipsglass.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert not [p for p in pip if p.startswith("-")], "no -r/-c/-e: Snakemake may build from a copy of the file"
    requirements = (REPO / "envs" / "requirements.txt").read_text().splitlines()
    assert _pins(pip) == _pins(requirements)
