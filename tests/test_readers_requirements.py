from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from drift_guard._names import CANONICAL_VERSION, VALID_NAME, canonical
from drift_guard.errors import DriftGuardError
from drift_guard.models import ReadContext, Requirement, Source
from drift_guard.readers import requirements as reqs
from tests.helpers import ROOT

CTX = ReadContext(markers={})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project directory that is also the current directory, as when pip runs in it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "My_Project"\n')
    return tmp_path


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path) -> Source:
    return reqs.read(str(path), CTX)


def by_name(source: Source) -> Dict[str, Requirement]:
    return {r.name: r for r in source.requirements}


def error_of(path: Path) -> DriftGuardError:
    with pytest.raises(DriftGuardError) as info:
        read(path)
    return info.value


# ----------------------------------------------------------------- requirement forms


def test_pep508_lines_keep_name_specifier_extras_marker_and_text(project: Path) -> None:
    write(project / "requirements.txt",
          'Flask[Async,dotenv] >=2.0, <4 ; python_version > "3.8"\n'
          "zope.interface==6.1\n")
    flask, zope = read(project / "requirements.txt").requirements
    assert (flask.name, flask.specifier, flask.extras) == ("flask", "<4,>=2.0", ("async", "dotenv"))
    assert flask.marker == 'python_version > "3.8"'
    assert flask.text == 'Flask[Async,dotenv] >=2.0, <4 ; python_version > "3.8"'
    assert (flask.line, flask.end_line, flask.source) == (1, 1, "requirements.txt")
    assert (zope.name, zope.specifier, zope.url, zope.editable) == ("zope-interface", "==6.1",
                                                                     None, False)


def test_name_at_url_accepts_a_marker_glued_to_the_url_as_pip_does(project: Path) -> None:
    write(project / "requirements.txt",
          'demo @ https://example.com/demo-1.0.tar.gz;python_version>"3"\n')
    (demo,) = read(project / "requirements.txt").requirements
    assert demo.name == "demo"
    assert demo.url == "https://example.com/demo-1.0.tar.gz"
    assert demo.marker == 'python_version > "3"'


def test_bare_url_is_named_by_egg_fragment_and_takes_a_marker_after_semicolon_space(
        project: Path) -> None:
    write(project / "requirements.txt",
          "git+https://github.com/o/r@v1#egg=Some_Pkg ; sys_platform == 'linux'\n"
          "https://example.com/pkg.zip#egg=zipped\n")
    some, zipped = read(project / "requirements.txt").requirements
    assert (some.name, some.url) == ("some-pkg", "git+https://github.com/o/r@v1#egg=Some_Pkg")
    assert some.marker == 'sys_platform == "linux"'
    # "#egg" without a space before it is part of the URL, not a comment.
    assert (zipped.name, zipped.url) == ("zipped", "https://example.com/pkg.zip#egg=zipped")


def test_wheel_url_and_wheel_path_are_named_and_pinned_by_their_filename(project: Path) -> None:
    (project / "dist").mkdir()
    (project / "dist" / "local_thing-2.0-py3-none-any.whl").write_bytes(b"")
    write(project / "requirements.txt",
          "https://example.com/files/Remote_Pkg-1.2.3-py3-none-any.whl\n"
          "./dist/local_thing-2.0-py3-none-any.whl\n"
          "./dist/never_built-3.0-py3-none-any.whl\n")
    remote, local, missing = read(project / "requirements.txt").requirements
    assert (remote.name, remote.specifier) == ("remote-pkg", "==1.2.3")
    assert (local.name, local.specifier) == ("local-thing", "==2.0")
    assert local.url == (project / "dist" / "local_thing-2.0-py3-none-any.whl").as_uri()
    # pip only warns about a wheel path that does not exist; so do we.
    assert (missing.name, missing.specifier) == ("never-built", "==3.0")


def test_sdist_path_is_named_by_its_filename_without_a_pin(project: Path) -> None:
    write(project / "requirements.txt", "./vendor/some-lib-1.4.tar.gz\n")
    (lib,) = read(project / "requirements.txt").requirements
    assert (lib.name, lib.specifier) == ("some-lib", "")
    assert lib.url is not None
    assert lib.url.endswith("/vendor/some-lib-1.4.tar.gz")


def test_local_directory_is_named_from_pyproject_then_setup_cfg_else_unnamed(
        project: Path) -> None:
    write(project / "libs" / "a" / "pyproject.toml", '[project]\nname = "Alpha.Lib"\n')
    write(project / "libs" / "b" / "setup.py", "")
    write(project / "libs" / "b" / "setup.cfg", "[metadata]\nname = beta_lib\n")
    write(project / "libs" / "c" / "setup.py", "")
    write(project / "libs" / "d" / "pyproject.toml", '[tool.poetry]\nname = "delta"\n')
    write(project / "requirements.txt",
          "./libs/a[extra1]\n-e ./libs/b\n-e libs/c\n./libs/d\n")
    a, b, c, d = read(project / "requirements.txt").requirements
    assert (a.name, a.extras, a.editable) == ("alpha-lib", ("extra1",), False)
    assert (b.name, b.editable) == ("beta-lib", True)
    assert (c.name, c.editable) == ("", True)  # unnamed: the caller asks direct_url.json
    assert c.url == (project / "libs" / "c").as_uri()
    assert d.name == "delta"
    assert a.text == "./libs/a[extra1]"
    assert b.text == "-e ./libs/b"


def test_editable_vcs_needs_an_egg_fragment_or_a_name(project: Path) -> None:
    write(project / "requirements.txt",
          "-e git+https://github.com/o/r.git@main#egg=tool\n"
          # pip splits options with shlex: `name @ url` after -e must be quoted.
          "--editable='named @ git+https://github.com/o/n.git'\n")
    tool, named = read(project / "requirements.txt").requirements
    assert (tool.name, tool.editable, tool.url) == ("tool", True,
                                                    "git+https://github.com/o/r.git@main#egg=tool")
    assert (named.name, named.url, named.editable) == ("named", "git+https://github.com/o/n.git",
                                                       True)
    write(project / "bad.txt", "\n-e git+https://github.com/o/r.git\n")
    err = error_of(project / "bad.txt")
    assert (err.path, err.line) == ("bad.txt", 2)
    assert "#egg=" in err.message


def test_editable_that_is_neither_a_directory_nor_vcs_is_an_error(project: Path) -> None:
    write(project / "requirements.txt", "-e https://example.com/x.tar.gz\n")
    err = error_of(project / "requirements.txt")
    assert str(err).startswith("requirements.txt:1: -e https://example.com/x.tar.gz: not a local")


def test_unnamed_vcs_url_is_kept_with_its_url(project: Path) -> None:
    write(project / "requirements.txt", "git+https://github.com/o/r.git@abc\n")
    (unnamed,) = read(project / "requirements.txt").requirements
    assert (unnamed.name, unnamed.url) == ("", "git+https://github.com/o/r.git@abc")


def test_directory_without_project_files_is_an_error(project: Path) -> None:
    (project / "empty").mkdir()
    write(project / "requirements.txt", "# x\n./empty\n")
    err = error_of(project / "requirements.txt")
    assert (err.line, "not installable" in err.message) == (2, True)


def test_paths_are_tried_from_the_current_directory_then_the_files_own(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(project / "sub" / "requirements.txt", "-e .\n")
    monkeypatch.chdir(project / "sub")  # pip would fail here; the check still finds it
    source = reqs.read("requirements.txt", ReadContext({}, project_dir=str(project)))
    assert source.requirements[0].name == "my-project"
    assert source.project == "my-project"


# -------------------------------------------------------------------- options


def test_hash_and_config_settings_belong_to_their_requirement(project: Path) -> None:
    write(project / "requirements.txt",
          "a==1.0 --hash=sha256:aaa --hash sha512:bbb\n"
          "b==2.0 --config-settings=key=value -C other=1\n"
          "-e . --config-settings editable_mode=compat\n")
    a, b, e = read(project / "requirements.txt").requirements
    assert (a.hashes, a.text) == (True, "a==1.0")
    assert (b.hashes, b.text) == (False, "b==2.0")
    assert (e.editable, e.name) == (True, "my-project")
    doc = reqs.parse(str(project / "requirements.txt"))
    assert doc.entries[1].options == (("--config-settings", "key=value"),
                                      ("--config-settings", "other=1"))


@pytest.mark.parametrize("line", [
    "-i https://example.com/simple", "--index-url=https://example.com/simple",
    "-ihttps://example.com/simple", "--extra-index-url https://x/simple", "--no-index",
    "-f ./wheels", "--find-links=./wheels", "--pre", "--prefer-binary",
    "--only-binary :all:", "--no-binary=:none:", "--require-hashes", "--no-require-hashes",
    "--trusted-host example.com", "--use-feature fast-deps", "--all-releases :all:",
    "--only-final pkg", "--pypi-url https://x/simple", "--extra https://x/simple",
    "--no-index --prefer-binary",
])
def test_global_options_are_recognised_and_declare_nothing(project: Path, line: str) -> None:
    write(project / "requirements.txt", f"{line}\nsix==1.16.0\n")
    source = read(project / "requirements.txt")
    assert [r.name for r in source.requirements] == ["six"]
    assert reqs.parse(str(project / "requirements.txt")).entries[0].kind == "option"


@pytest.mark.parametrize(("line", "words"), [
    ("--install-option=--prefix=/x", "no such option: --install-option"),
    ("six==1.0 --global-option=x", "no such option: --global-option"),
    ("-x foo", "no such option: -x"),
    ("--no", "ambiguous option: --no"),
    ("--index-url", "--index-url option requires 1 argument"),
    ("--pre=yes", "--pre option does not take a value"),
    ("six==1.0 --hash=md5:abc", "allowed hash algorithms for --hash are sha256"),
    ("six==1.0 --hash=abc", "must be a hash name followed by a value"),
    ("six==1.0 -C novalue", "-C must be of the form KEY=VAL"),
    ("six==1.0 --hash 'sha256:unclosed", "could not split the options"),
])
def test_bad_options_are_errors_naming_the_line(project: Path, line: str, words: str) -> None:
    write(project / "requirements.txt", f"# first\n{line}\n")
    err = error_of(project / "requirements.txt")
    assert (err.path, err.line) == ("requirements.txt", 2)
    assert words in err.message


@pytest.mark.parametrize(("line", "words"), [
    ("six=1.0", "did you mean =="),
    ("six==1.0 ; python_version >> '3'", "invalid marker"),
    ("six==1.0 extra", "invalid requirement"),
    ("./no/such/dir.txt", "looks like a path"),
    ("https://example.com/not-a-wheel.whl", "not a valid wheel filename"),
    ("https://example.com/x.tar.gz#egg=bad[name]", "invalid #egg= fragment"),
])
def test_malformed_requirements_are_errors_naming_the_line(project: Path, line: str,
                                                           words: str) -> None:
    write(project / "requirements.txt", f"ok==1.0\n{line}\n")
    err = error_of(project / "requirements.txt")
    assert err.line == 2
    assert words in err.message
    assert "\n" not in str(err)


def test_a_tab_before_an_option_glues_it_to_the_requirement_as_in_pip(project: Path) -> None:
    # pip splits options off at spaces only; a tab-indented --hash stays in the requirement.
    write(project / "requirements.txt", "six==1.0 \\\n\t--hash=sha256:abc\n")
    assert "invalid requirement" in error_of(project / "requirements.txt").message


def test_error_in_a_continued_requirement_names_its_first_line(project: Path) -> None:
    write(project / "requirements.txt", "ok==1.0\nbad \\\n  = 1\n")
    assert error_of(project / "requirements.txt").line == 2


# ---------------------------------------------------------- includes and constraints


def test_includes_are_relative_to_the_including_file_and_keep_their_own_source(
        project: Path) -> None:
    write(project / "requirements.txt", "six==1.16.0\n-r reqs/base.txt\n")
    write(project / "reqs" / "base.txt", "# base\nattrs==23.1.0\n--requirement=more/extra.txt\n")
    write(project / "reqs" / "more" / "extra.txt", "idna==3.7\n")
    source = read(project / "requirements.txt")
    assert [(r.name, r.source, r.line) for r in source.requirements] == [
        ("six", "requirements.txt", 1),
        ("attrs", os.path.join("reqs", "base.txt"), 2),
        ("idna", os.path.join("reqs", "more", "extra.txt"), 1),
    ]
    assert source.files == ("requirements.txt", os.path.join("reqs", "base.txt"),
                            os.path.join("reqs", "more", "extra.txt"))


def test_include_outside_the_current_directory_is_shown_absolute(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "shared" / "common.txt", "idna==3.7\n")
    write(tmp_path / "app" / "requirements.txt", "-r ../shared/common.txt\n")
    monkeypatch.chdir(tmp_path / "app")
    source = reqs.read("requirements.txt", CTX)
    assert source.requirements[0].source == str(tmp_path / "shared" / "common.txt")


def test_include_cycle_is_an_error_naming_the_cycle(project: Path) -> None:
    write(project / "requirements.txt", "-r a.txt\n")
    write(project / "a.txt", "six==1.0\n-r b.txt\n")
    write(project / "b.txt", "\n\n-r a.txt\n")
    err = error_of(project / "requirements.txt")
    assert (err.path, err.line) == ("b.txt", 3)
    assert "requirements.txt -> a.txt -> b.txt -> a.txt" in err.message


def test_a_file_including_itself_is_a_cycle(project: Path) -> None:
    write(project / "requirements.txt", "-r ./requirements.txt\n")
    assert "requirements.txt -> requirements.txt" in error_of(project / "requirements.txt").message


def test_the_same_file_included_twice_side_by_side_is_no_cycle(project: Path) -> None:
    write(project / "requirements.txt", "-r a.txt\n-r b.txt\n")
    write(project / "a.txt", "-r common.txt\n")
    write(project / "b.txt", "-r common.txt\n")
    write(project / "common.txt", "six==1.0\n")
    source = read(project / "requirements.txt")
    # Read once: the second include of a file already read declares nothing new.
    assert [r.name for r in source.requirements] == ["six"]
    assert source.files == ("requirements.txt", "a.txt", "common.txt", "b.txt")


@pytest.mark.parametrize(("line", "words"), [
    ("-r missing.txt", "missing.txt: it does not exist"),
    ("-c missing.txt", "fix the -c path"),
    ("-r https://example.com/req.txt", "reads local files only"),
])
def test_unreadable_include_is_an_error_at_the_include_line(project: Path, line: str,
                                                            words: str) -> None:
    write(project / "requirements.txt", f"six==1.0\n{line}\n")
    err = error_of(project / "requirements.txt")
    assert (err.path, err.line) == ("requirements.txt", 2)
    assert words in err.message


def test_constraints_constrain_and_declare_nothing(project: Path) -> None:
    write(project / "requirements.txt", "-c constraints.txt\nrequests\n")
    write(project / "constraints.txt", "urllib3<3\n-r reqs-from-constraints.txt\n")
    write(project / "reqs-from-constraints.txt", "idna==3.7\n")
    source = read(project / "requirements.txt")
    assert [c.name for c in source.constraints] == ["urllib3"]
    # pip reads a -r inside a constraints file as requirements again.
    assert [r.name for r in source.requirements] == ["idna", "requests"]
    assert source.constraints[0].source == "constraints.txt"


def test_editable_constraint_is_an_error(project: Path) -> None:
    write(project / "requirements.txt", "-c constraints.txt\n")
    write(project / "constraints.txt", "-e .\n")
    err = error_of(project / "requirements.txt")
    assert (err.path, err.line) == ("constraints.txt", 1)


def test_only_the_first_include_of_a_line_is_followed_as_pip_does(project: Path) -> None:
    write(project / "requirements.txt", "-r a.txt -r b.txt\n")
    write(project / "a.txt", "six==1.0\n")
    assert read(project / "requirements.txt").files == ("requirements.txt", "a.txt")


# --------------------------------------------------------------- frozen, project


@pytest.mark.parametrize(("lines", "frozen"), [
    (["a==1.0", "b===weird.1"], True),
    (["a==1.0", "-e .", "c @ https://x/c-1.tar.gz", "git+https://h/o/r#egg=d"], True),
    (["a==1.0", "b>=1"], False),
    (["a==1.*"], False),
    (["a"], False),
    (["a==1.0,<2"], True),
    (["# nothing but comments"], True),
])
def test_frozen_means_every_requirement_is_pinned_or_a_direct_reference(
        project: Path, lines: List[str], frozen: bool) -> None:
    write(project / "requirements.txt", "\n".join(lines) + "\n")
    assert read(project / "requirements.txt").frozen is frozen


def test_frozen_looks_into_includes_but_not_constraints(project: Path) -> None:
    write(project / "requirements.txt", "a==1.0\n-r more.txt\n-c cons.txt\n")
    write(project / "more.txt", "b==2.0\n")
    write(project / "cons.txt", "c>=1\n")
    assert read(project / "requirements.txt").frozen is True
    write(project / "more.txt", "b>=2.0\n")
    assert read(project / "requirements.txt").frozen is False


def test_project_is_the_local_directory_of_the_top_level_file(project: Path) -> None:
    write(project / "requirements.txt", "# Editable install with no version control\n"
                                        f"-e {project}\nsix==1.0\n")
    assert read(project / "requirements.txt").project == "my-project"
    write(project / "requirements.txt", ".[dev]\n")
    assert read(project / "requirements.txt").project == "my-project"
    write(project / "lib" / "pyproject.toml", '[project]\nname = "lib"\n')
    write(project / "requirements.txt", "-e ./lib\n")
    assert read(project / "requirements.txt").project is None


# ---------------------------------------------------------- lines, comments, vars


def test_continuations_join_and_the_span_covers_every_physical_line(project: Path) -> None:
    write(project / "requirements.txt",
          "flask==3.0.0 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\n"
          "    # via app\n"
          "# a comment ending in a backslash does not continue \\\n"
          "six==1.16.0\n"
          "idna \\\n# a comment ends the continuation\n"
          "attrs \\\n")
    source = read(project / "requirements.txt")
    spans = [(r.name, r.line, r.end_line, r.hashes) for r in source.requirements]
    assert spans == [("flask", 1, 3, True), ("six", 6, 6, False), ("idna", 7, 8, False),
                     ("attrs", 9, 9, False)]


def test_pip_strips_backslashes_at_both_ends_of_a_continued_line(project: Path) -> None:
    write(project / "requirements.txt", "six\\\n\\\\==1.0\\\n\n")
    (six,) = read(project / "requirements.txt").requirements
    assert (six.name, six.specifier, six.line, six.end_line) == ("six", "==1.0", 1, 3)


def test_comments_need_whitespace_before_the_hash(project: Path) -> None:
    write(project / "requirements.txt", "six==1.0 # pinned\nsix==1.0\t# tab\n#six==2.0\n")
    source = read(project / "requirements.txt")
    assert [(r.specifier, r.line) for r in source.requirements] == [("==1.0", 1), ("==1.0", 2)]


def test_environment_variables_expand_only_in_the_pip_form(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_PKG", "six")
    monkeypatch.setenv("DG_EMPTY", "")
    monkeypatch.setenv("dg_lower", "never")
    monkeypatch.delenv("DG_UNSET", raising=False)
    write(project / "requirements.txt",
          "${DG_PKG}==1.0\n"
          "lib @ https://example.com/${DG_UNSET}/${DG_EMPTY}/${dg_lower}/lib-1.0.tar.gz\n")
    six, lib = read(project / "requirements.txt").requirements
    # Read as pip reads it; kept as written, so the value never reaches a message.
    assert (six.name, six.text) == ("six", "${DG_PKG}==1.0")
    assert lib.url == "https://example.com/${DG_UNSET}/${DG_EMPTY}/${dg_lower}/lib-1.0.tar.gz"


def test_crlf_cr_and_exotic_separators_split_lines_as_str_splitlines(project: Path) -> None:
    write(project / "requirements.txt", "a==1.0\r\nb==2.0\rc==3.0\x0cd==4.0\u2028e==5.0")
    source = read(project / "requirements.txt")
    assert [(r.name, r.line) for r in source.requirements] == [
        ("a", 1), ("b", 2), ("c", 3), ("d", 4), ("e", 5)]
    doc = reqs.parse(str(project / "requirements.txt"))
    assert [ln.ending for ln in doc.lines] == ["\r\n", "\r", "\x0c", "\u2028", ""]
    assert doc.newline == "\r\n"


# -------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_byte_order_marks_are_stripped_and_remembered(project: Path, encoding: str) -> None:
    text = "# café\r\nsix==1.0\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (project / "requirements.txt").write_bytes(data)
    doc = reqs.parse(str(project / "requirements.txt"))
    assert doc.lines[0].text == "# café"
    assert doc.bom
    assert doc.dumps() == data
    assert [r.name for r in read(project / "requirements.txt").requirements] == ["six"]


def test_pep263_coding_comment_in_the_first_two_lines_sets_the_encoding(project: Path) -> None:
    data = "#!/no/shebang/needed\n# -*- coding: latin-1 -*-\n# Müller\nsix==1.0\n".encode("latin-1")
    (project / "requirements.txt").write_bytes(data)
    doc = reqs.parse(str(project / "requirements.txt"))
    assert (doc.encoding, doc.lines[2].text, doc.dumps()) == ("latin-1", "# Müller", data)


def test_coding_comment_on_the_third_line_is_ignored(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reqs, "_locale_encoding", lambda: "utf-8")
    (project / "requirements.txt").write_bytes(b"\n\n# coding: latin-1\n# M\xfcller\n")
    with pytest.raises(DriftGuardError) as info:
        reqs.parse(str(project / "requirements.txt"))
    assert info.value.line == 4
    assert "coding" in info.value.message


def test_unknown_coding_is_an_error(project: Path) -> None:
    (project / "requirements.txt").write_bytes(b"# coding: klingon\nsix\n")
    err = error_of(project / "requirements.txt")
    assert (err.line, "unknown encoding 'klingon'" in err.message) == (1, True)


def test_non_utf8_falls_back_to_the_locale_encoding(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reqs, "_locale_encoding", lambda: "cp1252")
    data = b"# \x80 euro\nsix==1.0\n"
    (project / "requirements.txt").write_bytes(data)
    doc = reqs.parse(str(project / "requirements.txt"))
    assert (doc.encoding, doc.lines[0].text, doc.dumps()) == ("cp1252", "# € euro", data)


def test_undecodable_utf16_names_the_line(project: Path) -> None:
    data = b"\xff\xfe" + "a\nb\n".encode("utf-16-le") + b"\x00\xdc"  # lone low surrogate
    (project / "requirements.txt").write_bytes(data)
    assert error_of(project / "requirements.txt").line == 3


def test_unreadable_top_level_file_is_an_error(project: Path) -> None:
    err = error_of(project / "nope.txt")
    assert (err.path, err.message) == ("nope.txt", "requirements file not found")


# -------------------------------------------------------------------- document


def test_document_entries_have_kinds_and_spans(project: Path) -> None:
    write(project / "requirements.txt",
          "# top\n\n--index-url https://x/simple\n-r more.txt\n-c cons.txt\n"
          "six==1.0 \\\n  --hash=sha256:a\n   \n")
    doc = reqs.parse(str(project / "requirements.txt"))
    assert [(e.kind, e.line, e.end_line) for e in doc.entries] == [
        ("comment", 1, 1), ("blank", 2, 2), ("option", 3, 3), ("include", 4, 4),
        ("constraint", 5, 5), ("requirement", 6, 7), ("blank", 8, 8)]
    assert doc.entries[3].target == str(project / "more.txt")
    assert doc.entry_at(6) is doc.entries[5]


def test_plain_pins_do_not_import_packaging(project: Path) -> None:
    lines = ["# pip freeze"] + [f"pkg-{i}==1.{i}.0" for i in range(300)] + ["-e ."]
    write(project / "requirements.txt", "\n".join(lines) + "\n")
    code = textwrap.dedent("""
        import sys
        from drift_guard.models import ReadContext, Requirement, Source
        from drift_guard.readers import requirements
        source = requirements.read("requirements.txt", ReadContext({}))
        assert len(source.requirements) == 301 and source.frozen
        print(sorted(m for m in sys.modules if m.split(".")[0] == "packaging"))
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


_names = st.from_regex(re.compile(VALID_NAME.pattern), fullmatch=True).filter(lambda n: "\n" not in n)
_versions = st.from_regex(re.compile(CANONICAL_VERSION.pattern), fullmatch=True).filter(lambda v: "\n" not in v)


_blanks = st.sampled_from(["", " ", "  ", "\t", " \t "])
_marker_clause = st.builds(
    lambda var, op, quote, value, b1, b2: f"{var}{b1}{op}{b2}{quote}{value}{quote}",
    st.sampled_from(["sys_platform", "python_version", "os_name", "platform_machine",
                     "implementation_name", "python_full_version", "extra", "os.name"]),
    st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "==="]),
    st.sampled_from(['"', "'"]),
    st.sampled_from(["win32", "3.0", "3.11.2", "nt", "x86_64", "cpython", "", "a b"]),
    _blanks, _blanks,
)
_markers = st.one_of(
    st.just(""),
    st.lists(_marker_clause, min_size=1, max_size=3).flatmap(
        lambda clauses: st.lists(st.sampled_from([" and ", " or ", "and ", " or"]),
                                 min_size=len(clauses) - 1, max_size=len(clauses) - 1).map(
            lambda ops: clauses[0] + "".join(o + c for o, c in zip(ops, clauses[1:])))),
)


@settings(max_examples=600, deadline=None)
@given(name=_names, version=_versions, before=_blanks, after=_blanks, marker=_markers)
def test_fast_path_agrees_with_packaging(name: str, version: str, before: str, after: str,
                                         marker: str) -> None:
    from packaging.requirements import Requirement

    line = f"{name}{before}=={after}{version}" + (f"; {marker}" if marker else "")
    assume(reqs._plain_pin(f"{name}=={version}") is not None)  # ".zip" versions: archives
    try:
        expected = Requirement(line)
    except Exception:
        with pytest.raises(ValueError):
            reqs.parse_requirement(line, ("/nonexistent",))
        return
    fast = reqs.parse_requirement(line, ("/nonexistent",))
    assert fast.name == canonical(expected.name)
    assert fast.specifier == str(expected.specifier)
    assert fast.marker == (str(expected.marker) if expected.marker else None)
    assert fast.extras == ()
    assert fast.url is None


_marker_tokens = st.sampled_from([
    "sys_platform", "python_version", "extra", "os.name", "python_implementation", "foo",
    "==", "!=", "<", ">=", "~=", "===", "in", "not in", "and", "or", "(", ")",
    '"win32"', "'3.8'", '"a\'b"', "'a\"b'", '"Foo_Bar"', " ", "\t", "\x0c", "\u00a0",
])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_marker_tokens, min_size=1, max_size=9))
def test_the_marker_fast_path_writes_what_packaging_writes(tokens: list) -> None:
    """Whatever marker the fast path reads, packaging reads it too and writes it the same;
    a marker packaging refuses, the fast path leaves to packaging."""
    from packaging.markers import Marker

    from drift_guard.requires import normalize_marker

    text = " ".join(tokens)
    fast = normalize_marker(text)
    try:
        expected = str(Marker(text))
    except Exception:
        assert fast is None, text
        return
    assert fast in (None, expected), text


def test_fast_path_is_taken_for_plain_pins_only() -> None:
    assert reqs._plain_pin("Django==4.2.11") == ("Django", "4.2.11")
    assert reqs._plain_pin("a==1.0+local.zip") is None  # pip reads that as an archive
    assert reqs._plain_pin("a == 1.0") == ("a", "1.0")
    assert reqs._plain_pin("a\f==1.0") is None
    assert reqs._plain_pin("a==1.0.*") is None
    assert reqs._plain_pin("a===1.0") is None


# ------------------------------------------------------------------ round trip

_SEPS = st.sampled_from(["\n", "\r\n", "\r"])
_name = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,6}([._-][A-Za-z0-9]{1,4})?", fullmatch=True)
_ver = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)
_comment_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                        max_size=20)
_marker = st.sampled_from(['python_version >= "3.8"', "sys_platform == 'linux'",
                           'extra == "x" and os_name != "nt"'])
_option = st.sampled_from(["--index-url https://example.com/simple", "--pre", "-f ./wheels",
                           "--extra-index-url=https://x/simple", "--prefer-binary",
                           "--no-binary :all:", "--trusted-host example.com",
                           "--only-binary=:all:", "-r other.txt", "-c constraints.txt"])
_hash = st.from_regex(r"sha256:[0-9a-f]{8}", fullmatch=True)


@st.composite
def _logical(draw: st.DrawFn) -> List[str]:
    """One logical line as a list of physical texts (continuations inside)."""
    kind = draw(st.sampled_from(["pin", "spec", "comment", "blank", "option", "hashes",
                                 "spaced"]))
    name, ver = draw(_name), draw(_ver)
    if kind == "pin":
        line = f"{name}=={ver}"
    elif kind == "spec":
        line = f"{name}[x] >={ver},<999 ; {draw(_marker)}"
    elif kind == "comment":
        return ["#" + draw(_comment_text).replace("\\", "")]
    elif kind == "blank":
        return [draw(st.sampled_from(["", "  ", "\t"]))]
    elif kind == "option":
        line = draw(_option)
    elif kind == "spaced":
        line = f"  {name} == {ver}  "
    else:
        hashes = draw(st.lists(_hash, min_size=1, max_size=3))
        indent = draw(st.sampled_from(["    ", "  ", ""]))
        return [f"{name}=={ver} \\"] + [f"{indent}--hash={h} \\" for h in hashes[:-1]] + [
            f"{indent}--hash={hashes[-1]}"]
    if draw(st.booleans()):
        line += "  # " + draw(_comment_text).replace("\\", "")
    return [line]


@st.composite
def _files(draw: st.DrawFn) -> bytes:
    groups: List[List[str]] = draw(st.lists(_logical(), max_size=25))
    physical = [p for group in groups for p in group]
    seps = [draw(_SEPS) for _ in physical]
    text = "".join(p + s for p, s in zip(physical, seps))
    if physical and draw(st.booleans()):
        text = text[: -len(seps[-1])]  # no final newline
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-be-bom",
                                     "utf-32", "latin-1"]))
    if encoding == "latin-1":
        return ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1", errors="ignore")
    if encoding == "utf-16-be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_files())
def test_parse_then_dumps_is_byte_identical(project: Path, data: bytes) -> None:
    (project / "requirements.txt").write_bytes(data)
    doc = reqs.parse(str(project / "requirements.txt"))
    assert doc.dumps() == data
    assert not any(ln.text.splitlines()[1:] for ln in doc.lines)


# ------------------------------------------------------------------- fixtures

FIXTURES = ROOT / "fixtures" / "requirements"


def test_tricky_fixture_reads_as_pip_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Checked by hand against pip 26.3's own parser: same names, specifiers, markers, lines.
    monkeypatch.chdir(FIXTURES / "tricky")
    monkeypatch.delenv("DG_FIXTURE_TOKEN", raising=False)
    source = reqs.read("requirements.txt", CTX)
    assert [(r.name, r.specifier, r.marker, r.source, r.line, r.end_line)
            for r in source.requirements] == [
        ("certifi", "==2024.8.30", None, "requirements.txt", 10, 10),
        ("flask", "==3.0.3", None, "requirements.txt", 11, 11),
        ("zope-interface", "==6.4.post2", None, "requirements.txt", 12, 12),
        ("requests", "<3,>=2.31", 'python_version >= "3.8"', "requirements.txt", 15, 15),
        ("tomli", "==2.0.1", 'python_version < "3.11"', "requirements.txt", 16, 16),
        ("pywin32", "==306", 'sys_platform == "win32"', "requirements.txt", 17, 17),
        ("idna", "==3.7", None, "requirements.txt", 20, 22),
        ("demo", "", 'python_version > "3"', "requirements.txt", 26, 26),
        ("remote-pkg", "==1.2.3", None, "requirements.txt", 27, 27),
        ("vcs-pkg", "", None, "requirements.txt", 28, 28),
        ("local-pkg", "", None, "requirements.txt", 29, 29),
        ("editable-pkg", "", None, "requirements.txt", 30, 30),
        ("private", "", None, "requirements.txt", 31, 31),
        ("setuptools-scm", "==8.1.0", None, "requirements.txt", 34, 34),
        ("six", "==1.16.0", None, "requirements.txt", 37, 37),
        ("attrs", "==23.2.0", None, "base.txt", 1, 1),
        ("packaging", "==24.1", None, os.path.join("nested", "more.txt"), 1, 1),
    ]
    assert [(c.name, c.specifier) for c in source.constraints] == [("urllib3", "<3")]
    assert source.files == ("requirements.txt", "base.txt", os.path.join("nested", "more.txt"),
                            "constraints.txt")
    assert source.frozen is False  # requests has a range
    assert source.project is None  # ./localpkg is not the directory of the file
    by = by_name(source)
    assert by["idna"].hashes is True
    assert by["requests"].extras == ("security", "socks")
    assert by["private"].url == "https://${DG_FIXTURE_TOKEN}@example.com/private-1.0.tar.gz"
    assert (by["local-pkg"].editable, by["local-pkg"].extras) == (True, ("extra",))


@pytest.mark.parametrize("name", ["tricky/requirements.txt", "tricky/base.txt",
                                  "tricky/nested/more.txt", "pip-compile-hashes/requirements.txt"])
def test_fixture_files_round_trip_byte_for_byte(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = FIXTURES / name
    monkeypatch.chdir(path.parent)
    doc = reqs.parse(str(path))
    assert doc.dumps() == path.read_bytes()


# ------------------------------------------------------------ pip as the oracle

# Lines pip 26.3 reads, and lines it refuses (while parsing, or when it first uses what it
# parsed). Each is a file of its own; the project around them has a local project, a wheel
# file, an empty directory and files to include.
PIP_CORPUS = [
    # requirement forms
    "six==1.16.0", "SIX>=1.0,!=1.5", "zope.interface==6.1", "six===1.0.weird",
    "Flask[Async,dotenv] >=2.0, <4 ; python_version > '3.8'", "six ; python_version<'4'",
    "six==1.0 ; extra == 'x'", "six==1.0;python_version>'3'",
    "name @ https://e.com/x-1.0.tar.gz", "name @ https://e.com/x.tar.gz ; python_version > '3'",
    "x @ https://e.com/x.tar.gz;python_version>'3'", "x[a] @ https://e.com/x.zip",
    "https://e.com/pkg-1.0-py3-none-any.whl", "https://e.com/x.tar.gz#egg=x",
    "https://e.com/x.tar.gz#egg=x ; os_name == 'posix'", "https://e.com/unnamed",
    "./dist/pkg-1.0-py3-none-any.whl", "dist/pkg-1.0-py3-none-any.whl",
    "file:dist/pkg-1.0-py3-none-any.whl", "./localpkg", "./localpkg[extra1]",
    "./localpkg ; python_version > '3'", "git+https://e.com/r.git#egg=vcs-pkg",
    # editables
    "-e ./localpkg", "-e ./localpkg[Extra]", "--editable=./localpkg", "-e./localpkg",
    "-e ./localpkg ; python_version > '3'", "./localpkg -e ./other",
    "-e git+https://e.com/r.git#egg=vcs_pkg", "-e git+https://e.com/r.git@v1#egg=vcs-pkg&subdirectory=s",
    "-e vcs-pkg @ git+https://e.com/r.git", "-e vcs-pkg[x] @ git+https://e.com/r.git ; os_name == 'posix'",
    "-e git://e.com/r#egg=g", "-e hg+https://e.com/r#egg=h", "-e svn+https://e.com/r#egg=s",
    "-e ./localpkg -e ./other", "-e ./localpkg --config-settings k=v",
    "-e ./localpkg --hash=sha256:abc",
    # per-requirement options
    "six==1.0 --hash=sha256:abc", "six==1.0 --hash sha256:abc --hash=sha384:def",
    "six==1.0 -C k=v", "six==1.0 --config-settings=k=v", "six==1.0 -Ck=v",
    "six==1.0 --index-url https://x/simple", "six==1.0 --no-index --pre",
    "six==1.0 -- --bogus", "six==1.0 --hash=sha512:a positional",
    # global options
    "--use-feature fast-deps", "--use-feature=truststore", "--use-feature venv-isolation",
    "--no-binary :all:", "--only-binary=six", "--no-binary=:none:", "--only-binary six,attrs",
    "--all-releases :all:", "--only-final pkg", "--pre", "--prefer-binary", "-f ./wheels",
    "-i https://x/simple", "-ihttps://x/simple", "--extra-index-url https://x",
    "--trusted-host x", "--no-index", "--require-hashes", "--no-require-hashes",
    "--extra https://x", "--pypi-url https://x", "--hash=sha256:abc", "--index-url=",
    "--no-index --prefer-binary --pre",
    # includes
    "-r sub/inc.txt", "-c sub/con.txt", "--requirement=sub/inc.txt", "-rsub/inc.txt",
    "--constraint sub/con.txt", "-r sub/inc.txt -r sub/other.txt", "-r file:sub/inc.txt",
    "-r file://{root}/sub/inc.txt", "-r file://localhost{root}/sub/inc.txt", "-c sub/req-in-con.txt",
    # refused: options
    "--use-feature bogus", "--use-feature=2020-resolver", "--use-feature", "--use-feature=",
    "--no-binary -x", "--no-binary=-six", "--only-binary -", "--all-releases -x",
    "--only-final=-", "--only-binary --pre", "--install-option=x", "six==1.0 --global-option=x",
    "-x foo", "--no", "--index-url", "--pre=1", "--no-index=yes", "-e", "--editable",
    "six==1.0 --hash=md5:x", "six==1.0 --hash=abc", "six==1.0 -C nokv",
    "six==1.0 --hash 'sha256:unclosed", "-r", "-Z",
    # refused: requirements
    "six=1.0", "six==1.0 extra", "six ; python_version >> '3'", "https://e.com/bad.whl",
    "x @ https://e.com/x.tar.gz#egg=bad!name", "https://e.com/x.tar.gz#egg=a[b]",
    "x @ file://otherhost/x.tar.gz", "file://otherhost/x-1.0-py3-none-any.whl", "./emptydir",
    "./no/such/dir.txt", "-bad", "six==1.0 ;", "[extra]",
    # refused: editables
    "six -e ./localpkg", "six==1.0 --editable=./localpkg", "-e https://e.com/x.tar.gz",
    "-e x @ https://e.com/x.tar.gz", "-e git+https://e.com/r.git",
    "-e git+https://e.com/r#egg=a[b]", "-e file://otherhost/x", "-e ./nonexistent",
    "-e six==1.0",
    # refused: includes
    "-r sub/missing.txt", "-c missing.txt", "-r file:sub/missing.txt",
    "-r file://otherhost/etc/passwd", "-r sub/self.txt", "-c sub/econ.txt",
]


PIP_MODELLED = "26.3"


@pytest.fixture(scope="module")
def pip_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from importlib.metadata import version

    if version("pip") != PIP_MODELLED:  # options and checks change between pip releases
        pytest.skip(f"the oracle is pip {PIP_MODELLED}, the one drift-guard reads files as; "
                    f"this environment has pip {version('pip')}")
    root = tmp_path_factory.mktemp("pip-oracle")
    write(root / "pyproject.toml", '[project]\nname = "oracle"\n')
    write(root / "localpkg" / "pyproject.toml", '[project]\nname = "Local_Pkg"\n')
    write(root / "other" / "setup.py", "")
    (root / "emptydir").mkdir()
    (root / "wheels").mkdir()
    write(root / "dist" / "pkg-1.0-py3-none-any.whl", "")
    write(root / "sub" / "inc.txt", "attrs==23.1.0\n")
    write(root / "sub" / "other.txt", "idna==3.7\n")
    write(root / "sub" / "con.txt", "urllib3<3\n")
    write(root / "sub" / "req-in-con.txt", "-r inc.txt\n")
    write(root / "sub" / "econ.txt", "-e ./localpkg\n")
    write(root / "sub" / "self.txt", "-r self.txt\n")
    return root


def _ours(path: str) -> Dict[str, object]:
    try:
        source = reqs.read(path, CTX)
    except DriftGuardError as exc:
        assert "\n" not in str(exc)
        return {"error": str(exc)}
    return {"ok": [
        {"name": r.name, "specifier": r.specifier, "marker": r.marker, "extras": list(r.extras),
         "url": r.url, "editable": r.editable, "hashes": r.hashes, "constraint": constraint}
        for constraint, group in ((False, source.requirements), (True, source.constraints))
        for r in group]}


def _normal(found: Dict[str, object], pip_names: bool = True) -> Dict[str, object]:
    """Specifiers and markers in packaging's normal form (pip vendors its own packaging)."""
    from packaging.markers import Marker
    from packaging.specifiers import SpecifierSet

    if "error" in found:
        return {"error": True}
    items = []
    for item in found["ok"]:  # type: ignore[union-attr]
        item = dict(item)
        item["specifier"] = sorted(str(s) for s in SpecifierSet(item["specifier"]))
        item["marker"] = str(Marker(item["marker"])) if item["marker"] else None
        items.append(item)
    # pip yields requirements and constraints in file order; drift-guard keeps them apart.
    return {"ok": sorted(items, key=lambda i: (i["constraint"], json.dumps(i, sort_keys=True)))}


def test_every_line_reads_as_pip_reads_it_and_is_refused_when_pip_refuses_it(
        pip_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(pip_project)
    files = []
    for i, line in enumerate(PIP_CORPUS):
        path = pip_project / f"case-{i:03}.txt"
        write(path, line.replace("{root}", str(pip_project)) + "\n")
        files.append(str(path))
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "_pip_oracle.py"), *files],
                         capture_output=True, text=True, timeout=300, check=True)
    verdicts = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(verdicts) == len(files)
    differ = []
    for line, path, pip in zip(PIP_CORPUS, files, verdicts):
        ours = _ours(path)
        if "ok" in pip and "ok" in ours:
            for theirs in pip["ok"]:
                if not theirs["name"]:  # unnamed for pip: a local project drift-guard names
                    match = [o for o in ours["ok"] if o["url"] == theirs["url"]]
                    if match:
                        theirs["name"] = match[0]["name"]
        if _normal(pip) != _normal(ours):
            differ.append((line, pip, ours))
    assert not differ, "\n".join(f"{line!r}:\n  pip:  {p}\n  ours: {o}" for line, p, o in differ)
    refused = sum("error" in v for v in verdicts)
    assert 40 < refused < len(PIP_CORPUS) - 60  # both kinds are well represented


_MUTATIONS = [" ", "-", "--", "@", ";", "#", "[", "]", "'", '"', "\\", "=", "==", ",", ":",
              "${DG_ORACLE}", "${DG_UNSET_VAR}", "-e ", "-r ", "--hash=", "file:", "#egg=",
              "&", "!", ".", "/", "\t", "~=", "*", "<", " ; ", "x"]


def _mutants(seed: int, count: int) -> List[str]:
    import random

    rng = random.Random(seed)
    valid = [line for line in PIP_CORPUS if "{root}" not in line and "sub/" not in line]
    result = []
    for _ in range(count):
        line = rng.choice(valid)
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, len(line))
            if rng.random() < 0.3 and len(line) > 1:  # delete a character
                line = line[:at] + line[at + 1:]
            else:
                line = line[:at] + rng.choice(_MUTATIONS) + line[at:]
        result.append(line)
    return result


@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("DG_SEEDS", "1,2").split(",")])
def test_mutated_lines_are_accepted_and_refused_exactly_as_pip_does(
        pip_project: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    monkeypatch.chdir(pip_project)
    monkeypatch.setenv("DG_ORACLE", "from-env")
    lines = _mutants(seed, 400)
    files = []
    for i, line in enumerate(lines):
        path = pip_project / f"mutant-{seed}-{i:03}.txt"
        write(path, line + "\n")
        files.append(str(path))
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "_pip_oracle.py"), *files],
                         capture_output=True, text=True, timeout=300, check=True,
                         env={**os.environ, "DG_ORACLE": "from-env"})
    verdicts = [json.loads(v) for v in out.stdout.splitlines()]
    differ = []
    for line, path, pip in zip(lines, files, verdicts):
        ours = _ours(path)
        if "ok" in pip and "ok" in ours:
            for theirs in pip["ok"]:
                if theirs["url"]:  # drift-guard keeps ${VAR} in what it may show
                    theirs["url"] = theirs["url"].replace("from-env", "${DG_ORACLE}")
                match = [o for o in ours["ok"] if o["url"] == theirs["url"]]
                if not theirs["name"] and match:
                    theirs["name"] = match[0]["name"]
        if "cannot evaluate the marker" in str(ours.get("error", "")):
            continue  # pip refuses it only later, when it evaluates the marker
        if _normal(pip) != _normal(ours):
            differ.append((line, pip, ours))
    assert not differ, "\n".join(f"{line!r}:\n  pip:  {p}\n  ours: {o}" for line, p, o in differ)


# ------------------------------------------------------- linear time, bounded, quiet

_shell_text = st.lists(st.sampled_from(list("ab -'\"\\\t=:") + ["\u00a0", "x y"]),
                       max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(text=_shell_text)
def test_shell_split_is_shlex_split(text: str) -> None:
    import shlex

    try:
        expected: object = shlex.split(text)
    except ValueError:
        expected = "refused"
    try:
        got: object = reqs.shell_split(text)
    except ValueError:
        got = "refused"
    assert got == expected


def _pip_expand(line: str, env: Dict[str, str]) -> str:
    """pip 26.3's expand_env_variables, for one line."""
    for token, name in re.findall(r"(\$\{([A-Z0-9_]+)\})", line):
        value = env.get(name)
        if value:
            line = line.replace(token, value)
    return line


_piece = st.sampled_from(["${A}", "${B}", "${C}", "${", "}", "$", "{", "A", "B", "x", " "])
_value = st.lists(st.sampled_from(["${A}", "${B}", "$", "{", "}", "A", "B", "v"]),
                  max_size=6).map("".join)


@settings(max_examples=500, deadline=None)
@given(line=st.lists(_piece, max_size=12).map("".join),
       env=st.fixed_dictionaries({"A": _value, "B": _value, "C": _value}))
def test_variable_expansion_is_pips_even_when_values_hold_more_variables(
        line: str, env: Dict[str, str]) -> None:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        expanded, used = reqs.expand_tracked(line)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert expanded == _pip_expand(line, env)
    assert set(used) <= {k for k, v in env.items() if v}


def test_each_file_is_read_once_however_often_it_is_included(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(30):
        write(project / f"r{i}.txt", f"-r r{i + 1}.txt\n-c r{i + 1}.txt\n-r r{i + 1}.txt\n")
    write(project / "r30.txt", "six==1.0\n")
    write(project / "requirements.txt", "-r r0.txt\n")
    calls: List[str] = []
    real = reqs.parse

    def counting(path: str, **kw: object) -> reqs.RequirementsDocument:
        calls.append(path)
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(reqs, "parse", counting)
    source = read(project / "requirements.txt")
    assert len(calls) == len(set(calls)) == 32
    assert [r.name for r in source.requirements] == ["six"]
    assert [r.name for r in source.constraints] == ["six"]


def test_a_chain_far_deeper_than_the_recursion_limit_is_read(project: Path) -> None:
    depth = sys.getrecursionlimit() * 3
    for i in range(depth):
        write(project / f"c{i}.txt", f"-r c{i + 1}.txt\n")
    write(project / f"c{depth}.txt", "six==1.0\n")
    assert [r.name for r in read(project / "c0.txt").requirements] == ["six"]


@pytest.mark.parametrize("kind", ["fifo", "environ", "zero", "directory"])
def test_special_files_are_refused_without_reading_them(project: Path, kind: str) -> None:
    target = project / "other.txt"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "environ":
        target.symlink_to("/proc/self/environ")
    elif kind == "zero":
        target.symlink_to("/dev/zero")
    else:
        target.mkdir()
    write(project / "requirements.txt", "-r other.txt\n")
    err = error_of(project / "requirements.txt")
    assert err.line == 1 or err.path == "other.txt"
    top = error_of(target) if kind != "directory" else None
    assert top is None or top.path == "other.txt"


def test_lines_of_files_outside_the_project_are_never_quoted(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / ".netrc", "machine example.com login bob password hunter2\n")
    write(tmp_path / "app" / "requirements.txt", "-r ../.netrc\n")
    monkeypatch.chdir(tmp_path / "app")
    with pytest.raises(DriftGuardError) as info:
        reqs.read("requirements.txt", ReadContext(markers={}, project_dir="."))
    assert info.value.line == 1 and info.value.path.endswith(".netrc")
    assert "hunter2" not in str(info.value) and "bob" not in str(info.value)


@pytest.mark.parametrize("line", [
    "x==${DG_TOKEN}", "-e ${DG_TOKEN}", "x==1 --hash=${DG_TOKEN}", "--use-feature=${DG_TOKEN}",
    "x @ https://e.com/${DG_TOKEN}.tar.gz#egg=-${DG_TOKEN}", "-r ${DG_TOKEN}/x.txt",
    "${DG_TOKEN}[ ==1", "x ; os_name == '${DG_TOKEN}' and",
])
def test_expanded_values_never_reach_messages(project: Path, monkeypatch: pytest.MonkeyPatch,
                                              line: str) -> None:
    token = "tok-4e1c9-SECRET-value"
    monkeypatch.setenv("DG_TOKEN", token)
    write(project / "requirements.txt", line + "\n")
    err = error_of(project / "requirements.txt")
    for piece in (token, token[:6], token[-6:], "SECRET"):
        assert piece not in str(err)
    assert err.line == 1


def test_kept_requirements_hold_the_variable_not_its_value(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DG_TOKEN", "tok-4e1c9")
    write(project / "requirements.txt", "x @ https://u:${DG_TOKEN}@e.com/x-1.0.tar.gz\n")
    req = read(project / "requirements.txt").requirements[0]
    assert req.url == "https://u:${DG_TOKEN}@e.com/x-1.0.tar.gz"
    assert "tok-4e1c9" not in req.text


@pytest.mark.parametrize(("line", "words"), [
    ("six==" + "1" * 5000, "more than 4300 digits"),
    ("six ; python_version < '" + "1" * 5000 + "'", "more than 4300 digits"),
    ("six ; python_version ~= '3'", "cannot evaluate the marker"),
    ("six ; " + "(" * 2000 + "os_name == 'x'" + ")" * 2000, "invalid marker"),
])
def test_what_packaging_cannot_compare_is_bad_input_at_the_line(project: Path, line: str,
                                                                words: str) -> None:
    write(project / "requirements.txt", "ok==1\n" + line + "\n")
    with pytest.raises(DriftGuardError) as info:
        reqs.read(str(project / "requirements.txt"),
                  ReadContext(markers={"python_version": "3.11", "os_name": "posix"}))
    assert info.value.line == 2 and words in info.value.message
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("encoding", ["rot13", "hex", "zlib_codec", "base64", "punycode"])
def test_coding_comments_naming_no_text_encoding_are_bad_input(project: Path,
                                                               encoding: str) -> None:
    write(project / "requirements.txt", f"# coding: {encoding}\nsix==1.0\n#{'x' * 300}\n")
    assert error_of(project / "requirements.txt").path == "requirements.txt"


def test_an_sdist_filename_without_a_project_name_leaves_the_requirement_unnamed(
        project: Path) -> None:
    write(project / "requirements.txt", "https://e.com/-x-1.0.tar.gz\n")
    assert read(project / "requirements.txt").requirements[0].name == ""
