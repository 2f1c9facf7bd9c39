"""The review page in a real browser: Playwright for Python driving Debian's Chromium (/usr/bin/chromium).

Skipped when playwright or the browser is missing, except where the CI
environment variable is set: there a missing browser fails the test. Pages
come from corpus case c01 (made-up patients) printed to PDF with fpdf2, and
from acceptance case A02 when it is on this machine. Every page must load
nothing from the network and raise no script error. Screenshots go to
test-artifacts/ (gitignored). Messages name ids, never document text.
"""
from __future__ import annotations

import importlib.util
import os
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from drafting.cli import cli
from drafting.review_server import ReviewRun, make_server

REPO = Path(__file__).resolve().parents[2]
C01 = REPO / "corpus" / "c01_demo_bilateral" / "docs"
A02 = Path(os.environ.get("FACET_CLAIMS_ACCEPTANCE_DIR", REPO.parent / "shared" / "acceptance" / "cases")) / "A02" / "docs"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path(os.environ.get("FACET_CLAIMS_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
PICKS = ".lines button.pick, .criterion.met > button.pick, .criterion.not_met > button.pick"
LOCAL = ("file:", "data:", "http://127.0.0.1:", "about:")


def _require_browser() -> None:
    problems = []
    if importlib.util.find_spec("playwright") is None:
        problems.append("playwright is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        problems.append(f"no browser at {CHROMIUM} (apt-get install chromium)")
    if problems:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("; ".join(problems))


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser):
    """A 1280x800 page that records network requests and script errors, both of which must stay empty."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    outside, errors = [], []
    tab.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
    tab.on("pageerror", lambda e: errors.append(type(e).__name__))
    yield tab
    context.close()
    assert outside == [], "the page asked the network for something"
    assert errors == [], "script errors on the page"


def print_to_pdf(src: Path, dest: Path) -> Path:
    """Each text note of `src` printed to a letter-size PDF in `dest` (helvetica, latin-1)."""
    from fpdf import FPDF

    dest.mkdir(parents=True, exist_ok=True)
    for note in sorted(src.glob("*.txt")):
        pdf = FPDF(format="letter", unit="pt")
        pdf.set_margins(40, 40)
        pdf.set_auto_page_break(True, margin=40)
        pdf.add_page()
        pdf.set_font("helvetica", size=9)
        for line in note.read_text(encoding="utf-8").encode("latin-1", "replace").decode("latin-1").splitlines():
            pdf.multi_cell(0, 11, line or " ", new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(dest / f"{note.stem}.pdf"))
    return dest


@pytest.fixture(scope="module")
def pdf_case(tmp_path_factory) -> Path:
    return print_to_pdf(C01, tmp_path_factory.mktemp("c01-pdf"))


def write_pages(docs: Path, out: Path) -> list[Path]:
    result = CliRunner().invoke(cli, ["review", str(docs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return sorted(out.glob("*/review.html"))


@pytest.fixture(scope="module")
def pdf_page(pdf_case, tmp_path_factory) -> Path:
    (page,) = write_pages(pdf_case, tmp_path_factory.mktemp("review-out"))
    return page


def screenshot(tab, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / name))


def assert_every_pick_reveals_a_box(tab) -> int:
    """Each claim line and met / not-met criterion marks its evidence and scrolls a PDF box into view."""
    from playwright.sync_api import expect

    picks = tab.locator(PICKS)
    count = picks.count()
    for i in range(count):
        button = picks.nth(i)
        button.click()
        first = button.get_attribute("data-facts").split()[0]
        box = tab.locator(f'.box.hit.current[data-fact="{first}"]').first
        expect(box, f"pick {i}: evidence {first} has no highlighted box").to_be_visible()
        expect(box, f"pick {i}: box of {first} is off screen").to_be_in_viewport()
        mark = tab.locator(f"mark#{first}")
        expect(mark).to_have_class(re.compile(r"\bhit\b"))
        expect(mark, f"pick {i}: text of {first} is off screen").to_be_in_viewport()
        expect(button).to_have_attribute("aria-pressed", "true")
    return count


def test_review_criterion_click_scrolls_to_highlight_on_page_image(page, pdf_page):
    from playwright.sync_api import expect

    page.goto(pdf_page.as_uri())
    criterion = page.locator(".criterion.met > button.pick").nth(2)
    criterion.click()
    first = criterion.get_attribute("data-facts").split()[0]
    expect(page.locator(f'.box.hit[data-fact="{first}"]').first).to_be_in_viewport()
    expect(page.locator(f"mark#{first}")).to_be_in_viewport()
    screenshot(page, "review-criterion.png")
    assert assert_every_pick_reveals_a_box(page) >= 10


@pytest.mark.skipif(not A02.is_dir(), reason=f"acceptance case A02 not at {A02}")
def test_review_acceptance_a02_every_line_and_criterion_has_a_visible_box(page, tmp_path):
    (review_page,) = write_pages(A02, tmp_path / "review-out")
    page.goto(review_page.as_uri())
    assert page.locator("figure.page img").count() == 8
    assert assert_every_pick_reveals_a_box(page) >= 16
    screenshot(page, "review-a02.png")


def test_review_keyboard_only(page, pdf_page):
    page.goto(pdf_page.as_uri())
    first = page.locator("mark.fact[tabindex]").first
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.id") == first.get_attribute("id")
    assert first.get_attribute("data-pattern-id") in page.locator("#detail").inner_text()
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    second = page.locator("mark.fact[tabindex]").nth(1).get_attribute("id")
    assert page.evaluate("document.activeElement.id") == second
    # Tab reaches the sidebar; Enter on a criterion marks its evidence, Escape clears it.
    page.locator(".criterion.met > button.pick").first.focus()
    page.keyboard.press("Enter")
    assert page.locator("mark.hit").count() > 0 and page.locator(".box.hit").count() > 0
    assert "1 of " in page.locator("#detail").inner_text()
    page.keyboard.press("Enter")  # again: the next piece of evidence
    assert "2 of " in page.locator("#detail").inner_text()
    page.keyboard.press("Escape")
    assert page.locator(".hit").count() == 0
    page.keyboard.press("r")  # read-only page: says so, changes nothing
    assert "read-only" in page.locator("#detail").inner_text()


def test_review_hover_shows_value_pattern_and_flags(page, pdf_page):
    page.goto(pdf_page.as_uri())
    negated = page.locator("mark.fact.neg").first
    mark = negated if negated.count() else page.locator("mark.fact[tabindex]").first
    mark.hover()
    detail = page.locator("#detail").inner_text()
    assert mark.get_attribute("data-pattern-id") in detail and "Value" in detail and "Flags" in detail
    if negated.count():
        assert "negated" in detail
        assert "line-through" in negated.evaluate("e => getComputedStyle(e).textDecorationLine")


def test_review_text_stays_selectable(page, pdf_page):
    page.goto(pdf_page.as_uri())
    text = page.locator(".doc-text").first
    box = text.bounding_box()
    page.mouse.move(box["x"] + 8, box["y"] + 12)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + 120, steps=5)
    page.mouse.up()
    assert len(page.evaluate("getSelection().toString()")) > 20


def test_review_note_with_script_shows_as_text(page, tmp_path):
    note = tmp_path / "docs" / "note.txt"
    note.parent.mkdir()
    note.write_text("Patient: Test Person\nDOB: 01/02/1950\nDate of Service: 03/10/2026\n"
                    "HPI: left low back pain <script>window.pwned = 1</script> <img src=x onerror=\"window.pwned=2\">\n")
    (review_page,) = write_pages(note.parent, tmp_path / "out")
    page.goto(review_page.as_uri())
    assert page.evaluate("window.pwned") is None
    assert "<script>window.pwned = 1</script>" in page.locator(".doc-text").inner_text()


@pytest.fixture()
def served(pdf_case, tmp_path):
    run = ReviewRun([str(pdf_case)], tmp_path / "out")
    server = make_server(run, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", run
    server.shutdown()
    server.server_close()
    run.close()


def _rfa_lines(tab) -> str:
    return tab.locator(".claim", has_text="Facet RFA").locator(".lines").inner_text()


def _level_fact(tab, joint: str) -> str:
    """The id of the joint-form level fact naming only `joint` in the RFA claim's line evidence."""
    ids = tab.locator(".claim", has_text="Facet RFA").locator(".lines button").first.get_attribute("data-facts")
    for fid in ids.split():
        mark = tab.locator(f"mark#{fid}")
        if mark.get_attribute("data-kind") == "level" and mark.get_attribute("data-value").startswith(f"joints: {joint};"):
            return fid
    raise AssertionError(f"no level fact for {joint} among {ids}")


def test_serve_reject_fact_redrafts_claim_lines(page, served):
    from playwright.sync_api import expect

    url, run = served
    page.goto(url + "/")
    before = _rfa_lines(page)
    assert "64636" in before
    page.fill("#reviewer", "Test Reviewer")
    fid = _level_fact(page, "L5-S1")
    page.locator(f"mark#{fid}").focus()
    with page.expect_navigation():
        page.keyboard.press("r")
    expect(page.locator(f"mark#{fid}")).to_have_class(re.compile(r"\brej\b"))
    assert page.evaluate("document.activeElement.id") == fid
    after = _rfa_lines(page)
    assert after != before and "64636" not in after
    screenshot(page, "review-serve-rejected.png")
    (decision,) = run.store.history()
    assert (decision.action, decision.reviewer, decision.decided_at[-1]) == ("reject", "Test Reviewer", "Z")
    with page.expect_navigation():  # u withdraws the decision; the draft comes back
        page.keyboard.press("u")
    assert _rfa_lines(page) == before


def test_serve_edit_corrects_value_and_redrafts(page, served):
    from playwright.sync_api import expect

    url, run = served
    page.goto(url + "/")
    before = _rfa_lines(page)
    page.fill("#reviewer", "Test Reviewer")
    fid = _level_fact(page, "L4-L5")
    page.locator(f"mark#{fid}").focus()
    page.keyboard.press("e")
    expect(page.locator("dialog#edit")).to_be_visible()
    page.fill("#edit-value", "left L4-L5")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _rfa_lines(page) != before
    expect(page.locator(f"mark#{fid}")).to_have_attribute("data-value", re.compile(r"side: left"))
    letter = page.locator("details.letter pre").first.text_content()
    assert "Left: L4-L5" in letter and "Bilateral: L5-S1" in letter
    assert [d.action for d in run.store.history()] == ["correct"]
