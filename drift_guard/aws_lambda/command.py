"""`drift-guard lambda ARTIFACT [--runtime pythonX.Y] [--architecture x86_64|arm64]
[--layer ZIP ...] [FILE ...] [--format text|json|github|markdown]`: check a built Lambda
package -- a `.zip`, or the `pip install -t` directory that SAM, the Serverless Framework, CDK
and hand-made builds zip -- against the project's declarations, for the runtime it will run
on. Exit codes as for `drift-guard`: 0 ok, 1 problems, 2 bad input, 3 internal error.
"""

from __future__ import annotations

import datetime
import json
import os
import sys

from drift_guard.errors import DriftGuardError
from drift_guard.models import Environment, Installed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Sequence

FORMATS = ("text", "json", "github", "markdown")


def build_parser():  # type: ignore[no-untyped-def]
    from drift_guard.cli import _formatter, _Parser

    parser = _Parser(
        prog="drift-guard lambda", formatter_class=_formatter,
        description="Check a built AWS Lambda package (a .zip, or a pip install -t directory) "
        "against the project's declarations, for the runtime it will run on.",
        epilog="Options also come from [tool.drift-guard.lambda] in pyproject.toml. Exit "
        "codes: 0 ok, 1 problems found, 2 bad input, 3 internal error.")
    parser.add_argument("artifact", metavar="ARTIFACT",
                        help="the package: a .zip, or a pip install -t directory")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="declaration files (default: as for drift-guard)")
    parser.add_argument("--runtime", metavar="pythonX.Y",
                        help="the Lambda runtime, e.g. python3.12 (default: lambda.runtime)")
    parser.add_argument("--architecture", choices=("x86_64", "arm64"),
                        help="the function's architecture (default: lambda.architecture, "
                        "else x86_64)")
    parser.add_argument("--layer", action="append", metavar="ZIP", default=[],
                        help="a layer zip the function uses (repeatable)")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="output format (default: text)")
    return parser


def run(argv: Sequence[str], today: Optional[datetime.date] = None) -> int:
    """Parse `argv`, check, print; returns the exit code (errors raise DriftGuardError)."""
    args = build_parser().parse_args(list(argv))
    output, ok = check(args.artifact, files=args.files, runtime=args.runtime,
                       architecture=args.architecture, layers=args.layer, fmt=args.format,
                       today=today)
    sys.stdout.write(output)
    return 0 if ok else 1


def check(artifact_path: str, *, files: Sequence[str] = (), runtime: Optional[str] = None,
          architecture: Optional[str] = None, layers: Sequence[str] = (), fmt: str = "text",
          today: Optional[datetime.date] = None, cwd: Optional[str] = None) -> tuple[str, bool]:
    """(the rendered report, whether all is well)."""
    from drift_guard import config as config_mod
    from drift_guard._names import canonical
    from drift_guard.aws_lambda import checks
    from drift_guard.aws_lambda import size as sz
    from drift_guard.aws_lambda.artifact import distributions, open_artifact
    from drift_guard.aws_lambda.report import LambdaReport
    from drift_guard.aws_lambda.report import render as render_lambda
    from drift_guard.aws_lambda.target import lambda_options, make_target, markers, read_layer_zip
    from drift_guard.pipeline import check as check_drift
    from drift_guard.pipeline import project_names, render

    cwd = cwd or os.getcwd()
    today = today or datetime.date.today()
    cfg = config_mod.load(".")
    if files:
        cfg = cfg._replace(sources=tuple(files))
    options = lambda_options(cfg.lambda_ or {}, "[tool.drift-guard].lambda",
                             path="pyproject.toml")
    name = runtime or options.target_runtime
    if not name:
        raise DriftGuardError("name the Lambda runtime the package is for: --runtime python3.12 "
                              "(or runtime = \"python3.12\" in [tool.drift-guard.lambda])")
    layer_list = list(options.layers)
    layer_list += [read_layer_zip(z) for z in (*options.layer_zips, *layers)]
    target = make_target(name, architecture or options.architecture or "x86_64", options,
                         tuple(layer_list))
    env_markers = markers(target)

    with open_artifact(artifact_path) as artifact:
        dists = distributions(artifact)
        read = checks.artifact_reader(artifact)
        installed: Dict[str, Installed] = dict(dists)
        for layer in target.layers:
            for pkg, version in layer.provides.items():
                installed.setdefault(pkg, Installed(pkg, pkg, version or "0", (),
                                                    f"layer:{layer.name}"))
        env = Environment(artifact_path, None, f"{target.python[0]}.{target.python[1]}",
                          "drift-guard lambda", (), "cpython",
                          env_markers)
        report, _ = check_drift(cfg, cwd=cwd, environment=env, allow=("zappa",),
                                installed=installed)
        # What the runtime provides is not missing from the package; a pin on it is a
        # Lambda finding of its own (provided_pins).
        provided = set(target.provided)
        report = report._replace(findings=tuple(
            f for f in report.findings if not (f.kind == "missing" and f.name in provided)))

        skip = {canonical(n) for n in cfg.ignore} | {"pip"}
        skip |= {s.project for s in report.sources if s.project}
        skip |= set(project_names(cwd))
        missing = {f.name for f in report.findings if f.kind == "missing"}
        ship, findings = checks.needed(report.sources, dists, target, skip, read=read,
                                       missing=missing)
        runtime_found, warnings = checks.runtime_findings(target, today, "package", options)
        findings = runtime_found + findings
        found = checks.contents(ship, read, target, artifact)
        findings.extend(found.findings)
        left_out = found.left_out | (provided - set(dists))
        pins, notes = checks.provided_pins(report.sources, left_out, target)
        findings.extend(pins)
        findings.extend(checks.layer_findings(report.sources, target))
        if options.platform != "off":
            native = checks.platform_findings(artifact, target,
                                              checks.owners_of(dists.values(), read))
            if options.platform == "error":
                findings.extend(native)
            else:
                warnings.extend(f.message for f in native)
        needed_names = {d.name for d in ship}
        deploy_time = (sz.zappa_closure(dists, env_markers) | set(sz.DEPLOY_TOOLS)) - needed_names
        size = sz.measure(artifact, dists.values(), read, target, deploy_time, needed_names,
                          options.max_unzipped_mb)
        size_found = sz.size_finding(size)
        if size_found is not None:
            findings.append(size_found)
        lambda_report = LambdaReport(target, artifact.name, tuple(findings), tuple(warnings),
                                     tuple(notes), size, len(ship))

    ok = report.ok and lambda_report.ok
    if fmt == "json":
        doc = json.loads(render(report, "json"))
        doc["ok"] = ok
        doc["lambda"] = json.loads(render_lambda(lambda_report, "json"))
        return json.dumps(doc, indent=2) + "\n", ok
    if fmt == "text":
        from drift_guard.aws_lambda.report import render_text

        parts: List[str] = [render(report, "text")]
        parts.append(render_text(lambda_report, with_size=True))
        parts.extend(f"drift-guard: warning: {w}\n" for w in warnings)
        return "".join(parts), ok
    return render(report, fmt) + render_lambda(lambda_report, fmt), ok
