"""English: stop words, months, number words and ordinals, sentence punctuation, question words."""

from __future__ import annotations

import re

from rag.lang import words
from rag.lang.language_pack import LanguagePack

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we
were what when where which while who whom why will with would you your yours yourself yourselves
s t don shall may might must us one many much
""".split())

# Capitalised words in an answer that are not names (sentence adverbs, words about the task).
# Not the stop words: "US", "Don" and "May" are capitalised for a reason there.
NOT_NAMES = frozenset("""
the a an in on at he she it they this that these those both and but according during after before as by for
from with also there their his her its we our i yes no however meanwhile moreover furthermore overall
additionally answer question passage passages article articles here to of is was were are then so while when
where who what which how why all each every other some many most one two based under among since until within
through if not only finally first second third lastly together besides specifically notably instead thus
therefore accordingly
""".split()) | {"in addition"}

# Words of a question that are not names even when capitalised ("Who", "List", "Besides").
QUESTION_WORDS = frozenset("""
who whom whose what when where which why how did does do is are was were in on at the a an list name tell give
according and or of to for by with both between besides apart during
""".split())

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")

# Words before a full stop that does not end the sentence ("Mr. Li", "Jan. 5").
ABBREVIATIONS = frozenset("""
mr mrs ms dr prof st no co ltd inc corp jr sr vs etc e.g i.e u.s u.k gen gov sen rep jan feb mar apr jun jul
aug sep sept oct nov dec fig approx
""".split())

UNITS = "one two three four five six seven eight nine".split()
TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORD_UNITS = "first second third fourth fifth sixth seventh eighth ninth".split()
_ORD_TEENS = "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth".split()
_ORD_TENS = "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
ORDINAL_WORDS = {**{w: i + 1 for i, w in enumerate(_ORD_UNITS)}, **{w: i + 10 for i, w in enumerate(_ORD_TEENS)},
                 **{w: (i + 2) * 10 for i, w in enumerate(_ORD_TENS)}, "hundredth": 100}
CARDINAL_WORDS = {**{w: i + 1 for i, w in enumerate(UNITS)}, **{w: i + 10 for i, w in enumerate(TEENS)},
                  **{w: (i + 2) * 10 for i, w in enumerate(TENS)}}

# The figures a sentence may spell out: zero to twenty, second to twentieth, and the big units.
# "first" is left out: "for the first time" is not a figure.
NUMBER_WORDS = {**{w: i for i, w in enumerate(["zero"] + UNITS + TEENS + ["twenty"])},
                **{w: i + 2 for i, w in enumerate(_ORD_UNITS[1:] + _ORD_TEENS + ["twentieth"])},
                "hundred": 100, "thousand": 1000, "million": 10 ** 6, "billion": 10 ** 9}

_SEP = r"[\s-]+"
# "fortieth", "twenty-first", "one hundred and second", "40th", "21st": ordinals of any size.
ORDINAL_RE = re.compile(
    rf"\b((?:(?:{'|'.join(UNITS)}|a){_SEP}hundred(?:{_SEP}and)?{_SEP})?(?:(?:{'|'.join(TENS)}){_SEP})?"
    rf"(?:{'|'.join(sorted(ORDINAL_WORDS, key=len, reverse=True))}))\b|\b(\d{{1,4}})(?:st|nd|rd|th)\b", re.IGNORECASE)


def parse_ordinal(text: str) -> int | None:
    """The number an English ordinal spells ("twenty-first" -> 21, "one hundredth" -> 100, "40" -> 40)."""
    if text.isdigit():
        return int(text)
    parts = [p for p in re.split(r"[\s-]+", text.lower()) if p and p != "and"]
    total = 0
    for i, p in enumerate(parts):
        if p == "hundred" or p == "hundredth":
            total = max(1, total) * 100
        elif p in ORDINAL_WORDS and i == len(parts) - 1:
            total += ORDINAL_WORDS[p]
        elif p in CARDINAL_WORDS:
            total += CARDINAL_WORDS[p]
        elif p == "a":
            total += 1
        else:
            return None
    return total or None


def find_figures(text: str) -> set[int]:
    return {NUMBER_WORDS[w.lower()] for w in re.findall(r"[A-Za-z][A-Za-z']*", text) if w.lower() in NUMBER_WORDS}


def find_months(text: str) -> set[int]:
    low = text.lower()
    return {i + 1 for i, m in enumerate(MONTHS) if re.search(rf"\b{m}\b", low)}


PACK = LanguagePack(
    code="en",
    stop_words=STOP_WORDS,
    months=MONTHS,
    find_months=find_months,
    find_figures=find_figures,
    parse_number=parse_ordinal,
    ordinal_re=ORDINAL_RE,
    length=words,
    capitals=True,
    sentence_end=".!?…",
    article="the ",
    joiner=" ",
    title_length=20,
    body_length=12,
    label_length=4,
    shout_label_length=6,
    question_kinds={
        "quantity": r"\bhow (many|much|long|far|big|large|old|high|tall|wide|deep|heavy)\b|\bwhat (percentage|share|number|amount)\b|"
                    r"\b(budget|cost|gdp|growth rate|population|investment|funding|spending|revenue|output|total)\b",
        "who": r"\bwho(m|se)?\b|\bwhich (officials?|leaders?|persons?|people|delegates?)\b|\bname the (officials|leaders|people)\b",
        # "when" asks for a time only as the question word ("When did ...", "Since when ..."), not
        # as a conjunction ("What does water turn into when heated?").
        "when": r"^\W*(?:(?:and|but|so|since|until|from|by)\s+)?when\b|"
                r"\b(what|which|on what|in what) (dates?|days?|time|years?|months?|century|decade)\b",
        "where": r"\bwhere\b|\bwhich (city|district|place|venue|province|location)\b|\bin what (city|place)\b",
        "why": r"\bwhy\b",
        "list": r"\bwhich\b|\blist\b|\bwhat (are|were) the\b|\bname\b|\bwhat (plans|projects|places|documents|tasks|items)\b",
    },
    question_words="",
    attribution=r"\b(say|said|says|call|called|describe[sd]?|according to|stress(ed)?|propose[sd]?|"
                r"point(ed)? out|urge[sd]?|hope[sd]?|want(ed)?|cite[sd]?|mention(ed)?|speech)\b",
    follow_up=r"\b(it|its|that|this|there|they|them|those|the meeting|the session|he|she|his|her)\b",
    intersection=r"\b(both|each of|in common|every one of)\b",
    several=r"\b(which|what) (two|three|four|five|six|seven|eight|nine|ten|several|(?!(?:does|was|has|is|this|thus|plus|status|process|business|news)\b)\w{2,}[^s\W]s)\b"
            r"|\b(two|three|four|five|six) \w+s\b|\bboth\b|\blist\b|\bname the\b|\bwhat (are|were) the\b",
    abstains=r"\b(do(es)?n[o']t|do(es)? not|cannot|can ?not|can't)\b[^.]{0,40}\b(answer|say|mention|contain|provide|"
             r"specify|state|include|tell|know|find)\b|\bno (information|answer|mention|details?)\b"
             r"|\bnot (mentioned|stated|specified|provided)\b",
    instructs=r"\b(ignore|disregard|forget|override)\b[^.!?。]{0,60}\b(instructions?|prompts?|rules|directions|everything)\b"
              r"|\b(system prompt|you are (an? )?(ai|assistant|language model|chatbot)|as an ai\b|assistant must|you are now\b"
              r"|(debug|developer|jailbreak|god) mode|new instructions?\b|do not follow\b)"
              r"|\b(answer|reply|respond|say|output|write|print)\s+(only|just)\b|\b(only|just)\s+(answer|reply|respond|say|output)\b"
              r"|\b(answer|reply|respond|say|output|write)\s+(with\s+)?(the word\s+)?['\"“‘]",
    about=r"\b(?:about|regarding|concerning|on the (?:topic|subject|issue) of)\s+(?:the\s+|a\s+|an\s+)?([^?.,;]+)",
    speech=r"\b(says?|said|stated|noted|added|stressed|emphasi[sz]ed|underlined|pointed out|called (for|on)|urged|"
           r"hoped|proposed|suggested|remarked|reported|told|explained|described|announced|expressed|spoke|"
           r"exchanged|discussed|presented|commented|argued|warned|insisted|claimed|replied|asked|wrote|vowed|pledged|"
           r"mentioned|according to|speech|address(ed)?|in (his|her|their) (speech|remarks|report))\b",
)
