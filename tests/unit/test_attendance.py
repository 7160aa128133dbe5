"""'Who attended': the whole list of who took part, from every passage of the event that lists
people, in both languages, and the people two events share (rag.answer.questions,
rag.retrieve.planning, rag.answer.who_lists, rag.answer.selection)."""

import pytest

from rag.answer.questions import analyse
from rag.answer.who_lists import participants
from rag.retrieve.hybrid import Mode
from rag.retrieve.planning import ATTENDANCE_K, plan, retrieve
from tests.support.hits import make_hit


@pytest.mark.parametrize("question", [
    "Who attended the seventh meeting?",
    "Who took part in both the fifth and the seventh meetings?",
    "Which officials were present at the fifth session?",
    "谁出席了第七次会议？",
    "谁参加了第五次会议？",
])
def test_who_took_part_at_all_searches_for_the_list_of_attendees(question):
    q = analyse(question)
    assert q.participation and q.attendance
    assert "attendees" in q.attendance and "出席" in q.attendance  # an article in either language


@pytest.mark.parametrize("question", [
    "Who presided over the seventh meeting?",  # a role in the event: the one who presided
    "谁主持了第七次会议？",
    "Who was the Mayor of Chengdu listed among the 2023 attendees?",  # one person, by role
    "Where was the seventh meeting held?",
    "What did the attendees discuss?",
])
def test_a_role_or_another_question_does_not(question):
    assert not analyse(question).attendance


@pytest.mark.parametrize("sentence, lang, people", [
    ("Other attendees included officials of Chongqing Li Mingqing, Lu Kehua, and Zheng Xiangdong.", "en",
     ["Li Mingqing", "Lu Kehua", "Zheng Xiangdong"]),
    ("Chen Min'er, Wang Xiaohui and Hu Henghua attended the ceremony.", "en", ["Chen Min'er", "Wang Xiaohui", "Hu Henghua"]),
    # Who gave the speech took part; whom the speech names did not.
    ("Yuan Jiajun said in his speech that General Secretary Xi Jinping has proposed important ideas.", "en",
     ["Yuan Jiajun"]),
    # Capitalised titles of plans after "attendees" are no people.
    ("The attendees were briefed on the Plan for the Consumer Product Industry and Several Policies.", "en", []),
    ("四川省领导施小琳、田庆盈,重庆市领导罗蔺参加会议。", "zh", ["施小琳", "田庆盈", "罗蔺"]),
])
def test_participants_are_the_people_a_sentence_says_took_part(sentence, lang, people):
    assert [sentence[a:b] for a, b in participants(sentence, lang)] == people


class Retriever:
    """Records each search; returns a hit per article searched, named by query and article."""

    def __init__(self):
        self.calls = []
        self.bm25 = object()

    def retrieve(self, query, lang, top_k, articles=None, mode=Mode.HYBRID, timings=None, query_vector=None):
        self.calls.append((query, top_k, tuple(articles or ()), mode))
        if timings is not None:
            timings["bm25"] = 1.0
        arts = articles or ["a5"]
        return [make_hit(f"{'list' if 'attendees' in query else 'q'}-{a}", "Wang Xiaohui attended.", article=a)
                for a in arts]


ANCHORS = {"ord:5:meeting": {"a5"}, "ord:7:meeting": {"a7"}}


def test_the_list_of_attendees_is_searched_in_each_event_by_its_words():
    q = analyse("Who attended both the fifth and the seventh meetings?")
    p = plan(q, q.text, ANCHORS, None, lambda phrase: set())
    r, timings = Retriever(), {}
    hits = retrieve(p, r, q.lang, 5, Mode.HYBRID, timings, [0.0])
    # The question in each event, then the listing words in each event, as words (no vector).
    assert [c[2] for c in r.calls] == [("a5",), ("a7",), ("a5",), ("a7",)]
    assert [(c[1], c[3]) for c in r.calls[2:]] == [(ATTENDANCE_K, Mode.BM25)] * 2
    assert [h.id for h in hits] == ["q-a5", "q-a7", "list-a5", "list-a7"]
    assert "attendance" in timings


def test_without_anchors_the_event_is_the_best_passages_article_and_nothing_is_read_twice():
    q = analyse("Who attended the joint meeting?")
    p = plan(q, q.text, {}, None, lambda phrase: set())
    r = Retriever()
    hits = retrieve(p, r, q.lang, 5, Mode.HYBRID, {}, [0.0])
    assert r.calls[1][2] == ("a5",)
    assert [h.id for h in hits] == ["q-a5", "list-a5"]
    presided = analyse("Who presided over the joint meeting?")
    r = Retriever()
    retrieve(plan(presided, presided.text, {}, None, lambda phrase: set()), r, "en", 5, Mode.HYBRID, {}, [0.0])
    assert len(r.calls) == 1  # no list of attendees for who presided
