"""Zarr v3 extension points: the object/short-hand forms and the ``must_understand`` rule.

Spec (core, "Extension definition"): an extension is a short-hand name or an object with
a string ``name``, an optional ``configuration`` object and an implicit
``must_understand: true``.  An implementation must refuse metadata holding a field it does
not recognise unless that field is explicitly marked ``"must_understand": false``;
``must_understand: false`` is not allowed for data types, chunk grids and chunk key
encodings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from exzarr.errors import UnsupportedExtensionError

from ._common import fail, is_mapping, jsonable

__all__ = ["Extension", "parse_extension", "split_unknown_fields", "normalize_named_config"]


@dataclass(frozen=True)
class Extension:
    """One parsed extension object."""

    name: str
    configuration: dict = field(default_factory=dict)
    must_understand: bool = True


def parse_extension(value: Any, point: str) -> Extension:
    """Parse the short-hand or object form of an extension at extension point ``point``."""
    if isinstance(value, str):
        return Extension(value)
    name, config, must = _parts(value, point)
    return Extension(name, dict(config), must)


def _parts(value: Any, point: str) -> tuple[str, Mapping, bool]:
    """The checked name, configuration (the object's own, or ``{}``) and must_understand
    of the object form of an extension."""
    if not is_mapping(value):
        fail(f"{point} must be a name or an object with a 'name', got {value!r}",
             f"write {point} as e.g. {{\"name\": ..., \"configuration\": {{...}}}}")
    name = value.get("name")
    if not isinstance(name, str) or not name:
        fail(f"{point} object {dict(value)!r} has no string 'name'",
             f"every {point} object needs a 'name' member")
    config = value.get("configuration", {})
    if config is None:
        config = {}
    if not is_mapping(config):
        fail(f"{point} {name!r} has a 'configuration' that is not an object: {config!r}",
             "the configuration of an extension must be a JSON object")
    must = value.get("must_understand", True)
    if not isinstance(must, bool):
        fail(f"{point} {name!r} has must_understand={must!r}", "must_understand is true or false")
    return name, config, must


def split_unknown_fields(doc: Mapping[str, Any], known: Iterable[str], node: str) -> dict:
    """Return the unknown top-level fields that may be ignored (``must_understand: false``).

    Any other unknown field raises :class:`UnsupportedExtensionError` naming it.
    """
    known = set(known)
    extra = {}
    for k, v in doc.items():
        if k in known:
            continue
        if isinstance(v, Mapping) and v.get("must_understand", True) is False:
            extra[k] = jsonable(v)
            continue
        raise UnsupportedExtensionError(
            f"field {k!r} is an extension this exzarr cannot read (it is not marked "
            f"\"must_understand\": false, so the {node} must not be opened without "
            "understanding it); open it with a Zarr implementation that supports this "
            "extension, or remove the field if it is not needed"
        )
    return extra


def normalize_named_config(value: Any, point: str,
                           members: Callable[[str, str, Any], Any] | None = None) -> dict:
    """A ``{"name", "configuration"}`` dict in zarr-python's written form.

    Short-hand strings become objects; ``configuration`` is kept when given (even empty,
    as zarr-python writes ``vlen-utf8``) and omitted when absent or null, exactly as
    zarr-python writes codecs; other members (``must_understand``) are kept.  ``members``:
    normalises the configuration's members itself (``members(name, key, value)``, None
    for a member it leaves to the plain JSON copy), e.g. nested codec lists, which are
    then not copied twice.
    """
    if isinstance(value, str):
        return {"name": value}
    name, config, _ = _parts(value, point)
    out: dict[str, Any] = {"name": name}
    if config or value.get("configuration") is not None:
        if members is None:
            out["configuration"] = jsonable(config)
        else:
            cfg = {}
            for k, v in config.items():
                if not isinstance(k, str):
                    fail(f"{point} {name!r} has a configuration key {k!r}, not a string",
                         "JSON object keys must be strings")
                own = members(name, k, v)
                cfg[k] = jsonable(v) if own is None else own
            out["configuration"] = cfg
    for k, v in value.items():
        if k not in ("name", "configuration"):
            out[k] = jsonable(v)
    return out
