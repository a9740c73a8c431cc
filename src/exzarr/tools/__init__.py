"""Whole-node tools built on arrays and groups: ``convert``/``copy`` between formats,
layouts and stores, and ``verify`` (every stored chunk decodes)."""
