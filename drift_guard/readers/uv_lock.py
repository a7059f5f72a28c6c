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
from typing import Any, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from drift_guard._names import canonical
from drift_guard.models import ReadContext, Source
from drift_guard.readers._toml import (
    Doc,
    Locked,
    entry_lines,
    join_key,
    load_toml,
    local_url,
    lock_requirements,
    marker_holds,
    select_groups,
)

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
    doc = load_toml(path, HINT)
    version = doc.get(doc.data, "version", int, "", required=True)
    if version != 1:
        raise doc.error("version", f"uv.lock version {version} is not one drift-guard reads "
                                   "(1); upgrade drift-guard, or lock with the uv the project "
                                   "uses", hint=False)
    base = os.path.dirname(os.path.abspath(path))
    packages = _packages(doc, base)
    roots, project = _roots(doc, packages)

    available = [MAIN]
    for r in roots:
        available.extend(g for g in packages[r].groups if g not in available)
    default = [MAIN, *_default_groups(doc, packages, roots, available)]
    groups = select_groups(available, default, ctx)
    extras = {canonical(e) for e in ctx.extras}
    every_extra = {e for r in roots for e in packages[r].optional}
    env = ctx.markers

    selected, labels = _walk(doc, packages, roots, set(groups), extras, env)
    reachable, _ = _walk(doc, packages, roots, set(available), every_extra, env)
    _, anywhere = _walk(doc, packages, roots, set(available), every_extra, env, markers=False)
    for i, label in anywhere.items():
        labels.setdefault(i, label)
    skip = {project} if project else set()
    requirements = lock_requirements(path, [p.locked for p in packages], selected, reachable,
                                     labels, skip=skip)
    return Source(
        path=path,
        format=FORMAT,
        requirements=requirements,
        frozen=True,
        project=project,
        groups=tuple(groups),
        files=(path,),
    )


def _edge(doc: Doc, value: Any, key: str) -> Edge:
    doc.expect(value, dict, key)
    name = canonical(doc.string(value, "name", key, required=True) or "")
    marker = doc.string(value, "marker", key)
    if marker:
        doc.marker(marker, join_key(key, "marker"))
    source = doc.get(value, "source", dict, key)
    extras = frozenset(canonical(e) for e in doc.strings(value, "extra", key))
    return Edge(name, doc.string(value, "version", key), source, marker, extras, key)


def _edge_table(doc: Doc, entry: Mapping[str, Any], field: str, where: str
                ) -> Dict[str, Tuple[Edge, ...]]:
    result = {}
    for name, edges in doc.table(entry, field, where).items():
        key = join_key(f"{where}.{field}", name)
        doc.expect(edges, list, key)
        result[canonical(name)] = tuple(_edge(doc, e, f"{key}[{j}]") for j, e in enumerate(edges))
    return result


def _packages(doc: Doc, base: str) -> List[Package]:
    entries = doc.tables(doc.data, "package", "")
    lines = entry_lines(doc.text, "package", len(entries))
    result = []
    for i, entry in enumerate(entries):
        where = f"package[{i}]"
        name = canonical(doc.string(entry, "name", where, required=True) or "")
        version = doc.string(entry, "version", where)
        source = doc.table(entry, "source", where)
        resolution = tuple(doc.strings(entry, "resolution-markers", where))
        for j, m in enumerate(resolution):
            doc.marker(m, f"{where}.resolution-markers[{j}]")
        edges = tuple(_edge(doc, e, f"{where}.dependencies[{j}]")
                      for j, e in enumerate(doc.array(entry, "dependencies", where)))
        optional = _edge_table(doc, entry, "optional-dependencies", where)
        groups = _edge_table(doc, entry, "dev-dependencies", where)
        default_groups = doc.get(entry, "default-groups", (list, str), where)
        url, editable = _url(doc, source, f"{where}.source", base)
        hashes = bool(doc.table(entry, "sdist", where).get("hash")) or any(
            isinstance(w, dict) and w.get("hash") for w in doc.array(entry, "wheels", where))
        locked = Locked(name=name, version=version, key=where, line=lines[i], url=url,
                        editable=editable, hashes=hashes)
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
    """The root's `default-groups` (uv writes them when `[tool.uv] default-groups` is set),
    else pyproject.toml's, else `dev`."""
    for r in roots:
        value = packages[r].default_groups
        if value is not None:
            if value == "all":
                return [g for g in available if g != MAIN]
            if isinstance(value, str):
                raise doc.error(f"{packages[r].locked.key}.default-groups",
                                'expected an array of group names or "all"')
            return [canonical(doc.expect(g, str, f"{packages[r].locked.key}.default-groups[{j}]"))
                    for j, g in enumerate(value)]
    project_path = os.path.join(os.path.dirname(doc.path), "pyproject.toml")
    if os.path.isfile(project_path):
        from drift_guard.readers import pyproject

        project = pyproject.parse(load_toml(project_path, pyproject.HINT))
        return [g for g in project.default_groups if g != MAIN]
    return ["dev"]


def _walk(doc: Doc, packages: Sequence[Package], roots: Sequence[int], groups: Set[str],
          extras: Set[str], env: Mapping[str, str], markers: bool = True
          ) -> Tuple[Set[int], Dict[int, str]]:
    """The packages reached from `roots` (with `markers` False: on any platform, for naming
    the group of the others), and the group each was first reached through."""
    by_name: Dict[str, List[int]] = {}
    for i, p in enumerate(packages):
        by_name.setdefault(p.locked.name, []).append(i)

    queue: List[Tuple[Edge, str]] = []
    active: Dict[int, Set[str]] = {}
    labels: Dict[int, str] = {}
    for r in roots:
        root = packages[r]
        active[r] = set()
        labels[r] = MAIN
        if MAIN in groups:
            queue.extend((e, MAIN) for e in root.edges)
            for extra in sorted(extras):
                queue.extend((e, extra) for e in root.optional.get(extra, ()))
        for group, edges in root.groups.items():
            if group in groups:
                queue.extend((e, group) for e in edges)

    while queue:
        edge, label = queue.pop(0)
        if markers and not marker_holds(doc, edge.marker, join_key(edge.key, "marker"), env):
            continue
        target = _target(doc, packages, by_name.get(edge.name, []), edge, env, markers)
        if target is None:
            continue
        known = active.get(target)
        if known is not None and edge.extras <= known:
            continue
        now = active.setdefault(target, set())
        now |= edge.extras
        labels.setdefault(target, label)
        p = packages[target]
        queue.extend((e, label) for e in p.edges)
        for extra in sorted(now):
            queue.extend((e, label) for e in p.optional.get(extra, ()))
    return set(active), labels


def _target(doc: Doc, packages: Sequence[Package], indexes: List[int], edge: Edge,
            env: Mapping[str, str], markers: bool) -> Optional[int]:
    """The entry an edge means: by its version and source, else the fork whose
    resolution-markers hold."""
    candidates = indexes
    if len(candidates) > 1 and edge.version is not None:
        candidates = [i for i in candidates if packages[i].locked.version == edge.version]
    if len(candidates) > 1 and edge.source is not None:
        candidates = [i for i in candidates if packages[i].source == edge.source]
    if len(candidates) > 1 and markers:
        forks = [i for i in candidates if any(
            marker_holds(doc, m, f"{packages[i].locked.key}.resolution-markers", env)
            for m in packages[i].resolution_markers)]
        candidates = forks or candidates
    return candidates[0] if candidates else None
