"""Settings at a job's boundary: a rule receives only the config keys it reads (the schema's
``read_by``), so a settings dataclass parsed from its params fills the others with defaults. Those
defaults must never be used silently: ``restricted`` returns the settings with every field the
rule was not given made unreadable, so a job that reads a key its rule does not declare fails
loudly, naming the key, instead of computing with a default."""

from __future__ import annotations

import sys
from dataclasses import fields, is_dataclass
from functools import lru_cache
from typing import Iterable, TypeVar

T = TypeVar("T")

SCHEMA_FILE = "workflow/schemas/config.schema.yaml"


class UndeclaredSettingError(RuntimeError):
    """A job read a config key that its rule's params do not carry (not declared in read_by)."""


# dataclass machinery (fields(), replace(), asdict(), the generated __eq__/__repr__) and the
# class's own validation (__post_init__) may touch every field; only reads by the job's code count
_MACHINERY = ("dataclasses.py", "<string>")


def _machinery(frame) -> bool:
    return frame.f_code.co_filename.endswith(_MACHINERY) or frame.f_code.co_name == "__post_init__"


@lru_cache(maxsize=None)
def _restricted_class(cls: type, blocked: frozenset, section: str) -> type:
    def __getattribute__(self, name):
        if name in blocked and not _machinery(sys._getframe(1)):
            raise UndeclaredSettingError(
                f"config key {section}.{name} is read but is not among this rule's params: add the rule "
                f"to the key's read_by in {SCHEMA_FILE}")
        return object.__getattribute__(self, name)

    return type(cls.__name__, (cls,), {"__getattribute__": __getattribute__, "__module__": cls.__module__,
                                        "__doc__": cls.__doc__})


def restricted(settings: T, omitted: Iterable[str], section: str) -> T:
    """``settings`` (a dataclass instance) whose fields named in ``omitted`` (config keys the rule
    does not read) raise UndeclaredSettingError when the job reads them."""
    if not is_dataclass(settings):
        raise TypeError(f"need a dataclass instance, got {type(settings).__name__}")
    blocked = frozenset(f.name for f in fields(settings)) & frozenset(omitted)
    if not blocked:
        return settings
    # the instance keeps its values; only its class gains the guard (isinstance checks still hold)
    object.__setattr__(settings, "__class__", _restricted_class(type(settings), blocked, section))
    return settings


class RuleSettings(dict):
    """The config keys of one section that a rule reads (``lipsglass.config.rule_settings``, from
    the schema's read_by): a plain mapping to Snakemake (same repr, so the same params), marked so
    that a job knows every other key of the section was left out on purpose."""

    def __init__(self, section: str, values=(), omitted=()):
        super().__init__(values)
        self.section = section
        self.omitted = frozenset(omitted)  # keys of the section the rule does not read


def job_settings(cls: type[T], params, section: str) -> T:
    """The settings of a job: from its rule's params (``RuleSettings``) with the keys the rule does
    not declare made unreadable (a declared key absent from the config keeps its default); from a
    plain mapping (a caller outside the workflow) with defaults for the
    rest; a ready ``cls`` instance as is."""
    if isinstance(params, cls):
        return params
    settings = cls.from_config(params)
    return restricted(settings, params.omitted, section) if isinstance(params, RuleSettings) else settings
