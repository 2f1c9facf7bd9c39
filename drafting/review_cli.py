"""Stage 7 commands: `facet-claims review` (self-contained pages) and `facet-claims serve` (127.0.0.1).

Both draft exactly as `facet-claims draft` does (`draft_documents`), with the
reviewer decisions kept in OUT/review.sqlite applied first. Output names
folders and counts, never document text.
"""
from __future__ import annotations

import sys

import click

from extractor.errors import ToolError

__all__ = ["review", "serve"]

_SETTING = click.option("--setting", type=click.Choice(["office", "asc"]), default="office", show_default=True,
                        help="office (also hospital outpatient): modifier 50 for both sides; asc: RT and LT lines.")
_PROFILE = click.option("--profile", default="default", show_default=True,
                        help="Payer profile (see `facet-claims profiles`).")
_EXPORT = click.option("--export-decisions", "export_path", type=click.Path(dir_okay=False),
                       help="Also write the reviewer decisions in force (OUT/review.sqlite) to this JSONL file "
                            "as gold data.")
_PATHS = click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))


def _start(paths, out_dir: str, setting: str, profile: str):
    from drafting.review_server import ReviewRun
    from drafting.tables import load_profile

    try:
        load_profile(profile)
    except ToolError as exc:
        raise click.UsageError(str(exc)) from None
    run = ReviewRun(list(paths), out_dir, setting=setting, profile=profile)
    for err in run.errors:
        click.echo(f"error: {err['path']}: {err['error']}", err=True)
    return run


def _export(run, export_path: str | None) -> None:
    if export_path:
        count = run.store.export_jsonl(export_path)
        click.echo(f"exported {count} decision(s) to {export_path}")


@click.command(help="Write one self-contained review page per case (OUT/<case_id>/review.html): claim lines, "
                    "criteria and queries beside every document with each extracted fact highlighted.")
@_PATHS
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the pages (one sub-folder per case) and review.sqlite.")
@_SETTING
@_PROFILE
@_EXPORT
def review(paths: tuple[str, ...], out_dir: str, setting: str, profile: str, export_path: str | None) -> None:
    run = _start(paths, out_dir, setting, profile)
    try:
        written = run.write_pages()
        click.echo(f"wrote {len(written)} review page(s) under {out_dir}")
        _export(run, export_path)
    finally:
        run.close()
    sys.exit(1 if run.errors else 0)


@click.command(help="Serve the review pages on 127.0.0.1 and record reviewer decisions (accept, reject, "
                    "correct) in OUT/review.sqlite; every decision re-drafts the claims.")
@_PATHS
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--out", "out_dir", default="review-out", show_default=True, type=click.Path(file_okay=False),
              help="Folder for review.sqlite and the pages, rewritten after each decision.")
@_SETTING
@_PROFILE
@_EXPORT
def serve(paths: tuple[str, ...], port: int, out_dir: str, setting: str, profile: str,
          export_path: str | None) -> None:
    from drafting.review_server import make_server

    run = _start(paths, out_dir, setting, profile)
    try:
        run.write_pages()
        server = make_server(run, port)
    except OSError as exc:
        run.close()
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    host, bound = server.server_address[:2]
    click.echo(f"serving {len(run.case_ids)} case(s) at http://{host}:{bound}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        _export(run, export_path)
        run.close()
