"""Answer composition and abstention on small hand-made passages: the trained reader and the
real e5 model, no index."""

import json

import numpy as np
import pytest

from rag.answer import abstention, extractive, reader_model, vocabulary
from rag.answer.citations import check
from rag.answer.questions import analyse
from rag.answer.who_lists import list_items
from tests.support.hits import Lexicon, make_hit

SEVENTH = [
    make_hit("a", "On June 26, the delegation visited Chongqing. In Bishan District, the sides held the seventh meeting. "
                  "Yuan Jiajun presided over the meeting and delivered a speech. Wang Xiaohui attended and addressed the meeting."),
    make_hit("b", "Huang Qiang and Hu Henghua exchanged insights on development. Wu Hao was invited to the meeting. "
                  "The weather in the region was mild.", start=400),
    make_hit("c", "Chen Min'er presided over the fifth session in Chongqing. Tian Xiangli attended the session.",
             article="art2", title="Fifth Session Kicks Off"),
]


@pytest.fixture(scope="module", autouse=True)
def e5():
    from rag.store.embedding import make_embedding

    global _E5
    _E5 = make_embedding("e5", 2, 32)
    yield _E5


def _vectors(texts):
    v = np.asarray(_E5.get_text_embedding_batch(list(texts)), dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def run(question, hits=SEVENTH, min_confidence=None, **kw):
    q = analyse(question)
    model = reader_model.load()
    qvec = np.asarray(_E5.get_query_embedding(question), dtype=np.float32)
    floor = model.min_confidence if min_confidence is None else min_confidence
    return extractive.answer(q, hits, Lexicon(hits), model, qvec, floor, vectors=_vectors, **kw)


def test_who_attended_gathers_every_person_of_that_event():
    a = run("Who attended the seventh meeting?", hits=SEVENTH[:2])
    assert a.answered
    for name in ("Yuan Jiajun", "Wang Xiaohui", "Huang Qiang", "Hu Henghua", "Wu Hao"):
        assert name in a.text
    assert "weather" not in a.text
    assert check(a.text, a.citations) == []


def test_gathering_stays_within_one_article():
    a = run("Who attended the meeting in Bishan District?")
    assert a.answered
    assert "Tian Xiangli" not in a.text and "Chen Min'er" not in a.text


def test_citations_are_numbered_in_order_of_first_use():
    a = run("Who attended the seventh meeting?", hits=[SEVENTH[1], SEVENTH[0]])
    assert check(a.text, a.citations) == []
    # sentences are read in document order: passage "a" (start 0) comes before "b" (start 400)
    assert a.text.index("Yuan Jiajun") < a.text.index("Huang Qiang")
    assert a.citations[0].passage_id == "a"
    assert all(c.highlights for c in a.citations)


def test_where_and_when_pick_the_sentence_with_the_place_or_date():
    where = run("Where was the seventh meeting held?", hits=SEVENTH[:2])
    assert where.answered and "Bishan" in where.text and "[1]" in where.text
    when = run("When did the delegation visit?", hits=SEVENTH[:2])
    assert when.answered and "June 26" in when.text


@pytest.mark.parametrize("question", [
    "How many people attended the seventh meeting?",
    "How much funding did the delegation receive?",
    # A date in a sentence about something else (the meeting) does not answer a when-question
    # whose subject (the railway) the sentence barely covers: the typed coverage floor (0.29).
    "When will the railway open?",
])
def test_a_figure_or_date_that_is_never_given_abstains(question):
    a = run(question, hits=SEVENTH[:2])
    assert not a.answered
    assert a.text.startswith("The articles do not")
    assert check(a.text, a.citations) == []
    assert 1 <= len(a.citations) <= abstention.CLOSEST


def test_a_figure_that_is_given_is_answered():
    hits = [make_hit("x", "The new railway line is 292 kilometers long and opened in 2024. It cost a lot.")]
    a = run("How long is the new railway line in kilometers?", hits=hits)
    assert a.answered and "292 kilometers" in a.text
    b = run("How many percent did the railway grow?", hits=hits)
    assert not b.answered  # 292 km and 2024 are not percentages


def test_a_chinese_when_question_is_answered_from_an_english_date():
    # The coverage floors compare words; a Chinese question shares none with an English
    # sentence, so they do not hold across languages (the date is still required).
    a = run("第七次会议座谈会是哪一天举行的？", hits=SEVENTH[:2])
    assert a.answered and "June 26" in a.text


def test_a_question_about_two_events_needs_evidence_of_each():
    question = "Who presided over both the fifth session and the seventh meeting?"
    both = run(question, article_groups=[{"art1"}, {"art2"}])
    assert both.answered and both.confidence >= reader_model.load().min_confidence
    # No sentence of the second event: the least of the two events' confidences is 0.
    one = run(question, article_groups=[{"art1"}, {"art9"}])
    assert not one.answered and one.confidence == 0.0


def test_who_attended_takes_every_sentence_of_the_event_that_lists_who_took_part():
    # The passage of the other attendees shares no word with the question but the event's.
    others = make_hit("d", "Attendees also included provincial officials such as Shi Xiaolin and Luo Lin. "
                           "Representatives of the commission were present as well.", start=900)
    a = run("Who attended the seventh meeting?", hits=SEVENTH[:2] + [others])
    assert a.answered
    for name in ("Yuan Jiajun", "Wang Xiaohui", "Wu Hao", "Shi Xiaolin", "Luo Lin"):
        assert name in a.text
    names = {i.text for i in list_items(analyse("Who attended the seventh meeting?"), a)}  # the short answer's
    assert names >= {"Yuan Jiajun", "Wang Xiaohui", "Shi Xiaolin", "Luo Lin"}


def test_people_two_events_share_are_those_each_says_took_part_not_whom_a_speech_names():
    fifth = [make_hit("f1", "Chen Min'er presided over the fifth session. Wang Xiaohui, Secretary of the Sichuan "
                            "Committee, attended the session. Chen Min'er said in his speech that General Secretary "
                            "Xi Jinping has great expectations.", article="art2", title="Fifth Session Kicks Off")]
    seventh = [make_hit("s1", "Yuan Jiajun presided over the seventh meeting. Wang Xiaohui, Secretary of the Sichuan "
                              "Committee, attended the meeting. Yuan Jiajun said in his speech that General Secretary "
                              "Xi Jinping has proposed important ideas.")]
    a = run("Who attended both the fifth session and the seventh meeting?", hits=seventh + fifth,
            article_groups=[{"art2"}, {"art1"}])
    assert a.answered and "Wang Xiaohui" in a.text
    assert "Xi Jinping" not in a.text
    assert [i.text for i in a.short.items] == ["Wang Xiaohui"]


def test_unrelated_question_abstains():
    a = run("What is the recipe for apple pie?")
    assert not a.answered
    assert "[1]" in a.text


def test_no_hits_abstains_without_citations():
    a = run("Who attended the seventh meeting?", hits=[])
    assert not a.answered and a.citations == [] and "[" not in a.text


def test_chinese_question_is_answered_from_chinese_text():
    hits = [
        make_hit("en", "Yuan Jiajun presided over the meeting and delivered a speech.", lang="en"),
        make_hit("zh", "重庆市委书记袁家军主持会议并讲话。四川省委书记王晓晖出席会议并讲话。", lang="zh", title="第七次会议座谈会举行"),
    ]
    a = run("谁主持了第七次会议座谈会？", hits=hits)
    assert a.answered and "袁家军" in a.text
    assert {c.lang for c in a.citations} == {"zh"}
    zh_abstain = run("法国的首都是哪里？", hits=hits)
    assert not zh_abstain.answered and zh_abstain.text.startswith("文章")


def test_a_sentence_that_introduces_a_list_brings_its_items():
    intro = make_hit("l1", "The key agenda for cooperation include the following:\n- Building a transport network;", idx=0)
    more = make_hit("l2", "- Developing industrial clusters;\n- Supporting the World University Games.\nDelegates left.",
                    start=100, idx=1)

    def list_items(hit, span):
        items = [(intro, s) for s in intro.sentences if s[0] >= span[1]]
        return items + [(more, s) for s in more.sentences[:2]]

    a = run("What are the key agenda items for cooperation?", hits=[intro], list_items=list_items)
    assert a.answered
    for item in ("transport network", "industrial clusters", "World University Games"):
        assert item in a.text
    assert "Delegates left" not in a.text
    assert check(a.text, a.citations) == []


def test_every_reply_language_has_every_text_and_an_unknown_language_gets_english():
    table = json.loads((vocabulary.VOCAB_DIR / "replies.json").read_text("utf-8"))
    langs = [k for k in table if not k.startswith("_")]
    assert {"en", "zh"} <= set(langs)
    assert all(set(table[lang]) == set(table["en"]) for lang in langs)
    assert vocabulary.replies("fr") == table["en"]
