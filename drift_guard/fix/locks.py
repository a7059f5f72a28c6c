"""Lock files are never hand-edited: their drift is put right by the owning tool's commands,
run against the target environment.

How each tool is made to act on the target, and not on drift-guard's own env or an env the
tool manages elsewhere (checked with uv 0.13.9, poetry 2.5.1 and pipenv 2026.10.3):

- uv: `UV_PROJECT_ENVIRONMENT=<prefix>` is used as the project env unconditionally.
  `UV_PYTHON=<its interpreter>` as well: without it uv *deletes and recreates* a project env
  whose Python does not satisfy `requires-python` (everything else in it lost); with it uv
  refuses instead. `uv add` syncs inexactly already; `uv sync` is exact by default, so
  `--inexact` keeps what is installed beside the lock (packages the user --ignore'd,
  drift-guard itself).
- poetry: `VIRTUAL_ENV=<prefix>` outranks the in-project `.venv` and poetry's own envs --
  unless a `poetry env use` choice is recorded for the project, which then outranks
  VIRTUAL_ENV. So `poetry env info --path` is asked first, and nothing runs if it names
  another env. `poetry install`, not `poetry sync` (or `install --sync`): sync also removes
  everything the lock does not list -- setuptools, drift-guard itself, ignored packages --
  while install still corrects mismatched versions and installs missing ones.
- pipenv: `VIRTUAL_ENV=<prefix>`, honoured unless PIPENV_ACTIVE or PIPENV_IGNORE_VIRTUALENVS
  is set (both are dropped when drift-guard runs it; `pipenv --venv` is asked first all the
  same). `pipenv install X` and `pipenv sync --dev` never uninstall anything.
- Recording an undeclared package: `uv add --upgrade-package NAME==V -- 'NAME>=V'` (the bound
  `uv add NAME` itself writes, with the lock kept at the installed version; `NAME==V` when
  the project pins every dependency exactly), `poetry add -- NAME==V`, `pipenv install
  NAME==V` (pipenv reads each argument as a requirements line, options included, so `--` would
  not protect it: names and versions are validated for every tool and one that could be read
  as an option, a marker or a URL is never passed).
- `poetry install --no-root` unless the project is a package whose code exists: for an
  application (`package-mode = false`, or no package directory) Poetry would fail on the root
  after installing everything else.
- Every command runs with a timeout (DRIFT_GUARD_TOOL_TIMEOUT, 900 s by default; probes 60 s)
  in its own process group, stopped with its children when it expires.
- pylock.toml has no owning tool to record a package: drift-guard says which command
  regenerates it (from its `created-by`); `uv pip install --python <target> -r pylock.toml`
  puts the environment right.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from drift_guard.errors import DriftGuardError
from drift_guard.models import Environment, Finding, Installed, Source

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple
else:
    from drift_guard._record import NamedTuple

# Inherited variables that would point a tool somewhere other than the target: a pre-commit
# hook's VIRTUAL_ENV is its own env; an active `pipenv shell` or `poetry shell` wins over
# VIRTUAL_ENV; PIPENV_YES would let pipenv recreate the target without asking.
_DROP = (
    "VIRTUAL_ENV",
    "UV_PROJECT_ENVIRONMENT",
    "UV_PYTHON",
    "POETRY_ACTIVE",
    "PIPENV_ACTIVE",
    "PIPENV_IGNORE_VIRTUALENVS",
    "PIPENV_YES",
)
_OUTRANKS = {"poetry": " (a `poetry env use` choice for this project outranks VIRTUAL_ENV)"}


class Command(NamedTuple):
    """One command of the owning tool, run in `cwd` with `env` added to the environment."""

    argv: Tuple[str, ...]
    cwd: str
    why: str
    env: Tuple[Tuple[str, str], ...] = ()
    """Variables that point the tool at the target environment."""
    probe: Tuple[str, ...] = ()
    """A command (run with `env`) that prints the environment the tool would act on; empty
    when `env` binds the tool unconditionally."""
    target: str = ""
    """The environment the command must act on (what `probe` must print)."""

    def shell(self, root: Optional[str] = None) -> str:
        """The command as a POSIX shell line, with a `cd` when it runs outside `root`."""
        import shlex

        prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in self.env)
        line = prefix + " ".join(shlex.quote(a) for a in self.argv)
        if root is not None and not _same_dir(self.cwd, root):
            line = f"cd {shlex.quote(self.cwd)} && {line}"
        return line


def plan(
    source: Source,
    findings: Sequence[Finding],
    env: Environment,
    undeclared: Sequence[Finding] = (),
    installed: Mapping[str, Installed] = {},
) -> Tuple[List[Command], List[str]]:
    """The commands that make `env` and the lock `source` agree, and notes for what no
    command can do.

    Undeclared packages that another undeclared one needs (`required_by`) are left to the
    tool's resolver; the rest are recorded as installed: `name==version`, `name @ url` for a
    direct reference, or the tool's editable option for an editable local project.
    """
    cwd = os.path.dirname(os.path.abspath(source.path))
    roots = [f for f in undeclared if not f.required_by and f.installed]
    notes: List[str] = []
    pins, editables, bad = _spell(roots, installed, cwd)
    notes.extend(
        f"{source.path}: {_shown(n)}: installed, but its name or version is not one a lock tool "
        "may be given; drift-guard records nothing for it: check how it was installed"
        for n in bad
    )
    adding = bool(pins or editables)
    stale = any(f.kind in ("missing", "mismatch") for f in findings)
    python = env.python or os.path.join(env.prefix, "bin", "python")
    commands: List[Command] = []

    if source.format in ("uv.lock", "poetry.lock", "Pipfile.lock"):
        if not (stale or adding):
            return commands, notes
        extra = _extra_groups(source, env)
        tool = _tool(source.format, env, python, source.groups, extra, cwd)

        def command(argv: Tuple[str, ...], why: str) -> Command:
            return Command((tool.name, *argv), cwd, why, tool.env, tool.probe, env.prefix)

        if pins:
            options, args = _add_arguments(source.format, pins, cwd)
            commands.append(command((*tool.add, *options, *tool.end, *args),
                                    "record undeclared packages"))
        for path in editables:
            commands.append(command((*tool.add_editable, *tool.end, path),
                                    "record an editable install"))
        # After an add as well: what the tool re-locked for it must reach the target too.
        commands.append(command(tool.sync, "install what the lock says"))
    elif source.format == "pylock.toml":
        name = os.path.basename(source.path)
        if stale:
            commands.append(
                Command(
                    ("uv", "pip", "install", "--python", python, "-r", name),
                    cwd,
                    "install what the lock says",
                    target=env.prefix,
                )
            )
        if adding:
            spelled = [f"{n} @ {u}" if u else f"{n}=={v}" for n, v, u in pins]
            wanted = [*spelled, *(f"-e {p}" for p in editables)]
            notes.append(
                f"{source.path}: drift-guard does not edit pylock.toml; record "
                f"{', '.join(wanted)} where the project declares its dependencies, then "
                f"regenerate it: {_regenerate(source.path, spelled, editables)}"
            )
    return commands, notes


class _Tool(NamedTuple):
    name: str
    add: Tuple[str, ...]
    add_editable: Tuple[str, ...]
    sync: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...]
    probe: Tuple[str, ...]
    end: Tuple[str, ...] = ()
    """What ends the options before package arguments, where the tool's parser honours it."""


def _tool(
    fmt: str,
    env: Environment,
    python: str,
    selected: Sequence[str],
    extra: Sequence[str],
    cwd: str = ".",
) -> _Tool:
    """How to drive the tool owning `fmt` against `env`; `extra` are the selected groups its
    sync leaves out by default (--with on the check), `selected` all the selected ones."""
    if fmt == "uv.lock":
        sync = ("sync", "--inexact", *(a for g in extra for a in ("--group", g)))
        target = (("UV_PROJECT_ENVIRONMENT", env.prefix), ("UV_PYTHON", python))
        return _Tool("uv", ("add",), ("add", "--editable"), sync, target, (), ("--",))
    if fmt == "poetry.lock":
        install = ("install", *(("--with", ",".join(extra)) if extra else ()))
        if not _poetry_installs_root(cwd):
            install += ("--no-root",)
        # --no-plugins: the repository's own .poetry/plugins must not run in our process.
        probe = ("poetry", "--no-plugins", "--no-interaction", "env", "info", "--path")
        return _Tool(
            "poetry",
            ("add",),
            ("add", "--editable"),
            install,
            (("VIRTUAL_ENV", env.prefix),),
            probe,
            ("--",),
        )
    # pipenv: --categories replaces --dev, and takes the Pipfile's names for the sections.
    names = {"default": "packages", "develop": "dev-packages"}
    sync = (
        ("sync", "--categories", " ".join(names.get(g, g) for g in selected))
        if extra
        else ("sync", "--dev")
    )
    return _Tool(
        "pipenv",
        ("install",),
        ("install", "-e"),
        sync,
        (("VIRTUAL_ENV", env.prefix),),
        ("pipenv", "--venv"),
    )


def _extra_groups(source: Source, env: Environment) -> List[str]:
    """The groups selected for the check (--with) that the tool's sync would leave out."""
    if not source.groups:
        return []
    from drift_guard.markers import target_environment
    from drift_guard.models import ReadContext
    from drift_guard.readers import read_source

    ctx = ReadContext(
        markers=target_environment(env), project_dir=os.path.dirname(os.path.abspath(source.path))
    )
    default = set(read_source(source.path, ctx).groups)
    return [g for g in source.groups if g not in default]


# What may reach a lock tool's argument list: a PEP 508 name (never one that starts with
# "-", which the tool would take for an option), a version made of version characters only
# (no ";" marker or " @" URL smuggled in), a URL without spaces.
_VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_VALID_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")
_VALID_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")


def _shown(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)[:80]


def _spell(
    findings: Sequence[Finding], installed: Mapping[str, Installed], cwd: str
) -> Tuple[List[Tuple[str, str, Optional[str]]], List[str], List[str]]:
    """((name, version, url or None) to add, editable local paths to add, names refused)
    for undeclared packages, spelled as they are installed."""
    pins: List[Tuple[str, str, Optional[str]]] = []
    editables: List[str] = []
    bad: List[str] = []
    for f in findings:
        dist = installed.get(f.name)
        name = dist.raw_name if dist is not None else f.name
        version = f.installed or ""
        url = _direct_reference(dist) if dist is not None else None
        if not _VALID_NAME.match(name) or not _VALID_VERSION.match(version):
            bad.append(name)
        elif url is None:
            pins.append((name, version, None))
        elif dist is not None and dist.editable and url.startswith("file:"):
            editables.append(_relative(_file_path(url), cwd))
        elif _VALID_URL.match(url):
            pins.append((name, version, url))
        else:
            bad.append(name)
    return pins, editables, bad


def _add_arguments(
    fmt: str, pins: Sequence[Tuple[str, str, Optional[str]]], cwd: str
) -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    """(options, package arguments) of the tool's add command for `pins`.

    uv: what `uv add NAME` writes is a lower bound on the version it locks (`rich>=15.0.0`);
    drift-guard writes the same bound on the installed version and keeps the lock at it
    (`--upgrade-package NAME==VERSION`), unless the project's dependencies are all pinned
    exactly, then an exact pin matches the file. Poetry and pipenv record what is installed
    exactly, as their lock files pin it."""
    options: List[str] = []
    args: List[str] = []
    exact = fmt != "uv.lock" or _pins_exactly(cwd)
    for name, version, url in pins:
        if url is not None:
            args.append(f"{name} @ {url}")
        elif exact or not _pep440(version):
            args.append(f"{name}=={version}")
        else:
            args.append(f"{name}>={version}")
            options += ["--upgrade-package", f"{name}=={version}"]
    return tuple(options), tuple(args)


def _pep440(version: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        Version(version)
    except InvalidVersion:
        return False
    return True


def _pyproject(cwd: str) -> Dict[str, object]:
    """The project's pyproject.toml as data ({} when there is none or it cannot be read)."""
    path = os.path.join(cwd, "pyproject.toml")
    if not os.path.isfile(path):
        return {}
    from drift_guard.readers._toml import load_toml

    try:
        return load_toml(path, "fix pyproject.toml").data
    except DriftGuardError:
        return {}


def _pins_exactly(cwd: str) -> bool:
    """True when every `[project] dependencies` entry of the uv project pins `==`."""
    project = _pyproject(cwd).get("project")
    deps = project.get("dependencies") if isinstance(project, dict) else None
    if not isinstance(deps, list) or not deps:
        return False
    from packaging.requirements import InvalidRequirement, Requirement

    for dep in deps:
        try:
            req = Requirement(str(dep))
        except InvalidRequirement:
            return False
        specs = list(req.specifier)
        if req.url is None and not (len(specs) == 1 and specs[0].operator in ("==", "===")
                                    and "*" not in specs[0].version):
            return False
    return True


def _poetry_installs_root(cwd: str) -> bool:
    """Whether `poetry install` may install the project itself: it is a package
    (`package-mode` not false) and the package it names exists. Otherwise Poetry fails on the
    root after installing everything else, so drift-guard passes --no-root."""
    data = _pyproject(cwd)
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    poetry = poetry if isinstance(poetry, dict) else {}
    if poetry.get("package-mode") is False:
        return False
    if poetry.get("packages"):
        return True
    project = data.get("project")
    name = poetry.get("name") or (project.get("name") if isinstance(project, dict) else None)
    if not isinstance(name, str) or not name:
        return False
    module = re.sub(r"[-_.]+", "_", name).lower()
    for base in (cwd, os.path.join(cwd, "src")):
        if os.path.isdir(os.path.join(base, module)) or os.path.isfile(
            os.path.join(base, module + ".py")
        ):
            return True
    return False


def _direct_reference(dist: Installed) -> Optional[str]:
    """The PEP 508 URL `dist` was installed from (VCS with its commit), or None for an
    index install."""
    if not dist.url:
        return None
    import json

    try:
        with open(os.path.join(dist.path, "direct_url.json"), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return dist.url
    vcs = data.get("vcs_info") if isinstance(data, dict) else None
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        return f"{vcs['vcs']}+{dist.url}@{vcs['commit_id']}"
    return dist.url


def _file_path(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path)


def _relative(path: str, cwd: str) -> str:
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive
        return path
    return rel if rel.startswith(".") else os.path.join(".", rel)


def _is_venv(prefix: str) -> bool:
    return os.path.isfile(os.path.join(prefix, "pyvenv.cfg"))


def _same_dir(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


_CREATED_BY = re.compile(r'^created-by\s*=\s*"([^"]*)"', re.MULTILINE)


def _regenerate(path: str, pins: Sequence[str], editables: Sequence[str]) -> str:
    """The commands that record `pins`/`editables` and rewrite the pylock.toml at `path`,
    for the tool its `created-by` names."""
    import shlex

    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8192).decode("utf-8", "replace")
    except OSError:
        head = ""
    match = _CREATED_BY.search(head)
    tool = match.group(1) if match else ""
    args = " ".join(shlex.quote(p) for p in pins)
    if tool == "uv":
        adds = [f"uv add {args}"] if pins else []
        adds += [f"uv add --editable {shlex.quote(e)}" for e in editables]
        return " && ".join([*adds, f"uv export --format pylock.toml -o {name}"])
    if tool == "pipenv":
        adds = [f"pipenv install {args}"] if pins else []
        adds += [f"pipenv install -e {shlex.quote(e)}" for e in editables]
        return " && ".join(adds) + " (with use_pylock = true pipenv rewrites pylock.toml)"
    if tool == "pdm":
        adds = [f"pdm add {args}"] if pins else []
        adds += [f"pdm add --editable {shlex.quote(e)}" for e in editables]
        return " && ".join([*adds, f"pdm export -f pylock -o {name}"])
    if tool == "pip":
        return f"pip lock -o {name} -r <the requirements it was locked from>"
    return "with the tool that wrote it" + (f" ({tool})" if tool else "")


def run(commands: Sequence[Command], root: Optional[str] = None) -> Tuple[bool, List[str]]:
    """Run `commands` in order, stopping at the first failure. Returns (all ran, messages).

    Nothing runs when a tool is not on PATH, when the target is not a virtualenv, or when a
    tool says it would act on another environment than the target: then the messages give
    the commands to run by hand.
    """
    messages: List[str] = []
    absent = sorted({c.argv[0] for c in commands if shutil.which(c.argv[0]) is None})
    if absent:
        messages.append(f"{' and '.join(absent)} not on PATH; nothing was run. Run these:")
        messages.extend(c.shell(root) for c in commands)
        return False, messages

    # A prefix without pyvenv.cfg is a base interpreter or a conda env: uv, poetry and pipenv
    # would install straight into that interpreter's own site-packages. Only by hand.
    bare = sorted({c.target for c in commands if c.target and not _is_venv(c.target)})
    if bare:
        messages.append(
            f"{bare[0]} is not a virtualenv; drift-guard lets no tool install into it, "
            "nothing was run. Run these yourself if that is meant:"
        )
        messages.extend(c.shell(root) for c in commands)
        return False, messages

    try:
        return _run_all(commands, root, messages)
    except ToolTimeout as exc:
        messages.append(
            f"{exc.tool} did not finish within {exc.seconds:g} s and was stopped; nothing more "
            "was run (set DRIFT_GUARD_TOOL_TIMEOUT to give it longer, or run it by hand)"
        )
        return False, messages


def _run_all(
    commands: Sequence[Command], root: Optional[str], messages: List[str]
) -> Tuple[bool, List[str]]:
    probed: Dict[Tuple[str, ...], str] = {}
    for cmd in commands:
        if cmd.probe and cmd.probe not in probed:
            acts_on = _probe(cmd)
            probed[cmd.probe] = acts_on
            if acts_on and not _same_dir(acts_on, cmd.target):
                why = _OUTRANKS.get(cmd.argv[0], "")
                messages.append(
                    f"{cmd.argv[0]} would act on {acts_on}, not on the checked environment "
                    f"{cmd.target}{why}; nothing was run. Check {acts_on} with --venv, or "
                    "run these yourself where they reach the checked environment:"
                )
                messages.extend(c.shell(root) for c in commands)
                return False, messages

    for cmd in commands:
        messages.append(f"$ {cmd.shell(root)}")
        done = _run(cmd, cmd.argv)
        output = done.stdout.strip().splitlines()
        if done.returncode != 0:
            tail = output[-8:]
            messages.extend(f"  {line}" for line in tail)
            messages.append(f"{cmd.argv[0]} failed (exit {done.returncode}); stopped there")
            return False, messages
        messages.extend(f"  {line}" for line in output if line.strip())
    return True, messages


TIMEOUT = 900.0
"""Seconds a lock tool may run (resolving and downloading can take minutes); the variable
DRIFT_GUARD_TOOL_TIMEOUT overrides it."""
PROBE_TIMEOUT = 60.0


class ToolTimeout(Exception):
    def __init__(self, argv: Sequence[str], seconds: float) -> None:
        super().__init__(argv[0])
        self.tool = argv[0]
        self.seconds = seconds


def _timeout() -> float:
    value = os.environ.get("DRIFT_GUARD_TOOL_TIMEOUT", "")
    try:
        seconds = float(value) if value else TIMEOUT
    except ValueError:
        raise DriftGuardError(
            "DRIFT_GUARD_TOOL_TIMEOUT must be a number of seconds"
        ) from None
    return seconds if seconds > 0 else TIMEOUT


def _run(
    cmd: Command, argv: Sequence[str], timeout: Optional[float] = None
) -> subprocess.CompletedProcess[str]:
    """Run `argv` for `cmd`, stopped (with everything it started) after `timeout` seconds."""
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(dict(cmd.env))
    env["PIPENV_DONT_LOAD_ENV"] = "1"  # the repository's .env is not the runner's settings
    exe = shutil.which(argv[0]) or argv[0]
    seconds = _timeout() if timeout is None else timeout
    # stdin closed: a tool that wants to ask (pipenv, before recreating a venv) fails rather
    # than hangs a commit hook. Its own session: on timeout the whole process group goes,
    # including children that would keep the output pipe open.
    proc = subprocess.Popen(
        [exe, *argv[1:]],
        cwd=cmd.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=os.name == "posix",
    )
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise ToolTimeout(argv, seconds) from None
    except BaseException:
        _kill(proc)
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, None)


def _kill(proc: subprocess.Popen[str]) -> None:
    import contextlib
    import signal

    with contextlib.suppress(OSError):
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    with contextlib.suppress(Exception):
        proc.communicate(timeout=5)


def _probe(cmd: Command) -> str:
    """The environment `cmd`'s tool would act on, as it prints it ("" if it cannot say)."""
    done = _run(cmd, cmd.probe, min(PROBE_TIMEOUT, _timeout()))
    if done.returncode != 0:
        return ""
    lines = [ln.strip() for ln in done.stdout.splitlines() if ln.strip()]
    # pipenv prints notices around the path; the path is the line that is a directory.
    paths = [ln for ln in lines if os.path.isdir(ln)]
    return paths[-1] if paths else ""
