"""Documentation that runs: every shell and YAML block of README.md, config/README.md and
docs/*.md is executed, so the documentation cannot drift from the code.

Convention of the documented blocks (fenced, with a language; other code blocks fail the test):

* ```sh blocks of one file run in order, in one scratch folder that links the repository's files
  (so relative paths such as ``config/config.yaml`` work and nothing is written into the
  repository), with ``.venv/bin`` first on PATH; a trailing ``\\`` continues a line. Commands
  that would run the study are planned instead:
  - ``snakemake ...`` runs as a dry run (``-n`` added unless it has ``-n`` or ``--lint``);
  - ``make TARGET`` runs as ``make -n TARGET`` (prints what it would do);
  - ``pip install ...`` is not run (it would change the environment); the files it names with
    ``-r`` / ``-c`` must exist;
  - a line ending in the comment ``# long-running: ...`` (minutes of work, or inputs that only a
    finished study has) runs as its program and sub-command with ``--help``, which checks that
    the command exists.
* ```yaml blocks whose top-level keys are all config keys are config overlays: written to a
  file and planned with ``snakemake -n`` over config/config.yaml; other YAML must parse.
* ```text blocks are output or messages, shown and not run.

The recipe for a new composition in config/README.md also runs for real, build and quench of a
small cell of it, in ``test_the_own_glass_recipe_builds_and_quenches``.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import BIN, REPO, plan, run_snakemake
from lipsglass.config import SCHEMA_PATH, config_key_table, key_table_in

DOCS = [REPO / "README.md", REPO / "config" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LANGUAGES = {"sh", "yaml", "text"}
# the repository's entries a scratch folder links (never results, logs or Snakemake's state)
NOT_LINKED = {".git", "results", "logs", ".snakemake"}
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")


def code_blocks(path: Path) -> list[tuple[str, str, int]]:
    """(language, text, first line number) of every fenced block of a Markdown file."""
    blocks, lines = [], path.read_text().splitlines()
    k = 0
    while k < len(lines):
        m = FENCE.match(lines[k])
        if m:
            indent, language, start = len(m.group(1)), m.group(2), k + 1
            k += 1
            body = []
            while not re.match(r"^\s*```\s*$", lines[k]):
                body.append(lines[k][indent:])
                k += 1
            blocks.append((language, "\n".join(body) + "\n", start))
        k += 1
    return blocks


def shell_commands(block: str) -> list[str]:
    """The commands of a shell block, continuation lines joined."""
    commands, current = [], ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            commands.append(current.strip())
        current = ""
    return commands


def as_tested(command: str) -> str | None:
    """The command the test runs for a documented one (see the module docstring); None when it
    is checked without running. Shell syntax (redirections, &&) is kept as written."""
    code, _, comment = command.partition(" #")
    words = shlex.split(code)
    if comment.strip().startswith("long-running"):
        program = words[:4] if words[:2] == ["python", "-m"] else words[:2]
        return shlex.join(program + ["--help"])
    if words[0] == "pip":
        for flag, name in zip(words, words[1:]):
            if flag in ("-r", "-c"):
                assert (REPO / name).is_file(), f"{command}: no file {name}"
        return None
    if words[0] == "snakemake" and not {"-n", "--dry-run", "--lint"} & set(words):
        return re.sub(r"^snakemake\b", "snakemake -n", code.strip())
    if words[0] == "make":
        return re.sub(r"^make\b", "make -n", code.strip())
    return code.strip()


def scratch_folder(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in NOT_LINKED:
            (work / entry.name).symlink_to(entry)
    return work


def run_shell(command: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def config_overlay(block: str) -> dict | None:
    """The block as a config overlay when every top-level key is a config key."""
    data = yaml.safe_load(block)
    keys = set(yaml.safe_load(SCHEMA_PATH.read_text())["properties"])
    return data if isinstance(data, dict) and set(data) <= keys else None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_code_block_is_fenced_with_a_known_language(doc):
    text = doc.read_text()
    languages = [language for language, _, _ in code_blocks(doc)]
    assert set(languages) <= LANGUAGES, f"{doc}: code blocks in {set(languages) - LANGUAGES}; use sh, yaml or text"
    # an indented code block (4 spaces after a blank line, outside a list) escapes the test
    lines = text.splitlines()
    inside = False
    for k, line in enumerate(lines):
        if FENCE.match(line) or re.match(r"^\s*```\s*$", line):
            inside = not inside
        elif (not inside and line.startswith("    ") and line.strip() and k > 0 and not lines[k - 1].strip()
              and not re.match(r"^\s*([-*]|\d+\.)\s", next((p for p in reversed(lines[:k - 1]) if p.strip()), ""))):
            pytest.fail(f"{doc}:{k + 1}: indented code block; fence it (```sh, ```yaml or ```text)")


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shell_block_runs(doc, tmp_path):
    before = sorted(p.name for p in REPO.iterdir())
    work = scratch_folder(tmp_path)
    for language, block, line in code_blocks(doc):
        if language != "sh":
            continue
        for command in shell_commands(block):
            tested = as_tested(command)
            if tested is None:
                continue
            proc = run_shell(tested, work)
            assert proc.returncode == 0, (f"{doc.name}:{line}: `{command}` (run as `{tested}`) failed:\n"
                                          f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    # the commands wrote into the scratch folder only (e.g. my-glass.yaml, .snakemake/)
    assert sorted(p.name for p in REPO.iterdir()) == before


@pytest.mark.slow
@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_yaml_block_parses_and_every_config_overlay_plans(doc, tmp_path):
    for k, (language, block, line) in enumerate(code_blocks(doc)):
        if language != "yaml":
            continue
        overlay = config_overlay(block)
        if overlay is None:
            assert yaml.safe_load(block) is not None, f"{doc.name}:{line}: empty YAML block"
            continue
        path = tmp_path / f"overlay_{k}.yaml"
        path.write_text(block)
        proc = plan(tmp_path / f"plan_{k}", "config/config.yaml", str(path), check=False)
        assert proc.returncode == 0, f"{doc.name}:{line}: overlay does not plan:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"


def test_the_documented_conventions_are_what_runs():
    assert as_tested("make run") == "make -n run"
    assert as_tested("snakemake --cores 2 --configfile my.yaml") == "snakemake -n --cores 2 --configfile my.yaml"
    assert as_tested("snakemake -n --cores 2") == "snakemake -n --cores 2"
    assert as_tested("python -m lipsglass neb F --from 1 --to 2   # long-running: one hop") == \
        "python -m lipsglass neb --help"
    assert as_tested("pip install -r envs/requirements.txt -c envs/constraints.txt") is None
    with pytest.raises(AssertionError, match="no file"):
        as_tested("pip install -r envs/no-such-file.txt")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_links_point_at_files_and_headings_that_exist(doc):
    def slug(heading: str) -> str:
        return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")

    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if re.match(r"^[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        relative = os.path.relpath(file, REPO)
        assert file.exists(), f"{doc.name}: link to {target}: no such file"
        if anchor:
            headings = [slug(h) for h in re.findall(r"^#+ (.+)$", file.read_text(), re.M)]
            assert anchor in headings, f"{doc.name}: link to {target}: no such heading in {relative}"


# results made outside the planned DAG: the report (make report) and per-hop work folders
NOT_PLANNED = ("results/report.html", "results/{glass}/neb/hops/", "results/benchmarks/")


def _as_pattern(path: str) -> str:
    """A results path with every glass, replica, temperature and batch written as a placeholder."""
    path = re.sub(r"P2S6-\d+|my-glass|tiny-A", "{glass}", path)
    path = re.sub(r"/r(\d+|\{replica\})/", "/r{k}/", path)
    path = re.sub(r"/\d+K/", "/{T}K/", path)
    return re.sub(r"batch_\d+", "batch_{b}", path)


@pytest.mark.slow
def test_documented_result_paths_are_planned_outputs(tmp_path):
    """Every `results/...` path the documentation names is an output the default study plans
    (a folder: one that holds planned outputs)."""
    import fnmatch

    planned = {_as_pattern(p) for p in re.findall(r"(results/[^\s,;]+)", plan(tmp_path).stdout)}
    text = "".join(p.read_text() for p in DOCS)
    named = re.findall(r"`(results/[^`\s]*)`", text)
    # "x.png/.pdf" and "x.csv/json" name two files: check the first
    for path in sorted({_as_pattern(re.sub(r"/\.?(pdf|json)$", "", p)) for p in named}):
        if path.startswith(NOT_PLANNED):
            continue
        found = (path in planned or any(fnmatch.fnmatch(p, path) for p in planned)
                 or any(p.startswith(path.rstrip("/") + "/") for p in planned))
        assert found, f"the documentation names {path}, which the workflow does not write"


def test_readme_leads():
    lines = (REPO / "README.md").read_text().splitlines()
    first = "\n".join(lines[:25])
    assert len(lines) <= 200
    for needed in ("`make run`", "`make test`", "CPU-min", "results/summary/scorecard.md", "results/report.html",
                   "not tested"):
        assert needed in first, f"README's first 25 lines lack {needed}"
    text = "\n".join(lines)
    assert "../shared" not in text and not re.search(r"session|the issue", text, re.I)
    assert max(len(line) for line in lines) < 400   # no table cell of thousands of characters


def test_the_key_table_of_config_readme_is_generated_from_the_schema():
    current = key_table_in((REPO / "config" / "README.md").read_text())
    assert current == config_key_table(), "run `python -m lipsglass config-keys --write config/README.md`"


def test_every_schema_key_is_documented():
    from lipsglass.config import config_key_rows
    rows = config_key_rows()
    assert len(rows) > 200
    for row in rows:
        assert row["description"] and row["unit"], f"config key {row['key']}: no description or unit in the schema"
        assert row["allowed"], f"config key {row['key']}: no allowed values"
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    documented = {r["key"] for r in rows}

    def keys(node, prefix=""):
        for key, value in node.items():
            dotted = f"{prefix}{key}"
            if prefix == "compositions.":
                dotted = "compositions.<glass>"
            yield dotted
            if isinstance(value, dict) and key not in ("switches",) and dotted != "compositions.<glass>":
                yield from keys(value, dotted + ".")

    for key in keys(config):
        if key.startswith("softness.voronoi_radii_A.") or key.startswith("homology.radii."):
            key = key.rsplit(".", 1)[0] + ".<element>"
        assert key in documented, f"config key {key} of config/config.yaml is not in the schema's table"


@pytest.mark.slow
def test_the_own_glass_recipe_builds_and_quenches(tmp_path):
    """config/README.md's recipe for a new composition, for real: its composition command (with a
    small cell) writes the config file; build and quench run with the short MD of the test config."""
    recipe = next(c for lang, block, _ in code_blocks(REPO / "config" / "README.md") if lang == "sh"
                  for c in shell_commands(block) if "lipsglass composition" in c)
    small = recipe.replace("--atoms 800", "--atoms 130")
    assert small != recipe and "--select" in small
    work = scratch_folder(tmp_path)
    proc = run_shell(small, work)
    assert proc.returncode == 0, proc.stderr
    overlay = work / "my-glass.yaml"
    assert yaml.safe_load(overlay.read_text())["glasses"] == ["my-glass"]
    proc = run_snakemake("--cores", "2", "--snakefile", str(REPO / "Snakefile"), "--directory", str(work),
                         "--configfile", str(REPO / "config" / "config.yaml"),
                         str(REPO / "tests" / "config" / "config.yaml"), str(overlay), "--until", "quench", timeout=1500)
    assert "The scorecard has not been built by this run" in proc.stdout + proc.stderr   # onsuccess
    for replica in (1, 2):
        glass = work / "results" / "my-glass" / f"r{replica}" / "quench" / "glass.data"
        assert glass.is_file() and glass.stat().st_size > 0
    assert not (REPO / "my-glass.yaml").exists()
