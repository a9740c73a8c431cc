"""What the NumPy-facing protocols do with exzarr arrays among their arguments: read them.

``Readable`` is the base of every exzarr array object (``ZArray`` and its views), so the
namespace and the operator mixin recognise arrays without importing the ``ZArray`` class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Readable", "materialise"]


class Readable:
    """Anything that ``read()``s into a NumPy array."""

    __slots__ = ()

    def read(self, out: np.ndarray | None = None, *, xp: Any = None) -> Any:
        raise NotImplementedError


def materialise(x: Any) -> Any:
    """``x`` with every exzarr array in it (also inside lists and tuples) read."""
    if isinstance(x, Readable):
        return x.read()
    if isinstance(x, (list, tuple)):
        return type(x)(materialise(i) for i in x)
    return x
