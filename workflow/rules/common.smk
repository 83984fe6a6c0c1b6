# Configuration validation and every helper function of the workflow.
import re

from lipsglass.config import validate_config
from lipsglass.composition import composition_from_config

# Stops before any job runs, naming the offending key.
validate_config(config)

GLASSES = list(config["compositions"])


wildcard_constraints:
    glass="|".join(re.escape(g) for g in GLASSES),
    T=r"\d+",


def temperature_labels():
    """Production temperatures as integer kelvin labels used in paths (e.g. '300')."""
    return [f"{round(T)}" for T in config["production"]["temperatures_K"]]


def production_files(glass):
    return expand(
        "results/{glass}/nvt/{T}K/{name}",
        glass=glass,
        T=temperature_labels(),
        name=["trajectory.lammpstrj", "thermo.csv", "final.data"],
    )


def all_outputs():
    targets = []
    for glass in GLASSES:
        targets += [
            f"results/{glass}/build/initial.data",
            f"results/{glass}/quench/glass.data",
            f"results/{glass}/quench/thermo.csv",
        ]
        targets += production_files(glass)
    return targets


def md_threads(wildcards):
    """OpenMP threads of a LAMMPS job. Below ~2000 atoms the OMP styles gain little per thread
    (measured here: 792 atoms, 1 thread 139 steps/s, 2 threads 190), so small glasses run one
    thread per job and more jobs side by side; large glasses use up to 8 threads (Snakemake caps
    this at --cores)."""
    n_atoms = composition_from_config(wildcards.glass, config["compositions"][wildcards.glass]).n_atoms
    return 1 if n_atoms < 2000 else 8


def composition_units(wildcards):
    return config["compositions"][wildcards.glass]["units"]


def production_dump_interval_ps(wildcards):
    p = config["production"]
    if round(p["fine_T_K"]) == int(wildcards.T):
        return p["fine_dump_interval_ps"]
    return p["dump_interval_ps"]
