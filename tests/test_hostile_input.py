"""Hostile input: every bad file gets one clear line naming it and its problem,
never a traceback or a hang, and the good notes beside it draft as usual.

The batch runs as a person would run it, `facet-claims draft FOLDER --json`
in a subprocess, with small limits set through FACET_CLAIMS_* variables so the
oversized cases stay small. Note text is made up; no real patient data.
"""
from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from fpdf import FPDF

from extractor.errors import IngestError
from extractor.ingest import read_document

GOOD_NOTE = """PAIN MANAGEMENT PROCEDURE NOTE
Patient: Test Person
DOB: 01/02/1960
Date of Service: 03/04/2026
Procedure: Right L4-L5 and L5-S1 medial branch block under fluoroscopic guidance.
Injectate: 2% lidocaine 0.5 mL per level. No steroid.
Pre-procedure pain 7/10. Post-procedure pain 1/10, 85% relief for 3 hours.
"""
# Limits for the batch: bytes, pages and characters small enough to test cheaply.
LIMITS = {"FACET_CLAIMS_MAX_BYTES": "3000000", "FACET_CLAIMS_MAX_PAGES": "5",
          "FACET_CLAIMS_MAX_CHARS": "200000", "FACET_CLAIMS_MAX_SECONDS": "60"}


# ---------------------------------------------------------------- makers


def text_pdf(path: Path, pages: int = 1, encrypt: bool = False) -> Path:
    pdf = FPDF(format="letter", unit="pt")
    pdf.set_font("helvetica", size=10)
    if encrypt:
        pdf.set_encryption(owner_password="owner-secret", user_password="user-secret")
    for i in range(pages):
        pdf.add_page()
        pdf.text(40, 60, f"Procedure note page {i + 1}: right L4-L5 medial branch block")
    pdf.output(str(path))
    return path


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from object bodies (1 0 obj is the catalog), with a correct xref."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(head: bytes, data: bytes) -> bytes:
    return head + f" /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def _zeros(n: int) -> bytes:
    packer, block = zlib.compressobj(9), b"\0" * (1 << 20)
    return b"".join([packer.compress(block) for _ in range(n >> 20)] + [packer.flush()])


def image_bomb(path: Path, side: int = 30000) -> Path:
    """One page showing a 1-bit image of side x side pixels: ~110 KB on disk, 900 Mpx decoded."""
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>")
    image = _stream(f"<< /Type /XObject /Subtype /Image /Width {side} /Height {side} /BitsPerComponent 1 "
                    f"/ColorSpace /DeviceGray /Filter /FlateDecode".encode(), _zeros(side * side // 8))
    path.write_bytes(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                              page, _stream(b"<<", b"q 612 0 0 792 0 0 cm /Im1 Do Q"), image]))
    return path


def stream_bomb(path: Path, size: int = 400 << 20) -> Path:
    """One page whose content stream inflates to `size` bytes (~400 KB on disk)."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>"
    path.write_bytes(raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                              page, _stream(b"<< /Filter /FlateDecode", _zeros(size))]))
    return path


def hostile_folder(root: Path) -> tuple[Path, dict[str, str]]:
    """An inbox of good notes and hostile files; returns it and {file name: expected error code}."""
    inbox = root / "inbox"
    inbox.mkdir()
    good_names = ["good note.txt", "résumé ünïcode – note.txt", "a;b&c$(echo x)'q\".txt", "good.pdf"]
    for name in good_names[:3]:
        (inbox / name).write_text(GOOD_NOTE, encoding="utf-8")
    pdf = FPDF(format="letter", unit="pt")
    pdf.set_font("helvetica", size=10)
    pdf.add_page()
    for i, line in enumerate(GOOD_NOTE.splitlines()):
        pdf.text(40, 60 + 14 * i, line)
    pdf.output(str(inbox / "good.pdf"))
    (inbox / "invalid utf8.txt").write_bytes(GOOD_NOTE.encode("utf-8").replace(b"Test", b"T\xe9st\xff"))

    expected = {}
    text_pdf(inbox / "encrypted.pdf", encrypt=True)
    expected["encrypted.pdf"] = "[E004]"
    whole = text_pdf(root / "whole.pdf").read_bytes()
    (inbox / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    expected["truncated.pdf"] = "[E003]"
    (inbox / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    expected["corrupt.pdf"] = "[E003]"
    (inbox / "empty.txt").write_bytes(b"")
    expected["empty.txt"] = "[E002]"
    (inbox / "junk.txt").write_bytes(bytes((i * 131 + 7) % 256 for i in range(5000)))
    expected["junk.txt"] = "[E008]"
    (inbox / "huge.txt").write_bytes(b"pain 7/10 " * 350_000)  # 3.5 MB > 3 MB limit
    expected["huge.txt"] = "[E005]"
    text_pdf(inbox / "many pages.pdf", pages=6)
    expected["many pages.pdf"] = "[E006]"
    image_bomb(inbox / "image bomb.pdf")
    expected["image bomb.pdf"] = "[E014]" if _ocr_on() else "[E007]"
    stream_bomb(inbox / "stream bomb.pdf")
    expected["stream bomb.pdf"] = "[E014]"
    (inbox / "long line.txt").write_bytes(b"L4-5 " * 400_000)  # 2,000,000 characters on one line
    expected["long line.txt"] = "[E013]"
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(GOOD_NOTE, encoding="utf-8")
    (inbox / "link out.txt").symlink_to(outside / "secret.txt")
    expected["link out.txt"] = "[E010]"
    return inbox, expected


def _ocr_on() -> bool:
    from extractor import ocr

    return ocr.available()


def draft_json(folder: Path, env_extra: dict[str, str], timeout: float = 240) -> tuple[dict, str, int, float]:
    env = {**os.environ, **env_extra}
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "drafting", "draft", str(folder), "--json"], capture_output=True,
                          text=True, timeout=timeout, env=env)
    return json.loads(proc.stdout), proc.stderr, proc.returncode, time.monotonic() - t0


def _links_refused_by_draft() -> bool:
    from drafting import draft

    return "errors" in inspect.signature(draft.expand_paths).parameters or \
        "inbox" in inspect.signature(draft.extract_all).parameters


# ---------------------------------------------------------------- the batch


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    inbox, expected = hostile_folder(tmp_path_factory.mktemp("hostile"))
    result, stderr, code, seconds = draft_json(inbox, LIMITS)
    return inbox, expected, result, stderr, code, seconds


def test_batch_exits_1_without_traceback_in_bounded_time(batch):
    _, _, _, stderr, code, seconds = batch
    assert code == 1
    assert "Traceback" not in stderr
    assert seconds < 180


@pytest.mark.parametrize("name", ["encrypted.pdf", "truncated.pdf", "corrupt.pdf", "empty.txt", "junk.txt",
                                  "huge.txt", "many pages.pdf", "image bomb.pdf", "stream bomb.pdf",
                                  "long line.txt", "link out.txt"])
def test_each_hostile_file_has_one_clear_error(batch, name):
    inbox, expected, result, _, _, _ = batch
    if name == "link out.txt" and not _links_refused_by_draft():
        pytest.xfail("drafting.draft does not pass the inbox to ingest yet (E010 wiring)")
    errors = {Path(e["path"]).name: e["error"] for e in result["errors"]}
    assert name in errors, f"no error for {name}"
    message = errors[name]
    assert message.startswith(expected[name]), (name, message)
    assert "\n" not in message and len(message) < 200
    assert "Test Person" not in message and "L4-5 L4-5" not in message


def test_good_notes_in_the_batch_draft_normally(batch):
    inbox, _, result, _, _, _ = batch
    drafted = {Path(d["path"]).name for case in result["cases"] for d in case["documents"]}
    for name in ["good note.txt", "résumé ünïcode – note.txt", "a;b&c$(echo x)'q\".txt", "good.pdf",
                 "invalid utf8.txt"]:
        assert name in drafted, name
    claims = [c for case in result["cases"] for c in case["claims"]]
    assert claims and all(c["procedure"] == "facet_block" for c in claims)
    assert all(c["joints"]["right"] == ["L4-L5", "L5-S1"] for c in claims)


def test_invalid_utf8_drafts_with_a_warning(batch):
    _, _, result, _, _, _ = batch
    docs = [d for case in result["cases"] for d in case["documents"] if Path(d["path"]).name == "invalid utf8.txt"]
    assert docs and any("not valid UTF-8" in w for w in docs[0]["warnings"])


# ---------------------------------------------------------------- one file at a time


def _make_scans():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_scans", Path(__file__).resolve().parents[1]
                                                  / "scripts" / "make_scans.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_time_limit_stops_ocr_with_a_clear_error(tmp_path):
    from extractor import ocr

    if not ocr.available():
        pytest.skip("tesserocr is not installed")
    scans = _make_scans()
    (tmp_path / "note.txt").write_text(GOOD_NOTE * 6, encoding="utf-8")
    scans.scan_document(tmp_path / "note.txt", tmp_path / "scan.pdf", "limit")
    t0 = time.monotonic()
    with pytest.raises(IngestError) as info:
        read_document(tmp_path / "scan.pdf", max_seconds=0.2)
    assert info.value.message == "[E012] processing took longer than 0.2 s"
    assert time.monotonic() - t0 < 5


def test_time_limit_interrupts_python_code():
    from extractor.ingest import time_limit

    t0 = time.monotonic()
    with pytest.raises(IngestError) as info:
        with time_limit("slow.txt", 0.2):
            while True:
                pass
    assert info.value.path == "slow.txt" and info.value.message.startswith("[E012]")
    assert time.monotonic() - t0 < 2


def test_char_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "note.txt"
    path.write_text(GOOD_NOTE, encoding="utf-8")
    with pytest.raises(IngestError) as info:
        read_document(path, max_chars=100)
    assert info.value.message.startswith("[E013]") and str(len(GOOD_NOTE)) in info.value.message
    monkeypatch.setenv("FACET_CLAIMS_MAX_CHARS", "50")
    with pytest.raises(IngestError):
        read_document(path)
    assert read_document(path, max_chars=10_000).text == GOOD_NOTE


def test_bad_limit_variable_is_a_config_error(tmp_path, monkeypatch):
    from extractor.errors import ConfigError

    path = tmp_path / "note.txt"
    path.write_text(GOOD_NOTE, encoding="utf-8")
    monkeypatch.setenv("FACET_CLAIMS_MAX_PAGES", "many")
    with pytest.raises(ConfigError, match="FACET_CLAIMS_MAX_PAGES"):
        read_document(path)


def test_symlink_out_of_the_inbox_is_refused_by_ingest(tmp_path):
    inbox, outside = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outside.mkdir()
    (outside / "note.txt").write_text(GOOD_NOTE, encoding="utf-8")
    (inbox / "note.txt").symlink_to(outside / "note.txt")
    (inbox / "inside.txt").symlink_to(inbox / "note.txt")  # a link to a link that leaves
    (inbox / "real.txt").write_text(GOOD_NOTE, encoding="utf-8")
    (inbox / "alias.txt").symlink_to(inbox / "real.txt")
    for name in ("note.txt", "inside.txt"):
        with pytest.raises(IngestError) as info:
            read_document(inbox / name, inbox=inbox)
        assert info.value.message.startswith("[E010]")
    assert read_document(inbox / "alias.txt", inbox=inbox).text == GOOD_NOTE


def test_bombs_are_refused_fast_and_small(tmp_path):
    import resource

    for maker in (image_bomb, stream_bomb):
        path = maker(tmp_path / f"{maker.__name__}.pdf")
        t0 = time.monotonic()
        with pytest.raises(IngestError) as info:
            read_document(path)
        assert time.monotonic() - t0 < 10
        assert info.value.message.startswith(("[E014]", "[E007]"))
    # Peak memory of this process stays far below what the bombs ask for (900 Mpx, 400 MB).
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 1_500_000  # KB
