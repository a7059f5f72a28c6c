"""Environment markers, always evaluated for the *target* environment.

The marker environment is derived from what `pyvenv.cfg` says about the target's Python (its
version and implementation) plus this machine's platform values -- the target runs on the
same machine, so `sys_platform`, `platform_machine` and friends are the same. `packaging` is
imported only when a marker actually has to be evaluated.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Dict, Mapping, Optional

from drift_guard.models import Environment

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


def parse_marker(text: str) -> Marker:
    """A parsed marker, cached: the same marker text recurs across a dependency graph."""
    marker = _CACHE.get(text)
    if marker is None:
        from packaging.markers import Marker

        marker = _CACHE[text] = Marker(text)
    return marker


def evaluate(text: Optional[str], environment: Mapping[str, str], extra: str = "") -> bool:
    """Whether marker `text` holds in `environment` (True when there is no marker)."""
    if not text:
        return True
    env = dict(environment)
    env["extra"] = extra
    return parse_marker(text).evaluate(env)
