"""An HL7 version 2 message saved as text, read as labelled lines.

A surgery center's results feed may reach the chart as the raw message:

    OBR|1|NSP-ORD-77315|LSC-CASE-04|64493^Lumbar medial branch block^CPT4|||20260127083200||F
    OBX|12|NM|REL-PCT^Peak relief, index pain^L||90|%|||||F
    OBX|13|NM|REL-HRS^Relief duration^L||3|hr|||||F
    NTE|1|L|RN call 01/27/26 1540 (J. Tran RN): pt reports 90% relief after the block ...

Fields are split by "|" and components by "^", with no spaces, so the
tokenizer sees one word per segment. `hl7_as_labels` rewrites each segment
line one character for one, so every offset still indexes the source text:
the separators become spaces, an OBX result reads as "label: value unit"
("Peak relief, index pain:   90 %", "Relief duration:   3 hr") with its set
id, value type, code, coding system and status blanked, the patient's
identifiers and the order's time take the labels the header rules read
("MRN:", "Patient:", "DOB:", "DOS:"). A 12- or 14-digit timestamp
("20260127083200") keeps its digits: the date patterns read its first eight
as the date.
"""
from __future__ import annotations

import re

# A segment line: a segment id the results feeds send, then the field separator.
_SEGMENT = re.compile(r"^(?:MSH|EVN|PID|PD1|PV1|PV2|ORC|OBR|OBX|NTE|NK1|AL1|DG1|IN1|TQ1|SPM)\|[^\n]*", re.MULTILINE)
_SEPARATORS = str.maketrans({"|": " ", "^": " ", "~": " ", "\\": " ", "&": " "})
_MIN_SEGMENTS = 2
# OBX fields: 1 set id, 2 value type, 3 observation (code^text^system), 4 sub-id, 5 value, 6 units.
_OBX_IDENT, _OBX_VALUE, _OBX_UNITS = 3, 5, 6
# OBR fields: 4 the service ordered (code^text^system), 7 when it was done (the date of service).
_OBR_SERVICE, _OBR_DONE = 4, 7
# PID fields: 3 identifiers (id^^^authority^type, repeated with "~"), 5 name (last^first^middle), 7 birth date.
_PID_IDS, _PID_NAME, _PID_BIRTH = 3, 5, 7


def looks_like_hl7(text: str) -> bool:
    """Whether the text holds at least two HL7 v2 segment lines (an MSH header among them)."""
    return "MSH|" in text and len(_SEGMENT.findall(text)) >= _MIN_SEGMENTS


def hl7_as_labels(text: str) -> str:
    """`text` with each segment line's separators blanked and its OBX results as labelled values."""
    chars = list(text)
    for m in _SEGMENT.finditer(text):
        line = m.group(0)
        if line.startswith("OBX|"):
            rewritten = _obx_as_label(line)
        elif line.startswith("PID|"):
            rewritten = _pid_as_labels(line)
        elif line.startswith("OBR|"):
            rewritten = _obr_as_labels(line)
        else:
            rewritten = line.translate(_SEPARATORS)
        chars[m.start():m.end()] = rewritten
    return "".join(chars)


def _field_bounds(line: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for i, c in enumerate(line + "|"):
        if c == "|":
            bounds.append((start, i))
            start = i + 1
    return bounds


def _label_before(out: list[str], at: int, label: str) -> None:
    """Write "label " into the blanks just before `at`, when there is room (the field before is empty)."""
    start = at - len(label) - 1
    if start >= 0 and all(c == " " for c in out[start:at]):
        out[start:at] = label + " "


def _pid_as_labels(line: str) -> str:
    """"PID|1||118204^^^NSP^MR~A0048291^^^LSC^AN||PRUITT^DELORES^J^^^^L||19580214|F" read as
    "MRN:   118204                        Patient: PRUITT,DELORES J      DOB: 19580214  F": the medical
    record number (the identifier of type MR, else the first), the name and the birth date under the
    labels the header rules read; every other field blank."""
    bounds = _field_bounds(line)
    out = [" "] * len(line)
    keep = []
    if len(bounds) > _PID_IDS:
        a, b = bounds[_PID_IDS]
        at, chosen = a, None
        for repetition in line[a:b].split("~"):
            components = repetition.split("^")
            if chosen is None or (len(components) > 4 and components[4] == "MR"):
                chosen = (at, components[0])
            at += len(repetition) + 1
        if chosen and chosen[1]:
            keep.append((chosen[0], "MRN:", chosen[1]))
    if len(bounds) > _PID_NAME:
        a, b = bounds[_PID_NAME]
        components = line[a:b].split("^")
        if len(components) > 1 and components[0] and components[1]:
            name = ",".join(components[:2]) + (" " + components[2] if len(components) > 2 and components[2] else "")
            keep.append((a, "Patient:", name))
    if len(bounds) > _PID_BIRTH:
        a, b = bounds[_PID_BIRTH]
        keep.append((a, "DOB:", line[a:a + min(b - a, 8)]))
    for start, _, value in keep:
        out[start:start + len(value)] = value
    for start, label, _ in keep:
        _label_before(out, start, label)
    return "".join(out)


def _obr_as_labels(line: str) -> str:
    """"OBR|1|ORD-1|CASE-4|64493^Lumbar medial branch block^CPT4|||20260127083200||F" read as
    "OBR 1 ORD-1 CASE-4 64493 Lumbar medial branch block DOS: 20260127083200  F": the observation
    time is the procedure's, under the label the header rules read (in the blanks the service's
    coding system leaves)."""
    bounds = _field_bounds(line)
    out = list(line.translate(_SEPARATORS))
    if len(bounds) > _OBR_DONE and bounds[_OBR_DONE][0] < bounds[_OBR_DONE][1]:
        a, b = bounds[_OBR_SERVICE]
        components = line[a:b].split("^")
        if len(components) > 2:  # the coding system ("CPT4") is no word of the note's
            system_at = a + len(components[0]) + len(components[1]) + 2
            out[system_at:b] = " " * (b - system_at)
        _label_before(out, bounds[_OBR_DONE][0], "DOS:")
    return "".join(out)


def _obx_as_label(line: str) -> str:
    """"OBX|12|NM|REL-PCT^Peak relief, index pain^L||90|%|||||F" read as
    "             Peak relief, index pain:   90 %            "."""
    bounds = _field_bounds(line)
    out = [" "] * len(line)
    for field, (a, b) in enumerate(bounds):
        if field == _OBX_IDENT:
            components = line[a:b].split("^")
            label_at = a + len(components[0]) + 1 if len(components) > 1 else a
            label = components[1] if len(components) > 1 else components[0]
            out[label_at:label_at + len(label)] = label
            if label_at + len(label) < len(line):
                out[label_at + len(label)] = ":"
        elif field in (_OBX_VALUE, _OBX_UNITS):
            out[a:b] = line[a:b].translate(_SEPARATORS)
    return "".join(out)
