"""Environment markers, always evaluated for the *target* environment.

The marker environment is derived from what `pyvenv.cfg` says about the target's Python (its
version and implementation) plus this machine's platform values -- the target runs on the
same machine, so `sys_platform`, `platform_machine` and friends are the same. `packaging` is
imported only when a marker actually has to be evaluated.
"""

from __future__ import annotations

import os
import sys

from drift_guard._patterns import lazy
from drift_guard.errors import DriftGuardError
from drift_guard.models import Environment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Mapping, Optional, Tuple

if TYPE_CHECKING:
    from packaging.markers import Marker

_IMPLEMENTATIONS = {
    "cpython": "CPython",
    "pypy": "PyPy",
    "graalpy": "GraalVM",
    "ironpython": "IronPython",
}


def target_environment(env: Environment) -> Dict[str, str]:
    """The PEP 508 marker environment of `env`'s interpreter."""
    if env.markers is not None:
        return dict(env.markers)
    full = env.python_version
    major_minor = ".".join(full.split(".")[:2])
    impl = env.implementation.lower()
    return {
        "implementation_name": impl,
        # For CPython the implementation version is the Python version; for others it is
        # not knowable without running the interpreter, and the Python version is the best guess.
        "implementation_version": full,
        "os_name": os.name,
        **_platform(),
        "python_full_version": full,
        "platform_python_implementation": _IMPLEMENTATIONS.get(impl, impl.capitalize()),
        "python_version": major_minor,
        "sys_platform": sys.platform,
    }


def _platform() -> Dict[str, str]:
    """platform.machine(), .release(), .system() and .version(): on POSIX these are the
    fields of os.uname(), which spares importing `platform` on every run."""
    if hasattr(os, "uname"):
        u = os.uname()
        return {
            "platform_machine": u.machine,
            "platform_release": u.release,
            "platform_system": u.sysname,
            "platform_version": u.version,
        }
    import platform

    return {
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
    }


_CACHE: Dict[str, Marker] = {}

# Python (3.11+) refuses to turn more digits than this into an int, so packaging cannot compare
# such a version; it is bad input on every Python.
DIGITS_LIMIT = 4300
_LONG_NUMBER = lazy(r"[0-9]{%d}" % (DIGITS_LIMIT + 1))


class MarkerError(DriftGuardError):
    """A marker packaging cannot parse or evaluate (`python_version ~= '3'`)."""


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:60]) + "..."


def parse_marker(text: str) -> Marker:
    """A parsed marker, cached: the same marker text recurs across a dependency graph.

    Raises MarkerError (no file named) when it is not a marker."""
    marker = _CACHE.get(text)
    if marker is None:
        from packaging.markers import InvalidMarker, Marker

        try:
            if _LONG_NUMBER.search(text):
                raise ValueError(f"a number of more than {DIGITS_LIMIT} digits")
            marker = Marker(text)
        except (InvalidMarker, ValueError, TypeError, RecursionError) as exc:
            raise MarkerError(f"invalid marker {_shown(text)}: {_why(exc)}") from None
        _CACHE[text] = marker
    return marker


def _why(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return first if len(first) <= 120 else first[:120] + "..."


def evaluate(text: Optional[str], environment: Mapping[str, str], extra: str = "") -> bool:
    """Whether marker `text` holds in `environment` (True when there is no marker).

    Raises MarkerError (naming the marker, not the file) when packaging cannot evaluate it:
    readers call `check` first so the error names the file and line instead."""
    if not text:
        return True
    key = (environment_key(environment), text, extra)
    known = _ANSWERS.get(key)
    if known is not None:
        return known
    if not extra:
        from drift_guard.requires import judge_marker, normalize_marker

        # A marker normalize_marker can write is one packaging parses (and evaluates without
        # an error): its value is judge_marker's, whichever quotes and blanks it was written with.
        held = judge_marker(text, environment) if normalize_marker(text) is not None else None
        if held is not None:
            _ANSWERS[key] = held
            return held
    env = dict(environment)
    env["extra"] = extra
    marker = parse_marker(text)
    try:
        result = bool(marker.evaluate(env))
    except (ValueError, TypeError, LookupError, RecursionError) as exc:
        raise MarkerError(f"cannot evaluate the marker {_shown(text)}: {_why(exc)}; "
                          "correct it") from None
    _ANSWERS[key] = result
    return result


# Answers by (environment, marker, extra): a lock repeats a few markers on thousands of
# entries. Only answers are kept; a marker that cannot be evaluated raises each time.
_ANSWERS: Dict[Tuple[Any, ...], bool] = {}
_ENVIRONMENTS: Dict[int, Tuple[Mapping[str, str], Dict[str, str], Tuple[Any, ...]]] = {}


def environment_key(environment: Mapping[str, Any]) -> Tuple[Any, ...]:
    """A hashable key for a marker environment, sorted once per environment object (kept, so
    that its id is not reused; and compared, in case it was changed since)."""
    known = _ENVIRONMENTS.get(id(environment))
    if known is not None and known[0] is environment and known[1] == environment:
        return known[2]
    key = tuple(sorted((k, v if isinstance(v, str) else repr(v))
                       for k, v in environment.items()))
    _ENVIRONMENTS[id(environment)] = (environment, dict(environment), key)
    return key


def check(text: str, environment: Mapping[str, str], *, path: str,
          line: Optional[int] = None, key: Optional[str] = None, quote: bool = True) -> None:
    """Raise DriftGuardError at path:line (or key) when marker `text` cannot be parsed or
    evaluated in `environment`; `quote` False keeps the marker's text out of the message.

    A variable missing from `environment` is the environment's gap, not the marker's fault."""
    from drift_guard.requires import judge_marker, normalize_marker

    if normalize_marker(text) == text and judge_marker(text, environment) is not None:
        return  # written as packaging writes it, and judged without it: valid, evaluable
    from packaging.markers import UndefinedEnvironmentName

    try:
        marker = parse_marker(text)
        env = dict(environment)
        env.setdefault("extra", "")
        try:
            marker.evaluate(env)
        except UndefinedEnvironmentName:
            return
        except (ValueError, TypeError, LookupError, RecursionError) as exc:
            raise MarkerError(f"cannot evaluate the marker {_shown(text)}: {_why(exc)}; "
                              "correct it") from None
    except MarkerError as exc:
        message = exc.message if quote else ("invalid marker (its text is not shown: the "
                                             "file is outside the project); correct it")
        raise MarkerError(message, path=path, line=line, key=key) from None
