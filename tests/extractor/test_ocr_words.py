"""OCR-misread and line-broken words read as the pattern words they stand for (extractor/ocr_words.py)."""
import pytest

from extractor.nlp import get_nlp
from extractor.ocr_words import COMPONENT


@pytest.fixture(scope="module")
def ocr_words():
    return get_nlp().get_pipe(COMPONENT)


@pytest.mark.parametrize("read, meant", [
    ("rnedial", "medial"),            # rn for m
    ("neurotorny", "neurotomy"),
    ("RNEDIAL", "medial"),            # the word is read in lower case
    ("confirrnatory", "confirmatory"),
    ("bi1ateral", "bilateral"),       # the digit one for l
    ("controlied", "controlled"),     # i for l, in a long word
])
def test_a_misread_pattern_word_is_read_as_meant(ocr_words, read, meant):
    assert ocr_words.meant(read) == meant


@pytest.mark.parametrize("word", [
    "tight",    # t for l would make "light": a one-letter swap needs seven letters
    "mouth",    # "month"
    "format",   # "formal"
    "dental",   # "denial"
    "medial",   # listed already
    "return",   # rn for m makes no pattern word
])
def test_an_english_or_listed_word_is_left_alone(ocr_words, word):
    assert ocr_words.meant(word) is None


def test_pattern_words_come_from_the_pattern_files(ocr_words):
    assert {"medial", "neurotomy", "fluoroscopic", "bilateral"} <= ocr_words.words
    assert not any(len(w) < 5 for w in ocr_words.words)


def test_spans_over_misread_words_keep_the_page_offsets():
    from extractor.pipeline import extract_source
    from extractor.sourcetext import SourceText

    text = "Bilateral L4-5 rnedial branch blocks under fluoro-\nscopic guidance."
    facts = extract_source(SourceText(text, path="fax.txt")).facts
    found = {(f.kind, f.text, f.value if isinstance(f.value, str) else None) for f in facts}
    assert ("procedure", "rnedial branch blocks", "medial_branch_block") in found
    assert ("imaging", "fluoro-\nscopic", "fluoroscopy") in found
    assert all(text[f.start:f.end] == f.text for f in facts)
