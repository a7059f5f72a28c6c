"""Find the environment to check -- the project's, never drift-guard's own -- and describe it.

In the default mode nothing of the target is run or imported: `pyvenv.cfg` gives its Python
version, its directory layout gives the directories `pip list` would scan, and `.pth` files
are read as site.py reads them (path lines only; `import` lines are code and are skipped).
Every file is read as a bounded regular file (drift_guard/_io.py).

What may be run, and only then:
- `--python` / `DRIFT_GUARD_PYTHON` -- the user's own choice -- pointing at an interpreter
  outside any venv is asked once, under `-S -I` (no site.py, no `.pth`, no sitecustomize, no
  PYTHON* variables, not the current directory), for its site directories and marker values;
  a base interpreter's layout depends on distribution patches no rule covers.
- `poetry env info --path` and `pipenv --venv`, last in the discovery order, without plugins,
  without the repository's `.env`, with a scrubbed environment and a timeout.
A path the checked repository names (`[tool.drift-guard] python`) is never run: it is taken
only when it is the interpreter of a virtualenv, which is then read from disk.
"""

from __future__ import annotations

import os
import sys

from drift_guard import _io
from drift_guard._patterns import lazy
from drift_guard.errors import DriftGuardError
from drift_guard.models import Environment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Tuple

_TOOL_TIMEOUT = 20.0
_QUERY_TIMEOUT = 20.0

# What a tool probe may see of the caller's environment: enough to find its configuration and
# its environments, nothing that could carry a secret (tokens, passwords, cloud credentials).
_TOOL_ENV_KEEP = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP",
    "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    "PYENV_ROOT", "PYENV_VERSION", "WORKON_HOME",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA",
    "USERPROFILE", "PROGRAMDATA",
    "POETRY_HOME", "POETRY_CONFIG_DIR", "POETRY_CACHE_DIR", "POETRY_DATA_DIR",
})
# Tool settings that say where environments live, kept by prefix.
_TOOL_ENV_PREFIXES = ("POETRY_VIRTUALENVS_", "PIPENV_")
# Never kept, whatever their prefix: pre-commit points VIRTUAL_ENV at the hook's own env, and
# both tools then answer with that env instead of the project's (python-poetry/poetry#9393).
_TOOL_ENV_DROP = frozenset({"VIRTUAL_ENV", "PIPENV_ACTIVE", "POETRY_ACTIVE"})
_SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "CREDENTIAL", "AUTH", "KEY")
# Set for every probe: no `.env` of the repository, no prompt, no spinner.
_TOOL_ENV_SET = {
    "PIPENV_DONT_LOAD_ENV": "1",
    "PIPENV_NOSPIN": "1",
    "PIPENV_YES": "1",
    "POETRY_NO_INTERACTION": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
}

_HOW_TO_POINT = "point at one with --python PATH, --venv DIR or DRIFT_GUARD_PYTHON=PATH"

_RELEASE_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc", "final": ""}
_CONDA_PYTHON = lazy(r"^python-(\d+\.\d+\.\d+[0-9a-z.+]*)-[^-]+\.json$")
_PATCHLEVEL = lazy(r'(?m)^#define\s+PY_VERSION\s+"([^"]+)"')

# Printed by a base interpreter (--python outside a venv) run with `-S -I`: no site.py, so no
# .pth line and no sitecustomize runs; `import site` under -S defines the functions without
# running site.main(). The site directories are what site.py would add (a distribution's
# patched getsitepackages included); drift-guard reads their .pth files itself. The marker
# values mirror packaging.markers.default_environment() without importing packaging, which
# the target may lack.
_QUERY = r"""
import json, os, platform, site, sys
impl = sys.implementation
iv = impl.version
impl_version = "%d.%d.%d" % (iv.major, iv.minor, iv.micro)
if iv.releaselevel != "final":
    impl_version += iv.releaselevel[0] + str(iv.serial)
try:
    sites = list(site.getsitepackages())
except Exception:
    sites = []
user = None
if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
    try:
        user = site.getusersitepackages()
    except Exception:
        user = None
print(json.dumps({
    "prefix": sys.prefix,
    "implementation": impl.name,
    "sites": sites,
    "user": user,
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

CONFIG_LABEL = "[tool.drift-guard]"

_WHY = {
    "--python": "--python was given",
    "--venv": "--venv was given",
    "DRIFT_GUARD_PYTHON": "DRIFT_GUARD_PYTHON is set",
    "VIRTUAL_ENV": "VIRTUAL_ENV is set (an activated venv comes first)",
    "PATH": "a venv activated before the hook started comes first",
    "CONDA_PREFIX": "CONDA_PREFIX is set (an activated conda env comes first)",
    CONFIG_LABEL: f"{CONFIG_LABEL} names it",
}


def find_environment(
    python: Optional[str] = None,
    venv: Optional[str] = None,
    *,
    cwd: str = ".",
    environ: Optional[Mapping[str, str]] = None,
    configured: bool = False,
) -> Environment:
    """The project's environment, found in the contract's order (CONTRACT.md).

    `configured`: `python` / `venv` come from the checked repository's `[tool.drift-guard]`,
    not from the user: such a `python` is accepted only as a virtualenv's interpreter, and
    read, never run. Under a pre-commit `language: python` hook VIRTUAL_ENV is the hook's own
    env; it is skipped, and a venv activated before the hook started is found next on PATH.
    Notes on the choice (a project-local .venv not checked) are in `Environment.notes`.
    """
    if environ is None:
        environ = os.environ
    env = _find(python, venv, cwd, environ, configured)
    notes = []
    active = environ.get("VIRTUAL_ENV")
    if not (python or venv) and active and env.found_by != "VIRTUAL_ENV":
        own = _own_env(active, environ, cwd)
        if own and own != _HOOK_ENV:
            # Activated by hand, yet not the project's: say why it was passed over.
            notes.append(f"VIRTUAL_ENV {active} was not checked: it is {own}")
    note = _other_local_env(env, cwd)
    if note:
        notes.append(note)
    if notes:
        env = env._replace(notes=(*env.notes, *notes))
    return env


def _find(
    python: Optional[str], venv: Optional[str], cwd: str, environ: Mapping[str, str],
    configured: bool,
) -> Environment:
    if python and venv:
        where = f"{CONFIG_LABEL} python and venv" if configured else "--python and --venv"
        raise DriftGuardError(f"{where} both given; give one of them")
    if python:
        if configured:
            return _from_configured_python(python, cwd, environ)
        return _from_python(python, "--python", cwd, environ)
    if venv:
        return _from_directory(venv, CONFIG_LABEL if configured else "--venv", cwd, environ)

    tried: List[str] = []
    value = environ.get("DRIFT_GUARD_PYTHON")
    if value:
        return _from_python(value, "DRIFT_GUARD_PYTHON", cwd, environ)
    tried.append("DRIFT_GUARD_PYTHON")

    hidden_by_hook = False
    value = environ.get("VIRTUAL_ENV")
    own = _own_env(value, environ, cwd) if value else None
    if value and own:
        tried.append(f"VIRTUAL_ENV (skipped: {value} is {own})")
        hidden_by_hook = own == _HOOK_ENV
    elif value:
        return _from_directory(value, "VIRTUAL_ENV", cwd, environ)
    else:
        tried.append("VIRTUAL_ENV")

    if hidden_by_hook:
        prefix = _venv_on_path(environ, str(value))
        if prefix is not None:
            return environment_at(prefix, "PATH", environ=environ)
        tried.append("a venv activated before the hook (PATH)")

    value = environ.get("CONDA_PREFIX")
    if value:
        return _from_directory(value, "CONDA_PREFIX", cwd, environ)
    tried.append("CONDA_PREFIX")

    for name in (".venv", "venv"):
        path = os.path.join(cwd, name)
        if _has_cfg(path):
            return environment_at(path, "./" + name, environ=environ)
    tried.append(f"./.venv and ./venv in {os.path.abspath(cwd)}")

    for tool, locks, args in (
        ("poetry", ("poetry.lock",),
         ("--no-plugins", "--no-interaction", "--no-ansi", "env", "info", "--path")),
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


def _other_local_env(env: Environment, cwd: str) -> Optional[str]:
    """A note when the project has its own ./.venv (or ./venv) and another env was chosen."""
    if env.found_by in ("./.venv", "./venv"):
        return None
    chosen = _real(env.prefix)
    for name in (".venv", "venv"):
        path = os.path.join(cwd, name)
        if not _has_cfg(path) or _real(path) == chosen:
            continue
        why = _WHY.get(env.found_by, f"{env.found_by} comes first in the discovery order")
        return (
            f"checked {env.prefix} (found by {env.found_by}: {why}), not the project's "
            f"./{name}; to check ./{name}, run with --venv {name}"
        )
    return None


def has_local_venv(project: str) -> bool:
    """Whether `project` has a venv of its own, ./.venv or ./venv."""
    return any(_has_cfg(os.path.join(project, name)) for name in (".venv", "venv"))


def _has_cfg(prefix: str) -> bool:
    # lexists, not isfile: a pyvenv.cfg that is a FIFO or a dangling link marks a venv that
    # cannot be read (an error), not a directory to pass over.
    return os.path.lexists(os.path.join(prefix, "pyvenv.cfg"))


def environment_at(
    prefix: str, found_by: str, *, environ: Optional[Mapping[str, str]] = None
) -> Environment:
    """Describe the environment rooted at `prefix` (a venv, a conda env or a base prefix)
    from its files alone, without running its interpreter.

    A site directory that is missing or cannot be listed, or a `.pth` file that cannot be
    read, is a warning in `Environment.warnings` (naming the path): the listing of such an
    environment is incomplete, and --fix must not act on it.
    """
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
    warnings: List[str] = []
    if cfg is not None and not site_dirs:
        warnings.append(
            f"{_shown(prefix)}: no site-packages directory (lib/pythonX.Y/site-packages is "
            "missing or unreadable); nothing installed there could be read"
        )

    if version is None:
        version = _patchlevel_version(prefix, lib_name)
    if version is None and lib_name:
        version = _lib_dir_version(lib_name)
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
        paths=_expand_pth(dirs, warnings),
        implementation=implementation,
        warnings=tuple(warnings),
    )


# --- the discovery steps -------------------------------------------------------------------

_HOOK_ENV = "drift-guard's own pre-commit env"


def _own_env(prefix: str, environ: Mapping[str, str], cwd: str) -> Optional[str]:
    """Why `prefix` (VIRTUAL_ENV) is drift-guard's own environment rather than the project's,
    or None when it is to be checked.

    Only the environment drift-guard runs from can be its own. It is skipped when it is a
    pre-commit `language: python` hook env (`py_env-<version>` in pre-commit's store), a
    pipx venv, or when the project has a local .venv / venv of its own. Otherwise drift-guard
    installed in the activated project venv (`language: system`, CI) checks that venv.
    """
    own = _real(sys.prefix)
    if _real(prefix) != own:
        return None
    if os.path.basename(own).startswith("py_env-") or (
        environ.get("PRE_COMMIT") and _in_pre_commit_store(own, environ)
    ):
        return _HOOK_ENV
    if _in_pipx(own, environ):
        return "drift-guard's own pipx env"
    for name in (".venv", "venv"):
        local = os.path.join(cwd, name)
        if _has_cfg(local) and _real(local) != own:
            return f"the environment drift-guard runs from, and the project has ./{name}"
    return None


def _in_pre_commit_store(path: str, environ: Mapping[str, str]) -> bool:
    store = environ.get("PRE_COMMIT_HOME")
    if not store:
        cache = environ.get("XDG_CACHE_HOME") or os.path.join(environ.get("HOME", "~"), ".cache")
        store = os.path.join(cache, "pre-commit")
    store = _real(os.path.expanduser(store))
    return path.startswith(store + os.sep)


def _in_pipx(path: str, environ: Mapping[str, str]) -> bool:
    homes = [environ.get("PIPX_HOME", "")]
    home = environ.get("HOME", "")
    if home:
        homes += [os.path.join(home, ".local", "pipx"), os.path.join(home, ".local", "share", "pipx")]
    for pipx in homes:
        if pipx and path.startswith(_real(os.path.join(pipx, "venvs")) + os.sep):
            return True
    return False


def _venv_on_path(environ: Mapping[str, str], hook_env: str) -> Optional[str]:
    """The venv that was activated before a pre-commit hook hid it, or None.

    pre-commit puts its hook env's bin directory in front of the caller's PATH (and git puts
    its exec path in front of that); an activated venv's bin directory is then the first entry
    after them. A venv's bin directory anywhere else on PATH -- drift-guard's own tools venv,
    a Docker image's `PATH=/opt/dg/bin:$PATH` -- is not an activated venv and does not count.
    """
    entries = [
        os.path.normpath(os.path.abspath(e))
        for e in environ.get("PATH", "").split(os.pathsep) if e
    ]
    hook_bins = {_real(os.path.join(hook_env, d)) for d in ("bin", "Scripts")}
    at = next((i for i, e in enumerate(entries) if _real(e) in hook_bins), None)
    if at is None:
        return None
    git_exec = environ.get("GIT_EXEC_PATH")
    own = _real(sys.prefix)
    for entry in entries[at + 1:]:
        if _real(entry) in hook_bins:
            continue
        if (git_exec and _real(entry) == _real(git_exec)) or os.path.basename(entry) == "git-core":
            continue
        if os.path.basename(entry).lower() not in ("bin", "scripts"):
            return None
        prefix = os.path.dirname(entry)
        if not os.path.isfile(os.path.join(prefix, "pyvenv.cfg")) or _real(prefix) == own:
            return None
        if _in_pipx(_real(prefix), environ):
            return None
        return prefix
    return None


def _tool_environ(environ: Mapping[str, str]) -> Dict[str, str]:
    """The scrubbed environment a tool probe runs with."""
    env = {}
    for key, value in environ.items():
        upper = key.upper()
        if upper in _TOOL_ENV_DROP or any(word in upper for word in _SECRET_WORDS):
            continue
        if upper in _TOOL_ENV_KEEP or upper.startswith(_TOOL_ENV_PREFIXES):
            env[key] = value
    env.update(_TOOL_ENV_SET)
    return env


def run_bounded(
    args: List[str], *, cwd: str, env: Mapping[str, str], timeout: float
) -> Tuple[int, str, str]:
    """(exit status, stdout, stderr) of a program run without a terminal, with nothing on its
    stdin, and killed -- with every process it started -- after `timeout` seconds.

    Raises subprocess.TimeoutExpired when the time is up, OSError when it cannot start.
    """
    import contextlib
    import signal
    import subprocess

    posix = os.name == "posix"
    proc = subprocess.Popen(
        args, cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=posix,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Its whole process group: a child it started would keep the pipes open.
        with contextlib.suppress(OSError):
            if posix:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.communicate(timeout=5)
        raise
    limit = 1 << 20
    return (
        proc.returncode,
        out[:limit].decode("utf-8", "replace"),
        err[:limit].decode("utf-8", "replace"),
    )


def _ask_tool(
    tool: str, args: Tuple[str, ...], cwd: str, environ: Mapping[str, str]
) -> Tuple[Optional[str], str]:
    """(the env directory `tool ARGS` prints, None) or (None, why not). Any failure of the
    tool means "not found": it is a last resort, not something to report."""
    import shutil
    import subprocess

    exe = shutil.which(tool, path=environ.get("PATH", ""))
    if exe is None:
        return None, "not on PATH"
    shown = f"{tool} {' '.join(a for a in args if not a.startswith('--no-'))}"
    try:
        code, out, _ = run_bounded(
            [exe, *args], cwd=cwd, env=_tool_environ(environ), timeout=_TOOL_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return None, f"`{shown}` gave no answer within {_TOOL_TIMEOUT:.0f}s and was stopped"
    except (OSError, subprocess.SubprocessError) as e:
        return None, f"could not run it: {getattr(e, 'strerror', None) or type(e).__name__}"
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if code != 0 or not lines:
        return None, "no env for this project"
    path = os.path.join(cwd, lines[-1])
    if not os.path.isdir(path):
        return None, f"it named {lines[-1][:200]!r}, which does not exist"
    return path, ""


def _from_directory(
    value: str, label: str, cwd: str, environ: Mapping[str, str]
) -> Environment:
    shown = value if label != CONFIG_LABEL else f"venv = {value}"
    path = os.path.join(cwd, os.path.expanduser(value))
    if os.path.isfile(path):
        raise DriftGuardError(
            f"{label} {shown}: is a file, not an environment directory; "
            "give the venv's directory, or the interpreter with --python"
        )
    if not os.path.isdir(path):
        raise DriftGuardError(f"{label} {shown}: no such directory; {_HOW_TO_POINT}")
    return environment_at(path, label, environ=environ)


def _from_configured_python(value: str, cwd: str, environ: Mapping[str, str]) -> Environment:
    """`[tool.drift-guard] python`: the repository chose it, so it is never run. Only a
    virtualenv's interpreter (or its directory) is taken, and the venv is read from disk."""
    path = os.path.abspath(os.path.join(cwd, os.path.expanduser(value)))
    if os.path.isdir(path):
        return _from_directory(path, CONFIG_LABEL, cwd, environ)
    prefix = os.path.dirname(os.path.dirname(path))
    if os.path.isfile(path) and _has_cfg(prefix):
        return environment_at(prefix, CONFIG_LABEL, environ=environ)._replace(python=path)
    if not os.path.lexists(path):
        raise DriftGuardError(
            f"{CONFIG_LABEL} python = {value}: no such file; name the project venv's "
            "interpreter (e.g. .venv/bin/python)"
        )
    raise DriftGuardError(
        f"{CONFIG_LABEL} python = {value}: not the interpreter of a virtualenv, and "
        "drift-guard never runs a program the checked repository names; give it yourself "
        "with --python PATH or DRIFT_GUARD_PYTHON=PATH"
    )


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
    if _has_cfg(prefix):
        return environment_at(prefix, label, environ=environ)._replace(python=path)
    return _query(path, value, label, environ)


def _query(python: str, value: str, label: str, environ: Mapping[str, str]) -> Environment:
    """Ask an interpreter outside any venv -- one the user named -- for its site directories
    and marker values, once, under `-S -I`, in a scrubbed environment and a neutral
    directory; its .pth files are then read, not run."""
    import json
    import subprocess
    import tempfile

    env = _tool_environ(environ)
    for key in ("PYTHONUSERBASE",):
        if key in environ:
            env[key] = environ[key]
    try:
        code, out, err = run_bounded(
            [python, "-S", "-I", "-c", _QUERY], cwd=tempfile.gettempdir(), env=env,
            timeout=_QUERY_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise DriftGuardError(
            f"{label} {value}: did not answer within {_QUERY_TIMEOUT:.0f}s and was stopped; "
            "give a Python interpreter"
        ) from None
    except OSError as e:
        raise DriftGuardError(
            f"{label} {value}: cannot run it ({e.strerror}); give a Python interpreter"
        ) from None
    try:
        if code != 0:
            raise ValueError(code)
        data: Any = json.loads(out)
        markers = {str(k): str(v) for k, v in data["markers"].items()}
        sites = [str(p) for p in data["sites"]]
        user = data.get("user")
        dirs = []
        if user and not environ.get("PYTHONNOUSERSITE") and os.path.isdir(str(user)):
            dirs.append(str(user))
        dirs += [p for p in sites if os.path.isdir(p)]
        warnings: List[str] = []
        result = Environment(
            prefix=str(data["prefix"]),
            python=python,
            python_version=markers["python_full_version"],
            found_by=label,
            paths=_expand_pth(dirs, warnings),
            implementation=str(data["implementation"]),
            markers=markers,
            warnings=tuple(warnings),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        lines = (err or out).strip().splitlines()
        detail = f" ({lines[-1].strip()[:200]})" if lines else ""
        raise DriftGuardError(
            f"{label} {value}: not a working Python interpreter{detail}; "
            "give the project's interpreter, e.g. .venv/bin/python"
        ) from None
    return result


# --- reading an environment's files --------------------------------------------------------


def _read_pyvenv_cfg(prefix: str) -> Optional[Dict[str, str]]:
    path = os.path.join(prefix, "pyvenv.cfg")
    if not os.path.lexists(path):
        return None
    text = _io.read_text(
        path, limit=_io.SMALL_LIMIT, what="pyvenv.cfg", shown=_shown(path), errors="replace"
    )
    cfg: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            # site.py matches keys case-insensitively.
            cfg.setdefault(key.strip().lower(), value.strip())
    return cfg


def _cfg_version(text: str) -> Optional[str]:
    """The version a pyvenv.cfg's line starts with -- "3.12.1" (venv, uv), "3.12.1.final.0" or
    "3.13.0.candidate.1" (virtualenv) -- in pip's form; None without one."""
    text = text.strip()
    major, pos = _digits_at(text, 0)
    if not major or text[pos:pos + 1] != ".":
        return None
    minor, pos = _digits_at(text, pos + 1)
    if not minor:
        return None
    micro = ""
    if text[pos:pos + 1] == ".":
        micro, end = _digits_at(text, pos + 1)
        if micro:
            pos = end
    version = f"{major}.{minor}.{micro or 0}"
    if text[pos:pos + 1] == ".":
        level, dot, rest = text[pos + 1:].partition(".")
        serial = _digits_at(rest, 0)[0]
        if dot and serial and level in _RELEASE_LEVELS and level != "final":
            version += f"{_RELEASE_LEVELS[level]}{serial}"
    return version


def _digits_at(text: str, start: int) -> Tuple[str, int]:
    """The run of ASCII digits at `start` in `text`, and where it ends."""
    end = start
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    return text[start:end], end


def _lib_dir_version(name: str) -> Optional[str]:
    """"3.12" for a lib directory named "python3.12", "python3.13t" or "pypy3.10"."""
    for prefix in ("python", "pypy"):
        if name.startswith(prefix):
            major, dot, minor = name[len(prefix):].partition(".")
            if minor.endswith("t"):
                minor = minor[:-1]
            if dot and major.isascii() and major.isdigit() and minor.isascii() and minor.isdigit():
                return f"{major}.{minor}"
    return None


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
    try:
        names += sorted(os.listdir(os.path.join(prefix, "include")))
    except OSError:
        pass
    for name in names:
        try:
            text = _io.read_text(
                os.path.join(prefix, "include", name, "patchlevel.h"), limit=_io.SMALL_LIMIT,
                what="patchlevel.h", errors="replace",
            )
        except DriftGuardError:
            continue
        match = _PATCHLEVEL.search(text)
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
    try:
        lib_names += sorted(
            n for n in os.listdir(os.path.join(prefix, "lib")) if _lib_dir_version(n))
    except OSError:
        pass
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


def _expand_pth(site_dirs: List[str], warnings: List[str]) -> Tuple[str, ...]:
    """The site dirs in order, each followed by the directories its .pth files add.

    As site.py: .pth files in sorted order, "#" lines and blank lines skipped, a path is
    added when it exists and is not known yet. Lines starting with `import` are code that
    site.py executes; they are skipped (running them would run the project's code). A site
    dir that cannot be listed, or a .pth file that is not a readable regular file, is a
    warning; the rest is still read (a site dir that cannot be listed is reported by
    list_installed, which reads every directory of the path).
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
            continue  # reported when what is installed there is listed (installed.py)
        for name in names:
            pth = os.path.join(site_dir, name)
            try:
                data = _io.read_bytes(pth, limit=_io.METADATA_LIMIT, what=".pth file",
                                      shown=_shown(pth))
            except DriftGuardError as e:
                warnings.append(f"skipped: {e}")
                continue
            try:
                # "utf-8-sig", as site.py reads it, without importing that codec.
                text = (data[3:] if data.startswith(b"\xef\xbb\xbf") else data).decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("latin-1")
            for line in text.splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                if line.startswith(("import ", "import\t")):
                    continue
                try:
                    path = os.path.abspath(os.path.join(site_dir, line.rstrip()))
                    if os.path.exists(path):
                        add(path)
                except (ValueError, OSError):
                    continue  # an embedded NUL, a name too long: site.py skips it too
    return tuple(paths)


def _shown(path: str) -> str:
    """A path as it may appear in a message: bytes that are not UTF-8 (a file name from a
    foreign system) as \\x escapes, never a lone surrogate that cannot be printed."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


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
