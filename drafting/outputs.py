"""Stage 6: write one case's outputs (claim.json, claim.csv, letter) atomically."""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from pathlib import Path

__all__ = ["write_case_outputs", "case_files", "atomic_write", "atomic_write_many", "claim_csv"]

# CMS-1500 item 24 columns.
CSV_COLUMNS = ["date_of_service", "place_of_service", "cpt", "modifiers", "units", "diagnosis_pointers", "joints"]
_PLACE_OF_SERVICE = {"office": "11", "asc": "24", "hospital_outpatient": "22"}


def atomic_write(path: Path, data: str | bytes, durable: bool = True) -> None:
    """Write text (UTF-8) or bytes via a temporary file in the same folder, then rename over the target.

    Readers see the old file or the new one, never a part. With `durable`
    (the default, for every output) the bytes are on disk before the rename;
    `durable=False` skips that fsync, for files that are checked when read
    and made again when they do not load (the drop folder's cached facts):
    after a power loss such a file may be empty, never half another file.
    """
    atomic_write_many({Path(path): data}, durable=durable)


def atomic_write_many(files: dict[Path, str | bytes], durable: bool = True) -> None:
    """`atomic_write` for several files: all written, then all fsynced, then renamed in order.

    Each file on its own is replaced atomically, as with `atomic_write`.
    Writing them all before the first fsync lets the file system flush them
    together (on ext4 one journal commit instead of one per file), which is
    what makes a case folder of four or five files cheap to write durably.
    """
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            temps.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        # mkstemp creates the file 0600; give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        for tmp, _ in temps:
            os.chmod(tmp, 0o666 & ~umask)
            if durable:
                fd = os.open(tmp, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        while temps:
            tmp, path = temps[0]
            os.replace(tmp, path)
            temps.pop(0)
    except BaseException:
        for tmp, _ in temps:
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


def case_files(case: dict, setting: str | None = None) -> dict[str, str]:
    """File name -> text of one case's outputs: claim.json, claim.csv and (for ablation claims) the letter."""
    from drafting.letter import render_letters

    files = {"claim.json": json.dumps({"cases": [case]}, indent=2, default=str),
             "claim.csv": claim_csv(case, setting or "office")}
    files.update(render_letters(case))
    return files


def write_case_outputs(case: dict, out_dir: str | Path, docs=None, setting: str | None = None,
                       extra: dict[str, str] | None = None) -> Path:
    """claim.json, claim.csv and (for ablation claims) the letter in OUT/<case_id>/, plus `extra` files.

    Every file is replaced atomically; they are written together (`atomic_write_many`).
    """
    folder = Path(out_dir) / case["case_id"]
    files = {**case_files(case, setting), **(extra or {})}
    atomic_write_many({folder / name: text for name, text in files.items()})
    return folder
