"""A Markdown summary for `$GITHUB_STEP_SUMMARY` or a merge-request comment."""

from __future__ import annotations

from typing import List

from drift_guard.models import Finding, Report
from drift_guard.render import fix_hint, where
from drift_guard.render.text import environment_line, sources_line


def _cell(text: object) -> str:
    """A table cell: pipes would end the cell, newlines the row."""
    if text is None or text == "":
        return "—"
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    # Backticks inside would end the span; no name, version or path has one.
    return f"`{text}`"


def _package(f: Finding) -> str:
    name = f.name
    if f.dependencies:
        name += f" (+ {', '.join(f.dependencies)})"
    if f.required_by:
        name += f" (needed by {', '.join(f.required_by)})"
    if f.imported_by:
        name += f" (imported by {', '.join(f.imported_by[:5])}"
        name += f", and {len(f.imported_by) - 5} more)" if len(f.imported_by) > 5 else ")"
        if f.kind == "undeclared":
            name += ": the deploy fails without it"
    if f.tolerated:
        name += " (reported only)"
    return name


def render(report: Report) -> str:
    lines: List[str] = ["## drift-guard", ""]
    lines.append(f"Environment: {_code(environment_line(report))}  ")
    lines.append(f"Declarations: {_code(sources_line(report))}")
    lines.append("")
    if report.ok:
        lines.append("**No drift.** The environment matches its declarations.")
    else:
        n = len(report.findings)
        lines.append(f"**{n} finding{'s' if n != 1 else ''}.**")
        lines.append("")
        lines.append("| Kind | Package | Installed | Declared | Where | Fix |")
        lines.append("|---|---|---|---|---|---|")
        for f in report.findings:
            lines.append(
                f"| {f.kind} | {_cell(_package(f))} | {_cell(f.installed)} | {_cell(f.declared)} "
                f"| {_cell(where(f))} | {_cell(fix_hint(report, f))} |"
            )
    if report.notes:
        lines.append("")
        lines.extend(f"> {note}  " for note in report.notes)
    return "\n".join(lines) + "\n"
