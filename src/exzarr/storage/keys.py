"""Key validation and byte-range arithmetic shared by the store implementations.

Keys are ``/``-separated, never start or end with ``/``, have no empty, ``.`` or ``..``
components and no NUL characters.  Stores that map keys onto a filesystem or an archive
(local, zip) rely on this check to refuse keys that would escape their root.
"""

from __future__ import annotations

from ..errors import InvalidKeyError, where

__all__ = ["InvalidKeyError", "validate_key", "validate_prefix", "resolve_range", "join_key",
           "norm_path"]


def join_key(path: str, key: str) -> str:
    """``path/key``, or ``key`` alone at the root (``path == ""``)."""
    return f"{path}/{key}" if path else key


def norm_path(path: object) -> str:
    """A node path without empty components or surrounding slashes (``None`` is the root)."""
    return "/".join(p for p in str(path or "").split("/") if p)


def _bad(key: object, store: object, why: str) -> InvalidKeyError:
    return InvalidKeyError(
        f"invalid store key {key!r} ({where(store)}): {why}; keys are relative, "
        "'/'-separated names such as 'group/array/c/0/1' with no '.', '..' or empty parts",
        store=store, key=key if isinstance(key, str) else None)


def validate_key(key: str, store: object = None) -> str:
    """Return ``key`` if it is a valid store key, else raise :class:`InvalidKeyError`."""
    if not isinstance(key, str):
        raise _bad(key, store, f"keys are str, not {type(key).__name__}")
    if not key:
        raise _bad(key, store, "the key is empty")
    if key[0] == "/" or key[-1] == "/":
        raise _bad(key, store, "a key must not start or end with '/'")
    if "\x00" in key:
        raise _bad(key, store, "a key must not contain NUL characters")
    if "//" in key:
        raise _bad(key, store, "a key must not contain empty path components ('//')")
    if "." in key:
        for part in key.split("/"):
            if part == ".." or part == ".":
                raise _bad(key, store, f"the component {part!r} would leave (or alias) the store root")
    return key


def validate_prefix(prefix: str, store: object = None) -> str:
    """Validate a listing prefix: ``""`` or a key prefix (may end with ``/``)."""
    if not isinstance(prefix, str):
        raise _bad(prefix, store, f"prefixes are str, not {type(prefix).__name__}")
    if prefix == "":
        return prefix
    body = prefix[:-1] if prefix.endswith("/") else prefix
    validate_key(body, store)
    return prefix


def resolve_range(start: int, stop: int | None, size: int) -> tuple[int, int]:
    """Absolute ``[a, b)`` offsets that Python slicing would give for ``value[start:stop]``."""
    a, b, _ = slice(start, stop).indices(size)
    return a, max(a, b)

