"""What study would decide each undecided claim: from the measured effect and its spread, the size
(production length, cell size, replicas, converged NEB hops) at which a two-sided test at
``ALPHA`` = 0.05 has ``POWER`` = 0.8 to decide it, that size as config changes, and its cost from
:mod:`lipsglass.cost`.

The sample-size rule is the normal approximation: an estimate x with standard error se against a
decision threshold t is decided when |x - t| > z_(1-alpha/2) se; if the true effect equals the
measured one, power 1 - beta needs se' <= |x - t| / (z_(1-alpha/2) + z_(1-beta)), and since se
falls as 1/sqrt(n) for independent samples the study must grow by the factor
((z_(1-alpha/2) + z_(1-beta)) se / |x - t|)^2 (:func:`size_factor`).

Where the numbers come from, per claim row (``measured`` and ``verdict`` of the claims CSVs):

* structured columns, when a stage writes them (preferred): ``effect``, ``effect_se``,
  ``threshold`` and optionally ``sample_size`` / ``sample_unit``;
* C1, C2: ``run_length_needed`` of each composition's ``arrhenius.json`` (production length per
  glassy temperature that would pass the diffusive check) and the number of glassy temperatures;
* C9: converged barriers of every NEB glass (``barriers.csv``): converged hops from the spread of
  the paired differences (the configured assumed spread below 3 converged hops), divided by the
  NEB yield (converged / attempted) for the hops to attempt. With no converged hop the yield is
  unknown: the hops to attempt are then a lower bound, at the one-sided 95 % Clopper-Pearson upper
  limit of the yield (:func:`yield_upper_limit`), and so is their cost ("at least");
* otherwise every "value [lo, hi]" interval in ``measured`` that contains the claim's threshold
  (95 % intervals; the threshold from :data:`CLAIM_THRESHOLDS`): the largest factor decides.

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
import re
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy import stats

from lipsglass.config import neb_glasses

ALPHA = 0.05
POWER = 0.80
YIELD_LEVEL = 0.95          # one-sided level of the upper limit of an NEB yield with no converged hop
MAX_FACTOR = 400.0          # beyond this the effect is practically indistinguishable from the threshold
INTERVAL_LEVEL = 0.95       # level of the intervals read from the measured text
UNDECIDED = ("not tested", "not testable")

# the value a claim's estimate is compared with (its criterion); 0 for differences and correlations
CLAIM_THRESHOLDS = {"C3": 0.7}
# intervals in a row's text that are reported beside the claim's estimate, not the estimate itself
IGNORED_LABELS = ("baseline",)
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
    "C9": ("converged soft->hard + hard->soft hops", "neb"),
    "C10": ("Li per group (cell size)", "cell"),
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


def yield_upper_limit(converged: int, attempted: int, level: float = YIELD_LEVEL) -> float:
    """One-sided Clopper-Pearson upper limit of a yield (success probability) from ``converged``
    of ``attempted``: 1 - (1 - level)^(1/n) when none converged; 1 with nothing attempted."""
    if not 0 <= converged <= attempted or not 0 < level < 1:
        raise ValueError(f"need 0 <= converged <= attempted and 0 < level < 1; got {converged}, {attempted}, {level}")
    if converged == attempted:
        return 1.0
    return float(stats.beta.ppf(level, converged + 1, attempted - converged))


def yield_lower_limit(converged: int, attempted: int, level: float = YIELD_LEVEL) -> float:
    """One-sided Clopper-Pearson lower limit of a yield from ``converged`` of ``attempted``:
    (1 - level)^(1/n) when all converged; 0 when none did."""
    if not 0 <= converged <= attempted or not 0 < level < 1:
        raise ValueError(f"need 0 <= converged <= attempted and 0 < level < 1; got {converged}, {attempted}, {level}")
    if converged == 0:
        return 0.0
    return float(stats.beta.ppf(1 - level, converged, attempted - converged + 1))


def paired_differences(barriers: Mapping[str, Sequence[Mapping]]) -> np.ndarray:
    """C9's paired differences (eV) of the converged soft->hard and hard->soft hops of
    barriers.csv rows: barrier out of the soft site minus barrier out of the hard site of the
    same path (forward - backward for soft->hard, backward - forward for hard->soft)."""
    out = []
    for rows in barriers.values():
        for r in rows:
            if str(r.get("status")) != "converged" or r.get("class") not in ("soft->hard", "hard->soft"):
                continue
            fwd, bwd = float(r["E_forward_eV"]), float(r["E_backward_eV"])
            out.append(fwd - bwd if r["class"] == "soft->hard" else bwd - fwd)
    return np.asarray(out, float)


_INTERVAL = re.compile(r"([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*\[\s*([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*,\s*"
                       r"([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*\]")
_PLUSMINUS = re.compile(r"difference\s+([+-]?\d+(?:\.\d+)?)\s*\+-\s*(\d+(?:\.\d+)?)")


def intervals_in(text: str, ignore: Sequence[str] = IGNORED_LABELS) -> list[tuple[float, float, float]]:
    """Every "value [lo, hi]" in ``text`` with lo <= value <= hi, except those whose label (the
    text since the previous ',', ';' or '(') contains one of ``ignore``."""
    out = []
    text = text or ""
    for m in _INTERVAL.finditer(text):
        x, lo, hi = (float(g) for g in m.groups())
        label = re.split(r"[;,(]", text[:m.start()])[-1].lower()
        if any(word in label for word in ignore):
            continue
        if lo <= x <= hi:
            out.append((x, lo, hi))
    return out


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
    try:
        effect, se = float(row["effect"]), float(row["effect_se"])
    except (KeyError, TypeError, ValueError):
        return None
    given = row.get("threshold")
    t = float(given) if given not in (None, "") else CLAIM_THRESHOLDS.get(row["claim"], 0.0)
    f = size_factor(effect, se, t)
    basis = f"measured {effect:.3g} +- {se:.3g} (SE) against {t:g}"
    if row.get("sample_size") not in (None, ""):
        n = float(row["sample_size"])
        unit = row.get("sample_unit") or "independent samples"
        basis += f"; {unit}: {n:g} now, ~{math.ceil(n * f) if math.isfinite(f) else 'inf'} needed"
    return f, basis


def _from_text(row: Mapping) -> tuple[float, str] | None:
    t = CLAIM_THRESHOLDS.get(row["claim"], 0.0)
    z = float(stats.norm.ppf(0.5 + INTERVAL_LEVEL / 2))
    best = None
    for x, lo, hi in intervals_in(row.get("measured", "")):
        if not lo <= t <= hi:
            continue  # this interval already decides its part
        se = (hi - lo) / (2 * z)
        f = size_factor(x, se, t)
        if best is None or f > best[0]:
            best = (f, f"least decided interval {x:g} [{lo:g}, {hi:g}] (95 %) against {t:g}")
    if best is None:
        m = _PLUSMINUS.search(row.get("measured", ""))
        if m:
            x, se = float(m.group(1)), float(m.group(2))
            best = (size_factor(x, se, t), f"measured difference {x:g} +- {se:g} (SE) against {t:g}")
    return best


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
    """C9 by the NEB stage's own design (lipsglass.stages.neb.c9_claim): converged hops of both
    classes as pairs, the signed-rank size ``pairs_needed`` at the claim's margin and power from
    the observed spread of the paired differences (the configured assumed spread below 3 hops),
    divided by the measured yield (converged / attempted) for the hops to attempt; with no
    converged hop, the hops to attempt at the yield's one-sided upper limit (a lower bound)."""
    from lipsglass.stages.neb import pairs_needed

    dim = CLAIM_DIMENSIONS["C9"][0]
    claims = config.get("neb", {}).get("claims", {})
    margin, power = float(claims.get("c9_margin_eV", 0.1)), float(claims.get("c9_power", POWER))
    diffs = paired_differences(barriers)
    attempted = sum(1 for rows in barriers.values() for r in rows if r.get("class") in ("soft->hard", "hard->soft"))
    if len(diffs) >= 3 and np.std(diffs, ddof=1) > 0:
        sd, spread = float(np.std(diffs, ddof=1)), f"observed paired SD {np.std(diffs, ddof=1):.3g} eV of {len(diffs)} hops"
    else:
        sd = float(claims.get("c9_assumed_sd_eV", 0.3))
        spread = f"assumed paired SD {sd:g} eV (neb.claims.c9_assumed_sd_eV; {len(diffs)} converged hops)"
    # C9 also needs claims.min_hops_per_class converged hops of each class
    need = max(pairs_needed(sd, margin, power=power), 2 * int(claims.get("min_hops_per_class", 10)))
    glasses = max(1, len(barriers))
    if not len(diffs):
        # yield unknown: at its one-sided upper limit the hops to attempt (and their cost) are a lower bound
        hi = yield_upper_limit(0, attempted)
        median = float(stats.beta.median(0.5, attempted + 0.5)) if attempted else None
        to_attempt = int(math.ceil(need / hi))
        per_class_and_glass = max(int(math.ceil(to_attempt / (2 * glasses))), int(config["neb"].get("n_per_class", 0)))
        basis = (f"{need} converged hops from the {spread} at a {margin:g} eV advantage; 0 of {attempted} attempted "
                 f"hops converged, so the yield is at most {hi:.3g} (one-sided {YIELD_LEVEL:.0%} Clopper-Pearson) and "
                 f"at least {to_attempt} hops must be attempted: {per_class_and_glass} per class and glass over "
                 f"{glasses} glass(es)")
        if median is not None:
            basis += (f"; at the Jeffreys-prior median yield {median:.3g} about {math.ceil(need / median)} hops to "
                      f"attempt (the yield must rise first: end states, concerted-move limit, shorter hops)")
        return Need("C9", dim, current=0.0, needed=float(need), basis=basis, core_hours_bound="at least",
                    config_changes={"neb": {"n_per_class": per_class_and_glass}})
    rate = len(diffs) / attempted
    lo = yield_lower_limit(len(diffs), attempted)
    per_class_and_glass = max(int(math.ceil(need / rate / (2 * glasses))), int(config["neb"].get("n_per_class", 0)))
    return Need("C9", dim, factor=need / len(diffs), current=float(len(diffs)), needed=float(need),
                basis=(f"{need} converged hops (signed-rank test, power {power:g}, {margin:g} eV advantage, {spread}); "
                       f"{len(diffs)} of {attempted} attempted hops converged, so ~{math.ceil(need / rate)} attempted "
                       f"(up to {math.ceil(need / lo)} at the yield's one-sided {YIELD_LEVEL:.0%} Clopper-Pearson "
                       f"lower limit {lo:.3g}): {per_class_and_glass} per class and glass over {glasses} glass(es)"),
                config_changes={"neb": {"n_per_class": per_class_and_glass}})


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
    found = structured or _from_text(row)
    if found is None:
        return Need(claim, dim, basis="the claim row reports no effect with an interval or SE (add effect, effect_se)")
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


def _merge(base: dict, changes: Mapping) -> dict:
    out = copy.deepcopy(base)
    for k, v in changes.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


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


def md_core_hours(config: Mapping, atom_steps_per_core_s: float) -> float:
    from lipsglass.cost import cost_table

    return float(sum(r["core_hours"] for r in cost_table(dict(config), atom_steps_per_core_s)))


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
            glasses = len(neb_glasses(config))
            hops = n.config_changes["neb"]["n_per_class"] * len(config["neb"]["classes"]) * glasses
            now = int(config["neb"]["n_per_class"]) * len(config["neb"]["classes"]) * glasses
            n.core_hours = max(0, hops - now) * neb_core_hours_per_hop
            n.cost_basis = (f"{hops} hops at {neb_core_hours_per_hop:.3g} core-h each (mean of the attempted hops, "
                            f"measured at this cell size")
            n.cost_basis += ("; the hop count is a lower bound, and the mean is mostly of cheap rejected hops)"
                             if n.core_hours_bound else ")")
        else:
            n.core_hours = md_core_hours(_merge(dict(config), n.config_changes), atom_steps_per_core_s) - base
            n.cost_basis = f"MD from python -m lipsglass cost at {atom_steps_per_core_s:.3g} atom-steps/s/core"


def neb_core_hours_per_hop(barriers: Mapping[str, Sequence[Mapping]], ranks_per_replica: int = 1,
                           cores: int | None = None) -> float | None:
    """Mean measured core-hours of a hop: ``wall_s`` of barriers.csv x the cores its ranks kept
    busy. A hop that reached the NEB ran its band (``replicas`` images) and its refinement
    (``refined_replicas``) at ``ranks_per_replica`` MPI ranks per image; busy-polling ranks occupy
    min(ranks, ``cores`` of the machine that ran it) cores (None: this machine's). A hop rejected
    at its end states ran one process. An upper bound: the larger band's ranks for the whole hop."""
    import os

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


def read_csv_rows(path: str | Path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


def study_plan(claim_rows: Sequence[Mapping], config: Mapping, arrhenius: Mapping[str, Mapping] | None = None,
               barriers: Mapping[str, Sequence[Mapping]] | None = None,
               atom_steps_per_core_s: float | None = None) -> tuple[list[Need], dict]:
    """Needs of every undecided claim (costed) and the config overlay that runs them all."""
    from lipsglass.cost import DEFAULT_ATOM_STEPS_PER_CORE_S

    rate = atom_steps_per_core_s or DEFAULT_ATOM_STEPS_PER_CORE_S
    rows = [dict(r, measured=r.get("measured") or r.get("numbers", "")) for r in claim_rows]
    needs = [n for n in (plan_need(r, config, arrhenius, barriers) for r in rows) if n is not None]
    ranks_per_replica = int(config.get("neb", {}).get("ranks_per_replica", 1))
    cost_needs(needs, config, rate, neb_core_hours_per_hop(barriers or {}, ranks_per_replica))
    return needs, combined_changes(needs)


PLAN_COLUMNS = ("claim", "dimension", "current", "needed", "factor", "core_hours", "core_hours_bound", "basis",
                "cost_basis", "config_changes", "in_overlay")


def write_plan(needs: Sequence[Need], overlay: Mapping, config: Mapping, out_csv: str | Path, out_yaml: str | Path,
               atom_steps_per_core_s: float | None = None) -> None:
    """The plan as CSV (one row per undecided claim) and the config overlay as YAML, commented
    with the total cost (``snakemake --configfile`` merges it over config/config.yaml)."""
    import yaml

    from lipsglass.cost import DEFAULT_ATOM_STEPS_PER_CORE_S

    rate = atom_steps_per_core_s or DEFAULT_ATOM_STEPS_PER_CORE_S
    with open(out_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=PLAN_COLUMNS)
        w.writeheader()
        for n in needs:
            d = asdict(n)
            d["config_changes"] = json.dumps(d["config_changes"], sort_keys=True)
            w.writerow({k: ("" if d.get(k) is None else d[k]) for k in PLAN_COLUMNS})
    merged = _merge(dict(config), overlay)
    total = md_core_hours(merged, rate)
    head = [
        "# Study that would decide the undecided claims of the scorecard (generated by the study_plan rule,",
        "# lipsglass.planning): each setting is the largest any claim needs, at alpha 0.05 and power 0.8,",
        "# from the measured effects and spreads; see results/summary/study_plan.csv for the claim-by-claim basis.",
        f"# MD of the whole study: {total:.4g} core-hours at {rate:.3g} atom-steps/s per core (python -m lipsglass cost).",
    ]
    if "neb" in overlay and "compositions" in overlay:
        from lipsglass.composition import composition_from_config

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


def study_plan_job(claim_files: Sequence[str], arrhenius_files: Mapping[str, str], barrier_files: Mapping[str, str],
                   config: Mapping, out_csv: str, out_yaml: str) -> None:
    """Workflow job: the plan of every undecided claim of the claim tables (study_plan.csv) and
    the config overlay that would decide them (reproduction.yaml)."""
    rows = [r for path in claim_files for r in read_csv_rows(path)]
    arrhenius = {g: json.loads(Path(p).read_text()) for g, p in arrhenius_files.items()}
    barriers = {g: read_csv_rows(p) for g, p in barrier_files.items()}
    needs, overlay = study_plan(rows, config, arrhenius, barriers)
    write_plan(needs, overlay, config, out_csv, out_yaml)


def read_plan(path: str | Path) -> dict[str, str]:
    """Scorecard column text per claim from a study_plan.csv."""
    out = {}
    for r in read_csv_rows(path):
        n = Need(r["claim"], r["dimension"], float(r["factor"]) if r["factor"] else None,
                 float(r["current"]) if r["current"] else None, float(r["needed"]) if r["needed"] else None,
                 r["basis"], json.loads(r["config_changes"] or "{}"),
                 float(r["core_hours"]) if r["core_hours"] else None, r["cost_basis"],
                 r.get("core_hours_bound") or "", r.get("in_overlay", "True") != "False")
        out[n.claim] = n.summary()
    return out
