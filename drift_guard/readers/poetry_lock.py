"""Read poetry.lock (lock-version 1.0, 1.1, 2.0 and 2.1) as `poetry install` would use it.

- 2.1 (Poetry 2) says per package which `groups` need it and under which `markers` (one
  string, or a table per group; a group missing from the table has no marker): a package is
  installed when a selected group needs it and that group's marker holds.
- Before 2.1, packages carry no markers and, from Poetry 1.5 on, no `category` either: Poetry
  itself re-resolves from pyproject.toml. So does this reader: it walks the lock's dependency
  graph from the pyproject.toml beside the lock, following edges whose markers hold.

Which groups are optional (`[tool.poetry.group.<g>] optional = true`) is only in
pyproject.toml, read when it is there. Root extras select `optional = true` packages.
"""

from __future__ import annotations

import os

from drift_guard._names import canonical
from drift_guard.models import ReadContext, Source
from drift_guard.readers import pyproject
from drift_guard.readers._toml import (
    Doc,
    Locked,
    entry_lines,
    join_key,
    load_toml,
    local_url,
    lock_requirements,
    lock_source,
    marker_holds,
    select_groups,
    versions_within,
)
from drift_guard.requires import satisfies_fast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Dict,
        FrozenSet,
        List,
        Mapping,
        NamedTuple,
        Optional,
        Sequence,
        Set,
        Tuple,
    )
else:
    from drift_guard._record import NamedTuple

FORMAT = "poetry.lock"
HINT = "regenerate it with `poetry lock`"
MAIN = "main"


class Edge(NamedTuple):
    name: str
    specifier: Optional[str]
    """PEP 440; None for a union Poetry can write but PEP 440 cannot."""
    marker: Optional[str]
    extras: FrozenSet[str]
    optional: bool
    key: str


class Package(NamedTuple):
    locked: Locked
    optional: bool
    groups: Tuple[str, ...]
    markers: Any
    """None, a marker string, or {group: marker}."""
    edges: Tuple[Edge, ...]
    extras: Dict[str, FrozenSet[str]]
    """This package's own extras -> the names they add."""


def read(path: str, ctx: ReadContext) -> Source:
    """What poetry.lock locks; expected: what `poetry install` installs for the target
    (main and non-optional groups, changed by --with/--without/--only; extras by `extras`)."""
    doc = load_toml(path, HINT, keep=_KEEP)
    version = _lock_version(doc)
    _check_python(doc, ctx.markers)
    packages = _packages(doc, version)
    project_path = os.path.join(os.path.dirname(path), "pyproject.toml")
    project = None
    files: Tuple[str, ...] = (path,)
    if os.path.isfile(project_path):
        project = pyproject.parse(load_toml(project_path, pyproject.HINT))
        files = (path, project_path)

    if project is not None:
        available = list(project.groups)
        # Poetry installs every group not marked `optional = true`, PEP 735
        # `[dependency-groups]` included (Poetry 2.2+), not only uv's default `dev`.
        default = [g for g in available if g not in project.optional_groups]
    else:
        available = [MAIN]
        for p in packages:
            available.extend(g for g in p.groups if g not in available)
        default = list(available)
    groups = select_groups(available, default, ctx)
    extras = set(pyproject.selected_extras(project, ctx.extras) if project
                 else {canonical(e) for e in ctx.extras})
    every_extra = _all_extras(doc, project)
    env = ctx.markers

    if version >= (2, 1):
        selected = _by_markers(doc, packages, set(groups), extras, env)
        reachable = _by_markers(doc, packages, set(available), every_extra, env)
        labels: Dict[int, str] = {}
    else:
        if project is None:
            raise doc.error(
                "metadata.lock-version",
                f"a lock-version {'.'.join(map(str, version))} file does not say which group "
                f"or marker installs a package, and there is no pyproject.toml beside it to "
                f"read them from (run drift-guard where poetry runs, or {HINT})",
                hint=False,
            )
        selected, labels = _walk(doc, packages, project, set(groups), extras, env)
        reachable, _ = _walk(doc, packages, project, set(available), every_extra, env)
        _, anywhere = _walk(doc, packages, project, set(available), every_extra, env, False)
        for i, label in anywhere.items():
            labels.setdefault(i, label)
    requirements = lock_requirements(path, [p.locked for p in packages], selected, reachable,
                                     labels, skip={project.name} if project and project.name
                                     else frozenset())
    return lock_source(path, FORMAT, requirements, project.name if project else None,
                       groups, files)


# Of a package's files only whether there are any matters here.
_KEEP = {(("package",), "files"): frozenset({"hash"})}

# lock-version: 1.0 (Poetry 1.0), 1.1 (Poetry 1.1-1.2), 2.0 (Poetry 1.3-1.8), 2.1 (Poetry 2.x).
# Poetry 2 reads >=1,<3 and refuses a file with no `[metadata]` or no `lock-version` (written
# before Poetry 1.0).
NEWEST = (2, 1)


def _lock_version(doc: Doc) -> Tuple[int, int]:
    if "metadata" not in doc.data:
        raise doc.error("metadata", "missing: Poetry refuses a lock file without it; "
                                    "regenerate it with `poetry lock`", hint=False)
    metadata = doc.table(doc.data, "metadata", "")
    text = doc.string(metadata, "lock-version", "metadata")
    if text is None:
        raise doc.error("metadata.lock-version",
                        "missing: a poetry.lock from before Poetry 1.0, which Poetry no longer "
                        "reads; regenerate it with `poetry lock`", hint=False)
    try:
        major, _, minor = text.partition(".")
        version = (int(major), int(minor or 0))
    except ValueError:
        raise doc.error("metadata.lock-version", f"{text[:20]!r} is not a lock version") from None
    if version[0] not in (1, 2):
        raise doc.error("metadata.lock-version",
                        f"lock-version {text} is not one Poetry 2 or drift-guard reads (1.x and "
                        "2.x); upgrade Poetry and drift-guard, or regenerate it with "
                        "`poetry lock`", hint=False)
    if version > NEWEST:
        raise doc.error("metadata.lock-version",
                        f"lock-version {text} is newer than drift-guard knows (up to 2.1, "
                        "Poetry 2.x); upgrade drift-guard, or regenerate it with `poetry lock` "
                        "of Poetry 2.x", hint=False)
    return version


def _packages(doc: Doc, version: Tuple[int, int]) -> List[Package]:
    entries = doc.tables(doc.data, "package", "")
    lines = entry_lines(doc.text, "package", len(entries))
    doc.text = ""  # not needed any more: let it go before the packages are built
    base = os.path.dirname(os.path.abspath(doc.path))
    metadata = doc.table(doc.data, "metadata", "")
    # 1.x keeps file hashes in [metadata.files] (or [metadata.hashes]) by package name.
    old_files = {canonical(k): v for k, v in {**doc.table(metadata, "hashes", "metadata"),
                                              **doc.table(metadata, "files", "metadata")}.items()}
    result = []
    for i, entry in enumerate(entries):
        entries[i] = {}  # each entry goes once it is read
        where = f"package[{i}]"
        # The usual fields' types checked here, the rest (and every error) by doc's methods.
        raw = entry.get("name")
        name = (doc.name_at(raw, where, "name") if type(raw) is str
                else doc.name(entry, "name", where))
        pkg_version = entry.get("version")
        if type(pkg_version) is not str:
            pkg_version = doc.string(entry, "version", where, required=True)
        optional = entry.get("optional", False)
        if type(optional) is not bool:
            optional = bool(doc.get(entry, "optional", bool, where, default=False))
        # (Absent fields, the common case, cost no call.)
        category = doc.string(entry, "category", where) if "category" in entry else None
        names = entry.get("groups")
        if type(names) is not list or not all(type(g) is str for g in names):
            names = doc.strings(entry, "groups", where)
        groups = _GROUPS.get(tuple(names)) or _groups(names)
        if not groups and category:
            groups = (MAIN if category == "main" else canonical(category),)
        if version >= (2, 1) and "groups" not in entry:
            raise doc.error(join_key(where, "groups"), "missing")
        markers = (doc.get(entry, "markers", (str, dict), where) if "markers" in entry
                   else None)
        if isinstance(markers, dict):
            for group, marker in markers.items():
                doc.marker(doc.expect(marker, str, join_key(f"{where}.markers", group)),
                           join_key(f"{where}.markers", group))
            markers = {canonical(g): m for g, m in markers.items()}
        elif markers is not None:
            doc.marker(markers, f"{where}.markers")
        edges = tuple(_edges(doc, entry, where))
        extras = {}
        for extra, reqs in (doc.table(entry, "extras", where).items() if "extras" in entry
                            else ()):
            doc.expect(reqs, list, join_key(f"{where}.extras", extra))
            names = set()
            for j, req in enumerate(reqs):
                text = doc.expect(req, str, f"{join_key(f'{where}.extras', extra)}[{j}]")
                names.add(canonical(_leading_name(text)))
            extras[canonical(extra)] = frozenset(names)
        url, editable = _source(doc, entry, where, base) if "source" in entry else (None, False)
        files = entry.get("files")
        if type(files) is not list:
            files = doc.array(entry, "files", where)
        files = files or old_files.get(name) or []
        locked = Locked(name, pkg_version, where, lines[i], url, editable, bool(files),
                        groups[0] if groups else None)
        result.append(Package(locked, optional, groups, markers, edges, extras))
    return result


# The groups of a package, by their names as written: a lock names a few combinations.
_GROUPS: Dict[Tuple[str, ...], Tuple[str, ...]] = {}


def _groups(names: List[str]) -> Tuple[str, ...]:
    groups = tuple(map(canonical, names))
    if len(_GROUPS) < 64:
        _GROUPS[tuple(names)] = groups
    return groups


def _leading_name(text: str) -> str:
    end = 0
    while end < len(text) and (text[end].isalnum() or text[end] in "._-"):
        end += 1
    return text[:end]


def _edges(doc: Doc, entry: Dict[str, Any], where: str) -> List[Edge]:
    edges = []
    table_key = f"{where}.dependencies"
    for raw, value in doc.table(entry, "dependencies", where).items():
        key = join_key(table_key, raw)
        name = doc.name_at(raw, table_key, raw)
        if type(value) is str:  # the commonest edge: `name = ">=1.0"`
            edges.append(Edge(name, _spec(doc, value, key), None, _NO_EXTRAS, False, key))
            continue
        values = value if isinstance(value, list) else [value]
        for j, v in enumerate(values):
            k = f"{key}[{j}]" if isinstance(value, list) else key
            doc.expect(v, (str, dict), k)
            if isinstance(v, str):
                edges.append(Edge(name, _spec(doc, v, k), None, frozenset(), False, k))
                continue
            spec = _spec(doc, doc.string(v, "version", k) or "", join_key(k, "version"))
            markers = []
            python = doc.string(v, "python", k)
            if python:
                m = pyproject.poetry_python_marker_at(doc, python, join_key(k, "python"))
                if m:
                    markers.append(m)
            marker = doc.string(v, "markers", k)
            if marker:
                doc.marker(marker, join_key(k, "markers"))
                markers.append(marker)
            combined = " and ".join(f"({m})" for m in markers) if len(markers) > 1 else (
                markers[0] if markers else None)
            extras = frozenset(canonical(e) for e in doc.strings(v, "extras", k))
            optional = bool(doc.get(v, "optional", bool, k, default=False))
            edges.append(Edge(name, spec, combined, extras, optional, k))
    return edges


_NO_EXTRAS: FrozenSet[str] = frozenset()


def _check_python(doc: Doc, env: Mapping[str, str]) -> None:
    """`poetry install` refuses a target Python outside the project's `python` constraint
    (recorded as `[metadata] python-versions`): so does drift-guard, instead of reading the
    lock for an interpreter it was never resolved for."""
    metadata = doc.data.get("metadata")
    text = metadata.get("python-versions") if isinstance(metadata, dict) else None
    python = env.get("python_full_version", "")
    if not isinstance(text, str) or not python:
        return
    try:
        specs = [pyproject.poetry_specifier(part.strip()) for part in text.split("||")]
        allowed = any(_allows_python(spec, python) for spec in specs if spec is not None)
    except ValueError:  # InvalidSpecifier is one
        return  # a constraint Poetry would already have refused when locking
    if specs and not allowed and all(spec is not None for spec in specs):
        raise doc.error("metadata.python-versions",
                        f"the project requires Python {text[:40]} and the target is Python "
                        f"{python}; `poetry install` refuses it: check with a Python the "
                        "project allows", hint=False)


def _allows_python(spec: str, python: str) -> bool:
    """Whether `python` meets the PEP 440 `spec` (pre-releases allowed), without importing
    packaging for the plain releases most constraints name."""
    if not spec:
        return True
    fast = satisfies_fast(python, spec)
    if fast is not None:
        return fast
    from packaging.specifiers import SpecifierSet

    return bool(SpecifierSet(spec).contains(python, prereleases=True))


def _spec(doc: Doc, text: str, key: str) -> Optional[str]:
    try:
        return pyproject.poetry_specifier(text)
    except ValueError as exc:
        raise doc.error(key, f"invalid version constraint: {exc}") from None


def _source(doc: Doc, entry: Dict[str, Any], where: str, base: str) -> Tuple[Optional[str], bool]:
    source = doc.table(entry, "source", where)
    if not source:
        return None, False
    skey = f"{where}.source"
    kind = doc.string(source, "type", skey)
    url = doc.string(source, "url", skey) or ""
    # Poetry writes file://None/path for a file:// repository (checked with 2.5.1).
    if url.startswith("file://None/"):
        url = "file:///" + url[len("file://None/"):]
    develop = bool(doc.get(entry, "develop", bool, where, default=False))
    if kind == "git":
        ref = (doc.string(source, "resolved_reference", skey)
               or doc.string(source, "reference", skey))
        result = f"git+{url}" + (f"@{ref}" if ref else "")
        sub = doc.string(source, "subdirectory", skey)
        return (f"{result}#subdirectory={sub}" if sub else result), develop
    if kind in ("directory", "file"):
        return local_url(base, url), develop and kind == "directory"
    if kind == "url":
        return url or None, False
    return None, False  # legacy, or an index by another name: a registry like PyPI


def _all_extras(doc: Doc, project: Optional[pyproject.Project]) -> Set[str]:
    extras = {canonical(e) for e in doc.table(doc.data, "extras", "")}
    if project is not None:
        extras |= set(project.extras)
        extras |= {d.extra for d in project.deps if d.extra}
    return extras


def _by_markers(doc: Doc, packages: Sequence[Package], groups: Set[str], extras: Set[str],
                env: Any) -> Set[int]:
    """Lock 2.1: the packages a selected group needs under a marker that holds."""
    chosen = set()
    ordered = sorted(extras)
    for i, p in enumerate(packages):
        for group in p.groups:
            if group not in groups:
                continue
            marker = p.markers.get(group) if isinstance(p.markers, dict) else p.markers
            key = (join_key(f"{p.locked.key}.markers", group) if isinstance(p.markers, dict)
                   else f"{p.locked.key}.markers")
            if marker_holds(doc, marker, key, env, ordered):
                chosen.add(i)
                break
    return chosen


def _walk(doc: Doc, packages: Sequence[Package], project: pyproject.Project, groups: Set[str],
          extras: Set[str], env: Any, markers: bool = True) -> Tuple[Set[int], Dict[int, str]]:
    """Before 2.1: the packages reachable from the project's selected dependencies (with
    `markers` False: on any platform, for naming the group of the others)."""
    by_name: Dict[str, List[int]] = {}
    for i, p in enumerate(packages):
        by_name.setdefault(p.locked.name, []).append(i)
    poetry_selected = {n for e in extras for n in project.extras.get(e, ())}

    queue: List[Tuple[str, Optional[str], FrozenSet[str], str]] = []
    # "main" first, so a package both groups need is labelled main.
    deps = sorted(project.deps, key=lambda d: d.group != MAIN)
    for dep in deps:
        if project.name and dep.name == project.name:
            continue
        if dep.extra is not None:
            if dep.extra not in extras:
                continue
            label = MAIN
        else:
            if dep.group not in groups or (dep.optional and dep.name not in poetry_selected):
                continue
            label = dep.group
        if markers and not marker_holds(doc, dep.marker, dep.key, env):
            continue
        queue.append((dep.name, dep.specifier, frozenset(dep.extras), label))

    active: Dict[int, Set[str]] = {}
    labels: Dict[int, str] = {}
    constraints: Dict[str, List[Optional[str]]] = {}
    while queue:
        name, spec, want, label = queue.pop(0)
        constraints.setdefault(name, []).append(spec)
        for i in _pick(packages, by_name.get(name, []), spec):
            known = active.get(i)
            if known is not None and want <= known:
                continue
            now = active.setdefault(i, set())
            now |= want
            labels.setdefault(i, label)
            p = packages[i]
            offered = {n for e in now for n in p.extras.get(e, ())}
            for edge in p.edges:
                if edge.optional and edge.name not in offered:
                    continue
                if markers and not marker_holds(doc, edge.marker, edge.key, env, sorted(now)):
                    continue
                queue.append((edge.name, edge.specifier, edge.extras, label))
    return _one_per_name(packages, by_name, set(active), constraints), labels


def _one_per_name(packages: Sequence[Package], by_name: Dict[str, List[int]], chosen: Set[int],
                  constraints: Dict[str, List[Optional[str]]]) -> Set[int]:
    """Poetry installs one version of a name: of several entries the walk reached, the one
    every constraint that reached the name allows (the newest, if several do)."""
    for name, indexes in by_name.items():
        reached = [i for i in indexes if i in chosen]
        if len(reached) < 2:
            continue
        fits = [i for i in reached
                if all(_allows(spec, packages[i].locked.version) for spec in constraints[name])]
        keep = max(fits or reached, key=lambda i: _sort_key(packages[i].locked.version))
        chosen -= set(reached) - {keep}
    return chosen


def _allows(spec: Optional[str], version: Optional[str]) -> bool:
    if not spec:
        return True
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        return SpecifierSet(spec).contains(Version(version or ""), prereleases=True)
    except InvalidVersion:
        return False


def _sort_key(version: Optional[str]) -> Tuple[int, Any]:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version or ""))
    except InvalidVersion:
        return (0, version or "")


def _pick(packages: Sequence[Package], indexes: List[int], spec: Optional[str]) -> List[int]:
    """Of the entries locked under one name, the one an edge's constraint chooses."""
    if len(indexes) <= 1 or not spec:
        return indexes[:1]
    fits = versions_within([p.locked for p in packages], indexes, spec)
    # the newest that fits, as Poetry's solver prefers
    return [max(fits, key=lambda i: _sort_key(packages[i].locked.version))] if fits else indexes[:1]
