"""C1/C2 at this cell size: the workstation transport design.

The default study leaves C1/C2 without a single Arrhenius fit (no 10 ps run passes the cage
criterion). Li mobility is intensive: the cell need not grow, the runs must get long enough at
glassy temperatures where Li leave their cage soonest, and the composition Ea precise enough for
C1's margin. :func:`workstation_transport_design` sizes that study from the finished study's
measured runs (diffusion.json + phase.json of every glass, replica and temperature) and Tg
(tg.json): glassy temperatures, their run lengths (``production.durations_ps``) and the replicas
with which C1's and C2's own rules, simulated (:mod:`lipsglass.claims.transport_power`), decide
them with the study plan's ``POWER``, the cheapest by the cost model (:mod:`lipsglass.cost`).

The study plan (:func:`lipsglass.planning.study_plan`) takes a feasible design for an undecided
C1/C2; the rule study_plan writes it as results/summary/workstation_transport.yaml, and
``python -m lipsglass workstation-plan`` from a finished study's results folder
(config/workstation_transport.yaml).
"""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import yaml

from lipsglass import units
from lipsglass.claims.transport import experimental_glass_span
from lipsglass.claims.transport_power import c1_max_se, c2_decided_fraction
from lipsglass.composition import composition_from_config
from lipsglass.config import merge_config, production_duration_ps, selected_glasses
from lipsglass.core.settings import job_settings
from lipsglass.core.tables import read_rows
from lipsglass.cost import cost_table, md_atom_steps_per_core_s, md_core_hours
from lipsglass.planning import POWER
from lipsglass.transport.composition import measured_run_length
from lipsglass.transport.conductivity import nernst_einstein_conductivity
from lipsglass.transport.runs import merge_phase
from lipsglass.transport.settings import TransportSettings

WORKSTATION_MIN_GLASS_FRACTION = 0.75  # the hottest glassy temperature: at least this share of its runs labelled glass
WORKSTATION_LENGTH_MARGIN = 1.5        # run length x this over the linear extrapolation of the measured MSD
WORKSTATION_EA_EV = 0.30               # conservative Ea: run lengths and sigma(300 K) extrapolated below the hottest
#                                        glassy temperature with it (the measured 10 ps runs give an apparent 0.1-0.15 eV,
#                                        their 300 K MSD still caged: a lower bound)
WORKSTATION_MAX_REPLICAS = 10          # beyond this the demo cell is not a workstation design (no design emitted)
WORKSTATION_T_STEP_K = 10              # the lower temperature is searched on this grid
C1_PLANNED_SLOPE_EV_PER_FRACTION = 0.5  # the paper-sized rise of Ea (0.1 eV over 0.05-0.25 P2S6 fraction; the planted
#                                         effect of C1's calibration) when no composition Ea is measured yet


def measured_transport_runs(diffusion_files: Sequence[str | Path], phase_files: Sequence[str | Path]) -> list[dict]:
    """One dict per production run: its diffusion.json with its run_phase label (``phase``,
    :func:`lipsglass.transport.runs.merge_phase`), ``glass``, ``replica`` (from the path
    results/{glass}/r{k}/transport/{T}K/diffusion.json) and ``T_K``."""
    if len(diffusion_files) != len(phase_files):
        raise ValueError(f"{len(diffusion_files)} diffusion results for {len(phase_files)} phase labels")
    out = []
    for d_path, p_path in zip(diffusion_files, phase_files):
        parts = Path(d_path).parts
        run = merge_phase(json.loads(Path(d_path).read_text()), json.loads(Path(p_path).read_text()))
        out.append(dict(run, glass=parts[-5], replica=parts[-4].lstrip("r"),
                        T_K=float(run.get("temperature_K") or parts[-2].rstrip("K"))))
    return out


def replica_tg(tg_files: Sequence[str | Path], quantity: str = "volume") -> dict[tuple[str, str], dict]:
    """Resolved Tg of every replica (results/{glass}/r{k}/quench/tg.json): ``quantity``'s, else
    another resolved quantity's (as run_phase takes it); {(glass, replica): {"Tg_K", "low_K",
    "quantity"}}, low_K the lower limit of its interval; replicas without a resolved Tg are left out."""
    out = {}
    for path in tg_files:
        parts = Path(path).parts
        data = json.loads(Path(path).read_text())
        for q in [quantity] + [x for x in data.get("quantities", ("volume", "enthalpy")) if x != quantity]:
            entry = data.get(q) or {}
            if entry.get("resolved") and entry.get("Tg_K"):
                ci = entry.get("Tg_ci_K") or [None, None]
                low = ci[0] if ci[0] is not None else entry["Tg_K"] - 2.0 * float(entry.get("Tg_stderr_K") or 0.0)
                out[(parts[-4], parts[-3].lstrip("r"))] = {"Tg_K": float(entry["Tg_K"]), "low_K": float(low), "quantity": q}
                break
    return out


def run_length_ps(run: Mapping, settings: TransportSettings) -> float | None:
    """Production length (ps) at which a run's Li pass the cage criterion at the end of the fit
    window, its intercept-corrected MSD extrapolated linearly from the measured window
    (:func:`lipsglass.transport.composition.measured_run_length`, as arrhenius.json's
    run_length_needed); None without Li motion past the vibration."""
    return measured_run_length(run, settings, None)["duration_ps"]


def replica_spread_ln_d(runs: Sequence[Mapping]) -> dict[float, tuple[float, int]]:
    """Replica-to-replica SD of ln D at each measured temperature, pooled over the compositions
    with >= 2 replicas there: {T: (SD, degrees of freedom)}. Where a temperature has runs that pass
    the diffusive check in two replicas of a composition, only those runs count there (the D of
    caged runs, a short-time slope, scatters more: 0.23 in ln D at 500 K over the default study's
    10 ps runs against 0.10 over 90 ps diffusive runs of two of its compositions)."""
    by_T: dict[float, list[Mapping]] = {}
    for r in runs:
        D = r.get("D_cm2_s")
        if D is not None and D > 0:
            by_T.setdefault(float(r["T_K"]), []).append(r)
    by: dict[float, dict[str, list[float]]] = {}
    for T, at in by_T.items():
        diffusive = [r for r in at if r.get("diffusive")]
        per_glass = {g: sum(r["glass"] == g for r in diffusive) for g in {r["glass"] for r in diffusive}}
        use = diffusive if any(n >= 2 for n in per_glass.values()) else at
        for r in use:
            by.setdefault(T, {}).setdefault(r["glass"], []).append(math.log(r["D_cm2_s"]))
    out = {}
    for T, glasses in by.items():
        ss = sum(float(np.sum((np.array(v) - np.mean(v)) ** 2)) for v in glasses.values() if len(v) >= 2)
        dof = sum(len(v) - 1 for v in glasses.values() if len(v) >= 2)
        if dof:
            out[T] = (math.sqrt(ss / dof), dof)
    return out


def _interp_in_inverse_T(values: Mapping[float, float], T: float) -> float:
    """Linear interpolation in 1/T between the measured temperatures, clamped outside them."""
    Ts = sorted(values)
    xs = [1.0 / t for t in Ts][::-1]
    ys = [values[t] for t in Ts][::-1]
    return float(np.interp(1.0 / T, xs, ys))


def _ceil_to(x: float, step: float) -> float:
    return float(math.ceil(x / step - 1e-9) * step)


def _sigma_ne_log10(D_cm2_s: float, n_species: int, volume_A3: float, T_K: float, settings: TransportSettings) -> float:
    sigma, _ = nernst_einstein_conductivity(D_cm2_s, n_species, volume_A3, T_K, float(settings.species_charge_e),
                                            haven_ratio=float(settings.haven_ratio))
    return math.log10(sigma)


def workstation_transport_design(runs: Sequence[Mapping], tg: Mapping[tuple[str, str], Mapping], config: Mapping,
                                 experimental_span: tuple[float, float] | None = None, c1_effect: float | None = None,
                                 atom_steps_per_core_s: float | None = None, ea_eV: float = WORKSTATION_EA_EV,
                                 length_margin: float = WORKSTATION_LENGTH_MARGIN,
                                 max_replicas: int = WORKSTATION_MAX_REPLICAS,
                                 min_glass_fraction: float = WORKSTATION_MIN_GLASS_FRACTION,
                                 t_step_K: int = WORKSTATION_T_STEP_K, power: float = POWER) -> dict:
    """The cheapest study at the finished study's cell size that decides C1 (and C2, when
    ``experimental_span`` is given) from its measured runs (:func:`measured_transport_runs`), or
    why there is none.

    * **Hottest glassy temperature** T_hi: the hottest measured production temperature below the
      lower Tg limit of every replica with a resolved Tg (``tg``, :func:`replica_tg`) at which at
      least ``min_glass_fraction`` of the runs are labelled glass by run_phase (the others are
      named: a longer run may keep their label, and a composition with a liquid replica there
      loses that temperature from its glass fit).
    * **Run lengths**: at T_hi the longest over its runs of the length at which the measured MSD,
      extrapolated linearly, passes the cage criterion at the fit window's end
      (:func:`run_length_ps`), times ``length_margin``; at a lower T that length times
      exp(ea_eV / k_B (1/T - 1/T_hi)) (D falls at least this fast below T_hi if Ea <= ea_eV).
    * **Replicas and the lower temperature** T_lo: C1 takes each composition's Ea and SE from the
      Arrhenius fit over its replica-combined D, whose SE at each temperature is the between-
      replica SE: the pooled replica SD of ln D (:func:`replica_spread_ln_d`, interpolated in 1/T)
      over sqrt(replicas). With two temperatures SE(Ea) = k_B sqrt(se_lo^2 + se_hi^2) /
      (1/T_lo - 1/T_hi). C1 is decided with ``power`` when that SE is at most the largest at which
      its own rule, simulated (:func:`lipsglass.claims.transport_power.c1_max_se`), decides the
      slope ``c1_effect`` (a measured one) or C1_PLANNED_SLOPE_EV_PER_FRACTION against its margin.
      C2 (with ``experimental_span``): log10 sigma(300 K) predicted from the measured D at T_hi
      extrapolated with ea_eV, its SE the fit's extrapolation, decided with ``power`` by its own
      rule, simulated (:func:`lipsglass.claims.transport_power.c2_decided_fraction`).
    * Every T_lo on a ``t_step_K`` grid below T_hi (down to the lowest measured temperature), each
      at the fewest replicas up to ``max_replicas`` that decide both, is costed (MD core-hours on
      top of the finished study, :func:`lipsglass.cost.cost_table`); the cheapest is the design.

    ``config``: the study's configuration (its transport section as the rule's params or a
    whole section). Returns a dict with ``feasible``, the design (``T_lo_K``, ``T_hi_K``,
    ``duration_lo_ps``, ``duration_hi_ps``, ``replicas``), the predictions, ``config_changes``
    (the overlay), ``core_hours`` and ``basis``; without a design, ``reason``."""
    rate = atom_steps_per_core_s or md_atom_steps_per_core_s(dict(config))
    kB = units.BOLTZMANN_EV_K
    tr = job_settings(TransportSettings, config["transport"], "transport")
    p = config["production"]
    crit, level = config["claims"]["C1"], float(config["claims"]["level"])
    glasses = [g for g in selected_glasses(config) if any(r["glass"] == g for r in runs)]
    out: dict = {"feasible": False, "ea_eV": ea_eV, "length_margin": length_margin}
    if not glasses:
        out["reason"] = "no measured production run"
        return out
    runs = [r for r in runs if r["glass"] in glasses]

    # the hottest glassy temperature
    ceiling = min((v["low_K"] for v in tg.values()), default=math.inf)
    measured_T = sorted({float(r["T_K"]) for r in runs}, reverse=True)
    T_hi, notes = None, []
    for T in measured_T:
        at = [r for r in runs if float(r["T_K"]) == T]
        glassy = [r for r in at if r.get("phase") == "glass"]
        lengths = [run_length_ps(r, tr) for r in at]
        if T >= ceiling:
            notes.append(f"{T:g} K: at or above the lowest resolved replica Tg limit {ceiling:.0f} K")
        elif len(glassy) < min_glass_fraction * len(at):
            notes.append(f"{T:g} K: {len(glassy)}/{len(at)} runs labelled glass")
        elif any(x is None for x in lengths):
            notes.append(f"{T:g} K: a run without Li motion past the vibration (no length to extrapolate)")
        else:
            T_hi = T
            break
    if T_hi is None:
        out["reason"] = "no measured glassy temperature to start from (" + "; ".join(notes) + ")"
        return out
    at_hi = [r for r in runs if float(r["T_K"]) == T_hi]
    liquid = [f"{r['glass']} r{r['replica']}" for r in at_hi if r.get("phase") != "glass"]
    lengths = {f"{r['glass']} r{r['replica']}": run_length_ps(r, tr) for r in at_hi}
    longest = max(lengths, key=lengths.get)
    L_meas = lengths[longest]
    L_hi = _ceil_to(length_margin * L_meas, 5.0)

    def length_at(T: float) -> float:
        return _ceil_to(length_margin * L_meas * math.exp(ea_eV / kB * (1.0 / T - 1.0 / T_hi)), 10.0)

    # the measured spread
    spread = replica_spread_ln_d(runs)
    if not spread:
        out["reason"] = "no composition with two replicas: no measured replica spread of D"
        return out
    s_of = {T: v[0] for T, v in spread.items()}
    within = {}
    for r in runs:  # relative SE of one run's D, expected at the planned length (sqrt of the time)
        if r.get("D_cm2_s") and r.get("D_stderr_cm2_s") is not None and r.get("time_span_ps"):
            within.setdefault(float(r["T_K"]), []).append(float(r["D_stderr_cm2_s"]) / float(r["D_cm2_s"])
                                                           * math.sqrt(float(r["time_span_ps"])))

    def se_ln_d(T: float, k: int, L: float) -> float:
        s = _interp_in_inverse_T(s_of, T)
        w = _interp_in_inverse_T({t: float(np.mean(v)) for t, v in within.items()}, T) / math.sqrt(L) if within else 0.0
        return max(s, w) / math.sqrt(k)

    # C1's target
    x = np.array([composition_from_config(g, config["compositions"][g]).fraction_of_P()["P2S6"] for g in glasses])
    sxx = float(np.sum((x - x.mean()) ** 2))
    margin = float(crit["margin_eV_per_fraction"])
    effect = C1_PLANNED_SLOPE_EV_PER_FRACTION if c1_effect is None else float(c1_effect)
    n = len(glasses)
    if n < max(3, int(crit["min_glasses"])) or sxx == 0:
        out["reason"] = (f"{n} composition(s) selected: C1's slope needs >= {max(3, int(crit['min_glasses']))} at "
                         "distinct P2S6 fractions")
        return out
    replicas_now = int(config.get("replicas", 1))
    ks = range(max(2, replicas_now), max_replicas + 1)
    se_ea_max = {k: c1_max_se(k, x, effect, margin, level, power) for k in ks}   # C1's own rule, simulated

    # C2's prediction
    T_x = float(tr.extrapolation_T_K)
    c2 = None
    if experimental_span is not None:
        m2 = float(config["claims"]["C2"]["margin_decades"])
        lo, hi = math.log10(experimental_span[0]) - m2, math.log10(experimental_span[1]) + m2
        pred = {}
        for g in glasses:
            rs = [r for r in at_hi if r["glass"] == g and (r.get("D_cm2_s") or 0) > 0 and r.get("n_atoms")
                  and r.get("volume_A3")]
            if not rs:
                out["reason"] = f"a composition without a positive D at {T_hi:g} K: no sigma({T_x:g} K) to predict for C2"
                return out
            D = float(np.mean([r["D_cm2_s"] for r in rs])) * math.exp(-ea_eV / kB * (1.0 / T_x - 1.0 / T_hi))
            pred[g] = _sigma_ne_log10(D, int(rs[0]["n_atoms"]), float(np.mean([r["volume_A3"] for r in rs])), T_x, tr)
        c2 = {"region": (lo, hi), "predicted_log10_sigma": pred}

    temps_now = [int(T) for T in p["temperatures_K"]]

    def changes_for(T_lo: int, k: int) -> dict:
        durations = {int(T): float(v) for T, v in (p.get("durations_ps") or {}).items()}
        durations.update({int(T_lo): length_at(T_lo), int(T_hi): L_hi})
        return {"production": {"temperatures_K": sorted(set(temps_now) | {int(T_lo), int(T_hi)}),
                               "durations_ps": dict(sorted(durations.items()))},
                "replicas": int(k)}

    def on_top(changes: dict) -> float:
        """MD core-hours to run on top of the finished study: the new and lengthened transport runs
        of every replica, and the quench and other runs of the new replicas."""
        merged = merge_config(dict(config), changes)
        k = int(merged["replicas"])
        total = 0.0
        for row in cost_table(merged, rate):
            if row["glass"] not in glasses:
                continue
            T = row["rule"].split()[-1][:-1] if row["rule"].startswith("production") else None
            redo = T is not None and (int(T) not in temps_now or production_duration_ps(merged["production"], int(T))
                                      != production_duration_ps(p, int(T)))
            total += row["core_hours"] if redo else row["core_hours_per_replica"] * max(0, k - replicas_now)
        return total

    def c2_power(k: int, se_log: float) -> float:
        if c2 is None:
            return 1.0
        return c2_decided_fraction(list(c2["predicted_log10_sigma"].values()), se_log, k, c2["region"], level)

    best = None
    T_grid = range(int(T_hi) - t_step_K, int(min(measured_T)) - 1, -t_step_K)
    for T_lo in T_grid:
        dx = 1.0 / T_lo - 1.0 / T_hi
        L_lo = length_at(T_lo)
        for k in ks:
            se_lo, se_hi = se_ln_d(T_lo, k, L_lo), se_ln_d(T_hi, k, L_hi)
            se_ea = kB * math.sqrt(se_lo ** 2 + se_hi ** 2) / dx
            if se_ea > se_ea_max[k]:
                continue
            w_lo = (1.0 / T_x - 1.0 / T_hi) / dx                  # extrapolation weights of ln D(T_x)
            se_log = math.sqrt((w_lo * se_lo) ** 2 + ((1.0 - w_lo) * se_hi) ** 2) / math.log(10)
            power2 = c2_power(k, se_log)
            if power2 < power:
                continue
            changes = changes_for(T_lo, k)
            cost = on_top(changes)
            if best is None or cost < best["core_hours"] - 1e-9:
                best = {"T_lo_K": int(T_lo), "replicas": k, "se_Ea_eV": se_ea, "se_log10_sigma": se_log,
                        "core_hours": cost, "config_changes": changes, "c2_power": power2, "L_lo": L_lo,
                        "se_Ea_max_eV": se_ea_max[k]}
            break  # more replicas at this T_lo only cost more
    s_text = ", ".join(f"{T:g} K {v[0]:.3f} ({v[1]} dof)" for T, v in sorted(spread.items()))
    out.update({"T_hi_K": int(T_hi), "duration_hi_ps": L_hi, "measured_length_ps": L_meas, "longest_run": longest,
                "lengths_at_T_hi_ps": lengths, "liquid_at_T_hi": liquid, "replica_spread_ln_D": spread,
                "se_Ea_max_eV": se_ea_max, "c1_effect": effect, "c1_margin": margin, "glasses": glasses,
                "Tg_ceiling_K": ceiling if math.isfinite(ceiling) else None})
    if c2 is not None:
        out["c2_region"] = c2["region"]
        out["c2_predicted_log10_sigma"] = c2["predicted_log10_sigma"]
    head = (f"T_hi {T_hi:g} K: the hottest measured temperature below every resolved replica Tg limit "
            + (f"({ceiling:.0f} K) " if math.isfinite(ceiling) else "(none resolved) ")
            + f"with >= {min_glass_fraction:.0%} of its runs glass"
            + (f" ({', '.join(liquid)} labelled liquid there in the finished study)" if liquid else "")
            + f"; {L_hi:g} ps there = {length_margin:g} x the {L_meas:.0f} ps at which the measured MSD of {longest} "
            f"(the slowest), extrapolated linearly, passes the cage criterion; lower temperatures x exp({ea_eV:g} eV / k_B "
            f"(1/T - 1/T_hi)); replica SD of ln D {s_text}; C1 (slope {effect:g} "
            f"{'measured' if c1_effect is not None else 'planned, the paper-sized rise'} against the {margin:g} margin, "
            f"{n} compositions) is decided with power {power:.0%} by its own rule (simulated) at a composition "
            "SE(Ea) <= " + ", ".join(f"{v:.3f}" for v in list(se_ea_max.values())[:4]) + " eV with "
            + ", ".join(str(k) for k in list(se_ea_max)[:4]) + " replicas")
    if best is None:
        out["reason"] = (head + f": no lower temperature down to {min(measured_T):g} K with <= {max_replicas} replicas "
                         "decides " + ("C1 and C2" if c2 is not None else "C1"))
        out["basis"] = out["reason"]
        return out
    out.update(feasible=True, replicas_now=replicas_now, T_lo_K=best["T_lo_K"], duration_lo_ps=best["L_lo"],
               replicas=best["replicas"], se_Ea_eV=best["se_Ea_eV"], se_Ea_target_eV=best["se_Ea_max_eV"],
               se_log10_sigma=best["se_log10_sigma"], c2_power=best["c2_power"], core_hours=best["core_hours"],
               config_changes=best["config_changes"])
    c2_part = ""
    if c2 is not None:
        c2_part = (f"; C2 (log10 sigma({T_x:g} K) predicted from the measured D at {T_hi:g} K with {ea_eV:g} eV: "
                   + ", ".join(f"{g} {v:.2f}" for g, v in c2["predicted_log10_sigma"].items())
                   + f"; region [{c2['region'][0]:.2f}, {c2['region'][1]:.2f}]) decided with power "
                   f"{best['c2_power']:.0%} at SE {best['se_log10_sigma']:.2f} decade")
    out["basis"] = (head + f": {best['T_lo_K']} K ({best['L_lo']:g} ps) and {T_hi:g} K ({L_hi:g} ps) x "
                    f"{best['replicas']} replicas give SE(Ea) {best['se_Ea_eV']:.3f} eV{c2_part}; cheapest of every "
                    f"lower temperature on a {t_step_K} K grid and replica count")
    return out


def design_from_files(run_files: Sequence[str | Path], phase_files: Sequence[str | Path], tg_files: Sequence[str | Path],
                      config: Mapping, experimental_csv: str | Path | None = None,
                      claim_rows: Sequence[Mapping] = (), **kwargs) -> dict:
    """:func:`workstation_transport_design` from the finished study's files; C1's effect from its
    claim row when the row measured one (structured ``effect``), else the planned one."""
    runs = measured_transport_runs(run_files, phase_files)
    tg = replica_tg(tg_files, config.get("glass_transition", {}).get("tg_quantity", "volume"))
    c1 = next((r for r in claim_rows if r.get("claim") == "C1"), {})
    try:
        effect = float(c1["effect"]) if c1.get("effect") not in (None, "") else None
    except (TypeError, ValueError):
        effect = None
    span = experimental_glass_span(experimental_csv) if experimental_csv else None
    return workstation_transport_design(runs, tg, config, experimental_span=span, c1_effect=effect, **kwargs)


def design_from_results(results: str | Path, config: Mapping, experimental_csv: str | Path | None = None
                        ) -> tuple[dict, int]:
    """:func:`design_from_files` from a finished study's results folder (every replica's
    transport/{T}K/diffusion.json and phase.json, quench/tg.json and, when present,
    summary/transport_claims.csv of the selected glasses); (the design, the number of runs read)."""
    root = Path(results)
    glasses = selected_glasses(dict(config))
    runs = sorted(str(f) for g in glasses for f in root.glob(f"{g}/r*/transport/*K/diffusion.json"))
    phases = [str(Path(f).with_name("phase.json")) for f in runs]
    tgs = sorted(str(f) for g in glasses for f in root.glob(f"{g}/r*/quench/tg.json"))
    claims = root / "summary" / "transport_claims.csv"
    rows = read_rows(claims) if claims.is_file() else []
    return design_from_files(runs, phases, tgs, config, experimental_csv, rows), len(runs)


def write_workstation_overlay(design: Mapping, config: Mapping, out_yaml: str | Path,
                              atom_steps_per_core_s: float | None = None, source: str = "") -> None:
    """The workstation design as a config overlay (``snakemake --configfile config/config.yaml
    <it>``), commented with its basis and MD core-hours; ``{}`` with the reason when the demo
    cell cannot decide C1/C2."""
    rate = atom_steps_per_core_s or md_atom_steps_per_core_s(dict(config))
    head = ["# Workstation transport design: the cheapest study at this cell size that decides C1 and C2 (glassy",
            "# Arrhenius fits of every composition), sized from the finished study's measured runs by the study planner",
            "# (rule study_plan, lipsglass.workstation_design; python -m lipsglass workstation-plan)."]
    if source:
        head.append(f"# {source}")
    if not design.get("feasible"):
        head += textwrap.wrap(f"No design at this cell size: {design.get('reason', 'not computed')}", width=110,
                              initial_indent="# ", subsequent_indent="#   ", break_long_words=False,
                              break_on_hyphens=False)
        Path(out_yaml).write_text("\n".join(head) + "\n{}\n")
        return
    merged = merge_config(dict(config), design["config_changes"])
    total = md_core_hours(merged, rate)
    lo, hi = design["T_lo_K"], design["T_hi_K"]
    head += [
        f"# Design: {lo} K for {design['duration_lo_ps']:g} ps and {hi} K for {design['duration_hi_ps']:g} ps (NVT production,",
        f"# production.durations_ps), {design['replicas']} replicas per composition; the other temperatures keep their runs.",
        f"# Predicted: composition SE(Ea) {design['se_Ea_eV']:.3f} eV (C1 needs <= {design['se_Ea_target_eV']:.3f}), "
        f"SE of log10 sigma(300 K) {design['se_log10_sigma']:.2f} decade.",
        f"# MD: {design['core_hours']:.3g} core-hours on top of the finished study (new and lengthened runs, new replicas);",
        f"# {total:.3g} core-hours for the whole study's MD from scratch, at {rate:.3g} atom-steps/s per core on one rank",
        "# (python -m lipsglass cost config/workstation_transport.yaml --md-ranks 1).",
        "# Run the transport part on a workstation (every composition, or select some with --config glasses=...):",
        "#   snakemake --cores 2 --configfile config/config.yaml config/workstation_transport.yaml \\",
        "#     -- results/summary/transport_claims.csv",
        "# Basis:",
    ]
    head += textwrap.wrap(design["basis"], width=110, initial_indent="#   ", subsequent_indent="#   ",
                          break_long_words=False, break_on_hyphens=False)
    Path(out_yaml).write_text("\n".join(head) + "\n" + yaml.safe_dump(dict(design["config_changes"]), sort_keys=True))
