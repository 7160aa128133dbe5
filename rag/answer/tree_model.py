"""A boosted tree ensemble, as `scripts/train_short.py` writes it from LightGBM's own dump: applying
it is a few numpy index operations over flat arrays, with no LightGBM (or any new dependency) at
answer time.

Why trees: on the same span features a linear model ranks the right span first for about a
quarter of the questions; trees, which combine a span's type with the question's kind and the
words around it, rank it first more often (docs/READER.md, "Short answers").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.answer.linear_model import LinearModel


@dataclass
class TreeModel:
    """Trees flattened into one node table. Node k splits on `feature[k]` (-1 for a leaf) at
    `threshold[k]`: rows with x <= threshold go to `left[k]`, the others to `right[k]`; a leaf
    holds `value[k]`. The score of a row is the sum of the leaves it reaches, one per tree.

    `link` "softmax": p = softmax(score) over the rows given together, i.e. over one question's
    candidates (as rag.answer.linear_model.LinearModel's conditional logit).

    `base`: a linear model the trees were boosted from (LightGBM's `init_score`): its score is
    added to the trees'. The reader's sentence ranker is built so: trees correct the conditional
    logit rather than replace it, which kept more of its accuracy on our news questions."""
    features: list[str]
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    link: str = "softmax"
    base: LinearModel | None = None

    def score(self, X: np.ndarray) -> np.ndarray:
        base = self.base.score(X) if self.base is not None and X.size else 0.0
        return base + self._trees(X)

    def _trees(self, X: np.ndarray) -> np.ndarray:
        if X.size == 0 or not len(self.roots):
            return np.zeros(len(X))
        rows = np.arange(len(X))[:, None]
        node = np.broadcast_to(self.roots, (len(X), len(self.roots))).copy()
        for _ in range(self.depth):
            f = self.feature[node]
            leaf = f < 0
            if leaf.all():
                break
            x = X[rows, np.where(leaf, 0, f)]
            nxt = np.where(x <= self.threshold[node], self.left[node], self.right[node])
            node = np.where(leaf, node, nxt)
        return self.value[node].sum(axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        z = self.score(X)
        if not len(z):
            return z
        if self.link == "softmax":
            e = np.exp(z - z.max())
            return e / e.sum()
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict:
        return {"kind": "trees", "features": list(self.features), "link": self.link, "depth": self.depth,
                "roots": self.roots.tolist(), "feature": self.feature.tolist(),
                "threshold": self.threshold.tolist(),
                "left": self.left.tolist(), "right": self.right.tolist(),
                "value": [float(f"{v:.7g}") for v in self.value.tolist()],
                "base": self.base.to_json() if self.base is not None else None}

    @classmethod
    def from_json(cls, d: dict) -> "TreeModel":
        return cls(list(d["features"]), np.asarray(d["feature"], np.int64), np.asarray(d["threshold"], float),
                   np.asarray(d["left"], np.int64), np.asarray(d["right"], np.int64),
                   np.asarray(d["value"], float), np.asarray(d["roots"], np.int64), int(d["depth"]),
                   d.get("link", "softmax"), LinearModel.from_json(d["base"]) if d.get("base") else None)

    @classmethod
    def from_lightgbm(cls, dump: dict, features: list[str], link: str = "softmax",
                      base: LinearModel | None = None) -> "TreeModel":
        """From `Booster.dump_model()`: numerical splits (`<=`) only, as the span features are."""
        feature, threshold, left, right, value, roots = [], [], [], [], [], []
        depth = 0

        def add(node: dict, d: int) -> int:
            nonlocal depth
            depth = max(depth, d)
            k = len(feature)
            feature.append(-1)
            threshold.append(0.0)
            left.append(k)
            right.append(k)
            value.append(0.0)
            if "leaf_value" in node:
                value[k] = float(node["leaf_value"])
                return k
            if node.get("decision_type", "<=") != "<=":
                raise ValueError(f"unsupported split {node.get('decision_type')!r}: only numerical splits")
            feature[k] = int(node["split_feature"])
            threshold[k] = float(node["threshold"])
            left[k] = add(node["left_child"], d + 1)
            right[k] = add(node["right_child"], d + 1)
            return k

        for tree in dump["tree_info"]:
            roots.append(add(tree["tree_structure"], 0))
        return cls(list(features), np.asarray(feature, np.int64), np.asarray(threshold, float),
                   np.asarray(left, np.int64), np.asarray(right, np.int64), np.asarray(value, float),
                   np.asarray(roots, np.int64), depth, link, base)


def averaged(models: list[TreeModel]) -> TreeModel:
    """The mean score of several ensembles over the same features (trained with different seeds,
    so that each split sees another half of the features), as one table: their trees side by side,
    each leaf divided by their number. A mean of such models moves less from one retraining to the
    next than any one of them."""
    first = models[0]
    if any(m.features != first.features or m.base is not None for m in models):
        raise ValueError("only ensembles over the same features, without a base model, can be averaged")
    offsets = np.cumsum([0] + [len(m.feature) for m in models[:-1]])
    return TreeModel(list(first.features), np.concatenate([m.feature for m in models]),
                     np.concatenate([m.threshold for m in models]),
                     np.concatenate([m.left + o for m, o in zip(models, offsets)]),
                     np.concatenate([m.right + o for m, o in zip(models, offsets)]),
                     np.concatenate([m.value for m in models]) / len(models),
                     np.concatenate([m.roots + o for m, o in zip(models, offsets)]), max(m.depth for m in models),
                     first.link)


def ranker_from_json(d: dict) -> LinearModel | TreeModel:
    """A stored ranker of either kind, as the training scripts write them (`kind` "trees", or none
    for a linear model)."""
    kind = d.get("kind", "linear")
    if kind not in ("linear", "trees"):
        raise ValueError(f"unknown model kind {kind!r}; expected 'linear' or 'trees'")
    return TreeModel.from_json(d) if kind == "trees" else LinearModel.from_json(d)
