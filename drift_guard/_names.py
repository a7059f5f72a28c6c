"""Name and version helpers cheap enough for the hook's start-up path.

`packaging.utils` imports `packaging.tags` (and with it `logging`, `subprocess`, sysconfig
probes): tens of milliseconds on a hook that runs on every commit. PEP 503 normalisation is
one regular expression, so it lives here; everything beyond it is left to `packaging`,
imported where it is needed.
"""

from __future__ import annotations

from drift_guard._patterns import lazy

_SEPARATORS = lazy(r"[-_.]+")

# PEP 508 names: letters and digits at both ends, "-", "_" and "." inside.
VALID_NAME = lazy(r"(?i)^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$")

# A subset of valid PEP 440 versions: the normal form pip freeze and the lock tools write. When
# a pin in this form is the very string the metadata installed says, the pin holds and the check
# needs no `packaging` import; every other case takes the exact path through packaging.
CANONICAL_VERSION = lazy(
    r"^(?:[1-9][0-9]*!)?(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*"
    r"(?:(?:a|b|rc)(?:0|[1-9][0-9]*))?(?:\.post(?:0|[1-9][0-9]*))?(?:\.dev(?:0|[1-9][0-9]*))?"
    r"(?:\+[a-z0-9]+(?:\.[a-z0-9]+)*)?$"
)


def canonical(name: str) -> str:
    """PEP 503 normalised form of a project name (same result as packaging's
    `canonicalize_name`)."""
    low = name.lower()
    if "_" not in low and "." not in low and "--" not in low:
        return low  # already normal: no separator other than single "-"
    return _SEPARATORS.sub("-", low)


def pin(name: str, version: str) -> str:
    """`name==version`, or `name===version` for a version PEP 440 cannot parse (as pip freeze
    writes it: `==` would make the line invalid)."""
    if not CANONICAL_VERSION.match(version):
        from packaging.version import InvalidVersion, Version

        try:
            Version(version)
        except InvalidVersion:
            return f"{name}==={version}"
    return f"{name}=={version}"
