"""Train the reader (rag/answer/models/reader.json) and measure it by cross-validation grouped by article.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_reader.py            # ../shared/benchmarks + eval/questions.jsonl

Data (licences in docs/READER.md): SQuAD 2.0 dev (6 articles, CC BY-SA 4.0), CMRC 2018 trial
(CC BY-SA 4.0), our eval/questions.jsonl. Every article of a set goes into one index and every
question is asked of the whole index, as a user would; the candidates are the sentences of the
retrieved passages. A candidate is positive when it holds a gold answer (and comes from a gold
article, where the set names one).

Two models:
1. sentence model: candidate features -> P(the sentence holds the answer), a conditional logit
   (a softmax over one question's candidates, L-BFGS from zero weights) and boosted trees
   (LightGBM lambdarank, deterministic) that start from its scores and correct them (the default,
   shipped; `--sentence-model linear` for the logit alone: docs/READER.md);
2. evidence model (a logistic regression, scikit-learn lbfgs): features of the evidence as a
   whole, computed with the sentence model's probabilities on its own training questions
   -> P(the sentence the engine shows holds the answer).
The abstention threshold is the highest confidence that keeps false abstention on answerable
questions at or under the target on every set, measured end to end (the engine's own answer
path, `Engine.read`) on out-of-fold models. No article is ever in a training and a test fold.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.evidence_features import EVIDENCE_FEATURES, evidence_features  # noqa: E402
from rag.answer.expected_types import TYPED  # noqa: E402
from rag.answer.linear_model import LinearModel, matrix  # noqa: E402
from rag.answer.reader_model import MODEL_PATH, ReaderModel  # noqa: E402
from rag.answer.reader_model import load as load_reader  # noqa: E402
from rag.answer.selection import RELATIVE_KEEP  # noqa: E402
from rag.answer.sentence_features import KINDS, SENTENCE_FEATURES, candidates  # noqa: E402
from rag.answer.tree_model import TreeModel  # noqa: E402
from rag.config import DEFAULT_ARTICLES, Settings  # noqa: E402
from rag.engine import Engine  # noqa: E402
from rag.eval import squad_metrics as S  # noqa: E402
from rag.eval.corpus import write_articles  # noqa: E402
from rag.eval.datasets import load_dataset  # noqa: E402
from rag.eval.types import Dataset  # noqa: E402
from rag.store.manifest import load_manifest  # noqa: E402

log = logging.getLogger("train_reader")

SETS = [("squad", "squad2-dev-6articles.json"), ("cmrc", "cmrc2018-trial.json"), ("ours", None)]
# Targets of false abstention on answerable questions, with a margin under the product's 8% / 5%
# because the thresholds are picked on the same data they are reported on (our own set: its CI
# gate asks answered_recall >= 0.97).
FA_TARGET = {"squad": 0.06, "cmrc": 0.04, "ours": 0.02}
FEATURE_GROUPS = {
    "similarity (e5)": ["sim", "sim_gap", "sim_passage", "sim_x_cov"],
    "coverage (idf)": ["cov", "cov_gap", "cov_window", "cov_passage", "share", "pairs", "cov_topic", "cov_topic_gap"],
    "context coverage (old scorer)": ["cov_ctx", "cov_ctx_gap", "part_cue", "legacy", "legacy_gap"],
    "answer type": ["typed", "typed_any", "novel", "intro_list"],
    "retrieval": ["rank_inv", "top_passage", "fused_rel", "bm25_rel"],
    "position/length": ["pos_in_passage", "first_in_doc", "log_len", "short", "same_lang"],
    "question kind": ["n_terms_log"] + [f"kind_{k.value}" for k in KINDS],
}


def holds_answer(text: str, answers) -> bool:
    """A gold answer occurs in `text` as `rag eval` counts it (rag.eval.squad_metrics.answer_occurs)."""
    t = S.answer_text(text)
    return any(S.answer_occurs(t, a) for a in answers)


class DictLexicon:
    def __init__(self, idf: dict[str, float | None]):
        self._idf = idf

    @classmethod
    def of(cls, lexicon, q) -> "DictLexicon":
        from rag.answer.questions import canonical

        toks = set(q.terms) | set(canonical(q.terms))
        return cls({t: lexicon.idf(t) for t in toks})

    def idf(self, token: str) -> float | None:
        return self._idf.get(token)


@dataclass
class Item:
    set: str
    qid: str
    group: str
    answerable: bool
    answers: tuple[str, ...]
    gold_articles: tuple[str, ...]
    ev: object
    cands: list = field(default_factory=list)
    labels: np.ndarray | None = None
    X: np.ndarray | None = None


def foreign_articles(index: Path, folder: Path) -> list[str]:
    """The ids of the articles of the index at `index` that were read from outside `folder`."""
    manifest = load_manifest(index)
    if manifest is None:
        return []
    root = folder.resolve()
    return sorted(aid for aid, entry in manifest.articles.items()
                  if not Path(entry["path"]).resolve().is_relative_to(root))


def engine_for(name: str, ds: Dataset, work: Path) -> tuple[Engine, Path]:
    if ds.articles is None:
        folder = DEFAULT_ARTICLES
        index = work / name / "index"
    else:
        base = work / f"{ds.name}-{ds.corpus_key}"
        folder = write_articles(ds, base / "articles")
        index = base / "index"
    foreign = foreign_articles(index, folder)
    if foreign:
        # Ingesting here would add this checkout's copy of the articles beside the other one
        # (ids with a suffix): retrieval and labels change, and the models with them.
        raise SystemExit(f"{index} holds articles that were not read from {folder} ({', '.join(foreign[:3])}): "
                         "another checkout trained with this --work; give each checkout its own --work")
    engine = Engine(Settings.from_env(index_dir=index))
    t = time.perf_counter()
    report = engine.ingest([folder])
    log.info("%s: index %s (%d passages embedded, %.0f s)", name, index, report.embedded, time.perf_counter() - t)
    return engine, folder


def gather(name: str, ds: Dataset, work: Path, limit: int | None, cache: Path | None = None) -> tuple[Engine, list[Item]]:
    """Each question's evidence and candidates. With `cache`, the evidence is kept in a pickle
    and read back next time (for trying features and models quickly; delete it when the
    retrieval or the corpus changes)."""
    import pickle

    engine, _ = engine_for(name, ds, work)
    qs = ds.questions[:limit] if limit else ds.questions
    stored = cache / f"{name}-{len(qs)}.pkl" if cache else None
    if stored and stored.exists():
        items = pickle.loads(stored.read_bytes())
        for it in items:
            label(it)
        return engine, items
    items = []
    t = time.perf_counter()
    for i, q in enumerate(qs):
        answers = tuple(a for fact in q.gold_facts for a in fact)
        ev = engine.evidence(q.question)
        # The lexicon, cut down to what reading this question asks of it, so that the
        # evidence can be cached and read again without the index (--cache).
        ev.lexicon = DictLexicon.of(ev.lexicon, ev.q)
        group = f"{name}:{q.gold_articles[0] if q.gold_articles else 'none'}"
        it = Item(name, q.id, group, q.answerable, answers, q.gold_articles, ev)
        label(it)
        items.append(it)
        if (i + 1) % 500 == 0:
            log.info("%s: %d/%d questions (%.0f s)", name, i + 1, len(qs), time.perf_counter() - t)
    if stored:
        stored.parent.mkdir(parents=True, exist_ok=True)
        stored.write_bytes(pickle.dumps([Item(i.set, i.qid, i.group, i.answerable, i.answers, i.gold_articles, i.ev)
                                         for i in items]))
    return engine, items


BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
QUESTIONS = ROOT / "eval" / "questions.jsonl"


def gather_sets(work: Path, limit: int | None = None, cache: Path | None = None, short: bool = False,
                benchmarks: Path = BENCHMARKS, questions: Path = QUESTIONS
                ) -> tuple[dict[str, Engine], list[Item], dict[str, dict]]:
    """`gather` for every set of SETS: their engines, their items in order, and each set's size.
    With `short`, our questions are scored on their short answers (`gold_short`), as
    scripts/train_short.py trains on them; our answerable questions without one are left out."""
    engines: dict[str, Engine] = {}
    items: list[Item] = []
    sizes: dict[str, dict] = {}
    for name, fname in SETS:
        path = questions if fname is None else benchmarks / fname
        ds = load_dataset(path)
        engines[name], got = gather(name, ds, work, limit, cache)
        if short and name == "ours":
            gold = {q.id: q.gold_short for q in ds.questions}
            got = [it for it in got if gold.get(it.qid) or not it.answerable]
            for it in got:
                it.answers = tuple(gold.get(it.qid) or ())
        items += got
        sizes[name] = {"questions": len(got), "answerable": sum(i.answerable for i in got),
                       "articles": len({i.group for i in got}), "file": path.name}
    return engines, items, sizes


def experiment_args(*extra: tuple[tuple, dict]) -> argparse.Namespace:
    """The start of a script in docs/experiments: its --cache and --work (and `extra` arguments,
    each as add_argument's args and kwargs), a fixed hash seed, and logging as this script's."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, required=True, help="the evidence caches (train_reader --cache)")
    ap.add_argument("--work", type=Path, required=True, help="the sets' indexes (train_reader --work)")
    for a, kw in extra:
        ap.add_argument(*a, **kw)
    args = ap.parse_args()
    fix_hash_seed()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("rag").setLevel(logging.WARNING)
    # caches pickled by train_reader run as a script name the classes of its `__main__`
    sys.modules["__main__"].Item, sys.modules["__main__"].DictLexicon = Item, DictLexicon
    return args


def label(it: Item) -> None:
    """The candidates of an item's evidence, their features and whether each holds the answer."""
    ev = it.ev
    it.cands, it.labels, it.X = [], None, None
    if ev.missing_what:
        return
    it.cands = candidates(ev.q, ev.hits, ev.lexicon, ev.qvec)
    it.labels = np.array([it.answerable and holds_answer(c.text, it.answers)
                          and (not it.gold_articles or c.hit.article_id in it.gold_articles)
                          for c in it.cands], dtype=bool)
    it.X = matrix([c.features for c in it.cands], SENTENCE_FEATURES)


def set_weights(items: list[Item]) -> np.ndarray:
    """One weight per item so that every question set counts the same in total: 128 of our
    questions about news must not be drowned by 2,435 about Wikipedia."""
    n = {s: sum(1 for it in items if it.set == s) for s in {it.set for it in items}}
    return np.array([len(items) / (len(n) * n[it.set]) for it in items])


def fit(X: np.ndarray, y: np.ndarray, names: list[str], C: float = 1.0,
        weights: np.ndarray | None = None) -> LinearModel:
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=C, max_iter=2000)
    lr.fit((X - mean) / scale, y, sample_weight=weights)
    return LinearModel(list(names), mean, scale, lr.coef_[0].copy(), float(lr.intercept_[0]))


def folds_of(items: list[Item], k: int) -> list[int]:
    """Fold of each item: whole article groups, balanced by size, in a fixed order."""
    sizes: dict[str, int] = {}
    for it in items:
        sizes[it.group] = sizes.get(it.group, 0) + 1
    load = [0] * k
    fold_of: dict[str, int] = {}
    for g in sorted(sizes, key=lambda g: (-sizes[g], g)):
        f = min(range(k), key=lambda i: (load[i], i))
        fold_of[g] = f
        load[f] += sizes[g]
    return [fold_of[it.group] for it in items]


def fit_ranker(Xs: list[np.ndarray], ys: list[np.ndarray], names: list[str], l2: float = 1.0,
               weights: np.ndarray | None = None) -> LinearModel:
    """A conditional logit: per question, softmax over its candidates; the probability mass of
    the candidates that hold the answer is maximised (L2-regularised, L-BFGS from zero weights:
    deterministic). Questions without a positive candidate carry no ranking signal."""
    from scipy.optimize import minimize

    wq = np.ones(len(Xs)) if weights is None else np.asarray(weights, float)
    keep = [(X, y, w) for X, y, w in zip(Xs, ys, wq) if y.any()]
    qw = np.array([w for _, _, w in keep])
    keep = [(X, y) for X, y, _ in keep]
    X = np.vstack([x for x, _ in keep])
    y = np.concatenate([y for _, y in keep]).astype(float)
    starts = np.cumsum([0] + [len(x) for x, _ in keep[:-1]])
    seg = np.repeat(np.arange(len(keep)), [len(x) for x, _ in keep])
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = (X - mean) / scale

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = Z @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[seg])
        p = e / np.add.reduceat(e, starts)[seg]
        pos = np.add.reduceat(p * y, starts)
        q = p * y / pos[seg]
        return float(-(qw * np.log(pos)).sum() + 0.5 * l2 * w @ w), -(qw[seg] * (q - p)) @ Z + l2 * w

    w = minimize(loss, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B").x
    return LinearModel(list(names), mean, scale, w, 0.0, link="softmax")


# Trees boosted from the logit rank better out of fold and ship (docs/READER.md, "The sentence
# model"); `--sentence-model linear` trains the logit alone.
SENTENCE_MODEL = {"kind": "trees"}
SENTENCE_TREES = {"objective": "lambdarank", "num_leaves": 31, "learning_rate": 0.05, "min_data_in_leaf": 50,
                  "feature_fraction": 0.7, "lambda_l2": 1.0, "max_depth": 8, "lambdarank_truncation_level": 10}
SENTENCE_ROUNDS = 300


def fit_trees(Xs: list[np.ndarray], ys: list[np.ndarray], names: list[str], params: dict, rounds: int,
              weights: np.ndarray | None = None, base: LinearModel | None = None, seed: int = 1) -> TreeModel:
    """A ranker of boosted trees (LightGBM lambdarank) over each question's candidates, one weight
    per question; with `base`, the trees start from its scores (init_score) and correct them.
    Deterministic: `deterministic`, a fixed seed, two threads. Questions without a positive are left out."""
    import lightgbm as lgb

    wq = np.ones(len(Xs)) if weights is None else np.asarray(weights, float)
    keep = [i for i, y in enumerate(ys) if y.any()]
    X = np.vstack([Xs[i] for i in keep])
    data = lgb.Dataset(X, np.concatenate([ys[i].astype(int) for i in keep]),
                       weight=np.repeat(wq[keep], [len(Xs[i]) for i in keep]), group=[len(Xs[i]) for i in keep],
                       init_score=None if base is None else base.score(X))
    params = {**params, "verbose": -1, "seed": seed, "deterministic": True, "force_row_wise": True, "num_threads": 2}
    booster = lgb.train(params, data, num_boost_round=rounds)
    return TreeModel.from_lightgbm(booster.dump_model(), names, base=base)


def fit_sentences(items: list[Item], w: np.ndarray) -> LinearModel | TreeModel:
    Xs, ys = [it.X for it in items], [it.labels for it in items]
    sent = fit_ranker(Xs, ys, SENTENCE_FEATURES, weights=w)
    if SENTENCE_MODEL["kind"] == "trees":
        return fit_trees(Xs, ys, SENTENCE_FEATURES, SENTENCE_TREES, SENTENCE_ROUNDS, weights=w, base=sent)
    return sent


def train(items: list[Item]) -> tuple[LinearModel | TreeModel, LinearModel]:
    with_c = [it for it in items if it.cands]
    w = set_weights(with_c)
    sent = fit_sentences(with_c, w)
    E, ey = evidence_rows(with_c, sent)
    return sent, fit(E, ey, EVIDENCE_FEATURES, weights=w)


def evidence_rows(items: list[Item], sent: LinearModel | TreeModel) -> tuple[np.ndarray, np.ndarray]:
    rows, ys = [], []
    for it in items:
        for c, p in zip(it.cands, sent.predict(it.X)):
            c.p = float(p)
        top = max(it.cands, key=lambda c: c.p)
        rows.append(evidence_features(it.ev.q, it.cands, it.ev.lexicon))
        ys.append(bool(it.labels[it.cands.index(top)]))
    return matrix(rows, EVIDENCE_FEATURES), np.array(ys, dtype=bool)


# How probable, relative to the best, a second sentence of its passage must be to join a short
# answer: the values tried (rag.answer.selection); the first is the one before it was learnt.
SECOND_SENTENCE = (RELATIVE_KEEP["single"], 0.2, 0.1, 0.05, 0.02)


def cross_validate(engines: dict[str, Engine], items: list[Item], k: int,
                   seconds: tuple[float, ...] = SECOND_SENTENCE) -> dict[float, list[dict]]:
    """Out-of-fold answers: each question answered by a model that never saw its article, once
    for each value of `seconds` (the confidence does not depend on it, the answer text does)."""
    folds = folds_of(items, k)
    out: dict[float, list[dict]] = {s: [None] * len(items) for s in seconds}  # type: ignore[misc]
    for f in range(k):
        train_items = [it for it, g in zip(items, folds) if g != f]
        sent, evid = train(train_items)
        for second in seconds:
            model = ReaderModel(sent, evid, 0.0, second_sentence=second)
            for i, (it, g) in enumerate(zip(items, folds)):
                if g != f:
                    continue
                a = engines[it.set].read(it.ev, model, min_confidence=0.0, short=False)
                out[second][i] = {"set": it.set, "id": it.qid, "answerable": it.answerable,
                                  "typed": it.ev.q.kind in TYPED,
                                  "topic": topic_of(a),
                                  "confidence": a.confidence if a.answered else 0.0, "hard_abstain": not a.answered,
                                  "correct": a.answered and holds_answer(a.text, it.answers),
                                  "support": any(holds_answer(c.text, it.answers) for c in a.citations),
                                  "chars": len(re.sub(r"\s*\[\d+\]", "", a.text))}
    return out


def choose_second(by_second: dict[float, list[dict]], t: float, floor: float, typed_floor: float
                  ) -> tuple[float, dict[str, dict[str, float]]]:
    """The second-sentence ratio with the best answer recall out of fold (each set counting the
    same; ties, to three decimals, go to the higher ratio: fewer sentences), and what each
    ratio gave. A second sentence joins only while the answer stays within
    selection.SINGLE_MAX_CHARS, so this trades no length limit away."""
    table, best, best_key = {}, None, None
    for second, rows in by_second.items():
        sets = sorted({r["set"] for r in rows})
        sc = {s: scores([r for r in rows if r["set"] == s], t, floor, typed_floor) for s in sets}
        table[str(second)] = {s: {"answer_recall": m["answer_recall"], "median_answer_chars": m["median_answer_chars"]}
                              for s, m in sc.items()}
        key = (round(float(np.mean([m["answer_recall"] for m in sc.values()])), 3), second)
        if best_key is None or key > best_key:
            best, best_key = second, key
    return best, table


def topic_of(a) -> float | None:
    """What the coverage floors compare (rag.answer.extractive.answer): the coverage of the best
    sentence of this very answer; None when the engine does not compare it (an abstention, a
    sentence in another language than the question's, an intersection of two events)."""
    return a.coverage if a.answered else None


def abstains(r: dict, t: float, floor: float = 0.0, typed_floor: float = 0.0) -> bool:
    """Whether the engine abstains on row `r` at confidence threshold `t` and coverage floors."""
    f = typed_floor if r["typed"] else floor
    return r["hard_abstain"] or r["confidence"] < t or (r["topic"] is not None and r["topic"] < f)


def scores(rows: list[dict], t: float, floor: float = 0.0, typed_floor: float = 0.0) -> dict:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not abstains(r, t, floor, typed_floor)]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "answer_recall": _mean(r["correct"] and not abstains(r, t, floor, typed_floor) for r in ans),
        "support": _mean(r["support"] and not abstains(r, t, floor, typed_floor) for r in ans),
        "false_abstention": _mean(abstains(r, t, floor, typed_floor) for r in ans),
        "unanswerable_abstention": _mean(abstains(r, t, floor, typed_floor) for r in una) if una else None,
        "median_answer_chars": statistics.median([r["chars"] for r in answered]) if answered else None,
    }


def _mean(xs) -> float:
    xs = list(xs)
    return round(sum(map(float, xs)) / len(xs), 4) if xs else 0.0


def choose_thresholds(rows: list[dict]) -> tuple[float, float]:
    """(confidence threshold, coverage floor): of the pairs that keep false abstention within its
    target on every set, the one that abstains most on unanswerable questions (each set with
    such questions counting the same); ties go to the lower, more forgiving values."""
    sets = sorted({r["set"] for r in rows})
    by_set = {s: [r for r in rows if r["set"] == s] for s in sets}
    best, best_key = (0.0, 0.0), None
    for floor in np.round(np.arange(0.0, 0.8, 0.01), 3):
        for t in np.round(np.arange(0.0, 0.9, 0.005), 3):
            sc = {s: scores(by_set[s], float(t), float(floor)) for s in sets}
            if any(sc[s]["false_abstention"] > FA_TARGET[s] + 1e-9 for s in sets):
                break  # a higher t only abstains more
            una = [sc[s]["unanswerable_abstention"] for s in sets if sc[s]["unanswerable_abstention"] is not None]
            key = (round(float(np.mean(una)), 6), -float(floor), -float(t))
            if best_key is None or key > best_key:
                best, best_key = (float(t), float(floor)), key
    return best


def choose_typed_floor(rows: list[dict], t: float, floor: float) -> float:
    """The coverage floor of when / how-many questions, with the rest fixed: as above."""
    sets = sorted({r["set"] for r in rows})
    by_set = {s: [r for r in rows if r["set"] == s] for s in sets}
    best, best_key = floor, None
    for tf in np.round(np.arange(0.0, 0.9, 0.01), 3):
        sc = {s: scores(by_set[s], t, floor, float(tf)) for s in sets}
        if any(sc[s]["false_abstention"] > FA_TARGET[s] + 1e-9 for s in sets):
            break
        una = [sc[s]["unanswerable_abstention"] for s in sets if sc[s]["unanswerable_abstention"] is not None]
        key = (round(float(np.mean(una)), 6), -float(tf))
        if best_key is None or key > best_key:
            best, best_key = float(tf), key
    return best


def sentence_ablation(items: list[Item], k: int) -> dict[str, float]:
    """Top-1 sentence accuracy (the best-ranked candidate holds the answer) on answerable
    questions, out of fold, with all features and with each group left out."""
    folds = folds_of(items, k)
    use = [(it, g) for it, g in zip(items, folds) if it.cands and it.answerable]

    def acc(cols: list[int]) -> float:
        hits = []
        for f in range(k):
            tr = [it for it, g in use if g != f]
            m = fit_ranker([it.X[:, cols] for it in tr], [it.labels for it in tr],
                           [SENTENCE_FEATURES[c] for c in cols])
            for it, g in use:
                if g == f:
                    hits.append(bool(it.labels[int(np.argmax(m.predict(it.X[:, cols])))]))
        return round(float(np.mean(hits)), 4)

    all_cols = list(range(len(SENTENCE_FEATURES)))
    out = {"all features": acc(all_cols)}
    for name, feats in FEATURE_GROUPS.items():
        out[f"without {name}"] = acc([i for i in all_cols if SENTENCE_FEATURES[i] not in feats])
    return out


def kept_origin(path: Path, origin: str | None) -> str:
    """Where models kept by `--keep-model` from `path` come from, said once however often they
    are kept again (a rerun must write the same file)."""
    kept_from = f"kept from {path.name} (--keep-model): "
    origin = origin or "trained by this script"
    while origin.startswith(kept_from):
        origin = origin[len(kept_from):]
    return kept_from + origin


def fix_hash_seed() -> None:
    """Run again with PYTHONHASHSEED=0 unless it is set: the question terms' idf weights are summed
    in set order, and a last-bit difference in a feature can move a tree's split, so the same data
    would not always give the same model file."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])


def main() -> None:
    fix_hash_seed()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchmarks", type=Path, default=BENCHMARKS)
    ap.add_argument("--questions", type=Path, default=QUESTIONS)
    ap.add_argument("--work", type=Path, default=ROOT / "index" / "eval-sets",
                    help="where the sets' articles and indexes are kept (reused across runs)")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--results", type=Path, default=ROOT / "docs" / "reader_cv.json")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--limit", type=int, default=None, help="questions per set (for a quick try)")
    ap.add_argument("--cache", type=Path, default=None, help="keep each set's evidence here and reuse it")
    ap.add_argument("--sentence-model", choices=["linear", "trees"], default="trees",
                    help="the sentence ranker: the conditional logit alone, or boosted by trees")
    ap.add_argument("--keep-model", action="store_true",
                    help="keep the sentence and evidence models of --out; learn only the thresholds and the "
                         "second-sentence ratio (cross-validated as always, on models retrained per fold)")
    args = ap.parse_args()
    SENTENCE_MODEL["kind"] = args.sentence_model
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("rag").setLevel(logging.WARNING)

    engines, items, sizes = gather_sets(args.work, args.limit, args.cache, benchmarks=args.benchmarks,
                                        questions=args.questions)
    log.info("features of %d questions, %d candidates", len(items), sum(len(i.cands) for i in items))

    by_second = cross_validate(engines, items, args.folds)
    # The thresholds do not depend on the second sentence: the confidence is the best one's.
    threshold, floor = choose_thresholds(by_second[SECOND_SENTENCE[0]])
    typed_floor = choose_typed_floor(by_second[SECOND_SENTENCE[0]], threshold, floor)
    second, second_table = choose_second(by_second, threshold, floor, typed_floor)
    rows = by_second[second]
    cv = {s: scores([r for r in rows if r["set"] == s], threshold, floor, typed_floor) for s in sizes}
    cv_no_threshold = {s: scores([r for r in rows if r["set"] == s], 0.0) for s in sizes}
    ablation = sentence_ablation(items, args.folds)
    kept = load_reader(args.out) if args.keep_model else None
    sent, evid = (kept.sentence, kept.evidence) if kept else train(items)
    meta = {"trained_on": sizes, "folds": args.folds, "fa_target": FA_TARGET,
            "cv": cv, "cv_without_threshold": cv_no_threshold, "second_sentence_cv": second_table,
            "sentence_top1_ablation": ablation,
            "sentence_model": args.sentence_model,
            "sentence_weights": dict(zip(sent.features, getattr(sent, "base", sent).coef.round(4).tolist())),
            "evidence_weights": dict(zip(evid.features, evid.coef.round(4).tolist()))}
    if kept:
        # The weights are the kept ones, trained when they were; the numbers above are this code's.
        meta["models"] = kept_origin(args.out, kept.meta.get("models"))
        meta["models_cv"] = kept.meta.get("models_cv", kept.meta.get("cv"))  # when they were trained
        meta["sentence_weights"] = kept.meta.get("sentence_weights", meta["sentence_weights"])
        meta["evidence_weights"] = kept.meta.get("evidence_weights", meta["evidence_weights"])
    model = ReaderModel(sent, evid, threshold, floor, typed_floor, meta, second)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # Trees on one line: some 18,000 numbers, which one per line would make as many lines.
    layout = {"indent": 1} if args.sentence_model == "linear" else {"separators": (",", ":")}
    args.out.write_text(json.dumps(model.to_json(), ensure_ascii=False, **layout) + "\n", "utf-8")
    args.results.write_text(json.dumps({"min_confidence": threshold, "coverage_floor": floor,
                                        "coverage_floor_typed": typed_floor, "second_sentence": second, **meta}, indent=1, ensure_ascii=False) + "\n",
                            "utf-8")
    print(f"min_confidence {threshold}  coverage_floor {floor}  typed {typed_floor}  second_sentence {second}")
    print(f"{'set':6} {'n':>5} {'recall':>7} {'support':>7} {'false_abst':>10} {'unans_abst':>10} {'median_chars':>12}")
    for s, m in cv.items():
        ua = "–" if m["unanswerable_abstention"] is None else f"{m['unanswerable_abstention']:.3f}"
        print(f"{s:6} {m['questions']:5d} {m['answer_recall']:7.3f} {m['support']:7.3f} "
              f"{m['false_abstention']:10.3f} {ua:>10} {m['median_answer_chars'] or 0:12.0f}")
    print("sentence top-1 accuracy (answerable, out of fold):", json.dumps(ablation))
    print(f"model: {args.out}  results: {args.results}")


if __name__ == "__main__":
    main()
