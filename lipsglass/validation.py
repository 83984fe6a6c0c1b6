"""Validation page: every kernel of the study beside an independent implementation on a small
standard case (seconds each, none needs the study's results), tabulated as quantity, lipsglass
value, oracle value, difference, tolerance, pass and the oracle's version.

    python -m lipsglass validate --out results/validation [--ariga-dir DIR]     (make validate)

Cases:

* **D and its interval vs kinisi**: a generated LAMMPS dump of 64 Li random walkers with a planted
  D among 64 vibrating S; lipsglass' D +- SE (``transport.analyse_trajectory``) against kinisi's
  Bayesian estimate (median and 95 % credible interval) from the same file read by MDAnalysis.
* **D2min vs OVITO**: a random 500-atom triclinic cell and a noisy copy, same cutoff.
* **Periodic persistence diagram vs HomCloud**: H1 of the periodic alpha filtration of 150 random
  points, bottleneck distance between lipsglass' (gudhi-based) diagram and HomCloud's; on the same
  set, the stable-volume rings (:func:`ring_volume_rows`) against HomCloud's stable volumes.
* **Energies vs Ariga's reference**: the 8069-atom 70Li2S-30P2S5 model with PPPM against
  ``reference_energies.json`` (the folder is ``--ariga-dir``, else $LIPSGLASS_ARIGA_REFERENCE,
  else tests/data/ariga2022, else ../shared/reference/ariga2022 next to the repository).
* **One NEB barrier vs an ASE NEB**: :func:`neb_row`, the Li vacancy hop of antifluorite Li2S
  (forward and backward barriers, 7 images each, within 0.01 eV).

A row that could not run (oracle not installed, reference absent) says 'not run: why'; such rows
do not count as failures, rows that ran and disagree do.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import gudhi
import numpy as np

from lipsglass.crystals import A_LI2S, li_neighbour, write_li2s
from lipsglass.d2min import d2min
from lipsglass.engine.energy import evaluate_energy
from lipsglass.forcefield import ForceField
from lipsglass.homology.persistence import alpha_persistence
from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.neb.hop import run_single_hop
from lipsglass.neb.results import CONVERGED
from lipsglass.neb.settings import NEBSettings
from lipsglass.oracles.ase_neb import ase_neb
from lipsglass.transport.analysis import analyse_trajectory

ARIGA_TYPES = ["P2", "S2", "Pa", "S1", "Sc", "P4", "S4", "Li"]


@dataclass
class Row:
    quantity: str
    lipsglass: str = ""
    oracle: str = ""
    difference: str = ""
    tolerance: str = ""
    passed: bool | None = None     # None: not run
    oracle_version: str = ""
    case: str = ""
    note: str = ""
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return {True: "pass", False: "FAIL", None: "not run"}[self.passed]


COLUMNS = ("quantity", "lipsglass", "oracle", "difference", "tolerance", "status", "oracle_version", "case",
           "note", "seconds")


def _not_run(quantity: str, why: str, case: str = "") -> Row:
    return Row(quantity, passed=None, case=case, note=f"not run: {why}")


# ---- D vs kinisi ------------------------------------------------------------------------------

def random_walk_dump(path: str | Path, n_li: int = 64, n_s: int = 64, n_frames: int = 301, dt_ps: float = 0.1,
                     D_A2_ps: float = 0.05, box_A: float = 20.0, seed: int = 1) -> float:
    """Write a LAMMPS dump (id element mol xu yu zu, unwrapped) of ``n_li`` Li random walkers with
    diffusion coefficient ``D_A2_ps`` and ``n_s`` S vibrating (0.2 A) about fixed sites; frames
    ``dt_ps`` apart, one timestep = 1 fs. Returns the planted D in cm^2/s."""

    rng = np.random.default_rng(seed)
    box = Box(np.zeros(3), np.full(3, box_A))
    steps = rng.normal(0.0, math.sqrt(2 * D_A2_ps * dt_ps), (n_frames - 1, n_li, 3))
    li = rng.uniform(0, box_A, (n_li, 3)) + np.concatenate([np.zeros((1, n_li, 3)), np.cumsum(steps, axis=0)])
    s_sites = rng.uniform(0, box_A, (n_s, 3))
    ids = np.arange(1, n_li + n_s + 1)
    elements = np.array(["Li"] * n_li + ["S"] * n_s)
    with open(path, "w") as fh:
        for k in range(n_frames):
            s = s_sites + rng.normal(0.0, 0.2, s_sites.shape)
            pos = np.vstack([li[k], s])
            write_dump_frame(fh, int(round(k * dt_ps * 1000)), box,
                             {"id": ids, "element": elements, "mol": np.zeros(len(ids), int),
                              "xu": pos[:, 0], "yu": pos[:, 1], "zu": pos[:, 2]})
    return D_A2_ps * 1e-4


def diffusion_rows() -> list[Row]:
    case = "64 Li random walkers, planted D = 5.0e-06 cm^2/s, 64 vibrating S, 30 ps, frames 0.1 ps apart"
    try:
        from lipsglass.oracles.kinisi_d import kinisi_diffusion, version
        oracle_version = version()
    except ImportError as exc:
        return [_not_run("D (cm^2/s)", f"kinisi is not installed ({exc})", case)]

    with tempfile.TemporaryDirectory(prefix="lipsglass-validate-") as tmp:
        dump = Path(tmp) / "walk.lammpstrj"
        planted = random_walk_dump(dump)
        ours, res = analyse_trajectory(dump, "Li", dt_ps=0.1)
        theirs = kinisi_diffusion(dump, "Li", timestep_ps=0.001, dump_every_steps=100,
                                  start_dt_ps=float(res.fit_start_ps), end_dt_ps=float(res.fit_end_ps))
    D, se = float(res.D_cm2_s), float(res.D_stderr_cm2_s)
    Dk = theirs["D_cm2_s"]
    lo, hi = theirs["ci95_cm2_s"]
    se_k = (hi - lo) / (2 * 1.959964)
    tol = 2.0 * math.hypot(se, se_k)
    rows = [Row("D (cm^2/s)", f"{D:.4g} +- {se:.2g} (SE)", f"{Dk:.4g} [{lo:.4g}, {hi:.4g}] (95 % credible)",
                f"{D - Dk:+.2g}", f"|difference| <= 2 x combined SE = {tol:.2g}", abs(D - Dk) <= tol,
                oracle_version, case, f"planted D {planted:.4g}: inside lipsglass' 95 % interval "
                f"{abs(D - planted) <= 1.959964 * se}, inside kinisi's {lo <= planted <= hi}; both fit the same lags, "
                f"{res.fit_start_ps:g}-{res.fit_end_ps:g} ps (lipsglass' window)")]
    ours_w = 2 * 1.959964 * se
    ratio = ours_w / (hi - lo)
    rows.append(Row("width of the 95 % interval of D (cm^2/s)", f"{ours_w:.3g} (2 x 1.96 SE)", f"{hi - lo:.3g}",
                    f"ratio {ratio:.2f}", "ratio within [0.5, 2]", 0.5 <= ratio <= 2.0, oracle_version, case,
                    "lipsglass: block/bootstrap SE over Li; kinisi: MSD covariance of overlapping windows"))
    return rows


# ---- D2min vs OVITO ---------------------------------------------------------------------------

def d2min_row() -> Row:
    case = "500 random atoms, triclinic cell 14 x 15 x 16 A (tilts 1.5, -1, 0.8), Gaussian noise 0.15 A, cutoff 3.6 A"
    try:
        from lipsglass.oracles.ovito_d2min import ovito_d2min, version
        oracle_version = version()
    except ImportError as exc:
        return _not_run("D2min (A^2), every atom", f"OVITO is not installed ({exc})", case)

    rng = np.random.default_rng(11)
    box = Box(np.zeros(3), np.array([14.0, 15.0, 16.0]), np.array([1.5, -1.0, 0.8]))
    ref = box.wrap(rng.uniform(0, 1, (500, 3)) @ box.matrix)
    cur = ref + rng.normal(0, 0.15, ref.shape)
    ours = d2min(box, ref, box, cur, cutoff=3.6, normalise="none", unwrapped=True, min_neighbours=3)
    theirs = ovito_d2min(box, ref, box.wrap(cur), 3.6)
    v = ours.valid
    a, b = ours.d2min[v], theirs[ours.centres[v]]
    rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
    return Row("D2min (A^2), every atom", f"mean {a.mean():.5g} over {int(v.sum())} atoms", f"mean {b.mean():.5g}",
               f"max relative {rel:.2g}", "max relative difference <= 1e-6", rel <= 1e-6, oracle_version, case)


# ---- persistence diagram vs HomCloud -----------------------------------------------------------

def homology_rows() -> list[Row]:
    case = "150 random points in a periodic 12 A cube, H1 of the alpha filtration (squared radii)"
    try:
        from lipsglass.oracles.homcloud_pd import homcloud_diagram, version
        oracle_version = version()
    except ImportError as exc:
        return [_not_run("H1 persistence diagram (A^2)", f"HomCloud is not installed ({exc})", case)]


    rng = np.random.default_rng(5)
    box = Box(np.zeros(3), np.full(3, 12.0))
    pts = rng.uniform(0, 12.0, (150, 3))
    pd, _ = alpha_persistence(pts, box, min_persistence=1e-9, rings=False)
    h1 = pd.dimension == 1
    ours = np.column_stack([pd.birth[h1], pd.death[h1]])
    b, d = homcloud_diagram(box, pts, 1)
    keep = (d - b) > 1e-9
    theirs = np.column_stack([b[keep], d[keep]])
    dist = float(gudhi.bottleneck_distance(ours, theirs))
    return [
        Row("H1 persistence diagram (A^2)", f"{len(ours)} pairs", f"{len(theirs)} pairs",
            f"bottleneck distance {dist:.2g} A^2", "bottleneck distance <= 1e-6 A^2", dist <= 1e-6, oracle_version, case),
        Row("H1 pair count (persistence > 1e-9 A^2)", str(len(ours)), str(len(theirs)), str(len(ours) - len(theirs)),
            "equal", len(ours) == len(theirs), oracle_version, case),
    ] + ring_volume_rows(box, pts, oracle_version, case)


def ring_volume_rows(box, pts: np.ndarray, oracle_version: str, case: str, min_persistence: float = 1.0,
                     epsilon: float = 0.5) -> list[Row]:
    """lipsglass' stable-volume rings (own LP, ``ring_definition`` stable/optimal volume) against
    HomCloud's stable volumes of the same H1 pairs: the LP optimum (triangles per volume) is
    unique and must agree for every pair; the ring (the volume's boundary atoms) may be one of
    several optimal volumes of a degenerate LP, so its size must agree for >= 90 % of the pairs.
    The shortest-cycle rings have no HomCloud counterpart (its optimal 1-cycles minimise length,
    not the atom count); tests/test_homology_oracle.py compares them where they coincide."""
    from lipsglass.oracles.homcloud_pd import homcloud_stable_volumes

    _, rings = alpha_persistence(pts, box, margin=8.0, max_ring_size=60, ring_min_persistence=min_persistence,
                                 ring_definition="optimal_volume", volume_epsilon=epsilon)
    theirs = homcloud_stable_volumes(box, pts, min_persistence, epsilon)
    cells_equal = sizes_equal = matched = 0
    for birth, death, n_cells, n_atoms in theirs:
        k = np.flatnonzero(np.isclose(rings.birth, birth, rtol=0, atol=1e-7)
                           & np.isclose(rings.death, death, rtol=0, atol=1e-7))
        if len(k) != 1:
            continue
        matched += 1
        cells_equal += int(rings.n_cells[k[0]]) == n_cells
        sizes_equal += int(rings.size[k[0]]) == n_atoms
    n = len(theirs)
    what = f"stable volumes, noise band {epsilon:g} A^2, pairs with persistence > {min_persistence:g} A^2"
    return [
        Row("stable-volume triangles per H1 pair", f"{cells_equal}/{n} pairs equal", f"{n} pairs",
            f"{n - cells_equal} differ ({n - matched} unmatched)", "every pair equal", n > 0 and cells_equal == n,
            oracle_version, f"{case}; {what}"),
        Row("stable-volume ring size (atoms)", f"{sizes_equal}/{n} pairs equal", f"{n} pairs",
            f"{n - sizes_equal} differ", ">= 90 % of pairs equal (degenerate optimal volumes)",
            n > 0 and sizes_equal >= 0.9 * n, oracle_version, f"{case}; {what}"),
    ]


# ---- energies vs Ariga's reference -------------------------------------------------------------

def ariga_reference_dir(given: str | Path | None = None) -> Path | None:
    """The folder of Ariga's models and reference_energies.json: ``given``, else
    $LIPSGLASS_ARIGA_REFERENCE (the caller names it: `make validate` and the validation rule pass the
    repository's tests/data/ariga2022); None when neither holds reference_energies.json."""
    for c in (given, os.environ.get("LIPSGLASS_ARIGA_REFERENCE")):
        if c and (Path(c) / "reference_energies.json").is_file():
            return Path(c)
    return None


def _unpacked(folder: Path, name: str, tmp: Path) -> Path:
    """``folder/name``, or its gzipped copy ``name.gz`` (as tests/data carries it) unpacked into ``tmp``."""
    if (folder / name).is_file():
        return folder / name
    packed = folder / f"{name}.gz"
    if not packed.is_file():
        raise FileNotFoundError(f"{folder}: neither {name} nor {name}.gz")

    with gzip.open(packed, "rb") as src, open(tmp / name, "wb") as dst:
        shutil.copyfileobj(src, dst)
    return tmp / name


def energy_rows(reference_dir: str | Path | None = None, model: str = "70Li2S-30P2S5") -> list[Row]:
    ref_dir = ariga_reference_dir(reference_dir)
    case = f"Ariga's {model} model (8069 atoms), PPPM 1e-5"
    if ref_dir is None:
        return [_not_run("potential energy (kcal/mol)", "Ariga's reference folder not found (--ariga-dir)", case)]

    reference = json.loads((ref_dir / "reference_energies.json").read_text())
    with tempfile.TemporaryDirectory(prefix="lipsglass-validate-ariga-") as tmp:
        got = evaluate_energy(_unpacked(ref_dir, f"{model}.data", Path(tmp)), ForceField.load("ariga2022"),
                              ARIGA_TYPES, kspace="pppm")
    ref = reference[f"{model}_pppm"]
    version = f"Ariga et al. 2022 reference ({ref.get('kspace', 'pppm')}; {ref_dir.name})"
    rows = []
    for key, label, rel_tol in (("pe", "potential energy (kcal/mol)", 1e-5),
                                ("ecoul_plus_elong", "Coulomb energy, real + reciprocal (kcal/mol)", 1e-5)):
        rel = abs(got[key] - ref[key]) / abs(ref[key])
        rows.append(Row(label, f"{got[key]:.6f}", f"{ref[key]:.6f}", f"relative {rel:.2g}",
                        f"relative <= {rel_tol:g}", rel <= rel_tol, version, case))
    for term in ("ebond", "eangle", "edihed", "evdwl"):
        if term in reference.get(model, {}):
            r = reference[model][term]
            rel = abs(got[term] - r) / max(abs(r), 1e-12)
            rows.append(Row(f"{term} (kcal/mol)", f"{got[term]:.6f}", f"{r:.6f}", f"relative {rel:.2g}",
                            "relative <= 1e-6", rel <= 1e-6, version.replace("pppm", "ewald"), case))
    return rows


# ---- NEB barrier vs ASE -----------------------------------------------------------------------

def neb_row() -> list[Row]:
    """One NEB barrier of lipsglass (LAMMPS ``fix neb``, IDPP start, climbing image, refinement
    check) against ASE's climbing-image NEB (FIRE) driving the same force field through the LAMMPS
    Python module (``lipsglass.oracles.ase_neb``). Standard case: the Li vacancy hop between
    neighbouring tetrahedral sites of a 2x2x2 antifluorite Li2S cell (no kspace: a cutoff model of
    both sides alike), both bands 7 images relaxed to 0.01 eV/A. ASE's band is started from
    rattled images (0.05 A): from its symmetric IDPP path it stalls on the second-order stationary
    point of the straight path (0.705 eV) instead of the saddle (0.582 eV)."""
    case = "Li vacancy hop, 2x2x2 antifluorite Li2S (a = 5.70 A), 7 images, forces < 0.01 eV/A"
    try:
        import ase

    except ImportError as exc:
        return [_not_run("NEB barrier (eV)", f"ASE is not installed ({exc})", case)]

    ff = ForceField.load("ariga2022")
    version = f"ASE {ase.__version__} (NEB, climbing image, FIRE)"
    with tempfile.TemporaryDirectory(prefix="lipsglass-validate-neb-") as tmp:
        data = Path(tmp) / "li2s.data"
        li_ids, li_pos = write_li2s(data, ff)
        a, b = int(li_ids[0]), li_neighbour(li_ids, li_pos, 0, [A_LI2S / 2, 0, 0])
        settings = NEBSettings(replicas=7, ftol_eV_A=0.01, n_steps_neb=500, n_steps_climb=500,
                               refine_tolerance_eV=0.01)
        ours = run_single_hop(data, a, b, settings, ff, Path(tmp) / "ours")
        theirs = ase_neb(data, a, b, n_images=7, kspace_style=None, kspace_accuracy=None, fmax_eV_A=0.01,
                         rattle_A=0.05, seed=1)
    if ours["status"] != CONVERGED:
        return [Row("NEB forward barrier (eV)", passed=False, oracle_version=version, case=case,
                    note=f"lipsglass NEB did not converge: {ours['status']}")]
    if not theirs["converged"]:
        return [Row("NEB forward barrier (eV)", passed=False, oracle_version=version, case=case,
                    note=f"ASE NEB did not converge in {theirs['steps']} steps")]
    rows = []
    for key, label in (("forward_barrier_eV", "NEB forward barrier (eV)"),
                       ("backward_barrier_eV", "NEB backward barrier (eV)")):
        diff = ours[key] - theirs[key]
        rows.append(Row(label, f"{ours[key]:.4f}", f"{theirs[key]:.4f}", f"{diff:+.4f}", "|difference| <= 0.01 eV",
                        abs(diff) <= 0.01, version, case))
    return rows


# ---- the page ---------------------------------------------------------------------------------

def run_all(reference_dir: str | Path | None = None, skip: Sequence[str] = ()) -> list[Row]:
    """Every check (but those named in ``skip``), each timed; a check that raises is a failed row
    with the error."""
    checks: list[tuple[str, Callable[[], list[Row] | Row]]] = [
        ("D (cm^2/s)", diffusion_rows), ("D2min (A^2)", d2min_row), ("H1 persistence diagram", homology_rows),
        ("energies", lambda: energy_rows(reference_dir)), ("NEB barrier (eV)", neb_row)]
    unknown = set(skip) - {name for name, _ in checks}
    if unknown:
        raise ValueError(f"unknown checks {sorted(unknown)}")
    rows = []
    for name, check in checks:
        if name in skip:
            continue
        start = time.perf_counter()
        try:
            got = check()
        except Exception as exc:  # an oracle or kernel that crashes is a failure, shown with its error
            got = Row(name, passed=False, note=f"error: {type(exc).__name__}: {exc}")
        got = got if isinstance(got, list) else [got]
        seconds = time.perf_counter() - start
        for r in got:
            r.seconds = seconds / len(got)
        rows += got
    return rows


def write_page(rows: list[Row], out_dir: str | Path) -> dict:
    """agreement.csv, agreement.md and agreement.html in ``out_dir``; returns the counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dicts = [dict(asdict(r), status=r.status, seconds=f"{r.seconds:.1f}") for r in rows]
    with open(out / "agreement.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows(dicts)
    counts = {s: sum(r.status == s for r in rows) for s in ("pass", "FAIL", "not run")}
    summary = f"{counts['pass']} pass, {counts['FAIL']} fail, {counts['not run']} not run"
    head = ("quantity", "lipsglass", "oracle", "difference", "tolerance", "status", "oracle version", "case", "note")
    keys = ("quantity", "lipsglass", "oracle", "difference", "tolerance", "status", "oracle_version", "case", "note")
    md = ["# Validation: lipsglass kernels beside independent implementations", "", summary, "",
          "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(str(d[k]).replace("|", "/") for k in keys) + " |" for d in dicts]
    (out / "agreement.md").write_text("\n".join(md) + "\n")
    colours = {"pass": "#d9f2e3", "FAIL": "#f9dcdc", "not run": "#eeeeee"}
    body = "".join(f"<tr style='background:{colours[d['status']]}'>" + "".join(
        f"<td>{html.escape(str(d[k]))}</td>" for k in keys) + "</tr>" for d in dicts)
    (out / "agreement.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Validation</title><style>body{font-family:sans-serif;"
        "font-size:13px} table{border-collapse:collapse} td,th{border:1px solid #999;padding:4px;vertical-align:top}"
        "</style></head><body><h1>Validation: lipsglass kernels beside independent implementations</h1>"
        f"<p>{html.escape(summary)}</p><table id='validation'><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in head) + f"</tr></thead><tbody>{body}</tbody></table></body></html>\n")
    return counts


def validate_job(out_dir: str, reference_dir: str | None = None) -> dict:
    rows = run_all(reference_dir)
    return write_page(rows, out_dir)
