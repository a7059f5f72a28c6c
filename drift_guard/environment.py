"""Find the environment to check -- the project's, never drift-guard's own -- and describe it.

In the default mode nothing of the target is run or imported: `pyvenv.cfg` gives its Python
version, its directory layout gives the directories `pip list` would scan, and `.pth` files
are read as site.py reads them (path lines only; `import` lines are code and are skipped).
Only `--python` pointing at an interpreter outside any venv is asked, once, for its
`sys.path`: a base interpreter's path depends on distribution patches no layout rule covers.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import Any, Dict, List, Mapping, Optional, Tuple

from drift_guard.errors import DriftGuardError
from drift_guard.models import Environment

_TOOL_TIMEOUT = 30.0
_QUERY_TIMEOUT = 30.0

# Removed before asking poetry / pipenv: pre-commit points VIRTUAL_ENV at the hook's own env,
# and both tools then answer with that env instead of the project's (python-poetry/poetry#9393).
_TOOL_ENV_DROP = ("VIRTUAL_ENV", "PIPENV_ACTIVE", "POETRY_ACTIVE")

_HOW_TO_POINT = "point at one with --python PATH, --venv DIR or DRIFT_GUARD_PYTHON=PATH"

# "3.12.1" (venv, uv), "3.12.1.final.0" / "3.13.0.candidate.1" (virtualenv).
_CFG_VERSION = re.compile(
    r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(alpha|beta|candidate|final)\.(\d+))?"
)
_RELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc", "final": ""}
_CONDA_PYTHON = re.compile(r"^python-(\d+\.\d+\.\d+[0-9a-z.+]*)-[^-]+\.json$")
_PATCHLEVEL = re.compile(r'^#define\s+PY_VERSION\s+"([^"]+)"', re.MULTILINE)
_LIB_DIR = re.compile(r"^(python|pypy)(\d+)\.(\d+)(t?)$")

# Printed by the target interpreter under `-I` for --python pointing outside a venv. It mirrors
# packaging.markers.default_environment() without importing packaging, which the target may
# lack. `-I` also disables the user site, which `pip list` run by that interpreter would see,
# so it is added back where site.py would put it (before the global site-packages).
_QUERY = r"""
import json, os, platform, site, sys
impl = sys.implementation
iv = impl.version
impl_version = "%d.%d.%d" % (iv.major, iv.minor, iv.micro)
if iv.releaselevel != "final":
    impl_version += iv.releaselevel[0] + str(iv.serial)
paths = [p for p in sys.path if p and os.path.isdir(p)]
user = None
if sys.prefix == getattr(sys, "base_prefix", sys.prefix) and not os.environ.get("PYTHONNOUSERSITE"):
    try:
        user = site.getusersitepackages()
    except Exception:
        user = None
if user and os.path.isdir(user) and user not in paths:
    before = len(sys.path)
    site.addsitedir(user)
    added = [p for p in sys.path[before:] if os.path.isdir(p)]
    known = set(site.getsitepackages())
    at = next((i for i, p in enumerate(paths) if p in known), len(paths))
    paths[at:at] = added
print(json.dumps({
    "prefix": sys.prefix,
    "implementation": impl.name,
    "paths": paths,
    "markers": {
        "implementation_name": impl.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    },
}))
"""


def find_environment(
    python: Optional[str] = None,
    venv: Optional[str] = None,
    *,
    cwd: str = ".",
    environ: Optional[Mapping[str, str]] = None,
) -> Environment:
    """The project's environment, found in the contract's order (CONTRACT.md).

    Under a pre-commit `language: python` hook VIRTUAL_ENV is the hook's own env; it is
    skipped, and an activated project venv is still found further down PATH.
    """
    if environ is None:
        environ = os.environ
    if python and venv:
        raise DriftGuardError("--python and --venv both given; give one of them")
    if python:
        return _from_python(python, "--python", cwd, environ)
    if venv:
        return _from_directory(venv, "--venv", cwd, environ)

    tried: List[str] = []
    value = environ.get("DRIFT_GUARD_PYTHON")
    if value:
        return _from_python(value, "DRIFT_GUARD_PYTHON", cwd, environ)
    tried.append("DRIFT_GUARD_PYTHON")

    value = environ.get("VIRTUAL_ENV")
    if value and _is_own_env(value, environ):
        tried.append(f"VIRTUAL_ENV (skipped: {value} is drift-guard's own pre-commit env)")
    elif value:
        return _from_directory(value, "VIRTUAL_ENV", cwd, environ)
    else:
        tried.append("VIRTUAL_ENV")

    prefix = _venv_on_path(environ)
    if prefix is not None:
        return environment_at(prefix, "PATH", environ=environ)
    tried.append("an activated venv on PATH")

    value = environ.get("CONDA_PREFIX")
    if value:
        return _from_directory(value, "CONDA_PREFIX", cwd, environ)
    tried.append("CONDA_PREFIX")

    for name in (".venv", "venv"):
        path = os.path.join(cwd, name)
        if os.path.isfile(os.path.join(path, "pyvenv.cfg")):
            return environment_at(path, "./" + name, environ=environ)
    tried.append(f"./.venv and ./venv in {os.path.abspath(cwd)}")

    for tool, locks, args in (
        ("poetry", ("poetry.lock",), ("env", "info", "--path")),
        ("pipenv", ("Pipfile.lock", "Pipfile"), ("--venv",)),
    ):
        if not any(os.path.isfile(os.path.join(cwd, lock)) for lock in locks):
            tried.append(f"{tool} (no {' or '.join(locks)})")
            continue
        prefix, why = _ask_tool(tool, args, cwd, environ)
        if prefix is not None:
            return environment_at(prefix, tool, environ=environ)
        tried.append(f"{tool} ({why})")

    raise DriftGuardError(
        f"no project environment found (tried {', '.join(tried)}); {_HOW_TO_POINT}"
    )


def environment_at(
    prefix: str, found_by: str, *, environ: Optional[Mapping[str, str]] = None
) -> Environment:
    """Describe the environment rooted at `prefix` (a venv, a conda env or a base prefix)
    from its files alone, without running its interpreter."""
    if environ is None:
        environ = os.environ
    prefix = os.path.abspath(prefix)
    if not os.path.isdir(prefix):
        raise DriftGuardError(f"no such directory (from {found_by}); {_HOW_TO_POINT}", path=prefix)
    cfg = _read_pyvenv_cfg(prefix)
    version: Optional[str] = None
    implementation = ""
    if cfg is not None:
        version = _cfg_version(cfg.get("version_info") or cfg.get("version") or "")
        implementation = cfg.get("implementation", "").lower()
    if version is None:
        version = _conda_version(prefix)

    layout = _site_layout(prefix, version, base=cfg is None)
    if layout is None and cfg is None:
        raise DriftGuardError(
            f"not a Python environment (from {found_by}: no pyvenv.cfg, no "
            f"lib/pythonX.Y/site-packages); {_HOW_TO_POINT}",
            path=prefix,
        )
    lib_name = layout[0] if layout else None
    site_dirs = list(layout[1]) if layout else []

    if version is None:
        version = _patchlevel_version(prefix, lib_name)
    if version is None and lib_name:
        match = _LIB_DIR.match(lib_name)
        version = f"{match.group(2)}.{match.group(3)}" if match else None
    if version is None:
        raise DriftGuardError(
            f"cannot tell its Python version (from {found_by}: pyvenv.cfg has none and there "
            "is no lib/pythonX.Y); give its interpreter with --python PATH",
            path=prefix,
        )
    if not implementation:
        implementation = "pypy" if lib_name and lib_name.startswith("pypy") else "cpython"

    if cfg is None:
        # A base prefix (conda env, system Python): site.py adds the user site first.
        user = _user_site(version, lib_name, environ)
        dirs = ([user] if user else []) + site_dirs
    else:
        dirs = site_dirs
        if cfg.get("include-system-site-packages", "").lower() == "true":
            base = _base_prefix(cfg, version, lib_name)
            if base is not None:
                base_layout = _site_layout(base, version, base=True)
                dirs += base_layout[1] if base_layout else []

    return Environment(
        prefix=prefix,
        python=_interpreter(prefix),
        python_version=version,
        found_by=found_by,
        paths=_expand_pth(dirs),
        implementation=implementation,
    )


# --- the discovery steps -------------------------------------------------------------------


def _is_own_env(prefix: str, environ: Mapping[str, str]) -> bool:
    """Whether `prefix` is drift-guard's own isolated env: a pre-commit `language: python`
    hook env, named `py_env-<version>` inside pre-commit's store.

    Sameness with sys.prefix alone does not count, and neither does PRE_COMMIT alone: a
    `language: system` hook runs drift-guard from the project venv with PRE_COMMIT=1 set,
    and that venv is the one to check.
    """
    own = _real(sys.prefix)
    if _real(prefix) != own:
        return False
    if os.path.basename(own).startswith("py_env-"):
        return True
    return bool(environ.get("PRE_COMMIT")) and _in_pre_commit_store(own, environ)


def _in_pre_commit_store(path: str, environ: Mapping[str, str]) -> bool:
    store = environ.get("PRE_COMMIT_HOME")
    if not store:
        cache = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME", "~"), ".cache")
        store = os.path.join(cache, "pre-commit")
    store = _real(os.path.expanduser(store))
    return path.startswith(store + os.sep)


def _venv_on_path(environ: Mapping[str, str]) -> Optional[str]:
    """The first venv whose bin (Scripts) directory is on PATH and is not our own env."""
    for entry in environ.get("PATH", "").split(os.pathsep):
        if not entry:
            continue
        entry = os.path.normpath(os.path.abspath(entry))
        if os.path.basename(entry).lower() not in ("bin", "scripts"):
            continue
        prefix = os.path.dirname(entry)
        if os.path.isfile(os.path.join(prefix, "pyvenv.cfg")) and not _is_own_env(prefix, environ):
            return prefix
    return None


def _ask_tool(
    tool: str, args: Tuple[str, ...], cwd: str, environ: Mapping[str, str]
) -> Tuple[Optional[str], str]:
    """(the env directory `tool ARGS` prints, None) or (None, why not). Any failure of the
    tool means "not found": it is a last resort, not something to report."""
    import shutil

    exe = shutil.which(tool, path=environ.get("PATH", ""))
    if exe is None:
        return None, "not on PATH"
    import subprocess

    env = {k: v for k, v in environ.items() if k not in _TOOL_ENV_DROP}
    try:
        done = subprocess.run(
            [exe, *args], cwd=cwd, env=env, capture_output=True, text=True,
            timeout=_TOOL_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer within {_TOOL_TIMEOUT:.0f}s"
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"could not run it: {e}"
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        return None, "no env for this project"
    path = os.path.join(cwd, lines[-1])
    if not os.path.isdir(path):
        return None, f"it named {lines[-1]}, which does not exist"
    return path, ""


def _from_directory(
    value: str, label: str, cwd: str, environ: Mapping[str, str]
) -> Environment:
    path = os.path.join(cwd, os.path.expanduser(value))
    if os.path.isfile(path):
        raise DriftGuardError(
            f"{label} {value}: is a file, not an environment directory; "
            "give the venv's directory, or the interpreter with --python"
        )
    if not os.path.isdir(path):
        raise DriftGuardError(f"{label} {value}: no such directory; {_HOW_TO_POINT}")
    return environment_at(path, label, environ=environ)


def _from_python(value: str, label: str, cwd: str, environ: Mapping[str, str]) -> Environment:
    """An environment from an interpreter path (or, as pip's --python takes, a venv dir)."""
    path = os.path.expanduser(value)
    if os.sep not in path and (os.altsep is None or os.altsep not in path) and not os.path.exists(
        os.path.join(cwd, path)
    ):
        import shutil

        path = shutil.which(path, path=environ.get("PATH", "")) or path
    path = os.path.abspath(os.path.join(cwd, path))
    if os.path.isdir(path):
        return _from_directory(path, label, cwd, environ)
    if not os.path.isfile(path):
        raise DriftGuardError(
            f"{label} {value}: no such file; give the project's interpreter "
            "(e.g. .venv/bin/python) or its environment directory"
        )
    # Not resolved through symlinks: a venv's python is a symlink to the base interpreter.
    prefix = os.path.dirname(os.path.dirname(path))
    if os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
        return environment_at(prefix, label, environ=environ)._replace(python=path)
    return _query(path, value, label)


def _query(python: str, value: str, label: str) -> Environment:
    """Ask an interpreter outside any venv for its sys.path and marker values, once."""
    import json
    import subprocess

    try:
        done = subprocess.run(
            [python, "-I", "-c", _QUERY], capture_output=True, text=True,
            timeout=_QUERY_TIMEOUT, check=False,
        )
    except subprocess.TimeoutExpired:
        raise DriftGuardError(
            f"{label} {value}: did not answer within {_QUERY_TIMEOUT:.0f}s; "
            "give a Python interpreter"
        ) from None
    except OSError as e:
        raise DriftGuardError(
            f"{label} {value}: cannot run it ({e.strerror}); give a Python interpreter"
        ) from None
    try:
        if done.returncode != 0:
            raise ValueError(done.returncode)
        data: Any = json.loads(done.stdout)
        markers = {str(k): str(v) for k, v in data["markers"].items()}
        paths = tuple(str(p) for p in data["paths"])
        result = Environment(
            prefix=str(data["prefix"]),
            python=python,
            python_version=markers["python_full_version"],
            found_by=label,
            paths=paths,
            implementation=str(data["implementation"]),
            markers=markers,
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        lines = (done.stderr or done.stdout).strip().splitlines()
        detail = f" ({lines[-1].strip()})" if lines else ""
        raise DriftGuardError(
            f"{label} {value}: not a working Python interpreter{detail}; "
            "give the project's interpreter, e.g. .venv/bin/python"
        ) from None
    return result


# --- reading an environment's files --------------------------------------------------------


def _read_pyvenv_cfg(prefix: str) -> Optional[Dict[str, str]]:
    path = os.path.join(prefix, "pyvenv.cfg")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise DriftGuardError(f"cannot read it ({e.strerror})", path=path) from None
    cfg: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            # site.py matches keys case-insensitively.
            cfg.setdefault(key.strip().lower(), value.strip())
    return cfg


def _cfg_version(text: str) -> Optional[str]:
    match = _CFG_VERSION.match(text.strip())
    if not match:
        return None
    major, minor, micro, level, serial = match.groups()
    version = f"{major}.{minor}.{micro or 0}"
    if level and level != "final":
        version += f"{_RELEASE_LEVELS[level]}{serial}"
    return version


def _conda_version(prefix: str) -> Optional[str]:
    try:
        names = os.listdir(os.path.join(prefix, "conda-meta"))
    except OSError:
        return None
    for name in names:
        match = _CONDA_PYTHON.match(name)
        if match:
            return match.group(1)
    return None


def _patchlevel_version(prefix: str, lib_name: Optional[str]) -> Optional[str]:
    """PY_VERSION from the headers of a base installation: its full version, unrun."""
    names = [lib_name] if lib_name else []
    with contextlib.suppress(OSError):
        names += sorted(os.listdir(os.path.join(prefix, "include")))
    for name in names:
        try:
            with open(os.path.join(prefix, "include", name, "patchlevel.h"), encoding="utf-8") as f:
                match = _PATCHLEVEL.search(f.read())
        except (OSError, UnicodeDecodeError):
            continue
        if match:
            return match.group(1)
    return None


def _lib_candidates(version: Optional[str]) -> List[str]:
    if version is None:
        return []
    xy = ".".join(version.split(".")[:2])
    return [f"python{xy}", f"python{xy}t", f"pypy{xy}"]


def _site_layout(
    prefix: str, version: Optional[str], base: bool = False
) -> Optional[Tuple[Optional[str], List[str]]]:
    """(lib dir name such as "python3.12", site dirs in site.py's order) for `prefix`, or None
    when it has no recognisable layout. `base`: the prefix of a base interpreter, whose
    site.py may be a distribution's (Debian's dist-packages)."""
    lib_names = _lib_candidates(version)
    with contextlib.suppress(OSError):
        lib_names += sorted(n for n in os.listdir(os.path.join(prefix, "lib")) if _LIB_DIR.match(n))
    for name in lib_names:
        lib = os.path.join(prefix, "lib", name)
        if not os.path.isdir(lib):
            continue
        dirs = [os.path.join(lib, "site-packages")]
        lib64 = os.path.join(prefix, "lib64", name, "site-packages")
        if os.path.isdir(lib64) and _real(lib64) != _real(dirs[0]):
            # site.py puts sys.platlibdir first. lib64 is usually a symlink to lib (venv
            # makes one); where it is a real directory, the platlibdir is lib64.
            dirs.insert(0, lib64)
        if base:
            dirs += [
                os.path.join(prefix, "local", "lib", name, "dist-packages"),
                os.path.join(prefix, "lib", "python3", "dist-packages"),
                os.path.join(lib, "dist-packages"),
            ]
        return name, [d for d in dirs if os.path.isdir(d)]
    windows = os.path.join(prefix, "Lib", "site-packages")
    if os.path.isdir(windows):
        # Windows: site.py also adds the prefix itself (and reads the .pth files there).
        return None, [prefix, windows]
    legacy = os.path.join(prefix, "site-packages")  # PyPy before 3.8
    if os.path.isdir(legacy):
        return None, [legacy]
    return None


def _base_prefix(cfg: Mapping[str, str], version: str, lib_name: Optional[str]) -> Optional[str]:
    """The base interpreter's prefix of a venv: virtualenv records it, venv and uv record
    only `home`, the directory of the base executable."""
    candidates = [cfg.get("base-prefix", "")]
    home = cfg.get("home", "")
    if home:
        parent = os.path.dirname(home.rstrip("/\\"))
        if os.path.isfile(os.path.join(parent, "pyvenv.cfg")):
            # A venv made from inside another venv by Python < 3.11 records that venv's bin
            # as `home`; its interpreter links to the real base, which site.py follows.
            xy = ".".join(version.split(".")[:2])
            for exe in (f"python{xy}", "python3", "python"):
                real = os.path.realpath(os.path.join(home, exe))
                if os.path.isfile(real):
                    candidates.append(os.path.dirname(os.path.dirname(real)))
                    break
        candidates += [parent, home]
    names = ([lib_name] if lib_name else []) + _lib_candidates(version)
    for candidate in candidates:
        if not candidate:
            continue
        if any(os.path.isdir(os.path.join(candidate, "lib", n)) for n in names):
            return candidate
        if os.path.isdir(os.path.join(candidate, "Lib", "site-packages")):
            return candidate
    return None


def _user_site(
    version: str, lib_name: Optional[str], environ: Mapping[str, str]
) -> Optional[str]:
    """The user site-packages a base (non-venv) interpreter adds, when it exists."""
    if environ.get("PYTHONNOUSERSITE"):
        return None
    xy = ".".join(version.split(".")[:2])
    base = environ.get("PYTHONUSERBASE")
    if os.name == "nt":
        base = base or os.path.join(environ.get("APPDATA", ""), "Python")
        suffix = "t" if lib_name and lib_name.endswith("t") else ""
        path = os.path.join(base, f"Python{xy.replace('.', '')}{suffix}", "site-packages")
    else:
        home = environ.get("HOME")
        if not base and not home:
            return None
        base = base or os.path.join(home or "", ".local")
        path = os.path.join(base, "lib", lib_name or f"python{xy}", "site-packages")
    return path if os.path.isdir(path) else None


def _expand_pth(site_dirs: List[str]) -> Tuple[str, ...]:
    """The site dirs in order, each followed by the directories its .pth files add.

    As site.py: .pth files in sorted order, "#" lines and blank lines skipped, a path is
    added when it exists and is not known yet. Lines starting with `import` are code that
    site.py executes; they are skipped (running them would run the project's code).
    """
    paths: List[str] = []
    known: set[str] = set()

    def add(path: str) -> bool:
        key = _real(path)
        if key in known:
            return False
        known.add(key)
        paths.append(path)
        return True

    for site_dir in site_dirs:
        if not add(os.path.abspath(site_dir)):
            continue
        try:
            names = sorted(
                n for n in os.listdir(site_dir) if n.endswith(".pth") and not n.startswith(".")
            )
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(site_dir, name), "rb") as f:
                    data = f.read()
            except OSError:
                continue
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            for line in text.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line.startswith(("import ", "import\t")):
                    continue
                path = os.path.abspath(os.path.join(site_dir, line.rstrip()))
                if os.path.exists(path):
                    add(path)
    return tuple(paths)


def _interpreter(prefix: str) -> Optional[str]:
    for rel in (
        ("bin", "python"), ("bin", "python3"), ("Scripts", "python.exe"), ("python.exe",),
    ):
        path = os.path.join(prefix, *rel)
        if os.path.isfile(path):
            return path
    return None


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))
