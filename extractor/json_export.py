"""A note exported by an app as JSON, read as the labelled lines a typed note has.

A patient app or a practice's integration hands over records such as

    "patient": {"name": "Linh Nguyen", "dob": "1971-05-09"},
    "procedure": {
      "side": "right",
      "levels": ["L4-5", "L5-S1"],

which every label rule would miss: the key sits in quotes, the value after a quote, and one line
holds three fields. `json_as_labels` rewrites the syntax, one character for one, so every offset
still indexes the source text:

    patient:
     name:  Linh Nguyen
     dob:  1971-05-09
    procedure:
      side:  right
      levels:  L4-5,  L5-S1

A key's quotes become a space and its colon, underscores in a key or an enumerated value spaces
("date_of_service" reads "date of service:", "consult_note" "consult note"); a value's quotes, the braces and the brackets become spaces; a comma between
two header fields of one line, and a patient object opened on its key's line, become a line
break (each header field its own line, as the header rules expect); a comma between list items
stays a comma ("L4-5, L5-S1" is a level list), and so does one between the fields of a record
in a list or of an object written on one line ("relief pct: 90, duration hr: 6" is one reading).
"""
from __future__ import annotations

import re

from extractor.patterns import load_json_data

# A string (escapes kept inside it) or one of JSON's structural characters.
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:]')
# An app's enumerated value, "consult_note", "new_patient": read as words, as a key is.
_SNAKE_CASE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")
# The first character of an export: an object or a list of them, then a quoted key.
_JSON_START = re.compile(r'\A\s*[\[{]\s*(?:\{\s*)?"[A-Za-z_]')


def looks_like_json(text: str) -> bool:
    """Whether the whole text is a JSON export (an object, or a list of objects, keyed by name)."""
    return bool(_JSON_START.match(text))


def json_as_labels(text: str) -> str:
    """`text` with its JSON syntax rewritten into labelled lines, one character for one."""
    rules = load_json_data("json_export.json")
    header_keys, header_objects = set(rules["header_keys"]), set(rules["header_objects"])
    chars = list(text)
    # One entry per open container: its bracket, the key it is the value of (None for a list's
    # item or the whole export), and whether its fields stay on one line.
    containers: list[tuple[str, str | None, bool]] = []
    last_key = None
    tokens = list(_JSON_TOKEN.finditer(text))
    for i, token in enumerate(tokens):
        start, end = token.span()
        kind = text[start]
        if kind == '"':
            inside = text[start + 1:end - 1]
            is_key = i + 1 < len(tokens) and text[tokens[i + 1].start()] == ":"
            if is_key or _SNAKE_CASE.fullmatch(inside):
                inside = inside.replace("_", " ")
                chars[start + 1:end - 1] = inside
            chars[start] = " "
            chars[end - 1] = " "
            if is_key:
                last_key = inside.lower()
                if last_key not in header_keys or _in_header(containers, header_objects):
                    chars[end - 1] = ":"
        elif kind == ":":
            chars[start] = " "
        elif kind in "{[":
            key = last_key if _key_before(text, start) else None
            opened_inline = _line_goes_on(text, end)
            in_list = bool(containers) and containers[-1][0] == "["
            # A list's item (a record) keeps its fields on one line, as a table's row does, and so
            # does an object written on its key's line ("outcome": {"relief_pct": 90, ...}); the
            # export itself, and a patient or visit object, put each header field on its own line.
            header = _at_top(containers) or key in header_objects
            flat = kind == "[" or (not header and (in_list or opened_inline))
            containers.append((kind, key, flat))
            chars[start] = "\n" if kind == "{" and header and containers[:-1] and opened_inline else " "
        elif kind in "}]":
            if containers:
                containers.pop()
            chars[start] = " "
        elif kind == ",":
            if not containers or containers[-1][2]:
                continue  # a list's comma separates its items, a one-line record's its fields
            chars[start] = "\n" if _line_goes_on(text, end) else " "
    return "".join(chars)


def _in_header(containers: list[tuple[str, str | None, bool]], header_objects: set[str]) -> bool:
    """Whether a key here names the note's own header: at the top, or in a patient or visit object."""
    if _at_top(containers[:-1]):
        return True
    bracket, key, _ = containers[-1]
    return bracket == "{" and key in header_objects


def _at_top(containers: list[tuple[str, str | None, bool]]) -> bool:
    """Whether an object opened here is a whole record: the export itself, or an item of the list
    the export is (an app's export of several encounters)."""
    return not containers or (len(containers) == 1 and containers[0][0] == "[")


_BLANK_TO_LINE_END = re.compile(r"[ \t\r]*(?:\n|\Z)")


def _line_goes_on(text: str, at: int) -> bool:
    """Whether anything but blanks follows `at` on its line (read without copying the line: a
    minified export is one long line)."""
    return _BLANK_TO_LINE_END.match(text, at) is None


def _key_before(text: str, at: int) -> bool:
    """Whether a key's colon comes right before `at` (not a list's "[{" or the file's first "{")."""
    at -= 1
    while at >= 0 and text[at] in " \t":
        at -= 1
    return at >= 0 and text[at] == ":"
