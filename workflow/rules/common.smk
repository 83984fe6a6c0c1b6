# Configuration validation and every helper function of the workflow.
import re
from pathlib import Path

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


def md_outputs():
    targets = []
    for glass in GLASSES:
        targets += [
            f"results/{glass}/build/initial.data",
            f"results/{glass}/quench/glass.data",
            f"results/{glass}/quench/thermo.csv",
        ]
        targets += production_files(glass)
    return targets


def figure_files(name):
    """PNG and PDF of one figure under results/figures/."""
    return [f"results/figures/{name}.png", f"results/figures/{name}.pdf"]


def structure_outputs():
    targets = expand(
        "results/{glass}/structure/{name}",
        glass=GLASSES,
        name=["speciation.json", "atom_labels.csv", "partial_rdf.csv", "sq.csv", "fsdp.json"],
    )
    targets += figure_files("fig1b_ternary") + figure_files("sq_fsdp")
    for glass in GLASSES:
        targets += figure_files(f"fig1c_snapshot_{glass}") + figure_files(f"fig1d_partial_rdf_{glass}")
    return targets


def transport_outputs():
    """Per-glass D(T) table, Arrhenius fit and MSD figure; Fig. 2A and 2B."""
    targets = expand("results/{glass}/transport/{name}", glass=GLASSES, name=["diffusion.csv", "arrhenius.json"])
    targets += figure_files("fig2a_arrhenius") + figure_files("fig2b_conductivity")
    for glass in GLASSES:
        targets += figure_files(f"msd_{glass}")
    return targets


def transport_run_files(name):
    """Per-temperature transport file ``name`` of every production run, as patterns in {glass}."""
    return expand("results/{{glass}}/transport/{T}K/{name}", T=temperature_labels(), name=name)


def production_temperature_K(wildcards):
    """The configured production temperature (K) whose path label is wildcards.T."""
    matches = [T for T in config["production"]["temperatures_K"] if f"{round(T)}" == wildcards.T]
    if len(matches) != 1:
        raise ValueError(f"{wildcards.T} K is not one of production.temperatures_K")
    return float(matches[0])


def all_outputs():
    """Every final output of the study; each stage contributes its own list."""
    return md_outputs() + structure_outputs() + transport_outputs()


def project_file(relative_path):
    """A file shipped with the project (config/...), found even when the workflow runs with
    --directory elsewhere."""
    return str(Path(workflow.basedir) / relative_path)


def structure_trajectory(wildcards):
    """Production trajectory whose frames are averaged for g(r) and S(q)."""
    T = round(config["structure"]["temperature_K"])
    return f"results/{wildcards.glass}/nvt/{T}K/trajectory.lammpstrj"


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
