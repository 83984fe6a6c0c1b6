"""Rendered atomic structures (Figs. 1C, 3A, 3C, 4D): OVITO's off-screen Tachyon ray tracer draws
the scene (spheres, bonds inside each anion unit, Li trajectory lines, the cell), with a perspective
camera and ambient occlusion for depth; matplotlib then adds the legend, colour bar and scale as
vector graphics and writes PNG and PDF (the PDF embeds the rendered raster beside vector text).

The one place where scenes are described and rendered:

* :class:`Scene` holds what is drawn: atoms (positions in A, RGB colours, radii, optional
  transparency), bonds (index pairs), polylines with per-vertex colours, the cell and a scale bar.
* :func:`anion_scene` builds the scene of a glass: every anion unit made whole across the periodic
  boundaries and drawn as a bonded unit in its anion colour (``ANION_COLOURS``), Li optional, in
  one colour or coloured by a per-Li value (softness).
* :func:`render_scene` ray-traces a scene to an RGB array (needs OVITO, which needs a Vulkan
  loader; Debian's ``libvulkan1`` and ``mesa-vulkan-drivers`` give a software one, no GPU).
* :func:`compose_figure` lays the rendered image out with the legend and writes PNG and PDF.

:func:`ovito_status` says whether rendering is possible here and, when not, why.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from lipsglass.core.anions import UNITS  # noqa: E402
from lipsglass.figures import save_figure  # noqa: E402
from lipsglass.figures.structure import ANION_COLOURS, ANION_TEX  # noqa: E402
import matplotlib.image as mpimg

# Sphere radii (A) of the drawing: small enough that bonds of a unit stay visible
ATOM_RADII_A = {"P": 0.55, "S": 0.45, "Li": 0.42}
# P-S and P-P bond length limit (A) inside one anion unit: bonded P-S are <= 2.53 A, non-bonded
# >= 3.1 A in the Ariga models; P-P of P2S6 is ~2.2 A
BOND_CUTOFF_A = 2.7
BOND_RADIUS_A = 0.16
DEFAULT_CAMERA_DIR = (-0.55, -1.0, -0.45)


@dataclass
class Scene:
    """What :func:`render_scene` draws. positions (N, 3) A; colours (N, 3) RGB in [0, 1]; radii (N,)
    A; transparency (N,) in [0, 1) or None; bonds (M, 2) indices into the atoms; lines: list of
    ((n, 3) vertex positions, (n, 3) vertex colours); cell: (origin (3,), matrix (3, 3) rows a, b, c)
    or None; scale_bar_A: length of a black bar drawn along x at the cell's lower corner (0: none)."""

    positions: np.ndarray
    colours: np.ndarray
    radii: np.ndarray
    bonds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), int))
    transparency: np.ndarray | None = None
    lines: list = field(default_factory=list)
    cell: tuple | None = None
    scale_bar_A: float = 0.0
    line_width_A: float = 0.35

    def __post_init__(self):
        self.positions = np.asarray(self.positions, float).reshape(-1, 3)
        n = len(self.positions)
        self.colours = np.asarray(self.colours, float).reshape(-1, 3)
        self.radii = np.asarray(self.radii, float).reshape(-1)
        self.bonds = np.asarray(self.bonds, int).reshape(-1, 2)
        if self.colours.shape != (n, 3) or self.radii.shape != (n,):
            raise ValueError(f"scene: {n} positions need {n} colours and radii, got {self.colours.shape}, {self.radii.shape}")
        if not np.all(np.isfinite(self.positions)):
            raise ValueError("scene: positions contain NaN/inf")
        if len(self.bonds) and (self.bonds.min() < 0 or self.bonds.max() >= n):
            raise ValueError(f"scene: bond indices outside 0..{n - 1}")
        if self.transparency is not None:
            self.transparency = np.asarray(self.transparency, float).reshape(-1)
            if self.transparency.shape != (n,):
                raise ValueError("scene: transparency needs one value per atom")
        for pts, cols in self.lines:
            if np.shape(pts) != np.shape(cols) or np.ndim(pts) != 2 or np.shape(pts)[0] < 2:
                raise ValueError("scene: every line needs >= 2 vertices and one colour per vertex")


def ovito_status() -> tuple[bool, str]:
    """(True, version) when OVITO can render off-screen here, else (False, why not)."""
    try:
        import ovito  # noqa: F401
        from ovito.vis import TachyonRenderer  # noqa: F401
    except Exception as exc:  # ImportError, or a missing Vulkan/GL library at import
        return False, f"OVITO is not importable ({type(exc).__name__}: {exc}); install envs/requirements-checks.txt and Debian's libvulkan1 mesa-vulkan-drivers"
    return True, ovito.version_string


def colour_of(name: str) -> np.ndarray:
    """RGB of an anion type or 'Li' from ``ANION_COLOURS`` ('other' for unknown names)."""
    return np.array(to_rgb(ANION_COLOURS.get(name, ANION_COLOURS["other"])))


def whole_units(box, positions: np.ndarray, unit_index: np.ndarray) -> np.ndarray:
    """Positions with every unit (atoms sharing ``unit_index`` >= 0) made whole: each atom is
    placed at the minimum image of its unit's first atom, which stays in the cell. Atoms with
    unit_index < 0 (Li, free ions) are wrapped into the cell."""
    pos = box.wrap(np.asarray(positions, float))
    unit_index = np.asarray(unit_index, int)
    out = pos.copy()
    members = np.flatnonzero(unit_index >= 0)
    if len(members):
        order = members[np.argsort(unit_index[members], kind="stable")]
        u = unit_index[order]
        first = order[np.r_[0, np.flatnonzero(np.diff(u)) + 1]]
        anchor = dict(zip(unit_index[first], first))
        anchors = np.array([anchor[k] for k in unit_index[members]])
        out[members] = pos[anchors] + box.minimum_image(pos[members] - pos[anchors])
    return out


def unit_bonds(positions: np.ndarray, elements: Sequence[str], unit_index: np.ndarray,
               cutoff_A: float = BOND_CUTOFF_A) -> np.ndarray:
    """Index pairs (i < j) of P-S and P-P within one unit closer than ``cutoff_A`` (positions of
    whole units, :func:`whole_units`)."""
    pos = np.asarray(positions, float)
    el = np.asarray(elements).astype(str)
    unit_index = np.asarray(unit_index, int)
    pairs = []
    members = np.flatnonzero(unit_index >= 0)
    order = members[np.argsort(unit_index[members], kind="stable")]
    splits = np.flatnonzero(np.diff(unit_index[order])) + 1
    for group in np.split(order, splits):
        if len(group) < 2:
            continue
        d = np.linalg.norm(pos[group][:, None] - pos[group][None], axis=-1)
        a, b = np.triu_indices(len(group), 1)
        ok = d[a, b] < cutoff_A
        for i, j in zip(group[a[ok]], group[b[ok]]):
            if "P" in (el[i], el[j]) and {el[i], el[j]} <= {"P", "S"}:
                pairs.append((i, j))
    return np.array(pairs, int).reshape(-1, 2)


def anion_scene(box, positions: np.ndarray, elements: Sequence[str], units: Sequence[str],
                unit_index: np.ndarray, show_li: bool = True, li_colours: np.ndarray | None = None,
                anion_transparency: float = 0.0, scale_bar_A: float = 5.0) -> Scene:
    """Scene of a glass: P and S of every anion unit in the unit's colour, bonded within the
    unit, units whole across the boundaries; Li (``elements == 'Li'``) as spheres in the Li
    colour or in ``li_colours`` ((n_Li, 3) RGB, in atom order) or hidden (``show_li=False``).
    ``anion_transparency`` in [0, 1) fades the anions (to let coloured Li stand out)."""
    el = np.asarray(elements).astype(str)
    units = np.asarray(units).astype(str)
    unit_index = np.asarray(unit_index, int)
    n = len(el)
    if not (len(positions) == n == len(units) == len(unit_index)):
        raise ValueError("positions, elements, units and unit_index need one entry per atom")
    is_li = el == "Li"
    uidx = np.where(is_li, -1, unit_index)
    pos = whole_units(box, positions, uidx)
    keep = np.ones(n, bool) if show_li else ~is_li
    colours = np.array([colour_of(u) for u in units])
    colours[is_li] = colour_of("Li")
    if li_colours is not None:
        li_colours = np.asarray(li_colours, float)
        if li_colours.shape != (int(is_li.sum()), 3):
            raise ValueError(f"li_colours must be ({int(is_li.sum())}, 3), got {li_colours.shape}")
        colours[is_li] = li_colours
    radii = np.array([ATOM_RADII_A.get(e, 0.45) for e in el])
    transparency = np.where(is_li, 0.0, float(anion_transparency))
    bonds = unit_bonds(pos, el, uidx)
    index = -np.ones(n, int)
    index[keep] = np.arange(int(keep.sum()))
    bonds = index[bonds]
    bonds = bonds[np.all(bonds >= 0, axis=1)]
    return Scene(pos[keep], colours[keep], radii[keep], bonds,
                 transparency[keep] if anion_transparency > 0 else None,
                 cell=(np.asarray(box.lo, float), np.asarray(box.matrix, float)), scale_bar_A=scale_bar_A)


def render_scene(scene: Scene, size: tuple[int, int] = (1000, 900), camera_dir=DEFAULT_CAMERA_DIR,
                 perspective: bool = True, fov_deg: float = 35.0, ambient_occlusion: bool = True,
                 samples: int = 4, crop: bool = True) -> np.ndarray:
    """Ray-trace ``scene`` off-screen with OVITO's Tachyon renderer on a white background and
    return the image as a (height, width, 3) float RGB array in [0, 1]. Needs OVITO
    (:func:`ovito_status`)."""
    ok, why = ovito_status()
    if not ok:
        raise RuntimeError(why)
    from ovito.data import DataCollection
    from ovito.pipeline import Pipeline, StaticSource
    from ovito.vis import BondsVis, LinesVis, TachyonRenderer, Viewport

    dc = DataCollection()
    if scene.cell is not None:
        origin, m = scene.cell
        cell_matrix = np.column_stack([m[0], m[1], m[2], origin])
        cell = dc.create_cell(cell_matrix, pbc=(False, False, False))
        cell.vis.line_width = 0.12
        cell.vis.rendering_color = (0.35, 0.35, 0.35)
    particles = dc.create_particles(count=len(scene.positions))
    particles.create_property("Position", data=scene.positions)
    particles.create_property("Color", data=scene.colours)
    particles.create_property("Radius", data=scene.radii)
    if scene.transparency is not None:
        particles.create_property("Transparency", data=scene.transparency)
    if len(scene.bonds):
        bonds = particles.create_bonds(count=len(scene.bonds), vis_params={"width": 2 * BOND_RADIUS_A})
        bonds.create_property("Topology", data=scene.bonds)
        bonds.vis.coloring_mode = BondsVis.ColoringMode.ByParticle
    lines = list(scene.lines)
    if scene.scale_bar_A > 0 and scene.cell is not None:
        origin, m = scene.cell
        # along the cell's x edge nearest the default camera (high y, low z), just outside the cell
        ex, ey, ez = (v / np.linalg.norm(v) for v in m)
        start = origin + m[1] + 2.0 * ey - 2.0 * ez + 0.5 * (m[0] - scene.scale_bar_A * ex)
        bar = np.array([start, start + scene.scale_bar_A * ex])
        lines.append((bar, np.zeros((2, 3))))
    if lines:
        obj = dc.lines.create("lines", vis_params={"width": scene.line_width_A, "rounded_caps": True})
        obj.vis.width = scene.line_width_A
        for pts, cols in lines:
            obj.create_line(np.asarray(pts, float))
        obj.create_property("Color", data=np.concatenate([np.asarray(c, float) for _, c in lines]))
        assert isinstance(obj.vis, LinesVis)
    pipeline = Pipeline(source=StaticSource(data=dc))
    pipeline.add_to_scene()
    try:
        d = np.asarray(camera_dir, float) / np.linalg.norm(camera_dir)
        if perspective:
            vp = Viewport(type=Viewport.Type.Perspective, camera_dir=tuple(d), fov=np.radians(fov_deg))
        else:
            vp = Viewport(type=Viewport.Type.Ortho, camera_dir=tuple(d))
        vp.zoom_all(size=size)
        renderer = TachyonRenderer(ambient_occlusion=ambient_occlusion, ambient_occlusion_samples=max(1, samples),
                                   antialiasing=samples > 1, antialiasing_samples=max(1, samples), shadows=False)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "render.png")
            vp.render_image(size=size, filename=out, background=(1.0, 1.0, 1.0), renderer=renderer)
            image = mpimg.imread(out)
    finally:
        pipeline.remove_from_scene()
    image = np.asarray(image[..., :3], float)
    return trim_background(image) if crop else image


def trim_background(image: np.ndarray, margin_px: int = 12, level: float = 0.985) -> np.ndarray:
    """``image`` cropped to the bounding box of its non-white pixels plus ``margin_px``."""
    ink = np.any(image < level, axis=-1)
    if not ink.any():
        return image
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    r0, r1 = max(rows[0] - margin_px, 0), min(rows[-1] + margin_px + 1, image.shape[0])
    c0, c1 = max(cols[0] - margin_px, 0), min(cols[-1] + margin_px + 1, image.shape[1])
    return image[r0:r1, c0:c1]


def compose_figure(image: np.ndarray, out_png, out_pdf, legend: Sequence[tuple[str, str | Sequence[float]]] = (),
                   colourbar: Mapping | None = None, note: str | None = None, title: str | None = None,
                   dpi: int = 200) -> None:
    """Lay out a rendered ``image`` with a vector legend (``legend``: (label, colour) per entry,
    drawn as spheres' colour swatches), an optional colour bar (``colourbar``: {"cmap", "norm",
    "label"}) and a note (scale and what is shown), and write PNG and PDF."""
    h, w = image.shape[:2]
    fig_w = 6.4
    fig = plt.figure(figsize=(fig_w, fig_w * h / w + 0.9))
    ax = fig.add_axes((0.0, 0.12, 0.78 if colourbar else 1.0, 0.82))
    ax.imshow(image, interpolation="lanczos")
    ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10, y=0.99)
    if legend:
        handles = [Line2D([], [], marker="o", ls="", markersize=8, markerfacecolor=c, markeredgecolor="0.3",
                          markeredgewidth=0.4, label=label) for label, c in legend]
        fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.01, 0.0), ncol=min(4, len(handles)),
                   frameon=False, fontsize=8, handletextpad=0.3, columnspacing=1.0)
    if colourbar:
        cax = fig.add_axes((0.82, 0.25, 0.03, 0.55))
        sm = plt.cm.ScalarMappable(cmap=colourbar["cmap"], norm=colourbar["norm"])
        fig.colorbar(sm, cax=cax, label=colourbar["label"])
    if note:
        fig.text(0.01, 0.065, note, ha="left", va="bottom", fontsize=7, color="0.25")
    save_figure(fig, out_png, out_pdf, dpi=dpi)


def anion_legend(units_present: Sequence[str], li: str | None = "Li") -> list[tuple[str, str]]:
    """Legend entries (TeX label, colour) of the anion types present, in a fixed order, plus Li."""
    present = set(units_present)
    entries = [(ANION_TEX[u], ANION_COLOURS[u]) for u in UNITS if u in present]
    if li:
        entries.append((ANION_TEX["Li"], ANION_COLOURS["Li"]))
    return entries
