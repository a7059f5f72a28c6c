"""Read pylock.toml (PEP 751) as an installer would select from it for the target.

A package is selected when its `marker` holds, evaluated in the "lock_file" context: the
target's marker environment plus `extras` (the chosen extras, none by default) and
`dependency_groups` (the lock's `default-groups`, changed by --with/--without/--only). Two
selected entries of one name make the lock unusable (the spec says installers must fail).
What is not selected is declared but not expected. The project itself (a `directory` entry
for the lock's own directory) is the project, not a dependency.

Tools write different shapes (checked: uv 0.13 export, pip 26.3 `pip lock`, pipenv 2026.10):
uv's and pip's are single-use (no groups); pipenv's uses `'dev' in dependency_groups` markers,
and leaves packages whose marker was false when locking with no version and no source --
such an entry cannot be installed, so it is declared but never expected.
"""

from __future__ import annotations

import os
import re

from drift_guard._names import canonical
from drift_guard._patterns import lazy
from drift_guard.models import ReadContext, Source
from drift_guard.readers._toml import (
    Doc,
    Locked,
    entry_lines,
    load_toml,
    local_url,
    lock_marker_holds,
    lock_requirements,
    lock_source,
    marker_holds,
    select_groups,
    without_group_tests,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

FORMAT = "pylock.toml"
_SOURCES = ("vcs", "directory", "archive", "sdist", "wheels")
_GROUP_TEST = lazy(r"""(['"])([^'"]*)\1\s+in\s+dependency_groups\b""")
_REGENERATE = {
    "uv": "regenerate it with `uv export --format pylock.toml`",
    "pip": "regenerate it with `pip lock`",
    "pipenv": "regenerate it with `pipenv lock`",
    "pdm": "regenerate it with `pdm export -f pylock`",
}


def read(path: str, ctx: ReadContext) -> Source:
    """What pylock.toml locks; expected: what it selects for the target."""
    doc = load_toml(path, "regenerate it with the tool that wrote it")
    created_by = doc.data.get("created-by")
    if isinstance(created_by, str) and created_by in _REGENERATE:
        doc.hint = _REGENERATE[created_by]
    _check_version(doc)
    _check_target(doc, ctx.markers)
    base = os.path.dirname(os.path.abspath(path))

    # pipenv installs its own pylock.toml by its own rules, not PEP 751's (see below).
    pipenv = created_by == "pipenv"
    lock_groups = [canonical(g) for g in doc.strings(doc.data, "dependency-groups", "")]
    default = [canonical(g) for g in doc.strings(doc.data, "default-groups", "")]
    available = list(dict.fromkeys([*default, *lock_groups]))
    groups = select_groups(available, default, ctx)
    lock_extras = {canonical(e) for e in doc.strings(doc.data, "extras", "")}
    extras = {canonical(e) for e in ctx.extras}
    env = ctx.markers

    entries = doc.tables(doc.data, "packages", "")
    lines = entry_lines(doc.text, "packages", len(entries))
    doc.text = ""  # not needed any more: let it go before the packages are read
    locked: List[Locked] = []
    selected: Set[int] = set()
    reachable: Set[int] = set()
    chosen_by_name: Dict[str, int] = {}
    project: Optional[str] = None
    # The same for every entry: made once.
    group_set = frozenset(groups)
    every_extra = frozenset(lock_extras | extras)
    every_group = frozenset(available)
    for i, entry in enumerate(entries):
        entries[i] = {}  # each entry goes once it is read
        where = f"packages[{i}]"
        name = doc.name(entry, "name", where)
        version = doc.string(entry, "version", where)
        marker = doc.string(entry, "marker", where)
        key = f"{where}.marker"
        url, editable, is_project = _source(doc, entry, where, base)
        if is_project:
            project = project or name
        group = None
        if marker:
            found = _GROUP_TEST.search(marker)
            group = canonical(found.group(2)) if found else None
        hashes = any(_has_hashes(entry.get(s)) for s in ("archive", "sdist", "wheels"))
        locked.append(Locked(name=name, version=version, key=where, line=lines[i], url=url,
                             editable=editable, hashes=hashes, group=group))
        installable = version is not None or any(s in entry for s in _SOURCES)
        if pipenv:
            holds = _pipenv_installs(doc, marker, key, env, set(groups))
        else:
            holds = lock_marker_holds(doc, marker, key, env, extras, group_set)
        if installable and holds:
            if name in chosen_by_name:
                first = chosen_by_name[name]
                raise doc.error(where, f"packages[{first}] and packages[{i}] both apply to "
                                       f"this environment for {name!r}; a lock may select "
                                       "one entry per name")
            chosen_by_name[name] = i
            selected.add(i)
        if installable and lock_marker_holds(doc, marker, key, env, every_extra, every_group):
            reachable.add(i)

    requirements = lock_requirements(path, locked, selected, reachable,
                                     skip={project} if project else frozenset())
    return lock_source(path, FORMAT, requirements, project, groups)


def _pipenv_installs(doc: Doc, marker: Optional[str], key: str, env: Mapping[str, str],
                     groups: Set[str]) -> bool:
    """Whether `pipenv sync` (2026.10) installs an entry of its own pylock.toml.

    pipenv turns the file into Pipfile.lock categories: an entry whose marker tests
    `dependency_groups` and says "dev" or "test" goes to `develop` (installed with --dev),
    every other one to `default`. It then drops the group tests, and installs an entry whose
    remaining marker tests `extras` without evaluating it (pip's marker environment has no
    `extras`): every listed extra is installed.
    """
    develop = bool(marker) and "dependency_groups" in (marker or "") and (
        "dev" in (marker or "").lower() or "test" in (marker or "").lower())
    if ("dev" if develop else "default") not in groups:
        return False
    if not marker:
        return True
    rest = without_group_tests(marker)
    if re.search(r"\bextras\b", re.sub(r"'[^']*'|\"[^\"]*\"", "", rest)):
        return True
    return marker_holds(doc, rest, key, env)


def _check_version(doc: Doc) -> None:
    text = doc.string(doc.data, "lock-version", "", required=True) or ""
    major = text.split(".", 1)[0]
    if not major.isdigit():
        raise doc.error("lock-version", f"{text!r} is not a lock version")
    if int(major) != 1:
        # PEP 751: an installer must refuse a major version it does not know.
        raise doc.error("lock-version", f"lock-version {text[:20]} is not one drift-guard "
                                        "reads (1.x, PEP 751); upgrade drift-guard, or "
                                        f"{doc.hint}", hint=False)


def _check_target(doc: Doc, env: Mapping[str, str]) -> None:
    """A lock whose `requires-python` or `environments` excludes the target is one the
    installers refuse (uv, pip and pipenv alike): an error, not an empty or wrong set."""
    requires = doc.string(doc.data, "requires-python", "")
    python = env.get("python_full_version", "")
    if requires and python:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            allowed = SpecifierSet(requires).contains(python, prereleases=True)
        except InvalidSpecifier:
            raise doc.error("requires-python", f"{requires[:40]!r} is not a version "
                                               "specifier") from None
        if not allowed:
            raise doc.error("requires-python", f"the lock requires Python {requires[:40]} and "
                                               f"the target is Python {python}; installers "
                                               "refuse it: check with the Python it is for, "
                                               "or relock for this one", hint=False)
    environments = doc.strings(doc.data, "environments", "")
    if environments and not any(
            marker_holds(doc, m, f"environments[{i}]", env) for i, m in enumerate(environments)):
        raise doc.error("environments", "no marker of `environments` holds for the target; "
                                        "installers refuse the lock here: check with the "
                                        "environment it is for, or relock for this one",
                        hint=False)


def _has_hashes(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value.get("hashes"))
    if isinstance(value, list):
        return any(_has_hashes(v) for v in value)
    return False


def _source(doc: Doc, entry: Mapping[str, Any], where: str, base: str
            ) -> Tuple[Optional[str], bool, bool]:
    """(direct reference, editable, is the project itself) of one package entry."""
    vcs = doc.get(entry, "vcs", dict, where)
    if vcs is not None:
        key = f"{where}.vcs"
        kind = doc.string(vcs, "type", key) or "git"
        url = doc.string(vcs, "url", key)
        if url is None:
            path = doc.string(vcs, "path", key)
            url = local_url(base, path) if path else None
        commit = doc.string(vcs, "commit-id", key) or doc.string(vcs, "requested-revision", key)
        sub = doc.string(vcs, "subdirectory", key)
        if url is None:
            return None, False, False  # pipenv 2026.10 writes a commit id and nothing else
        result = f"{kind}+{url}" + (f"@{commit}" if commit else "")
        return (f"{result}#subdirectory={sub}" if sub else result), False, False
    directory = doc.get(entry, "directory", dict, where)
    if directory is not None:
        key = f"{where}.directory"
        path = doc.string(directory, "path", key, required=True) or ""
        editable = bool(doc.get(directory, "editable", bool, key, default=False))
        here = os.path.normpath(os.path.join(base, path)) == os.path.normpath(base)
        return local_url(base, path), editable, here
    archive = doc.get(entry, "archive", dict, where)
    if archive is not None:
        key = f"{where}.archive"
        url = doc.string(archive, "url", key)
        if url is None:
            path = doc.string(archive, "path", key)
            url = local_url(base, path) if path else None
        return url, False, False
    return None, False, False
