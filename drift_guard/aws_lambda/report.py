"""The Lambda report: the package's problems for its runtime, and where its megabytes are, in
the four formats of the drift report (text, json, github, markdown). Renderers return
strings; front ends print them and choose the exit code."""

from __future__ import annotations

import json

from drift_guard.aws_lambda.artifact import MB
from drift_guard.aws_lambda.checks import LambdaFinding
from drift_guard.aws_lambda.size import SizeReport
from drift_guard.aws_lambda.target import Target
from drift_guard.render import _escape

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, NamedTuple, Optional, Tuple
else:
    from drift_guard._record import NamedTuple

HEADINGS = {
    "runtime": "runtime: the Lambda runtime blocks this",
    "python": "python: built for another Python than the runtime's",
    "needed": "needed: required on the runtime's Python, not installed",
    "requires-python": "requires-python: does not support the runtime's Python",
    "stripped": "stripped: needed by the app, not in the package",
    "editable": "editable: installed as a pointer to a local directory",
    "replaced": "replaced: the package ships another version than the one installed",
    "provided": "provided: pinned, but the runtime's own copy is used",
    "layer": "layer: a layer's version differs from the declaration",
    "platform": "platform: native code Lambda cannot load",
    "size": "size: over the unzipped size budget",
}


class LambdaReport(NamedTuple):
    target: Target
    artifact: Optional[str]
    """The package's file name (None before it is built)."""
    findings: Tuple[LambdaFinding, ...]
    warnings: Tuple[str, ...] = ()
    notes: Tuple[str, ...] = ()
    size: Optional[SizeReport] = None
    shipped: int = 0
    """How many distributions the app needs (all shipped or provided when ok)."""

    @property
    def ok(self) -> bool:
        return not self.findings


def _title(report: LambdaReport) -> str:
    where = f"in {report.artifact}" if report.artifact else "in the package to be built,"
    size = f" ({report.size.package / MB:.1f} MB unzipped)" if report.size else ""
    return f"{where}{size} for {report.target.describe()}"


def size_lines(size: SizeReport, limit: int = 5) -> List[str]:
    lines = [f"size: {size.package / MB:.1f} MB unzipped"
             + "".join(f" + layer {n} {(s or 0) / MB:.1f} MB" + ("" if s else " (size unknown)")
                       for n, s in size.layers)
             + f" of the {size.budget / MB:g} MB budget; largest packages:"]
    for p in size.packages[:limit]:
        mark = "" if p.role == "app" else f"  [{p.role}]"
        lines.append(f"  {p.size / MB:7.1f} MB  {p.name} {p.version}{mark}")
    for remedy, saves in size.remedies:
        lines.append(f"  -> {remedy}: saves {saves / MB:.1f} MB")
    return lines


def render_text(report: LambdaReport, *, with_size: Optional[bool] = None) -> str:
    lines: List[str] = []
    if report.ok:
        what = f"{report.artifact} ships" if report.artifact else "the package will ship"
        lines.append(f"drift-guard: package ok: {what} the {report.shipped} packages the app "
                     f"needs on {report.target.describe()}")
    else:
        n = len(report.findings)
        lines.append(f"drift-guard: {n} problem{'s' if n != 1 else ''} {_title(report)}")
        for kind, heading in HEADINGS.items():
            group = [f for f in report.findings if f.kind == kind]
            if not group:
                continue
            lines.append(heading)
            for f in group:
                lines.append(f"  {f.message}")
                if f.hint:
                    lines.append(f"      -> {f.hint}")
    show = with_size if with_size is not None else any(
        f.kind == "size" for f in report.findings)
    if report.size is not None and show:
        lines.extend(size_lines(report.size))
    lines.extend(f"note: {n}" for n in report.notes)
    # Names, versions and paths come from the package: control characters shown as escapes.
    return "\n".join(_escape.text(line) for line in lines) + "\n"


def to_json(report: LambdaReport) -> Dict[str, Any]:
    t = report.target
    data: Dict[str, Any] = {
        "ok": report.ok,
        "artifact": report.artifact,
        "target": {
            "runtime": t.runtime.name,
            "python": f"{t.python[0]}.{t.python[1]}",
            "architecture": t.architecture,
            "os": t.runtime.os,
            "glibc": f"{t.glibc[0]}.{t.glibc[1]}",
            "dates": {
                "deprecated": str(t.runtime.deprecated) if t.runtime.deprecated else None,
                "block_create": str(t.runtime.block_create) if t.runtime.block_create else None,
                "block_update": str(t.runtime.block_update) if t.runtime.block_update else None,
                "source": t.runtime.source or None,
            },
            "provided": list(t.provided),
            "layers": [{"name": layer.name, "provides": dict(layer.provides),
                        "size": layer.size} for layer in t.layers],
        },
        "findings": [{"kind": f.kind, "name": f.name, "message": f.message, "hint": f.hint,
                      "path": f.path} for f in report.findings],
        "warnings": list(report.warnings),
        "notes": list(report.notes),
    }
    if report.size is not None:
        s = report.size
        data["size"] = {
            "package": s.package, "total": s.total, "budget": s.budget,
            "layers": [{"name": n, "size": z} for n, z in s.layers],
            "packages": [{"name": p.name, "version": p.version, "size": p.size, "role": p.role}
                         for p in s.packages],
            "remedies": [{"remedy": r, "saves": z} for r, z in s.remedies],
        }
    return data


_data = _escape.github_data
_prop = _escape.github_property


def render_github(report: LambdaReport) -> str:
    lines = []
    for f in report.findings:
        title = HEADINGS[f.kind].split(": ", 1)[1]
        text = f.message + (f" -> {f.hint}" if f.hint else "")
        lines.append(f"::error title={_prop('drift-guard lambda: ' + title)}::{_data(text)}")
    for w in report.warnings:
        lines.append(f"::warning title=drift-guard lambda::{_data(w)}")
    for n in report.notes:
        lines.append(f"::notice title=drift-guard lambda::{_data(n)}")
    return "".join(line + "\n" for line in lines)


def _md(text: str) -> str:
    out = _escape.text(text)
    for ch in "\\`*_{}[]<>()#+!|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("\n", " ")


def render_markdown(report: LambdaReport) -> str:
    lines = [f"### drift-guard: Lambda package {_md(_title(report))}", ""]
    if report.ok:
        lines.append(f"No problems: the {report.shipped} packages the app needs ship.")
    else:
        lines += ["| kind | package | problem | what to do |", "|---|---|---|---|"]
        for f in report.findings:
            lines.append(f"| {f.kind} | {_md(f.name)} | {_md(f.message)} | {_md(f.hint)} |")
    if report.size is not None:
        s = report.size
        lines += ["", f"**Size:** {s.package / MB:.1f} MB unzipped, {s.total / MB:.1f} MB with "
                      f"layers, of {s.budget / MB:g} MB", "",
                  "| package | MB | role |", "|---|---:|---|"]
        for p in s.packages[:10]:
            lines.append(f"| {_md(p.name)} {_md(p.version)} | {p.size / MB:.1f} | {p.role} |")
        for remedy, saves in s.remedies:
            lines.append(f"\n- {_md(remedy)}: saves {saves / MB:.1f} MB")
    for w in report.warnings:
        lines.append(f"\n> warning: {_md(w)}")
    for n in report.notes:
        lines.append(f"\n> note: {_md(n)}")
    return "\n".join(lines) + "\n"


def render(report: LambdaReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(report), indent=2) + "\n"
    if fmt == "github":
        return render_github(report)
    if fmt == "markdown":
        return render_markdown(report)
    return render_text(report)
