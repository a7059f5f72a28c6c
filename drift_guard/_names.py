"""Name and version helpers cheap enough for the hook's start-up path.

`packaging.utils` imports `packaging.tags` (and with it `logging`, `subprocess`, sysconfig
probes): tens of milliseconds on a hook that runs on every commit. PEP 503 normalisation, the
PEP 508 name test and the canonical version form are decided here with string methods (even
`re` costs a clean check several milliseconds to import and compile); each keeps its pattern,
which tests hold the string tests to and which decides the rare text they leave to it.
Everything beyond them is left to `packaging`, imported where it is needed.
"""

from __future__ import annotations

from drift_guard._patterns import lazy

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
    `canonicalize_name`): every run of "-", "_" and "." becomes one "-"."""
    low = name.lower()
    if "_" in low or "." in low:
        low = low.replace("_", "-").replace(".", "-")
    while "--" in low:
        low = low.replace("--", "-")
    return low


def valid_name(name: str) -> bool:
    """`VALID_NAME.match(name)`: a PEP 508 name."""
    if not name.isascii() or name.endswith("\n"):
        # Under (?i), [A-Z] also takes the Kelvin sign and the long s; and `$` matches before
        # a final newline.
        return VALID_NAME.match(name) is not None
    return (name[:1].isalnum() and name[-1:].isalnum()
            and name.replace("-", "").replace("_", "").replace(".", "").isalnum())


def _number(text: str) -> bool:
    """A decimal number without leading zeros ("0|[1-9][0-9]*")."""
    return text.isdigit() and (text[0] != "0" or text == "0")


def canonical_version(version: str) -> bool:
    """`CANONICAL_VERSION.match(version)`: PEP 440's normal form."""
    if version.replace(".", "").isdigit() and version.isascii():  # a plain release (most)
        # no empty part, and no part with a leading zero (a "0" part is one)
        if version[0] == "." or version[-1] == "." or ".." in version:
            return False
        dotted = "." + version
        at = dotted.find(".0")
        while at != -1:
            if at + 2 < len(dotted) and dotted[at + 2] != ".":
                return False
            at = dotted.find(".0", at + 2)
        return True
    if not version.isascii() or version.endswith("\n"):
        return CANONICAL_VERSION.match(version) is not None
    public, plus, local = version.partition("+")
    if plus and not all(part.isalnum() and part == part.lower() for part in local.split(".")):
        return False
    epoch, bang, public = public.rpartition("!")
    if bang and (not _number(epoch) or epoch == "0"):
        return False
    parts = public.split(".")
    if parts[-1].startswith("dev") and not _number(parts.pop()[3:]):
        return False
    if parts and parts[-1].startswith("post") and not _number(parts.pop()[4:]):
        return False
    if not parts:
        return False
    last = parts[-1]
    for tag in ("rc", "a", "b"):
        release, found, serial = last.partition(tag)
        if found:
            if not _number(serial):
                return False
            parts[-1] = release
            break
    return all(_number(part) for part in parts)


def pin(name: str, version: str) -> str:
    """`name==version`, or `name===version` for a version PEP 440 cannot parse (as pip freeze
    writes it: `==` would make the line invalid)."""
    if not canonical_version(version):
        from packaging.version import InvalidVersion, Version

        try:
            Version(version)
        except InvalidVersion:
            return f"{name}==={version}"
    return f"{name}=={version}"
