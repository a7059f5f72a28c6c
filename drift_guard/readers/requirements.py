"""Read pip requirements files exactly as pip does, and keep every byte for --fix.

The behaviour follows pip's `req/req_file.py` and `req/constructors.py` (read, not copied):
decode (BOM, then a PEP 263 comment in the first two lines, then UTF-8, then the locale's
encoding), split with `str.splitlines` (so `\\x0c`, `\\x1c`-`\\x1e`, U+2028 and friends end a
line too), join `\\` continuations (a comment line never continues), strip comments with
`(^|\\s+)#.*$` (so `pkg.zip#egg=x` survives), expand `${UPPER_CASE}` variables (unset or empty
ones stay literal), and split the options off at the first space-separated token starting with
`-`. Paths in `-r`/`-c` are relative to the including file; paths of projects and archives are
relative to the current directory (pip #8765), with the project directory and the file's own
directory tried next so a check run from elsewhere still finds them.

`parse()` gives the lossless document the fixer rewrites; `read()` walks the includes and gives
the `Source` the comparison needs. A plain `name==version` line never imports `packaging`.
"""

from __future__ import annotations

import os

from drift_guard._names import canonical, canonical_version, valid_name
from drift_guard._paths import display_path
from drift_guard._patterns import lazy
from drift_guard.errors import DriftGuardError
from drift_guard.models import ReadContext, Requirement, Source
from drift_guard.requires import normalize_marker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Dict,
        Iterable,
        Iterator,
        List,
        Mapping,
        NamedTuple,
        Optional,
        Sequence,
        Set,
        Tuple,
    )
else:
    from drift_guard._record import NamedTuple

if TYPE_CHECKING:
    from packaging.requirements import Requirement as PackagingRequirement

FORMAT = "requirements.txt"

COMMENT = lazy(r"(^|\s+)#.*$")
_ENV_VAR = lazy(r"\$\{([A-Z0-9_]+)\}")
_PEP263 = lazy(rb"coding[:=]\s*([-\w.]+)")

# Checked in this order: the UTF-16 LE BOM is a prefix of the UTF-32 LE one.
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)

# Every separator str.splitlines() honours ("\r\n" is matched first).
SEPARATORS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

_URL_SCHEMES = frozenset({
    "http", "https", "file", "ftp",
    "git+http", "git+https", "git+ssh", "git+git", "git+file",
    "hg+file", "hg+http", "hg+https", "hg+ssh", "hg+static-http",
    "svn+ssh", "svn+http", "svn+https", "svn+svn", "svn+file",
    "bzr+http", "bzr+https", "bzr+ssh", "bzr+sftp", "bzr+ftp", "bzr+lp", "bzr+file",
})
_VCS_SCHEMES = frozenset(s for s in _URL_SCHEMES if "+" in s)
_VCS_NAMES = ("git", "hg", "svn", "bzr")
_SCHEME = lazy(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_EGG = lazy(r"[#&]egg=([^&]*)")
_EXTRAS_SUFFIX = lazy(r"^(.+)(\[[^\]]+\])$")
_ARCHIVES = (".zip", ".whl", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tlz", ".tar.lz",
             ".tar.lzma", ".tar.gz", ".tgz", ".tar")
_OPERATORS = ("~=", "==", "!=", "<=", ">=", "<", ">", "===")
_STRONG_HASHES = ("sha256", "sha384", "sha512")
# Option text that is only `--hash=<strong algorithm>:<digest>` options (no quotes, no escapes).
_HASH_OPTION = r"--hash=(?:sha256|sha384|sha512):[0-9A-Za-z]+"
_HASHES_ONLY = lazy(rf"[ \t]*{_HASH_OPTION}(?:[ \t]+{_HASH_OPTION})*[ \t]*\Z")
_HASH_VALUE = lazy(r"--hash=(\S+)")

# The options pip 26 accepts in a requirements file: long form -> takes a value.
_LONG_OPTIONS = {
    "--index-url": True, "--pypi-url": True, "--extra-index-url": True, "--no-index": False,
    "--constraint": True, "--requirement": True, "--editable": True, "--find-links": True,
    "--no-binary": True, "--only-binary": True, "--prefer-binary": False,
    "--require-hashes": False, "--no-require-hashes": False, "--pre": False,
    "--all-releases": True, "--only-final": True, "--trusted-host": True,
    "--use-feature": True, "--hash": True, "--config-settings": True,
}
_SHORT_OPTIONS = {"-i": "--index-url", "-c": "--constraint", "-r": "--requirement",
                  "-e": "--editable", "-f": "--find-links", "-C": "--config-settings"}
_ALIASES = {"--pypi-url": "--index-url"}
# pip 26.3's --use-feature choices (current ones and the always-enabled ones it still accepts).
_FEATURES = ("fast-deps", "inprocess-build-deps", "venv-isolation", "truststore",
             "no-binary-enable-wheel-cache", "build-constraint")
# Options whose value pip's callback refuses when it starts with "-".
_NO_DASH_VALUE = {"--no-binary": "--no-binary / --only-binary",
                  "--only-binary": "--no-binary / --only-binary",
                  "--all-releases": "--all-releases / --only-final",
                  "--only-final": "--all-releases / --only-final"}
# Messages quote at most this much of the line they are about.
EXCERPT = 60
# A version or marker value with a number longer than this cannot be compared (Python refuses
# to convert longer digit strings to int since 3.11); it is bad input on every Python.
_DIGITS_LIMIT = 4300
_LONG_NUMBER = lazy(r"[0-9]{%d}" % (_DIGITS_LIMIT + 1))
# Expanding ${VAR}s may not make a logical line longer than this.
_EXPANDED_LIMIT = 64 * 1024 * 1024


class Line(NamedTuple):
    """One physical line: its text and its own line ending ("" on a last line without one)."""

    text: str
    ending: str


class Entry(NamedTuple):
    """One logical line as pip sees it, with the physical lines it spans."""

    kind: str
    """"requirement", "option", "include" (-r), "constraint" (-c), "comment" or "blank"."""
    start: int
    """0-based index of its first physical line."""
    end: int
    """0-based index of its last physical line (continuations included)."""
    text: str = ""
    """The logical line pip parses: joined, comment stripped, variables expanded, stripped."""
    args: str = ""
    """The requirement part, before the first option."""
    options: Tuple[Tuple[str, str], ...] = ()
    """(long option name, value or "") pairs, in order."""
    requirement: Optional[Requirement] = None
    target: Optional[str] = None
    """Include/constraint: the absolute path of the named file (or its URL)."""
    local_dir: Optional[str] = None
    """Requirement: the local project directory it points at, when it is one."""
    variables: Tuple[Tuple[str, str], ...] = ()
    """The `${VAR}`s expanded in the line, (name, value): never to be shown."""

    @property
    def line(self) -> int:
        return self.start + 1

    @property
    def end_line(self) -> int:
        return self.end + 1


class RequirementsDocument:
    """A requirements file as lines and logical entries; `dumps()` gives back its bytes."""

    __slots__ = ("bom", "display", "encoding", "entries", "lines", "newline", "path", "raw")

    def __init__(self, path: str, display: str, raw: bytes, encoding: str, bom: bytes,
                 lines: List[Line], entries: List[Entry]) -> None:
        self.path = path
        self.display = display
        self.raw = raw
        self.encoding = encoding
        self.bom = bom
        self.lines = lines
        self.entries = entries
        self.newline = _dominant_newline(lines)

    def dumps(self) -> bytes:
        """The file's bytes: BOM, then every line with its own ending, in its encoding."""
        return self.bom + "".join(ln.text + ln.ending for ln in self.lines).encode(self.encoding)

    def entry_at(self, line: int) -> Optional[Entry]:
        """The entry whose span starts at 1-based physical `line`."""
        for entry in self.entries:
            if entry.start == line - 1:
                return entry
        return None


# ---------------------------------------------------------------------------- decoding


def decode(data: bytes, display: str) -> Tuple[str, str, bytes]:
    """Decode a requirements file as pip does; return (text, encoding, BOM)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _decode_as(data[len(bom):], encoding, display, len(bom)), encoding, bom
    import codecs

    for lineno, head in enumerate(data.split(b"\n", 2)[:2], start=1):
        if head[:1] == b"#":
            found = _PEP263.search(head)
            if found is not None:
                encoding = found.group(1).decode("ascii")
                try:
                    if not codecs.lookup(encoding)._is_text_encoding:  # type: ignore[attr-defined]
                        raise LookupError(encoding)  # rot13, hex, zlib: not for text
                except LookupError:
                    raise DriftGuardError(
                        f"unknown encoding {excerpt(encoding, 30)} in the coding comment; name "
                        "one Python "
                        "knows (e.g. utf-8, latin-1) or remove the comment",
                        path=display, line=lineno) from None
                return _decode_as(data, encoding, display, 0), encoding, b""
    try:
        return data.decode("utf-8"), "utf-8", b""
    except UnicodeDecodeError as exc:
        locale_encoding = _locale_encoding()
        try:
            return data.decode(locale_encoding), locale_encoding, b""
        except (UnicodeDecodeError, LookupError):
            line = data.count(b"\n", 0, exc.start) + 1
            tried = "not UTF-8"
            if codecs.lookup(locale_encoding).name != "utf-8":
                tried = f"neither UTF-8 nor {locale_encoding}"
            raise DriftGuardError(
                f"byte 0x{data[exc.start]:02x} is {tried}; save "
                "the file as UTF-8, or declare its encoding on the first line, e.g. "
                "'# -*- coding: latin-1 -*-'", path=display, line=line) from None


def _decode_as(body: bytes, encoding: str, display: str, offset: int) -> str:
    try:
        return body.decode(encoding)
    except (LookupError, ValueError) as exc:
        if not isinstance(exc, UnicodeDecodeError):  # punycode, idna: UnicodeError only
            raise DriftGuardError(f"cannot be decoded as {encoding}; save the file in the "
                                  "encoding it declares", path=display) from None
        # Count lines in the decoded prefix so UTF-16/32 files report the right line.
        pieces = body[:exc.start].decode(encoding, errors="replace").splitlines(True)
        line = len(pieces) + (1 if not pieces or pieces[-1][-1] in SEPARATORS else 0)
        raise DriftGuardError(
            f"cannot be decoded as {encoding} ({exc.reason} at byte {exc.start + offset}); "
            "save the file in the encoding it declares", path=display, line=line) from None


def _locale_encoding() -> str:
    import locale
    import sys

    if sys.version_info >= (3, 11):
        return locale.getencoding()
    return locale.getpreferredencoding(False)  # pragma: no cover - Python < 3.11


_OTHER_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def split_lines(text: str) -> List[Line]:
    """Physical lines exactly as `str.splitlines` cuts them, each keeping its ending."""
    if not any(separator in text for separator in _OTHER_BREAKS):
        # Only \n (what nearly every file has): the same lines, without a test per line.
        pieces = text.split("\n")
        last = pieces.pop()
        new = tuple.__new__
        lines = [new(Line, (piece, "\n")) for piece in pieces]
        if last:
            lines.append(Line(last, ""))
        return lines
    lines = []
    for piece in text.splitlines(True):
        if piece.endswith("\r\n"):
            lines.append(Line(piece[:-2], "\r\n"))
        elif piece[-1:] in SEPARATORS:
            lines.append(Line(piece[:-1], piece[-1]))
        else:
            lines.append(Line(piece, ""))
    return lines


def _dominant_newline(lines: Sequence[Line]) -> str:
    if all(ln.ending == "\n" for ln in lines[:-1]) and lines[-1:] and lines[-1].ending in (
            "\n", ""):
        return "\n"  # the one answer the count below can give then
    counts: Dict[str, int] = {}
    for ln in lines:
        if ln.ending in ("\n", "\r\n", "\r"):
            counts[ln.ending] = counts.get(ln.ending, 0) + 1
    if not counts:
        return "\n"
    return max(counts, key=lambda e: counts[e])  # first seen wins a tie (dicts keep order)


# ------------------------------------------------------------------ logical lines


def is_comment_line(text: str) -> bool:
    """`COMMENT.match(text)`: only blanks before a `#` (a physical line holds no newline)."""
    if "\n" in text:
        return COMMENT.match(text) is not None
    return text.lstrip().startswith("#")


def continues(text: str) -> bool:
    """Does this physical line join the next one (pip: ends in `\\` and is no comment)?"""
    return text.endswith("\\") and not is_comment_line(text)


def logical_lines(lines: Sequence[Line]) -> Iterator[Tuple[int, int, str]]:
    """(first index, last index, joined text) for each logical line, as pip joins them."""
    start = 0
    parts: List[str] = []
    for i, ln in enumerate(lines):
        text = ln.text
        if continues(text):
            if not parts:
                start = i
            parts.append(text.strip("\\"))
            continue
        if is_comment_line(text):
            text = " " + text  # so the comment is stripped from the joined line too
        if parts:
            parts.append(text)
            yield start, i, "".join(parts)
            parts = []
        else:
            yield i, i, text
    if parts:
        yield start, len(lines) - 1, "".join(parts)


def joined_positions(lines: Sequence[Line], start: int, end: int
                     ) -> Tuple[str, List[Optional[Tuple[int, int]]]]:
    """The joined text of lines[start..end] with, for each character, its (line, column);
    None for characters pip adds itself."""
    text_parts: List[str] = []
    where: List[Optional[Tuple[int, int]]] = []
    for i in range(start, end + 1):
        text = lines[i].text
        if continues(text):
            kept = text.strip("\\")
            lead = len(text) - len(text.lstrip("\\"))
            text_parts.append(kept)
            where.extend((i, lead + c) for c in range(len(kept)))
            continue
        if is_comment_line(text):
            text_parts.append(" ")
            where.append(None)
        text_parts.append(text)
        where.extend((i, c) for c in range(len(text)))
    return "".join(text_parts), where


def strip_comment(joined: str) -> Tuple[str, int]:
    """pip's comment removal and strip: (text, offset of its first character in `joined`)."""
    # COMMENT needs a `#`; without one it would only try (slowly) at every blank. A line
    # that starts (after blanks) with one is a comment whole.
    if "#" not in joined:
        without = joined
    elif joined.lstrip().startswith("#"):
        return "", 0
    else:
        without = COMMENT.sub("", joined)
    stripped = without.strip()
    if not stripped:
        return "", 0
    return stripped, len(without) - len(without.lstrip())


def expand_variables(text: str) -> str:
    """Replace `${NAME}` by the environment variable NAME when it is set and not empty."""
    return expand_tracked(text)[0]


def expand_tracked(text: str) -> Tuple[str, Dict[str, str]]:
    """`expand_variables`, plus the variables it expanded (name -> value).

    pip replaces each `${NAME}` found in the line, in order, with `str.replace` over the
    whole line. One `re.sub` pass gives the same text unless a value (or a value next to its
    neighbours) forms a new `${NAME}` that a later replacement would catch; only then is pip's
    loop replayed. Either way the work is linear in the expanded line for ordinary values."""
    if "${" not in text:
        return text, {}
    names = _ENV_VAR.findall(text)
    values: Dict[str, str] = {}
    for name in dict.fromkeys(names):
        value = os.environ.get(name)
        if value:
            values[name] = value
    if not values:
        return text, {}
    total = len(text) + sum(len(values.get(n, "")) for n in names)
    if total > _EXPANDED_LIMIT:
        raise _TooLong(sorted(values))
    expanded = _ENV_VAR.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    if not any("${" + name + "}" in expanded for name in values):
        return expanded, values
    line = text
    for name in names:  # pip's own loop, for the rare line that needs it
        token = "${" + name + "}"
        value = values.get(name)
        if value and token in line:
            line = line.replace(token, value)
            if len(line) > _EXPANDED_LIMIT:
                raise _TooLong(sorted(values))
    return line, values


class _TooLong(ValueError):
    def __init__(self, names: Sequence[str]) -> None:
        shown = ", ".join("${%s}" % n for n in names)
        super().__init__(f"expanding {shown} makes the line longer than {_EXPANDED_LIMIT} "
                         "characters")


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """`text` quoted for a message, cut to `limit` characters."""
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return repr(text)


def _cut(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, unquoted (for option names)."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "..."


def redact(text: str, values: Dict[str, str]) -> str:
    """`text` with each expanded value written back as its `${NAME}`."""
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[1])):
        if len(value) >= 3:
            text = text.replace(value, "${" + name + "}")
    return text


def _leaks(message: str, values: Dict[str, str], width: int = 6) -> bool:
    """Does `message` hold any `width`-character piece of a value (or a whole short one)?"""
    grams = {message[i:i + width] for i in range(len(message) - width + 1)}
    for value in values.values():
        if len(value) < width:
            if len(value) >= 3 and value in message:
                return True
            continue
        if any(value[i:i + width] in grams for i in range(len(value) - width + 1)):
            return True
    return False


def split_options(text: str) -> Tuple[str, str]:
    """Split a logical line at the first space-separated token that starts with `-`."""
    tokens = text.split(" ")
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), " ".join(tokens[i:])
    return text, ""


# ------------------------------------------------------------------------ options

# One token of POSIX shell words as `shlex.split` reads them: plain characters, a single-quoted
# run, a double-quoted run (where a backslash escapes only `"` and `\\`), a backslash escape,
# blanks, or a quote or backslash left open.
_SH_TOKEN = lazy(
    r"""([^ \t\r\n'"\\]+)|'([^']*)'|"((?:[^"\\]|\\[\s\S])*)"|\\([\s\S])|([ \t\r\n]+)|(['"\\])""")
_SH_DQ_ESCAPE = lazy(r'\\(["\\])')


def shell_split(text: str) -> List[str]:
    """`shlex.split(text)`, in linear time (shlex reads a character at a time in Python, which
    takes minutes on the megabytes an expanded `${VAR}` can make). Raises ValueError as it."""
    words: List[str] = []
    current: List[str] = []
    started = False
    for m in _SH_TOKEN.finditer(text):
        plain, single, double, escaped, blank, open_ = m.groups()
        if blank is not None:
            if started:
                words.append("".join(current))
                current, started = [], False
            continue
        if open_ is not None:
            raise ValueError("No escaped character" if open_ == "\\" else "No closing quotation")
        started = True
        if plain is not None:
            current.append(plain)
        elif single is not None:
            current.append(single)
        elif double is not None:
            current.append(_SH_DQ_ESCAPE.sub(r"\1", double))
        else:
            current.append(escaped)
    if started:
        words.append("".join(current))
    return words



def _match_long(opt: str) -> str:
    if opt in _LONG_OPTIONS:
        return opt
    matches = sorted(o for o in _LONG_OPTIONS if o.startswith(opt))
    if len(matches) == 1:  # optparse accepts any unambiguous prefix
        return matches[0]
    if not matches:
        raise ValueError(f"no such option: {_cut(opt, 30)}")
    raise ValueError(f"ambiguous option: {opt} ({', '.join(matches)}?)")


def parse_options(options: str) -> List[Tuple[str, str]]:
    """Options as optparse would read them with pip's requirements-file parser.

    Positional leftovers are ignored, as pip ignores them. Raises ValueError with pip's
    wording."""
    if _HASHES_ONLY.match(options):
        # What the tools write after a pin: the general path gives the same, more slowly.
        return [("--hash", v) for v in _HASH_VALUE.findall(options)]
    try:
        args = shell_split(options)
    except ValueError:
        raise ValueError(f"could not split the options: {excerpt(options)} (an unclosed quote?)"
                         ) from None
    result: List[Tuple[str, str]] = []
    while args:
        arg = args.pop(0)
        if arg == "--":
            break
        if arg.startswith("--"):
            explicit = "=" in arg
            name, _, value = arg.partition("=")
            opt = _match_long(name)
            if _LONG_OPTIONS[opt]:
                if not explicit:
                    if not args:
                        raise ValueError(f"{opt} option requires 1 argument")
                    value = args.pop(0)
            elif explicit:
                raise ValueError(f"{opt} option does not take a value")
            result.append((_ALIASES.get(opt, opt), value))
            _check_value(opt, opt, value)
        elif arg.startswith("-") and len(arg) > 1:
            short = arg[:2]
            if short not in _SHORT_OPTIONS:
                raise ValueError(f"no such option: {_cut(short, 30)}")
            value = arg[2:]
            if not value:
                if not args:
                    raise ValueError(f"{short} option requires 1 argument")
                value = args.pop(0)
            opt = _SHORT_OPTIONS[short]
            result.append((opt, value))
            _check_value(short, opt, value)
    return result


def _check_value(shown: str, opt: str, value: str) -> None:
    """The checks pip's option callbacks make (`shown` is the spelling in messages)."""
    if opt == "--hash":
        algo, sep, _ = value.partition(":")
        if not sep:
            raise ValueError(f"arguments to {shown} must be a hash name followed by a value, "
                             "like --hash=sha256:abcde...")
        if algo not in _STRONG_HASHES:
            raise ValueError(f"allowed hash algorithms for {shown} are "
                             f"{', '.join(_STRONG_HASHES)}")
    elif opt == "--config-settings" and "=" not in value:
        raise ValueError(f"arguments to {shown} must be of the form KEY=VAL")
    elif opt == "--use-feature" and value not in _FEATURES:
        raise ValueError(f"option {shown}: invalid choice {excerpt(value)} (choose from "
                         f"{', '.join(_FEATURES)})")
    elif opt in _NO_DASH_VALUE and value.startswith("-"):
        raise ValueError(f"{_NO_DASH_VALUE[opt]} option requires 1 argument "
                         f"(found {excerpt(value, 20)})")


# -------------------------------------------------------------------- requirements


def _scheme(text: str) -> str:
    """The URL scheme as pip's `is_url` and `Link` see it (`urllib.parse.urlsplit`, which drops
    tabs and newlines first). Raises ValueError where urlsplit does (`https://e[.com`)."""
    if ":" not in text and "/" not in text:
        return ""  # urlsplit finds no scheme, and no netloc to refuse, without a ":" or "//"
    from urllib.parse import urlsplit

    try:
        return urlsplit(text).scheme
    except ValueError as exc:
        raise ValueError(f"invalid URL {excerpt(text)}: {exc}") from None


def _include_scheme(text: str) -> str:
    """The scheme pip's requirements-file reader sees in an -r/-c target (a plain regex)."""
    found = _SCHEME.match(text)
    return found.group(1).lower() if found else ""


def is_url(text: str) -> bool:
    """pip's test: a scheme it knows (http, https, file, ftp, or a VCS one)."""
    return _scheme(text) in _URL_SCHEMES


def _looks_like_path(text: str) -> bool:
    return os.sep in text or (os.altsep is not None and os.altsep in text) or text.startswith(".")


def _splitext(path: str) -> str:
    import posixpath

    base, ext = posixpath.splitext(path)
    if base.lower().endswith(".tar"):
        ext = base[-4:] + ext
    return ext


def _is_archive(path: str) -> bool:
    return _splitext(path).lower() in _ARCHIVES


def _plain_pin(args: str) -> Optional[Tuple[str, str]]:
    """(name, version) for a line of the form `name == version` that needs no `packaging`
    (blanks around "==" are spaces or tabs, as PEP 508 allows)."""
    name, sep, version = args.partition("==")
    name = name.rstrip(" \t")
    version = version.strip(" \t")
    # Only a local version (`1.0+x.zip`) can end like an archive.
    if (sep and valid_name(name) and canonical_version(version)
            and ("+" not in version or not _is_archive(version))):
        return name, version
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 2 * EXCERPT else text[:2 * EXCERPT] + "..."


def _file_url(path: str) -> str:
    # urllib.request would do, but it imports http.client, email and more on the hook's path.
    path = os.path.abspath(path)
    if os.name == "nt":  # pragma: no cover - Windows
        from nturl2path import pathname2url

        return "file:" + pathname2url(path)
    from urllib.parse import quote

    return "file://" + quote(path)


def _url_path(url: str, bases: Sequence[str]) -> str:
    """The local path of a file: URL (relative ones resolved like pip's paths)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if os.name == "nt":  # pragma: no cover - Windows
        from nturl2path import url2pathname

        path = url2pathname(parts.path)
    else:
        path = unquote(parts.path)
    if parts.netloc and parts.netloc != "localhost":
        if os.name != "nt":
            raise ValueError(f"non-local file URLs are not supported: {excerpt(url)}; "
                             "use file:///absolute/path or a relative path")
        path = "//" + parts.netloc + path  # pragma: no cover - Windows UNC path
    return _resolve(path, bases)


def _resolve(path: str, bases: Sequence[str]) -> str:
    """Resolve a relative path against each base in turn: the first installable project
    directory wins, else the first that exists, else the first base's (pip's own choice: the
    current directory)."""
    if os.path.isabs(path):
        return os.path.normpath(path)
    candidates = [os.path.normpath(os.path.join(b, path)) for b in bases]
    for test in (_installable, os.path.exists):
        for candidate in candidates:
            if test(candidate):
                return candidate
    return candidates[0]


def project_name(directory: str) -> Optional[str]:
    """The distribution name a local project directory declares, where a file says it
    statically: pyproject.toml `[project].name` (or `[tool.poetry].name`), else setup.cfg
    `[metadata] name`."""
    from drift_guard._io import METADATA_LIMIT, read_text

    pyproject = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pyproject):
        import sys

        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python < 3.11
            import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
        text = read_text(pyproject, limit=METADATA_LIMIT, what="pyproject.toml",
                         shown=display_path(pyproject), errors="replace")
        try:
            data = tomllib.loads(text)
        except (ValueError, RecursionError):
            data = {}
        tool = data.get("tool")
        for table in (data.get("project"), tool.get("poetry") if isinstance(tool, dict) else None):
            if isinstance(table, dict) and isinstance(table.get("name"), str):
                declared: str = table["name"].strip()
                if valid_name(declared):
                    return declared
    setup_cfg = os.path.join(directory, "setup.cfg")
    if os.path.isfile(setup_cfg):
        import configparser

        text = read_text(setup_cfg, limit=METADATA_LIMIT, what="setup.cfg",
                         shown=display_path(setup_cfg), errors="replace")
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text)
            name = parser.get("metadata", "name", fallback="").strip()
        except (configparser.Error, ValueError):
            name = ""
        if valid_name(name):
            return name
    return None


def _installable(directory: str) -> bool:
    return (os.path.isfile(os.path.join(directory, "pyproject.toml"))
            or os.path.isfile(os.path.join(directory, "setup.py")))


class _Parsed(NamedTuple):
    name: str
    specifier: str = ""
    marker: Optional[str] = None
    extras: Tuple[str, ...] = ()
    url: Optional[str] = None
    local_dir: Optional[str] = None


def _canonical_extras(extras: Iterable[str]) -> Tuple[str, ...]:
    return tuple(sorted({canonical(e) for e in extras}))


def _packaging_requirement(text: str) -> PackagingRequirement:
    from packaging.requirements import InvalidRequirement
    from packaging.requirements import Requirement as PackagingRequirement

    try:
        return PackagingRequirement(text)
    except (InvalidRequirement, ValueError, RecursionError) as exc:
        hint = "; correct the line (pip rejects it too)"
        if isinstance(exc, RecursionError):
            exc = ValueError("nested too deeply")
        elif os.sep in text:
            hint = "; it looks like a path, but there is no such file: fix the path"
        elif "=" in text and not any(op in text for op in _OPERATORS):
            hint = "; = is not a valid operator, did you mean ==?"
        raise ValueError(f"invalid requirement {excerpt(text)}: {_first_line(exc)}{hint}"
                         ) from None


def _extras_of(text: str) -> Tuple[str, ...]:
    if not text:
        return ()
    return _canonical_extras(_packaging_requirement("placeholder" + text.lower()).extras)


def _strip_extras(text: str) -> Tuple[str, str]:
    found = _EXTRAS_SUFFIX.match(text)
    if found:
        return found.group(1).rstrip(), found.group(2)
    return text, ""


def _egg(url: str) -> Optional[str]:
    found = _EGG.search(url)
    if not found:
        return None
    name = found.group(1)
    if not valid_name(name):
        raise ValueError(f"{excerpt(url)} has an invalid #egg= fragment {excerpt(name, 30)}; "
                         "it must be a "
                         "project name (without extras or version)")
    return name


def _from_link(url: str, bases: Sequence[str], extras: Tuple[str, ...],
               marker: Optional[str]) -> _Parsed:
    """Name a URL or path requirement: a wheel's filename, `#egg=`, a local project's own
    metadata, an sdist's filename; else unnamed (name "")."""
    from urllib.parse import unquote, urlsplit

    _scheme(url)  # a URL urlsplit refuses is refused here with a message
    path = unquote(urlsplit(url).path)
    filename = path.rstrip("/").rsplit("/", 1)[-1]
    local_dir = None
    if url.lower().startswith("file:"):
        local = _url_path(url, bases)
        if os.path.isdir(local):
            local_dir = local
    if _splitext(filename) == ".whl":
        from packaging.utils import InvalidWheelFilename, parse_wheel_filename

        try:
            name, version, _, _ = parse_wheel_filename(filename)
        except InvalidWheelFilename as exc:
            raise ValueError(f"{excerpt(filename)} is not a valid wheel filename: "
                             f"{_first_line(exc)}; "
                             "rename it as the wheel specification says") from None
        raw_name = filename.split("-", 1)[0].replace("_", "-")
        if not valid_name(raw_name):  # pip makes "NAME==VERSION" of it, and refuses that
            raise ValueError(f"{excerpt(filename)} is not a valid wheel filename: "
                             f"{excerpt(raw_name, 30)} is not a project name")
        return _Parsed(canonical(name), f"=={version}", marker, extras, url, None)
    egg = _egg(url)
    if egg:
        return _Parsed(canonical(egg), "", marker, extras, url, local_dir)
    if local_dir is not None:
        named = project_name(local_dir)
        return _Parsed(canonical(named) if named else "", "", marker, extras, url, local_dir)
    if _is_archive(filename) and not filename.lower().endswith(".whl"):
        from packaging.utils import InvalidSdistFilename, parse_sdist_filename

        try:
            sdist_name: str = parse_sdist_filename(filename)[0]
        except (InvalidSdistFilename, ValueError):
            sdist_name = ""
        if not valid_name(sdist_name):
            sdist_name = ""  # left unnamed, as pip leaves every sdist without #egg=
        return _Parsed(canonical(sdist_name), "", marker, extras, url, None)
    return _Parsed("", "", marker, extras, url, None)


def parse_requirement(text: str, bases: Sequence[str]) -> _Parsed:
    """A requirement line's text (options removed), as pip's `install_req_from_line` reads it.

    Raises ValueError with a message for the user."""
    # The blanks left where options were split off (`pkg==1.0 --hash=...`) change nothing.
    pin = _plain_pin(text.strip(" \t"))
    if pin is not None:
        return _Parsed(canonical(pin[0]), "==" + pin[1])
    url_like = is_url(text)
    # pip splits the marker off before it parses the rest; after a URL only "; " separates.
    separator = "; " if url_like else ";"
    marker = None
    if separator in text:
        text, marker_text = text.split(separator, 1)
        marker_text = marker_text.strip()
        marker = normalize_marker(marker_text) if marker_text else None
        if marker_text and marker is None:
            from packaging.markers import InvalidMarker, Marker

            try:
                marker = str(Marker(marker_text))
            except (InvalidMarker, ValueError, RecursionError) as exc:
                why = "nested too deeply" if isinstance(exc, RecursionError) else _first_line(exc)
                raise ValueError(f"invalid marker {excerpt(marker_text)} in "
                                 f"{excerpt(text.strip())}: {why}") from None
    text = text.strip()
    if url_like:
        return _from_link(text, bases, (), marker)
    pin = _plain_pin(text)
    if pin is not None:
        return _Parsed(canonical(pin[0]), "==" + pin[1], marker)
    path_text, extras_text = _strip_extras(text)
    path_like = _looks_like_path(text)
    if path_like or _is_archive(path_text):
        path = _resolve(path_text, bases)
        if path_like and os.path.isdir(path):
            if not _installable(path):
                raise ValueError(f"directory {excerpt(text)} is not installable: it has neither "
                                 "setup.py nor pyproject.toml")
            return _from_link(_file_url(path), bases, _extras_of(extras_text), marker)
        if _is_archive(path):
            before_at = text.split("@", 1)
            if os.path.isfile(path) or len(before_at) < 2 or _looks_like_path(before_at[0]):
                return _from_link(_file_url(path), bases, _extras_of(extras_text), marker)
    req = _packaging_requirement(text)
    if req.url:
        _check_link(req.url, bases)
    return _Parsed(canonical(req.name), str(req.specifier), marker,
                   _canonical_extras(req.extras), req.url or None, None)


def _check_link(url: str, bases: Sequence[str]) -> None:
    """What pip's `Link` and its later use refuse in a direct reference: a URL urlsplit
    refuses, an invalid `#egg=` and a `file:` URL on another host."""
    _egg(url)
    if _scheme(url) == "file":
        _url_path(url, bases)


def _direct_editable(value: str) -> Optional[PackagingRequirement]:
    """`value` as a `name @ url` requirement, or None when it is not one."""
    if "@" not in value:  # nothing else can be a direct reference; spare the import
        return None
    try:
        req = _packaging_requirement(value)
    except ValueError:
        return None
    return req if req.url else None


def parse_editable(value: str, bases: Sequence[str]) -> _Parsed:
    """An `-e` value, as pip's `parse_editable` reads it. Raises ValueError."""
    req = _direct_editable(value)
    if req is not None and req.url:
        _check_link(req.url, bases)
        if _scheme(req.url) not in _VCS_SCHEMES and not req.url.startswith("file:"):
            raise ValueError(f"-e {_cut(value, EXCERPT)}: an editable URL must be a VCS URL "
                             "(git+https://..., hg+..., svn+..., bzr+...) or a file: URL")
        marker = str(req.marker) if req.marker else None
        parsed = _from_link(req.url, bases, _canonical_extras(req.extras), marker)
        return parsed._replace(name=canonical(req.name))
    url, extras_text = _strip_extras(value)
    extras = _extras_of(extras_text)
    local = _resolve(url, bases)
    if os.path.isdir(local):
        url = _file_url(local)
    if url.lower().startswith("file:"):
        return _from_link(url, bases, extras, None)
    url = value
    for vcs in _VCS_NAMES:
        if url.lower().startswith(vcs + ":"):
            url = f"{vcs}+{url}"
            break
    if _scheme(url) not in _VCS_SCHEMES:
        raise ValueError(f"-e {_cut(value, EXCERPT)}: not a local project directory or a VCS URL "
                         "(git+https://..., hg+..., svn+..., bzr+...); fix the path (relative "
                         "paths start from the current directory, as pip reads them)")
    egg = _egg(url)
    if not egg:
        raise ValueError(f"-e {_cut(value, EXCERPT)}: cannot tell the project's name; add #egg=NAME or "
                         "write it as -e NAME @ URL")
    return _Parsed(canonical(egg), "", None, (), url, None)


# --------------------------------------------------------------------------- parse


def _bases(path: str, project_dir: str = ".") -> Tuple[str, ...]:
    seen: List[str] = []
    for base in (os.getcwd(), os.path.abspath(project_dir), os.path.dirname(path)):
        if base not in seen:
            seen.append(base)
    return tuple(seen)


def parse(path: str, *, display: Optional[str] = None,
          bases: Optional[Sequence[str]] = None, quote: bool = True) -> RequirementsDocument:
    """Read one requirements file (no includes followed) into a lossless document.

    `bases` are the directories relative project paths are tried against (default: the
    current directory, then the file's directory). Raises DriftGuardError for anything pip
    would reject. With `quote` False (a file outside the project) error messages name the
    file and line but quote nothing of its content."""
    from drift_guard._io import read_bytes

    path = os.path.abspath(path)
    shown = display if display is not None else display_path(path)
    raw = read_bytes(path, what="requirements file", shown=shown)
    text, encoding, bom = decode(raw, shown)
    lines = split_lines(text)
    search = tuple(bases) if bases is not None else _bases(path)
    entries = [_entry(start, end, joined, search, path, shown, quote)
               for start, end, joined in logical_lines(lines)]
    return RequirementsDocument(path, shown, raw, encoding, bom, lines, entries)


def _safe_message(message: str, raw: str, values: Dict[str, str], quote: bool) -> str:
    """The error message for a line, with nothing in it the line should not give away: no
    content of a file outside the project, no value of an expanded `${VAR}`."""
    if not quote:
        return ("pip rejects this line (its text is not shown: the file is outside the "
                "project); fix the line")
    if not values:
        return message
    message = redact(message, values)
    if _leaks(message, values):
        shown = ", ".join("${%s}" % n for n in values)
        return (f"pip rejects the line {excerpt(raw)} once {shown} is expanded (the expanded "
                "text is not shown); fix the line or the variable")
    return message


def _entry(start: int, end: int, joined: str, bases: Sequence[str], path: str,
           shown: str, quote: bool = True) -> Entry:
    stripped, _ = strip_comment(joined)
    if not stripped:
        return Entry("comment" if "#" in joined else "blank", start, end)
    values: Dict[str, str] = {}
    try:
        text, values = expand_tracked(stripped)
        args, option_text = split_options(text)
        try:
            options = tuple(parse_options(option_text)) if option_text else ()
        except ValueError as exc:
            raise ValueError(f"{exc}; fix or remove the option (pip rejects it too)") from None
        editables = [v for o, v in options if o == "--editable"]
        if args and editables:
            # pip reads the requirement itself as the editable then (and refuses most).
            parsed = parse_editable(args, bases)
            editable = True
        elif args:
            parsed = parse_requirement(args, bases)
            editable = False
        else:
            includes = [v for o, v in options if o in ("--requirement", "--constraint")]
            if not editables:
                if includes:
                    # pip follows only the first -r (or, failing that, -c) of a line.
                    first = next((v for o, v in options if o == "--requirement"), None)
                    kind = "include" if first is not None else "constraint"
                    target = first if first is not None else includes[0]
                    return Entry(kind, start, end, text, "", options,
                                 target=_include_target(target, path),
                                 variables=tuple(values.items()))
                return Entry("option", start, end, text, "", options)
            args = editables[0]
            parsed = parse_editable(args, bases)
            editable = True
        _check_numbers(parsed)
    except ValueError as exc:
        raise DriftGuardError(_safe_message(str(exc), stripped, values, quote),
                              path=shown, line=start + 1) from None
    hashes = not editable and any(o == "--hash" for o, _ in options)
    url = parsed.url
    written = ("-e " + args) if editable else args.strip()
    if values:  # what is kept (and may be shown) never holds a variable's value
        written = redact(written, values)
        url = redact(url, values) if url else url
    requirement = Requirement(
        name=parsed.name, specifier=parsed.specifier, source=shown, line=start + 1,
        end_line=end + 1, marker=parsed.marker, extras=parsed.extras, url=url,
        editable=editable, hashes=hashes, text=written)
    return Entry("requirement", start, end, text, "" if editable else args, options,
                 requirement, local_dir=parsed.local_dir)


def _check_numbers(parsed: _Parsed) -> None:
    for what, text in (("version", parsed.specifier), ("marker", parsed.marker or "")):
        if len(text) > _DIGITS_LIMIT and _LONG_NUMBER.search(text):
            raise ValueError(f"the {what} holds a number of more than {_DIGITS_LIMIT} digits, "
                             "which cannot be compared; correct it")


def _include_target(target: str, including: str) -> str:
    scheme = _include_scheme(target)
    if scheme == "file":
        # pip fetches a file: URL, and the URL's path is absolute: file:x is /x.
        path = _url_path(target, ("/",))
        return path if os.path.isabs(path) else os.path.join(os.sep, path)
    if scheme in ("http", "https"):
        return target
    return os.path.abspath(os.path.join(os.path.dirname(including), target))


# ---------------------------------------------------------------------------- read


def _pinned(req: Requirement) -> bool:
    if req.url or req.editable:
        return True
    for clause in req.specifier.split(","):
        clause = clause.strip()
        if clause.startswith("==="):
            return True
        if clause.startswith("==") and not clause.endswith(".*"):
            return True
    return False


class _Frame(NamedTuple):
    path: str
    shown: str
    constraint: bool
    doc: RequirementsDocument
    quote: bool
    """The file is inside the project: messages may quote its lines."""


class _Walk:
    """Every file reachable through -r/-c, depth first in pip's order, without recursion.

    Each file is read once and each (file, requirements-or-constraints) pair is walked once,
    so a file that includes the next one twice, over and over, costs linear time; a file that
    includes one of the files it is included from is a cycle, as in pip."""

    def __init__(self, bases: Sequence[str], root: str,
                 markers: Optional[Mapping[str, str]] = None) -> None:
        self.bases = bases
        self.root = root
        self.markers = markers
        self.requirements: List[Requirement] = []
        self.constraints: List[Requirement] = []
        self.files: List[str] = []
        self.contents: List[Tuple[str, bytes]] = []
        self.local_dirs: List[Tuple[str, str]] = []
        self._docs: Dict[str, RequirementsDocument] = {}
        self._walked: Set[Tuple[str, bool]] = set()
        self._checked: Set[str] = set()  # markers already evaluated without error

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)

    def _parse(self, path: str, shown: str, quote: bool) -> RequirementsDocument:
        doc = self._docs.get(path)
        if doc is None:
            doc = parse(path, display=shown, bases=self.bases, quote=quote)
            self._docs[path] = doc
            self.files.append(doc.display)
            # What --fix checks before it plans from its own read of the file.
            self.contents.append((doc.path, doc.raw))
        return doc

    def run(self, top: str, shown: str) -> None:
        self._walked.add((top, False))
        stack: List[Tuple[_Frame, Iterator[Entry]]] = []
        chain: Dict[str, int] = {}  # path -> how many frames of the stack hold it

        def push(path: str, shown: str, constraint: bool) -> None:
            quote = self._inside(path)
            doc = self._parse(path, shown, quote)
            stack.append((_Frame(path, shown, constraint, doc, quote), iter(doc.entries)))
            chain[path] = chain.get(path, 0) + 1

        push(top, shown, False)
        while stack:
            frame, entries = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                chain[frame.path] -= 1
                if not chain[frame.path]:
                    del chain[frame.path]
                continue
            if entry.kind == "requirement":
                self._requirement(frame, entry)
            elif entry.kind in ("include", "constraint"):
                target = self._target(frame, entry, stack, chain)
                if target is not None:
                    push(*target)

    def _requirement(self, frame: _Frame, entry: Entry) -> None:
        req = entry.requirement
        assert req is not None
        if self.markers is not None and req.marker and req.marker not in self._checked:
            from drift_guard.markers import check

            check(req.marker, self.markers, path=frame.doc.display, line=entry.line,
                  quote=frame.quote)
            self._checked.add(req.marker)
        if frame.constraint:
            if req.editable:
                raise DriftGuardError(
                    "editable requirements are not allowed as constraints; move the "
                    "-e line to a requirements file", path=frame.doc.display, line=entry.line)
            self.constraints.append(req)
        else:
            self.requirements.append(req)
            if entry.local_dir is not None:
                self.local_dirs.append((entry.local_dir, req.name))

    def _target(self, frame: _Frame, entry: Entry,
                stack: Sequence[Tuple[_Frame, Iterator[Entry]]],
                chain: Mapping[str, int]) -> Optional[Tuple[str, str, bool]]:
        doc = frame.doc
        target = entry.target
        assert target is not None
        flag = "-r" if entry.kind == "include" else "-c"
        if _include_scheme(target) in ("http", "https"):
            raise DriftGuardError(
                f"{flag} {excerpt(redact(target, dict(entry.variables)))}: drift-guard reads "
                "local files only; download the "
                "file and include it by path", path=doc.display, line=entry.line)
        # A path made from a ${VAR} is shown (in messages and as a source) with the name.
        shown = redact(display_path(target), dict(entry.variables))
        if target in chain:
            names = [f.shown for f, _ in stack] + [shown]
            if len(names) > 8:
                names = names[:3] + [f"... ({len(names) - 6} more)"] + names[-3:]
            raise DriftGuardError(
                f"{flag} {shown} includes a file that includes it again "
                f"({' -> '.join(names)}); remove one of these -r/-c lines",
                path=doc.display, line=entry.line)
        # A -r inside a constraints file names requirements again, as in pip.
        constraint = entry.kind == "constraint"
        if (target, constraint) in self._walked:
            return None
        if not os.path.isfile(target):
            why = "is a directory" if os.path.isdir(target) else "does not exist"
            if os.path.exists(target) and not os.path.isdir(target):
                why = "is not a regular file"
            raise DriftGuardError(
                f"cannot read the included file {shown}: it {why}; fix the {flag} path "
                "(it is relative to this file's directory)", path=doc.display, line=entry.line)
        self._walked.add((target, constraint))
        return target, shown, constraint


def read(path: str, ctx: ReadContext) -> Source:
    """Read a requirements file and everything it includes into a `Source`."""
    top = os.path.abspath(path)
    shown = display_path(top)
    root = os.path.realpath(ctx.project_dir)
    walk = _Walk(_bases(top, ctx.project_dir), root, ctx.markers)
    walk.run(top, shown)
    requirements = tuple(walk.requirements)
    project = None
    homes = {os.path.dirname(top), os.path.abspath(ctx.project_dir)}
    for directory, name in walk.local_dirs:
        if name and os.path.normcase(directory) in {os.path.normcase(h) for h in homes}:
            project = name
            break
    return Source(
        path=shown,
        format=FORMAT,
        requirements=requirements,
        frozen=all(_pinned(r) for r in requirements),
        constraints=tuple(walk.constraints),
        project=project,
        files=tuple(walk.files),
        contents=tuple(walk.contents),
    )
