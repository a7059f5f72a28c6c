from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from drift_guard._names import canonical
from drift_guard.errors import DriftGuardError
from drift_guard.fix import requirements as fix
from drift_guard.models import Finding, Installed, ReadContext
from drift_guard.readers import requirements as reqs
from tests.helpers import ROOT, Venv, make_venv, pip, pip_list_freeze, run_cli, write_wheel

CTX = ReadContext(markers={})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def inst(name: str, version: str, path: str = "/nonexistent") -> Installed:
    return Installed(canonical(name), name, version, (), path)


def env(*pairs: str) -> Dict[str, Installed]:
    """{canonical name: Installed} from "Name==version" strings."""
    out = {}
    for pair in pairs:
        name, _, version = pair.partition("==")
        out[canonical(name)] = inst(name, version)
    return out


def mismatch(name: str, line: Optional[int], installed: str,
             source: str = "requirements.txt") -> Finding:
    return Finding("mismatch", name, installed, "", source, line)


def missing(name: str, line: Optional[int], source: str = "requirements.txt") -> Finding:
    return Finding("missing", name, None, "", source, line)


def undeclared(name: str, version: str) -> Finding:
    return Finding("undeclared", name, version, None)


def fixed(path: Path, findings: Sequence[Finding], installed: Dict[str, Installed],
          root: Optional[Path] = None) -> List[fix.FileEdit]:
    source = reqs.read(str(path), CTX)
    return fix.plan_fix([source], findings, installed, root=str(root or path.parent))


def new_text(edits: Sequence[fix.FileEdit], name: str = "requirements.txt") -> str:
    (edit,) = [e for e in edits if e.path == name]
    return edit.new.decode(edit.encoding)


# ------------------------------------------------------------------- mismatch


def test_mismatch_rewrites_only_the_version_keeping_comment_extras_marker_and_crlf(
        project: Path) -> None:
    path = project / "requirements.txt"
    path.write_bytes(b"# deps\r\nflask[async]==2.0.0 ; python_version > '3.8'  "
                     b"# pinned: see #12\r\nsix==1.0\r\n")
    edits = fixed(path, [mismatch("flask", 2, "3.0.3")], env("Flask==3.0.3"))
    assert edits[0].new == (b"# deps\r\nflask[async]==3.0.3 ; python_version > '3.8'  "
                            b"# pinned: see #12\r\nsix==1.0\r\n")
    assert edits[0].old == path.read_bytes()


@pytest.mark.parametrize(("line", "expected"), [
    ("six == 1.0", "six == 1.16.0"),
    ("six (==1.0)", "six (==1.16.0)"),
    ("six===1.0", "six===1.16.0"),
    ("six==1.*", "six==1.16.0"),
    ("six>=2,<3", "six==1.16.0"),
    ("six[extra] ~=2.0 ;python_version>'3'", "six[extra] ==1.16.0 ;python_version>'3'"),
    ("six ( >=2 , <3 )", "six ( ==1.16.0 )"),
])
def test_mismatch_replaces_a_lone_pin_version_and_a_range_by_the_installed_pin(
        project: Path, line: str, expected: str) -> None:
    path = project / "requirements.txt"
    path.write_text(f"{line}\n")
    (edit,) = fixed(path, [mismatch("six", 1, "1.16.0")], env("six==1.16.0"))
    assert edit.new.decode() == f"{expected}\n"


def test_mismatch_in_a_specifier_made_of_a_variable_is_left_with_a_message(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIX_VERSION", "1.0")
    path = project / "requirements.txt"
    path.write_text("six==${SIX_VERSION}\n")
    (edit,) = fixed(path, [mismatch("six", 1, "1.16.0")], env("six==1.16.0"))
    assert not edit.changed
    assert "environment variable" in edit.messages[0]


def test_mismatch_inside_a_continuation_keeps_the_layout(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("requests \\\n    ==2.0.0 \\\n    ; python_version > '3'\nidna==3.7\n")
    (edit,) = fixed(path, [mismatch("requests", 1, "2.32.3")], env("requests==2.32.3"))
    assert edit.new.decode() == (
        "requests \\\n    ==2.32.3 \\\n    ; python_version > '3'\nidna==3.7\n")


def test_range_split_over_lines_is_rewritten_on_its_first_line(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("requests>=1,\\\n<2 ; python_version > '3'\n")
    (edit,) = fixed(path, [mismatch("requests", 1, "2.32.3")], env("requests==2.32.3"))
    assert edit.new.decode() == "requests==2.32.3\\\n ; python_version > '3'\n"
    assert reqs.parse_requirement("requests==2.32.3 ; python_version > '3'", ()).specifier == (
        "==2.32.3")


def test_hashed_line_is_left_with_a_message_on_regenerating_hashes(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("six==1.0 \\\n    --hash=sha256:aaaa\n")
    (edit,) = fixed(path, [mismatch("six", 1, "1.16.0")], env("six==1.16.0"))
    assert not edit.changed
    (message,) = edit.messages
    assert message.startswith("requirements.txt:1: six: ")
    assert "--generate-hashes" in message


@pytest.mark.parametrize("line", [
    "six @ https://example.com/six-1.0.tar.gz",
    "https://example.com/six-1.0-py3-none-any.whl",
])
def test_direct_references_are_not_rewritten(project: Path, line: str) -> None:
    path = project / "requirements.txt"
    path.write_text(line + "\n")
    (edit,) = fixed(path, [mismatch("six", 1, "1.16.0")], env("six==1.16.0"))
    assert not edit.changed
    assert "by hand" in edit.messages[0]


def test_unpinned_gets_the_installed_pin_after_its_extras(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("requests[socks] ; python_version > '3'  # http\nidna>=3\n")
    findings = [Finding("unpinned", "requests", "2.32.3", "", "requirements.txt", 1),
                Finding("unpinned", "idna", "3.7", ">=3", "requirements.txt", 2)]
    (edit,) = fixed(path, findings, env("requests==2.32.3", "idna==3.7"))
    assert edit.new.decode() == (
        "requests[socks]==2.32.3 ; python_version > '3'  # http\nidna==3.7\n")


def test_finding_whose_line_moved_is_reported_not_guessed(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("six==1.0\n")
    (edit,) = fixed(path, [mismatch("idna", 1, "3.7")], env("idna==3.7"))
    assert not edit.changed
    assert "run drift-guard again" in edit.messages[0]


# -------------------------------------------------------------------- missing


def test_missing_removes_the_line_and_its_continuations_only(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("# header\nsix==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
                    "# about idna\nidna==3.7\n\nattrs==23.1.0\n")
    (edit,) = fixed(path, [missing("six", 2)], env())
    assert edit.new.decode() == "# header\n# about idna\nidna==3.7\n\nattrs==23.1.0\n"


def test_missing_takes_its_pip_compile_via_block_with_it(project: Path) -> None:
    text = ("click==8.1.7\n    # via flask\nmarkupsafe==2.1.3\n    # via\n    #   jinja2\n"
            "    #   werkzeug\n# a comment of the user's\nwerkzeug==3.0.1\n    # via flask\n")
    path = project / "requirements.txt"
    path.write_text(text)
    (edit,) = fixed(path, [missing("markupsafe", 3), missing("werkzeug", 8)], env())
    assert edit.new.decode() == "click==8.1.7\n    # via flask\n# a comment of the user's\n"


def test_missing_editable_takes_the_pip_freeze_note_above_it(project: Path) -> None:
    (project / "lib").mkdir()
    (project / "lib" / "setup.py").write_text("")
    path = project / "requirements.txt"
    path.write_text("# Editable install with no version control (lib==0.1)\n-e ./lib\nsix==1.0\n")
    edits = fixed(path, [Finding("missing", "lib", None, "", "requirements.txt", 2)], env())
    assert new_text(edits) == "six==1.0\n"


def test_removing_the_last_line_keeps_the_missing_final_newline_missing(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\r\nidna==3.7")
    (edit,) = fixed(path, [missing("idna", 2)], env())
    assert edit.new == b"six==1.0"


# ----------------------------------------------------------------- undeclared


def test_undeclared_goes_to_its_sorted_place_in_a_sorted_file(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("# pip-compile output\n-e .\nattrs==23.1.0\n    # via x\nFlask==3.0.3\n"
                    "# the end\n")
    (project / "setup.py").write_text("")
    findings = [undeclared("boto3", "1.34.0"), undeclared("zope-interface", "6.1"),
                undeclared("aaa", "1.0"), undeclared("click", "8.1.7")]
    installed = env("boto3==1.34.0", "zope.interface==6.1", "AAA==1.0", "click==8.1.7")
    (edit,) = fixed(path, findings, installed)
    assert edit.new.decode() == (
        "# pip-compile output\n-e .\nAAA==1.0\nattrs==23.1.0\n    # via x\nboto3==1.34.0\n"
        "click==8.1.7\nFlask==3.0.3\nzope.interface==6.1\n# the end\n")


def test_undeclared_goes_to_the_end_of_an_unsorted_file(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_bytes(b"\xef\xbb\xbfzope==1.0\r\nattrs==23.1.0\r\n# end\r\n")
    (edit,) = fixed(path, [undeclared("boto3", "1.34.0")], env("boto3==1.34.0"))
    assert edit.new == b"\xef\xbb\xbfzope==1.0\r\nattrs==23.1.0\r\n# end\r\nboto3==1.34.0\r\n"


def test_undeclared_after_a_last_line_without_newline_keeps_it_unmerged(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_bytes(b"zope==1.0\r\nattrs==23.1.0")
    (edit,) = fixed(path, [undeclared("boto3", "1.34.0")], env("boto3==1.34.0"))
    assert edit.new == b"zope==1.0\r\nattrs==23.1.0\r\nboto3==1.34.0"


def test_undeclared_after_a_dangling_continuation_does_not_join_it(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("zope==1.0\nattrs==23.1.0 \\\n")
    (edit,) = fixed(path, [undeclared("boto3", "1.34.0")], env("boto3==1.34.0"))
    assert edit.new.decode() == "zope==1.0\nattrs==23.1.0 \\\n\nboto3==1.34.0\n"
    path.write_bytes(edit.new)
    assert [r.name for r in reqs.read(str(path), CTX).requirements] == ["zope", "attrs", "boto3"]


def test_undeclared_in_utf16_file_is_written_in_utf16(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_bytes("# café\nsix==1.0\n".encode("utf-16"))
    (edit,) = fixed(path, [undeclared("idna", "3.7")], env("idna==3.7"))
    assert edit.new == "# café\nidna==3.7\nsix==1.0\n".encode("utf-16")


def test_undeclared_is_not_added_to_a_file_that_uses_hashes(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("--require-hashes\nsix==1.0 --hash=sha256:aa\n")
    (edit,) = fixed(path, [undeclared("idna", "3.7")], env("idna==3.7"))
    assert not edit.changed
    assert "idna==3.7 with its hashes" in edit.messages[0]


def test_undeclared_goes_to_the_first_file_named(project: Path) -> None:
    (project / "requirements.txt").write_text("six==1.0\n")
    (project / "dev.txt").write_text("pytest==8.0\n")
    sources = [reqs.read("dev.txt", CTX), reqs.read("requirements.txt", CTX)]
    edits = fix.plan_fix(sources, [undeclared("idna", "3.7")], env("idna==3.7"), root=".")
    assert [(e.path, e.new.decode()) for e in edits] == [("dev.txt", "idna==3.7\npytest==8.0\n")]


def _dist_info(tmp: Path, name: str, direct_url: Mapping[str, object]) -> str:
    info = tmp / "site" / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "direct_url.json").write_text(json.dumps(direct_url))
    return str(info)


def test_freeze_line_writes_direct_references_as_pip_freeze_but_relative_inside_the_project(
        project: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other = tmp_path_factory.mktemp("elsewhere")
    (project / "pkgs" / "tool").mkdir(parents=True)
    root = str(project)
    cases = {
        "-e .": {"url": project.as_uri(), "dir_info": {"editable": True}},
        "-e ./pkgs/tool": {"url": (project / "pkgs" / "tool").as_uri(),
                           "dir_info": {"editable": True}},
        "./pkgs/tool": {"url": (project / "pkgs" / "tool").as_uri(), "dir_info": {}},
        f"-e {other}": {"url": other.as_uri(), "dir_info": {"editable": True}},
        f"Thing @ {other.as_uri()}/thing-1.0.tar.gz#sha256=ab": {
            "url": f"{other.as_uri()}/thing-1.0.tar.gz", "archive_info": {"hash": "sha256=ab"}},
        "Thing @ git+https://example.com/t.git@0123abc#subdirectory=sub": {
            "url": "https://example.com/t.git", "subdirectory": "sub",
            "vcs_info": {"vcs": "git", "commit_id": "0123abc", "requested_revision": "main"}},
    }
    for i, (expected, direct_url) in enumerate(cases.items()):
        path = _dist_info(project / str(i), "thing", direct_url)
        assert fix.freeze_line(inst("Thing", "1.0", path), root) == expected
    assert fix.freeze_line(inst("Thing", "1.0"), root) == "Thing==1.0"


# ---------------------------------------------------------- includes and root


def test_a_requirement_in_an_included_file_is_fixed_there(project: Path) -> None:
    (project / "requirements.txt").write_bytes(b"-r base.txt\r\nsix==1.0\r\n")
    (project / "base.txt").write_text("idna==3.0  # old\nattrs==1\n")
    findings = [mismatch("idna", 1, "3.7", "base.txt"), missing("attrs", 2, "base.txt")]
    edits = fixed(project / "requirements.txt", findings, env("idna==3.7"))
    assert [(e.path, e.changed) for e in edits] == [("base.txt", True)]
    assert edits[0].new == b"idna==3.7  # old\n"


def test_a_file_outside_the_project_is_never_edited(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.txt").write_text("idna==3.0\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("-r ../shared/common.txt\n")
    monkeypatch.chdir(tmp_path / "app")
    source = reqs.read("requirements.txt", CTX)
    common = str(tmp_path / "shared" / "common.txt")
    edits = fix.plan_fix([source], [mismatch("idna", 1, "3.7", common)], env("idna==3.7"),
                         root=str(tmp_path / "app"))
    assert not any(e.changed for e in edits)
    (message,) = [m for e in edits for m in e.messages]
    assert message.startswith(f"{common}:1: idna: mismatch")
    assert "outside the project" in message


# ------------------------------------------------------------ diff and apply


def test_unified_diff_shows_relative_paths_and_a_missing_final_newline(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_bytes(b"six==1.0\nidna==3.0")
    before = path.read_bytes()
    edits = fixed(path, [mismatch("idna", 2, "3.7")], env("idna==3.7"))
    diff = fix.unified_diff(edits)
    assert diff == ("--- a/requirements.txt\n+++ b/requirements.txt\n@@ -1,2 +1,2 @@\n"
                    " six==1.0\n-idna==3.0\n\\ No newline at end of file\n+idna==3.7\n"
                    "\\ No newline at end of file\n")
    assert path.read_bytes() == before


def test_apply_writes_atomically_keeping_the_mode_and_symlink(project: Path) -> None:
    real = project / "real-requirements.txt"
    real.write_text("six==1.0\n")
    real.chmod(0o640)
    link = project / "requirements.txt"
    link.symlink_to(real.name)
    edits = fixed(link, [mismatch("six", 1, "1.16.0")], env("six==1.16.0"))
    fix.apply(edits)
    assert link.is_symlink()
    assert real.read_text() == "six==1.16.0\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(p.name for p in project.iterdir()) == ["real-requirements.txt",
                                                         "requirements.txt"]


def test_apply_writes_nothing_when_a_file_changed_since_it_was_read(project: Path) -> None:
    (project / "requirements.txt").write_text("-r base.txt\nsix==1.0\n")
    (project / "base.txt").write_text("idna==3.0\n")
    findings = [mismatch("six", 2, "1.16.0"), mismatch("idna", 1, "3.7", "base.txt")]
    edits = fixed(project / "requirements.txt", findings, env("six==1.16.0", "idna==3.7"))
    (project / "base.txt").write_text("idna==3.0\n# edited meanwhile\n")
    with pytest.raises(DriftGuardError) as info:
        fix.apply(edits)
    assert info.value.path == "base.txt"
    assert "nothing was written" in info.value.message
    assert (project / "requirements.txt").read_text() == "-r base.txt\nsix==1.0\n"


def test_a_file_named_twice_is_fixed_once(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("six==1.0\n")
    source = reqs.read(str(path), CTX)
    findings = [mismatch("six", 1, "1.16.0"), undeclared("idna", "3.7")] * 2
    (edit,) = fix.plan_fix([source, source], findings, env("six==1.16.0", "idna==3.7"),
                           root=str(project))
    assert edit.new == b"idna==3.7\nsix==1.16.0\n"


def test_several_findings_in_one_file_are_applied_together(project: Path) -> None:
    path = project / "requirements.txt"
    path.write_text("b==1\nc==1\nd==1\n")
    findings = [mismatch("b", 1, "2"), missing("c", 2), undeclared("a", "1"),
                undeclared("e", "5")]
    edits = fixed(path, findings, env("a==1", "b==2", "d==1", "e==5"))
    fix.apply(edits)
    assert path.read_text() == "a==1\nb==2\nd==1\ne==5\n"


# ----------------------------------------------------- property: one span only

_name_pool = [f"pkg{i}" for i in range(12)]


@st.composite
def _document(draw: st.DrawFn) -> bytes:
    """A requirements file full of comments, continuations, options, markers, mixed line
    endings, maybe a BOM, maybe no final newline."""
    names = draw(st.permutations(_name_pool))[: draw(st.integers(1, 8))]
    physical: List[str] = []
    for name in names:
        for _ in range(draw(st.integers(0, 2))):
            physical.append(draw(st.sampled_from(
                ["# a comment", "", "   ", "--index-url https://x/simple", "-f ./wheels",
                 "# comment ending in \\", "--pre"])))
        version = f"{draw(st.integers(0, 9))}.{draw(st.integers(0, 9))}"
        layout = draw(st.integers(0, 5))
        if layout == 0:
            physical.append(f"{name}=={version}")
        elif layout == 1:
            physical.append(f"{name}[x] == {version} ; python_version > '3'  # note")
        elif layout == 2:
            physical += [f"{name}=={version} \\", "    ; sys_platform != 'win32'"]
        elif layout == 3:
            physical += [f"{name} \\", f"  >={version},<99 \\", "  ; os_name != 'nt'  # why"]
        elif layout == 4:
            physical += [f"{name}>={version}", "    # via", "    #   other"]
        else:
            physical.append(f"{name} (=={version})")
    seps = [draw(st.sampled_from(["\n", "\r\n", "\r"])) for _ in physical]
    text = "".join(p + s for p, s in zip(physical, seps))
    if draw(st.booleans()):
        text = text[: -len(seps[-1])]
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode()


def _physical(data: bytes) -> List[reqs.Line]:
    return reqs.split_lines(data.decode("utf-8-sig"))


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_document(), pick=st.integers(0, 100), kind=st.sampled_from(["mismatch", "missing",
                                                                        "undeclared"]))
def test_fixing_one_finding_changes_only_its_span(project: Path, doc: bytes, pick: int,
                                                  kind: str) -> None:
    data = doc
    path = project / "requirements.txt"
    path.write_bytes(data)
    source = reqs.read(str(path), CTX)
    req = source.requirements[pick % len(source.requirements)]
    old = _physical(data)
    assert req.line is not None
    assert req.end_line is not None
    start, end = req.line - 1, req.end_line - 1
    if kind == "mismatch":
        finding = mismatch(req.name, req.line, "42.0")
        installed = env(f"{req.name}==42.0")
    elif kind == "missing":
        finding = missing(req.name, req.line)
        installed = env()
    else:
        finding = undeclared("zzz-new", "1.0")
        installed = env("zzz-new==1.0")
    (edit,) = fix.plan_fix([source], [finding], installed, root=str(project))
    assert edit.new.startswith(data[:3] if data.startswith(b"\xef\xbb\xbf") else b"")
    new = _physical(edit.new)
    texts_old = [ln.text for ln in old]
    texts_new = [ln.text for ln in new]

    if kind == "mismatch":
        assert len(new) == len(old)
        assert new[:start] == old[:start]
        assert new[end + 1:] == old[end + 1:]
        assert texts_new[start:end + 1] != texts_old[start:end + 1]
        assert [ln.ending for ln in new] == [ln.ending for ln in old]
    elif kind == "missing":
        removed = len(old) - len(new)
        assert removed >= end - start + 1
        assert texts_new == texts_old[:start] + texts_old[start + removed:]
        assert all(t.lstrip().startswith("#") for t in texts_old[end + 1:start + removed])
        kept = old[:start] + old[start + removed:]
        # A blank LF line that the deletion brings right after a lone-CR line takes a CR
        # ending: "\r" + "\n" would read back as one CRLF and the blank line would vanish.
        for j in range(len(kept) - 1):
            if kept[j].ending == "\r" and kept[j + 1] == reqs.Line("", "\n"):
                kept[j + 1] = reqs.Line("", "\r")
        # Endings stay, except that a missing final newline stays missing (unless the new
        # last line is blank: it would vanish).
        assert new[:-1] == kept[:-1]
        if new:
            lacking = not old[-1].ending and kept[-1].text
            assert new[-1].ending == ("" if lacking else kept[-1].ending)
    else:
        assert len(new) == len(old) + 1
        (added,) = [i for i, t in enumerate(texts_new) if t == "zzz-new==1.0"]
        assert texts_new[:added] + texts_new[added + 1:] == texts_old
        if added < len(old):
            assert new[:added] == old[:added]
            assert new[added + 1:] == old[added:]
        else:  # at the end: only the old last line may gain the ending it lacked
            newline = reqs.parse(str(path)).newline
            assert new[:added - 1] == old[:-1]
            assert new[added - 1] == reqs.Line(old[-1].text, old[-1].ending or newline)
            assert new[-1].ending == ("" if not old[-1].ending else newline)
    before = reqs.read(str(path), CTX)
    path.write_bytes(edit.new)
    after = {r.name: r for r in reqs.read(str(path), CTX).requirements}
    if kind == "mismatch":
        assert after[req.name].specifier == "==42.0"
    elif kind == "missing":
        assert req.name not in after
    else:
        assert after["zzz-new"].specifier == "==1.0"
    untouched = {r.name: r for r in before.requirements if r.name != req.name}
    for name, r in untouched.items():
        assert (after[name].specifier, after[name].marker) == (r.specifier, r.marker)


# ------------------------------------------------------------------- end to end


def _report(venv_prefix: Path, requirements: Path) -> List[Finding]:
    """Findings of the real pipeline: the venv's files, the reader, compare()."""
    from drift_guard.compare import compare
    from drift_guard.environment import environment_at
    from drift_guard.installed import list_installed
    from drift_guard.markers import target_environment

    environment = environment_at(str(venv_prefix), "--venv")
    installed = list_installed(environment)
    source = reqs.read(str(requirements), CTX)
    return compare(installed, [source], target_environment(environment))


def _declared_pins(requirements: Path) -> Dict[str, str]:
    return {r.name: r.specifier for r in reqs.read(str(requirements), CTX).requirements}


def _freeze_pins(venv: Venv) -> Dict[str, str]:
    skip = {"pip", "setuptools", "wheel"}
    return {canonical(n): f"=={v}" for n, v in pip_list_freeze(venv).items()
            if canonical(n) not in skip}


@pytest.mark.e2e
def test_fix_on_a_real_venv_reproduces_the_environment(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "Alpha", "1.0")
    write_wheel(wheels, "Alpha", "2.0")
    write_wheel(wheels, "beta", "1.0", requires=["gamma>=1"])
    write_wheel(wheels, "gamma", "1.0")
    write_wheel(wheels, "Delta_Pkg", "1.0")
    write_wheel(wheels, "epsilon", "1.0")
    venv = make_venv(tmp_path / "venv")
    pip(venv, "install", "Alpha==1.0", "beta==1.0", "epsilon==1.0", find_links=wheels)

    work = tmp_path / "proj"
    work.mkdir()
    monkeypatch.chdir(work)
    requirements = work / "requirements.txt"
    original = (b"# Project requirements\r\n"
                b"-r requirements-base.txt\r\n"
                b"\r\n"
                b"Alpha==1.0  # pinned: API v1\r\n"
                b"beta==1.0\r\n"
                b"# delta-pkg==0.9  (commented out)\r\n"
                b"gamma==1.0\r\n")
    requirements.write_bytes(original)
    base = work / "requirements-base.txt"
    base.write_bytes(b"epsilon==1.0\n")
    assert _report(venv.path, requirements) == []

    # Drift: a package installed by hand, and a pin that moved.
    pip(venv, "install", "Delta_Pkg==1.0", find_links=wheels)
    pip(venv, "install", "Alpha==2.0", find_links=wheels)
    findings = _report(venv.path, requirements)
    assert sorted((f.kind, f.name) for f in findings) == [("mismatch", "alpha"),
                                                          ("undeclared", "delta-pkg")]

    from drift_guard.environment import environment_at
    from drift_guard.installed import list_installed

    installed = list_installed(environment_at(str(venv.path), "--venv"))
    source = reqs.read("requirements.txt", CTX)
    edits = fix.plan_fix([source], findings, installed, root=str(work))
    diff = fix.unified_diff(edits)
    assert "-Alpha==1.0  # pinned: API v1\r\n+Alpha==2.0  # pinned: API v1\r\n" in diff
    assert "+Delta_Pkg==1.0\r\n" in diff
    assert requirements.read_bytes() == original  # --diff touches nothing

    fix.apply(edits)
    assert requirements.read_bytes() == (b"# Project requirements\r\n"
                                         b"-r requirements-base.txt\r\n"
                                         b"\r\n"
                                         b"Alpha==2.0  # pinned: API v1\r\n"
                                         b"beta==1.0\r\n"
                                         b"Delta_Pkg==1.0\r\n"
                                         b"# delta-pkg==0.9  (commented out)\r\n"
                                         b"gamma==1.0\r\n")
    assert base.read_bytes() == b"epsilon==1.0\n"
    assert _report(venv.path, requirements) == []
    assert _declared_pins(requirements) == _freeze_pins(venv)

    fresh = make_venv(tmp_path / "fresh")
    pip(fresh, "install", "-r", str(requirements), find_links=wheels)
    assert pip_list_freeze(fresh) == pip_list_freeze(venv)


@pytest.mark.e2e
def test_cli_diff_then_fix_then_clean_recheck(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "alpha", "1.0")
    write_wheel(wheels, "alpha", "2.0")
    write_wheel(wheels, "extra-tool", "0.3")
    venv = make_venv(tmp_path / "venv")
    pip(venv, "install", "alpha==1.0", find_links=wheels)
    work = tmp_path / "proj"
    (work / "reqs").mkdir(parents=True)
    original = b"# app\r\n-r reqs/base.txt\r\nalpha==1.0  # keep this comment\r\n"
    (work / "requirements.txt").write_bytes(original)
    (work / "reqs" / "base.txt").write_bytes(b"# nothing pinned here yet\n")
    pip(venv, "install", "extra-tool==0.3", "alpha==2.0", find_links=wheels)

    args = ["requirements.txt", "--python", str(venv.python)]
    path = {"PYTHONPATH": str(ROOT)}  # drift-guard need not be installed to test it
    diff = run_cli([*args, "--diff"], cwd=work, env=path)
    assert diff.returncode == 1, diff.stderr
    assert "+alpha==2.0  # keep this comment" in diff.stdout
    assert (work / "requirements.txt").read_bytes() == original

    fixed_run = run_cli([*args, "--fix"], cwd=work, env=path)
    assert fixed_run.returncode == 1, fixed_run.stderr
    assert (work / "requirements.txt").read_bytes() == (
        b"# app\r\n-r reqs/base.txt\r\nalpha==2.0  # keep this comment\r\nextra-tool==0.3\r\n")
    assert (work / "reqs" / "base.txt").read_bytes() == b"# nothing pinned here yet\n"
    recheck = run_cli(args, cwd=work, env=path)
    assert recheck.returncode == 0, recheck.stdout + recheck.stderr


# ------------------------------------------------------------------- fixtures

PIP_COMPILE = Path(__file__).resolve().parent.parent / "fixtures" / "requirements" / (
    "pip-compile-hashes")


def test_pip_compile_hashed_file_loses_a_missing_block_and_keeps_hashed_pins(
        project: Path) -> None:
    path = project / "requirements.txt"
    original = (PIP_COMPILE / "requirements.txt").read_text()
    path.write_text(original)
    source = reqs.read(str(path), CTX)
    by = {r.name: r for r in source.requirements}
    findings = [missing("markupsafe", by["markupsafe"].line),
                mismatch("flask", by["flask"].line, "3.1.0"),
                undeclared("rich", "13.7.1")]
    (edit,) = fix.plan_fix([source], findings, env("flask==3.1.0", "rich==13.7.1"),
                           root=str(project))
    lines = original.splitlines(True)
    start = (by["markupsafe"].line or 0) - 1
    # markupsafe's pin, its two hashes and its three-line `# via` block: six lines.
    assert edit.new.decode() == "".join(lines[:start] + lines[start + 6:])
    assert "flask: installed 3.1.0" in edit.messages[0]
    assert "--generate-hashes" in edit.messages[0]
    assert "rich==13.7.1 with its hashes" in edit.messages[1]


def test_versions_pep_440_cannot_parse_are_pinned_with_arbitrary_equality(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("legacy==1.0\n")
    source = reqs.read(str(path), CTX)
    installed = {
        "legacy": Installed("legacy", "legacy", "1.0.weird-build", (), str(tmp_path / "x")),
        "odd": Installed("odd", "Odd", "not a version", (), str(tmp_path / "y")),
    }
    findings = [
        Finding("mismatch", "legacy", "1.0.weird-build", "==1.0", str(path), 1, end_line=1),
        Finding("undeclared", "odd", "not a version", None),
    ]
    (edit,) = fix.plan_fix([source], findings, installed, root=str(tmp_path))
    assert edit.new == b"legacy===1.0.weird-build\nOdd===not a version\n"


# ------------------------------------------------------------------- property: fix, then clean

# The declared set before the drift: a 1.0, b 1.0 (needs c), c 1.0, d 1.0. Each mode writes it
# as users do; files maps a name to its content, "args" are the options of every run.
_MODES: Dict[str, Dict[str, str]] = {
    "frozen": {"requirements.txt": "a==1.0\nb==1.0\nc==1.0\nd==1.0\n"},
    "top-level": {"requirements.txt": "# direct dependencies only\na>=1\nb\nd==1.0\n"},
    "include": {"requirements.txt": "-r base.txt\na==1.0\n",
                "base.txt": "b==1.0\r\nc==1.0\r\nd==1.0\r\n"},
    "constraints": {"requirements.txt": "-c constraints.txt\na\nb\nd\n",
                    "constraints.txt": "a==1.0\nc==1.0\n"},
    "duplicates": {"requirements.txt": "a==1.0\nb==1.0\nc==1.0\nd==1.0\n-r more.txt\n",
                   "more.txt": "d==1.0\na==1.0\n"},
    "require-pins": {"requirements.txt": "a==1.0\nb>=1\nc==1.0\nd==1.0\n",
                     "args": "--require-pins"},
    "require-pins-top-level": {"requirements.txt": "a>=1\nb\nd==1.0\n",
                               "args": "--require-pins"},
}
_FROZEN_MODES = ("frozen", "include", "duplicates", "require-pins")
_DRIFTS = ("upgrade a", "remove d", "add e", "upgrade c")


@pytest.fixture(scope="module")
def drift_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("drift-wheels")
    for name, version, requires in [("a", "1.0", []), ("a", "2.0", []),
                                    ("b", "1.0", ["c>=1"]), ("c", "1.0", []), ("c", "2.0", []),
                                    ("d", "1.0", []), ("e", "1.0", [])]:
        write_wheel(wheels, name, version, requires=requires)
    return wheels


@pytest.fixture(scope="module")
def drifted_venv(tmp_path_factory: pytest.TempPathFactory,
                 drift_wheels: Path) -> Callable[[frozenset[str]], Venv]:
    made: Dict[frozenset[str], Venv] = {}

    def get(drifts: frozenset[str]) -> Venv:
        if drifts not in made:
            venv = make_venv(tmp_path_factory.mktemp("drifted") / "venv", with_pip=False)
            pip(venv, "install", "a==1.0", "b==1.0", "c==1.0", "d==1.0", find_links=drift_wheels)
            wanted = [r for d, r in (("upgrade a", "a==2.0"), ("add e", "e==1.0"),
                                     ("upgrade c", "c==2.0")) if d in drifts]
            if wanted:
                pip(venv, "install", *wanted, find_links=drift_wheels)
            if "remove d" in drifts:
                pip(venv, "uninstall", "-y", "d")
            made[drifts] = venv
        return made[drifts]

    return get


@pytest.mark.e2e
# Each example builds real venvs: few examples, and no shrinking (the failing case is
# printed as drawn).
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mode=st.sampled_from(sorted(_MODES)),
       drifts=st.frozensets(st.sampled_from(_DRIFTS), min_size=1))
def test_after_fix_the_same_command_is_clean_and_the_file_installs_the_environment(
        tmp_path_factory: pytest.TempPathFactory, drift_wheels: Path,
        drifted_venv: Callable[[frozenset[str]], Venv], mode: str,
        drifts: frozenset[str]) -> None:
    venv = drifted_venv(drifts)
    work = tmp_path_factory.mktemp("work")
    spec = dict(_MODES[mode])
    args = ["--venv", str(venv.path), *spec.pop("args", "").split()]
    for name, content in spec.items():
        (work / name).write_bytes(content.encode())
    before = {name: (work / name).read_bytes() for name in spec}
    env = {"PYTHONPATH": str(ROOT)}

    fixed_run = run_cli([*args, "--fix"], cwd=work, env=env)
    if fixed_run.returncode == 0:  # a top-level file that the drift still satisfies
        assert mode not in _FROZEN_MODES, fixed_run.stdout
        assert {name: (work / name).read_bytes() for name in spec} == before
    elif fixed_run.returncode == 2:
        # The one refusal this matrix can meet: pinning every line of a top-level file would
        # make it a frozen one that does not list c. Then nothing at all was written.
        assert mode == "require-pins-top-level", fixed_run.stderr
        assert fixed_run.stderr.count("\n") == 1
        assert {name: (work / name).read_bytes() for name in spec} == before
        return
    else:
        assert fixed_run.returncode == 1, fixed_run.stdout + fixed_run.stderr
        assert fixed_run.stderr == ""
    recheck = run_cli(args, cwd=work, env=env)
    assert recheck.returncode == 0, recheck.stdout + recheck.stderr

    fresh = make_venv(work / "fresh", with_pip=False)
    pip(fresh, "install", "-r", str(work / "requirements.txt"), find_links=drift_wheels)
    if mode in _FROZEN_MODES:
        assert pip_list_freeze(fresh) == pip_list_freeze(venv)
    else:  # a top-level file installs what satisfies it (newest versions), and re-checks clean
        fresh_check = run_cli(["--venv", str(fresh.path), *args[2:]], cwd=work, env=env)
        assert fresh_check.returncode == 0, fresh_check.stdout + fresh_check.stderr
