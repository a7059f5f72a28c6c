"""What to do about a finding: the command that puts it right, in the owning tool's terms."""

from __future__ import annotations

from typing import Optional

from drift_guard._names import pin
from drift_guard.models import Finding

# Per lock format: (command that makes the environment match the lock,
#                   command that records an installed package in the lock).
# The same commands --fix runs (fix/locks.py says why these and not the exact syncs).
LOCK_TOOLS = {
    "poetry.lock": ("poetry install", "poetry add {name}=={version}"),
    "Pipfile.lock": ("pipenv sync --dev", "pipenv install {name}=={version}"),
    "uv.lock": ("uv sync --inexact", "uv add {name}=={version}"),
    "pylock.toml": (
        "uv pip install -r {path}",
        "add {name} to pyproject.toml, then regenerate {path}",
    ),
}


def hint(finding: Finding, fmt: Optional[str], path: Optional[str] = None, pip: str = "pip") -> str:
    """One short instruction for `finding`, declared in a file of format `fmt`; `pip` is how
    to run the target environment's pip (see `pip_command`)."""
    name, installed, declared = finding.name, finding.installed, finding.declared
    if finding.kind == "unresolved":
        return (f"install the package that provides {name} into this environment and declare "
                "it, or make it part of the project")
    where = path or finding.source or "the requirements file"
    if fmt in LOCK_TOOLS:
        sync, record = LOCK_TOOLS[fmt]
        if finding.kind == "undeclared":
            recorded = record.format(name=name, version=installed, path=where)
            return f"{recorded}, or {pip} uninstall {name}"
        return sync.format(path=where)
    if fmt == "pyproject.toml":
        if finding.kind == "undeclared":
            return f"add {name} to the project's dependencies, or {pip} uninstall {name}"
        if finding.kind == "unpinned":
            return f"pin it: {pin(name, installed)}" if installed else "pin it with =="
        return f"{pip} install '{spelled(name, declared)}'"
    if finding.kind == "missing":
        return f"{pip} install '{spelled(name, declared)}', or drop the line (drift-guard --fix)"
    if finding.kind == "mismatch":
        if finding.hashes:
            return (
                f"{pip} install '{spelled(name, declared)}', or regenerate the file with "
                "its hashes (pip-compile --generate-hashes)"
            )
        return (
            f"{pip} install '{spelled(name, declared)}', or record {installed} (drift-guard --fix)"
        )
    if finding.kind == "unpinned":
        return f"pin it: {pin(name, installed)}" if installed else "pin it with =="
    line = pin(name, installed or "")
    return f"record it (drift-guard --fix adds {line}), or {pip} uninstall {name}"


def spelled(name: str, declared: Optional[str]) -> str:
    """A declaration as a requirement line spells it: "flask==3.0.0", "pkg @ https://...",
    or the name alone."""
    declared = declared or ""
    return f"{name} {declared}" if declared.startswith("@") else name + declared


def pip_command(prefix: str, found_by: str) -> str:
    """How a user runs the checked environment's pip from here: plain `pip` when that
    environment is the active one, else its own pip by path."""
    import os

    from drift_guard._paths import display_path

    if found_by in ("VIRTUAL_ENV", "PATH", "CONDA_PREFIX"):
        return "pip"

    own = os.path.join(prefix, "Scripts" if os.name == "nt" else "bin", "pip")
    if os.path.exists(own):
        return display_path(own)
    # No pip inside (uv makes venvs without one): any pip can act on it by --python.
    return f"pip --python {display_path(prefix)}"
