"""The trained reader: which retrieved sentence answers the question, and how likely it is that
the evidence answers it at all.

Why trained: hand-set weights and word lists fitted to two articles did not carry over to
other text (docs/READER.md). Every candidate sentence is described by language-neutral
features (rag/answer/sentence_features.py), and two models learnt by `scripts/train_reader.py`
from public reading-comprehension sets and our own questions turn them into

- `p`: the probability that a sentence holds the answer (ranks the sentences), and
- `confidence`: the probability that the best sentence answers the question (decides abstention),
  from the evidence's features (rag/answer/evidence_features.py).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.answer.evidence_features import EVIDENCE_FEATURES, evidence_features
from rag.answer.linear_model import LinearModel, matrix
from rag.answer.selection import RELATIVE_KEEP
from rag.answer.sentence_features import SENTENCE_FEATURES, Candidate, Lexicon
from rag.answer.tree_model import TreeModel, ranker_from_json
from rag.types import Question

MODEL_PATH = Path(__file__).parent / "models" / "reader.json"
MODEL_VERSION = 2


@dataclass
class ReaderModel:
    sentence: LinearModel | TreeModel
    evidence: LinearModel
    min_confidence: float
    # Below this context coverage (`cov_ctx`) of the question by the most probable sentence, the
    # evidence is not about what the question asks (learnt with the threshold:
    # scripts/train_reader.py).
    coverage_floor: float = 0.0
    coverage_floor_typed: float = 0.0  # the same for when / how-many questions
    meta: dict = field(default_factory=dict)
    # How probable, relative to the best sentence, a second one of the same passage must be to
    # join an answer that stays short (rag.answer.selection; learnt: the value with the best
    # recall out of fold).
    second_sentence: float = RELATIVE_KEEP["single"]

    def to_json(self) -> dict:
        return {"version": MODEL_VERSION, "sentence": self.sentence.to_json(), "evidence": self.evidence.to_json(),
                "min_confidence": self.min_confidence, "coverage_floor": self.coverage_floor,
                "coverage_floor_typed": self.coverage_floor_typed, "second_sentence": self.second_sentence,
                "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> "ReaderModel":
        if d.get("version") != MODEL_VERSION:
            raise ValueError(f"reader model version {d.get('version')} is not {MODEL_VERSION}; "
                             "run scripts/train_reader.py")
        s, e = ranker_from_json(d["sentence"]), LinearModel.from_json(d["evidence"])
        if s.features != SENTENCE_FEATURES or e.features != EVIDENCE_FEATURES:
            raise ValueError("the reader model's features differ from the code's; run scripts/train_reader.py")
        return cls(s, e, float(d["min_confidence"]), float(d.get("coverage_floor", 0.0)),
                   float(d.get("coverage_floor_typed", 0.0)), d.get("meta", {}),
                   float(d.get("second_sentence", RELATIVE_KEEP["single"])))

    def score(self, q: Question, cands: list[Candidate], lexicon: Lexicon) -> float:
        """Set each candidate's `p`; return the confidence that the best one answers `q`."""
        if not cands:
            return 0.0
        probs = self.sentence.predict(matrix([c.features for c in cands], self.sentence.features))
        for c, p in zip(cands, probs):
            c.p = float(p)
        ev = evidence_features(q, cands, lexicon)
        return float(self.evidence.predict(matrix([ev], self.evidence.features))[0])


@functools.lru_cache(maxsize=4)
def load(path: Path = MODEL_PATH) -> ReaderModel:
    return ReaderModel.from_json(json.loads(Path(path).read_text("utf-8")))
