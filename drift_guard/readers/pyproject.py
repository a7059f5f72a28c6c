"""Read the top-level dependencies a pyproject.toml declares.

Read: `[project] dependencies` and `optional-dependencies`, PEP 735 `[dependency-groups]`
(with `{include-group = ...}`), Poetry's `[tool.poetry.dependencies]`, `dev-dependencies`,
`[tool.poetry.group.<g>]` (`optional = true`) and `[tool.poetry.extras]`, uv's legacy
`[tool.uv] dev-dependencies`, and `[tool.uv.sources]` for where a package comes from.

Poetry's own constraint syntax (`^1.2`, `~1.2`, `1.2.*`, `>=1,<2 || >=3`) is translated to
PEP 440 here; `poetry_lock` uses the same translation. With `[project] dependencies` present,
Poetry 2 only uses `[tool.poetry.dependencies]` to say where a package comes from, so then
those entries add no dependency of their own.
"""

from __future__ import annotations

import os
import re

from drift_guard._names import canonical, canonical_version, valid_name
from drift_guard.errors import DriftGuardError
from drift_guard.models import ReadContext, Requirement, Source
from drift_guard.readers._toml import (
    Doc,
    join_key,
    local_url,
    one_per_declaration,
    select_groups,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Set, Tuple
else:
    from drift_guard._record import NamedTuple

FORMAT = "pyproject.toml"
HINT = "fix pyproject.toml"
MAIN = "main"

# Python (3.11+) refuses to turn more digits than this into an int: such a version cannot be
# compared, on any Python.
_DIGITS_LIMIT = 4300
_LONG_NUMBER = re.compile(r"[0-9]{%d}" % (_DIGITS_LIMIT + 1))
_TOML_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$")
# `name==1.2.3` or `name (==1.2.3)` (as Poetry writes them), read without `packaging` when the
# version is in normal form: packaging gives the same name, specifier "==1.2.3", no marker.
_SIMPLE_PIN = re.compile(
    r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?: \(==([^()\s]+)\)|==(\S+))\Z")


class Dep(NamedTuple):
    """One declared dependency of the project, before selection."""

    name: str
    specifier: str
    marker: Optional[str]
    extras: Tuple[str, ...]
    group: str
    """"main", a dependency group's name, or (with `extra` set) the extra's name."""
    key: str
    text: str
    extra: Optional[str] = None
    """The project extra that brings it in (`[project.optional-dependencies]`)."""
    optional: bool = False
    """Poetry `optional = true`: installed only through an extra of `[tool.poetry.extras]`."""
    url: Optional[str] = None
    editable: bool = False


class Project(NamedTuple):
    """Everything a pyproject.toml says about the project's dependencies."""

    name: Optional[str]
    deps: Tuple[Dep, ...]
    groups: Tuple[str, ...]
    """Every group, "main" first, in the file's order."""
    default_groups: Tuple[str, ...]
    """The groups the project's tool installs by default ("main" included)."""
    extras: Mapping[str, Tuple[str, ...]]
    """Poetry's `[tool.poetry.extras]`: extra -> names of optional dependencies it selects."""
    optional_groups: Tuple[str, ...] = ()


def read(path: str, ctx: ReadContext) -> Source:
    """What pyproject.toml declares, selected as its tool installs it (top-level: not frozen).

    Dependencies of unselected groups and extras are declared but not expected.
    """
    doc = load(path)
    project = parse(doc)
    _check_markers(doc, project, ctx.markers)
    groups = select_groups(project.groups, project.default_groups, ctx)
    extras = selected_extras(project, ctx.extras)
    poetry_selected = {n for e in extras for n in project.extras.get(e, ())}
    requirements: List[Requirement] = []
    for dep in project.deps:
        if project.name and dep.name == project.name:
            continue
        if dep.extra is not None:
            expected = dep.extra in extras
        else:
            expected = dep.group in groups and (not dep.optional or dep.name in poetry_selected)
        req = Requirement(
            name=dep.name,
            specifier=dep.specifier,
            source=path,
            key=dep.key,
            marker=dep.marker,
            extras=dep.extras,
            url=dep.url,
            editable=dep.editable,
            expected=expected,
            group=dep.group,
            text=dep.text,
        )
        requirements.append(req)
    return Source(
        path=path,
        format=FORMAT,
        # The same requirement in two groups (an included group, say) is one declaration.
        requirements=one_per_declaration(requirements),
        frozen=False,
        project=project.name,
        groups=tuple(groups),
        files=(path,),
    )


def selected_extras(project: Project, chosen: Tuple[str, ...]) -> Set[str]:
    """The extras selected, plus those a selected extra pulls in through the project itself
    (`all = ["proj[a,b]"]`)."""
    extras = {canonical(e) for e in chosen}
    todo = list(extras)
    while todo:
        extra = todo.pop()
        for dep in project.deps:
            if dep.extra == extra and dep.name == project.name:
                for e in dep.extras:
                    if e not in extras:
                        extras.add(e)
                        todo.append(e)
    return extras


def project_name(path: str) -> Optional[str]:
    """The canonical name of the project pyproject.toml describes (`[project].name`, else
    `[tool.poetry].name`); None when the file or the name is absent."""
    if not os.path.lexists(path):
        return None
    doc = load(path)
    return _name(doc)


def read_tool_config(path: str) -> Dict[str, Any]:
    """The `[tool.drift-guard]` table of pyproject.toml (`[tool.drift_guard]` also accepted);
    an empty dict when the file or the table is absent."""
    if not os.path.lexists(path):
        return {}
    doc = load(path)
    tool = doc.table(doc.data, "tool", "")
    for spelling in ("drift-guard", "drift_guard"):
        if spelling in tool:
            return dict(doc.table(tool, spelling, "tool"))
    return {}


# ------------------------------------------------------------------------------- loading

def load(path: str) -> Doc:
    """pyproject.toml, read as a bounded regular file and parsed; every failure (a FIFO, a
    special file, bytes that are not UTF-8, invalid or too deeply nested TOML) is one
    DriftGuardError naming the file, never its content."""
    from drift_guard._io import read_text

    text = read_text(path, what="pyproject.toml", shown=path)
    try:
        import tomllib  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[import-not-found,no-redef,unused-ignore]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid TOML"
        found = _TOML_AT.search(first)
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        first = _TOML_AT.sub("", first)
        first = re.sub(r"\s*\(at end of document\)$", "", first)
        raise DriftGuardError(f"invalid TOML: {first} ({HINT})", path=path, line=line) from None
    except RecursionError:
        raise DriftGuardError(f"invalid TOML: nested too deeply ({HINT})", path=path) from None
    return Doc(path, data, text, HINT)


def _shown(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _key(where: str, field: str) -> str:
    """`join_key`, with a field that holds control characters or is long written safely."""
    if not field.isprintable() or len(field) > 60:
        field = field[:60].encode("unicode_escape").decode("ascii") + (
            "..." if len(field) > 60 else "")
    return join_key(where, field)


def _valid_name(doc: Doc, name: str, where: str, what: str = "name",
                field: Optional[str] = None) -> str:
    """`name` if it is a PEP 508 name, else an error naming `where` (the key of the table
    that holds it) or `where.field`."""
    if not valid_name(name):
        if field is not None and field.startswith("["):
            key = where + field
        else:
            key = _key(where, name if field is None else field)
        raise doc.error(key, f"{_shown(name)} is not a valid {what}: letters, digits, '.', "
                             "'-' and '_', starting and ending with a letter or digit")
    return name


def _check_numbers(doc: Doc, dep: Dep) -> None:
    for what, text in (("version", dep.specifier), ("marker", dep.marker or "")):
        if _LONG_NUMBER.search(text):
            raise doc.error(dep.key, f"the {what} holds a number of more than {_DIGITS_LIMIT} "
                                     "digits, which cannot be compared")


def _check_markers(doc: Doc, project: Project, markers: Mapping[str, str]) -> None:
    """Every marker must evaluate in the target (packaging raises on `python_version ~= '3'`)."""
    from drift_guard.markers import check

    for dep in project.deps:
        if dep.marker:
            check(dep.marker, markers, path=doc.path, key=dep.key)


# ------------------------------------------------------------------------------- parsing

def _name(doc: Doc) -> Optional[str]:
    name = doc.string(doc.table(doc.data, "project", ""), "name", "project")
    where = "project"
    if name is None:
        poetry = doc.table(doc.table(doc.data, "tool", ""), "poetry", "tool")
        name = doc.string(poetry, "name", "tool.poetry")
        where = "tool.poetry"
    if name:
        _valid_name(doc, name, where, "project name", field="name")
    return canonical(name) if name else None


def parse(doc: Doc) -> Project:
    """Every dependency pyproject.toml declares, with its group, extra and marker."""
    name = _name(doc)
    base = os.path.dirname(os.path.abspath(doc.path))
    data = doc.data
    project = doc.table(data, "project", "")
    tool = doc.table(data, "tool", "")
    poetry = doc.table(tool, "poetry", "tool")
    uv = doc.table(tool, "uv", "tool")
    sources = _uv_sources(doc, uv, base)

    deps: List[Dep] = []
    groups: List[str] = [MAIN]
    default: List[str] = [MAIN]
    optional_groups: List[str] = []

    def add_group(group: str, is_default: bool) -> None:
        if group not in groups:
            groups.append(group)
        if is_default and group not in default:
            default.append(group)

    dynamic = doc.strings(project, "dynamic", "project")
    pep621_deps = "dependencies" in project
    for i, text in enumerate(doc.strings(project, "dependencies", "project")):
        deps.append(_pep508(doc, text, f"project.dependencies[{i}]", MAIN, None, sources))
    for extra, texts in doc.table(project, "optional-dependencies", "project").items():
        _valid_name(doc, extra, "project.optional-dependencies", "extra name")
        where = join_key("project.optional-dependencies", extra)
        doc.expect(texts, list, where)
        for i, text in enumerate(texts):
            doc.expect(text, str, f"{where}[{i}]")
            dep = _pep508(doc, text, f"{where}[{i}]", canonical(extra), canonical(extra), sources)
            deps.append(dep)

    # Poetry: with [project] dependencies declared, [tool.poetry.dependencies] only enriches.
    poetry_deps = _poetry_table(doc, poetry, "dependencies", "tool.poetry", MAIN, base)
    if pep621_deps and "dependencies" not in dynamic:
        by_name = {d.name: d for d in poetry_deps}
        deps = [_enrich(d, by_name.get(d.name)) for d in deps]
    else:
        deps.extend(poetry_deps)
    if "dev-dependencies" in poetry:
        add_group("dev", True)
        deps.extend(_poetry_table(doc, poetry, "dev-dependencies", "tool.poetry", "dev", base))
    for group, table in doc.table(poetry, "group", "tool.poetry").items():
        _valid_name(doc, group, "tool.poetry.group", "group name")
        where = join_key("tool.poetry.group", group)
        doc.expect(table, dict, where)
        optional = doc.get(table, "optional", bool, where, default=False)
        g = canonical(group)
        add_group(g, not optional)
        if optional:
            optional_groups.append(g)
        deps.extend(_poetry_table(doc, table, "dependencies", where, g, base))
    extras: Dict[str, Tuple[str, ...]] = {}
    for extra, names in doc.table(poetry, "extras", "tool.poetry").items():
        _valid_name(doc, extra, "tool.poetry.extras", "extra name")
        where = join_key("tool.poetry.extras", extra)
        doc.expect(names, list, where)
        for i, n in enumerate(names):
            doc.expect(n, str, f"{where}[{i}]")
            _valid_name(doc, n, where, field=f"[{i}]")
        extras[canonical(extra)] = tuple(canonical(n) for n in names)

    # PEP 735 groups; uv installs `dev` by default, or its `default-groups`.
    pep735 = _dependency_groups(doc, sources)
    uv_dev = doc.strings(uv, "dev-dependencies", "tool.uv")
    uv_default = doc.get(uv, "default-groups", (list, str), "tool.uv", default=["dev"])
    if isinstance(uv_default, str):
        if uv_default != "all":
            raise doc.error("tool.uv.default-groups", 'expected an array of group names or "all"')
        uv_default = list(pep735) + (["dev"] if uv_dev else [])
    else:
        for i, g in enumerate(uv_default):
            doc.expect(g, str, f"tool.uv.default-groups[{i}]")
    uv_default = [canonical(g) for g in uv_default]
    for group, group_deps in pep735.items():
        add_group(group, group in uv_default)
        deps.extend(group_deps)
    if uv_dev:
        add_group("dev", "dev" in uv_default)
        for i, text in enumerate(uv_dev):
            deps.append(_pep508(doc, text, f"tool.uv.dev-dependencies[{i}]", "dev", None, sources))

    return Project(name, tuple(deps), tuple(groups), tuple(default), extras,
                   tuple(optional_groups))


def _enrich(dep: Dep, poetry: Optional[Dep]) -> Dep:
    if poetry is None or dep.url:
        return dep
    return dep._replace(url=poetry.url, editable=poetry.editable)


def _pep508(doc: Doc, text: str, key: str, group: str, extra: Optional[str],
            sources: Mapping[str, Tuple[Optional[str], bool]]) -> Dep:
    pin = _SIMPLE_PIN.match(text)
    if pin is not None and canonical_version(pin.group(2) or pin.group(3)):
        name = canonical(pin.group(1))
        url, editable = sources.get(name, (None, False))
        dep = Dep(name=name, specifier="==" + (pin.group(2) or pin.group(3)), marker=None,
                  extras=(), group=group, key=key, text=text, extra=extra, url=url,
                  editable=editable)
        _check_numbers(doc, dep)
        return dep
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as Parsed

    try:
        req = Parsed(text)
    except (InvalidRequirement, ValueError, RecursionError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        if isinstance(exc, RecursionError):
            first = "nested too deeply"
        first = first if len(first) <= 120 else first[:120] + "..."
        raise doc.error(key, f"invalid requirement {_shown(text)}: {first}") from None
    name = canonical(req.name)
    url, editable = req.url, False
    if url is None and name in sources:
        url, editable = sources[name]
    dep = Dep(
        name=name,
        specifier=str(req.specifier),
        marker=str(req.marker) if req.marker is not None else None,
        extras=tuple(sorted(canonical(e) for e in req.extras)),
        group=group,
        key=key,
        text=text,
        extra=extra,
        url=url,
        editable=editable,
    )
    _check_numbers(doc, dep)
    return dep


def _dependency_groups(doc: Doc, sources: Mapping[str, Tuple[Optional[str], bool]]
                       ) -> Dict[str, List[Dep]]:
    """PEP 735 groups, includes expanded; an include cycle or unknown group is an error."""
    table = doc.table(doc.data, "dependency-groups", "")
    raw: Dict[str, Tuple[str, List[Any]]] = {}
    for group, entries in table.items():
        _valid_name(doc, group, "dependency-groups", "group name")
        where = join_key("dependency-groups", group)
        doc.expect(entries, list, where)
        g = canonical(group)
        if g in raw:
            raise doc.error(where, f"group {_shown(group)} is declared twice (as {_shown(raw[g][0])}); "
                                   "merge them")
        raw[g] = (group, entries)

    result: Dict[str, List[Dep]] = {}

    def expand(g: str, chain: Tuple[str, ...]) -> List[Dep]:
        if g in result:
            return result[g]
        spelled, entries = raw[g]
        where = join_key("dependency-groups", spelled)
        deps: List[Dep] = []
        for i, entry in enumerate(entries):
            key = f"{where}[{i}]"
            if isinstance(entry, str):
                deps.append(_pep508(doc, entry, key, g, None, sources))
                continue
            doc.expect(entry, (str, dict), key)
            if set(entry) != {"include-group"}:
                raise doc.error(key, "a table in a dependency group must be "
                                     "{ include-group = \"NAME\" } alone")
            target = doc.expect(entry["include-group"], str, f"{key}.include-group")
            t = canonical(target)
            if t not in raw:
                raise doc.error(f"{key}.include-group", f"no dependency group {_shown(target)}")
            if t in chain:
                cycle = " -> ".join((*chain, t))
                raise doc.error(f"{key}.include-group", f"include cycle {cycle}; remove one "
                                                        "include-group")
            deps.extend(d._replace(group=g) for d in expand(t, (*chain, t)))
        result[g] = deps
        return deps

    for g in raw:
        expand(g, (g,))
    return {g: result[g] for g in raw}


def _uv_sources(doc: Doc, uv: Mapping[str, Any], base: str
                ) -> Dict[str, Tuple[Optional[str], bool]]:
    """`[tool.uv.sources]`: name -> (URL or file URL, editable)."""
    result: Dict[str, Tuple[Optional[str], bool]] = {}
    for name, value in doc.table(uv, "sources", "tool.uv").items():
        _valid_name(doc, name, "tool.uv.sources")
        where = join_key("tool.uv.sources", name)
        if isinstance(value, list):
            if not value:
                continue
            value, where = value[0], f"{where}[0]"
        doc.expect(value, dict, where)
        url = _source_url(doc, value, where, base)
        editable = doc.get(value, "editable", bool, where, default=False)
        result[canonical(name)] = (url, editable)
    return result


def _source_url(doc: Doc, table: Mapping[str, Any], where: str, base: str) -> Optional[str]:
    """A direct reference from a Poetry dependency or uv source table, or None."""
    git = doc.string(table, "git", where)
    if git is not None:
        ref = next((doc.string(table, k, where) for k in ("rev", "tag", "branch")
                    if k in table), None)
        url = git if git.startswith("git+") else f"git+{git}"
        if ref:
            url += f"@{ref}"
        sub = doc.string(table, "subdirectory", where)
        return f"{url}#subdirectory={sub}" if sub else url
    path = doc.string(table, "path", where)
    if path is not None:
        return local_url(base, path)
    return doc.string(table, "url", where)


# ------------------------------------------------------------------------------ Poetry

def _poetry_table(doc: Doc, table: Mapping[str, Any], field: str, where: str, group: str,
                  base: str) -> List[Dep]:
    deps: List[Dep] = []
    for name, value in doc.table(table, field, where).items():
        if canonical(name) == "python":
            continue
        _valid_name(doc, name, join_key(where, field))
        key = join_key(join_key(where, field), name)
        values = value if isinstance(value, list) else [value]
        for i, v in enumerate(values):
            k = f"{key}[{i}]" if isinstance(value, list) else key
            deps.append(poetry_dep(doc, name, v, k, group, base))
    return deps


def poetry_dep(doc: Doc, name: str, value: Any, key: str, group: str, base: str) -> Dep:
    """One Poetry dependency: a constraint string or a table (version, python, markers,
    platform, extras, optional, path/develop, git, url)."""
    doc.expect(value, (str, dict), key)
    if isinstance(value, str):
        return Dep(canonical(name), poetry_specifier_at(doc, value, key), None, (), group, key,
                   f"{name} {value}".strip())
    version = doc.string(value, "version", key) or ""
    specifier = poetry_specifier_at(doc, version, join_key(key, "version"))
    markers = []
    python = doc.string(value, "python", key)
    if python:
        markers.append(poetry_python_marker_at(doc, python, join_key(key, "python")))
    platform = doc.string(value, "platform", key)
    if platform:
        markers.append(f'sys_platform == "{platform}"')
    marker = doc.string(value, "markers", key)
    if marker:
        doc.marker(marker, join_key(key, "markers"))
        markers.append(marker)
    markers = [m for m in markers if m]
    combined = None
    if len(markers) == 1:
        combined = markers[0]
    elif markers:
        combined = " and ".join(f"({m})" for m in markers)
    extras = doc.strings(value, "extras", key)
    for i, e in enumerate(extras):
        _valid_name(doc, e, join_key(key, "extras"), "extra name", field=f"[{i}]")
    url = _source_url(doc, value, key, base)
    editable = bool(doc.get(value, "develop", bool, key, default=False)) and url is not None
    optional = doc.get(value, "optional", bool, key, default=False)
    text = f"{name} {version}".strip() if not url else f"{name} @ {url}"
    return Dep(canonical(name), specifier, combined, tuple(sorted(canonical(e) for e in extras)),
               group, key, text, None, bool(optional), url, editable)


_OP_SPACE = re.compile(r"(===|==|!=|<=|>=|~=|<|>|=|\^|~)\s+")
_CLAUSE = re.compile(r"^(===|==|!=|<=|>=|~=|<|>|=|\^|~)?\s*(.*)$")
_RELEASE = re.compile(r"^[vV]?(\d+(?:\.\d+)*)(.*)$")


def _clauses(text: str) -> List[List[Tuple[str, str]]]:
    """A Poetry constraint as alternatives (`||`) of clauses (operator, version)."""
    result = []
    for alternative in re.split(r"\|\|?", text):
        alternative = _OP_SPACE.sub(r"\1", alternative.strip())
        clauses = []
        for part in re.split(r"[,\s]+", alternative):
            if not part or part == "*":
                continue
            m = _CLAUSE.match(part)
            op, version = (m.group(1) or "", m.group(2)) if m else ("", part)
            if not version:
                raise ValueError(f"{_shown(part)} has no version")
            clauses.append((op, version))
        result.append(clauses)
    return result


def _bump(version: str, index: int) -> str:
    m = _RELEASE.match(version)
    if not m:
        raise ValueError(f"{_shown(version)} is not a version")
    parts = [int(p) for p in m.group(1).split(".")]
    while len(parts) <= index:
        parts.append(0)
    return ".".join(str(p) for p in [*parts[:index], parts[index] + 1])


def _pep440(op: str, version: str) -> List[Tuple[str, str]]:
    from drift_guard.requires import is_release

    if _LONG_NUMBER.search(version):
        raise ValueError(f"a number of more than {_DIGITS_LIMIT} digits cannot be compared")
    plain = version[:-2] if version.endswith(".*") else version
    if not is_release(plain):  # a release number is a version: packaging is not needed
        from packaging.version import InvalidVersion, Version

        try:
            Version(plain)
        except (InvalidVersion, ValueError):
            raise ValueError(f"{_shown(version)} is not a version") from None
    if op == "^":
        m = _RELEASE.match(version)
        if not m:
            raise ValueError(f"{_shown(version)} is not a version")
        parts = [int(p) for p in m.group(1).split(".")]
        nonzero = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
        return [(">=", version), ("<", _bump(version, nonzero))]
    if op == "~":
        m = _RELEASE.match(version)
        if not m:
            raise ValueError(f"{_shown(version)} is not a version")
        index = 0 if "." not in m.group(1) else 1
        return [(">=", version), ("<", _bump(version, index))]
    if op in ("", "="):
        return [("==", version)]
    return [(op, version)]


_SPECIFIERS: Dict[str, Optional[str]] = {}


def poetry_specifier(text: str) -> Optional[str]:
    """A Poetry version constraint as a PEP 440 specifier ("" for any version); None when it
    is a union (`||`), which PEP 440 cannot express. ValueError when it is not a constraint."""
    if text in _SPECIFIERS:  # a lock repeats the same few constraints thousands of times
        return _SPECIFIERS[text]
    spec = _SPECIFIERS[text] = _poetry_specifier(text)
    return spec


def _poetry_specifier(text: str) -> Optional[str]:
    alternatives = _clauses(text)
    if len(alternatives) > 1:
        return None
    clauses = [c for op, v in alternatives[0] for c in _pep440(op, v)]
    spec = ",".join(op + v for op, v in clauses)
    if spec and not all(_plain_clause(op, v) for op, v in clauses):
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            raise ValueError(f"{_shown(text)} is not a version constraint") from None
    return spec


def _plain_clause(op: str, version: str) -> bool:
    """A clause packaging's SpecifierSet takes, told without importing it: a comparison with a
    release number (`==`/`!=` also with `.*`; `~=` with two parts or more)."""
    from drift_guard.requires import is_release

    if op in ("==", "!=") and version.endswith(".*"):
        version = version[:-2]
    elif op == "~=" and "." not in version:
        return False
    elif op not in ("==", "!=", ">=", "<=", ">", "<", "~="):
        return False
    return is_release(version)


def poetry_python_marker(text: str) -> Optional[str]:
    """A Poetry `python = "..."` constraint as a marker; None for any Python."""
    alternatives = []
    for clauses in _clauses(text):
        parts = []
        for op, version in clauses:
            for o, v in _pep440(op, version):
                release = _RELEASE.match(v)
                variable = ("python_version" if release and release.group(1).count(".") <= 1
                            and not release.group(2) else "python_full_version")
                parts.append(f'{variable} {o} "{v}"')
        if not parts:
            return None
        alternatives.append(" and ".join(parts))
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({a})" for a in alternatives)


def poetry_specifier_at(doc: Doc, text: str, key: str) -> str:
    """`poetry_specifier`, with errors naming `key`; a union becomes "" (any version)."""
    try:
        spec = poetry_specifier(text)
    except ValueError as exc:
        raise doc.error(key, f"invalid version constraint: {exc}") from None
    return spec or ""


def poetry_python_marker_at(doc: Doc, text: str, key: str) -> Optional[str]:
    try:
        marker = poetry_python_marker(text)
    except ValueError as exc:
        raise doc.error(key, f"invalid Python constraint: {exc}") from None
    if marker:
        doc.marker(marker, key)
    return marker
