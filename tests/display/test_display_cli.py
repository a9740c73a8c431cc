"""``exzarr info --html/--svg`` and ``exzarr tree --html``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import exzarr as ez

from _structure import check_html, classes, no_external_resources, parse_svg

EXE = Path(sys.executable).with_name("exzarr")


def run(*args, rc=0, cwd=None):
    cmd = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "exzarr"]
    p = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300, cwd=cwd)
    assert p.returncode == rc, (p.returncode, p.stdout, p.stderr)
    return p


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("display-cli") / "h.zarr"
    g = ez.group(str(root), zarr_format=3)
    a = g.create_array("a/b/c", shape=(100, 200, 50), chunks=(10, 20, 10), shards=(20, 40, 50),
                       dtype="f4")
    a[:40] = 1.0
    g.create_array("x", shape=(10,), chunks=(5,), dtype="i2")[:] = np.arange(10)
    return root


def test_info_html_and_svg(tree, tmp_path):
    html, svg = tmp_path / "c.html", tmp_path / "c.svg"
    p = run("info", str(tree), "--path", "a/b/c", "--html", str(html), "--svg", str(svg),
            "--stored")
    assert "Chunk shape" in p.stdout  # the text info is still printed
    assert f"wrote {html}" in p.stderr
    c = check_html(html.read_text().split("\n", 1)[1])
    no_external_resources(c)
    assert "Compression ratio" in c.text
    root = parse_svg(svg.read_text())
    assert classes(root)["ez-shard-line"] > 0 and classes(root)["ez-stored"] > 0


def test_info_html_to_stdout(tree):
    p = run("info", str(tree), "--html", "-")
    assert p.stdout.startswith("<!DOCTYPE html>") and "Chunk shape" not in p.stdout


def test_info_svg_of_a_group_is_an_error(tree, tmp_path):
    p = run("info", str(tree), "--svg", str(tmp_path / "g.svg"), rc=1)
    assert "is a group" in p.stderr and not (tmp_path / "g.svg").exists()


def test_tree_html(tree, tmp_path):
    out = tmp_path / "t.html"
    p = run("tree", str(tree), "--html", str(out))
    assert "└── x" in p.stdout
    c = check_html(out.read_text().split("\n", 1)[1])
    assert c.tags["details"] >= 5 and c.tags["svg"] == 2
    shallow = tmp_path / "t1.html"
    run("tree", str(tree), "--depth", "1", "--html", str(shallow))
    assert check_html(shallow.read_text().split("\n", 1)[1]).tags["svg"] == 1
