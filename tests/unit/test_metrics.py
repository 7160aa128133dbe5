"""Every metric of rag.eval.metrics and rag.eval.squad_metrics against values computed by hand
on a tiny fixed example.

The example: a question whose gold span is "Chen Min'er presided", five retrieved passages
of which the 2nd and 4th hold the span (the 4th with a line break and a curly apostrophe
inside it), and an index holding three passages with the span.
"""

import math

import pytest

from rag.answer.citations import markers
from rag.eval import metrics as M
from rag.eval import squad_metrics as S
from rag.eval.scoring import aggregate, failure_reasons, score_answer, score_retrieval
from rag.eval.types import EvalQuestion

GOLD = ["Chen Min'er presided"]
PASSAGES = [
    "The session opened on June 29 in Chongqing.",
    "Chen Min'er presided over the session.",
    "Wang Xiaohui attended and spoke.",
    "As the host, Chen Min’er\n  presided over it.",
    "Reports were made.",
]
RELS = [False, True, False, True, False]


# -- matching ------------------------------------------------------------------------------------

def test_normalise_collapses_space_quotes_and_case():
    assert M.normalise("  Chen\n Min’er\tPRESIDED ") == "chen min'er presided"


def test_contains_ignores_whitespace_and_case_and_never_matches_empty():
    assert M.contains("a  b\nC d", "B c")
    assert not M.contains("abc", "")
    assert not M.contains("abc", "   ")


def test_chinese_spans_match():
    assert M.contains("会议在璧山区举行。", "璧山")


def test_relevance_any_gold_span():
    assert M.relevance(PASSAGES, GOLD) == RELS
    assert M.relevance(PASSAGES, ["June 29", "Wang Xiaohui"]) == [True, False, True, False, False]


def test_relevance_without_gold_span_is_all_false():
    assert M.relevance(PASSAGES, []) == [False] * 5
    assert M.relevance(PASSAGES, [""]) == [False] * 5


# -- retrieval -----------------------------------------------------------------------------------

def test_hit_at_k():
    assert M.hit_at_k(RELS, 1) == 0.0
    assert M.hit_at_k(RELS, 2) == 1.0
    assert M.hit_at_k(RELS, 5) == 1.0
    assert M.hit_at_k([], 5) == 0.0  # nothing retrieved
    with pytest.raises(ValueError):
        M.hit_at_k(RELS, 0)


def test_reciprocal_rank():
    assert M.reciprocal_rank(RELS) == 0.5
    assert M.reciprocal_rank([True]) == 1.0
    assert M.reciprocal_rank([False, False, False]) == 0.0
    assert M.reciprocal_rank([]) == 0.0


def test_ndcg_by_hand():
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068 = 1.06161
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    assert M.dcg_at_k(RELS, 5) == pytest.approx(dcg)
    # Three relevant passages in the index: IDCG = 1 + 1/log2(3) + 1/2 = 2.13093
    assert M.ndcg_at_k(RELS, 5, n_relevant=3) == pytest.approx(dcg / (1 + 1 / math.log2(3) + 0.5))
    assert M.ndcg_at_k(RELS, 5, n_relevant=3) == pytest.approx(0.49819, abs=1e-5)
    # Unknown index count: the two found are the ideal: IDCG = 1 + 1/log2(3) = 1.63093
    assert M.ndcg_at_k(RELS, 5) == pytest.approx(dcg / (1 + 1 / math.log2(3)))


def test_ndcg_cut_at_k():
    # only rank 2 counts at k=2; ideal of 3 relevant at k=2 is 1 + 1/log2(3)
    assert M.ndcg_at_k(RELS, 2, n_relevant=3) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_ndcg_edge_cases():
    assert M.ndcg_at_k([], 5, n_relevant=2) == 0.0  # nothing retrieved
    assert M.ndcg_at_k([False, False], 5, n_relevant=0) is None  # nothing relevant anywhere
    assert M.ndcg_at_k([True], 5, n_relevant=1) == 1.0


def test_ndcg_duplicate_relevant_passages_stay_at_most_one():
    # The same span in two overlapping passages, both retrieved first, the index said 1.
    assert M.ndcg_at_k([True, True, False], 5, n_relevant=1) == pytest.approx(1.0)
    assert M.hit_at_k([True, True], 1) == 1.0
    assert M.reciprocal_rank([True, True]) == 1.0


# -- answers -------------------------------------------------------------------------------------

FACTS = [["Chen Min'er"], ["June 29", "6月29日"], ["Chongqing"]]


def test_fact_recall_case_insensitive_any_alternative():
    answer = "On 6月29日, CHEN MIN'ER presided [1]."
    assert M.facts_present(answer, FACTS) == [True, True, False]
    assert M.fact_recall(answer, FACTS) == pytest.approx(2 / 3)


def test_fact_recall_across_a_marker():
    # markers are dropped before matching, so they never hide a fact
    assert M.strip_markers("June[1] 29 [2]").split() == ["June", "29"]
    assert M.fact_recall("It was June [1] 29.", [["June 29"]]) == 1.0
    assert M.fact_recall("It was June[12] 29.", [["June 29"]]) == 1.0


def test_fact_recall_empty_answer_and_no_facts():
    assert M.fact_recall("", FACTS) == 0.0
    assert M.fact_recall("anything", []) is None


def test_fact_recall_of_an_abstention_is_zero_even_if_it_echoes_a_fact():
    text = "The articles do not mention “Chongqing”. The closest passages are [1] [2]."
    assert M.fact_recall(text, FACTS, answered=False) == 0.0


def test_context_fact_recall():
    assert M.context_fact_recall(PASSAGES, FACTS) == pytest.approx(1.0)
    assert M.context_fact_recall(PASSAGES[2:], FACTS) == pytest.approx(1 / 3)  # Chen Min’er (curly) matches
    assert M.context_fact_recall([], FACTS) == 0.0  # nothing retrieved
    assert M.context_fact_recall(PASSAGES, []) is None


# -- citations -----------------------------------------------------------------------------------

def test_citation_precision():
    assert M.citation_precision(["a", "a"], ["a", "b"]) == 1.0
    assert M.citation_precision(["a", "c"], ["a", "b"]) == 0.0
    assert M.citation_precision([], ["a"]) == 0.0  # an answer without citations is unsupported
    assert M.citation_precision(["a"], []) is None  # no gold articles (unanswerable question)


def test_stated_facts_and_fact_support():
    answer = "Chen Min'er presided on June 29 [1] [2] [3]."
    assert M.stated_facts(answer, FACTS) == [["Chen Min'er"], ["June 29"]]
    cited = [PASSAGES[0], PASSAGES[1], PASSAGES[2]]  # June 29 / Chen Min'er / neither
    assert M.fact_support(answer, cited, FACTS) == (2, 3)


def test_fact_support_undefined_without_stated_facts_or_citations():
    assert M.fact_support("Nothing relevant [1].", PASSAGES[:1], FACTS) is None
    assert M.fact_support("Chen Min'er", [], FACTS) is None
    assert M.fact_support("", PASSAGES, FACTS) is None  # empty answer


def test_marker_validity():
    assert markers("a [1] b [2] c [1] [7]") == [1, 2, 1, 7]
    assert M.marker_validity("a [1] b [2] c [1] [7]", [1, 2]) == (3, 4)
    assert M.marker_validity("no markers", [1]) == (0, 0)
    assert M.pooled([M.marker_validity("no markers", [1])]) is None


# -- abstention ----------------------------------------------------------------------------------

ANSWERED = [True, True, False, True, False, False]
ANSWERABLE = [True, True, True, False, False, False]
# tp=2 (0,1)  fn=1 (2: abstained on answerable)  fp=1 (3: answered unanswerable)  tn=2 (4,5)


def test_confusion():
    assert M.confusion(ANSWERED, ANSWERABLE) == {"tp": 2, "fn": 1, "fp": 1, "tn": 2}
    with pytest.raises(ValueError):
        M.confusion([True], [True, False])


def test_abstention_scores_by_hand():
    s = M.abstention_scores(ANSWERED, ANSWERABLE)
    assert s["abstention_accuracy"] == pytest.approx(4 / 6)
    assert s["answered_precision"] == pytest.approx(2 / 3)
    assert s["answered_recall"] == pytest.approx(2 / 3)
    assert s["abstention_precision"] == pytest.approx(2 / 3)
    assert s["abstention_recall"] == pytest.approx(2 / 3)


def test_abstention_scores_zero_division_is_none():
    s = M.abstention_scores([True, True], [True, True])  # never abstains, nothing unanswerable
    assert s["abstention_accuracy"] == 1.0
    assert s["abstention_precision"] is None
    assert s["abstention_recall"] is None
    assert M.abstention_scores([], [])["abstention_accuracy"] is None


# -- aggregation ---------------------------------------------------------------------------------

def test_mean_pooled_ratio():
    assert M.mean([1.0, None, 0.0]) == 0.5
    assert M.mean([None]) is None
    assert M.pooled([(1, 2), None, (2, 2)]) == 0.75
    assert M.ratio(1, 0) is None


def test_percentile_linear_interpolation():
    xs = [10.0, 20.0, 30.0, 40.0]
    assert M.percentile(xs, 50) == 25.0
    assert M.percentile(xs, 95) == pytest.approx(38.5)  # pos 2.85 -> 30 + 0.85 * 10
    assert M.percentile(xs, 0) == 10.0 and M.percentile(xs, 100) == 40.0
    assert M.percentile([7.0], 95) == 7.0
    assert M.percentile([], 50) is None
    with pytest.raises(ValueError):
        M.percentile(xs, 101)


def test_below_thresholds():
    metrics = {"hit@5": 0.9, "fact_recall": 0.85, "abstention_precision": None}
    assert M.below_thresholds(metrics, {"hit@5": 0.95, "fact_recall": 0.85}) == [("hit@5", 0.9, 0.95)]
    assert M.below_thresholds(metrics, {"abstention_precision": 0.5}) == [("abstention_precision", None, 0.5)]
    with pytest.raises(KeyError):
        M.below_thresholds(metrics, {"hit@50": 0.5})


# -- one question scored end to end (rag.eval.scoring glue, no engine) ---------------------------

def _q(answerable=True, facts=(("Chen Min'er",), ("June 29",)), spans=("Chen Min'er presided",)):
    return EvalQuestion("q1", "Who presided?", "en", "who", answerable, tuple(facts),
                        ("fifth",) if answerable else (), tuple(spans) if answerable else ())


def _row(q, passages, answer, answered, citations, n_relevant=3):
    row = {"id": q.id, "category": q.category, "language": q.language, "answerable": q.answerable,
           "answered": answered}
    row.update(score_retrieval(q, passages, n_relevant))
    row.update(score_answer(q, answer, answered, citations))
    row["failures"] = failure_reasons(q, row)
    return row


def test_scored_row_by_hand():
    q = _q()
    cites = [{"n": 1, "article_id": "fifth", "text": PASSAGES[1]}]
    r = _row(q, PASSAGES, "Chen Min'er presided over the session. [1]", True, cites)
    assert (r["hit@1"], r["hit@2"], r["hit@5"], r["mrr"]) == (0.0, 1.0, 1.0, 0.5)
    assert r["ndcg@5"] == pytest.approx(0.49819, abs=1e-5)
    assert r["fact_recall"] == 0.5 and r["context_fact_recall"] == 1.0
    assert r["citation_precision"] == 1.0 and r["fact_support"] == (1, 1) and r["marker_validity"] == (1, 1)
    assert r["failures"] == ["fact recall 0.50; missing: June 29"]


def test_abstention_on_answerable_and_nothing_retrieved():
    q = _q()
    r = _row(q, [], "The articles do not say.", False, [], n_relevant=3)
    assert r["hit@5"] == 0.0 and r["mrr"] == 0.0 and r["ndcg@5"] == 0.0
    assert r["fact_recall"] == 0.0 and r["context_fact_recall"] == 0.0
    assert r["citation_precision"] is None and r["fact_support"] is None
    assert r["failures"] == ["abstained on an answerable question", "no gold passage in the top 5"]


def test_gold_span_in_no_indexed_passage_is_a_miss_not_undefined():
    r = _row(_q(), PASSAGES[2:3], "x", False, [], n_relevant=0)
    assert r["ndcg@5"] == 0.0
    assert "no indexed passage contains a gold span" in r["failures"][-1]


def test_answered_on_unanswerable():
    q = _q(answerable=False, facts=())
    cites = [{"n": 1, "article_id": "fifth", "text": PASSAGES[0]}]
    r = _row(q, PASSAGES, "The session opened on June 29 [1].", True, cites)
    assert "hit@5" not in r and r["fact_recall"] is None and r["context_fact_recall"] is None
    assert r["citation_precision"] is None  # no gold articles to be within
    assert r["failures"] == ["answered an unanswerable question"]


def test_aggregate_by_hand():
    q = _q()
    good = _row(q, PASSAGES, "Chen Min'er on June 29 [1]", True,
                [{"n": 1, "article_id": "fifth", "text": PASSAGES[1]}])
    abstained = _row(q, PASSAGES[2:], "The articles do not say. [1]", False,
                     [{"n": 1, "article_id": "fifth", "text": PASSAGES[2]}])
    unans = _row(_q(answerable=False, facts=()), PASSAGES, "The articles do not say.", False, [])
    agg = aggregate([good, abstained, unans])
    assert agg["hit@1"] == 0.0 and agg["hit@2"] == 1.0  # both at rank 2 (the abstained one's list starts at PASSAGES[2])
    assert agg["mrr"] == pytest.approx(0.5)
    assert agg["fact_recall"] == pytest.approx(0.5)  # (1 + 0) / 2
    assert agg["citation_precision"] == 1.0  # only the answered one counts
    assert agg["marker_validity"] == 1.0  # 2 markers, both listed
    assert agg["abstention_accuracy"] == pytest.approx(2 / 3)
    assert agg["abstention_precision"] == pytest.approx(1 / 2)
    assert agg["abstention_recall"] == 1.0


def test_aggregate_reports_abstention_length_and_answer_metrics_by_hand():
    q = _q()
    good = _row(q, PASSAGES, "Chen Min'er on June 29 [1]", True,
                [{"n": 1, "article_id": "fifth", "text": PASSAGES[1]}])
    abstained = _row(q, PASSAGES[2:], "The articles do not say. [1]", False,
                     [{"n": 1, "article_id": "fifth", "text": PASSAGES[2]}])
    unans = _row(_q(answerable=False, facts=()), PASSAGES, "The articles do not say.", False, [])
    good["confidence"], abstained["confidence"], unans["confidence"] = 0.9, 0.3, 0.2
    agg = aggregate([good, abstained, unans])
    # good: both facts in the answer; its one cited passage holds Chen Min'er only; the
    # retrieved passages hold Chen Min'er (2nd) and June 29 (1st).
    assert good["answer_recall"] == 1.0 and good["support"] == 0.5 and good["support_retrieved"] == 1.0
    # abstained: 0 by definition; retrieved PASSAGES[2:] hold Chen Min’er (4th, curly) only.
    assert abstained["answer_recall"] == 0.0 and abstained["support"] == 0.0
    assert abstained["support_retrieved"] == 0.5
    assert agg["answer_recall"] == pytest.approx(0.5)  # (1 + 0) / 2
    assert agg["support"] == pytest.approx(0.25)  # (0.5 + 0) / 2
    assert agg["support_retrieved"] == pytest.approx(0.75)  # (1 + 0.5) / 2
    assert agg["false_abstention"] == 0.5  # 1 of 2 answerable
    assert agg["unanswerable_abstention"] == 1.0  # 1 of 1
    assert agg["median_answer_chars"] == len("Chen Min'er on June 29")  # 22: only the answered one
    assert agg["mean_confidence_answerable"] == pytest.approx(0.6)
    assert agg["mean_confidence_unanswerable"] == pytest.approx(0.2)
    # No unanswerable questions: their abstention rate is undefined, not 0 or 1.
    only = aggregate([good, abstained])
    assert only["unanswerable_abstention"] is None and only["mean_confidence_unanswerable"] is None


def test_confidence_absent_is_undefined():
    r = _row(_q(), PASSAGES, "Chen Min'er [1]", True, [{"n": 1, "article_id": "fifth", "text": PASSAGES[1]}])
    agg = aggregate([r])
    assert agg["mean_confidence_answerable"] is None and agg["median_answer_chars"] == 11


def test_public_set_question_without_gold_passages_uses_gold_answers_for_relevance():
    q = EvalQuestion("s1", "Who presided?", "en", "answerable", True, (("Wang Xiaohui",),), ("a",), (),
                     gold_short=("Wang Xiaohui",))
    r = _row(q, PASSAGES, "Wang Xiaohui [1]", True, [{"n": 1, "article_id": "a", "text": PASSAGES[2]}], n_relevant=1)
    assert r["relevant"] == [False, False, True, False, False]
    assert (r["hit@1"], r["hit@3"], r["mrr"]) == (0.0, 1.0, pytest.approx(1 / 3))
    assert r["ndcg@5"] == pytest.approx(0.5)  # 1/log2(4) over an ideal of 1


# -- SQuAD-style answer matching (public sets) ---------------------------------------------------

def test_squad_normalise_english():
    # lower-case, punctuation to a space, a/an/the gone, white space collapsed
    assert S.squad_normalise("The  U.S. Army, an Example!") == "u s army example"
    assert S.squad_normalise("Watt's engine") == "watt s engine"
    assert S.squad_normalise("Denmark, Iceland and Norway.") == "denmark iceland and norway"
    assert S.squad_normalise("theatre") == "theatre"  # only whole-word articles
    assert S.squad_normalise("") == ""


def test_squad_normalise_chinese_drops_white_space_and_cjk_punctuation():
    assert S.squad_normalise("1994 年，「中国」。") == "1994年中国"
    assert S.squad_normalise("《红楼梦》、 曹雪芹") == "红楼梦曹雪芹"


def test_answer_occurs_whole_words_for_latin_script():
    assert S.answer_occurs("In the 10th century the Normans came.", "Normans")
    assert not S.answer_occurs("They came from Denmark and Norway.", "Denmark, Iceland and Norway")
    assert S.answer_occurs("They came from Denmark, Iceland and Norway.", "the Denmark, Iceland and norway")
    assert not S.answer_occurs("because of it", "us")
    assert not S.answer_occurs("in 1990", "1")
    assert not S.answer_occurs("anything", "")
    assert not S.answer_occurs("anything", "the")  # nothing left after normalising
    assert S.answer_occurs("no invention since Watt's time", "Watt")  # possessive
    assert S.answer_occurs("The U.S. Army", "U.S.") and not S.answer_occurs("used", "U.S.")


def test_answer_occurs_latin_answer_inside_chinese_text():
    assert S.answer_occurs("可以搭配Glade#来使用。", "Glade#")
    assert S.answer_occurs("距离精度±10m，方位", "±10m")
    assert S.answer_occurs("目前担任《Docking48》主持。", "《Docking48》")
    assert not S.answer_occurs("目前担任Docking480主持。", "Docking48")


def test_answer_occurs_chinese_substring_without_white_space():
    assert S.answer_occurs("该队成立于 1994 年。", "1994年")
    assert S.answer_occurs("作者是曹雪芹。", "曹雪芹")
    assert not S.answer_occurs("作者是曹雪。", "曹雪芹")


def test_answer_recall_strips_markers_and_scores_abstention_zero():
    facts = [["Rollo"]]
    assert S.answer_recall("Their leader was Rollo. [1]", facts) == 1.0
    assert S.answer_recall("Their leader came later. [1]", [["1"]]) == 0.0  # the marker is not an answer
    assert S.answer_recall("Rollo is not known.", facts, answered=False) == 0.0
    assert S.answer_recall("anything", []) is None
    assert S.answer_recall("Rollo in 911", [["Rollo"], ["912", "AD 912"]]) == 0.5  # share of facts


def test_support_checks_each_cited_passage_on_its_own():
    facts = [["Thomas Newcomen", "Newcomen"]]
    assert S.support(["Built by Thomas", "Newcomen built it"], facts) == 1.0
    assert S.support(["Built by Thomas", "Newcomen's engine"], [["Thomas Newcomen"]]) == 0.0  # split over two
    assert S.support(["Newcomen"], facts, answered=False) == 0.0
    assert S.support([], facts) == 0.0
    assert S.support(["x"], []) is None
    assert S.gold_in_any(["a", "Newcomen"], facts) == 1.0


def test_answer_text_removes_markers_and_the_space_before_them():
    assert S.answer_text("Rollo led them [1]. In 911 [2][3] ") == "Rollo led them. In 911"


def test_share_and_median():
    assert M.share([True, False, False, True]) == 0.5
    assert M.share([]) is None
    assert M.median([5, 1, None, 3]) == 3
    assert M.median([4, 1, 3, 2]) == 2.5
    assert M.median([None]) is None


# -- short answers: SQuAD's exact match and F1, CMRC's character F1 --------------------------------

def test_exact_match_normalises_like_squad():
    assert S.exact_match("The June 29.", ["june 29"]) == 1.0
    assert S.exact_match("June 29, 2022", ["June 29"]) == 0.0
    assert S.exact_match("", []) == 1.0  # an abstention on an unanswerable question
    assert S.exact_match("June 29", []) == 0.0
    assert S.exact_match("", ["June 29"]) == 0.0


def test_exact_match_of_a_list_ignores_order():
    assert S.exact_match("Hu Henghua and Huang Qiang", ["Huang Qiang, Hu Henghua"]) == 1.0
    assert S.exact_match("黄强、胡衡华", ["胡衡华、黄强"], cjk=True) == 1.0
    assert S.exact_match("Huang Qiang", ["Huang Qiang, Hu Henghua"]) == 0.0


def test_token_f1_by_hand():
    # pred tokens: june 29 2022 (3), gold: june 29 (2); common 2: P 2/3, R 1 -> F1 0.8
    assert S.token_f1("June 29, 2022", ["June 29"]) == pytest.approx(0.8)
    assert S.token_f1("x", ["June 29", "x y"]) == pytest.approx(2 * 1 * 0.5 / 1.5)  # best gold
    assert S.token_f1("", []) == 1.0 and S.token_f1("a", []) == 0.0


def test_chinese_f1_counts_characters_and_keeps_latin_words_whole():
    # 在1994年 -> 在 1994 年 ; gold 1994年 -> 1994 年: P 2/3, R 1 -> 0.8
    assert S.token_f1("在1994年", ["1994年"], cjk=True) == pytest.approx(0.8)
    assert S.answer_tokens("搭配Glade来使用", True) == ["搭", "配", "glade", "来", "使", "用"]


def test_a_withheld_short_answer_scores_as_the_empty_answer():
    from rag.eval.scoring import short_prediction
    shown = {"answered": True, "answer": "It met on June 29. [1]", "short_answer": None, "short_answer_withheld": True}
    assert short_prediction(shown) == ""  # states no answer: right only on an unanswerable question
    assert short_prediction({**shown, "short_answer_withheld": False}) == "It met on June 29."  # an explanation
    assert short_prediction({**shown, "short_answer": {"text": "June 29"}, "short_answer_withheld": False}) == "June 29"
    assert short_prediction({"answered": False, "answer": "The articles do not say."}) == ""


def test_the_withheld_rate_counts_answered_questions_only():
    rows = [{"answerable": True, "answered": True, "short_withheld": True},
            {"answerable": False, "answered": True, "short_withheld": False},
            {"answerable": False, "answered": False, "short_withheld": False},
            {"answerable": True, "answered": True, "short_withheld": False}]
    assert aggregate(rows)["short_withheld_rate"] == pytest.approx(1 / 3)
