"""HomologySettings: one set of defaults, kept equal to the config schema's and config/config.yaml's."""

from dataclasses import fields

import pytest
import yaml

from conftest import REPO
from lipsglass.config import SCHEMA_PATH
from lipsglass.homology.settings import HomologySettings


def test_defaults_are_the_schema_defaults_and_the_shipped_config():
    schema = yaml.safe_load(SCHEMA_PATH.read_text())["properties"]["homology"]
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["homology"]
    defaults = HomologySettings()
    names = {f.name for f in fields(HomologySettings)}
    assert names == set(schema["properties"]) == set(schema["required"]) == set(shipped)
    for name in names:
        value = getattr(defaults, name)
        if isinstance(value, tuple):
            value = list(value)
        if "default" in schema["properties"][name]:
            assert value == schema["properties"][name]["default"], f"homology.{name}: dataclass and schema differ"
        assert value == shipped[name], f"homology.{name}: dataclass and config/config.yaml differ"
    assert HomologySettings.from_config(shipped) == defaults


def test_from_config_takes_a_rule_s_part_and_refuses_unknown_keys():
    part = HomologySettings.from_config({"max_ring_size": 30, "min_persistence_A2": 2.0})
    assert part.max_ring_size == 30 and part.min_persistence_A2 == 2.0 and part.seed == HomologySettings().seed
    assert HomologySettings.coerce(part) is part
    with pytest.raises(ValueError, match="unknown homology settings"):
        HomologySettings.from_config({"max_ring": 30})
    with pytest.raises(ValueError, match="ring_definition"):
        HomologySettings(ring_definition="longest")
    assert HomologySettings().weight_radii is None
    assert HomologySettings(weighted=True, radii={"S": 1.84}).weight_radii == {"S": 1.84}
