"""Rendered structures (lipsglass.figures.render): scene building on constructed cells with known
bonds and whole units, and a headless OVITO render of a two-anion toy cell whose pixel colours
must show PS4 (blue) on the left, P2S6 (red) on the right, and Li (orange) only when shown."""

import numpy as np
import pytest
from matplotlib.colors import rgb_to_hsv, to_rgb

from lipsglass.figures import render as R
from lipsglass.figures.structure import ANION_COLOURS
from lipsglass.lammpsio import Box

PS_A, PP_A = 2.05, 2.2


def _ps4(centre):
    d = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]], float) / np.sqrt(3)
    return np.vstack([centre, centre + PS_A * d]), ["P"] + ["S"] * 4


def _p2s6(centre):
    p1, p2 = centre - [PP_A / 2, 0, 0], centre + [PP_A / 2, 0, 0]
    pos, el = [p1, p2], ["P", "P"]
    for p, sign in ((p1, -1), (p2, 1)):
        for th in np.radians([0, 120, 240]):
            pos.append(p + PS_A * np.array([0.33 * sign, 0.94 * np.cos(th), 0.94 * np.sin(th)]))
            el.append("S")
    return np.array(pos), el


def _toy_cell(with_li=True):
    """PS4 centred at x = 6, P2S6 at x = 18 in a 24 x 12 x 12 A cell, two Li between them."""
    box = Box(np.zeros(3), np.array([24.0, 12.0, 12.0]))
    a, ea = _ps4(np.array([6.0, 6.0, 6.0]))
    b, eb = _p2s6(np.array([18.0, 6.0, 6.0]))
    pos = [a, b]
    el = ea + eb
    units = ["PS4"] * 5 + ["P2S6"] * 8
    uidx = [0] * 5 + [1] * 8
    if with_li:
        pos.append(np.array([[12.0, 3.0, 6.0], [12.0, 9.0, 6.0]]))
        el += ["Li", "Li"]
        units += ["Li", "Li"]
        uidx += [-1, -1]
    return box, np.vstack(pos), np.array(el), np.array(units), np.array(uidx)


def test_unit_bonds_and_whole_units_across_the_boundary():
    box, pos, el, units, uidx = _toy_cell(with_li=False)
    shifted = pos.copy()
    shifted[:5] -= [6.0, 0, 0]  # PS4 centred on the x = 0 boundary
    wrapped = box.wrap(shifted)
    assert np.ptp(wrapped[:5, 0]) > 12  # split by the boundary
    whole = R.whole_units(box, wrapped, uidx)
    # every P-S distance of the whole unit is the built one
    assert np.allclose(np.linalg.norm(whole[1:5] - whole[0], axis=1), PS_A, atol=1e-9)
    bonds = R.unit_bonds(whole, el, uidx)
    pairs = {tuple(sorted(b)) for b in bonds.tolist()}
    assert len([p for p in pairs if max(p) < 5]) == 4  # PS4: 4 P-S
    assert len([p for p in pairs if min(p) >= 5]) == 7  # P2S6: 6 P-S + 1 P-P
    assert (5, 6) in pairs  # the P-P bond
    # no S-S bonds, even where S of one unit are close
    assert all("P" in (el[i], el[j]) for i, j in pairs)


def test_scene_hides_li_and_checks_shapes():
    box, pos, el, units, uidx = _toy_cell()
    hidden = R.anion_scene(box, pos, el, units, uidx, show_li=False)
    assert len(hidden.positions) == 13 and len(hidden.bonds) == 11
    shown = R.anion_scene(box, pos, el, units, uidx, li_colours=np.array([[0, 0, 1.0], [1.0, 0, 0]]))
    assert len(shown.positions) == 15
    assert np.allclose(shown.colours[-2:], [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="li_colours"):
        R.anion_scene(box, pos, el, units, uidx, li_colours=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="bond indices"):
        R.Scene(pos[:2], np.zeros((2, 3)), np.ones(2), bonds=[[0, 5]])


def _hue_pixels(image, colour, tol=0.03):
    """Columns and rows of saturated pixels whose hue is within ``tol`` of ``colour``'s."""
    hsv = rgb_to_hsv(np.clip(image, 0, 1))
    h0 = rgb_to_hsv(np.array(to_rgb(colour)))[0]
    dh = np.abs(hsv[..., 0] - h0)
    dh = np.minimum(dh, 1 - dh)
    mask = (dh < tol) & (hsv[..., 1] > 0.45) & (hsv[..., 2] > 0.25)
    rows, cols = np.nonzero(mask)
    return rows, cols


def test_render_two_anion_toy_cell_shows_the_right_colours_in_the_right_places(tmp_path):
    ok, why = R.ovito_status()
    if not ok:
        pytest.skip(why)
    box, pos, el, units, uidx = _toy_cell()
    for show_li in (True, False):
        scene = R.anion_scene(box, pos, el, units, uidx, show_li=show_li, scale_bar_A=0.0)
        image = R.render_scene(scene, size=(480, 300), camera_dir=(0, 0, -1), perspective=False, samples=1,
                               crop=False)
        assert image.shape == (300, 480, 3)
        _, blue_cols = _hue_pixels(image, ANION_COLOURS["PS4"])
        _, red_cols = _hue_pixels(image, ANION_COLOURS["P2S6"])
        _, orange_cols = _hue_pixels(image, ANION_COLOURS["Li"])
        assert len(blue_cols) > 200 and len(red_cols) > 200
        # x runs left to right in the top view: PS4 (x = 6) left of the middle, P2S6 (x = 18) right
        assert blue_cols.mean() < 0.45 * image.shape[1] < 0.55 * image.shape[1] < red_cols.mean()
        # no green (P2S7) unit in the cell
        assert len(_hue_pixels(image, ANION_COLOURS["P2S7"])[1]) < 20
        if show_li:
            assert len(orange_cols) > 50
            assert abs(orange_cols.mean() - 0.5 * image.shape[1]) < 0.1 * image.shape[1]
        else:
            assert len(orange_cols) < 20
    # the composed figure is written as PNG and PDF
    R.compose_figure(image, tmp_path / "toy.png", tmp_path / "toy.pdf", legend=R.anion_legend(["PS4", "P2S6"]),
                     note="black bar: 5 A")
    assert (tmp_path / "toy.png").stat().st_size > 1000 and (tmp_path / "toy.pdf").read_bytes()[:4] == b"%PDF"


def _write_data(path, box, pos, elements):
    masses = {"P": 30.974, "S": 32.06, "Li": 6.94}
    types = {e: k + 1 for k, e in enumerate(masses)}
    lines = ["toy", "", f"{len(pos)} atoms", f"{len(types)} atom types", "",
             f"{box.lo[0]} {box.hi[0]} xlo xhi", f"{box.lo[1]} {box.hi[1]} ylo yhi", f"{box.lo[2]} {box.hi[2]} zlo zhi",
             "", "Masses", ""] + [f"{t} {masses[e]} # {e}" for e, t in types.items()] + ["", "Atoms # full", ""]
    lines += [f"{i + 1} 1 {types[e]} 0.0 {x:.6f} {y:.6f} {z:.6f}" for i, (e, (x, y, z)) in enumerate(zip(elements, pos))]
    path.write_text("\n".join(lines) + "\n")


def _write_labels(path, elements, units, uidx):
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "element", "unit", "role", "unit_index"])
        for i, (e, u, k) in enumerate(zip(elements, units, uidx)):
            w.writerow([i + 1, e, u, "x", k])


def test_stage_jobs_render_the_panels(tmp_path, monkeypatch):
    ok, why = R.ovito_status()
    if not ok:
        pytest.skip(why)
    import matplotlib.image as mpimg

    from lipsglass.lammpsio import write_dump_frame
    from lipsglass.stages import rendered

    box, pos, el, units, uidx = _toy_cell()
    _write_data(tmp_path / "g.data", box, pos, el)
    _write_labels(tmp_path / "labels.csv", el, units, uidx)
    (tmp_path / "soft.csv").write_text("id,S\n14,1.5\n15,-1.5\n")
    monkeypatch.setattr(rendered, "RENDER_SIZE", (360, 300))
    monkeypatch.setattr(rendered, "RENDER_SAMPLES", 1)
    rendered.glass_figure_job("toy", str(tmp_path / "g.data"), str(tmp_path / "labels.csv"), tmp_path / "c.png",
                              tmp_path / "c.pdf", show_li=False, panel="Fig. 3C")
    with pytest.raises(ValueError, match="no softness"):
        (tmp_path / "bad.csv").write_text("id,S\n14,1.5\n")
        rendered.glass_figure_job("toy", str(tmp_path / "g.data"), str(tmp_path / "labels.csv"), tmp_path / "a.png",
                                  tmp_path / "a.pdf", softness_csv=str(tmp_path / "bad.csv"))
    rendered.glass_figure_job("toy", str(tmp_path / "g.data"), str(tmp_path / "labels.csv"), tmp_path / "a.png",
                              tmp_path / "a.pdf", softness_csv=str(tmp_path / "soft.csv"), panel="Fig. 3A")
    image = mpimg.imread(tmp_path / "c.png")[..., :3]
    assert len(_hue_pixels(image, ANION_COLOURS["PS4"])[1]) > 100
    assert len(_hue_pixels(image, ANION_COLOURS["Li"])[1]) < 20  # Li hidden (the legend has no Li entry)
    assert (tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"
    # Fig. 4D: one Li near the PS4 moves 4 A along x; its trace is drawn in purples
    ids = np.arange(1, len(pos) + 1)
    with open(tmp_path / "traj.lammpstrj", "w") as fh:
        for k in range(11):
            p = pos.copy()
            p[13, 0] -= 0.4 * k
            write_dump_frame(fh, 100 * k, box, {"id": ids, "element": el, "xu": p[:, 0], "yu": p[:, 1], "zu": p[:, 2]})
    (tmp_path / "m.csv").write_text("id,nearest_anion,displacement_A,path_length_A,hopped\n14,PS4,4.0,4.0,True\n"
                                    "15,P2S6,0.0,0.0,False\n")
    settings = {"trace_duration_ps": 1.0, "seed": 1, "traces_per_anion": 1}
    rendered.traces_figure_job("toy", str(tmp_path / "traj.lammpstrj"), str(tmp_path / "labels.csv"),
                               str(tmp_path / "m.csv"), settings, {"timestep_fs": 1.0}, 6.0, tmp_path / "d.png",
                               tmp_path / "d.pdf")
    image = mpimg.imread(tmp_path / "d.png")[..., :3]
    assert len(_hue_pixels(image, "#6a51a3", tol=0.05)[1]) > 30  # the time-coloured trace (and colour bar)
    assert len(_hue_pixels(image, ANION_COLOURS["PS4"])[1]) > 50
