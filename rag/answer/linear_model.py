"""A linear model on standardised features, as `scripts/train_reader.py` and
`scripts/train_short.py` write them to JSON: applying one is a few dot products, with no new
dependency at answer time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


def matrix(rows: Sequence[dict[str, float]], names: Sequence[str]) -> np.ndarray:
    return np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=np.float64).reshape(len(rows), len(names))


@dataclass
class LinearModel:
    """A linear model on standardised features, z = ((x - mean) / scale) @ coef + intercept.

    `link` "logistic": p = sigmoid(z) for each row (a logistic regression).
    `link` "softmax": p = softmax(z) over the rows given together, i.e. over one question's
    candidates (a conditional logit: the probability that this sentence, of these, is the one
    that answers). Trained as a ranker, it orders sentences better than a pointwise logistic
    regression (docs/READER.md)."""
    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    link: str = "logistic"

    def score(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept

    def predict(self, X: np.ndarray) -> np.ndarray:
        if X.size == 0:
            return np.zeros(len(X))
        z = self.score(X)
        if self.link == "softmax":
            e = np.exp(z - z.max())
            return e / e.sum()
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))

    def to_json(self) -> dict:
        return {"features": list(self.features), "link": self.link, "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": round(float(self.intercept), 6)}

    @classmethod
    def from_json(cls, d: dict) -> "LinearModel":
        return cls(list(d["features"]), np.asarray(d["mean"], float), np.asarray(d["scale"], float),
                   np.asarray(d["coef"], float), float(d["intercept"]), d.get("link", "logistic"))

