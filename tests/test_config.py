"""Config schema: bad input stops before any job with a message naming the key."""

import copy
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from lipsglass.config import ConfigError, load_config, validate_config


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
    config["compositions"][name] = {"units": {"PS4": 1}}
    with pytest.raises(ConfigError, match="compositions"):
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
