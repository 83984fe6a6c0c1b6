"""Validation of the study configuration against its JSON schema, with messages that name
the offending key, plus the semantic checks a schema cannot express."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import yaml

from lipsglass.builder import box_edge_A
from lipsglass.composition import composition_from_config
from lipsglass.core.settings import RuleSettings
from lipsglass.forcefield import FORCEFIELD_DIR

# Package data (in the source tree a link to workflow/schemas/config.schema.yaml), so that an
# installed package validates configs too.
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "config.schema.yaml"
# The workflow's own configfile (Snakefile: config/config.yaml, package data as the schema is): the
# base a --configfile overlay is merged over by load_study_config
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent / "data" / "shipped_config.yaml"


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
    if key == "compositions" and "propertyNames" in error.schema_path:
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
    _check_cell_sizes(config)
    _check_analysed_temperatures(config)
    hom = config.get("homology")
    if hom and not hom["volume_epsilon_A2"] < hom["min_persistence_A2"]:
        raise ConfigError(f"config key homology.volume_epsilon_A2: {hom['volume_epsilon_A2']} A^2 must be below "
                          f"homology.min_persistence_A2 ({hom['min_persistence_A2']} A^2): a stable volume needs a "
                          f"noise band shorter than the persistence of the rings")
    ff_name = config["forcefield"]

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


def neb_glasses(config: dict) -> list[str]:
    """Glasses with NEB hops, in the order of ``compositions``: config ``neb.glasses`` is "first"
    (the first selected glass: P2S6-25, the glass of the paper's Fig. 4, in the default study),
    "all" (every selected glass) or a list of names, of which the selected ones are taken."""
    wanted = config["neb"].get("glasses", "first")
    selected = selected_glasses(config)
    if wanted == "first":
        return selected[:1]
    if wanted == "all":
        return selected
    return [g for g in selected if g in wanted]


def _check_glass_names(config: dict) -> None:
    """Glass selections name compositions that exist; a stage's list names a selected glass."""
    known = list(config["compositions"])
    for key, wanted in (("glasses", config.get("glasses", "all")),
                        ("neb.glasses", config.get("neb", {}).get("glasses", "first"))):
        unknown = [] if wanted in ("all", "first") else [g for g in wanted if g not in known]
        if unknown:
            raise ConfigError(f"config key {key}: {unknown} not among compositions {known}")
    if "neb" in config and not neb_glasses(config):
        raise ConfigError(f"config key neb.glasses: none of {config['neb']['glasses']} is among the selected glasses "
                          f"{selected_glasses(config)}; set neb.glasses: first (or all), or name a selected glass")


# Standard atomic masses (g/mol) for the cell-size estimate
_ELEMENT_MASS_G_MOL = {"Li": 6.941, "P": 30.974, "S": 32.06}
# Glass density (g/cm3) for the cell-size estimate: the default study measured 1.797-1.811 at 300 K
_GLASS_DENSITY_G_CM3 = 1.8


def analysis_minimum_li(config: dict) -> dict[str, tuple[int, str]]:
    """Smallest Li count per glass each analysis needs, {config key: (Li, what it needs them for)}.

    Only ``softness.outer_folds`` stops a stage (the softness model cannot be cross-fitted); below
    the others a claim is "not tested" for that glass."""
    need = {}
    soft = config.get("softness")
    if soft:
        outer, inner = int(soft["outer_folds"]), int(soft["cv_folds"])
        # every outer fold holds >= 1 labelled Li, and each training part (outer - 1 of the folds)
        # >= cv_folds Li for the inner choice of C
        need["softness.outer_folds"] = (max(outer, -(-inner * outer // (outer - 1))),
                                        f"the softness model cross-fits over Li in {outer} folds with "
                                        f"{inner} inner folds")
    if "C12" in config.get("claims", {}):
        need["claims.C12.min_li"] = (int(config["claims"]["C12"]["min_li"]),
                                     "C12 tests ring-size classes covering at least this many Li")
    if "C7" in config.get("claims", {}):
        need["claims.C7.min_li"] = (int(config["claims"]["C7"]["min_li"]),
                                    "C7 compares anion types touched by at least this many Li")
    c10 = config.get("claims", {}).get("C10")
    if "neb" in config and c10:
        need["claims.C10.min_li_per_group"] = (int(c10["min_li_per_group"]),
                                               "C10 uses a glass with this many Li nearest PS4 and as many nearest P2S6")
    return need


def cell_size_warnings(config: dict) -> list[str]:
    """Selected glasses too small for an analysis whose claim they would leave "not tested"."""

    messages = []
    need = analysis_minimum_li(config)
    for glass in selected_glasses(config):
        comp = composition_from_config(glass, config["compositions"][glass])
        for key, (n_min, why) in need.items():
            if key != "softness.outer_folds" and comp.n_Li < n_min:
                messages.append(f"glass {glass}: {comp.n_Li} Li, fewer than {n_min} ({key}: {why}); "
                                "that claim will not be tested for it")
        if "neb" in config and glass in neb_glasses(config):
            mass = sum(_ELEMENT_MASS_G_MOL[e] * n for e, n in comp.element_counts().items())
            half_edge = 0.5 * box_edge_A(mass, _GLASS_DENSITY_G_CM3)
            if half_edge < config["neb"]["min_distance_A"]:
                messages.append(f"glass {glass}: half its cell (~{half_edge:.1f} A at {_GLASS_DENSITY_G_CM3} g/cm3) is "
                                f"shorter than neb.min_distance_A ({config['neb']['min_distance_A']} A): no NEB hop fits")
    return messages


def _check_cell_sizes(config: dict) -> None:
    """A selected glass with fewer Li than a stage needs to run stops the run."""
    need = analysis_minimum_li(config).get("softness.outer_folds")
    if need is None:
        return
    n_min, why = need
    for glass in selected_glasses(config):
        comp = composition_from_config(glass, config["compositions"][glass])
        if comp.n_Li < n_min:
            raise ConfigError(f"config key compositions.{glass}.units: {comp.n_Li} Li ({comp.n_atoms} atoms) is below "
                              f"the {n_min} Li the analyses need ({why}); scale the units up "
                              f"(python -m lipsglass composition --atoms 800 gives a demonstration-size cell)")


def production_duration_ps(production: dict, temperature_K: float) -> float:
    """NVT production length (ps) of the run at ``temperature_K``: ``production.durations_ps``
    of that temperature (whole kelvin keys) where listed, else ``production.duration_ps``; the
    value as configured (a run's params, so a study without durations_ps keeps the ones it had)."""
    by_T = {int(T): ps for T, ps in (production.get("durations_ps") or {}).items()}
    return by_T.get(int(round(float(temperature_K))), production["duration_ps"])


def _check_analysed_temperatures(config: dict) -> None:
    """Analyses read production runs: their temperatures must be production temperatures (whole
    kelvin, compared exactly: the run folders are named by them); so must the temperatures of
    ``production.durations_ps``."""
    produced = sorted(config["production"]["temperatures_K"])
    for T in config["production"].get("durations_ps") or {}:
        if isinstance(T, bool) or not isinstance(T, int) or T not in produced:
            raise ConfigError(f"config key production.durations_ps.{T}: not one of production.temperatures_K "
                              f"{[int(t) for t in produced]} (whole kelvin)")
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


def merge_config(base: dict, overlay: dict) -> dict:
    """``overlay`` merged over ``base`` as ``snakemake --configfile`` does: nested sections key by
    key, anything else (lists included) replaced; neither argument is changed."""
    out = copy.deepcopy(base)
    for key, value in (overlay or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_study_config(paths, default: str | Path | None = None) -> dict:
    """The validated configuration of ``snakemake --configfile <paths>``: the files merged in order.
    A first file that lacks a required top-level key of the schema is an overlay (e.g.
    config/workstation_transport.yaml, config/reproduction.yaml) and is merged over ``default``
    (the workflow's config/config.yaml); a complete one (config/paper.yaml) stands alone."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    if not paths:
        raise ConfigError("no config file given")
    docs = [yaml.safe_load(Path(p).read_text()) or {} for p in paths]
    required = _schema().get("required", [])
    if all(k in docs[0] for k in required):
        config = docs[0]
    else:
        base = Path(default) if default is not None else DEFAULT_CONFIG_PATH
        if not base.is_file():
            raise ConfigError(f"{paths[0]} is an overlay (no {[k for k in required if k not in docs[0]]}) and the "
                              f"base config {base} is missing: give the base first")
        config = merge_config(yaml.safe_load(base.read_text()), docs[0])
    for doc in docs[1:]:
        config = merge_config(config, doc)
    return validate_config(config)


# ---- which rules read a key: the schema's read_by ----
#
# Every node of the schema may carry ``read_by``: the rules whose results depend on the keys below
# it (a deeper ``read_by`` wins). The rules' params are derived from it (``rule_settings``), so a
# changed value reruns exactly its readers; ``read_by: []`` marks a key that changes no result
# (a runtime or presentation setting). tests/test_rerun.py changes every key of a finished study
# and compares the jobs Snakemake plans with these declarations.


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _child(node: dict, key: str) -> dict:
    props = node.get("properties", {})
    if key in props:
        return props[key]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return extra
    for alt in node.get("anyOf", []) + node.get("oneOf", []):
        if isinstance(alt, dict) and key in alt.get("properties", {}):
            return alt["properties"][key]
    raise KeyError(key)


EVERY_RULE = "*"  # read_by: ["*"]: the key shapes the whole study (which glasses, how many replicas)


def key_readers(dotted_key: str, schema: dict | None = None) -> tuple[str, ...]:
    """The rules declared (schema ``read_by``) to read config key ``dotted_key`` (a.b.c);
    ``("*",)`` for a key every rule depends on."""
    node = schema or _schema()
    readers: list[str] = list(node.get("read_by", []))
    for key in dotted_key.split("."):
        try:
            node = _child(node, key)
        except KeyError:
            break
        if "read_by" in node:
            readers = list(node["read_by"])
    return tuple(readers)


def rule_settings(config: dict, rule: str, section: str, schema: dict | None = None) -> dict:
    """The keys of ``config[section]`` that ``rule`` reads (schema ``read_by``), nested mappings
    filtered key by key: the params of a rule, so a key it does not read never reruns it."""
    schema = schema or _schema()

    def keep(value, dotted: str):
        if isinstance(value, dict) and value and not _free_mapping(dotted, schema):
            kept = {k: keep(v, f"{dotted}.{k}") for k, v in value.items()}
            kept = {k: v for k, v in kept.items() if v is not _DROPPED}
            return kept or _DROPPED
        readers = key_readers(dotted, schema)
        return value if rule in readers or EVERY_RULE in readers else _DROPPED

    kept = keep(config[section], section)
    if kept is _DROPPED or kept == {}:
        raise ValueError(f"rule {rule} reads no key of config section {section} (schema read_by)")
    # the section's keys this rule does not read: its job may not use them, not even as defaults
    node = _child(schema, section)
    omitted = {key for key in node.get("properties", {})
               if not {rule, EVERY_RULE} & set(key_readers(f"{section}.{key}", schema))}
    return RuleSettings(section, kept, omitted)


_DROPPED = object()


def _free_mapping(dotted: str, schema: dict) -> bool:
    """Whether ``dotted`` is a mapping of free-named entries (e.g. compositions, radii): read whole."""
    node = schema
    for key in dotted.split("."):
        node = _child(node, key)
    return "properties" not in node and isinstance(node.get("additionalProperties"), dict)


# ---- the key table of config/README.md, generated from the schema ----

KEY_TABLE_BEGIN = "<!-- config keys: generated from workflow/schemas/config.schema.yaml by python -m lipsglass config-keys -->"
KEY_TABLE_END = "<!-- end of config keys -->"


def _resolve(node: dict, schema: dict) -> dict:
    """``node`` with a ``$ref`` into ``#/definitions/`` merged in (its own keys win)."""
    if "$ref" not in node:
        return node
    target = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _allowed(node: dict, schema: dict) -> str:
    """The values a key accepts, in words, from its constraints."""
    node = _resolve(node, schema)
    alternatives = node.get("oneOf") or (node.get("anyOf") if "type" not in node else None)
    if alternatives:
        return " or ".join(_allowed(alt, schema) for alt in alternatives)
    if "const" in node:
        return repr(node["const"]) if not isinstance(node["const"], str) else node["const"]
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "null":
        return "null"
    if kind == "array":
        size = ""
        if node.get("minItems") == node.get("maxItems") and "minItems" in node:
            size = f"{node['minItems']} "
        elif node.get("minItems"):
            size = f">= {node['minItems']} "
        items = _allowed(node.get("items", {}), schema) if node.get("items") else "values"
        return f"list of {size}({items})" + (", each once" if node.get("uniqueItems") else "")
    if kind == "object":
        return "mapping"
    bounds = []
    if "minimum" in node:
        bounds.append(f">= {node['minimum']}")
    if "exclusiveMinimum" in node:
        bounds.append(f"> {node['exclusiveMinimum']}")
    if "maximum" in node:
        bounds.append(f"<= {node['maximum']}")
    if "exclusiveMaximum" in node:
        bounds.append(f"< {node['exclusiveMaximum']}")
    if "not" in node and "const" in node["not"]:
        bounds.append(f"not {node['not']['const']}")
    words = {"number": "number", "integer": "integer", "string": "text", "boolean": "true or false"}.get(kind, kind or "any")
    if "pattern" in node:
        words += f" matching {node['pattern']}"
    if "minLength" in node:
        words = "non-empty " + words
    return words + (" " + ", ".join(bounds) if bounds else "")


# what the free-named entries of a mapping are called in the key table
_ENTRY_NAMES = {"compositions": "glass", "switches": "rule", "radii": "element", "voronoi_radii_A": "element",
                "durations_ps": "T"}


def config_key_rows(schema_path: str | Path = SCHEMA_PATH) -> list[dict[str, str]]:
    """Every key of the schema in its order: dotted key, description, unit, default, allowed."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    rows: list[dict[str, str]] = []

    def walk(node: dict, dotted: str) -> None:
        for key, sub in node.get("properties", {}).items():
            visit(sub, f"{dotted}.{key}" if dotted else key)
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            visit(extra, f"{dotted}.<{_ENTRY_NAMES.get(dotted.rsplit('.', 1)[-1], 'name')}>")
        for alt in node.get("anyOf", []) + node.get("oneOf", []):
            if isinstance(alt, dict) and alt.get("type") == "object":
                walk(alt, dotted)

    def visit(sub: dict, dotted: str) -> None:
        default = sub.get("default", "")
        readers = ", ".join(key_readers(dotted.replace("<", "").replace(">", ""), schema)) if "properties" not in sub else ""
        rows.append({"key": dotted, "description": sub.get("description", ""), "unit": sub.get("unit", ""),
                     "default": "" if "default" not in sub else json.dumps(default),
                     "allowed": "section" if "properties" in sub else _allowed(sub, schema),
                     "read_by": "every rule" if readers == "*" else (readers or "none (changes no result)")
                     if "properties" not in sub else ""})
        walk(sub, dotted)

    walk(schema, "")
    return rows


def config_key_table(schema_path: str | Path = SCHEMA_PATH) -> str:
    """The Markdown table of every config key (between KEY_TABLE_BEGIN and KEY_TABLE_END in
    config/README.md)."""
    lines = [KEY_TABLE_BEGIN, "", "| key | what it sets | unit | default | allowed | read by (rerun when it changes) |",
             "|---|---|---|---|---|---|"]
    for r in config_key_rows(schema_path):
        cells = [f"`{r['key']}`", r["description"], r["unit"], f"`{r['default']}`" if r["default"] else "",
                 r["allowed"], r["read_by"]]
        lines.append("| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines + ["", KEY_TABLE_END])


def key_table_in(markdown: str) -> str:
    """The generated key table inside a Markdown text (markers included), or '' if absent."""
    if KEY_TABLE_BEGIN not in markdown:
        return ""
    start = markdown.index(KEY_TABLE_BEGIN)
    return markdown[start:markdown.index(KEY_TABLE_END, start) + len(KEY_TABLE_END)]
