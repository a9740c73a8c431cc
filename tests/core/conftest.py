"""Fixtures shared by the tests of the compiled encoders and decoders."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def spy_kernel(monkeypatch):
    """``spy_kernel(module, name, given)``: record ``(len(args[given]), result)`` of every
    call of kernel ``module.name`` (how many chunks it was given, how many it did), in a
    new list or in ``calls``."""
    def install(module: str, name: str, given: int,
                calls: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
        mod = importlib.import_module(module)
        if calls is None:
            calls = []
        real = getattr(mod, name)

        def spy(*args):
            done = real(*args)
            calls.append((len(args[given]), done))
            return done
        monkeypatch.setattr(mod, name, spy)
        return calls
    return install


@pytest.fixture
def encode_calls(spy_kernel):
    """The (chunks given, chunks done) of every ``encode_gather`` call."""
    return spy_kernel("exzarr.kernels.encode_gather", "encode_gather", 4)
