"""The one interface of a language: what the stages need to know about it, as data and pure
functions. `rag.lang.en` and `rag.lang.zh` each define one `PACK`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class LanguagePack:
    code: str
    # -- words
    stop_words: frozenset[str]  # dropped from lexical tokens (Chinese: single characters)
    months: tuple[str, ...]  # month names, January first
    find_months: Callable[[str], set[int]]  # the months (1-12) a text names
    find_figures: Callable[[str], set[int]]  # the numbers a text spells out ("seventh", 三个), as values
    parse_number: Callable[[str], int | None]  # a numeral as written ("twenty-first", "四十")
    ordinal_re: re.Pattern  # an ordinal; group 1 the numeral to parse (or group 2 digits)
    length: Callable[[str], int]  # how long a text reads: words, or Chinese characters
    capitals: bool  # names are capitalised, so capitalised words are candidate names
    # -- sentences
    sentence_end: str  # punctuation that ends a sentence
    joiner: str  # what joins two sentences or two title lines
    article: str  # what a reply puts before a thing it names ("the eighth meeting", "第八次会议")
    # -- page layout (rag.ingest.cleaning), in units of `length`
    title_length: int  # a headline broken over lines is at most this long
    body_length: int  # a line of running text is at least this long
    label_length: int  # a line shorter than this is a label, not text
    shout_label_length: int  # ... or shorter than this and in capitals ("NEWS & EVENTS")
    # -- questions (rag.answer.questions); patterns are matched case-insensitively
    question_kinds: dict[str, str]  # kind ("who", "when" ...) -> the words that ask it
    question_words: str  # words that ask, not say anything ("" when stop words cover them)
    attribution: str  # "what did X say": X is the speaker
    follow_up: str  # words that refer back to the previous question
    intersection: str  # "who attended both meetings"
    several: str  # a question that asks for more than one thing: "which two officials", "哪些"
    about: str  # what an attribution question is about (group 1): "what did X say about Y"
    speech: str  # a sentence that reports what someone said ("X pointed out", "X在讲话中指出")
    # -- generated answers (rag.generate)
    abstains: str  # a sentence that says the passages do not answer
    instructs: str  # a sentence that reads as an instruction to a model, not a statement
