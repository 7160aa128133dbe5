"""Language knowledge: which language a piece of text is in, and each language's pack.

The corpus is English and Chinese, so a script count is both exact enough and deterministic
(statistical detectors flip on short headlines). This is the one definition of which
characters are Chinese and of when a text counts as Chinese: every script test asks here.

Everything else a stage needs to know about a language (stop words, months, numerals, question
words, sentence punctuation, reply texts) is in that language's module, `rag.lang.en` and
`rag.lang.zh`, as one `LanguagePack`: `pack(code)` or `pack_of(text)`. A new language is one new
module with its pack, plus its code in LANGS.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.lang.language_pack import LanguagePack

LANGS = ("en", "zh")

# CJK Unified Ideographs (+ Extension A) and the compatibility block: a character class body.
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
LATIN = "A-Za-z\u00c0-\u024f"
CJK_RE = re.compile(f"[{CJK}]")
LATIN_RE = re.compile(f"[{LATIN}]")


def cjk_count(text: str) -> int:
    return len(CJK_RE.findall(text))


def has_cjk(text: str) -> bool:
    return bool(CJK_RE.search(text))


def cjk_near(text: str, i: int) -> bool:
    """Whether a Chinese character stands at, just before or just after position `i`."""
    return has_cjk(text[max(0, i - 1): i + 2])


def detect(text: str, default: str = "en") -> str:
    """'zh' when CJK characters carry the text, 'en' otherwise (also for other Latin-script text).

    A Chinese character carries about as much as four Latin letters, hence the weighting.
    """
    cjk = cjk_count(text)
    latin = len(LATIN_RE.findall(text))
    if cjk == 0 and latin == 0:
        return default
    return "zh" if cjk * 4 >= latin else "en"


def has_letters(text: str) -> bool:
    return bool(CJK_RE.search(text) or LATIN_RE.search(text))


def words(text: str) -> int:
    """A rough word count of mixed text: Latin words and numbers, plus one per two CJK characters."""
    return len(re.findall(r"[A-Za-z0-9'’-]+", text)) + cjk_count(text) // 2


def pack(code: str) -> "LanguagePack":
    """The pack of language `code` ("en", "zh")."""
    from rag.lang import en, zh  # the packs import the script helpers above

    return {"en": en.PACK, "zh": zh.PACK}[code]


def pack_of(text: str) -> "LanguagePack":
    return pack(detect(text))


def packs() -> tuple["LanguagePack", ...]:
    return tuple(pack(code) for code in LANGS)


def any_language(part: str) -> re.Pattern:
    """One case-insensitive pattern: the `part` pattern of every pack, as alternatives."""
    return re.compile("|".join(f"(?:{getattr(p, part)})" for p in packs() if getattr(p, part)), re.I)
