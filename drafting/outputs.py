"""Stage 6: write one case's outputs (claim.json, claim.csv, letter) atomically."""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

__all__ = ["write_case_outputs", "atomic_write", "claim_csv"]

# CMS-1500 item 24 columns.
CSV_COLUMNS = ["date_of_service", "place_of_service", "cpt", "modifiers", "units", "diagnosis_pointers", "joints"]
_PLACE_OF_SERVICE = {"office": "11", "asc": "24", "hospital_outpatient": "22"}


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes via a temporary file in the same folder, then rename over the target."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def claim_csv(case: dict, setting: str = "office") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for claim in case["claims"]:
        pointers = "".join("ABCDEFGHIJKL"[i] for i in range(min(4, len(claim.get("diagnoses", []))))) or ""
        for line in claim["lines"]:
            writer.writerow([claim["date_of_service"], _PLACE_OF_SERVICE.get(setting, "11"), line["cpt"],
                             " ".join(line["modifiers"]), line["units"], pointers, " ".join(line["joints"])])
    return buf.getvalue()


def write_case_outputs(case: dict, out_dir: str | Path, docs=None, setting: str | None = None) -> Path:
    """claim.json, claim.csv and (for ablation claims) the letter in OUT/<case_id>/."""
    folder = Path(out_dir) / case["case_id"]
    atomic_write(folder / "claim.json", json.dumps({"cases": [case]}, indent=2, default=str))
    atomic_write(folder / "claim.csv", claim_csv(case, setting or "office"))
    from drafting.letter import render_letters

    for name, text in render_letters(case).items():
        atomic_write(folder / name, text)
    return folder
