"""Shared helpers of the metadata layer: failing with located errors, JSON text in and out,
and validation of the small value kinds (shapes, names, attribute documents).

Errors raised while parsing carry no location; :func:`located` wraps a parse so that the
error is re-raised once, prefixed with the document kind and ``store``/``key``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from exzarr import config
from exzarr.errors import (InvalidMetadataError, MetadataNestingError, UnsupportedExtensionError,
                           where)

__all__ = [
    "fail",
    "located",
    "loads_document",
    "loads_json",
    "dumps_document",
    "jsonable",
    "canonical_text",
    "parse_int_tuple",
    "parse_attributes",
    "require_keys",
    "is_int",
    "is_mapping",
    "is_list_like",
]

# JSON text exactly as zarr-python writes metadata documents: two-space indent,
# ASCII-only (non-ASCII escaped), no trailing newline.
_JSON_INDENT = 2

# Non-finite floats inside attributes have no JSON spelling; zarr-python emits bare
# NaN/Infinity tokens there, which strict JSON parsers reject.  We write the strings the
# Zarr specs use for special floats instead.
_SPECIAL_FLOAT_TEXT = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def fail(what: str, hint: str, cls: type[InvalidMetadataError] = InvalidMetadataError) -> NoReturn:
    """Raise ``cls`` with ``'<what>; <hint>'`` (location is added by :func:`located`)."""
    raise cls(f"{what}; {hint}")


@contextlib.contextmanager
def located(doc_kind: str, store=None, key: str | None = None) -> Iterator[None]:
    """Re-raise metadata errors (and stray TypeError/ValueError) with document kind and location.

    Nested uses are fine: an error that already names a store/key passes through, one
    raised by an inner ``located`` without a location is re-prefixed by an outer one that
    has it.
    """
    try:
        yield
    except InvalidMetadataError as exc:
        if getattr(exc, "_raw", None) is not None and (
            exc.store_url is not None or exc.key is not None or (store is None and key is None)
        ):
            raise
        raw = getattr(exc, "_raw", None) or exc.message
        raise _relocated(type(exc), raw, doc_kind, store, key) from None
    except RecursionError:
        raise _relocated(MetadataNestingError, "nested too deeply to process; " + _too_deep_hint(),
                         doc_kind, store, key) from None
    except (TypeError, ValueError, KeyError, OverflowError, AttributeError, IndexError) as exc:
        raw = (f"malformed document ({type(exc).__name__}: {exc}); check it against the Zarr "
               "specification or rewrite it")
        raise _relocated(InvalidMetadataError, raw, doc_kind, store, key) from exc


def _relocated(cls: type[InvalidMetadataError], raw: str, doc_kind: str, store, key):
    word = "unsupported" if issubclass(cls, UnsupportedExtensionError) else "invalid"
    new = cls(_prefix(word, doc_kind, store, key) + raw, store=store, key=key)
    new._raw = raw  # type: ignore[attr-defined]
    return new


def _prefix(word: str, doc_kind: str, store, key) -> str:
    if store is None and key is None:
        return f"{word} {doc_kind}: "
    return f"{word} {doc_kind} at {where(store, key)}: "


def _too_deep_hint(limit: int | None = None) -> str:
    limit = config.get().max_metadata_depth if limit is None else limit
    return (f"the limit is max_metadata_depth={limit} levels of lists and objects; the "
            "document is corrupt or hostile: rewrite it flatter, or raise the limit with "
            "exzarr.config.set(max_metadata_depth=...) if you trust it")


# a JSON string literal (escapes included), removed before brackets are counted
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def text_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in JSON ``text`` (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def _check_text_depth(text: str, doc_kind: str, store, key: str | None) -> None:
    limit = config.get().max_metadata_depth
    # cheap upper bound first: documents with fewer brackets than the limit are fine
    if text.count("[") + text.count("{") <= limit:
        return
    depth = text_depth(text)
    if depth > limit:
        raise MetadataNestingError(
            f"{doc_kind} at {where(store, key)} is nested {depth} levels deep; "
            + _too_deep_hint(limit), store=store, key=key)


def loads_json(data: bytes | bytearray | memoryview | str, doc_kind: str, store=None,
               key: str | None = None) -> Any:
    """Parse metadata JSON text (any JSON value) with a located error if it is not valid
    JSON, not UTF-8, or nested deeper than ``config.max_metadata_depth``."""
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidMetadataError(
            f"{doc_kind} at {where(store, key)} is not valid JSON (not UTF-8 text: {exc}); "
            "the file is corrupt or not a Zarr metadata document: restore it from a backup "
            "or rewrite it",
            store=store,
            key=key,
        ) from None
    _check_text_depth(text, doc_kind, store, key)
    try:
        # Bare NaN/Infinity tokens are accepted: zarr-python writes them in attributes.
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidMetadataError(
            f"{doc_kind} at {where(store, key)} is not valid JSON ({exc.msg} at line "
            f"{exc.lineno} column {exc.colno}); the file is corrupt or truncated: restore "
            "it from a backup or rewrite it",
            store=store,
            key=key,
        ) from None
    except RecursionError:
        raise MetadataNestingError(f"{doc_kind} at {where(store, key)} is nested too deeply to "
                                   "parse; " + _too_deep_hint(), store=store, key=key) from None
    except ValueError as exc:  # e.g. an integer literal too long to convert
        raise InvalidMetadataError(
            f"{doc_kind} at {where(store, key)} is not valid JSON ({exc}); the file is "
            "corrupt: restore it from a backup or rewrite it", store=store, key=key) from None


def loads_document(data: bytes | bytearray | memoryview | str, doc_kind: str, store=None,
                   key: str | None = None) -> dict:
    """Parse metadata JSON text into a dict, with a located error if it is not valid JSON."""
    doc = loads_json(data, doc_kind, store, key)
    if not isinstance(doc, dict):
        raise InvalidMetadataError(
            f"{doc_kind} at {where(store, key)} is JSON but not an object (got "
            f"{type(doc).__name__}); a Zarr metadata document must be a JSON object",
            store=store,
            key=key,
        )
    return doc


def dumps_document(doc: Mapping[str, Any]) -> bytes:
    """Serialise a metadata document in zarr-python's formatting; never emits NaN tokens."""
    return json.dumps(jsonable(doc, special_floats_as_text=True), indent=_JSON_INDENT,
                      allow_nan=False).encode("ascii")


def canonical_text(value: Any) -> str:
    """Order-independent JSON text of ``value``, for equality and hashing."""
    return json.dumps(jsonable(value, special_floats_as_text=True), sort_keys=True,
                      allow_nan=False)


#: the exact types of JSON scalars (no children)
_SCALARS = frozenset({str, int, bool, float, type(None)})
#: those ``jsonable`` keeps as they are, without a call (floats may become text)
_KEPT = _SCALARS - {float}


def jsonable(value: Any, *, special_floats_as_text: bool = False) -> Any:
    """A deep copy of ``value`` made of plain JSON types.

    NumPy scalars and arrays become Python numbers and lists, tuples become lists.  With
    ``special_floats_as_text`` non-finite floats become the strings ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"`` (otherwise they stay floats).  Anything else that JSON
    cannot hold raises :class:`InvalidMetadataError`; so does nesting deeper than
    ``config.max_metadata_depth`` (:class:`MetadataNestingError`), found on the way down
    (one walk: the copy counts the levels), so the copy never recurses past the limit.
    """
    t = type(value)
    if t in _KEPT:  # what json.loads gives (exact types: fast)
        return value
    limit = config.get().max_metadata_depth
    try:
        return _jsonable(value, special_floats_as_text, "", 1, limit)
    except RecursionError:  # a limit raised past what the interpreter's stack allows
        fail("the values nest more deeply than the interpreter's stack allows (the limit, "
             f"config max_metadata_depth, is {limit})", "store them flatter",
             MetadataNestingError)


def _too_deep(limit: int) -> NoReturn:
    fail(f"the values nest more than {limit} levels of lists and objects",
         "store them flatter, or raise the limit with "
         "exzarr.config.set(max_metadata_depth=...) if you trust the data",
         MetadataNestingError)


def _jsonable(value: Any, special: bool, path: str, depth: int, limit: int) -> Any:
    """:func:`jsonable` of ``value`` found ``depth`` levels down, at ``path``."""
    t = type(value)
    if t in _KEPT:
        return value
    # (exact container types before the ABC checks; nothing else is a Mapping, list or tuple)
    if t is dict or t is list or t is tuple or isinstance(value, (Mapping, list, tuple)):
        if depth > limit:
            _too_deep(limit)
        return _container(value, t is dict or isinstance(value, Mapping), special, path,
                          depth, limit)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if special and not math.isfinite(value):
            return _SPECIAL_FLOAT_TEXT[repr(float(value))]
        return float(value)
    if isinstance(value, np.generic):
        if isinstance(value, (np.bytes_, np.void, np.datetime64, np.timedelta64,
                              np.complexfloating)):
            _not_jsonable(value, path)
        return _jsonable(value.item(), special, path, depth, limit)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), special, path, depth, limit)
    _not_jsonable(value, path)


def _container(value: Any, mapping: bool, special: bool, path: str, depth: int,
               limit: int) -> Any:
    """:func:`jsonable` of a mapping (``mapping``) or a list or tuple at ``depth``: its
    members', each a plain string, int, bool or None kept as it is without a call."""
    below = depth + 1
    if mapping:
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                fail(
                    f"attribute key {k!r} at {path or 'top level'} is a {type(k).__name__}",
                    "JSON object keys must be strings",
                )
            out[k] = (v if type(v) in _KEPT
                      else _jsonable(v, special, f"{path}/{k}", below, limit))
        return out
    return [v if type(v) in _KEPT else _jsonable(v, special, f"{path}[{i}]", below, limit)
            for i, v in enumerate(value)]


def _not_jsonable(value: Any, path: str) -> NoReturn:
    fail(
        f"value {value!r} at {path or 'top level'} ({type(value).__name__}) cannot be stored "
        "in JSON",
        "use numbers, strings, booleans, None, lists and dicts with string keys",
    )


def is_int(x: Any) -> bool:
    """True for Python/NumPy integers (bool and timedelta64 excluded)."""
    # np.timedelta64 subclasses np.signedinteger but is not a plain integer
    return type(x) is int or (isinstance(x, (int, np.integer))
                              and not isinstance(x, (bool, np.bool_, np.timedelta64)))


def is_mapping(value: Any) -> bool:
    """``isinstance(value, Mapping)``, the exact ``dict`` of parsed JSON checked first (an
    ABC check costs about a microsecond, and opening an array makes dozens)."""
    return type(value) is dict or isinstance(value, Mapping)


def is_list_like(value: Any) -> bool:
    """A list or tuple, or another Sequence that is not text, bytes or a mapping (exact
    types first, as :func:`is_mapping`)."""
    t = type(value)
    if t is list or t is tuple:
        return True
    return not isinstance(value, (str, bytes, Mapping)) and isinstance(value, Sequence)


def parse_int_tuple(value: Any, field: str, *, minimum: int) -> tuple[int, ...]:
    """Validate a list of integers >= ``minimum`` (shape: 0, chunks: 1)."""
    t = type(value)
    if (t is tuple or t is list) and all(type(v) is int and v >= minimum for v in value):
        return tuple(value)  # parsed JSON, or a tuple checked before: nothing to convert
    if not is_list_like(value) and not isinstance(value, np.ndarray):
        if is_int(value):
            value = (value,)
        else:
            fail(f"{field} must be a list of integers, got {value!r}",
                 f"write {field} as a JSON array such as [100, 100]")
    out = []
    for v in value:
        if not is_int(v):
            fail(f"{field} {list(value)!r} contains {v!r}, which is not an integer",
                 f"every entry of {field} must be an integer")
        if v < minimum:
            noun = "positive" if minimum > 0 else "non-negative"
            fail(f"{field} {list(value)!r} contains {int(v)}, but entries must be {noun}",
                 f"use {field} entries >= {minimum}")
        out.append(int(v))
    return tuple(out)


def parse_attributes(value: Any, field: str = "attributes") -> dict:
    """Validate an attributes object and return a JSON-clean deep copy."""
    if value is None:
        return {}
    if not is_mapping(value):
        fail(f"{field} must be a JSON object (dict), got {type(value).__name__}",
             "store user attributes as a dict with string keys")
    return jsonable(value)


def require_object(doc: Any) -> None:
    """Fail unless ``doc`` is a JSON object (a mapping)."""
    if not is_mapping(doc):
        fail(f"expected a JSON object, got {type(doc).__name__}",
             "the document must be a JSON object")


def require_v2_format(doc: Mapping, file_name: str, hint: str = "fix the zarr_format field") -> None:
    """Fail unless ``doc["zarr_format"]`` is 2 (a v2 ``.zarray``/``.zgroup`` document)."""
    fmt = doc.get("zarr_format")
    if fmt != 2 or isinstance(fmt, bool):
        fail(f"zarr_format is {fmt!r}, expected 2",
             f"this is not a Zarr v2 {file_name} document; {hint}")


def require_keys(doc: Mapping, keys: Sequence[str], doc_kind: str) -> None:
    missing = [k for k in keys if k not in doc]
    if missing:
        fail(f"required key(s) {', '.join(repr(k) for k in missing)} missing",
             f"a {doc_kind} must contain {', '.join(keys)}; the document is incomplete or "
             "was written by an incompatible tool")
