"""The app's programmatic endpoints, driven by gradio_client against a real launched server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from gradio_client import Client, handle_file

from rag.answer.citations import markers
from rag.config import PROJECT_ROOT
from tests.support.app import free_port, write_article

pytestmark = pytest.mark.slow

SUMMIT = """First Glimmerbrook Water Summit held in Lanternfield
2024-03-14

The first Glimmerbrook Water Summit was held in Lanternfield on March 12, 2024.

The Glimmerbrook Water Summit was chaired by Oskarina Velthorpe, director of the Glimmerbrook Basin Authority.

Delegates from nine river towns signed the Lanternfield Compact on shared reservoirs.
"""


@pytest.fixture(scope="module")
def client(app_server):
    return Client(app_server.url, verbose=False)


def check_shape(data: dict) -> None:
    assert set(data) == {"question", "answer", "answered", "confidence", "short_answer", "short_answer_withheld",
                         "citations", "timings_ms"}
    for c in data["citations"]:
        assert set(c) == {"n", "article_id", "title", "date", "lang", "source", "text", "score"}
    used = set(markers(data["answer"]))
    assert used == {c["n"] for c in data["citations"]}, "every [n] has a citation and every citation is used"


def test_endpoints_are_named(client):
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/ask" in names and "/upload" in names


def test_ask_returns_the_cli_json(client, app_server):
    data = client.predict("Who attended the seventh meeting?", api_name="/ask")
    check_shape(data)
    assert data["answered"] is True
    for name in ["Yuan Jiajun", "Wang Xiaohui", "Huang Qiang", "Hu Henghua"]:
        assert name in data["answer"]
    assert all(c["article_id"].startswith("2023-11-20_seventh") for c in data["citations"])
    # Same content as `rag ask --json` (the engine's JSON), timings aside.
    direct = app_server.engine.ask("Who attended the seventh meeting?").to_json()
    assert {k: v for k, v in data.items() if k != "timings_ms"} == {k: v for k, v in direct.items() if k != "timings_ms"}


def test_ask_in_chinese_and_top_k(client):
    data = client.predict("谁主持了第七次会议座谈会？", 3, api_name="/ask")
    check_shape(data)
    assert data["answered"] and "袁家军" in data["answer"]
    assert all(c["lang"] == "zh" for c in data["citations"])


def test_abstention_cites_the_closest_passages(client):
    data = client.predict("Who attended the eighth meeting?", api_name="/ask")
    check_shape(data)
    assert data["answered"] is False
    assert "eighth" in data["answer"] and data["citations"]


def test_a_withheld_short_answer_comes_with_its_sentences(client):
    data = client.predict("What university did Hu Henghua graduate from?", api_name="/ask")
    check_shape(data)
    assert data["answered"] and data["short_answer"] is None and data["short_answer_withheld"] is True
    assert data["citations"]


def test_ask_takes_the_two_settings_of_the_chat(client, app_server):
    """/ask's min_confidence and short_withhold do for one question what the chat's sliders do,
    and answer as the engine does with the same values; negative values are the server's own."""
    q = "What university did Hu Henghua graduate from?"
    stated = client.predict(q, 0, -1, 0, api_name="/ask")
    check_shape(stated)
    assert stated["answered"] and stated["short_answer"] and stated["short_answer_withheld"] is False
    direct = app_server.engine.ask(q, short_withhold=0).to_json()
    assert stated["short_answer"] == direct["short_answer"] and stated["answer"] == direct["answer"]
    assert client.predict(q, 0, -1, -1, api_name="/ask")["short_answer"] is None  # the server's factor withholds
    refused = client.predict(q, 0, 0.99, -1, api_name="/ask")
    assert refused["answered"] is False and refused["short_answer"] is None
    assert refused["citations"], "an abstention still cites the closest passages"


@pytest.mark.parametrize("args, message", [
    ((0, 1.5, -1), "min_confidence must be a number from 0 to 1, not 1.5"),
    ((0, -1, 101), "the withhold factor must be a number from 0 to 100, not 101"),
    ((0, "lots", -1), "min_confidence must be a number"),
])
def test_bad_settings_get_a_clear_error(client, args, message):
    with pytest.raises(Exception, match=re.escape(message[:40])):
        client.predict("Who attended the seventh meeting?", *args, api_name="/ask")


@pytest.mark.parametrize("question, message", [
    ("", "empty"),
    ("   \n ", "empty"),
    ("x" * 5000, "limit"),
])
def test_bad_questions_get_a_clear_error(client, question, message):
    with pytest.raises(Exception, match=message):
        client.predict(question, api_name="/ask")


def test_upload_makes_an_article_answerable(client, app_server, tmp_path):
    path = write_article(tmp_path, "2024-03-14_glimmerbrook-water-summit.txt", SUMMIT)
    before = len(app_server.engine.articles())
    summary = client.predict(handle_file(str(path)), api_name="/upload")
    assert summary["articles_added"] == ["2024-03-14_glimmerbrook-water-summit"]
    assert summary["passages_added"] >= 1 and summary["skipped"] == []
    assert summary["articles"] == before + 1
    assert (app_server.index_dir / "uploads" / path.name).read_text("utf-8") == SUMMIT

    data = client.predict("Who chaired the Glimmerbrook Water Summit?", api_name="/ask")
    check_shape(data)
    assert data["answered"] and "Oskarina Velthorpe" in data["answer"]
    assert data["citations"][0]["article_id"] == "2024-03-14_glimmerbrook-water-summit"

    again = client.predict(handle_file(str(path)), api_name="/upload")
    assert again["articles_added"] == [] and again["articles"] == before + 1


@pytest.mark.parametrize("name, content, message", [
    ("2024-01-01_binary.txt", b"\x00\x01\x02\x03binary\x00" * 100, "binary"),
    ("2024-01-01_empty.md", b"", "empty"),
    ("2024-01-01_report.pdf", b"%PDF-1.4 not an article", ".pdf files are not articles"),
    ("2024-01-01_huge.txt", b"The summit was held in Lanternfield.\n" * 140_000, "(?i)size|limit|large"),
])
def test_rejected_upload_changes_nothing(client, app_server, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    before = app_server.engine.articles()
    uploads_before = sorted(p.name for p in (app_server.index_dir / "uploads").glob("*")) \
        if (app_server.index_dir / "uploads").exists() else []
    with pytest.raises(Exception, match=message):
        client.predict(handle_file(str(path)), api_name="/upload")
    assert app_server.engine.articles() == before
    uploads_after = sorted(p.name for p in (app_server.index_dir / "uploads").glob("*")) \
        if (app_server.index_dir / "uploads").exists() else []
    assert uploads_after == uploads_before


def test_serve_command_cold_start_and_auth(app_server, tmp_path):
    """`python app.py` on an existing index: time to the printed URL, and --auth enforced."""
    index = tmp_path / "index"
    shutil.copytree(app_server.index_dir, index, ignore=shutil.ignore_patterns(".ingest.lock"))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PYTHONUNBUFFERED": "1"}
    env.pop("RAG_AUTH", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(PROJECT_ROOT / "app.py"), "--index-dir", str(index), "--port", str(port),
         "--auth", "alice:s3cret"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    try:
        url = None
        lines = []
        deadline = time.time() + 90
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"running at (http://\S+)", line)
            if m:
                url = m.group(1)
                break
        cold = time.perf_counter() - t0
        assert url, "no URL printed:\n" + "".join(lines)
        assert url.startswith(f"http://127.0.0.1:{port}")
        print(f"\n[app tests] cold start (process start to URL printed): {cold:.1f} s")
        with pytest.raises(Exception):
            Client(url, verbose=False).predict("Who attended the seventh meeting?", api_name="/ask")
        data = Client(url, auth=("alice", "s3cret"), verbose=False).predict(
            "Who attended the seventh meeting?", api_name="/ask")
        assert data["answered"] and "Yuan Jiajun" in data["answer"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
