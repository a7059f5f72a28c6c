"""Read Pipfile.lock as `pipenv install --dev` (or `pipenv sync --dev`) would use it.

Every category is declared: `default`, `develop` and custom ones (`[lint]` in the Pipfile);
`default` and `develop` are expected, others only when selected (--with lint). Pipenv locks for
the machine it runs on and writes markers (the user's and each package's Requires-Python) on
the entries: they are kept for compare() to evaluate for the target.

Quirks of the files pipenv writes (checked with pipenv 2026.10.3):
- `"version": "*"` with no hashes when a package's marker was false when locking: declared,
  no pin; without a marker it is not expected either (pipenv drops the marker it had).
- `"version": "==>=2.0"` for a version range on such a package: read as the range, `>=2.0`.
- git, path, file and editable entries carry no version.
"""

from __future__ import annotations

import os

from drift_guard._names import canonical
from drift_guard._patterns import lazy
from drift_guard.models import ReadContext, Requirement, Source
from drift_guard.readers._toml import (
    HIDDEN,
    ODD_BREAK_CHARS,
    Doc,
    checked_name,
    join_key,
    load_json,
    local_url,
    lock_source,
    marker_holds,
    one_per_declaration,
    select_groups,
    without_group_tests,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

FORMAT = "Pipfile.lock"
PIPFILE_SPEC = 6
HINT = "regenerate it with `pipenv lock`"
_DEFAULT = ("default", "develop")
_ALIASES = {"main": "default", "packages": "default", "dev": "develop",
            "dev-packages": "develop"}
_PIN = lazy(r"^\s*[A-Za-z0-9][A-Za-z0-9._+!*-]*\s*$")
_OPERATOR = lazy(r"^\s*(===|==|!=|<=|>=|~=|<|>)")
# Pipfile entries may spell a marker as its own key (`sys_platform = "== 'win32'"`).
# The fields that make an entry a direct reference.
_SOURCE_KEYS = frozenset({"git", "hg", "svn", "bzr", "path", "file"})
_MARKER_KEYS = (
    "os_name", "sys_platform", "platform_machine", "platform_python_implementation",
    "platform_release", "platform_system", "platform_version", "python_version",
    "python_full_version", "implementation_name", "implementation_version",
)
_LINE_CATEGORY = lazy(r'^ {4}"((?:[^"\\]|\\.)*)"\s*:\s*\{')
_LINE_PACKAGE = lazy(r'^ {8}"((?:[^"\\]|\\.)*)"\s*:\s*\{')


def read(path: str, ctx: ReadContext) -> Source:
    """What Pipfile.lock locks; expected: `default` and `develop` (changed by
    --with/--without/--only)."""
    doc = load_json(path, HINT)
    meta = doc.get(doc.data, "_meta", dict, "", default={})
    spec = doc.get(meta, "pipfile-spec", int, "_meta")
    if spec is not None and not 0 <= spec <= PIPFILE_SPEC:
        raise doc.error("_meta.pipfile-spec",
                        f"pipfile-spec {str(spec)[:20]} is not one drift-guard reads (up to "
                        f"{PIPFILE_SPEC}, what pipenv writes since 2018); upgrade drift-guard, "
                        "or rewrite it with `pipenv lock` of a pipenv that writes 6", hint=False)
    categories = [c for c in doc.data if c != "_meta"]
    for c in categories:
        doc.expect(doc.data[c], dict, join_key("", c))
    groups = select_groups(categories, _DEFAULT, ctx, aliases=_ALIASES)
    base = os.path.dirname(os.path.abspath(path))
    lines = _lines(doc.text)

    requirements: List[Requirement] = []
    project: Optional[str] = None
    for category in categories:
        for raw_name, entry in doc.data[category].items():
            key = join_key(join_key("", category), raw_name)
            name = checked_name(doc, raw_name, key)
            doc.expect(entry, (dict, str), key)
            if isinstance(entry, str):  # hand-written `"name": "*"`, as in a Pipfile
                entry = {"version": entry}
            req, is_project = _requirement(
                doc, entry, name, key, category, base, path, lines.get((category, raw_name)),
                category in groups and name not in HIDDEN)
            if is_project:
                project = project or name
                continue
            requirements.append(req)
    requirements = _later_category_wins(doc, requirements, groups, ctx)
    # pipenv repeats a package both categories need: one declaration, not two findings.
    return lock_source(path, FORMAT, one_per_declaration(requirements), project, groups)


def _later_category_wins(doc: Doc, requirements: List[Requirement], groups: List[str],
                         ctx: ReadContext) -> List[Requirement]:
    """pipenv installs the selected categories one after the other (`default`, then
    `develop`, then the others), each with pip: of a name locked in several, the entry of the
    last category whose marker holds for the target is what stays installed."""
    order = {c: n for n, c in enumerate(sorted(groups, key=lambda c: (
        c != "default", c != "develop")))}
    last: Dict[str, Requirement] = {}
    for req in requirements:
        if not req.expected or not marker_holds(doc, req.marker, join_key(req.key or "",
                                                                          "markers"), ctx.markers):
            continue
        known = last.get(req.name)
        if known is None or order[req.group or ""] >= order[known.group or ""]:
            last[req.name] = req
    result = []
    for req in requirements:
        winner = last.get(req.name)
        if req.expected and winner is not None and winner is not req and (
                req.specifier, req.url) != (winner.specifier, winner.url):
            req = req._replace(expected=False)
        result.append(req)
    return result


def _requirement(doc: Doc, entry: Dict[str, Any], name: str, key: str, category: str,
                 base: str, source: str = "", line: Optional[int] = None,
                 selected: bool = True) -> Tuple[Requirement, bool]:
    """The entry's requirement (expected when its category is `selected` and pipenv installs
    it), and whether it is the project itself."""
    version = doc.string(entry, "version", key)
    specifier = _specifier(doc, version, join_key(key, "version"))
    markers = []
    marker = doc.string(entry, "markers", key)
    if marker:
        markers.append(without_group_tests(marker))
    for field in _MARKER_KEYS:
        if field in entry:
            value = doc.string(entry, field, key)
            if value:
                markers.append(f"{field} {value}")
    combined = None
    if len(markers) == 1:
        combined = markers[0]
    elif markers:
        combined = " and ".join(f"({m})" for m in markers)
    if combined:
        doc.marker(combined, join_key(key, "markers"))
    extras = tuple(sorted(canonical(e) for e in doc.strings(entry, "extras", key)))
    hashes = bool(doc.strings(entry, "hashes", key))
    editable = bool(doc.get(entry, "editable", bool, key, default=False))

    url = None
    is_project = False
    for vcs in (("git", "hg", "svn", "bzr") if not entry.keys().isdisjoint(_SOURCE_KEYS)
                else ()):  # (a package from an index, the common entry, has none of them)
        repo = doc.string(entry, vcs, key)
        if repo is not None:
            ref = doc.string(entry, "ref", key)
            url = (repo if repo.startswith(f"{vcs}+") else f"{vcs}+{repo}")
            url += f"@{ref}" if ref else ""
            break
    if url is None and not entry.keys().isdisjoint(_SOURCE_KEYS):
        local = doc.string(entry, "path", key)
        if local is not None:
            url = local_url(base, local)
            is_project = os.path.normpath(os.path.join(base, local)) == os.path.normpath(base)
        else:
            url = doc.string(entry, "file", key)
            if url is not None and "://" not in url:
                url = local_url(base, url)
    sub = doc.string(entry, "subdirectory", key) if "subdirectory" in entry else None
    if url and sub:
        url += f"#subdirectory={sub}"

    # "*" without hashes is what pipenv writes for a package it skipped when locking.
    expected = selected and not (version == "*" and not hashes and not combined and url is None)
    text = name + (f"[{','.join(extras)}]" if extras else "")
    text += f" @ {url}" if url else specifier
    req = Requirement(
        name=name, specifier=specifier, source=source, line=line, key=key, marker=combined,
        extras=extras, url=url, editable=editable, hashes=hashes, expected=expected,
        group=category, text=text,
    )
    return req, is_project


def _specifier(doc: Doc, version: Optional[str], key: str) -> str:
    if version is None or version.strip() in ("", "*"):
        return ""
    spec = version.strip()
    # pipenv 2026.10 writes "==>=2.0" for a range it could not pin: the range is meant.
    if spec.startswith("==") and not spec.startswith("===") and _OPERATOR.match(spec[2:]):
        spec = spec[2:].strip()
    if not _OPERATOR.match(spec):
        spec = f"=={spec}"
    if spec.startswith("===") or (spec.startswith("==") and "," not in spec):
        # One pinned version: compare() judges even a non-PEP 440 one, but not garbage.
        if not _PIN.match(spec.lstrip("=")):
            raise doc.error(key, f"{version!r} is not a version or version specifier")
        return spec
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        raise doc.error(key, f"{version!r} is not a version or version specifier") from None
    return spec


def _lines(text: str) -> Dict[Tuple[str, str], int]:
    """(category, name) -> 1-based line of the entry, in the layout pipenv writes (4-space
    indentation); empty for other layouts."""
    if not any(c in text for c in ODD_BREAK_CHARS):
        return _lines_by_search(text)
    return _lines_by_splitting(text)


def _lines_by_search(text: str) -> Dict[Tuple[str, str], int]:
    """_lines() for a text whose only line break is \n: only the lines that can be a
    category's or a package's (4 or 8 blanks, then a quote) are looked at."""
    result: Dict[Tuple[str, str], int] = {}
    text = "\n" + text
    starts = []
    for needle in ('\n    "', '\n        "'):
        pos = text.find(needle)
        while pos != -1:
            starts.append(pos + 1)
            pos = text.find(needle, pos + 1)
    starts.sort()
    category = None
    number, last = 0, 0
    for start in starts:
        number += text.count("\n", last, start)
        last = start
        end = text.find("\n", start)
        line = text[start:] if end == -1 else text[start:end]
        category = _note_line(line, number, category, result)
    return result


def _lines_by_splitting(text: str) -> Dict[Tuple[str, str], int]:
    """_lines() with str.splitlines(): every line break Python knows."""
    result: Dict[Tuple[str, str], int] = {}
    category = None
    for number, line in enumerate(text.splitlines(), 1):
        category = _note_line(line, number, category, result)
    return result


def _note_line(line: str, number: int, category: Optional[str],
               result: Dict[Tuple[str, str], int]) -> Optional[str]:
    """Record line `number` when it opens a package of `category`; return the category in
    force after it (the one it opens, if it opens one)."""
    found = _LINE_PACKAGE.match(line)
    if found:
        if category is not None:
            result[(category, _unquote(found.group(1)))] = number
        return category
    found = _LINE_CATEGORY.match(line)
    return _unquote(found.group(1)) if found else category


def _unquote(text: str) -> str:
    """The JSON string whose body (between the quotes) is `text`."""
    if "\\" not in text:
        return text
    import json

    return json.loads(f'"{text}"')  # type: ignore[no-any-return]
