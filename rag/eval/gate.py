"""The quality gate: a JSON file of metric -> minimum (eval/thresholds.json) and the check of a
run's overall metrics against it (`rag eval --thresholds`, exit 1 when any is not reached)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.eval import metrics as M
from rag.eval.scoring import METRIC_ORDER, NOT_GATED
from rag.eval.types import EvalError


def load_thresholds(path: Path) -> dict[str, float]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise EvalError(f"thresholds file {path} not found") from exc
    except json.JSONDecodeError as exc:
        raise EvalError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        raise EvalError(f"{path} must be one JSON object of metric name -> minimum value")
    unknown = sorted(set(data) - set(METRIC_ORDER))
    if unknown:
        raise EvalError(f"{path} names unknown metrics: {', '.join(unknown)}; known: {', '.join(METRIC_ORDER)}")
    ungated = sorted(set(data) & set(NOT_GATED))
    if ungated:
        raise EvalError(f"{path}: {', '.join(ungated)} cannot be gated by a minimum (lower is better, or not a score)")
    return {k: float(v) for k, v in data.items()}


def check_thresholds(result: dict[str, Any], thresholds: dict[str, float]) -> dict[str, Any]:
    failed = M.below_thresholds(result["metrics"], thresholds)
    return {"thresholds": thresholds, "passed": not failed,
            "failed": [{"metric": n, "value": v, "minimum": m} for n, v, m in failed]}
