"""Lock files are never hand-edited: their drift is put right by the owning tool's commands,
run against the target environment."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from drift_guard.models import Environment, Finding, Source


class Command(NamedTuple):
    argv: Tuple[str, ...]
    cwd: str
    why: str
    env: Tuple[Tuple[str, str], ...] = ()
    """Extra environment variables that point the tool at the target environment."""

    def shell(self) -> str:
        import shlex

        prefix = "".join(f"{k}={shlex.quote(v)} " for k, v in self.env)
        return prefix + " ".join(shlex.quote(a) for a in self.argv)


def _target_env(tool: str, env: Environment) -> Tuple[Tuple[str, str], ...]:
    # Each tool acts on the environment it is told about; never on drift-guard's own.
    if tool == "uv":
        return (("UV_PROJECT_ENVIRONMENT", env.prefix),)
    return (("VIRTUAL_ENV", env.prefix),)


def plan(
    source: Source,
    findings: Sequence[Finding],
    env: Environment,
    undeclared: Sequence[Finding] = (),
) -> Tuple[List[Command], List[str]]:
    """The commands that make `env` and the lock `source` agree, and notes for what no
    command can do."""
    cwd = os.path.dirname(os.path.abspath(source.path))
    path = os.path.basename(source.path)
    add = [f"{f.name}=={f.installed}" for f in undeclared if not f.required_by]
    stale = any(f.kind in ("missing", "mismatch") for f in findings)
    commands: List[Command] = []
    notes: List[str] = []
    if source.format == "poetry.lock":
        target = _target_env("poetry", env)
        if add:
            commands.append(
                Command(("poetry", "add", *add), cwd, "record undeclared packages", target)
            )
        if stale or add:
            commands.append(Command(("poetry", "sync"), cwd, "install what the lock says", target))
    elif source.format == "Pipfile.lock":
        target = _target_env("pipenv", env)
        if add:
            commands.append(
                Command(("pipenv", "install", *add), cwd, "record undeclared packages", target)
            )
        if stale or add:
            commands.append(
                Command(("pipenv", "sync", "--dev"), cwd, "install what the lock says", target)
            )
    elif source.format == "uv.lock":
        target = _target_env("uv", env)
        if add:
            commands.append(Command(("uv", "add", *add), cwd, "record undeclared packages", target))
        if stale or add:
            commands.append(
                Command(("uv", "sync", "--inexact"), cwd, "install what the lock says", target)
            )
    elif source.format == "pylock.toml":
        if stale:
            python = env.python or os.path.join(env.prefix, "bin", "python")
            commands.append(
                Command(
                    ("uv", "pip", "install", "--python", python, "-r", path),
                    cwd,
                    "install what the lock says",
                )
            )
        if add:
            notes.append(
                f"{source.path}: record {', '.join(add)} in pyproject.toml, then regenerate "
                f"{path} with the tool that wrote it ({_regenerate(source.path)})"
            )
    return commands, notes


def _regenerate(path: str) -> str:
    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8", "replace")
    except OSError:
        head = ""
    if 'created-by = "uv"' in head:
        return f"uv export --format pylock.toml -o {os.path.basename(path)}"
    if 'created-by = "pipenv"' in head:
        return "pipenv lock && pipenv requirements --pylock"
    return f"pip lock -o {os.path.basename(path)} -r requirements.txt"


def run(commands: Sequence[Command]) -> Tuple[bool, List[str]]:
    """Run `commands` in order, stopping at the first failure. Returns (all ran, messages)."""
    messages: List[str] = []
    for cmd in commands:
        exe = shutil.which(cmd.argv[0])
        if exe is None:
            messages.append(f"{cmd.argv[0]} is not on PATH; run it yourself: {cmd.shell()}")
            return False, messages
        env: Dict[str, str] = dict(os.environ)
        for key in ("VIRTUAL_ENV", "PIPENV_ACTIVE", "POETRY_ACTIVE", "UV_PROJECT_ENVIRONMENT"):
            env.pop(key, None)
        env.update(dict(cmd.env))
        messages.append(f"$ {cmd.shell()}")
        done = subprocess.run(
            [exe, *cmd.argv[1:]], cwd=cmd.cwd, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            messages.append(f"{cmd.argv[0]} failed (exit {done.returncode}): " + " | ".join(tail))
            return False, messages
    return True, messages


def which(tool: str) -> Optional[str]:
    return shutil.which(tool)
