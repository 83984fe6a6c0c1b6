"""Truncated and garbled LAMMPS files give one-line errors naming the file and where (the frame
of a dump), from the reader, from ``python -m lipsglass`` commands and in a rule's log."""

import subprocess
import sys

import numpy as np
import pytest

from lipsglass.lammpsio import Box, InputFileError, iter_dump, read_data, write_dump_frame
from lipsglass.workflow_logging import redirect_to_log


def _dump(path, n_frames=3, n_atoms=6):
    rng = np.random.default_rng(1)
    box = Box(np.zeros(3), np.full(3, 10.0))
    with open(path, "w") as fh:
        for k in range(n_frames):
            write_dump_frame(fh, 100 * k, box, {
                "id": np.arange(1, n_atoms + 1), "element": np.array(["Li", "S"] * (n_atoms // 2)),
                "xu": rng.uniform(0, 10, n_atoms), "yu": rng.uniform(0, 10, n_atoms), "zu": rng.uniform(0, 10, n_atoms)})
    return path


def _cut(path, fraction):
    text = path.read_text()
    path.write_text(text[: int(len(text) * fraction)])
    return path


def test_intact_dump_reads_every_frame(tmp_path):
    frames = list(iter_dump(_dump(tmp_path / "ok.lammpstrj")))
    assert [f.timestep for f in frames] == [0, 100, 200]


@pytest.mark.parametrize("fraction", [0.97, 0.9, 0.75])
def test_truncated_last_frame_names_file_and_frame(tmp_path, fraction):
    path = _cut(_dump(tmp_path / "cut.lammpstrj"), fraction)   # the last of 3 frames is cut
    with pytest.raises(InputFileError) as err:
        list(iter_dump(path))
    message = str(err.value)
    assert str(path) in message and "frame 2 (timestep 200)" in message and "\n" not in message


def test_garbled_values_name_the_column_and_frame(tmp_path):
    path = _dump(tmp_path / "bad.lammpstrj")
    lines = path.read_text().splitlines()
    # frame 1 starts after 9 header lines + 6 atoms = 15 lines; its 2nd atom line is line 15 + 9 + 1
    atom = 15 + 9 + 1
    lines[atom] = lines[atom].replace(lines[atom].split()[2], "1.2.3", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputFileError, match=r"frame 1 \(timestep 100\), .*column xu: '1\.2\.3' is not a number"):
        list(iter_dump(path))
    path.write_text("this is not a dump\n")
    with pytest.raises(InputFileError, match="not a LAMMPS text dump"):
        list(iter_dump(path))


def test_garbled_data_file_names_the_file(tmp_path):
    path = tmp_path / "glass.data"
    path.write_text("title\n\n3 atoms\n1 atom types\n\n0 10 xlo xhi\n0 ten ylo yhi\n0 10 zlo zhi\n")
    with pytest.raises(InputFileError, match=r"glass\.data: not a readable LAMMPS data file"):
        read_data(path)


def test_cli_diffusion_prints_one_line_on_a_truncated_dump(tmp_path):
    path = _cut(_dump(tmp_path / "cut.lammpstrj", n_frames=8), 0.95)
    proc = subprocess.run([sys.executable, "-m", "lipsglass", "diffusion", str(path), "--dt-ps", "0.1"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "frame 7 (timestep 700)" in lines[0]


def test_rule_log_ends_with_the_one_line_reason(tmp_path):
    path = _cut(_dump(tmp_path / "cut.lammpstrj"), 0.95)
    log = tmp_path / "rule.log"
    with pytest.raises(InputFileError):
        with redirect_to_log(str(log)):
            list(iter_dump(path))
    last = log.read_text().strip().splitlines()[-1]
    assert last.startswith("ERROR: InputFileError: ") and f"{path}: frame 2 (timestep 200)" in last
