"""Tests for extractor/patterns.py: the one strict loader of the pattern files.

Every rejected file must raise PatternFileError naming `patterns/<file>:<line>`,
where the line counts blank and comment lines too (it is the editor's line).
"""
from __future__ import annotations

import json
import re

import pytest

from extractor.errors import PatternFileError, ToolError
from extractor.patterns import LABELS, PATTERN_DIR, PatternSpec, load_patterns

GOOD = {"id": "level.joint_hyphen", "label": "JOINT",
        "pattern": [{"TEXT": {"REGEX": "^L\\d$"}}, {"ORTH": "-"}, {"TEXT": {"REGEX": "^\\d$"}}]}


def write_patterns(directory, name: str, lines: list) -> None:
    """One JSONL file; dict lines are dumped, str lines are written as they are."""
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (directory / name).write_text(text + "\n", encoding="utf-8")


# fmt: off
@pytest.mark.parametrize("lines, where, message", [
    pytest.param([GOOD, "", "// a comment", dict(GOOD, id="level.other", lable="JOINT")],
                 "patterns/levels.jsonl:4", r"unknown key\(s\) \['lable'\]; allowed: \[", id="unknown_key"),
    pytest.param(["", dict(GOOD, label="LEVELS")],
                 "patterns/levels.jsonl:2", r"unknown label 'LEVELS'; allowed: \[", id="unknown_label"),
    pytest.param([GOOD, dict(GOOD, label="NERVE"), dict(GOOD, id="level.x")],
                 "patterns/levels.jsonl:2", r"duplicate id 'level.joint_hyphen' \(first at patterns/levels.jsonl:1\)",
                 id="duplicate_id_same_file"),
    pytest.param([{k: v for k, v in GOOD.items() if k != "label"}],
                 "patterns/levels.jsonl:1", r"missing key 'label'", id="missing_key"),
    pytest.param(['{"id": "level.broken", '],
                 "patterns/levels.jsonl:1", r"not valid JSON", id="not_json"),
    pytest.param([dict(GOOD, pattern=[])],
                 "patterns/levels.jsonl:1", r"pattern must be a token list or a phrase", id="empty_pattern"),
])
# fmt: on
def test_load_patterns_rejects_with_file_and_line(tmp_path, lines, where, message):
    write_patterns(tmp_path, "levels.jsonl", lines)
    with pytest.raises(PatternFileError, match=rf"^{re.escape(where)}: {message}") as info:
        load_patterns(tmp_path)
    assert isinstance(info.value, ToolError)


def test_load_patterns_duplicate_id_across_files(tmp_path):
    write_patterns(tmp_path, "a_levels.jsonl", [GOOD])
    write_patterns(tmp_path, "b_sides.jsonl", ["", dict(GOOD, label="SIDE")])
    with pytest.raises(PatternFileError,
                       match=r"^patterns/b_sides\.jsonl:2: duplicate id 'level\.joint_hyphen' "
                             r"\(first at patterns/a_levels\.jsonl:1\)"):
        load_patterns(tmp_path)


def test_load_patterns_reads_a_valid_file(tmp_path):
    write_patterns(tmp_path, "levels.jsonl", [
        "// joints", dict(GOOD, priority=2, note="L4-5", aliases=["level.old"]),
        {"id": "side.left_word", "label": "SIDE", "pattern": "left", "value": "left"},
    ])
    specs = load_patterns(tmp_path)
    assert [s.id for s in specs] == ["level.joint_hyphen", "side.left_word"]
    first, second = specs
    assert (first.priority, first.note, first.aliases, first.source) == (2, "L4-5", ("level.old",),
                                                                         "patterns/levels.jsonl:2")
    assert (second.priority, second.value, second.source) == (0, "left", "patterns/levels.jsonl:3")
    # Only the SpanRuler keys reach the ruler, so ruler.patterns round-trips.
    assert first.ruler_pattern() == GOOD


def test_load_patterns_ignores_other_files(tmp_path):
    write_patterns(tmp_path, "levels.jsonl", [GOOD])
    (tmp_path / "context_rules.json").write_text('{"not": "a pattern file"}', encoding="utf-8")
    assert [s.id for s in load_patterns(tmp_path)] == ["level.joint_hyphen"]


def test_shipped_patterns_load_and_follow_the_id_convention():
    specs = load_patterns(PATTERN_DIR)
    assert specs and all(isinstance(s, PatternSpec) for s in specs)
    bad = [s.id for s in specs if not re.fullmatch(r"[a-z0-9_]+\.[a-z0-9_]+", s.id)]
    assert bad == [], "ids must be <kind>.<variant>, lowercase"
    assert {s.label for s in specs} <= LABELS


def _word_values(spec: dict) -> list[str]:
    """The exact words a rule's token spec names (TEXT, ORTH, LOWER: a string or an IN list)."""
    words = []
    for attr in ("TEXT", "ORTH", "LOWER"):
        value = spec.get(attr)
        if isinstance(value, str):
            words.append(value)
        elif isinstance(value, dict):
            words.extend(w for w in value.get("IN", []) if isinstance(w, str))
    return words


@pytest.mark.parametrize("file, key", [("section_rules.json", "section_rules"), ("context_rules.json", "context_rules")])
def test_rule_words_are_one_token_each(file, key):
    # A spec naming "POST-PROCEDURE" never matches: the tokenizer splits it into
    # "POST", "-", "PROCEDURE", so the rule must name the three tokens.
    from extractor.nlp import get_nlp
    from extractor.patterns import load_json_data

    make_doc = get_nlp().make_doc
    split = [(rule["literal"], word) for rule in load_json_data(file)[key]
             for spec in rule.get("pattern") or [] if isinstance(spec, dict)
             for word in _word_values(spec) if word.strip() and len(make_doc(word)) > 1]
    assert split == []
