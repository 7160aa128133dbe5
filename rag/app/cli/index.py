"""`rag ingest` and `rag stats`: build the index and see what is in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rag.app.cli import options
from rag.app.cli.exits import fail, handle_errors
from rag.app.cli.options import chroma_option, embed_options, index_dir_option, setting_option, takes_overrides
from rag.config import DEFAULT_ARTICLES


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@chroma_option
@embed_options
@click.option("--prune", is_flag=True, help="Remove indexed articles whose files are gone.")
@click.option("--repair", is_flag=True,
              help="Check every passage against Chroma, not only the index files, and rebuild what is lost.")
@setting_option("chunk_tokens", type=click.IntRange(16, 480))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@handle_errors
@takes_overrides
def ingest(paths, prune, repair, as_json, overrides):
    """Add or update the articles under PATHS (default: data/articles)."""
    from tqdm import tqdm

    engine = options.make_engine(**overrides)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if as_json or not sys.stderr.isatty() and stage != "embedding":
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="", leave=False, file=sys.stderr)
        bar.total = total
        bar.update(done - bar.n)  # update(), not n=, so that the rate shown is right

    try:
        report = engine.ingest(list(paths) or [DEFAULT_ARTICLES], prune=prune, progress=progress, repair=repair)
    finally:
        for bar in bars.values():
            bar.close()
    for what in report.repaired:
        click.echo(f"repaired: {what}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped: {reason}" if path in reason or Path(path).name in reason else f"skipped {path}: {reason}",
                   err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        click.echo(
            f"{report.articles} articles in the index; passages: {report.passages_added} added, "
            f"{report.passages_unchanged} unchanged, {report.passages_removed} removed; "
            f"{report.embedded} embedded, {report.embeddings_reused} reused; "
            f"{len(report.skipped)} skipped; {report.seconds:.1f} s")
    # 0 for "nothing changed" (every file indexed as it is); 1 when files were refused and not
    # one was taken: a script must not read "the file you gave was skipped" as a success.
    took = (report.articles_added or report.articles_updated or report.files_unchanged
            or report.articles_removed or getattr(report, "repaired", None))
    if report.skipped and not took:
        fail(f"nothing was ingested: {len(report.skipped)} path(s) skipped (reasons above)")


def ingest_bars(enabled: bool):
    """(progress callback, close) showing ingest progress bars on stderr when `enabled`."""
    bars: dict = {}

    def progress(stage: str, done: int, total: int) -> None:
        if not enabled:
            return
        from tqdm import tqdm

        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"index: {stage}", unit="", leave=False, file=sys.stderr)
        bar.total = total
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()
    return progress, close


@click.command()
@index_dir_option
@chroma_option
@click.option("--json", "as_json", is_flag=True)
@handle_errors
@takes_overrides
def stats(as_json, overrides):
    """Articles, documents per language, passages and index size."""
    s = options.make_engine(**overrides).stats()
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False))
        return
    click.echo(f"articles:  {s['articles']}\ndocuments: {s['documents']}\npassages:  {s['passages']}\n"
               f"index:     {s['index_bytes'] / 1e6:.1f} MB in {s['index_dir']}")
    if s["articles"] == 0:
        click.echo("the index is empty: run `rag ingest` to add articles", err=True)
