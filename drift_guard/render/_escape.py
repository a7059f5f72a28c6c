"""Escaping for every output format, in one place.

Every string that came from a checked file or the environment (names, versions, paths, URLs,
keys, notes, error messages) passes through one of these before it is written, so that a
name read from a lock file cannot end a line, start a GitHub workflow command, inject HTML
or Markdown, or send escape sequences to a terminal.
"""

from __future__ import annotations

from drift_guard._patterns import lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

# C0 and C1 controls, DEL, and the invisible characters that reorder or hide text on screen:
# bidirectional embeddings, overrides and isolates (CVE-2021-42574, "Trojan Source"), the
# line and paragraph separators that some viewers break lines on, and the BOM / zero-width
# characters that make two different names look alike.
_UNSAFE = lazy(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)
# The same without CR and LF: for formats that escape those in their own way.
_UNSAFE_INLINE = lazy(
    "[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069"
    "\ufeff\ufff9-\ufffb]"
)


def _show(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object) -> str:
    """`value` for a terminal or a log: every control, escape and invisible formatting
    character is shown as a `\\x1b` / `\\u202e` escape, so the result is one visible line."""
    shown = str(value)
    if shown.isascii() and shown.isprintable():
        return shown  # every character _UNSAFE takes is a control or outside ASCII
    return _UNSAFE.sub(_show, shown)


def github_data(value: object) -> str:
    """The message part of a workflow command (after the second `::`): `%`, CR and LF as the
    runner expects them (`%25`, `%0D`, `%0A`), other control characters shown as escapes.

    https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData)
    """
    shown = str(value)
    if not (shown.isascii() and shown.replace("\r", "").replace("\n", "").isprintable()):
        shown = _UNSAFE_INLINE.sub(_show, shown)
    return shown.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def github_property(value: object) -> str:
    """A property value of a workflow command (`file=`, `title=`): as data, plus `:` and `,`,
    which would end the property list or the property."""
    return github_data(value).replace(":", "%3A").replace(",", "%2C")


# Characters Markdown (CommonMark + GFM) gives a meaning to anywhere in a line: emphasis,
# code, links and images (no link without its "["), tables, strikethrough, GitHub's @mentions,
# #references and $math$.
# Any ASCII punctuation may be backslash-escaped in CommonMark, so escaping these is safe.
_MARKDOWN = lazy(r"([\\`*_\[#|~!@$])")
_BACKTICKS = lazy("`+")


def markdown(value: object) -> str:
    """`value` as literal Markdown text: HTML escaped (no tag or entity survives), Markdown
    metacharacters backslash-escaped, control characters shown as escapes."""
    shown = text(value)
    shown = shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", shown)


def markdown_cell(value: object) -> str:
    """`value` in a GFM table cell: as `markdown()`; an empty value is a dash."""
    if value is None or value == "":
        return "\u2014"
    return markdown(value)


def markdown_code(value: object) -> str:
    """`value` as a Markdown code span. Backticks inside are fenced by a longer backtick run;
    control characters are shown as escapes (a code span cannot hold a line break). HTML is
    literal inside a code span. Not for table cells: GFM splits cells on `|` even there."""
    shown = text(value)
    runs = [len(r) for r in _BACKTICKS.findall(shown)]
    fence = "`" * (max(runs) + 1 if runs else 1)
    if shown.startswith("`") or shown.endswith("`") or (shown[:1] == " " and shown[-1:] == " "):
        shown = f" {shown} "
    return f"{fence}{shown}{fence}"
