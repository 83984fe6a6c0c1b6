"""The one place that reads and writes the project's CSV tables.

Two kinds of table: row tables (``read_rows``/``write_rows``: one dict per row, values as text,
written with a header of column names) and numeric column tables (``read_table``/``write_table``:
equal-length float columns, optional ``#`` comment lines above the header).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np


def read_rows(path: str | Path, comments: bool = False, required: Sequence[str] = ()) -> list[dict]:
    """Rows of the CSV table ``path`` as dicts keyed by its header (values as strings).
    ``comments``: lines starting with ``#`` (after blanks) are skipped, as in the hand-written
    reference tables. ``required``: columns the header must have (ValueError naming the missing)."""
    with open(path, newline="") as fh:
        lines = (line for line in fh if not line.lstrip().startswith("#")) if comments else fh
        reader = csv.DictReader(lines)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing columns {missing} (need {', '.join(required)})")
        return list(reader)


def write_rows(path: str | Path, columns: Sequence[str], rows: Iterable) -> None:
    """Write ``rows`` (sequences in the order of ``columns``, or mappings keyed by them) as CSV."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(c, "") for c in columns] if isinstance(row, Mapping) else row)


def write_table(path: str | Path, columns: Mapping[str, np.ndarray], header: str = "") -> None:
    """Write equal-length columns as CSV (first row: column names; ``header`` lines as # comments)."""
    names = list(columns)
    data = np.column_stack([np.asarray(columns[k], float) for k in names])
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    with open(path, "w") as fh:
        fh.write(comment + ",".join(names) + "\n")
        np.savetxt(fh, data, delimiter=",", fmt="%.8g")


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """Read a table written by :func:`write_table`."""
    with open(path) as fh:
        lines = [ln for ln in fh if not ln.startswith("#")]
    names = lines[0].strip().split(",")
    data = np.loadtxt(lines[1:], delimiter=",", ndmin=2)
    return {k: data[:, n] for n, k in enumerate(names)}
