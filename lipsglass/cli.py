"""Command line of the study: ``python -m lipsglass COMMAND ...``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from lipsglass.composition import DEFAULT_FRACTION_TOLERANCE, UNIT_CHARGES

# Modules that add sub-commands: each defines ``register(subparsers)``, whose parsers set
# ``func`` to a callable taking the parsed arguments and returning an exit code.
COMMAND_MODULES = [
    "lipsglass.d2min", "lipsglass.softness",
    "lipsglass.builder",
    "lipsglass.cost",
    "lipsglass.claims.calibration",
    "lipsglass.claims.scorecard",
    "lipsglass.speciation",
    "lipsglass.transport",
    "lipsglass.homology",
    "lipsglass.report_check",
    "lipsglass.validation",
    "lipsglass.neb",
]


def _energy(args: argparse.Namespace) -> int:
    from lipsglass.engine.energy import evaluate_energy
    from lipsglass.forcefield import ForceField

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
    from lipsglass.core.anions import ANIONS
    from lipsglass.composition import (Composition, li2s_p2s5_ratio, s_excess_over_tie_line,
                                       units_from_p_fractions)
    from lipsglass.forcefield import ForceField

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


def _config_keys(args: argparse.Namespace) -> int:
    """The key table of config/README.md from the schema: printed, or written into a Markdown file
    between its markers."""
    from pathlib import Path

    from lipsglass.config import config_key_table, key_table_in

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
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
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
