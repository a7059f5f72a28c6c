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

from drift_guard._names import canonical
from drift_guard._patterns import lazy
from drift_guard.models import Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
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
else:
    from drift_guard._record import NamedTuple


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


_REQ = lazy(
    r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*"
    r"(?:\[([A-Za-z0-9._,\s-]*)\])?\s*"
    r"(\(\s*[^()@;\[\]]*\)|[^()@;\[\]]*?)\s*"
    r"(?:;\s*(.*?))?\s*$"
)
_PRE = r"(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)"
_DEV = r"(?:[-_.]?dev[-_.]?[0-9]*)"
_CLAUSE = lazy(
    r"(?i)^\s*(~=|==|!=|<=|>=|<|>)\s*([0-9]+(?:\.[0-9]+)*(?:\.\*|" + _PRE + _DEV + "?|" + _DEV
    + r")?)\s*$"
)
_RELEASE = lazy(r"^[0-9]+(?:\.[0-9]+)*$")
_PRE_RELEASE = lazy(r"(?i)^([0-9]+(?:\.[0-9]+)*)(?:" + _PRE + _DEV + "?|" + _DEV + ")$")

_PARSED: Dict[str, Optional[Dep]] = {}


def parse(text: str) -> Optional[Dep]:
    """A Requires-Dist line; None when it is not a valid requirement (pip skips those)."""
    dep = _PARSED.get(text, _PARSED)
    if dep is _PARSED:
        dep = _PARSED[text] = _parse_fast(text) or _parse_exact(text)
    return dep  # type: ignore[return-value]


def _parse_fast(text: str) -> Optional[Dep]:
    dep = _parse_plain(text)
    return dep if dep is not None else _parse_pattern(text)


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_EXTRAS_CHARS = _NAME_CHARS | frozenset(",")


def _parse_plain(text: str) -> Optional[Dep]:
    """`_parse_pattern` for the usual shapes -- `name`, `name[extras]`, clauses of plain
    releases with or without parentheses, a marker -- with string methods; None where it
    leaves the line to the pattern."""
    head, semicolon, marker = text.partition(";")
    if "\n" in text or "@" in head:
        return None
    if semicolon:
        marker = marker.strip()
        if not marker:
            return None
    head = head.strip()
    end = 0
    while end < len(head) and head[end] in _NAME_CHARS:
        end += 1
    name = head[:end]
    if not name[-1:].isalnum() or not name[:1].isalnum():
        return None
    rest = head[end:].lstrip()
    extras: FrozenSet[str] = frozenset()
    if rest.startswith("["):
        inside, close, rest = rest[1:].partition("]")
        if not close or not _EXTRAS_CHARS.issuperset(inside.replace(" ", "")):
            return None
        extras = frozenset(canonical(e.strip()) for e in inside.split(",") if e.strip())
        rest = rest.lstrip()
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    if "(" in rest or ")" in rest or "[" in rest or "]" in rest:
        return None
    clauses = []
    spec = rest.strip()
    if spec:
        for part in spec.split(","):
            clause = _clause_parts(part)
            if clause is None:
                return None
            clauses.append(clause[0] + clause[1])
    return Dep(canonical(name), extras, ",".join(sorted(clauses)), marker if semicolon else None)


def _parse_pattern(text: str) -> Optional[Dep]:
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


_TWO_CHAR_OPERATORS = ("~=", "==", "!=", "<=", ">=")


def _clause_parts(part: str) -> Optional[Tuple[str, str]]:
    """(operator, version) as `_CLAUSE` reads one clause; None where it does not match."""
    text = part.strip()
    op = text[:2]
    if op not in _TWO_CHAR_OPERATORS:
        op = text[:1]
        if op not in ("<", ">"):
            return None
    version = text[len(op):].lstrip()
    if is_release(version) or (version.endswith(".*") and is_release(version[:-2])):
        return op, version
    found = _CLAUSE.match(part)  # a pre-, post- or dev-release, or no clause at all
    return (found.group(1), found.group(2)) if found is not None else None


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


def is_release(text: str) -> bool:
    """A release number in ASCII digits ("1", "2.31.0"): `_RELEASE` without its `$`'s final
    newline."""
    return (text.replace(".", "").isdigit() and text.isascii() and text[0] != "."
            and text[-1] != "." and ".." not in text)


def _release(version: str) -> Tuple[int, ...]:
    return tuple(map(int, version.split(".")))


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
    if not is_release(target):
        pre = _PRE_RELEASE.match(target)
        if pre is None or op == "~=":
            return None
        # A final release against a pre-release (or dev release) of release R: it is above
        # it exactly when its release is at least R, and never equal to it.
        r = _release(pre.group(1))
        n = max(len(version), len(r))
        above = _pad(version, n) >= _pad(r, n)
        return {">=": above, ">": above, "<": not above, "<=": not above, "==": False,
                "!=": True}[op]
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


_POST_RELEASE = lazy(r"^([0-9]+(?:\.[0-9]+)*)\.post[0-9]+$")


def _clause_post(release: Tuple[int, ...], op: str, target: str) -> Optional[bool]:
    """One clause for a post-release of `release` (as pip prints it: "R.postN") against a
    plain release: above R, below the next release, never equal to a plain release -- and
    `>R` excludes the post-releases of R itself (PEP 440)."""
    if not is_release(target):
        return _clause_fast(release, op, target) if _PRE_RELEASE.match(target) else None
    t = _release(target)
    n = max(len(release), len(t))
    r, t = _pad(release, n), _pad(t, n)
    if op in (">=",):
        return r >= t
    if op == ">":
        return r > t
    if op in ("<", "<="):
        return r < t
    if op == "==":
        return False
    if op == "!=":
        return True
    given = len(_release(target))
    if given < 2:
        return None
    return r >= t and r[: given - 1] == t[: given - 1]


def satisfies(version: str, specifier: str) -> bool:
    """Whether installed `version` meets `specifier` (pre-releases allowed, as pip check)."""
    if not specifier:
        return True
    fast = satisfies_fast(version, specifier)
    if fast is not None:
        return fast
    from drift_guard.compare import satisfies as exact

    return exact(version, specifier)


def satisfies_fast(version: str, specifier: str) -> Optional[bool]:
    """`satisfies` for plain releases (and their post-releases) against clauses of plain
    releases, decided without packaging; None for anything else."""
    post = None
    release = is_release(version)
    if not release and ".post" in version:
        post = _POST_RELEASE.match(version)
    if post is not None or release:
        v = _release(post.group(1) if post is not None else version)
        judge = _clause_post if post is not None else _clause_fast
        result = True
        for part in specifier.split(","):
            c = _clause_parts(part)
            ok = judge(v, c[0], c[1]) if c is not None else None
            if ok is None:
                break
            result = result and ok
        else:
            return result
    return None


# --- markers --------------------------------------------------------------------------------

_STRING_VARS = frozenset(
    {"os_name", "sys_platform", "platform_system", "implementation_name",
     "platform_python_implementation"}
)
_VERSION_VARS = frozenset({"python_version", "python_full_version"})
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


_TOKEN = lazy(
    r"\s*(?:(\()|(\))|(and|or)(?![A-Za-z0-9_])|([a-z_]+)\s*(==|!=|<=|>=|<|>)\s*"
    r"(?:\"([^\"]*)\"|'([^']*)'))"
)


_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz_")
_WORD = _LOWER | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _tokens(text: str) -> Optional[List[Tuple[str, ...]]]:
    """`text` cut as repeated `_TOKEN.match`es would cut it: ("(",), (")",), ("and",),
    ("or",) and ("clause", variable, operator, value); None where a match would fail."""
    tokens: List[Tuple[str, ...]] = []
    pos, n = 0, len(text)
    while pos < n:
        while pos < n and text[pos].isspace():
            pos += 1
        char = text[pos:pos + 1]
        if char in ("(", ")") and char:
            tokens.append((char,))
            pos += 1
            continue
        end = pos
        while end < n and text[end] in _LOWER:
            end += 1
        word = text[pos:end]
        if not word:
            return None
        if word in ("and", "or") and text[end:end + 1] not in _WORD:
            tokens.append((word,))
            pos = end
            continue
        while end < n and text[end].isspace():
            end += 1
        op = text[end:end + 2]
        if op not in ("==", "!=", "<=", ">="):
            op = text[end:end + 1]
            if op not in ("<", ">") or not op:
                return None
        end += len(op)
        while end < n and text[end].isspace():
            end += 1
        quote = text[end:end + 1]
        if quote not in ('"', "'") or not quote:
            return None
        close = text.find(quote, end + 1)
        if close < 0:
            return None
        tokens.append(("clause", word, op, text[end + 1:close]))
        pos = close + 1
    return tokens


# The marker variables whose `variable op "literal"` clauses the fast paths read; anything else
# (extra, legacy dotted names, ~=, ===, in) goes through packaging.
_PLAIN_VARS = frozenset(
    {"os_name", "sys_platform", "platform_release", "platform_system", "platform_version",
     "platform_machine", "platform_python_implementation", "implementation_name",
     "implementation_version", "python_version", "python_full_version"}
)


def normalize_marker(marker: str) -> Optional[str]:
    """`str(packaging.markers.Marker(marker))` for the markers written most often -- clauses
    `variable op "literal"` on the common variables joined by `and` / `or`, no parentheses --
    without importing packaging; None for every other marker (then packaging reads it)."""
    text = marker.strip(" \t")
    if not text.replace("\t", " ").isprintable():
        return None  # packaging's only blanks are spaces and tabs
    tokens = _tokens(text)
    if tokens is None:
        return None
    parts: List[str] = []
    expect_clause = True
    for token in tokens:
        if token[0] in ("(", ")"):
            return None
        if token[0] != "clause":
            if expect_clause:
                return None
            parts.append(token[0])
        else:
            _, var, op, value = token
            if not expect_clause or var not in _PLAIN_VARS or '"' in value:
                return None
            parts.append(f'{var} {op} "{value}"')
        expect_clause = not expect_clause
    return None if expect_clause else " ".join(parts)


def judge_marker(marker: str, markers: Mapping[str, str]) -> Optional[bool]:
    """`marker`'s value in `markers` with no extra, when the fast evaluator decides it (then
    packaging, too, parses and evaluates it without an error); None otherwise."""
    return _marker_fast(marker, markers, frozenset())


def _marker_fast(marker: str, markers: Mapping[str, str],
                 extras: AbstractSet[str]) -> Optional[bool]:
    """`marker` judged without packaging, for markers of `and`, `or`, parentheses and
    `variable op "literal"` clauses on the common variables; None for anything else."""
    tokens = _tokens(marker.rstrip())
    if tokens is None:
        return None
    for extra in ("", *sorted(extras)):
        held = _Evaluator(tokens, markers, extra).run()
        if held is None:
            return None
        if held:
            return True
    return False


class _Evaluator:
    def __init__(self, tokens: List[Tuple[str, ...]], markers: Mapping[str, str],
                 extra: str) -> None:
        self.tokens, self.markers, self.extra, self.pos = tokens, markers, extra, 0

    def run(self) -> Optional[bool]:
        try:
            result = self.expr()
        except _Unsupported:
            return None
        return result if self.pos == len(self.tokens) else None

    def peek(self) -> Optional[str]:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def expr(self) -> bool:
        result = self.term()
        while self.peek() == "or":
            self.pos += 1
            right = self.term()
            result = result or right
        return result

    def term(self) -> bool:
        result = self.factor()
        while self.peek() == "and":
            self.pos += 1
            right = self.factor()
            result = result and right
        return result

    def factor(self) -> bool:
        kind = self.peek()
        if kind == "(":
            self.pos += 1
            result = self.expr()
            if self.peek() != ")":
                raise _Unsupported
            self.pos += 1
            return result
        if kind != "clause":
            raise _Unsupported
        _, var, op, value = self.tokens[self.pos]
        self.pos += 1
        ok = _clause(var, op, value, self.markers, self.extra)
        if ok is None:
            raise _Unsupported
        return ok


class _Unsupported(Exception):
    pass


def _clause(var: str, op: str, value: str, markers: Mapping[str, str],
            extra: str) -> Optional[bool]:
    if var == "extra":
        if op not in ("==", "!="):
            return None
        return (canonical(value) == extra) == (op == "==")
    if var in _STRING_VARS:
        number = value[1:] if value[:1] == "v" else value
        if op not in ("==", "!=") or "0" <= number[:1] <= "9" or var not in markers:
            return None
        return (markers[var] == value) == (op == "==")
    if var in _VERSION_VARS:
        have = markers.get(var, "")
        # packaging refuses numbers longer than int() reads (4300 digits): leave those to it.
        if (len(have) > 4300 or len(value) > 4300
                or not is_release(have) or not is_release(value)):
            return None
        return _clause_fast(_release(have), op, value)
    return None


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
