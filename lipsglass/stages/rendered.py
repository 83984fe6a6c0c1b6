"""Rendered structure figures of the workflow (Figs. 1C, 3A, 3C, 4D): read a glass, its anion
labels (structure stage) and, per panel, softness or a trajectory, and draw them with
:mod:`lipsglass.figures.render` (OVITO off-screen, legend and scale by matplotlib)."""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, Normalize
from matplotlib.colors import TwoSlopeNorm

from lipsglass.core.tables import read_rows
from lipsglass.figures import note_figure, render as R
from lipsglass.figures.softness import SOFTNESS_LABEL
from lipsglass.lammpsio import read_data
from lipsglass.neb.li_motion import traced_li, trajectory_window
from lipsglass.neighbours import neighbour_pairs

# Rendering resolution (pixels) before the white border is cropped; Tachyon samples per pixel
RENDER_SIZE = (1400, 1260)
RENDER_SAMPLES = 4


def _labels_for(ids: np.ndarray, atom_labels: str) -> tuple[np.ndarray, np.ndarray]:
    """Anion type and unit index of atoms ``ids`` from ``atom_labels.csv`` (structure stage)."""

    rows = {int(r["id"]): r for r in read_rows(atom_labels)}
    missing = [int(i) for i in ids if int(i) not in rows]
    if missing:
        raise ValueError(f"{atom_labels}: no label for atom ids {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    units = np.array([rows[int(i)]["unit"] for i in ids])
    unit_index = np.array([int(rows[int(i)]["unit_index"]) for i in ids])
    return units, unit_index


def _scale_note(box, bar_A: float, extra: str = "") -> str:
    edges = " x ".join(f"{x:.1f}" for x in box.lengths)
    return f"black bar: {bar_A:g} Å; cell {edges} Å (perspective view){extra}"


def glass_figure_job(glass: str, data_file: str, atom_labels: str, out_png: str, out_pdf: str,
                     show_li: bool = True, softness_csv: str | None = None, panel: str = "",
                     scale_bar_A: float = 5.0) -> None:
    """One rendered glass: anion units bonded and coloured by type; Li orange (Fig. 1C), hidden
    (Fig. 3C, ``show_li=False``) or coloured by softness from ``softness_csv`` with the anions
    faded (Fig. 3A). The same camera for every panel, so 3A and 3C of a glass show the same view."""
    data = read_data(data_file)
    elements = data.elements()
    units, unit_index = _labels_for(data.ids, atom_labels)
    li_colours, colourbar, fade = None, None, 0.0
    if softness_csv is not None:



        rows = read_rows(softness_csv)
        if not rows or not {"id", "S"} <= set(rows[0]):
            raise ValueError(f"{softness_csv}: needs columns id and S")
        s_by_id = {int(r["id"]): float(r["S"]) if r["S"] != "" else np.nan for r in rows}
        li_ids = data.ids[elements == "Li"]
        missing = [int(i) for i in li_ids if int(i) not in s_by_id]
        if missing:
            raise ValueError(f"{softness_csv}: no softness for Li ids {missing[:5]}")
        s = np.array([s_by_id[int(i)] for i in li_ids], float)
        if not np.all(np.isfinite(s)):
            raise ValueError(f"{softness_csv}: non-finite softness")
        lim = max(float(np.max(np.abs(s))), 1e-12)
        norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)

        cmap = plt.get_cmap("coolwarm")
        li_colours = cmap(norm(s))[:, :3]
        colourbar = {"cmap": cmap, "norm": norm, "label": f"Li {SOFTNESS_LABEL} (> 0 soft)"}
        fade = 0.65
    scene = R.anion_scene(data.box, data.positions, elements, units, unit_index, show_li=show_li,
                          li_colours=li_colours, anion_transparency=fade, scale_bar_A=scale_bar_A)
    image = R.render_scene(scene, size=RENDER_SIZE, samples=RENDER_SAMPLES)
    present = set(units[elements != "Li"])
    legend = R.anion_legend(present, li=None if (not show_li or softness_csv) else "Li")
    what = {True: "", False: "; Li hidden"}[show_li]
    if softness_csv:
        what = "; anions faded"
    R.compose_figure(image, out_png, out_pdf, legend=legend, colourbar=colourbar,
                     note=_scale_note(data.box, scale_bar_A, what), title=f"{panel} {glass}".strip())


def traces_figure_job(glass: str, trajectory: str, atom_labels: str, motion_csv: str, settings: Mapping,
                      md: Mapping, radius_A: float, out_png: str, out_pdf: str,
                      anions: Sequence[str] = ("PS4", "P2S6"), scale_bar_A: float = 5.0) -> None:
    """Fig. 4D rendered: traces over the first ``trace_duration_ps`` of ``traces_per_anion`` Li
    (seeded random choice, ``lipsglass.neb.li_motion.traced_li``) nearest to each of
    ``anions``, drawn as lines coloured by time (dark to light purple, a colour no anion has), with every anion unit that
    has an atom within ``radius_A`` of a trace's start, bonded, whole and placed next to the Li."""
    frames = trajectory_window(trajectory, float(settings["trace_duration_ps"]), float(md["timestep_fs"]))
    chosen = traced_li(read_rows(motion_csv), settings, anions)
    if not chosen:
        note_figure(f"{glass}: no Li near {', '.join(anions)}", out_png, out_pdf)
        return
    first = frames[0]
    ids = first.ids
    index = np.searchsorted(ids, chosen)
    traces = np.stack([f.unwrapped_positions()[index] for f in frames], axis=1)  # (n_Li, n_t, 3)
    box = first.box
    elements = first.elements()
    units, unit_index = _labels_for(ids, atom_labels)
    anion_atoms = np.flatnonzero(unit_index >= 0)
    wrapped = box.wrap(first.positions())
    starts = box.wrap(traces[:, 0])
    i_li, j_at, vec = neighbour_pairs(box, starts, float(radius_A), other=wrapped[anion_atoms])
    # each unit once, placed next to the first chosen Li it is near (its atoms at minimum image of
    # that Li's unwrapped start)
    unit_li = {}
    for li, at in zip(i_li, anion_atoms[j_at]):
        unit_li.setdefault(int(unit_index[at]), int(li))
    sel = np.flatnonzero(np.isin(unit_index, list(unit_li)))
    near = np.array([unit_li[int(unit_index[a])] for a in sel], int)
    pos = traces[near, 0] + box.minimum_image(wrapped[sel] - starts[near])
    t_ps = (np.array([f.timestep for f in frames]) - first.timestep) * float(md["timestep_fs"]) / 1000.0
    cmap = ListedColormap(plt.get_cmap("Purples")(np.linspace(1.0, 0.4, 256)))  # no anion colour
    norm = Normalize(t_ps[0], t_ps[-1])
    lines = [(tr, cmap(norm(t_ps))[:, :3]) for tr in traces]
    li_pos = traces[:, 0]
    all_pos = np.concatenate([pos, li_pos])
    colours = np.concatenate([np.array([R.colour_of(u) for u in units[sel]]),
                              np.tile(R.colour_of("Li"), (len(li_pos), 1))])
    radii = np.concatenate([[R.ATOM_RADII_A.get(e, 0.45) for e in elements[sel]], np.full(len(li_pos), R.ATOM_RADII_A["Li"])])
    bonds = R.unit_bonds(pos, elements[sel], unit_index[sel])
    lo = np.concatenate([all_pos, traces.reshape(-1, 3)]).min(axis=0)
    bar_start = lo - np.array([0.0, 2.0, 2.0])
    lines.append((np.array([bar_start, bar_start + [scale_bar_A, 0.0, 0.0]]), np.zeros((2, 3))))
    scene = R.Scene(all_pos, colours, radii, bonds, lines=lines, line_width_A=0.4)
    image = R.render_scene(scene, size=RENDER_SIZE, samples=RENDER_SAMPLES)
    legend = R.anion_legend(set(units[sel]), li=None) + [("Li at the start", R.ANION_COLOURS["Li"])]
    R.compose_figure(image, out_png, out_pdf, legend=legend,
                     colourbar={"cmap": cmap, "norm": norm, "label": "time along the trace (ps)"},
                     note=f"black bar: {scale_bar_A:g} Å (perspective view); {len(chosen)} Li near "
                          f"{'/'.join(anions)}, first {t_ps[-1]:g} ps",
                     title=f"Fig. 4D {glass}")
