"""The command line: find the environment, read the declarations, compare, report, fix.

Only this module prints or decides the exit code (CONTRACT.md): 0 no drift, 1 drift (or
--fix changed a file), 2 bad input, 3 internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, NoReturn, Optional, Sequence, Tuple

from drift_guard import __version__
from drift_guard.errors import DriftGuardError

FORMATS = ("text", "json", "github", "markdown")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, as for every other bad input; argparse's own usage dump is noise here.
        raise DriftGuardError(f"{message} (see drift-guard --help)")


def _names(values: Optional[List[str]]) -> Tuple[str, ...]:
    """Repeatable options that also take comma-separated lists: --ignore a --ignore b,c."""
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


def _formatter(prog: str) -> argparse.HelpFormatter:
    # argparse builds a formatter for every add_argument() and, without a width, imports
    # shutil (and with it bz2 and lzma) to ask for the terminal size: milliseconds on every
    # commit for a help text that is rarely shown. os can answer the same question.
    try:
        columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
    except (ValueError, OSError):
        columns = 80
    return argparse.HelpFormatter(prog, width=max(columns - 2, 40))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="drift-guard",
        formatter_class=_formatter,
        description="Find the drift between a project's virtualenv and its declared "
        "dependencies (requirements files, Pipfile.lock, poetry.lock, uv.lock, pylock.toml, "
        "pyproject.toml).",
        epilog="Exit codes: 0 no drift, 1 drift found (or --fix changed a file), 2 bad input, "
        "3 internal error.",
    )
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="declaration files; several form one declared set (default: "
        "[tool.drift-guard] sources, else the first of poetry.lock, "
        "Pipfile.lock, uv.lock, pylock.toml, requirements.txt found here)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--python", metavar="PATH", help="the interpreter of the environment to check"
    )
    where.add_argument("--venv", metavar="DIR", help="the environment to check")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="make the declarations match the environment (requirements files are "
        "rewritten in place; lock files through their own tool)",
    )
    parser.add_argument(
        "--diff", action="store_true", help="print what --fix would change, and change nothing"
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="NAME",
        help="leave this package out (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--require-pins",
        action="store_true",
        help="also report requirements not pinned with == or ===",
    )
    parser.add_argument(
        "--with",
        dest="with_groups",
        action="append",
        metavar="GROUP",
        help="also expect these optional groups installed (lock files, pyproject)",
    )
    parser.add_argument(
        "--without",
        dest="without_groups",
        action="append",
        metavar="GROUP",
        help="do not expect these groups installed",
    )
    parser.add_argument(
        "--only",
        dest="only_groups",
        action="append",
        metavar="GROUP",
        help="expect only these groups installed",
    )
    parser.add_argument(
        "--extras",
        action="append",
        metavar="EXTRA",
        help="expect these extras of the project installed",
    )
    parser.add_argument(
        "--unresolved",
        action="store_true",
        help="also report imports that no installed package, project module or standard "
        "library module provides",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print nothing when there is no drift"
    )
    parser.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when drift is found, to report without failing (bad input still "
        "exits 2)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="check afresh, without replaying the answer of an identical earlier run "
        "(also: DRIFT_GUARD_NO_CACHE=1)",
    )
    parser.add_argument("--version", action="version", version=f"drift-guard {__version__}")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    from drift_guard import cache

    replayed = cache.replay(argv)
    if replayed is not None:
        return replayed
    return cache.run_recorded(argv, lambda: _main(argv))


def _main(argv: Sequence[str]) -> int:
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        if args[:1] == ["lambda"]:
            # `drift-guard lambda ARTIFACT ...`: a built Lambda package, its own options.
            from drift_guard.aws_lambda.command import run as run_lambda

            return run_lambda(args[1:])
        return _run(argv)
    except DriftGuardError as exc:
        _error(f"error: {exc}", argv)
        return 2
    except KeyboardInterrupt:
        print("drift-guard: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: a traceback in front of a user is a bug
        if os.environ.get("DRIFT_GUARD_DEBUG"):
            raise
        _error(
            f"internal error: {type(exc).__name__}: {exc} "
            "(please report it; set DRIFT_GUARD_DEBUG=1 for the traceback)",
            argv,
        )
        return 3


def _error(message: str, argv: Optional[Sequence[str]]) -> None:
    """One line on stderr, escaped (a message may quote a path or a name from a checked
    file); under --format github also an `::error` annotation on stdout, where the runner
    shows it on the run's page."""
    from drift_guard.render import _escape

    print(f"drift-guard: {_escape.text(message)}", file=sys.stderr)
    if _requested_format(sys.argv[1:] if argv is None else argv) == "github":
        sys.stdout.write(f"::error title=drift-guard::{_escape.github_data(message)}\n")


def _requested_format(argv: Sequence[str]) -> Optional[str]:
    """The --format the command line asks for, read without argparse: the error may be the
    command line itself. The last one wins, as for argparse."""
    fmt: Optional[str] = None
    args = list(argv)
    for i, arg in enumerate(args):
        if arg == "--":
            break
        option, eq, value = arg.partition("=")
        # argparse also takes a unique prefix: --form github.
        if not (option.startswith("--fo") and "--format".startswith(option)):
            continue
        if eq:
            fmt = value
        elif i + 1 < len(args):
            fmt = args[i + 1]
    return fmt


def _run(argv: Optional[Sequence[str]]) -> int:
    from drift_guard import config as config_mod

    args = build_parser().parse_args(argv)
    cwd = os.getcwd()
    base = config_mod.load(".")
    cfg = config_mod.merge(
        base,
        sources=tuple(args.files),
        ignore=base.ignore + _names(args.ignore),
        python=args.python,
        venv=args.venv,
        require_pins=args.require_pins,
        with_groups=_names(args.with_groups),
        without_groups=_names(args.without_groups),
        only_groups=_names(args.only_groups),
        extras=_names(args.extras),
        unresolved=args.unresolved,
    )
    if args.python or args.venv:
        # An explicit --python / --venv outranks the configured one, whichever kind it is.
        cfg = cfg._replace(python=args.python, venv=args.venv)

    from drift_guard.pipeline import check, render

    report, installed = check(cfg, cwd=cwd)

    if args.fix or args.diff:
        from drift_guard.fix import run_fix

        code, output, errors = run_fix(report, installed, write=not args.diff, root=cwd)
        if args.format == "json":
            # stdout stays one JSON document: the report, and what the fix did or would do.
            import json

            doc = json.loads(render(report, "json"))
            doc["fix"] = {
                "written": not args.diff,
                "changed": code == 1,
                "output": output,
                "messages": errors.splitlines(),
            }
            sys.stdout.write(json.dumps(doc, indent=2) + "\n")
            return code
        if output:
            sys.stdout.write(output)
        if errors:
            sys.stderr.write(errors)
        return code

    sys.stdout.write(render(report, args.format, quiet=args.quiet))
    if args.quiet and report.ok and report.warnings and args.format != "json":
        # Quiet means nothing on stdout when there is no drift; an incomplete check is still
        # worth a word.
        from drift_guard.render._escape import text

        for warning in report.warnings:
            print(f"drift-guard: warning: {text(warning)}", file=sys.stderr)
    return 0 if not report.fails or args.exit_zero else 1


if __name__ == "__main__":
    raise SystemExit(main())
