"""Shared test helpers: real wheels written in a few lines, real virtualenvs, the real pip.

Everything here is offline: wheels are written by `write_wheel` and installed with
`--no-index --find-links`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def write_wheel(
    dest: Path,
    name: str,
    version: str,
    requires: Iterable[str] = (),
    extras: Mapping[str, Iterable[str]] = {},
    modules: Optional[Iterable[str]] = None,
    files: Optional[Mapping[str, str]] = None,
) -> Path:
    """Write a pure-Python wheel `name-version-py3-none-any.whl` into `dest` and return it.

    `requires` become Requires-Dist lines; `extras` maps an extra to its requirements;
    `modules` are top-level modules to ship (default: the name with "-" -> "_").
    """
    dest.mkdir(parents=True, exist_ok=True)
    dist = name.replace("-", "_").replace(".", "_")
    info = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    for extra, reqs in extras.items():
        meta.append(f"Provides-Extra: {extra}")
        for r in reqs:
            marker = f'extra == "{extra}"'
            if ";" in r:
                req, _, m = r.partition(";")
                meta.append(f"Requires-Dist: {req.strip()} ; ({m.strip()}) and {marker}")
            else:
                meta.append(f"Requires-Dist: {r} ; {marker}")
    content = dict(files or {})
    for mod in modules if modules is not None else [dist.lower()]:
        content.setdefault(f"{mod}/__init__.py", f"__version__ = {version!r}\n")
    content[f"{info}/METADATA"] = "\n".join(meta) + "\n\n"
    content[f"{info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: drift-guard-tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )
    top = sorted({p.split("/")[0] for p in content if not p.startswith(info)})
    content[f"{info}/top_level.txt"] = "".join(t.removesuffix(".py") + "\n" for t in top)
    record_lines = [f"{p},{_record_hash(d.encode())},{len(d.encode())}" for p, d in content.items()]
    record_lines.append(f"{info}/RECORD,,")
    content[f"{info}/RECORD"] = "\n".join(record_lines) + "\n"
    path = dest / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in content.items():
            zf.writestr(p, d)
    return path


class Venv(NamedTuple):
    path: Path
    python: Path

    @property
    def bin(self) -> Path:
        return self.python.parent

    def site_packages(self) -> Path:
        return next((self.path / "lib").glob("python3*/site-packages"))


def make_venv(
    path: Path,
    python: str = sys.executable,
    with_pip: bool = True,
    system_site_packages: bool = False,
) -> Venv:
    """Create a real virtualenv with the stdlib `venv` module of `python`.

    With pip, the venv gets exactly what `python -m venv` with ensurepip puts there (pip and,
    on older Pythons, setuptools, with their scripts and RECORD): the first such venv of each
    Python in this session is made by `python -m venv` itself, later ones are made without
    pip and get a copy of that one's ensurepip install, its scripts pointed at their own
    interpreter. ensurepip costs seconds per venv; the copy, a fraction of one.
    """
    args = [python, "-m", "venv", "--without-pip"]
    if system_site_packages:
        args.append("--system-site-packages")
    subprocess.run([*args, str(path)], check=True, capture_output=True)
    venv = Venv(path, path / "bin" / "python")
    if with_pip:
        _seed_pip(venv, _pip_seed(python))
        cfg = path / "pyvenv.cfg"
        # As `python -m venv` with pip writes it: the one difference is the option.
        cfg.write_text(cfg.read_text().replace(" -m venv --without-pip ", " -m venv ", 1))
    return venv


_PIP_SEEDS: dict[str, Path] = {}


def _pip_seed(python: str) -> Path:
    """A venv `python -m venv` made with pip, once per Python per session."""
    import atexit
    import shutil
    import tempfile

    if python not in _PIP_SEEDS:
        base = tempfile.mkdtemp(prefix="drift-guard-tests-pip-seed-")
        atexit.register(shutil.rmtree, base, True)
        seed = Path(base) / "venv"
        subprocess.run([python, "-m", "venv", str(seed)], check=True, capture_output=True)
        _PIP_SEEDS[python] = seed
    return _PIP_SEEDS[python]


def _seed_pip(venv: Venv, seed: Path) -> None:
    """Copy what ensurepip installed in `seed` into `venv` (made from the same Python without
    pip): site-packages as is; the scripts with their interpreter path, and their RECORD rows,
    rewritten for `venv`."""
    import shutil

    old, new = os.path.abspath(seed).encode(), os.path.abspath(venv.path).encode()
    seed_site = next((seed / "lib").glob("python3*/site-packages"))
    site = venv.path / seed_site.relative_to(seed)
    for entry in seed_site.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, site / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, site / entry.name)
    scripts = {}
    for script in (seed / "bin").iterdir():
        target = venv.bin / script.name
        if target.exists() or target.is_symlink():
            continue  # made by venv itself (python, activate, ...)
        data = script.read_bytes().replace(old, new)
        target.write_bytes(data)
        shutil.copymode(script, target)
        scripts[f"../../../bin/{script.name}"] = data
    for record in site.glob("*.dist-info/RECORD"):
        rows = record.read_bytes().splitlines(keepends=True)
        changed = False
        for i, row in enumerate(rows):
            name = row.split(b",", 1)[0].decode()
            if name in scripts:
                data, end = scripts[name], row[len(row.rstrip(b"\r\n")):]
                rows[i] = f"{name},{_record_hash(data)},{len(data)}".encode() + end
                changed = True
        if changed:
            record.write_bytes(b"".join(rows))


def pip(
    venv: Venv, *args: str, find_links: Optional[Path] = None
) -> subprocess.CompletedProcess[str]:
    """Run the real pip against `venv`, offline: the venv's own pip where it has one, else the
    test session's pip with `--python` (so venvs made without pip work too)."""
    own = any((venv.path / "lib").glob("python3*/site-packages/pip/__init__.py"))
    cmd = (
        [str(venv.python), "-m", "pip"]
        if own
        else [sys.executable, "-m", "pip", "--python", str(venv.python)]
    )
    cmd += ["--disable-pip-version-check", "--no-input"]
    cmd += list(args)
    if args and args[0] == "install":
        cmd += ["--no-index"]
        if find_links is not None:
            cmd += ["--find-links", str(find_links)]
    # PYTHONPATH would leak this checkout into the target's view of what is installed.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env["PIP_CONFIG_FILE"] = os.devnull
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)


def pip_list_freeze(venv: Venv) -> dict[str, str]:
    """`pip list --format=freeze` of `venv`, as {raw name: version}."""
    out = pip(venv, "list", "--format=freeze").stdout
    result = {}
    for line in out.splitlines():
        name, _, version = line.partition("==")
        result[name] = version
    return result


def run_cli(
    args: Sequence[str],
    cwd: Path,
    env: Optional[Mapping[str, str]] = None,
    python: str = sys.executable,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m drift_guard ARGS` as a user would, in `cwd`."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "CONDA_PREFIX", "DRIFT_GUARD_PYTHON")
    }
    full_env["NO_COLOR"] = "1"
    if env:
        full_env.update(env)
    return subprocess.run(
        [python, "-m", "drift_guard", *args], cwd=cwd, env=full_env, capture_output=True, text=True
    )


def pip_check(venv: Venv) -> set[tuple[str, str]]:
    """The problems the real `pip check` reports for `venv`: {(requirer, unmet requirement)},
    names PEP 503 normalised."""

    own = any((venv.path / "lib").glob("python3*/site-packages/pip/__init__.py"))
    cmd = (
        [str(venv.python), "-m", "pip"]
        if own
        else [sys.executable, "-m", "pip", "--python", str(venv.python)]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    out = subprocess.run([*cmd, "--disable-pip-version-check", "check"], capture_output=True,
                         text=True, env=env).stdout
    found = set()
    for line in out.splitlines():
        m = re.match(r"^(\S+) \S+ (?:has requirement|requires) ([A-Za-z0-9._-]+)", line)
        if m:
            found.add(tuple(re.sub(r"[-_.]+", "-", g).lower() for g in m.groups()))
    return found  # type: ignore[return-value]


def requires_closure(roots: Iterable[str]) -> List[Any]:
    """The installed distributions of the test session that `roots` need, `roots` included
    (requirements whose marker holds with no extra)."""
    import importlib.metadata as md

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    by_name = {canonicalize_name(d.metadata["Name"]): d for d in md.distributions()}
    seen: Dict[str, Any] = {}
    stack = [canonicalize_name(r) for r in roots]
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen[name] = dist = by_name[name]
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(canonicalize_name(req.name))
    return list(seen.values())


def wheels_of_installed(roots: Iterable[str], dest: Path) -> None:
    """Rebuild, offline, the wheels of the test session's installed distributions `roots` and
    everything they need (from the files their RECORD lists; scripts are left out: pip writes
    them again from entry_points.txt)."""
    dest.mkdir(parents=True, exist_ok=True)
    for dist in requires_closure(roots):
        repack(dist, dest)


def repack(dist: Any, dest: Path) -> Path:
    """A wheel of an installed distribution, from the files its RECORD lists (scripts are
    left out: pip writes them again from entry_points.txt)."""
    files = [f for f in dist.files or [] if not f.as_posix().startswith("..")]
    info = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    skip = {f"{info}/{n}" for n in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")}
    wheel_text = (Path(dist.locate_file(info)) / "WHEEL").read_text()
    tags = [line.split(":", 1)[1].strip().split("-") for line in wheel_text.splitlines()
            if line.startswith("Tag:")]
    # py2.py3-none-any: the file name carries every tag, compressed.
    tag = "-".join(".".join(sorted({t[i] for t in tags})) for i in range(3))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    path = dest / f"{name}-{dist.version}-{tag}.whl"
    rows = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for f in files:
            rel = f.as_posix()
            if rel in skip or "__pycache__" in f.parts:
                continue
            source = Path(dist.locate_file(f))
            if not source.is_file():
                continue
            data = source.read_bytes()
            zf.writestr(rel, data)
            rows.append(f"{rel},{_record_hash(data)},{len(data)}")
        rows.append(f"{info}/RECORD,,")
        zf.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return path
