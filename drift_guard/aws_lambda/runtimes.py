"""AWS Lambda's Python runtimes as data: which Python, which Amazon Linux (and so which glibc),
what the runtime brings along, and the dates AWS stops patching, creating and updating.

AWS moves these dates (public sources already disagree about python3.9 and python3.11), so
the table says where it comes from and as of when, and every entry can be overridden in
configuration: `[tool.drift-guard.lambda.runtimes."python3.12"]` with `deprecated`,
`block-create` and `block-update` as ISO dates.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping

from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple

SOURCE = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html"
AS_OF = datetime.date(2026, 11, 1)
"""When the table below was last compared with AWS's page."""

AL2 = ("Amazon Linux 2", (2, 26))
AL2023 = ("Amazon Linux 2023", (2, 34))

ANCIENT = (3, 7)
"""python3.7 and older: blocked on Lambda for years; their dates are not worth keeping."""

RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six",
                    "urllib3")
"""What Lambda's Python runtimes bring along, in a version of AWS's choosing (it depends on
the runtime and the region, and is not the one a project pins)."""


class Runtime(NamedTuple):
    name: str
    """"python3.12"."""
    python: Tuple[int, int]
    os: str
    glibc: Tuple[int, int]
    deprecated: Optional[datetime.date]
    """AWS stops patching the runtime."""
    block_create: Optional[datetime.date]
    """Creating functions on it fails from this day."""
    block_update: Optional[datetime.date]
    """Updating functions on it fails from this day."""
    source: str = SOURCE
    """Where the dates come from: AWS's page as of AS_OF, or the configuration key."""


def _r(name: str, os_glibc: Tuple[str, Tuple[int, int]], *dates: str) -> Runtime:
    minor = int(name.rsplit(".", 1)[1])
    d = [datetime.date.fromisoformat(x) for x in dates]
    return Runtime(name, (3, minor), os_glibc[0], os_glibc[1], d[0], d[1], d[2],
                   f"{SOURCE} as of {AS_OF}")


TABLE: Mapping[str, Runtime] = {
    r.name: r for r in (
        _r("python3.8", AL2, "2024-10-14", "2026-02-28", "2026-03-31"),
        _r("python3.9", AL2, "2025-12-15", "2027-02-01", "2027-03-03"),
        _r("python3.10", AL2, "2026-06-30", "2026-07-31", "2026-08-31"),
        _r("python3.11", AL2, "2026-06-30", "2026-07-31", "2026-08-31"),
        _r("python3.12", AL2023, "2028-10-31", "2028-11-30", "2029-01-10"),
        _r("python3.13", AL2023, "2029-06-30", "2029-07-31", "2029-08-31"),
        _r("python3.14", AL2023, "2029-06-30", "2029-07-31", "2029-08-31"),
    )
}

_NAME = re.compile(r"^python(\d+)\.(\d+)$")
_WARN_AHEAD_DAYS = 180
_DATE_KEYS = {"deprecated": "deprecated", "block_create": "block_create",
              "block_update": "block_update"}


def parse_name(name: str) -> Optional[Tuple[int, int]]:
    """(3, 12) for "python3.12"; None for anything that is not a Python runtime name."""
    m = _NAME.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def lookup(name: str, overrides: Mapping[str, Mapping[str, datetime.date]] = {}) -> Runtime:
    """The runtime `name` with configured dates applied. A Python runtime the table does not
    know gets no dates (and Amazon Linux 2023, the newest runtimes' OS)."""
    python = parse_name(name)
    if python is None:
        raise DriftGuardError(f"{name!r} is not a Lambda Python runtime (e.g. python3.12)")
    known = TABLE.get(name)
    if known is None:
        os_glibc = AL2 if python <= (3, 11) else AL2023
        known = Runtime(name, python, os_glibc[0], os_glibc[1], None, None, None, "")
    given = overrides.get(name)
    if given:
        known = known._replace(source="configuration", **{
            _DATE_KEYS[k]: v for k, v in given.items()})
    return known


def parse_overrides(table: object, where: str, path: Optional[str] = None
                    ) -> Dict[str, Dict[str, datetime.date]]:
    """Validate `runtimes = {"python3.12" = {deprecated = "2028-10-31", ...}}`."""
    if not isinstance(table, Mapping):
        raise DriftGuardError(f"{where} must be a table of runtimes", path=path)
    result: Dict[str, Dict[str, datetime.date]] = {}
    for name, dates in table.items():
        spelled = f"{where}.{name}"
        if parse_name(str(name)) is None:
            raise DriftGuardError(f"{spelled}: not a Lambda Python runtime name (e.g. python3.12)",
                                  path=path)
        if not isinstance(dates, Mapping):
            raise DriftGuardError(f"{spelled} must be a table of dates", path=path)
        entry: Dict[str, datetime.date] = {}
        for raw_key, value in dates.items():
            key = str(raw_key).replace("-", "_")
            if key not in _DATE_KEYS:
                raise DriftGuardError(
                    f"unknown setting {spelled}.{raw_key}; known settings: deprecated, "
                    "block-create, block-update", path=path)
            if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
                entry[key] = value
                continue
            try:
                entry[key] = datetime.date.fromisoformat(str(value))
            except ValueError:
                raise DriftGuardError(
                    f"{spelled}.{raw_key} must be an ISO date such as 2026-08-31", path=path
                ) from None
        result[str(name)] = entry
    return result


class Verdict(NamedTuple):
    blocked: bool
    """AWS refuses what the command does: it must stop."""
    deprecated: bool
    message: str


def verdict(runtime: Runtime, today: datetime.date, action: str) -> Optional[Verdict]:
    """What the dates mean for `action` ("create", "update", or "package" -- either) today.

    Creating is blocked from `block_create`, updating from `block_update`; a package for
    either is blocked once both are.
    """
    name = runtime.name
    newest = max(TABLE, key=lambda n: TABLE[n].python)
    if runtime.python <= ANCIENT:
        return Verdict(True, True, f"runtime {name}: an ancient runtime, blocked on AWS Lambda "
                                   f"for years (python3.7 and older); move to {newest}")
    if runtime.deprecated is None:
        return Verdict(False, False, f"runtime {name}: unknown to drift-guard's runtime table "
                                     f"({AS_OF} edition); its support dates are unknown")
    seen = "" if runtime.source.startswith(SOURCE) else " (dates from the configuration)"
    create, update = runtime.block_create, runtime.block_update
    if update is not None and today >= update:
        return Verdict(True, True, f"runtime {name}: AWS Lambda blocks creating functions on it "
                                   f"since {create} and updating them since {update}{seen}; "
                                   f"move to {newest}")
    if create is not None and today >= create:
        blocked = action == "create"
        effect = ("creating the function will fail" if blocked else
                  f"updates still work until {update}")
        return Verdict(blocked, True, f"runtime {name}: AWS Lambda blocks new functions on it "
                                      f"since {create} ({effect}){seen}; move to {newest}")
    if today >= runtime.deprecated:
        return Verdict(False, True, f"runtime {name}: deprecated since {runtime.deprecated} (no "
                                    f"more security patches); AWS Lambda blocks new functions "
                                    f"from {create} and updates from {update}{seen}; move to "
                                    f"{newest}")
    if (runtime.deprecated - today).days <= _WARN_AHEAD_DAYS:
        return Verdict(False, False, f"runtime {name}: AWS Lambda deprecates it on "
                                     f"{runtime.deprecated} (updates blocked from {update})"
                                     f"{seen}; plan a move to {newest}")
    return None
