"""Command line of the study: ``python -m lipsglass COMMAND ...``."""

from __future__ import annotations

import argparse
import os
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import yaml

from lipsglass import cost
from lipsglass.builder import (DEFAULT_DENSITY_G_CM3, DEFAULT_MIN_DISTANCE_A, build_glass, build_summary,
                               write_data_file)
from lipsglass.claims.calibration import SEED as CALIBRATION_SEED
from lipsglass.claims.calibration import TABLE_BEGIN, TABLE_END, run_all, table
from lipsglass.claims.scorecard import README_BEGIN, README_END, read_claim_rows, readme_table, write_between_markers
from lipsglass.composition import (DEFAULT_FRACTION_TOLERANCE, UNIT_CHARGES, Composition, composition_from_config,
                                   li2s_p2s5_ratio, s_excess_over_tie_line, units_from_p_fractions)
from lipsglass.config import config_key_table, key_table_in
from lipsglass.config import load_config, load_study_config
from lipsglass.core.anions import ANIONS
from lipsglass.d2min import DEFAULT_CUTOFF, DEFAULT_MIN_NEIGHBOURS, NORMALISATIONS, d2min, read_frame
from lipsglass.engine.energy import evaluate_energy
from lipsglass.engine.runtime import LammpsRuntime
from lipsglass.forcefield import ForceField
from lipsglass.homology.complex import DEFAULT_MARGIN, SHANNON_RADII
from lipsglass.homology.persistence import structure_homology
from lipsglass.homology.rings import DEFAULT_MAX_RING_SIZE
from lipsglass.lammpsio import iter_dump, read_structure
from lipsglass.neb.hop import run_single_hop
from lipsglass.neb.results import FAILED
from lipsglass.neb.settings import NEBSettings
from lipsglass.report_check import check_report
from lipsglass.softness.model import SoftnessModel
from lipsglass.speciation import DEFAULT_P_P_CUTOFF, DEFAULT_P_S_CUTOFF, read_speciation_frame, speciate
from lipsglass.transport.analysis import analyse_trajectory, write_msd_csv
from lipsglass.transport.settings import TransportSettings
from lipsglass.transport.trajectory import parse_type_map
from lipsglass.validation import validate_job
from lipsglass.workstation_design import design_from_results, write_workstation_overlay

def _parse_units(text: str) -> dict[str, int]:
    units = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if not sep or not value.strip().lstrip("-").isdigit():
            raise ValueError(f"--units expects UNIT=COUNT[,UNIT=COUNT...], got {text!r}")
        units[key.strip()] = int(value)
    return units


def _build_glass(args: argparse.Namespace) -> int:
    """A random starting structure of a glass as a LAMMPS data file (``lipsglass.builder``)."""
    ff = ForceField.load(args.forcefield)
    build = {}
    if args.config:
        config = yaml.safe_load(Path(args.config).read_text())
        if args.composition not in config.get("compositions", {}):
            raise ValueError(f"{args.config}: no composition {args.composition!r}")
        composition = composition_from_config(args.composition, config["compositions"][args.composition])
        build = config.get("build", {})
    elif args.units:
        composition = Composition(args.composition or "glass", _parse_units(args.units))
    else:
        raise ValueError("give --units, or --config with --composition")
    seed = args.seed if args.seed is not None else build.get("seed")
    if seed is None:
        raise ValueError("no seed: give --seed (or a config with build.seed)")
    density = args.density if args.density is not None else build.get("density_g_cm3", DEFAULT_DENSITY_G_CM3)
    min_distance = args.min_distance if args.min_distance is not None else build.get("min_distance_A",
                                                                                     DEFAULT_MIN_DISTANCE_A)
    built = build_glass(composition, ff, int(seed), density_g_cm3=float(density), min_distance_A=float(min_distance))
    write_data_file(built, ff, args.output)
    summary = {"output": str(args.output), **build_summary(built)}
    json.dump(summary, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _energy(args: argparse.Namespace) -> int:
    ff = ForceField.load(args.forcefield)
    types = args.types.split(",") if args.types else None
    result = evaluate_energy(args.file, ff, atom_types=types, kspace=args.kspace,
                             kspace_accuracy=args.accuracy, threads=args.threads)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _composition(args: argparse.Namespace) -> int:
    """The ``units:`` block of a glass from its measured speciation, as a config file on stdout:
    YAML that ``--configfile`` reads, the derived numbers as comments."""
    asked = {u: getattr(args, u) for u in ANIONS if getattr(args, u)}
    units = units_from_p_fractions(asked, args.atoms, args.fraction_tolerance)
    glass = Composition(args.name, units)
    x = li2s_p2s5_ratio(glass)
    formal = glass.n_Li + sum(UNIT_CHARGES[u] * n for u, n in units.items())
    partial = glass.net_charge(ForceField.load(args.forcefield))
    got = glass.fraction_of_P()
    flow = ", ".join(f"{u}: {n}" for u, n in units.items())
    lines = ["compositions:", f"  {args.name}:", f"    units: {{{flow}}}"]
    if args.select:
        lines.append(f"glasses: [{args.name}]")
    lines += [
        f"# atoms: {glass.n_atoms} (asked for about {args.atoms}): Li {glass.n_Li}, P {glass.n_P}, S {glass.n_S}",
        "# fraction of P: " + ", ".join(f"{u} {got[u]:.3f} (asked {asked.get(u, 0.0):.3f})" for u in ANIONS),
        f"# formula: {glass.formula()}",
        f"# nearest Li2S:P2S5: {round(100 * x)}:{100 - round(100 * x)} (Li2S fraction {x:.4f} at the glass's "
        f"Li:P; S {s_excess_over_tie_line(glass):+d} against that Li2S-P2S5 glass: each P2S6 has one S fewer)",
        f"# charge: Li {glass.n_Li:+d} e, anions {formal - glass.n_Li:+d} e, total {formal} e (formal); "
        f"{args.forcefield} partial charges sum to {partial:+.2e} e",
    ]
    print("\n".join(lines))
    return 0


def _homology(args: argparse.Namespace) -> int:
    """H1 persistence pairs and shortest-cycle ring sizes of the network atoms of a structure, CSV
    on stdout, a summary on stderr."""
    if args.type_elements:
        # dumps without an element column: element of each atom type, in type order
        frame = next(iter_dump(args.file), None)
        if frame is None:
            raise ValueError(f"{args.file}: no dump frame found")
        names = [e.strip() for e in args.type_elements.split(",")]
        box, positions = frame.box, frame.box.wrap(frame.positions())
        elements = frame.elements({t + 1: el for t, el in enumerate(names)})
    else:
        box, _, elements, positions = read_structure(args.file)
    select = tuple(e.strip() for e in args.elements.split(",") if e.strip())
    result = structure_homology(box, elements, positions, select=select,
                                radii=SHANNON_RADII if args.weighted else None,
                                margin=args.margin, precision=args.precision,
                                max_ring_size=args.max_ring_size)
    d, rings = result.diagram, result.rings
    sys.stdout.write("birth_A2,death_A2,ring_size\n")
    for b, de, s in zip(rings.birth, rings.death, rings.size):
        sys.stdout.write(f"{b:.10g},{de:.10g},{s}\n")
    print(f"# {len(result.atom_indices)} atoms ({','.join(select)}), H1 pairs {len(rings.birth)}, "
          f"essential {d.betti_essential()}, zero-length pairs {d.n_zero_persistence}, "
          f"hidden {d.n_hidden}, {result.timings['homology_s']:.1f} s", file=sys.stderr)
    return 0


def _softness(args: argparse.Namespace) -> int:
    """Softness of every atom of the model's centre species (CSV id,softness on stdout)."""
    model = SoftnessModel.load(args.model)
    if model.features.get("split"):
        raise ValueError("this model splits S by anion type; compute its features with "
                         "radial_structure_functions and channel_labels (anion labels needed)")
    types = args.type_elements.split(",") if args.type_elements else None
    box, ids, elements, positions, _ = read_frame(args.file, types)
    positions = box.wrap(positions)
    species = args.species or model.features.get("centre_species", "Li")
    centres = np.flatnonzero(elements == species)
    if len(centres) == 0:
        raise ValueError(f"{args.file} holds no {species} atoms")
    s = model.softness_of_structure(box, positions, elements, centres)
    out = sys.stdout
    out.write("id,softness\n")
    for i, v in zip(ids[centres], s):
        out.write(f"{int(i)},{v:.10g}\n")
    return 0


def _config_keys(args: argparse.Namespace) -> int:
    """The key table of config/README.md from the schema: printed, or written into a Markdown file
    between its markers."""
    table = config_key_table()
    if args.write is None:
        print(table)
        return 0
    path = Path(args.write)
    text = path.read_text()
    current = key_table_in(text)
    if not current:
        raise ValueError(f"{path} has no generated key table (its first marker line is missing)")
    path.write_text(text.replace(current, table))
    return 0


def _neb(args: argparse.Namespace) -> int:
    """NEB barrier of one Li hop in a LAMMPS data file (``lipsglass.neb.hop.run_single_hop``) with
    the config's ``neb`` and ``md`` sections as defaults; prints the result as JSON."""
    cfg = load_config(args.config)
    knobs = {k: v for k, v in cfg["neb"].items() if k in NEBSettings.__dataclass_fields__}
    # the user chose the hop: no length window unless asked for
    knobs.update(min_distance_A=args.min_distance if args.min_distance is not None else 0.0,
                 max_distance_A=args.max_distance if args.max_distance is not None else float("inf"))
    for key, value in (("replicas", args.replicas), ("ranks_per_replica", args.ranks_per_replica),
                       ("ftol_eV_A", args.ftol), ("refine_tolerance_eV", args.refine_tolerance)):
        if value is not None:
            knobs[key] = value
    settings = NEBSettings.from_config(knobs, cfg["md"])
    ff = ForceField.load(args.forcefield or cfg["forcefield"])
    # the config's lammps section (site executable, launcher, switches) starts the NEB, as in the stage
    result = run_single_hop(args.data, args.from_id, args.to_id, settings, ff, args.workdir, args.launcher,
                            runtime=LammpsRuntime.from_config(cfg.get("lammps")))
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0 if result["status"] != FAILED else 1


def _add_neb_parser(sub) -> None:
    p = sub.add_parser("neb", help="NEB barrier of one Li hop in a LAMMPS data file (prints result.json)")
    p.add_argument("data", help="LAMMPS data file of this force field (atom types in the workflow's order)")
    p.add_argument("--from", dest="from_id", type=int, required=True, help="LAMMPS atom id of the hopping Li")
    p.add_argument("--to", dest="to_id", type=int, required=True,
                   help="LAMMPS atom id of the Li whose site is the target (it is removed)")
    p.add_argument("--replicas", type=int, help="images incl. both ends (default: by hop length, neb.min_replicas "
                                                "and neb.replicas_per_A of the config)")
    p.add_argument("--ranks-per-replica", type=int, help="MPI ranks per image (LAMMPS -partition RxP)")
    p.add_argument("--ftol", type=float, help="NEB force tolerance (eV/A)")
    p.add_argument("--refine-tolerance", type=float, help="refinement tolerance of the barriers (eV)")
    p.add_argument("--min-distance", type=float, help="reject hops whose relaxed length is below this (A)")
    p.add_argument("--max-distance", type=float, help="reject hops whose relaxed length is above this (A)")
    p.add_argument("--config", default="config/config.yaml",
                   help="config YAML whose neb and md sections give the defaults (default: config/config.yaml "
                        "of the working directory, the repository root)")
    p.add_argument("--forcefield", help="force-field name or YAML (default: the config's)")
    p.add_argument("--launcher", help="MPI launcher (default: the environment's mpiexec; e.g. srun)")
    p.add_argument("--workdir", help="keep the scratch files here (default: a temporary folder, deleted)")
    p.set_defaults(func=_neb)

def _diffusion(args: argparse.Namespace) -> int:
    """Tracer D (and with a temperature the conductivities) of one species of a dump, JSON on
    stdout: the workflow's analysis (``lipsglass.stages.transport.analyse_run``) with the
    transport settings of --config (default: the shipped ones), some overridden by options."""
    type_map = parse_type_map(args.type_map)
    if args.ff_types:
        ff = ForceField.load(args.forcefield)
        names = [ff.canonical_type(n.strip()) for n in args.ff_types.split(",")]
        if type_map is None:
            type_map = {i + 1: ff.element(n) for i, n in enumerate(names)}
    if args.config:
        cfg = load_config(args.config)
        settings, source = TransportSettings.from_config(cfg["transport"]), str(args.config)
        config_timestep_fs = float(cfg["md"]["timestep_fs"])
    else:
        settings, source = TransportSettings(), "defaults of the shipped config/config.yaml"
        config_timestep_fs = None
    overrides = {k: v for k, v in (("species", args.species), ("n_blocks", args.n_blocks),
                                   ("n_bootstrap", args.n_bootstrap), ("seed", args.seed)) if v is not None}
    settings = replace(settings, **overrides)
    fit = settings.diffusion_fit()
    if args.fit_start_ps is not None:
        fit = replace(fit, fit_start_ps=args.fit_start_ps)
        overrides["fit_start_ps"] = args.fit_start_ps
    if args.fit_end_ps is not None:
        fit = replace(fit, fit_end_ps=args.fit_end_ps)
        overrides["fit_end_ps"] = args.fit_end_ps
    dt_ps, timestep_fs = args.dt_ps, args.timestep_fs
    if dt_ps is None and timestep_fs is None:
        if config_timestep_fs is None:
            raise ValueError("give --dt-ps or --timestep-fs, or --config (its md.timestep_fs is used)")
        timestep_fs = config_timestep_fs
    out, res = analyse_trajectory(args.traj, str(settings.species), dt_ps=dt_ps, timestep_fs=timestep_fs,
                                  type_to_element=type_map, temperature_K=args.temperature_K, fit=fit,
                                  conductivity=settings.conductivity())
    out["settings_source"] = source
    out["settings_overridden"] = overrides
    if args.msd_out:
        write_msd_csv(args.msd_out, res)
        out["msd_csv"] = str(args.msd_out)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _d2min(args: argparse.Namespace) -> int:
    types = args.type_elements.split(",") if args.type_elements else None
    box0, ids0, el0, pos0, unw0 = read_frame(args.ref, types)
    box1, ids1, el1, pos1, unw1 = read_frame(args.cur, types)
    if not np.array_equal(ids0, ids1):
        raise ValueError(f"{args.ref} and {args.cur} do not hold the same atom ids")
    if not np.array_equal(el0, el1):
        raise ValueError(f"{args.ref} and {args.cur} disagree on elements")
    centres = np.flatnonzero(el0 == args.species)
    if len(centres) == 0:
        raise ValueError(f"no {args.species} atoms in {args.ref}")
    unwrapped = unw0 and unw1
    res = d2min(box0, pos0 if unwrapped else box0.wrap(pos0), box1, pos1 if unwrapped else box1.wrap(pos1),
                cutoff=args.cutoff, centres=centres, normalise=args.normalise, unwrapped=unwrapped,
                min_neighbours=args.min_neighbours)
    sys.stdout.write("id,d2min_A2,n_neighbours\n")
    for i, v, n in zip(ids0[res.centres], res.d2min, res.n_neighbours):
        sys.stdout.write(f"{int(i)},{v:.10g},{int(n)}\n")
    n_bad = int(np.sum(~res.valid))
    if n_bad:
        sys.stderr.write(f"d2min: {n_bad} atoms with < {args.min_neighbours} neighbours or planar "
                         "neighbourhoods written as nan\n")
    return 0


def _cost(args: argparse.Namespace) -> int:
    config = load_study_config(args.config)
    rate, source = args.atom_steps_per_core_s, "given"
    if args.measure:
        rate, source = cost.measure_throughput(config), "measured now on one core"
    elif rate is None:
        rate, source = cost.default_md_rate(config)
    md_ranks = cost.profile_md_ranks(args.profile) if args.profile else args.md_ranks
    rows = cost.study_cost(config, md_ranks=md_ranks, atom_steps_per_core_s=rate)
    summary = cost.totals(rows, args.nodes, args.cores_per_node)
    if args.profile:
        path = Path(args.profile)
        resources = cost.profile_resources(rows)
        try:
            text = cost.write_profile_resources(path.read_text(), resources, rows)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        path.write_text(text)
        for rule, res in resources.items():
            print(f"{path}: {rule:<28} runtime {res['runtime']:>6} min  mem_mb {res['mem_mb']:>7}")
    elif args.json:
        json.dump({"atom_steps_per_core_s": rate, "source": source, "md_rows": cost.cost_table(config, rate),
                   "rules": rows, "totals": summary}, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(cost.cost_report(config, rows, summary, rate, source, args.nodes, args.cores_per_node))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _print_or_write(text: str, markdown: str | None, begin: str, end: str) -> int:
    """A generated table printed, or written into ``markdown`` between its begin and end markers."""
    if markdown is None:
        print(text)
    else:
        write_between_markers(markdown, begin, end, text)
    return 0


def _claims_calibration(args: argparse.Namespace) -> int:
    text = table(run_all(args.seed, log=lambda m: print(m, file=sys.stderr)))
    return _print_or_write(text, args.write, TABLE_BEGIN, TABLE_END)


def _claims_table(args: argparse.Namespace) -> int:
    return _print_or_write(readme_table(read_claim_rows(args.scorecard)), args.write, README_BEGIN, README_END)


def _speciation(args: argparse.Namespace) -> int:
    box, ids, elements, positions = read_speciation_frame(args.file, args.frame, args.type_elements)
    spec = speciate(box, elements, positions, args.p_s_cutoff, args.p_p_cutoff)
    out = {"file": str(args.file), **spec.to_dict()}
    if args.atoms_out:
        with open(args.atoms_out, "w") as fh:
            fh.write("id,element,unit,role,unit_index\n")
            for row in zip(ids, elements, spec.unit, spec.role, spec.unit_index):
                fh.write(",".join(str(v) for v in row) + "\n")
        out["atoms_out"] = str(args.atoms_out)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


def _check_report(args: argparse.Namespace) -> int:
    expected = [os.path.relpath(p) if os.path.isabs(p) else p for p in args.expect]
    result = check_report(args.report, expected)
    print(json.dumps(result, indent=1) if args.json else
          f"{len(result['shown'])} of {len(expected)} expected results shown with their captions"
          + "".join(f"\n  problem: {p}" for p in result["problems"]))
    return 1 if result["problems"] else 0


def _workstation_plan(args: argparse.Namespace) -> int:
    """The workstation transport design (C1/C2 at this cell size) from a finished study's results
    folder, written as a config overlay (``lipsglass.workstation_design``)."""
    config = load_study_config(args.config)
    design, n_runs = design_from_results(args.results, config, args.experimental)
    write_workstation_overlay(design, config, args.out, source=f"From the study in {args.results} ({n_runs} runs).")
    print(design.get("basis") or design.get("reason"))
    return 0 if design.get("feasible") else 1


def _validate(args: argparse.Namespace) -> int:
    counts = validate_job(args.out, args.ariga_dir)
    print(f"{counts['pass']} pass, {counts['FAIL']} fail, {counts['not run']} not run: {Path(args.out) / 'agreement.md'}")
    return 1 if counts["FAIL"] else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lipsglass", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("energy", help="step-0 energy terms (kcal/mol) of a LAMMPS data file")
    p.add_argument("file", help="LAMMPS data file (atom_style full)")
    p.add_argument("--kspace", choices=("ewald", "pppm"), default="ewald")
    p.add_argument("--accuracy", type=float, default=1e-5, help="kspace relative accuracy (default 1e-5)")
    p.add_argument("--types", help="force-field type of each data-file atom type, in type order "
                                    "(e.g. P2,S2,Pa,S1,Sc,P4,S4,Li); default: the Masses comments")
    p.add_argument("--forcefield", default="ariga2022", help="force-field name or YAML path")
    p.add_argument("--threads", type=int, default=1, help="OpenMP threads")
    p.set_defaults(func=_energy)

    p = sub.add_parser("composition", help="config units block of a glass from its fractions of P in PS4, P2S7, "
                                           "P2S6 (Raman / 31P NMR) and an atom count")
    p.add_argument("--PS4", type=float, default=0.0, help="fraction of P in PS4 (ortho) units")
    p.add_argument("--P2S7", type=float, default=0.0, help="fraction of P in P2S7 (pyro) units")
    p.add_argument("--P2S6", type=float, default=0.0, help="fraction of P in P2S6 (hypo) units")
    p.add_argument("--atoms", type=int, default=800, help="target atom count (default 800, the default study's scale)")
    p.add_argument("--name", default="my-glass", help="composition name (letters, digits, '_', '.', '+', '-')")
    p.add_argument("--select", action="store_true", help="also select it alone (glasses: [NAME])")
    p.add_argument("--fraction-tolerance", type=float, default=DEFAULT_FRACTION_TOLERANCE,
                   help="largest deviation of a P fraction from the one asked for "
                        f"(default {DEFAULT_FRACTION_TOLERANCE}: two-decimal fractions kept to their last digit)")
    p.add_argument("--forcefield", default="ariga2022", help="force field of the partial-charge check")
    p.set_defaults(func=_composition)

    p = sub.add_parser("config-keys", help="Markdown table of every config key (description, unit, default, "
                                           "allowed values) from the config schema")
    p.add_argument("--write", metavar="MARKDOWN", help="replace the generated table in this file (config/README.md)")
    p.set_defaults(func=_config_keys)

    p = sub.add_parser("homology", help="H1 persistence diagram and ring sizes (CSV on stdout)")
    p.add_argument("file", help="LAMMPS data file or text dump (first frame)")
    p.add_argument("--elements", default="P,S", help="elements of the network (default P,S)")
    p.add_argument("--margin", type=float, default=DEFAULT_MARGIN,
                   help=f"periodic padding in A (default {DEFAULT_MARGIN}; checked)")
    p.add_argument("--weighted", action="store_true",
                   help="weighted alpha complex, weights = squared Shannon ionic radii")
    p.add_argument("--precision", choices=("fast", "safe", "exact"), default="safe")
    p.add_argument("--type-elements", help="for a dump without an element column: element of each "
                                           "atom type in type order, e.g. P,S,P,S,S,P,S,Li")
    p.add_argument("--max-ring-size", type=int, default=DEFAULT_MAX_RING_SIZE,
                   help=f"longest ring searched, atoms (default {DEFAULT_MAX_RING_SIZE}; longer: size -1)")
    p.set_defaults(func=_homology)

    p = sub.add_parser(
        "diffusion", help="tracer D (cm^2/s) of one species from a LAMMPS text dump, JSON to stdout; with --config "
                          "exactly the workflow's analysis (transport settings and md.timestep_fs of that file)")
    p.add_argument("traj", help="LAMMPS text dump: id, element (or type + --type-map), xu yu zu or x y z ix iy iz")
    p.add_argument("--config", help="workflow config file (e.g. config/config.yaml): its transport section and "
                                    "md.timestep_fs; default: the shipped config's transport settings")
    p.add_argument("--species", help="element whose diffusion is measured (default: transport.species)")
    t = p.add_mutually_exclusive_group()
    t.add_argument("--dt-ps", type=float, help="time between dump frames (ps)")
    t.add_argument("--timestep-fs", type=float, help="MD timestep (fs); frame times = TIMESTEP x this "
                                                     "(default with --config: md.timestep_fs)")
    p.add_argument("--type-map", help="type -> element, e.g. 1:Li,2:P,3:S")
    p.add_argument("--ff-types", help="force-field type name of each LAMMPS type in order (e.g. "
                                      "P2,S2,Pa,S1,Sc,P4,S4,Li): gives the elements")
    p.add_argument("--forcefield", default="ariga2022", help="force field for --ff-types (default ariga2022)")
    p.add_argument("--temperature-K", type=float, help="run temperature: adds the Nernst-Einstein and collective "
                                                       "(Einstein) conductivities in S/cm and the Haven ratio")
    p.add_argument("--fit-start-ps", type=float, help="override: fit window start (ps); default automatic")
    p.add_argument("--fit-end-ps", type=float, help="override: fit window end (ps); default fit_end_frac x one block")
    p.add_argument("--n-blocks", type=int, help="override: time blocks for the standard error (>= 4)")
    p.add_argument("--n-bootstrap", type=int, help="override: bootstrap resamples over atoms")
    p.add_argument("--seed", type=int, help="override: bootstrap random seed")
    p.add_argument("--msd-out", help="write lag_ps, msd_A2, local log-log slope to this CSV")
    p.set_defaults(func=_diffusion)

    p = sub.add_parser("softness", help="softness of each atom of a species (CSV id,softness) "
                                        "from a trained model JSON")
    p.add_argument("model", help="softness model JSON (SoftnessModel.save)")
    p.add_argument("file", help="LAMMPS data file or text dump (first frame)")
    p.add_argument("--species", default=None, help="centre element (default: the model's, usually Li)")
    p.add_argument("--type-elements", default=None,
                   help="element of each atom type in type order, e.g. P,S,P,S,S,P,S,Li, for files "
                        "without an element column or masses")
    p.set_defaults(func=_softness)

    p = sub.add_parser("build-glass", help="random starting structure of a glass as a LAMMPS data file")
    p.add_argument("output", help="data file to write (atom_style full, units real)")
    p.add_argument("--config", help="study config YAML: takes the composition and the build block from it")
    p.add_argument("--composition", help="composition name (in --config, or the name of a --units glass)")
    p.add_argument("--units", help="anion units, e.g. PS4=18,P2S7=36,P2S6=15[,S=0] (Li by neutrality)")
    p.add_argument("--seed", type=int, help="random seed (default: build.seed of --config)")
    p.add_argument("--density", type=float, help=f"starting density g/cm3 (default {DEFAULT_DENSITY_G_CM3})")
    p.add_argument("--min-distance", type=float,
                   help=f"closest approach of atoms of different units, A (default {DEFAULT_MIN_DISTANCE_A})")
    p.add_argument("--forcefield", default="ariga2022", help="force-field name or YAML path")
    p.set_defaults(func=_build_glass)

    p = sub.add_parser("d2min", help="Falk-Langer D2min between two LAMMPS frames (CSV id,d2min_A2,n_neighbours)")
    p.add_argument("ref", help="reference frame: LAMMPS text dump (first frame) or data file")
    p.add_argument("cur", help="current frame of the same atoms")
    p.add_argument("--cutoff", type=float, default=DEFAULT_CUTOFF,
                   help=f"neighbour cutoff in the reference frame, A (default {DEFAULT_CUTOFF}: first "
                        "minimum of the Li-S g(r))")
    p.add_argument("--species", default="Li", help="element of the centre atoms (default Li)")
    p.add_argument("--normalise", choices=NORMALISATIONS, default="none",
                   help="none: plain sum (A^2); per-neighbour: divided by the neighbour count")
    p.add_argument("--min-neighbours", type=int, default=DEFAULT_MIN_NEIGHBOURS,
                   help=f"fewer neighbours -> nan (default {DEFAULT_MIN_NEIGHBOURS}; 3 neighbours fit exactly)")
    p.add_argument("--type-elements", default=None,
                   help="element of each atom type in type order, e.g. P,S,P,S,S,P,S,Li, for dumps "
                        "without an element column")
    p.set_defaults(func=_d2min)

    p = sub.add_parser("cost", help="core-hours and wall time of every heavy rule of a config; "
                                    "--profile writes runtime/mem_mb into a SLURM profile")
    p.add_argument("config", nargs="+",
                   help="config YAML (e.g. config/paper.yaml), or several merged in order as snakemake --configfile "
                        "does; an overlay (e.g. config/workstation_transport.yaml) is merged over config/config.yaml")
    p.add_argument("--measure", action="store_true", help="measure the MD throughput now (builds the first glass)")
    p.add_argument("--atom-steps-per-core-s", type=float, help="MD throughput to assume")
    p.add_argument("--nodes", type=_positive_int, default=4, help="nodes for the wall-time estimate (default 4)")
    p.add_argument("--cores-per-node", type=_positive_int, default=128,
                   help="cores per node assumed for the wall-time estimate (default 128, e.g. 2 x 64-core AMD EPYC)")
    p.add_argument("--md-ranks", type=_positive_int, default=8,
                   help="MPI ranks of a quench or production job (default 8, as profiles/slurm; --profile reads its tasks)")
    p.add_argument("--profile", help="write runtime and mem_mb of the heavy rules into this SLURM profile "
                                     "(e.g. profiles/slurm/config.yaml), comments kept")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cost)

    p = sub.add_parser("workstation-plan",
                       help="the workstation transport design (C1/C2 at this cell size) from a finished study")
    p.add_argument("--results", default="results", help="the finished study's results folder (default results)")
    p.add_argument("--config", nargs="+", default=["config/config.yaml"],
                   help="the study's config file(s), merged as snakemake --configfile does (default config/config.yaml)")
    p.add_argument("--experimental", default="config/experimental_conductivity.csv",
                   help="experimental conductivities (C2's span)")
    p.add_argument("--out", default="config/workstation_transport.yaml", help="overlay to write")
    p.set_defaults(func=_workstation_plan)

    p = sub.add_parser("claims-calibration", help="false-verdict rates and power of every claim's test "
                                                  "(the table of docs/claims.md; minutes)")
    p.add_argument("--seed", type=int, default=CALIBRATION_SEED,
                   help=f"seed of the simulations (default {CALIBRATION_SEED})")
    p.add_argument("--write", metavar="MARKDOWN", help="replace the generated table in this file (docs/claims.md)")
    p.set_defaults(func=_claims_calibration)

    p = sub.add_parser("claims-table", help="the README's claim table from a scorecard CSV")
    p.add_argument("scorecard", help="results/summary/scorecard.csv of a finished study")
    p.add_argument("--write", metavar="MARKDOWN", help="replace the generated table in this file (README.md)")
    p.set_defaults(func=_claims_table)

    p = sub.add_parser("speciation", help="PS4/P2S7/P2S6/free-S units from geometry (JSON on stdout)",
                       description="Thiophosphate speciation of a LAMMPS data file or text dump from elements "
                                   "and positions only (no topology).")
    p.add_argument("file", help="LAMMPS data file (elements from masses) or text dump")
    p.add_argument("--p-s-cutoff", type=float, default=DEFAULT_P_S_CUTOFF,
                   help=f"P-S bond cutoff in Angstrom (default {DEFAULT_P_S_CUTOFF})")
    p.add_argument("--p-p-cutoff", type=float, default=DEFAULT_P_P_CUTOFF,
                   help=f"P-P bond cutoff in Angstrom (default {DEFAULT_P_P_CUTOFF})")
    p.add_argument("--frame", type=int, default=0, help="dump frame index (0 first, -1 last)")
    p.add_argument("--type-elements", help="for dumps without an element column: elements of "
                                           "atom types 1, 2, ... e.g. P,S,P,S,S,P,S,Li")
    p.add_argument("--atoms-out", help="also write per-atom id,element,unit,role,unit_index CSV")
    p.set_defaults(func=_speciation)

    p = sub.add_parser("check-report", help="open the HTML report headless and check every figure is shown")
    p.add_argument("report", help="report.html from snakemake --report")
    p.add_argument("--expect", nargs="+", required=True,
                   help="result paths the report must show (as the workflow names them, e.g. results/figures/*.png)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_check_report)

    p = sub.add_parser("validate", help="kernels beside independent implementations: agreement table")
    p.add_argument("--out", default="results/validation", help="folder of agreement.csv/.md/.html")
    p.add_argument("--ariga-dir", help="folder of Ariga's models and reference_energies.json")
    p.set_defaults(func=_validate)

    _add_neb_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        # bad input: a clear one-line message, not a traceback
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"python -m lipsglass {args.command}: error: {message}", file=sys.stderr)
        return 2
