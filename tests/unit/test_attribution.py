"""Who said what: the speaker a question quotes, and whether the evidence reports that person
saying what the question is about (rag/answer/attribution.py)."""

import pytest

from rag.answer.attribution import said_about, said_by
from rag.answer.questions import analyse, speaker
from rag.answer.sentence_features import candidates
from rag.lang.tokenization import tokenize
from tests.support.hits import Lexicon, make_hit


def toks(text):
    return set(tokenize(text, bigrams_only=True))


@pytest.mark.parametrize("question,who", [
    ("What did Huang Qiang say about tourism?", "Huang Qiang"),
    ("What did Chen Min'er say regarding the railways?", "Chen Min'er"),
    ("黄强对旅游说了什么？", "黄强"),
    ("王晓晖关于科技创新说了什么？", "王晓晖"),
    ("What does the report say about tourism?", None),  # no name: nobody to find
    ("What was said about tourism?", None),
    ("Who attended the seventh meeting?", None),  # not an attribution question
])
def test_speaker_of_a_question(question, who):
    assert speaker(question) == who


CEREMONY = ("Before the session, the two sides held a ceremony for the tourism corridor. Chen Min'er, "
            "Huang Qiang and Tian Xiangli attended the ceremony. They were briefed on the plan for the "
            "tourism corridor.")


def test_attending_is_not_saying():
    hit = make_hit("a", CEREMONY)
    assert not said_by(hit, toks("tourism"), toks("Huang Qiang"))


def test_a_sentence_that_reports_the_speaker_on_the_topic():
    hit = make_hit("a", "Huang Qiang said that tourism should grow. Chen Min'er attended.")
    assert said_by(hit, toks("tourism"), toks("Huang Qiang"))
    assert not said_by(hit, toks("tourism"), toks("Chen Min'er"))


def test_a_surname_on_second_reference_counts():
    hit = make_hit("a", "Chen stressed the need to promote connectivity in transport.")
    assert said_by(hit, toks("connectivity"), toks("Chen Min'er"))


def test_a_quote_that_runs_on_from_the_passage_before():
    first = make_hit("a1", "Wang Xiaohui pointed out in his speech that the region is a major decision. "
                           "The vision has been clearly defined.", idx=0)
    second = make_hit("a2", "This is a valuable opportunity. We will grow into the fourth engine for the "
                            "economy.", idx=1)
    before = {"a2": first}
    assert said_by(second, toks("fourth engine"), toks("Wang Xiaohui"), lambda h: before.get(h.id))
    assert not said_by(second, toks("fourth engine"), toks("Wang Xiaohui"))  # without the look-back
    # The nearest report of speech decides: someone else speaking in between takes the quote.
    between = make_hit("a2", "Yuan Jiajun said the plan is sound. We will grow into the fourth engine.", idx=1)
    assert not said_by(between, toks("fourth engine"), toks("Wang Xiaohui"), lambda h: before.get(h.id))


def test_chinese_speech():
    hit = make_hit("z", "王晓晖指出，希望两省市把推动成渝中部地区加快崛起作为战略重点。黄强出席会议。", lang="zh")
    assert said_by(hit, toks("成渝中部地区"), toks("王晓晖"))
    assert not said_by(hit, toks("成渝中部地区"), toks("黄强"))


def test_the_answer_candidates_are_the_sentences_on_the_topic_that_the_speaker_said():
    hits = [make_hit("a", "Wang Xiaohui attended the meeting and spoke. Yuan Jiajun said the railways matter. "
                          "Wang Xiaohui said that the railways should be faster. Hu Henghua reported on the railways.")]
    q = analyse("What did Wang Xiaohui say about the railways?")
    cands = candidates(q, hits, Lexicon(hits), qvec=None)
    kept = said_about(cands, toks("railways"), toks("Wang Xiaohui"))
    assert [c.text for c in kept] == ["Wang Xiaohui said that the railways should be faster."]
