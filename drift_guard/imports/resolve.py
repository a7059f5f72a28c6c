"""Rank the findings by what the code imports: an undeclared package the code imports breaks
the deploy, one nothing imports only bloats it; an import nothing here provides is
`unresolved` (it works on this machine through some other path, if at all).

Each import resolves, in this order, to the target's standard library, the project's own
modules, the installed distributions that provide it, or nothing. An optional import
(TYPE_CHECKING, try/except ImportError) never ranks a finding nor makes one unresolved.
"""

from __future__ import annotations

from drift_guard._names import canonical
from drift_guard.models import Environment, Finding, Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

    from drift_guard.imports.providers import Providers
else:
    from drift_guard._record import NamedTuple

KINDS = ("missing", "mismatch", "undeclared", "unpinned", "broken", "unresolved")
_NOTES = 10


class Resolution(NamedTuple):
    used: Dict[str, List[str]]
    """Distribution (normalised name) -> where the code imports it ("app.py:3")."""
    unresolved: Dict[str, List[str]]
    """Top-level module name -> where the code imports it."""
    providers: Dict[str, FrozenSet[str]]
    """"app.py:3" + module -> the distributions that provide that import (for attribution)."""
    notes: Tuple[str, ...]


def local_names(paths: Sequence[str], code: Sequence[str]) -> Tuple[Set[str], Dict[str, Set[str]]]:
    """(top-level names of the project's own modules, and for each directory that is no
    package the modules beside a script there: its sys.path[0] when run)."""
    names: Set[str] = set()
    roots = [c.strip().strip("/") for c in code if c.strip().strip("/") not in ("", ".")]
    roots.append("src")
    packages = {p.rpartition("/")[0] for p in paths if p.endswith("/__init__.py")}
    beside: Dict[str, Set[str]] = {}
    for path in paths:
        parts = path.split("/")
        names.add(_stem(parts[0]))
        for root in roots:
            if path.startswith(root + "/"):
                names.add(_stem(path[len(root) + 1 :].split("/")[0]))
        directory = path.rpartition("/")[0]
        if directory and directory not in packages:
            beside.setdefault(directory, set()).add(_stem(parts[-1]))
    # Packages directly inside a script directory are importable from it too.
    for path in paths:
        directory, _, _ = path.rpartition("/")
        parent, _, child = directory.rpartition("/")
        if parent in beside and directory in packages:
            beside[parent].add(child)
    return names, beside


def _stem(name: str) -> str:
    return name[:-3] if name.endswith(".py") else name


def resolve(
    root: str,
    env: Environment,
    installed: Mapping[str, Installed],
    *,
    code: Sequence[str] = (),
    exclude: Optional[Sequence[str]] = None,
    staged: Optional[bool] = None,
    use_cache: bool = True,
) -> Resolution:
    """Scan the project's code under `root` and resolve every import against `env`."""
    from drift_guard.imports import files
    from drift_guard.imports.stdlib import module_names, version_tuple

    version = version_tuple(env.python_version)
    scan = files.scan(
        root, version, code=code,
        exclude=files.DEFAULT_EXCLUDE if exclude is None else exclude,
        staged=staged, use_cache=use_cache,
    )
    stdlib = module_names(version)
    local, beside = local_names([s.path for s in scan.sources], code)
    # Who provides what is read from every distribution's files: only when some import needs
    # it (a project without third-party imports costs no reading of the environment).
    providers: Optional[Providers] = None
    used: Dict[str, List[str]] = {}
    unresolved: Dict[str, List[str]] = {}
    by_site: Dict[str, FrozenSet[str]] = {}
    for source in scan.sources:
        nearby = beside.get(source.path.rpartition("/")[0], set())
        for imp in source.imports:
            top = imp.module.partition(".")[0]
            if top in stdlib or top in local or top in nearby or top == "__main__":
                continue
            where = f"{source.path}:{imp.line}"
            if providers is None:
                from drift_guard.imports.providers import Providers

                providers = Providers(installed)
            dists = providers.providers(imp.module, imp.names)
            if imp.optional:
                continue
            if dists:
                by_site[f"{where} {imp.module}"] = dists
                for dist in dists:
                    used.setdefault(dist, []).append(where)
            else:
                unresolved.setdefault(top, []).append(where)
    notes = list(scan.notes)
    if len(notes) > _NOTES:
        # A project full of Python 2 or generated files: the first few say what is going on.
        notes[_NOTES:] = [f"{len(notes) - _NOTES} more files whose imports were not read"]
    if providers is not None:
        notes.extend(providers.warnings)
    return Resolution(used, unresolved, by_site, tuple(notes))


def _sorted_sites(sites: List[str]) -> Tuple[str, ...]:
    def key(site: str) -> Tuple[str, int]:
        path, _, line = site.rpartition(":")
        return path, int(line) if line.isdigit() else 0

    return tuple(sorted(dict.fromkeys(sites), key=key))


def rank(
    findings: Sequence[Finding],
    resolution: Resolution,
    *,
    unresolved: bool = False,
    ignore: Sequence[str] = (),
) -> List[Finding]:
    """`findings` with `imported_by` set on the undeclared packages the code imports (those
    first), and -- when `unresolved` -- an `unresolved` finding per module nothing provides."""
    undeclared = {f.name: f for f in findings if f.kind == "undeclared"}
    # A package installed only because an undeclared one needs it is fixed by declaring
    # that one: an import of it ranks its root.
    roots: Dict[str, Set[str]] = {}
    for f in undeclared.values():
        for dep in f.dependencies:
            roots.setdefault(dep, set()).add(f.name)
    sites: Dict[str, List[str]] = {}
    for key, dists in resolution.providers.items():
        where = key.split(" ", 1)[0]
        if any(d not in undeclared and d not in roots for d in dists):
            continue  # a declared (or covered) distribution provides it: the deploy has it
        for dist in dists:
            for owner in ({dist} if dist in undeclared else roots.get(dist, set())):
                sites.setdefault(owner, []).append(where)
    ranked: List[Finding] = []
    for f in findings:
        if f.kind == "undeclared" and f.name in sites:
            f = f._replace(imported_by=_sorted_sites(sites[f.name]))
        ranked.append(f)
    if unresolved:
        skip = {canonical(n) for n in ignore}
        for module, where in sorted(resolution.unresolved.items()):
            if canonical(module) in skip:
                continue
            ranked.append(
                Finding("unresolved", module, None, None, imported_by=_sorted_sites(where))
            )
    # Stable: the imported undeclared first, then the order compare() gave, unresolved last.
    order = {id(f): i for i, f in enumerate(ranked)}
    ranked.sort(key=lambda f: (0 if f.imported_by and f.kind == "undeclared" else 1,
                               1 if f.kind == "unresolved" else 0, order[id(f)]))
    return ranked


def tolerate(findings: Sequence[Finding], fail_on: Optional[Sequence[str]],
             undeclared: str = "all") -> List[Finding]:
    """Mark the findings that are reported but do not fail the run: kinds not in `fail_on`
    (None: every kind fails), and with `undeclared="imported"` the undeclared packages the
    code does not import."""
    kinds = set(KINDS if fail_on is None else fail_on)
    result = []
    for f in findings:
        fails = f.kind in kinds
        if fails and f.kind == "undeclared" and undeclared == "imported" and not f.imported_by:
            fails = False
        result.append(f if fails else f._replace(tolerated=True))
    return result

