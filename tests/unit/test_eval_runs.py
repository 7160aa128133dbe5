"""Saved evaluation runs (rag.eval.runs, rag.eval.comparison), the tab's rendering (rag.app.web.eval_render)
and feedback drafts (rag.eval.drafts) on small hand-made results: no model, no server."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from rag.eval import comparison
from rag.eval import drafts as feedback_drafts
from rag.eval import runs as eval_runs
from rag.eval.datasets import load_dataset
from rag.eval.scoring import GROUP_METRICS, METRIC_ORDER
from rag.eval.types import EvalError

EVIL = '<img src=x onerror=alert(1)>'


def row(qid, question="Who?", answered=True, answerable=True, fact_recall=1.0, failures=(), category="who",
        language="en", answer="Yuan Jiajun. [1]", hit5=1.0, cite=1.0):
    return {"id": qid, "question": question, "language": language, "category": category, "answerable": answerable,
            "answered": answered, "answer": answer, "citations": [{"n": 1, "article_id": "a1"}],
            "retrieved": [], "fact_recall": fact_recall if answerable else None, "hit@5": hit5 if answerable else None,
            "citation_precision": cite if answered else None, "failures": list(failures),
            "expected": {"answerable": answerable, "gold_facts": [["Yuan Jiajun", "袁家军"]] if answerable else [],
                         "gold_articles": ["a1"], "gold_passages": [], "gold_short": []},
            "timings_ms": {"total": 10.0}, "relevant": [], "n_relevant": 1}


def result(rows, metrics, name="set"):
    return {"set": {"file": f"{name}.jsonl", "name": name, "format": "ours", "questions": len(rows),
                    "answerable": sum(r["answerable"] for r in rows), "unanswerable": 0, "retrieval": "hybrid",
                    "top_k": 5, "min_confidence": 0.03, "answers": "extractive", "chunk_tokens": 160,
                    "index_dir": "/x", "seconds": 1.0, "gold_articles_missing": [], "ingested": None,
                    "articles": "data/articles", "answer_modes": None},
            "metrics": metrics, "context_chars": 100.0, "latency_ms": {},
            "by_category": {"who": {"n": len(rows), **dict.fromkeys(GROUP_METRICS, 0.5)}},
            "by_language": {"en": {"n": len(rows), **dict.fromkeys(GROUP_METRICS, 0.5)}}, "baseline": None,
            "failures": [r["id"] for r in rows if r["failures"]], "questions": rows}


A_ROWS = [row("q1"), row("q2", failures=["abstained on an answerable question"], answered=False, fact_recall=0.0),
          row("q3"), row("q4", question=EVIL, failures=["fact recall 0.00; missing: x"], fact_recall=0.0)]
B_ROWS = [row("q1", failures=["answered an unanswerable question"], answerable=False),
          row("q2"), row("q3"), row("q4", question=EVIL, failures=["fact recall 0.00; missing: x"], fact_recall=0.0)]
A = result(A_ROWS, {**dict.fromkeys(METRIC_ORDER), "fact_recall": 0.5, "false_abstention": 0.25,
                   "median_answer_chars": 100.0})
B = result(B_ROWS, {**dict.fromkeys(METRIC_ORDER), "fact_recall": 0.75, "false_abstention": 0.5,
                   "median_answer_chars": 90.0})


def test_save_list_load_and_compare(tmp_path):
    a = eval_runs.save_run(A, tmp_path, now=1_700_000_000)
    b = eval_runs.save_run(B, tmp_path, now=1_700_000_000)  # the same second: a second name
    assert a.name == "20231114T221320Z" and b.name == "20231114T221320Z-2"
    for d in (a, b):
        assert {"report.md", "results.json", "run.json"} <= {p.name for p in d.iterdir()}
    runs = eval_runs.list_runs(tmp_path)
    assert [r["id"] for r in runs] == [b.name, a.name]
    meta = runs[0]
    assert meta["settings"]["retrieval"] == "hybrid" and meta["settings"]["top_k"] == 5
    assert meta["headline"]["fact_recall"] == 0.75 and meta["failed"] == 2 and meta["questions"] == 4
    assert meta["git_commit"] is None or len(meta["git_commit"]) == 40
    assert eval_runs.previous_run(tmp_path, b.name)["id"] == a.name

    cmp = comparison.compare_runs(eval_runs.load_run(a), eval_runs.load_run(b))
    assert cmp["counts"] == {"fixed": 1, "broke": 1, "same": 2} and cmp["still_failing"] == 1
    status = {q["id"]: q["status"] for q in cmp["questions"]}
    assert status == {"q1": "broke", "q2": "fixed", "q3": "same", "q4": "same"}
    m = {x["metric"]: x for x in cmp["metrics"]}
    assert m["fact_recall"]["verdict"] == "better" and m["fact_recall"]["change"] == pytest.approx(0.25)
    assert m["false_abstention"]["verdict"] == "worse"  # up, but lower is better
    assert m["median_answer_chars"]["verdict"] is None
    text = comparison.render_comparison(cmp)
    assert "1 fixed, 1 broke, 2 same" in text and "broke (1)" in text and "q1" in text
    assert "▲ +0.250 better" in text
    md = comparison.render_comparison(cmp, markdown=True)
    assert md.startswith("# Comparison") and "| fact_recall |" in md


def test_resolve_run_by_name_prefix_latest_and_path(tmp_path):
    a = eval_runs.save_run(A, tmp_path, now=1_700_000_000)
    b = eval_runs.save_run(B, tmp_path, now=1_700_000_100)
    assert eval_runs.resolve_run(tmp_path, "latest") == b
    assert eval_runs.resolve_run(tmp_path, "previous") == a
    assert eval_runs.resolve_run(tmp_path, a.name) == a
    assert eval_runs.resolve_run(None, str(b)) == b
    assert eval_runs.resolve_run(None, str(b / "results.json")) == b
    with pytest.raises(EvalError, match="is not a saved run.*newest: " + b.name):
        eval_runs.resolve_run(tmp_path, "nope")
    with pytest.raises(EvalError, match="matches several runs"):
        eval_runs.resolve_run(tmp_path, "2023")


def test_a_half_written_run_is_never_listed(tmp_path, monkeypatch):
    """The run appears whole or not at all: a reader polling during the write sees no partial run,
    and a write that fails leaves nothing behind."""
    seen: list[list[str]] = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            for r in eval_runs.list_runs(tmp_path):
                d = Path(r["dir"])
                assert (d / "report.md").is_file() and (d / "results.json").is_file()
                seen.append([r["id"]])

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(5):
            eval_runs.save_run(A, tmp_path, now=1_700_000_000 + i)
    finally:
        stop.set()
        t.join()
    assert len(eval_runs.list_runs(tmp_path)) == 5

    from rag.eval import report

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "render_markdown", broken)
    with pytest.raises(OSError):
        eval_runs.save_run(A, tmp_path / "other")
    assert [p.name for p in eval_runs.runs_dir(tmp_path / "other").iterdir()] == []


def test_git_commit_never_fails(monkeypatch, tmp_path):
    assert eval_runs.git_commit(tmp_path) is None  # not a checkout
    monkeypatch.setenv("PATH", str(tmp_path))  # no git at all
    assert eval_runs.git_commit() is None


def test_failure_kinds():
    assert comparison.failure_kinds(row("q")) == []
    assert comparison.failure_kinds(row("q", answered=False, fact_recall=0.0, failures=["x"])) == ["abstained"]
    assert comparison.failure_kinds(row("q", answerable=False, failures=["x"])) == ["should have abstained"]
    assert comparison.failure_kinds(row("q", fact_recall=0.5, failures=["x"])) == ["wrong fact"]
    assert comparison.failure_kinds(row("q", hit5=0.0, failures=["x"])) == ["wrong source"]
    assert comparison.failure_kinds(row("q", fact_recall=0.0, cite=0.0, failures=["x"])) == ["wrong fact", "wrong source"]


# -- the tab's rendering -------------------------------------------------------------------------

def test_rendering_escapes_a_malicious_question_everywhere():
    from rag.app.web import eval_render

    cmp = comparison.compare_results(A, B)
    bad = {**A_ROWS[3], "answer": EVIL, "citations": [{"n": 1, "article_id": EVIL}],
           "failures": [EVIL], "category": EVIL, "language": EVIL,
           "expected": {"answerable": True, "gold_facts": [[EVIL]]}}
    runs = [{"id": EVIL, "time": EVIL, "settings": {"name": EVIL, "retrieval": EVIL}, "headline": {}, "git_commit": EVIL}]
    out = "".join([
        eval_render.failed_html([bad]), eval_render.comparison_html(cmp), eval_render.runs_html(runs),
        eval_render.metrics_html({EVIL: 0.5}, {EVIL: 0.4}, {EVIL: 0.6}, EVIL),
        eval_render.groups_html({EVIL: {"n": 1}}, {EVIL: {"n": 1}}), eval_render.status_html(EVIL),
    ])
    assert "<img" not in out and "onerror=alert(1)>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    # the link to ask it in the chat carries it URL-encoded, in an escaped attribute
    link = eval_render.ask_link(EVIL)
    assert 'href="?ask=%3Cimg+src%3Dx+onerror%3Dalert%281%29%3E"' in link and "<img" not in link


def test_metrics_changes_are_coloured_by_better_and_worse():
    from rag.app.web import eval_render

    html = eval_render.metrics_html({"fact_recall": 0.9, "false_abstention": 0.2}, {"fact_recall": 0.7},
                                 {"fact_recall": 0.95, "false_abstention": 0.1}, "run-1")
    assert 'class="rag-better" data-verdict="better">▲ +0.200' in html  # vs baseline
    assert 'class="rag-worse" data-verdict="worse">▼ -0.050' in html  # vs previous
    assert 'class="rag-worse" data-verdict="worse">▲ +0.100' in html  # false abstention went up
    assert "previous run (run-1)" in html


def test_failed_questions_filter_by_category_language_and_reason():
    from rag.app.web import eval_render

    rows = [row("q1", failures=["x"], answered=False, fact_recall=0.0, category="who", language="en"),
            row("q2", failures=["x"], fact_recall=0.5, category="list", language="zh"),
            row("q3")]
    assert [r["id"] for r in eval_render.failed_rows(rows)] == ["q1", "q2"]
    assert [r["id"] for r in eval_render.failed_rows(rows, category="list")] == ["q2"]
    assert [r["id"] for r in eval_render.failed_rows(rows, language="en")] == ["q1"]
    assert [r["id"] for r in eval_render.failed_rows(rows, kind="abstained")] == ["q1"]
    html = eval_render.failed_html(rows, kind="wrong fact")
    assert "1 of 2 failed questions shown" in html and 'data-id="q2"' in html and "Ask in chat" in html


def test_progress_shows_done_running_scores_and_time_left():
    import time

    from rag.app.web import eval_render
    from rag.eval.jobs import Job

    job = Job(id="j", set_name="s", total=10, state="running", done=4, started=time.monotonic() - 8,
              answerable=3, recall_sum=2.0, abstention_right=3)
    html = eval_render.progress_html(job)
    assert "4 of 10" in html and "answer recall so far 0.667" in html and "abstention accuracy so far 0.750" in html
    assert "about 12 s left" in html and 'value="4" max="10"' in html


# -- feedback -> draft ---------------------------------------------------------------------------

def write_feedback(index_dir: Path, lines: list) -> None:
    index_dir.mkdir(parents=True, exist_ok=True)
    (index_dir / "feedback.jsonl").write_text(
        "".join((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines), "utf-8")


def test_thumbs_down_become_a_draft_that_validates_once_filled(tmp_path):
    vote = {"time": "t", "answer": "Chen Min'er. [1]", "answered": True, "top_k": 5,
            "citations": [{"n": 1, "article_id": "fifth"}]}
    write_feedback(tmp_path, [
        {**vote, "vote": "down", "question": "Who chaired the seventh meeting?"},
        "not json {",
        {**vote, "vote": "up", "question": "Where was it held?"},
        {**vote, "vote": "down", "question": f"谁出席了会议？ {EVIL}", "answered": False},
        {**vote, "vote": "down", "question": "Where was it held?"},
        {**vote, "vote": "up", "question": "Who chaired the seventh meeting?"},  # later thumbs-up: dropped
        ["a list, not a vote"],
    ])
    rows = feedback_drafts.drafts(tmp_path)
    assert [r["question"] for r in rows] == [f"谁出席了会议？ {EVIL}", "Where was it held?"]
    assert rows[0]["language"] == "zh" and rows[0]["marked_wrong_answer"] == "Chen Min'er. [1]"
    assert rows[0]["marked_wrong_citations"] == ["fifth"] and rows[0]["gold_facts"] == []
    cells = feedback_drafts.table(rows)
    assert cells[0][feedback_drafts.COLUMNS.index("expected answer")] == ""
    # saved as it is, the answerable questions have no expected answer: refused with the line
    with pytest.raises(EvalError, match=r"draft\.jsonl:1: fb001 is answerable but has no gold_facts"):
        feedback_drafts.save(feedback_drafts.from_table(cells, rows), tmp_path / feedback_drafts.SETS_DIR, "draft")
    assert not (tmp_path / feedback_drafts.SETS_DIR / "draft.jsonl").exists()
    cells[0][5] = "Yuan Jiajun | 袁家军; Wang Xiaohui"
    cells[1][4] = "false"
    path = feedback_drafts.save(feedback_drafts.from_table(cells, rows), tmp_path / feedback_drafts.SETS_DIR, "draft")
    ds = load_dataset(path)
    assert [q.id for q in ds.questions] == ["fb001", "fb002"] and ds.format == "ours"
    assert ds.questions[0].gold_facts == (("Yuan Jiajun", "袁家军"), ("Wang Xiaohui",))
    assert ds.questions[1].answerable is False
    saved = [json.loads(x) for x in path.read_text("utf-8").splitlines()]
    assert saved[0]["marked_wrong_answer"] == "Chen Min'er. [1]" and saved[0]["marked_wrong_citations"] == ["fifth"]
    # a cleared question leaves its row out; nothing left is an error
    cells[1][1] = ""
    assert len(feedback_drafts.from_table(cells, rows)) == 1
    with pytest.raises(EvalError, match="no questions"):
        feedback_drafts.from_table([[c if i != 1 else "" for i, c in enumerate(r)] for r in cells])
    assert feedback_drafts.saved_sets(tmp_path) == [path]
    assert feedback_drafts.safe_name("../../etc/passwd") == "etc-passwd"
    assert os.listdir(tmp_path / feedback_drafts.SETS_DIR) == ["draft.jsonl"]  # no temporary file left


@pytest.mark.parametrize("recorded, shown", [(0.5, "short-answer withhold factor 0.5"),
                                             (None, "short answers never withheld"), ("absent", None)])
def test_a_runs_withhold_factor_is_kept_and_described(recorded, shown):
    saved = result(A_ROWS, A["metrics"])
    if recorded != "absent":
        saved["set"]["short_withhold"] = recorded
    settings = eval_runs.run_settings(saved)
    assert settings.get("short_withhold", "absent") == recorded
    described = comparison.describe_settings(settings)
    if shown:
        assert shown in described
    else:  # a run saved before the factor was recorded says nothing of it
        assert "withh" not in described
