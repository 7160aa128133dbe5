"""Session 19 experiment: can a learnt e5 interaction see what the evidence features miss?

The evidence model (rag/answer/evidence_features.py) sees e5 only as one cosine per sentence.
Here the best sentence's e5 vector and the question's enter a logistic regression whole, as
their elementwise product and absolute difference (768 numbers), next to the evidence features.
The label is the product's: does the sentence the engine would show hold a gold answer.
Out-of-fold sentence models (five folds by article) choose that sentence; the evidence models
are scored by five folds by article and by leaving each set out:

    python docs/experiments/session19_e5_interaction.py --cache /tmp/rcache --work /tmp/work

Results: docs/READER.md, "A learnt e5 interaction (session 19)".
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "scripts"))
import train_reader as T  # noqa: E402
from rag.answer.evidence_features import EVIDENCE_FEATURES, evidence_features  # noqa: E402
from rag.answer.linear_model import matrix  # noqa: E402

args = T.experiment_args()
_, items, _ = T.gather_sets(args.work, cache=args.cache)
items = [it for it in items if it.cands]
print(len(items), "questions with candidates")
folds = T.folds_of(items, 5)
n = len(items)
E = np.zeros((n, len(EVIDENCE_FEATURES))); V = np.zeros((n, 384 * 2)); y = np.zeros(n, bool)
for f in range(5):
    tr = [it for it, g in zip(items, folds) if g != f]
    sent = T.fit_sentences(tr, T.set_weights(tr))
    for i, (it, g) in enumerate(zip(items, folds)):
        if g != f: continue
        for c, p in zip(it.cands, sent.predict(it.X)): c.p = float(p)
        top = max(it.cands, key=lambda c: c.p)
        E[i] = matrix([evidence_features(it.ev.q, it.cands, it.ev.lexicon)], EVIDENCE_FEATURES)[0]
        q = it.ev.qvec
        v = top.vector
        if q is not None and v is not None:
            V[i, :384] = q * v
            V[i, 384:] = np.abs(q - v)
        y[i] = bool(it.labels[it.cands.index(top)])
sets = np.array([it.set for it in items]); ans = np.array([it.answerable for it in items])
w = T.set_weights(items)
def run(X, C, train_mask_fn):
    p = np.zeros(n)
    for f in range(5):
        trm = train_mask_fn(f)
        tem = np.array(folds) == f
        mu, sd = X[trm].mean(0), X[trm].std(0) + 1e-9
        lr = LogisticRegression(C=C, max_iter=3000).fit((X[trm] - mu) / sd, y[trm], sample_weight=w[trm])
        p[tem] = lr.predict_proba((X[tem] - mu) / sd)[:, 1]
    return p
def report(tag, p):
    out = [tag]
    for s in ["squad", "cmrc", "ours"]:
        m = sets == s
        out.append(f"{s}: auc(y) {roc_auc_score(y[m], p[m]):.3f}")
        if s != "cmrc":
            out.append(f"auc(ans) {roc_auc_score(ans[m], p[m]):.3f}")
        # unanswerable questions under the confidence that keeps 92% of the right answers
        if s == "squad":
            pos = p[m & y]
            t = np.quantile(pos, 0.08)
            out.append(f"unans_abst@fa.08 {np.mean(p[m & ~ans] < t):.3f}")
    print("  ".join(out))
folds_a = np.array(folds)
for C in [0.01, 0.1, 1.0]:
    report(f"E C={C}", run(E, C, lambda f: folds_a != f))
for C in [0.001, 0.01, 0.1]:
    report(f"E+V C={C}", run(np.hstack([E, V]), C, lambda f: folds_a != f))
# leave one set out: train on the other two sets (all folds' OOF rows), test on the held set
for hold in ["squad", "cmrc", "ours"]:
    for tag, X, C in [("E", E, 0.01), ("E+V", np.hstack([E, V]), 0.001)]:
        trm, tem = sets != hold, sets == hold
        mu, sd = X[trm].mean(0), X[trm].std(0) + 1e-9
        lr = LogisticRegression(C=C, max_iter=3000).fit((X[trm] - mu) / sd, y[trm], sample_weight=w[trm])
        p = lr.predict_proba((X[tem] - mu) / sd)[:, 1]
        a = roc_auc_score(y[tem], p)
        b = roc_auc_score(ans[tem], p) if hold != "cmrc" else float("nan")
        print(f"hold {hold} {tag}: auc(y) {a:.3f} auc(ans) {b:.3f}")
