"""Where a question set that brings its own articles (SQuAD, CMRC) keeps them and their index.

Such a set is run against its own index of its own articles, never the user's: the articles
are written as files under <index-dir>/eval-sets/<set name>-<content hash>/ (or --corpus-dir),
and ingested there; a second run of the same set reuses that index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.config import DEFAULT_ARTICLES, Settings
from rag.eval.types import Dataset


def write_articles(ds: Dataset, folder: Path) -> Path:
    """The set's articles as Markdown files (a `# title` line, then the text) in `folder`,
    rewritten only when different, so that ingest's content hashes skip unchanged ones."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for aid, title, text in ds.articles or []:
        f = folder / f"{aid}.md"
        wanted.add(f.name)
        body = f"# {title}\n\n{text}\n"
        if not f.is_file() or f.read_text("utf-8") != body:
            f.write_text(body, "utf-8")
    for f in folder.glob("*.md"):
        if f.name not in wanted:
            f.unlink()
    return folder


def corpus_folder(ds: Dataset, corpus_dir: Path) -> Path:
    """Where a set that brings its own articles keeps them and their index: one folder per set
    name and content, so that a second run (or a --limit/--seed sample) reuses the index and an
    edited set gets a fresh one."""
    return Path(corpus_dir) / f"{ds.name}-{ds.corpus_key}"


def materialise(ds: Dataset, corpus_dir: Path) -> dict[str, Path]:
    """Write the set's articles as files (unchanged files are left alone, so ingest's content
    hashes skip them); the articles and index folders."""
    root = corpus_folder(ds, corpus_dir)
    articles = write_articles(ds, root / "articles")
    return {"root": root, "articles": articles, "index": root / "index"}


def corpus_settings(dataset: Dataset, settings: Settings, corpus_dir: Path | None = None
                    ) -> tuple[Settings, Path, bool]:
    """(settings, articles folder, refresh_index) to run `dataset` with. A set with its own
    articles gets its own index under `corpus_dir` (default <index-dir>/eval-sets/), and with a
    Chroma server its own collection, never the user's."""
    if dataset.articles is None:
        return settings, DEFAULT_ARTICLES, False
    where = materialise(dataset, corpus_dir or Path(settings.index_dir) / "eval-sets")
    overrides: dict[str, Any] = {"index_dir": where["index"]}
    if settings.chroma_url:
        overrides["collection"] = f"eval-{dataset.corpus_key}"
    return settings.replace(**overrides), where["articles"], True
