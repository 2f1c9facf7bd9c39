"""Stage 7: a drafted case + its ExtractedDocuments -> review page (HTML with offset-driven highlights).

The page shows the claim lines, the criteria with status and reason, the
documentation queries, and every document with every extracted fact
highlighted. Highlights are built from `Fact.start/end` over
`SourceText.text`; the text is never searched. PDFs are also shown as page
images (pypdfium2, embedded as ``data:`` URIs) with the fact boxes on top, so
the page is one self-contained file. Evidence in the contract JSON maps to
facts by ``(document, start, end)`` (and kind, when several facts share a span).
"""
from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePath
from urllib.parse import quote

from markupsafe import Markup, escape

from extractor.facts import FACT_KINDS, ExtractedDocument, Fact

from drafting.letter import CRITERION_TITLES, render_letters, us_date
from drafting.review_store import EDITABLE_KINDS, edit_text
from drafting.templating import render

__all__ = ["Mark", "highlight", "kind_colours", "fact_id", "fact_key", "value_text", "page_images",
           "review_context", "render_review", "TEMPLATE", "IMAGE_SCALE"]

TEMPLATE = "review.html.j2"
IMAGE_SCALE = 1.5  # 612 pt -> 918 px: sharp at 1280x800 and about 250 kB a page
_STATUS_LABELS = {"met": "Met", "not_met": "Not met", "missing": "Missing"}
_PROCEDURES = {"facet_rfa": "Facet RFA", "facet_block": "Medial branch block"}
_FLAGS = (("negated", "neg"), ("hypothetical", "hyp"), ("historical", "hist"))
_DECISION_CLASSES = {"accept": "acc", "reject": "rej", "correct": "cor"}


@dataclass(frozen=True)
class Mark:
    """One highlighted span over a text: `start` inclusive, `end` exclusive.

    `id` names the fact; every fragment of the span carries it as ``data-fact``,
    the first fragment also as its element ``id``. `attrs` are extra attributes
    (name, value) written on every fragment.
    """

    start: int
    end: int
    id: str
    kind: str
    pattern_id: str
    page: int | None = None
    classes: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()


def _css_name(kind: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", kind.lower())


def _attributes(mark: Mark, first: bool) -> list[tuple[str, str]]:
    """The attributes of one fragment's ``<mark>``, unescaped, in the order they are written."""
    classes = ["fact", f"k-{_css_name(mark.kind)}", *mark.classes] + ([] if first else ["cont"])
    attrs = [("id", mark.id)] if first else []
    attrs += [("class", " ".join(classes)), ("data-fact", mark.id), ("data-kind", mark.kind),
              ("data-pattern-id", mark.pattern_id), ("data-page", "" if mark.page is None else str(mark.page))]
    attrs += [("tabindex", "0")] if first else []
    return attrs + list(mark.attrs)


_SEP = "\x1f"  # a character `escape` leaves alone


def _escape_many(values: list[str]) -> list[str]:
    """`markupsafe.escape` of each value, in one call over the joined values when none holds the separator."""
    if not values:
        return []
    joined = _SEP.join(values)
    if joined.count(_SEP) == len(values) - 1:
        return str(escape(joined)).split(_SEP)
    return [str(escape(v)) for v in values]


def _tags(attr_lists: list[list[tuple[str, str]]]) -> list[str]:
    """One ``<mark ...>`` per attribute list, every name and value escaped.

    The escaping is the one ``Markup.format`` applies, done for all tags in one
    call: formatting a Markup per attribute was most of the page's render time.
    """
    flat = _escape_many([part for attrs in attr_lists for pair in attrs for part in pair])
    out, at = [], 0
    for attrs in attr_lists:
        n = 2 * len(attrs)
        pairs = flat[at:at + n]
        at += n
        out.append("<mark" + "".join(f' {pairs[j]}="{pairs[j + 1]}"' for j in range(0, n, 2)) + ">")
    return out


def highlight(text: str, marks: list[Mark]) -> Markup:
    """`text` as HTML with one ``<mark>`` per span; every plain segment escaped.

    Points are swept in order: at one offset, spans that end close before spans
    that start open, and of spans starting together the longer opens first, so
    nested spans nest. A span that ends while a span opened inside it is still
    open (an overlap) closes the inner one, and the inner one reopens as a
    continuation fragment (no ``id``, class ``cont``). Empty spans are skipped.
    Each span is one run of characters: its tag is written once where it opens
    (and again only where an overlap splits it), never per character.
    """
    spans = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    first_tags = _tags([_attributes(m, True) for m in spans])
    opens: dict[int, list[tuple[Mark, int]]] = {}
    closes: dict[int, set[int]] = {}
    for i, m in enumerate(spans):
        opens.setdefault(m.start, []).append((m, i))
        closes.setdefault(m.end, set()).add(i)
    out: list[str] = []
    stack: list[tuple[Mark, int]] = []
    pos = 0
    for point in sorted(set(opens) | set(closes)):
        out.append(str(escape(text[pos:point])))
        pos = point
        ending = closes.get(point, set())
        reopen = []
        while any(i in ending for _, i in stack):
            m, i = stack.pop()
            out.append("</mark>")
            if i not in ending:
                reopen.append((m, i))
        if reopen:
            cont_tags = _tags([_attributes(m, False) for m, _ in reversed(reopen)])
            for (m, i), tag in zip(reversed(reopen), cont_tags):
                out.append(tag)
                stack.append((m, i))
        for m, i in sorted(opens.get(point, []), key=lambda mi: (-mi[0].end, mi[1])):
            out.append(first_tags[i])
            stack.append((m, i))
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def kind_colours(kinds) -> list[dict]:
    """A fill and a border colour per kind, assigned by sorted kind (golden-angle hues)."""
    names = sorted(set(FACT_KINDS) | set(kinds))
    return [{"kind": k, "css": _css_name(k), "fill": f"hsl({round(i * 137.508) % 360} 80% 80%)",
             "line": f"hsl({round(i * 137.508) % 360} 70% 32%)"} for i, k in enumerate(names)]


def fact_id(doc_index: int, fact_index: int) -> str:
    return f"d{doc_index}-f{fact_index}"


def fact_key(doc: ExtractedDocument, fact: Fact) -> tuple[str, int, int, str]:
    """The identity of a fact across runs: document sha256, offsets and kind."""
    return (doc.sha256, fact.start, fact.end, fact.kind)


def value_text(value) -> str:
    """A fact value as one short line for reviewers."""
    if isinstance(value, dict):
        parts = [f"{k}: {value_text(v)}" for k, v in value.items() if v not in (None, [], "")]
        return "; ".join(parts)
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    return "" if value is None else str(value)


@lru_cache(maxsize=64)
def page_images(path: str, sha256: str, scale: float = IMAGE_SCALE) -> tuple[str, ...]:
    """One PNG ``data:`` URI per page of a PDF (cached per file content)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        uris = []
        for i in range(len(pdf)):
            buf = io.BytesIO()
            pdf[i].render(scale=scale).to_pil().save(buf, format="PNG")
            uris.append("data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"))
        return tuple(uris)
    finally:
        pdf.close()


def _fact_view(doc: ExtractedDocument, di: int, fi: int, fact: Fact, decisions: dict) -> tuple[Mark, dict]:
    decision = decisions.get(fact_key(doc, fact))
    decision = decision.to_dict() if hasattr(decision, "to_dict") else decision
    action = decision["action"] if decision else None
    value = decision["value"] if action == "correct" else fact.value
    flags = [name for name, _ in _FLAGS if getattr(fact, name)]
    classes = tuple(css for name, css in _FLAGS if getattr(fact, name))
    classes += (_DECISION_CLASSES[action],) if action in _DECISION_CLASSES else ()
    said = f"{action}ed by {decision['reviewer']} at {decision['decided_at']}" if decision else ""
    attrs = (("data-start", str(fact.start)), ("data-end", str(fact.end)), ("data-value", value_text(value)),
             ("data-flags", " ".join(flags)), ("data-decision", said))
    if fact.kind in EDITABLE_KINDS:
        attrs += (("data-edit", edit_text(fact.kind, value)),)
    mark = Mark(fact.start, fact.end, fact_id(di, fi), fact.kind, fact.pattern_id, fact.page, classes, attrs)
    return mark, {"id": mark.id, "kind": fact.kind, "css": _css_name(fact.kind), "classes": classes}


def _boxes(fact: Fact, view: dict, pages) -> list[dict]:
    out = []
    for page, x0, top, x1, bottom in fact.boxes:
        if not 1 <= page <= len(pages):
            continue
        w, h = pages[page - 1].width, pages[page - 1].height
        out.append({**view, "page": page, "left": round(100 * x0 / w, 3), "top": round(100 * top / h, 3),
                    "width": round(100 * (x1 - x0) / w, 3), "height": round(100 * (bottom - top) / h, 3)})
    return out


def _document(doc: ExtractedDocument, di: int, meta: dict, decisions: dict) -> dict:
    marks, boxes = [], []
    for fi, fact in enumerate(doc.facts):
        mark, view = _fact_view(doc, di, fi, fact, decisions)
        marks.append(mark)
        boxes.extend(_boxes(fact, view, doc.source.pages))
    images = page_images(doc.path, doc.sha256) if doc.source.kind == "pdf" else ()
    pages = [{"number": p.number, "src": images[i] if i < len(images) else "",
              "boxes": [b for b in boxes if b["page"] == p.number]} for i, p in enumerate(doc.source.pages)]
    return {"index": di, "anchor": f"doc-{di}", "name": PurePath(doc.path).name, "sha256": doc.sha256,
            "kind": meta.get("kind") or "", "date": us_date(meta.get("date")) or "undated",
            "pages": pages if images else [], "html": highlight(doc.text, marks), "fact_count": len(marks)}


class _EvidenceIndex:
    """(document, start, end) -> fact ids of the page, for contract-JSON evidence."""

    def __init__(self, docs: list[ExtractedDocument]) -> None:
        self.spans: dict[tuple, list[tuple[str, str]]] = {}
        self.unlinked: set[tuple] = set()
        for di, doc in enumerate(docs):
            for fi, f in enumerate(doc.facts):
                self.spans.setdefault((doc.path, f.start, f.end), []).append((f.kind, fact_id(di, fi)))

    def ids(self, evidence: list[dict] | None) -> list[str]:
        out: list[str] = []
        for ev in evidence or []:
            span = (ev.get("document"), ev.get("start"), ev.get("end"))
            found = self.spans.get(span, [])
            same_kind = [i for k, i in found if k == ev.get("kind")] or [i for _, i in found]
            if not same_kind:
                self.unlinked.add(span)
            out += [i for i in same_kind[:1] if i not in out]
        return out

    def citations(self, evidence: list[dict] | None) -> list[dict]:
        out = []
        for ev in evidence or []:
            ids = self.ids([ev])
            if ids and all(c["facts"] != ids[0] for c in out):
                page = f" p. {ev['page']}" if ev.get("page") else ""
                out.append({"facts": ids[0], "label": f"{PurePath(ev.get('document') or '').name}{page}",
                            "text": re.sub(r"\s+", " ", ev.get("text") or "").strip()})
        return out


def _claim(claim: dict, index: _EvidenceIndex, ci: int) -> dict:
    lines = [{"code": "-".join([line["cpt"], *line.get("modifiers", [])]), "units": line["units"],
              "joints": ", ".join(line.get("joints") or []), "facts": " ".join(index.ids(line.get("evidence")))}
             for line in claim.get("lines") or []]
    criteria = [{"id": c["id"], "anchor": f"c{ci}-{c['id']}", "title": CRITERION_TITLES.get(c["id"], c["id"]),
                 "status": c["status"], "status_label": _STATUS_LABELS.get(c["status"], c["status"]),
                 "reason": c.get("reason") or "", "facts": " ".join(index.ids(c.get("evidence"))),
                 "citations": index.citations(c.get("evidence"))} for c in claim.get("criteria") or []]
    issues = [{"label": label, "message": item["message"], "facts": " ".join(index.ids(item.get("evidence")))}
              for label, key in (("Gap", "gaps"), ("Conflict", "conflicts")) for item in claim.get(key) or []]
    return {"anchor": f"claim-{ci}", "title": f"{_PROCEDURES.get(claim['procedure'], claim['procedure'])}, "
            f"{us_date(claim.get('date_of_service')) or 'undated'}", "status": claim["status"],
            "status_label": "Ready" if claim["status"] == "ready" else "Needs review", "lines": lines,
            "criteria": criteria, "issues": issues,
            "queries": [{"text": q["query"], "because": q.get("because") or "", "severity": q.get("severity") or ""}
                        for q in claim.get("queries") or []]}


def review_context(case: dict, docs: list[ExtractedDocument], decisions: dict | None = None, *,
                   case_ids: list[str] | None = None, serve: bool = False) -> dict:
    """Everything review.html.j2 prints for one case of the contract JSON.

    Args:
        case: one entry of ``draft_documents(...)["cases"]``.
        docs: extracted documents (any superset of the case's documents), as extracted:
            reviewer decisions are shown on them, not applied to them.
        decisions: fact_key -> `Decision` (or its ``to_dict()``) in force.
        case_ids: every case of the run, for the case switcher.
        serve: True when served by `facet-claims serve` (decisions can be made).
    """
    by_path = {d.path: d for d in docs}
    metas = [m for m in case["documents"] if m["path"] in by_path]
    case_docs = [by_path[m["path"]] for m in metas]
    index = _EvidenceIndex(case_docs)
    documents = [_document(d, di, m, decisions or {}) for di, (d, m) in enumerate(zip(case_docs, metas))]
    claims = [_claim(c, index, ci) for ci, c in enumerate(case["claims"])]
    prefix = "/" if serve else "../"
    return {
        "case_id": case["case_id"], "patient": (case.get("patient") or {}).get("name") or "unknown patient",
        "cases": [{"id": c, "href": f"{prefix}{quote(c, safe='')}/review.html", "current": c == case["case_id"]}
                  for c in case_ids or [case["case_id"]]],
        "claims": claims, "documents": documents, "warnings": list(case.get("warnings") or []),
        "colours": kind_colours({f.kind for d in case_docs for f in d.facts}),
        "letters": [{"name": n, "text": t} for n, t in render_letters(case).items() if n.endswith(".md")],
        "unlinked": len(index.unlinked), "serve": serve}


def render_review(case: dict, docs: list[ExtractedDocument], decisions: dict | None = None, **kwargs) -> str:
    """The review page of one case as a self-contained HTML string (see `review_context`).

    Raises:
        TemplateRenderError: the template is missing or uses a value not computed here.
    """
    return render(TEMPLATE, review_context(case, docs, decisions, **kwargs))
