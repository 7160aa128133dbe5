"""From the raw lines of a news page to clean article text, title, date and outlet.

Pages copied from news sites carry debris that is not article text: navigation words,
bylines, image file names, copyright and licence footers, addresses, and links to other
stories after the end. Left in, that debris becomes passages that win retrieval for the
wrong reasons, so it is removed here, before anything is indexed.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

import rag.lang as language
from rag.lang import words

# Lines that are never article text, wherever they stand.
DEBRIS_PATTERNS = [
    r"copyright|all rights reserved|\u00a9|版权所有|版权声明",
    r"\bICP\b|ICP备|ICP证|公网安备|备案号|增值电信业务",
    r"^(地址|address|电话|tel|邮编|e-?mail)\s*[:：]",
    r"^(国内发行|国外发行|发行)\s*[:：]",
    r"^(微信公众号|扫一扫|分享到|share( this)?|print|打印|关闭窗口|责任编辑|编辑\s*[:：])",
    # image file names: a hex digest with an optional "(1)" or an image extension
    r"^[0-9a-f]{16,}(\s*\(\d+\))?(\.(jpe?g|png|gif|webp|bmp))?$",
    r"^\S+\.(jpe?g|png|gif|webp|bmp)$",
]
DEBRIS_RE = re.compile("|".join(f"(?:{p})" for p in DEBRIS_PATTERNS), re.IGNORECASE)

# "Source/Chongqing Daily", "Source: Xinhua", "来源：新华社", "文/重庆日报": kept as metadata.
SOURCE_RE = re.compile(r"^(?:source|来源|文|稿源)\s*[/:：]\s*(?P<outlet>.{1,80})$", re.IGNORECASE)

# Everything after one of these is links to other stories.
RELATED_RE = re.compile(
    r"^(related( stories| articles| news)?|read more|more stories|see also|recommended|"
    r"相关阅读|相关新闻|推荐阅读|延伸阅读)\s*[:：]?\s*$",
    re.IGNORECASE,
)

MONTHS = {m: i for i, m in enumerate(language.pack("en").months, start=1)}
_MONTH_ALT = "|".join(MONTHS)

DATE_PATTERNS = [
    re.compile(r"(?P<y>(?:19|20)\d\d)[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"),
    re.compile(r"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    re.compile(rf"(?P<mn>{_MONTH_ALT})\s+(?P<d>\d{{1,2}}),?\s+(?P<y>(?:19|20)\d\d)", re.IGNORECASE),
    re.compile(rf"(?P<d>\d{{1,2}})\s+(?P<mn>{_MONTH_ALT})\s+(?P<y>(?:19|20)\d\d)", re.IGNORECASE),
]
TIME_RE = r"(?:\s*(?:T|\s)?\d{1,2}:\d{2}(?::\d{2})?)?"
TERMINAL = tuple(".!?。！？…\"”’')）;；:：")


@dataclass
class Paragraph:
    text: str
    lang: str
    header: bool = False  # headline block above the body (headline, subtitles, deck)


@dataclass
class CleanArticle:
    paragraphs: list[Paragraph]
    date: str | None
    outlet: str | None
    titles: dict[str, str] = field(default_factory=dict)  # lang -> title
    removed: list[str] = field(default_factory=list)  # what was dropped, for tests and debugging


def normalize_line(line: str) -> str:
    line = unicodedata.normalize("NFC", line)
    line = line.replace("\u3000", " ").replace("\u00a0", " ").replace("\ufeff", "")
    return re.sub(r"[ \t]+", " ", line).strip()


def parse_date(text: str) -> str | None:
    """The first date in `text` as ISO YYYY-MM-DD, or None."""
    for pattern in DATE_PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        month = int(m["m"]) if "m" in m.groupdict() and m.group("m") else MONTHS[m["mn"].lower()]
        try:
            return dt.date(int(m["y"]), month, int(m["d"])).isoformat()
        except ValueError:
            continue
    return None


def is_dateline(line: str) -> bool:
    """A line that is only a date, maybe with a time: a page's timestamp, not text."""
    for pattern in DATE_PATTERNS:
        if re.fullmatch(rf"\s*{pattern.pattern}{TIME_RE}\s*", line, pattern.flags):
            return True
    return False


def is_body(line: str) -> bool:
    """A line of running text (a sentence paragraph), as opposed to a headline or label."""
    stripped = line.rstrip()
    if not stripped.endswith(TERMINAL):
        return False
    pack = language.pack_of(stripped)
    return pack.length(stripped) >= pack.body_length


def is_short_label(line: str) -> bool:
    """Navigation words and section labels ("Local News NEWS & EVENTS", "双语 Bilingual")."""
    pack = language.pack_of(line)
    n = pack.length(line)
    # Menus shout: "NEWS & EVENTS", "HOME | WORLD".
    shouting = re.search(r"\b[A-Z]{3,}\b|[&|»›]", line) is not None
    return n < pack.label_length or (n < pack.shout_label_length and shouting)


def clean_lines(lines: list[str], title_hint: str | None = None) -> CleanArticle:
    """Clean the lines of one article. Pure: same lines in, same article out."""
    removed: list[str] = []
    outlet: str | None = None
    kept: list[str] = []
    for raw in lines:
        line = normalize_line(raw)
        if not line:
            continue
        if DEBRIS_RE.search(line):
            removed.append(line)
            continue
        m = SOURCE_RE.match(line)
        if m:
            outlet = outlet or m["outlet"].strip()
            removed.append(line)
            continue
        if RELATED_RE.match(line) and kept and any(is_body(k) for k in kept):
            removed.append(line)
            break  # the rest of the page is other stories
        kept.append(line)

    body_idx = [i for i, line in enumerate(kept) if is_body(line)]
    if not body_idx:
        # No running text at all (a short note, or a page of headlines): keep what is there.
        first_body, last_body = len(kept), len(kept) - 1
    else:
        first_body, last_body = body_idx[0], body_idx[-1]

    date = None
    header: list[str] = []
    after_dateline = False
    for line in kept[:first_body]:
        if is_dateline(line):
            date = date or parse_date(line)
            after_dateline = True
            removed.append(line)
            continue
        if is_short_label(line):
            removed.append(line)
            after_dateline = False
            continue
        if after_dateline and words(line) < 8:
            # A short line straight under the timestamp is a byline ("The People's Government of ...").
            outlet = outlet or line
            removed.append(line)
            after_dateline = False
            continue
        after_dateline = False
        header.append(line)
    header = _dedupe_header(header, removed)

    body: list[str] = []
    for line in kept[first_body:last_body + 1]:
        if is_dateline(line):
            removed.append(line)
            continue
        body.append(line)
    # After the last paragraph of running text come timestamps, links to other stories and labels.
    tail = kept[last_body + 1:]
    for line in tail:
        if body and (is_dateline(line) or not line.endswith(TERMINAL) and words(line) <= 15):
            removed.extend(tail[tail.index(line):])
            break
        body.append(line)

    if date is None:
        for line in header + body[:3]:
            date = parse_date(line)
            if date:
                break

    paragraphs = [Paragraph(t, language.detect(t), header=True) for t in header]
    paragraphs += [Paragraph(t, language.detect(t)) for t in body if language.has_letters(t)]
    _inherit_language_of_neutral(paragraphs)
    titles = choose_titles(paragraphs, title_hint)
    return CleanArticle(paragraphs=paragraphs, date=date, outlet=outlet, titles=titles, removed=removed)


def _dedupe_header(header: list[str], removed: list[str]) -> list[str]:
    """Pages often repeat the headline: once as a run-together banner, then line by line.
    Drop exact repeats and lines that are only other header lines glued together."""
    out: list[str] = []
    for i, line in enumerate(header):
        others = [h for j, h in enumerate(header) if j != i and h != line]
        glued = [h for h in others if h in line and len(h) < len(line)]
        if line in out or (glued and sum(len(h) for h in glued) >= 0.6 * len(line)):
            removed.append(line)
            continue
        out.append(line)
    return out


def _inherit_language_of_neutral(paragraphs: list[Paragraph]) -> None:
    # Bullets made only of numbers or names in Latin script inside Chinese text stay with it.
    for i, p in enumerate(paragraphs):
        if not language.has_letters(p.text) and i > 0:
            p.lang = paragraphs[i - 1].lang


def choose_titles(paragraphs: list[Paragraph], hint: str | None) -> dict[str, str]:
    """One title per language: the headline lines at the top of that language's header,
    joined while they still read as one headline (a headline is often broken over lines)."""
    titles: dict[str, str] = {}
    for lang in language.LANGS:
        pack = language.pack(lang)
        lines = [p.text for p in paragraphs if p.header and p.lang == lang]
        if hint and language.detect(hint) == lang:
            titles[lang] = hint
            continue
        if not lines:
            body = [p.text for p in paragraphs if p.lang == lang]
            if body:
                titles[lang] = _shorten(body[0])
            continue
        title = lines[0]
        for nxt in lines[1:]:
            joined = title + pack.joiner + nxt
            if pack.length(joined) > pack.title_length:
                break
            title = joined
        titles[lang] = title
    return titles


def _shorten(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
