"""Session 18 experiment (not shipped): a learnt decision to state or withhold the short answer,
against the one-factor rule (short_answer.withheld), on out-of-fold rows; docs/READER.md,
"How sure a phrase must be". Run from a checkout with docs/experiments/session17-clause-runs.patch
applied (the rows of session 18 also had Chinese modifiers inside list items):

    python docs/experiments/session18_withhold_decision.py --cache /tmp/rcache --work /tmp/work [--hold cmrc]

--hold SET trains the decision without that set's questions (and scores it on them).
"""
import os, pickle, sys
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "scripts"))
import train_reader as TR
import train_short as TS
from rag.answer import short_answer
from rag.answer.reader_model import load as load_reader
from rag.answer.span_features import SPAN_FEATURES
from rag.answer.tree_model import averaged
from rag.eval import squad_metrics as S
from sklearn.linear_model import LogisticRegression

args = TR.experiment_args((('--hold',), dict(choices=["squad", "cmrc", "ours"], default=None)),
                          (('--sharpness',), dict(type=float, default=1.5)))

stored = args.cache / "session18-rows.pkl"
if stored.exists():
    rows = pickle.loads(stored.read_bytes())
else:
    engines, items, _ = TR.gather_sets(args.work, cache=args.cache, short=True)
    rows = TS.groups_of(items, TS.read_out_of_fold(engines, items, 5, load_reader()))
    stored.write_bytes(pickle.dumps(rows))
sets = sorted({r["set"] for r in rows})
SH = args.sharpness; MINP = 0.0

def fit(train):
    use = [r for r in train if r["y"] is not None and r["y"].any()]
    n = {s: sum(1 for r in use if r["set"] == s) for s in {r["set"] for r in use}}
    w = np.array([len(use) / (len(n) * n[r["set"]]) for r in use])
    return averaged([TR.fit_trees([r["X"] for r in use], [r["y"] for r in use], SPAN_FEATURES, TS.TREE_PARAMS,
                                  TS.TREE_ROUNDS, weights=w, seed=s) for s in range(1, TS.TREE_SEEDS + 1)])

cache = str(args.cache / "session18-probs.pkl")
if os.path.exists(cache):
    models, probs = pickle.load(open(cache, "rb"))
else:
    models = {f: fit([r for r in rows if r["fold"] != f]) for f in range(5)}
    probs = [models[r["fold"]].predict(r["X"]) if r["X"] is not None and len(r["spans"]) else None for r in rows]
    pickle.dump((models, probs), open(cache, "wb"))

# Each row's stated prediction (no withholding) and the row's decision features.
stated, feats, decidable = [], [], []
COLS = ["conf", "logit_conf", "expected", "p_top", "p_chosen", "log_spans", "entropy", "zh_dummy"]
IDX = {n: i for i, n in enumerate(SPAN_FEATURES)}
XCOLS = [c for c in SPAN_FEATURES if not c.startswith("zh_") and c != "zh"]
for r, p in zip(rows, probs):
    text, _ = TS.prediction(r, models[r["fold"]], MINP, SH, p, short_answer.choice(p, r["spans"], SH) if p is not None else None, None)
    stated.append(text)
    ok = r["answered"] and not r["list"] and p is not None and not r.get("events") and p.max() >= MINP
    decidable.append(ok)
    if ok:
        i, e = short_answer.choice(p, r["spans"], SH)
        c = min(max(r["confidence"], 1e-4), 1 - 1e-4)
        q = np.sort(p)[::-1]; pn = p / p.sum()
        base = [c, np.log(c / (1 - c)), e, q[0], p[i], np.log(len(p)), -(pn * np.log(pn + 1e-12)).sum(), 0]
        x = r["X"][i]
        feats.append(np.array(base + [x[IDX[n]] + x[IDX["zh_" + n]] for n in XCOLS]))
    else:
        feats.append(None)

def f1(r, pred): return S.token_f1(pred, r["golds"], r["cjk"])

def report(name, preds):
    out = {s: round(float(np.mean([f1(r, p) for r, p in zip(rows, preds) if r["set"] == s])), 4) for s in sets}
    print(f"{name:28} {out}  mean {np.mean(list(out.values())):.4f}", flush=True)

report("never withhold", stated)
for ratio in (0.25, 0.5, 0.75, 1.0, 1.5):
    preds = []
    for r, p, t, ok in zip(rows, probs, stated, decidable):
        if ok:
            i, e = short_answer.choice(p, r["spans"], SH)
            t = "" if r["confidence"] * e < ratio * (1 - r["confidence"]) else t
        preds.append(t)
    report(f"ratio {ratio}", preds)

# Learnt: logistic on gain sign, weight |gain|, set-balanced, out of fold.
idx = [k for k, ok in enumerate(decidable) if ok]
gain = np.array([f1(rows[k], stated[k]) - (0.0 if rows[k]["golds"] else 1.0) for k in idx])
nset = {s: sum(1 for k in idx if rows[k]["set"] == s) for s in sets}
for which, cols in (("base", slice(0, 7)), ("base+span", slice(None))):
    X = np.array([feats[k][cols] for k in idx]); X = np.nan_to_num(X)
    folds = np.array([rows[k]["fold"] for k in idx])
    sw = np.array([abs(g) / nset[rows[k]["set"]] for g, k in zip(gain, idx)]) * len(idx) / 3
    score = np.zeros(len(idx))
    setv = np.array([rows[k]["set"] for k in idx])
    for f in range(5):
        tr, te = folds != f, folds == f
        if args.hold:  # train without that set at all
            tr = tr & (setv != args.hold)
        mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-9
        m = LogisticRegression(C=1.0, max_iter=2000).fit((X[tr] - mu) / sd, gain[tr] > 0, sample_weight=sw[tr])
        score[te] = m.predict_proba((X[te] - mu) / sd)[:, 1]
    for th in (0.3, 0.4, 0.5, 0.6):
        preds = list(stated)
        for j, k in enumerate(idx):
            if score[j] < th:
                preds[k] = ""
        report(f"learnt {which} th {th}", preds)
