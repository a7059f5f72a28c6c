"""GitHub Actions workflow commands: each finding becomes an annotation on its file and line.

Format: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
The runner takes a relative `file=` as relative to the repository root, whatever directory
the step ran in; so paths are given relative to GITHUB_WORKSPACE when it is known.
"""

from __future__ import annotations

import os

from drift_guard.models import Finding, Report
from drift_guard.render import describe, fix_hint, notes
from drift_guard.render._escape import github_data as _data
from drift_guard.render._escape import github_property as _prop
from drift_guard.render._escape import text as _plain
from drift_guard.render.text import environment_line, sources_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

_TITLES = {
    "broken": "requirement of an installed package not met",
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


def _message(report: Report, f: Finding) -> str:
    what = describe(f)
    if f.reason and f.kind != "broken":
        what += f" ({f.reason})"
    return f"{what}. Fix: {fix_hint(report, f)}"


def render(report: Report, workspace: Optional[str] = None) -> str:
    """One `::error` / `::warning` per finding, then a plain summary line for the log.

    `workspace` defaults to $GITHUB_WORKSPACE. Every value is escaped (`_escape`): a
    workflow command's data and properties as the runner reads them, the summary line as
    plain text, so no line of the output but drift-guard's own annotations starts with `::`.
    """
    if workspace is None:
        workspace = os.environ.get("GITHUB_WORKSPACE")
    first = report.sources[0].path if report.sources else None
    lines: List[str] = [
        f"::warning title=drift-guard%3A incomplete check::{_data(w)}" for w in report.warnings
    ]
    for f in report.findings:
        level = "warning" if f.kind == "unpinned" or f.tolerated else "error"
        if f.imported_by:
            # On each importing line (at most 10): that is where the deploy breaks.
            what = _message(report, f)
            title = _prop(f"drift-guard: {f.name} {_TITLES.get(f.kind, f.kind)}")
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
        title = _TITLES.get(f.kind, f.kind)
        props.append(f"title={_prop(f'drift-guard: {f.name} {title}')}")
        what = _message(report, f)
        lines.append(f"::{level} {','.join(props)}::{_data(what)}")
    lines.extend(f"::notice title=drift-guard::{_data(note)}" for note in notes(report))
    n = len(report.findings)
    verdict = "no drift" if report.ok else f"{n} finding{'s' if n != 1 else ''}"
    if report.warnings:
        verdict += " (incomplete: see the warnings)"
    summary = f"drift-guard: {verdict} in {environment_line(report)} against {sources_line(report)}"
    lines.append(_plain(summary))
    return "\n".join(lines) + "\n"
