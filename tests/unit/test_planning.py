"""Query planning (rag/retrieve/planning.py): pure functions of the analysed question and the
index's lookups; the question is never changed."""

import copy

from rag.answer.questions import analyse
from rag.retrieve.planning import Plan, plan, scope_by_anchors, unknown_names

ANCHORS = {"ord:5:meeting": {"a5"}, "ord:7:meeting": {"a7"}}


class Lexicon:
    def __init__(self, known):
        self.known = known

    def idf(self, token):
        return 1.0 if token in self.known else None


def no_lookup(phrase):
    raise AssertionError(f"asked for {phrase!r}")


def test_anchors_scope_the_search_or_say_what_is_missing():
    q = analyse("Who attended the seventh meeting?")
    assert scope_by_anchors(q, ANCHORS) == (["a7"], None, None)
    articles, groups, missing = scope_by_anchors(analyse("Where was the eighth meeting held?"), ANCHORS)
    assert articles is None and groups is None and "eighth" in missing
    both = analyse("Who attended both the fifth and the seventh meetings?")
    assert scope_by_anchors(both, ANCHORS) == (["a5", "a7"], [{"a5"}, {"a7"}], None)  # a comparison


def test_unknown_names_need_a_lexicon():
    assert unknown_names(["Quxian"], None) == []
    assert unknown_names(["Quxian", "Wang"], Lexicon({"wang"})) == ["Quxian"]


def test_a_plan_is_a_new_value_and_the_question_is_unchanged():
    q = analyse("What did Chen Min'er say about the seventh meeting?")
    before = copy.deepcopy(q)
    p = plan(q, q.text, ANCHORS, None, lambda phrase: {"a5", "a7"} if "Chen" in phrase else set())
    assert isinstance(p, Plan) and p.articles == ["a7"] and p.missing_what is None
    assert q == before
    unknown = plan(q, q.text, ANCHORS, Lexicon({"chen"}), no_lookup)  # "min'er" is in no passage
    assert unknown.missing_what == "Min'er" and unknown.articles == ["a7"]


def test_a_follow_up_searches_with_what_it_borrows():
    first = analyse("Who attended the seventh meeting?")
    q = analyse("Where was it held?", first)
    p = plan(q, q.text, ANCHORS, None, no_lookup)
    assert p.query.endswith("Where was it held?") and "seventh" in p.query and p.articles == ["a7"]
