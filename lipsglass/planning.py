"""What study would decide each undecided claim: from the measured effect and its spread, the size
(production length, cell size, replicas, converged NEB hops) at which a two-sided test at
``ALPHA`` = 0.05 has ``POWER`` = 0.8 to decide it, that size as config changes, and its cost from
:mod:`lipsglass.cost`.

The sample-size rule is the normal approximation: an estimate x with standard error se against a
decision threshold t is decided when |x - t| > z_(1-alpha/2) se; if the true effect equals the
measured one, power 1 - beta needs se' <= |x - t| / (z_(1-alpha/2) + z_(1-beta)), and since se
falls as 1/sqrt(n) for independent samples the study must grow by the factor
((z_(1-alpha/2) + z_(1-beta)) se / |x - t|)^2 (:func:`size_factor`).

Where the numbers come from, per claim row (the claim tables of :mod:`lipsglass.claims`):

* structured columns, when a stage writes them (preferred): ``effect``, ``effect_se``,
  ``threshold`` and optionally ``sample_size`` / ``sample_unit``;
* C1, C2: the workstation design (:func:`lipsglass.workstation_design.workstation_transport_design`)
  when the finished study's measured runs give one: the cheapest glassy temperatures, run lengths
  (per temperature, ``production.durations_ps``) and replicas at this cell size with which C1's and
  C2's own rules, simulated, decide them with ``POWER``; otherwise ``run_length_needed`` of each
  composition's ``arrhenius.json`` (production length per glassy temperature that would pass the
  diffusive check) and the number of glassy temperatures;
* C9: converged barriers of every NEB glass (``barriers.csv``), by the claim's own plan
  (:func:`lipsglass.claims.neb.c9_plan`): independent converged hops per origin class (soft, hard)
  over the chi-square interval of the within-class barrier spread, divided by the yield (converged /
  attempted over every NEB glass, Wilson interval) and the fraction of hops that stay independent;
  the overlay takes the middle of the range and at least 2 NEB glasses. With no converged hop the
  yield's lower limit is 0: the hops to attempt (at its upper limit) and their cost are lower bounds
  ("at least");
* C10: the structured columns of its row (the planned difference, the SE of the mean over glasses,
  the margin): glasses (replicas) by the size factor;
* otherwise the row's interval (estimate, ci_low, ci_high, level) against the boundary of the
  claim's region (region_low, region_high) that it straddles (:func:`_from_interval`).

A "does not hold" is decided at this study's scale; what would overturn it is the same claim at
the paper's scale (config/paper.yaml): its plan grows the claim's dimension to the paper's
(:func:`overturn_need`).

A factor beyond :data:`MAX_FACTOR` is reported with its size and cost, but left out of the config
overlay (the measured effect is too close to the threshold for a size plan: test an equivalence
margin instead).

Temperatures in the overlay are whole kelvin (ints), as the config schema and the run folders
``nvt/<T>K`` want them.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import yaml
from scipy import stats

from lipsglass.claims.neb import HARD, SOFT, c9_plan
from lipsglass.composition import composition_from_config
from lipsglass.config import merge_config, neb_glasses, selected_glasses
from lipsglass.core.tables import read_rows
from lipsglass.cost import md_atom_steps_per_core_s, md_core_hours

ALPHA = 0.05
POWER = 0.80
MAX_FACTOR = 400.0          # beyond this the effect is practically indistinguishable from the threshold
UNDECIDED = ("not tested",)

# what grows the study, per claim: (dimension, how it maps onto the config)
CLAIM_DIMENSIONS = {
    "C1": ("production ps per temperature", "production"),
    "C2": ("production ps per temperature", "production"),
    "C3": ("glasses (replicas) per composition", "replicas"),  # t over glass replicas (lipsglass.claims.classifier)
    "C4": ("glasses (replicas) per composition", "replicas"),
    "C5": ("Li per glass (cell size)", "cell"),
    "C6": ("Li per glass (cell size)", "cell"),
    "C7": ("Li-S distance samples (replicas)", "replicas"),
    "C8": ("Li per glass (cell size)", "cell"),
    "C9": ("independent converged hops per origin class (soft, hard)", "neb"),
    "C10": ("glasses (replicas) per composition", "replicas"),
    "C11": ("rings per glass (cell size)", "cell"),
    "C12": ("Li per ring-size class (cell size)", "cell"),
}


def z_sum(alpha: float = ALPHA, power: float = POWER) -> float:
    """z_(1-alpha/2) + z_(power): 2.80 at the defaults."""
    return float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))


def size_factor(effect: float, se: float, threshold: float = 0.0, alpha: float = ALPHA, power: float = POWER) -> float:
    """Factor by which the number of independent samples must grow so that an estimate ``effect``
    with standard error ``se`` is decided against ``threshold`` at ``alpha`` with ``power``
    (inf when the effect equals the threshold). At least 1."""
    if not (np.isfinite(effect) and np.isfinite(se)) or se < 0:
        raise ValueError(f"effect and se must be finite, se >= 0; got {effect}, {se}")
    gap = abs(effect - threshold)
    if gap == 0:
        return math.inf
    return max(1.0, (z_sum(alpha, power) * se / gap) ** 2)




@dataclass
class Need:
    """The study that would decide one claim."""

    claim: str
    dimension: str
    factor: float | None = None        # growth of the independent samples (None: not computable)
    current: float | None = None
    needed: float | None = None
    basis: str = ""
    config_changes: dict = field(default_factory=dict)
    core_hours: float | None = None    # extra core-hours over the current study
    cost_basis: str = ""
    core_hours_bound: str = ""         # "at least" when size and cost are lower bounds
    in_overlay: bool = True            # False: sized and costed, but not put into reproduction.yaml

    def summary(self) -> str:
        if self.needed is None and self.factor is None:
            return f"not computable: {self.basis}"
        size = f"{self.dimension}: {self.needed:g} (now {self.current:g})" if self.needed is not None else \
            f"{self.dimension} x{self.factor:.3g}"
        bound = f"{self.core_hours_bound} " if self.core_hours_bound else ""
        cost = f"; {bound}+{self.core_hours:.3g} core-h ({self.cost_basis})" if self.core_hours is not None else ""
        return f"{size}{cost}; {self.basis}"


def _from_structured(row: Mapping) -> tuple[float, str] | None:
    if row.get("size_factor") not in (None, ""):  # the claim's own sizing wins (e.g. C12's equivalence plan)
        return max(1.0, float(row["size_factor"])), row.get("size_basis") or "the claim's own plan"
    try:
        effect, se = float(row["effect"]), float(row["effect_se"])
    except (KeyError, TypeError, ValueError):
        return None
    given = row.get("threshold")
    t = float(given) if given not in (None, "") else 0.0
    f = size_factor(effect, se, t)
    basis = f"measured {effect:.3g} +- {se:.3g} (SE) against {t:g}"
    if row.get("sample_size") not in (None, ""):
        n = float(row["sample_size"])
        unit = row.get("sample_unit") or "independent samples"
        basis += f"; {unit}: {n:g} now, ~{math.ceil(n * f) if math.isfinite(f) else 'inf'} needed"
    return f, basis


def _from_interval(row: Mapping) -> tuple[float, str] | None:
    """Size factor from the claim row's interval (estimate, ci_low, ci_high at ``level``) and its
    region (region_low, region_high): the interval is decided once its half-width falls below the
    distance from the estimate to the region's boundary it straddles (the nearest finite one)."""
    try:
        x, lo, hi, level = (float(row[k]) for k in ("estimate", "ci_low", "ci_high", "level"))
        bounds = [float(row[k]) for k in ("region_low", "region_high")]
    except (KeyError, TypeError, ValueError):
        return None
    bounds = [b for b in bounds if math.isfinite(b)]
    if not bounds or not (math.isfinite(x) and hi >= lo):
        return None
    straddled = [b for b in bounds if lo <= b <= hi] or bounds
    t = min(straddled, key=lambda b: abs(x - b))
    se = (hi - lo) / (2 * float(stats.norm.ppf(0.5 + level / 2)))
    f = size_factor(x, se, t, alpha=1 - level)
    basis = f"interval {x:.3g} [{lo:.3g}, {hi:.3g}] ({level:.0%}) against the region's boundary {t:g}"
    if row.get("sample_size") not in (None, ""):
        n = float(row["sample_size"])
        unit = row.get("sample_unit") or row.get("unit_of_independence") or "independent samples"
        basis += f"; {unit}: {n:g} now, ~{math.ceil(n * f) if math.isfinite(f) else 'inf'} needed"
    return f, basis


def _production_need(row: Mapping, arrhenius: Mapping[str, Mapping], config: Mapping) -> Need:
    dim = CLAIM_DIMENSIONS[row["claim"]][0]
    needed = {}
    for a in arrhenius.values():
        for entry in a.get("run_length_needed") or []:
            if entry.get("duration_ps") is not None:
                T = float(entry["T_K"])
                needed[T] = max(needed.get(T, 0.0), float(entry["duration_ps"]))
    now = float(config["production"]["duration_ps"])
    if not needed:
        return Need(row["claim"], dim, basis="no arrhenius.json gives run_length_needed (every glassy temperature already diffusive)")
    longest = max(needed.values())
    target = float(math.ceil(longest / 10.0) * 10)
    changes = {"production": {"duration_ps": target}}
    temps = sorted(int(round(float(T))) for T in config["production"]["temperatures_K"])  # whole kelvin
    basis = ("longest over compositions and replicas of the production length at which the MSD passes the "
             "diffusive check: " + ", ".join(f"{T:g} K {d:.0f} ps" for T, d in sorted(needed.items())))
    glassy = sorted(T for T in temps if T <= max(needed))  # the temperatures studied as glasses now
    if len(glassy) < 3:  # C1's chi2 test of the Arrhenius form needs >= 3 glassy temperatures
        extra = [m for m in (int(round(0.5 * (a + b))) for a, b in zip(glassy, glassy[1:])) if m not in temps]
        extra = extra[: 3 - len(glassy)]
        if extra:
            changes["production"]["temperatures_K"] = sorted(temps + extra)
            basis += f"; adds {', '.join(f'{T:g} K' for T in extra)} for >= 3 glassy temperatures (C1's chi2 test)"
    return Need(row["claim"], dim, factor=target / now, current=now, needed=target, basis=basis,
                config_changes=changes)


def _neb_need(row: Mapping, barriers: Mapping[str, Sequence[Mapping]], config: Mapping) -> Need:
    """C9 by the claim's own plan (:func:`lipsglass.claims.neb.c9_plan`, criteria ``claims.C9``):
    the range of independent converged hops per origin class and of hops to attempt; the overlay
    asks the middle of the range (the upper yield limit's count, a lower bound, when no hop
    converged) as ``neb.n_per_class`` over at least 2 NEB glasses."""

    dim = CLAIM_DIMENSIONS["C9"][0]
    criteria, level = config["claims"]["C9"], float(config["claims"]["level"])
    plan = c9_plan(barriers, criteria, level)
    glasses = list(neb_glasses(config)) if "neb" in config else list(barriers)
    changes: dict = {"neb": {}}
    if len(glasses) < 2:
        more = [g for g in selected_glasses(config) if g not in glasses][: 2 - len(glasses)]
        glasses += more
        changes["neb"]["glasses"] = list(glasses)
    classes = list(config["neb"]["classes"])
    per_origin = min(sum(c.split("->")[0] == o for c in classes) for o in (SOFT, HARD)) or 1
    low, mid, high = plan["attempt_per_class"]
    attempts = mid if mid is not None else low
    per_class_and_glass = max(int(math.ceil(attempts / (len(glasses) * per_origin))),
                              int(config["neb"].get("n_per_class", 0)))
    changes["neb"]["n_per_class"] = per_class_and_glass
    basis = plan["text"] + (f"; overlay: {per_class_and_glass} per hop class and glass over {len(glasses)} NEB glasses"
                            + ("" if len(glasses) >= 2 else " (a second selected glass is needed: C9 needs >= 2)"))
    independent = float(min(plan["independent_by_origin"].values()))  # the scarcer origin class sizes the study
    return Need("C9", dim, factor=plan["per_class"][1] / independent if independent else None, current=independent,
                needed=float(plan["per_class"][1]), basis=basis, config_changes=changes,
                core_hours_bound="" if mid is not None else "at least")


def plan_need(row: Mapping, config: Mapping, arrhenius: Mapping[str, Mapping] | None = None,
              barriers: Mapping[str, Sequence[Mapping]] | None = None) -> Need | None:
    """The study that would decide one claim row, or None when the row is decided."""
    if row["verdict"] not in UNDECIDED:
        return None
    claim = row["claim"]
    dim, kind = CLAIM_DIMENSIONS.get(claim, ("independent samples", ""))
    structured = _from_structured(row)
    if structured is None and kind == "production" and arrhenius:
        return _production_need(row, arrhenius, config)
    if structured is None and kind == "neb" and barriers is not None:
        return _neb_need(row, barriers, config)
    found = structured or _from_interval(row)
    if found is None:
        return Need(claim, dim, basis="the claim row reports no interval on its estimand (nothing to size a study from)")
    f, basis = found
    need = Need(claim, dim, factor=f, basis=basis)
    if f > MAX_FACTOR:
        need.in_overlay = False
        need.basis = (f"{basis}: would need x{f:.3g} the samples (> {MAX_FACTOR:g}; not in reproduction.yaml); "
                      "the effect is practically at the threshold (test an equivalence margin)")
        if not math.isfinite(f):
            return need
    if kind == "replicas":
        now = int(config.get("replicas", 1))
        need.current, need.needed = float(now), float(int(math.ceil(now * f)))
        need.config_changes = {"replicas": int(need.needed)}
    elif kind == "cell":
        k = int(math.ceil(f))
        need.current, need.needed = 1.0, float(k)
        need.dimension = f"{dim}: unit counts x"
        need.config_changes = {"compositions": {g: {"units": {u: int(n) * k for u, n in e["units"].items()}}
                                                for g, e in config["compositions"].items()}}
    return need


def _n_atoms(config: Mapping) -> int:
    return sum(composition_from_config(g, e).n_atoms for g, e in config["compositions"].items())


def overturn_need(row: Mapping, config: Mapping, paper_config: Mapping) -> Need | None:
    """A "does not hold" at this study's scale would be overturned only by the claim at a larger
    one: the claim's dimension grown to the paper's scale (``paper_config``, config/paper.yaml),
    or None when this study is already at least that large in it."""
    claim = row["claim"]
    dim, kind = CLAIM_DIMENSIONS.get(claim, ("independent samples", ""))
    why = "a 'does not hold' at this scale, retested at the paper's scale (config/paper.yaml)"
    if kind == "replicas":
        now, paper = int(config.get("replicas", 1)), int(paper_config.get("replicas", 1))
        if paper <= now:
            return None
        return Need(claim, dim, factor=paper / now, current=float(now), needed=float(paper), basis=why,
                    config_changes={"replicas": paper})
    if kind == "production":
        now, paper = float(config["production"]["duration_ps"]), float(paper_config["production"]["duration_ps"])
        if paper <= now:
            return None
        return Need(claim, dim, factor=paper / now, current=now, needed=paper, basis=why,
                    config_changes={"production": {"duration_ps": paper}})
    if kind == "neb":
        now = int(config["neb"]["n_per_class"])
        paper = int(paper_config["neb"]["n_per_class"])
        if paper <= now:
            return None
        return Need(claim, dim, factor=paper / now, current=float(now), needed=float(paper), basis=why,
                    config_changes={"neb": {"n_per_class": paper}})
    if kind == "cell":
        now, paper = _n_atoms(config) / len(config["compositions"]), _n_atoms(paper_config) / len(paper_config["compositions"])
        k = int(math.floor(paper / now))
        if k <= 1:
            return None
        return Need(claim, f"{dim}: unit counts x", factor=float(k), current=1.0, needed=float(k),
                    basis=f"{why}: ~{paper:.0f} atoms per glass (now ~{now:.0f})",
                    config_changes={"compositions": {g: {"units": {u: int(n) * k for u, n in e["units"].items()}}
                                                     for g, e in config["compositions"].items()}})
    return Need(claim, dim, basis=f"{why}: no size dimension known for {claim}")


def combined_changes(needs: Iterable[Need]) -> dict:
    """One config overlay that satisfies every need: the largest of each numeric setting, the
    union of temperature lists."""
    out: dict = {}

    def fold(dst: dict, src: Mapping):
        for k, v in src.items():
            if isinstance(v, Mapping):
                fold(dst.setdefault(k, {}), v)
            elif isinstance(v, list):
                dst[k] = sorted(set(dst.get(k, [])) | set(v))
            else:
                dst[k] = max(dst[k], v) if k in dst else v

    for n in needs:
        if n.in_overlay:
            fold(out, n.config_changes)
    return out


def cost_needs(needs: Sequence[Need], config: Mapping, atom_steps_per_core_s: float,
               neb_core_hours_per_hop: float | None) -> None:
    """Fill ``core_hours`` (extra over the current config) of each need: MD from
    :func:`lipsglass.cost.cost_table`, NEB hops at ``neb_core_hours_per_hop``."""
    base = md_core_hours(config, atom_steps_per_core_s)
    for n in needs:
        if not n.config_changes:
            continue
        if "neb" in n.config_changes:
            if neb_core_hours_per_hop is None:
                n.cost_basis = "no measured NEB hop time"
                continue
            planned = merge_config(dict(config), n.config_changes)  # C9's overlay may add NEB glasses
            hops = n.config_changes["neb"]["n_per_class"] * len(config["neb"]["classes"]) * len(neb_glasses(planned))
            now = int(config["neb"]["n_per_class"]) * len(config["neb"]["classes"]) * len(neb_glasses(config))
            n.core_hours = max(0, hops - now) * neb_core_hours_per_hop
            n.cost_basis = (f"{hops} hops at {neb_core_hours_per_hop:.3g} core-h each (mean of the attempted hops, "
                            f"measured at this cell size")
            n.cost_basis += ("; the hop count is a lower bound, and the mean is mostly of cheap rejected hops)"
                             if n.core_hours_bound else ")")
        else:
            n.core_hours = md_core_hours(merge_config(dict(config), n.config_changes), atom_steps_per_core_s) - base
            n.cost_basis = f"MD from python -m lipsglass cost at {atom_steps_per_core_s:.3g} atom-steps/s/core"


def neb_core_hours_per_hop(barriers: Mapping[str, Sequence[Mapping]], ranks_per_replica: int = 1,
                           cores: int | None = None) -> float | None:
    """Mean measured core-hours of a hop: ``wall_s`` of barriers.csv x the cores its ranks kept
    busy. A hop that reached the NEB ran its band (``replicas`` images) and its refinement
    (``refined_replicas``) at ``ranks_per_replica`` MPI ranks per image; busy-polling ranks occupy
    min(ranks, ``cores`` of the machine that ran it) cores (None: this machine's). A hop rejected
    at its end states ran one process. An upper bound: the larger band's ranks for the whole hop."""

    cores = int(cores or os.cpu_count() or 1)
    core_s = []
    for rows in barriers.values():
        for r in rows:
            if r.get("wall_s") in (None, ""):
                continue
            images = max(int(float(r.get(k) or 0)) for k in ("replicas", "refined_replicas"))
            ranks = images * int(ranks_per_replica) if images else 1
            core_s.append(float(r["wall_s"]) * min(ranks, cores))
    return float(np.mean(core_s)) / 3600.0 if core_s else None


WORKSTATION_DIMENSION = "replicas at this cell size (glassy transport temperatures and run lengths: workstation_transport.yaml)"


def workstation_need(claim: str, design: Mapping) -> Need:
    """The C1/C2 plan row of a feasible workstation design
    (:func:`lipsglass.workstation_design.workstation_transport_design`)."""
    return Need(claim, WORKSTATION_DIMENSION, factor=None, current=float(design["replicas_now"]),
                needed=float(design["replicas"]), basis=design["basis"],
                config_changes=copy.deepcopy(design["config_changes"]))


def study_plan(claim_rows: Sequence[Mapping], config: Mapping, arrhenius: Mapping[str, Mapping] | None = None,
               barriers: Mapping[str, Sequence[Mapping]] | None = None,
               atom_steps_per_core_s: float | None = None, paper_config: Mapping | None = None,
               design: Mapping | None = None) -> tuple[list[Need], dict]:
    """Needs of every claim that does not hold (costed) and the config overlay that runs them
    all: undecided claims sized from their intervals, "does not hold" at the paper's scale. An
    undecided C1 or C2 takes the workstation ``design``
    (:func:`lipsglass.workstation_design.workstation_transport_design`) when it is feasible: the
    demo cell decides them, with longer glassy runs and more replicas."""

    rate = atom_steps_per_core_s or md_atom_steps_per_core_s(dict(config))
    needs, at_this_cell = [], []
    for r in claim_rows:
        if (r["claim"] in ("C1", "C2") and r["verdict"] in UNDECIDED and design is not None
                and design.get("feasible")):
            need = workstation_need(r["claim"], design)
            at_this_cell.append(need)
        else:
            need = (overturn_need(r, config, paper_config) if r["verdict"] == "does not hold" and paper_config
                    else plan_need(r, config, arrhenius, barriers))
        if need is not None:
            needs.append(need)
    ranks_per_replica = int(config.get("neb", {}).get("ranks_per_replica", 1))
    cost_needs(needs, config, rate, neb_core_hours_per_hop(barriers or {}, ranks_per_replica))
    for need in at_this_cell:   # the design's own cost: every new or lengthened run, on top of the finished study
        need.core_hours = float(design["core_hours"])
        need.cost_basis = (f"MD on top of the finished study (new and lengthened transport runs, new replicas) at "
                           f"{rate:.3g} atom-steps/s/core; workstation_transport.yaml")
    return needs, combined_changes(needs)


PLAN_COLUMNS = ("claim", "dimension", "current", "needed", "factor", "core_hours", "core_hours_bound", "basis",
                "cost_basis", "config_changes", "in_overlay")


def write_plan(needs: Sequence[Need], overlay: Mapping, config: Mapping, out_csv: str | Path, out_yaml: str | Path,
               atom_steps_per_core_s: float | None = None) -> None:
    """The plan as CSV (one row per undecided claim) and the config overlay as YAML, commented
    with the total cost (``snakemake --configfile`` merges it over config/config.yaml)."""
    rate = atom_steps_per_core_s or md_atom_steps_per_core_s(dict(config))
    with open(out_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=PLAN_COLUMNS)
        w.writeheader()
        for n in needs:
            d = asdict(n)
            d["config_changes"] = json.dumps(d["config_changes"], sort_keys=True)
            w.writerow({k: ("" if d.get(k) is None else d[k]) for k in PLAN_COLUMNS})
    merged = merge_config(dict(config), overlay)
    total = md_core_hours(merged, rate)
    head = [
        "# Study that would decide the undecided claims of the scorecard and retest at the paper's scale those that do not",
        "# hold (generated by the study_plan rule,",
        "# lipsglass.planning): each setting is the largest any claim needs, at alpha 0.05 and power 0.8,",
        "# from the measured effects and spreads; see results/summary/study_plan.csv for the claim-by-claim basis.",
        f"# MD of the whole study: {total:.4g} core-hours at {rate:.3g} atom-steps/s per core (python -m lipsglass cost).",
    ]
    if "neb" in overlay and "compositions" in overlay:

        def atoms(c):
            return sum(composition_from_config(g, e).n_atoms for g, e in c["compositions"].items())

        head.append(f"# NEB hops are costed per hop at the current cell size; this overlay's cells hold "
                    f"x{atoms(merged) / atoms(config):.3g} the atoms, and a hop costs at least that much more.")
    head += [
        "# Plan it on a cluster:",
        "#   snakemake -n --workflow-profile profiles/slurm --configfile config/reproduction.yaml",
    ]
    for n in needs:
        head += textwrap.wrap(f"{n.claim}: {n.summary()}", width=110, initial_indent="#   ", subsequent_indent="#       ",
                              break_long_words=False, break_on_hyphens=False)
    Path(out_yaml).write_text("\n".join(head) + "\n" + (yaml.safe_dump(dict(overlay), sort_keys=True) if overlay else "{}\n"))


def plan_column(needs: Sequence[Need]) -> dict[str, str]:
    """Scorecard column text per claim."""
    return {n.claim: n.summary() for n in needs}


def read_plan(path: str | Path) -> dict[str, str]:
    """Scorecard column text per claim from a study_plan.csv."""
    out = {}
    for r in read_rows(path):
        n = Need(r["claim"], r["dimension"], float(r["factor"]) if r["factor"] else None,
                 float(r["current"]) if r["current"] else None, float(r["needed"]) if r["needed"] else None,
                 r["basis"], json.loads(r["config_changes"] or "{}"),
                 float(r["core_hours"]) if r["core_hours"] else None, r["cost_basis"],
                 r.get("core_hours_bound") or "", r.get("in_overlay", "True") != "False")
        out[n.claim] = n.summary()
    return out
