"""Split documents into sentences (with character offsets) and pack sentences into passages
of a bounded number of tokens.

Offsets are kept so that an answer can cite, and the UI can highlight, the exact sentence
it came from. Passages never cut a sentence unless the sentence alone is over the budget.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field

from rag.ingest.loading import Document
from rag.lang import CJK, cjk_near, en, zh

# A sentence ends at 。！？ (Chinese needs no space after them) or at .!? followed by space and
# something that can start a sentence. Paragraph breaks always end a sentence.
_EN_BOUNDARY = re.compile(rf"""([{en.PACK.sentence_end}]+["'”’)\]]*)(\s+)(?=["'“‘(\[]?[A-Z0-9{CJK}])""")
_ZH_BOUNDARY = re.compile(rf"([{zh.PACK.sentence_end}]+[”’\"')）]*)")


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the document text
    end: int


@dataclass
class Passage:
    """A chunk of one document, with the sentence spans it holds (relative to `text`)."""

    article_id: str
    lang: str
    index: int
    text: str
    start: int
    end: int
    sentences: list[tuple[int, int]] = field(default_factory=list)
    tokens: int = 0

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def split_sentences(text: str) -> list[Sentence]:
    """Sentence spans of `text`, trimmed of surrounding white space, in order."""
    spans: list[Sentence] = []
    for para in re.finditer(r"[^\n]+", text):
        base = para.start()
        cuts = _boundaries(para.group())
        prev = 0
        for cut in cuts + [len(para.group())]:
            _append_trimmed(spans, text, base + prev, base + cut)
            prev = cut
    return spans


def _boundaries(para: str) -> list[int]:
    cuts: set[int] = set()
    for m in _EN_BOUNDARY.finditer(para):
        before = para[: m.start(1)]
        word = re.search(r"([A-Za-z.]+)$", before)
        if m.group(1).startswith(".") and word and word.group(1).lower().rstrip(".") in en.ABBREVIATIONS:
            continue
        if m.group(1) == "." and word and len(word.group(1)) == 1 and word.group(1).isupper():
            continue  # an initial: "J. Smith"
        cuts.add(m.end(1))
    for m in _ZH_BOUNDARY.finditer(para):
        end = m.end(1)
        if end < len(para) and para[m.start(1)] in "!?;" and not cjk_near(para, m.start(1)):
            continue  # ASCII ! ? ; inside English text are handled above
        cuts.add(end)
    return sorted(c for c in cuts if 0 < c < len(para))


def _append_trimmed(spans: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Sentence(start, end))


@functools.lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def _split_long(text: str, span: Sentence, budget: int) -> list[Sentence]:
    """A sentence over the budget is cut at clause punctuation, and failing that at token windows."""
    piece = text[span.start: span.end]
    if count_tokens(piece) <= budget:
        return [span]
    parts: list[Sentence] = []
    start = span.start
    clause_ends = [m.end() for m in re.finditer(r"[，,、；;：:]\s*", piece)]
    cur = span.start
    for rel_end in clause_ends + [len(piece)]:
        end = span.start + rel_end
        if count_tokens(text[start:end]) > budget and cur > start:
            parts.append(Sentence(start, cur))
            start = cur
        cur = end
    parts.append(Sentence(start, span.end))
    out: list[Sentence] = []
    enc = _encoding()
    for part in parts:
        chunk = text[part.start: part.end]
        ids = enc.encode(chunk, disallowed_special=())
        if len(ids) <= budget:
            out.append(part)
            continue
        offset = part.start
        for i in range(0, len(ids), budget):
            # decode token windows back to text; multi-byte characters may straddle a window
            piece_text = enc.decode(ids[i: i + budget])
            found = text.find(piece_text.strip(), offset)
            end = found + len(piece_text.strip()) if found >= 0 else min(part.end, offset + len(piece_text))
            _append_trimmed(out, text, offset, min(end, part.end) if i + budget < len(ids) else part.end)
            offset = min(end, part.end)
    return out


def chunk_document(doc: Document, chunk_tokens: int, overlap_sentences: int = 1) -> list[Passage]:
    """Pack consecutive sentences into passages of at most `chunk_tokens` cl100k tokens.

    The last `overlap_sentences` sentences of a passage start the next one, so a fact stated
    across a sentence boundary is whole in at least one passage.
    """
    if chunk_tokens < 16:
        raise ValueError("chunk_tokens must be at least 16")
    text = doc.text
    sentences: list[Sentence] = []
    for s in split_sentences(text):
        sentences.extend(_split_long(text, s, chunk_tokens))
    sizes = [count_tokens(text[s.start: s.end]) for s in sentences]

    passages: list[Passage] = []
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and (j == i or total + sizes[j] <= chunk_tokens):
            total += sizes[j]
            j += 1
        group = sentences[i:j]
        start, end = group[0].start, group[-1].end
        passages.append(Passage(
            article_id=doc.article_id, lang=doc.lang, index=len(passages),
            text=text[start:end], start=start, end=end,
            sentences=[(s.start - start, s.end - start) for s in group], tokens=total,
        ))
        if j >= len(sentences):
            break
        i = max(i + 1, j - overlap_sentences)
    return passages

