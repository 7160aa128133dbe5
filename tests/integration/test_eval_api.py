"""The Evaluation tab's named endpoints, driven by gradio_client against the shared real server:
start an evaluation of an uploaded set, read its results, list and compare runs; a bad file is
refused with its line; one evaluation at a time; chat answers while one runs; --auth covers it."""

from __future__ import annotations

import csv
import json
import statistics
import time

import pytest
from gradio_client import Client, handle_file

from rag.eval.runner import DEFAULT_QUESTIONS
from tests.support.app import free_port
from tests.support.serve_process import dependency

pytestmark = pytest.mark.slow

# q116 (unanswerable) gets a phrase the default withhold factor withholds
IDS = ["q001", "q002", "q003", "q010", "q016", "q053", "q063", "q070", "q086", "q096", "q116"]


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server.url, verbose=False)


def csv_set(path):
    """The 11 questions as a plain CSV set (question, answers separated by |, answerable)."""
    rows = {json.loads(x)["id"]: json.loads(x) for x in DEFAULT_QUESTIONS.read_text("utf-8").splitlines() if x.strip()}
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "question", "answers", "answerable", "category"])
        for i in IDS:
            r = rows[i]
            w.writerow([i, r["question"], "|".join(r["gold_facts"][0]) if r["gold_facts"] else "",
                        str(r["answerable"]).lower(), r["category"]])
    return path


def test_endpoints_are_named_and_evaluations_run_one_at_a_time(client, app_server):
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/evaluate", "/eval_runs", "/eval_result", "/eval_compare"} <= set(names)
    fns = list(app_server.demo.fns.values())
    evals = [f for f in fns if f.concurrency_id == "evaluation"]
    # /evaluate calls wait in Gradio's queue; the page's Run waits as a queued job of the runner
    # (which runs one job at a time, tests/unit/test_eval_runs.py), where Cancel can find it
    assert [f.name for f in evals] == ["evaluate_api"] and evals[0].concurrency_limit == 1
    assert any(f.name == "run_ui" for f in fns)
    assert dependency(app_server.url, "evaluate")


def test_evaluate_an_uploaded_set_then_read_list_and_compare(client, app_server, tmp_path):
    path = csv_set(tmp_path / "api-set.csv")
    first = client.predict("", handle_file(str(path)), "hybrid", 5, -1, False, api_name="/evaluate")
    assert first["status"] == "complete" and first["set"]["questions"] == len(IDS) and first["set"]["format"] == "qa"
    assert first["set"]["file"] == "api-set.csv" and first["set"]["min_confidence"] is not None
    assert 0 <= first["metrics"]["answer_recall"] <= 1 and first["baseline"] is None
    assert {"en", "zh"} == set(first["by_language"])
    assert all({"id", "question", "answer", "reasons", "kinds"} <= set(f) for f in first["failed"])
    run_dir = app_server.index_dir / "eval-runs" / first["run_id"]
    assert {"report.md", "results.json", "run.json", "scores_by_category.png"} <= {p.name for p in run_dir.iterdir()}

    result = client.predict(first["run_id"], api_name="/eval_result")
    assert result["run"]["id"] == first["run_id"] and len(result["questions"]) == len(IDS)
    assert result["run"]["settings"]["source"] == "app" and result["metrics"] == first["metrics"]

    assert first["set"]["short_withhold"] == app_server.engine.short_withhold() > 0

    second = client.predict("", handle_file(str(path)), "bm25", 2, 0.5, True, api_name="/evaluate")
    assert second["baseline"] is not None and second["set"]["min_confidence"] == 0.5

    # A withhold factor of 0 states every short answer, and the run records that it never withholds.
    stated = client.predict("", handle_file(str(path)), "hybrid", 5, -1, False, 0, api_name="/evaluate")
    assert stated["set"]["short_withhold"] is None and stated["metrics"]["short_withheld_rate"] == 0
    assert first["metrics"]["short_withheld_rate"] > 0, "the server's factor withholds some (else 0 shows nothing)"
    assert client.predict("latest", api_name="/eval_result")["run"]["id"] == stated["run_id"]
    runs = client.predict(api_name="/eval_runs")
    assert [r["id"] for r in runs][:3] == [stated["run_id"], second["run_id"], first["run_id"]]
    assert runs[1]["settings"]["retrieval"] == "bm25" and runs[1]["settings"]["top_k"] == 2
    assert "short_withhold" in runs[0]["settings"] and runs[0]["settings"]["short_withhold"] is None
    assert "dir" not in runs[0]  # the server's paths stay private
    cmp = client.predict(first["run_id"], second["run_id"], api_name="/eval_compare")
    assert sum(cmp["counts"].values()) == len(IDS) and cmp["a"]["id"] == first["run_id"]


def test_a_bad_set_is_refused_with_its_line_and_nothing_runs(client, app_server, tmp_path):
    bad = tmp_path / "bad-set.jsonl"
    bad.write_text('{"question": "Who?", "answer": "x"}\n{"question": "Where?", "answer": "y"}\n{"question": \n',
                   "utf-8")
    before = sorted((app_server.index_dir / "eval-runs").glob("*")) if (app_server.index_dir / "eval-runs").exists() else []
    with pytest.raises(Exception, match=r"bad-set\.jsonl:3: not valid JSON"):
        client.predict("", handle_file(str(bad)), "hybrid", 5, -1, False, api_name="/evaluate")
    for args, message in [(("nope", None, "hybrid", 5, -1, False), "not found"),
                          (("shipped", None, "dense", 5, -1, False), "retrieval must be"),
                          (("shipped", None, "hybrid", 5, 3, False), "min_confidence"),
                          (("shipped", None, "hybrid", 5, -1, False, "lots"), "the withhold factor must be")]:
        with pytest.raises(Exception, match=message):
            client.predict(*args, api_name="/evaluate")
    with pytest.raises(Exception, match="is not a saved run"):
        client.predict("19990101T000000Z", api_name="/eval_result")
    after = sorted((app_server.index_dir / "eval-runs").glob("*")) if (app_server.index_dir / "eval-runs").exists() else []
    assert after == before


def test_chat_answers_while_the_shipped_set_is_evaluated(client, app_server):
    asker = Client(app_server.url, verbose=False)
    asker.predict("Who attended the seventh meeting?", api_name="/ask")  # warm
    job = client.submit("shipped", None, "hybrid", 5, -1, False, api_name="/evaluate")
    times, during = [], 0
    t_end = time.monotonic() + 120
    time.sleep(1.0)
    while time.monotonic() < t_end and len(times) < 12:
        t = time.perf_counter()
        data = asker.predict("Where was the fifth session held?", api_name="/ask")
        times.append(time.perf_counter() - t)
        during += not job.done()
        assert data["answered"]
    summary = job.result(timeout=300)
    assert summary["set"]["questions"] == 135
    assert during >= 3, "the evaluation ended before the chat was measured"
    print(f"\n[eval api] /ask during an evaluation of the shipped set: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {len(times)} asks ({during} while it ran)")
    assert statistics.median(times) < 5.0


def test_auth_covers_the_evaluation_endpoints(app_server):
    from rag.app.web.layout import build_app
    from rag.app.web.server import launch

    demo = build_app(app_server.engine, app_server.settings)
    url = launch(demo, app_server.settings, "127.0.0.1", free_port(), auth=("alice", "s3cret"))
    try:
        with pytest.raises(Exception):
            Client(url, verbose=False).predict(api_name="/eval_runs")
        import httpx

        assert httpx.get(url + "config", timeout=30).status_code in (401, 403) or \
            "eval_runs" not in httpx.get(url + "config", timeout=30).text
        runs = Client(url, auth=("alice", "s3cret"), verbose=False).predict(api_name="/eval_runs")
        assert isinstance(runs, list)
    finally:
        demo.close()


def test_a_run_that_waits_for_another_is_a_queued_job_that_cancel_stops(app_server, monkeypatch):
    # The page's Run is not held in Gradio's queue: a second run waits as a job of the runner,
    # where its owner's Cancel finds it, before it has asked anything.
    from rag.eval.datasets import load_dataset
    from rag.eval.jobs import Cancelled

    tab = next(f.fn.__self__ for f in app_server.demo.fns.values() if f.name == "run_ui")
    real_ask = app_server.engine.ask

    def slow_ask(*args, **kwargs):
        time.sleep(0.2)
        return real_ask(*args, **kwargs)

    monkeypatch.setattr(app_server.engine, "ask", slow_ask)
    ds = load_dataset(DEFAULT_QUESTIONS)
    options = tab._options("hybrid", 5, -1, False, False)
    first, first_done = tab.runner.start(ds, options, owner="first")
    second, second_done = tab.runner.start(ds, options, owner="second")
    deadline = time.monotonic() + 60
    while first.done == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert first.done > 0 and second.state == "queued"
    assert tab.runner.cancel(owner="second") == [second]
    assert tab.runner.cancel(owner="first") == [first]
    for future in (first_done, second_done):
        with pytest.raises(Cancelled):
            future.result(timeout=60)
    assert second.done == 0 and second.state == "cancelled"
    assert 0 < first.done < first.total and first.state == "cancelled"
