"""Structure stage (paper Fig. 1): speciation, partial g(r), S(q) and FSDP of each glass."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from lipsglass.composition import Composition
from lipsglass.core.tables import read_table, write_table
from lipsglass.figures.structure import plot_partial_rdf
from lipsglass.figures.structure import plot_sq
from lipsglass.figures.structure import plot_ternary
from lipsglass.jsonio import write_json
from lipsglass.lammpsio import iter_dump, read_data
from lipsglass.li_s_shell import DEFAULT_MIN_WINDOW_A
from lipsglass.li_s_shell import DEFAULT_PEAK_BIN_A, measure_frames
from lipsglass.rdf import coordination_numbers, glass_rdfs, max_rdf_range
from lipsglass.rdf import first_shell, partial_rdf
from lipsglass.speciation import speciate
from lipsglass.structure_factor import fsdp, sq_from_rdf

WEIGHTINGS = ("neutron", "xray")


def expected_units(units: dict) -> dict[str, int]:
    """Unit counts the built topology implies (speciation keys)."""
    c = Composition("glass", dict(units))
    return {"PS4": c.units.get("PS4", 0), "P2S7": c.units.get("P2S7", 0), "P2S6": c.units.get("P2S6", 0),
            "S_free": c.units.get("S", 0), "other": 0}


def sample_frames(trajectory: str | Path, max_frames: int) -> list[tuple]:
    """(box, wrapped positions) of up to ``max_frames`` frames evenly spaced over the run."""
    # count the frames first so that only the kept ones are held in memory (long paper-scale runs)
    with open(trajectory) as fh:
        n_frames = sum(1 for line in fh if line.startswith("ITEM: TIMESTEP"))
    if n_frames == 0:
        raise ValueError(f"{trajectory}: no frames")
    keep = set(np.linspace(0, n_frames - 1, min(max_frames, n_frames)).round().astype(int).tolist())
    return [(f.box, f.box.wrap(f.unwrapped_positions())) for k, f in enumerate(iter_dump(trajectory)) if k in keep]


def labelled_glass(glass_data: str, settings: dict):
    """The quenched glass (data file), its element names and its geometric speciation
    (``p_s_cutoff_A``, ``p_p_cutoff_A``): (data, elements, Speciation)."""
    data = read_data(glass_data)
    elements = data.elements()
    spec = speciate(data.box, elements, data.box.wrap(data.positions),
                    p_s_cutoff=settings["p_s_cutoff_A"], p_p_cutoff=settings["p_p_cutoff_A"])
    return data, elements, spec


def structure_job(glass_data: str, trajectory: str, units: dict, settings: dict, outputs: dict[str, str]) -> None:
    """Speciation of the quenched glass (geometry only, checked against the built topology),
    partial g(r) averaged over the production trajectory, S(q) and its FSDP; with
    ``outputs['li_s_shell']`` also the first-shell Li-S distances by anion (claim C7) of the same
    frames and labels (:func:`li_s_shell_measurement`)."""
    data, elements, spec = labelled_glass(glass_data, settings)
    expected = expected_units(units)
    summary = spec.to_dict()
    summary["topology_units"] = expected
    summary["agrees_with_topology"] = summary["units"] == expected
    summary["source"] = str(glass_data)
    if not summary["agrees_with_topology"]:
        # bonds never break in this molecular force field: a mismatch is a bug, not a result
        raise RuntimeError(f"geometric speciation {summary['units']} differs from the built topology {expected}")
    write_json(outputs["speciation"], summary)

    with open(outputs["atom_labels"], "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "element", "unit", "role", "unit_index"])
        writer.writerows(zip(data.ids, elements, spec.unit, spec.role, spec.unit_index))

    frames = sample_frames(trajectory, settings["max_frames"])
    box0 = frames[0][0]
    rdf = glass_rdfs(frames, elements, unit_labels=spec.unit, r_max=max_rdf_range(box0), dr=settings["rdf_dr_A"])
    write_table(outputs["partial_rdf"], rdf.table())
    coordination = {name: value for name, value in
                    coordination_numbers(rdf, min_search_A=physical_minimum_windows(rdf.g, settings)).items()}
    if "li_s_shell" in outputs:
        shell = li_s_shell_measurement(frames, elements, spec.unit, settings, li_s_gr=(rdf.r, rdf.g["Li_S"]))
        write_json(outputs["li_s_shell"], dict(shell, glass_data=str(glass_data), trajectory=str(trajectory)))

    q = np.arange(0.3, settings["q_max_inv_A"] + 1e-9, 0.01)
    columns = {"q_inv_A": q}
    peaks = {}
    for weighting in WEIGHTINGS:
        sq = sq_from_rdf(rdf, q, weighting=weighting)
        columns[f"S_{weighting}"] = sq["S"] if isinstance(sq, dict) else sq
        # r_max: the FWHM is flagged when the half-cell cut of g(r) sets it (fwhm_limited_by_box)
        peaks[weighting] = fsdp(q, columns[f"S_{weighting}"], window=tuple(settings["fsdp_window_inv_A"]),
                                r_max=rdf.r_max,
                                resolution_multiple=settings.get("fsdp_resolution_multiple", 2.0))
        peaks[weighting]["real_space_period_A"] = float(2 * np.pi / peaks[weighting]["position"])
    write_table(outputs["sq"], columns)
    result = {"fsdp": peaks, "sq_method": "Faber-Ziman transform of the partial g(r) with a Lorch window",
              "g_r_source": str(trajectory), "units": {"position": "1/A", "fwhm": "1/A", "real_space_period_A": "A"},
              "g_r_frames": rdf.n_frames, "r_max_A": rdf.r_max, "notes": rdf.notes,
              "coordination_numbers": coordination}
    write_json(outputs["fsdp"], result)


# ---- figures -------------------------------------------------------------------------------

def ternary_figure_job(speciation_files: dict[str, str], literature_csv: str, out_png: str, out_pdf: str) -> None:
    simulated = []
    for glass, path in speciation_files.items():
        frac = json.loads(Path(path).read_text())["fraction_of_P"]
        simulated.append({"name": glass, "PS4": frac["PS4"], "P2S7": frac["P2S7"], "P2S6": frac["P2S6"]})
    plot_ternary(simulated, literature_csv, out_png, out_pdf)


def partial_rdf_figure_job(glass: str, table: str, out_png: str, out_pdf: str) -> None:
    plot_partial_rdf(read_table(table), out_png, out_pdf, title=glass)


def sq_figure_job(sq_files: dict[str, str], fsdp_files: dict[str, str], out_png: str, out_pdf: str,
                  weighting: str = "neutron") -> None:

    curves = {}
    for glass, path in sq_files.items():
        table = read_table(path)
        peak = json.loads(Path(fsdp_files[glass]).read_text())["fsdp"][weighting]
        curves[glass] = {"q": table["q_inv_A"], "S": table[f"S_{weighting}"], "fsdp": peak}
    plot_sq(curves, out_png, out_pdf, offset=1.0, weighting=weighting)


# ---- C7: first-shell Li-S distances by anion type -------------------------------------------

def physical_minimum_windows(pair_names, settings: dict | None = None) -> dict[str, tuple[float, float]]:
    """Where the first minimum of a pair's g(r) is physically searched (A): Li-S pairs (also by
    anion) in the Li-S first-minimum window (``li_s_min_window_A``, default that of
    ``lipsglass.li_s_shell``; the minimum of a single frame's noisy g(r) can otherwise fall just
    behind the peak); P-S pairs in the gap between bonded (<= 2.53 A) and non-bonded (>= 3.1 A)
    distances of the Ariga models."""
    windows = {}
    for name in pair_names:
        if name.startswith("Li_S"):
            windows[name] = li_s_window(settings)
        elif name.startswith("P_S"):
            windows[name] = (2.5, 3.2)
    return windows


def li_s_window(settings: dict | None) -> tuple[float, float]:
    return tuple((settings or {}).get("li_s_min_window_A") or DEFAULT_MIN_WINDOW_A)


def li_s_shell_measurement(frames, elements, unit_labels, settings: dict, li_s_gr=None) -> dict:
    """First-shell Li-S distances by anion type (:func:`lipsglass.li_s_shell.measure_frames`) of
    sampled frames. The first-shell radius is ``li_s_cutoff_A`` (A) or, when that is null, the
    first minimum of the Li-S g(r) searched in ``li_s_min_window_A`` (``li_s_gr`` = (r, g) when the
    caller has it already, else computed from the frames with bin ``rdf_dr_A``)."""

    r_cut = settings.get("li_s_cutoff_A")
    if r_cut is None:
        window = li_s_window(settings)
        if li_s_gr is None:
            li, s = np.flatnonzero(elements == "Li"), np.flatnonzero(elements == "S")
            r_max = min(window[1] + 0.5, max_rdf_range(frames[0][0]))
            li_s_gr = partial_rdf(frames, li, s, r_max=r_max, dr=settings.get("rdf_dr_A", 0.02))
        shell = first_shell(*li_s_gr, min_search_A=window)
        if not np.isfinite(shell["r_min"]):
            raise RuntimeError(f"no Li-S first minimum in {window} A: set structure.li_s_cutoff_A")
        r_cut, source = shell["r_min"], f"first minimum of the Li-S g(r) in {list(window)} A"
        if shell["min_at_window_edge"]:
            source += " (at the window edge: check the window)"
    else:
        source = "config structure.li_s_cutoff_A"
    out = measure_frames(frames, elements, unit_labels, float(r_cut),
                         peak_bin_A=settings.get("li_s_peak_bin_A", DEFAULT_PEAK_BIN_A))
    out.update(r_cut_source=source, units={"distances": "A", "r_cut_A": "A"})
    return out


def li_s_shell_job(glass_data: str, trajectory: str, settings: dict, out_json: str) -> dict:
    """First-shell Li-S distances by anion type of one glass on its own (the workflow measures
    them inside :func:`structure_job`, from the frames and labels it already has): labels as in
    :func:`labelled_glass`, up to ``max_frames`` frames (:func:`sample_frames`),
    :func:`li_s_shell_measurement`; writes the JSON claim C7 is decided from (:mod:`lipsglass.claims.structure`)."""
    _, elements, spec = labelled_glass(glass_data, settings)
    frames = sample_frames(trajectory, settings["max_frames"])
    out = li_s_shell_measurement(frames, elements, spec.unit, settings)
    out.update(glass_data=str(glass_data), trajectory=str(trajectory))
    write_json(out_json, out)
    return out
