"""A note saved with its rich-text codes left in, read as the plain text they format.

Some exports write the RTF source instead of the text:

    {\\rtf1\\ansi\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}\\f0\\fs22
    \\b Procedure:\\b0  Right L4-5 and L5-S1 medial branch blocks (block #1)\\par
    Patient:\\tab ECHEVERRIA, MARISOL T\\par

`rtf_as_text` blanks the codes, one character for one, so every offset still
indexes the source text: a control word (`\\b`, `\\b0`, `\\fs22`, `\\tab`) and
the braces become spaces, a header group (`{\\fonttbl ...}`, `{\\colortbl
...}`, `{\\*\\...}`) becomes spaces whole, `\\par` or `\\line` becomes a line
break unless one follows it already, and an escaped character (`\\'b0`,
`\\{`, `\\\\`) becomes that character, spaces before it.
"""
from __future__ import annotations

import re

# A header group that holds no text of the note: fonts, colours, styles, information, "\*" destinations.
_HEADER_GROUP = re.compile(r"\{\\(?:fonttbl|colortbl|stylesheet|info|\*)(?:[^{}]|\{[^{}]*\})*\}")
# A control word with its optional number and the one space that ends it; an escaped character; a brace.
_CODE = re.compile(r"\\([a-z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([\\{}~_-])|[{}]")
_BREAKS = {"par", "line", "sect", "page", "row"}
_SYMBOLS = {"~": " ", "_": "-", "-": " "}  # a no-break space, a no-break hyphen, an optional hyphen


def looks_like_rtf(text: str) -> bool:
    """Whether the text is RTF source (it opens with the "{\\rtf" header)."""
    return text.lstrip()[:5] == "{\\rtf"


def rtf_as_text(text: str) -> str:
    """`text` with its rich-text codes blanked, one character for one."""
    chars = list(text)
    for m in _HEADER_GROUP.finditer(text):
        chars[m.start():m.end()] = _blank(m.group(0))
    for m in _CODE.finditer(text):
        start, end = m.span()
        if chars[start] != text[start]:
            continue  # inside a header group blanked above
        word, hex_code, escaped = m.group(1), m.group(3), m.group(4)
        chars[start:end] = " " * (end - start)
        if word in _BREAKS and not text.startswith("\n", end) and not text.startswith("\r\n", end):
            chars[start] = "\n"
        elif hex_code is not None:
            chars[end - 1] = bytes([int(hex_code, 16)]).decode("cp1252", errors="replace")
        elif escaped is not None:
            chars[end - 1] = _SYMBOLS.get(escaped, escaped)
    return "".join(chars)


def _blank(group: str) -> str:
    """Spaces for a header group, its line breaks kept."""
    return "".join("\n" if ch == "\n" else " " for ch in group)
