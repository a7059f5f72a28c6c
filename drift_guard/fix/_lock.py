"""One --fix at a time per project: an advisory lock that two runs on the same project share.

The lock file is never one of the repository's tracked files: it lives in the git directory
when the project has one (`.git/drift-guard-fix.lock`), else in a directory of the user's own
under the temporary directory, named after the project's real path. `fcntl.flock` locks are
released by the kernel when the process ends, however it ends, so a killed run never leaves
the project locked.
"""

from __future__ import annotations

import os
import time

from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

WAIT = 120.0
"""Seconds a run waits for another --fix on the same project before it gives up."""


def lock_path(root: str) -> str:
    """Where the lock for the project at `root` lives."""
    top = os.path.realpath(root)
    probe = top
    while True:
        dot_git = os.path.join(probe, ".git")
        if os.path.isdir(dot_git) and os.access(dot_git, os.W_OK):
            return os.path.join(dot_git, "drift-guard-fix.lock")
        if os.path.lexists(dot_git):  # a worktree's or submodule's `.git` file: no dir of ours
            break
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    import hashlib
    import tempfile

    key = hashlib.sha256(top.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(_private_dir(tempfile.gettempdir()), f"{key}.lock")


def _private_dir(tmp: str) -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = os.path.join(tmp, f"drift-guard-{uid}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise DriftGuardError(f"cannot create the lock directory: {exc.strerror or exc}",
                              path=path) from None
    st = os.lstat(path)
    import stat

    # In a shared /tmp someone else could have made it first: a lock there is not ours.
    if not stat.S_ISDIR(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != uid):
        raise DriftGuardError("the lock directory is not a directory of this user; remove it "
                              "or set TMPDIR to a directory of your own", path=path)
    return path


class ProjectLock:
    """`with ProjectLock(root):` -- held for the whole check-and-fix of one run."""

    def __init__(self, root: str, wait: Optional[float] = None) -> None:
        self.root = root
        self.wait = WAIT if wait is None else wait
        self.fd: Optional[int] = None

    def __enter__(self) -> ProjectLock:
        try:
            import fcntl
        except ImportError:  # Windows: no flock; the compare-and-swap still guards each file
            return self
        path = lock_path(self.root)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except OSError as exc:
            raise DriftGuardError(f"cannot open the --fix lock: {exc.strerror or exc}",
                                  path=path) from None
        deadline = time.monotonic() + self.wait
        delay = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise DriftGuardError(
                        f"another drift-guard --fix on {self.root} still runs after "
                        f"{self.wait:g} s; nothing was written: run again when it has finished "
                        f"(lock: {path})") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except OSError as exc:
                os.close(fd)
                raise DriftGuardError(f"cannot take the --fix lock: {exc.strerror or exc}",
                                      path=path) from None
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None
