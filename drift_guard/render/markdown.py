"""A Markdown summary for `$GITHUB_STEP_SUMMARY` or a merge-request comment.

Every value is escaped (`_escape`): HTML is shown, never rendered; Markdown metacharacters
are literal; a table cell cannot be split or ended; control characters are shown as escapes,
so no value can start a line of its own (and no line of the output starts with `::`).
"""

from __future__ import annotations

from drift_guard.models import Finding, Report
from drift_guard.render import fix_hint, notes, where
from drift_guard.render._escape import markdown as _md
from drift_guard.render._escape import markdown_cell as _cell
from drift_guard.render._escape import markdown_code as _code
from drift_guard.render.text import environment_line, sources_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List


def _package(f: Finding) -> str:
    name = f.name
    if f.dependencies:
        name += f" (+ {', '.join(f.dependencies)})"
    if f.required_by:
        label = "required by" if f.kind == "broken" else "needed by"
        name += f" ({label} {', '.join(f.required_by)})"
    if f.imported_by:
        name += f" (imported by {', '.join(f.imported_by[:5])}"
        name += f", and {len(f.imported_by) - 5} more)" if len(f.imported_by) > 5 else ")"
        if f.kind == "undeclared":
            name += ": the deploy fails without it"
    if f.reason:
        name += f" ({f.reason})"
    if f.tolerated:
        name += " (reported only)"
    return name


def render(report: Report) -> str:
    lines: List[str] = ["## drift-guard", ""]
    lines.append(f"Environment: {_code(environment_line(report))}  ")
    lines.append(f"Declarations: {_code(sources_line(report))}")
    lines.append("")
    if report.warnings:
        lines.append("> **Warning: the check is incomplete.** What could not be read was not "
                     "compared:  ")
        lines.extend(f"> {_md(w)}  " for w in report.warnings)
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
                f"| {_cell(f.kind)} | {_cell(_package(f))} | {_cell(f.installed)} "
                f"| {_cell(f.declared)} | {_cell(where(f))} | {_cell(fix_hint(report, f))} |"
            )
    shown_notes = notes(report)
    if shown_notes:
        lines.append("")
        lines.extend(f"> {_md(note)}  " for note in shown_notes)
    return "\n".join(lines) + "\n"
