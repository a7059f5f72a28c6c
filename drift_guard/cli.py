"""The `drift-guard` command's entry point.

Only the command prints or decides the exit code (CONTRACT.md): 0 no drift, 1 drift (or
--fix changed a file), 2 bad input, 3 internal error.

This module is what every commit hook starts, so it imports nothing it may not need: when an
identical earlier check is still true (`drift_guard.cache`), its answer is replayed without
parsing options, importing argparse or reading a file; otherwise `drift_guard.command` runs.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence


def main(argv: Optional[Sequence[str]] = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    from drift_guard import cache

    replayed = cache.replay(argv)
    if replayed is not None:
        return replayed
    from drift_guard.command import run

    return cache.run_recorded(argv, lambda: run(argv))


def run() -> int:
    """The `drift-guard` console script: `main()`, after which the process ends at once when
    nothing is left to do at exit -- tearing the interpreter down (every module, a last
    collection) costs a check about 3 ms and writes nothing: each file drift-guard writes is
    closed before `main()` returns. Otherwise (an exit handler, output that cannot be flushed)
    the exit is the usual one.

    The cyclic garbage collector is off meanwhile: a run is short, builds tens of thousands
    of containers for a large lock or environment and keeps them to its end, and frees next
    to no cycles -- the collector would walk them again and again for nothing."""
    import gc

    gc.disable()
    code = main()
    import atexit

    pending = getattr(atexit, "_ncallbacks", None)
    if pending is None or pending():
        return code
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return code  # as before: Python reports it and exits 120
    import os

    os._exit(code)
    return code  # not reached: os._exit does not return


def __getattr__(name: str) -> Any:
    # `drift_guard.cli.build_parser` and the rest stay reachable where they always were. The
    # import system asks for dunder names (`from drift_guard.cli import main` probes
    # `__path__`): those must not pull in the whole command.
    if name.startswith("__"):
        raise AttributeError(name)
    from drift_guard import command

    return getattr(command, name)


if __name__ == "__main__":
    raise SystemExit(run())
