"""The `facet-claims` command line: the only place errors become exit codes.

Subcommands are imported when they run, so `facet-claims draft` does not pay
for the review server or the benchmark; `draft` and `extract` import spaCy
without its own command line (extractor/spacy_import.py).
"""
from __future__ import annotations

import importlib
import json
import sys

import click

from extractor.errors import ToolError
from extractor.spacy_import import import_spacy

__all__ = ["main", "cli"]

# name -> "module:function" of commands that live in their own modules.
LAZY_COMMANDS = {
    "review": "drafting.review_cli:review",
    "serve": "drafting.review_cli:serve",
    "batch": "drafting.dropfolder_cli:batch",
    "watch": "drafting.dropfolder_cli:watch",
    "bench": "drafting.bench:bench",
    "evaluate": "drafting.evaluate:evaluate",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._available()))

    def _available(self) -> dict:
        out = {}
        for name, target in LAZY_COMMANDS.items():
            module = target.split(":")[0]
            if importlib.util.find_spec(module) is not None:
                out[name] = target
        return out

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        target = self._available().get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="facet-claims")
def cli() -> None:
    """Read facet RFA and medial branch block notes; draft claims with evidence."""


def emit_json(data: dict) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


@cli.command(help="Extract every fact, with its evidence, from documents (.txt, .md, .pdf).")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the facts with offsets and pages).")
def extract(paths: tuple[str, ...], as_json: bool) -> None:
    import_spacy()
    from drafting.draft import expand_paths, extract_all

    refused: list[dict] = []
    docs, errors = extract_all(expand_paths(list(paths), refused))
    errors = refused + errors
    if as_json:
        emit_json({"documents": [d.to_dict() for d in docs], "errors": errors})
    else:
        for doc in docs:
            click.echo(f"{doc.path}: {len(doc.facts)} facts")
            for fact in doc.facts:
                flags = "".join(c for c, on in (("N", fact.negated), ("H", fact.hypothetical), ("P", fact.historical)) if on)
                page = f" p{fact.page}" if fact.page else ""
                click.echo(f"  {fact.start:>6}-{fact.end:<6}{page} {fact.kind:<18} {json.dumps(fact.value, default=str):<60} "
                           f"{fact.pattern_id} {flags}")
        _report_errors(errors)
    sys.exit(1 if errors else 0)


def _report_errors(errors: list[dict]) -> None:
    for err in errors:
        click.echo(f"error: {err['path']}: {err['error']}", err=True)


@cli.command(help="Draft claims per patient case: codes, units, modifiers, criteria and gaps.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the output-contract JSON.")
@click.option("--setting", type=click.Choice(["office", "asc"]), default="office", show_default=True,
              help="office (also hospital outpatient): modifier 50 for both sides; asc: RT and LT lines.")
@click.option("--profile", default="default", show_default=True, help="Payer profile (see `facet-claims profiles`).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write claim.json, claim.csv and the letter per case here.")
def draft(paths: tuple[str, ...], as_json: bool, setting: str, profile: str, out_dir: str | None) -> None:
    import_spacy()
    from drafting.draft import draft_documents, expand_paths, extract_all
    from drafting.tables import load_profile

    try:
        load_profile(profile)
    except ToolError as exc:
        raise click.UsageError(str(exc)) from None
    refused: list[dict] = []
    docs, errors = extract_all(expand_paths(list(paths), refused))
    errors = refused + errors
    result = draft_documents(docs, setting=setting, profile_name=profile, errors=errors)
    if out_dir:
        from drafting.outputs import write_case_outputs

        for case in result["cases"]:
            write_case_outputs(case, out_dir, docs)
    if as_json:
        emit_json(result)
    else:
        from drafting.report import render_text

        click.echo(render_text(result))
        _report_errors(errors)
    sys.exit(1 if errors else 0)


@cli.command(help="List the payer profiles and what each changes from the default.")
def profiles() -> None:
    from drafting.tables import load_profile, profile_names

    base = load_profile("default")
    for name in profile_names():
        prof = load_profile(name)
        click.echo(f"{name}: {prof['description']}")
        changes = [f"{k}={prof[k]!r}" for k in sorted(prof) if k not in {"name", "description"} and prof[k] != base.get(k)]
        click.echo(f"    changes: {', '.join(changes) if changes else 'none (the default rules)'}")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ToolError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
