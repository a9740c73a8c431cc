"""An arithmetic progression of indices: the lazy form of a slice along one axis."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidIndexError, InvalidSliceError

__all__ = ["Slice", "normalize_slice"]


@dataclass(frozen=True)
class Slice:
    """Indices ``start + i * step`` for ``i in range(n)``; ``step`` may be negative."""

    start: int
    step: int
    n: int

    def __post_init__(self) -> None:
        if self.step == 0:
            raise InvalidSliceError("slice step cannot be zero; use a positive or negative step")

    @property
    def last(self) -> int:
        return self.start + (self.n - 1) * self.step

    def at(self, i: int) -> int:
        return self.start + i * self.step

    def compose(self, inner: "Slice") -> "Slice":
        """The indices of ``self`` picked by positions ``inner``."""
        return Slice(self.start + inner.start * self.step, self.step * inner.step, inner.n)

    def take(self, positions: np.ndarray) -> np.ndarray:
        return self.start + np.asarray(positions, dtype=np.int64) * self.step

    def to_array(self) -> np.ndarray:
        return self.start + np.arange(self.n, dtype=np.int64) * self.step

    def as_python_slice(self) -> slice:
        """A Python slice selecting the same indices from a sequence (n > 0 or empty)."""
        if self.n == 0:
            return slice(0, 0)
        stop = self.start + self.n * self.step
        return slice(self.start, stop if stop >= 0 else None, self.step)


def normalize_slice(s: slice, size: int) -> Slice:
    """Resolve a Python slice against an axis of length ``size``."""
    if s.step is not None and _is_zero(s.step):
        raise InvalidSliceError(f"slice step cannot be zero (got {s!r}); use a positive or "
                                "negative step")
    try:
        start, stop, step = s.indices(size)
    except (TypeError, ValueError) as exc:
        raise InvalidIndexError(f"invalid slice {s!r:.80}: {exc}; slice bounds and steps must "
                                "be integers or None") from None
    return Slice(start, step, len(range(start, stop, step)))


def _is_zero(step: object) -> bool:
    try:
        return step == 0 and not isinstance(step, (str, bytes))
    except Exception:  # an object whose comparison fails: s.indices() reports it
        return False
