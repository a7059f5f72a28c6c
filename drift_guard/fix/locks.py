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
- pylock.toml has no owning tool to record a package: drift-guard says which command
  regenerates it (from its `created-by`); `uv pip install --python <target> -r pylock.toml`
  puts the environment right.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from drift_guard.models import Environment, Finding, Installed, Source

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
    pins, editables = _spell(roots, installed, cwd)
    adding = bool(pins or editables)
    stale = any(f.kind in ("missing", "mismatch") for f in findings)
    python = env.python or os.path.join(env.prefix, "bin", "python")
    commands: List[Command] = []
    notes: List[str] = []

    if source.format in ("uv.lock", "poetry.lock", "Pipfile.lock"):
        if not (stale or adding):
            return commands, notes
        extra = _extra_groups(source, env)
        tool = _tool(source.format, env, python, source.groups, extra)

        def command(argv: Tuple[str, ...], why: str) -> Command:
            return Command((tool.name, *argv), cwd, why, tool.env, tool.probe, env.prefix)

        if pins:
            commands.append(command((*tool.add, *pins), "record undeclared packages"))
        for path in editables:
            commands.append(command((*tool.add_editable, path), "record an editable install"))
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
            wanted = [*pins, *(f"-e {p}" for p in editables)]
            notes.append(
                f"{source.path}: drift-guard does not edit pylock.toml; record "
                f"{', '.join(wanted)} where the project declares its dependencies, then "
                f"regenerate it: {_regenerate(source.path, pins, editables)}"
            )
    return commands, notes


class _Tool(NamedTuple):
    name: str
    add: Tuple[str, ...]
    add_editable: Tuple[str, ...]
    sync: Tuple[str, ...]
    env: Tuple[Tuple[str, str], ...]
    probe: Tuple[str, ...]


def _tool(
    fmt: str, env: Environment, python: str, selected: Sequence[str], extra: Sequence[str]
) -> _Tool:
    """How to drive the tool owning `fmt` against `env`; `extra` are the selected groups its
    sync leaves out by default (--with on the check), `selected` all the selected ones."""
    if fmt == "uv.lock":
        sync = ("sync", "--inexact", *(a for g in extra for a in ("--group", g)))
        target = (("UV_PROJECT_ENVIRONMENT", env.prefix), ("UV_PYTHON", python))
        return _Tool("uv", ("add",), ("add", "--editable"), sync, target, ())
    if fmt == "poetry.lock":
        install = ("install", *(("--with", ",".join(extra)) if extra else ()))
        probe = ("poetry", "env", "info", "--path")
        return _Tool(
            "poetry",
            ("add",),
            ("add", "--editable"),
            install,
            (("VIRTUAL_ENV", env.prefix),),
            probe,
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


def _spell(
    findings: Sequence[Finding], installed: Mapping[str, Installed], cwd: str
) -> Tuple[List[str], List[str]]:
    """(requirements to add, editable local paths to add) for undeclared packages, spelled
    as they are installed."""
    pins: List[str] = []
    editables: List[str] = []
    for f in findings:
        dist = installed.get(f.name)
        name = dist.raw_name if dist is not None else f.name
        url = _direct_reference(dist) if dist is not None else None
        if url is None:
            pins.append(f"{name}=={f.installed}")
        elif dist is not None and dist.editable and url.startswith("file:"):
            editables.append(_relative(_file_path(url), cwd))
        else:
            pins.append(f"{name} @ {url}")
    return pins, editables


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


def _run(cmd: Command, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k not in _DROP}
    env.update(dict(cmd.env))
    exe = shutil.which(argv[0]) or argv[0]
    # stdin closed: a tool that wants to ask (pipenv, before recreating a venv) fails rather
    # than hangs a commit hook.
    return subprocess.run(
        [exe, *argv[1:]],
        cwd=cmd.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


def _probe(cmd: Command) -> str:
    """The environment `cmd`'s tool would act on, as it prints it ("" if it cannot say)."""
    done = _run(cmd, cmd.probe)
    if done.returncode != 0:
        return ""
    lines = [ln.strip() for ln in done.stdout.splitlines() if ln.strip()]
    # pipenv prints notices around the path; the path is the line that is a directory.
    paths = [ln for ln in lines if os.path.isdir(ln)]
    return paths[-1] if paths else ""
