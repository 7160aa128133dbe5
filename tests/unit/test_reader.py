"""The trained reader: features, the model file, and the rules that stay (ordinals, names,
what an abstention names). No index; the shipped model file."""

import json

import numpy as np
import pytest

from rag.answer import abstention, evidence_features, expected_types, reader_model, selection, sentence_features
from rag.answer.linear_model import LinearModel
from rag.answer.questions import analyse
from rag.store import manifest as store
from rag.types import Kind
from tests.support.hits import Lexicon, make_hit


@pytest.mark.parametrize("text,number", [
    ("Who presided over the fortieth meeting?", 40),
    ("Who chaired the twenty-first meeting?", 21),
    ("Who chaired the twenty first meeting?", 21),
    ("the 40th meeting", 40),
    ("the 21st session", 21),
    ("the one hundred and second session", 102),
    ("谁主持了第四十次会议？", 40),
    ("第二十一次会议在哪里举行？", 21),
    ("第一百零二次会议", 102),
    ("第12次会议", 12),
    ("Who attended the seventh meeting?", 7),
])
def test_ordinals_of_any_size_and_form_are_anchors(text, number):
    q = analyse(text)
    assert any(a.startswith(f"ord:{number}") for a in q.anchors), q.anchors


def test_first_and_second_are_not_anchors():
    assert not analyse("What was the first thing the second speaker said?").anchors


def test_linear_model_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    y = (X[:, 0] + 0.2 * X[:, 1] - 3 * X[:, 2] + rng.normal(size=200) > 0)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    lr = sklearn.LogisticRegression().fit((X - mean) / scale, y)
    ours = LinearModel(["a", "b", "c"], mean, scale, lr.coef_[0], float(lr.intercept_[0]))
    expected = lr.predict_proba((X - mean) / scale)[:, 1]
    assert np.allclose(ours.predict(X), expected, atol=1e-9)
    again = LinearModel.from_json(json.loads(json.dumps(ours.to_json())))
    assert np.allclose(again.predict(X), expected, atol=1e-5)


def test_the_shipped_model_loads_and_matches_the_features():
    m = reader_model.load()
    assert m.sentence.features == sentence_features.SENTENCE_FEATURES
    assert m.evidence.features == evidence_features.EVIDENCE_FEATURES
    assert 0.0 <= m.min_confidence < 1.0


def test_a_model_of_other_features_is_refused(tmp_path):
    d = reader_model.load().to_json()
    d["sentence"]["features"] = d["sentence"]["features"][:-1]
    with pytest.raises(ValueError, match="train_reader"):
        reader_model.ReaderModel.from_json(d)
    d = reader_model.load().to_json()
    d["version"] = 0
    with pytest.raises(ValueError, match="version"):
        reader_model.ReaderModel.from_json(d)


def test_sentence_vectors_round_trip_through_metadata():
    v = np.random.default_rng(1).normal(size=(3, 8)).astype(np.float32)
    back = store.unpack_vectors(store.pack_vectors(v), 3)
    assert back.shape == (3, 8) and np.allclose(back, v, atol=1e-2)
    assert store.unpack_vectors(store.pack_vectors(v), 5) is None  # wrong row count: not used
    assert store.unpack_vectors("not base64!", 3) is None


def test_candidates_are_each_sentence_once_with_coverage_by_hand():
    a = make_hit("a", "Yuan Jiajun presided over the meeting. The weather was mild.")
    b = make_hit("b", "The weather was mild. Wang Xiaohui spoke.", start=a.sentences[1][0], idx=1)
    hits = [a, b]
    lex = Lexicon(hits)
    q = analyse("Who presided over the meeting?")
    cands = sentence_features.candidates(q, hits, lex, qvec=None)
    texts = [c.text.strip() for c in cands]
    assert texts.count("The weather was mild.") == 1  # the overlap is one candidate
    first = cands[0]
    weights = sentence_features.question_weights(q, lex)
    assert set(weights) == {"presid", "meet"}  # "presided" folds into its synonym group
    assert first.features["cov"] == pytest.approx(1.0)
    weather = next(c for c in cands if "weather" in c.text)
    assert weather.features["cov"] == 0.0
    assert weather.features["cov_gap"] == pytest.approx(-1.0)
    assert first.features["rank_inv"] == 1.0 and first.features["kind_who"] == 1.0


def test_person_names_and_answer_types():
    s = "Chen Min'er, Secretary of the CPC Chongqing Municipal Committee, presided, and Wang Xiaohui attended."
    assert expected_types.person_names(s, "en") == ["Chen Min'er", "Wang Xiaohui"]
    assert expected_types.person_names("袁家军主持会议", "zh") == []
    assert expected_types.novel_values(Kind.WHEN, "On June 26, the sides met.", "en", "When did they meet?") == 1
    assert expected_types.novel_values(Kind.WHEN, "On June 26, the sides met.", "en", "What happened on June 26?") == 0
    assert expected_types.values(Kind.QUANTITY, "It is 292 kilometers long, built in 2024.", "en") == ["292"]


@pytest.mark.parametrize("question,missing", [
    ("What did Yuan Jiajun say about artificial intelligence?", "artificial intelligence"),
    ("What did Wang Xiaohui say about the housing market?", "housing market"),
    ("袁家军对人工智能说了什么？", "人工智能"),
])
def test_an_abstention_names_the_topic_the_evidence_lacks(question, missing):
    hits = [make_hit("a", "Yuan Jiajun said in his speech that the two sides should work together. "
                          "Wang Xiaohui said the market for cars is growing."),
            make_hit("z", "袁家军在讲话中说，两地要携手合作。王晓晖出席会议。", lang="zh")]
    q = analyse(question)
    assert abstention.missing_phrase(q, [h.text for h in hits], Lexicon(hits)) == missing


def test_nothing_missing_names_nothing():
    hits = [make_hit("a", "Yuan Jiajun said in his speech that the two sides should work together.")]
    q = analyse("What did Yuan Jiajun say in his speech?")
    assert abstention.missing_phrase(q, [h.text for h in hits], Lexicon(hits)) is None


def _candidates(texts_and_p):
    hit = make_hit("p1", " ".join(t for t, _ in texts_and_p))
    out, at = [], 0
    for i, (t, p) in enumerate(texts_and_p):
        out.append(sentence_features.Candidate(hit, 0, (at, at + len(t)), t, i, p))
        at += len(t) + 1
    return out


@pytest.mark.parametrize("second, joined", [(0.3, False), (0.05, True)])
def test_a_second_sentence_joins_a_short_answer_when_probable_enough(second, joined):
    q = analyse("What did the meeting review?")
    cands = _candidates([("The meeting reviewed the plan.", 0.8), ("It also heard reports.", 0.08)])
    chosen = selection.select(q, cands, second=second)
    assert [c.text for c in chosen] == ["The meeting reviewed the plan."] + (["It also heard reports."] if joined else [])


def test_a_second_sentence_from_another_passage_is_a_new_citation_and_needs_more():
    q = analyse("What did the meeting review?")
    best, other = _candidates([("The meeting reviewed the plan.", 0.8)])[0], make_hit("p2", "It also heard reports.", start=300)
    weak = sentence_features.Candidate(other, 1, (0, 22), "It also heard reports.", 0, 0.08)
    assert selection.select(q, [best, weak], second=0.05) == [best]
    weak.p = 0.3
    assert selection.select(q, [best, weak], second=0.05) == [best, weak]


def test_a_second_sentence_never_makes_the_answer_long():
    q = analyse("What did the meeting review?")
    cands = _candidates([("The meeting reviewed the plan. " * 4, 0.8), ("It also heard reports on " + "x" * 60 + ".", 0.7)])
    assert len(selection.select(q, cands, second=0.0)) == 1  # 124 + 86 characters > SINGLE_MAX_CHARS


def test_the_second_sentence_ratio_travels_with_the_model():
    d = reader_model.load().to_json()
    assert 0.0 <= d["second_sentence"] <= 1.0
    d["second_sentence"] = 0.123
    assert reader_model.ReaderModel.from_json(d).second_sentence == 0.123


def test_the_coverage_floor_compares_the_coverage_the_answer_reports():
    """Training chooses the floor on `Answer.coverage` (scripts/train_reader.py topic_of): it must
    be the very value the engine compares, so a floor just above it abstains and one at it does not."""
    from dataclasses import replace

    from rag.answer import extractive

    text = "The Glimmerbrook summit was held in Lanternfield. Delegates from nine towns signed a compact."
    hits = [make_hit("p1", text, article="glimmer", title="Glimmerbrook summit")]
    q = analyse("Where was the Glimmerbrook summit held?")
    model = replace(reader_model.load(), coverage_floor=0.0, coverage_floor_typed=0.0)
    free = extractive.answer(q, hits, Lexicon(hits), model, None, 0.0)
    assert free.answered and 0.0 < free.coverage <= 1.0
    at = extractive.answer(q, hits, Lexicon(hits), replace(model, coverage_floor=free.coverage), None, 0.0)
    assert at.answered and at.coverage == free.coverage
    above = extractive.answer(q, hits, Lexicon(hits), replace(model, coverage_floor=free.coverage + 0.01), None, 0.0)
    assert not above.answered and "covers too little" in above.reason and above.coverage == free.coverage


@pytest.mark.parametrize("best_p, shown_p, expected", [
    (0.9, 0.9, 0.6),      # the best sentence is the one shown: its confidence as it is
    (0.9, 0.09, 0.06),    # a tenth as probable: a tenth as confident
    (0.0, 0.0, 0.6),      # no probabilities to compare (never divides by zero)
])
def test_the_confidence_is_that_of_the_sentence_shown(best_p, shown_p, expected):
    from rag.answer import extractive

    best, shown = _candidates([("The Glimmerbrook summit opened.", best_p), ("On March 3, a road was built.", shown_p)])
    if best_p == shown_p:
        shown = best
    assert extractive.shown_confidence(0.6, best, shown) == pytest.approx(expected)


class _Fixed(reader_model.ReaderModel):
    """The shipped model's settings with the sentence probabilities and the confidence given."""
    def score(self, q, cands, lexicon):
        for c in cands:
            c.p = self.p[c.text]
        return 0.6


def _summit(p: dict, min_confidence: float = 0.0):
    from dataclasses import fields

    from rag.answer import extractive

    text = " ".join(p)
    hits = [make_hit("p1", text, article="glimmer", title="Glimmerbrook summit")]
    base = reader_model.load()
    model = _Fixed(**{f.name: getattr(base, f.name) for f in fields(base)})
    model.p, model.coverage_floor, model.coverage_floor_typed = p, 0.0, 0.0
    return extractive.answer(analyse("When did the Glimmerbrook summit open?"), hits, Lexicon(hits), model, None,
                             min_confidence)


def test_a_date_from_a_sentence_about_something_else_is_answered_with_its_own_confidence():
    """The reader's best sentence is about the summit and gives no date, so the one shown is the
    most probable that gives one: the confidence reported is that sentence's, not the best one's."""
    out = _summit({"The Glimmerbrook summit opened with a parade through Lanternfield.": 0.95,
                   "On March 3, the harbour of Oxbridge was dredged.": 0.05})
    assert out.answered and "March 3" in out.text and "parade" not in out.text
    assert out.confidence == pytest.approx(0.6 * 0.05 / 0.95)
    # ... and it is what the threshold compares: between the two, the tool abstains.
    refused = _summit({"The Glimmerbrook summit opened with a parade through Lanternfield.": 0.95,
                       "On March 3, the harbour of Oxbridge was dredged.": 0.05}, min_confidence=0.1)
    assert not refused.answered and refused.confidence == pytest.approx(0.6 * 0.05 / 0.95)
    # What it lacks is the date of what is asked, not a word of the question.
    assert refused.text.startswith("The articles do not mention this date.")


def test_a_date_in_the_best_sentence_keeps_its_confidence():
    out = _summit({"The Glimmerbrook summit opened on March 3 with a parade.": 0.95,
                   "In 1998, the harbour of Oxbridge was dredged.": 0.05})
    assert out.answered and "parade" in out.text and out.confidence == pytest.approx(0.6)
