"""What a question asks: its language, its kind (who, where, when, how many, list ...), the
terms an answer must match, and the anchors it hinges on (see rag.lang.anchors).

The words that ask each kind are language knowledge, in the language packs (rag.lang.en,
rag.lang.zh); the news vocabulary (event roles, synonyms) is here.
"""

from __future__ import annotations

import re
from dataclasses import replace

import rag.lang as language
from rag.answer.vocabulary import news
from rag.lang.anchors import anchors
from rag.lang.en import ORDINAL_WORDS, QUESTION_WORDS
from rag.lang.tokenization import stem, tokenize
from rag.types import Kind, Question

# Order matters: the first kind whose words a question uses wins.
_KIND_PATTERNS = [(kind, re.compile("|".join(f"(?:{p.question_kinds[kind.value]})" for p in language.packs()), re.I))
                  for kind in (Kind.QUANTITY, Kind.WHO, Kind.WHEN, Kind.WHERE, Kind.WHY, Kind.LIST)]

# Words that say who took part in an event; a "who attended" question is about all of them.
# News vocabulary like the synonyms and slot words below: data (rag/answer/vocab/news.json).
PARTICIPATION = {stem(w) for w in news("en")["participation"]}
ZH_PARTICIPATION = tuple(news("zh")["participation"])
# Taking part said in more than one word ("took part"): matched as phrases.
_PARTICIPATION_PHRASES = re.compile(r"\b(" + "|".join(news("en")["participation_phrases"]) + r")\b", re.I)


# Taking part at all (attended, 出席), as opposed to a role in the event (presided, 主持).
GENERIC_PARTICIPATION = set(news("en")["generic_participation_stems"])
ZH_GENERIC_PARTICIPATION = tuple(news("zh")["generic_participation"])
# What is searched, besides the question, for the whole list of who attended: the words of
# every language, as a question in one may be answered by an article in another.
ATTENDANCE_QUERY = " ".join(news(lang)["attendance_query"] for lang in ("en", "zh"))


_ROLE_Q = re.compile(rf"\b({'|'.join(news('en')['roles'])})\b|{'|'.join(news('zh')['roles'])}", re.I)


def asks_role(text: str) -> bool:
    """'Who was the Mayor of Chengdu among the attendees': one person by role, not everyone."""
    return bool(_ROLE_Q.search(text))


def participation_asked(text: str, terms: list[str], lang: str) -> set[str]:
    """The specific ways of taking part that a question asks about ("presided", 主持); empty
    when it asks who took part at all ("attended", 出席)."""
    if lang == "zh":
        return {w for w in ZH_PARTICIPATION if w in text and w not in ZH_GENERIC_PARTICIPATION}
    return set(canonical(terms)) & set(canonical(PARTICIPATION)) - GENERIC_PARTICIPATION


def took_part(text: str) -> bool:
    """Whether a sentence says that someone took part (attended, presided, spoke, 出席, 主持 ...)."""
    return bool(set(tokenize(text)) & PARTICIPATION) or any(w in text for w in ZH_PARTICIPATION) \
        or bool(_PARTICIPATION_PHRASES.search(text))


# Question words carry no content; removed before Chinese text is cut into bigrams.
_QUESTION_WORDS_RE = language.any_language("question_words")

# Words that news reports use for the same event role. Question terms and sentence tokens are
# both mapped to the group's first stem, so "chaired" finds "presided over".
SYNONYM_GROUPS = news("en")["synonym_groups"]
SYNONYMS = {stem(w): stem(group.split()[0]) for group in SYNONYM_GROUPS for w in group.split()}

# Words that name the slot a question asks to fill; the answer sentence holds a value, not the word.
SLOT_WORDS = {stem(w) for w in news("en")["slot_words"]}


def strip_question_words(text: str) -> str:
    """`text` without the Chinese question words (English ones are stop words already)."""
    return _QUESTION_WORDS_RE.sub(" ", text)


def canonical(tokens):
    return [SYNONYMS.get(t, t) for t in tokens]


# "What did X say / call / according to X": X is the speaker, not what the answer is about.
ATTRIBUTION = language.any_language("attribution")

# What an attribution question is about: "what did X say about Y", "X对Y说了什么", "X关于Y".
_ABOUT = [re.compile(p.about, re.I) for p in language.packs()]


def _about_match(text: str) -> re.Match | None:
    if not ATTRIBUTION.search(text):
        return None
    return next((m for m in (rx.search(text) for rx in _ABOUT) if m), None)


def about(text: str) -> str | None:
    """The topic an attribution question asks about, as written ("artificial intelligence")."""
    m = _about_match(text)
    return m.group(1).strip() if m else None


_SPEAKER_WORD = re.compile(rf"[A-Z][\w'’-]*|[{language.CJK}]+")


def speaker(text: str) -> str | None:
    """Whom an attribution question quotes, as written ("Huang Qiang" in "What did Huang Qiang
    say about tourism?", 黄强 in 黄强对旅游说了什么): the names before its topic, without the
    question's and the attribution's words. Lower-case words ("the report") are no speaker."""
    m = _about_match(text)
    if not m:
        return None
    before = ATTRIBUTION.sub(lambda x: " " * len(x.group()), text[:m.start()])
    before = _QUESTION_WORDS_RE.sub(lambda x: " " * len(x.group()), before)
    words = [w for w in _SPEAKER_WORD.finditer(before) if tokenize(w.group(), bigrams_only=True)
             and w.group().lower() not in QUESTION_WORDS]
    return text[words[0].start():words[-1].end()].strip() if words else None


_FOLLOW_UP_RE = language.any_language("follow_up")


# Capitalised words that are headline nouns, not parts of a name: "the Seventh Meeting".
_GENERIC = {w.lower() for w in """Meeting Session Conference Congress Committee Party Government Province
City District County Region Area Mayor Governor Secretary Chairman President Premier Minister Delegation
Forum Summit Ceremony Plan Project Program Programme Article Report""".split()}


def name_phrases(text: str) -> list[str]:
    """Runs of two or more capitalised words that may be a person's or a place's full name
    ("Li Qiang"); the articles must contain the run as written, not just its words."""
    phrases = []
    for m in re.finditer(r"(?:[A-Z][a-z]+(?:['’-][A-Za-z]+)?\s+)+[A-Z][a-z]+(?:['’-][A-Za-z]+)?", text):
        words = [re.sub(r"['’]s$", "", w) for w in m.group().split()]  # "Hu Henghua's"
        if m.start() == 0 and words[0].lower() in QUESTION_WORDS:
            words = words[1:]
        if len(words) >= 2 and not any(w.lower() in _GENERIC or w.lower() in ORDINAL_WORDS for w in words):
            phrases.append(" ".join(words))
    return phrases


_AUX = r"(?:is|are|was|were|did|does|do|has|have|had|will|would|can|could|should|may|might|must)"
_HEAD_RE = re.compile(rf"^\s*(?:which|what)\s+((?:(?!{_AUX}\b)[A-Za-z-]+\s+){{0,2}}?(?!{_AUX}\b)[A-Za-z-]+)\s+{_AUX}\b", re.I)


def head_phrase(text: str) -> str:
    """The thing a which/what question asks for: "newspaper" in "Which newspaper is ...".
    When the articles never use any of its words, they cannot name one."""
    m = _HEAD_RE.match(text)
    return m.group(1) if m else ""


def proper_names(text: str) -> list[str]:
    """Capitalised English words that are not sentence-initial: candidate proper nouns.
    Acronyms are left out: "NDRC" may stand for words the articles spell out."""
    names = []
    for sent in re.split(r"[.?!]\s+", text):
        toks = re.findall(r"[A-Za-z][A-Za-z'’-]*", sent)
        for i, tok in enumerate(toks):
            if i == 0 or not tok[0].isupper() or tok.lower() in QUESTION_WORDS or tok.isupper():
                continue
            names.append(tok)
    return names


def detect_kind(text: str, lang: str) -> Kind:
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return Kind.OTHER


def analyse(text: str, previous: "Question | None" = None) -> Question:
    text = text.strip()
    lang = language.detect(text)
    found, anchor_text = anchors(text)
    capitals = language.pack(lang).capitals
    kind, terms = detect_kind(text, lang), tokenize(strip_question_words(text), bigrams_only=True)
    participation = kind == Kind.WHO and took_part(text)
    q = Question(text=text, lang=lang, kind=kind, terms=terms,
                 anchors=found, names=proper_names(text) if capitals else [], anchor_text=anchor_text,
                 phrases=name_phrases(text) if capitals else [], head=head_phrase(text) if capitals else "",
                 participation=participation,
                 attendance=ATTENDANCE_QUERY if participation and not participation_asked(text, terms, lang)
                 and not asks_role(text)
                 else "",
                 topic=about(text) or "")
    if previous is not None and is_follow_up(q, previous):
        # "Where was it held?" after "Who attended the seventh meeting?" is about the seventh meeting.
        q = replace(q, anchors=q.anchors | previous.anchors, anchor_text={**previous.anchor_text, **q.anchor_text},
                    context=previous.text + " " + previous.context)
    return q


def is_follow_up(q: Question, previous: Question) -> bool:
    if q.anchors and not q.anchors <= previous.anchors:
        return False  # it names its own subject
    return bool(_FOLLOW_UP_RE.search(q.text)) or len(q.terms) <= 3
