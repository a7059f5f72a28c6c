"""The command line, run afresh: parse the options, find the project and its environment,
check, report, fix (`drift_guard.cli.main` replays a cached answer first).

Only this module prints or decides the exit code (CONTRACT.md): 0 no drift, 1 drift (or
--fix changed a file), 2 bad input, 3 internal error.
"""

from __future__ import annotations

import os
import sys

from drift_guard import __version__
from drift_guard.errors import DriftGuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, List, NamedTuple, NoReturn, Optional, Sequence, Tuple, Union

    Options = Union[argparse.Namespace, "_Options"]
else:
    from drift_guard._record import NamedTuple

FORMATS = ("text", "json", "github", "markdown")

# The check's options, by kind and destination. build_parser() defines them for argparse,
# with their help; _parse_fast() reads the usual command lines from this table alone, so that
# the hook does not pay for argparse on every commit. A test holds the two to each other.
_FLAGS = {"--fix": "fix", "--diff": "diff", "--allow-broken": "allow_broken",
          "--require-pins": "require_pins", "--unresolved": "unresolved", "-q": "quiet",
          "--quiet": "quiet", "--exit-zero": "exit_zero", "--no-cache": "no_cache"}
_VALUES = {"--python": "python", "--venv": "venv", "--format": "format"}
_APPENDS = {"--ignore": "ignore", "--top-level": "top_level", "--with": "with_groups",
            "--without": "without_groups", "--only": "only_groups", "--extras": "extras"}
_DEFAULTS = {"format": "text"}


class _Options:
    """What argparse.Namespace holds for the same command line."""

    def __init__(self) -> None:
        self.files: List[str] = []
        for dest in _FLAGS.values():
            setattr(self, dest, False)
        for dest in (*_VALUES.values(), *_APPENDS.values()):
            setattr(self, dest, _DEFAULTS.get(dest))

    def __getattr__(self, name: str) -> Any:  # for type checkers: every option is an attribute
        raise AttributeError(name)


def _parse_fast(argv: Sequence[str]) -> Optional[_Options]:
    """The usual command lines, read exactly as argparse reads them, without importing it:
    known options (`--opt value`, `--opt=value`) and one run of file names. None for anything
    else -- help, version, an abbreviated or unknown option, `--`, a value that starts with
    "-", a second run of file names, conflicting or invalid values -- which argparse then
    reads, and answers or refuses."""
    opts = _Options()
    files_run = 0  # 0: no file yet, 1: reading the run of file names, 2: the run ended
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            if files_run == 2:
                return None
            files_run = 1
            opts.files.append(arg)
            continue
        if files_run == 1:
            files_run = 2
        option, eq, value = arg.partition("=")
        if option in _FLAGS and not eq:
            setattr(opts, _FLAGS[option], True)
            continue
        dest = _VALUES.get(option) or _APPENDS.get(option)
        if dest is None:
            return None
        if not eq:
            if i == len(args) or args[i].startswith("-"):
                return None
            value = args[i]
            i += 1
        if option in _APPENDS:
            setattr(opts, dest, (getattr(opts, dest) or []) + [value])
        elif dest == "format" and value not in FORMATS:
            return None
        else:
            setattr(opts, dest, value)
    if opts.python is not None and opts.venv is not None:
        return None
    return opts


def parse_args(argv: Optional[Sequence[str]]) -> Options:
    """The check's options: read directly for the usual command lines, else by argparse."""
    fast = _parse_fast(sys.argv[1:] if argv is None else argv)
    return fast if fast is not None else build_parser().parse_args(argv)


def _names(values: Optional[List[str]]) -> Tuple[str, ...]:
    """Repeatable options that also take comma-separated lists: --ignore a --ignore b,c."""
    return tuple(v.strip() for value in values or () for v in value.split(",") if v.strip())


def _formatter(prog: str) -> argparse.HelpFormatter:
    # argparse builds a formatter for every add_argument() and, without a width, imports
    # shutil (and with it bz2 and lzma) to ask for the terminal size. os can answer the same
    # question.
    import argparse

    try:
        columns = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size().columns
    except (ValueError, OSError):
        columns = 80
    return argparse.HelpFormatter(prog, width=max(columns - 2, 40))


def new_parser(prog: str, description: str, epilog: str) -> argparse.ArgumentParser:
    """An argument parser whose errors are one line and exit 2, as for every bad input."""
    import argparse

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            # argparse's own usage dump is noise here.
            raise DriftGuardError(f"{message} (see {self.prog} --help)")

    return _Parser(prog=prog, formatter_class=_formatter, description=description,
                   epilog=epilog)


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        prog="drift-guard",
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
        "--allow-broken",
        action="store_true",
        help="let --fix record an environment that does not satisfy itself (pip check "
        "conflicts); by default --fix refuses",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        metavar="NAME",
        help="leave this package out (repeatable, or comma-separated)",
    )
    parser.add_argument(
        "--top-level",
        dest="top_level",
        action="append",
        metavar="FILE",
        help="read this requirements file as top-level: it lists what you chose, and what "
        "those packages need is covered (repeatable; checked like a FILE argument)",
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


def run(argv: Sequence[str]) -> int:
    """The whole command, answered afresh: one line and exit 2 for bad input, exit 3 for a
    bug."""
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
    args = parse_args(argv)
    try:
        start = os.getcwd()
    except OSError:
        raise DriftGuardError(
            "the current directory no longer exists; cd into the project"
        ) from None
    from drift_guard.config import find_root

    root = find_root(start)
    # Paths are shown relative to the project root, as pre-commit runs hooks there.
    files = tuple(_from_root(os.path.join(start, f), root) for f in args.files)
    args.top_level = [_from_root(os.path.join(start, f), root) for f in args.top_level or ()]
    # --python / --venv name paths from where the user is (a bare name is looked up on PATH).
    for option in ("python", "venv"):
        value = getattr(args, option)
        if value and (os.sep in value or (os.altsep and os.altsep in value)
                      or os.path.exists(os.path.join(start, value))):
            setattr(args, option, os.path.join(start, os.path.expanduser(value)))
    if root != start:
        os.chdir(root)
    try:
        return _run_at(args, root, start, files)
    finally:
        if root != start:
            os.chdir(start)


def _from_root(path: str, root: str) -> str:
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    return absolute if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


class _Project(NamedTuple):
    directory: str
    """Relative to the root ("." for a single project)."""
    cfg: Any


def _projects(args: Options, root: str, files: Tuple[str, ...]) -> List[_Project]:
    """The projects this run checks: the root alone, or a monorepo's `projects`."""
    from drift_guard import config as config_mod

    base = config_mod.load(".")

    def with_options(cfg: Any, sources: Tuple[str, ...]) -> Any:
        return config_mod.merge(
            cfg,
            sources=sources,
            ignore=cfg.ignore + _names(args.ignore),
            top_level=cfg.top_level + tuple(args.top_level or ()),
            require_pins=args.require_pins,
            with_groups=_names(args.with_groups),
            without_groups=_names(args.without_groups),
            only_groups=_names(args.only_groups),
            extras=_names(args.extras),
            unresolved=args.unresolved,
        )

    if not base.projects or files:
        return [_Project(".", with_options(base, files))]
    if args.python or args.venv:
        raise DriftGuardError(
            "--python/--venv name one environment, and [tool.drift-guard] projects lists "
            f"{len(base.projects)} projects; run drift-guard inside one project, or set "
            "python/venv in each project's own [tool.drift-guard]"
        )
    projects = []
    inherited = base._replace(projects=(), sources=(), python=None, venv=None)
    for directory in dict.fromkeys(base.projects):
        if not os.path.isdir(directory):
            raise DriftGuardError(
                f"[tool.drift-guard] projects: {directory!r} is not a directory",
                path="pyproject.toml",
            )
        own = config_mod.load(directory)
        if own.projects:
            raise DriftGuardError(
                "[tool.drift-guard] projects: only the repository root lists projects",
                path=os.path.join(directory, "pyproject.toml"),
            )
        table = config_mod.table_of(directory)
        cfg = config_mod.overlay(inherited, table, "[tool.drift-guard]",
                                 path=os.path.join(directory, "pyproject.toml"),
                                 base_dir=directory) if table else inherited
        projects.append(_Project(directory, with_options(cfg, ())))
    return projects


def _environ_for(project: str) -> Tuple[Any, Tuple[str, ...]]:
    """The variables discovery sees for one project of a monorepo: an activated environment
    that lies outside a project with a venv of its own (./.venv, ./venv) is another
    project's, and is passed over for that project's own."""
    from drift_guard.environment import has_local_venv

    if not has_local_venv(project):
        return None, ()
    top = os.path.realpath(project)
    environ = dict(os.environ)
    notes = []
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        value = environ.get(name)
        if not value:
            continue
        real = os.path.realpath(value)
        if real != top and not real.startswith(top + os.sep):
            del environ[name]
            if name == "VIRTUAL_ENV" and os.path.realpath(sys.prefix) == real:
                continue  # drift-guard's own (a hook env): nothing to say
            notes.append(f"{name} {value} lies outside this project of the monorepo, which has "
                         "an environment of its own: that one was checked")
    return environ, tuple(notes)


def _checked(
    args: Options, project: _Project, root: str, start: str, monorepo: bool
) -> Tuple[_Project, str, Any, Any]:
    """(project, its directory, its report, what is installed) for one project."""
    from drift_guard.pipeline import check

    cwd = os.path.join(root, project.directory) if project.directory != "." else root
    environ, passed_over = _environ_for(cwd) if monorepo else (None, ())
    report, installed = check(project.cfg, cwd=cwd, python=args.python, venv=args.venv,
                              environ=environ, overlap=True)
    if passed_over:
        report = report._replace(notes=(*passed_over, *report.notes))
    if root != start and not monorepo:
        report = report._replace(notes=(
            f"checked the project at {root} (the nearest directory above "
            f"{os.path.relpath(start, root)} with a declaration file; paths here are "
            "relative to it)", *report.notes,
        ))
    return project, cwd, report, installed


def _run_at(args: Options, root: str, start: str, files: Tuple[str, ...]) -> int:
    from drift_guard.pipeline import render

    projects = _projects(args, root, files)
    monorepo = len(projects) > 1 or projects[0].directory != "."
    if args.fix or args.diff:
        return _fix(args, projects, root, start, monorepo)
    results = [_checked(args, project, root, start, monorepo) for project in projects]

    if not monorepo:
        report = results[0][2]
        sys.stdout.write(render(report, args.format, quiet=args.quiet))
        if args.quiet and report.ok and report.warnings and args.format != "json":
            # Quiet means nothing on stdout when there is no drift; an incomplete check is
            # still worth a word.
            from drift_guard.render._escape import text as escaped

            for warning in report.warnings:
                print(f"drift-guard: warning: {escaped(warning)}", file=sys.stderr)
        return 0 if not report.fails or args.exit_zero else 1

    ok = not any(report.fails for _, _, report, _ in results)
    if args.format == "json":
        import json

        docs = []
        for project, _, report, _ in results:
            doc = json.loads(render(report, "json"))
            docs.append({"path": project.directory, **doc})
        sys.stdout.write(json.dumps({"schema": 1, "ok": ok, "projects": docs}, indent=2) + "\n")
    else:
        parts = []
        for project, _, report, _ in results:
            text = render(report, args.format, quiet=args.quiet)
            if args.quiet and report.ok and report.warnings:
                # Quiet means nothing on stdout when there is no drift; an incomplete check
                # is still worth a word.
                from drift_guard.render._escape import text as escaped

                for warning in report.warnings:
                    print(f"drift-guard: warning: {escaped(warning)}", file=sys.stderr)
            if text and args.format == "text":
                text = f"[{project.directory}]\n{text}"
            parts.append(text)
        sys.stdout.write(("\n" if args.format == "text" else "").join(p for p in parts if p))
    return 0 if ok or args.exit_zero else 1


def _fix(
    args: Options, projects: List[_Project], root: str, start: str, monorepo: bool
) -> int:
    import contextlib

    from drift_guard.fix import run_fix
    from drift_guard.pipeline import render

    worst = 0
    docs = []
    for project in projects:
        cwd = os.path.join(root, project.directory) if project.directory != "." else root
        if args.fix and not args.diff:
            # One --fix at a time per project, held from the check to the last write: a second
            # run checks what the first one wrote instead of fixing the same drift again.
            from drift_guard.fix._lock import ProjectLock

            guard: Any = ProjectLock(cwd)
        else:
            guard = contextlib.nullcontext()
        with guard:
            _, _, report, installed = _checked(args, project, root, start, monorepo)
            code, output, errors = run_fix(
                report,
                installed,
                write=not args.diff,
                root=cwd,
                allow_broken=args.allow_broken,
                top_level=tuple(project.cfg.top_level),
                ignore=project.cfg.ignore,
            )
        worst = max(worst, code)
        if code == 2:  # refused: bad input, told on stderr in every format
            sys.stderr.write(errors)
            continue
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
            docs.append({"path": project.directory, **doc} if monorepo else doc)
            continue
        if output:
            sys.stdout.write(output)
        if errors:
            sys.stderr.write(errors)
    if args.format == "json" and docs:
        import json

        if monorepo:
            ok = all(d.get("ok") for d in docs)
            sys.stdout.write(json.dumps({"schema": 1, "ok": ok, "projects": docs}, indent=2)
                             + "\n")
        else:
            sys.stdout.write(json.dumps(docs[0], indent=2) + "\n")
    return worst
