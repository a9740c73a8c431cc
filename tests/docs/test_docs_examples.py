"""Every code example in docs/*.md and README.md runs.

* ```python blocks run in order, one namespace per file, in a fresh temporary working
  directory (so relative paths such as "data/example.zarr" land in tmp).  Blocks tagged
  ```python no-run``` are skipped (used only for cloud URLs that need real credentials).
* ```bash blocks: each line starting with ``exzarr `` runs through the console script
  (``<venv>/bin/exzarr``) in the same directory, interleaved with the python blocks in
  document order.  ```bash exit=N``` expects exit status N; other bash lines are not run.
  Bash blocks are skipped while the command line is not installed.
* Relative Markdown links between the docs point at files (and headings) that exist.

A failure names the file, the block number and the line in the Markdown file.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FILES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]

_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([^`]*)$")


@dataclass
class Block:
    lang: str       # "python" or "bash"
    tags: tuple     # the rest of the info string, e.g. ("no-run",)
    line: int       # 1-based line of the first code line in the Markdown file
    source: str
    number: int     # 1-based index among the file's blocks


def parse_blocks(text: str) -> list[Block]:
    """Fenced code blocks of a Markdown text (any language), in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.group(1), m.group(2), m.group(3).strip()
        words = info.split()
        lang = words[0].lower() if words else ""
        body, j = [], i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            ln = lines[j]
            body.append(ln[len(indent):] if ln.startswith(indent) else ln.lstrip())
            j += 1
        blocks.append(Block(lang, tuple(words[1:]), i + 2, "\n".join(body) + "\n",
                            len(blocks) + 1))
        i = j + 1
    return blocks


def _cli() -> list[str] | None:
    """How to run the console script, or None while it is not installed."""
    if importlib.util.find_spec("exzarr.cli") is None:
        return None
    script = Path(sys.executable).parent / "exzarr"
    return [str(script)] if script.exists() else [sys.executable, "-m", "exzarr"]


def _fail(path: Path, block: Block, detail: str, line: int | None = None) -> None:
    where = f"{path.relative_to(ROOT)}: block {block.number} ({block.lang}) at line {block.line}"
    if line is not None:
        where += f", failing line {line}"
    pytest.fail(f"{where}\n{detail}", pytrace=False)


def _run_python(path: Path, block: Block, ns: dict) -> None:
    fname = f"<{path.name} block {block.number}>"
    try:
        code = compile(block.source, fname, "exec")
        exec(code, ns)
        return
    except Exception as exc:  # noqa: BLE001 - report every failure with its location
        tb_line = None
        if isinstance(exc, SyntaxError) and exc.filename == fname:
            tb_line = exc.lineno
        for fs in traceback.extract_tb(exc.__traceback__):
            if fs.filename == fname:
                tb_line = fs.lineno
        line = block.line + tb_line - 1 if tb_line else None
        src = block.source.splitlines()
        shown = f"    {src[tb_line - 1].strip()}\n" if tb_line and tb_line <= len(src) else ""
        detail = shown + "".join(traceback.format_exception(exc))
    _fail(path, block, detail, line)


def _run_bash(path: Path, block: Block, cli: list[str], cwd: Path) -> None:
    expect = 0
    for t in block.tags:
        if t.startswith("exit="):
            expect = int(t.split("=", 1)[1])
    env = dict(os.environ, COLUMNS="100", NO_COLOR="1")
    for n, raw in enumerate(block.source.splitlines()):
        cmd = raw.split(" #", 1)[0].strip()
        if not cmd.startswith("exzarr "):
            continue
        args = shlex.split(cmd)[1:]
        proc = subprocess.run(cli + args, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != expect:
            _fail(path, block, f"$ {cmd}\nexit status {proc.returncode} (expected {expect})\n"
                  f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}", block.line + n)


def _memory_names(text: str) -> set[str]:
    return set(re.findall(r"memory://([A-Za-z0-9_.\-]+)", text))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_examples_run(path: Path, tmp_path, monkeypatch):
    if not path.exists():
        pytest.skip(f"{path.name} does not exist yet")
    from exzarr import config
    from exzarr.storage import MemoryStore, registered_schemes, unregister_scheme

    text = path.read_text(encoding="utf-8")
    blocks = parse_blocks(text)
    monkeypatch.chdir(tmp_path)
    ns: dict = {"__name__": f"docs_{path.stem}"}
    cli = _cli()
    saved_config = config.get()
    schemes = set(registered_schemes())
    try:
        for b in blocks:
            if b.lang == "python" and "no-run" not in b.tags:
                _run_python(path, b, ns)
            elif b.lang == "bash" and "no-run" not in b.tags and cli is not None:
                _run_bash(path, b, cli, tmp_path)
    finally:
        config.set_global(**{f: getattr(saved_config, f) for f in saved_config.__dataclass_fields__})
        for s in set(registered_schemes()) - schemes:
            unregister_scheme(s)
        for name in _memory_names(text):
            MemoryStore.discard(name)
        for v in list(ns.values()):  # close zip/sqlite stores the examples left open
            close = getattr(v, "close", None)
            if callable(close) and type(v).__module__.startswith("exzarr.storage"):
                try:
                    close()
                except Exception:
                    pass


def _slug(heading: str) -> str:
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    out, seen = set(), {}
    in_code = False
    for ln in text.splitlines():
        if _FENCE.match(ln):
            in_code = not in_code
            continue
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*$", ln)
        if m and not in_code:
            s = _slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f"{s}-{n}")
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(path: Path):
    if not path.exists():
        pytest.skip(f"{path.name} does not exist yet")
    text = path.read_text(encoding="utf-8")
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            bad.append(f"{target}: no such file")
            continue
        if anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text("utf-8")):
            bad.append(f"{target}: no heading with anchor #{anchor}")
    assert not bad, f"{path.relative_to(ROOT)} has broken links:\n" + "\n".join(bad)


def test_every_guide_exists():
    names = {"index.md", "quickstart.md", "arrays-and-indexing.md", "codecs-and-compression.md",
             "storage.md", "groups.md", "parallel-and-streaming.md", "interop.md",
             "performance.md", "troubleshooting.md"}
    missing = sorted(n for n in names if not (DOCS / n).exists())
    assert not missing, f"docs/ lacks {missing}"


def test_parser_sees_tags_and_lines():
    text = "intro\n\n```python\nx = 1\n```\n\n```python no-run\nboom()\n```\n```bash exit=1\nexzarr verify x\n```\n"
    blocks = parse_blocks(text)
    assert [(b.lang, b.tags, b.line) for b in blocks] == [
        ("python", (), 4), ("python", ("no-run",), 8), ("bash", ("exit=1",), 11)]


def test_failure_names_file_block_and_line(tmp_path):
    md = tmp_path / "guide.md"
    md.write_text("# t\n\n```python\nx = 1\n```\n\ntext\n\n```python\ny = x + 1\nassert y == 3\n```\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        blocks = parse_blocks(md.read_text())
        ns: dict = {}
        _run_python(md, blocks[0], ns)
        with pytest.raises(pytest.fail.Exception) as ei:
            _run_python(md, blocks[1], ns)
    finally:
        ROOT = saved
    msg = str(ei.value)
    assert "guide.md: block 2 (python) at line 10, failing line 11" in msg
    assert "assert y == 3" in msg and "AssertionError" in msg
