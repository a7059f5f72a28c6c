"""Compare what is installed with what is declared: a pure function, no disk, no printing.

`packaging` is imported only when the answer needs it: a frozen file whose every pin is the
exact version string installed is checked with string comparisons alone.
"""

from __future__ import annotations

import os
from typing import (
    TYPE_CHECKING,
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

from drift_guard._names import CANONICAL_VERSION, canonical
from drift_guard.markers import evaluate
from drift_guard.models import Finding, Installed, Requirement, Source

if TYPE_CHECKING:
    from packaging.requirements import Requirement as PackagingRequirement

# Never undeclared: the installers themselves, present in every environment pip makes.
ALWAYS_ALLOWED = frozenset({"pip", "setuptools", "wheel", "distribute", "drift-guard"})

KIND_ORDER = {"missing": 0, "mismatch": 1, "undeclared": 2, "unpinned": 3}

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
    """Every difference between `installed` and the union of `sources`.

    `markers` is the target's marker environment. `ignore` names are left out entirely;
    `allow` names (and what they need) may be installed without being declared, like pip and
    drift-guard itself; `projects` are the project's own distributions, never missing or
    undeclared.
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
    for name, reqs in declared.items():
        active = [r for r in reqs if evaluate(r.marker, markers)]
        dist = installed.get(name)
        if dist is None:
            expected = [r for r in active if r.expected]
            if expected:
                findings.append(_finding("missing", expected[0], None))
            continue
        findings.extend(
            _finding("mismatch", req, dist.version)
            for req in active
            if not satisfies(dist.version, req.specifier)
        )

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

    findings.extend(
        _undeclared(installed, sources, declared, markers, skip, {canonical(n) for n in allow})
    )

    if require_pins:
        findings.extend(
            _finding(
                "unpinned", req, installed[req.name].version if req.name in installed else None
            )
            for source in sources
            for req in source.requirements
            if req.name and req.name not in skip and not is_pinned(req)
        )

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
        if pinned == version and CANONICAL_VERSION.match(pinned):
            return True
    elif spec.startswith("===") and "," not in spec:
        # Arbitrary equality is a string comparison by definition (PEP 440).
        return spec[3:].strip().lower() == version.lower()

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


# --- undeclared -------------------------------------------------------------------------

_PARSED: Dict[str, Optional[PackagingRequirement]] = {}


def _parse_requires(text: str) -> Optional[PackagingRequirement]:
    req = _PARSED.get(text, _PARSED)
    if req is _PARSED:
        from packaging.requirements import InvalidRequirement
        from packaging.requirements import Requirement as PackagingRequirement

        try:
            req = PackagingRequirement(text)
        except InvalidRequirement:
            # A broken Requires-Dist in someone's metadata: pip ignores it too.
            req = None
        _PARSED[text] = req
    return req  # type: ignore[return-value]


def dependencies(
    dist: Installed, extras: AbstractSet[str], markers: Mapping[str, str]
) -> List[Tuple[str, FrozenSet[str]]]:
    """What `dist` (with `extras`) requires in the target: (canonical name, extras) pairs."""
    result = []
    for text in dist.requires:
        req = _parse_requires(text)
        if req is None:
            continue
        if req.marker is not None:
            holds = any(req.marker.evaluate({**markers, "extra": e}) for e in ("", *extras))
            if not holds:
                continue
        result.append((canonical(req.name), frozenset(canonical(e) for e in req.extras)))
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


def _undeclared(
    installed: Mapping[str, Installed],
    sources: Sequence[Source],
    declared: Mapping[str, List[Requirement]],
    markers: Mapping[str, str],
    skip: Set[str],
    allow: Set[str],
) -> List[Finding]:
    candidates = {
        name
        for name in installed
        if name not in declared and name not in skip and name not in ALWAYS_ALLOWED
    }
    if not candidates:
        return []

    # What may be installed without being declared: drift-guard's own dependencies and the
    # callers' allow-list (e.g. Zappa and what it needs), and -- for top-level files -- what
    # the declared packages need.
    covered_roots: List[Tuple[str, FrozenSet[str]]] = [
        (n, frozenset()) for n in ALWAYS_ALLOWED | allow | skip if n in installed
    ]
    for source in sources:
        if source.frozen:
            continue
        for req in source.requirements:
            if req.name in installed and evaluate(req.marker, markers):
                covered_roots.append((req.name, frozenset(canonical(e) for e in req.extras)))
    covered = closure(covered_roots, installed, markers) if covered_roots else set()
    undeclared = candidates - covered
    if not undeclared:
        return []

    # Group the undeclared: a root is installed for its own sake; the rest are installed
    # because a root needs them.
    needs: Dict[str, Set[str]] = {
        name: {dep for dep, _ in dependencies(installed[name], frozenset(), markers)}
        & undeclared - {name}
        for name in undeclared
    }
    reach = {
        name: closure([(name, frozenset())], installed, markers) & undeclared - {name}
        for name in undeclared
    }
    # Reach, not direct need: `requests[socks]` can bring an undeclared PySocks in through a
    # declared requests, and it is then the requirer of requests[socks] that explains it.
    roots = {name for name in undeclared if not any(name in reach[o] for o in undeclared)}
    # Dependency cycles among undeclared packages leave some unreached; the first name of
    # each such cycle stands as its root.
    reached = set(roots).union(*(reach[r] for r in roots)) if roots else set()
    for name in sorted(undeclared):
        if name not in reached:
            roots.add(name)
            reached |= {name} | reach[name]

    frozen = any(s.frozen for s in sources) or not sources
    findings = []
    for name in sorted(undeclared):
        dist = installed[name]
        if name in roots:
            findings.append(
                Finding(
                    "undeclared", name, dist.version, None, dependencies=tuple(sorted(reach[name]))
                )
            )
        elif frozen:
            direct = [o for o in undeclared if name in needs[o]]
            required_by = tuple(sorted(direct or (r for r in roots if name in reach[r])))
            findings.append(
                Finding("undeclared", name, dist.version, None, required_by=required_by)
            )
    return findings


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
