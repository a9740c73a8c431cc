"""The ``exzarr`` command line, run as the installed console script and as ``python -m exzarr``."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import exzarr as ez

EXE = Path(sys.executable).with_name("exzarr")


def run(*args, module=False, check_rc=None):
    cmd = [sys.executable, "-m", "exzarr", *args] if module else [str(EXE), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def hierarchy(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "h.zarr"
    g = ez.group(str(root), zarr_format=2, attributes={"title": "cli"})
    a = g.create_array("sub/temp", shape=(40, 30), chunks=(10, 10), dtype="f4", compressor="zstd")
    a[:20] = np.arange(600, dtype="f4").reshape(20, 30)
    b = g.create_array("counts", shape=(12,), chunks=(4,), dtype="i8", fill_value=-1)
    b[:] = np.arange(12)
    return root


def test_console_script_is_installed():
    assert EXE.exists(), "pip install -e . installs the exzarr console script"


@pytest.mark.parametrize("module", [False, True], ids=["script", "python-m"])
def test_help(module):
    p = run("--help", module=module, check_rc=0)
    for name in ("info", "tree", "verify", "convert", "copy", "doctor", "demo"):
        assert name in p.stdout
    for name in ("info", "tree", "verify", "convert", "copy", "doctor", "demo"):
        sub = run(name, "--help", module=module, check_rc=0)
        assert f"usage: exzarr {name}" in sub.stdout
        # doctor and demo open no store: no --storage-option for them
        assert ("--storage-option" in sub.stdout) == (name not in ("doctor", "demo"))


def test_info_array(hierarchy):
    p = run("info", str(hierarchy / "sub" / "temp"), check_rc=0)
    out = p.stdout
    for field in ("Shape", "(40, 30)", "Data type", "float32", "Chunk shape", "(10, 10)",
                  "Shard shape", "Codecs", "zstd", "Fill value", "Stored chunks", "6/12",
                  "Bytes stored", "Compression ratio"):
        assert field in out, field
    # the same array through a file:// URL and through --path
    assert run("info", "file://" + str(hierarchy / "sub" / "temp"), check_rc=0).stdout.count("6/12") == 1
    assert "6/12" in run("info", str(hierarchy), "--path", "sub/temp", check_rc=0).stdout


def test_info_group_prints_tree(hierarchy):
    out = run("info", str(hierarchy), check_rc=0).stdout
    assert "Group" in out and "Zarr format  : 2" in out
    assert "├── counts (12,) int64 chunks=(4,)" in out
    assert "    └── temp (40, 30) float32 chunks=(10, 10)" in out


def test_tree(hierarchy):
    out = run("tree", str(hierarchy), check_rc=0).stdout.splitlines()
    assert out == ["/ (group, zarr v2)", "├── counts (12,) int64 chunks=(4,)", "└── sub",
                   "    └── temp (40, 30) float32 chunks=(10, 10)"]
    assert run("tree", str(hierarchy), "--depth", "1", check_rc=0).stdout.splitlines()[-1] == "└── sub"


def test_verify_ok_lists_missing(hierarchy):
    p = run("verify", str(hierarchy), check_rc=0)
    assert "/sub/temp: 6/12 chunks stored, 0 corrupt, 6 missing (never written" in p.stdout
    assert "missing  sub/temp/2.0" not in p.stdout  # summarised, not one line per chunk
    assert "0 corrupt" in [ln for ln in p.stdout.splitlines() if "array(s)" in ln][0]
    p = run("verify", str(hierarchy), "--all", "--no-progress", check_rc=0)
    assert "missing  sub/temp/2.0" in p.stdout


def test_info_shows_codec_settings(hierarchy):
    p = run("info", str(hierarchy / "sub" / "temp"), check_rc=0)
    assert "Codec settings" in p.stdout and '"id":' in p.stdout


def test_progress_defaults_to_terminal(monkeypatch):
    import argparse
    from exzarr.cli._common import progress_wanted
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert progress_wanted(argparse.Namespace(progress=None)) is False
    assert progress_wanted(argparse.Namespace(progress=True)) is True
    p = run("verify", "--progress", "--no-progress", "x", check_rc=2)  # exclusive
    assert "not allowed" in p.stderr


def test_verify_corrupt_chunk_exits_1_naming_the_key(tmp_path):
    path = tmp_path / "c.zarr"
    z = ez.create(str(path), shape=(8, 8), chunks=(4, 4), dtype="i4", compressor="zstd")
    z[:] = np.arange(64).reshape(8, 8)
    chunk = path / "c" / "1" / "0"
    raw = bytearray(chunk.read_bytes())
    raw[len(raw) // 2:] = b"\x00" * (len(raw) - len(raw) // 2)
    chunk.write_bytes(bytes(raw))
    p = run("verify", str(path), check_rc=1)
    assert "CORRUPT /: 4/4 chunks stored, 1 corrupt" in p.stdout
    assert "corrupt  c/1/0:" in p.stdout
    assert "Traceback" not in p.stdout + p.stderr


def test_verify_crc32c_detects_bit_flip(tmp_path):
    path = tmp_path / "crc.zarr"
    z = ez.create(str(path), shape=(16,), chunks=(8,), dtype="u2",
                  codecs=[{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}])
    z[:] = np.arange(16)
    chunk = path / "c" / "1"
    raw = bytearray(chunk.read_bytes())
    raw[0] ^= 0x01
    chunk.write_bytes(bytes(raw))
    p = run("verify", str(path), check_rc=1)
    assert "corrupt  c/1:" in p.stdout and "checksum" in p.stdout.lower()
    assert "c/0" not in p.stdout.replace("c/1", "")


@pytest.mark.parametrize("module", [False, True], ids=["script", "python-m"])
def test_convert_and_copy(hierarchy, tmp_path, module):
    dst = tmp_path / "v3.zarr"
    p = run("convert", str(hierarchy), str(dst), "--zarr-format", "3", "--chunks", "5",
            module=module, check_rc=0)
    assert "converted" in p.stdout and "2 array(s)" in p.stdout
    g = ez.open_group(str(dst), mode="r")
    assert g.zarr_format == 3 and g["sub/temp"].chunks == (5, 5) and g.attrs["title"] == "cli"
    src = ez.open_group(str(hierarchy), mode="r")
    np.testing.assert_array_equal(g["sub/temp"][...].read(), src["sub/temp"][...].read())
    np.testing.assert_array_equal(g["counts"][...].read(), src["counts"][...].read())

    sharded = tmp_path / "sharded.zip"
    run("convert", str(dst), str(sharded), "--src-path", "sub/temp", "--chunks", "5,5",
        "--shards", "20,10", "--progress", module=module, check_rc=0)
    with ez.open(str(sharded), mode="r").store as s:
        z = ez.open(s, mode="r")
        assert z.shards == (20, 10)
        np.testing.assert_array_equal(z[...].read(), src["sub/temp"][...].read())

    cp = tmp_path / "copy.zarr"
    p = run("copy", str(hierarchy), str(cp), "--compressor", "gzip", module=module, check_rc=0)
    assert "copied" in p.stdout
    c = ez.open_group(str(cp), mode="r")
    assert c.zarr_format == 2 and c["counts"].codecs["compressor"]["id"] == "gzip"
    assert c["counts"][...].read().tolist() == list(range(12))
    # the destination exists now: refused without --overwrite, one line, exit 1
    p = run("copy", str(hierarchy), str(cp), module=module, check_rc=1)
    assert "--overwrite" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    run("copy", str(hierarchy), str(cp), "--overwrite", module=module, check_rc=0)


def test_progress_bar_on_stderr(hierarchy, tmp_path):
    p = run("convert", str(hierarchy), str(tmp_path / "p.zarr"), "--progress", check_rc=0)
    assert "chunk" in p.stderr and "100%" in p.stderr


def test_errors_are_one_line_without_traceback(tmp_path):
    missing = tmp_path / "nothing.zarr"
    for cmd in (["info", str(missing)], ["tree", str(missing)], ["verify", str(missing)],
                ["convert", str(missing), str(tmp_path / "o.zarr")]):
        p = run(*cmd, check_rc=1)
        lines = p.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in p.stderr, p.stderr
        assert lines[0].startswith(f"exzarr {cmd[0]}: error: ") and str(missing) in lines[0]
    assert not missing.exists()  # reading never creates anything
    p = run("info", str(missing), "--debug", check_rc=1)
    assert "Traceback" in p.stderr


def test_usage_errors_exit_2(hierarchy, tmp_path):
    assert run(check_rc=2).stderr.startswith("usage:")
    run("info", check_rc=2)
    run("nonsense", check_rc=2)
    run("convert", str(hierarchy), str(tmp_path / "x.zarr"), "--chunks", "a,b", check_rc=2)
    run("convert", str(hierarchy), str(tmp_path / "x.zarr"), "--zarr-format", "4", check_rc=2)
    run("info", str(hierarchy), "--storage-option", "novalue", check_rc=2)


def test_storage_options_reach_the_store(hierarchy):
    p = run("info", str(hierarchy), "--storage-option", "anon=true", "-o", "n=3", check_rc=1)
    assert "storage_options={'anon': True, 'n': 3}" in p.stderr


def test_urls_work(hierarchy, tmp_path):
    import shutil
    zpath = tmp_path / "h.zip"
    shutil.make_archive(str(tmp_path / "h"), "zip", root_dir=str(hierarchy))
    out = run("tree", f"zip://{zpath}", check_rc=0).stdout
    assert "temp (40, 30) float32" in out
    out = run("info", f"file://{hierarchy}", "--path", "counts", check_rc=0).stdout
    assert "(12,)" in out


def test_doctor():
    p = run("doctor", check_rc=0)
    for name in ("Python", "numpy", "numcodecs", "numba", "crc32c", "Codecs available"):
        assert name in p.stdout
    assert "zstd" in p.stdout and "gzip" in p.stdout
    from exzarr.codecs import available
    missing = [n for n, ok in available().items() if not ok]
    if missing:
        assert "Codecs not available" in p.stdout and "pip install" in p.stdout
        assert missing[0] in p.stdout


def test_demo_in_given_path(tmp_path):
    p = run("demo", "--path", str(tmp_path), "--size", "200", check_rc=0)
    assert "demo OK" in p.stdout and "matches NumPy" in p.stdout and " ms " in p.stdout
    assert "Compression ratio" in p.stdout and "zstd" in p.stdout
    z = ez.open(str(tmp_path / "demo.zarr"), mode="r")
    assert z.shape == (200, 200) and z.dtype == np.dtype("float32")


def test_demo_default_temp_dir_is_removed():
    p = run("demo", "--size", "64", module=True, check_rc=0)
    assert "demo OK" in p.stdout
    created = [line for line in p.stdout.splitlines() if "created" in line][0]
    path = created.split("created ", 1)[1].split(":", 1)[0]
    assert not os.path.exists(path)


def test_verify_lists_temporary_files_left_by_killed_writers(tmp_path):
    from exzarr.storage.local import TMP_PREFIX
    path = tmp_path / "t.zarr"
    z = ez.create(str(path), shape=(8,), chunks=(4,), dtype="i4")
    z[:] = 1
    (path / "c" / f"{TMP_PREFIX}0.999.1.2").write_bytes(b"torn")
    p = run("verify", str(path), check_rc=0)
    assert "1 leftover temporary file(s)" in p.stdout and TMP_PREFIX in p.stdout
