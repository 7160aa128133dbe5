"""The quality gate: the whole question set (eval/questions.jsonl) through the real engine,
held to eval/thresholds.json. Thresholds only go up."""


import pytest

from rag.config import PROJECT_ROOT
from rag.eval import report
from rag.eval.datasets import load_questions
from rag.eval.gate import check_thresholds, load_thresholds
from rag.eval.runner import DEFAULT_QUESTIONS, evaluate

pytestmark = pytest.mark.slow

OUT = PROJECT_ROOT / "test-output" / "eval"


def test_question_set_meets_thresholds(real_engine):
    questions = load_questions(DEFAULT_QUESTIONS)
    assert len(questions) >= 50
    result = evaluate(real_engine, questions, baseline=True, source=str(DEFAULT_QUESTIONS))
    gate = check_thresholds(result, load_thresholds(PROJECT_ROOT / "eval" / "thresholds.json"))
    paths = report.write_report(result, OUT, gate)
    print("\n" + report.render_table(result))
    print(f"report: {paths['report']}")
    assert gate["passed"], "below threshold: " + ", ".join(
        f"{f['metric']} {report.fmt(f['value'])} < {f['minimum']}" for f in gate["failed"])
    # The claim that we beat the plain llama-index pipeline is measured, not assumed.
    base = result["baseline"]["metrics"]
    ours = result["metrics"]
    assert ours["mrr"] > base["mrr"] and ours["context_fact_recall"] > base["context_fact_recall"]
