"""Transport stage (lipsglass.stages.transport) and its workflow rules, on synthetic dumps whose
answer is known by construction: Brownian Li walkers with D(T) = D0 exp(-Ea / k_B T) at three
temperatures, plus a caged (bounded) run that must be flagged and left out of the fit."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import yaml

from conftest import REPO, run_snakemake
from lipsglass.lammpsio import Box, write_dump_frame
from lipsglass.stages import transport as st

K_B_EV = 8.617333262e-5          # eV/K (CODATA 2018 k_B / e)
E_C, K_B_J = 1.602176634e-19, 1.380649e-23

N_LI, N_S = 40, 20               # Li walkers and static S host atoms (S charge -2: neutral cell)
BOX_L = 12.0                     # A
DT_PS, STEPS_PER_FRAME = 0.5, 500  # 1 fs MD timestep
N_FRAMES = 200
M_LI, M_S = 6.941, 32.066
EA_TRUE = 0.10                   # eV: D(400 K) = 0.41 A^2/ps, so 6 D t = 29 A^2 at the window end
                                 # (11.7 ps) is past the cage threshold d^2 = (12^3/40)^(2/3) = 12.3 A^2
D0_TRUE = 7.5                    # A^2/ps
TEMPS = (400.0, 600.0, 800.0)
# Removing the whole-system centre of mass (static host, independent Li walkers) scales the Li
# MSD by 1 - 2 m_Li/M + N_Li m_Li^2/M^2 (derived in tests/test_transport.py); the same at every
# T, so it shifts D0, not Ea.
M_TOT = N_LI * M_LI + N_S * M_S
COM_FACTOR = 1 - 2 * M_LI / M_TOT + N_LI * M_LI ** 2 / M_TOT ** 2

SETTINGS = {
    "species": "Li", "species_charge_e": 1.0, "n_blocks": 5, "n_bootstrap": 100, "seed": 3,
    "fit_start_frac": 0.1, "fit_end_frac": 0.6, "fit_min_span_frac": 0.25, "fit_slope_tol": 0.1,
    "min_loglog_slope": 0.8, "max_loglog_slope": 1.2, "arrhenius_min_T_K": 0.0, "arrhenius_exclude_T_K": [],
    "arrhenius_absolute_sigma": True, "extrapolation_T_K": 300.0, "haven_ratio": 1.0,
}


def d_true_A2ps(T: float) -> float:
    return D0_TRUE * math.exp(-EA_TRUE / (K_B_EV * T))


def write_run(folder, T: float, seed: int, caged: bool = False):
    """Dump (id element type q xu yu zu, 1 fs timestep) and thermo.csv of one synthetic run."""
    rng = np.random.default_rng(seed)
    li0 = rng.uniform(0, BOX_L, size=(N_LI, 3))
    if caged:
        # bounded motion: independent Gaussian rattling about fixed sites, MSD saturates at 6 x 0.3^2 A^2
        li = li0 + rng.normal(scale=0.3, size=(N_FRAMES, N_LI, 3))
    else:
        steps = rng.normal(scale=math.sqrt(2 * d_true_A2ps(T) * DT_PS), size=(N_FRAMES - 1, N_LI, 3))
        li = li0 + np.concatenate([np.zeros((1, N_LI, 3)), np.cumsum(steps, axis=0)])
    host = np.broadcast_to(rng.uniform(0, BOX_L, size=(N_S, 3)), (N_FRAMES, N_S, 3))
    pos = np.concatenate([li, host], axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    box = Box(np.zeros(3), np.full(3, BOX_L))
    n = N_LI + N_S
    fixed = {"id": np.arange(1, n + 1), "element": np.array(["Li"] * N_LI + ["S"] * N_S),
             "type": np.array([1] * N_LI + [2] * N_S), "q": np.array([1.0] * N_LI + [-2.0] * N_S)}
    with open(folder / "trajectory.lammpstrj", "w") as fh:
        for f in range(N_FRAMES):
            write_dump_frame(fh, f * STEPS_PER_FRAME, box, {**fixed, "xu": pos[f, :, 0], "yu": pos[f, :, 1],
                                                             "zu": pos[f, :, 2]})
    with open(folder / "thermo.csv", "w") as fh:
        fh.write("stage,step,time_ps,T_K,P_atm,density_g_cm3,volume_A3,pe_kcal_mol\n")
        fh.write(f"nvt_equilibrate,0,0,{T + 50},1,1,{BOX_L ** 3},0\n")   # not the production stage: ignored
        for k, dT in enumerate((-3.0, 1.0, 2.0)):
            fh.write(f"production,{k},{k * 0.1},{T + dT},1,1,{BOX_L ** 3},0\n")
    return folder / "trajectory.lammpstrj", folder / "thermo.csv"


def write_glass_data(path) -> None:
    """Minimal LAMMPS data file (charge style) with the walkers' composition and cell."""
    lines = ["synthetic glass", "", f"{N_LI + N_S} atoms", "2 atom types", "",
             f"0 {BOX_L} xlo xhi", f"0 {BOX_L} ylo yhi", f"0 {BOX_L} zlo zhi", "",
             "Masses", "", f"1 {M_LI}", f"2 {M_S}", "", "Atoms # charge", ""]
    for i in range(N_LI + N_S):
        t, q = (1, 1.0) if i < N_LI else (2, -2.0)
        lines.append(f"{i + 1} {t} {q} 1.0 1.0 1.0")
    path.write_text("\n".join(lines) + "\n")


def run_diffusion(tmp_path, T, seed, caged=False):
    traj, thermo = write_run(tmp_path / f"nvt/{T:g}K", T, seed, caged)
    outputs = {"result": str(tmp_path / f"transport/{T:g}K/diffusion.json"),
               "msd": str(tmp_path / f"transport/{T:g}K/msd.csv")}
    (tmp_path / f"transport/{T:g}K").mkdir(parents=True, exist_ok=True)
    st.diffusion_job(traj, thermo, T, 1.0, SETTINGS, outputs)
    return outputs


@pytest.fixture(scope="module")
def glass(tmp_path_factory):
    """Three Arrhenius runs and one caged run at 300 K, analysed and fitted by the stage jobs."""
    tmp = tmp_path_factory.mktemp("glass")
    runs = [run_diffusion(tmp, T, seed=10 + k) for k, T in enumerate(TEMPS)]
    runs.append(run_diffusion(tmp, 300.0, seed=99, caged=True))
    write_glass_data(tmp / "glass.data")
    out = {"table": str(tmp / "transport/diffusion.csv"), "arrhenius": str(tmp / "transport/arrhenius.json")}
    st.arrhenius_job([r["result"] for r in runs], tmp / "glass.data", SETTINGS, "synthetic", out)
    return tmp, runs, out


def test_run_outputs_have_units_and_recover_D(glass):
    _, runs, _ = glass
    for T, run in zip(TEMPS, runs):
        res = json.loads(open(run["result"]).read())
        assert res["temperature_K"] == T
        # thermo.csv: only the production rows count (T + (-3, 1, 2) -> mean T, sd by hand)
        assert res["T_measured_K"] == pytest.approx(T)
        assert res["T_measured_std_K"] == pytest.approx(math.sqrt((9 + 1 + 4) / 2))
        assert res["n_atoms"] == N_LI and res["dt_ps"] == pytest.approx(DT_PS)
        assert res["volume_A3"] == pytest.approx(BOX_L ** 3)
        assert res["diffusive"], res["diffusive_reason"]
        expected_cm2_s = d_true_A2ps(T) * COM_FACTOR * 1e-4   # A^2/ps -> cm^2/s
        assert abs(res["D_cm2_s"] - expected_cm2_s) < 3 * res["D_stderr_cm2_s"]
        # Nernst-Einstein by hand: n e^2 D / (k_B T), n in 1/cm^3, D in cm^2/s -> S/cm
        n_cm3 = N_LI / (BOX_L ** 3 * 1e-24)
        assert res["sigma_NE_S_cm"] == pytest.approx(n_cm3 * E_C ** 2 * res["D_cm2_s"] / (K_B_J * T), rel=1e-9)
        assert res["sigma_einstein_S_cm"] is not None
        curve = np.genfromtxt(run["msd"], delimiter=",", names=True)
        assert curve.dtype.names == ("lag_ps", "msd_A2", "dlnMSD_dlnt")
        assert curve["lag_ps"][1] == pytest.approx(DT_PS) and len(curve) == N_FRAMES


def test_diffusion_csv_columns_and_flags(glass):
    _, _, out = glass
    with open(out["table"], newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == st.DIFFUSION_COLUMNS
        rows = list(reader)
    for required in ("T_K", "D_cm2_s", "D_stderr_cm2_s", "loglog_slope", "fit_start_ps", "fit_end_ps", "n_Li",
                     "diffusive", "D_stderr_bootstrap_cm2_s", "sigma_NE_S_cm", "sigma_NE_stderr_S_cm",
                     "sigma_einstein_S_cm", "sigma_einstein_stderr_S_cm", "volume_A3"):
        assert required in rows[0]
    assert [float(r["T_K"]) for r in rows] == [300.0, *TEMPS]
    caged = rows[0]
    assert caged["diffusive"] == "False" and caged["in_arrhenius_fit"] == "False"
    assert "sub-diffusive" in caged["arrhenius_exclusion_reason"] and "caged" in caged["diffusive_reason"]
    assert float(caged["msd_past_cage_A2"]) < float(caged["cage_threshold_A2"])
    assert float(caged["loglog_slope"]) < 0.3        # MSD of bounded rattling saturates: slope ~ 0
    assert all(r["in_arrhenius_fit"] == "True" and r["arrhenius_exclusion_reason"] == "" for r in rows[1:])
    back = st.read_diffusion_table(out["table"])
    assert back[1]["n_Li"] == N_LI and back[0]["diffusive"] is False


def test_arrhenius_json_recovers_Ea_and_extrapolates(glass):
    _, _, out = glass
    a = json.loads(open(out["arrhenius"]).read())
    assert a["status"] == "ok"
    assert a["temperatures_used_K"] == list(TEMPS)
    assert a["temperatures_excluded"][0]["T_K"] == 300.0 and "not diffusive" in a["temperatures_excluded"][0]["reason"]
    assert 0 < a["Ea_stderr_eV"] < 0.05
    assert abs(a["Ea_eV"] - EA_TRUE) < 3 * a["Ea_stderr_eV"]
    assert abs(math.log(a["D0_cm2_s"] / (D0_TRUE * COM_FACTOR * 1e-4))) < 3 * a["ln_D0_stderr"]
    cov = np.array(a["cov_lnD0_Ea"])
    assert cov.shape == (2, 2) and cov[1, 1] == pytest.approx(a["Ea_stderr_eV"] ** 2)
    # D(300 K) from the fitted line, and its NE conductivity with the glass's Li density (H = 1)
    d300 = a["D0_cm2_s"] * math.exp(-a["Ea_eV"] / (K_B_EV * 300.0))
    assert a["D_300K_cm2_s"] == pytest.approx(d300, rel=1e-9) and a["D_300K_is_extrapolated"]
    assert a["D_300K_stderr_cm2_s"] > 0
    n_cm3 = N_LI / (BOX_L ** 3 * 1e-24)
    assert a["sigma_300K_S_cm"] == pytest.approx(n_cm3 * E_C ** 2 * d300 / (K_B_J * 300.0), rel=1e-9)
    assert a["sigma_300K_stderr_S_cm"] == pytest.approx(a["sigma_300K_S_cm"] * a["D_300K_stderr_cm2_s"] / d300)
    assert "H = 1" in a["haven_ratio_statement"]


def test_too_few_usable_temperatures_give_nulls_with_a_reason(glass, tmp_path):
    tmp, runs, _ = glass
    settings = {**SETTINGS, "arrhenius_exclude_T_K": [600.0, 800.0, 1000.0]}
    out = {"table": str(tmp_path / "diffusion.csv"), "arrhenius": str(tmp_path / "arrhenius.json")}
    a = st.arrhenius_job([r["result"] for r in runs], tmp / "glass.data", settings, "synthetic", out)
    on_disk = json.loads(open(out["arrhenius"]).read())
    assert on_disk == json.loads(json.dumps(a))
    assert a["status"] == "no_fit" and "needs at least two" in a["reason"]
    assert a["Ea_eV"] is None and a["sigma_300K_S_cm"] is None and a["D_300K_cm2_s"] is None
    reasons = {e["T_K"]: e["reason"] for e in a["temperatures_excluded"]}
    assert "arrhenius_exclude_T_K" in reasons[600.0] and "not diffusive" in reasons[300.0]
    assert a["temperatures_used_K"] == [] and "fewer than two usable" in reasons[400.0]   # usable, but alone
    assert not any(r["in_arrhenius_fit"] for r in st.read_diffusion_table(out["table"]))
    assert any("1000" in n for n in a["notes"])   # an excluded T that was never produced is reported
    # the figures still render (every run's D as open symbols; no conductivity, with the reason)
    fig = st.arrhenius_figure_job({"g": out["arrhenius"]}, {"g": out["table"]}, tmp_path / "a.png", tmp_path / "a.pdf")
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "g (no Arrhenius fit)" in legend and "glassy, left out of the fit (diffusion.csv)" in legend
    assert len(fig.axes[0].containers[0].lines[0].get_xdata()) == len(runs)   # every run's D is drawn
    st.conductivity_figure_job({"g": out["arrhenius"]}, REPO / "config" / "experimental_conductivity.csv",
                               tmp_path / "b.png", tmp_path / "b.pdf")
    assert all((tmp_path / f).stat().st_size > 1000 for f in ("a.png", "a.pdf", "b.png", "b.pdf"))


def test_figures_from_stage_outputs(glass, tmp_path):
    tmp, runs, out = glass
    msd = st.msd_figure_job([r["result"] for r in runs], [r["msd"] for r in runs],
                            tmp_path / "msd.png", tmp_path / "msd.pdf")
    assert len(msd.axes[0].get_legend().get_texts()) == len(runs)
    st.arrhenius_figure_job({"synthetic": out["arrhenius"]}, {"synthetic": out["table"]},
                            tmp_path / "a.png", tmp_path / "a.pdf")
    exp = tmp_path / "exp.csv"
    exp.write_text("label,sigma_S_cm,T_K,kind,citation\nglass A,1e-4,298,glass,Someone 2019\n")
    st.conductivity_figure_job({"synthetic": out["arrhenius"]}, exp, tmp_path / "b.png", tmp_path / "b.pdf")
    for name in ("msd", "a", "b"):
        for ext in ("png", "pdf"):
            assert (tmp_path / f"{name}.{ext}").stat().st_size > 1000


def test_experimental_conductivity_table():
    from lipsglass.figures.transport import read_experimental_conductivity

    rows = read_experimental_conductivity(REPO / "config" / "experimental_conductivity.csv")
    kinds = {r["citation"].split()[0]: r["kind"] for r in rows}
    assert kinds == {"Preefer": "glass", "Mirmira": "glass", "Mizuno": "glass-ceramic", "Seino": "glass-ceramic"}
    sigma = {r["citation"].split()[0]: r["sigma_S_cm"] for r in rows}
    assert sigma == {"Preefer": 1e-4, "Mirmira": 3.5e-4, "Mizuno": 3.2e-3, "Seino": 1.7e-2}


def test_dry_run_plans_the_transport_rules(tmp_path):
    # an empty working directory, so every job is planned whatever results/ already holds
    proc = run_snakemake("-n", "--cores", "1", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
                         "--configfile", str(REPO / "config" / "config.yaml"))
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    n_glass, n_temp = len(config["compositions"]), len(config["production"]["temperatures_K"])
    n_rep = config["replicas"]
    counts = {}
    table = proc.stdout[proc.stdout.index("job "):]
    for line in table.splitlines()[2:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        counts[parts[0]] = int(parts[1])
    assert counts["transport_run"] == counts["run_phase"] == n_glass * n_rep * n_temp
    assert counts["transport_replica"] == n_glass * n_rep
    assert counts["transport_composition"] == n_glass and counts["msd_figure"] == n_glass
    assert counts["fig2a_arrhenius"] == 1 and counts["fig2b_conductivity"] == 1


# --------------------------------------------------------------------------------------------
# One analysis, one answer: the command line with --config gives the workflow's result
# --------------------------------------------------------------------------------------------


def test_cli_with_config_gives_the_workflow_result(tmp_path, capsys):
    from lipsglass.cli import main
    from lipsglass.config import load_config

    cfg = load_config(REPO / "config" / "config.yaml")
    traj, thermo = write_run(tmp_path / "nvt", 600.0, seed=5)
    # the dump was written with 1 fs steps; give the config that timestep so both read the same times
    cfg_path = tmp_path / "config.yaml"
    raw = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    raw["md"]["timestep_fs"] = 1.0
    cfg_path.write_text(yaml.safe_dump(raw))
    outputs = {"result": str(tmp_path / "diffusion.json"), "msd": str(tmp_path / "msd.csv")}
    job = st.diffusion_job(traj, thermo, 600.0, 1.0, cfg["transport"], outputs)
    assert main(["diffusion", str(traj), "--config", str(cfg_path), "--temperature-K", "600"]) == 0
    cli = json.loads(capsys.readouterr().out)
    for key in ("D_cm2_s", "D_stderr_cm2_s", "stderr_estimator", "diffusive", "diffusive_reason", "fit_start_ps",
                "fit_end_ps", "linearity_z_score", "msd_past_cage_A2", "sigma_NE_S_cm", "sigma_einstein_S_cm",
                "sigma_einstein_stderr_S_cm", "haven_ratio_measured"):
        assert cli[key] == job[key], key
    # without --config: the shipped config's transport defaults (same answer, given the time axis)
    assert main(["diffusion", str(traj), "--timestep-fs", "1"]) == 0
    default = json.loads(capsys.readouterr().out)
    for key in ("D_cm2_s", "D_stderr_cm2_s", "diffusive", "fit_start_ps", "fit_end_ps"):
        assert default[key] == job[key], key
    assert default["settings_source"].startswith("defaults")


def test_cli_defaults_are_the_shipped_config():
    from lipsglass.config import load_config
    from lipsglass.transport.settings import TransportSettings, analysis_options

    shipped = load_config(REPO / "config" / "config.yaml")["transport"]
    for key, value in TransportSettings().to_dict().items():
        assert shipped[key] == value, key
    assert analysis_options(None) == analysis_options(shipped)


def test_transport_settings_defaults_are_the_schema_defaults():
    """TransportSettings holds every key of the schema's transport section, with its default."""
    from lipsglass.config import SCHEMA_PATH
    from lipsglass.transport.settings import TransportSettings

    schema = yaml.safe_load(SCHEMA_PATH.read_text())["properties"]["transport"]["properties"]
    defaults = TransportSettings().to_dict()
    assert set(schema) == set(defaults)
    for key, spec in schema.items():
        assert spec["default"] == defaults[key], key


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    from lipsglass.cli import main

    traj, _ = write_run(tmp_path / "nvt", 600.0, seed=6)
    assert main(["diffusion", str(traj), "--timestep-fs", "1", "--species", "Na"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no Na atoms" in err and len(err.splitlines()) == 1 and "Traceback" not in err
    empty = tmp_path / "empty.lammpstrj"
    empty.write_text("")
    assert main(["diffusion", str(empty), "--timestep-fs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert "no frames" in err and len(err.splitlines()) == 1
    assert main(["diffusion", str(traj)]) == 2          # no time axis and no config
    assert "give --dt-ps or --timestep-fs" in capsys.readouterr().err
    assert main(["diffusion", str(tmp_path / "missing.lammpstrj"), "--timestep-fs", "1"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
