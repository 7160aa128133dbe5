"""The boosted-tree evaluator against LightGBM itself (the reference implementation), and by hand."""

import json

import numpy as np
import pytest

from rag.answer.tree_model import TreeModel


def test_a_hand_written_tree_routes_rows_to_their_leaves():
    # x0 <= 0.5 ? (x1 <= 2 ? 1.0 : 2.0) : 3.0, plus a one-leaf tree worth 0.25
    m = TreeModel(["a", "b"], feature=np.array([0, 1, -1, -1, -1, -1]),
                  threshold=np.array([0.5, 2.0, 0, 0, 0, 0]), left=np.array([1, 2, 2, 3, 4, 5]),
                  right=np.array([4, 3, 2, 3, 4, 5]), value=np.array([0, 0, 1.0, 2.0, 3.0, 0.25]),
                  roots=np.array([0, 5]), depth=2)
    X = np.array([[0.0, 1.0], [0.5, 2.0], [0.2, 9.0], [0.7, 0.0]])
    assert m.score(X).tolist() == [1.25, 1.25, 2.25, 3.25]
    p = m.predict(X)
    assert p.sum() == pytest.approx(1.0) and p.argmax() == 3
    again = TreeModel.from_json(json.loads(json.dumps(m.to_json())))
    assert again.score(X).tolist() == m.score(X).tolist()
    assert m.predict(np.zeros((0, 2))).shape == (0,)


def test_trees_from_lightgbm_score_as_lightgbm_does():
    lgb = pytest.importorskip("lightgbm")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    X[:, 3] = rng.integers(0, 2, size=600)  # an indicator, as most span features are
    y = ((X[:, 0] + X[:, 3] * X[:, 1] + 0.3 * rng.normal(size=600)) > 0.5).astype(int)
    groups = [20] * 30
    booster = lgb.train({"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1,
                         "deterministic": True, "seed": 1}, lgb.Dataset(X, y, group=groups), num_boost_round=25)
    ours = TreeModel.from_lightgbm(booster.dump_model(), [f"f{i}" for i in range(5)])
    ours = TreeModel.from_json(json.loads(json.dumps(ours.to_json())))
    Xt = rng.normal(size=(200, 5))
    Xt[:, 3] = rng.integers(0, 2, size=200)
    np.testing.assert_allclose(ours.score(Xt), booster.predict(Xt), rtol=0, atol=1e-5)  # leaf values are stored to 7 digits


def test_averaged_ensembles_score_the_mean_of_their_scores():
    lgb = pytest.importorskip("lightgbm")
    from rag.answer.tree_model import averaged

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 6))
    y = ((X[:, 0] - X[:, 2] + 0.5 * rng.normal(size=400)) > 0.3).astype(int)
    models = []
    for seed in (1, 2, 3):
        booster = lgb.train({"objective": "lambdarank", "num_leaves": 7, "min_data_in_leaf": 5, "verbose": -1,
                             "feature_fraction": 0.5, "deterministic": True, "seed": seed},
                            lgb.Dataset(X, y, group=[20] * 20), num_boost_round=15)
        models.append(TreeModel.from_lightgbm(booster.dump_model(), [f"f{i}" for i in range(6)]))
    Xt = rng.normal(size=(50, 6))
    scores = [m.score(Xt) for m in models]
    assert not np.allclose(scores[0], scores[1])  # the seeds sample other features: other trees
    mean = averaged(models)
    np.testing.assert_allclose(mean.score(Xt), np.mean(scores, axis=0), atol=1e-9)
    again = TreeModel.from_json(json.loads(json.dumps(mean.to_json())))
    np.testing.assert_allclose(again.score(Xt), mean.score(Xt), atol=1e-5)
    with pytest.raises(ValueError, match="same features"):
        other = TreeModel.from_lightgbm(booster.dump_model(), [f"g{i}" for i in range(6)])
        averaged([models[0], other])


def test_a_categorical_split_is_refused():
    dump = {"tree_info": [{"tree_structure": {"split_feature": 0, "threshold": "1||2", "decision_type": "==",
                                              "left_child": {"leaf_value": 1}, "right_child": {"leaf_value": 2}}}]}
    with pytest.raises(ValueError, match="numerical"):
        TreeModel.from_lightgbm(dump, ["a"])


def _rows(seed: int) -> list[dict]:
    """Span rows as scripts/train_short.py builds them: a feature matrix per question and which spans are best."""
    from rag.answer.span_features import SPAN_FEATURES

    rng = np.random.default_rng(seed)
    rows = []
    for q in range(60):
        X = (rng.random((12, len(SPAN_FEATURES))) > 0.85).astype(float)
        y = np.zeros(12, bool)
        y[int(np.argmax(X[:, 0] + X[:, 5] + 0.1 * rng.random(12)))] = True
        rows.append({"set": "squad" if q % 3 else "cmrc", "fold": q % 5, "X": X, "y": y})
    return rows


def test_the_span_ranker_trains_deterministically_and_learns_the_signal():
    pytest.importorskip("lightgbm")
    train_short = pytest.importorskip("scripts.train_short")
    rows = _rows(0)
    a, b = train_short.fit(rows), train_short.fit(rows)
    assert isinstance(a, TreeModel) and json.dumps(a.to_json()) == json.dumps(b.to_json())
    held_out = _rows(1)
    right = [bool(r["y"][int(np.argmax(a.predict(r["X"])))]) for r in held_out]
    assert np.mean(right) > 0.4  # chance is 1 in 12


def test_a_short_model_of_an_unknown_kind_is_refused():
    from rag.answer import short_answer

    d = short_answer.load().to_json()
    d["spans"]["kind"] = "forest"
    with pytest.raises(ValueError, match="'linear' or 'trees'"):
        short_answer.ShortModel.from_json(d)


def test_span_labels_grade_every_span_by_its_f1_below_the_best():
    train_short = pytest.importorskip("scripts.train_short")
    f1 = np.array([1.0, 0.8, 0.6, 0.3, 0.0])
    best = np.array([True, False, False, False, False])
    assert train_short.relevance(f1, best, "graded").tolist() == [4, 3, 2, 1, 0]
    assert train_short.relevance(f1, best, "partial").tolist() == [2, 1, 1, 0, 0]


def test_the_withhold_ratio_is_the_least_withholding_within_one_standard_error():
    train_short = pytest.importorskip("scripts.train_short")
    rng = np.random.default_rng(0)
    base = {"a": rng.random(400), "b": rng.random(400)}
    swing = np.where(np.arange(400) % 2, 0.1, -0.1)  # same mean, paired differences of ±0.1
    noise = {s: v + swing for s, v in base.items()}
    # None withholds nothing; 0.5 is within the noise of the best (1.0); 2.0 is clearly worse.
    f1s = {None: {s: v - 0.2 for s, v in base.items()}, 0.5: noise,
           1.0: {s: v + 0.002 for s, v in base.items()}, 2.0: {s: v - 0.1 for s, v in base.items()}}
    chosen, se = train_short.least_withholding(f1s)
    assert chosen == 0.5 and se["1.0"] == 0.0 and se["0.5"] > 0.002
    # When only the best is within its own noise, it is the one.
    del f1s[0.5]
    assert train_short.least_withholding(f1s)[0] == 1.0


def test_training_scores_a_withheld_short_answer_as_the_engine_states_it():
    """scripts/train_short.py's prediction applies the engine's rule (short_answer.withheld)."""
    train_short = pytest.importorskip("scripts.train_short")

    class Model:
        def predict(self, X):
            return np.array([0.7, 0.3])

    row = {"answered": True, "list": None, "X": np.zeros((2, 1)), "spans": ["June 29", "Chongqing"],
           "answer_text": "It met in Chongqing on June 29.", "confidence": 0.3}
    assert train_short.prediction(row, Model(), 0.0, 1.0, ratio=None)[0] == "June 29"
    assert train_short.prediction(row, Model(), 0.0, 1.0, ratio=1.0)[0] == ""  # 0.3 × 0.7 < 0.7
    assert train_short.prediction({**row, "confidence": 0.9}, Model(), 0.0, 1.0, ratio=1.0)[0] == "June 29"
    assert train_short.prediction({**row, "answered": False}, Model(), 0.0, 1.0, ratio=None)[0] == ""


def test_models_kept_again_name_their_origin_once():
    """`--keep-model` reruns must write the same file: the origin is not prefixed once more each time."""
    from pathlib import Path

    train_reader = pytest.importorskip("scripts.train_reader")
    once = train_reader.kept_origin(Path("rag/answer/models/reader.json"), None)
    assert once == "kept from reader.json (--keep-model): trained by this script"
    assert train_reader.kept_origin(Path("reader.json"), once) == once
    moved = train_reader.kept_origin(Path("other.json"), once)  # kept into another file: both said
    assert moved == "kept from other.json (--keep-model): " + once
