"""Validation of the study configuration against its JSON schema, with messages that name
the offending key, plus the semantic checks a schema cannot express."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from lipsglass.composition import composition_from_config

# Package data (in the source tree a link to workflow/schemas/config.schema.yaml), so that an
# installed package validates configs too.
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the key."""


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    key = _key_path(error)
    if error.validator == "additionalProperties":
        return f"config key {key}: {error.message} (unknown key; check spelling against config/config.yaml)"
    if error.validator == "anyOf" and key.endswith("units"):
        return f"config key {key}: a glass needs P: give PS4, P2S7 or P2S6 a positive count (got {error.instance})"
    if error.validator == "propertyNames":
        return (f"config key {key}: name {error.instance!r} is not safe as a path and wildcard "
                "(letters, digits, '_', '.', '+', '-'; must start with a letter or digit)")
    return f"config key {key}: {error.message}"


def validate_config(config: dict, schema_path: str | Path = SCHEMA_PATH) -> dict:
    """Raise ConfigError naming every invalid key; return the config unchanged when valid."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_describe(e) for e in errors))
    for name, entry in config["compositions"].items():
        try:
            composition_from_config(name, entry)
        except ValueError as exc:
            raise ConfigError(f"config key compositions.{name}: {exc}") from exc
    _check_glass_names(config)
    _check_analysed_temperatures(config)
    hom = config.get("homology")
    if hom and not hom["volume_epsilon_A2"] < hom["min_persistence_A2"]:
        raise ConfigError(f"config key homology.volume_epsilon_A2: {hom['volume_epsilon_A2']} A^2 must be below "
                          f"homology.min_persistence_A2 ({hom['min_persistence_A2']} A^2): a stable volume needs a "
                          f"noise band shorter than the persistence of the rings")
    ff_name = config["forcefield"]
    from lipsglass.forcefield import FORCEFIELD_DIR

    ff_path = FORCEFIELD_DIR / f"{ff_name}.yaml"
    if not ff_path.exists():
        raise ConfigError(f"config key forcefield: no force field file {ff_path}")
    return config


def selected_glasses(config: dict) -> list[str]:
    """Compositions this run studies (config ``glasses``: "all", the default, or a list of names),
    in the order of ``compositions``."""
    wanted = config.get("glasses", "all")
    names = list(config["compositions"])
    return names if wanted == "all" else [g for g in names if g in wanted]


def _check_glass_names(config: dict) -> None:
    """Glass selections name compositions that exist."""
    known = list(config["compositions"])
    for key, wanted in (("glasses", config.get("glasses", "all")),
                        ("neb.glasses", config.get("neb", {}).get("glasses", "all"))):
        unknown = [] if wanted == "all" else [g for g in wanted if g not in known]
        if unknown:
            raise ConfigError(f"config key {key}: {unknown} not among compositions {known}")
    neb = config.get("neb", {}).get("glasses", "all")
    if neb != "all" and not set(neb) & set(selected_glasses(config)):
        raise ConfigError(f"config key neb.glasses: none of {neb} is among the selected glasses "
                          f"{selected_glasses(config)}")


def _check_analysed_temperatures(config: dict) -> None:
    """Analyses read production runs: their temperatures must be production temperatures (whole
    kelvin, compared exactly: the run folders are named by them)."""
    produced = sorted(config["production"]["temperatures_K"])
    wanted = {"production.fine_T_K": config["production"]["fine_T_K"]}
    for section in ("structure", "softness", "neb", "homology"):
        for key, value in config.get(section, {}).items():
            if key.endswith("temperature_K"):
                wanted[f"{section}.{key}"] = value
    for key, value in wanted.items():
        if value not in produced:
            raise ConfigError(f"config key {key}: {value} K is not one of production.temperatures_K "
                              f"{[int(T) for T in produced]}")


def load_config(path: str | Path) -> dict:
    return validate_config(yaml.safe_load(Path(path).read_text()))
