"""`rag eval` end to end through click: the real e5 model, a real Chroma index in a temp
folder (built by the command itself, since it starts empty), and a 6-question subset of the
eval set with one unanswerable and one Chinese question.

Checks the shape of what it produces, not the scores: the answering logic is tuned
separately, and eval/thresholds.json is what gates the scores.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.app.cli import main
from rag.config import PROJECT_ROOT
from rag.eval.baseline import BASELINE_METRICS
from rag.eval.scoring import METRIC_ORDER
from tests.support.question_sets import SUBSET, write_subset

pytestmark = pytest.mark.slow


def run(args: list[str]):
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("eval")
    write_subset(d / "subset.jsonl")
    return d


@pytest.fixture(scope="module")
def first_run(workdir):
    """The first run builds the index and the baseline; the other tests reuse its index."""
    result = run(["eval", str(workdir / "subset.jsonl"), "--index-dir", str(workdir / "index"),
                  "--report", str(workdir / "report"), "--json"])
    return result


def test_json_metrics_report_and_chart(first_run, workdir):
    assert first_run.exit_code == 0, first_run.output
    data = json.loads(first_run.stdout)
    assert set(data) >= {"set", "metrics", "latency_ms", "by_category", "by_language", "baseline",
                         "failures", "questions", "gate"}
    assert data["set"]["questions"] == 6 and data["set"]["answerable"] == 5 and data["set"]["unanswerable"] == 1
    assert data["set"]["ingested"] is not None  # the index was empty, so the command built it
    assert data["set"]["gold_articles_missing"] == []
    assert list(data["metrics"]) == list(METRIC_ORDER)
    for name in ("hit@1", "hit@5", "mrr", "ndcg@5", "fact_recall", "context_fact_recall",
                 "abstention_accuracy", "marker_validity"):
        assert 0.0 <= data["metrics"][name] <= 1.0, name
    assert set(data["by_language"]) == {"en", "zh"}
    assert "unanswerable" in data["by_category"]
    assert {"retrieve", "answer", "total"} <= set(data["latency_ms"])
    assert data["latency_ms"]["total"]["p50"] <= data["latency_ms"]["total"]["p95"]

    base = data["baseline"]
    assert base["config"]["nodes"] > 0 and "top_k=2" in base["config"]["retriever"]
    assert set(base["metrics"]) == {*BASELINE_METRICS, "context_chars"}
    assert base["metrics"]["false_abstention"] == 0.0 and base["metrics"]["unanswerable_abstention"] == 0.0
    assert all(len(q["retrieved"]) == 2 for q in base["questions"])

    q = {r["id"]: r for r in data["questions"]}
    assert set(q) == set(SUBSET)
    assert q["q096"]["answerable"] is False and q["q096"]["fact_recall"] is None
    assert q["q063"]["language"] == "zh"
    assert len(q["q002"]["retrieved"]) == 5
    assert "text" not in q["q002"]["retrieved"][0]  # ids only in the JSON

    report = workdir / "report" / "report.md"
    chart = workdir / "report" / "scores_by_category.png"
    assert report.is_file() and chart.is_file()
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5000
    md = report.read_text("utf-8")
    assert "| hit@5 |" in md and "llama-index baseline" in md and "## Failed questions" in md
    assert json.loads((workdir / "report" / "results.json").read_text("utf-8"))["set"]["questions"] == 6


def test_threshold_gate_fails_on_impossible_threshold(first_run, workdir):
    assert first_run.exit_code == 0
    impossible = workdir / "impossible.json"
    impossible.write_text(json.dumps({"hit@5": 1.01, "marker_validity": 0.0}))
    result = run(["eval", str(workdir / "subset.jsonl"), "--index-dir", str(workdir / "index"),
                  "--report", str(workdir / "report2"), "--no-baseline", "--thresholds", str(impossible)])
    assert result.exit_code == 1
    assert "hit@5" in result.stderr and "1.01" in result.stderr
    assert "marker_validity" not in result.stderr  # only the failing metric is listed
    assert "hit@5" in result.stdout  # the table is still printed
    assert "Threshold gate: FAILED" in (workdir / "report2" / "report.md").read_text("utf-8")


def test_threshold_gate_passes_and_rejects_unknown_metric(first_run, workdir):
    assert first_run.exit_code == 0
    ok = workdir / "ok.json"
    ok.write_text(json.dumps({"hit@5": 0.0, "abstention_accuracy": 0.0}))
    args = ["eval", str(workdir / "subset.jsonl"), "--index-dir", str(workdir / "index"),
            "--report", str(workdir / "report3"), "--no-baseline", "--json", "--limit", "2"]
    result = run(args + ["--thresholds", str(ok)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["gate"]["passed"] is True and data["set"]["questions"] == 2 and data["baseline"] is None
    assert data["set"]["ingested"] is None  # the index was there: no re-ingest

    typo = workdir / "typo.json"
    typo.write_text(json.dumps({"hit@50": 0.5}))
    result = run(args + ["--thresholds", str(typo)])
    assert result.exit_code == 1 and "unknown metrics: hit@50" in result.stderr


def test_runs_are_saved_and_compared_question_by_question(first_run, workdir):
    """Every run is kept under <index-dir>/eval-runs/; `--compare RUN_A RUN_B` prints fixed,
    broke and same, and the metric changes; an unknown run is one error line, exit 1."""
    assert first_run.exit_code == 0
    index = workdir / "index"
    runs = sorted(p for p in (index / "eval-runs").iterdir() if not p.name.startswith("."))
    assert runs, "the first run was saved"
    first = runs[0]
    assert {"report.md", "results.json", "run.json", "scores_by_category.png"} <= {p.name for p in first.iterdir()}
    meta = json.loads((first / "run.json").read_text("utf-8"))
    assert meta["settings"]["retrieval"] == "hybrid" and meta["settings"]["source"] == "cli"
    assert meta["settings"]["baseline"] is True and meta["questions"] == 6
    # a worse configuration, saved as the latest run
    result = run(["eval", str(workdir / "subset.jsonl"), "--index-dir", str(index), "--report",
                  str(workdir / "report-bm25"), "--no-baseline", "--retrieval", "bm25", "--top-k", "1"])
    assert result.exit_code == 0, result.output
    assert "run saved: " in result.stdout
    latest = Path(result.stdout.split("run saved: ")[1].split()[0])
    out = run(["eval", "--index-dir", str(index), "--compare", first.name, "latest"])
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert f"A: {first.name}" in text and f"B: {latest.name}" in text and "top_k 1" in text
    assert "fixed," in text and "broke," in text and "same" in text and "fact_recall" in text
    data = json.loads(run(["eval", "--index-dir", str(index), "--compare", str(first), str(latest), "--json"]).stdout)
    assert sum(data["counts"].values()) == 6 and {q["status"] for q in data["questions"]} <= {"fixed", "broke", "same"}
    bad = run(["eval", "--index-dir", str(index), "--compare", first.name, "19990101T000000Z"])
    assert bad.exit_code == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and "'19990101T000000Z' is not a saved run" in lines[0] and first.name in lines[0]
    # --no-save keeps nothing
    before = len(list((index / "eval-runs").iterdir()))
    result = run(["eval", str(workdir / "subset.jsonl"), "--index-dir", str(index), "--report",
                  str(workdir / "report-nosave"), "--no-baseline", "--limit", "1", "--no-save"])
    assert result.exit_code == 0 and len(list((index / "eval-runs").iterdir())) == before


# -- a public set (SQuAD 2.0 layout) end to end, as a user runs it -------------------------------

TINY_SQUAD = {"version": "v2.0", "data": [
    {"title": "Normans", "paragraphs": [{
        "context": "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
                   "a region in France. They were descended from Norse raiders and pirates from Denmark, Iceland "
                   "and Norway who, under their leader Rollo, agreed to swear fealty to King Charles III of West Francia.",
        "qas": [
            {"id": "n1", "question": "In what country is Normandy located?",
             "answers": [{"text": "France", "answer_start": 87}], "is_impossible": False},
            {"id": "n2", "question": "Who was the leader of the Norse raiders?",
             "answers": [{"text": "Rollo", "answer_start": 0}], "is_impossible": False},
            {"id": "n3", "question": "Who gave their name to Normandy in the 1000s and 1100s?", "answers": [],
             "plausible_answers": [{"text": "Normans", "answer_start": 4}], "is_impossible": True}]}]},
    {"title": "Steam_engine", "paragraphs": [{
        "context": "A steam engine is a heat engine that performs mechanical work using steam as its working fluid. "
                   "Thomas Newcomen built the first commercially successful engine in 1712. James Watt later "
                   "improved it with a separate condenser.",
        "qas": [
            {"id": "s1", "question": "Who built the first commercially successful steam engine?",
             "answers": [{"text": "Thomas Newcomen", "answer_start": 0}, {"text": "Newcomen", "answer_start": 7}],
             "is_impossible": False},
            {"id": "s2", "question": "What did James Watt add to the engine?",
             "answers": [{"text": "a separate condenser", "answer_start": 0}], "is_impossible": False},
            {"id": "s3", "question": "Who invented the steam turbine in 1884?", "answers": [], "is_impossible": True}]}]},
]}

NEW_METRICS = ("answer_recall", "support", "support_retrieved", "false_abstention", "unanswerable_abstention",
               "median_answer_chars", "mean_confidence_answerable", "mean_confidence_unanswerable")


def rag_eval(*args: str) -> subprocess.CompletedProcess:
    root = PROJECT_ROOT
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    env.pop("RAG_INDEX_DIR", None)
    return subprocess.run([sys.executable, "-m", "rag.app.cli", "eval", *args], capture_output=True, text=True,
                          env=env, timeout=900)


def test_public_set_builds_its_corpus_once_and_reports_answer_metrics(tmp_path):
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(TINY_SQUAD), "utf-8")
    common = [str(path), "--index-dir", str(tmp_path / "index"), "--report", str(tmp_path / "report"), "--json"]

    first = rag_eval(*common)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    s = data["set"]
    assert (s["format"], s["questions"], s["answerable"], s["unanswerable"]) == ("squad", 6, 4, 2)
    corpus = tmp_path / "index" / "eval-sets"  # the default: under the index folder
    assert Path(s["index_dir"]).parent.parent == corpus and Path(s["articles"]).name == "articles"
    assert sorted(p.name for p in Path(s["articles"]).glob("*.md")) == ["normans.md", "steam_engine.md"]
    assert s["ingested"]["articles"] == 2 and s["ingested"]["embedded"] > 0
    assert s["gold_articles_missing"] == []
    for name in NEW_METRICS:
        assert name in data["metrics"], name
    m = data["metrics"]
    for name in ("answer_recall", "support", "support_retrieved", "false_abstention", "unanswerable_abstention"):
        assert 0.0 <= m[name] <= 1.0, name
    assert m["median_answer_chars"] > 0 and m["hit@5"] is not None  # relevance from the gold answers
    assert {"answerable", "unanswerable"} == set(data["by_category"]) and set(data["by_language"]) == {"en"}
    assert "answer_recall" in data["by_category"]["answerable"] and "false_abstention" in data["by_language"]["en"]
    base = data["baseline"]["metrics"]  # 6 questions: the baseline runs by default, on the set's articles
    assert base["false_abstention"] == 0.0 and base["unanswerable_abstention"] == 0.0 and base["answer_recall"] is not None
    assert "answer_recall" in (tmp_path / "report" / "report.md").read_text("utf-8")

    # A second run, on a seeded sample, reuses the index: nothing is embedded again.
    second = rag_eval(*common, "--no-baseline", "--limit", "3", "--seed", "7")
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)
    assert again["set"]["index_dir"] == s["index_dir"] and again["set"]["questions"] == 3
    assert again["set"]["ingested"]["embedded"] == 0 and again["set"]["ingested"]["passages_added"] == 0
    assert again["baseline"] is None
