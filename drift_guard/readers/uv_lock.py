"""Read uv.lock as `uv sync` would use it for the target environment.

uv.lock is universal: markers sit on the dependency edges, not on the packages, and a forked
resolution repeats a name with one entry per fork. So the installed set is found by walking
from the root (the project, `source = { editable = "." }` or `{ virtual = "." }`) through its
dependencies, the selected extras and dependency groups (uv's default: `dev`, or the root's
`default-groups`), keeping edges whose marker holds for the target; an edge names the fork it
means by `version`/`source`, else the fork's `resolution-markers` decide. What the walk does
not reach is declared but not expected. The uv docs call the format uv's own; this follows
the files uv 0.13 writes (version 1, revision 5) and accepts older revisions.
"""

from __future__ import annotations

import os
import re
from collections import deque

from drift_guard._names import canonical
from drift_guard._patterns import lazy
from drift_guard.models import ReadContext, Source
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

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Deque,
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
    )
else:
    from drift_guard._record import NamedTuple

FORMAT = "uv.lock"
HINT = "regenerate it with `uv lock`"
MAIN = "main"


class Edge(NamedTuple):
    name: str
    version: Optional[str]
    source: Optional[Dict[str, Any]]
    marker: Optional[str]
    extras: FrozenSet[str]
    key: str
    specifier: Optional[str] = None
    """A PEP 440 specifier (the requirements of a workspace root that is no project)."""


class Package(NamedTuple):
    locked: Locked
    source: Dict[str, Any]
    resolution_markers: Tuple[str, ...]
    edges: Tuple[Edge, ...]
    optional: Dict[str, Tuple[Edge, ...]]
    groups: Dict[str, Tuple[Edge, ...]]
    default_groups: Any


def read(path: str, ctx: ReadContext) -> Source:
    """What uv.lock locks; expected: what `uv sync` installs for the target (the project,
    its default groups, changed by --with/--without/--only; extras by `extras`)."""
    doc = load_toml(path, HINT, keep=_KEEP)
    _check_version(doc)
    base = os.path.dirname(os.path.abspath(path))
    packages = _packages(doc, base)
    roots, project = _roots(doc, packages)
    manifest_groups = _manifest_groups(doc)

    available = [MAIN]
    for r in roots:
        available.extend(g for g in packages[r].groups if g not in available)
    available.extend(g for g in manifest_groups if g not in available)
    default = [MAIN, *_default_groups(doc, packages, roots, available)]
    groups = select_groups(available, default, ctx)
    extras = {canonical(e) for e in ctx.extras}
    every_extra = {e for r in roots for e in packages[r].optional}
    env = ctx.markers
    active = _conflict_items(packages, roots, groups, extras)
    everything = _conflict_items(packages, roots, available, every_extra)

    selected, labels = _walk(doc, packages, roots, set(groups), extras, env, active,
                             manifest_groups)
    if _SHORTCUTS and set(groups) == set(available) and extras == every_extra:
        reachable = selected  # the same walk
    else:
        reachable, _ = _walk(doc, packages, roots, set(available), every_extra, env, everything,
                             manifest_groups)
    if len(labels) < len(packages) or not _SHORTCUTS:
        # The group of each package not reached here, found on any platform.
        _, anywhere = _walk(doc, packages, roots, set(available), every_extra, env, everything,
                            manifest_groups, markers=False)
        for i, label in anywhere.items():
            labels.setdefault(i, label)
    # uv never installs a virtual package (no build system), a workspace member or the root.
    skip = {packages[r].locked.name for r in roots if "virtual" in packages[r].source}
    if project:
        skip.add(project)
    requirements = lock_requirements(path, [p.locked for p in packages], selected, reachable,
                                     labels, skip=skip)
    return lock_source(path, FORMAT, requirements, project, groups)


# Walks left out where their answer is known: the walk with every group and extra when the
# selection is every group and extra, the walk on any platform when every package was reached.
# (False: every walk made, as the tests compare.)
_SHORTCUTS = True

# Of a package's files only whether they have hashes matters here.
_KEEP = {((table,), field): frozenset({"hash"})
         for table in ("package", "distribution") for field in ("sdist", "wheels")}

# The schema uv reads: version 1 (uv 0.2 wrote it with `[[distribution]]`, uv 0.3 on with
# `[[package]]`), with revisions up to 5 (what uv 0.13 writes). uv refuses any other version
# ("uses an unsupported schema version ... remove the `uv.lock` prior to running `uv lock`").
VERSION = 1
REVISION = 5


def _check_version(doc: Doc) -> None:
    version = doc.data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        doc.get(doc.data, "version", int, "", required=True)
    if version != VERSION:
        raise doc.error("version", f"uv.lock schema version {version} is not one uv 0.3-0.13 "
                                   f"or drift-guard reads (only {VERSION}); remove uv.lock and "
                                   "run `uv lock` with the uv the project uses", hint=False)
    revision = doc.get(doc.data, "revision", int, "", default=0)
    if revision > REVISION or revision < 0:
        raise doc.error("revision", f"uv.lock revision {revision} is newer than drift-guard "
                                    f"knows (up to {REVISION}, written by uv 0.13); upgrade "
                                    "drift-guard, or rewrite it with `uv lock` of uv 0.13",
                        hint=False)


def _manifest_groups(doc: Doc) -> Dict[str, Tuple[Edge, ...]]:
    """The dependency groups of a workspace root that is no project: uv keeps them, as
    requirements, in `[manifest.dependency-groups]`."""
    manifest = doc.table(doc.data, "manifest", "")
    result: Dict[str, Tuple[Edge, ...]] = {}
    where = "manifest.dependency-groups"
    for group, reqs in doc.table(manifest, "dependency-groups", "manifest").items():
        key = join_key(where, group)
        doc.expect(reqs, list, key)
        edges = []
        for j, req in enumerate(reqs):
            edge = _edge(doc, req, f"{key}[{j}]")
            spec = doc.string(req, "specifier", f"{key}[{j}]")
            extras = frozenset(canonical(e) for e in doc.strings(req, "extras", f"{key}[{j}]"))
            edges.append(edge._replace(specifier=spec, extras=edge.extras | extras))
        result[canonical(group)] = tuple(edges)
    return result


def _conflict_items(packages: Sequence[Package], roots: Sequence[int], groups: Iterable[str],
                    extras: Iterable[str]) -> FrozenSet[str]:
    """The names uv gives the selected extras and groups in conflict markers: with
    `[tool.uv] conflicts`, uv writes `extra == 'extra-3-pkg-cpu'` (an extra of `pkg`),
    `extra == 'group-3-pkg-dev'` (a group) and `extra == 'project-3-pkg'`, the number being
    the length of the package name, and evaluates them as "is selected"."""
    result = set()
    for r in roots:
        name = packages[r].locked.name
        n = len(name.encode())
        result.add(f"project-{n}-{name}")
        result.update(f"extra-{n}-{name}-{e}" for e in extras)
        result.update(f"group-{n}-{name}-{g}" for g in groups if g != MAIN)
    return frozenset(result)


_CONFLICT = r"(?:extra|group|project)-\d+-[^'\"]*"
_CONFLICT_TEST = lazy(
    rf"""\bextra\s*(==|!=)\s*(['"])({_CONFLICT})\2|(['"])({_CONFLICT})\4\s*(==|!=)\s*extra\b""")


def _decide_conflicts(text: str, active: FrozenSet[str]) -> str:
    """`text` with each conflict test decided for the selection (a test every Python passes,
    or none does)."""
    if "extra" not in text:
        return text

    def decide(m: re.Match[str]) -> str:
        op, item = (m.group(1), m.group(3)) if m.group(1) else (m.group(6), m.group(5))
        holds = (item in active) == (op == "==")
        return "python_version >= '0'" if holds else "python_version < '0'"

    return _CONFLICT_TEST.sub(decide, text)


def _holds(doc: Doc, text: Optional[str], key: str, env: Mapping[str, str],
           active: FrozenSet[str]) -> bool:
    if not text:
        return True
    return marker_holds(doc, _decide_conflicts(text, active), key, env)


def _edge(doc: Doc, value: Any, key: str) -> Edge:
    if type(value) is dict and value.keys() <= _PLAIN_EDGE:
        # The commonest edges (a name, perhaps a marker), with the checks below.
        name, marker = value.get("name"), value.get("marker")
        if type(name) is str and (marker is None or type(marker) is str):
            name = doc.name_at(name, key, "name")
            if marker:
                doc.marker_at(marker, key, "marker")
            return Edge(name, None, None, marker, _NO_EXTRAS, key)
    doc.expect(value, dict, key)
    if isinstance(value.get("extra"), str):
        raise doc.error(join_key(key, "extra"), "an extra written as a string (the form uv 0.2 "
                                                "wrote) is one uv no longer reads; remove "
                                                "uv.lock and run `uv lock`", hint=False)
    name = doc.name(value, "name", key)
    marker = doc.string(value, "marker", key)
    if marker:
        doc.marker(marker, join_key(key, "marker"))
    source = doc.get(value, "source", dict, key)
    extras = frozenset(canonical(e) for e in doc.strings(value, "extra", key))
    return Edge(name, doc.string(value, "version", key), source, marker, extras, key)


_PLAIN_EDGE = frozenset({"name", "marker"})
_NO_EXTRAS: FrozenSet[str] = frozenset()


def _edge_table(doc: Doc, entry: Mapping[str, Any], field: str, where: str
                ) -> Dict[str, Tuple[Edge, ...]]:
    result = {}
    for name, edges in doc.table(entry, field, where).items():
        key = join_key(f"{where}.{field}", name)
        doc.expect(edges, list, key)
        result[canonical(name)] = tuple(_edge(doc, e, f"{key}[{j}]") for j, e in enumerate(edges))
    return result


def _packages(doc: Doc, base: str) -> List[Package]:
    # uv before 0.3 wrote `[[distribution]]`; uv still reads it as `[[package]]`.
    table = "package" if "package" in doc.data or "distribution" not in doc.data else "distribution"
    entries = doc.tables(doc.data, table, "")
    lines = entry_lines(doc.text, table, len(entries))
    doc.text = ""  # not needed any more: let it go before the packages are built
    result = []
    for i, entry in enumerate(entries):
        entries[i] = {}  # each entry goes once it is read: the file held whole is its size again
        where = f"{table}[{i}]"
        # The usual fields' types checked here, the rest (and every error) by doc's methods.
        raw = entry.get("name")
        name = (doc.name_at(raw, where, "name") if type(raw) is str
                else doc.name(entry, "name", where))
        version = entry.get("version")
        if version is not None and type(version) is not str:
            version = doc.string(entry, "version", where)
        source = entry.get("source")
        if type(source) is not dict:
            if isinstance(source, str):
                raise doc.error(f"{where}.source", "a source written as a string (the form "
                                                   "early uv 0.2 releases wrote) is one uv no "
                                                   "longer reads; remove uv.lock and run "
                                                   "`uv lock`", hint=False)
            source = doc.table(entry, "source", where)
        # uv 0.2 called them `environment-markers`.
        field = ("environment-markers" if "environment-markers" in entry
                 and "resolution-markers" not in entry else "resolution-markers")
        resolution: Tuple[str, ...] = ()
        if field in entry:
            resolution = tuple(doc.strings(entry, field, where))
            for j, m in enumerate(resolution):
                doc.marker(m, f"{where}.{field}[{j}]")
        dependencies = entry.get("dependencies")
        if dependencies is None:
            edges: Tuple[Edge, ...] = ()
        else:
            if type(dependencies) is not list:
                dependencies = doc.array(entry, "dependencies", where)
            stem = f"{where}.dependencies["
            edges = tuple(_edge(doc, e, f"{stem}{j}]") for j, e in enumerate(dependencies))
        # (Absent fields, the common case, cost no call.)
        optional = (_edge_table(doc, entry, "optional-dependencies", where)
                    if "optional-dependencies" in entry else {})
        groups = (_edge_table(doc, entry, "dev-dependencies", where)
                  if "dev-dependencies" in entry else {})
        default_groups = (doc.get(entry, "default-groups", (list, str), where)
                          if "default-groups" in entry else None)
        if len(source) == 1 and "registry" in source:
            url, editable = None, False  # what _url finds for a package from an index
        else:
            url, editable = _url(doc, source, f"{where}.source", base)
        sdist, wheels = entry.get("sdist"), entry.get("wheels")
        if sdist is not None and type(sdist) is not dict:
            sdist = doc.table(entry, "sdist", where)
        if wheels is not None and type(wheels) is not list:
            wheels = doc.array(entry, "wheels", where)
        hashes = bool(sdist and sdist.get("hash")) or any(
            type(w) is dict and w.get("hash") for w in wheels or ())
        locked = Locked(name, version, where, lines[i], url, editable, hashes)
        result.append(Package(locked, source, resolution, edges, optional, groups,
                              default_groups))
    return result


def _url(doc: Doc, source: Mapping[str, Any], key: str, base: str) -> Tuple[Optional[str], bool]:
    """A direct reference for a non-registry source: git as `git+URL@commit`, local paths as
    file URLs."""
    for kind in ("editable", "directory", "path", "virtual"):
        if kind in source:
            path = doc.expect(source[kind], str, join_key(key, kind))
            return local_url(base, path), kind == "editable"
    if "git" in source:
        url = doc.expect(source["git"], str, join_key(key, "git"))
        url, _, commit = url.partition("#")
        url, _, query = url.partition("?")
        sub = next((q[len("subdirectory="):] for q in query.split("&")
                    if q.startswith("subdirectory=")), None)
        result = f"git+{url}" + (f"@{commit}" if commit else "")
        return (f"{result}#subdirectory={sub}" if sub else result), False
    if "url" in source:
        return doc.expect(source["url"], str, join_key(key, "url")), False
    return None, False


def _is_here(source: Mapping[str, Any]) -> bool:
    for kind in ("editable", "virtual"):
        value = source.get(kind)
        if isinstance(value, str) and os.path.normpath(value) == ".":
            return True
    return False


def _roots(doc: Doc, packages: Sequence[Package]) -> Tuple[List[int], Optional[str]]:
    """The packages `uv sync` starts from, and the project's own name (None in a workspace
    whose root is no project: then every member is a root)."""
    here = [i for i, p in enumerate(packages) if _is_here(p.source)]
    if here:
        return here, packages[here[0]].locked.name
    manifest = doc.table(doc.data, "manifest", "")
    members = {canonical(m) for m in doc.strings(manifest, "members", "manifest")}
    roots = [i for i, p in enumerate(packages) if p.locked.name in members]
    if not roots:
        roots = [i for i, p in enumerate(packages)
                 if "editable" in p.source or "virtual" in p.source]
    return roots, None


def _default_groups(doc: Doc, packages: Sequence[Package], roots: Sequence[int],
                    available: Sequence[str]) -> List[str]:
    """The root's `default-groups` (uv writes them, in the root package or, for a workspace
    root that is no project, in `[manifest]`, when `[tool.uv] default-groups` is set), else
    pyproject.toml's, else `dev`."""
    manifest = doc.table(doc.data, "manifest", "")
    found = [(r, packages[r].default_groups, f"{packages[r].locked.key}.default-groups")
             for r in roots]
    found.insert(0, (-1, manifest.get("default-groups"), "manifest.default-groups"))
    for r, value, key in found:
        if value is not None:
            if value == "all":
                return [g for g in available if g != MAIN]
            if not isinstance(value, list):
                raise doc.error(key, 'expected an array of group names or "all"')
            return [canonical(doc.expect(g, str, f"{key}[{j}]")) for j, g in enumerate(value)]
    project_path = os.path.join(os.path.dirname(doc.path), "pyproject.toml")
    if any(_is_here(p.source) for p in packages) and os.path.isfile(project_path):
        from drift_guard.readers import pyproject

        project = pyproject.parse(load_toml(project_path, pyproject.HINT))
        return [g for g in project.default_groups if g != MAIN]
    return ["dev"]


def _walk(doc: Doc, packages: Sequence[Package], roots: Sequence[int], groups: Set[str],
          extras: Set[str], env: Mapping[str, str], conflicts: FrozenSet[str],
          manifest_groups: Mapping[str, Tuple[Edge, ...]], markers: bool = True
          ) -> Tuple[Set[int], Dict[int, str]]:
    """The packages reached from `roots` (with `markers` False: on any platform, for naming
    the group of the others), and the group each was first reached through."""
    by_name: Dict[str, List[int]] = {}
    for i, p in enumerate(packages):
        by_name.setdefault(p.locked.name, []).append(i)

    # Edges queue up a package's tuple at a time (with the label they carry), taken in
    # order: the order of a queue of single edges, without an item for each.
    queue: Deque[Tuple[Sequence[Edge], str]] = deque()
    active: Dict[int, Set[str]] = {}
    labels: Dict[int, str] = {}
    for r in roots:
        root = packages[r]
        if MAIN in groups:
            # Without the project's own dependencies (--only-group), a group that needs the
            # project (`docs = ["pydantic-settings"]` needing `pydantic`) still brings them:
            # the root is then reached like any other package.
            active[r] = set()
            labels[r] = MAIN
            queue.append((root.edges, MAIN))
            for extra in sorted(extras):
                queue.append((root.optional.get(extra, ()), extra))
        for group, group_edges in root.groups.items():
            if group in groups:
                queue.append((group_edges, group))
    for group, group_edges in manifest_groups.items():
        if group in groups:
            queue.append((group_edges, group))

    holds: Dict[str, bool] = {}  # by marker text: thousands of edges share a few markers
    while queue:
        edges, label = queue.popleft()
        for edge in edges:
            marker = edge.marker
            if markers and marker:
                known = holds.get(marker)
                if known is None:
                    known = holds[marker] = _holds(doc, marker, join_key(edge.key, "marker"),
                                                   env, conflicts)
                if not known:
                    continue
            indexes = by_name.get(edge.name)
            if not indexes:
                continue
            if len(indexes) == 1:
                target = indexes[0]  # what _target finds among one
            else:
                found = _target(doc, packages, indexes, edge, env, conflicts, markers)
                if found is None:
                    continue
                target = found
            known_extras = active.get(target)
            if known_extras is not None and edge.extras <= known_extras:
                continue
            now = active.setdefault(target, set())
            now |= edge.extras
            labels.setdefault(target, label)
            p = packages[target]
            queue.append((p.edges, label))
            for extra in sorted(now):
                queue.append((p.optional.get(extra, ()), label))
    return set(active), labels


def _target(doc: Doc, packages: Sequence[Package], indexes: List[int], edge: Edge,
            env: Mapping[str, str], active: FrozenSet[str], markers: bool) -> Optional[int]:
    """The entry an edge means: by its version and source, else the fork whose
    resolution-markers hold."""
    candidates = indexes
    if len(candidates) > 1 and edge.version is not None:
        candidates = [i for i in candidates if packages[i].locked.version == edge.version]
    if len(candidates) > 1 and edge.source is not None:
        candidates = [i for i in candidates if packages[i].source == edge.source]
    if len(candidates) > 1 and edge.specifier:
        candidates = (versions_within([p.locked for p in packages], candidates,
                                       edge.specifier) or candidates)
    if len(candidates) > 1 and markers:
        forks = [i for i in candidates if any(
            _holds(doc, m, f"{packages[i].locked.key}.resolution-markers", env, active)
            for m in packages[i].resolution_markers)]
        candidates = forks or candidates
    return candidates[0] if candidates else None


