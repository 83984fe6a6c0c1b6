"""Config schema: bad input stops before any job with a message naming the key."""

import pytest
import yaml

from conftest import REPO
from lipsglass.config import ConfigError, load_config, load_study_config, production_duration_ps, validate_config


@pytest.fixture()
def config():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("path", ["config/config.yaml", "config/paper.yaml", "tests/config/config.yaml"])
def test_shipped_configs_are_valid(path):
    load_config(REPO / path)


def _set(config, dotted, value):
    node = config
    *head, last = dotted.split(".")
    for key in head:
        node = node[key]
    node[last] = value


@pytest.mark.parametrize("key,value,expected", [
    ("compositions.P2S6-25.units.PS4", -1, "compositions.P2S6-25.units.PS4"),
    ("compositions.P2S6-25.units.P2S7", 2.5, "compositions.P2S6-25.units.P2S7"),
    ("compositions.P2S6-25.units.P4S10", 1, "P4S10"),
    ("compositions.P2S6-25.colour", "red", "colour"),
    ("quench.melt_T_K", 0, "quench.melt_T_K"),
    ("quench.cooling_rate_K_per_ps", -1.0, "quench.cooling_rate_K_per_ps"),
    ("production.duration_ps", 0, "production.duration_ps"),
    ("production.temperatures_K", [300, -5], "production.temperatures_K.1"),
    ("md.timestep_fs", -1, "md.timestep_fs"),
    ("md.kspace_style", "pme", "md.kspace_style"),
    ("quench.melt_temperature", 1000, "melt_temperature"),
    ("forcefield", "nonexistent", "forcefield"),
])
def test_bad_values_name_their_key(config, key, value, expected):
    _set(config, key, value)
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    assert expected in str(err.value)


def test_glass_without_phosphorus(config):
    config["compositions"]["sulfur-only"] = {"units": {"S": 10}}
    with pytest.raises(ConfigError, match="compositions.sulfur-only.units: a glass needs P"):
        validate_config(config)
    config["compositions"]["sulfur-only"] = {"units": {"PS4": 0, "S": 10}}
    with pytest.raises(ConfigError, match="needs P"):
        validate_config(config)


@pytest.mark.parametrize("name", ["a/b", "../up", "has space", "{glass}", "-dash"])
def test_unsafe_glass_names(config, name):
    config["compositions"][name] = {"units": {"PS4": 30}}
    with pytest.raises(ConfigError, match=r"config key compositions: name .* is not safe as a path and wildcard"):
        validate_config(config)


def test_unknown_top_level_key(config):
    config["extra_section"] = {}
    with pytest.raises(ConfigError, match="extra_section"):
        validate_config(config)


@pytest.mark.parametrize("temperatures,message", [
    ([300, 300.4], "production.temperatures_K.1: 300.4 is not of type 'integer'"),
    ([300, 300.0], "non-unique"),   # the same run folder nvt/300K twice
])
def test_temperatures_are_whole_and_unique(config, temperatures, message):
    config["production"]["temperatures_K"] = temperatures
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        validate_config(config)


def test_analysed_temperature_must_be_a_production_temperature(config):
    config["structure"]["temperature_K"] = 300.4          # rounds to a run folder, but no such run
    with pytest.raises(ConfigError, match=r"structure\.temperature_K: 300\.4 K is not one of"):
        validate_config(config)


def test_glass_selection(config):
    from lipsglass.config import selected_glasses
    assert selected_glasses(config) == list(config["compositions"])     # all
    names = list(config["compositions"])
    config["glasses"] = [names[2], names[0]]
    config["neb"]["glasses"] = "all"
    assert selected_glasses(validate_config(config)) == [names[0], names[2]]   # compositions order
    config["glasses"] = [names[0], "no-such-glass"]
    with pytest.raises(ConfigError, match=r"config key glasses: \['no-such-glass'\] not among compositions"):
        validate_config(config)
    config["glasses"] = "all"
    config["neb"]["glasses"] = ["P2S6-99"]
    with pytest.raises(ConfigError, match=r"config key neb\.glasses: \['P2S6-99'\]"):
        validate_config(config)


def test_neb_glasses_follow_the_selection(config):
    """The default (neb.glasses: first) runs NEB on P2S6-25 in the default study and on whatever
    glass is selected first otherwise; a list is cut to the selection; a list naming no selected
    glass stops with the key and the fix."""
    from lipsglass.config import neb_glasses
    assert config["neb"]["glasses"] == "first" and neb_glasses(config) == ["P2S6-25"]
    config["glasses"] = ["P2S6-5", "P2S6-10"]
    assert neb_glasses(validate_config(config)) == ["P2S6-10"]          # compositions order
    config["neb"]["glasses"] = "all"
    assert neb_glasses(validate_config(config)) == ["P2S6-10", "P2S6-5"]
    config["neb"]["glasses"] = ["P2S6-25", "P2S6-5"]
    assert neb_glasses(validate_config(config)) == ["P2S6-5"]
    config["neb"]["glasses"] = ["P2S6-25"]
    with pytest.raises(ConfigError) as err:
        validate_config(config)
    message = str(err.value)
    assert "config key neb.glasses: none of ['P2S6-25'] is among the selected glasses" in message
    assert "set neb.glasses: first" in message and "\n" not in message


def test_a_cell_too_small_for_the_analyses_is_refused(config):
    """{PS4: 1} is 3 Li and 8 atoms: the softness model cannot be cross-fitted over 3 Li."""
    from lipsglass.config import analysis_minimum_li
    n_min, _ = analysis_minimum_li(config)["softness.outer_folds"]
    outer, inner = config["softness"]["outer_folds"], config["softness"]["cv_folds"]
    assert n_min == max(outer, -(-inner * outer // (outer - 1)))          # 7 for 5 and 5 folds
    config["compositions"]["speck"] = {"units": {"PS4": 1}}
    with pytest.raises(ConfigError, match=rf"compositions\.speck\.units: 3 Li \(8 atoms\) is below the {n_min} Li"):
        validate_config(config)
    config["compositions"]["speck"] = {"units": {"PS4": 3}}               # 9 Li: enough to run
    validate_config(config)


def test_a_cell_too_small_for_a_claim_is_warned_about(config):
    """Below claims.C12.min_li Li, C12 cannot be tested for the glass; the warning names the key
    and the minimum. The default study's glasses and the tiny test glass draw no warning."""
    from lipsglass.config import cell_size_warnings
    assert cell_size_warnings(config) == []
    tiny = yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())
    assert cell_size_warnings(validate_config(tiny)) == []
    config["compositions"]["small"] = {"units": {"PS4": 5}}              # 15 Li, 40 atoms
    config["glasses"] = ["small"]
    warnings = cell_size_warnings(validate_config(config))
    assert any("glass small: 15 Li, fewer than 20 (claims.C12.min_li" in w for w in warnings)
    assert any("neb.min_distance_A" in w for w in warnings)              # a ~7 A cell holds no 5 A hop


def test_per_temperature_durations_override_duration_ps(config):
    config["production"].update(temperatures_K=[300, 450, 500], durations_ps={450: 190.0, 500: 90.0})
    validate_config(config)
    p = config["production"]
    assert [production_duration_ps(p, T) for T in (300, 450, 500)] == [10.0, 190.0, 90.0]
    assert production_duration_ps(p, 450.0) == 190.0          # a float temperature names the same run
    config["production"]["durations_ps"] = {400: 50.0}        # not a production temperature
    with pytest.raises(ConfigError, match=r"production\.durations_ps\.400: not one of production\.temperatures_K"):
        validate_config(config)
    config["production"]["durations_ps"] = {450: 0}
    with pytest.raises(ConfigError, match=r"production\.durations_ps\.450"):
        validate_config(config)


def test_an_overlay_is_merged_over_the_default_config_as_snakemake_does(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("production:\n  temperatures_K: [300, 450, 500]\n  durations_ps: {450: 190.0, 500: 90.0}\n"
                       "replicas: 3\n")
    merged = load_study_config(overlay)
    default = load_config(REPO / "config" / "config.yaml")
    assert merged["replicas"] == 3 and merged["production"]["durations_ps"] == {450: 190.0, 500: 90.0}
    assert merged["production"]["seed"] == default["production"]["seed"]      # nested sections merged key by key
    assert merged["compositions"] == default["compositions"]
    # several files in order, as snakemake --configfile A B; a complete config (paper.yaml) stands alone
    second = tmp_path / "second.yaml"
    second.write_text("replicas: 5\n")
    assert load_study_config([REPO / "config" / "config.yaml", overlay, second])["replicas"] == 5
    assert load_study_config(REPO / "config" / "paper.yaml") == load_config(REPO / "config" / "paper.yaml")
    # the shipped workstation overlay plans over the default config
    ws = load_study_config(REPO / "config" / "workstation_transport.yaml")
    assert set(ws["production"]["durations_ps"]) <= set(ws["production"]["temperatures_K"])
