"""``exzarr doctor``: versions of Python and every library exzarr uses, and which codecs
work here (with what to install for those that do not)."""

from __future__ import annotations

import platform
import sys

from ._common import command

#: (what to call it, distribution name, what it is for)
LIBRARIES = (
    ("numpy", "numpy", "required"),
    ("numcodecs", "numcodecs", "required: compressors and filters"),
    ("numba", "numba", "required: selection kernels"),
    ("fsspec", "fsspec", "required: remote stores"),
    ("array-api-compat", "array-api-compat", "required: Array API"),
    ("crc32c", "crc32c", "crc32c checksum codec"),
    ("google-crc32c", "google-crc32c", "crc32c checksum codec (alternative)"),
    ("python-snappy", "python-snappy", "snappy codec"),
    ("cramjam", "cramjam", "snappy codec backend"),
    ("zstandard", "zstandard", "optional"),
    ("pcodec", "pcodec", "pcodec codec"),
    ("zfpy", "zfpy", "zfpy codec"),
    ("msgpack", "msgpack", "msgpack2 codec"),
    ("tqdm", "tqdm", "progress bars"),
    ("s3fs", "s3fs", "s3:// URLs"),
    ("gcsfs", "gcsfs", "gs:// URLs"),
    ("adlfs", "adlfs", "az:// URLs"),
    ("aiohttp", "aiohttp", "http(s):// URLs"),
    ("zarr", "zarr", "zarr-python (interop only)"),
)
_REQUIRED = {"numpy", "numcodecs", "numba", "fsspec"}


def _version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def install_hint(name: str) -> str:
    """What to install to make codec ``name`` (v3 name or numcodecs id) available."""
    from ..codecs.numcodecs_adapter import OPTIONAL_IDS
    from ..codecs.registry import codec_class
    from ..errors import ExzarrError

    codec_id = name[len("numcodecs."):] if name.startswith("numcodecs.") else name
    if codec_id in OPTIONAL_IDS:
        return f"pip install {OPTIONAL_IDS[codec_id]}"
    try:
        cls = codec_class(name)
        cls.check_available()
    except ExzarrError as e:
        msg = str(e)
        return msg[msg.index("pip install"):] if "pip install" in msg else msg
    except Exception as e:  # a broken optional library: say what failed
        return f"{type(e).__name__}: {e}"
    return "a newer numcodecs (pip install -U numcodecs)"


def _args(p):
    pass


@command("doctor", "show versions of Python, numpy, numcodecs, numba and the codec libraries, "
         "and which codecs are available (and what to install for the others)", _args)
def doctor(args) -> int:
    from .. import __version__
    from ..codecs import available

    print(f"exzarr    {__version__}")
    print(f"Python    {platform.python_version()} ({sys.executable})")
    print(f"Platform  {platform.platform()}")
    print()
    print("Libraries:")
    missing_required = []
    width = max(len(n) for n, _, _ in LIBRARIES)
    for label, dist, purpose in LIBRARIES:
        v = _version(dist)
        if v is None and label in _REQUIRED:
            missing_required.append(label)
        print(f"  {label:<{width}}  {v or 'not installed':<14}  {purpose}")
    codecs = available()
    ok = [n for n, good in codecs.items() if good]
    bad = [n for n, good in codecs.items() if not good]
    print()
    print(f"Codecs available ({len(ok)}):")
    line = "  "
    for n in ok:
        if len(line) + len(n) > 88:
            print(line.rstrip(", "))
            line = "  "
        line += n + ", "
    print(line.rstrip(", "))
    print()
    if bad:
        print(f"Codecs not available ({len(bad)}):")
        w = max(len(n) for n in bad)
        for n in bad:
            print(f"  {n:<{w}}  -> {install_hint(n)}")
    else:
        print("Every known codec is available.")
    if missing_required:
        print(f"\nmissing required libraries: {', '.join(missing_required)}; reinstall exzarr "
              f"(pip install exzarr)", file=sys.stderr)
        return 1
    return 0
