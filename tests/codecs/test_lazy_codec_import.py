"""Opening an array looks codec libraries up without importing them (numcodecs is
imported at the first chunk), and a missing library is still reported at open."""

import subprocess
import sys

import numpy as np
import pytest

import exzarr as ez
from exzarr.errors import CodecNotAvailableError


@pytest.mark.parametrize("fmt, compressor", [
    (3, {"name": "zstd", "configuration": {"level": 1}}),
    (2, {"id": "zstd", "level": 1}),
    (2, {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
    (2, {"id": "gzip", "level": 3}),
])
def test_open_does_not_import_numcodecs(tmp_path, fmt, compressor):
    path = str(tmp_path / "a")
    z = ez.create(path, shape=(8, 8), chunks=(4, 4), dtype="f4", zarr_format=fmt,
                  compressor=compressor)
    z[...] = np.arange(64, dtype="f4").reshape(8, 8)
    code = (
        "import sys, exzarr\n"
        f"z = exzarr.open({path!r}, mode='r')\n"
        "assert 'numcodecs' not in sys.modules, 'open imported numcodecs'\n"
        "assert float(z[1, 2].read()) == 10.0\n"
        "assert 'numcodecs' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_library_still_reported_at_open(tmp_path, monkeypatch):
    path = str(tmp_path / "a")
    ez.create(path, shape=(8,), chunks=(4,), dtype="f4",
              compressor={"name": "zstd", "configuration": {"level": 1}})
    for name in [m for m in sys.modules if m == "numcodecs" or m.startswith("numcodecs.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numcodecs", None)
    with pytest.raises(CodecNotAvailableError, match="pip install numcodecs"):
        ez.open(path, mode="r")


@pytest.mark.parametrize("bad", [{"id": "zstd", "levle": 1}, {"id": "gzip", "level": 42},
                                 {"id": "blosc", "cname": "nope"},
                                 {"id": "blosc", "shuffle": 7}])
def test_v2_bad_compressor_config_is_refused_at_open(tmp_path, bad):
    import json
    path = tmp_path / "a"
    ez.create(str(path), shape=(8,), chunks=(4,), dtype="f4", zarr_format=2)
    meta = json.loads((path / ".zarray").read_text())
    meta["compressor"] = bad
    (path / ".zarray").write_text(json.dumps(meta))
    with pytest.raises(ez.errors.InvalidMetadataError):
        ez.open(str(path), mode="r")


def test_v2_missing_numcodecs_still_reported_at_open(tmp_path, monkeypatch):
    path = str(tmp_path / "a")
    ez.create(path, shape=(8,), chunks=(4,), dtype="f4", zarr_format=2,
              compressor={"id": "zstd", "level": 1})
    for name in [m for m in sys.modules if m == "numcodecs" or m.startswith("numcodecs.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numcodecs", None)
    with pytest.raises(CodecNotAvailableError, match="pip install numcodecs"):
        ez.open(path, mode="r")


def test_import_exzarr_loads_only_what_opening_needs():
    """``import exzarr`` stays light: codec libraries, Numba, fsspec, obstore, asyncio,
    sockets, tqdm and the HTML display load when first used."""
    heavy = ["numcodecs", "numba", "fsspec", "obstore", "asyncio", "socket", "tqdm",
             "exzarr.array.display", "exzarr.hierarchy.display"]
    code = ("import sys, exzarr\n"
            f"loaded = [m for m in {heavy!r} if m in sys.modules]\n"
            "assert not loaded, loaded\n")
    subprocess.run([sys.executable, "-c", code], check=True)
