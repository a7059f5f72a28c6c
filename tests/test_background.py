"""The environment listed in a forked child while the declarations are read.

Every test runs in a fresh interpreter of its own: a test worker has threads of its own, and
drift_guard._background rightly never forks beside another thread. The child is really
forked; a spy on `_background.start` shows it was, so no test passes by the sequential path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, make_venv, pip, write_wheel

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="the child is forked on Linux with a second CPU only",
)

# Run first in every script: a spy counting the children started (None: refused).
_SPY = """
import json, os, sys, time
from drift_guard import _background
started = []
_start = _background.start
def _spy(*args):
    child = _start(*args)
    started.append(None if child is None else child._pid)
    return child
_background.start = _spy
"""


def _script(body: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """Run `body` after the spy in a fresh interpreter; its last stdout line, read as JSON."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "DRIFT_GUARD_PYTHON")}
    full["PYTHONPATH"] = str(ROOT)
    full["NO_COLOR"] = "1"
    full.update(env or {})
    done = subprocess.run([sys.executable, "-c", _SPY + textwrap.dedent(body)], cwd=cwd,
                          env=full, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_value_comes_back_from_the_child(tmp_path: Path) -> None:
    out = _script("""
        child = _background.start(lambda n: {"pid": os.getpid(), "n": n, "t": (1, "x")}, 7)
        value = child.result()
        print(json.dumps([value["pid"] != os.getpid(), value["n"], list(value["t"]),
                          started[0] is not None]))
    """, tmp_path)
    assert out == [True, 7, [1, "x"], True]


@pytest.mark.parametrize("func", [
    "lambda: 1 / 0",                                   # an exception
    "lambda: object()",                                # nothing marshal can carry
    "lambda: os.kill(os.getpid(), 9)",                 # killed
    "lambda: os._exit(0)",                             # gone without a word
])
def test_a_failed_child_answers_none(tmp_path: Path, func: str) -> None:
    out = _script(f"""
        child = _background.start({func})
        print(json.dumps([started[0] is not None, child.result()]))
    """, tmp_path)
    assert out == [True, None]


def test_a_cancelled_child_is_stopped_and_collected(tmp_path: Path) -> None:
    out = _script("""
        child = _background.start(time.sleep, 60)
        pid = child._pid
        began = time.monotonic()
        child.cancel()
        took = time.monotonic() - began
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        print(json.dumps([alive, took < 5, child.result()]))
    """, tmp_path)
    assert out == [False, True, None]


def test_no_child_beside_another_thread(tmp_path: Path) -> None:
    out = _script("""
        import threading
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        refused = _background.start(int) is None
        stop.set()
        worker.join()
        print(json.dumps([refused, _background.start(int).result()]))
    """, tmp_path)
    assert out == [True, 0]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A venv whose listing has warnings too (an unreadable METADATA, a FIFO one)."""
    wheels = tmp_path_factory.mktemp("wheels")
    dists = {"alpha": ("1.0", ["beta>=1", "gamma; extra == 'x'"]), "beta": ("2.0", []),
             "Gamma_Pkg": ("1.0.post0", []), "broken": ("1.0", []), "piped": ("1.0", [])}
    for name, (version, requires) in dists.items():
        write_wheel(wheels, name, version, requires)
    venv = make_venv(tmp_path_factory.mktemp("bg") / ".venv", with_pip=False)
    pip(venv, "install", *dists, find_links=wheels)
    site = venv.site_packages()
    meta = next(site.glob("broken-*.dist-info")) / "METADATA"
    meta.unlink()
    meta.symlink_to(meta)  # a loop: a warning, the distribution skipped
    fifo = next(site.glob("piped-*.dist-info")) / "METADATA"
    fifo.unlink()
    os.mkfifo(fifo)
    return venv


def test_the_childs_listing_is_the_listing(tmp_path: Path, venv: Any) -> None:
    out = _script(f"""
        from drift_guard.environment import find_environment
        from drift_guard.installed import list_installed, start_listing
        env = find_environment({str(venv.python)!r}, cwd=".")
        here, there = [], []
        expected = list_installed(env, here)
        got = start_listing(env).result(there)
        print(json.dumps([started[0] is not None, repr(expected) == repr(got),
                          list(expected) == list(got), here, there, len(got)]))
    """, tmp_path)
    used, same, same_order, here, there, count = out
    assert used and same and same_order
    assert here == there and len(here) == 2, here
    assert count >= 3


def _large_project(root: Path, venv: Any, lines: str) -> Path:
    """A requirements file over the size above which the listing overlaps the reading."""
    from drift_guard.pipeline import OVERLAP_BYTES

    padding = "# " + "x" * 97 + "\n"
    req = root / "requirements.txt"
    req.write_text(lines + padding * (OVERLAP_BYTES // len(padding) + 1))
    return req


def test_the_cli_answers_the_same_with_the_child(tmp_path: Path, venv: Any) -> None:
    _large_project(tmp_path, venv, "alpha==1.0\nbeta==1.0\nmissing-one==3\n")
    out = _script(f"""
        import io, contextlib
        from drift_guard.cli import main
        def run():
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                code = main(["--no-cache", "--format", "json", "--python",
                             {str(venv.python)!r}])
            return code, buf.getvalue()
        forked = run()
        _background.available = lambda: False
        alone = run()
        print(json.dumps([started, forked, alone]))
    """, tmp_path)
    started, forked, alone = out
    assert started[0] is not None and started[1] is None
    assert forked == alone
    code, text = forked
    report = json.loads(text)
    assert code == 1
    kinds = {(f["kind"], f["name"]) for f in report["findings"]}
    assert {("mismatch", "beta"), ("missing", "missing-one"), ("undeclared", "gamma-pkg")} <= kinds
    assert len(report["warnings"]) == 2


def test_a_bad_declaration_file_stops_the_child(tmp_path: Path, venv: Any) -> None:
    _large_project(tmp_path, venv, "alpha==1.0\nbeta ==\n")
    out = _script(f"""
        import io, contextlib
        from drift_guard.cli import main
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["--no-cache", "--python", {str(venv.python)!r}])
        try:
            os.waitpid(-1, os.WNOHANG)
            children = True
        except ChildProcessError:
            children = False
        print(json.dumps([started[0] is not None, code, err.getvalue(), children]))
    """, tmp_path)
    used, code, err, children = out
    assert used and code == 2 and not children
    assert err.count("\n") == 1 and "requirements.txt:2" in err
