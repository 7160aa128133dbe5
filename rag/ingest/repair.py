"""Checks that `rag ingest` makes before it trusts the index, and the repairs it makes.

Everything in the index folder but the uploads and the feedback is derived, so everything else
can be rebuilt: BM25 from the passages stored in Chroma, vectors from the article files, the
manifest from what Chroma stores plus the files. The checks that cost only file reads
(rag.store.checks.chroma_problem, `bm25_problem`) run on every ingest, so an ingest of
unchanged files stays fast; when they find something, or with `rag ingest --repair`, the deep
check (`missing_passages`) opens Chroma and looks for every passage the manifest names. Damaged files are moved aside (named
`*.broken-<time>`), never deleted, and uploads/ and feedback.jsonl are never touched.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from rag.ingest.records import anchor_terms_of
from rag.store import chroma
from rag.store import manifest as store
from rag.store.bm25 import BM25Index

log = logging.getLogger(__name__)


def bm25_problem(index_dir: Path, manifest: store.Manifest) -> str | None:
    """Why the manifest's BM25 index cannot be used; None when it loads and covers the passages."""
    live = manifest.live_ids()
    if not manifest.bm25:
        return "its BM25 index is missing" if live else None
    try:
        index = BM25Index.load(index_dir / manifest.bm25)
        if index.ids != live and sorted(index.ids) != sorted(live):
            return "its BM25 index does not match the passages"
        index.search(["\u2205"], 1)  # touches the score arrays: a truncated file fails here
    except Exception as exc:  # any unreadable part (truncated .npy, bad JSON, missing file)
        log.info("BM25 index %s is unreadable", manifest.bm25, exc_info=True)
        return f"its BM25 index is unreadable ({exc.__class__.__name__})"
    return None


def move_aside(path: Path) -> Path:
    """Rename a damaged file or folder out of the way (kept for inspection, not deleted)."""
    target = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    os.replace(path, target)
    log.info("moved the damaged %s aside to %s", path, target)  # the caller reports it
    return target


def missing_passages(collection, ids: list[str]) -> set[str]:
    """The ids among `ids` that Chroma does not have."""
    return set(ids) - set(chroma.fetch(collection, ids, include=())["ids"])


def without_lost_passages(manifest: store.Manifest, missing: set[str]
                          ) -> tuple[store.Manifest, list[str], list[tuple[str, str]]]:
    """The manifest without the articles some of whose passages are `missing`: those whose file
    is still there are kept to be read again (their hash emptied, so it cannot match), the
    others are dropped. Returns it, the files to read again, and (source, reason) of the dropped."""
    articles = dict(manifest.articles)
    again: list[str] = []
    gone: list[tuple[str, str]] = []
    for aid, entry in manifest.articles.items():
        if not missing.intersection(entry["passages"]):
            continue
        path = Path(entry.get("path") or "")
        if entry.get("path") and path.is_file():
            articles[aid] = {**entry, "file_hash": ""}
            again.append(str(path.resolve()))
        else:
            del articles[aid]
            gone.append((entry.get("source") or aid,
                         f"{aid}: its passages were lost and its file "
                         f"{entry.get('path') or entry.get('source')} is gone; removed from the index"))
    return (store.Manifest(articles=articles, bm25=manifest.bm25, embed_model=manifest.embed_model,
                           chunking=manifest.chunking, collection=manifest.collection), again, gone)


def manifest_from_chroma(collection, files: list[Path], uploads: Path, model_name: str,
                         chunking: dict[str, Any]) -> store.Manifest | None:
    """A manifest rebuilt from the passages Chroma stores (their metadata carries the article,
    language, title, date, source file and position). An article's file is found by name among
    `files` or in the uploads folder; its hash is left empty, so that the ingest re-reads the
    file and re-chunks it (reusing the stored vectors). None when Chroma holds nothing."""
    from rag.ingest.loading import Article, Document

    if not chroma.count(collection):
        return None
    got = chroma.fetch_all(collection, include=("metadatas", "documents"))
    by_article: dict[str, list[tuple[str, dict, str]]] = {}
    for pid, meta, doc in zip(got["ids"], got["metadatas"], got["documents"]):
        if meta and meta.get("article_id"):
            by_article.setdefault(meta["article_id"], []).append((pid, meta, doc or ""))
    by_name = {f.name: f for f in files}
    articles: dict[str, dict[str, Any]] = {}
    for aid, rows in by_article.items():
        # the newest version of each passage position wins when a crash left two
        rows.sort(key=lambda r: (r[1].get("lang", ""), int(r[1].get("idx", 0))))
        seen: dict[tuple[str, int], tuple[str, dict, str]] = {}
        for r in rows:
            seen[(r[1].get("lang", ""), int(r[1].get("idx", 0)))] = r
        rows = [seen[k] for k in sorted(seen)]
        first = rows[0][1]
        source = first.get("source") or f"{aid}.txt"
        path = by_name.get(source) or (uploads / source if (uploads / source).exists() else None)
        langs = list(dict.fromkeys(r[1].get("lang", "en") for r in rows))
        docs = [Document(aid, lang, next(r[1].get("title", "") for r in rows if r[1].get("lang") == lang),
                         first.get("date") or None, source, first.get("outlet") or None,
                         "\n\n".join(r[2] for r in rows if r[1].get("lang") == lang)) for lang in langs]
        articles[aid] = {
            "path": str(path.resolve()) if path else "", "source": source, "file_hash": "",
            "title": docs[0].title, "date": first.get("date") or None,
            "titles": {d.lang: d.title for d in docs}, "langs": langs,
            "anchors": sorted(anchor_terms_of(Article(aid, source, "", "", docs))),
            "passages": [r[0] for r in rows],
        }
    return store.Manifest(articles=articles, bm25=None, embed_model=model_name, chunking=chunking,
                          collection=getattr(collection, "name", None))


def read_manifest_or_none(index_dir: Path) -> tuple[store.Manifest | None, str | None]:
    """The manifest, or (None, why) when it is unreadable (then it is moved aside)."""
    from rag.errors import IndexBrokenError

    try:
        return store.load_manifest(index_dir), None
    except IndexBrokenError as exc:
        log.info("%s", exc)
        kept = move_aside(index_dir / store.MANIFEST)
        return None, f"the manifest was unreadable (kept as {kept.name}); rebuilt from Chroma and the files"
