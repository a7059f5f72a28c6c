"""Reading the project's imports: the parser, the standard library lists, which files, the
staged contents, the cache, and how findings are ranked. Real git repositories in tmp_path;
the end-to-end runs with real venvs are in test_imports_e2e.py."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Set, Tuple

import pytest

from drift_guard.config import from_mapping
from drift_guard.errors import DriftGuardError
from drift_guard.imports import files
from drift_guard.imports.parse import Import, _imports, parse
from drift_guard.imports.resolve import Resolution, rank, tolerate
from drift_guard.imports.stdlib import module_names, version_tuple
from drift_guard.models import Environment, Finding, Report, Source

# --- parse ---------------------------------------------------------------------------------


def modules(source: str, version: Tuple[int, ...] = (3, 12)) -> Set[Tuple[str, int, bool]]:
    return {(i.module, i.line, i.optional) for i in parse(source, version).imports}


def test_plain_from_and_dotted_imports_with_their_lines() -> None:
    src = "import os, yaml\nfrom bs4 import BeautifulSoup\nimport google.protobuf.message as m\n"
    assert modules(src) == {
        ("os", 1, False), ("yaml", 1, False), ("bs4", 2, False),
        ("google.protobuf.message", 3, False),
    }
    (bs4,) = [i for i in parse(src).imports if i.module == "bs4"]
    assert bs4.names == ("BeautifulSoup",)


def test_relative_imports_are_the_projects_own() -> None:
    assert modules("from . import views\nfrom .models import User\nfrom .. import x\n") == set()


def test_imports_inside_functions_and_methods_are_required() -> None:
    src = (
        "class Handler:\n"
        "    def get(self):\n"
        "        import rich\n"
        "        return rich\n"
        "\n"
        "async def main():\n"
        "    from dateutil import parser\n"
    )
    assert modules(src) == {("rich", 3, False), ("dateutil", 7, False)}


def test_type_checking_and_import_error_guards_make_imports_optional() -> None:
    src = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import mypy_boto3_s3\n"
        "else:\n"
        "    import requests\n"
        "try:\n"
        "    import ujson as json\n"
        "except ImportError:\n"
        "    import simplejson as json\n"
        "try:\n"
        "    import orjson\n"
        "except (ValueError, ModuleNotFoundError):\n"
        "    orjson = None\n"
        "try:\n"
        "    import lxml\n"
        "except KeyError:\n"
        "    pass\n"
        "if typing.TYPE_CHECKING:\n"
        "    from attrs import define\n"
    )
    assert modules(src) == {
        ("typing", 1, False), ("mypy_boto3_s3", 3, True), ("requests", 5, False),
        ("ujson", 7, True), ("simplejson", 9, True), ("orjson", 11, True),
        ("lxml", 15, False), ("attrs", 19, True),
    }


@pytest.mark.parametrize(
    ("version", "expected"),
    [((3, 10, 12), {"tomli"}), ((3, 11, 0), {"tomllib"}), ((3, 12, 4), {"tomllib"})],
)
def test_version_conditions_are_decided_for_the_target_python(
    version: Tuple[int, ...], expected: Set[str]
) -> None:
    src = (
        "import sys\n"
        "if sys.version_info >= (3, 11):\n"
        "    import tomllib\n"
        "else:\n"
        "    import tomli\n"
    )
    found = {m for m, _, _ in modules(src, version)} - {"sys"}
    assert found == expected


@pytest.mark.parametrize(
    "test",
    ["sys.version_info[:2] < (3, 11)", "(3, 11) > sys.version_info", "sys.version_info.minor < 11",
     "sys.version_info[1] <= 10", "not sys.version_info >= (3, 11)",
     "sys.version_info < (3, 11) or FLAG"],
)
def test_spellings_of_a_version_check(test: str) -> None:
    src = f"import sys\nif {test}:\n    import tomli\n"
    assert ("tomli", 3, False) in modules(src, (3, 10))
    if "FLAG" in test:  # `or FLAG` cannot be decided on 3.12: the import is kept
        assert ("tomli", 3, False) in modules(src, (3, 12))
    else:
        assert ("tomli", 3, False) not in modules(src, (3, 12))


def test_literal_dynamic_imports_are_read_and_others_left() -> None:
    src = (
        "import importlib\n"
        "from importlib import import_module\n"
        "plugin = importlib.import_module('yaml')\n"
        "def load():\n"
        "    return import_module(\"bs4.element\")\n"
        "mod = __import__('six')\n"
        "name = 'x'\n"
        "other = importlib.import_module(name)\n"
        "rel = importlib.import_module('.views', __package__)\n"
    )
    assert modules(src) - {("importlib", 1, False), ("importlib", 2, False)} == {
        ("yaml", 3, False), ("bs4.element", 5, False), ("six", 6, False),
    }


def test_import_words_in_strings_and_comments_are_not_imports() -> None:
    src = (
        '"""Module doc.\n'
        "import notreal\n"
        '"""\n'
        "HELP = '''\n"
        "import alsonotreal\n"
        "'''\n"
        "# import commented\n"
        "x = 'import quoted'\n"
        "import real\n"
    )
    assert modules(src) == {("real", 9, False)}


def test_syntax_error_where_imports_are_is_reported_not_raised() -> None:
    result = parse("import os\nfrom x import (a,\ndef broken(:\n    pass\n")
    assert result.imports == ()
    assert result.error is not None and "line" in result.error
    # Elsewhere in the file it is a linter's business: the imports are read all the same.
    assert parse("import os\ndef broken(:\n    pass\n").imports == (Import("os", 1),)


TRICKY = [
    # a decorator, a multi-line signature, a continuation onto column 0, tabs
    "@decorator\ndef f(\n    a,\n    b,\n) -> None:\n    import inside\n" + "    x = 1\n" * 400,
    "x = [\n1,\n]\nimport after_list\n",
    "value = 1 + \\\n2\nimport after_backslash\n",
    "class A:\n\tdef m(self):\n\t\timport tabbed\n" + "\tx = 1\n" * 400,
    "if True:\n    pass\nelse:\n    import in_else\n",
    "try:\n    import a\nexcept ImportError:\n    import b\nelse:\n    import c\nfinally:\n"
    "    import d\n",
    "def f():\n    s = '''\nimport fake\n'''\n    import real\n" + "    y = 2\n" * 400,
    # drift-guard reads code with its own interpreter's parser: `match` needs Python 3.10
    pytest.param("match x:\n    case 1:\n        import matched\n",
                 marks=pytest.mark.skipif(sys.version_info < (3, 10),
                                          reason="the match statement needs Python 3.10")),
    "with open(f) as g:\n    import in_with\n",
    "class Big:\n    '''Doc\nimport no\n'''\n" + "    def m%d(self):\n        import mod%d\n" * 3,
]


@pytest.mark.parametrize("source", TRICKY)
def test_cutting_the_source_gives_what_a_full_parse_gives(source: str) -> None:
    source = source % tuple(range(6)) if "%d" in source else source
    full = sorted(_imports(source, (3, 12), 0))
    assert sorted(parse(source, (3, 12)).imports) == full
    assert full  # every case has at least one import


def test_cut_parse_agrees_with_full_parse_on_real_code() -> None:
    # The test environment's own installed code: thousands of real files in every style.
    paths = sorted(glob.glob(os.path.join(os.path.dirname(pytest.__file__), "..", "**", "*.py"),
                             recursive=True))[:1500]
    assert len(paths) > 500
    checked = 0
    for path in paths:
        try:
            source = Path(path).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        try:
            full = sorted(_imports(source, (3, 11), 0))
        except SyntaxError:
            continue
        assert sorted(parse(source, (3, 11)).imports) == full, path
        checked += 1
    assert checked > 500


# --- the standard library --------------------------------------------------------------------


def test_stdlib_lists_follow_the_target_version() -> None:
    assert "tomllib" in module_names((3, 11)) and "tomllib" not in module_names((3, 10))
    assert "distutils" in module_names((3, 11)) and "distutils" not in module_names((3, 12))
    assert "imghdr" in module_names((3, 12)) and "imghdr" not in module_names((3, 13))
    assert "annotationlib" in module_names((3, 14))
    assert "zoneinfo" in module_names((3, 9)) and "parser" in module_names((3, 9))
    assert "parser" not in module_names((3, 10))
    # Other platforms' modules count too: the target may be Windows.
    assert {"winreg", "msvcrt", "_winapi"} <= module_names((3, 9))
    # Outside the shipped range: the nearest list.
    assert module_names((3, 8)) == module_names((3, 9))
    assert module_names((3, 15)) == module_names((3, 14))


def test_shipped_list_matches_the_running_python() -> None:
    if not hasattr(sys, "stdlib_module_names") or sys.version_info[:2] > (3, 14):
        pytest.skip("sys.stdlib_module_names is 3.10+")
    assert module_names(sys.version_info[:2]) == frozenset(sys.stdlib_module_names)


def test_version_strings() -> None:
    assert version_tuple("3.12.4") == (3, 12, 4)
    assert version_tuple("3.13.0rc1") == (3, 13, 0)
    assert version_tuple("") == (3,)


# --- files, staged contents and the cache ------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t.invalid"}
    env.pop("GIT_INDEX_FILE", None)
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("PRE_COMMIT", "GIT_INDEX_FILE", "PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "docs").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "main.py").write_text("import flask\nfrom app import models\n")
    (root / "app" / "models.py").write_text("import sqlalchemy\n")
    (root / "tests" / "test_app.py").write_text("import pytest\n")
    (root / "docs" / "conf.py").write_text("import sphinx\n")
    (root / "setup.py").write_text("import setuptools\n")
    (root / "untracked.py").write_text("import untracked_dep\n")
    git(root, "init", "-q")
    git(root, "add", "app", "tests", "docs", "setup.py")
    return root


def found(scan: files.Scan) -> Set[Tuple[str, str]]:
    return {(s.path, i.module) for s in scan.sources for i in s.imports}


def test_tracked_code_minus_tests_and_docs(repo: Path) -> None:
    scan = files.scan(str(repo), (3, 12), staged=False)
    assert scan.from_git
    assert found(scan) == {
        ("app/main.py", "flask"), ("app/main.py", "app"), ("app/models.py", "sqlalchemy"),
    }


def test_code_setting_and_own_excludes(repo: Path) -> None:
    scan = files.scan(str(repo), (3, 12), code=["app/models.py"], staged=False)
    assert found(scan) == {("app/models.py", "sqlalchemy")}
    scan = files.scan(str(repo), (3, 12), exclude=["app/models.py"], staged=False)
    assert ("tests/test_app.py", "pytest") in found(scan)
    assert ("app/models.py", "sqlalchemy") not in found(scan)


def test_without_git_the_directory_is_walked_skipping_venvs(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "plain"
    (root / "env-here").mkdir(parents=True)
    (root / "env-here" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "env-here" / "inside.py").write_text("import inside_venv\n")
    (root / "handler.py").write_text("import boto3\n")
    scan = files.scan(str(root), (3, 12), staged=False)
    assert not scan.from_git
    assert found(scan) == {("handler.py", "boto3")}


def test_unreadable_files_are_skipped_with_a_note(repo: Path) -> None:
    (repo / "app" / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nx = '\xe9'\nimport a\n")
    (repo / "app" / "broken.py").write_text("import ok\nfrom x import (\n")
    (repo / "app" / "big.py").write_bytes(b"import big\n" + b"#" * (files.SOURCE_LIMIT + 1))
    git(repo, "add", "app")
    (repo / "app" / "pipe.py").unlink(missing_ok=True)
    os.mkfifo(repo / "app" / "pipe.py")
    git(repo, "add", "app/pipe.py")
    scan = files.scan(str(repo), (3, 12), staged=False)
    notes = "\n".join(scan.notes)
    assert "app/latin.py: skipped, not UTF-8" in notes
    assert "app/broken.py: line 2" in notes
    assert "app/big.py: skipped" in notes
    # git records a FIFO as nothing at all; whatever it lists, the scan never blocks on it.
    assert ("app/main.py", "flask") in found(scan)


def test_a_fifo_named_like_code_never_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "p"
    root.mkdir()
    os.mkfifo(root / "pipe.py")
    (root / "ok.py").write_text("import ok_dep\n")
    scan = files.scan(str(root), (3, 12), staged=False)
    assert found(scan) == {("ok.py", "ok_dep")}
    assert any("pipe.py" in n and "not a regular file" in n for n in scan.notes)


def test_staged_contents_are_what_counts_in_a_commit_hook(repo: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "app" / "main.py").write_text("import flask\nimport rich\n")
    git(repo, "add", "app/main.py")
    (repo / "app" / "main.py").write_text("import flask\n")  # not staged: not committed
    monkeypatch.setenv("PRE_COMMIT", "1")
    staged = files.scan(str(repo), (3, 12))
    assert ("app/main.py", "rich") in found(staged)
    monkeypatch.delenv("PRE_COMMIT")
    working = files.scan(str(repo), (3, 12))
    assert ("app/main.py", "rich") not in found(working)


def test_cache_serves_unchanged_files_and_rereads_changed_ones(repo: Path) -> None:
    first = files.scan(str(repo), (3, 12), staged=False)
    assert first.read == 3
    again = files.scan(str(repo), (3, 12), staged=False)
    assert again.read == 0 and found(again) == found(first)
    (repo / "app" / "models.py").write_text("import sqlalchemy\nimport alembic\n")
    changed = files.scan(str(repo), (3, 12), staged=False)
    assert changed.read == 1
    assert ("app/models.py", "alembic") in found(changed)
    # Another target version: version conditions may read differently, so its own cache.
    assert files.scan(str(repo), (3, 10), staged=False).read == 3


def test_cache_lives_outside_the_project_and_survives_corruption(repo: Path, tmp_path: Path) -> None:
    files.scan(str(repo), (3, 12), staged=False)
    import marshal

    (cache_file,) = (tmp_path / "cache" / "drift-guard").glob("imports-*")
    assert not str(cache_file).startswith(str(repo))
    version = files.CACHE_VERSION
    for junk in (b"\x00\xff not marshal", marshal.dumps({"version": version,
                                                          "files": {"app/main.py": [1]}}),
                 marshal.dumps({"version": version, "files": []}), marshal.dumps([]),
                 marshal.dumps({"version": version, "files": {"app/main.py": [
                     0, 0, 0, [["flask", "x", False, []]], None]}})):
        cache_file.write_bytes(junk)
        scan = files.scan(str(repo), (3, 12), staged=False)
        assert ("app/main.py", "flask") in found(scan)
    assert marshal.loads(cache_file.read_bytes())["version"] == version  # rewritten whole


def test_a_cache_directory_others_may_write_to_is_neither_read_nor_written(
        repo: Path, tmp_path: Path) -> None:
    directory = tmp_path / "cache" / "drift-guard"
    directory.mkdir(parents=True)
    directory.chmod(0o777)
    assert files.scan(str(repo), (3, 12), staged=False).read == 3
    assert list(directory.iterdir()) == []
    assert files.scan(str(repo), (3, 12), staged=False).read == 3


def test_git_runs_without_the_callers_git_settings(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = repo.parent / "ran"
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='touch {marker}'")
    git(repo, "config", "core.fsmonitor", f"touch {marker}")
    scan = files.scan(str(repo), (3, 12), staged=False)
    assert scan.from_git
    assert not marker.exists()


@pytest.mark.parametrize(
    ("path", "hit"),
    [("tests/test_x.py", True), ("pkg/tests/helpers.py", True), ("app/test_views.py", True),
     ("app/views.py", False), (".venv/lib/x.py", True), ("docs/conf.py", True),
     ("app/attest.py", False), ("conftest.py", True)],
)
def test_default_excludes(path: str, hit: bool) -> None:
    assert files.excluded(path, files.DEFAULT_EXCLUDE) is hit


# --- configuration ---------------------------------------------------------------------------


def test_new_settings_are_validated() -> None:
    cfg = from_mapping({"code": ["src"], "fail-on": ["missing", "unresolved"],
                        "undeclared": "imported", "unresolved": True,
                        "code-exclude": ["scripts"]}, "[tool.drift-guard]")
    assert cfg.code == ("src",) and cfg.fail_on == ("missing", "unresolved")
    assert cfg.undeclared == "imported" and cfg.unresolved and cfg.code_exclude == ("scripts",)
    with pytest.raises(DriftGuardError, match="fail-on has 'typo'"):
        from_mapping({"fail-on": ["typo"]}, "[tool.drift-guard]")
    with pytest.raises(DriftGuardError, match="undeclared must be one of"):
        from_mapping({"undeclared": "some"}, "[tool.drift-guard]")


# --- ranking -----------------------------------------------------------------------------------


def _undeclared(name: str, **kw: object) -> Finding:
    return Finding("undeclared", name, "1.0", None, **kw)  # type: ignore[arg-type]


def test_rank_puts_imported_undeclared_first_with_every_site() -> None:
    findings = [
        Finding("missing", "requests", None, "==2.0", "requirements.txt", 1),
        _undeclared("rich", dependencies=("pygments",)),
        _undeclared("tabulate"),
    ]
    resolution = Resolution(
        used={}, unresolved={"localmod": ["app.py:9"]},
        providers={
            "app.py:3 rich": frozenset({"rich"}),
            "lib/x.py:10 rich.console": frozenset({"rich"}),
            "app.py:4 pygments": frozenset({"pygments"}),  # only through rich
            "app.py:5 requests": frozenset({"requests"}),
        },
        notes=(),
    )
    ranked = rank(findings, resolution, unresolved=True)
    assert [f.name for f in ranked] == ["rich", "requests", "tabulate", "localmod"]
    assert ranked[0].imported_by == ("app.py:3", "app.py:4", "lib/x.py:10")
    assert ranked[2].imported_by == ()
    assert ranked[3].kind == "unresolved" and ranked[3].imported_by == ("app.py:9",)
    assert [f.kind for f in rank(findings, resolution)] == ["undeclared", "missing", "undeclared"]


def test_an_import_a_declared_package_also_provides_ranks_nothing() -> None:
    # zope.interface declared, zope.event undeclared: `import zope` is satisfied either way.
    findings = [_undeclared("zope-event")]
    resolution = Resolution({}, {}, {"app.py:1 zope": frozenset({"zope-event", "zope-interface"})},
                            ())
    assert rank(findings, resolution)[0].imported_by == ()


def test_fail_on_and_undeclared_imported_decide_what_fails() -> None:
    env = Environment("/venv", None, "3.12.0", "test", ())
    findings = [_undeclared("rich", imported_by=("app.py:3",)), _undeclared("tabulate"),
                Finding("unresolved", "localmod", None, None, imported_by=("app.py:9",))]
    marked = tolerate(findings, None, "imported")
    assert [f.tolerated for f in marked] == [False, True, False]
    report = Report(env, (Source("r.txt", "requirements.txt", (), True),), tuple(marked[1:2]))
    assert not report.ok and not report.fails
    marked = tolerate(findings, ["missing", "mismatch", "undeclared"], "all")
    assert [f.tolerated for f in marked] == [False, False, True]


def test_renderers_show_the_importing_lines() -> None:
    from drift_guard.pipeline import render

    env = Environment("/venv", None, "3.12.0", "test", ())
    report = Report(
        env, (Source("requirements.txt", "requirements.txt", (), True),),
        (_undeclared("rich", imported_by=("app.py:3",)), _undeclared("tabulate"),
         Finding("unresolved", "localmod", None, None, imported_by=("lib/x.py:2",))),
    )
    text = render(report, "text")
    assert text.index("rich") < text.index("tabulate") < text.index("localmod")
    assert "the deploy fails without it" in text and "imported by app.py:3" in text
    doc = json.loads(render(report, "json"))
    assert doc["findings"][0]["imported_by"] == ["app.py:3"]
    assert doc["findings"][1]["imported_by"] == []
    assert doc["findings"][2] ["kind"] == "unresolved"
    github = render(report, "github")
    assert "::error file=app.py,line=3," in github
    assert "::error file=lib/x.py,line=2," in github
    markdown = render(report, "markdown")
    assert "imported by app.py:3" in markdown and "localmod" in markdown




def test_staged_contents_of_a_project_below_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)
    top = tmp_path / "mono"
    api = top / "services" / "api"
    api.mkdir(parents=True)
    (top / "other.py").write_text("import elsewhere\n")
    (api / "handler.py").write_text("import boto3\nimport rich\n")
    git(top, "init", "-q")
    git(top, "add", "-A")
    (api / "handler.py").write_text("import boto3\n")
    monkeypatch.setenv("PRE_COMMIT", "1")
    scan = files.scan(str(api), (3, 12))
    assert found(scan) == {("handler.py", "boto3"), ("handler.py", "rich")}


def test_a_tracked_link_to_a_special_file_is_skipped_unread(repo: Path) -> None:
    (repo / "app" / "secrets.py").symlink_to("/proc/self/environ")
    git(repo, "add", "app/secrets.py")
    scan = files.scan(str(repo), (3, 12), staged=False)
    (note,) = [n for n in scan.notes if "secrets.py" in n]
    assert "special file" in note and "skipped" in note
    assert ("app/main.py", "flask") in found(scan)
