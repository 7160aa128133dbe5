"""Checks on Chroma's files that need no Chroma: whether its embedded database can be right,
and how many vectors it holds, read from its SQLite file in milliseconds.

`open_client` (rag.store.chroma) refuses a damaged database with them, and `rag ingest` runs
them on every ingest before it trusts the index (rag.ingest.repair rebuilds what they find).
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

SQLITE = "chroma.sqlite3"
SQLITE_MAGIC = b"SQLite format 3\x00"


def chroma_file_problem(index_dir: Path) -> str | None:
    """Why the embedded Chroma store cannot be right, from its files alone; None when it may be."""
    folder = index_dir / "chroma"
    if not folder.exists():
        return "its Chroma store is missing"
    db = folder / SQLITE
    try:
        with open(db, "rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return f"its Chroma database ({SQLITE}) is missing"
    except OSError as exc:
        return f"its Chroma database cannot be read ({exc.strerror})"
    if not head:
        return f"its Chroma database ({SQLITE}) is empty"
    if head != SQLITE_MAGIC:
        return f"its Chroma database ({SQLITE}) is not an SQLite file"
    return None


def stored_passages(index_dir: Path) -> int | None:
    """How many vectors Chroma's database holds, read with sqlite3 (read-only, milliseconds,
    without starting Chroma); None when that cannot be told."""
    import sqlite3

    db = index_dir / "chroma" / SQLITE
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error as exc:
        log.info("cannot count the vectors in %s (%s)", db, exc)
        return None


def chroma_problem(index_dir: Path, live: int) -> str | None:
    """chroma_file_problem, and fewer vectors stored than the manifest names (a database that
    was replaced by an empty one)."""
    problem = chroma_file_problem(index_dir)
    if problem is None and live:
        n = stored_passages(index_dir)
        if n is None:
            return f"its Chroma database ({SQLITE}) cannot be read"
        if n < live:
            return f"its Chroma database holds {n} of the {live} passages the index names"
    return problem
