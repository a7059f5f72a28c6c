"""Compare what is installed with what is declared: a pure function, no disk, no printing.

`packaging` is imported only when the answer needs it: a frozen file whose every pin is the
exact version string installed is checked with string comparisons alone.
"""

from __future__ import annotations

import os

from drift_guard import requires
from drift_guard._names import canonical, canonical_version
from drift_guard.markers import evaluate
from drift_guard.models import Finding, Installed, Requirement, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        AbstractSet,
        Dict,
        FrozenSet,
        Iterable,
        List,
        Mapping,
        Optional,
        Sequence,
        Set,
        Tuple,
    )

# Never undeclared: the installers themselves, present in every environment pip makes.
ALWAYS_ALLOWED = frozenset({"pip", "setuptools", "wheel", "distribute", "drift-guard"})

KIND_ORDER = {"broken": 0, "missing": 1, "mismatch": 2, "undeclared": 3, "unpinned": 4,
              "unresolved": 5}

_PINNING_OPERATORS = ("===", "==")


def compare(
    installed: Mapping[str, Installed],
    sources: Sequence[Source],
    markers: Mapping[str, str],
    *,
    ignore: Iterable[str] = (),
    allow: Iterable[str] = (),
    projects: Iterable[str] = (),
    require_pins: bool = False,
) -> List[Finding]:
    """Every difference between `installed` and the union of `sources`, and every unmet
    requirement among the installed distributions themselves (`broken`, as `pip check`).

    `markers` is the target's marker environment. `ignore` names are left out entirely;
    `allow` names (and what only they need) may be installed without being declared, like pip
    and drift-guard itself; `projects` are the project's own distributions, never missing or
    undeclared. Neither `allow` nor `ignore` covers a package that a declared package needs.
    """
    ignored = {canonical(n) for n in ignore}
    own = {canonical(n) for n in projects} | {s.project for s in sources if s.project}
    skip = ignored | own

    declared: Dict[str, List[Requirement]] = {}
    for source in sources:
        for req in source.requirements:
            if req.name and req.name not in skip:
                declared.setdefault(req.name, []).append(req)

    findings: List[Finding] = []
    # Declared for this target: a requirement whose marker is false here declares nothing
    # (a fresh `pip install -r` leaves the package out).
    active: Dict[str, List[Requirement]] = {}
    excluded: Dict[str, Requirement] = {}
    mismatched: Set[str] = set()
    for name, reqs in declared.items():
        holding = [r for r in reqs if evaluate(r.marker, markers)]
        if holding or any(not r.expected for r in reqs):
            active[name] = holding
        else:
            excluded[name] = reqs[0]
        dist = installed.get(name)
        if dist is None:
            expected = [r for r in holding if r.expected]
            if expected:
                findings.append(_finding("missing", expected[0], None))
            continue
        for req in holding:
            if not satisfies(dist.version, req.specifier):
                findings.append(_finding("mismatch", req, dist.version))
                mismatched.add(name)

    for source in sources:
        for con in source.constraints:
            dist = installed.get(con.name)
            if (
                dist is not None
                and con.name not in skip
                and evaluate(con.marker, markers)
                and not satisfies(dist.version, con.specifier)
            ):
                findings.append(_finding("mismatch", con, dist.version))

    requested = [
        (req.name, frozenset(canonical(e) for e in req.extras))
        for reqs in active.values()
        for req in reqs
        if req.extras
    ]
    graph, requesters = requires.edges(installed, markers, requested)

    undeclared, removable = _undeclared(
        installed, sources, active, excluded, mismatched, graph, requesters, markers, skip,
        {canonical(n) for n in allow},
    )
    findings.extend(_broken(installed, graph, active, ignored, removable))
    findings.extend(undeclared)

    if require_pins:
        findings.extend(
            _finding(
                "unpinned", req, installed[req.name].version if req.name in installed else None
            )
            for source in sources
            for req in source.requirements
            if req.name and req.name not in skip and not is_pinned(req)
        )

    findings = _near_misses(findings)
    findings.sort(key=lambda f: (KIND_ORDER[f.kind], f.name, f.source or "", f.line or 0))
    return findings


def _finding(kind: str, req: Requirement, installed_version: Optional[str]) -> Finding:
    return Finding(
        kind=kind,
        name=req.name,
        installed=installed_version,
        declared=req.specifier or (f"@ {req.url}" if req.url else ""),
        source=req.source or None,
        line=req.line,
        key=req.key,
        hashes=req.hashes,
        end_line=req.end_line,
    )


def is_pinned(req: Requirement) -> bool:
    """Pinned as pip freeze pins: `==`/`===` on one full version, or a direct reference."""
    if req.url or req.editable:
        return True
    spec = req.specifier.strip()
    for op in _PINNING_OPERATORS:
        if spec.startswith(op) and "," not in spec:
            version = spec[len(op) :].strip()
            return bool(version) and not version.endswith(".*")
    return False


def satisfies(version: str, specifier: str) -> bool:
    """Whether the installed `version` is allowed by `specifier` (pre-releases allowed: the
    question is whether what is installed matches the declaration, not what pip would pick)."""
    spec = specifier.strip()
    if not spec:
        return True
    if spec.startswith("==") and not spec.startswith("===") and "," not in spec:
        pinned = spec[2:].strip()
        if pinned == version and canonical_version(pinned):
            return True
    elif spec.startswith("===") and "," not in spec:
        # Arbitrary equality is a string comparison by definition (PEP 440).
        return spec[3:].strip().lower() == version.lower()
    fast = requires.satisfies_fast(version, spec)
    if fast is not None:
        return fast

    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec_set = SpecifierSet(spec)
    except InvalidSpecifier:
        # Readers validate what they parse; a lock tool's quirk that reaches here cannot be
        # judged, and reporting it as drift would be a guess.
        return True
    try:
        parsed = Version(version)
    except InvalidVersion:
        # Not a PEP 440 version (old setuptools allowed these): only `===` can match it.
        return any(s.operator == "===" and s.version == version for s in spec_set)
    return spec_set.contains(parsed, prereleases=True)


# --- the dependency graph ----------------------------------------------------------------


def dependencies(
    dist: Installed, extras: AbstractSet[str], markers: Mapping[str, str]
) -> List[Tuple[str, FrozenSet[str]]]:
    """What `dist` (with `extras`) requires in the target: (canonical name, extras) pairs."""
    result = []
    for text in dist.requires:
        dep = requires.parse(text)
        if dep is not None and requires.marker_holds(dep.marker, markers, extras):
            result.append((dep.name, dep.extras))
    return result


def closure(
    roots: Iterable[Tuple[str, FrozenSet[str]]],
    installed: Mapping[str, Installed],
    markers: Mapping[str, str],
) -> Set[str]:
    """Every installed name reachable from `roots` through installed Requires-Dist."""
    seen: Dict[str, Set[str]] = {}
    stack = list(roots)
    while stack:
        name, extras = stack.pop()
        dist = installed.get(name)
        if dist is None:
            continue
        known = seen.get(name)
        if known is None:
            new = extras
            seen[name] = set(extras)
        elif extras <= known:
            continue
        else:
            # A later visit that brings new extras walks again with just those: the base
            # requirements it repeats stop at the seen-check.
            new = extras - known
            known.update(new)
        stack.extend(dependencies(dist, new, markers))
    return set(seen)


# --- broken: the environment does not satisfy itself -------------------------------------


def _broken(
    installed: Mapping[str, Installed],
    graph: Mapping[str, List[requires.Edge]],
    active: Mapping[str, List[Requirement]],
    ignored: AbstractSet[str],
    removable: AbstractSet[str],
) -> List[Finding]:
    """`pip check`'s problems: a requirement of an installed distribution (as it holds in the
    target, with the extras requested of it) that is not installed or not satisfied."""
    unmet: Dict[str, List[requires.Edge]] = {}
    wanted: Dict[str, List[requires.Edge]] = {}
    for requirer in sorted(graph):
        if requirer in ignored:
            continue
        for edge in graph[requirer]:
            if edge.name in ignored or edge.name == requirer:
                continue
            wanted.setdefault(edge.name, []).append(edge)
            dist = installed.get(edge.name)
            if dist is None or not requires.satisfies(dist.version, edge.specifier):
                unmet.setdefault(edge.name, []).append(edge)
    findings = []
    for name, edges in sorted(unmet.items()):
        dist = installed.get(name)
        version = dist.version if dist is not None else None
        specs = list(dict.fromkeys(e.specifier for e in edges if e.specifier))
        why = "; ".join(
            f"{installed[e.requirer].raw_name} {installed[e.requirer].version} requires "
            f"{name}{e.specifier or ''}"
            for e in edges
        )
        why += f"; installed {version}" if version is not None else ", which is not installed"
        required_by = tuple(sorted({e.requirer for e in edges}))
        suggested: Optional[str] = None
        source = line = None
        every = [e for e in wanted[name]]
        if not set(required_by) <= removable:
            all_specs = ",".join(dict.fromkeys(e.specifier for e in every if e.specifier))
            decl = _declared_pin(active.get(name, ()), all_specs)
            if decl is not None:
                suggested = _spelled(decl)
                source, line = decl.source or None, decl.line
            else:
                extras = sorted(set().union(*(e.extras for e in every)))
                suggested = name + (f"[{','.join(extras)}]" if extras else "") + all_specs
        else:
            why += (
                f"; {', '.join(required_by)} {'is' if len(required_by) == 1 else 'are'} "
                "not declared: uninstalling as suggested ends this"
            )
        findings.append(
            Finding(
                "broken",
                name,
                version,
                ",".join(specs),
                source=source,
                line=line,
                required_by=required_by,
                reason=why,
                suggested=suggested,
            )
        )
    return findings


def _declared_pin(reqs: Iterable[Requirement], specifier: str) -> Optional[Requirement]:
    """The declared pin that satisfies `specifier`, if any."""
    for req in reqs:
        if is_pinned(req) and not req.url:
            version = req.specifier.lstrip("=").strip()
            if requires.satisfies(version, specifier):
                return req
    return None


def _spelled(req: Requirement) -> str:
    extras = f"[{','.join(req.extras)}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


# --- undeclared ----------------------------------------------------------------------------


def _undeclared(
    installed: Mapping[str, Installed],
    sources: Sequence[Source],
    active: Mapping[str, List[Requirement]],
    excluded: Mapping[str, Requirement],
    mismatched: AbstractSet[str],
    graph: Mapping[str, List[requires.Edge]],
    requesters: Mapping[str, Set[str]],
    markers: Mapping[str, str],
    skip: Set[str],
    allow: Set[str],
) -> Tuple[List[Finding], Set[str]]:
    """The undeclared findings, and the set of undeclared packages that may be uninstalled."""
    candidates = {
        name
        for name in installed
        if name not in active and name not in skip and name not in ALWAYS_ALLOWED
    }
    if not candidates:
        return [], set()

    def roots_of(reqs: Iterable[Requirement]) -> List[Tuple[str, FrozenSet[str]]]:
        return [
            (r.name, frozenset(canonical(e) for e in r.extras))
            for r in reqs
            if r.name in installed
        ]

    # What the declared packages need: never hidden by `allow` or `ignore`.
    needed = closure(roots_of(r for reqs in active.values() for r in reqs), installed, markers)
    # What may be installed without being declared: the installers, drift-guard, the allowed
    # tools (e.g. Zappa) and ignored packages, with what only they need -- and, for top-level
    # files, what the declared packages need.
    tools = [(n, frozenset()) for n in ALWAYS_ALLOWED | allow | skip if n in installed]
    covered = closure(tools, installed, markers) - needed if tools else set()
    top_level = [
        r
        for source in sources
        if not source.frozen
        for r in source.requirements
        if r.name in active and evaluate(r.marker, markers)
    ]
    if top_level:
        covered |= closure(roots_of(top_level), installed, markers)
    undeclared = candidates - covered
    if not undeclared:
        return [], set()

    # Who needs each package: its requirers, and for a requirement that holds only through
    # an extra, whoever asked for that extra ("" = the declarations).
    direct: Dict[str, Set[str]] = {}
    effective: Dict[str, Set[str]] = {}
    for requirer, edges in graph.items():
        for edge in edges:
            if edge.name == requirer or edge.name not in undeclared:
                continue
            direct.setdefault(edge.name, set()).add(requirer)
            who = requesters.get(requirer, set()) if edge.via_extra else {requirer}
            effective.setdefault(edge.name, set()).update(who)

    # Removable: nothing that stays needs it. A declared package installed at another
    # version than declared does not count as staying: a frozen file lists everything its
    # packages need, so what only that version needs goes once it is as declared. What stays
    # is found by walking down from the packages that stay (each edge once).
    dependents: Dict[str, List[str]] = {}
    for name, need in effective.items():
        for requirer in need:
            dependents.setdefault(requirer, []).append(name)
    kept = {name for name in undeclared
            if any(p not in undeclared and p not in mismatched for p in effective.get(name, ()))}
    stack = list(kept)
    while stack:
        for name in dependents.get(stack.pop(), ()):
            if name not in kept:
                kept.add(name)
                stack.append(name)
    removable = undeclared - kept

    # Each removable package is uninstalled with a root: a package nothing removable needs
    # (or, for shared dependencies and cycles, one picked in name order). A root's group
    # takes in every package whose requirers are all in the group (or mismatched), at least
    # one in the group; counting the requirers already in the group makes that one walk.
    owner: Dict[str, str] = {}
    owned: Dict[str, List[str]] = {}
    wanted = {name: len(effective.get(name, set()) - mismatched) for name in removable}
    first = sorted(n for n in removable if not (effective.get(n, set()) & removable))
    for root in [*first, *sorted(removable)]:
        if root in owner:
            continue
        owner[root] = root
        group = [root]
        inside: Dict[str, int] = {}
        stack = [root]
        while stack:
            for name in dependents.get(stack.pop(), ()):
                if name in owner or name not in removable:
                    continue
                inside[name] = inside.get(name, 0) + 1
                if inside[name] == wanted[name]:
                    owner[name] = root
                    group.append(name)
                    stack.append(name)
        owned[root] = sorted(group[1:])

    frozen = any(s.frozen for s in sources) or not sources
    findings = []
    for name in sorted(undeclared):
        dist = installed[name]
        reasons = []
        if name in excluded:
            req = excluded[name]
            where = f"{req.source}:{req.line}" if req.line else req.source or "the declarations"
            reasons.append(
                f"{where} declares it only where {req.marker}; the marker excludes it here"
            )
        required_by = tuple(sorted(direct.get(name, ())))
        if name not in removable:
            findings.append(
                Finding("undeclared", name, dist.version, None, required_by=required_by,
                        reason="; ".join(reasons) or None)
            )
            continue
        root = owner[name]
        if root != name:
            if frozen:
                reasons.append(f"goes with {root}")
                findings.append(
                    Finding("undeclared", name, dist.version, None, required_by=required_by,
                            reason="; ".join(reasons))
                )
            continue
        staying = sorted(effective.get(name, set()) & mismatched)
        after = sorted((effective.get(name, set()) & removable) - {name})
        if staying:
            reasons.append(
                f"needed only by {', '.join(staying)} as installed, not as declared"
            )
        if after:
            reasons.append(f"needed only by {', '.join(after)}, which are not declared")
        findings.append(
            Finding(
                "undeclared",
                name,
                dist.version,
                None,
                dependencies=tuple(owned[name]),
                required_by=required_by,
                reason="; ".join(reasons) or None,
                uninstall=(name, *owned[name]),
            )
        )
    return findings, removable


# --- did you mean -------------------------------------------------------------------------


def _distance(a: str, b: str) -> int:
    """Optimal string alignment distance (edits, with adjacent transpositions)."""
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def near_miss(a: str, b: str) -> bool:
    """Whether two different names are likely one name mistyped."""
    if a == b or min(len(a), len(b)) < 4:
        return False
    limit = 2 if min(len(a), len(b)) >= 8 else 1
    return abs(len(a) - len(b)) <= limit and _distance(a, b) <= limit


def _near_misses(findings: List[Finding]) -> List[Finding]:
    """A declared name that is missing while a near-identical one is installed undeclared:
    most likely a typo on one side. Both findings say so."""
    missing = [f for f in findings if f.kind == "missing"]
    undeclared = [f for f in findings if f.kind == "undeclared"]
    if not missing or not undeclared:
        return findings
    said: Dict[int, str] = {}
    for m in missing:
        for u in undeclared:
            if near_miss(m.name, u.name):
                place = f"{m.source}:{m.line}" if m.source and m.line else m.source or "a file"
                said.setdefault(
                    id(m),
                    f"did you mean {u.name}? {u.name} {u.installed} is installed and not "
                    "declared",
                )
                said.setdefault(
                    id(u), f"did you mean {m.name}? {place} declares {m.name}, not installed"
                )
                break
    if not said:
        return findings
    result = []
    for f in findings:
        text = said.get(id(f))
        if text is not None:
            f = f._replace(reason=f"{text}; {f.reason}" if f.reason else text)
        result.append(f)
    return result

# --- unnamed direct references -----------------------------------------------------------


def _url_key(url: str, cwd: str) -> str:
    """A comparable form of a direct reference: local paths become absolute file URLs."""
    import posixpath
    from urllib.parse import unquote

    url = url.split("#", 1)[0].rstrip("/")
    for vcs in ("git+", "hg+", "svn+", "bzr+"):
        if url.startswith(vcs):
            url = url[len(vcs) :]
    if url.startswith("file:"):
        path = unquote(url[5:])
        path = "/" + path.lstrip("/") if path.startswith("/") else path
        return "file://" + posixpath.normpath(path)
    if "://" in url:
        return url
    path = url if os.path.isabs(url) else os.path.join(cwd, url)
    return "file://" + os.path.normpath(path).replace(os.sep, "/")


def name_direct_references(
    sources: Sequence[Source], installed: Mapping[str, Installed], cwd: str
) -> Tuple[List[Source], List[str]]:
    """Name the requirements that are only a path or URL (`-e .`, `./pkg`, a wheel URL) after
    the installed distribution that came from there (PEP 610 direct_url.json).

    Returns the sources with those requirements named, and notes for the ones that match
    nothing installed (they cannot be checked by name).
    """
    unnamed = [r for s in sources for r in s.requirements if not r.name and r.url]
    if not unnamed:
        return list(sources), []
    by_url = {_url_key(d.url, cwd): d.name for d in installed.values() if d.url}
    notes: List[str] = []
    result = []
    for source in sources:
        reqs = []
        for req in source.requirements:
            if not req.name and req.url:
                name = by_url.get(_url_key(req.url, cwd))
                if name is None:
                    where = f"{req.source}:{req.line}" if req.line else req.source
                    notes.append(
                        f"{where}: {req.url} names no package and matches nothing installed; "
                        "add #egg=NAME or use NAME @ URL to check it"
                    )
                    continue
                req = req._replace(name=name)
            reqs.append(req)
        result.append(source._replace(requirements=tuple(reqs)))
    return result, notes
