"""Train the short-answer span model (rag/answer/models/short.json) and score short answers the way
SQuAD and CMRC score readers, by cross-validation grouped by article.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_short.py --cache /tmp/rcache   # the cache train_reader.py keeps

Data and licences as for scripts/train_reader.py (SQuAD 2.0 dev 6 articles and CMRC 2018 trial,
CC BY-SA 4.0; our eval/questions.jsonl, whose `gold_short` answers are the labels).

1. Every question is read once by a reader that never saw its article (5 folds by article,
   the reader retrained per fold as in train_reader.py): the sentences the engine would show.
2. The candidate spans of those sentences (rag/answer/span_candidates.py) are labelled by their F1 against the
   gold answers: the spans with the best F1 (at least 0.5) are the positives.
3. A span ranker is trained on the other folds and applied to each fold's answers: LightGBM's
   lambdarank over a question's spans, the mean of three ensembles trained with their own seeds
   (`--model trees`, the default, written as one flat tree table
   that rag/answer/tree_model.py applies with numpy), or the conditional logit of the reader's
   sentences (`--model linear`); exact match and F1 are
   computed on what the engine would print: the short answer, or the empty answer when it
   abstains or withholds the short answer (an unanswerable question is right only then).
4. `min_probability`, under which no short answer is given (the sentences still are), and the
   sharpness of the expected-F1 choice among the spans (short_answer.choice; or none: the most
   probable span) are the pair that maximises mean F1 over the sets, each set counting the same,
   with no short answer withheld. Then, for that pair, the factor under which a short answer is
   withheld (short_answer.withheld, from the out-of-fold reader's confidence; or none: never):
   the one that withholds least within one standard error of the best mean (`least_withholding`).
The final model is trained on every fold; with `--keep-model` the span trees already in `--out` are
kept and only the three settings of step 4 are learnt. Deterministic: LightGBM with `deterministic`, fixed seeds
and a fixed thread count, L-BFGS from zero weights, and PYTHONHASHSEED=0 (train_reader.fix_hash_seed).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import train_reader as TR  # noqa: E402

from rag.answer import short_answer  # noqa: E402
from rag.answer.linear_model import LinearModel  # noqa: E402
from rag.answer.reader_model import ReaderModel  # noqa: E402
from rag.answer.reader_model import load as load_reader
from rag.answer.sentence_features import question_weights  # noqa: E402
from rag.answer.span_features import SPAN_FEATURES, feature_matrix  # noqa: E402
from rag.answer.tree_model import TreeModel, averaged  # noqa: E402
from rag.answer.who_lists import list_items  # noqa: E402
from rag.eval import squad_metrics as S  # noqa: E402
from rag.types import ShortAnswer, ShortItem  # noqa: E402

log = logging.getLogger("train_short")
MIN_POSITIVE_F1 = 0.5


def read_out_of_fold(engines, items, k: int, shipped: ReaderModel) -> list[dict]:
    """Each item's answer by a reader trained without its article, at the shipped thresholds."""
    folds = TR.folds_of(items, k)
    out: list[dict] = [None] * len(items)  # type: ignore[list-item]
    TR.SENTENCE_MODEL["kind"] = shipped.meta.get("sentence_model", "linear")  # the shipped reader's kind
    for f in range(k):
        sent, evid = TR.train([it for it, g in zip(items, folds) if g != f])
        model = ReaderModel(sent, evid, shipped.min_confidence, shipped.coverage_floor,
                            shipped.coverage_floor_typed, second_sentence=shipped.second_sentence)
        for i, (it, g) in enumerate(zip(items, folds)):
            if g == f:
                a = engines[it.set].read(it.ev, model, short=False)
                out[i] = {"answer": a, "fold": g}
        log.info("fold %d read", f)
    return out


def groups_of(items, answers) -> list[dict]:
    rows = []
    for it, r in zip(items, answers):
        a = r["answer"]
        q = it.ev.q
        cjk = q.lang == "zh"
        golds = list(it.answers) if it.answerable else []
        row = {"set": it.set, "id": it.qid, "fold": r["fold"], "answered": a.answered, "golds": golds, "cjk": cjk,
               "confidence": a.confidence,
               "answer_text": S.answer_text(a.text), "explain": short_answer.explanatory(q), "spans": [], "X": None,
               "y": None, "list": None}
        if a.answered and not row["explain"]:
            if q.participation:
                found = list_items(q, a)
                if found:
                    row["list"] = ShortAnswer(found, 1.0, "list").text
            weights = question_weights(q, it.ev.lexicon)
            pairs = short_answer.spans_of(q, a, weights)
            row["spans"] = [short_answer.as_short(c, sent).text for c, sent in pairs]  # as `rag ask` prints it
            if it.ev.groups and len(it.ev.groups) > 1:  # one answer per event, as the engine gives
                row["events"] = [short_answer.spans_of(q, a, weights, g) for g in it.ev.groups]
                row["intersect"] = q.intersect
            row["X"] = feature_matrix([c for c, _ in pairs])
            if golds and pairs:
                f1 = np.array([S.token_f1(t, golds, cjk) for t in row["spans"]])
                best = f1.max()
                row["y"] = (f1 >= best - 1e-9) & (best >= MIN_POSITIVE_F1)
                row["f1"] = f1
        rows.append(row)
    return rows


LABELS = ("best", "graded", "partial")


def relevance(f1: np.ndarray, y: np.ndarray, labels: str) -> np.ndarray:
    """The trees' label of each span of a question whose best spans are `y` (at least 0.5 F1).
    "graded": the best spans 4, the others their F1 in grades 0 to 3, so a span that overlaps the
    answer ranks above one that does not; "partial": the best spans 2, the others with F1 of at
    least 0.5 1. ("best" is `y` itself.)"""
    if labels == "partial":
        return np.where(y, 2, (f1 >= MIN_POSITIVE_F1).astype(int))
    return np.where(y, 4, np.minimum(np.floor(f1 * 4), 3)).astype(int)


def prediction(row: dict, model, min_p: float, sharpness: float | None = None, p: np.ndarray | None = None,
               chosen: tuple[int, float] | None = None, ratio: float | None = None) -> tuple[str, float]:
    """What `rag eval` scores for a row: the short answer; the answer's text when the question
    asks for an explanation or no span is probable enough; '' for an abstention or a short answer
    withheld at `ratio` (short_answer.withheld). `p` (the model's probabilities of the row's
    spans) and `chosen` (short_answer.choice at `sharpness`) may be given when already computed."""
    if not row["answered"]:
        return "", 0.0
    short = None
    if row["list"]:
        short = ShortAnswer([ShortItem(row["list"], 0, 0, 0)], 1.0)
    elif row["X"] is None or not len(row["spans"]):
        return row["answer_text"], 0.0
    elif row.get("events"):
        short = short_answer.of_events(row["intersect"], row["events"], model, min_p, sharpness)
    if short is None:
        p = model.predict(row["X"]) if p is None else p
        if p.max() < min_p:
            return row["answer_text"], float(p.max())
        i, expected = short_answer.choice(p, row["spans"], sharpness) if chosen is None else chosen
        short = ShortAnswer([ShortItem(row["spans"][i], 0, 0, 0)], float(p[i]), expected_f1=expected)
    if short_answer.withheld(short, row["confidence"], ratio):
        return "", short.confidence
    return short.text, short.confidence


# Chosen by the cross-validation below: 400 rounds scored the same as 200 (docs/READER.md).
TREE_PARAMS = {"objective": "lambdarank", "num_leaves": 31, "learning_rate": 0.05, "min_data_in_leaf": 50,
               "feature_fraction": 0.5, "lambda_l2": 1.0, "lambdarank_truncation_level": 20, "max_depth": 8}
TREE_ROUNDS = 200
# The span model is the mean of this many ensembles, each trained with its own seed (LightGBM samples
# half the features per tree by it): one ensemble's choices on our set move with every retraining
# (docs/READER.md, session 16), the mean's move less.
TREE_SEEDS = 3
# Candidate sharpness of the expected-F1 choice (short_answer.choice); None is the most probable span.
SHARPNESS = (None, 1.0, 1.5, 2.0, 3.0)
# Candidate factors of short_answer.withheld; None never withholds a short answer.
WITHHOLD_RATIO = (None, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def fit(rows: list[dict], kind: str = "trees", labels: str = "best") -> LinearModel | TreeModel:
    use = [r for r in rows if r["y"] is not None and r["y"].any()]
    n = {s: sum(1 for r in use if r["set"] == s) for s in {r["set"] for r in use}}
    w = np.array([len(use) / (len(n) * n[r["set"]]) for r in use])
    Xs, ys = [r["X"] for r in use], [r["y"] for r in use]
    if kind == "linear":
        return TR.fit_ranker(Xs, ys, SPAN_FEATURES, weights=w)
    if labels != "best":
        ys = [relevance(r["f1"], r["y"], labels) for r in use]
    return averaged([TR.fit_trees(Xs, ys, SPAN_FEATURES, TREE_PARAMS, TREE_ROUNDS, weights=w, seed=s)
                     for s in range(1, TREE_SEEDS + 1)])


def scores(rows: list[dict], preds: list[str]) -> dict:
    def mean(xs):
        xs = list(xs)
        return round(float(np.mean(xs)), 4) if xs else None

    em = [S.exact_match(p, r["golds"], r["cjk"]) for r, p in zip(rows, preds)]
    f1 = [S.token_f1(p, r["golds"], r["cjk"]) for r, p in zip(rows, preds)]
    ans = [i for i, r in enumerate(rows) if r["golds"]]
    una = [i for i, r in enumerate(rows) if not r["golds"]]
    lens = [len(p) for r, p in zip(rows, preds) if p and r["answered"]]
    return {"questions": len(rows), "em": mean(em), "f1": mean(f1),
            "em_answerable": mean(em[i] for i in ans), "f1_answerable": mean(f1[i] for i in ans),
            "em_unanswerable": mean(em[i] for i in una) if una else None,
            "median_chars": float(np.median(lens)) if lens else None}


def per_question_f1(rows: list[dict], preds: list[str], sets: list[str]) -> dict[str, np.ndarray]:
    return {s: np.array([S.token_f1(p, r["golds"], r["cjk"]) for r, p in zip(rows, preds) if r["set"] == s])
            for s in sets}


def least_withholding(f1s: dict) -> tuple[float | None, dict]:
    """The withhold ratio, from each candidate's per-question F1 by set (`f1s`, in WITHHOLD_RATIO's
    order): the one that withholds least among those whose mean F1 over the sets is within one
    standard error of the best's (the one-standard-error rule). Withholding takes the phrase
    from the user, so a larger ratio must beat a smaller one by more than the noise of the choice;
    the optimum is flat (docs/READER.md). Also returns each candidate's paired standard error."""
    def mean(f):
        return float(np.mean([x.mean() for x in f.values()]))

    top = max(f1s, key=lambda r: mean(f1s[r]))
    se = {}
    for r, f in f1s.items():  # of the difference of the means over the sets, paired by question
        var = sum(np.var(f[s] - f1s[top][s], ddof=1) / len(f[s]) for s in f) / len(f) ** 2
        se[r] = float(np.sqrt(var))
    chosen = next(r for r in f1s if mean(f1s[r]) >= mean(f1s[top]) - se[r])
    return chosen, {str(r): round(v, 5) for r, v in se.items()}


def main() -> None:
    TR.fix_hash_seed()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchmarks", type=Path, default=TR.BENCHMARKS)
    ap.add_argument("--questions", type=Path, default=TR.QUESTIONS)
    ap.add_argument("--work", type=Path, default=ROOT / "index" / "eval-sets")
    ap.add_argument("--out", type=Path, default=short_answer.MODEL_PATH)
    ap.add_argument("--results", type=Path, default=ROOT / "docs" / "short_cv.json")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--model", choices=["trees", "linear"], default="trees",
                    help="the span ranker: boosted trees (LightGBM lambdarank) or a conditional logit")
    ap.add_argument("--keep-model", action="store_true",
                    help="keep the span trees of --out; learn only min_probability, the sharpness and the "
                         "withhold ratio (all cross-validated as always, on span models retrained per fold)")
    ap.add_argument("--labels", choices=LABELS, default="best",
                    help="the trees' labels: the best spans only, or every span graded by its F1")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("rag").setLevel(logging.WARNING)

    # train_reader.py, run as a script, pickles its caches with classes of `__main__`.
    main_module = sys.modules["__main__"]
    main_module.Item, main_module.DictLexicon = TR.Item, TR.DictLexicon
    # our short answers are `gold_short`, not the facts
    engines, items, _ = TR.gather_sets(args.work, args.limit, args.cache, short=True, benchmarks=args.benchmarks,
                                       questions=args.questions)
    shipped = load_reader()
    answers = read_out_of_fold(engines, items, args.folds, shipped)
    rows = groups_of(items, answers)
    sets = sorted({r["set"] for r in rows})

    # Out-of-fold span choice.
    oof_models = {f: fit([r for r in rows if r["fold"] != f], args.model, args.labels) for f in range(args.folds)}

    probs = [oof_models[r["fold"]].predict(r["X"]) if r["X"] is not None and len(r["spans"]) else None for r in rows]
    chosen = {sh: [short_answer.choice(p, r["spans"], sh) if p is not None else None for r, p in zip(rows, probs)]
              for sh in SHARPNESS}

    @functools.lru_cache(maxsize=None)  # the ratio's choice and its table read the same settings
    def preds_at(min_p: float, sharpness: float | None, ratio: float | None) -> list[str]:
        return [prediction(r, oof_models[r["fold"]], min_p, sharpness, p, c, ratio)[0]
                for r, p, c in zip(rows, probs, chosen[sharpness])]

    grid = [round(x, 2) for x in np.arange(0.0, 0.61, 0.05)]
    by_setting = {}

    def mean_f1(k) -> float:
        if k not in by_setting:
            pr = preds_at(*k)
            by_setting[k] = {s: scores([r for r in rows if r["set"] == s],
                                       [p for r, p in zip(rows, pr) if r["set"] == s]) for s in sets}
        return round(float(np.mean([by_setting[k][s]["f1"] for s in sets])), 6)

    # First the choice among spans, on the short answers as stated (none withheld); ties go to the
    # lower min_probability, then to the simpler choice (SHARPNESS's order). Then, for that choice,
    # whether to state it. One after the other, so that each setting does one job: learnt together,
    # a flatter sharpness lowers every span's expected F1 and so becomes a second withholding factor.
    best, best_sh = max(((mp, sh) for sh in SHARPNESS for mp in grid),
                        key=lambda k: (mean_f1((*k, None)), -k[0], -SHARPNESS.index(k[1])))
    f1s = {r: per_question_f1(rows, preds_at(best, best_sh, r), sets) for r in WITHHOLD_RATIO}
    best_ratio, ratio_se = least_withholding(f1s)
    for mp in grid:
        mean_f1((mp, best_sh, best_ratio))
    for sh in SHARPNESS:
        mean_f1((best, sh, best_ratio))
    for r in WITHHOLD_RATIO:
        mean_f1((best, best_sh, r))
    by_p = {mp: by_setting[mp, best_sh, best_ratio] for mp in grid}
    kept = short_answer.load(args.out) if args.keep_model else None
    final = kept.spans if kept else fit(rows, args.model, args.labels)
    meta = {"model": args.model, "cv": by_p[best], "cv_by_min_probability": {str(k): v for k, v in by_p.items()},
            "cv_by_sharpness": {str(sh): by_setting[best, sh, best_ratio] for sh in SHARPNESS},
            "cv_by_withhold_ratio": {str(r): by_setting[best, best_sh, r] for r in WITHHOLD_RATIO},
            "withhold_ratio_se": ratio_se,
            "min_positive_f1": MIN_POSITIVE_F1, "folds": args.folds}
    if args.model == "linear":
        meta["weights"] = dict(zip(SPAN_FEATURES, final.coef.round(4).tolist()))
    else:
        meta.update(params=TREE_PARAMS, rounds=TREE_ROUNDS, seeds=TREE_SEEDS, labels=args.labels)
    if kept:
        meta["trees"] = TR.kept_origin(args.out, kept.meta.get("trees"))
        meta["trees_cv"] = kept.meta.get("trees_cv", kept.meta.get("cv"))  # when they were trained
    model = short_answer.ShortModel(final, best, meta, best_sh, best_ratio)
    # One line: the tree table is some 12,000 numbers, which one per line would make 60,000 lines.
    args.out.write_text(json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
    args.results.write_text(json.dumps({"min_probability": best, "sharpness": best_sh, "withhold_ratio": best_ratio,
                                        **model.meta}, indent=1,
                                       ensure_ascii=False) + "\n", "utf-8")
    print(f"min_probability {best}, sharpness {best_sh}, withhold_ratio {best_ratio}")
    print(f"{'set':6} {'n':>5} {'EM':>6} {'F1':>6} {'EM ans':>7} {'F1 ans':>7} {'EM unans':>8} {'median':>6}")
    for s, m in by_p[best].items():
        print(f"{s:6} {m['questions']:5d} {m['em']:6.3f} {m['f1']:6.3f} {m['em_answerable']:7.3f} "
              f"{m['f1_answerable']:7.3f} {m['em_unanswerable'] if m['em_unanswerable'] is not None else '-':>8} "
              f"{m['median_chars'] or 0:6.0f}")


if __name__ == "__main__":
    main()
