"""Read article files (.txt, .md, .html) into cleaned, per-language documents.

A bilingual article becomes one document per language; the documents share the article id,
so the two versions of one story are known to be one story.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ArticleError
from rag.ingest import cleaning

log = logging.getLogger(__name__)

SUFFIXES = {".txt": "text", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
DEFAULT_MAX_BYTES = 5_000_000


@dataclass
class Document:
    """One language version of one article, cleaned."""

    article_id: str
    lang: str
    title: str
    date: str | None
    source: str  # file name
    outlet: str | None
    text: str  # paragraphs separated by blank lines

    @property
    def doc_id(self) -> str:
        return f"{self.article_id}:{self.lang}"


@dataclass
class Article:
    article_id: str
    source: str
    path: str
    file_hash: str
    documents: list[Document]


def article_id_for(path: Path) -> str:
    """The file's stem, made safe for ids: stable across runs and readable in citations."""
    stem = re.sub(r"[^\w.-]+", "-", path.stem, flags=re.UNICODE).strip("-.")
    return stem or hashlib.sha1(path.name.encode()).hexdigest()[:12]


def find_article_files(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files to ingest under `paths`, and (path, reason) for what was skipped.

    Only regular files are returned: reading a FIFO blocks forever (while the ingest holds the
    index lock) and a device never ends. Symbolic-link loops, broken links and folders that
    cannot be listed are reported, not passed over in silence. Nothing here reads a file."""
    files: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    for p in paths:
        why = _not_a_regular_file(p)
        if why is None:
            (files.append(p) if p.suffix.lower() in SUFFIXES else
             skipped.append((p, f"not an article type (use {', '.join(sorted(SUFFIXES))})")))
        elif why == "folder":
            found, bad = _walk(p)
            files += found
            skipped += bad
        else:
            skipped.append((p, why))
    return files, skipped


def _not_a_regular_file(path: Path) -> str | None:
    """None for a regular file (or a link to one), "folder" for a folder, else why it is skipped."""
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop; skipped"
        if exc.errno == errno.ENOENT:
            return "a broken symbolic link; skipped" if os.path.islink(path) else "no such file or folder"
        return f"cannot be read ({exc.strerror}); skipped"
    if stat.S_ISDIR(st.st_mode):
        return "folder"
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        return f"{kind}, not an article file; skipped"
    return None


def _walk(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    files: list[tuple[str, Path]] = []
    skipped: list[tuple[Path, str]] = []

    def unreadable(exc: OSError) -> None:
        skipped.append((Path(exc.filename or root), f"folder cannot be read ({exc.strerror}); skipped"))

    # Links to folders are not followed (a link back up would loop); links to files are.
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        rel = Path(dirpath).relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            dirnames[:] = []
            continue
        dirnames.sort()
        for name in filenames:
            if name.startswith("."):
                continue
            f = Path(dirpath) / name
            why = _not_a_regular_file(f)
            if why == "folder":
                skipped.append((f, "a link to a folder (not followed); skipped"))
            elif why is not None:
                skipped.append((f, why))
            elif f.suffix.lower() in SUFFIXES:
                files.append((str(f), f))
            else:
                skipped.append((f, f"not an article type (use {', '.join(sorted(SUFFIXES))})"))
    return [f for _, f in sorted(files)], sorted(skipped, key=lambda x: str(x[0]))


def decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise ArticleError(f"{name}: looks like a binary file, not text; skipped")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ArticleError(f"{name}: not UTF-8 or GB18030 text; save it as UTF-8 and ingest again")


def read_article(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, article_id: str | None = None) -> Article:
    """Load one file. Raises ArticleError with a user-facing reason when it cannot be used."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ArticleError(f"{path.name}: unsupported file type {path.suffix!r}; use .txt, .md or .html")
    why = _not_a_regular_file(path)
    if why is not None:
        raise ArticleError(f"{path.name}: {'a folder, not a file' if why == 'folder' else why}")
    size = path.stat().st_size
    if size == 0:
        raise ArticleError(f"{path.name}: empty file; skipped")
    if size > max_bytes:
        raise ArticleError(f"{path.name}: {size:,} bytes is over the {max_bytes:,}-byte limit for one article")
    data = path.read_bytes()
    text = decode(data, path.name)
    lines, hint = to_lines(text, kind)
    cleaned = cleaning.clean_lines(lines, title_hint=hint)
    if not cleaned.date:
        cleaned.date = cleaning.parse_date(path.stem)
    aid = article_id or article_id_for(path)
    documents = build_documents(cleaned, aid, path.name)
    if not documents:
        raise ArticleError(f"{path.name}: no article text left after cleaning; skipped")
    return Article(aid, path.name, str(path.resolve()), hashlib.sha256(data).hexdigest(), documents)


def build_documents(cleaned: cleaning.CleanArticle, article_id: str, source: str) -> list[Document]:
    docs: list[Document] = []
    for lang in dict.fromkeys(p.lang for p in cleaned.paragraphs):
        paras = [p.text for p in cleaned.paragraphs if p.lang == lang]
        title = cleaned.titles.get(lang) or paras[0][:90]
        docs.append(Document(article_id, lang, title, cleaned.date, source, cleaned.outlet, "\n\n".join(paras)))
    return docs


def to_lines(text: str, kind: str) -> tuple[list[str], str | None]:
    """The text's lines in reading order, and a title when the format marks one."""
    if kind == "markdown":
        return markdown_lines(text)
    if kind == "html":
        return html_lines(text)
    return text.splitlines(), None


def markdown_lines(text: str) -> tuple[list[str], str | None]:
    from markdown_it import MarkdownIt

    return html_lines(MarkdownIt("commonmark").render(text), prefer_h1=True)


BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre", "td", "figcaption"]


def html_lines(html: str, prefer_h1: bool = False) -> tuple[list[str], str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "aside", "form", "iframe", "svg", "img"]):
        tag.decompose()
    h1 = soup.find("h1")
    title_tag = soup.find("title")
    title = None
    if h1 and h1.get_text(strip=True):
        title = h1.get_text(" ", strip=True)
    elif title_tag and title_tag.get_text(strip=True) and not prefer_h1:
        title = title_tag.get_text(" ", strip=True)
    root = soup.find("article") or soup.find("main") or soup.body or soup
    lines: list[str] = []
    for time_tag in root.find_all("time"):
        if time_tag.get("datetime"):
            lines.append(time_tag["datetime"][:10])
            break
    for block in root.find_all(BLOCK_TAGS):
        if block.find(BLOCK_TAGS):  # the inner blocks are visited on their own
            continue
        line = block.get_text(" ", strip=True)
        if line:
            lines.append(("- " + line) if block.name == "li" else line)
    if not lines:
        lines = root.get_text("\n").splitlines()
    return lines, title
