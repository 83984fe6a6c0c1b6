"""Two finished studies compared within their standard errors (lipsglass.study_comparison): every
result with an SE, quantity by quantity, and whether all agree within the family-wise bound.

    python benchmarks/compare_studies.py STUDY_A STUDY_B [--labels A B] [--json OUT.json]

STUDY_A and STUDY_B are folders holding a finished study's ``results/`` (e.g. the default study run
at md.timestep_fs 1 and 2). The Markdown table goes to stdout; exit code 1 when they disagree.
"""

from __future__ import annotations

import argparse
import json
import sys

from lipsglass.study_comparison import agreement, compare, markdown, study_quantities


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study_a")
    parser.add_argument("study_b")
    parser.add_argument("--labels", nargs=2, default=("A", "B"), help="column labels of the two studies")
    parser.add_argument("--json", help="also write every difference and the summary as JSON")
    args = parser.parse_args(argv)
    diffs, only_one = compare(study_quantities(args.study_a), study_quantities(args.study_b))
    summary = agreement(diffs)
    print(markdown(diffs, only_one, summary, *args.labels))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "differences": [d.to_dict() for d in diffs], "in_one_study_only": only_one},
                      fh, indent=1)
    return 1 if summary["passed"] is False else 0


if __name__ == "__main__":
    sys.exit(main())
