"""Transport of a composition: the production runs of its independent glass replicas combined.

Per temperature, every replica's D (and conductivities, Haven ratio) is combined with
:func:`lipsglass.replicas.combine_replicas` (unweighted mean; SE the larger of the between-replica
and the propagated within-replica SE), so every composition-level number includes the
glass-to-glass variation.

A temperature is diffusive for the composition (``composition_diffusive``) when every replica's
Li pass the cage criterion and the composition's MSD is linear in the fit window: the linearity
part of the diffusive check is applied to the replica-combined difference D_early - D_late, the
quantity whose mean the composition D is, not run by run. The per-run test's SE of that
difference is an atom bootstrap, which treats Li as independent; correlated Li motion makes it
too small (over the 12 runs at 500 K of the workstation overlay the per-run z-scores had an rms
of 1.46, not 1), so requiring every run to pass rejected truly linear compositions far more often
than its nominal 1 % per run. Replicas are independent glasses, so the between-replica spread of
the difference carries every correlation: the composition test is |mean| / SE against Student's
t with n - 1 degrees of freedom at the per-run test's level (two-sided 1 % for linearity_z
2.576). Its false-positive rate on a null of correlated Li and its power on a planted bending are
measured in tests/test_composition_linearity.py. Each run's own test is still reported.

Each temperature carries the glass/liquid labels of its runs: it is
``glass`` when every replica's run is glassy, ``liquid`` when every run is liquid, ``mixed``
otherwise. The Arrhenius fit behind claims C1/C2 uses the temperatures of the phases in
``transport.arrhenius_phases`` (default: glass only); fits of each regime are reported beside it.

Where the glassy temperatures cannot be resolved (Li does not leave its cage within the run),
``run_length_needed`` estimates the production length that would resolve them, from the
Arrhenius D of the runs that were resolved and the configured cage criterion.

Units: T in K, D in cm^2/s, Ea in eV, times in ps, MSD in A^2, volumes in A^3.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from scipy import stats

from lipsglass import units
from lipsglass.replicas import COMBINATION_ESTIMATOR, combine_replicas
from lipsglass.transport.arrhenius import arrhenius_summary
from lipsglass.transport.settings import TransportSettings

__all__ = ["composition_linearity", "composition_diffusive", "combine_temperature", "phase_of_fit",
           "measured_run_length", "run_length_needed", "composition_summary", "per_replica_ea"]


def composition_linearity(runs: Sequence[Mapping]) -> dict:
    """Linearity part of the diffusive check for one temperature of a composition, on the
    replica-combined D_early - D_late (cm^2/s) of its runs (one per replica).

    The difference of each run and its atom-bootstrap SE are combined with
    :func:`lipsglass.replicas.combine_replicas` (mean; SE the larger of the between-replica and
    the propagated within-replica SE); the statistic mean / SE is compared with Student's t at
    n - 1 degrees of freedom and the two-sided level of the runs' own ``linearity_z`` (one
    replica: the run's own test, against ``linearity_z``). Conservative when the within-replica
    floor binds. With 2-3 replicas the critical value is large (t(0.995, 1) = 63.7,
    t(0.995, 2) = 9.9): the test then detects only gross bending, as its measured power says."""
    n = len(runs)
    if n == 0:
        raise ValueError("no runs to test")
    needed = ("D_early_cm2_s", "D_late_cm2_s", "D_difference_stderr_cm2_s", "linearity_z")
    untested = [k for k, r in enumerate(runs) if any(r.get(key) is None for key in needed)]
    if untested:
        why = "; ".join(f"r{k + 1}: {runs[k].get('diffusive_reason', '')}" for k in untested)
        return {"linear": False, "n_replicas": n,
                "reason": f"linearity not tested in {', '.join(f'r{k + 1}' for k in untested)} ({why})"}
    levels = {r["linearity_z"] for r in runs}
    if len(levels) != 1:
        raise ValueError(f"runs of one temperature were checked at different linearity_z: {sorted(levels)}")
    z_run = float(levels.pop())
    alpha = float(2.0 * stats.norm.sf(z_run))
    diff = [r["D_early_cm2_s"] - r["D_late_cm2_s"] for r in runs]
    comb = combine_replicas(diff, [r["D_difference_stderr_cm2_s"] for r in runs])
    mean, se = comb["mean"], comb["stderr"]
    if mean is None or se is None:
        return {"linear": False, "n_replicas": n, "reason": f"linearity not tested: {comb['reason']}"}
    critical = z_run if n == 1 else float(stats.t.ppf(1.0 - alpha / 2.0, n - 1))
    if se > 0:
        statistic = mean / se
    else:
        statistic = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    linear = bool(abs(statistic) <= critical)
    reference = "N(0, 1), the run's own test" if n == 1 else f"t({1 - alpha / 2:.4g}, {n - 1})"
    rejected = [f"r{k + 1} (z = {r['linearity_z_score']:.2f})" for k, r in enumerate(runs) if r.get("linear") is False]
    shape = "" if linear else (" (MSD bends down, sub-diffusive in the window)" if statistic > 0
                               else " (MSD bends up: ballistic motion or residual drift)")
    reason = (f"{'linear' if linear else 'not linear'}: replica mean D_early - D_late = {mean:.3e} +- {se:.3e} cm^2/s "
              f"({comb['stderr_source']} SE), |{statistic:.2f}| {'<=' if linear else '>'} {critical:.3g} = {reference}"
              f"{shape}; runs whose own test rejects (information): {', '.join(rejected) or 'none'}")
    return {"linear": linear, "n_replicas": n, "D_difference_cm2_s": mean, "D_difference_stderr_cm2_s": se,
            "stderr_source": comb["stderr_source"], "statistic": float(statistic), "critical": critical,
            "level_two_sided": alpha, "reference": reference, "D_difference_replicas_cm2_s": diff,
            "runs_rejected_alone": rejected, "reason": reason}


def composition_diffusive(runs: Sequence[Mapping]) -> tuple[bool, str, dict]:
    """Whether one temperature of a composition is diffusive: every replica's Li past the cage
    (runs without a site spacing are not cage-tested) and the composition's MSD linear
    (:func:`composition_linearity`). Returns (diffusive, reason, linearity dict)."""
    lin = composition_linearity(runs)
    caged = [f"r{k + 1}: {r.get('diffusive_reason', '')}" for k, r in enumerate(runs) if r.get("past_cage") is False]
    parts = ([] if lin["linear"] else [lin["reason"]]) + caged
    if not parts:
        return True, f"every replica past the cage; {lin['reason']}", lin
    return False, "; ".join(parts), lin


def combine_temperature(runs: Sequence[Mapping]) -> dict:
    """One temperature of a composition from the runs of its replicas (one run per replica)."""
    T = runs[0]["temperature_K"]
    if any(abs(r["temperature_K"] - T) > 1e-6 for r in runs):
        raise ValueError(f"runs of different temperatures combined: {[r['temperature_K'] for r in runs]}")
    D = combine_replicas([r["D_cm2_s"] for r in runs], [r["D_stderr_cm2_s"] for r in runs])
    ne = combine_replicas([r.get("sigma_NE_S_cm") for r in runs], [r.get("sigma_NE_stderr_S_cm") for r in runs])
    sc = combine_replicas([r.get("sigma_einstein_S_cm") for r in runs], [r.get("sigma_einstein_stderr_S_cm") for r in runs])
    hv = combine_replicas([r.get("haven_ratio_measured") for r in runs], [r.get("haven_ratio_measured_stderr") for r in runs])
    labels = [r.get("phase") for r in runs]
    if all(x == "glass" for x in labels):
        phase = "glass"
    elif all(x == "liquid" for x in labels):
        phase = "liquid"
    else:
        phase = "mixed"
    n_diff = sum(bool(r["diffusive"]) for r in runs)
    diffusive, why_diffusive, linearity = composition_diffusive(runs)
    crit = [(r.get("phase_criteria") or {}).get("criteria", {}) for r in runs]
    return {
        "temperature_K": T, "n_replicas": len(runs),
        "D_cm2_s": D["mean"], "D_stderr_cm2_s": D["stderr"], "D_ci95_cm2_s": D["ci95"],
        "stderr_source": D["stderr_source"] or D.get("reason"), "D_combination": D,
        "D_replicas_cm2_s": [r["D_cm2_s"] for r in runs], "D_stderr_replicas_cm2_s": [r["D_stderr_cm2_s"] for r in runs],
        "n_diffusive": n_diff, "diffusive": diffusive, "diffusive_reason": why_diffusive,
        "composition_linearity": linearity,
        "phase": phase, "n_glass_runs": sum(x == "glass" for x in labels),
        "phase_reason": "; ".join(f"r{k + 1} {r.get('phase')}: {r.get('phase_reason', '')}" for k, r in enumerate(runs)),
        "density_change_pct_replicas": [c.get("density", {}).get("density_change_percent") for c in crit],
        "T_over_Tg_replicas": [c.get("T_over_Tg", {}).get("T_over_Tg") for c in crit],
        "sigma_NE_S_cm": ne["mean"], "sigma_NE_stderr_S_cm": ne["stderr"],
        "sigma_collective_S_cm": sc["mean"], "sigma_collective_stderr_S_cm": sc["stderr"],
        "haven_ratio": hv["mean"], "haven_ratio_stderr": hv["stderr"],
        "cage_threshold_A2": max((r.get("cage_threshold_A2") or 0.0) for r in runs) or None,
        "runs": list(runs),
    }


def phase_of_fit(combined: Sequence[Mapping], reasons: Sequence[str | None]) -> str | None:
    """The phase of the temperatures that entered the fit ('mixed' for several; None: no fit)."""
    used = {c["phase"] for c, why in zip(combined, reasons) if why is None}
    if not used:
        return None
    return used.pop() if len(used) == 1 else "mixed"


def measured_run_length(run: Mapping, settings: TransportSettings, duration_ps: float | None) -> dict:
    """Production length one run would need to pass the cage criterion, from its own MSD: the
    intercept-corrected MSD grows linearly in a diffusive regime (6 D t), so the fit window must
    end at t* = t_end x threshold / (MSD(t_end) - intercept); the window ends at fit_end_frac x
    duration / n_blocks, so duration = t* x n_blocks / fit_end_frac. The relative SE of D then
    follows the measured one scaled by sqrt(duration_now / duration) (independent time blocks)."""
    past, threshold, t_end = run.get("msd_past_cage_A2"), run.get("cage_threshold_A2"), run.get("fit_end_ps")
    if past is None or threshold is None or not t_end:
        return {"duration_ps": None, "reason": "the run reports no cage check"}
    if not past > 0:
        return {"duration_ps": None, "reason": (f"no Li motion beyond the vibration in the fit window (MSD - intercept "
                                                f"= {past:.3g} A^2): a length cannot be extrapolated from this run")}
    t_star = float(t_end) * float(threshold) / float(past)
    duration = t_star * float(settings.n_blocks) / float(settings.fit_end_frac)
    out = {"duration_ps": duration, "window_end_needed_ps": t_star, "msd_past_cage_A2": past,
           "cage_threshold_A2": threshold, "fit_end_ps": t_end}
    D, se = run.get("D_cm2_s"), run.get("D_stderr_cm2_s")
    if duration_ps and D and se is not None and D > 0:
        out["relative_stderr_now"] = se / D
        out["relative_stderr_expected"] = se / D * math.sqrt(float(duration_ps) / max(duration, float(duration_ps)))
    return out


def run_length_needed(combined: Sequence[Mapping], reasons: Sequence[str | None], reference_fit: Mapping | None,
                      settings: TransportSettings | Mapping, duration_ps: float | Mapping[int, float] | None
                      ) -> list[dict]:
    """For every glassy temperature left out of the fit: the production length that would let Li
    pass the cage criterion of the diffusive check inside the fit window.

    Primary estimate, from the measured runs (``measured_run_length``; the longest over the
    replicas). Second estimate, where an Arrhenius fit of resolved runs exists
    (``reference_fit``; an extrapolation, said so): D predicted at T, t_cage = threshold / (6 D),
    duration = t_cage x n_blocks / fit_end_frac. ``settings``: a config section is parsed
    (``TransportSettings.from_config``). ``duration_ps``: the production length of the runs, or
    {T (whole kelvin): length} when the temperatures differ (production.durations_ps)."""
    settings = TransportSettings.of(settings)
    out = []
    for c, why in zip(combined, reasons):
        if c["phase"] != "glass" or why is None:
            continue
        T = c["temperature_K"]
        now = duration_ps.get(round(T)) if isinstance(duration_ps, Mapping) else duration_ps
        per_replica = [measured_run_length(r, settings, now) for r in c.get("runs", [])]
        lengths = [r["duration_ps"] for r in per_replica if r["duration_ps"] is not None]
        row = {"T_K": T, "left_out_because": why, "current_duration_ps": now,
               "per_replica": per_replica,
               "duration_ps": (max(lengths) if len(lengths) == len(per_replica) and lengths else None),
               "basis": ("measured: the intercept-corrected MSD of each replica extrapolated linearly until it "
                         f"reaches the cage threshold at the end of the fit window (n_blocks {settings.n_blocks}, "
                         f"fit_end_frac {settings.fit_end_frac}); the longest over the replicas")}
        if row["duration_ps"] is None:
            row["reason"] = "; ".join(r.get("reason", "") for r in per_replica if r["duration_ps"] is None)
        if reference_fit is not None and reference_fit.get("status") == "ok" and c.get("cage_threshold_A2"):
            ln_d0, ea = reference_fit["ln_D0"], reference_fit["Ea_eV"]
            D_pred = math.exp(ln_d0 - ea / (units.BOLTZMANN_EV_K * T))       # cm^2/s
            t_cage = c["cage_threshold_A2"] / (6.0 * D_pred * 1e4)               # 1 cm^2/s = 1e4 A^2/ps
            row["arrhenius_estimate"] = {
                "D_predicted_cm2_s": D_pred,
                "duration_ps": t_cage * float(settings.n_blocks) / float(settings.fit_end_frac),
                "basis": (f"Arrhenius fit over {reference_fit['temperatures_used_K']} K (Ea {ea:.3f} eV) extrapolated to "
                          f"{T:g} K")}
        out.append(row)
    return out


def composition_summary(replica_runs: Sequence[Sequence[Mapping]], settings: TransportSettings | Mapping,
                        n_species: int, volume_A3: float, volume_source: str,
                        duration_ps: float | Mapping[int, float] | None = None
                        ) -> tuple[dict, list[dict], list[str | None]]:
    """Combined D(T) of the replicas (each a list of runs with phase labels) and the Arrhenius fits.

    ``settings``: a config section is parsed (``TransportSettings.from_config``).
    Returns (arrhenius.json dict, combined rows, exclusion reason per temperature)."""
    settings = TransportSettings.of(settings)
    by_T: dict[int, list[Mapping]] = {}
    for runs in replica_runs:
        for r in runs:
            by_T.setdefault(round(r["temperature_K"]), []).append(r)
    n = len(replica_runs)
    incomplete = {T: len(v) for T, v in by_T.items() if len(v) != n}
    if incomplete:
        raise ValueError(f"temperatures without a run in every replica: {incomplete}")
    combined = [combine_temperature(by_T[T]) for T in sorted(by_T)]
    phases = list(settings.arrhenius_phases or ["glass"])
    summary, reasons = arrhenius_summary(combined, settings, n_species, volume_A3, volume_source, phases)
    fits_by_phase = {}
    for ph in (["glass"], ["liquid"], ["glass", "liquid", "mixed"]):
        name = "+".join(ph) if len(ph) < 3 else "all"
        fit, _ = arrhenius_summary(combined, settings, n_species, volume_A3, volume_source, ph)
        fits_by_phase[name] = {k: fit.get(k) for k in ("status", "reason", "Ea_eV", "Ea_stderr_eV", "ln_D0", "ln_D0_stderr",
                                                        "D0_cm2_s", "temperatures_used_K", "chi2", "dof")}
    summary["fits_by_phase"] = fits_by_phase
    summary["phase_of_fit"] = phase_of_fit(combined, reasons)
    used = summary["temperatures_used_K"]
    summary["fit_T_range_K"] = [min(used), max(used)] if used else None
    T_x = float(settings.extrapolation_T_K)
    label = f"{round(T_x)}K"
    sig, sig_se = summary.get(f"sigma_{label}_S_cm"), summary.get(f"sigma_{label}_stderr_S_cm")
    summary[f"sigma_{label}_ln_stderr"] = (sig_se / sig) if (sig and sig_se is not None and sig > 0) else None
    summary["replicas"] = n
    summary["combination_estimator"] = COMBINATION_ESTIMATOR
    reference = fits_by_phase["all"] if summary.get("status") != "ok" else summary
    summary["run_length_needed"] = run_length_needed(combined, reasons, reference, settings, duration_ps)
    summary["temperatures"] = [{k: v for k, v in c.items() if k not in ("D_combination", "runs")} for c in combined]
    return summary, combined, reasons


def per_replica_ea(replica_arrhenius: Sequence[Mapping]) -> dict:
    """Ea of every replica's own fit and their combination (null when a replica has no fit)."""
    vals = [a.get("Ea_eV") for a in replica_arrhenius]
    ses = [a.get("Ea_stderr_eV") for a in replica_arrhenius]
    out = combine_replicas(vals, ses)
    out["replica_status"] = [a.get("status") for a in replica_arrhenius]
    return out
