"""The review page (drafting/review.py), its decisions (review_store.py), server and commands.

Exact-HTML tests pin the highlighter: one span, nested spans, overlapping
spans, and text that looks like markup. Page tests use corpus case c01 (made
up patients); failure messages name ids and offsets, never document text.
"""
from __future__ import annotations

import json
import random
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from drafting.cli import cli
from drafting.draft import draft_documents, expand_paths, extract_all
from drafting.review import Mark, fact_key, highlight, kind_colours, render_review, review_context
from drafting.review_server import LOCALHOST, ReviewRun, make_server
from drafting.review_store import DecisionStore, ReviewError, apply_decisions, edit_text, parse_correction
from drafting.templating import environment
from extractor.facts import ExtractedDocument, Fact
from extractor.sourcetext import SourceText

REPO = Path(__file__).resolve().parents[2]
C01 = REPO / "corpus" / "c01_demo_bilateral" / "docs"
ATTRS = 'data-kind="{k}" data-pattern-id="{p}" data-page="{g}"'


def tag(id_: str, kind: str, pid: str, page: str = "", first: bool = True) -> str:
    """The opening <mark> the highlighter writes (first fragment, or a continuation)."""
    head = f'<mark id="{id_}" class="fact k-{kind}"' if first else f'<mark class="fact k-{kind} cont"'
    tab = ' tabindex="0"' if first else ""
    return f'{head} data-fact="{id_}" {ATTRS.format(k=kind, p=pid, g=page)}{tab}>'


@lru_cache(maxsize=None)
def c01() -> tuple[dict, tuple[ExtractedDocument, ...]]:
    docs, errors = extract_all(expand_paths([str(C01)]))
    return draft_documents(docs, errors=errors), tuple(docs)


def fact(kind="side", value="left", start=0, end=4, text="left", **kw) -> Fact:
    return Fact(kind=kind, value=value, start=start, end=end, text=text, pattern_id=f"{kind}.test", **kw)


# --------------------------------------------------------------------------- highlighter, exact HTML

# fmt: off
@pytest.mark.parametrize("text, marks, expected", [
    ("left L4-5", [Mark(5, 9, "a", "level", "level.range_hyphen", 1)],
     "left " + tag("a", "level", "level.range_hyphen", "1") + "L4-5</mark>"),
    ("left L4-5 joint", [Mark(0, 9, "a", "level", "p.a"), Mark(5, 9, "b", "side", "p.b")],
     tag("a", "level", "p.a") + "left " + tag("b", "side", "p.b") + "L4-5</mark></mark> joint"),
    ("abcdef", [Mark(0, 4, "a", "date", "p.a"), Mark(2, 6, "b", "side", "p.b")],
     tag("a", "date", "p.a") + "ab" + tag("b", "side", "p.b") + "cd</mark></mark>"
     + tag("b", "side", "p.b", first=False) + "ef</mark>"),
    ("x <script>alert(1)</script> & \"q\"", [Mark(2, 10, "a", "side", "p.a")],
     "x " + tag("a", "side", "p.a") + "&lt;script&gt;</mark>alert(1)&lt;/script&gt; &amp; &#34;q&#34;"),
    ("ab", [Mark(0, 0, "a", "side", "p.a"), Mark(1, 9, "b", "side", "p.b")], "ab"),
    ("abcd", [Mark(0, 2, "a", "side", "p.a"), Mark(2, 4, "b", "date", "p.b")],
     tag("a", "side", "p.a") + "ab</mark>" + tag("b", "date", "p.b") + "cd</mark>"),
], ids=["one_span", "nested", "overlapping", "script_escaped", "empty_and_out_of_range_skipped", "adjacent"])
# fmt: on
def test_highlight_exact_html(text, marks, expected):
    assert str(highlight(text, marks)) == expected


def test_highlight_escapes_attribute_values():
    html = str(highlight("ab", [Mark(0, 2, 'x"y', "side", "p.<a>", attrs=(("data-value", "<b>&\""),))]))
    assert 'id="x&#34;y"' in html and 'data-pattern-id="p.&lt;a&gt;"' in html
    assert 'data-value="&lt;b&gt;&amp;&#34;"' in html


def test_highlight_escapes_values_holding_the_batch_separator():
    # Tags are escaped in one batch joined by \x1f; a value holding one is escaped on its own.
    marks = [Mark(0, 1, "a", "side", "p", attrs=(("data-value", "<\x1f&"),)), Mark(1, 2, "b", "side", "p<")]
    html = str(highlight("ab", marks))
    assert 'data-value="&lt;\x1f&amp;"' in html and 'data-pattern-id="p&lt;"' in html


def test_highlight_text_survives_markup_removal():
    text = "Left L4-L5 and L5-S1 <b>medial</b> branches"
    marks = [Mark(0, 20, "a", "level", "p"), Mark(5, 10, "b", "level", "p"), Mark(8, 25, "c", "side", "p")]
    import html as html_lib
    import re

    assert html_lib.unescape(re.sub(r"<[^>]+>", "", str(highlight(text, marks)))) == text


class _Coverage(HTMLParser):
    """Offsets of the text each ``data-fact`` covers, and how often each fact's first fragment (its ``id``) appears."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pos, self.stack = 0, []
        self.covered: dict[str, set[int]] = {}
        self.firsts: dict[str, int] = {}

    def handle_starttag(self, tag, attrs):
        assert tag == "mark", tag
        attrs = dict(attrs)
        self.stack.append(attrs["data-fact"])
        if "id" in attrs:
            assert attrs["id"] == attrs["data-fact"]
            self.firsts[attrs["id"]] = self.firsts.get(attrs["id"], 0) + 1

    def handle_endtag(self, tag):
        self.stack.pop()

    def handle_data(self, data):
        for fid in self.stack:
            self.covered.setdefault(fid, set()).update(range(self.pos, self.pos + len(data)))
        self.pos += len(data)


def _coverage(text: str, marks: list[Mark]) -> _Coverage:
    parser = _Coverage()
    parser.feed(str(highlight(text, marks)))
    parser.close()
    assert parser.pos == len(text) and not parser.stack
    return parser


@pytest.mark.parametrize("seed", range(30))
def test_highlight_covers_exactly_each_span_on_random_overlaps(seed):
    rng = random.Random(seed)
    text = "".join(rng.choice("ab <&>\"'\n") for _ in range(60))
    marks = []
    for i in range(12):
        start = rng.randrange(0, 60)
        marks.append(Mark(start, min(60, start + rng.randrange(0, 15)), f"m{i}", rng.choice(["side", "level"]), "p"))
    found = _coverage(text, marks)
    for m in marks:
        want = set(range(m.start, m.end))
        assert found.covered.get(m.id, set()) == want, m.id
        assert found.firsts.get(m.id, 0) == (1 if want else 0), m.id


def test_review_highlights_cover_exactly_the_fact_spans_of_each_document():
    result, docs = c01()
    for case in result["cases"]:
        ctx = review_context(case, list(docs))
        by_path = {d.path: d for d in docs}
        for di, meta in enumerate(case["documents"]):
            doc = by_path[meta["path"]]
            found = _Coverage()
            found.feed(str(ctx["documents"][di]["html"]))
            found.close()
            assert found.pos == len(doc.text)
            for fi, f in enumerate(doc.facts):
                fid = f"d{di}-f{fi}"
                assert found.covered.get(fid, set()) == set(range(f.start, f.end)), fid
                assert found.firsts.get(fid) == 1, fid


def test_kind_colours_are_assigned_by_sorted_kind():
    first, again = kind_colours({"zeta_kind", "level"}), kind_colours({"level", "zeta_kind"})
    assert first == again
    assert [c["kind"] for c in first] == sorted(c["kind"] for c in first)
    assert len({c["fill"] for c in first}) == len(first)


def test_review_template_is_autoescaped():
    assert environment().autoescape("review.html.j2") is True
    assert environment().autoescape("_review_claim.html.j2") is True


# --------------------------------------------------------------------------- page model

def test_review_evidence_maps_to_facts_by_offsets():
    result, docs = c01()
    case = result["cases"][0]
    ctx = review_context(case, list(docs))
    by_id = {}
    for di, meta in enumerate(case["documents"]):
        doc = next(d for d in docs if d.path == meta["path"])
        by_id.update({f"d{di}-f{fi}": (doc.path, f.start, f.end) for fi, f in enumerate(doc.facts)})
    assert ctx["unlinked"] == 0
    for claim, drafted in zip(ctx["claims"], case["claims"]):
        for line, dline in zip(claim["lines"], drafted["lines"]):
            spans = {(e["document"], e["start"], e["end"]) for e in dline["evidence"]}
            assert {by_id[i] for i in line["facts"].split()} == spans, line["code"]
        for crit in claim["criteria"]:
            if crit["status"] in ("met", "not_met"):
                assert crit["facts"], crit["id"]


def test_review_page_is_self_contained_and_escaped(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text("Patient: Test Person\nDate of Service: 03/10/2026\nSide: left <script>alert(1)</script>\n")
    docs, errors = extract_all([note])
    source = docs[0].source
    start = source.text.index("<script>")
    doc = replace(docs[0], facts=docs[0].facts + (fact(start=start, end=start + 8, text="<script>"),))
    case = {"case_id": "x", "patient": {"name": "<b>T</b>"}, "documents": [{"path": doc.path, "kind": "clinic_note",
            "date": None}], "claims": [], "warnings": []}
    html = render_review(case, [doc])
    assert "<script>alert" not in html and "&lt;script&gt;</mark>alert(1)&lt;/script&gt;" in html
    assert "<b>T</b>" not in html and "&lt;b&gt;T&lt;/b&gt;" in html
    assert html.count("<script") == 1  # the page's own inline script only
    for external in ("src=\"http", "href=\"http", "<link", "url(", "@import", "@font-face"):
        assert external not in html, external


def test_review_page_shows_decisions():
    result, docs = c01()
    doc = docs[0]
    f = doc.facts[0]
    decisions = {fact_key(doc, f): {"action": "reject", "value": None, "reviewer": "R", "decided_at": "T"}}
    html = render_review(result["cases"][0], list(docs), decisions)
    assert 'class="fact k-' + f.kind + ' rej"' in html and 'data-decision="rejected by R at T"' in html


# --------------------------------------------------------------------------- decisions

# fmt: off
@pytest.mark.parametrize("kind, value, text, expected", [
    ("side", "left", "Bilateral", "bilateral"),
    ("level", {"joints": ["L4-L5"], "form": "joint", "nerves": [], "side": "left"}, "right L4-5, L5-S1",
     {"joints": ["L4-L5", "L5-S1"], "form": "joint", "nerves": [], "side": "right"}),
    ("level", {"joints": [], "form": "nerve", "nerves": ["L2"], "side": None}, "left L2, L3 and L4",
     {"joints": ["L3-L4", "L4-L5"], "form": "nerve", "nerves": ["L2", "L3", "L4"], "side": "left"}),
    ("relief", {"percent": 50.0, "basis": "percent", "duration_hours": 3.0}, "85% 6h",
     {"percent": 85.0, "basis": "percent", "duration_hours": 6.0}),
    ("relief", {"percent": 50.0, "basis": "percent", "duration_hours": 3.0}, "90",
     {"percent": 90.0, "basis": "percent", "duration_hours": 3.0}),
    ("date", "2026-01-01", "03/10/2026", "2026-03-10"),
    ("service_date", "2026-01-01", "2026-03-09", "2026-03-09"),
])
# fmt: on
def test_parse_correction_gives_the_extractor_shape(kind, value, text, expected):
    assert parse_correction(fact(kind=kind, value=value), text) == expected


@pytest.mark.parametrize("kind, text", [("side", "up"), ("level", "L99"), ("relief", "150%"), ("date", "13/45/2026"),
                                        ("procedure", "facet_rfa")])
def test_parse_correction_rejects_bad_values(kind, text):
    with pytest.raises(ReviewError):
        parse_correction(fact(kind=kind, value=None), text)


def test_edit_text_round_trips():
    level = fact(kind="level", value={"joints": ["L4-L5"], "form": "joint", "nerves": [], "side": "left"})
    assert parse_correction(level, edit_text("level", level.value)) == level.value
    relief = fact(kind="relief", value={"percent": 80.0, "basis": "percent", "duration_hours": 6.0})
    assert edit_text("relief", relief.value) == "80% 6h"


def test_store_keeps_an_audit_trail_and_the_latest_decision(tmp_path):
    doc = ExtractedDocument(path="/x/note.txt", sha256="s" * 64, source=SourceText("left"), facts=(fact(),))
    store = DecisionStore(tmp_path / "review.sqlite")
    store.record(doc, doc.facts[0], "reject", "Ann", now="2026-01-01T00:00:00Z")
    store.record(doc, doc.facts[0], "correct", " Bo ", "right", now="2026-01-02T00:00:00Z")
    store.close()
    store = DecisionStore(tmp_path / "review.sqlite")  # a second run finds them again
    assert [d.action for d in store.history()] == ["reject", "correct"]
    (current,) = store.current().values()
    assert (current.key, current.value, current.reviewer) == (("s" * 64, 0, 4, "side"), "right", "Bo")
    out = tmp_path / "gold.jsonl"
    assert store.export_jsonl(out) == 1
    row = json.loads(out.read_text())
    assert (row["gold_value"], row["original"], row["document"], row["decided_at"]) == \
        ("right", "left", "note.txt", "2026-01-02T00:00:00Z")
    store.record(doc, doc.facts[0], "clear", "Bo")
    assert store.current() == {} and len(store.history()) == 3
    with pytest.raises(ReviewError):
        store.record(doc, doc.facts[0], "accept", "  ")
    store.close()


def test_apply_decisions_removes_rejected_and_replaces_corrected(tmp_path):
    facts = (fact(), fact(kind="date", value="2026-01-01", start=5, end=15, text="01/01/2026"))
    doc = ExtractedDocument(path="n.txt", sha256="h", source=SourceText("left 01/01/2026"), facts=facts)
    store = DecisionStore(tmp_path / "review.sqlite")
    store.record(doc, facts[0], "reject", "Ann")
    store.record(doc, facts[1], "correct", "Ann", "2026-02-02")
    (out,) = apply_decisions([doc], store.current())
    assert [(f.kind, f.value) for f in out.facts] == [("date", "2026-02-02")]
    assert doc.facts == facts  # the extracted document is left as it was
    store.close()


# --------------------------------------------------------------------------- commands and server

def test_review_command_writes_one_page_per_case(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["review", str(C01), "--out", str(out), "--export-decisions",
                                      str(tmp_path / "d.jsonl")])
    assert result.exit_code == 0, result.output
    pages = sorted(out.glob("*/review.html"))
    assert [p.parent.name for p in pages] == [c["case_id"] for c in c01()[0]["cases"]]
    assert (out / "review.sqlite").is_file() and (tmp_path / "d.jsonl").read_text() == ""


@pytest.fixture()
def server(tmp_path):
    run = ReviewRun([str(C01)], tmp_path)
    srv = make_server(run, 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield run, f"http://{LOCALHOST}:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
    run.close()


def _post(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url + "/api/decisions", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_server_binds_localhost_and_records_decisions(server):
    run, url = server
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url + "/") as response:  # redirected to the first case
        assert response.url.endswith("/review.html") and 'data-serve="true"' in response.read().decode()
    rfa = next(d for d in run.docs if "rfa" in d.path)
    level = next(f for f in rfa.facts if f.kind == "level" and f.value["joints"] == ["L5-S1"])
    body = {"sha256": rfa.sha256, "start": level.start, "end": level.end, "kind": "level", "reviewer": "Ann"}
    lines = lambda: [line["cpt"] for c in run.result["cases"][0]["claims"] for line in c["lines"]]  # noqa: E731
    before = lines()
    assert _post(url, {**body, "action": "reject"}, {"Origin": "http://evil.example"})[0] == 403
    status, answer = _post(url, {**body, "action": "explode"})
    assert (status, answer["ok"], answer["error"][:6]) == (400, False, "[E206]")
    status, answer = _post(url, {**body, "action": "reject"})
    assert (status, answer["ok"], answer["action"]) == (200, True, "reject")
    assert answer["page"] == f"/{run.case_ids[0]}/review.html"
    assert lines() != before
    with urllib.request.urlopen(url + "/api/decisions.jsonl") as response:
        assert json.loads(response.read())["action"] == "reject"
