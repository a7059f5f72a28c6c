"""One piece of work done in a forked child while the process goes on with another.

A large check spends its time in two independent reads: the environment's metadata (one file
per distribution) and the declaration files (a lock of thousands of packages). On a machine
with a second core, the child lists the environment while the parent reads the lock: the
check takes the longer of the two instead of their sum.

Only where that is safe: a POSIX `fork` on Linux, more than one CPU this process may run on,
and no other Python thread (a fork copies the locks other threads hold, not the threads). The
child runs one function, sends its value back through a pipe with `marshal` (plain data only),
and leaves with `os._exit` -- nothing of the parent's (buffered output, exit handlers) runs
twice. Whatever goes wrong in the child (an exception, a signal, a value marshal cannot
carry) makes `Child.result` answer None: the caller then does the work itself and meets the
same error, or the same answer, in its own process.

A run recorded for the result cache (`drift_guard.cache`) is recorded in the child too: what
the child looked at comes back with the value and joins the parent's record.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional


def available() -> bool:
    """Whether a child may be forked here (see the module's docstring)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):
        return False


def start(func: Callable[..., Any], *args: Any) -> Optional[Child]:
    """`func(*args)` begun in a forked child; None where no child can be started (then the
    caller runs it itself)."""
    if not available():
        return None
    from drift_guard import cache

    recorder = cache.recording()
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = recorder.fork() if recorder is not None else os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            import marshal

            value = func(*args)
            data = marshal.dumps((value, recorder.state() if recorder is not None else None))
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view):]
            code = 0
        except BaseException:  # any failure: the parent does the work itself
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    return Child(pid, read_end, recorder)


class Child:
    """A started child: its value (`result`), or its end (`cancel`)."""

    def __init__(self, pid: int, fd: int, recorder: Any) -> None:
        self._pid = pid
        self._fd = fd
        self._recorder = recorder

    def result(self) -> Any:
        """The child's value, once it has finished; None when it failed."""
        if self._pid == 0:
            return None
        chunks = []
        try:
            while True:
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            self.cancel()
            return None
        if not self._reap() or not chunks:
            return None
        import marshal

        try:
            value, state = marshal.loads(b"".join(chunks))
        except (EOFError, ValueError, TypeError):
            return None
        if state is not None and self._recorder is not None:
            self._recorder.merge(state)
        return value

    def cancel(self) -> None:
        """Stop the child (if still running) and collect it; its value is dropped."""
        if self._pid == 0:
            return
        try:
            os.kill(self._pid, 9)
        except OSError:
            pass
        self._reap()

    def _reap(self) -> bool:
        """Collect the child and close the pipe; whether it exited with 0."""
        pid, self._pid = self._pid, 0
        try:
            os.close(self._fd)
        except OSError:
            pass
        while True:
            try:
                _, status = os.waitpid(pid, 0)
            except InterruptedError:
                continue
            except ChildProcessError:
                return False
            return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
