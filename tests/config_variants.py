"""For every leaf key of a configuration, another valid value: the overlays of the generated rerun
test (tests/test_rerun.py). A value is valid when lipsglass.config.validate_config accepts the
changed configuration; keys without another valid value are returned apart, with the reason."""

from __future__ import annotations

import copy
from typing import Any, Iterator

from lipsglass.config import ConfigError, validate_config


def merge(base: dict, overlay: dict) -> dict:
    """``overlay`` merged onto ``base`` the way Snakemake merges config files (mappings key by key)."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


def leaf_keys(config: dict, prefix: tuple = ()) -> Iterator[tuple]:
    """Paths (tuples of keys) of every leaf of ``config``; a non-empty mapping is not a leaf, a list is."""
    for key, value in config.items():
        if isinstance(value, dict) and value:
            yield from leaf_keys(value, prefix + (key,))
        else:
            yield prefix + (key,)


def get(config: dict, path: tuple) -> Any:
    for key in path:
        config = config[key]
    return config


def overlay_of(path: tuple, value: Any) -> dict:
    """The overlay that sets ``path`` to ``value``."""
    overlay: Any = value
    for key in reversed(path):
        overlay = {key: overlay}
    return overlay


def _number_candidates(value: float, integer: bool) -> list:
    if integer:  # doubling first: keeps multiples (NEB steps of print_every) and counts valid
        return [value * 2, value + 1, value - 1]
    if value == 0:
        return [0.1, 1.0, 0.01]
    return [value * 1.1, value * 0.9, value * 2.0, value * 0.5]


def candidates(value: Any) -> list:
    """Values to try in place of ``value``, nearest first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return _number_candidates(value, True)
    if isinstance(value, float):
        return _number_candidates(value, False)
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            bumped = [type(v)(v * 1.1) if isinstance(v, float) else v + 1 for v in value]
            last = value[-1]
            return [bumped, value[:-1] + [type(last)(last * 1.1) if isinstance(last, float) else last + 1],
                    value + [type(last)(last * 1.2) if isinstance(last, float) else last + 100], value[:-1]]
        if value and all(isinstance(v, str) for v in value):
            return [value[:-1], value[::-1], value + ["liquid", "mixed"], "all"]
        if value and all(isinstance(v, list) for v in value):
            return [value[:-1], value[::-1]]
        return [[300.0], [1], ["glass", "liquid"]]
    if value is None:
        return [1.0, 1, [300.0, 600.0], [0.5, 1.0], "default"]
    if isinstance(value, str):  # after the schema's enum alternatives (see variants)
        return ["all", "first", "S", "P", "Li", f"{value} (changed)"]
    if isinstance(value, dict):  # an empty mapping
        return [{"default": "-sf omp"}]
    return []


def _enum_of(schema: dict, path: tuple) -> list:
    node = schema
    for key in path:
        props = node.get("properties", {})
        node = props[key] if key in props else node.get("additionalProperties", {})
        if not isinstance(node, dict):
            return []
    for alternative in [node] + node.get("anyOf", []):
        if "enum" in alternative:
            return list(alternative["enum"])
    return []


def variants(config: dict, schema: dict) -> tuple[dict[str, dict], dict[str, str]]:
    """({dotted key: overlay with another valid value}, {dotted key: why it has none})."""
    found, none = {}, {}
    for path in leaf_keys(config):
        value = get(config, path)
        tries = candidates(value)
        if isinstance(value, str):
            tries = [v for v in _enum_of(schema, path) if v != value] + tries
        name = ".".join(map(str, path))
        for candidate in tries:
            if candidate == value:
                continue
            overlay = overlay_of(path, candidate)
            try:
                validate_config(merge(copy.deepcopy(config), overlay))
            except (ConfigError, ValueError, KeyError, TypeError):
                continue
            found[name] = overlay
            break
        else:
            none[name] = "no other value passes the config validation"
    return found, none
