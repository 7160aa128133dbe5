"""Articles added through the web app: checked before they touch the index, kept beside it.

An upload is validated (type, size, readable text) before it is copied into
<index_dir>/uploads/, and a file that the ingest still rejects is removed again, so a
rejected upload leaves both the folder and the index as they were. Keeping the files in
the index folder means that the index can always be rebuilt from what it was built from.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ArticleError
from rag.ingest.loading import SUFFIXES, read_article

log = logging.getLogger(__name__)

UPLOADS = "uploads"


@dataclass
class Accepted:
    path: Path  # where the file now lives, inside the uploads folder
    created: bool  # False when the same bytes were there already
    previous: bytes | None  # kept for callers of undo(); uploads no longer replace files
    requested: str = ""  # the (cleaned) name the client asked for

    @property
    def renamed(self) -> bool:
        """Stored under another name, because an article of the requested name exists."""
        return bool(self.requested) and self.path.name != self.requested


def uploads_dir(index_dir: Path) -> Path:
    return Path(index_dir) / UPLOADS


def safe_name(name: str) -> str:
    """A file name that cannot leave the uploads folder or hide in it."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    stem = re.sub(r"[^\w.-]+", "-", stem, flags=re.UNICODE).strip("-.") or "article"
    return f"{stem[:120]}{suffix.lower()}"


def accept(src: Path, orig_name: str, index_dir: Path, max_bytes: int) -> Accepted:
    """Check one uploaded file and copy it into the uploads folder.

    Raises ArticleError (one-line reason) for a wrong type, an empty, oversized or binary
    file, or one with no article text; nothing is written then. A file whose name is taken by
    another article is stored under a new name (`Accepted.renamed`), never over it. Messages name the file by
    its cleaned name, never by the raw one the client sent.
    """
    name = safe_name(orig_name or src.name)
    suffix = Path(name).suffix
    if suffix not in SUFFIXES:
        raise ArticleError(f"{name}: {suffix or 'no extension'} files are not articles; "
                           "upload .txt, .md or .html")
    try:
        size = src.stat().st_size
    except OSError as exc:
        raise ArticleError(f"{name}: the upload cannot be read ({exc.strerror}); try again") from exc
    if size == 0:
        raise ArticleError(f"{name}: the file is empty")
    if size > max_bytes:
        raise ArticleError(f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit "
                           "for one article")
    # Parse it under its own name before it goes anywhere near the index: this is the same
    # check the ingest makes, so its reason (binary, not UTF-8, no text) is the one shown.
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / name
        shutil.copyfile(src, probe)
        read_article(probe, max_bytes)

    folder = uploads_dir(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    digest = _sha(src)
    # An article of the same name is never replaced in silence: the same bytes are the same
    # article (nothing to do); other bytes are stored beside it as name-2.txt, name-3.txt, ...
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        target = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if not target.exists():
            break
        if _sha(target) == digest:
            return Accepted(target, created=False, previous=None, requested=name)
    else:
        raise ArticleError(f"{name}: too many uploads of this name; rename the file")
    tmp_target = folder / f".{target.name}.part"
    shutil.copyfile(src, tmp_target)
    try:
        # link, not rename: it fails instead of replacing a file that appeared meanwhile
        os.link(tmp_target, target)
    except FileExistsError:
        raise ArticleError(f"{name}: another upload of this name arrived at the same time; try again") from None
    finally:
        tmp_target.unlink(missing_ok=True)
    return Accepted(target, created=True, previous=None, requested=name)


def undo(accepted: Accepted) -> None:
    """Put the uploads folder back as it was before `accept`."""
    try:
        if accepted.previous is not None:
            accepted.path.write_bytes(accepted.previous)
        elif accepted.created:
            accepted.path.unlink(missing_ok=True)
    except OSError:
        log.exception("could not undo the upload of %s", accepted.path)


def _sha(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.digest()
