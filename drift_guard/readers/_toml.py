"""What the structured readers share: loading TOML and JSON, typed field access that names the
exact key path on error, marker evaluation, group selection, and line numbers of entries.

Every field of a lock file is treated as optional and of unknown type until checked: a file
edited by hand, merged badly or written by a future tool must give one line naming the file
and the key (`package[3].version`) and what to do, never a traceback.
"""

from __future__ import annotations

import os
import re
import sys

from drift_guard._names import canonical
from drift_guard._patterns import lazy
from drift_guard.errors import DriftGuardError
from drift_guard.markers import environment_key
from drift_guard.models import ReadContext, Requirement, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        AbstractSet,
        Any,
        Dict,
        FrozenSet,
        Iterable,
        List,
        Mapping,
        NamedTuple,
        Optional,
        Sequence,
        Set,
        Tuple,
        Type,
        Union,
    )
else:
    from drift_guard._record import NamedTuple

if TYPE_CHECKING:
    from packaging.markers import Marker

    _Types = Union[Type[Any], Tuple[Type[Any], ...]]

_TOML_LINE = lazy(r"at line (\d+)")

_KINDS = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "a table",
}


def _kind(value: object, json: bool) -> str:
    if isinstance(value, bool):
        return "true or false" if not json else "a boolean"
    if value is None:
        return "null"
    for t, name in _KINDS.items():
        if isinstance(value, t):
            if json and t is dict:
                return "an object"
            return name
    return type(value).__name__


class Doc:
    """A loaded TOML or JSON document, with the file it came from and what fixes it.

    `hint` ends every error message, e.g. "regenerate it with `poetry lock`".
    """

    def __init__(self, path: str, data: Dict[str, Any], text: str, hint: str,
                 json: bool = False) -> None:
        self.path = path
        self.data = data
        self.text = text
        self.hint = hint
        self.json = json

    def error(self, key: Optional[str], message: str, hint: bool = True) -> DriftGuardError:
        """The error for `key`; `hint` False when the message already says what to do."""
        text = f"{message} ({self.hint})" if hint else message
        return DriftGuardError(text, path=self.path, key=key or None)

    def expect(self, value: Any, types: _Types, key: str) -> Any:
        """`value` if it is of `types`, else an error naming `key` and both types."""
        if isinstance(value, types) and not (isinstance(value, bool) and bool not in _tuple(types)):
            return value
        wanted = " or ".join(
            "an object" if self.json and t is dict else _KINDS.get(t, t.__name__)
            for t in _tuple(types)
        )
        raise self.error(key, f"expected {wanted}, found {_kind(value, self.json)}")

    def get(self, table: Mapping[str, Any], field: str, types: _Types, where: str, *,
            required: bool = False, default: Any = None) -> Any:
        """`table[field]` checked against `types`; `default` when absent (an error when
        `required`). `where` is the key path of `table` itself ("" at the top)."""
        if field not in table:
            if required:
                raise self.error(join_key(where, field), "missing")
            return default
        value = table[field]
        # The key is spelled out only for an error: this runs for every field of every entry.
        if isinstance(value, types) and not isinstance(value, bool):
            return value
        return self.expect(value, types, join_key(where, field))

    def string(self, table: Mapping[str, Any], field: str, where: str, *,
               required: bool = False) -> Optional[str]:
        return self.get(table, field, str, where, required=required)  # type: ignore[no-any-return]

    def table(self, table: Mapping[str, Any], field: str, where: str) -> Dict[str, Any]:
        return self.get(table, field, dict, where, default={})  # type: ignore[no-any-return]

    def array(self, table: Mapping[str, Any], field: str, where: str) -> List[Any]:
        return self.get(table, field, list, where, default=[])  # type: ignore[no-any-return]

    def strings(self, table: Mapping[str, Any], field: str, where: str) -> List[str]:
        """An array of strings (a lone string is an error, as the formats define arrays)."""
        values = self.array(table, field, where)
        for i, v in enumerate(values):
            if type(v) is not str:
                self.expect(v, str, f"{join_key(where, field)}[{i}]")
        return values

    def name(self, table: Mapping[str, Any], field: str, where: str) -> str:
        """`table[field]`, a required package name, canonical; an error naming the key when it
        is not a PEP 508 name (a newline, `::`, a leading `-` or a space in it)."""
        raw = self.string(table, field, where, required=True) or ""
        return checked_name(self, raw, join_key(where, field))

    def tables(self, table: Mapping[str, Any], field: str, where: str) -> List[Dict[str, Any]]:
        """An array of tables."""
        values = self.array(table, field, where)
        for i, v in enumerate(values):
            if type(v) is not dict:
                self.expect(v, dict, f"{join_key(where, field)}[{i}]")
        return values

    def marker(self, text: str, key: str) -> None:
        """Check that `text` is a PEP 508 marker; an error naming `key` when it is not."""
        if text not in _VALID_MARKERS:
            check_marker(text, self, key)

    def marker_at(self, text: str, where: str, field: str) -> None:
        """`marker(text, join_key(where, field))`, the key spelled out only when needed."""
        if text not in _VALID_MARKERS:
            check_marker(text, self, join_key(where, field))

    def name_at(self, raw: str, where: str, field: str) -> str:
        """`checked_name(self, raw, join_key(where, field))`, the key spelled out only when
        needed."""
        return _CHECKED.get(raw) or checked_name(self, raw, join_key(where, field))


# What `pip list` (and so drift-guard's view of the environment) never shows: a lock that pins
# one of them is not to be found missing.
HIDDEN = frozenset({"python", "wsgiref", "argparse"})

_NAME = lazy(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])\Z")


_CHECKED: Dict[str, str] = {}


def checked_name(doc: Doc, raw: str, key: str) -> str:
    """`raw` canonicalised, when it is a valid PEP 508 name; else an error naming `key`."""
    known = _CHECKED.get(raw)
    if known is not None:  # a lock names each package many times (entry, edges)
        return known
    if not _NAME.match(raw):
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise doc.error(key, f"{shown!r} is not a valid package name")
    name = _CHECKED[raw] = canonical(raw)
    return name


def _tuple(types: _Types) -> Tuple[Type[Any], ...]:
    return types if isinstance(types, tuple) else (types,)


_BARE_KEY = lazy(r"[A-Za-z0-9_-]+\Z")


def join_key(where: str, field: str) -> str:
    """`where.field`, quoting a field that is not a bare TOML key (`default."zope.interface"`)."""
    # [A-Za-z0-9_-]+ without the pattern: ASCII letters and digits once `-` and `_` are one
    if not (field.isascii() and field.replace("-", "a").replace("_", "a").isalnum()
            ) and not _BARE_KEY.match(field):
        import json

        # escaped, so that a key is always on one line; cut short, as it may be anything
        field = json.dumps(field if len(field) <= 60 else field[:60] + "...")
    return f"{where}.{field}" if where else field


def _read_text(path: str, hint: str) -> str:
    """The file as text: a regular file only, bounded (drift_guard._io), UTF-8."""
    from drift_guard._io import read_bytes

    data = read_bytes(path, what="lock file" if "lock" in hint else "file")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DriftGuardError(f"not valid UTF-8 ({hint})", path=path, line=line) from None


def load_toml(path: str, hint: str,
              keep: Optional[Mapping[Tuple[Tuple[str, ...], str], FrozenSet[str]]] = None
              ) -> Doc:
    """Parse a TOML file (tomllib, or tomli before Python 3.11).

    `keep`: values of which the reader reads only some fields (see _fasttoml.loads); they may
    come with the other fields left out."""
    text = _read_text(path, hint)
    from drift_guard.readers import _fasttoml

    data = _fasttoml.loads(text, keep)
    if data is not None:
        return Doc(path, data, text, hint)
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise DriftGuardError(f"invalid TOML: nested too deeply ({hint})", path=path) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
        found = _TOML_LINE.search(message)
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        message = re.sub(r"\s*\(at line \d+, column \d+\)$", "", message)
        message = re.sub(r"\s*\(at end of document\)$", "", message)
        raise DriftGuardError(f"invalid TOML: {message} ({hint})", path=path, line=line) from None
    except ValueError:  # an integer of more digits than Python converts
        raise DriftGuardError(f"invalid TOML: a number too large ({hint})", path=path) from None
    return Doc(path, data, text, hint)


def load_json(path: str, hint: str) -> Doc:
    """Parse a JSON file whose top level must be an object."""
    import json

    text = _read_text(path, hint)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DriftGuardError(f"invalid JSON: {exc.msg} ({hint})", path=path,
                              line=exc.lineno) from None
    except RecursionError:
        raise DriftGuardError(f"invalid JSON: nested too deeply ({hint})", path=path) from None
    except ValueError:  # an integer of more digits than Python converts
        raise DriftGuardError(f"invalid JSON: a number too large ({hint})", path=path) from None
    doc = Doc(path, {}, text, hint, json=True)
    doc.data = doc.expect(data, dict, "")
    return doc


# ------------------------------------------------------------------------------ markers

_MARKERS: Dict[str, Marker] = {}
# Markers known to be valid: a lock repeats a few on thousands of entries.
_VALID_MARKERS: Set[str] = set()


def check_marker(text: str, doc: Doc, key: str) -> None:
    """An error naming `key` unless `text` is a PEP 508 marker. The markers written most
    often are recognised without importing packaging (what `normalize_marker` reads,
    packaging reads too); the others are parsed."""
    from drift_guard.requires import normalize_marker

    if normalize_marker(text) is None:
        parse_marker(text, doc, key)
    _VALID_MARKERS.add(text)


def parse_marker(text: str, doc: Doc, key: str) -> Marker:
    marker = _MARKERS.get(text)
    if marker is None:
        from packaging.markers import InvalidMarker, Marker

        try:
            marker = Marker(text)
        except InvalidMarker as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            raise doc.error(key, f"invalid marker {text!r}: {first}") from None
        _MARKERS[text] = marker
    return marker


def marker_holds(doc: Doc, text: Optional[str], key: str, env: Mapping[str, str],
                 extras: Iterable[str] = ()) -> bool:
    """Whether a PEP 508 marker holds in the target `env`, with any one of `extras` active
    (`extra == "x"` is true when "x" is among them; also tried with no extra at all)."""
    if not text:
        return True
    extras = tuple(extras)
    known = _HOLDS.get((environment_key(env), text, extras))
    if known is not None:
        return known
    if not extras:
        # The common markers, decided without packaging (which would decide them alike,
        # without an error).
        from drift_guard.requires import judge_marker

        judged = judge_marker(text, env)
        if judged is not None:
            _HOLDS[(environment_key(env), text, extras)] = judged
            return judged
    marker = parse_marker(text, doc, key)
    base = dict(env)
    result = False
    for extra in ("", *extras):
        base["extra"] = extra
        if _evaluate(marker, base, doc, key):
            result = True
            break
    _HOLDS[(environment_key(env), text, extras)] = result
    return result


# Whether a marker holds, by (environment, marker text, extras): a lock repeats the same few
# markers on thousands of entries. Only answers are kept; a marker that cannot be evaluated
# raises again at each entry, naming that entry.
_HOLDS: Dict[Tuple[Any, ...], bool] = {}


def lock_marker_holds(doc: Doc, text: Optional[str], key: str, env: Mapping[str, str],
                      extras: AbstractSet[str], groups: AbstractSet[str]) -> bool:
    """A PEP 751 marker: `extras` and `dependency_groups` are sets ("lock_file" context).

    packaging before 25 knows neither variable: there, `'x' in extras` and
    `'x' in dependency_groups` are decided here and the rest is left to packaging.
    """
    if not text:
        return True
    if not _lock_context_supported():
        if re.search(r"\bextra\b", re.sub(r"'[^']*'|\"[^\"]*\"", "", text)):
            raise doc.error(key, f"marker {text!r} uses `extra`, which a lock file's markers "
                                 "cannot use (`'name' in extras` can)")
        return _evaluate(parse_marker(decide_set_tests(text, extras, groups), doc, key),
                         dict(env), doc, key)
    full: Dict[str, Any] = dict(env)
    full["extras"] = frozenset(extras)
    full["dependency_groups"] = frozenset(groups)
    return _evaluate(parse_marker(text, doc, key), full, doc, key, context="lock_file")


_ANY_GROUP_TEST = lazy(
    r"""(['"])[^'"]*\1\s+(?:not\s+)?in\s+dependency_groups\b|"""
    r"""\bdependency_groups\s+(?:not\s+)?in\s+(['"])[^'"]*\2""")


def without_group_tests(text: str) -> str:
    """`text` with every `'dev' in dependency_groups` test taken as true, as pipenv does
    before installing (its category has already chosen the package): pipenv writes such
    markers into pylock.toml and, from it, into Pipfile.lock."""
    if "dependency_groups" not in text:
        return text
    return _ANY_GROUP_TEST.sub("python_version >= '0'", text)


_SET_TEST = lazy(r"""(['"])([^'"]*)\1\s+((?:not\s+)?in)\s+(extras|dependency_groups)\b""")
_LOCK_SUPPORT: List[bool] = []


def decide_set_tests(text: str, extras: AbstractSet[str], groups: AbstractSet[str]) -> str:
    """`text` with each `'x' in extras` / `'x' in dependency_groups` replaced by a constant
    comparison, for packaging versions that cannot evaluate them."""

    def decide(m: re.Match[str]) -> str:
        values = extras if m.group(4) == "extras" else groups
        inside = canonical(m.group(2)) in values
        holds = inside if m.group(3) == "in" else not inside
        # packaging cannot compare two literals: a test every Python passes, or none does.
        return "python_version >= '0'" if holds else "python_version < '0'"

    return _SET_TEST.sub(decide, text)


def _lock_context_supported() -> bool:
    if not _LOCK_SUPPORT:
        from packaging.markers import Marker

        try:
            Marker("'a' in dependency_groups").evaluate(
                {"dependency_groups": frozenset()}, "lock_file")  # type: ignore[call-arg, dict-item, unused-ignore]
            _LOCK_SUPPORT.append(True)
        except Exception:  # InvalidMarker, TypeError or UndefinedEnvironmentName: no support
            _LOCK_SUPPORT.append(False)
    return _LOCK_SUPPORT[0]


def _evaluate(marker: Marker, env: Mapping[str, Any], doc: Doc, key: str,
              context: Optional[str] = None) -> bool:
    from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

    try:
        if context is None:
            return bool(marker.evaluate(env))  # type: ignore[arg-type, unused-ignore]
        return bool(marker.evaluate(env, context))  # type: ignore[arg-type, call-arg, unused-ignore]
    except (UndefinedEnvironmentName, KeyError) as exc:
        # packaging 26 raises a bare KeyError for `extra` in the "lock_file" context.
        raise doc.error(key, f"marker {str(marker)!r} uses a name not defined here: "
                             f"{exc}") from None
    except UndefinedComparison as exc:
        raise doc.error(key, f"marker {str(marker)!r} cannot be evaluated: {exc}") from None


# ------------------------------------------------------------------------------- groups

def select_groups(available: Sequence[str], default: Iterable[str],
                  ctx: ReadContext, aliases: Optional[Mapping[str, str]] = None) -> List[str]:
    """The groups expected installed, as Poetry's `--with/--without/--only` choose them.

    `available` lists every group the file knows (in its order); `default` those its tool
    installs by default. `--only` replaces the default set; `--with` adds (optional groups
    included); `--without` removes. Names the file does not know are ignored: one option
    applies to every file checked. `aliases` maps a user's name to the file's (Pipfile.lock:
    "dev" -> "develop").
    """
    known = {canonical(g): g for g in available}

    def resolve(names: Iterable[str]) -> List[str]:
        out = []
        for name in names:
            c = canonical(name)
            if c not in known and aliases and c in aliases:
                c = aliases[c]
            if c in known:
                out.append(known[c])
        return out

    if ctx.only_groups:
        chosen = set(resolve(ctx.only_groups))
    else:
        chosen = set(resolve(default)) | set(resolve(ctx.with_groups))
    chosen -= set(resolve(ctx.without_groups))
    return [g for g in available if g in chosen]


# -------------------------------------------------------------------------------- lines

# The line breaks of str.splitlines() other than \n.
ODD_BREAK_CHARS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
# A line's start (blanks as str.lstrip() takes them): a table header, or an entry's name.
_ENTRY_LINE = lazy(r"[^\S\n]*(\[|name[^\S\n]*=)?")


def entry_lines(text: str, header: str, count: int) -> List[Optional[int]]:
    """1-based line of each `[[header]]` entry's `name = ...` line (its header's line when it
    has none), or all None when the file does not use one header per entry."""
    if not any(c in text for c in ODD_BREAK_CHARS):  # one fast scan each, no pattern
        return _entry_lines(text, header, count)
    return entry_lines_by_splitting(text, header, count)


def entry_lines_by_splitting(text: str, header: str, count: int) -> List[Optional[int]]:
    """`entry_lines` with str.splitlines(): every line break Python knows."""
    lines = text.splitlines()
    marker = f"[[{header}]]"
    starts = [i for i, line in enumerate(lines) if line.strip() == marker]
    if len(starts) != count:
        return [None] * count
    result: List[Optional[int]] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        found = start
        for i in range(start + 1, end):
            stripped = lines[i].lstrip()
            if stripped.startswith("["):
                break
            if re.match(r"name\s*=", stripped):
                found = i
                break
        result.append(found + 1)
    return result


def _entry_lines(text: str, header: str, count: int) -> List[Optional[int]]:
    """entry_lines() for a text whose only line break is \n, without splitting it."""
    needle = f"[[{header}]]"
    starts = []
    pos = text.find(needle)
    while pos >= 0:  # a literal search, then the line around it checked: it is the header alone
        begin = text.rfind("\n", 0, pos) + 1
        stop = text.find("\n", pos)
        if not text[begin:pos].strip() and not text[pos + len(needle):stop if stop >= 0 else None
                                                    ].strip():
            starts.append(begin)
        pos = text.find(needle, pos + len(needle))
    if len(starts) != count:
        return [None] * count
    result: List[Optional[int]] = []
    line, last = 1, 0
    for n, start in enumerate(starts):
        line += text.count("\n", last, start)
        last = start
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        found, row = line, line
        pos = text.find("\n", start, end)
        if pos != -1 and text.startswith("name = ", pos + 1):
            result.append(line + 1)  # the commonest entry: its name right below the header
            continue
        while pos != -1:
            row += 1
            pos += 1
            m = _ENTRY_LINE.match(text, pos)
            if m.group(1) == "[":
                break
            if m.group(1):
                found = row
                break
            pos = text.find("\n", pos, end)
        result.append(found)
    return result


def versions_within(entries: Sequence[Locked], indexes: Sequence[int],
                    specifier: str) -> List[int]:
    """Of `indexes` into `entries`, those whose locked version `specifier` allows
    (pre-releases too); none when the specifier or a version is not PEP 440."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return []
    result = []
    for i in indexes:
        try:
            if spec.contains(Version(entries[i].version or ""), prereleases=True):
                result.append(i)
        except InvalidVersion:
            continue
    return result


# What urllib.parse.quote never escapes (with its default safe="/").
_URL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def file_url(path: str) -> str:
    """A local path as the `file://` URL pip records for it (PEP 610)."""
    absolute = os.path.abspath(path)
    if os.name == "posix" and sys.version_info < (3, 14):
        # What urllib.request.pathname2url is on POSIX up to 3.13, without importing
        # urllib.request (http.client, email, ssl...: some 25 ms on every uv.lock check):
        # urllib.parse.quote, which leaves a path of these characters as it is.
        if absolute.isascii() and not set(absolute).difference(_URL_SAFE):
            return "file://" + absolute
        from urllib.parse import quote

        return "file://" + quote(absolute)
    from urllib.request import pathname2url

    return "file://" + pathname2url(absolute)


def local_url(base_dir: str, path: str) -> str:
    """A path written in a lock file (relative to the lock's directory) as a file URL."""
    if path.startswith("file:"):
        return path
    return file_url(os.path.join(base_dir, path))


# ------------------------------------------------------------------------- lock entries

class Locked(NamedTuple):
    """One package entry of a lock file, before selection."""

    name: str
    version: Optional[str]
    key: str
    line: Optional[int] = None
    url: Optional[str] = None
    editable: bool = False
    hashes: bool = False
    group: Optional[str] = None
    extras: Tuple[str, ...] = ()


def one_per_declaration(requirements: Sequence[Requirement]) -> Tuple[Requirement, ...]:
    """The requirements with repeats (same name, specifier, marker, URL and extras, declared
    in several groups) merged into one, standing for a group that expects it, if any: one
    drift should make one finding, not one per group."""
    result: List[Requirement] = []
    seen: Dict[Tuple[Any, ...], int] = {}
    for req in requirements:
        same = (req.name, req.specifier, req.marker, req.url, req.extras)
        if same not in seen:
            seen[same] = len(result)
            result.append(req)
        elif req.expected and not result[seen[same]].expected:
            result[seen[same]] = req
    return tuple(result)


def lock_source(path: str, format: str, requirements: Tuple[Requirement, ...],
                project: Optional[str], groups: Iterable[str],
                files: Optional[Tuple[str, ...]] = None) -> Source:
    """The `Source` a lock file declares: every entry pinned (frozen), the groups it read."""
    return Source(path=path, format=format, requirements=requirements, frozen=True,
                  project=project, groups=tuple(groups),
                  files=files if files is not None else (path,))


def lock_requirements(source: str, entries: Sequence[Locked], selected: AbstractSet[int],
                      reachable: AbstractSet[int],
                      labels: Optional[Mapping[int, str]] = None,
                      skip: AbstractSet[str] = frozenset()) -> Tuple[Requirement, ...]:
    """The requirements of a lock: every entry is declared; the `selected` ones (indexes into
    `entries`) are expected installed.

    Of a name with no selected entry, one requirement stands for all its entries (a forked
    resolution repeats a name): pinned when those `reachable` for the target with every group
    and extra (else all of them) agree on one version, unpinned otherwise -- so a package of an
    unselected group is never missing, and only judged against a version that could apply.
    """
    labels = labels or {}
    by_name: Dict[str, List[int]] = {}
    for i, entry in enumerate(entries):
        if entry.name not in skip:
            by_name.setdefault(entry.name, []).append(i)

    def make(i: int, expected: bool, version: Optional[str]) -> Requirement:
        entry = entries[i]
        spec = "==" + version if version else ""
        text = entry.name + (f"[{','.join(entry.extras)}]" if entry.extras else "")
        text += f" @ {entry.url}" if entry.url else spec
        # (by position: a lock makes thousands; the fields in Requirement's order)
        return Requirement(entry.name, spec, source, entry.line, None, entry.key, None, (),
                           entry.url, entry.editable, entry.hashes, expected,
                           labels.get(i, entry.group), text)

    result: List[Requirement] = []
    for name, indexes in by_name.items():
        chosen = [i for i in indexes if i in selected and name not in HIDDEN]
        if chosen:
            result.extend(make(i, True, entries[i].version) for i in chosen)
            continue
        candidates = [i for i in indexes if i in reachable] or indexes
        versions = {entries[i].version for i in candidates}
        version = versions.pop() if len(versions) == 1 else None
        result.append(make(candidates[0], False, version))
    return tuple(result)
