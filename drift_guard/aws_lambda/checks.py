"""The Lambda checks, each a function of the target, the distributions and (once built) the
package. Nothing here prints; front ends (the Zappa callback, `drift-guard lambda`) compose
them and render the result with `drift_guard.aws_lambda.report`.
"""

from __future__ import annotations

import datetime
import os
import re

from drift_guard._io import METADATA_LIMIT, read_bytes
from drift_guard.aws_lambda import elf
from drift_guard.aws_lambda.artifact import (
    SHARED_OBJECT_LIMIT,
    Artifact,
    info_dir_name,
    iter_shared_objects,
    parse_metadata,
    record_paths,
)
from drift_guard.aws_lambda.excludes import Exclude, stripping_exclude
from drift_guard.aws_lambda.runtimes import verdict
from drift_guard.aws_lambda.target import LambdaOptions, Target, markers
from drift_guard.errors import DriftGuardError
from drift_guard.models import Installed, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Callable,
        Dict,
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


class LambdaFinding(NamedTuple):
    """Something about the package that breaks (or blocks) the function on Lambda."""

    kind: str
    """"runtime", "python", "needed", "requires-python", "stripped", "editable", "replaced",
    "provided", "layer", "platform" or "size"."""
    name: str
    """The distribution (PEP 503 name), the runtime, or the package's file name."""
    message: str
    hint: str = ""
    path: Optional[str] = None
    """The file in the package the finding is about, where there is one."""


# --- reading a distribution's own files, wherever it sits -----------------------------------

if TYPE_CHECKING:
    Reader = Callable[[Installed, str], Optional[bytes]]
    """(distribution, file in its info directory) -> bytes, or None when there is no such
    file."""


def venv_reader(dist: Installed, name: str) -> Optional[bytes]:
    path = os.path.join(dist.path, name)
    if not os.path.isfile(path):
        return None
    return read_bytes(path, limit=METADATA_LIMIT, what=name)


def artifact_reader(artifact: Artifact) -> Reader:
    def read(dist: Installed, name: str) -> Optional[bytes]:
        member = f"{dist.path}/{name}"
        if member not in artifact.files:
            return None
        return artifact.read(member, what=name)
    return read


def record_of(dist: Installed, read: Reader) -> List[str]:
    """The files of `dist` that ship in site-packages, from its RECORD (egg-info:
    installed-files.txt). Scripts outside site-packages and bytecode are left out."""
    info = dist.path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    data = read(dist, "RECORD")
    if data is not None:
        paths = record_paths(data, info)
    else:
        data = read(dist, "installed-files.txt")
        if data is None:
            return []
        paths = [os.path.normpath(os.path.join(info, line.strip())).replace(os.sep, "/")
                 for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    result = []
    for p in paths:
        parts = p.split("/")
        if p.startswith("/") or ".." in parts or "__pycache__" in parts or p.endswith(".pyc"):
            continue
        result.append(p)
    return result


# --- the runtime --------------------------------------------------------------------------


def runtime_findings(target: Target, today: datetime.date, action: str,
                     options: LambdaOptions) -> Tuple[List[LambdaFinding], List[str]]:
    """(findings, warnings) about the runtime's support dates. `action`: "create", "update"
    or "package". Past a block the command stops; a deprecated runtime warns (or stops with
    `runtime = "error"`); an unknown runtime is named."""
    if options.runtime == "off":
        return [], []
    v = verdict(target.runtime, today, action)
    if v is None:
        return [], []
    stop = v.blocked or (v.deprecated and options.runtime == "error")
    if not stop:
        return [], [v.message]
    hint = ("choose a supported runtime (\"runtime\" in zappa_settings, --runtime); if AWS "
            "moved the dates, set them under lambda.runtimes.\"" + target.runtime.name + "\"")
    return [LambdaFinding("runtime", target.runtime.name, v.message, hint)], []


def python_finding(venv_version: str, target: Target) -> Optional[LambdaFinding]:
    """A virtualenv of another Python than the runtime's: markers, Requires-Python and
    compiled modules were all resolved for the wrong one."""
    parts = venv_version.split(".")
    try:
        venv = (int(parts[0]), int(parts[1]))
    except (IndexError, ValueError):
        return None
    if venv == target.python:
        return None
    return LambdaFinding(
        "python", target.runtime.name,
        f"the virtualenv runs Python {venv_version}, the Lambda runtime is "
        f"{target.runtime.name}: what was installed (markers, Requires-Python, compiled "
        f"modules) was chosen for Python {venv[0]}.{venv[1]}",
        f"build the package in a Python {target.python[0]}.{target.python[1]} virtualenv, or "
        f"set the runtime to python{venv[0]}.{venv[1]}")


# --- what must ship, for the runtime's Python --------------------------------------------


def _parse(text: str) -> Optional[object]:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def needed(
    sources: Sequence[Source], installed: Mapping[str, Installed], target: Target,
    skip: Iterable[str] = (), read: Reader = venv_reader, missing: Iterable[str] = (),
) -> Tuple[List[Installed], List[LambdaFinding]]:
    """The installed distributions the app needs on the runtime -- declared ones whose marker
    holds there and, through Requires-Dist evaluated for the runtime's Python, what those
    need -- and findings for what is needed there but not installed, or whose
    Requires-Python excludes the runtime. `missing`: names the drift report already gives as
    missing (not repeated here)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import Version

    from drift_guard._names import canonical
    from drift_guard.markers import evaluate

    env = markers(target)
    skipped = set(skip)
    provided = set(target.provided)
    findings: List[LambdaFinding] = []
    seen: Dict[str, Set[str]] = {}
    stack: List[Tuple[str, frozenset, Optional[str]]] = []  # type: ignore[type-arg]
    for source in sources:
        for req in source.requirements:
            if req.name and req.expected and req.name not in skipped and evaluate(
                    req.marker, env):
                stack.append((req.name, frozenset(canonical(e) for e in req.extras), None))
    reported: Set[str] = set(missing)
    while stack:
        name, extras, parent = stack.pop()
        if name in skipped:
            continue
        dist = installed.get(name)
        if dist is None:
            if name in provided or target.layer_providing(name) or name in reported:
                continue
            reported.add(name)
            if parent is None:
                # Declared with a marker that holds on the runtime, not in the venv.
                findings.append(LambdaFinding(
                    "needed", name,
                    f"{name} is declared for {target.runtime.name} (its marker holds there) "
                    f"and is not installed",
                    f"install it as the runtime's Python would (build in a Python "
                    f"{target.python[0]}.{target.python[1]} virtualenv)"))
                continue
            findings.append(LambdaFinding(
                "needed", name,
                f"{parent} needs {name} on {target.runtime.name}, and it is not installed: "
                f"the virtualenv's Python does not need it, so nothing installed it",
                f"install and declare it for the runtime's Python (or build in a Python "
                f"{target.python[0]}.{target.python[1]} virtualenv)"))
            continue
        known = seen.get(name)
        if known is not None and extras <= known:
            continue
        seen.setdefault(name, set()).update(extras)
        for text in dist.requires:
            req = _parse(text)
            if req is None:
                continue
            marker = req.marker  # type: ignore[attr-defined]
            if marker is not None and not any(
                    marker.evaluate({**env, "extra": e}) for e in ("", *extras)):
                continue
            stack.append((canonical(req.name),  # type: ignore[attr-defined]
                          frozenset(canonical(e) for e in req.extras),  # type: ignore[attr-defined]
                          f"{dist.raw_name} {dist.version}"))
    ship = [installed[n] for n in sorted(seen)]
    runtime_version = Version(f"{target.python[0]}.{target.python[1]}.0")
    for dist in ship:
        if dist.editable:
            continue
        data = read(dist, "METADATA") or read(dist, "PKG-INFO")
        if data is None:
            continue
        spec = parse_metadata(data).requires_python
        if not spec:
            continue
        try:
            ok = SpecifierSet(spec).contains(runtime_version, prereleases=True)
        except InvalidSpecifier:
            continue
        if not ok:
            findings.append(LambdaFinding(
                "requires-python", dist.name,
                f"{dist.raw_name} {dist.version} requires Python {spec}; the runtime is "
                f"{target.runtime.name}",
                f"install a version of {dist.raw_name} that supports Python "
                f"{target.python[0]}.{target.python[1]}, or change the runtime"))
    return ship, findings


# --- every file of every package ----------------------------------------------------------


def _strip_hint(ex: Optional[Exclude], name: str) -> str:
    if ex is None:
        return (f"find what removes it from the package (the build's exclude rules, a script), "
                f"or add {name!r} to ignore if the app never imports it")
    if not ex.user:
        return (f"Zappa always drops {ex.pattern!r}: ship {name} in a Lambda layer, or add "
                f"{name!r} to drift_guard.ignore if the app never imports it")
    setting = "exclude_glob" if ex.glob else "exclude"
    return f"narrow the {setting!r} pattern {ex.pattern!r} in zappa_settings so it spares {name}"


def _present(path: str, artifact: Artifact) -> bool:
    if path in artifact.files:
        return True
    # Zappa ships x.pyc instead of x.py when the bytecode is newer.
    return path.endswith(".py") and (path + "c") in artifact.files


class Contents(NamedTuple):
    findings: List[LambdaFinding]
    notes: List[str]
    left_out: Set[str]
    """Distributions (names) not in the package at all, or not whole."""


def contents(
    ship: Sequence[Installed], read: Reader, target: Target,
    artifact: Optional[Artifact] = None, excludes: Sequence[Exclude] = (),
) -> Contents:
    """Every file in the RECORD of every distribution in `ship` is in `artifact` (or, before
    the build, is spared by `excludes`), unless the runtime or a layer provides it.
    Runtime-provided distributions left out are reported by `provided_pins`, not here."""
    findings: List[LambdaFinding] = []
    left_out: Set[str] = set()
    shipped_versions: Dict[str, Dict[str, str]] = {}
    if artifact is not None:
        for member in artifact.files:
            top = member.split("/", 1)[0]
            parsed = info_dir_name(top) if "/" in member else None
            if parsed is not None:
                shipped_versions.setdefault(parsed[0], {})[parsed[1]] = top
    for dist in sorted(ship, key=lambda d: d.name):
        if dist.editable:
            found = _editable(dist, read, artifact)
            if found is not None:
                findings.append(found)
            continue
        files = record_of(dist, read)
        if artifact is not None:
            versions = shipped_versions.get(dist.name, {})
            others = {v: d for v, d in versions.items() if not _same_version(v, dist.version)}
            if others and not any(_same_version(v, dist.version) for v in versions):
                findings.append(LambdaFinding(
                    "replaced", dist.name,
                    f"{dist.raw_name}: installed {dist.version}, the package ships "
                    f"{', '.join(sorted(others))}",
                    "Zappa's manylinux substitution (use_precompiled_packages) can swap "
                    "versions: pin a version that has a manylinux wheel, or set "
                    "\"use_precompiled_packages\": false"))
                continue
            lost = [p for p in files if not _present(p, artifact)]
        else:
            lost = [p for p in files if stripping_exclude(p, excludes) is not None]
        if not lost:
            continue
        left_out.add(dist.name)
        if dist.name in target.provided or target.layer_providing(dist.name):
            continue
        blamed: Dict[Optional[Exclude], List[str]] = {}
        for p in lost:
            blamed.setdefault(stripping_exclude(p, excludes), []).append(p)
        ex, paths = next(iter(blamed.items()))
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        why = (f": {ex.label} removes it" if ex is not None
               else " (no exclude pattern drift-guard knows matches it)")
        tense = "will not be" if artifact is None else "not"
        count = (f"{len(lost)} of {len(files)} files" if len(lost) > 1
                 else f"1 of {len(files)} files")
        findings.append(LambdaFinding(
            "stripped", dist.name,
            f"{dist.raw_name} {dist.version}: {count} {tense} in the package: {shown}{why}",
            _strip_hint(ex, dist.raw_name), paths[0]))
    return Contents(findings, [], left_out)


def _editable(dist: Installed, read: Reader, artifact: Optional[Artifact]
              ) -> Optional[LambdaFinding]:
    data = read(dist, "top_level.txt")
    names = [n.strip() for n in (data or b"").decode("utf-8", "replace").splitlines()
             if n.strip()] or [dist.name.replace("-", "_")]
    if artifact is not None and all(
            artifact.has(n) or f"{n}.py" in artifact.files for n in names):
        return None  # its code sits in the project directory, which ships
    if artifact is None:
        return None  # known only once the package exists
    where = dist.url or "its source directory"
    return LambdaFinding(
        "editable", dist.name,
        f"{dist.raw_name} {dist.version} is installed in editable mode from {where}: the "
        f"package gets a pointer to that directory, not {', '.join(names)}",
        "install it normally (pip install --no-editable ...) before packaging")


def _same_version(a: str, b: str) -> bool:
    if a == b:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a.lower() == b.lower()


# --- runtime-provided packages and layers ---------------------------------------------


def provided_pins(
    sources: Sequence[Source], left_out: Set[str], target: Target,
) -> Tuple[List[LambdaFinding], List[str]]:
    """A declared version of a runtime-provided package (boto3...) that the package leaves
    out: the runtime's own version is imported instead, whatever the declaration says."""
    from drift_guard.markers import evaluate

    env = markers(target)
    findings: List[LambdaFinding] = []
    notes: List[str] = []
    done: Set[str] = set()
    for source in sources:
        for req in source.requirements:
            name = req.name
            if (name not in target.provided or name not in left_out or name in done
                    or target.layer_providing(name) or not evaluate(req.marker, env)):
                continue
            done.add(name)
            if req.specifier:
                where = source.path + (f":{req.line}" if req.line else "")
                findings.append(LambdaFinding(
                    "provided", name,
                    f"{name}{req.specifier} ({where}) is left out of the package: "
                    f"{target.runtime.name} imports its own {name}, whose version AWS "
                    f"chooses, so the pin is not honoured",
                    f"ship {name} (remove it from the excludes) if the code needs that version, "
                    f"or drop the pin"))
            else:
                notes.append(f"{name} is left out of the package; {target.runtime.name} "
                             f"provides its own {name}")
    return findings, notes


def layer_findings(sources: Sequence[Source], target: Target) -> List[LambdaFinding]:
    """A layer's package whose version the declarations do not allow."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from drift_guard.markers import evaluate

    env = markers(target)
    found: List[LambdaFinding] = []
    for source in sources:
        for req in source.requirements:
            layer = target.layer_providing(req.name)
            if layer is None or not req.specifier or not evaluate(req.marker, env):
                continue
            version = layer.provides[req.name]
            if not version:
                continue
            try:
                ok = SpecifierSet(req.specifier).contains(version, prereleases=True)
            except InvalidSpecifier:
                continue
            if not ok:
                found.append(LambdaFinding(
                    "layer", req.name,
                    f"{req.name}: the layer {layer.name} provides {version}, declared "
                    f"{req.specifier} ({source.path})",
                    "update the layer, or the declaration, so they agree"))
    return found


# --- native code ----------------------------------------------------------------------

_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_EXT = re.compile(r"\.cpython-(\d)(\d+)(t?)-([a-z0-9_]+)-([a-z0-9_]+(?:-[a-z0-9_]+)?)\.so$")


def _wheel_tags(text: str) -> List[Tuple[str, str, str]]:
    tags = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "tag":
            parts = value.strip().split("-")
            if len(parts) == 3:
                for i in parts[0].split("."):
                    for a in parts[1].split("."):
                        for p in parts[2].split("."):
                            tags.append((i, a, p))
    return tags


def _python_fits(interp: str, abi: str, py: Tuple[int, int]) -> bool:
    m = re.match(r"^(cp|py)(\d)(\d*)$", interp)
    if m is None:
        return False
    if abi.endswith("t") and abi.startswith("cp"):
        return False  # free-threaded: Lambda's Python has no free-threaded build
    minor = int(m.group(3)) if m.group(3) else None
    if int(m.group(2)) != py[0]:
        return False
    if abi == "none" and m.group(1) == "py":
        return minor is None or minor <= py[1]
    if abi == "abi3":
        return minor is not None and minor <= py[1]
    return minor == py[1]


def _platform_fits(plat: str, arch: str, glibc: Tuple[int, int]) -> bool:
    if plat == "any" or plat == f"linux_{arch}":
        return True  # linux_*: the ELF check reads the glibc it really needs
    for legacy, version in _LEGACY_MANYLINUX.items():
        if plat == f"{legacy}_{arch}":
            return version <= glibc
    m = _MANYLINUX.match(plat)
    return m is not None and m.group(3) == arch and (int(m.group(1)), int(m.group(2))) <= glibc


def platform_findings(artifact: Artifact, target: Target,
                      owners: Mapping[str, str]) -> List[LambdaFinding]:
    """Native code the runtime cannot load: WHEEL tags of what ships, and every shared object
    read as ELF (machine, glibc versions needed, extension ABI, free-threaded builds).
    `owners` maps a file of the package to the distribution that installed it."""
    py = target.python
    arch, glibc = target.machine, target.glibc
    g = f"{glibc[0]}.{glibc[1]}"
    problems: Dict[str, List[str]] = {}
    first: Dict[str, str] = {}

    def add(owner: str, path: str, reason: str) -> None:
        problems.setdefault(owner, []).append(reason)
        first.setdefault(owner, path)

    for member in sorted(artifact.files):
        parts = member.split("/")
        if len(parts) != 2 or parts[1] != "WHEEL" or not parts[0].endswith(".dist-info"):
            continue
        tags = _wheel_tags(artifact.read(member, what="WHEEL").decode("utf-8", "replace"))
        if not tags or all(p == "any" and a == "none" for _, a, p in tags):
            continue
        if any(_python_fits(i, a, py) and _platform_fits(p, arch, glibc) for i, a, p in tags):
            continue
        parsed = info_dir_name(parts[0])
        shown = sorted({f"{i}-{a}-{p}" for i, a, p in tags})
        free = any(a.startswith("cp") and a.endswith("t") for _, a, _p in tags)
        add(parsed[0] if parsed else parts[0], member,
            f"its wheel is {', '.join(shown[:2])}{' ...' if len(shown) > 2 else ''}"
            + (" (free-threaded)" if free else ""))
    for member in iter_shared_objects(artifact):
        owner = owners.get(member) or member.split("/", 1)[0]
        base = member.rsplit("/", 1)[-1]
        m = _EXT.search(base)
        if m is not None:
            if m.group(3):
                add(owner, member, f"{base} is built for free-threaded Python "
                                   f"{m.group(1)}.{m.group(2)}t, which Lambda does not run")
                continue
            if (int(m.group(1)), int(m.group(2))) != py:
                add(owner, member, f"{base} is built for Python {m.group(1)}.{m.group(2)}")
                continue
        try:
            info = elf.read(artifact.read(member, limit=SHARED_OBJECT_LIMIT,
                                          what="shared object"))
        except elf.NotElf as exc:
            add(owner, member, f"{base} is {exc}")
            continue
        if info.machine != arch:
            add(owner, member, f"{base} is built for {info.machine}")
        elif info.glibc is not None and info.glibc > glibc:
            add(owner, member, f"{base} needs GLIBC_{info.glibc[0]}.{info.glibc[1]}")
    findings = []
    for owner in sorted(problems):
        reasons = list(dict.fromkeys(problems[owner]))
        shown = "; ".join(reasons[:2]) + (f"; and {len(reasons) - 2} more" if len(reasons) > 2
                                          else "")
        findings.append(LambdaFinding(
            "platform", owner,
            f"{owner}: {shown}; {target.runtime.name} on {target.architecture} loads "
            f"cp{py[0]}{py[1]} (or abi3) code for {arch} with glibc <= {g}",
            f"install it for Lambda: pip install --platform manylinux2014_{arch} "
            f"--python-version {py[0]}.{py[1]} --only-binary=:all: --target ... (or build in "
            f"a Lambda-like container)", first[owner]))
    return findings


def owners_of(dists: Iterable[Installed], read: Reader) -> Dict[str, str]:
    """file -> distribution name, from RECORDs."""
    owners: Dict[str, str] = {}
    for dist in dists:
        try:
            for p in record_of(dist, read):
                owners[p] = dist.name
        except DriftGuardError:
            continue
    return owners
