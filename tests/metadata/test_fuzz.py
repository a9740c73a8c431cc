"""Metadata fuzzer (issue 11): hostile and corrupt metadata documents only ever raise
``ExzarrError`` subclasses (or open and read fine), and nothing hangs.

Every example starts from a valid v2 or v3 document (arrays plain, compressed, checksummed,
sharded, with attributes; groups) and applies a few mutations: keys deleted or replaced,
values of the wrong type, deep nesting, huge/negative/zero/many-dimensional shapes and
chunk shapes, unicode, NaN, integers beyond 64 bits, and raw-text damage (truncation,
bytes that are not UTF-8).  The result is put in a ``MemoryStore`` under its metadata key
(with a small stored chunk, so decoding runs too), opened with ``ez.open(store)`` and, when
it is an array, a small region is read.  The number of examples is sized to keep the whole
file under ~60 s; ``FUZZ_EXAMPLES`` (environment) scales it for a long campaign.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
import os
import re
import signal
import threading
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exzarr as ez
from exzarr import errors
from exzarr.metadata._common import jsonable
from exzarr.storage import MemoryStore

SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))
#: outcome of every document opened (printed at the end with FUZZ_REPORT=1)
OUTCOMES: Counter[str] = Counter()
HANG_SECONDS = 20


def _n(base: int) -> int:
    return max(1, int(base * SCALE))


FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))

# ----------------------------------------------------------------------------- seeds

_BYTES = {"name": "bytes", "configuration": {"endian": "little"}}


def _v3_array(**kw: Any) -> dict:
    doc = {"zarr_format": 3, "node_type": "array", "shape": [10, 6], "data_type": "float64",
           "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [4, 3]}},
           "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
           "fill_value": 0.0, "codecs": [_BYTES], "attributes": {"units": "m"},
           "dimension_names": ["y", "x"], "storage_transformers": []}
    doc.update(kw)
    return doc


V3_SEEDS = [
    _v3_array(),
    _v3_array(data_type="int16", fill_value=-1,
              codecs=[_BYTES, {"name": "gzip", "configuration": {"level": 1}}]),
    _v3_array(data_type="uint8", fill_value=0, codecs=[_BYTES, {"name": "crc32c"}]),
    _v3_array(shape=[16], data_type="int32", fill_value=0,
              chunk_grid={"name": "regular", "configuration": {"chunk_shape": [8]}},
              dimension_names=None,
              codecs=[{"name": "sharding_indexed", "configuration": {
                  "chunk_shape": [4], "codecs": [_BYTES],
                  "index_codecs": [_BYTES, {"name": "crc32c"}], "index_location": "end"}}]),
    _v3_array(data_type="bool", fill_value=False,
              codecs=[{"name": "transpose", "configuration": {"order": [1, 0]}}, _BYTES,
                      {"name": "zstd", "configuration": {"level": 0, "checksum": False}}]),
    _v3_array(data_type="string", fill_value="", codecs=[{"name": "vlen-utf8"}]),
    _v3_array(data_type="complex64", fill_value=["NaN", 0.0]),
    {"zarr_format": 3, "node_type": "group", "attributes": {"title": "t", "nested": {"a": [1, 2]}}},
]

V2_SEEDS = [
    {"zarr_format": 2, "shape": [10, 6], "chunks": [4, 3], "dtype": "<f8", "fill_value": 0.0,
     "order": "C", "filters": None, "compressor": None, "dimension_separator": "."},
    {"zarr_format": 2, "shape": [10], "chunks": [4], "dtype": "<i4", "fill_value": 0,
     "order": "F", "filters": [{"id": "delta", "dtype": "<i4"}],
     "compressor": {"id": "zlib", "level": 1}},
    {"zarr_format": 2, "shape": [5], "chunks": [5], "dtype": "|O", "fill_value": "",
     "order": "C", "filters": [{"id": "vlen-utf8"}], "compressor": None},
    {"zarr_format": 2, "shape": [6], "chunks": [3], "dtype": "<M8[s]", "fill_value": None,
     "order": "C", "filters": None, "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5,
                                                    "shuffle": 1, "blocksize": 0}},
    {"zarr_format": 2},  # .zgroup
]


def _chunk_for(doc: Any) -> tuple[str, bytes] | None:
    """A small plausible chunk for the seed (raw little-endian bytes of the chunk size)."""
    return ("c/0/0", bytes(96)) if isinstance(doc, dict) and doc.get("zarr_format") == 3 \
        else ("0.0", bytes(96))


# ----------------------------------------------------------------------------- strategies

_huge_ints = st.sampled_from([2**31, 2**32, 2**34, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64,
                              2**100, -1, -(2**63), -(2**64), 0])
_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | _huge_ints
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
            | st.sampled_from(["NaN", "Infinity", "-Infinity", "NaT", "", "\u00e9\u6f22\U0001f600",
                               "\ud800", "0x7fc00000", "AAAA", "array", "group", "bytes",
                               "float64", "<f8", "|O", "gzip", "regular", "default", "v2", "."]))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def _deep(depth: int) -> str:
    """A placeholder for a value nested ``depth`` levels deep; :func:`_dumps` writes it out
    (documents stay shallow Python objects, which json.dumps and the mutator can handle)."""
    return f"\x00DEEP:{depth}"


_DEEP = re.compile(r'"\\u0000DEEP:(\d+)"')


def _deep_text(depth: int) -> str:
    head = "".join('[' if i % 2 else '{"k": ' for i in range(depth))
    tail = "".join(']' if i % 2 else '}' for i in reversed(range(depth)))
    return head + "1" + tail


def _dumps(doc: Any, ensure_ascii: bool = True) -> str:
    text = json.dumps(doc, allow_nan=True, ensure_ascii=ensure_ascii)
    return _DEEP.sub(lambda m: _deep_text(int(m.group(1))), text)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indices) to a value inside ``doc``."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, prefix + (i,))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


@st.composite
def _replacement(draw: st.DrawFn, old: Any) -> Any:
    kind = draw(st.sampled_from(["json", "deep", "shape", "wrong_type", "unicode", "empty"]))
    if kind == "json":
        return draw(_json)
    if kind == "deep":
        return _deep(draw(st.sampled_from([30, 65, 100, 500, 3000, 20000])))
    if kind == "shape":
        n = draw(st.integers(0, 70))
        return draw(st.lists(_huge_ints | st.integers(-3, 12), min_size=min(n, 3), max_size=n))
    if kind == "wrong_type":
        return draw(st.sampled_from([[old], {"v": old}, str(old), None, 1.5, True, [[1]], {}]))
    if kind == "unicode":
        return draw(st.text(min_size=1, max_size=10))
    return draw(st.sampled_from([[], {}, "", 0]))


@st.composite
def mutated(draw: st.DrawFn, seeds: list[dict]) -> tuple[dict, str]:
    """A mutated seed document and how it is serialised ('json', 'truncated', 'binary')."""
    doc = copy.deepcopy(seeds[draw(st.integers(0, len(seeds) - 1))])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if not path:  # the whole document
            if op == "replace" and draw(st.booleans()):
                doc = draw(_replacement(doc))
            continue
        parent, last = _get(doc, path[:-1]), path[-1]
        if op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=8) | st.sampled_from(
                ["must_understand", "configuration", "consolidated_metadata", "zarr_format",
                 "node_type", "dimension_names", "chunks"]))] = draw(_replacement(None))
        else:
            parent[last] = draw(_replacement(parent[last]))
    form = draw(st.sampled_from(["json"] * 8 + ["truncated", "binary"]))
    return doc, form


def _encode(doc: Any, form: str, data: st.DataObject) -> bytes:
    text = _dumps(doc, ensure_ascii=data.draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    if form == "truncated":
        raw = raw[: data.draw(st.integers(0, max(0, len(raw) - 1)))]
    elif form == "binary":
        at = data.draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\xff\xfe\x80" + raw[at:]
    return raw


# ----------------------------------------------------------------------------- running


@contextmanager
def no_hang(seconds: int = HANG_SECONDS):
    """Fail (instead of hanging the suite) when one open + read takes too long."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"opening/reading the fuzzed document took over {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _region(shape: tuple[int, ...]) -> tuple:
    """A small region: up to 3 items of the first two axes, one item of the others."""
    return tuple(slice(0, 3) if i < 2 or s == 0 else 0 for i, s in enumerate(shape))


def open_and_read(store: MemoryStore) -> str:
    """Open the store's root node through the public API and read a little of it; returns
    the outcome ('array', 'group') or the name of the typed error raised."""
    outcome = _open_and_read(store)
    OUTCOMES[outcome] += 1
    return outcome


def _open_and_read(store: MemoryStore) -> str:
    try:
        with no_hang():
            node = ez.open(store)
            if isinstance(node, ez.Group):
                list(node.keys())
                dict(node.attrs)
                return "group"
            out = node[_region(node.shape)].read()
            assert isinstance(out, np.ndarray)
            dict(node.attrs)
            node.nbytes, node.nchunks, repr(node)  # noqa: B018 (properties must not raise)
            return "array"
    except errors.ExzarrError as exc:
        assert str(exc), f"{type(exc).__name__} with an empty message"
        return type(exc).__name__


def _store(key: str, raw: bytes, doc: Any, extra: dict[str, bytes] | None = None) -> MemoryStore:
    s = MemoryStore()
    s.set(key, raw)
    chunk = _chunk_for(doc)
    if chunk is not None:
        s.set(*chunk)
    for k, v in (extra or {}).items():
        s.set(k, v)
    return s


@pytest.fixture(scope="module", autouse=True)
def _warm_up():
    # compile the kernels once, so the first example is not slow for the wrong reason
    z = ez.create(MemoryStore(), shape=(4,), chunks=(2,), dtype="f8")
    z[:] = 1.0
    z[:].read()
    yield
    if os.environ.get("FUZZ_REPORT"):
        print(f"\nfuzzed documents: {sum(OUTCOMES.values())}; outcomes: "
              + ", ".join(f"{k} {v}" for k, v in OUTCOMES.most_common()))


@settings(FUZZ, max_examples=_n(4000))
@given(case=mutated(V3_SEEDS), data=st.data())
def test_fuzzed_v3_documents_raise_only_typed_errors(case, data):
    doc, form = case
    open_and_read(_store("zarr.json", _encode(doc, form, data), doc))


@settings(FUZZ, max_examples=_n(3000))
@given(case=mutated(V2_SEEDS), data=st.data(),
       attrs=st.none() | st.tuples(st.just("json"), _json)
       | st.tuples(st.just("deep"), st.integers(30, 5000)))
def test_fuzzed_v2_documents_raise_only_typed_errors(case, data, attrs):
    doc, form = case
    is_group = isinstance(doc, dict) and set(doc) <= {"zarr_format"} or (
        isinstance(doc, dict) and "shape" not in doc and data.draw(st.booleans()))
    key = ".zgroup" if is_group else ".zarray"
    extra = {}
    if attrs is not None:
        value = _deep(attrs[1]) if attrs[0] == "deep" else attrs[1]
        extra[".zattrs"] = _dumps(value).encode()
    open_and_read(_store(key, _encode(doc, form, data), doc, extra))


@settings(FUZZ, max_examples=_n(500))
@given(depth=st.integers(1, 30000), where=st.sampled_from(["attributes", "codec", "top"]),
       fmt=st.sampled_from([2, 3]))
def test_deep_nesting_is_refused_or_read(depth, where, fmt):
    if fmt == 3:
        doc = _v3_array()
        if where == "attributes":
            doc["attributes"] = {"deep": _deep(depth)}
        elif where == "codec":
            doc["codecs"] = [_BYTES, {"name": "gzip", "configuration": {"level": _deep(depth)}}]
        else:
            doc["extra"] = {"must_understand": False, "v": _deep(depth)}
        store = _store("zarr.json", _dumps(doc).encode(), doc)
    else:
        doc = dict(V2_SEEDS[0])
        if where == "codec":
            doc["compressor"] = {"id": "zlib", "level": _deep(depth)}
        store = _store(".zarray", _dumps(doc).encode(), doc,
                       {".zattrs": _dumps({"deep": _deep(depth)}).encode()})
    outcome = open_and_read(store)
    limit = ez.config.get().max_metadata_depth
    if depth + 3 <= limit and where == "attributes":
        assert outcome == "array"
    if depth > limit:
        assert outcome == "MetadataNestingError", outcome


def test_nesting_limit_is_configurable():
    doc = _v3_array(attributes={"deep": _deep(80)})
    store = _store("zarr.json", _dumps(doc).encode(), doc)
    assert open_and_read(store) == "MetadataNestingError"
    with ez.config.set(max_metadata_depth=200):
        assert open_and_read(store) == "array"
    # attributes written deeper than the limit are refused the same way
    z = ez.create(MemoryStore(), shape=(2,), dtype="u1")
    with pytest.raises(errors.MetadataNestingError):
        z.attrs["deep"] = json.loads(_deep_text(100))
    # and a limit above what the interpreter's stack allows still gives a typed error
    deep = _v3_array(attributes={"deep": _deep(50000)})
    with ez.config.set(max_metadata_depth=10**6):
        assert open_and_read(_store("zarr.json", _dumps(deep).encode(), deep)) \
            == "MetadataNestingError"
        # ... and so do attributes set from Python objects nested that deep
        nested: list = []
        for _ in range(50000):
            nested = [nested]
        with pytest.raises(errors.MetadataNestingError, match="stack allows"):
            z.attrs["deep"] = nested
        with pytest.raises(errors.MetadataNestingError, match="stack allows"):
            jsonable({"deep": nested})


@pytest.mark.parametrize("shape,chunks", [
    ([2**34], [2**34]), ([2**32, 2**32], [5, 5]), ([2**63 - 1], [2**62]), ([2**64], [5]),
    ([-1], [1]), ([10], [0]), ([10], [2**64]), ([1] * 65, [1] * 65), ([1] * 33, [1] * 33),
    ([2**63 - 1, 2**63 - 1], [1, 1]),
])
def test_huge_and_bad_shapes(shape, chunks):
    doc = _v3_array(shape=shape, chunk_grid={"name": "regular",
                                             "configuration": {"chunk_shape": chunks}},
                    dimension_names=None)
    store = _store("zarr.json", _dumps(doc).encode(), None)
    outcome = open_and_read(store)
    assert outcome in ("array", "InvalidMetadataError", "DecompressionError",
                       "ChunkTooLargeError"), outcome


@pytest.mark.parametrize("node_type", [[[1]], {}, None, 3, "arrayy", ["array"]])
def test_bad_node_type(node_type):
    doc = _v3_array(node_type=node_type)
    assert open_and_read(_store("zarr.json", _dumps(doc).encode(), doc)) \
        == "InvalidMetadataError"
