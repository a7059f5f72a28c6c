"""The Requires-Dist of installed distributions, parsed and judged for the target cheaply.

Every check reads the whole dependency graph (whether the environment satisfies itself is a
question about every installed distribution), so this runs on every commit. `packaging` costs
tens of milliseconds to import; the Requires-Dist lines of real environments are nearly all
of a few plain shapes (`name`, `name>=1.2,<3`, `name (>=1.2)`, `name ; extra == "x"`,
`name ; python_version < "3.11"`), and pure release versions compare as integer tuples. Those
are judged here; any other line, specifier, version or marker takes the exact path through
`packaging` (tests/test_compare.py checks the two agree).
"""

from __future__ import annotations

import re
from typing import (
    AbstractSet,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Set,
    Tuple,
)

from drift_guard._names import canonical
from drift_guard.models import Installed


class Dep(NamedTuple):
    """One Requires-Dist line, parsed."""

    name: str
    """PEP 503 normalised."""
    extras: FrozenSet[str]
    specifier: str
    """Clauses joined by "," in packaging's order (sorted), e.g. "<3,>=1.2"; "" for any."""
    marker: Optional[str]


class Edge(NamedTuple):
    """A requirement of an installed distribution that holds in the target."""

    requirer: str
    name: str
    extras: FrozenSet[str]
    specifier: str
    via_extra: bool = False
    """It holds only because an extra of the requirer was requested."""


_REQ = re.compile(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[([A-Za-z0-9._,\s-]*)\])?\s*"
    r"(\(\s*[^()@;\[\]]*\)|[^()@;\[\]]*?)\s*"
    r"(?:;\s*(.*?))?\s*$"
)
_CLAUSE = re.compile(r"^\s*(~=|==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*(?:\.\*)?)\s*$")
_RELEASE = re.compile(r"^[0-9]+(?:\.[0-9]+)*$")

_PARSED: Dict[str, Optional[Dep]] = {}


def parse(text: str) -> Optional[Dep]:
    """A Requires-Dist line; None when it is not a valid requirement (pip skips those)."""
    dep = _PARSED.get(text, _PARSED)
    if dep is _PARSED:
        dep = _PARSED[text] = _parse_fast(text) or _parse_exact(text)
    return dep  # type: ignore[return-value]


def _parse_fast(text: str) -> Optional[Dep]:
    m = _REQ.match(text)
    if m is None:
        return None
    name, extras, spec, marker = m.groups()
    spec = spec.strip()
    if spec.startswith("("):
        spec = spec[1:-1].strip()
    clauses = []
    if spec:
        for part in spec.split(","):
            c = _CLAUSE.match(part)
            if c is None:
                return None
            clauses.append(c.group(1) + c.group(2))
    if marker is not None and not marker:
        return None
    extra_names = frozenset(canonical(e.strip()) for e in (extras or "").split(",") if e.strip())
    return Dep(canonical(name), extra_names, ",".join(sorted(clauses)), marker or None)


def _parse_exact(text: str) -> Optional[Dep]:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    return Dep(
        canonical(req.name),
        frozenset(canonical(e) for e in req.extras),
        str(req.specifier),
        str(req.marker) if req.marker is not None else None,
    )


# --- versions -------------------------------------------------------------------------------


def _release(version: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _pad(a: Tuple[int, ...], n: int) -> Tuple[int, ...]:
    return a + (0,) * (n - len(a)) if len(a) < n else a


def _clause_fast(version: Tuple[int, ...], op: str, target: str) -> Optional[bool]:
    """One clause on pure release versions; None when the fast path does not apply."""
    if target.endswith(".*"):
        if op not in ("==", "!="):
            return None
        prefix = _release(target[:-2])
        match = _pad(version, len(prefix))[: len(prefix)] == prefix
        return match if op == "==" else not match
    if not _RELEASE.match(target):
        return None
    t = _release(target)
    n = max(len(version), len(t))
    v, t = _pad(version, n), _pad(t, n)
    if op == "==":
        return v == t
    if op == "!=":
        return v != t
    if op == ">=":
        return v >= t
    if op == "<=":
        return v <= t
    if op == ">":
        return v > t
    if op == "<":
        return v < t
    # ~=: >= it, and the same release up to its last-but-one part.
    given = len(_release(target))
    if given < 2:
        return None
    return v >= t and v[: given - 1] == t[: given - 1]


def satisfies(version: str, specifier: str) -> bool:
    """Whether installed `version` meets `specifier` (pre-releases allowed, as pip check)."""
    if not specifier:
        return True
    if _RELEASE.match(version):
        v = _release(version)
        result = True
        for part in specifier.split(","):
            c = _CLAUSE.match(part)
            ok = _clause_fast(v, c.group(1), c.group(2)) if c is not None else None
            if ok is None:
                break
            result = result and ok
        else:
            return result
    from drift_guard.compare import satisfies as exact

    return exact(version, specifier)


# --- markers --------------------------------------------------------------------------------

_STRING_VARS = frozenset(
    {"os_name", "sys_platform", "platform_system", "implementation_name",
     "platform_python_implementation"}
)
_VERSION_VARS = frozenset({"python_version", "python_full_version"})
_MARKER_CLAUSE = re.compile(
    r"^\s*\(?\s*([a-z_]+)\s*(==|!=|<=|>=|<|>)\s*(?:\"([^\"]*)\"|'([^']*)')\s*\)?\s*$"
)
_AND = re.compile(r"\s+and\s+")
_MARKERS: Dict[Tuple[str, Tuple[str, ...], int], bool] = {}
_ENVIRONMENTS: Dict[Tuple[Tuple[str, str], ...], int] = {}
_LAST: List[object] = [None, 0]


def _env_key(markers: Mapping[str, str]) -> int:
    """A small number standing for one marker environment (the caches span several)."""
    if _LAST[0] is markers:
        return _LAST[1]  # type: ignore[return-value]
    items = tuple(sorted(markers.items()))
    key = _ENVIRONMENTS.setdefault(items, len(_ENVIRONMENTS))
    _LAST[0], _LAST[1] = markers, key
    return key


def marker_holds(marker: Optional[str], markers: Mapping[str, str],
                 extras: AbstractSet[str] = frozenset()) -> bool:
    """Whether `marker` holds in the target for the distribution requested with `extras`:
    with `extra` set to "" or to any one of them, as pip evaluates it."""
    if not marker:
        return True
    key = (marker, tuple(sorted(extras)), _env_key(markers))
    held = _MARKERS.get(key)
    if held is None:
        held = _marker_fast(marker, markers, extras)
        if held is None:
            from drift_guard.markers import parse_marker

            parsed = parse_marker(marker)
            held = any(parsed.evaluate({**markers, "extra": e}) for e in ("", *sorted(extras)))
        _MARKERS[key] = held
    return held


def _marker_fast(marker: str, markers: Mapping[str, str],
                 extras: AbstractSet[str]) -> Optional[bool]:
    if " or " in marker:
        return None
    result = True
    wanted_extra: Optional[str] = None
    for clause in _AND.split(marker.strip()):
        if clause.count("(") != clause.count(")"):
            # "(a and b)": the parentheses span clauses; leave it to packaging.
            return None
        m = _MARKER_CLAUSE.match(clause)
        if m is None:
            return None
        var, op, value = m.group(1), m.group(2), m.group(3) if m.group(3) is not None else m.group(4)
        if var == "extra":
            if op != "==" or wanted_extra is not None:
                return None
            wanted_extra = canonical(value)
            continue
        if var in _STRING_VARS:
            if op not in ("==", "!=") or re.match(r"^v?[0-9]", value) or var not in markers:
                return None
            ok = (markers[var] == value) == (op == "==")
        elif var in _VERSION_VARS:
            have = markers.get(var, "")
            if not _RELEASE.match(have) or not _RELEASE.match(value):
                return None
            ok = _clause_fast(_release(have), op, value)
            if ok is None:
                return None
        else:
            return None
        result = result and ok
    if wanted_extra is not None:
        result = result and wanted_extra in extras
    return result


# --- the graph ------------------------------------------------------------------------------


def edges(
    installed: Mapping[str, Installed],
    markers: Mapping[str, str],
    requested: Iterable[Tuple[str, FrozenSet[str]]] = (),
) -> Tuple[Dict[str, List[Edge]], Dict[str, Set[str]]]:
    """The requirements of every installed distribution that hold in the target, given the
    extras requested of it (by `requested` -- the declarations -- and by each other).

    Returns ({requirer: [Edge, ...]}, {name: who requested extras of it}), "" standing for
    the declarations.
    """
    extras: Dict[str, Set[str]] = {name: set() for name in installed}
    requesters: Dict[str, Set[str]] = {}
    for name, wanted in requested:
        if name in extras and wanted:
            extras[name] |= wanted
            requesters.setdefault(name, set()).add("")
    graph: Dict[str, List[Edge]] = {}
    pending = list(installed)
    none: FrozenSet[str] = frozenset()
    while pending:
        again: Set[str] = set()
        for name in pending:
            dist = installed[name]
            found = []
            mine = extras[name]
            for text in dist.requires:
                dep = parse(text)
                if dep is None or not marker_holds(dep.marker, markers, mine):
                    continue
                via = bool(mine) and not marker_holds(dep.marker, markers, none)
                found.append(Edge(name, dep.name, dep.extras, dep.specifier, via))
                if dep.extras and dep.name in extras:
                    requesters.setdefault(dep.name, set()).add(name)
                    if not dep.extras <= extras[dep.name]:
                        extras[dep.name] |= dep.extras
                        again.add(dep.name)
            graph[name] = found
        pending = sorted(again)
    return graph, requesters
