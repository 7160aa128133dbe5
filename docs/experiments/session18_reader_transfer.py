"""Session 18 experiment: does the reader's answerability carry over to a set it never saw?

Issue 9 asks that answerability come from how the question relates to the evidence, not from
how one set's questions look. Cross-validation by article (scripts/train_reader.py) keeps an
article out of training, not a set: a model could still learn that Chinese questions are
answerable (CMRC has no unanswerable question). Here each set is read by a reader trained on the
other two only, at the shipped thresholds, next to the by-article cross-validation:

    python docs/experiments/session18_reader_transfer.py --cache /tmp/rcache --work /tmp/work

Results: docs/READER.md, "Does answerability carry over to another set?".
"""
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT)); sys.path.insert(0, str(ROOT / "scripts"))
import train_reader as TR  # noqa: E402
from rag.answer.reader_model import load as load_reader  # noqa: E402

args = TR.experiment_args()

engines, items, _ = TR.gather_sets(args.work, cache=args.cache)
shipped = load_reader()
t, floor, typed = shipped.min_confidence, shipped.coverage_floor, shipped.coverage_floor_typed
second = shipped.second_sentence
names = [n for n, _ in TR.SETS]


def report(label, rows):
    out = {}
    for s in names:
        R = [r for r in rows if r["set"] == s]
        m = TR.scores(R, t, floor, typed)
        ans = [r["confidence"] for r in R if r["answerable"] and not r["hard_abstain"]]
        una = [r["confidence"] for r in R if not r["answerable"] and not r["hard_abstain"]]
        auc = roc_auc_score([1] * len(ans) + [0] * len(una), ans + una) if ans and una else None
        m["auc_answered"] = None if auc is None else round(float(auc), 3)
        m["mean_confidence_answerable"] = round(float(np.mean(ans)), 3) if ans else None
        out[s] = m
        print(f"{label:22} {s:6} recall {m['answer_recall']:.3f} false_abst {m['false_abstention']:.3f} "
              f"unans_abst {m['unanswerable_abstention'] if m['unanswerable_abstention'] is not None else '-'} "
              f"auc {m['auc_answered']} mean_conf_ans {m['mean_confidence_answerable']}", flush=True)
    return out


by_article = TR.cross_validate(engines, items, 5, (second,))[second]
results = {"by_article": report("by article (5 folds)", by_article)}
# Folds that are the sets themselves: each set read by a reader trained on the other two.
TR.folds_of = lambda its, k: [names.index(it.set) for it in its]
by_set = TR.cross_validate(engines, items, len(names), (second,))[second]
results["by_set"] = report("set held out", by_set)
print(json.dumps(results, indent=1))
