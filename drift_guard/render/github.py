"""GitHub Actions workflow commands: each finding becomes an annotation on its file and line.

Format: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
The runner takes a relative `file=` as relative to the repository root, whatever directory
the step ran in; so paths are given relative to GITHUB_WORKSPACE when it is known.
"""

from __future__ import annotations

import os
from typing import List, Optional

from drift_guard.models import Finding, Report
from drift_guard.render import fix_hint, spelled
from drift_guard.render.text import environment_line, sources_line


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


_TITLES = {
    "missing": "declared but not installed",
    "mismatch": "installed version does not match",
    "undeclared": "installed but not declared",
    "unpinned": "not pinned",
    "unresolved": "imported, but nothing installed provides it",
}


def _repo_path(path: str, workspace: Optional[str]) -> str:
    """`path` (relative to the current directory) as the runner wants it: relative to the
    repository root. Left alone outside Actions, or when it lies outside the workspace."""
    if not workspace:
        return path
    try:
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(workspace))
    except ValueError:  # another drive on Windows
        return path
    if rel == ".." or rel.startswith(".." + os.sep):
        return path
    return rel.replace(os.sep, "/")


def _message(f: Finding) -> str:
    if f.kind == "mismatch":
        what = f"{f.name} {f.installed} is installed but {spelled(f)} is declared"
    elif f.kind == "missing":
        what = f"{spelled(f)} is declared but not installed"
    elif f.kind == "unpinned":
        what = f"{spelled(f)} is not pinned with =="
        if f.installed:
            what += f" (installed: {f.installed})"
    elif f.kind == "unresolved":
        what = (f"{f.name} is imported ({', '.join(f.imported_by[:5])}) but no installed "
                "package, project module or standard library module provides it")
    else:
        what = f"{f.name} {f.installed} is installed but not declared"
        if f.dependencies:
            what += f" (with {', '.join(f.dependencies)})"
        if f.required_by:
            what += f" (needed by {', '.join(f.required_by)})"
        if f.imported_by:
            what += (f", and the code imports it ({', '.join(f.imported_by[:5])}): "
                     "the deploy fails without it")
    return what


def render(report: Report, workspace: Optional[str] = None) -> str:
    """One `::error` / `::warning` per finding, then a plain summary line for the log.

    `workspace` defaults to $GITHUB_WORKSPACE.
    """
    if workspace is None:
        workspace = os.environ.get("GITHUB_WORKSPACE")
    first = report.sources[0].path if report.sources else None
    lines: List[str] = []
    for f in report.findings:
        level = "warning" if f.kind == "unpinned" or f.tolerated else "error"
        if f.imported_by:
            # On each importing line (at most 10): that is where the deploy breaks.
            what = f"{_message(f)}. Fix: {fix_hint(report, f)}"
            title = _prop(f"drift-guard: {f.name} {_TITLES[f.kind]}")
            for site in f.imported_by[:10]:
                path, _, line = site.rpartition(":")
                props = [f"file={_prop(_repo_path(path, workspace))}"]
                if line.isdigit():
                    props.append(f"line={line}")
                lines.append(f"::{level} {','.join([*props, f'title={title}'])}::{_data(what)}")
            if f.kind == "unresolved":
                continue
        # Undeclared packages have no line of their own: they belong in the first file.
        source = f.source or first
        props = []
        if source:
            props.append(f"file={_prop(_repo_path(source, workspace))}")
            if f.line is not None:
                props.append(f"line={f.line}")
                if f.end_line is not None and f.end_line > f.line:
                    props.append(f"endLine={f.end_line}")
        props.append(f"title={_prop(f'drift-guard: {f.name} {_TITLES[f.kind]}')}")
        what = f"{_message(f)}. Fix: {fix_hint(report, f)}"
        lines.append(f"::{level} {','.join(props)}::{_data(what)}")
    lines.extend(f"::notice title=drift-guard::{_data(note)}" for note in report.notes)
    n = len(report.findings)
    verdict = "no drift" if report.ok else f"{n} finding{'s' if n != 1 else ''}"
    lines.append(
        f"drift-guard: {verdict} in {environment_line(report)} against {sources_line(report)}"
    )
    return "\n".join(lines) + "\n"
