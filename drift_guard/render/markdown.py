"""A Markdown summary for `$GITHUB_STEP_SUMMARY` or a merge-request comment."""

from __future__ import annotations

from typing import List

from drift_guard.models import Report
from drift_guard.render import fix_hint
from drift_guard.render.text import environment_line, sources_line


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ") if text not in (None, "") else "—"


def render(report: Report) -> str:
    lines: List[str] = ["## drift-guard", ""]
    lines.append(f"Environment: `{environment_line(report)}`  ")
    lines.append(f"Declarations: `{sources_line(report)}`")
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
            where = f.source and (f"{f.source}:{f.line}" if f.line is not None else f.source)
            name = f.name
            if f.dependencies:
                name += f" (+ {', '.join(f.dependencies)})"
            fix = fix_hint(report, f)
            lines.append(
                f"| {f.kind} | {_cell(name)} | {_cell(f.installed)} | {_cell(f.declared)} "
                f"| {_cell(where)} | {_cell(fix)} |"
            )
    for note in report.notes:
        lines.append(f"\n> {note}")
    return "\n".join(lines) + "\n"
