"""What ``import exzarr`` and a first read load (issue 13): each in a fresh interpreter,
checked through ``sys.modules``.  Never timings: those are in ``benchmarks/import_time.py``.

``import exzarr`` loads the settings and the exception tree only; ``exzarr.open`` and a
chunk read load the array, codec, storage and node-discovery modules they use, and not the
compute engine, the group machinery, the tools, the batch loader or the other stores.
"""

import json
import subprocess
import sys

import numpy as np
import pytest

import exzarr as ez

#: never loaded by ``import exzarr`` nor by opening an array and reading a chunk
_NOT_FOR_OPEN_AND_READ = [
    "exzarr.compute.evaluate", "exzarr.compute.plan", "exzarr.compute.functions",
    "exzarr.array.namespace", "exzarr.array.numpy_api", "exzarr.array.assign",
    "exzarr.hierarchy.group", "exzarr.hierarchy.create_hierarchy", "exzarr.tools.convert",
    "exzarr.integrations.loader", "exzarr.array_api",
    "exzarr.storage.sqlite", "exzarr.storage.zip", "exzarr.storage.fsspec_store",
    "exzarr.storage.obstore_store", "sqlite3", "numba", "fsspec", "asyncio",
]

#: not loaded by ``import exzarr`` (opening an array loads some of them)
_NOT_FOR_IMPORT = _NOT_FOR_OPEN_AND_READ + [
    "numpy", "numcodecs", "concurrent.futures", "exzarr.api", "exzarr.array.zarray",
    "exzarr.codecs", "exzarr.storage.local", "exzarr.metadata",
]


def _loaded(code: str, modules: list[str]) -> list[str]:
    """Run ``code`` in a fresh interpreter; which of ``modules`` it has loaded."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps([m for m in {modules!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_import_exzarr_loads_settings_and_errors_only():
    assert _loaded("import exzarr", _NOT_FOR_IMPORT) == []
    assert _loaded("import exzarr", ["exzarr.config", "exzarr.errors"]) == [
        "exzarr.config", "exzarr.errors"]


@pytest.mark.parametrize("fmt", [3, 2])
def test_open_and_read_load_no_compute_engine_nor_groups(tmp_path, fmt):
    path = str(tmp_path / "a")
    compressor = ({"name": "zstd", "configuration": {"level": 1}} if fmt == 3
                  else {"id": "zstd", "level": 1})
    z = ez.create(path, shape=(8, 8), chunks=(4, 4), dtype="f4", zarr_format=fmt,
                  compressor=compressor)
    z[...] = np.arange(64, dtype="f4").reshape(8, 8)
    code = ("import exzarr as ez\n"
            f"z = ez.open({path!r}, mode='r')\n"
            "assert z[:4, :4].read()[1, 2] == 10.0\n")
    assert _loaded(code, _NOT_FOR_OPEN_AND_READ) == []


def test_names_load_on_first_use():
    """Every public name resolves (lazily), ``ez.array`` stays the function after the
    ``exzarr.array`` subpackage is imported, and an operator loads the compute engine."""
    code = ("import exzarr as ez, exzarr.array.zarray, numpy as np\n"
            "assert callable(ez.array) and ez.array.__module__ == 'exzarr.api'\n"
            "from exzarr import ZArray, Group, loader, array_api, convert, copy, array\n"
            "assert array is ez.array and ez.ZArray is ZArray\n"
            "missing = [n for n in ez.__all__ if not hasattr(ez, n)]\n"
            "assert not missing, missing\n"
            "assert set(ez.__all__) <= set(dir(ez))\n"
            "z = ez.zeros(shape=(4,), chunks=(2,), dtype='i4')\n"
            "assert (z + 1).read().tolist() == [1, 1, 1, 1]\n"
            "assert float(np.mean(z + 2)) == 2.0\n")
    assert _loaded(code, ["exzarr.compute.evaluate"]) == ["exzarr.compute.evaluate"]


def test_missing_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ez.nope  # noqa: B018


def test_array_api_alone_can_store_a_result():
    """``import exzarr.array_api`` (without touching ``exzarr.api``) registers what
    ``to_zarr`` needs to create its target."""
    code = ("import exzarr.array_api as xp\n"
            "t = (xp.asarray([1, 2, 3]) + 1).to_zarr('memory://import-cost')\n"
            "assert t.read().tolist() == [2, 3, 4]\n")
    assert _loaded(code, ["exzarr.hierarchy.open"]) == ["exzarr.hierarchy.open"]
