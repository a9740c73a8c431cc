"""benchmarks/file_floor.py: the same files written in place, renamed into place and (where
the file system allows it) made unnamed and linked, taking turns; each run's folder holds
exactly the files written.  Never timings: only that the diagnostic runs and measures."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_file_floor_writes_every_way_and_measures_it(tmp_path, capsys):
    import file_floor

    times = file_floor.main(["--files", "5", "--size", "4096", "--runs", "2",
                             "--threads", "2", "--dir", str(tmp_path)])
    assert {"in place", "renamed"} <= set(times) <= set(file_floor.WAYS)
    assert all(len(v) == 2 and min(v) > 0 for v in times.values())
    out = capsys.readouterr().out
    assert "5 files of 4096 bytes, 2 thread(s)" in out and "median / in place 1.000" in out
    assert os.listdir(tmp_path) == []  # its folders removed


def test_each_way_leaves_the_file_with_its_bytes(tmp_path):
    import file_floor

    ways = dict(file_floor.WAYS)
    if not file_floor._unnamed_works(str(tmp_path)):
        del ways["unnamed"]
    for name, way in ways.items():
        folder = tmp_path / name.replace(" ", "-")
        folder.mkdir()
        way(str(folder), "f", b"abc")
        way(str(folder), "g", b"de")
        assert sorted(os.listdir(folder)) == ["f", "g"], name
        assert (folder / "f").read_bytes() == b"abc" and (folder / "g").read_bytes() == b"de"
