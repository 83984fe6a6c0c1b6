"""Command line of the study: ``python -m lipsglass COMMAND ...``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

# Modules that add sub-commands: each defines ``register(subparsers)``, whose parsers set
# ``func`` to a callable taking the parsed arguments and returning an exit code.
COMMAND_MODULES = [
    "lipsglass.d2min", "lipsglass.softness",
    "lipsglass.builder",
    "lipsglass.cost",
    "lipsglass.speciation",
    "lipsglass.transport",
    "lipsglass.homology",
    "lipsglass.report_check",
    "lipsglass.validation",
    "lipsglass.neb",
]


def _energy(args: argparse.Namespace) -> int:
    from lipsglass.energy import evaluate_energy
    from lipsglass.forcefield import ForceField

    ff = ForceField.load(args.forcefield)
    types = args.types.split(",") if args.types else None
    result = evaluate_energy(args.file, ff, atom_types=types, kspace=args.kspace,
                             kspace_accuracy=args.accuracy, threads=args.threads)
    json.dump(result, sys.stdout, indent=1)
    sys.stdout.write("\n")
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
