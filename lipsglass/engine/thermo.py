"""thermo.csv, the energy and state record of every MD run: its columns, the LAMMPS commands that
write them, and the file's start, clean-up and check for non-finite values."""

from __future__ import annotations

from pathlib import Path

from lipsglass.engine.runner import SimulationFailed
from lipsglass.engine.settings import MDSettings

# Columns of thermo.csv: LAMMPS thermo keyword -> (column name, conversion expression)
THERMO_COLUMNS = [
    ("step", "step", "step"),
    ("time_ps", "time", "time/1000.0"),      # LAMMPS real: time in fs
    ("T_K", "temp", "temp"),
    ("P_atm", "press", "press"),
    ("density_g_cm3", "density", "density"),
    ("volume_A3", "vol", "vol"),
    ("pe_kcal_mol", "pe", "pe"),
    ("ke_kcal_mol", "ke", "ke"),
    ("etotal_kcal_mol", "etotal", "etotal"),
    ("ebond_kcal_mol", "ebond", "ebond"),
    ("eangle_kcal_mol", "eangle", "eangle"),
    ("edihed_kcal_mol", "edihed", "edihed"),
    ("evdwl_kcal_mol", "evdwl", "evdwl"),
    ("ecoul_plus_elong_kcal_mol", "ecoul", "ecoul+elong"),
]
THERMO_HEADER = "stage," + ",".join(name for name, _, _ in THERMO_COLUMNS)


def thermo_style(extra: str = "") -> list[str]:
    keywords = " ".join(kw for _, kw, _ in THERMO_COLUMNS)
    # cpuremain (column CPULeft): LAMMPS' estimate of the time left in the current run (s), so that
    # `tail -f logs/...` shows progress (it does not enter thermo.csv)
    return [f"thermo_style custom {keywords} elong cpuremain{extra}", "thermo_modify norm no flush yes"]


def thermo_setup(md: MDSettings) -> list[str]:
    cmds = [f"variable th_{name} equal {expr}" for name, _, expr in THERMO_COLUMNS]
    run_style = [] if md.run_style == "verlet" else [f"run_style {md.run_style}"]
    return cmds + [f"timestep {md.timestep_fs}"] + run_style + thermo_style() + [f"thermo {md.thermo_every}"]


def thermo_print(name: str, md: MDSettings, thermo_csv: str) -> str:
    """The fix that appends the rows of stage ``name`` to thermo.csv (fix ID ``thermo_csv``)."""
    fields = ",".join("${th_%s}" % n for n, _, _ in THERMO_COLUMNS)
    return f'fix thermo_csv all print {md.thermo_every} "{name},{fields}" append {thermo_csv} screen no'


def check_thermo_finite(path: str | Path) -> None:
    """Fail on a non-finite value in thermo.csv (the MPI path cannot ask LAMMPS directly)."""
    with open(path) as fh:
        for line in fh:
            if any(v.strip().lower() in ("nan", "-nan", "inf", "-inf") for v in line.split(",")):
                raise SimulationFailed(f"non-finite value in {path}: {line.strip()}")


def thermo_csv_init(path: str | Path) -> None:
    Path(path).write_text(THERMO_HEADER + "\n")


def thermo_csv_finish(path: str | Path) -> None:
    """Drop the comment lines ``fix print`` adds at the start of every stage."""
    lines = [ln for ln in Path(path).read_text().splitlines() if not ln.startswith("#")]
    # a continued segment prints the step its predecessor ended on again: keep the first
    seen, kept = set(), []
    for ln in lines:
        key = tuple(ln.split(",")[:2])
        if key not in seen:
            seen.add(key)
            kept.append(ln)
    Path(path).write_text("\n".join(kept) + "\n")
