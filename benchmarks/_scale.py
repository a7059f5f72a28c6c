"""Generated inputs for the scale cases of bench.py: large environments, large lock files of
every format, and inputs whose size doubles (for the growth factors).

Everything is written directly (no index, no network): an environment is a venv made
without pip whose site-packages holds `.dist-info` directories exactly as an installer
writes them; lock files follow the structure the real tools write (see fixtures/locks/).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

DESCRIPTION = "A description body, as real packages have.\n" * 40


def dist_name(i: int) -> str:
    # Spellings real environments have: dashes, underscores, dots, capitals.
    return [f"pkg{i:05d}-core", f"pkg{i:05d}_utils", f"Pkg{i:05d}.Lib", f"pkg{i:05d}"][i % 4]


def normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def version_of(i: int) -> str:
    return f"1.{i % 7}.{i % 3}"


def make_env(path: Path, count: int, requires: dict[int, list[int]] | None = None) -> Path:
    """A venv (no pip) holding `count` distributions; `requires[i]` are the indexes dist i
    requires. Returns the venv's python."""
    stamp = path / f".complete-{count}-{len(requires or {})}"
    python = path / "bin" / "python"
    if stamp.exists():
        return python
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    site = next((path / "lib").glob("python3*/site-packages"))
    for i in range(count):
        name, version = dist_name(i), version_of(i)
        folder = name.replace("-", "_").replace(".", "_")
        info = site / f"{folder}-{version}.dist-info"
        info.mkdir()
        deps = [f"Requires-Dist: {dist_name(j)}>=1.0" for j in (requires or {}).get(i, [])]
        meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}", *deps]
        (info / "METADATA").write_text("\n".join(meta) + "\n\n" + DESCRIPTION)
        (info / "INSTALLER").write_text("pip\n")
        (info / "WHEEL").write_text(
            "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        (info / "RECORD").write_text(
            f"{folder}/__init__.py,,\n{info.name}/METADATA,,\n{info.name}/RECORD,,\n"
        )
    stamp.write_text("ok\n")
    return python


def _hash(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


# A dependency graph as real locks have one: package i needs 2i+1 and 2i+2 (so everything is
# reached from package 0), and every third package also one further package under a marker
# that holds on every Python the benchmark runs. The project itself names a few dozen
# packages directly, as a project does.
MARKER = "python_full_version >= '3.9'"


def deps_of(i: int, count: int) -> list[tuple[int, bool]]:
    """(index, under MARKER) of the packages package i needs."""
    result = [(j, False) for j in (2 * i + 1, 2 * i + 2) if j < count]
    extra = (i * 7919 + 13) % count
    if i % 3 == 0 and extra > i and extra not in (2 * i + 1, 2 * i + 2):
        result.append((extra, True))
    return result


def direct(count: int) -> list[int]:
    """The packages the project names itself: package 0 and a few dozen more."""
    return sorted({0, *range(0, count, max(1, count // 40))})


def _wheels(i: int) -> list[str]:
    """Wheel file name tails: most packages have one pure wheel, every tenth a set of
    platform wheels."""
    if i % 10:
        return ["py3-none-any"]
    return [f"cp3{m}-cp3{m}-{plat}" for m in (10, 11, 12, 13)
            for plat in ("manylinux_2_17_x86_64", "macosx_11_0_arm64")]


def write_requirements(path: Path, count: int, *, hashes: bool = False) -> Path:
    """A frozen requirements file; with `hashes`, as pip-compile --generate-hashes writes it
    (a `--hash` per file, then `# via` the packages that need it)."""
    parents: dict[int, list[int]] = {}
    if hashes:
        for i in range(count):
            for j, _ in deps_of(i, count):
                parents.setdefault(j, []).append(i)
    lines = []
    for i in range(count):
        line = f"{dist_name(i)}=={version_of(i)}"
        if hashes:
            digests = [_hash(i * 100 + k) for k in range(len(_wheels(i)) + 1)]
            line += "".join(f" \\\n    --hash=sha256:{d}" for d in digests)
            via = [normal(dist_name(p)) for p in parents.get(i, [])]
            if via:
                line += "\n    # via " + via[0] if len(via) == 1 else "\n    # via\n" + "\n".join(
                    f"    #   {v}" for v in via)
        lines.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _pyproject(folder: Path, count: int, pin: str) -> None:
    deps = "\n".join(f'    "{normal(dist_name(i))}{pin.format(version_of(i))}",'
                     for i in direct(count))
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0.1.0"\nrequires-python = ">=3.9"\n'
        f"dependencies = [\n{deps}\n]\n"
    )


def write_poetry(folder: Path, count: int) -> Path:
    """poetry.lock 2.1 as Poetry 2.5 writes it (a `[package.dependencies]` table per package,
    `files` for each wheel and the sdist)."""
    folder.mkdir(parents=True, exist_ok=True)
    _pyproject(folder, count, " (=={})")
    with (folder / "pyproject.toml").open("a") as f:
        f.write("\n[tool.poetry]\npackage-mode = false\n")
    parts = ["# This file is automatically @generated by Poetry 2.5.1 and should not be changed "
             "by hand.\n"]
    for i in range(count):
        name, version = normal(dist_name(i)), version_of(i)
        files = [f"{name.replace('-', '_')}-{version}-{tail}.whl" for tail in _wheels(i)]
        files.append(f"{name.replace('-', '_')}-{version}.tar.gz")
        entry = (
            f'[[package]]\nname = "{name}"\nversion = "{version}"\n'
            f'description = "Package number {i}, for the benchmark"\n'
            'optional = false\npython-versions = ">=3.8"\ngroups = ["main"]\nfiles = [\n'
            + "".join(f'    {{file = "{f}", hash = "sha256:{_hash(i * 100 + k)}"}},\n'
                      for k, f in enumerate(files))
            + "]\n"
        )
        deps = deps_of(i, count)
        if deps:
            entry += "\n[package.dependencies]\n" + "".join(
                f'{normal(dist_name(j))} = {{version = ">=1.0", markers = '
                f'"python_version >= \\"3.9\\""}}\n' if marked
                else f'{normal(dist_name(j))} = ">=1.0"\n' for j, marked in deps)
        parts.append(entry)
    parts.append(
        '[metadata]\nlock-version = "2.1"\npython-versions = ">=3.9"\n'
        'content-hash = "0000000000000000000000000000000000000000000000000000000000000000"\n'
    )
    (folder / "poetry.lock").write_text("\n".join(parts))
    return folder / "poetry.lock"


def write_uv(folder: Path, count: int) -> Path:
    """uv.lock (version 1, revision 5) as uv 0.13 writes it: edges with markers, sdist and
    wheels with sizes and upload times, the project as a virtual root."""
    folder.mkdir(parents=True, exist_ok=True)
    _pyproject(folder, count, "=={}")
    parts = ['version = 1\nrevision = 5\nrequires-python = ">=3.9"\n']
    registry = 'source = { registry = "https://pypi.org/simple" }'
    when = 'upload-time = "2025-06-01T12:00:00.000Z"'
    for i in range(count):
        name, version = normal(dist_name(i)), version_of(i)
        url = f"https://files.pythonhosted.org/packages/{_hash(i)[:2]}/{_hash(i)[2:4]}/{name}"
        entry = f'[[package]]\nname = "{name}"\nversion = "{version}"\n{registry}\n'
        deps = deps_of(i, count)
        if deps:
            entry += "dependencies = [\n" + "".join(
                f'    {{ name = "{normal(dist_name(j))}"'
                + (f', marker = "{MARKER}"' if marked else "") + " },\n"
                for j, marked in deps) + "]\n"
        entry += (
            f'sdist = {{ url = "{url}-{version}.tar.gz", hash = "sha256:{_hash(i * 100)}", '
            f"size = {1000 + i}, {when} }}\nwheels = [\n"
            + "".join(
                f'    {{ url = "{url.replace("-", "_")}-{version}-{tail}.whl", '
                f'hash = "sha256:{_hash(i * 100 + k + 1)}", size = {2000 + i + k}, {when} }},\n'
                for k, tail in enumerate(_wheels(i)))
            + "]\n"
        )
        parts.append(entry)
    root = direct(count)
    root_deps = "".join(f'    {{ name = "{normal(dist_name(i))}" }},\n' for i in root)
    root_meta = "".join(
        f'    {{ name = "{normal(dist_name(i))}", specifier = "=={version_of(i)}" }},\n'
        for i in root)
    parts.append(
        '[[package]]\nname = "bench"\nversion = "0.1.0"\nsource = { virtual = "." }\n'
        f"dependencies = [\n{root_deps}]\n\n[package.metadata]\n"
        f"requires-dist = [\n{root_meta}]\n"
    )
    (folder / "uv.lock").write_text("\n".join(parts))
    return folder / "uv.lock"


def write_pylock(folder: Path, count: int) -> Path:
    """pylock.toml as `pip lock` writes it (standard tables, the one wheel pip chose)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = ['lock-version = "1.0"\ncreated-by = "pip"\n']
    for i in range(count):
        name, version = normal(dist_name(i)), version_of(i)
        parts.append(
            f'[[packages]]\nname = "{name}"\nversion = "{version}"\n\n[[packages.wheels]]\n'
            f'name = "{name.replace("-", "_")}-{version}-py3-none-any.whl"\n'
            f'url = "https://files.pythonhosted.org/packages/{_hash(i)[:2]}/{name}-{version}'
            '-py3-none-any.whl"\n\n'
            f'[packages.wheels.hashes]\nsha256 = "{_hash(i)}"\n'
        )
    (folder / "pylock.toml").write_text("\n".join(parts))
    return folder / "pylock.toml"


def write_pipfile_lock(folder: Path, count: int) -> Path:
    """Pipfile.lock as pipenv writes it: the project's own packages with `index`, every one
    with its files' hashes and the Requires-Python marker pipenv adds."""
    folder.mkdir(parents=True, exist_ok=True)
    named = set(direct(count))
    default = {}
    for i in range(count):
        entry = {
            "hashes": sorted(f"sha256:{_hash(i * 100 + k)}" for k in range(len(_wheels(i)) + 1)),
            **({"index": "pypi"} if i in named else {}),
            "markers": "python_version >= '3.8'",
            "version": f"=={version_of(i)}",
        }
        default[normal(dist_name(i))] = entry
    doc = {
        "_meta": {
            "hash": {"sha256": "0" * 64},
            "pipfile-spec": 6,
            "requires": {"python_version": "3.11"},
            "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
        },
        "default": dict(sorted(default.items())),
        "develop": {},
    }
    (folder / "Pipfile.lock").write_text(json.dumps(doc, indent=4) + "\n")
    return folder / "Pipfile.lock"


LOCK_WRITERS = {
    "poetry.lock": write_poetry,
    "uv.lock": write_uv,
    "pylock.toml": write_pylock,
    "Pipfile.lock": write_pipfile_lock,
}


def write_include_chain(folder: Path, count: int) -> Path:
    """requirements.txt including r1.txt including r2.txt ... each declaring one package."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        nxt = f"-r r{i + 1}.txt\n" if i + 1 < count else ""
        name = "requirements.txt" if i == 0 else f"r{i}.txt"
        (folder / name).write_text(f"{dist_name(i)}=={version_of(i)}\n{nxt}")
    return folder / "requirements.txt"


def write_var_file(path: Path, occurrences: int) -> Path:
    """A frozen file with an option line whose URL repeats ${BENCH_VALUE} `occurrences`
    times (pip expands variables after joining lines and dropping comments)."""
    refs = "${BENCH_VALUE}" * occurrences
    path.write_text(
        f"--extra-index-url https://example.invalid/{refs}\n"
        f"{dist_name(0)}=={version_of(0)}\n{dist_name(1)}=={version_of(1)}\n"
    )
    return path


def top_level_file(path: Path) -> Path:
    """A top-level requirements file declaring one package of an environment where every
    other distribution is undeclared."""
    path.write_text(f"{dist_name(0)}>=1.0\n")
    return path


def env_site(python: Path) -> Path:
    return next((python.parent.parent / "lib").glob("python3*/site-packages"))
