"""Checks of a Lambda deployment artifact as Zappa builds it: does every package the app needs
ship (Zappa strips some by name, silently), does it fit Lambda's size limit, can Lambda's
runtime load its native code, is the runtime still supported.

The checks work on an `Artifact` -- the archive's file listing plus the few metadata files
read from it -- and on the installed distributions; only `open_artifact` and
`installed_entries` touch the disk. Used by `drift_guard.zappa`; nothing here imports Zappa.
"""

from __future__ import annotations

import datetime
import os
import re
from typing import Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from drift_guard._names import canonical
from drift_guard.errors import DriftGuardError
from drift_guard.models import Installed

MB = 1024 * 1024
"""Lambda's "250 MB" is 262,144,000 bytes: 250 MiB."""

DEFAULT_MAX_UNZIPPED_MB = 250
"""Lambda's limit for the unzipped function code, layers included."""

DEFAULT_EPHEMERAL_MB = 512
"""Lambda's default /tmp size, where slim_handler unpacks the project archive."""


class Runtime(NamedTuple):
    deprecated: datetime.date
    """AWS stops patching the runtime."""
    block_create: datetime.date
    """`zappa deploy` (a new function) fails from this day."""
    block_update: datetime.date
    """`zappa update` fails from this day."""
    glibc: Tuple[int, int]
    """The glibc of the runtime's Amazon Linux: native wheels must not need a newer one."""


_AL2 = (2, 26)
_AL2023 = (2, 34)
_d = datetime.date

# AWS Lambda's Python runtimes: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
# AWS has moved these dates more than once (python3.9's blocks were postponed from early 2026
# to 2027); this table is the only copy, update it here.
RUNTIMES: Mapping[str, Runtime] = {
    "python3.8": Runtime(_d(2024, 10, 14), _d(2026, 2, 28), _d(2026, 3, 31), _AL2),
    "python3.9": Runtime(_d(2025, 12, 15), _d(2027, 2, 1), _d(2027, 3, 3), _AL2),
    "python3.10": Runtime(_d(2026, 6, 30), _d(2026, 7, 31), _d(2026, 8, 31), _AL2),
    "python3.11": Runtime(_d(2026, 6, 30), _d(2026, 7, 31), _d(2026, 8, 31), _AL2),
    "python3.12": Runtime(_d(2028, 10, 31), _d(2028, 11, 30), _d(2029, 1, 10), _AL2023),
    "python3.13": Runtime(_d(2029, 6, 30), _d(2029, 7, 31), _d(2029, 8, 31), _AL2023),
    "python3.14": Runtime(_d(2029, 6, 30), _d(2029, 7, 31), _d(2029, 8, 31), _AL2023),
}

RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
"""What Lambda's Python runtimes bring along: excluding these from the zip (a common Zappa
tip) leaves the app working, on the runtime's versions."""

_WARN_AHEAD_DAYS = 180

# Zappa's manylinux lookup and pip use these aliases for the old glibc baselines (PEP 600).
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(.+)$")
_ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}
_EGG_INFO_PY = re.compile(r"-py\d+(?:\.\d+)*$")


class ArtifactFinding(NamedTuple):
    """Something about the artifact that will break (or block) the function on Lambda."""

    kind: str
    """"stripped", "replaced", "editable", "platform", "size" or "runtime"."""
    name: str
    """The distribution (PEP 503 name), or the artifact's file name for "size"/"runtime"."""
    message: str
    hint: str = ""


class Artifact(NamedTuple):
    """What one archive holds: member sizes, and the metadata files the checks read."""

    path: str
    files: Mapping[str, int]
    """Archive member (posix path, files only) -> uncompressed size in bytes."""
    wheel_files: Mapping[str, str]
    """`<name>-<version>.dist-info` -> the text of its WHEEL file."""

    @property
    def unzipped_size(self) -> int:
        return sum(self.files.values())


class LambdaOptions(NamedTuple):
    max_unzipped_mb: float = DEFAULT_MAX_UNZIPPED_MB
    runtime: str = "warn"
    """What a deprecated runtime is: "warn", "error" or "off"."""
    platform: str = "error"
    """What native code Lambda cannot load is: "error", "warn" or "off"."""


_LEVELS = ("error", "warn", "off")


def lambda_options(
    table: Mapping[str, object], where: str, path: Optional[str] = None
) -> LambdaOptions:
    """Validate the `lambda` table of the configuration (`-` and `_` spellings alike)."""
    values: Dict[str, object] = {}
    for raw_key, value in table.items():
        key = str(raw_key).replace("-", "_")
        spelled = f"{where}.{raw_key}"
        if key == "max_unzipped_mb":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise DriftGuardError(f"{spelled} must be a positive number of megabytes, e.g. 250",
                                      path=path)
            values[key] = value
        elif key in ("runtime", "platform"):
            if value not in _LEVELS:
                raise DriftGuardError(f"{spelled} must be one of {', '.join(map(repr, _LEVELS))}",
                                      path=path)
            values[key] = value
        else:
            known = ", ".join(k.replace("_", "-") for k in LambdaOptions._fields)
            raise DriftGuardError(f"unknown setting {spelled!r}; known settings: {known}",
                                  path=path)
    return LambdaOptions(**values)  # type: ignore[arg-type]


# --- reading the artifact ------------------------------------------------------------------


def open_artifact(path: str) -> Artifact:
    """Read the listing of a .zip or .tar.gz built by Zappa."""
    files: Dict[str, int] = {}
    wheels: Dict[str, str] = {}
    try:
        if path.endswith((".tar.gz", ".tgz")):
            import tarfile

            with tarfile.open(path, "r:gz") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    name = _clean(member.name)
                    files[name] = member.size
                    if _is_wheel_file(name):
                        handle = tar.extractfile(member)
                        if handle is not None:
                            wheels[name.split("/", 1)[0]] = handle.read().decode("utf-8", "replace")
        else:
            import zipfile

            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    name = _clean(info.filename)
                    files[name] = info.file_size
                    if _is_wheel_file(name):
                        text = archive.read(info).decode("utf-8", "replace")
                        wheels[name.split("/", 1)[0]] = text
    except Exception as exc:
        raise DriftGuardError(f"cannot read the Lambda package: {exc}", path=path) from None
    return Artifact(path, files, wheels)


def _clean(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _is_wheel_file(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "WHEEL"


def info_dir_name(directory: str) -> Optional[Tuple[str, str]]:
    """(canonical name, version) of a `.dist-info` / `.egg-info` directory name."""
    for suffix in (".dist-info", ".egg-info"):
        if directory.endswith(suffix):
            stem = directory[: -len(suffix)]
            if suffix == ".egg-info":
                stem = _EGG_INFO_PY.sub("", stem)
            name, sep, version = stem.rpartition("-")
            if not sep or not name:
                return None
            return canonical(name), version
    return None


def shipped_versions(artifact: Artifact) -> Dict[str, Dict[str, str]]:
    """canonical name -> {version: info directory} for every distribution in the archive."""
    result: Dict[str, Dict[str, str]] = {}
    for directory in {n.split("/", 1)[0] for n in artifact.files if "/" in n}:
        parsed = info_dir_name(directory)
        if parsed is not None:
            result.setdefault(parsed[0], {})[parsed[1]] = directory
    return result


# --- what a distribution puts at the top of site-packages ----------------------------------


def installed_entries(dist: Installed) -> List[str]:
    """The top-level entries `dist` installed in site-packages: package directories ("flask",
    or "google/protobuf" inside a namespace package) and module files ("six.py").

    Taken from RECORD (what was really installed), else installed-files.txt (egg-info), else
    top_level.txt. For an editable install the code is not in site-packages: top_level.txt
    names what the app imports.
    """
    info = dist.path
    if dist.editable:
        return _top_level_txt(info) or [dist.name.replace("-", "_")]
    paths: List[str] = []
    record = os.path.join(info, "RECORD")
    files_txt = os.path.join(info, "installed-files.txt")
    if os.path.isfile(record):
        import csv

        with open(record, encoding="utf-8", errors="replace", newline="") as f:
            paths = [row[0] for row in csv.reader(f) if row]
    elif os.path.isfile(files_txt):
        rel = os.path.basename(info)
        with open(files_txt, encoding="utf-8", errors="replace") as f:
            paths = [os.path.normpath(os.path.join(rel, line.strip()))
                     for line in f if line.strip()]
    else:
        return _top_level_txt(info)
    return _entries(paths)


def _top_level_txt(info: str) -> List[str]:
    path = os.path.join(info, "top_level.txt")
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as f:
        names = [line.strip().replace("\\", "/").split("/")[0] for line in f]
    return sorted({n for n in names if n})


def _entries(paths: Iterable[str]) -> List[str]:
    split = [p.replace("\\", "/").split("/") for p in paths]
    split = [
        parts for parts in split
        if parts and parts[0] not in ("", "..", "__pycache__") and not os.path.isabs(parts[0])
        and not parts[0].endswith((".dist-info", ".egg-info"))
    ]
    packages = {parts[0] for parts in split if len(parts) > 1 and parts[1] == "__init__.py"}
    entries: Set[str] = set()
    for parts in split:
        if len(parts) == 1:
            if not parts[0].endswith((".pth", ".pyc")):
                entries.add(parts[0])
        elif parts[0] in packages or len(parts) == 2 or parts[1] == "__pycache__":
            entries.add(parts[0])
        else:
            # A namespace package (no __init__.py) is shared: the distribution's own part is
            # the directory below it.
            entries.add(f"{parts[0]}/{parts[1]}")
    return sorted(entries)


def _present(entry: str, artifact_index: Tuple[Set[str], Set[str], Set[str]]) -> bool:
    dirs, root_modules, prefixes = artifact_index
    if "/" in entry:
        return entry in prefixes
    if entry in dirs:
        return True
    # Module files: Zappa may ship `x.pyc` instead of `x.py`, and a manylinux substitution
    # brings an extension module built for another Python, so compare module names.
    return entry.split(".", 1)[0] in root_modules


def _index(artifact: Artifact) -> Tuple[Set[str], Set[str], Set[str]]:
    dirs: Set[str] = set()
    modules: Set[str] = set()
    prefixes: Set[str] = set()
    for name in artifact.files:
        parts = name.split("/")
        if len(parts) == 1:
            modules.add(parts[0].split(".", 1)[0])
        else:
            dirs.add(parts[0])
            if len(parts) > 2:
                prefixes.add(f"{parts[0]}/{parts[1]}")
    return dirs, modules, prefixes


# --- which exclude pattern strips what ----------------------------------------------------


class Exclude(NamedTuple):
    pattern: str
    label: str
    """How the user finds it: "Zappa's built-in exclude 'docutils*'", "the \"exclude\" setting
    'tests'"."""
    glob: bool = False
    """An `exclude_glob` (a path glob from the package root) rather than a name pattern."""
    user: bool = True


def stripping_exclude(entry: str, excludes: Sequence[Exclude]) -> Optional[Exclude]:
    """The exclude that removes `entry` (a path from the package root), if any.

    Zappa copies site-packages with `shutil.ignore_patterns`: a name pattern drops every file
    or directory of that name at any depth. `exclude_glob` patterns are globbed from the root.
    """
    from fnmatch import fnmatchcase

    parts = entry.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for ex in excludes:
        if ex.glob:
            rx = _glob_regex(ex.pattern)
            if rx is not None and any(rx.fullmatch(p) for p in prefixes):
                return ex
        elif any(fnmatchcase(part, ex.pattern) for part in parts):
            return ex
    return None


def _glob_regex(pattern: str) -> Optional[re.Pattern[str]]:
    pattern = pattern.replace("\\", "/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if os.path.isabs(pattern):
        return None  # Zappa skips absolute globs with a warning
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out).rstrip("/"))


# --- the checks ---------------------------------------------------------------------------


def _strip_hint(ex: Optional[Exclude], name: str) -> str:
    if ex is None:
        return (f"find what removes it (a prebuild_script? exclude settings?), or add {name!r} to "
                "drift_guard.ignore if the app never imports it")
    if not ex.user:
        return (f"Zappa always drops {ex.pattern!r}: ship {name} in a Lambda layer, or add "
                f"{name!r} to drift_guard.ignore if the app never imports it")
    setting = "exclude_glob" if ex.glob else "exclude"
    return f"narrow the {setting!r} pattern {ex.pattern!r} in zappa_settings so it spares {name}"


def predict_stripped(
    dists: Iterable[Installed], excludes: Sequence[Exclude]
) -> Tuple[List[ArtifactFinding], List[str]]:
    """Before the package is built: the distributions an exclude will strip, from their
    installed files. Returns (findings, notes), as `check_contents`."""
    findings: List[ArtifactFinding] = []
    notes: List[str] = []
    for dist in sorted(dists, key=lambda d: d.name):
        if dist.editable:
            continue
        info = os.path.basename(dist.path)
        for entry in [info, *installed_entries(dist)]:
            ex = stripping_exclude(entry, excludes)
            if ex is None:
                continue
            if dist.name in RUNTIME_PROVIDED and ex.user:
                notes.append(_provided_note(dist, ex))
            else:
                findings.append(ArtifactFinding(
                    "stripped", dist.name,
                    f"{dist.raw_name} {dist.version}: {entry} will not be in the package: "
                    f"{ex.label} removes it",
                    _strip_hint(ex, dist.raw_name),
                ))
            break
    return findings, notes


def _provided_note(dist: Installed, ex: Exclude) -> str:
    return (f"{dist.raw_name} is left out of the package ({ex.label}); the Lambda runtime "
            f"provides its own {dist.raw_name}, not necessarily {dist.version}")


def check_contents(
    artifact: Artifact, dists: Iterable[Installed], excludes: Sequence[Exclude] = ()
) -> Tuple[List[ArtifactFinding], List[str]]:
    """Every distribution in `dists` ships: its metadata, in the installed version, and its
    top-level packages and modules. Returns (findings, notes)."""
    shipped = shipped_versions(artifact)
    index = _index(artifact)
    findings: List[ArtifactFinding] = []
    notes: List[str] = []
    for dist in sorted(dists, key=lambda d: d.name):
        entries = installed_entries(dist)
        if dist.editable:
            lost = [e for e in entries if not _present(e, index)]
            if lost:
                where = dist.url or "its source directory"
                findings.append(ArtifactFinding(
                    "editable", dist.name,
                    f"{dist.raw_name} {dist.version} is installed in editable mode from {where}: "
                    f"the package gets a pointer to that directory, not {', '.join(lost)}",
                    "install it normally (pip install --no-editable ...) before packaging",
                ))
            continue

        info = os.path.basename(dist.path)
        missing = [e for e in entries if not _present(e, index)]
        # Another spelling of the same version (a substituted wheel's "PyYAML-6.0.1.dist-info"
        # for an installed "pyyaml-6.0.1.dist-info") is the same metadata.
        versions = shipped.get(dist.name, {})
        same = [d for v, d in versions.items() if _same_version(v, dist.version)]
        others = {v: d for v, d in versions.items() if not _same_version(v, dist.version)}
        if others:
            findings.append(_replaced(dist, versions))
        if not same and not others:
            missing.insert(0, info)
        if not missing:
            continue
        first = next(iter(missing))
        ex = stripping_exclude(first, excludes)
        what = ", ".join(missing)
        why = f": {ex.label} removes it" if ex is not None else " (no exclude pattern matches it)"
        if dist.name in RUNTIME_PROVIDED and ex is not None and ex.user:
            notes.append(_provided_note(dist, ex))
            continue
        findings.append(ArtifactFinding(
            "stripped", dist.name,
            f"{dist.raw_name} {dist.version}: not in the package: {what}{why}",
            _strip_hint(ex, dist.raw_name),
        ))
    return findings, notes


def _same_version(a: str, b: str) -> bool:
    if a == b:
        return True
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a.lower() == b.lower()


def _replaced(dist: Installed, versions: Mapping[str, str]) -> ArtifactFinding:
    others = ", ".join(sorted(versions))
    return ArtifactFinding(
        "replaced", dist.name,
        f"{dist.raw_name}: installed {dist.version}, the package ships {others}",
        "Zappa's manylinux substitution (use_precompiled_packages) can swap versions: pin a "
        "version that has a manylinux wheel, or set \"use_precompiled_packages\": false",
    )


def check_size(
    artifact: Artifact, budget_mb: float, what: str = "the package"
) -> Optional[ArtifactFinding]:
    """The unzipped size against the budget (Lambda: 250 MB including layers)."""
    size = artifact.unzipped_size
    if size <= budget_mb * MB:
        return None
    return ArtifactFinding(
        "size", os.path.basename(artifact.path),
        f"{what} unzips to {size / MB:.1f} MB; the budget is {budget_mb:g} MB",
        "exclude what the function does not need (\"exclude\" in zappa_settings), move big "
        "dependencies to a layer (and lower max_unzipped_mb by its size), or set "
        "\"slim_handler\": true",
    )


def runtime_problem(runtime: str, today: datetime.date, command: str) -> Optional[Tuple[bool, str]]:
    """(past the deprecation date, message) for a runtime AWS retires or has retired;
    `command` is Zappa's ("deploy", "update", "package")."""
    info = RUNTIMES.get(runtime)
    if info is None:
        if runtime.startswith("python"):
            return False, (f"runtime {runtime}: not in drift-guard's table of Lambda runtimes "
                           f"({', '.join(RUNTIMES)}); its support dates are unknown")
        return None
    newest = max(RUNTIMES, key=_runtime_version)
    if today >= info.block_update:
        effect = {"deploy": "zappa deploy will fail", "update": "zappa update will fail"}.get(
            command, "AWS will refuse this package")
        return True, (f"runtime {runtime}: deprecated since {info.deprecated}; AWS Lambda blocks "
                      f"creating functions on it since {info.block_create} and updating them "
                      f"since {info.block_update} ({effect}); move to {newest}")
    if today >= info.block_create:
        effect = {"deploy": "zappa deploy will fail", "update": "zappa update still works"}.get(
            command, "only existing functions can still be updated")
        return True, (f"runtime {runtime}: deprecated since {info.deprecated}; AWS Lambda blocks "
                      f"new functions on it since {info.block_create} ({effect}) and updates "
                      f"from {info.block_update}; move to {newest}")
    if today >= info.deprecated:
        return True, (f"runtime {runtime}: deprecated since {info.deprecated} (no more security "
                      f"patches); AWS Lambda blocks new functions from {info.block_create} and "
                      f"updates from {info.block_update}; move to {newest}")
    if (info.deprecated - today).days <= _WARN_AHEAD_DAYS:
        return False, (f"runtime {runtime}: AWS Lambda deprecates it on {info.deprecated} "
                       f"(updates blocked from {info.block_update}); plan a move to {newest}")
    return None


def _runtime_version(runtime: str) -> Tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", runtime))


def _parse_wheel_tags(text: str) -> Tuple[bool, List[Tuple[str, str, str]]]:
    purelib = False
    tags = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "root-is-purelib":
            purelib = value.lower() == "true"
        elif key == "tag":
            parts = value.split("-")
            if len(parts) == 3:
                for interp in parts[0].split("."):
                    for abi in parts[1].split("."):
                        for plat in parts[2].split("."):
                            tags.append((interp, abi, plat))
    return purelib, tags


def _python_fits(interp: str, abi: str, py: Tuple[int, int]) -> bool:
    m = re.match(r"^(cp|py)(\d)(\d*)$", interp)
    if m is None:
        return False  # pp39, graalpy...: not what Lambda runs
    major = int(m.group(2))
    minor = int(m.group(3)) if m.group(3) else None
    if major != py[0]:
        return False
    if abi == "none" and m.group(1) == "py":
        return minor is None or minor <= py[1]
    if abi == "abi3":
        return minor is not None and minor <= py[1]
    return minor == py[1]


def _platform_fits(plat: str, arch: str, glibc: Tuple[int, int]) -> bool:
    if plat == "any":
        return True
    if plat == f"linux_{arch}":
        return True  # built on a Linux of that architecture; its glibc is not knowable here
    for legacy, version in _LEGACY_MANYLINUX.items():
        if plat == f"{legacy}_{arch}":
            return version <= glibc
    m = _MANYLINUX.match(plat)
    if m is not None and m.group(3) == arch:
        return (int(m.group(1)), int(m.group(2))) <= glibc
    return False


def check_platform(
    artifact: Artifact, names: Iterable[str], runtime: str, architecture: str
) -> List[ArtifactFinding]:
    """Native code in the package that Lambda's `runtime` on `architecture` cannot load, from
    the WHEEL tags of what ships (after any manylinux substitution by Zappa)."""
    m = re.match(r"^python(\d)\.(\d+)$", runtime)
    if m is None:
        return []
    py = (int(m.group(1)), int(m.group(2)))
    arch = _ARCHES.get(architecture, architecture)
    glibc = RUNTIMES[runtime].glibc if runtime in RUNTIMES else _AL2023
    wanted = set(names)
    findings = []
    for directory, text in sorted(artifact.wheel_files.items()):
        parsed = info_dir_name(directory)
        if parsed is None or parsed[0] not in wanted:
            continue
        purelib, tags = _parse_wheel_tags(text)
        if not tags or all(p == "any" and abi == "none" for _, abi, p in tags):
            continue
        if any(_python_fits(i, a, py) and _platform_fits(p, arch, glibc) for i, a, p in tags):
            continue
        if purelib and all(p == "any" for _, _, p in tags):
            continue
        shown = sorted({f"{i}-{a}-{p}" for i, a, p in tags})
        findings.append(ArtifactFinding(
            "platform", parsed[0],
            f"{parsed[0]} {parsed[1]}: built for {', '.join(shown[:3])}"
            f"{' ...' if len(shown) > 3 else ''}; Lambda's {runtime} on {architecture} needs "
            f"cp{py[0]}{py[1]} (or abi3) for manylinux {arch} with glibc <= "
            f"{glibc[0]}.{glibc[1]}",
            f"install it for Lambda: pip install --platform manylinux2014_{arch} "
            f"--python-version {py[0]}.{py[1]} --only-binary=:all: --target ... (or run Zappa "
            "in a Lambda-like container; or let \"use_precompiled_packages\" substitute it)",
        ))
    return findings


# --- rendering ----------------------------------------------------------------------------

_HEADINGS = {
    "stripped": "stripped: needed by the app, not in the package",
    "replaced": "replaced: the package ships another version than the one installed",
    "editable": "editable: installed as a pointer to a local directory",
    "platform": "platform: native code Lambda cannot load",
    "size": "size: over the unzipped size budget",
    "runtime": "runtime: deprecated Lambda runtime",
}


def render(findings: Sequence[ArtifactFinding], title: str) -> str:
    """Text in the style of the drift report: a heading per kind, a hint under each finding."""
    count = len(findings)
    lines = [f"drift-guard: {count} problem{'s' if count != 1 else ''} {title}"]
    for kind, heading in _HEADINGS.items():
        group = [f for f in findings if f.kind == kind]
        if not group:
            continue
        lines.append(heading)
        for f in group:
            lines.append(f"  {f.message}")
            if f.hint:
                lines.append(f"      -> {f.hint}")
    return "\n".join(lines) + "\n"
