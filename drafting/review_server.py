"""Stage 7 (review): documents + decisions -> re-drafted review pages, served on 127.0.0.1.

`ReviewRun` holds one run of the tool: the documents as extracted (once), the
decision store beside the outputs (``OUT/review.sqlite``) and the current
draft, which is the contract JSON of `draft_documents` over the documents with
the decisions in force applied. Every new decision re-drafts, so claim lines,
criteria and the letter follow the corrected facts.

`make_server` serves the pages with the standard library's ThreadingHTTPServer,
bound to 127.0.0.1 only. The request log never names a path (case ids are
built from the MRN and date of birth) and never shows document text.
"""
from __future__ import annotations

import json
import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from drafting.draft import draft_documents, expand_paths, extract_all
from drafting.outputs import atomic_write
from drafting.review import render_review
from drafting.review_store import STORE_NAME, DecisionStore, ReviewError, apply_decisions

__all__ = ["ReviewRun", "make_server", "LOCALHOST", "PAGE_NAME"]

LOCALHOST = "127.0.0.1"
PAGE_NAME = "review.html"
MAX_BODY = 64 * 1024
log = logging.getLogger(__name__)


class ReviewRun:
    """Extracted documents, the reviewer decisions on them and the draft they give.

    Args:
        paths: documents and folders, as on the command line.
        out_dir: where pages and review.sqlite are written.
        setting, profile: passed to `draft_documents`.
    """

    def __init__(self, paths: list[str], out_dir: str | Path, setting: str = "office", profile: str = "default") -> None:
        self.out_dir = Path(out_dir)
        self.setting, self.profile = setting, profile
        self.docs, self.errors = extract_all(expand_paths(list(paths)))
        self.store = DecisionStore(self.out_dir / STORE_NAME)
        self._lock = threading.RLock()
        self.redraft()

    def close(self) -> None:
        self.store.close()

    def redraft(self) -> None:
        """Apply the decisions in force to the documents and draft again."""
        with self._lock:
            self.decisions = self.store.current()
            corrected = apply_decisions(self.docs, self.decisions)
            self.result = draft_documents(corrected, setting=self.setting, profile_name=self.profile,
                                          errors=self.errors)
            self._pages: dict[tuple[str, bool], str] = {}

    @property
    def case_ids(self) -> list[str]:
        return [c["case_id"] for c in self.result["cases"]]

    def page(self, case_id: str, serve: bool = False) -> str | None:
        """The review page of one case (None for an unknown case id)."""
        with self._lock:
            if (case_id, serve) not in self._pages:
                case = next((c for c in self.result["cases"] if c["case_id"] == case_id), None)
                if case is None:
                    return None
                self._pages[(case_id, serve)] = render_review(case, self.docs, self.decisions,
                                                              case_ids=self.case_ids, serve=serve)
            return self._pages[(case_id, serve)]

    def write_pages(self) -> list[Path]:
        """Write OUT/<case_id>/review.html for every case; returns the files written."""
        written = []
        for case_id in self.case_ids:
            path = self.out_dir / case_id / PAGE_NAME
            atomic_write(path, self.page(case_id, serve=False))
            written.append(path)
        return written

    def decide(self, payload: dict) -> dict:
        """Record one decision sent by the page, re-draft, and say which page now shows its document.

        Raises:
            ReviewError: the payload does not name a fact of these documents, or the decision is invalid.
        """
        try:
            sha, start, end, kind = (str(payload["sha256"]), int(payload["start"]), int(payload["end"]),
                                     str(payload["kind"]))
        except (KeyError, TypeError, ValueError):
            raise ReviewError("[E208] a decision names sha256, start, end and kind of a fact") from None
        doc = next((d for d in self.docs if d.sha256 == sha), None)
        fact = next((f for f in doc.facts if (f.start, f.end, f.kind) == (start, end, kind)), None) if doc else None
        if fact is None:
            raise ReviewError("[E209] no such fact in the documents of this run")
        value = payload.get("value")
        with self._lock:
            decision = self.store.record(doc, fact, str(payload.get("action") or ""), str(payload.get("reviewer") or ""),
                                         None if value is None else str(value))
            self.redraft()
            self.write_pages()
            # A decision on a name, MRN or date of birth can move the document to another case.
            case_id = next((c["case_id"] for c in self.result["cases"]
                            if any(d["sha256"] == sha for d in c["documents"])), None)
        page = f"/{quote(case_id, safe='')}/{PAGE_NAME}" if case_id else "/"
        return {**decision.to_dict(), "page": page}


class _Handler(BaseHTTPRequestHandler):
    """Routes: GET /, GET /<case_id>/review.html, GET /api/decisions.jsonl, POST /api/decisions."""

    run: ReviewRun
    server_version = "facet-claims-review"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the stdlib's signature
        log.debug("%s %s", self.command, getattr(self, "_status", "-"))

    def _send(self, status: int, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self._status = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _local_request(self) -> bool:
        """Refuse requests whose Host or Origin is not this server (DNS rebinding, cross-site posts)."""
        port = self.server.server_address[1]
        allowed = {f"{LOCALHOST}:{port}", f"localhost:{port}"}
        origin = self.headers.get("Origin")
        return self.headers.get("Host") in allowed and (origin is None or origin.split("://", 1)[-1] in allowed)

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if not self._local_request():
            return self._send(HTTPStatus.FORBIDDEN, b"forbidden\n", "text/plain")
        path = urlsplit(self.path).path
        if path == "/":
            ids = self.run.case_ids
            if not ids:
                return self._send(HTTPStatus.OK, b"No cases were drafted from these documents.\n", "text/plain")
            return self._send(HTTPStatus.FOUND, b"", "text/plain", {"Location": f"/{quote(ids[0], safe='')}/{PAGE_NAME}"})
        if path == "/api/decisions.jsonl":
            body = "".join(line + "\n" for line in self.run.store.export_lines()).encode()
            return self._send(HTTPStatus.OK, body, "application/x-ndjson")
        parts = path.strip("/").split("/")
        page = self.run.page(unquote(parts[0]), serve=True) if len(parts) == 2 and parts[1] == PAGE_NAME else None
        if page is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain")
        return self._send(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        if urlsplit(self.path).path != "/api/decisions":
            return self._json(HTTPStatus.NOT_FOUND, {"ok": False, "error": "not found"})
        if not self._local_request() or not self.headers.get("Content-Type", "").startswith("application/json"):
            return self._json(HTTPStatus.FORBIDDEN, {"ok": False, "error": "forbidden"})
        length = int(self.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY:
            return self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "empty or too large request"})
        try:
            payload = json.loads(self.rfile.read(length))
            if not isinstance(payload, dict):
                raise ReviewError("[E208] a decision is a JSON object")
            decision = self.run.decide(payload)
        except json.JSONDecodeError:
            return self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": "not JSON"})
        except ReviewError as exc:
            return self._json(HTTPStatus.BAD_REQUEST, {"ok": False, "error": str(exc)})
        return self._json(HTTPStatus.OK, {"ok": True, "action": decision["action"], "page": decision["page"]})


def make_server(run: ReviewRun, port: int = 0) -> ThreadingHTTPServer:
    """A server for `run` on 127.0.0.1:`port` (0 picks a free port); call serve_forever() on it."""
    handler = type("ReviewHandler", (_Handler,), {"run": run})
    server = ThreadingHTTPServer((LOCALHOST, port), handler)
    server.daemon_threads = True
    return server
