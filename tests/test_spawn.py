"""drift_guard._spawn runs a program as subprocess.run would, without importing subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drift_guard import _spawn
from tests.helpers import ROOT

ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def test_output_larger_than_a_pipe_holds_and_the_exit_status_come_back() -> None:
    code = "import sys; sys.stdout.write('x' * 300000); sys.stderr.write('e' * 300000); sys.exit(3)"
    assert _spawn.run([sys.executable, "-c", code], env=ENV, timeout=30) == (3, b"x" * 300000)


def test_stdin_is_fed_while_output_is_read() -> None:
    data = os.urandom(1 << 20)
    code = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    assert _spawn.run([sys.executable, "-c", code], env=ENV, stdin=data,
                      timeout=30) == (0, data[::-1])


def test_without_input_stdin_is_empty_and_the_environment_is_the_one_given() -> None:
    code = "import json, os, sys; print(json.dumps([sys.stdin.read(), sorted(os.environ)]))"
    status, out = _spawn.run([sys.executable, "-c", code], env={**ENV, "ONLY": "1"},
                             timeout=30) or (None, b"")
    stdin, names = json.loads(out)
    assert status == 0 and stdin == ""
    assert "ONLY" in names and "HOME" not in names


def test_a_program_that_hangs_is_killed_with_what_it_started(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(marker)!r}, 'w').write(str(p.pid)); sys.stdout.flush(); time.sleep(60)")
    started = time.monotonic()
    assert _spawn.run([sys.executable, "-c", code], env=ENV, timeout=2) is None
    assert time.monotonic() - started < 20
    child = int(marker.read_text())
    for _ in range(100):  # the grandchild got SIGKILL too (its session was killed)
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        if Path(f"/proc/{child}/stat").exists() and Path(f"/proc/{child}/stat").read_text(
        ).split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the program's child outlived the timeout")


def test_a_missing_program_is_none() -> None:
    assert _spawn.run(["drift-guard-no-such-program"], env=ENV, timeout=5) is None


@pytest.mark.parametrize("closed", [(0,), (1,), (0, 1), (0, 1, 2)])
def test_a_caller_with_standard_descriptors_closed(closed: tuple) -> None:
    # A hook started with its stdin or stdout closed: the pipes may get numbers 0-2.
    probe = (
        "import os, sys, json\n"
        f"report = os.dup(2)\n"
        f"for fd in {closed!r}: os.close(fd)\n"
        "from drift_guard import _spawn\n"
        "got = _spawn.run([sys.executable, '-c', 'import sys; print(sys.stdin.read() + \"ok\")'],"
        " env={'PATH': os.environ['PATH']}, stdin=b'in-', timeout=20)\n"
        "os.write(report, json.dumps(list(got) if got else None, default=bytes.decode).encode())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          env={**ENV, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert json.loads(done.stderr.decode()) == [0, "in-ok\n"]


def test_the_git_listing_does_not_import_subprocess(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "app.py").write_text("import six\n")
    subprocess.run(["git", "-C", str(tmp_path), "add", "app.py"], check=True)
    probe = ("import sys\nfrom drift_guard.imports.files import list_files\n"
             f"print(list_files({str(tmp_path)!r})[:2], 'subprocess' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**ENV, "PYTHONPATH": str(ROOT)}, timeout=60, check=True)
    assert done.stdout.strip() == "(['app.py'], True) False"
