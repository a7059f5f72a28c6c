"""GitHub Actions workflow commands: each finding becomes an annotation on its file and line."""

from __future__ import annotations

from typing import List

from drift_guard.models import Report
from drift_guard.render import fix_hint
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
}


def render(report: Report) -> str:
    first = report.sources[0].path if report.sources else None
    lines: List[str] = []
    for f in report.findings:
        # Undeclared packages have no line of their own: they belong in the first file.
        source = f.source or first
        props = []
        if source:
            props.append(f"file={_prop(source)}")
            if f.line is not None:
                props.append(f"line={f.line}")
                if f.end_line is not None and f.end_line != f.line:
                    props.append(f"endLine={f.end_line}")
        props.append(f"title={_prop(f'drift-guard: {f.name} {_TITLES[f.kind]}')}")
        if f.kind == "mismatch":
            what = f"{f.name} is installed at {f.installed} but declared {f.declared}"
        elif f.kind == "missing":
            what = f"{f.name} {f.declared or ''} is declared but not installed".replace("  ", " ")
        elif f.kind == "unpinned":
            what = f"{f.name} {f.declared or ''} is not pinned with ==".replace("  ", " ")
        else:
            what = f"{f.name} {f.installed} is installed but not declared"
            if f.dependencies:
                what += f" (with {', '.join(f.dependencies)})"
        what += f". Fix: {fix_hint(report, f)}"
        level = "warning" if f.kind == "unpinned" else "error"
        lines.append(f"::{level} {','.join(props)}::{_data(what)}")
    verdict = "no drift" if report.ok else f"{len(report.findings)} finding(s)"
    lines.append(f"drift-guard: {verdict} in {environment_line(report)} against {sources_line(report)}")
    return "\n".join(lines) + "\n"
