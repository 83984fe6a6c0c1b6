"""A rule's params carry only the config keys it declares (schema read_by); a job that reads any
other key of the section fails naming it, instead of computing with a default."""

from dataclasses import asdict, replace

import pytest

from lipsglass.config import key_readers, rule_settings
from lipsglass.core.settings import RuleSettings, UndeclaredSettingError, job_settings
from lipsglass.transport.settings import TransportSettings


def test_a_job_reading_an_undeclared_key_fails_naming_it():
    s = job_settings(TransportSettings, RuleSettings("transport", {"n_blocks": 5}, omitted={"seed"}), "transport")
    assert s.n_blocks == 5 and isinstance(s, TransportSettings)
    with pytest.raises(UndeclaredSettingError, match="transport.seed"):
        _ = s.seed
    # dataclass machinery and validation still see every field
    assert replace(s, n_blocks=6).n_blocks == 6 and len(asdict(s)) == len(asdict(TransportSettings()))
    # a declared key the config leaves out keeps its default
    assert s.n_bootstrap == TransportSettings().n_bootstrap


def test_plain_mappings_and_instances_keep_the_defaults():
    assert job_settings(TransportSettings, {"n_blocks": 5}, "transport").seed == TransportSettings().seed
    ready = TransportSettings()
    assert job_settings(TransportSettings, ready, "transport") is ready


def test_rule_settings_follow_read_by():
    config = {"softness": {"softness_bins": 40, "share_bins": 10, "voronoi": "plain"},
              "claims": {"level": 0.9, "C4": {"margin": 0.5}, "C9": {"margin": 0.1}}}
    assert rule_settings(config, "fig3b_softness_distributions", "softness") == {"softness_bins": 40}
    assert rule_settings(config, "softness_claims", "claims") == {"level": 0.9, "C4": {"margin": 0.5}}
    assert isinstance(rule_settings(config, "softness_claims", "claims"), RuleSettings)
    omitted = rule_settings(config, "fig3b_softness_distributions", "softness").omitted
    assert "voronoi" in omitted and "softness_bins" not in omitted
    with pytest.raises(ValueError, match="reads no key"):
        rule_settings(config, "quench", "softness")
    assert "softness_dynamics" not in key_readers("softness.softness_bins")
    assert key_readers("lammps.executable") == ()  # a runtime setting reruns nothing
