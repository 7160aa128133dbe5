"""Which language a piece of text is in. The corpus is English and Chinese, so a script count
is both exact enough and deterministic (statistical detectors flip on short headlines)."""

from __future__ import annotations

import re

LANGS = ("en", "zh")

# CJK Unified Ideographs (+ Extension A) and the compatibility block.
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")


def cjk_count(text: str) -> int:
    return len(CJK_RE.findall(text))


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
