"""What a value of the kind a question asks for looks like (a date, a figure, a person's or a
place's name), per language: the only language-specific part of the reader's features."""

from __future__ import annotations

import re

from rag.answer.vocabulary import news
from rag.lang.en import MONTHS
from rag.types import Kind

# Questions answered by a value of their kind, a date or a figure: one in a sentence about
# something else is no answer (the reader's own coverage floor and evidence features for them).
TYPED = (Kind.WHEN, Kind.QUANTITY)

_MONTHS = "|".join(m.title() for m in MONTHS)
DATES = re.compile(rf"\b({_MONTHS})\b(\s+\d{{1,2}})?|\b(1[5-9]|20)\d\d\b|\b\d{{1,2}}(st|nd|rd|th)\s+centur|"
                   r"\d+\s*[年月日号]|[一二三四五六七八九十〇零]+\s*[年月日]|世纪|\b\d{1,2}:\d\d\b")
FIGURE = re.compile(r"\d+(?:[.,]\d+)*|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|"
                    r"million|billion)\b|[一二三四五六七八九十两百千万亿]+\s*[个项次名位条家座处种年倍公里吨元人%]", re.I)
_EN_NAME = re.compile(r"\b[A-Z][a-z]+(?:['’-][A-Za-z]+)?(?:\s+(?:of\s+|de\s+|von\s+)?[A-Z][a-z]+(?:['’-][A-Za-z]+)?)*")
_ZH = news("zh")
_ZH_PERSON = re.compile("|".join(_ZH["person_titles"]))
_ZH_PLACE = re.compile(f"[{_ZH['place_suffixes']}]|在.{{1,12}}({'|'.join(_ZH['event_verbs'])})")


_EN_PERSON = re.compile(r"\b([A-Z][a-z]+(?:['’][a-z]+)?) ([A-Z][a-z]+(?:['’][a-z]+)?)\b")
# Capitalised words that start no person's name in English news (roles, bodies, places' kinds),
# and the plain words that do not either.
NOT_NAME = set(news("en")["not_name"]) | set("""the on in at and of for with by during january february march april
may june july august september october november december""".split())


def person_names(text: str, lang: str) -> list[str]:
    """Two-word capitalised names in `text` ("Wang Xiaohui"); none for Chinese, which has no
    capitals to go by (a dictionary-free Chinese name finder would guess)."""
    if lang != "en":
        return []
    return list(dict.fromkeys(m.group(0) for m in _EN_PERSON.finditer(text)
                              if m.group(1).lower() not in NOT_NAME and m.group(2).lower() not in NOT_NAME))


def values(kind: Kind, text: str, lang: str) -> list[str]:
    """Values of the kind a question of `kind` asks for, as written in `text`."""
    if kind == Kind.WHEN:
        return [m.group(0) for m in DATES.finditer(text)]
    if kind == Kind.QUANTITY:
        return [m.group(0) for m in FIGURE.finditer(DATES.sub(" ", text))]
    if kind in (Kind.WHO, Kind.WHERE):
        if lang == "zh":
            rx = _ZH_PERSON if kind == Kind.WHO else _ZH_PLACE
            return [m.group(0) for m in rx.finditer(text)]
        # A capitalised run that does not open the sentence: a name of a person or a place.
        return [m.group(0) for m in _EN_NAME.finditer(text) if m.start() > 0]
    return []


def novel_values(kind: Kind, text: str, lang: str, question: str) -> int:
    """How many values of the asked kind `text` holds that the question does not already say."""
    low = question.lower()
    return sum(1 for v in values(kind, text, lang) if v.lower() not in low)
