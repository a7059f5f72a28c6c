"""The string tests that keep `re` off a clean check decide exactly what their patterns decide.

Each one stands for a regular expression that still exists (and still decides the text the
string test leaves to it); these tests hold the two to the same answers on generated text
built from the characters that matter to them, and on text the pattern accepts.
"""

from __future__ import annotations

import os
import re
from typing import List, Optional, Tuple

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from drift_guard import _names, environment, requires
from drift_guard.readers import requirements

_NAME_ALPHABET = "aZz09._- \t\n\u212a\u017fé!"
_VERSION_ALPHABET = "0123456789.!+abcdeoprstv-_\n \u0663"
_LINE_ALPHABET = "abXYz019._-[](),;@<>=!~* \t\n\"'"
_MARKER_ALPHABET = "andorpythonversys_platfm_ \t\n()<>=!~\"'013.Ax9"


def _versions() -> st.SearchStrategy[str]:
    number = st.sampled_from(["0", "1", "7", "10", "01", "2024", ""])
    release = st.lists(number, min_size=1, max_size=4).map(".".join)
    pre = st.sampled_from(["", "a1", "b0", "rc2", "rc", "c1", "a01"])
    post = st.sampled_from(["", ".post1", ".post", ".post01", "post1"])
    dev = st.sampled_from(["", ".dev0", ".dev", "dev1"])
    local = st.sampled_from(["", "+abc", "+a.1", "+A", "+", "+a..b", "+a+b"])
    epoch = st.sampled_from(["", "1!", "0!", "01!", "!"])
    return st.tuples(epoch, release, pre, post, dev, local).map("".join)


@given(st.one_of(st.text(_NAME_ALPHABET, max_size=8),
                 st.from_regex(_names.VALID_NAME.pattern, fullmatch=True)))
@example("foo\n")
@example("\u212a")
@settings(max_examples=1500, deadline=None)
def test_valid_name_is_the_pattern(name: str) -> None:
    assert _names.valid_name(name) is (re.match(_names.VALID_NAME.pattern, name) is not None)


@given(st.one_of(_versions(), st.text(_VERSION_ALPHABET, max_size=12),
                 st.from_regex(_names.CANONICAL_VERSION.pattern, fullmatch=True)))
@example("1.0\n")
@example("1.0a1.post2.dev3+abc.1")
@settings(max_examples=3000, deadline=None)
def test_canonical_version_is_the_pattern(version: str) -> None:
    expected = re.match(_names.CANONICAL_VERSION.pattern, version) is not None
    assert _names.canonical_version(version) is expected


@given(st.text("aB._-_-.Zz9", max_size=10))
@settings(deadline=None)
def test_canonical_is_packagings(name: str) -> None:
    assert _names.canonical(name) == canonicalize_name(name)


@given(st.text("0123456789.\n\u0663a", max_size=8))
@example("1.0\n")
@settings(deadline=None)
def test_a_release_is_what_the_pattern_reads_without_its_final_newline(text: str) -> None:
    by_pattern = re.match(r"^[0-9]+(?:\.[0-9]+)*$", text) is not None
    assert requires.is_release(text) is (by_pattern and not text.endswith("\n"))


def _common_lines() -> st.SearchStrategy[str]:
    name = st.sampled_from(["six", "Zope.Interface", "a_b-c", "x1"])
    extras = st.sampled_from(["", "[socks]", "[a, b]", " [x]", "[]", "[a;b]", "[a"])
    clause = st.tuples(st.sampled_from(["==", ">=", "<", "~=", "!=", "===", "<>", ""]),
                       st.sampled_from(["1", "1.2.3", "2.*", "1.0rc1", "1.0.post1", "x"]))
    spec = st.lists(clause.map("".join), max_size=3).map(",".join)
    wrapped = st.one_of(spec, spec.map(lambda s: f"({s})"), spec.map(lambda s: f" ( {s} ) "))
    marker = st.sampled_from(["", "; extra == 'a'", ';python_version<"3.8"', ";", "; ",
                              "; (os_name == 'nt')", "; a@b", "; x;y"])
    blank = st.sampled_from(["", " ", "\t"])
    return st.tuples(blank, name, extras, blank, wrapped, marker, blank).map("".join)


@given(st.one_of(_common_lines(), st.text(_LINE_ALPHABET, max_size=24)))
@example("name (>=1.0) ; extra == 'x'")
@example("a\n")
@settings(max_examples=3000, deadline=None)
def test_the_plain_requires_dist_reading_is_the_patterns(text: str) -> None:
    plain = requires._parse_plain(text)
    if plain is not None:
        assert plain == requires._parse_pattern(text)


@pytest.mark.parametrize("text", [
    "six", "urllib3<3,>=1.21.1", "idna (<4,>=2.5)", "requests[socks]>=2.0; extra == 'socks'",
    'typing-extensions>=4.0; python_version < "3.11"', "zope.interface ; os_name != 'nt'",
    "pytest ; (python_version >= '3.8') and extra == 'test'",
])
def test_the_usual_requires_dist_lines_take_the_plain_reading(text: str) -> None:
    dep = requires._parse_plain(text)
    assert dep is not None
    assert dep == requires._parse_pattern(text)


@given(st.text("~=!<>=123.* \t\nabrc", max_size=12))
@example("==1.0\n")
@example(" >= 1.2.* ")
@settings(max_examples=2000, deadline=None)
def test_clause_parts_are_the_patterns(part: str) -> None:
    found = re.match(requires._CLAUSE.pattern, part)
    expected = (found.group(1), found.group(2)) if found else None
    assert requires._clause_parts(part) == expected


def _tokens_by_pattern(text: str) -> Optional[List[Tuple[str, ...]]]:
    pattern = re.compile(requires._TOKEN.pattern)
    tokens: List[Tuple[str, ...]] = []
    pos = 0
    while pos < len(text):
        m = pattern.match(text, pos)
        if m is None:
            return None
        pos = m.end()
        if m.group(1) or m.group(2):
            tokens.append((m.group(1) or m.group(2),))
        elif m.group(3):
            tokens.append((m.group(3),))
        else:
            value = m.group(6) if m.group(6) is not None else m.group(7)
            tokens.append(("clause", m.group(4), m.group(5), value))
    return tokens


_MARKER_PIECES = st.sampled_from([
    "python_version", "sys_platform", "and", "or", "android", "orb", "and_x", "(", ")", " ",
    "\t", "==", "<=", "<", "!=", "<==", "~=", '"3.8"', "'linux'", '"a\'b"', "'x", "andX", "or9",
    "\n", "\u00a0",
])


@given(st.one_of(st.lists(_MARKER_PIECES, max_size=9).map("".join),
                 st.text(_MARKER_ALPHABET, max_size=20)))
@example('python_version < "3.8" and (os_name == \'nt\' or sys_platform != "x")')
@example("python_version <= '3.8'  ")
@settings(max_examples=3000, deadline=None)
def test_marker_tokens_are_the_patterns(text: str) -> None:
    assert requires._tokens(text) == _tokens_by_pattern(text)


_CFG = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?(?:\.(alpha|beta|candidate|final)\.(\d+))?")
_LEVELS = {"alpha": "a", "beta": "b", "candidate": "rc", "final": ""}


def _cfg_by_pattern(text: str) -> Optional[str]:
    m = _CFG.match(text.strip())
    if not m:
        return None
    major, minor, micro, level, serial = m.groups()
    version = f"{major}.{minor}.{micro or 0}"
    if level and level != "final":
        version += f"{_LEVELS[level]}{serial}"
    return version


@given(st.one_of(
    st.lists(st.sampled_from(["3", "12", "1", "", "final", "candidate", "alpha", "x", "0",
                              "1rc", " "]), max_size=6).map(".".join),
    st.text("0123456789.finalcd ", max_size=14)))
@example("3.13.0.candidate.1")
@example("3.12.final.0")
@example(" 3.11.7 ")
@settings(max_examples=2000, deadline=None)
def test_the_pyvenv_version_is_read_as_the_pattern_read_it(text: str) -> None:
    assert environment._cfg_version(text) == _cfg_by_pattern(text)


@given(st.text("pythony3.12t_", max_size=12))
@example("python3.13t")
@example("pypy3.10")
@settings(deadline=None)
def test_lib_directory_names_are_read_as_the_pattern_read_them(name: str) -> None:
    m = re.match(r"^(python|pypy)(\d+)\.(\d+)(t?)$", name)
    expected = f"{m.group(2)}.{m.group(3)}" if m and not name.endswith("\n") else None
    assert environment._lib_dir_version(name) == expected


@given(st.text("ab:/#[]e\t@.", max_size=12))
@example("//e[.com")
@settings(deadline=None)
def test_text_without_colon_or_slash_has_no_url_scheme(text: str) -> None:
    from urllib.parse import urlsplit

    if ":" not in text and "/" not in text:
        assert urlsplit(text).scheme == ""
        assert requirements._scheme(text) == ""


@given(st.text("# \t\u00a0x\\", max_size=8))
@settings(deadline=None)
def test_a_comment_line_is_the_patterns(text: str) -> None:
    assert requirements.is_comment_line(text) is (
        re.match(requirements.COMMENT.pattern, text) is not None)


@given(st.text("a-Z9_@%+=:,./'\" \t$`\\\n\u00e9\u0661", max_size=10))
@example("")
@example("it's")
@settings(deadline=None)
def test_shell_quoting_is_shlex_quote(arg: str) -> None:
    import shlex

    from drift_guard import advice

    assert advice._quote(arg) == shlex.quote(arg)


@given(st.text("ab<>%\r\n\t\x1b\x7f\x85\u202e\u200b \u00e9", max_size=10))
@settings(deadline=None)
def test_the_escapes_skip_only_text_their_patterns_leave_alone(value: str) -> None:
    from drift_guard.render import _escape

    assert _escape.text(value) == re.sub(_escape._UNSAFE.pattern, _escape._show, value)
    inline = re.sub(_escape._UNSAFE_INLINE.pattern, _escape._show, value)
    assert _escape.github_data(value) == (
        inline.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


@given(st.text("did you mean DID Marker needed by required BY x\u212a\u0130", max_size=30))
@settings(deadline=None)
def test_the_reason_prechecks_never_hide_a_match(reason: str) -> None:
    from drift_guard import advice

    for words, pattern in (("did you mean", advice._DID_YOU_MEAN), ("marker", advice._MARKER)):
        if re.search(pattern.pattern, reason):
            assert advice._may_say(reason, words)
    if re.search(advice._NEEDED_BY.pattern, reason):
        assert advice._may_say(reason, "needed by") or advice._may_say(reason, "required by")


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text("a\"\\\n\x00\u00e9\u202e\U0001f600 ")
    | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner)
    | st.dictionaries(st.text("ab\"\u00e9", max_size=3) | st.integers(), inner, max_size=3),
    max_leaves=12,
)


@given(_JSON_VALUES)
@settings(deadline=None)
def test_the_json_writer_writes_what_json_dumps_writes(value: object) -> None:
    import json

    from drift_guard.render._json import dumps

    assert dumps(value) == json.dumps(value, indent=2, ensure_ascii=True)


def _split_options_by_tokens(text: str) -> Tuple[str, str]:
    tokens = text.split(" ")
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), " ".join(tokens[i:])
    return text, ""


@given(st.text("a- \t=-", max_size=12))
@example("pkg==1.0  --hash=sha256:ab --hash=sha256:cd")
@example("-r x")
@settings(deadline=None)
def test_options_are_split_where_pips_tokens_split_them(text: str) -> None:
    assert requirements.split_options(text) == _split_options_by_tokens(text)


@given(st.lists(st.sampled_from(["--hash=sha256:ab12", "--hash=sha512:Z9", "--hash=md5:ab",
                                 "--hash=sha256:", "-c x", "--pre", "\t", " ", "  "]),
                max_size=6).map("".join))
@settings(deadline=None)
def test_hash_options_read_alike_by_both_paths(options: str) -> None:
    fast = requirements._HASHES_ONLY.match(options) is not None
    try:
        general = requirements.parse_options(options)
    except ValueError:
        assert not fast
        return
    if fast:
        words = requirements.shell_split(options)
        assert general == [("--hash", word.partition("=")[2]) for word in words]


@given(st.lists(st.text("ab*?[]/.t", min_size=1, max_size=5), max_size=4),
       st.lists(st.text("ab.t/", max_size=5), min_size=1, max_size=3).map("/".join))
@example([".*", "test_*.py", "venv"], "src/.venv/x.py")
@example(["*_test.py"], "a_test.py")
@settings(max_examples=2000, deadline=None)
def test_the_exclude_patterns_are_fnmatchs(patterns: List[str], path: str) -> None:
    from fnmatch import fnmatchcase

    from drift_guard.imports.files import _Excluder

    names, paths = [], []
    for pattern in (p.strip() for p in patterns):
        if not pattern:
            continue
        if "/" not in pattern.rstrip("/"):
            names.append(pattern.rstrip("/"))
        else:
            paths.append(pattern.lstrip("/").removesuffix("/**").rstrip("/"))
    directory, _, base = path.rpartition("/")
    parts = [*(directory.split("/") if directory else []), base]
    by_fnmatch = any(fnmatchcase(part, n) for part in parts for n in names) or any(
        fnmatchcase(path, p) or fnmatchcase(path, p + "/*")
        or (p.startswith("**/") and (fnmatchcase(path, p[3:]) or fnmatchcase(path, p[3:] + "/*")))
        for p in paths)
    assert _Excluder(patterns)(path) is by_fnmatch


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([
    "python_version", "sys_platform", "os_name", "platform_machine", "==", "!=", "<", ">=", "~=",
    "and", "or", '"win32"', "'linux'", "'3.8'", '"3.11"', '"3"', "'posix'", " ", "\t", "\x0c",
]), min_size=1, max_size=9))
def test_a_marker_is_judged_as_packaging_judges_it(tokens: List[str]) -> None:
    from packaging.markers import Marker

    from drift_guard import markers

    text = " ".join(tokens)
    env = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
           "os_name": "posix", "platform_machine": "x86_64"}
    try:
        expected = Marker(text).evaluate({**env, "extra": ""})
    except Exception:
        return  # refused by packaging: the reader's check names the file (tested elsewhere)
    markers._ANSWERS.clear()
    assert markers.evaluate(text, env) is expected


@given(st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "===", "=", "^"]),
       st.text("0123.*a", max_size=6))
@example("~=", "1")
@example("==", "1.*")
@example(">=", "1.*")
@settings(deadline=None)
def test_plain_specifier_clauses_are_what_packaging_takes(op: str, version: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from drift_guard.readers.pyproject import _plain_clause

    if _plain_clause(op, version):
        SpecifierSet(op + version)  # never refused
    else:
        try:
            SpecifierSet(op + version)
        except InvalidSpecifier:
            return
        # taken by packaging, left to it here: only shapes beyond a release number
        assert not (version.replace(".", "").isdigit() and op in ("==", ">=", "<=", "<", ">"))


@given(st.text("ab/ %#?é\\~:.\u2028_-Z9+@", max_size=12))
@example("/a b/ü#1")
@example("/srv/app_1/pkg-2.0~x")
@settings(deadline=None)
def test_file_urls_are_pathname2urls(path: str) -> None:
    from urllib.request import pathname2url

    from drift_guard.readers._toml import file_url

    assert file_url(path) == "file://" + pathname2url(os.path.abspath(path))


@given(st.one_of(st.text("aZz09_-.\" \t\né\u212a\u0663", max_size=8),
                 st.from_regex(r"[A-Za-z0-9_-]+", fullmatch=True)))
@example("")
@example("\u0663")
@example("a\n")
def test_a_bare_key_is_joined_as_the_pattern_joins_it(field: str) -> None:
    from drift_guard.readers._toml import join_key

    import json

    bare = re.fullmatch(r"[A-Za-z0-9_-]+", field) is not None
    quoted = json.dumps(field if len(field) <= 60 else field[:60] + "...")
    assert join_key("t", field) == ("t." + (field if bare else quoted))


@given(st.lists(st.tuples(st.sampled_from(["==", "!=", ">=", "<=", ">", "<", "~=", "===", ""]),
                          st.sampled_from(["3", "3.9", "3.11", "3.11.7", "3.12", "4.0", "3.*",
                                           "3.11.*", "3.9.0rc1", "2.7"])),
                min_size=0, max_size=3),
       st.sampled_from(["3.11.7", "3.9.0", "3.12.0", "3.13.0rc2", "3.11.7.post1", "2.7.18"]))
def test_the_python_constraint_is_judged_as_packaging_judges_it(
        clauses: List[Tuple[str, str]], python: str) -> None:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from drift_guard.readers.poetry_lock import _allows_python

    spec = ",".join(op + v for op, v in clauses)
    try:
        expected = SpecifierSet(spec).contains(python, prereleases=True)
    except InvalidSpecifier:
        with pytest.raises(ValueError):
            _allows_python(spec, python)
        return
    assert _allows_python(spec, python) is expected
