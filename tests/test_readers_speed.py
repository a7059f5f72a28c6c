"""The lock readers' shortcuts give exactly what the general paths give.

Markers in the common written forms are checked and judged without packaging
(`drift_guard.requires.normalize_marker` / `judge_marker`), and uv.lock's reader leaves out the
walks whose answer it already has. Each lock fixture (and generated locks) is read both ways,
for several targets and selections, and the sources compared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from benchmarks import _scale
from drift_guard import requires
from drift_guard.models import ReadContext
from drift_guard.readers import _toml, pipfile_lock, poetry_lock, pylock, uv_lock
from tests.helpers import ROOT

READERS = {"uv.lock": uv_lock, "poetry.lock": poetry_lock, "pylock.toml": pylock,
           "Pipfile.lock": pipfile_lock}
LOCKS = sorted(p for p in (ROOT / "fixtures").rglob("*")
               if p.name in READERS or (p.name.startswith("pylock.") and p.suffix == ".toml"))

_LINUX = {"implementation_name": "cpython", "implementation_version": "3.12.4",
          "os_name": "posix", "platform_machine": "x86_64", "platform_release": "6.0",
          "platform_system": "Linux", "platform_version": "#1", "python_full_version": "3.12.4",
          "platform_python_implementation": "CPython", "python_version": "3.12",
          "sys_platform": "linux"}
_WINDOWS = {**_LINUX, "os_name": "nt", "platform_machine": "AMD64", "platform_system": "Windows",
            "sys_platform": "win32", "python_full_version": "3.9.13", "python_version": "3.9",
            "implementation_version": "3.9.13"}
_MAC = {**_LINUX, "platform_machine": "arm64", "platform_system": "Darwin",
        "sys_platform": "darwin", "python_full_version": "3.13.1", "python_version": "3.13",
        "implementation_version": "3.13.1"}
CONTEXTS: Dict[str, ReadContext] = {
    "linux": ReadContext(markers=_LINUX),
    "windows, every group": ReadContext(markers=_WINDOWS, with_groups=("dev", "docs", "test",
                                                                      "lint", "develop")),
    "mac, extras": ReadContext(markers=_MAC, extras=("cpu", "gpu", "socks", "fast", "all")),
    "linux, only dev": ReadContext(markers=_LINUX, only_groups=("dev",)),
}


def _read(reader: Any, path: Path, ctx: ReadContext) -> Any:
    try:
        return reader.read(str(path), ctx)
    except Exception as exc:  # noqa: BLE001 - the same error either way
        return repr(exc)


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shortcut off, every remembered answer forgotten."""
    monkeypatch.setattr(requires, "judge_marker", lambda marker, markers: None)
    monkeypatch.setattr(requires, "normalize_marker", lambda marker: None)
    monkeypatch.setattr(uv_lock, "_SHORTCUTS", False)
    monkeypatch.setattr(_toml, "_HOLDS", {})
    monkeypatch.setattr(_toml, "_VALID_MARKERS", set())
    monkeypatch.setattr(_toml, "_MARKERS", {})


@pytest.mark.parametrize("ctx", CONTEXTS.values(), ids=list(CONTEXTS))
@pytest.mark.parametrize("path", LOCKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_readers_give_the_same_source_without_their_shortcuts(
        path: Path, ctx: ReadContext, monkeypatch: pytest.MonkeyPatch) -> None:
    reader = READERS.get(path.name, pylock)
    fast = _read(reader, path, ctx)
    _general(monkeypatch)
    assert fast == _read(reader, path, ctx)


@pytest.mark.parametrize("fmt", sorted(_scale.LOCK_WRITERS))
def test_generated_locks_read_alike_without_the_shortcuts(
        fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = _scale.LOCK_WRITERS[fmt](tmp_path, 60)
    reader = READERS[fmt]
    for ctx in CONTEXTS.values():
        fast = _read(reader, lock, ctx)
        with monkeypatch.context() as m:
            _general(m)
            assert fast == _read(reader, lock, ctx)


def test_common_markers_are_checked_without_packaging(tmp_path: Path) -> None:
    """A lock whose markers are all in the common forms is read without importing
    packaging.markers."""
    import subprocess
    import sys
    import textwrap

    lock = _scale.LOCK_WRITERS["uv.lock"](tmp_path, 30)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from drift_guard.models import ReadContext
        from drift_guard.readers import uv_lock
        source = uv_lock.read({str(lock)!r}, ReadContext(markers={_LINUX!r}))
        assert len(source.requirements) >= 30, source
        print("packaging.markers" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
