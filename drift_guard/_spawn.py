"""Run a short-lived program and collect its output, without the `subprocess` module.

The import scan asks git which files the project tracks on every check that finds an
undeclared package. `subprocess` (with `threading`, `selectors`, `signal` and `locale`, which
brings `re`) costs a commit hook several milliseconds to import for that one call; on POSIX the
same can be done with `os.posix_spawnp`, a pipe and `select.poll`. Elsewhere (Windows) this
falls back to `subprocess`.

The program gets /dev/null as stdin (or a pipe holding `stdin`) and as stderr, its own session,
and SIGPIPE at its default; it is killed when `timeout` seconds pass.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Sequence, Tuple

_CHUNK = 1 << 16
# Taken when this module is first imported: drift_guard.cache's recorder treats a program
# started any other way than through `run` as an unknown input.
_posix_spawnp = getattr(os, "posix_spawnp", None)


def run(args: Sequence[str], *, env: Mapping[str, str], stdin: Optional[bytes] = None,
        timeout: float) -> Optional[Tuple[int, bytes]]:
    """(exit status, stdout) of `args`; None when it cannot start or runs out of time."""
    if _posix_spawnp is None:
        return _run_subprocess(args, env=env, stdin=stdin, timeout=timeout)
    import select
    import time

    import _signal

    deadline = time.monotonic() + timeout
    fds: List[int] = []
    try:
        out_r, out_w = _pipe(fds)
        in_r, in_w = _pipe(fds) if stdin is not None else (-1, -1)
        null = _low_safe(os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC), fds)
        actions = [(os.POSIX_SPAWN_DUP2, in_r if stdin is not None else null, 0),
                   (os.POSIX_SPAWN_DUP2, out_w, 1),
                   (os.POSIX_SPAWN_DUP2, null, 2)]
        pid = _posix_spawnp(args[0], list(args), dict(env), file_actions=actions,
                              setsid=True, setsigdef=(_signal.SIGPIPE, _signal.SIGXFSZ))
    except (OSError, ValueError):
        _close(fds)
        return None
    for fd in (out_w, in_r, null):
        if fd >= 0:
            _close([fd])
            fds.remove(fd)
    chunks: List[bytes] = []
    pending = memoryview(stdin) if stdin is not None else None
    poller = select.poll()
    poller.register(out_r, select.POLLIN)
    if in_w >= 0:
        os.set_blocking(in_w, False)
        poller.register(in_w, select.POLLOUT)
    try:
        open_fds = {out_r} | ({in_w} if in_w >= 0 else set())
        while out_r in open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                return _kill(pid)
            for fd, _ in poller.poll(left * 1000):
                if fd == out_r:
                    data = os.read(out_r, _CHUNK)
                    if data:
                        chunks.append(data)
                        continue
                elif pending is not None:
                    try:
                        pending = pending[os.write(in_w, pending[:_CHUNK]):]
                    except BrokenPipeError:
                        pending = pending[:0]
                    if pending:
                        continue
                poller.unregister(fd)
                open_fds.discard(fd)
                _close([fd])
                fds.remove(fd)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), b"".join(chunks)
            if time.monotonic() >= deadline:
                return _kill(pid)
            time.sleep(0.001)
    finally:
        _close(fds)


def _pipe(fds: List[int]) -> Tuple[int, int]:
    r, w = os.pipe()
    return _low_safe(r, fds), _low_safe(w, fds)


def _low_safe(fd: int, fds: List[int]) -> int:
    """`fd` (now owned by `fds`), moved above 2 when it is 0, 1 or 2 (a caller started with
    those closed): a spawn action that duplicates a descriptor onto itself would leave it
    close-on-exec, and a stray copy of a pipe's end would keep the pipe open."""
    low = []
    while fd < 3:
        low.append(fd)
        fd = os.dup(fd)  # non-inheritable; the lowest free number, which may be low again
    _close(low)
    fds.append(fd)
    return fd


def _close(fds: Sequence[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _kill(pid: int) -> None:
    """Kill the program and everything it started (its session), and reap it."""
    import _signal

    try:
        os.killpg(pid, _signal.SIGKILL)
    except OSError:
        pass
    os.waitpid(pid, 0)
    return None


def _run_subprocess(args: Sequence[str], *, env: Mapping[str, str], stdin: Optional[bytes],
                    timeout: float) -> Optional[Tuple[int, bytes]]:
    import subprocess

    try:
        done = subprocess.run(
            list(args), env=dict(env), input=stdin, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            timeout=timeout, check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.returncode, done.stdout
