"""The listing's fast paths give exactly what its general paths give.

The common distribution (a `.dist-info` with a METADATA of plain LF-ended headers, a version
like `1.2.3`) is read without regular expressions and
with files opened relative to the directory's descriptor; everything else takes the general
path. Each fast piece is compared here with the general one on generated input.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift_guard import installed
from drift_guard.installed import (
    _NORMAL_VERSION,
    _fast_headers,
    _parse_headers,
    _parse_headers_in_general,
    _plain_release,
    list_installed,
)
from drift_guard.models import Environment

ROOT = Path(__file__).resolve().parent.parent

_FIELD = st.sampled_from([
    "Name", "Version", "Requires-Dist", "Metadata-Version", "Summary", "Classifier", "name",
    "VERSION", "requires-dist", "ReQuIrEs-DiSt", "Requireſ-Dist", "Versİon", "Versıon", "Nome",
    "X-Odd!~", "", "Not a field", "Name ", " Name", "Name\t", "Licen\u00e7e", "Requires-Dist-X",
])
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_VALUE = st.one_of(
    _TEXT,
    st.sampled_from(["pkg-a", "1.0", "b>=1 ; extra == 'x'", "", "  spaced  ", "İ", "ſ", "é"]),
)
_LINE = st.one_of(
    st.tuples(_FIELD, st.sampled_from([": ", ":", ":\t", " : ", ""]), _VALUE).map("".join),
    st.tuples(st.sampled_from([" ", "\t", "  "]), _VALUE).map("".join),  # a continuation
    _TEXT,
)


@settings(max_examples=1500, deadline=None)
@given(
    lines=st.lists(_LINE, max_size=10),
    end=st.sampled_from(["\n", "\n\n", "\n\nbody\nName: not-a-header\n", "", "\r\n\r\nb"]),
    newline=st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"]),
)
def test_fast_headers_read_what_the_general_path_reads(
    lines: list[str], end: str, newline: str
) -> None:
    data = (newline.join(lines) + end).encode("utf-8", "surrogatepass")
    fast = _fast_headers(data)
    if fast is not None:
        assert fast == _parse_headers_in_general(data)
    assert _parse_headers(data) == _parse_headers_in_general(data)


@settings(max_examples=500, deadline=None)
@given(data=st.binary(max_size=80))
def test_fast_headers_on_any_bytes(data: bytes) -> None:
    fast = _fast_headers(data)
    if fast is not None:
        assert fast == _parse_headers_in_general(data)


def test_fast_headers_take_the_common_metadata() -> None:
    """The fast path is the one taken for what installers write, folded lines included."""
    plain = (b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nSummary: s\n"
             b"Classifier: A :: B\nRequires-Dist: a>=1\nRequires-Dist: b ; extra == 'x'\n"
             b"License: line one\n        line two\nX-Unseen-Header: x\n\nbody\nName: no\n")
    headers = _fast_headers(plain)
    assert headers == _parse_headers_in_general(plain)
    assert headers == ("pkg", "1.0", ["a>=1", "b ; extra == 'x'"])
    folded = b"Name: pkg\nVersion: 1.0\nRequires-Dist: a;\n  python_version > '3'\n\n"
    assert _fast_headers(folded) == ("pkg", "1.0", ["a; python_version > '3'"])
    # A line that is no header ends them, as email ends them.
    broken = b"Name: pkg\nnot a header\nVersion: 1.0\n\n"
    assert _fast_headers(broken) == ("pkg", None, []) == _parse_headers_in_general(broken)
    # A header name of other than ASCII is no header (though `re` would match "ı" to "i").
    odd = "Name: pkg\nVersıon: 1\n\n".encode()
    assert _fast_headers(odd) == ("pkg", None, []) == _parse_headers_in_general(odd)
    # CRLF, as pip's own METADATA has it, is read here too; a lone CR goes the general way.
    crlf = b"Name: pkg\r\nVersion: 1\r\nRequires-Dist: a\r\n  ; extra == 'x'\r\n\r\nbody"
    assert _fast_headers(crlf) == ("pkg", "1", ["a ; extra == 'x'"])
    assert _fast_headers(crlf) == _parse_headers_in_general(crlf)
    assert _fast_headers(b"Name: pkg\rVersion: 1\n\n") is None


_VERSIONS = st.one_of(
    st.text(st.sampled_from("0123456789."), max_size=12),
    st.text(st.sampled_from("0123456789.abrcpostdev+!\n"), max_size=12),
    st.text(max_size=8),
)


@settings(max_examples=1000, deadline=None)
@given(version=_VERSIONS)
def test_plain_release_is_a_part_of_the_normal_form(version: str) -> None:
    if _plain_release(version):
        assert _NORMAL_VERSION.match(version)
    if version and all(p.isascii() and p.isdigit() and (p == "0" or p[0] != "0")
                       for p in version.split(".")):
        assert _plain_release(version)


def _write(site: Path, folder: str, metadata: str, **files: str) -> None:
    info = site / folder
    info.mkdir(parents=True)
    (info / "METADATA").write_text(metadata)
    for name, text in files.items():
        (info / name.replace("_json", ".json").replace("_txt", ".txt")).write_text(text)


def test_listing_by_directory_descriptor_is_the_listing_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    _write(site, "plain-1.0.dist-info", "Name: plain\nVersion: 1.0\nRequires-Dist: a\n\n")
    _write(site, "Odd_Name-01.0.dist-info", "Name: Odd.Name\nVersion: 01.0\n\n")
    _write(site, "reqs-2.0.dist-info", "Name: reqs\nVersion: 2.0\n\n",
           requires_txt="a\n[x]\nb\n")
    _write(site, "edit-0.1.dist-info", "Name: edit\nVersion: 0.1\n\n",
           direct_url_json='{"url": "file:///src/edit", "dir_info": {"editable": true}}')
    _write(site, "crlf-3.dist-info", "Name: crlf\r\nVersion: 3\r\n\r\n")
    _write(site, "plain-2.0.dist-info", "Name: plain\nVersion: 2.0\n\n")  # a later copy
    (site / "legacy.egg-info").mkdir()
    (site / "legacy.egg-info" / "PKG-INFO").write_text("Name: legacy\nVersion: 1\n\n")
    (site / "develop.egg-link").write_text(str(tmp_path / "src") + "\n.")
    _write(tmp_path / "src", "develop.egg-info", "Name: develop\nVersion: 0.0.1\n\n")
    (site / "pkg-9.dist-info").mkdir()  # no metadata: pip names it after the directory
    env = Environment("/x", None, "3.12.1", "t", (str(site),))
    warnings: list[str] = []
    fast = list_installed(env, warnings)
    monkeypatch.setattr(installed, "_DIRECTORY_FDS", False)
    slow_warnings: list[str] = []
    assert list_installed(env, slow_warnings) == fast
    assert slow_warnings == warnings
    assert {n: d.version for n, d in fast.items()} == {
        "crlf": "3", "develop": "0.0.1", "edit": "0.1", "legacy": "1", "odd-name": "1.0",
        "plain": "1.0", "pkg": "9", "reqs": "2.0",
    }
    assert fast["edit"].editable and fast["develop"].editable
    assert fast["reqs"].requires == ("a", 'b ; extra == "x"')


def test_listing_plain_distributions_imports_no_regular_expressions(tmp_path: Path) -> None:
    for i in range(5):
        _write(tmp_path, f"pkg{i}-1.{i}.0.dist-info",
               f"Metadata-Version: 2.1\nName: pkg{i}\nVersion: 1.{i}.0\n"
               f"Requires-Dist: pkg{i + 1}>=1\n\nbody\n")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from drift_guard.installed import list_installed
        from drift_guard.models import Environment
        found = list_installed(Environment("/x", None, "3.12.1", "t", ({str(tmp_path)!r},)))
        assert len(found) == 5, found
        print("re" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-S", "-I", "-c", code], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": ""})
    assert out.stdout.strip() == "False"
